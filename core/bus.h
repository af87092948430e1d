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
	unsigned last;                  /* the device the last access hit: tried first */
	uint64_t unclaimed;             /* accesses that hit no device */
};

int bus_add(struct bus *b, uint64_t base, uint64_t size,
	    const struct dev_ops *ops, void *dev, uint32_t irq);
#define BUS_NO_DEVICE (-1)         /* no device at that address */
#define BUS_REFUSED   (-2)         /* the device rejects that size/offset */
/* 0 on success, else BUS_NO_DEVICE or BUS_REFUSED. */
int bus_access(struct bus *b, uint64_t addr, unsigned size, bool write, uint64_t *val);
void bus_reset(struct bus *b);
uint64_t bus_accesses(const struct bus *b);

#endif
