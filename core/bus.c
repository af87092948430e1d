#include "core/bus.h"

int bus_add(struct bus *b, uint64_t base, uint64_t size,
	    const struct dev_ops *ops, void *dev, uint32_t irq)
{
	/* bus_access finds a window by addr - base < size alone */
	if (b->ndevs >= BUS_MAX_DEVICES || (size && base + (size - 1) < base))
		return -1;
	b->devs[b->ndevs++] = (struct bus_dev){ base, size, ops, dev, irq, 0, 0 };
	return 0;
}

int bus_access_search(struct bus *b, uint64_t addr, unsigned size, bool write, uint64_t *val)
{
	for (unsigned i = 0; i < b->ndevs; i++) {
		struct bus_dev *d = &b->devs[i];

		if (addr - d->base >= d->size)
			continue;
		b->hit = d;
		return bus_dev_access(d, addr - d->base, size, write, val);
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
