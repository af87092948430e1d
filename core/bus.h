/* Per-VM device bus: MMIO windows mapped to device model instances. */
#ifndef TESSERA_CORE_BUS_H
#define TESSERA_CORE_BUS_H

#include "devices/device.h"
#include "core/config.h"

struct bus_dev {
	uint64_t base, size;
	const struct dev_ops *ops;
	void *dev;
	uint32_t irq;                   /* the config's irq, for `vm info` (0: none) */
	uint64_t reads, writes;         /* statistics */
};

#define BUS_MAX_DEVICES 16

struct bus {
	struct bus_dev devs[BUS_MAX_DEVICES];
	unsigned ndevs;
	struct bus_dev *hit;            /* the device the last access hit, tried first (NULL: none) */
	uint64_t unclaimed;             /* accesses that hit no device */
};

/* A window [base, base + size) must not wrap around the address space. */
int bus_add(struct bus *b, uint64_t base, uint64_t size,
	    const struct dev_ops *ops, void *dev, uint32_t irq);
#define BUS_NO_DEVICE (-1)         /* no device at that address */
#define BUS_REFUSED   (-2)         /* the device rejects that size/offset */
void bus_reset(struct bus *b);
uint64_t bus_accesses(const struct bus *b);

/* The access on device d at offset off (inside its window). */
static inline int bus_dev_access(struct bus_dev *d, uint64_t off, unsigned size, bool write,
				 uint64_t *val)
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

/* bus_access when the last device hit does not hold addr: the search. */
int bus_access_search(struct bus *b, uint64_t addr, unsigned size, bool write, uint64_t *val);

/*
 * 0 on success, else BUS_NO_DEVICE or BUS_REFUSED. Guests poll one device
 * at a time: the device the last access hit is tried first, inline (an
 * exit path calls the device model with no call in between).
 */
static inline int bus_access(struct bus *b, uint64_t addr, unsigned size, bool write,
			     uint64_t *val)
{
	struct bus_dev *d = b->hit;

	if (likely(d != NULL) && addr - d->base < d->size)
		return bus_dev_access(d, addr - d->base, size, write, val);
	return bus_access_search(b, addr, size, write, val);
}

#endif
