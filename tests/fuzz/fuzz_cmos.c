/*
 * libFuzzer harness: devices/cmos.c (MC146818 RTC + CMOS RAM). The host
 * wall clock comes from the input: it advances by small or large steps and
 * sometimes jumps anywhere (backwards too, as a stepped wall clock does,
 * with out-of-range nanoseconds). Operations: reads and writes of any
 * offset, size and value on ports 0x70/0x71 (index writes made likely),
 * clock steps, cmos_update, resets, a next-event and a clock probe. After every
 * operation:
 *  - an access is accepted exactly when the size is 1, 2 or 4 and it fits
 *    in the 2-port range; a refused access changes nothing, not even *val;
 *  - IRQ 8 is driven only on change and equals C.IRQF; IRQF is set
 *    whenever a C flag is enabled in B, and only with some flag set; C's
 *    low nibble and A.UIP in RAM stay 0; the frozen state matches B.SET /
 *    the divider;
 *  - reads: port 0x70 reads 0xff; D reads 0x80; RAM bytes (0x0e-0x7f but
 *    the century, and the alarm registers) read back what was written;
 *    running time registers are valid BCD/binary in range (seconds < 60,
 *    hours per 12/24 h, day of week 1-7, day 1-31, month 1-12);
 *  - next-event probe: cmos_next_event_in_ns() >= 1; IRQ 8 stays low one
 *    ns before it and is high at it;
 *  - clock probe (running clock, on copies, at now and now + dt): the
 *    time registers decode (with an independent calendar) to exactly host
 *    time + offset, the day of week matches, A.UIP is set exactly in the
 *    last 244 us of each second.
 */
#include "tests/fuzz/fuzz_common.h"
#include "devices/cmos.h"

static uint64_t host_sec;
static uint32_t host_nsec;
static int line_level;

static void now(void *opaque, uint64_t *sec, uint32_t *nsec)
{
	(void)opaque;
	*sec = host_sec;
	*nsec = host_nsec;
}

static void irq_set(void *opaque, unsigned line, bool level)
{
	(void)opaque;
	CHECK(line == 8);
	CHECK((int)level != line_level);
	line_level = level;
}

static void advance(uint64_t ns)
{
	uint64_t t = host_nsec + ns % 1000000000u;

	host_sec += ns / 1000000000u + t / 1000000000u;
	host_nsec = (uint32_t)(t % 1000000000u);
}

static unsigned dec(const struct cmos *c, uint8_t b)
{
	if (c->ram[CMOS_STATUS_B] & 0x04)
		return b;
	CHECK((b & 0x0f) <= 9 && (b >> 4) <= 9);
	return (b >> 4) * 10u + (b & 0x0f);
}

static void check_time_reg(const struct cmos *c, unsigned r, uint8_t b)
{
	unsigned v;

	if (r == CMOS_HOURS && !(c->ram[CMOS_STATUS_B] & 0x02)) {
		v = dec(c, b & 0x7f);
		CHECK(v >= 1 && v <= 12);
		return;
	}
	v = dec(c, b);
	switch (r) {
	case CMOS_SECONDS: case CMOS_MINUTES: CHECK(v < 60); break;
	case CMOS_HOURS: CHECK(v < 24); break;
	case CMOS_WEEKDAY: CHECK(v >= 1 && v <= 7); break;
	case CMOS_DAY: CHECK(v >= 1 && v <= 31); break;
	case CMOS_MONTH: CHECK(v >= 1 && v <= 12); break;
	default: CHECK(v < 100); break;
	}
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), by counting. */
static int64_t ref_days(int64_t y, unsigned m, unsigned d)
{
	static const unsigned mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t days = 0, yy;

	/* whole 400-year cycles (146097 days) first, then single years */
	days += (y - 1970) / 400 * 146097;
	yy = 1970 + (y - 1970) / 400 * 400;
	if (y < yy) {
		days -= 146097;
		yy -= 400;
	}
	for (; yy < y; yy++)
		days += 365 + ((yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0);
	for (unsigned k = 1; k < m; k++)
		days += mdays[k - 1] + (k == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	return days + d - 1;
}

/* Register r of a copy of the RTC (the copy's IRQ line is not the line). */
static uint8_t copy_reg(const struct cmos *c, unsigned r)
{
	struct cmos cp = *c;
	uint64_t v;

	cp.irq.set = NULL;
	CHECK(cmos_write(&cp, 0, 1, r) == 0);
	CHECK(cmos_read(&cp, 1, 1, &v) == 0);
	return (uint8_t)v;
}

/* The RTC's time as seconds since 1970, decoded from its registers. */
static int64_t rtc_seconds(const struct cmos *c, unsigned *wday)
{
	unsigned sec = dec(c, copy_reg(c, 0)), min = dec(c, copy_reg(c, 2));
	uint8_t hb = copy_reg(c, 4);
	unsigned hour, mday = dec(c, copy_reg(c, 7)), mon = dec(c, copy_reg(c, 8));
	int64_t year = dec(c, copy_reg(c, 9)) + 100 * (int64_t)dec(c, copy_reg(c, 0x32));

	if (c->ram[CMOS_STATUS_B] & 0x02)
		hour = dec(c, hb);
	else
		hour = dec(c, hb & 0x7f) % 12 + (hb & 0x80 ? 12 : 0);
	*wday = dec(c, copy_reg(c, 6));
	CHECK(mon >= 1 && mon <= 12 && mday >= 1 && mday <= 31);
	return ref_days(year, mon, mday) * 86400 + hour * 3600 + min * 60 + sec;
}

/*
 * Clock probe (running clock, on copies): the registers decode to exactly
 * the guest time host + offset (calendar, century, 12/24 h, BCD/binary,
 * day of week), at now and again at now + dt; A.UIP is set exactly in the
 * last 244 us of a second.
 */
static void clock_probe(const struct cmos *c, uint64_t dt)
{
	uint64_t hs = host_sec;
	uint32_t hn = host_nsec;
	unsigned wday;

	if (c->frozen || host_nsec >= 1000000000u || host_sec > (1ULL << 39))
		return;
	for (int pass = 0; pass < 2; pass++) {
		int64_t g = (int64_t)host_sec + c->off_sec +
			    (host_nsec + c->off_nsec >= 1000000000u);
		uint32_t gn = (host_nsec + c->off_nsec) % 1000000000u;
		int64_t days = g >= 0 ? g / 86400 : -((-g + 86399) / 86400);

		struct cmos cp = *c;

		if (g < -2208988800LL || g > 253402300799LL)
			break;          /* years 1900-9999: what 4 digits show */
		/* account the elapsed time once, so that each register read
		 * (on a copy of this copy) has nothing left to do */
		cp.irq.set = NULL;
		cmos_update(&cp);
		CHECK(rtc_seconds(&cp, &wday) == g);
		CHECK(wday == (unsigned)(((days + 4) % 7 + 7) % 7) + 1);
		CHECK(((copy_reg(&cp, CMOS_STATUS_A) & 0x80) != 0) == (gn >= 1000000000u - 244000u));
		advance(dt);
	}
	host_sec = hs;
	host_nsec = hn;
}

static bool is_time(unsigned r)
{
	return r == 0 || r == 2 || r == 4 || (r >= 6 && r <= 9) || r == 0x32;
}

static void check_state(const struct cmos *c)
{
	uint8_t a = c->ram[CMOS_STATUS_A], b = c->ram[CMOS_STATUS_B];
	uint8_t cc = c->ram[CMOS_STATUS_C];

	CHECK(c->index < 128);
	CHECK((a & 0x80) == 0 && (cc & 0x0f) == 0);
	CHECK(c->frozen == ((b & 0x80) || (a & 0x70) != 0x20));
	if (cc & b & 0x70)
		CHECK(cc & 0x80);
	if (cc & 0x80)
		CHECK(cc & 0x70);
	CHECK(c->irq_level == ((cc & 0x80) != 0));
	CHECK(c->irq_level == line_level);
	CHECK(c->off_nsec < 1000000000u && c->last_nsec < 1000000000u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned sizes[8] = { 1, 1, 1, 2, 4, 8, 3, 0 };
	struct in in = { data, size };
	struct irq_line irq8 = { irq_set, NULL, 8 };
	struct cmos c;
	int shadow[128];

	host_sec = 1700000000u + in_bytes(&in, 4);
	host_nsec = (uint32_t)(in_bytes(&in, 4) % 1000000000u);
	line_level = 0;
	cmos_init(&c, irq8, now, NULL);
	for (int i = 0; i < 128; i++)
		shadow[i] = (i >= 0x0e && i != 0x32) || i == 1 || i == 3 || i == 5 ? 0 : -1;
	check_state(&c);
	for (int ops = 0; in_left(&in) && ops < 2048; ops++) {
		uint8_t op = in_u8(&in), a = in_u8(&in);
		unsigned sz = sizes[(a >> 4) & 7];
		uint64_t off = a & 0x80 ? in_u64(&in) : (uint64_t)(a & 1);
		bool ok = (sz == 1 || sz == 2 || sz == 4) && off < 2 && off + sz <= 2;
		struct cmos before = c;
		uint64_t v, e;
		int r;

		switch (op & 15) {
		case 0: case 1: case 2: case 3: {       /* reads */
			unsigned idx = c.index;

			v = 0x3C3C3C3C3C3C3C3CULL;
			r = cmos_read(&c, off, sz, &v);
			CHECK(r == (ok ? 0 : -1));
			if (r) {
				CHECK(v == 0x3C3C3C3C3C3C3C3CULL);
				CHECK(memcmp(&before, &c, sizeof(c)) == 0);
				break;
			}
			for (unsigned i = 0; i < sz; i++) {
				uint8_t b = (uint8_t)(v >> (8 * i));

				if (off + i == 0)
					CHECK(b == 0xff);
				else if (idx == CMOS_STATUS_D)
					CHECK(b == 0x80);
				else if (shadow[idx] >= 0)
					CHECK(b == shadow[idx]);
				else if (is_time(idx) && !c.frozen)
					check_time_reg(&c, idx, b);
			}
			CHECK(c.index == idx);
			break;
		}
		case 4: case 5: case 6: case 7: {       /* writes */
			unsigned idx = c.index;

			if ((op & 15) == 4) {           /* select a register */
				off = 0, sz = 1, ok = true;
				v = (uint64_t)(a & 0x7f) | (op & 0x80);
				if ((a & 0x60) == 0)
					v = (v & 0x80) | (a & 0x0f); /* favour 0-15 */
			} else if ((op & 15) == 5) {
				off = 1, sz = 1, ok = true;
				v = in_u8(&in);
			} else {
				v = in_bytes(&in, op & 0x80 ? 8 : 4);
			}
			r = cmos_write(&c, off, sz, v);
			CHECK(r == (ok ? 0 : -1));
			if (r) {
				CHECK(memcmp(&before, &c, sizeof(c)) == 0);
				break;
			}
			for (unsigned i = 0; i < sz; i++) {
				uint8_t b = (uint8_t)(v >> (8 * i));

				if (off + i == 0) {
					idx = b & 0x7f;
					CHECK(c.nmi_masked == (b >> 7));
					CHECK(cmos_nmi_masked(&c) == (b >> 7));
				} else if (shadow[idx] >= 0) {
					shadow[idx] = b;
				}
			}
			CHECK(c.index == idx);
			break;
		}
		case 8: case 9: case 10:                /* host clock */
			if (op & 0x80)
				advance(in_bytes(&in, 5));
			else if (op & 0x40)
				advance((uint64_t)a * in_u8(&in) * 1000u);
			else if (op & 0x20) {
				host_sec = in_u64(&in) >> (a & 63);
				host_nsec = (uint32_t)in_bytes(&in, 4);
			} else
				advance(a);
			if (op & 0x10)
				cmos_update(&c);
			break;
		case 12:                                /* clock probe */
			cmos_update(&c);
			clock_probe(&c, op & 0x80 ? in_bytes(&in, 6) : (uint64_t)a * in_u8(&in) * 997u);
			break;
		case 11:                                /* next-event probe */
			if (host_nsec >= 1000000000u || host_sec > (1ULL << 39)) {
				host_nsec %= 1000000000u;
				cmos_update(&c);
				break;
			}
			e = cmos_next_event_in_ns(&c);
			if (e == CMOS_NO_EVENT)
				break;
			CHECK(e >= 1);
			CHECK(!line_level);
			if (e > (1ULL << 50))
				break;
			advance(e - 1);
			cmos_update(&c);
			CHECK(!line_level);
			advance(1);
			cmos_update(&c);
			CHECK(line_level);
			break;
		default:
			if (op & 0x80) {
				cmos_reset(&c);
				CHECK(!line_level && c.ram[CMOS_STATUS_C] == 0);
				CHECK((c.ram[CMOS_STATUS_B] & 0x78) == 0);
			} else {
				CHECK(cmos_read(NULL, 1, 1, &v) == -1);
				CHECK(cmos_read(&c, 1, 1, NULL) == -1);
				CHECK(cmos_write(NULL, 1, 1, 0) == -1);
				CHECK(cmos_next_event_in_ns(NULL) == CMOS_NO_EVENT);
				CHECK(!cmos_nmi_masked(NULL));
				cmos_update(NULL);
				cmos_reset(NULL);
			}
			break;
		}
		check_state(&c);
	}
	return 0;
}
