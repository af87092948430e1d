/*
 * Port 0x80 POST/debug port (one instance per VM; register debugport_ops
 * for 1 port, off 0). A write records its low byte as the last value and
 * counts it; a read returns the last value written, or 0xff before the
 * first write (what an idle ISA bus returns). Guests use writes to 0x80
 * as an I/O delay (Linux's outb_p/io_delay) and for POST codes, so writes
 * are cheap and never fail. Only 1-byte accesses at off 0 are accepted.
 */
#ifndef TESSERA_DEVICES_DEBUGPORT_H
#define TESSERA_DEVICES_DEBUGPORT_H

#include "devices/device.h"

#define DEBUGPORT_BASE 0x80
#define DEBUGPORT_SPAN 1

struct debugport {
	uint8_t last;           /* last value written (0xff before any) */
	uint64_t writes;        /* number of writes */
};

extern const struct dev_ops debugport_ops;

void debugport_init(struct debugport *d);
void debugport_reset(void *dev);
int debugport_read(void *dev, uint64_t off, unsigned size, uint64_t *val);
int debugport_write(void *dev, uint64_t off, unsigned size, uint64_t val);

#endif
