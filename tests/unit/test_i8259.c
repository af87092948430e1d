/* Host unit tests for the cascaded 8259A model (devices/i8259.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "devices/i8259.h"

/* ------------------------------------------------------------ fixture */

struct fake {
	struct i8259 pic;
	bool intr;              /* INT level as seen by the "CPU" */
	unsigned intr_calls;
	unsigned intr_raises;
};

static void fake_intr(void *opaque, unsigned line, bool level)
{
	struct fake *f = opaque;

	assert_int_equal(line, 0);
	assert_true(level != f->intr);  /* driven on change only */
	f->intr = level;
	f->intr_calls++;
	if (level)
		f->intr_raises++;
}

static void fake_init(struct fake *f)
{
	struct irq_line l = { .set = fake_intr, .opaque = f, .line = 0 };

	memset(f, 0, sizeof(*f));
	i8259_init(&f->pic, l);
}

/* Port I/O as the guest does it (ports 0x20/0x21, 0xa0/0xa1, 0x4d0/0x4d1). */
static void outb(struct fake *f, unsigned port, uint8_t v)
{
	const struct dev_ops *ops;
	unsigned base;

	if (port >= 0x4d0) {
		ops = &i8259_elcr_ops;
		base = 0x4d0;
	} else if (port >= 0xa0) {
		ops = &i8259_slave_ops;
		base = 0xa0;
	} else {
		ops = &i8259_master_ops;
		base = 0x20;
	}
	assert_int_equal(ops->write(&f->pic, port - base, 1, v), 0);
}

static uint8_t inb(struct fake *f, unsigned port)
{
	const struct dev_ops *ops;
	uint64_t v = 0xabcdef;
	unsigned base;

	if (port >= 0x4d0) {
		ops = &i8259_elcr_ops;
		base = 0x4d0;
	} else if (port >= 0xa0) {
		ops = &i8259_slave_ops;
		base = 0xa0;
	} else {
		ops = &i8259_master_ops;
		base = 0x20;
	}
	assert_int_equal(ops->read(&f->pic, port - base, 1, &v), 0);
	assert_true(v <= 0xff);
	return (uint8_t)v;
}

/* Linux arch/x86/kernel/i8259.c: probe_8259A() then init_8259A(auto_eoi). */
static void linux_init(struct fake *f, bool auto_eoi)
{
	outb(f, 0xa1, 0xff);            /* probe: mask all of 8259A-2 */
	outb(f, 0x21, 0xfb);            /* everything but the cascade */
	assert_int_equal(inb(f, 0x21), 0xfb);
	outb(f, 0x21, 0xff);            /* init_8259A: mask all of 8259A-1 */
	outb(f, 0x20, 0x11);            /* ICW1: edge, cascade, ICW4 */
	outb(f, 0x21, 0x30);            /* ICW2: ISA_IRQ_VECTOR(0) */
	outb(f, 0x21, 0x04);            /* ICW3: slave on IR2 */
	outb(f, 0x21, auto_eoi ? 0x03 : 0x01);  /* ICW4: 8086 (+AEOI) */
	outb(f, 0xa0, 0x11);
	outb(f, 0xa1, 0x38);            /* ISA_IRQ_VECTOR(8) */
	outb(f, 0xa1, 0x02);            /* slave id 2 */
	outb(f, 0xa1, 0x01);
	outb(f, 0x21, 0xfb);            /* restore cached masks */
	outb(f, 0xa1, 0xff);
}

/* i8259A_irq_real(): ISR bit via OCW3 0x0b, then back to IRR (0x0a). */
static uint8_t read_isr(struct fake *f, unsigned cmd_port)
{
	uint8_t v;

	outb(f, cmd_port, 0x0b);
	v = inb(f, cmd_port);
	outb(f, cmd_port, 0x0a);
	return v;
}

static uint8_t read_irr(struct fake *f, unsigned cmd_port)
{
	outb(f, cmd_port, 0x0a);
	return inb(f, cmd_port);
}

/* Linux mask_and_ack_8259A() + the handler's unmask, for a normal EOI. */
static void linux_eoi(struct fake *f, unsigned irq)
{
	if (irq & 8) {
		(void)inb(f, 0xa1);
		outb(f, 0xa0, (uint8_t)(0x60 + (irq & 7)));
		outb(f, 0x20, 0x60 + 2);
	} else {
		(void)inb(f, 0x21);
		outb(f, 0x20, (uint8_t)(0x60 + irq));
	}
}

static void set_irq(struct fake *f, unsigned irq, bool level)
{
	i8259_set_irq(&f->pic, irq, level);
}

static void pulse(struct fake *f, unsigned irq)
{
	set_irq(f, irq, true);
	set_irq(f, irq, false);
}

/* ------------------------------------------------------------ tests */

static void test_ops_and_reset_values(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	assert_string_equal(i8259_master_ops.name, "i8259-master");
	assert_ptr_equal(i8259_master_ops.read, i8259_master_read);
	assert_ptr_equal(i8259_master_ops.write, i8259_master_write);
	assert_ptr_equal(i8259_master_ops.reset, i8259_reset);
	assert_ptr_equal(i8259_slave_ops.read, i8259_slave_read);
	assert_ptr_equal(i8259_elcr_ops.write, i8259_elcr_write);
	assert_null(i8259_slave_ops.reset);
	assert_null(i8259_elcr_ops.reset);

	/* what a BIOS leaves: all masked, bases 0x08/0x70 */
	assert_int_equal(inb(&f, 0x21), 0xff);
	assert_int_equal(inb(&f, 0xa1), 0xff);
	assert_int_equal(inb(&f, 0x20), 0);
	assert_int_equal(inb(&f, 0xa0), 0);
	assert_int_equal(inb(&f, 0x4d0), 0);
	assert_int_equal(inb(&f, 0x4d1), 0);
	assert_false(f.intr);
	assert_false(i8259_intr(&f.pic));
	/* a masked IRQ latches in IRR but does not interrupt */
	pulse(&f, 0);
	assert_false(f.intr);
	assert_int_equal(read_irr(&f, 0x20), 0x01);
	outb(&f, 0x21, 0xfe);
	assert_true(f.intr);
	assert_int_equal(i8259_ack(&f.pic), 0x08);
	assert_false(f.intr);
	assert_int_equal(f.intr_calls, 2);
}

static void test_linux_init_and_master_irq(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	linux_init(&f, false);
	assert_int_equal(inb(&f, 0x21), 0xfb);
	assert_int_equal(inb(&f, 0xa1), 0xff);
	assert_false(f.intr);

	outb(&f, 0x21, 0xfa);           /* unmask IRQ 0 */
	set_irq(&f, 0, true);           /* PIT OUT0 rising edge */
	assert_true(f.intr);
	assert_int_equal(read_irr(&f, 0x20), 0x01);
	assert_int_equal(i8259_ack(&f.pic), 0x30);
	assert_false(f.intr);
	set_irq(&f, 0, false);
	assert_int_equal(read_isr(&f, 0x20), 0x01);
	assert_int_equal(read_irr(&f, 0x20), 0x00);     /* edge consumed */
	/* the next tick while in service waits for the EOI */
	pulse(&f, 0);
	assert_false(f.intr);
	assert_int_equal(read_irr(&f, 0x20), 0x01);
	linux_eoi(&f, 0);
	assert_int_equal(read_isr(&f, 0x20), 0x00);
	assert_true(f.intr);
	assert_int_equal(i8259_ack(&f.pic), 0x30);
	linux_eoi(&f, 0);
	assert_false(f.intr);
	/* i8259A_irq_pending(): IRR read with OCW3 0x0a in force */
	outb(&f, 0x21, 0xfb);           /* mask IRQ 0 */
	pulse(&f, 1);
	assert_int_equal(inb(&f, 0x20) & 0x02, 0x02);
	assert_false(f.intr);
	assert_int_equal(f.pic.acks, 2);
	assert_int_equal(f.pic.spurious, 0);
}

static void test_linux_slave_irq(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	linux_init(&f, false);
	outb(&f, 0xa1, 0xef);           /* unmask IRQ 12 */
	pulse(&f, 12);
	assert_true(f.intr);
	assert_int_equal(read_irr(&f, 0xa0), 0x10);
	assert_int_equal(read_irr(&f, 0x20), 0x04);     /* cascade request */
	assert_int_equal(i8259_ack(&f.pic), 0x3c);
	assert_false(f.intr);
	assert_int_equal(read_isr(&f, 0xa0), 0x10);
	assert_int_equal(read_isr(&f, 0x20), 0x04);
	assert_int_equal(read_irr(&f, 0xa0), 0x00);
	assert_int_equal(read_irr(&f, 0x20), 0x00);
	/* IRQ 1 on the master beats the slave's (IR2) level */
	outb(&f, 0x21, 0xf9);
	pulse(&f, 1);
	assert_true(f.intr);
	assert_int_equal(i8259_ack(&f.pic), 0x31);
	linux_eoi(&f, 1);
	assert_false(f.intr);
	/* another slave IRQ waits until the master's IR2 is EOIed */
	outb(&f, 0xa1, 0xe7);           /* IRQ 11 too */
	pulse(&f, 11);
	assert_false(f.intr);           /* slave: 11 beats 12 there, but master IR2 busy */
	assert_int_equal(read_irr(&f, 0x20), 0x04);
	outb(&f, 0xa0, 0x64);           /* specific EOI 12 to the slave */
	assert_false(f.intr);           /* master still has IR2 in service */
	outb(&f, 0x20, 0x62);           /* specific EOI IR2 to the master */
	assert_true(f.intr);
	assert_int_equal(i8259_ack(&f.pic), 0x3b);
	linux_eoi(&f, 11);
	assert_false(f.intr);
	assert_int_equal(read_isr(&f, 0xa0), 0);
	assert_int_equal(read_isr(&f, 0x20), 0);
}

static void test_auto_eoi(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	linux_init(&f, true);           /* init_8259A(1): master AEOI */
	outb(&f, 0x21, 0xf8);           /* IRQ 0, 1 */
	pulse(&f, 1);
	assert_int_equal(i8259_ack(&f.pic), 0x31);
	assert_int_equal(read_isr(&f, 0x20), 0);        /* nothing in service */
	pulse(&f, 1);
	assert_true(f.intr);            /* no EOI needed */
	assert_int_equal(i8259_ack(&f.pic), 0x31);
	pulse(&f, 0);
	pulse(&f, 1);
	assert_int_equal(i8259_ack(&f.pic), 0x30);
	assert_int_equal(i8259_ack(&f.pic), 0x31);
	assert_false(f.intr);
	/* rotate in AEOI mode: the acked level becomes the lowest */
	outb(&f, 0x20, 0x80);
	pulse(&f, 0);
	assert_int_equal(i8259_ack(&f.pic), 0x30);      /* IR0 now lowest */
	pulse(&f, 0);
	pulse(&f, 1);
	assert_int_equal(i8259_ack(&f.pic), 0x31);
	assert_int_equal(i8259_ack(&f.pic), 0x30);      /* IR1 lowest now */
	outb(&f, 0x20, 0x00);           /* clear rotate in AEOI */
	outb(&f, 0x20, 0xc7);           /* back to IR0 highest */
	pulse(&f, 1);
	pulse(&f, 0);
	assert_int_equal(i8259_ack(&f.pic), 0x30);
	assert_int_equal(i8259_ack(&f.pic), 0x31);
	/* the slave has no AEOI: its ISR is set, the master's is not */
	outb(&f, 0xa1, 0xfe);
	pulse(&f, 8);
	assert_int_equal(i8259_ack(&f.pic), 0x38);
	assert_int_equal(read_isr(&f, 0xa0), 0x01);
	assert_int_equal(read_isr(&f, 0x20), 0x00);
}

static void test_priority_nesting_and_nonspecific_eoi(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	linux_init(&f, false);
	outb(&f, 0x21, 0x00);
	pulse(&f, 3);
	assert_int_equal(i8259_ack(&f.pic), 0x33);
	pulse(&f, 5);
	assert_false(f.intr);           /* lower than the one in service */
	pulse(&f, 1);
	assert_true(f.intr);            /* higher: nests */
	assert_int_equal(i8259_ack(&f.pic), 0x31);
	assert_int_equal(read_isr(&f, 0x20), 0x0a);
	assert_false(f.intr);
	outb(&f, 0x20, 0x20);           /* non-specific EOI: clears IR1 */
	assert_int_equal(read_isr(&f, 0x20), 0x08);
	assert_false(f.intr);
	outb(&f, 0x20, 0x20);           /* clears IR3 */
	assert_true(f.intr);
	assert_int_equal(i8259_ack(&f.pic), 0x35);
	outb(&f, 0x20, 0x20);
	assert_int_equal(read_isr(&f, 0x20), 0);
	outb(&f, 0x20, 0x20);           /* EOI with nothing in service: no-op */
	outb(&f, 0x20, 0x40);           /* OCW2 no-op */
	assert_int_equal(read_isr(&f, 0x20), 0);
	assert_false(f.intr);
}

static void test_rotation(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	linux_init(&f, false);
	outb(&f, 0x21, 0x00);
	/* set priority: IR4 lowest, so IR5 highest */
	outb(&f, 0x20, 0xc4);
	pulse(&f, 4);
	pulse(&f, 7);
	pulse(&f, 5);
	assert_int_equal(i8259_ack(&f.pic), 0x35);
	outb(&f, 0x20, 0x20);
	assert_int_equal(i8259_ack(&f.pic), 0x37);
	outb(&f, 0x20, 0x20);
	assert_int_equal(i8259_ack(&f.pic), 0x34);
	/* rotate on non-specific EOI: IR4 becomes lowest (again) */
	outb(&f, 0x20, 0xa0);
	pulse(&f, 0);
	pulse(&f, 5);
	assert_int_equal(i8259_ack(&f.pic), 0x35);
	/* rotate on specific EOI 5: IR6 highest, IR5 lowest */
	outb(&f, 0x20, 0xe5);
	pulse(&f, 5);
	pulse(&f, 6);
	assert_int_equal(i8259_ack(&f.pic), 0x36);
	outb(&f, 0x20, 0x66);
	assert_int_equal(i8259_ack(&f.pic), 0x30);
	outb(&f, 0x20, 0x60);
	assert_int_equal(i8259_ack(&f.pic), 0x35);
	outb(&f, 0x20, 0x65);
	assert_false(f.intr);
	assert_int_equal(read_isr(&f, 0x20), 0);
}

static void test_special_mask_mode(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	linux_init(&f, false);
	outb(&f, 0x21, 0x00);
	pulse(&f, 3);
	assert_int_equal(i8259_ack(&f.pic), 0x33);
	pulse(&f, 6);
	assert_false(f.intr);
	outb(&f, 0x21, 0x08);           /* mask own level */
	outb(&f, 0x20, 0x68);           /* OCW3: set special mask */
	assert_true(f.intr);            /* lower level now allowed */
	assert_int_equal(i8259_ack(&f.pic), 0x36);
	outb(&f, 0x20, 0x66);
	outb(&f, 0x20, 0x48);           /* reset special mask */
	pulse(&f, 6);
	assert_false(f.intr);           /* IR3 still in service blocks again */
	outb(&f, 0x20, 0x20 | 0x40 | 0x03);     /* specific EOI 3 */
	outb(&f, 0x21, 0x00);
	assert_true(f.intr);
	assert_int_equal(i8259_ack(&f.pic), 0x36);
	/* OCW3 without ESMM leaves SMM alone */
	outb(&f, 0x20, 0x68);
	outb(&f, 0x20, 0x08);
	assert_true(f.pic.chip[0].special_mask);
	outb(&f, 0x20, 0x48);
	assert_false(f.pic.chip[0].special_mask);
}

static void test_poll_mode(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	linux_init(&f, false);
	outb(&f, 0x21, 0x00);
	outb(&f, 0x20, 0x0c);           /* poll, nothing pending */
	assert_int_equal(inb(&f, 0x20), 0x00);
	pulse(&f, 5);
	pulse(&f, 2 + 4);
	outb(&f, 0x20, 0x0c);
	assert_int_equal(inb(&f, 0x20), 0x85);  /* I bit + level 5 */
	assert_int_equal(read_isr(&f, 0x20), 0x20);
	/* the poll is one read only; OCW3 read selection is kept */
	outb(&f, 0x20, 0x0c);
	assert_int_equal(inb(&f, 0x21), 0x00);  /* blocked by IR5: no request */
	outb(&f, 0x20, 0x20);
	outb(&f, 0x20, 0x0c);
	assert_int_equal(inb(&f, 0x21), 0x86);  /* poll answers on either port */
	assert_int_equal(inb(&f, 0x21), 0x00);  /* IMR again */
	outb(&f, 0x20, 0x20);
	assert_false(f.intr);
	/* slave through the master's poll: IR2 then the slave */
	outb(&f, 0xa1, 0x00);
	pulse(&f, 9);
	outb(&f, 0x20, 0x0c);
	assert_int_equal(inb(&f, 0x20), 0x82);
	outb(&f, 0xa0, 0x0c);
	assert_int_equal(inb(&f, 0xa0), 0x81);
	assert_int_equal(read_isr(&f, 0xa0), 0x02);
	assert_int_equal(read_isr(&f, 0x20), 0x04);
}

static void test_elcr_level_triggered(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	linux_init(&f, false);
	/* IRQ 0-2, 8 and 13 are always edge */
	outb(&f, 0x4d0, 0xff);
	outb(&f, 0x4d1, 0xff);
	assert_int_equal(inb(&f, 0x4d0), 0xf8);
	assert_int_equal(inb(&f, 0x4d1), 0xde);
	outb(&f, 0x4d0, 0x00);
	outb(&f, 0x4d1, 0x04);          /* IRQ 10 level */
	assert_int_equal(inb(&f, 0x4d1), 0x04);
	outb(&f, 0xa1, 0xfb);
	set_irq(&f, 10, true);
	assert_true(f.intr);
	assert_int_equal(i8259_ack(&f.pic), 0x3a);
	assert_int_equal(read_irr(&f, 0xa0), 0x04);     /* follows the line */
	assert_false(f.intr);
	linux_eoi(&f, 10);
	assert_true(f.intr);            /* still high: again */
	assert_int_equal(i8259_ack(&f.pic), 0x3a);
	set_irq(&f, 10, false);         /* device serviced */
	assert_int_equal(read_irr(&f, 0xa0), 0x00);
	linux_eoi(&f, 10);
	assert_false(f.intr);
	/* a level request that goes away before INTA un-pends (no spurious) */
	set_irq(&f, 10, true);
	assert_true(f.intr);
	set_irq(&f, 10, false);
	assert_false(f.intr);
	/* switching to edge keeps the line state but latches no edge */
	set_irq(&f, 10, true);
	outb(&f, 0x4d1, 0x00);
	assert_int_equal(i8259_ack(&f.pic), 0x3a);
	linux_eoi(&f, 10);
	assert_false(f.intr);           /* edge: line still high, no new edge */
	set_irq(&f, 10, false);
	set_irq(&f, 10, true);
	assert_true(f.intr);
	/* switching to level with the line high: pending at once */
	assert_int_equal(i8259_ack(&f.pic), 0x3a);
	linux_eoi(&f, 10);
	outb(&f, 0x4d1, 0x04);
	assert_true(f.intr);
	/* ICW1.LTIM makes every input of that chip level-triggered */
	fake_init(&f);
	outb(&f, 0x20, 0x19);
	outb(&f, 0x21, 0x20);
	outb(&f, 0x21, 0x04);
	outb(&f, 0x21, 0x01);
	outb(&f, 0x21, 0xfb);
	set_irq(&f, 4, true);
	outb(&f, 0x21, 0xeb);
	assert_true(f.intr);
	assert_int_equal(i8259_ack(&f.pic), 0x24);
	outb(&f, 0x20, 0x20);
	assert_true(f.intr);
	set_irq(&f, 4, false);
	assert_false(f.intr);
}

static void test_edge_needs_new_edge(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	linux_init(&f, false);
	outb(&f, 0x21, 0xf7);
	set_irq(&f, 3, true);
	assert_int_equal(i8259_ack(&f.pic), 0x33);
	linux_eoi(&f, 3);
	set_irq(&f, 3, true);           /* no change on the wire */
	assert_false(f.intr);
	set_irq(&f, 3, false);
	assert_false(f.intr);
	set_irq(&f, 3, true);
	assert_true(f.intr);
	/* IRQ 2 is the cascade, out-of-range IRQs are ignored */
	fake_init(&f);
	linux_init(&f, false);
	outb(&f, 0x21, 0x00);
	set_irq(&f, 2, true);
	set_irq(&f, 16, true);
	set_irq(&f, 0xffffffffu, true);
	i8259_set_irq(NULL, 1, true);
	assert_false(f.intr);
	assert_int_equal(read_irr(&f, 0x20), 0);
}

static void test_spurious(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	linux_init(&f, false);
	outb(&f, 0x21, 0xf7);
	/* nothing pending: INTA gets IR7 of the master, ISR untouched */
	assert_int_equal(i8259_ack(&f.pic), 0x37);
	assert_int_equal(read_isr(&f, 0x20), 0);
	assert_int_equal(f.pic.spurious, 1);
	/* an edge masked between INT and INTA is the classic spurious IRQ7 */
	pulse(&f, 3);
	assert_true(f.intr);
	outb(&f, 0x21, 0xff);
	assert_false(f.intr);
	assert_int_equal(i8259_ack(&f.pic), 0x37);
	/* Linux checks ISR bit 7: not set, so it is spurious */
	assert_int_equal(read_isr(&f, 0x20) & 0x80, 0);
	assert_int_equal(f.pic.spurious, 2);
	/* the request stays latched and is delivered once unmasked */
	outb(&f, 0x21, 0xf7);
	assert_true(f.intr);
	assert_int_equal(i8259_ack(&f.pic), 0x33);
	/* a real IRQ 7 does set ISR bit 7 */
	outb(&f, 0x21, 0x77);
	linux_eoi(&f, 3);
	pulse(&f, 7);
	assert_int_equal(i8259_ack(&f.pic), 0x37);
	assert_int_equal(read_isr(&f, 0x20), 0x80);
	assert_int_equal(f.pic.spurious, 2);
	assert_int_equal(i8259_ack(NULL), 0xff);
}

static void test_icw1_resets(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	linux_init(&f, false);
	outb(&f, 0x4d0, 0x20);          /* IRQ 5 level */
	outb(&f, 0x21, 0x00);
	set_irq(&f, 5, true);
	pulse(&f, 3);
	assert_int_equal(i8259_ack(&f.pic), 0x33);
	outb(&f, 0x20, 0x0b);           /* read ISR selected */
	outb(&f, 0x20, 0x68);           /* special mask */
	outb(&f, 0x20, 0xc3);           /* priority rotated */
	pulse(&f, 4);
	outb(&f, 0x20, 0x11);           /* ICW1 */
	assert_int_equal(f.pic.chip[0].imr, 0);
	assert_int_equal(f.pic.chip[0].isr, 0);
	assert_false(f.pic.chip[0].special_mask);
	assert_int_equal(f.pic.chip[0].prio_add, 0);
	assert_int_equal(f.pic.chip[0].irr, 0x20);      /* level kept, edge gone */
	assert_int_equal(inb(&f, 0x20), 0x20);          /* RR reset to IRR */
	assert_int_equal(inb(&f, 0x4d0), 0x20);         /* ELCR not reset */
	outb(&f, 0x21, 0x50);
	outb(&f, 0x21, 0x04);
	outb(&f, 0x21, 0x01);
	assert_int_equal(i8259_ack(&f.pic), 0x55);
	/* single mode: no ICW3; no IC4: ICW4 functions cleared */
	fake_init(&f);
	outb(&f, 0x20, 0x13);
	outb(&f, 0x21, 0x40);
	outb(&f, 0x21, 0x03);           /* ICW4 (AEOI) right after ICW2 */
	outb(&f, 0x21, 0xfd);           /* now OCW1 */
	assert_int_equal(inb(&f, 0x21), 0xfd);
	assert_true(f.pic.chip[0].auto_eoi);
	outb(&f, 0x20, 0x10);           /* no ICW4 */
	outb(&f, 0x21, 0x48);
	outb(&f, 0x21, 0x04);
	outb(&f, 0x21, 0xfd);           /* OCW1 */
	assert_int_equal(inb(&f, 0x21), 0xfd);
	assert_false(f.pic.chip[0].auto_eoi);
	pulse(&f, 1);
	assert_int_equal(i8259_ack(&f.pic), 0x49);
	/* ICW2 keeps only bits 7-3 of the base */
	assert_int_equal(f.pic.chip[0].base, 0x48);
}

static void test_special_fully_nested(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	outb(&f, 0x20, 0x11);
	outb(&f, 0x21, 0x30);
	outb(&f, 0x21, 0x04);
	outb(&f, 0x21, 0x11);           /* master SFNM */
	outb(&f, 0xa0, 0x11);
	outb(&f, 0xa1, 0x38);
	outb(&f, 0xa1, 0x02);
	outb(&f, 0xa1, 0x01);
	pulse(&f, 12);
	assert_int_equal(i8259_ack(&f.pic), 0x3c);
	pulse(&f, 9);                   /* higher, same slave */
	assert_true(f.intr);
	assert_int_equal(i8259_ack(&f.pic), 0x39);
	pulse(&f, 14);                  /* lower on the slave: blocked there */
	assert_false(f.intr);
	/* without SFNM the second slave IRQ would wait */
	fake_init(&f);
	linux_init(&f, false);
	outb(&f, 0xa1, 0x00);
	pulse(&f, 12);
	assert_int_equal(i8259_ack(&f.pic), 0x3c);
	pulse(&f, 9);
	assert_false(f.intr);
}

static void test_wide_and_bad_accesses(void **state)
{
	struct fake f;
	struct i8259 snap;
	uint64_t v;
	unsigned sz;
	static const uint64_t offs[] = { 2, 3, 0x10, 0xffffffffffffffffULL, 1ULL << 63 };

	(void)state;
	fake_init(&f);
	/* a 2-byte access = two byte accesses at port and port + 1 */
	assert_int_equal(i8259_master_write(&f.pic, 0, 2, 0x300b), 0); /* OCW3 + IMR */
	assert_int_equal(inb(&f, 0x21), 0x30);
	v = 0;
	assert_int_equal(i8259_master_read(&f.pic, 0, 2, &v), 0);
	assert_int_equal(v, 0x3000);    /* ISR 0, IMR 0x30 */
	assert_int_equal(i8259_elcr_write(&f.pic, 0, 2, 0xffff), 0);
	assert_int_equal(i8259_elcr_read(&f.pic, 0, 2, &v), 0);
	assert_int_equal(v, 0xdef8);
	memcpy(&snap, &f.pic, sizeof(snap));
	for (sz = 0; sz <= 8; sz++) {
		bool ok1 = sz == 1 || sz == 2;

		for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
			v = 0x77;
			assert_int_equal(i8259_master_read(&f.pic, offs[i], sz, &v), -1);
			assert_int_equal(v, 0x77);
			assert_int_equal(i8259_slave_write(&f.pic, offs[i], sz, 0x11), -1);
			assert_int_equal(i8259_elcr_write(&f.pic, offs[i], sz, 0xff), -1);
		}
		if (!ok1) {
			assert_int_equal(i8259_master_write(&f.pic, 0, sz, 0x11), -1);
			assert_int_equal(i8259_slave_read(&f.pic, 0, sz, &v), -1);
		}
		if (sz != 1)
			assert_int_equal(i8259_master_write(&f.pic, 1, sz, 0x11), -1);
	}
	assert_memory_equal(&snap, &f.pic, sizeof(snap));
	assert_int_equal(i8259_master_read(&f.pic, 0, 1, NULL), -1);
	assert_int_equal(i8259_master_read(NULL, 0, 1, &v), -1);
	assert_int_equal(i8259_master_write(NULL, 0, 1, 0), -1);
	assert_false(i8259_intr(NULL));
	i8259_reset(NULL);
}

static void test_reset(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	linux_init(&f, false);
	outb(&f, 0x4d1, 0x04);
	outb(&f, 0x21, 0x00);
	set_irq(&f, 10, true);          /* line stays high across reset */
	pulse(&f, 1);
	assert_true(f.intr);
	i8259_master_ops.reset(&f.pic);
	assert_false(f.intr);
	assert_int_equal(inb(&f, 0x21), 0xff);
	assert_int_equal(inb(&f, 0x4d1), 0);
	assert_int_equal(read_irr(&f, 0x20), 0);
	/* the wire level was kept: no new edge, nothing pending */
	outb(&f, 0x21, 0x00);
	outb(&f, 0xa1, 0x00);
	assert_false(f.intr);
	set_irq(&f, 10, false);
	set_irq(&f, 10, true);
	assert_true(f.intr);
	assert_int_equal(i8259_ack(&f.pic), 0x72);      /* BIOS slave base */
}

/* ------------------------------------------------------------ random */

static uint64_t xs_state;

static uint64_t xorshift(void)
{
	uint64_t x = xs_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	xs_state = x;
	return x;
}

/* Reference request logic, written independently of the model. */
static int ref_get_irq(const struct i8259_chip *c, uint8_t irr)
{
	uint8_t req = irr & (uint8_t)~c->imr, ins = c->isr;
	unsigned i, irq;

	if (c->special_mask)
		ins &= (uint8_t)~c->imr;
	if (c->master && c->sfnm)
		ins &= (uint8_t)~4;
	for (i = 0; i < 8; i++) {
		irq = (c->prio_add + i) & 7;
		if (ins & (1u << irq))
			return -1;      /* an equal/higher level is in service */
		if (req & (1u << irq))
			return (int)irq;
	}
	return -1;
}

static void check_invariants(struct fake *f)
{
	const struct i8259_chip *m = &f->pic.chip[0], *s = &f->pic.chip[1];
	bool slave_int = ref_get_irq(s, s->irr) >= 0;

	assert_int_equal((m->irr >> 2) & 1, slave_int);
	assert_true(f->intr == (ref_get_irq(m, m->irr) >= 0));
	assert_true(f->pic.intr_level == f->intr);
	assert_int_equal(m->elcr & 0x07, 0);
	assert_int_equal(s->elcr & 0x21, 0);
	assert_int_equal(m->pins & 4, 0);
	assert_true(m->prio_add < 8 && s->prio_add < 8);
	assert_true(m->init_state <= 3 && s->init_state <= 3);
	assert_int_equal(m->base & 7, 0);
	assert_int_equal(s->base & 7, 0);
	/* level-triggered IRR bits follow their lines */
	for (int c = 0; c < 2; c++) {
		const struct i8259_chip *ch = &f->pic.chip[c];
		uint8_t lvl = (ch->ltim ? 0xff : ch->elcr) & (c ? 0xff : 0xfb);

		assert_int_equal(ch->irr & lvl, ch->pins & lvl);
	}
}

static void test_random_sequences(void **state)
{
	struct fake f;
	unsigned i;

	(void)state;
	fake_init(&f);
	linux_init(&f, false);
	xs_state = 0x8259a8259a8259aULL;
	for (i = 0; i < 100000; i++) {
		uint64_t r = xorshift(), v = xorshift();
		unsigned port = (r >> 8) & 1 ? 0xa0 : 0x20;
		uint8_t b = (uint8_t)v;
		uint64_t got;
		int ret;

		switch (r % 16) {
		case 0: case 1: case 2: case 3:
			i8259_set_irq(&f.pic, (unsigned)(v % 18), (v >> 8) & 1);
			break;
		case 4: case 5: {
			bool was = f.intr;
			uint8_t vec = i8259_ack(&f.pic);

			if (!was)
				assert_int_equal(vec & 7, 7);   /* spurious */
			assert_true((vec & 0xf8) == f.pic.chip[0].base ||
				    (vec & 0xf8) == f.pic.chip[1].base);
			break;
		}
		case 6:
			outb(&f, port + 1, b);          /* OCW1 (or an ICW) */
			break;
		case 7:
			outb(&f, port, (uint8_t)(b & 0xe7));    /* OCW2 */
			break;
		case 8:
			outb(&f, port, (uint8_t)((b & 0x67) | 0x08));   /* OCW3 */
			break;
		case 9:
			if ((v >> 16) % 8 == 0) {       /* an ICW1 sequence */
				outb(&f, port, (uint8_t)((b & 0x0b) | 0x10));
				outb(&f, port + 1, (uint8_t)(v >> 24));
			} else {
				outb(&f, 0x4d0 + ((r >> 9) & 1), b);
			}
			break;
		case 10: case 11: case 12:
			(void)inb(&f, port + ((r >> 9) & 1));
			break;
		case 13:
			(void)inb(&f, 0x4d0 + ((r >> 9) & 1));
			break;
		case 14: {
			/* any size / offset on any range */
			unsigned size = (unsigned)(v >> 32) % 6;
			uint64_t off = (v >> 40) % 4;
			const struct dev_ops *ops = (r >> 10) & 1 ? &i8259_slave_ops :
						    &i8259_elcr_ops;
			bool ok = (size == 1 || size == 2 || size == 4) && off < 2 &&
				  size <= 2 - off;

			if ((r >> 11) & 1)
				ret = ops->read(&f.pic, off, size, &got);
			else
				ret = ops->write(&f.pic, off, size, v);
			assert_int_equal(ret, ok ? 0 : -1);
			break;
		}
		default:
			if ((v >> 20) % 2048 == 0)
				i8259_reset(&f.pic);
			break;
		}
		check_invariants(&f);
	}
	assert_true(f.intr_calls > 100);
	assert_true(f.pic.acks > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops_and_reset_values),
		cmocka_unit_test(test_linux_init_and_master_irq),
		cmocka_unit_test(test_linux_slave_irq),
		cmocka_unit_test(test_auto_eoi),
		cmocka_unit_test(test_priority_nesting_and_nonspecific_eoi),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_special_mask_mode),
		cmocka_unit_test(test_poll_mode),
		cmocka_unit_test(test_elcr_level_triggered),
		cmocka_unit_test(test_edge_needs_new_edge),
		cmocka_unit_test(test_spurious),
		cmocka_unit_test(test_icw1_resets),
		cmocka_unit_test(test_special_fully_nested),
		cmocka_unit_test(test_wide_and_bad_accesses),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_random_sequences),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
