#include "core/bus.h"

int bus_add(struct bus *b, uint64_t base, uint64_t size,
	    const struct dev_ops *ops, void *dev, uint32_t irq)
{
	if (b->ndevs >= BUS_MAX_DEVICES)
		return -1;
	b->devs[b->ndevs++] = (struct bus_dev){ base, size, ops, dev, irq, 0, 0 };
	return 0;
}

static int dev_access(struct bus_dev *d, uint64_t off, unsigned size, bool write, uint64_t *val)
{
	if (size > d->size - off)
		return BUS_REFUSED;
	if (write) {
		d->writes++;
		return d->ops->write(d->dev, off, size, *val) ? BUS_REFUSED : 0;
	}
	d->reads++;
	return d->ops->read(d->dev, off, size, val) ? BUS_REFUSED : 0;
}

int bus_access(struct bus *b, uint64_t addr, unsigned size, bool write, uint64_t *val)
{
	struct bus_dev *d;

	/* Guests poll one device at a time: try the last one hit first. */
	if (likely(b->last < b->ndevs)) {
		d = &b->devs[b->last];
		if (addr >= d->base && addr - d->base < d->size)
			return dev_access(d, addr - d->base, size, write, val);
	}
	for (unsigned i = 0; i < b->ndevs; i++) {
		d = &b->devs[i];
		if (addr < d->base || addr - d->base >= d->size)
			continue;
		b->last = i;
		return dev_access(d, addr - d->base, size, write, val);
	}
	b->unclaimed++;
	return BUS_NO_DEVICE;
}

void bus_reset(struct bus *b)
{
	for (unsigned i = 0; i < b->ndevs; i++)
		if (b->devs[i].ops->reset)
			b->devs[i].ops->reset(b->devs[i].dev);
}

uint64_t bus_accesses(const struct bus *b)
{
	uint64_t n = b->unclaimed;

	for (unsigned i = 0; i < b->ndevs; i++)
		n += b->devs[i].reads + b->devs[i].writes;
	return n;
}
