/*
 * I/O APIC model (82093AA style, version 0x11, 24 pins), one per VM,
 * MMIO at 0xfec00000 (register ioapic_ops for IOAPIC_MMIO_SIZE bytes).
 *
 *   off 0x00  IOREGSEL (bits 7:0 select the register)
 *   off 0x10  IOWIN    (the selected register)
 * Registers: 0x00 ID (bits 27:24), 0x01 version 0x00170011 (read-only),
 * 0x02 arbitration ID (= ID, read-only), 0x10 + 2*pin / + 1 the low / high
 * halves of redirection entry pin (0-23). Unknown registers read 0.
 * Only aligned 4-byte accesses are accepted (-1 otherwise); other offsets
 * in the window read 0 and ignore writes.
 *
 * Inputs: ioapic_set_irq(io, pin, level) (usable as an irq_line callback;
 * `level` is the asserted state, the polarity bit is stored but not
 * applied). Output: deliver(opaque, dest, dest_logical, delivery_mode,
 * vector, level_triggered) for each interrupt message; the hypervisor
 * routes it to the LAPICs (lapic_match_dest) or, for ExtINT, to the PIC.
 * Level-triggered pins use remote IRR: set at delivery, cleared by
 * ioapic_eoi(io, vector) (from the LAPIC's eoi callback), which re-delivers
 * while the line is still asserted.
 */
#ifndef TESSERA_DEVICES_IOAPIC_H
#define TESSERA_DEVICES_IOAPIC_H

#include "devices/device.h"

#define IOAPIC_DEFAULT_BASE 0xfec00000ULL
#define IOAPIC_MMIO_SIZE    0x1000ULL
#define IOAPIC_NPINS        24
#define IOAPIC_VERSION      0x00170011u

/* redirection entry bits */
#define IOAPIC_RTE_VECTOR    0xffULL
#define IOAPIC_RTE_DM_SHIFT  8
#define IOAPIC_RTE_LOGICAL   (1ULL << 11)
#define IOAPIC_RTE_STATUS    (1ULL << 12)
#define IOAPIC_RTE_POLARITY  (1ULL << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ULL << 14)
#define IOAPIC_RTE_LEVEL     (1ULL << 15)
#define IOAPIC_RTE_MASKED    (1ULL << 16)
#define IOAPIC_RTE_DEST_SHIFT 56

struct ioapic {
	uint8_t regsel;                 /* IOREGSEL */
	uint32_t id;                    /* ID register (bits 27:24) */
	uint32_t reset_id;
	uint64_t rte[IOAPIC_NPINS];     /* redirection table */
	uint32_t level;                 /* input lines asserted (wires) */
	void (*deliver)(void *opaque, uint32_t dest, bool dest_logical,
			uint8_t delivery_mode, uint8_t vector, bool level_triggered);
	void *opaque;
	uint64_t deliveries;            /* statistics */
};

extern const struct dev_ops ioapic_ops;

void ioapic_init(struct ioapic *io, uint8_t id,
		 void (*deliver)(void *opaque, uint32_t dest, bool dest_logical,
				 uint8_t delivery_mode, uint8_t vector,
				 bool level_triggered),
		 void *opaque);
void ioapic_reset(void *dev);
int ioapic_read(void *dev, uint64_t off, unsigned size, uint64_t *val);
int ioapic_write(void *dev, uint64_t off, unsigned size, uint64_t val);
/* Input pin 0-23 (opaque = struct ioapic *); others are ignored. */
void ioapic_set_irq(void *opaque, unsigned pin, bool level);
/* EOI broadcast for vector: clears remote IRR of level pins using it. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

#endif
