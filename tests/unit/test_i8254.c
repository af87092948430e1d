/* Host unit tests for the 8254 PIT model (devices/i8254.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "devices/i8254.h"

#define HZ I8254_HZ

/* ------------------------------------------------------------ fixture */

struct fake {
	struct i8254 pit;
	uint64_t now;           /* ns */
	unsigned pulses;        /* IRQ 0 raise+lower pairs */
	bool level;
};

static uint64_t fake_now(void *opaque)
{
	return ((struct fake *)opaque)->now;
}

static void fake_irq(void *opaque, unsigned line, bool level)
{
	struct fake *f = opaque;

	assert_int_equal(line, 0);
	assert_true(level != f->level); /* raise, lower, raise, ... */
	f->level = level;
	if (!level)
		f->pulses++;
}

static void fake_init(struct fake *f, uint64_t now)
{
	struct irq_line l = { .set = fake_irq, .opaque = f, .line = 0 };

	memset(f, 0, sizeof(*f));
	f->now = now;
	i8254_init(&f->pit, l, fake_now, f);
}

/* First ns at which the PIT clock count reaches tick k. */
static uint64_t ns_of(uint64_t k)
{
	return (uint64_t)(((unsigned __int128)k * 1000000000u + HZ - 1) / HZ);
}

static uint64_t tick_of(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * HZ / 1000000000u);
}

static void at_tick(struct fake *f, uint64_t k)
{
	f->now = ns_of(k);
	assert_int_equal(tick_of(f->now), k);
}

static void outb(struct fake *f, unsigned port, uint8_t v)
{
	if (port == 0x61)
		assert_int_equal(i8254_port61_ops.write(&f->pit, 0, 1, v), 0);
	else
		assert_int_equal(i8254_ops.write(&f->pit, port - 0x40, 1, v), 0);
}

static uint8_t inb(struct fake *f, unsigned port)
{
	uint64_t v = 0x1234;

	if (port == 0x61)
		assert_int_equal(i8254_port61_ops.read(&f->pit, 0, 1, &v), 0);
	else
		assert_int_equal(i8254_ops.read(&f->pit, port - 0x40, 1, &v), 0);
	assert_true(v <= 0xff);
	return (uint8_t)v;
}

/* Counter latch command + two reads (LSB/MSB access). */
static unsigned latch_read(struct fake *f, unsigned ch)
{
	unsigned lo, hi;

	outb(f, 0x43, (uint8_t)(ch << 6));
	lo = inb(f, 0x40 + ch);
	hi = inb(f, 0x40 + ch);
	return lo | hi << 8;
}

static uint8_t status(struct fake *f, unsigned ch)
{
	outb(f, 0x43, (uint8_t)(0xe0 | (2u << ch)));    /* read-back status only */
	return inb(f, 0x40 + ch);
}

/* Program channel ch: mode, LSB/MSB, binary, count n (65536 -> 0). */
static void program(struct fake *f, unsigned ch, unsigned mode, unsigned n)
{
	outb(f, 0x43, (uint8_t)(ch << 6 | 0x30 | mode << 1));
	outb(f, 0x40 + ch, (uint8_t)n);
	outb(f, 0x40 + ch, (uint8_t)(n >> 8));
}

/* ------------------------------------------------------------ tests */

static void test_ops_and_reset_state(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 0);
	assert_string_equal(i8254_ops.name, "i8254");
	assert_ptr_equal(i8254_ops.read, i8254_read);
	assert_ptr_equal(i8254_ops.write, i8254_write);
	assert_ptr_equal(i8254_ops.reset, i8254_reset);
	assert_ptr_equal(i8254_port61_ops.read, i8254_port61_read);
	assert_ptr_equal(i8254_port61_ops.write, i8254_port61_write);
	assert_null(i8254_port61_ops.reset);
	/* BIOS state: mode 3, LSB/MSB, 65536, loaded on the next clock */
	assert_int_equal(status(&f, 0), 0xf6);          /* OUT, NULL COUNT */
	at_tick(&f, 1);
	assert_int_equal(status(&f, 0), 0xb6);
	assert_int_equal(status(&f, 1), 0xb6);
	assert_int_equal(status(&f, 2), 0xf6);          /* gate low: not loaded */
	/* 18.2 Hz: first rising edge of OUT0 one full period after loading */
	assert_int_equal(i8254_next_event_ns(&f.pit), ns_of(1 + 65536));
	assert_int_equal(inb(&f, 0x43), 0);             /* write-only */
	assert_int_equal(inb(&f, 0x61) & 0xef, 0x20);   /* gate 0, OUT2 high */
	assert_int_equal(f.pulses, 0);
}

/* Linux pit_calibrate_tsc(): channel 2, mode 0, polling OUT2 in 0x61. */
static void test_linux_pit_calibrate_tsc(void **state)
{
	struct fake f;
	const unsigned latch = (unsigned)(HZ / (1000 / 10));   /* CAL_LATCH, 10 ms */
	uint64_t start_tick, loops = 0;

	(void)state;
	fake_init(&f, 12345678);
	outb(&f, 0x43, 0x30);           /* channel 0 quiet: mode 0, no count */
	/* Set the Gate high, disable speaker */
	outb(&f, 0x61, (uint8_t)((inb(&f, 0x61) & ~0x02) | 0x01));
	assert_int_equal(inb(&f, 0x61) & 0x03, 0x01);
	outb(&f, 0x43, 0xb0);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0);      /* mode 0: OUT low */
	outb(&f, 0x42, latch & 0xff);
	outb(&f, 0x42, latch >> 8);
	start_tick = tick_of(f.now);
	while ((inb(&f, 0x61) & 0x20) == 0) {
		f.now += 1000;          /* the "TSC" loop: 1 us per poll */
		loops++;
		assert_true(loops < 20000);
	}
	/* OUT2 rose N + 1 clocks after the write (load + N decrements) */
	assert_true(tick_of(f.now) >= start_tick + 1 + latch);
	assert_true(tick_of(f.now - 1000) < start_tick + 1 + latch);
	assert_true(loops >= 9990 && loops <= 10010);   /* ~10 ms */
	/* it stays high and the counter wraps on */
	f.now += 100000000;
	assert_int_equal(inb(&f, 0x61) & 0x20, 0x20);
	assert_int_equal(f.pulses, 0);                  /* channel 2 has no IRQ */

	/* exact edge, and the gate suspends counting */
	fake_init(&f, 0);
	outb(&f, 0x61, 0x01);
	at_tick(&f, 100);
	program(&f, 2, 0, 50);          /* load at 101, OUT at 151 */
	at_tick(&f, 150);
	assert_int_equal(latch_read(&f, 2), 1);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0);
	outb(&f, 0x61, 0x00);           /* gate low at 150: frozen */
	at_tick(&f, 5000);
	assert_int_equal(latch_read(&f, 2), 1);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0);
	outb(&f, 0x61, 0x01);           /* counting resumes */
	at_tick(&f, 5000);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0);
	at_tick(&f, 5001);
	assert_int_equal(inb(&f, 0x61) & 0x21, 0x21);
	assert_int_equal(latch_read(&f, 2), 0);
	at_tick(&f, 5002);
	assert_int_equal(latch_read(&f, 2), 0xffff);    /* wraps, OUT stays */
	assert_int_equal(inb(&f, 0x61) & 0x20, 0x20);
}

/* Linux quick_pit_calibrate(): live LSB/MSB reads of a mode 0 count. */
static void test_linux_quick_pit_calibrate(void **state)
{
	struct fake f;
	unsigned i;

	(void)state;
	fake_init(&f, 0);
	at_tick(&f, 1000);
	outb(&f, 0x61, (uint8_t)((inb(&f, 0x61) & ~0x02) | 0x01));
	outb(&f, 0x43, 0xb0);
	outb(&f, 0x42, 0xff);
	outb(&f, 0x42, 0xff);           /* loaded at 1001 */
	/* pit_verify_msb(0): two reads, LSB then MSB */
	(void)inb(&f, 0x42);
	(void)inb(&f, 0x42);
	for (i = 0; i < 50; i++) {
		uint64_t k = 1001 + 256ull * i;

		at_tick(&f, k + 1);     /* count = 0xffff - 256*i - 1 */
		assert_int_equal(inb(&f, 0x42), 0xfe);
		assert_int_equal(inb(&f, 0x42), 0xff - i);
		at_tick(&f, k + 255);
		(void)inb(&f, 0x42);
		assert_int_equal(inb(&f, 0x42), 0xff - i);
		at_tick(&f, k + 256);
		(void)inb(&f, 0x42);
		assert_int_equal(inb(&f, 0x42), 0xfe - i);
	}
}

/* Linux's i8253 clockevent: 0x34 (ch0, LSB/MSB, mode 2), LATCH. */
static void test_channel0_mode2_periodic(void **state)
{
	struct fake f;
	const unsigned n = (unsigned)((HZ + 250 / 2) / 250);    /* HZ=250 LATCH */
	uint64_t l, k;

	(void)state;
	fake_init(&f, 0);
	at_tick(&f, 7);
	f.pulses = 0;
	outb(&f, 0x43, 0x34);
	outb(&f, 0x40, n & 0xff);
	outb(&f, 0x40, n >> 8);
	l = 8;
	assert_int_equal(status(&f, 0), 0xf4);          /* OUT high, NULL */
	for (k = 1; k <= 1000; k++) {
		uint64_t e = i8254_next_event_ns(&f.pit);

		assert_int_equal(e, ns_of(l + k * n));
		f.now = e - 1;
		i8254_update(&f.pit);
		assert_int_equal(f.pulses, k - 1);
		f.now = e;
		i8254_update(&f.pit);
		assert_int_equal(f.pulses, k);
	}
	/* count and OUT inside a period: n, n-1, ..., 2, 1 (OUT low), n */
	l += 1000 * n;
	at_tick(&f, l);
	assert_int_equal(latch_read(&f, 0), n);
	at_tick(&f, l + 1);
	assert_int_equal(latch_read(&f, 0), n - 1);
	at_tick(&f, l + n - 2);
	assert_int_equal(latch_read(&f, 0), 2);
	assert_true(i8254_out(&f.pit, 0));
	at_tick(&f, l + n - 1);
	assert_int_equal(latch_read(&f, 0), 1);
	assert_false(i8254_out(&f.pit, 0));
	assert_int_equal(status(&f, 0), 0x34);          /* OUT low, loaded */
	at_tick(&f, l + n);
	assert_int_equal(latch_read(&f, 0), n);
	assert_true(i8254_out(&f.pit, 0));
	assert_int_equal(f.pulses, 1001);
	/* a late update coalesces missed periods into one pulse */
	f.now = ns_of(l + 10 * n + 5);
	i8254_update(&f.pit);
	assert_int_equal(f.pulses, 1002);
	assert_int_equal(i8254_next_event_ns(&f.pit), ns_of(l + 11 * n));
	/* port accesses also deliver due edges */
	f.now = ns_of(l + 11 * n);
	(void)inb(&f, 0x61);
	assert_int_equal(f.pulses, 1003);
	/* pit_shutdown(): 0x30 then 0, 0 -> mode 0, 65536, one edge */
	outb(&f, 0x43, 0x30);
	assert_false(i8254_out(&f.pit, 0));
	assert_int_equal(i8254_next_event_ns(&f.pit), I8254_NO_EVENT);
	outb(&f, 0x40, 0);
	outb(&f, 0x40, 0);
	k = tick_of(f.now);
	assert_int_equal(i8254_next_event_ns(&f.pit), ns_of(k + 1 + 65536));
	f.now = ns_of(k + 1 + 65536 * 5);
	i8254_update(&f.pit);
	assert_int_equal(f.pulses, 1004);
	assert_int_equal(i8254_next_event_ns(&f.pit), I8254_NO_EVENT);
}

/* Linux's oneshot clockevent: 0x38 (mode 4), delta; IRQ at delta + 1. */
static void test_channel0_mode4_oneshot(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 0);
	at_tick(&f, 20);
	f.pulses = 0;
	outb(&f, 0x43, 0x38);
	assert_true(i8254_out(&f.pit, 0));
	outb(&f, 0x40, 100);
	outb(&f, 0x40, 0);              /* loaded at 21 */
	assert_int_equal(i8254_next_event_ns(&f.pit), ns_of(21 + 101));
	at_tick(&f, 121);               /* count 0: OUT strobes low */
	assert_int_equal(latch_read(&f, 0), 0);
	assert_false(i8254_out(&f.pit, 0));
	assert_int_equal(f.pulses, 0);
	at_tick(&f, 122);
	assert_true(i8254_out(&f.pit, 0));
	assert_int_equal(f.pulses, 1);
	assert_int_equal(i8254_next_event_ns(&f.pit), I8254_NO_EVENT);
	assert_int_equal(latch_read(&f, 0), 0xffff);
	/* re-arming: a new count restarts */
	outb(&f, 0x40, 10);
	outb(&f, 0x40, 0);
	assert_int_equal(i8254_next_event_ns(&f.pit), ns_of(123 + 11));
	/* mode 0 on channel 0: exactly one edge, at the terminal count */
	at_tick(&f, 500);
	program(&f, 0, 0, 3);
	assert_int_equal(f.pulses, 2);  /* the re-armed one fired at 134 */
	assert_int_equal(i8254_next_event_ns(&f.pit), ns_of(501 + 3));
	at_tick(&f, 503);
	i8254_update(&f.pit);
	assert_int_equal(f.pulses, 2);
	at_tick(&f, 504);
	i8254_update(&f.pit);
	assert_int_equal(f.pulses, 3);
	at_tick(&f, 504 + 65536 * 3);
	i8254_update(&f.pit);
	assert_int_equal(f.pulses, 3);
	/* mode 0: the first byte of a 2-byte count stops counting */
	at_tick(&f, 1000000);
	program(&f, 0, 0, 1000);
	at_tick(&f, 1000500);
	outb(&f, 0x40, 0x10);
	assert_int_equal(i8254_next_event_ns(&f.pit), I8254_NO_EVENT);
	assert_false(i8254_out(&f.pit, 0));
	at_tick(&f, 1000600);
	assert_int_equal(latch_read(&f, 0), 501);       /* frozen */
	outb(&f, 0x40, 0x00);           /* 0x0010: loaded at 1000601 */
	assert_int_equal(i8254_next_event_ns(&f.pit), ns_of(1000601 + 16));
}

static void test_mode3_square_wave(void **state)
{
	struct fake f;
	unsigned p;

	(void)state;
	/* even count: high n/2, low n/2, counting down by two */
	fake_init(&f, 0);
	at_tick(&f, 10);
	program(&f, 0, 3, 8);           /* loaded at 11 */
	for (p = 0; p < 16; p++) {
		static const unsigned cnt[8] = { 8, 6, 4, 2, 8, 6, 4, 2 };

		at_tick(&f, 11 + p);
		assert_int_equal(i8254_out(&f.pit, 0), (p % 8) < 4);
		assert_int_equal(latch_read(&f, 0), cnt[p % 8]);
	}
	/* odd count: high (n+1)/2, low (n-1)/2 */
	fake_init(&f, 0);
	at_tick(&f, 10);
	program(&f, 0, 3, 5);
	for (p = 0; p < 10; p++) {
		at_tick(&f, 11 + p);
		assert_int_equal(i8254_out(&f.pit, 0), (p % 5) < 3);
	}
	/* one IRQ per period, on the rising edge */
	f.pulses = 0;
	fake_init(&f, 0);
	at_tick(&f, 10);
	program(&f, 0, 3, 1000);
	f.pulses = 0;
	assert_int_equal(i8254_next_event_ns(&f.pit), ns_of(11 + 1000));
	at_tick(&f, 11 + 999);
	i8254_update(&f.pit);
	assert_int_equal(f.pulses, 0);
	at_tick(&f, 11 + 1000);
	i8254_update(&f.pit);
	assert_int_equal(f.pulses, 1);
	assert_int_equal(i8254_next_event_ns(&f.pit), ns_of(11 + 2000));
	/* mode 7 is mode 3 (status shows what was written) */
	program(&f, 1, 7, 4);
	assert_int_equal(status(&f, 1) & 0x0e, 0x0e);
}

static void test_latch_and_access_modes(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 0);
	at_tick(&f, 100);
	program(&f, 1, 2, 1000);        /* loaded at 101 */
	at_tick(&f, 201);
	outb(&f, 0x43, 0x40);           /* latch ch1: 900 */
	at_tick(&f, 301);
	outb(&f, 0x43, 0x40);           /* ignored: a latch is pending */
	assert_int_equal(inb(&f, 0x41), 900 & 0xff);
	at_tick(&f, 401);
	assert_int_equal(inb(&f, 0x41), 900 >> 8);
	assert_int_equal(latch_read(&f, 1), 700);       /* a fresh latch */
	/* LSB only */
	outb(&f, 0x43, 0x54);           /* ch1, LSB, mode 2 */
	outb(&f, 0x41, 200);            /* count 200, loaded at 402 */
	at_tick(&f, 412);
	assert_int_equal(inb(&f, 0x41), 190);
	assert_int_equal(inb(&f, 0x41), 190);
	outb(&f, 0x43, 0x40);
	at_tick(&f, 500);
	assert_int_equal(inb(&f, 0x41), 190);           /* latched, one read */
	assert_int_equal(inb(&f, 0x41), 200 - 98);
	/* MSB only */
	outb(&f, 0x43, 0x64);           /* ch1, MSB, mode 2 */
	outb(&f, 0x41, 0x02);           /* count 0x200, loaded at 501 */
	at_tick(&f, 501 + 0x101);
	assert_int_equal(inb(&f, 0x41), 0x00);          /* 0x0ff */
	at_tick(&f, 501 + 0xff);
	assert_int_equal(inb(&f, 0x41), 0x01);          /* 0x101 */
	/* LSB/MSB live reads alternate */
	outb(&f, 0x43, 0x74);
	outb(&f, 0x41, 0x34);
	outb(&f, 0x41, 0x12);
	at_tick(&f, 2000);
	{
		uint64_t c = 0x1234 - (2000 - (501 + 0xff + 1));

		assert_int_equal(inb(&f, 0x41), c & 0xff);
		assert_int_equal(inb(&f, 0x41), c >> 8);
	}
	/* a control word drops a pending latch */
	outb(&f, 0x43, 0x40);
	outb(&f, 0x43, 0x74);
	outb(&f, 0x41, 0x10);
	outb(&f, 0x41, 0x00);
	at_tick(&f, 2003);
	assert_int_equal(inb(&f, 0x41), 14);
}

static void test_read_back(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 0);
	at_tick(&f, 50);
	program(&f, 0, 2, 300);         /* loaded at 51 */
	program(&f, 2, 0, 0x1234);      /* gate low: held */
	at_tick(&f, 61);
	/* count + status of channels 0 and 2 */
	outb(&f, 0x43, 0xc0 | 0x08 | 0x02);
	at_tick(&f, 71);
	assert_int_equal(inb(&f, 0x40), 0xb4);          /* OUT, LSB/MSB, mode 2 */
	assert_int_equal(inb(&f, 0x40), 290 & 0xff);
	assert_int_equal(inb(&f, 0x40), 290 >> 8);
	assert_int_equal(inb(&f, 0x42), 0x30);          /* OUT low, mode 0, loaded */
	assert_int_equal(inb(&f, 0x42), 0x34);
	assert_int_equal(inb(&f, 0x42), 0x12);
	/* count only, status only */
	outb(&f, 0x43, 0xd2);
	outb(&f, 0x43, 0xe2);           /* status latched after the count... */
	assert_int_equal(inb(&f, 0x40), 0xb4);          /* ...but read first */
	assert_int_equal(inb(&f, 0x40), 280 & 0xff);
	assert_int_equal(inb(&f, 0x40), 280 >> 8);
	/* NULL COUNT: after a control word, until the count is loaded */
	outb(&f, 0x43, 0x34);
	assert_int_equal(status(&f, 0) & 0x40, 0x40);
	outb(&f, 0x40, 10);
	assert_int_equal(status(&f, 0) & 0x40, 0x40);
	outb(&f, 0x40, 0);
	assert_int_equal(status(&f, 0) & 0x40, 0x40);
	at_tick(&f, 72);
	assert_int_equal(status(&f, 0) & 0x40, 0x00);
	/* a read-back of no channel does nothing; BCD bit shows */
	outb(&f, 0x43, 0xc0);
	outb(&f, 0x43, 0x71);           /* ch1 LSB/MSB mode 0 BCD */
	assert_int_equal(status(&f, 1) & 0x3f, 0x31);
}

static void test_gate_modes(void **state)
{
	struct fake f;

	(void)state;
	/* mode 2 on channel 2: gate low forces OUT high, rise reloads */
	fake_init(&f, 0);
	at_tick(&f, 10);
	outb(&f, 0x61, 0x01);
	program(&f, 2, 2, 10);          /* loaded at 11 */
	at_tick(&f, 19);
	assert_int_equal(latch_read(&f, 2), 2);
	at_tick(&f, 20);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0);      /* count 1: OUT low */
	outb(&f, 0x61, 0x00);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0x20);   /* forced high */
	at_tick(&f, 100);
	assert_int_equal(latch_read(&f, 2), 1);         /* stopped */
	outb(&f, 0x61, 0x01);           /* reload at 101 */
	at_tick(&f, 101);
	assert_int_equal(latch_read(&f, 2), 10);
	at_tick(&f, 105);
	assert_int_equal(latch_read(&f, 2), 6);
	/* mode 1: retriggerable one-shot started by the gate */
	outb(&f, 0x61, 0x00);
	at_tick(&f, 200);
	program(&f, 2, 1, 5);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0x20);
	at_tick(&f, 300);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0x20);   /* no trigger yet */
	assert_int_equal(status(&f, 2) & 0x40, 0x40);   /* count not loaded */
	outb(&f, 0x61, 0x01);           /* trigger: loaded at 301 */
	at_tick(&f, 301);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0);
	at_tick(&f, 305);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0);
	outb(&f, 0x61, 0x00);           /* gate low: no effect in mode 1 */
	at_tick(&f, 306);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0x20);
	outb(&f, 0x61, 0x01);           /* retrigger at 306 -> 307 */
	at_tick(&f, 311);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0);
	at_tick(&f, 312);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0x20);
	/* mode 5: strobe N + 1 clocks after the trigger */
	outb(&f, 0x61, 0x00);
	program(&f, 2, 5, 3);
	at_tick(&f, 400);
	outb(&f, 0x61, 0x01);           /* loaded at 401 */
	at_tick(&f, 403);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0x20);
	at_tick(&f, 404);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0);
	at_tick(&f, 405);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0x20);
	/* mode 4 with the gate low: held, then counts */
	outb(&f, 0x61, 0x00);
	program(&f, 2, 4, 3);
	at_tick(&f, 500);
	assert_int_equal(latch_read(&f, 2), 3);
	outb(&f, 0x61, 0x01);
	at_tick(&f, 503);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0);
	/* mode 3 gate low: OUT high, resumes with a full period */
	program(&f, 2, 3, 4);           /* loaded at 504 */
	at_tick(&f, 506);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0);     /* low half */
	outb(&f, 0x61, 0x00);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0x20);
	outb(&f, 0x61, 0x01);           /* reload at 507 */
	at_tick(&f, 508);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0x20);
	at_tick(&f, 509);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0);
}

static void test_mode2_mode3_new_count_at_boundary(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 0);
	at_tick(&f, 10);
	program(&f, 0, 2, 100);         /* loaded at 11 */
	f.pulses = 0;
	at_tick(&f, 50);
	outb(&f, 0x40, 20);
	outb(&f, 0x40, 0);              /* new count: at the end of this period */
	assert_int_equal(status(&f, 0) & 0x40, 0x40);
	assert_int_equal(latch_read(&f, 0), 61);
	assert_int_equal(i8254_next_event_ns(&f.pit), ns_of(111));
	at_tick(&f, 111);
	i8254_update(&f.pit);
	assert_int_equal(f.pulses, 1);
	assert_int_equal(status(&f, 0) & 0x40, 0);
	assert_int_equal(latch_read(&f, 0), 20);
	assert_int_equal(i8254_next_event_ns(&f.pit), ns_of(131));
	/* mode 3: at the end of the current half period */
	at_tick(&f, 1000);
	program(&f, 0, 3, 100);         /* loaded at 1001, falls at 1051 */
	at_tick(&f, 1020);
	outb(&f, 0x40, 10);
	outb(&f, 0x40, 0);
	assert_true(i8254_out(&f.pit, 0));
	at_tick(&f, 1050);
	assert_true(i8254_out(&f.pit, 0));
	at_tick(&f, 1051);              /* new count, starting its low half */
	assert_false(i8254_out(&f.pit, 0));
	assert_int_equal(i8254_next_event_ns(&f.pit), ns_of(1056));
	at_tick(&f, 1056);
	assert_true(i8254_out(&f.pit, 0));
	at_tick(&f, 1061);
	assert_false(i8254_out(&f.pit, 0));
	/* written in the low half: switches at the next rising edge */
	at_tick(&f, 2000);
	program(&f, 0, 3, 100);         /* 2001 high, 2051 low, 2101 rise */
	at_tick(&f, 2060);
	outb(&f, 0x40, 6);
	outb(&f, 0x40, 0);
	assert_int_equal(i8254_next_event_ns(&f.pit), ns_of(2101));
	at_tick(&f, 2101);
	assert_true(i8254_out(&f.pit, 0));
	assert_int_equal(i8254_next_event_ns(&f.pit), ns_of(2107));
}

static void test_bcd(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 0);
	at_tick(&f, 10);
	outb(&f, 0x43, 0xb1);           /* ch2, LSB/MSB, mode 0, BCD */
	outb(&f, 0x42, 0x00);
	outb(&f, 0x42, 0x10);           /* 1000 decimal, held (gate low) */
	outb(&f, 0x61, 0x01);           /* counting from 10 */
	at_tick(&f, 11);
	assert_int_equal(latch_read(&f, 2), 0x0999);
	at_tick(&f, 10 + 1000);
	assert_int_equal(latch_read(&f, 2), 0x0000);
	assert_int_equal(inb(&f, 0x61) & 0x20, 0x20);
	at_tick(&f, 10 + 1001);
	assert_int_equal(latch_read(&f, 2), 0x9999);    /* wraps at 10000 */
	/* BCD 0 = 10000; mode 2 */
	outb(&f, 0x43, 0x35);
	outb(&f, 0x40, 0);
	outb(&f, 0x40, 0);
	at_tick(&f, 2000);
	assert_int_equal(i8254_next_event_ns(&f.pit), ns_of(1012 + 10000));
	assert_int_equal(latch_read(&f, 0), 0x9012);    /* 10000 - 988 */
	/* invalid BCD digits are reduced, never out of range */
	outb(&f, 0x43, 0x35);
	outb(&f, 0x40, 0xff);
	outb(&f, 0x40, 0xff);           /* 16665 -> 6665 */
	at_tick(&f, 2001);
	assert_int_equal(latch_read(&f, 0), 0x6665);
}

static void test_control_word_raises_out0(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 0);
	at_tick(&f, 10);
	program(&f, 0, 0, 1000);        /* OUT low while counting */
	f.pulses = 0;
	outb(&f, 0x43, 0x34);           /* mode 2: OUT high at once = an edge */
	assert_int_equal(f.pulses, 1);
	outb(&f, 0x43, 0x34);           /* already high: none */
	assert_int_equal(f.pulses, 1);
	outb(&f, 0x43, 0x30);           /* low */
	outb(&f, 0x43, 0x38);           /* high again */
	assert_int_equal(f.pulses, 2);
	/* a wide write is byte writes to port, port + 1: 0x40 and 0x41 */
	outb(&f, 0x43, 0x34);
	outb(&f, 0x43, 0x54);           /* ch1: LSB only, mode 2 */
	assert_int_equal(i8254_write(&f.pit, 0, 2, 0x0a02), 0);
	outb(&f, 0x40, 0x03);           /* ch0 count 0x0302 */
	at_tick(&f, 11);
	assert_int_equal(latch_read(&f, 0), 0x302);
	outb(&f, 0x43, 0x40);
	assert_int_equal(inb(&f, 0x41), 10);
}

static void test_port61(void **state)
{
	struct fake f;
	unsigned i, toggles = 0;
	uint8_t prev;

	(void)state;
	fake_init(&f, 0);
	outb(&f, 0x61, 0xff);
	assert_int_equal(inb(&f, 0x61) & 0xcf, 0x0f);   /* bits 6-7 read 0 */
	outb(&f, 0x61, 0x0c);
	assert_int_equal(inb(&f, 0x61) & 0x0f, 0x0c);
	/* refresh toggle: every 15.085 us */
	prev = inb(&f, 0x61) & 0x10;
	for (i = 0; i < 100; i++) {
		f.now += 15085;
		if ((inb(&f, 0x61) & 0x10) != prev)
			toggles++;
		prev = inb(&f, 0x61) & 0x10;
	}
	assert_int_equal(toggles, 100);
	/* reads at the same time see the same bit */
	prev = inb(&f, 0x61) & 0x10;
	assert_int_equal(inb(&f, 0x61) & 0x10, prev);
	f.now += 15084 - f.now % 15085;         /* just before the next edge */
	assert_int_equal(inb(&f, 0x61) & 0x10, prev);
}

/* A guest whose reads are slower than the refresh edges (each read is an
 * exit: ~30.26 us apart under Bochs) still sees the bit change on every
 * read; a bit taken from the time alone would alias and look stuck. */
static void test_port61_refresh_slow_reader(void **state)
{
	struct fake f;
	uint8_t prev;

	(void)state;
	fake_init(&f, 1000);
	prev = inb(&f, 0x61) & 0x10;
	for (unsigned i = 0; i < 33; i++) {
		f.now += 30260;                 /* two edges, and a bit more */
		assert_int_not_equal(inb(&f, 0x61) & 0x10, prev);
		prev = inb(&f, 0x61) & 0x10;
	}
	/* a reset starts over with bit 4 clear */
	i8254_reset(&f.pit);
	assert_int_equal(inb(&f, 0x61) & 0x10, 0);
}

static void test_wide_and_bad_accesses(void **state)
{
	struct fake f;
	struct i8254 snap;
	uint64_t v;
	unsigned sz;

	(void)state;
	fake_init(&f, 0);
	/* 4-byte write at 0x40: counters 0-2 and the control port */
	assert_int_equal(i8254_write(&f.pit, 0, 4, 0x00000000), 0);
	v = 0;
	assert_int_equal(i8254_read(&f.pit, 2, 2, &v), 0);
	memcpy(&snap, &f.pit, sizeof(snap));
	for (sz = 0; sz <= 8; sz++) {
		v = 0x55;
		if (sz != 1 && sz != 2 && sz != 4) {
			assert_int_equal(i8254_read(&f.pit, 0, sz, &v), -1);
			assert_int_equal(i8254_write(&f.pit, 0, sz, 0), -1);
		}
		if (sz > 1) {
			assert_int_equal(i8254_read(&f.pit, 3, sz, &v), -1);
			assert_int_equal(i8254_port61_read(&f.pit, 0, sz, &v), -1);
			assert_int_equal(i8254_port61_write(&f.pit, 0, sz, 0), -1);
		}
		assert_int_equal(i8254_read(&f.pit, 4, sz, &v), -1);
		assert_int_equal(i8254_write(&f.pit, 1ULL << 63, sz, 0), -1);
		assert_int_equal(i8254_port61_read(&f.pit, 1, sz, &v), -1);
		assert_int_equal(v, 0x55);
	}
	assert_memory_equal(&snap, &f.pit, sizeof(snap));
	assert_int_equal(i8254_read(&f.pit, 0, 1, NULL), -1);
	assert_int_equal(i8254_read(NULL, 0, 1, &v), -1);
	assert_int_equal(i8254_write(NULL, 0, 1, 0), -1);
	assert_int_equal(i8254_next_event_ns(NULL), I8254_NO_EVENT);
	assert_false(i8254_out(NULL, 0));
	assert_false(i8254_out(&f.pit, 3));
	i8254_update(NULL);
	i8254_reset(NULL);
	/* no time source: time stands at 0 */
	{
		struct i8254 p;
		struct irq_line none = { 0 };

		i8254_init(&p, none, NULL, NULL);
		assert_int_equal(i8254_next_event_ns(&p), ns_of(65537));
	}
	/* time far in the future: no overflow */
	fake_init(&f, UINT64_MAX - 1000);
	program(&f, 0, 2, 2);
	(void)i8254_next_event_ns(&f.pit);
	f.now = UINT64_MAX;
	i8254_update(&f.pit);
}

static void test_reset(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 0);
	at_tick(&f, 100);
	outb(&f, 0x61, 0x03);
	program(&f, 0, 2, 10);
	program(&f, 2, 0, 10);
	outb(&f, 0x43, 0x00);           /* pending latch */
	i8254_ops.reset(&f.pit);
	assert_int_equal(inb(&f, 0x61) & 0x0f, 0);
	assert_int_equal(status(&f, 0), 0xf6);
	assert_int_equal(i8254_next_event_ns(&f.pit), ns_of(101 + 65536));
	at_tick(&f, 102);
	assert_int_equal(latch_read(&f, 0), 0xfffe);    /* counting by two */
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

static void random_run(struct fake *f, uint64_t seed)
{
	unsigned i;

	fake_init(f, 1000);
	xs_state = seed;
	for (i = 0; i < 100000; i++) {
		uint64_t r = xorshift(), v = xorshift();
		unsigned ch = (unsigned)(v >> 8) % 3;
		uint64_t e;
		unsigned before;
		int ret;

		switch (r % 12) {
		case 0: case 1:
			/* a sensible program of a random channel */
			program(f, ch, (unsigned)(v % 6),
				(unsigned)((v >> 16) % 2 ? (v >> 20) % 64 + 1 : (v >> 20) & 0xffff));
			break;
		case 2:
			outb(f, 0x43, (uint8_t)v);      /* any control byte */
			break;
		case 3:
			outb(f, 0x40 + ch, (uint8_t)(v >> 24));
			break;
		case 4: case 5: {
			uint8_t b = inb(f, 0x40 + ch);

			(void)b;
			break;
		}
		case 6:
			outb(f, 0x61, (uint8_t)(v >> 32));
			break;
		case 7:
			assert_int_equal(inb(f, 0x61) & 0xc0, 0);
			break;
		case 8:
			f->now += (v >> 40) % 200000;   /* up to ~240 clocks */
			i8254_update(&f->pit);
			break;
		case 9:
			/* jump exactly to the next event: one pulse, not before */
			e = i8254_next_event_ns(&f->pit);
			if (e == I8254_NO_EVENT || e - f->now > 100000000)
				break;
			assert_true(e > f->now);
			before = f->pulses;
			if (e - 1 > f->now) {
				f->now = e - 1;
				i8254_update(&f->pit);
				assert_int_equal(f->pulses, before);
			}
			f->now = e;
			i8254_update(&f->pit);
			assert_int_equal(f->pulses, before + 1);
			break;
		case 10: {
			/* odd sizes and offsets */
			unsigned size = (unsigned)(v % 6);
			uint64_t off = (v >> 3) % 6, got;
			bool ok = (size == 1 || size == 2 || size == 4) && off < 4 &&
				  size <= 4 - off;

			if (v & (1u << 20))
				ret = i8254_read(&f->pit, off, size, &got);
			else
				ret = i8254_write(&f->pit, off, size, v >> 32);
			assert_int_equal(ret, ok ? 0 : -1);
			break;
		}
		default:
			if ((v >> 50) % 1024 == 0)
				i8254_reset(&f->pit);
			break;
		}
		/* invariants */
		e = i8254_next_event_ns(&f->pit);
		assert_true(e == I8254_NO_EVENT || e > f->now);
		for (ch = 0; ch < 3; ch++) {
			const struct i8254_channel *c = &f->pit.ch[ch];

			assert_true(c->mode < 8 && c->rw >= 1 && c->rw <= 3);
			assert_true(c->cr >= 1 && c->cr <= 65536);
			assert_true(c->n >= 1 && c->n <= 65536);
			assert_true(c->state <= I8254_HOLD);
			assert_true(c->latch_state <= 3);
			assert_int_equal(c->gate, ch == 2 ? (f->pit.port61 & 1) : 1);
			if (c->bcd && c->cr_valid)
				assert_true(c->cr <= 10000);
		}
		assert_false(f->level);         /* pulses always end low */
	}
}

static void test_random_sequences(void **state)
{
	static struct fake a, b;

	(void)state;
	random_run(&a, 0x8254825482548254ULL);
	assert_true(a.pulses > 100);
	/* deterministic: the same seed gives the same final state */
	random_run(&b, 0x8254825482548254ULL);
	assert_int_equal(a.pulses, b.pulses);
	assert_int_equal(a.now, b.now);
	assert_memory_equal(a.pit.ch, b.pit.ch, sizeof(a.pit.ch));
	random_run(&b, 0x1122334455667788ULL);
	assert_true(b.pulses > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops_and_reset_state),
		cmocka_unit_test(test_linux_pit_calibrate_tsc),
		cmocka_unit_test(test_linux_quick_pit_calibrate),
		cmocka_unit_test(test_channel0_mode2_periodic),
		cmocka_unit_test(test_channel0_mode4_oneshot),
		cmocka_unit_test(test_mode3_square_wave),
		cmocka_unit_test(test_latch_and_access_modes),
		cmocka_unit_test(test_read_back),
		cmocka_unit_test(test_gate_modes),
		cmocka_unit_test(test_mode2_mode3_new_count_at_boundary),
		cmocka_unit_test(test_bcd),
		cmocka_unit_test(test_control_word_raises_out0),
		cmocka_unit_test(test_port61),
		cmocka_unit_test(test_port61_refresh_slow_reader),
		cmocka_unit_test(test_wide_and_bad_accesses),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_random_sequences),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
