/*
 * The device interface shared by every virtual device model.
 *
 * A device model is plain C with no global state: every instance is owned by
 * one VM and reaches the outside world only through the callbacks it was
 * given (an interrupt line, a byte sink). The same code is compiled for the
 * host in unit tests and fuzzers.
 *
 * Access functions take an offset from the device's base, an access size in
 * bytes (1, 2, 4 or 8) and return 0, or -1 when the access is not one the
 * device accepts (bad size, bad alignment, out of range). The caller turns
 * -1 into a guest fault; a device never crashes on any offset/size/value.
 */
#ifndef TESSERA_DEVICES_DEVICE_H
#define TESSERA_DEVICES_DEVICE_H

#include "lib/types.h"

/* An interrupt line from a device into an interrupt controller model. */
struct irq_line {
	void (*set)(void *opaque, unsigned line, bool level);
	void *opaque;
	unsigned line;
};

static inline void irq_line_set(const struct irq_line *l, bool level)
{
	if (l->set)
		l->set(l->opaque, l->line, level);
}

struct dev_ops {
	const char *name;
	int (*read)(void *dev, uint64_t off, unsigned size, uint64_t *val);
	int (*write)(void *dev, uint64_t off, unsigned size, uint64_t val);
	void (*reset)(void *dev);
};

#endif
