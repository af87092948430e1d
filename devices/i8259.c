/*
 * Two cascaded 8259A PICs and the ELCR. See devices/i8259.h for the
 * interface and docs/devices.md for what is and is not emulated.
 *
 * Each chip keeps the 8259A registers (IRR, ISR, IMR) and its input line
 * levels. A line is level-triggered when ELCR (or ICW1.LTIM) says so: its
 * IRR bit then follows the line. Otherwise IRR latches a rising edge.
 * The master's IR2 is not an input wire: its IRR bit is recomputed after
 * every change as "the slave's INT output is high" (a level cascade, so a
 * slave request is never lost or duplicated across an INTA cycle).
 *
 * Priorities: level p (0 = highest) is IR (p + prio_add) & 7; rotation
 * only moves prio_add. A chip requests the CPU when its best unmasked
 * request has a higher priority than its best in-service level (ignoring
 * masked in-service levels in special mask mode, and the master's IR2 in
 * special fully nested mode).
 */
#include "devices/i8259.h"

#define ICW1_IC4   0x01
#define ICW1_SNGL  0x02
#define ICW1_LTIM  0x08
#define ICW1_INIT  0x10
#define OCW3_SEL   0x08
#define OCW3_RIS   0x01
#define OCW3_RR    0x02
#define OCW3_POLL  0x04
#define OCW3_SMM   0x20
#define OCW3_ESMM  0x40
#define ICW4_AEOI  0x02
#define ICW4_SFNM  0x10
#define CASCADE_IR 2
#define CASCADE_BIT (1u << CASCADE_IR)

#define NO_IRQ 8

/* Bits whose IRR follows the line (level-triggered inputs). */
static uint8_t chip_level_mask(const struct i8259_chip *c)
{
	uint8_t m = c->ltim ? 0xff : c->elcr;

	if (c->master)
		m &= (uint8_t)~CASCADE_BIT;
	return m;
}

/* Priority level (0 = highest) of the best bit in mask, NO_IRQ if none. */
static unsigned chip_priority(const struct i8259_chip *c, uint8_t mask)
{
	unsigned a = c->prio_add & 7u, r;

	if (!mask)
		return NO_IRQ;
	/* level p is bit (p + prio_add) & 7: rotate right by prio_add, and
	 * the lowest set bit is the best level */
	r = ((unsigned)mask >> a | (unsigned)mask << (8 - a)) & 0xffu;
	return (unsigned)__builtin_ctz(r);
}

/* IR the chip wants to signal, or -1. */
static int chip_get_irq(const struct i8259_chip *c)
{
	uint8_t in = c->isr;
	unsigned p = chip_priority(c, (uint8_t)(c->irr & ~c->imr));

	if (p == NO_IRQ)
		return -1;
	if (c->special_mask)
		in &= (uint8_t)~c->imr;
	if (c->sfnm && c->master)
		in &= (uint8_t)~CASCADE_BIT;
	if (p < chip_priority(c, in))
		return (int)((p + c->prio_add) & 7);
	return -1;
}

/* Recompute the cascade input and the INT output; drive it on change. */
static void pic_update(struct i8259 *pic)
{
	struct i8259_chip *m = &pic->chip[0];
	bool level;

	if (chip_get_irq(&pic->chip[1]) >= 0)
		m->irr |= CASCADE_BIT;
	else
		m->irr &= (uint8_t)~CASCADE_BIT;
	level = chip_get_irq(m) >= 0;
	if (level != pic->intr_level) {
		pic->intr_level = level;
		irq_line_set(&pic->intr, level);
	}
}

/* The acknowledge part of an INTA cycle (or a poll) for one chip. */
static void chip_intack(struct i8259_chip *c, unsigned irq)
{
	uint8_t bit = (uint8_t)(1u << (irq & 7));

	if (c->auto_eoi) {
		if (c->rotate_aeoi)
			c->prio_add = (uint8_t)((irq + 1) & 7);
	} else {
		c->isr |= bit;
	}
	/* an edge request is consumed; a level request follows its line */
	if (!(chip_level_mask(c) & bit))
		c->irr &= (uint8_t)~bit;
}

static void chip_power_on(struct i8259_chip *c, bool master)
{
	c->master = master;
	c->elcr_mask = master ? 0xf8 : 0xde;    /* IRQ 0-2, 8, 13: edge only */
	c->elcr = 0;
	c->irr = 0;
	c->isr = 0;
	c->imr = 0xff;                          /* what a BIOS leaves: all masked */
	c->base = master ? 0x08 : 0x70;         /* the BIOS vector bases */
	c->prio_add = 0;
	c->init_state = 0;
	c->icw3 = master ? CASCADE_BIT : CASCADE_IR;
	c->icw4_needed = true;
	c->single = false;
	c->ltim = false;
	c->auto_eoi = false;
	c->rotate_aeoi = false;
	c->sfnm = false;
	c->special_mask = false;
	c->poll = false;
	c->read_isr = false;
}

void i8259_init(struct i8259 *pic, struct irq_line intr)
{
	pic->intr = intr;
	pic->intr_level = false;
	pic->chip[0].pins = 0;
	pic->chip[1].pins = 0;
	i8259_reset(pic);
}

/*
 * Power-on state (what a PC BIOS leaves): both chips initialised in 8086
 * mode, vector bases 0x08/0x70, all IRQs masked, edge-triggered, nothing
 * pending. Input line levels are wires and are kept; the counters too.
 */
void i8259_reset(void *dev)
{
	struct i8259 *pic = dev;

	if (!pic)
		return;
	chip_power_on(&pic->chip[0], true);
	chip_power_on(&pic->chip[1], false);
	pic->chip[0].pins &= (uint8_t)~CASCADE_BIT;
	pic_update(pic);
}

void i8259_set_irq(void *opaque, unsigned irq, bool level)
{
	struct i8259 *pic = opaque;
	struct i8259_chip *c;
	uint8_t bit, old_irr;

	if (!pic || irq >= 16 || irq == CASCADE_IR)
		return;
	c = &pic->chip[irq >> 3];
	bit = (uint8_t)(1u << (irq & 7));
	old_irr = c->irr;
	if (chip_level_mask(c) & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= (uint8_t)~bit;
	} else if (level && !(c->pins & bit)) {
		c->irr |= bit;                  /* rising edge */
	}
	if (level)
		c->pins |= bit;
	else
		c->pins &= (uint8_t)~bit;
	/* the outputs are a function of IRR, ISR, IMR and the modes, and
	 * every other change recomputes them: a line that moved no IRR bit
	 * (an edge input going low, a request already latched) changes none */
	if (c->irr != old_irr)
		pic_update(pic);
}

uint8_t i8259_ack(struct i8259 *pic)
{
	struct i8259_chip *m, *s;
	int irq, irq2;
	uint8_t vec;

	if (!pic)
		return 0xff;
	m = &pic->chip[0];
	s = &pic->chip[1];
	irq = chip_get_irq(m);
	if (irq < 0) {
		/* INT went away before INTA: the master answers IR7 */
		pic->spurious++;
		return (uint8_t)(m->base | 7);
	}
	pic->acks++;
	if (irq == CASCADE_IR) {
		irq2 = chip_get_irq(s);
		if (irq2 >= 0) {
			chip_intack(s, (unsigned)irq2);
			vec = (uint8_t)(s->base | (unsigned)irq2);
		} else {
			/* cannot happen with the level cascade; kept for safety */
			pic->spurious++;
			vec = (uint8_t)(s->base | 7);
		}
	} else {
		vec = (uint8_t)(m->base | (unsigned)irq);
	}
	chip_intack(m, (unsigned)irq);
	pic_update(pic);
	return vec;
}

bool i8259_intr(const struct i8259 *pic)
{
	return pic && pic->intr_level;
}

/* ------------------------------------------------------------ ports */

static void chip_icw1(struct i8259_chip *c, uint8_t v)
{
	c->init_state = 1;
	c->icw4_needed = (v & ICW1_IC4) != 0;
	c->single = (v & ICW1_SNGL) != 0;
	c->ltim = (v & ICW1_LTIM) != 0;
	/* ICW1 resets the edge latches, IMR, ISR, rotation, SMM, RR=IRR */
	c->irr = c->pins & chip_level_mask(c);
	c->imr = 0;
	c->isr = 0;
	c->prio_add = 0;
	c->special_mask = false;
	c->poll = false;
	c->read_isr = false;
	/* without IC4 every ICW4 function is 0 */
	c->auto_eoi = false;
	c->rotate_aeoi = false;
	c->sfnm = false;
}

static void chip_ocw2(struct i8259_chip *c, uint8_t v)
{
	unsigned cmd = v >> 5, irq = v & 7, p;

	switch (cmd) {
	case 0:         /* clear rotate in AEOI mode */
	case 4:         /* set rotate in AEOI mode */
		c->rotate_aeoi = cmd == 4;
		break;
	case 1:         /* non-specific EOI */
	case 5:         /* rotate on non-specific EOI */
		p = chip_priority(c, c->isr);
		if (p != NO_IRQ) {
			irq = (p + c->prio_add) & 7;
			c->isr &= (uint8_t)~(1u << irq);
			if (cmd == 5)
				c->prio_add = (uint8_t)((irq + 1) & 7);
		}
		break;
	case 3:         /* specific EOI */
		c->isr &= (uint8_t)~(1u << irq);
		break;
	case 7:         /* rotate on specific EOI */
		c->isr &= (uint8_t)~(1u << irq);
		c->prio_add = (uint8_t)((irq + 1) & 7);
		break;
	case 6:         /* set priority: irq becomes the lowest */
		c->prio_add = (uint8_t)((irq + 1) & 7);
		break;
	default:        /* 2: no operation */
		break;
	}
}

static void chip_write_cmd(struct i8259_chip *c, uint8_t v)
{
	if (v & ICW1_INIT) {
		chip_icw1(c, v);
	} else if (v & OCW3_SEL) {
		if (v & OCW3_POLL)
			c->poll = true;
		if (v & OCW3_RR)
			c->read_isr = (v & OCW3_RIS) != 0;
		if (v & OCW3_ESMM)
			c->special_mask = (v & OCW3_SMM) != 0;
	} else {
		chip_ocw2(c, v);
	}
}

static void chip_write_data(struct i8259_chip *c, uint8_t v)
{
	switch (c->init_state) {
	case 1:         /* ICW2 */
		c->base = v & 0xf8;
		if (!c->single)
			c->init_state = 2;
		else
			c->init_state = c->icw4_needed ? 3 : 0;
		break;
	case 2:         /* ICW3 */
		c->icw3 = v;
		c->init_state = c->icw4_needed ? 3 : 0;
		break;
	case 3:         /* ICW4 */
		c->auto_eoi = (v & ICW4_AEOI) != 0;
		c->sfnm = (v & ICW4_SFNM) != 0;
		c->init_state = 0;
		break;
	default:        /* OCW1 */
		c->imr = v;
		break;
	}
}

static uint8_t chip_read(struct i8259 *pic, struct i8259_chip *c, unsigned port)
{
	int irq;

	if (c->poll) {
		/* poll: this read is an INTA for this chip */
		c->poll = false;
		irq = chip_get_irq(c);
		if (irq < 0)
			return 0;
		chip_intack(c, (unsigned)irq);
		pic_update(pic);
		return (uint8_t)(0x80 | (unsigned)irq);
	}
	if (port == 0)
		return c->read_isr ? c->isr : c->irr;
	return c->imr;
}

static bool pic_access_ok(uint64_t off, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) &&
	       off < I8259_SPAN && size <= I8259_SPAN - off;
}

/* which: 0 master, 1 slave, 2 ELCR. Multi-byte = consecutive ports. */
static int pic_read(void *dev, unsigned which, uint64_t off, unsigned size,
		    uint64_t *val)
{
	struct i8259 *pic = dev;
	uint64_t v = 0;
	unsigned i, port;
	uint8_t b;

	if (!pic || !val || !pic_access_ok(off, size))
		return -1;
	for (i = 0; i < size; i++) {
		port = (unsigned)off + i;
		if (which == 2)
			b = pic->chip[port].elcr;
		else
			b = chip_read(pic, &pic->chip[which], port);
		v |= (uint64_t)b << (8 * i);
	}
	*val = v;
	return 0;
}

static int pic_write(void *dev, unsigned which, uint64_t off, unsigned size,
		     uint64_t val)
{
	struct i8259 *pic = dev;
	struct i8259_chip *c;
	unsigned i, port;
	uint8_t b, lvl;

	if (!pic || !pic_access_ok(off, size))
		return -1;
	for (i = 0; i < size; i++) {
		port = (unsigned)off + i;
		b = (uint8_t)(val >> (8 * i));
		if (which == 2) {
			c = &pic->chip[port];
			c->elcr = b & c->elcr_mask;
			lvl = chip_level_mask(c);
			c->irr = (uint8_t)((c->irr & ~lvl) | (c->pins & lvl));
		} else if (port == 0) {
			chip_write_cmd(&pic->chip[which], b);
		} else {
			chip_write_data(&pic->chip[which], b);
		}
		pic_update(pic);
	}
	return 0;
}

int i8259_master_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	return pic_read(dev, 0, off, size, val);
}

int i8259_master_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	return pic_write(dev, 0, off, size, val);
}

int i8259_slave_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	return pic_read(dev, 1, off, size, val);
}

int i8259_slave_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	return pic_write(dev, 1, off, size, val);
}

int i8259_elcr_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	return pic_read(dev, 2, off, size, val);
}

int i8259_elcr_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	return pic_write(dev, 2, off, size, val);
}

const struct dev_ops i8259_master_ops = {
	.name = "i8259-master",
	.read = i8259_master_read,
	.write = i8259_master_write,
	.reset = i8259_reset,
};

const struct dev_ops i8259_slave_ops = {
	.name = "i8259-slave",
	.read = i8259_slave_read,
	.write = i8259_slave_write,
	.reset = NULL,
};

const struct dev_ops i8259_elcr_ops = {
	.name = "i8259-elcr",
	.read = i8259_elcr_read,
	.write = i8259_elcr_write,
	.reset = NULL,
};
