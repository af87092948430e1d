/*
 * 8254 PIT (one instance per VM): channels 0-2 clocked at 1.193182 MHz,
 * modes 0-5, latch and read-back commands, binary or BCD counting, plus
 * the PC's system control port B (port 0x61: channel 2 gate, speaker
 * enable, OUT2 in bit 5, refresh toggle in bit 4).
 *
 * Two port ranges, same struct i8254 * (off = port - base):
 *   i8254_ops         ports 0x40-0x43 (off 0-2 counters, 3 control word)
 *   i8254_port61_ops  port 0x61 (1 byte)
 * i8254_ops carries .reset. Accesses of 1, 2 or 4 bytes inside a range act
 * like consecutive byte accesses; anything else returns -1.
 *
 * Time comes only from now_ns(opaque) (monotonic ns; the PIT clock edges
 * are at the ns where floor(ns * 1193182 / 1e9) increments), so the model
 * is deterministic. Channel 0's OUT drives IRQ 0 as a pulse (raise then
 * lower) for each rising edge of OUT; edges that happen between two
 * updates are coalesced into one pulse. The hypervisor programs a host
 * timer for i8254_next_event_ns() and calls i8254_update() when it fires
 * (every port access also delivers edges that are due).
 */
#ifndef TESSERA_DEVICES_I8254_H
#define TESSERA_DEVICES_I8254_H

#include "devices/device.h"

#define I8254_BASE      0x40
#define I8254_SPAN      4
#define I8254_PORT61    0x61
#define I8254_HZ        1193182ULL
#define I8254_NO_EVENT  UINT64_MAX

struct i8254_channel {
	/* programming (control word) */
	uint8_t mode;           /* M2-M0 as written (6, 7 act as 2, 3) */
	uint8_t rw;             /* 1 LSB only, 2 MSB only, 3 LSB then MSB */
	bool bcd;
	bool gate;
	/* count register */
	uint32_t cr;            /* last count written: 1..65536 (BCD 1..10000) */
	bool cr_valid;          /* a count was written since the control word */
	/* counting element: d(t) = phase0 + (t - l) clock edges counted */
	uint8_t state;          /* I8254_IDLE, I8254_RUN, I8254_HOLD */
	uint32_t n;             /* count being used */
	uint64_t l, phase0;
	bool sw_pending;        /* modes 2/3: new count at the period boundary */
	bool sw_falling;        /* mode 3: switch at a falling half-boundary */
	uint64_t sw_l;
	uint32_t sw_n;
	uint16_t idle_val;      /* counter value shown while IDLE */
	uint64_t null_until;    /* status NULL COUNT while tick < null_until */
	/* I/O state */
	bool wmsb;              /* LSB/MSB access: next write is the MSB */
	uint8_t wlsb;
	bool rmsb;              /* LSB/MSB access: next live read is the MSB */
	uint8_t latch_state;    /* 0 none, 1 LSB, 2 MSB, 3 LSB then MSB */
	uint16_t latch;
	bool status_latched;
	uint8_t status;
};

#define I8254_IDLE 0
#define I8254_RUN  1
#define I8254_HOLD 2

struct i8254 {
	struct i8254_channel ch[3];
	struct irq_line irq0;
	uint64_t (*now_ns)(void *opaque);
	void *opaque;
	uint64_t seen;          /* channel 0 edges up to this clock are delivered */
	uint8_t port61;         /* bits 0-3 as written */
	uint8_t refresh;        /* port 0x61 bit 4 as last read */
	uint64_t refresh_edge;  /* refresh half-periods (now_ns / 15085) at that read */
	uint64_t irq0_pulses;   /* statistics */
};

extern const struct dev_ops i8254_ops;
extern const struct dev_ops i8254_port61_ops;

void i8254_init(struct i8254 *pit, struct irq_line irq0,
		uint64_t (*now_ns)(void *opaque), void *opaque);
void i8254_reset(void *dev);
int i8254_read(void *dev, uint64_t off, unsigned size, uint64_t *val);
int i8254_write(void *dev, uint64_t off, unsigned size, uint64_t val);
int i8254_port61_read(void *dev, uint64_t off, unsigned size, uint64_t *val);
int i8254_port61_write(void *dev, uint64_t off, unsigned size, uint64_t val);
/* now_ns time of channel 0's next OUT rising edge, or I8254_NO_EVENT. */
uint64_t i8254_next_event_ns(struct i8254 *pit);
/* Deliver the IRQ 0 pulse if a channel 0 rising edge is due. */
void i8254_update(struct i8254 *pit);
/* Current OUT level of channel ch (0-2); false for other ch. */
bool i8254_out(struct i8254 *pit, unsigned ch);

#endif
