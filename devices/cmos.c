/*
 * MC146818 RTC + CMOS RAM model. See devices/cmos.h for the interface and
 * docs/devices.md for what is and is not emulated.
 *
 * The RTC time is never stored as register bytes while it runs: registers
 * 0-9 and 0x32 are computed from (host time + offset) at each read, in the
 * format status B selects. While it is frozen (B.SET set, or divider
 * chain in reset) the time registers are plain bytes in ram[] that the
 * guest reads and writes; unfreezing parses them into a new offset.
 * Status C's flags are accumulated lazily: every access (and
 * cmos_update()) accounts the second boundaries, periodic boundaries and
 * alarm matches between the last accounted time and now.
 */
#include "devices/cmos.h"

#define NS_PER_SEC  1000000000ULL
#define SEC_PER_DAY 86400
#define RTC_HZ      32768       /* time base: periodic rates divide this */
#define UIP_NS      244000u     /* UIP is set this long before an update */
#define PORT_INDEX  0
#define PORT_DATA   1

#define A_UIP     0x80
#define A_DV      0x70
#define A_DV_NORM 0x20          /* 32.768 kHz time base, running */
#define A_RS      0x0f
#define B_SET     0x80
#define B_PIE     0x40
#define B_AIE     0x20
#define B_UIE     0x10
#define B_SQWE    0x08
#define B_DM_BIN  0x04
#define B_24H     0x02
#define C_IRQF    0x80
#define C_PF      0x40
#define C_AF      0x20
#define C_UF      0x10
#define D_VRT     0x80

struct gtime {
	int64_t sec;
	uint32_t nsec;
};

struct rtc_tm {
	int64_t year;
	unsigned mon, mday, hour, min, sec, wday;       /* wday 1 = Sunday */
};

/* ------------------------------------------------------------ calendar */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Days since 1970-01-01 -> civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void tm_from_sec(int64_t t, struct rtc_tm *tm)
{
	int64_t days = floor_div(t, SEC_PER_DAY);
	int64_t tod = t - days * SEC_PER_DAY;

	civil_from_days(days, &tm->year, &tm->mon, &tm->mday);
	tm->hour = (unsigned)(tod / 3600);
	tm->min = (unsigned)(tod / 60 % 60);
	tm->sec = (unsigned)(tod % 60);
	/* 1970-01-01 was a Thursday; the RTC counts Sunday as 1 */
	tm->wday = (unsigned)(days + 4 - floor_div(days + 4, 7) * 7) + 1;
}

/* ------------------------------------------------------------ encoding */

static bool cmos_binary(const struct cmos *c)
{
	return (c->ram[CMOS_STATUS_B] & B_DM_BIN) != 0;
}

static uint8_t enc(const struct cmos *c, unsigned v)
{
	v %= 100;
	return cmos_binary(c) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static unsigned dec(const struct cmos *c, uint8_t b)
{
	return cmos_binary(c) ? b : (unsigned)(b >> 4) * 10 + (b & 0xf);
}

static uint8_t enc_hour(const struct cmos *c, unsigned h)
{
	unsigned h12;

	if (c->ram[CMOS_STATUS_B] & B_24H)
		return enc(c, h);
	h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(enc(c, h12) | (h >= 12 ? 0x80 : 0));
}

/* Hour register -> 0..23, or a value >= 24 when invalid. */
static unsigned dec_hour(const struct cmos *c, uint8_t b)
{
	unsigned h;

	if (c->ram[CMOS_STATUS_B] & B_24H)
		return dec(c, b);
	h = dec(c, b & 0x7f);
	if (h == 0 || h > 12)
		return 24;
	return h % 12 + ((b & 0x80) ? 12 : 0);
}

static bool is_time_reg(unsigned r)
{
	return r == CMOS_SECONDS || r == CMOS_MINUTES || r == CMOS_HOURS ||
	       (r >= CMOS_WEEKDAY && r <= CMOS_YEAR) || r == CMOS_CENTURY;
}

/* ------------------------------------------------------------ time */

static struct gtime host_now(const struct cmos *c)
{
	struct gtime h = { 0, 0 };
	uint64_t s = 0;
	uint32_t ns = 0;

	if (c->now)
		c->now(c->opaque, &s, &ns);
	if (s > (1ULL << 40))           /* ~35000 years: keeps sums in range */
		s = 1ULL << 40;
	h.sec = (int64_t)s;
	h.nsec = ns < NS_PER_SEC ? ns : (uint32_t)(NS_PER_SEC - 1);
	return h;
}

static struct gtime guest_now(const struct cmos *c)
{
	struct gtime h = host_now(c), g;
	uint32_t ns = h.nsec + c->off_nsec;

	g.sec = h.sec + c->off_sec + (ns >= NS_PER_SEC);
	g.nsec = ns % (uint32_t)NS_PER_SEC;
	return g;
}

/* Make the guest time at this instant equal g. */
static void set_guest_time(struct cmos *c, struct gtime g)
{
	struct gtime h = host_now(c);

	c->off_sec = g.sec - h.sec;
	if (g.nsec >= h.nsec) {
		c->off_nsec = g.nsec - h.nsec;
	} else {
		c->off_nsec = (uint32_t)(g.nsec + NS_PER_SEC - h.nsec);
		c->off_sec--;
	}
	c->last_sec = g.sec;
	c->last_nsec = g.nsec;
}

static bool divider_running(const struct cmos *c)
{
	return (c->ram[CMOS_STATUS_A] & A_DV) == A_DV_NORM;
}

static bool divider_reset(const struct cmos *c)
{
	return (c->ram[CMOS_STATUS_A] & 0x60) == 0x60;  /* DV = 11x */
}

static bool clock_frozen(const struct cmos *c)
{
	return (c->ram[CMOS_STATUS_B] & B_SET) || !divider_running(c);
}

/* Time register r (a time reg) encoded from t in the current format. */
static uint8_t time_reg(const struct cmos *c, const struct rtc_tm *tm, unsigned r)
{
	switch (r) {
	case CMOS_SECONDS:
		return enc(c, tm->sec);
	case CMOS_MINUTES:
		return enc(c, tm->min);
	case CMOS_HOURS:
		return enc_hour(c, tm->hour);
	case CMOS_WEEKDAY:
		return enc(c, tm->wday);
	case CMOS_DAY:
		return enc(c, tm->mday);
	case CMOS_MONTH:
		return enc(c, tm->mon);
	case CMOS_YEAR:
		return enc(c, (unsigned)(tm->year % 100));
	default:        /* century */
		return enc(c, (unsigned)(tm->year / 100 % 100));
	}
}

static void latch_time(struct cmos *c, struct gtime g)
{
	struct rtc_tm tm;
	unsigned r;

	tm_from_sec(g.sec, &tm);
	for (r = 0; r < CMOS_RAM_SIZE; r++)
		if (is_time_reg(r))
			c->ram[r] = time_reg(c, &tm, r);
}

static unsigned clampu(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Seconds since the epoch from the latched time registers. */
static int64_t parse_time(const struct cmos *c)
{
	unsigned sec = clampu(dec(c, c->ram[CMOS_SECONDS]), 0, 59);
	unsigned min = clampu(dec(c, c->ram[CMOS_MINUTES]), 0, 59);
	unsigned hour = clampu(dec_hour(c, c->ram[CMOS_HOURS]), 0, 23);
	unsigned mday = clampu(dec(c, c->ram[CMOS_DAY]), 1, 31);
	unsigned mon = clampu(dec(c, c->ram[CMOS_MONTH]), 1, 12);
	unsigned yy = dec(c, c->ram[CMOS_YEAR]) % 100;
	unsigned cent = dec(c, c->ram[CMOS_CENTURY]);
	int64_t year;

	if (cent >= 19 && cent <= 21)
		year = cent * 100 + yy;
	else
		year = (yy < 70 ? 2000 : 1900) + yy;
	return days_from_civil(year, mon, mday) * SEC_PER_DAY +
	       hour * 3600 + min * 60 + sec;
}

/* ------------------------------------------------------------ flags */

/* Periodic interrupt period in 32.768 kHz cycles (0 = off). */
static int64_t periodic_cycles(const struct cmos *c)
{
	unsigned rs = c->ram[CMOS_STATUS_A] & A_RS;

	if (rs == 0)
		return 0;
	if (rs <= 2)
		return (int64_t)1 << (rs + 6);  /* 256 Hz, 128 Hz */
	return (int64_t)1 << (rs - 1);          /* 8192 Hz .. 2 Hz */
}

static int64_t cycles_of(struct gtime g)
{
	return g.sec * RTC_HZ + (int64_t)((uint64_t)g.nsec * RTC_HZ / NS_PER_SEC);
}

/* Alarm byte -> value, -1 = don't care, -2 = never matches. */
static int alarm_field(const struct cmos *c, unsigned r, unsigned limit)
{
	uint8_t b = c->ram[r];
	unsigned v;

	if ((b & 0xc0) == 0xc0)
		return -1;
	v = r == CMOS_HOUR_ALARM ? dec_hour(c, b) : dec(c, b);
	return v < limit ? (int)v : -2;
}

/* First second > from whose time matches the alarm registers. */
static bool alarm_next(const struct cmos *c, int64_t from, int64_t *at)
{
	int as = alarm_field(c, CMOS_SEC_ALARM, 60);
	int am = alarm_field(c, CMOS_MIN_ALARM, 60);
	int ah = alarm_field(c, CMOS_HOUR_ALARM, 24);
	int64_t start = from + 1, day = floor_div(start, SEC_PER_DAY);
	int64_t tod = start - day * SEC_PER_DAY;
	unsigned h0 = (unsigned)(tod / 3600), m0 = (unsigned)(tod / 60 % 60);
	unsigned s0 = (unsigned)(tod % 60), dd, h, m, smin;

	if (as == -2 || am == -2 || ah == -2)
		return false;
	for (dd = 0; dd < 2; dd++) {
		for (h = dd ? 0 : h0; h < 24; h++) {
			if (ah >= 0 && (unsigned)ah != h)
				continue;
			for (m = (dd == 0 && h == h0) ? m0 : 0; m < 60; m++) {
				if (am >= 0 && (unsigned)am != m)
					continue;
				smin = (dd == 0 && h == h0 && m == m0) ? s0 : 0;
				if (as >= 0 && (unsigned)as < smin)
					continue;
				*at = (day + dd) * SEC_PER_DAY + h * 3600 + m * 60 +
				      (as >= 0 ? (unsigned)as : smin);
				return true;
			}
		}
	}
	return false;
}

static void cmos_irq_update(struct cmos *c)
{
	uint8_t *rc = &c->ram[CMOS_STATUS_C];
	bool level;

	if (*rc & c->ram[CMOS_STATUS_B] & (C_PF | C_AF | C_UF))
		*rc |= C_IRQF;
	level = (*rc & C_IRQF) != 0;
	if (level != c->irq_level) {
		c->irq_level = level;
		irq_line_set(&c->irq, level);
	}
}

/* Account what happened between the last accounted time and now. */
static void cmos_sync(struct cmos *c)
{
	struct gtime g = guest_now(c), last = { c->last_sec, c->last_nsec };
	uint8_t *rc = &c->ram[CMOS_STATUS_C];
	int64_t p = periodic_cycles(c), at;
	bool later = g.sec > last.sec || (g.sec == last.sec && g.nsec > last.nsec);

	if (later && divider_running(c)) {
		if (p && floor_div(cycles_of(g), p) > floor_div(cycles_of(last), p))
			*rc |= C_PF;
		if (!clock_frozen(c) && g.sec > last.sec) {
			*rc |= C_UF;
			if (alarm_next(c, last.sec, &at) && at <= g.sec)
				*rc |= C_AF;
		}
	}
	c->last_sec = g.sec;
	c->last_nsec = g.nsec;
	cmos_irq_update(c);
}

/* ------------------------------------------------------------ registers */

/* Re-evaluate the frozen state after A or B changed. */
static void cmos_freeze_check(struct cmos *c, bool was_div_reset)
{
	bool frozen = clock_frozen(c);
	struct gtime g;

	if (frozen && !c->frozen) {
		latch_time(c, guest_now(c));
	} else if (!frozen && c->frozen) {
		g = guest_now(c);
		g.sec = parse_time(c);
		/* leaving divider reset: the first update comes 500 ms later */
		if (was_div_reset)
			g.nsec = 500000000u;
		set_guest_time(c, g);
	}
	c->frozen = frozen;
}

static uint8_t cmos_reg_read(struct cmos *c, unsigned r)
{
	struct gtime g;
	struct rtc_tm tm;
	uint8_t v;

	switch (r) {
	case CMOS_STATUS_A:
		v = c->ram[r] & (uint8_t)~A_UIP;
		g = guest_now(c);
		if (!clock_frozen(c) && g.nsec >= NS_PER_SEC - UIP_NS)
			v |= A_UIP;
		return v;
	case CMOS_STATUS_C:
		v = c->ram[r];
		c->ram[r] = 0;          /* read clears every flag */
		cmos_irq_update(c);
		return v;
	case CMOS_STATUS_D:
		return D_VRT;
	default:
		break;
	}
	if (is_time_reg(r) && !c->frozen) {
		tm_from_sec(guest_now(c).sec, &tm);
		return time_reg(c, &tm, r);
	}
	return c->ram[r];
}

static void cmos_reg_write(struct cmos *c, unsigned r, uint8_t v)
{
	struct gtime g;
	bool was_div_reset = divider_reset(c);

	switch (r) {
	case CMOS_STATUS_A:
		c->ram[r] = v & (uint8_t)~A_UIP;
		cmos_freeze_check(c, was_div_reset);
		return;
	case CMOS_STATUS_B:
		if (v & B_SET)
			v &= (uint8_t)~B_UIE;   /* SET clears UIE */
		c->ram[r] = v;
		cmos_freeze_check(c, was_div_reset);
		cmos_irq_update(c);
		return;
	case CMOS_STATUS_C:
	case CMOS_STATUS_D:
		return;                 /* read-only */
	default:
		break;
	}
	if (is_time_reg(r) && !c->frozen) {
		/* running clock: change one field and keep counting from there */
		g = guest_now(c);
		latch_time(c, g);
		c->ram[r] = v;
		g.sec = parse_time(c);
		set_guest_time(c, g);
		return;
	}
	c->ram[r] = v;
}

void cmos_init(struct cmos *c, struct irq_line irq8,
	       void (*now)(void *opaque, uint64_t *sec, uint32_t *nsec),
	       void *opaque)
{
	unsigned i;

	c->irq = irq8;
	c->irq_level = false;
	c->now = now;
	c->opaque = opaque;
	for (i = 0; i < CMOS_RAM_SIZE; i++)
		c->ram[i] = 0;
	c->ram[CMOS_STATUS_A] = A_DV_NORM | 0x06;       /* 32.768 kHz, 1024 Hz */
	c->ram[CMOS_STATUS_B] = B_24H;                  /* BCD, 24 hours */
	c->ram[CMOS_STATUS_D] = D_VRT;
	c->off_sec = 0;
	c->off_nsec = 0;
	c->frozen = false;
	c->index = 0;
	c->nmi_masked = false;
	set_guest_time(c, guest_now(c));
	cmos_reset(c);
}

/*
 * The RESET pin: clears PIE, AIE, UIE, SQWE and every C flag (IRQ 8
 * goes low). Time, RAM, the rest of A and B, the index and NMI mask are
 * battery-backed or unaffected.
 */
void cmos_reset(void *dev)
{
	struct cmos *c = dev;

	if (!c)
		return;
	cmos_sync(c);
	c->ram[CMOS_STATUS_B] &= (uint8_t)~(B_PIE | B_AIE | B_UIE | B_SQWE);
	c->ram[CMOS_STATUS_C] = 0;
	cmos_irq_update(c);
}

static bool cmos_access_ok(uint64_t off, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && off < CMOS_SPAN &&
	       size <= CMOS_SPAN - off;
}

int cmos_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct cmos *c = dev;
	uint64_t v = 0;
	unsigned i;
	uint8_t b;

	if (!c || !val || !cmos_access_ok(off, size))
		return -1;
	cmos_sync(c);
	for (i = 0; i < size; i++) {
		if (off + i == PORT_INDEX)
			b = 0xff;       /* the index register is write-only */
		else
			b = cmos_reg_read(c, c->index & (CMOS_RAM_SIZE - 1));
		v |= (uint64_t)b << (8 * i);
	}
	*val = v;
	return 0;
}

int cmos_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct cmos *c = dev;
	unsigned i;
	uint8_t b;

	if (!c || !cmos_access_ok(off, size))
		return -1;
	cmos_sync(c);
	for (i = 0; i < size; i++) {
		b = (uint8_t)(val >> (8 * i));
		if (off + i == PORT_INDEX) {
			c->index = b & (CMOS_RAM_SIZE - 1);
			c->nmi_masked = (b & 0x80) != 0;
		} else {
			cmos_reg_write(c, c->index & (CMOS_RAM_SIZE - 1), b);
		}
	}
	return 0;
}

bool cmos_nmi_masked(const struct cmos *c)
{
	return c && c->nmi_masked;
}

void cmos_update(struct cmos *c)
{
	if (c)
		cmos_sync(c);
}

uint64_t cmos_next_event_in_ns(struct cmos *c)
{
	uint8_t en;
	uint64_t best = CMOS_NO_EVENT, d;
	int64_t p, cyc, next, at;
	struct gtime g;

	if (!c)
		return CMOS_NO_EVENT;
	cmos_sync(c);
	en = c->ram[CMOS_STATUS_B] & (B_PIE | B_AIE | B_UIE);
	if ((c->ram[CMOS_STATUS_C] & C_IRQF) || !en || !divider_running(c))
		return CMOS_NO_EVENT;   /* already high, or nothing can raise it */
	g = guest_now(c);
	p = periodic_cycles(c);
	if ((en & B_PIE) && p) {
		cyc = cycles_of(g);
		next = (floor_div(cyc, p) + 1) * p;
		/* first ns at which cycles_of() reaches next */
		d = (uint64_t)(next - floor_div(next, RTC_HZ) * RTC_HZ);
		d = (d * NS_PER_SEC + RTC_HZ - 1) / RTC_HZ;
		d += (uint64_t)(floor_div(next, RTC_HZ) - g.sec) * NS_PER_SEC;
		d -= g.nsec;
		best = d;
	}
	if (!clock_frozen(c)) {
		if ((en & B_UIE) && NS_PER_SEC - g.nsec < best)
			best = NS_PER_SEC - g.nsec;
		if ((en & B_AIE) && alarm_next(c, g.sec, &at)) {
			d = (uint64_t)(at - g.sec) * NS_PER_SEC - g.nsec;
			if (d < best)
				best = d;
		}
	}
	return best;
}

const struct dev_ops cmos_ops = {
	.name = "cmos",
	.read = cmos_read,
	.write = cmos_write,
	.reset = cmos_reset,
};
