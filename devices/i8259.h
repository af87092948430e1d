/*
 * Two cascaded 8259A PICs (master IRQ 0-7, slave IRQ 8-15 on master IR2)
 * plus the ELCR edge/level control registers, as ONE instance per VM.
 *
 * The instance answers three port ranges; register each with its own ops
 * (all take the same struct i8259 *, off = port - base):
 *   i8259_master_ops  ports 0x20-0x21 (off 0 = command/status, 1 = data)
 *   i8259_slave_ops   ports 0xa0-0xa1
 *   i8259_elcr_ops    ports 0x4d0-0x4d1 (off 0 = IRQ 0-7, 1 = IRQ 8-15)
 * Only i8259_master_ops carries .reset (one reset per instance).
 * Accesses of 1, 2 or 4 bytes inside a range act like consecutive byte
 * accesses (as the chipset splits them); anything else returns -1.
 *
 * Inputs: i8259_set_irq(pic, irq, level) for ISA IRQ 0-15 (usable as an
 * irq_line callback; IRQ 2 is the internal cascade and is ignored).
 * Output: the master's INT pin, a level driven on `intr` only on change.
 * When the CPU takes the interrupt the hypervisor calls i8259_ack(), which
 * runs the INTA cycle (ISR/IRR update, cascade) and returns the vector.
 */
#ifndef TESSERA_DEVICES_I8259_H
#define TESSERA_DEVICES_I8259_H

#include "devices/device.h"

#define I8259_MASTER_BASE 0x20
#define I8259_SLAVE_BASE  0xa0
#define I8259_ELCR_BASE   0x4d0
#define I8259_SPAN        2     /* each of the three ranges is 2 ports */

struct i8259_chip {
	uint8_t irr;            /* request register (bit 2 of the master = slave INT) */
	uint8_t isr;            /* in-service register */
	uint8_t imr;            /* mask register (OCW1) */
	uint8_t pins;           /* input line levels (wires, kept across ICW1) */
	uint8_t elcr;           /* edge/level control (1 = level) */
	uint8_t elcr_mask;      /* ELCR bits that exist */
	uint8_t base;           /* vector base from ICW2 (bits 7-3) */
	uint8_t prio_add;       /* IR that has the highest priority (rotation) */
	uint8_t init_state;     /* 0 ready, 1 expect ICW2, 2 ICW3, 3 ICW4 */
	uint8_t icw3;
	bool master;
	bool icw4_needed, single, ltim;
	bool auto_eoi, rotate_aeoi, sfnm;
	bool special_mask, poll, read_isr;
};

struct i8259 {
	struct i8259_chip chip[2];      /* [0] master, [1] slave */
	struct irq_line intr;           /* INT output of the master */
	bool intr_level;                /* last level driven on intr */
	uint64_t acks, spurious;        /* statistics */
};

extern const struct dev_ops i8259_master_ops;
extern const struct dev_ops i8259_slave_ops;
extern const struct dev_ops i8259_elcr_ops;

void i8259_init(struct i8259 *pic, struct irq_line intr);
void i8259_reset(void *dev);
int i8259_master_read(void *dev, uint64_t off, unsigned size, uint64_t *val);
int i8259_master_write(void *dev, uint64_t off, unsigned size, uint64_t val);
int i8259_slave_read(void *dev, uint64_t off, unsigned size, uint64_t *val);
int i8259_slave_write(void *dev, uint64_t off, unsigned size, uint64_t val);
int i8259_elcr_read(void *dev, uint64_t off, unsigned size, uint64_t *val);
int i8259_elcr_write(void *dev, uint64_t off, unsigned size, uint64_t val);
/* ISA IRQ input 0-15 (opaque = struct i8259 *); others are ignored. */
void i8259_set_irq(void *opaque, unsigned irq, bool level);
/* INTA cycle: the vector to inject (master base+7 / slave base+7 when spurious). */
uint8_t i8259_ack(struct i8259 *pic);
/* Level of the INT output (what was last driven on intr). */
bool i8259_intr(const struct i8259 *pic);

#endif
