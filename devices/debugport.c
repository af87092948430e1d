/* Port 0x80 debug port. See devices/debugport.h and docs/devices.md. */
#include "devices/debugport.h"

void debugport_init(struct debugport *d)
{
	d->writes = 0;
	debugport_reset(d);
}

/* Back to "never written"; the write counter is statistics and is kept. */
void debugport_reset(void *dev)
{
	struct debugport *d = dev;

	if (d)
		d->last = 0xff;
}

int debugport_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct debugport *d = dev;

	if (!d || !val || off != 0 || size != 1)
		return -1;
	*val = d->last;
	return 0;
}

int debugport_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct debugport *d = dev;

	if (!d || off != 0 || size != 1)
		return -1;
	d->last = (uint8_t)val;
	d->writes++;
	return 0;
}

const struct dev_ops debugport_ops = {
	.name = "debugport",
	.read = debugport_read,
	.write = debugport_write,
	.reset = debugport_reset,
};
