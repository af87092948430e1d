/* Host unit tests for the MC146818 RTC / CMOS model (devices/cmos.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "devices/cmos.h"

#define T_LEAP   1709214359ULL  /* 2024-02-29 13:45:59 Thursday */
#define T_Y2K    946684799ULL   /* 1999-12-31 23:59:59 Friday */
#define T_2038   2147483647ULL  /* 2038-01-19 03:14:07 Tuesday */

/* ------------------------------------------------------------ fixture */

struct fake {
	struct cmos c;
	uint64_t sec;
	uint32_t nsec;
	bool irq;
	unsigned irq_raises;
};

static void fake_now(void *opaque, uint64_t *sec, uint32_t *nsec)
{
	struct fake *f = opaque;

	*sec = f->sec;
	*nsec = f->nsec;
}

static void fake_irq(void *opaque, unsigned line, bool level)
{
	struct fake *f = opaque;

	assert_int_equal(line, 8);
	assert_true(level != f->irq);
	f->irq = level;
	if (level)
		f->irq_raises++;
}

static void fake_init(struct fake *f, uint64_t sec, uint32_t nsec)
{
	struct irq_line l = { .set = fake_irq, .opaque = f, .line = 8 };

	memset(f, 0, sizeof(*f));
	f->sec = sec;
	f->nsec = nsec;
	cmos_init(&f->c, l, fake_now, f);
}

static void advance(struct fake *f, uint64_t ns)
{
	uint64_t t = f->nsec + ns;

	f->sec += t / 1000000000u;
	f->nsec = (uint32_t)(t % 1000000000u);
}

static void outb(struct fake *f, unsigned port, uint8_t v)
{
	assert_int_equal(cmos_ops.write(&f->c, port - 0x70, 1, v), 0);
}

static uint8_t inb(struct fake *f, unsigned port)
{
	uint64_t v = 0x777;

	assert_int_equal(cmos_ops.read(&f->c, port - 0x70, 1, &v), 0);
	assert_true(v <= 0xff);
	return (uint8_t)v;
}

/* Linux CMOS_READ / CMOS_WRITE (NMI left enabled). */
static uint8_t rd(struct fake *f, unsigned reg)
{
	outb(f, 0x70, (uint8_t)reg);
	return inb(f, 0x71);
}

static void wr(struct fake *f, unsigned reg, uint8_t v)
{
	outb(f, 0x70, (uint8_t)reg);
	outb(f, 0x71, v);
}

static unsigned bcd(uint8_t b)
{
	return (b >> 4) * 10u + (b & 0xf);
}

struct tm6 {
	unsigned sec, min, hour, mday, mon, year;
};

/* Linux mc146818_get_time(): UIP-avoiding read, BCD unless DM, century. */
static struct tm6 linux_get_time(struct fake *f)
{
	struct tm6 t;
	uint8_t ctrl, century;
	unsigned tries;

	for (tries = 0; tries < 100; tries++) {
		uint8_t s = rd(f, 0);

		if (rd(f, 0x0a) & 0x80) {
			advance(f, 1000000);    /* mdelay(1) */
			continue;
		}
		if (s != rd(f, 0))
			continue;
		t.sec = rd(f, 0);
		t.min = rd(f, 2);
		t.hour = rd(f, 4);
		t.mday = rd(f, 7);
		t.mon = rd(f, 8);
		t.year = rd(f, 9);
		ctrl = rd(f, 0x0b);
		century = rd(f, 0x32);
		if (rd(f, 0x0a) & 0x80)
			continue;
		if (!(ctrl & 0x04)) {
			t.sec = bcd((uint8_t)t.sec);
			t.min = bcd((uint8_t)t.min);
			t.hour = bcd((uint8_t)t.hour);
			t.mday = bcd((uint8_t)t.mday);
			t.mon = bcd((uint8_t)t.mon);
			t.year = bcd((uint8_t)t.year);
			century = (uint8_t)bcd(century);
		}
		t.year += century * 100u;
		return t;
	}
	fail_msg("UIP never cleared");
	return t;
}

/* Linux mc146818_set_time(): SET + divider reset around the writes. */
static void linux_set_time(struct fake *f, const struct tm6 *t)
{
	uint8_t ctrl = rd(f, 0x0b), freq = rd(f, 0x0a);
	bool bin = ctrl & 0x04;
	unsigned yy = t->year % 100, cent = t->year / 100;
#define ENC(v) ((uint8_t)(bin ? (v) : (((v) / 10) << 4 | (v) % 10)))

	wr(f, 0x0b, ctrl | 0x80);
	wr(f, 0x0a, freq | 0x70);
	wr(f, 9, ENC(yy));
	wr(f, 8, ENC(t->mon));
	wr(f, 7, ENC(t->mday));
	wr(f, 4, ENC(t->hour));
	wr(f, 2, ENC(t->min));
	wr(f, 0, ENC(t->sec));
	wr(f, 0x32, ENC(cent));
	wr(f, 0x0b, ctrl);
	wr(f, 0x0a, freq);
#undef ENC
}

/* ------------------------------------------------------------ tests */

static void test_ops_and_reset_values(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, T_LEAP, 0);
	assert_string_equal(cmos_ops.name, "cmos");
	assert_ptr_equal(cmos_ops.read, cmos_read);
	assert_ptr_equal(cmos_ops.write, cmos_write);
	assert_ptr_equal(cmos_ops.reset, cmos_reset);
	assert_int_equal(rd(&f, 0x0a), 0x26);
	assert_int_equal(rd(&f, 0x0b), 0x02);
	assert_int_equal(rd(&f, 0x0c), 0x00);
	assert_int_equal(rd(&f, 0x0d), 0x80);
	assert_int_equal(inb(&f, 0x70), 0xff);          /* index is write-only */
	assert_false(f.irq);
	assert_false(cmos_nmi_masked(&f.c));
}

static void test_bcd_24h_time(void **state)
{
	struct fake f;
	struct tm6 t;

	(void)state;
	fake_init(&f, T_LEAP, 500000000);
	assert_int_equal(rd(&f, 0), 0x59);
	assert_int_equal(rd(&f, 2), 0x45);
	assert_int_equal(rd(&f, 4), 0x13);
	assert_int_equal(rd(&f, 6), 0x05);              /* Thursday */
	assert_int_equal(rd(&f, 7), 0x29);
	assert_int_equal(rd(&f, 8), 0x02);
	assert_int_equal(rd(&f, 9), 0x24);
	assert_int_equal(rd(&f, 0x32), 0x20);
	/* the clock ticks with the host: into March (leap year) */
	advance(&f, (10ULL * 3600 + 14 * 60 + 1) * 1000000000ULL);
	t = linux_get_time(&f);
	assert_int_equal(t.year, 2024);
	assert_int_equal(t.mon, 3);
	assert_int_equal(t.mday, 1);
	assert_int_equal(t.hour, 0);
	assert_int_equal(t.min, 0);
	assert_int_equal(t.sec, 0);
	assert_int_equal(rd(&f, 6), 0x06);
	/* century rollover */
	fake_init(&f, T_Y2K, 0);
	assert_int_equal(rd(&f, 9), 0x99);
	assert_int_equal(rd(&f, 0x32), 0x19);
	assert_int_equal(rd(&f, 6), 0x06);
	advance(&f, 1000000000);
	assert_int_equal(rd(&f, 9), 0x00);
	assert_int_equal(rd(&f, 0x32), 0x20);
	assert_int_equal(rd(&f, 8), 0x01);
	assert_int_equal(rd(&f, 7), 0x01);
	assert_int_equal(rd(&f, 6), 0x07);              /* Saturday */
	assert_int_equal(rd(&f, 4), 0x00);
}

static void test_binary_and_12h(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, T_2038, 0);
	wr(&f, 0x0b, 0x06);             /* binary, 24h */
	assert_int_equal(rd(&f, 0), 7);
	assert_int_equal(rd(&f, 2), 14);
	assert_int_equal(rd(&f, 4), 3);
	assert_int_equal(rd(&f, 6), 3);
	assert_int_equal(rd(&f, 7), 19);
	assert_int_equal(rd(&f, 8), 1);
	assert_int_equal(rd(&f, 9), 38);
	assert_int_equal(rd(&f, 0x32), 20);
	/* 12-hour, binary: 3 AM */
	wr(&f, 0x0b, 0x04);
	assert_int_equal(rd(&f, 4), 3);
	/* 1 PM, BCD 12h: 0x81; binary 12h: 0x81 */
	fake_init(&f, T_LEAP, 0);
	wr(&f, 0x0b, 0x00);
	assert_int_equal(rd(&f, 4), 0x81);
	wr(&f, 0x0b, 0x04);
	assert_int_equal(rd(&f, 4), 0x81);
	/* midnight = 12 AM, noon = 12 PM */
	fake_init(&f, 1709251200ULL, 0);        /* 2024-03-01 00:00:00 */
	wr(&f, 0x0b, 0x00);
	assert_int_equal(rd(&f, 4), 0x12);
	wr(&f, 0x0b, 0x04);
	assert_int_equal(rd(&f, 4), 12);
	advance(&f, 12ULL * 3600 * 1000000000ULL);
	assert_int_equal(rd(&f, 4), 0x8c);
	wr(&f, 0x0b, 0x00);
	assert_int_equal(rd(&f, 4), 0x92);
	advance(&f, 11ULL * 3600 * 1000000000ULL);
	assert_int_equal(rd(&f, 4), 0x91);              /* 11 PM */
	/* writing hours in 12-hour mode: 12 AM is 0, 12 PM is 12 */
	wr(&f, 4, 0x12);
	wr(&f, 0x0b, 0x02);
	assert_int_equal(rd(&f, 4), 0x00);
	wr(&f, 0x0b, 0x00);
	wr(&f, 4, 0x92);
	wr(&f, 0x0b, 0x02);
	assert_int_equal(rd(&f, 4), 0x12);
	wr(&f, 0x0b, 0x00);
	wr(&f, 4, 0x87);                /* 7 PM */
	wr(&f, 0x0b, 0x06);
	assert_int_equal(rd(&f, 4), 19);
}

static void test_linux_set_time(void **state)
{
	struct fake f;
	struct tm6 t = { .sec = 30, .min = 5, .hour = 22, .mday = 15,
			 .mon = 6, .year = 2031 }, g;

	(void)state;
	fake_init(&f, T_LEAP, 123456789);
	linux_set_time(&f, &t);
	g = linux_get_time(&f);
	assert_memory_equal(&g, &t, sizeof(t));
	/* divider released: the first update comes 500 ms later */
	advance(&f, 499000000);
	assert_int_equal(rd(&f, 0), 0x30);
	advance(&f, 1000000);
	assert_int_equal(rd(&f, 0), 0x31);
	advance(&f, 3600ULL * 1000000000ULL);
	assert_int_equal(rd(&f, 4), 0x23);
	/* binary mode set */
	wr(&f, 0x0b, 0x06);
	t.year = 2000;
	t.mon = 1;
	t.mday = 1;
	t.hour = 0;
	linux_set_time(&f, &t);
	g = linux_get_time(&f);
	assert_memory_equal(&g, &t, sizeof(t));
	/* while SET is on, the registers are frozen and plainly stored */
	wr(&f, 0x0b, 0x86);
	advance(&f, 5ULL * 1000000000ULL);
	assert_int_equal(rd(&f, 0), 30);
	wr(&f, 0, 59);
	assert_int_equal(rd(&f, 0), 59);
	assert_int_equal(rd(&f, 0x0a) & 0x80, 0);       /* no updates: no UIP */
	wr(&f, 0x0b, 0x06);             /* SET off: runs from 00:05:59 */
	assert_int_equal(rd(&f, 0), 59);
	assert_int_equal(rd(&f, 2), 5);
	advance(&f, 1000000000);
	assert_int_equal(rd(&f, 0), 0);
	assert_int_equal(rd(&f, 2), 6);
	/* SET clears UIE */
	wr(&f, 0x0b, 0x16);
	wr(&f, 0x0b, 0x96);
	assert_int_equal(rd(&f, 0x0b), 0x86);
}

static void test_write_while_running(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, T_LEAP, 250000000);
	wr(&f, 2, 0x10);                /* minutes := 10 */
	assert_int_equal(rd(&f, 2), 0x10);
	assert_int_equal(rd(&f, 0), 0x59);
	assert_int_equal(rd(&f, 4), 0x13);
	advance(&f, 750000000);         /* the sub-second phase is kept */
	assert_int_equal(rd(&f, 0), 0x00);
	assert_int_equal(rd(&f, 2), 0x11);
	wr(&f, 9, 0x30);                /* year 2030 */
	assert_int_equal(rd(&f, 9), 0x30);
	assert_int_equal(rd(&f, 0x32), 0x20);
	wr(&f, 6, 0x01);                /* weekday: computed from the date */
	assert_int_equal(rd(&f, 6), 0x06);              /* 2030-02-29 -> Mar 1, Fri */
	assert_int_equal(rd(&f, 8), 0x03);
	/* garbage is clamped, never crashes */
	wr(&f, 8, 0xff);
	wr(&f, 7, 0x00);
	wr(&f, 4, 0xee);
	assert_int_equal(rd(&f, 8), 0x12);
	assert_int_equal(rd(&f, 7), 0x01);
	assert_int_equal(rd(&f, 4), 0x23);
}

static void test_uip(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, T_LEAP, 999755999);
	assert_int_equal(rd(&f, 0x0a), 0x26);
	f.nsec = 999756000;
	assert_int_equal(rd(&f, 0x0a), 0xa6);
	assert_int_equal(rd(&f, 0), 0x59);              /* update not done yet */
	f.nsec = 999999999;
	assert_int_equal(rd(&f, 0x0a), 0xa6);
	advance(&f, 1);
	assert_int_equal(rd(&f, 0x0a), 0x26);
	assert_int_equal(rd(&f, 0), 0x00);
	/* UIP is read-only */
	wr(&f, 0x0a, 0xa6);
	assert_int_equal(rd(&f, 0x0a), 0x26);
	/* divider stopped: no updates, no UIP, time frozen */
	f.nsec = 999900000;
	wr(&f, 0x0a, 0x06);
	assert_int_equal(rd(&f, 0x0a), 0x06);
	advance(&f, 3000000000ULL);
	assert_int_equal(rd(&f, 0), 0x00);
	wr(&f, 0x0a, 0x26);             /* restarts with the phase it had */
	advance(&f, 99999);
	assert_int_equal(rd(&f, 0), 0x00);
	advance(&f, 1);
	assert_int_equal(rd(&f, 0), 0x01);
}

static void test_index_and_nmi_mask(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, T_LEAP, 0);
	outb(&f, 0x70, 0x8f);           /* NMI off, register 0x0f */
	assert_true(cmos_nmi_masked(&f.c));
	outb(&f, 0x71, 0x5a);
	outb(&f, 0x70, 0x0f);
	assert_false(cmos_nmi_masked(&f.c));
	assert_int_equal(inb(&f, 0x71), 0x5a);
	outb(&f, 0x70, 0x80);           /* NMI off, seconds */
	assert_int_equal(inb(&f, 0x71), 0x59);
	assert_true(cmos_nmi_masked(&f.c));
	assert_false(cmos_nmi_masked(NULL));
	/* all 114 RAM bytes hold their value; 0x32 is the century */
	for (unsigned r = 0x0e; r < 0x80; r++)
		if (r != 0x32)
			wr(&f, r, (uint8_t)(r * 7));
	for (unsigned r = 0x0e; r < 0x80; r++)
		if (r != 0x32)
			assert_int_equal(rd(&f, r), (uint8_t)(r * 7));
	/* C and D are read-only; D always says "valid RAM" */
	wr(&f, 0x0d, 0x00);
	wr(&f, 0x0c, 0xff);
	assert_int_equal(rd(&f, 0x0d), 0x80);
	assert_int_equal(rd(&f, 0x0c), 0x00);
	/* alarm registers are plain storage */
	wr(&f, 1, 0x12);
	wr(&f, 3, 0x34);
	wr(&f, 5, 0xc0);
	assert_int_equal(rd(&f, 1), 0x12);
	assert_int_equal(rd(&f, 3), 0x34);
	assert_int_equal(rd(&f, 5), 0xc0);
}

static void test_status_c_and_irq8(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, T_LEAP, 100000000);
	/* PF is set at the periodic rate whether PIE is on or not */
	advance(&f, 1000000);
	assert_int_equal(rd(&f, 0x0c), 0x40);
	wr(&f, 0x0a, 0x20);             /* rate 0: no PF */
	/* UF is set by every update, interrupt or not; reading C clears */
	advance(&f, 1000000000);
	assert_int_equal(rd(&f, 0x0c), 0x10);
	assert_int_equal(rd(&f, 0x0c), 0x00);
	assert_false(f.irq);
	/* update-ended interrupt */
	wr(&f, 0x0b, 0x12);
	assert_int_equal(cmos_next_event_in_ns(&f.c), 899000000);
	advance(&f, 898999999);
	cmos_update(&f.c);
	assert_false(f.irq);
	advance(&f, 1);
	cmos_update(&f.c);
	assert_true(f.irq);
	assert_int_equal(cmos_next_event_in_ns(&f.c), CMOS_NO_EVENT);
	assert_int_equal(rd(&f, 0x0c), 0x90);           /* IRQF | UF */
	assert_false(f.irq);
	assert_int_equal(rd(&f, 0x0c), 0x00);
	wr(&f, 0x0b, 0x02);
	/* periodic interrupt, 1024 Hz (rate 6) */
	advance(&f, 1000000000);
	wr(&f, 0x0a, 0x26);
	(void)rd(&f, 0x0c);
	wr(&f, 0x0b, 0x42);
	assert_false(f.irq);
	{
		uint64_t d = cmos_next_event_in_ns(&f.c);

		assert_true(d > 0 && d <= 976563);
		advance(&f, d - 1);
		cmos_update(&f.c);
		assert_false(f.irq);
		advance(&f, 1);
		cmos_update(&f.c);
		assert_true(f.irq);
	}
	assert_int_equal(rd(&f, 0x0c), 0xc0);           /* IRQF | PF */
	advance(&f, 976563);
	assert_int_equal(rd(&f, 0x0c) & 0xc0, 0xc0);
	/* rate 15 = 2 Hz; rate 0 = none */
	wr(&f, 0x0a, 0x2f);
	(void)rd(&f, 0x0c);
	assert_true(cmos_next_event_in_ns(&f.c) <= 500000000);
	wr(&f, 0x0a, 0x20);
	assert_int_equal(cmos_next_event_in_ns(&f.c), CMOS_NO_EVENT);
	advance(&f, 5000000000ULL);
	assert_int_equal(rd(&f, 0x0c) & 0x40, 0);
	assert_false(f.irq);
	wr(&f, 0x0a, 0x26);
	wr(&f, 0x0b, 0x02);
	assert_true(f.irq_raises >= 2);
}

static void test_alarm(void **state)
{
	struct fake f;
	uint64_t d;

	(void)state;
	fake_init(&f, T_LEAP, 0);       /* 13:45:59 */
	wr(&f, 0x0a, 0x20);             /* no periodic flag in the way */
	wr(&f, 1, 0x30);
	wr(&f, 3, 0x46);
	wr(&f, 5, 0x13);                /* 13:46:30 */
	wr(&f, 0x0b, 0x22);             /* AIE */
	d = cmos_next_event_in_ns(&f.c);
	assert_int_equal(d, 31ULL * 1000000000ULL);
	advance(&f, d - 1);
	cmos_update(&f.c);
	assert_false(f.irq);
	advance(&f, 1);
	cmos_update(&f.c);
	assert_true(f.irq);
	assert_int_equal(rd(&f, 0x0c), 0xb0);           /* IRQF | AF | UF */
	/* next time: tomorrow, same time */
	assert_int_equal(cmos_next_event_in_ns(&f.c), 86400ULL * 1000000000ULL);
	/* don't-care hours and minutes: every minute at :00 */
	wr(&f, 1, 0x00);
	wr(&f, 3, 0xff);
	wr(&f, 5, 0xc0);
	assert_int_equal(cmos_next_event_in_ns(&f.c), 30ULL * 1000000000ULL);
	/* all don't care: every second */
	wr(&f, 1, 0xc0);
	assert_int_equal(cmos_next_event_in_ns(&f.c), 1000000000ULL);
	/* an impossible alarm never fires */
	wr(&f, 1, 0x75);
	assert_int_equal(cmos_next_event_in_ns(&f.c), CMOS_NO_EVENT);
	advance(&f, 100ULL * 1000000000ULL);
	assert_int_equal(rd(&f, 0x0c), 0x10);           /* UF only */
	/* AF is set even without AIE, a long gap finds a daily alarm */
	wr(&f, 0x0b, 0x02);
	wr(&f, 1, 0x00);
	wr(&f, 3, 0x00);
	wr(&f, 5, 0x00);
	advance(&f, 2ULL * 86400 * 1000000000ULL);
	assert_int_equal(rd(&f, 0x0c), 0x30);
	assert_false(f.irq);
}

static void test_reset(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, T_LEAP, 0);
	wr(&f, 0x40, 0x99);
	wr(&f, 2, 0x01);
	wr(&f, 0x0b, 0x7e);             /* PIE AIE UIE SQWE DM 24h */
	advance(&f, 2000000000);
	cmos_update(&f.c);
	assert_true(f.irq);
	outb(&f, 0x70, 0xc0);
	cmos_ops.reset(&f.c);
	assert_false(f.irq);
	assert_int_equal(rd(&f, 0x0b), 0x06);
	assert_int_equal(rd(&f, 0x0c), 0);
	assert_int_equal(rd(&f, 0x40), 0x99);
	assert_int_equal(rd(&f, 2), 2);                 /* time kept: 13:02:01 */
	assert_int_equal(rd(&f, 0), 1);
	cmos_reset(NULL);
	cmos_update(NULL);
	assert_int_equal(cmos_next_event_in_ns(NULL), CMOS_NO_EVENT);
}

static void test_wide_and_bad_accesses(void **state)
{
	struct fake f;
	struct cmos snap;
	uint64_t v;
	unsigned sz;

	(void)state;
	fake_init(&f, T_LEAP, 0);
	/* outw 0x70: index then data */
	assert_int_equal(cmos_write(&f.c, 0, 2, 0x5a20), 0);
	assert_int_equal(rd(&f, 0x20), 0x5a);
	outb(&f, 0x70, 0x20);
	assert_int_equal(cmos_read(&f.c, 0, 2, &v), 0);
	assert_int_equal(v, 0x5aff);
	memcpy(&snap, &f.c, sizeof(snap));
	for (sz = 0; sz <= 8; sz++) {
		v = 0x99;
		if (sz != 1 && sz != 2) {
			assert_int_equal(cmos_read(&f.c, 0, sz, &v), -1);
			assert_int_equal(cmos_write(&f.c, 0, sz, 0), -1);
		}
		if (sz != 1) {
			assert_int_equal(cmos_read(&f.c, 1, sz, &v), -1);
			assert_int_equal(cmos_write(&f.c, 1, sz, 0), -1);
		}
		assert_int_equal(cmos_read(&f.c, 2, sz, &v), -1);
		assert_int_equal(cmos_write(&f.c, ~0ULL, sz, 0), -1);
		assert_int_equal(v, 0x99);
	}
	assert_memory_equal(&snap, &f.c, sizeof(snap));
	assert_int_equal(cmos_read(&f.c, 1, 1, NULL), -1);
	assert_int_equal(cmos_read(NULL, 1, 1, &v), -1);
	assert_int_equal(cmos_write(NULL, 1, 1, 0), -1);
	/* no time source: 1970-01-01 00:00:00, a Thursday */
	{
		struct cmos c;
		struct irq_line none = { 0 };

		cmos_init(&c, none, NULL, NULL);
		assert_int_equal(cmos_write(&c, 0, 1, 6), 0);
		assert_int_equal(cmos_read(&c, 1, 1, &v), 0);
		assert_int_equal(v, 0x05);
		assert_int_equal(cmos_write(&c, 0, 1, 9), 0);
		assert_int_equal(cmos_read(&c, 1, 1, &v), 0);
		assert_int_equal(v, 0x70);
	}
	/* a huge host time is clamped, nothing overflows */
	fake_init(&f, UINT64_MAX, 0xffffffffu);
	(void)rd(&f, 9);
	(void)cmos_next_event_in_ns(&f.c);
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

static void check_time_regs(struct fake *f)
{
	uint8_t b = f->c.ram[0x0b];
	bool bin = b & 0x04;
	unsigned v[7], i;
	static const unsigned regs[7] = { 0, 2, 4, 6, 7, 8, 9 };
	static const unsigned lo[7] = { 0, 0, 0, 1, 1, 1, 0 };
	static const unsigned hi[7] = { 59, 59, 23, 7, 31, 12, 99 };
	uint8_t save = f->c.index, save_c = f->c.ram[0x0c];

	if (f->c.frozen)
		return;
	for (i = 0; i < 7; i++) {
		uint64_t x;

		f->c.index = (uint8_t)regs[i];
		assert_int_equal(cmos_read(&f->c, 1, 1, &x), 0);
		if (regs[i] == 4 && !(b & 0x02)) {
			x &= 0x7f;
			if (!bin)
				assert_true((x & 0xf) <= 9);
			x = bin ? x : bcd((uint8_t)x);
			assert_true(x >= 1 && x <= 12);
			continue;
		}
		if (!bin) {
			assert_true((x & 0xf) <= 9 && (x >> 4) <= 9);
			x = bcd((uint8_t)x);
		}
		v[i] = (unsigned)x;
		assert_true(v[i] >= lo[i] && v[i] <= hi[i]);
	}
	f->c.index = save;
	(void)save_c;
}

static void test_random_sequences(void **state)
{
	struct fake f;
	unsigned i;

	(void)state;
	fake_init(&f, T_LEAP, 0);
	xs_state = 0x146818146818ULL;
	for (i = 0; i < 100000; i++) {
		uint64_t r = xorshift(), v = xorshift();
		unsigned reg = (unsigned)(v % 0x40);
		int ret;

		switch (r % 10) {
		case 0: case 1: case 2:
			(void)rd(&f, reg);
			break;
		case 3:
			/* status registers with sane dividers most of the time */
			if (reg % 2)
				wr(&f, 0x0a, (uint8_t)(((v >> 8) % 4 ? 0x20 : (v >> 16) & 0x70) |
						      ((v >> 24) & 0x0f)));
			else
				wr(&f, 0x0b, (uint8_t)(v >> 8));
			break;
		case 4:
			wr(&f, reg, (uint8_t)(v >> 8));
			break;
		case 5: case 6:
			advance(&f, (v >> 20) % 3000000000ULL);
			cmos_update(&f.c);
			break;
		case 7: {
			uint64_t d = cmos_next_event_in_ns(&f.c);

			if (d != CMOS_NO_EVENT && d < 200000000000ULL && !f.irq) {
				bool en = f.c.ram[0x0b] & 0x70;

				assert_true(en);
				advance(&f, d);
				cmos_update(&f.c);
				assert_true(f.irq);
			}
			break;
		}
		case 8: {
			unsigned size = (unsigned)(v % 6);
			uint64_t off = (v >> 4) % 3, got;
			bool ok = (size == 1 || size == 2 || size == 4) && off < 2 &&
				  size <= 2 - off;

			if (v & 0x100)
				ret = cmos_read(&f.c, off, size, &got);
			else
				ret = cmos_write(&f.c, off, size, v >> 32);
			assert_int_equal(ret, ok ? 0 : -1);
			break;
		}
		default:
			if ((v >> 40) % 512 == 0)
				cmos_reset(&f.c);
			break;
		}
		/* invariants */
		assert_int_equal(f.irq, (f.c.ram[0x0c] & 0x80) != 0);
		if (f.c.ram[0x0c] & 0x80)
			assert_true(f.c.ram[0x0c] & 0x70);
		assert_int_equal(f.c.ram[0x0c] & 0x0f, 0);
		assert_int_equal(f.c.ram[0x0a] & 0x80, 0);
		assert_true(f.c.index < 128);
		check_time_regs(&f);
	}
	assert_true(f.irq_raises > 10);
}

/*
 * The hypervisor syncs the RTC lazily: only at a port access and once the
 * time cmos_next_event_in_ns() gave has come (arch/x86_64/pc.c). Twin
 * models on the same clock and the same guest accesses, one synced after
 * every time step (eager) and one only when due (lazy), must drive IRQ 8
 * identically at every step and read back the same registers.
 */
static void twin_wr(struct fake *a, struct fake *b, unsigned reg, uint8_t v)
{
	wr(a, reg, v);
	wr(b, reg, v);
}

static void test_lazy_sync_same_readings(void **state)
{
	struct fake a, b;
	uint64_t due = 0, now;                  /* b's next event, in ns of the clock */
	unsigned i, raises_seen = 0;

	(void)state;
	fake_init(&a, T_Y2K - 5, 0);
	fake_init(&b, T_Y2K - 5, 0);
	xs_state = 0x1a2ec0c05ULL;
	for (i = 0; i < 200000; i++) {
		uint64_t r = xorshift(), v = xorshift();
		bool access = true;

		switch (r % 12) {
		case 0: case 1: case 2: case 3: case 4: case 5:
			/* time passes: a in small steps, b not at all */
			for (unsigned k = 0; k < 1 + (r >> 8) % 4; k++) {
				uint64_t ns = (v >> (10 + k * 5)) % ((r >> 16) % 3 ? 3000000ULL :
								      1500000000ULL);

				advance(&a, ns);
				advance(&b, ns);
				cmos_update(&a.c);
			}
			access = false;
			break;
		case 6:
			twin_wr(&a, &b, 0x0b, (uint8_t)((v >> 8) & 0x7e));     /* no SET */
			break;
		case 7:
			if ((v >> 8) % 8)
				twin_wr(&a, &b, 0x0a, (uint8_t)(0x20 | ((v >> 16) & 0x0f)));
			else
				twin_wr(&a, &b, 0x0a, (uint8_t)((v >> 16) & 0x7f));
			break;
		case 8:
			/* alarm registers, "don't care" (0xc0+) now and then */
			twin_wr(&a, &b, 1 + 2 * (unsigned)((v >> 8) % 3),
				(uint8_t)((v >> 16) % 4 ? (v >> 24) % 0x60 : 0xc0));
			break;
		case 9: case 10:
			assert_int_equal(rd(&a, 0x0c), rd(&b, 0x0c));
			break;
		default: {
			unsigned reg = (unsigned)(v % 14);

			if (reg == 0x0c || reg == 0x0a)
				reg = 0;        /* A's UIP is compared below; C above */
			assert_int_equal(rd(&a, reg), rd(&b, reg));
			break;
		}
		}
		/* b: brought up to date only once its event is due or after an
		 * access, as pc.c does */
		now = b.sec * 1000000000ULL + b.nsec;
		if (access || now >= due) {
			uint64_t rel = cmos_next_event_in_ns(&b.c);

			due = rel == CMOS_NO_EVENT ? UINT64_MAX : now + rel;
		}
		cmos_update(&a.c);
		assert_int_equal(a.irq, b.irq);
		/* (C's other flags may lag in b: only a read shows them, and a
		 * read syncs first) */
		raises_seen = a.irq_raises;
	}
	assert_int_equal(a.irq_raises, b.irq_raises);
	assert_true(raises_seen > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops_and_reset_values),
		cmocka_unit_test(test_bcd_24h_time),
		cmocka_unit_test(test_binary_and_12h),
		cmocka_unit_test(test_linux_set_time),
		cmocka_unit_test(test_write_while_running),
		cmocka_unit_test(test_uip),
		cmocka_unit_test(test_index_and_nmi_mask),
		cmocka_unit_test(test_status_c_and_irq8),
		cmocka_unit_test(test_alarm),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_wide_and_bad_accesses),
		cmocka_unit_test(test_random_sequences),
		cmocka_unit_test(test_lazy_sync_same_readings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
