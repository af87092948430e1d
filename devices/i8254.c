/*
 * 8254 PIT model. See devices/i8254.h for the interface and
 * docs/devices.md for what is and is not emulated.
 *
 * Time is counted in PIT clock edges ("ticks"): tick(ns) =
 * floor(ns * 1193182 / 1e9) of the now_ns callback. A channel that counts
 * has a segment (l, phase0, n): at tick t >= l its counting element has
 * seen d = phase0 + (t - l) edges since the count n was loaded. Every
 * mode's count and OUT are closed-form functions of d and n:
 *   mode 0  count n-d (wrapping), OUT high once d >= n
 *   mode 1  like 0 from the gate trigger, OUT low while d < n
 *   mode 2  count n - d%n, OUT low while d%n == n-1, reload every n
 *   mode 3  OUT high for ceil(n/2) of every n, counting by two
 *   mode 4  count n-d, OUT low only at d == n (strobe), rise at n+1
 *   mode 5  like 4 from the gate trigger
 * A count written in mode 2/3 while counting becomes a pending segment
 * that starts at the end of the current period (mode 2) or half-period
 * (mode 3), as on the real part. Gate low freezes d (HOLD).
 */
#include "devices/i8254.h"

#define NS_PER_SEC 1000000000ULL
#define PORT_CTRL  3
/*
 * Port 0x61 bit 4 (DRAM refresh) toggles every 15.085 us. Each read of a
 * virtual port is an exit that may well take longer than that (about 30 us
 * under Bochs), and a bit computed from the time alone then aliases: reads
 * spaced near a multiple of 30.17 us see it stuck, and a guest waiting for
 * it to change (a delay loop, a check) never sees it. So a read toggles the
 * bit once if at least one refresh edge passed since the previous read:
 * exact for guests that poll faster than the edges, never stuck for slower
 * ones (which see one edge per read).
 */
#define REFRESH_NS 15085ULL

#define P61_GATE2   0x01
#define P61_SPKR    0x02
#define P61_WMASK   0x0f
#define P61_REFRESH 0x10
#define P61_OUT2    0x20

/* ------------------------------------------------------------ time */

static uint64_t ns_to_tick(uint64_t ns)
{
	/* (ns % 1e9) * HZ < 1.2e15: no overflow */
	return (ns / NS_PER_SEC) * I8254_HZ + (ns % NS_PER_SEC) * I8254_HZ / NS_PER_SEC;
}

/* First ns whose tick is >= tick (saturating). */
static uint64_t tick_to_ns(uint64_t tick)
{
	uint64_t q = tick / I8254_HZ, r = tick % I8254_HZ, ns, add;

	if (q > UINT64_MAX / NS_PER_SEC)
		return UINT64_MAX;
	ns = q * NS_PER_SEC;
	add = (r * NS_PER_SEC + I8254_HZ - 1) / I8254_HZ;
	if (ns > UINT64_MAX - add)
		return UINT64_MAX;
	return ns + add;
}

static uint64_t pit_now(const struct i8254 *pit)
{
	return pit->now_ns ? ns_to_tick(pit->now_ns(pit->opaque)) : 0;
}

/* ------------------------------------------------------------ channel math */

static unsigned ch_mode(const struct i8254_channel *c)
{
	return c->mode >= 6 ? c->mode - 4u : c->mode;
}

static uint32_t ch_modulus(const struct i8254_channel *c)
{
	return c->bcd ? 10000u : 65536u;
}

struct seg {
	uint64_t l, phase0;
	uint32_t n;
};

static uint64_t sw_phase0(const struct i8254_channel *c)
{
	return c->sw_falling ? (c->sw_n + 1u) / 2u : 0;
}

/* The segment in force at tick t (a pending switch applies from sw_l). */
static struct seg ch_seg(const struct i8254_channel *c, uint64_t t)
{
	struct seg s = { c->l, c->phase0, c->n };

	if (c->sw_pending && t >= c->sw_l) {
		s.l = c->sw_l;
		s.phase0 = sw_phase0(c);
		s.n = c->sw_n;
	}
	return s;
}

/* Make a pending switch that is due at t the current segment. */
static void ch_settle(struct i8254_channel *c, uint64_t t)
{
	if (c->sw_pending && t >= c->sw_l) {
		c->l = c->sw_l;
		c->phase0 = sw_phase0(c);
		c->n = c->sw_n;
		c->sw_pending = false;
	}
}

/* Edges counted at t; false when the count is not loaded yet. */
static bool ch_d(const struct i8254_channel *c, uint64_t t, uint64_t *d, uint32_t *n)
{
	struct seg s;

	if (c->state == I8254_HOLD) {
		*d = c->phase0;
		*n = c->n ? c->n : 1;
		return true;
	}
	s = ch_seg(c, t);
	*n = s.n ? s.n : 1;
	if (t < s.l) {
		*d = s.phase0;
		return false;
	}
	*d = s.phase0 + (t - s.l);
	return true;
}

static bool ch_out(const struct i8254_channel *c, uint64_t t)
{
	unsigned m = ch_mode(c);
	uint64_t d;
	uint32_t n;

	if (c->state == I8254_IDLE)
		return m != 0;
	if (c->state == I8254_HOLD && (m == 2 || m == 3))
		return true;            /* gate low forces OUT high */
	if (!ch_d(c, t, &d, &n))
		return m != 0;
	switch (m) {
	case 0:
	case 1:
		return d >= n;
	case 2:
		return n < 2 || d % n != n - 1;
	case 3:
		return n < 2 || d % n < (n + 1u) / 2u;
	default:        /* 4, 5 */
		return d != n;
	}
}

/* Counter value (binary, 0..modulus-1) at t. */
static uint32_t ch_count(const struct i8254_channel *c, uint64_t t)
{
	uint32_t mod = ch_modulus(c), n, v, half;
	uint64_t d, p;

	if (c->state == I8254_IDLE)
		return c->idle_val % mod;
	if (!ch_d(c, t, &d, &n))
		return n % mod;
	switch (ch_mode(c)) {
	case 2:
		v = n - (uint32_t)(d % n);
		break;
	case 3:
		p = d % n;
		if (n % 2 == 0) {
			half = n / 2;
			v = n - 2u * (uint32_t)(p < half ? p : p - half);
		} else {
			half = (n + 1u) / 2u;
			v = n - 1u - 2u * (uint32_t)(p < half ? p : p - half);
		}
		break;
	default:        /* 0, 1, 4, 5: count down and wrap */
		v = (uint32_t)((n % mod + mod - d % mod) % mod);
		break;
	}
	return v % mod;
}

/* First rising edge of OUT in segment s strictly after tick t. */
static bool seg_rise(unsigned m, struct seg s, uint64_t t, uint64_t *e)
{
	uint64_t dlo = t >= s.l ? s.phase0 + (t - s.l) : s.phase0, de;

	switch (m) {
	case 0:
	case 1:
		de = s.n;
		break;
	case 2:
	case 3:
		if (s.n < 2)
			return false;
		de = (dlo / s.n + 1) * s.n;
		break;
	default:
		de = (uint64_t)s.n + 1;
		break;
	}
	if (de <= dlo)
		return false;
	*e = s.l + (de - s.phase0);
	return true;
}

/* First rising edge of OUT strictly after tick t, if nothing changes. */
static bool ch_next_rise(const struct i8254_channel *c, uint64_t t, uint64_t *e)
{
	unsigned m = ch_mode(c);
	struct seg old = { c->l, c->phase0, c->n }, nw;
	bool ok;

	if (c->state != I8254_RUN)
		return false;
	if (!c->sw_pending)
		return seg_rise(m, old, t, e);
	nw = ch_seg(c, c->sw_l);
	if (t >= c->sw_l)
		return seg_rise(m, nw, t, e);
	ok = seg_rise(m, old, t, e);
	if (ok && *e <= c->sw_l)
		return true;
	return seg_rise(m, nw, t, e);
}

static bool ch_null(const struct i8254_channel *c, uint64_t t)
{
	return t < c->null_until;
}

static uint16_t to_bcd(uint32_t v)
{
	return (uint16_t)((v % 10) | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 |
			  (v / 1000 % 10) << 12);
}

/* Register value of the counter (BCD-encoded in BCD mode). */
static uint16_t ch_reg(const struct i8254_channel *c, uint64_t t)
{
	uint32_t v = ch_count(c, t);

	return c->bcd ? to_bcd(v) : (uint16_t)v;
}

static uint8_t ch_status(const struct i8254_channel *c, uint64_t t)
{
	return (uint8_t)((ch_out(c, t) ? 0x80 : 0) | (ch_null(c, t) ? 0x40 : 0) |
			 (c->rw << 4) | (c->mode << 1) | (c->bcd ? 1 : 0));
}

/* ------------------------------------------------------------ IRQ 0 */

static void pit_pulse(struct i8254 *pit)
{
	pit->irq0_pulses++;
	irq_line_set(&pit->irq0, true);
	irq_line_set(&pit->irq0, false);
}

/* Deliver channel 0 rising edges in (seen, t] (coalesced into one pulse). */
static void pit_fire(struct i8254 *pit, uint64_t t)
{
	uint64_t e;

	if (t <= pit->seen)
		return;         /* nothing new (or time went backwards) */
	if (ch_next_rise(&pit->ch[0], pit->seen, &e) && e <= t)
		pit_pulse(pit);
	pit->seen = t;
	ch_settle(&pit->ch[0], t);
}

uint64_t i8254_next_event_ns(struct i8254 *pit)
{
	uint64_t e;

	if (!pit || !ch_next_rise(&pit->ch[0], pit->seen, &e))
		return I8254_NO_EVENT;
	return tick_to_ns(e);
}

void i8254_update(struct i8254 *pit)
{
	if (pit)
		pit_fire(pit, pit_now(pit));
}

bool i8254_out(struct i8254 *pit, unsigned ch)
{
	uint64_t t;

	if (!pit || ch > 2)
		return false;
	t = pit_now(pit);
	pit_fire(pit, t);
	return ch_out(&pit->ch[ch], t);
}

/* ------------------------------------------------------------ programming */

static void ch_stop(struct i8254_channel *c, uint64_t t)
{
	c->idle_val = (uint16_t)ch_count(c, t);
	c->state = I8254_IDLE;
	c->sw_pending = false;
}

/* Start counting a fresh count on the next clock edge. */
static void ch_start(struct i8254_channel *c, uint64_t t, uint32_t n)
{
	c->state = I8254_RUN;
	c->n = n;
	c->l = t + 1;
	c->phase0 = 0;
	c->sw_pending = false;
	c->null_until = c->l;
}

static void ch_control(struct i8254_channel *c, uint64_t t, uint8_t v)
{
	ch_stop(c, t);
	c->rw = (v >> 4) & 3;
	c->mode = (v >> 1) & 7;
	c->bcd = v & 1;
	c->cr_valid = false;
	c->null_until = UINT64_MAX;
	c->wmsb = false;
	c->rmsb = false;
	c->latch_state = 0;
	c->status_latched = false;
}

/* Mode 2/3 count written while counting: switch at the next boundary. */
static void ch_schedule_switch(struct i8254_channel *c, uint64_t t)
{
	uint64_t d = c->phase0 + (t - c->l), p = d % c->n, next;
	uint32_t half = (c->n + 1u) / 2u;

	if (c->sw_pending) {    /* boundary already chosen: just replace */
		c->sw_n = c->cr;
		return;
	}
	if (ch_mode(c) == 3 && c->n >= 2 && p < half) {
		next = d - p + half;
		c->sw_falling = true;
	} else {
		next = (d / c->n + 1) * c->n;
		c->sw_falling = false;
	}
	c->sw_pending = true;
	c->sw_l = c->l + (next - c->phase0);
	c->sw_n = c->cr;
	c->null_until = c->sw_l;
}

static void ch_count_written(struct i8254_channel *c, uint64_t t)
{
	unsigned m = ch_mode(c);

	c->cr_valid = true;
	switch (m) {
	case 0:
	case 4:
		if (c->gate) {
			ch_start(c, t, c->cr);
		} else {
			c->state = I8254_HOLD;  /* loaded, not counting */
			c->n = c->cr;
			c->phase0 = 0;
			c->sw_pending = false;
			c->null_until = t + 1;
		}
		break;
	case 2:
	case 3:
		if (c->state == I8254_RUN && t >= c->l)
			ch_schedule_switch(c, t);
		else if (c->state == I8254_RUN)
			c->n = c->cr;           /* not loaded yet: replace */
		else if (c->gate)
			ch_start(c, t, c->cr);
		else
			c->null_until = UINT64_MAX;     /* loaded at gate rise */
		break;
	default:        /* 1, 5: waits for (or applies at) the next trigger */
		c->null_until = UINT64_MAX;
		break;
	}
}

static uint32_t decode_count(const struct i8254_channel *c, uint16_t raw)
{
	uint32_t v = raw;

	if (c->bcd) {
		v = (uint32_t)(raw & 0xf) + 10u * ((raw >> 4) & 0xf) +
		    100u * ((raw >> 8) & 0xf) + 1000u * ((raw >> 12) & 0xf);
		v %= 10000u;
	}
	return v ? v : ch_modulus(c);
}

static void ch_write_count(struct i8254_channel *c, uint64_t t, uint8_t b)
{
	uint16_t raw;

	switch (c->rw) {
	case 1:
		raw = b;
		break;
	case 2:
		raw = (uint16_t)(b << 8);
		break;
	default:
		if (!c->wmsb) {
			c->wlsb = b;
			c->wmsb = true;
			/* mode 0: the first byte stops counting, OUT low */
			if (ch_mode(c) == 0 && c->state != I8254_IDLE) {
				ch_stop(c, t);
				c->null_until = UINT64_MAX;
			}
			return;
		}
		c->wmsb = false;
		raw = (uint16_t)(c->wlsb | b << 8);
		break;
	}
	c->cr = decode_count(c, raw);
	ch_count_written(c, t);
}

static void ch_set_gate(struct i8254_channel *c, uint64_t t, bool gate)
{
	unsigned m = ch_mode(c);
	uint64_t d;
	uint32_t n;

	if (gate == c->gate)
		return;
	ch_settle(c, t);
	c->gate = gate;
	if (gate) {
		if ((m == 0 || m == 4) && c->state == I8254_HOLD) {
			c->state = I8254_RUN;   /* resume where it stopped */
			c->l = t;
		} else if (m != 0 && m != 4 && c->cr_valid) {
			ch_start(c, t, c->cr);  /* trigger (1, 5) / reload (2, 3) */
		}
		return;
	}
	if (c->state == I8254_RUN && m != 1 && m != 5) {
		(void)ch_d(c, t, &d, &n);
		c->phase0 = d;
		c->state = I8254_HOLD;
		c->sw_pending = false;
	}
}

static void pit_latch_count(struct i8254_channel *c, uint64_t t)
{
	if (c->latch_state)
		return;         /* a second latch before the read is ignored */
	c->latch = ch_reg(c, t);
	c->latch_state = c->rw;
}

static void pit_write_ctrl(struct i8254 *pit, uint64_t t, uint8_t v)
{
	unsigned sc = v >> 6, i;
	struct i8254_channel *c;

	if (sc == 3) {          /* read-back */
		for (i = 0; i < 3; i++) {
			if (!(v & (2u << i)))
				continue;
			c = &pit->ch[i];
			if (!(v & 0x20))
				pit_latch_count(c, t);
			if (!(v & 0x10) && !c->status_latched) {
				c->status = ch_status(c, t);
				c->status_latched = true;
			}
		}
		return;
	}
	c = &pit->ch[sc];
	if (((v >> 4) & 3) == 0)
		pit_latch_count(c, t);
	else
		ch_control(c, t, v);
}

static uint8_t pit_read_counter(struct i8254_channel *c, uint64_t t)
{
	uint16_t v;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	switch (c->latch_state) {
	case 1:
		c->latch_state = 0;
		return (uint8_t)c->latch;
	case 2:
		c->latch_state = 0;
		return (uint8_t)(c->latch >> 8);
	case 3:
		c->latch_state = 2;
		return (uint8_t)c->latch;
	default:
		break;
	}
	v = ch_reg(c, t);
	switch (c->rw) {
	case 1:
		return (uint8_t)v;
	case 2:
		return (uint8_t)(v >> 8);
	default:
		c->rmsb = !c->rmsb;
		return c->rmsb ? (uint8_t)v : (uint8_t)(v >> 8);
	}
}

/* ------------------------------------------------------------ ports */

void i8254_init(struct i8254 *pit, struct irq_line irq0,
		uint64_t (*now_ns)(void *opaque), void *opaque)
{
	pit->irq0 = irq0;
	pit->now_ns = now_ns;
	pit->opaque = opaque;
	pit->irq0_pulses = 0;
	i8254_reset(pit);
}

/*
 * State a PC BIOS leaves (and QEMU resets to): every channel in mode 3,
 * LSB/MSB access, binary, count 65536; channels 0 and 1 counting from now
 * (channel 0 gives the 18.2 Hz tick), channel 2's gate low (port 0x61 = 0).
 */
void i8254_reset(void *dev)
{
	struct i8254 *pit = dev;
	uint64_t t;
	unsigned i;

	if (!pit)
		return;
	t = pit_now(pit);
	pit->seen = t;
	pit->port61 = 0;
	pit->refresh = 0;
	pit->refresh_edge = (pit->now_ns ? pit->now_ns(pit->opaque) : 0) / REFRESH_NS;
	for (i = 0; i < 3; i++) {
		struct i8254_channel *c = &pit->ch[i];

		c->mode = 3;
		c->rw = 3;
		c->bcd = false;
		c->gate = i != 2;
		c->state = I8254_IDLE;
		c->idle_val = 0;
		c->n = 65536;
		c->l = 0;
		c->phase0 = 0;
		c->sw_pending = false;
		c->sw_falling = false;
		c->sw_l = 0;
		c->sw_n = 0;
		c->wlsb = 0;
		c->latch = 0;
		c->status = 0;
		ch_control(c, t, 0x36);         /* mode 3, LSB/MSB, binary */
		c->cr = 65536;
		ch_count_written(c, t);
	}
}

static bool pit_access_ok(uint64_t off, unsigned size, uint64_t span)
{
	return (size == 1 || size == 2 || size == 4) && off < span &&
	       size <= span - off;
}

int i8254_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct i8254 *pit = dev;
	uint64_t t, v = 0;
	unsigned i, port;
	uint8_t b;

	if (!pit || !val || !pit_access_ok(off, size, I8254_SPAN))
		return -1;
	t = pit_now(pit);
	pit_fire(pit, t);
	for (i = 0; i < size; i++) {
		port = (unsigned)off + i;
		/* the control word register is write-only: reads 0 */
		b = port == PORT_CTRL ? 0 : pit_read_counter(&pit->ch[port], t);
		v |= (uint64_t)b << (8 * i);
	}
	*val = v;
	return 0;
}

int i8254_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct i8254 *pit = dev;
	uint64_t t;
	unsigned i, port;
	bool before;
	uint8_t b;

	if (!pit || !pit_access_ok(off, size, I8254_SPAN))
		return -1;
	t = pit_now(pit);
	pit_fire(pit, t);
	for (i = 0; i < size; i++) {
		port = (unsigned)off + i;
		b = (uint8_t)(val >> (8 * i));
		before = ch_out(&pit->ch[0], t);
		if (port == PORT_CTRL) {
			pit_write_ctrl(pit, t, b);
		} else {
			ch_settle(&pit->ch[port], t);
			ch_write_count(&pit->ch[port], t, b);
		}
		/* a control word can raise OUT0 at once (mode 0 -> 2..5) */
		if (!before && ch_out(&pit->ch[0], t))
			pit_pulse(pit);
	}
	return 0;
}

int i8254_port61_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct i8254 *pit = dev;
	uint64_t t, ns;
	uint8_t v;

	if (!pit || !val || !pit_access_ok(off, size, 1))
		return -1;
	ns = pit->now_ns ? pit->now_ns(pit->opaque) : 0;
	t = ns_to_tick(ns);
	pit_fire(pit, t);
	if (ns / REFRESH_NS != pit->refresh_edge) {
		pit->refresh_edge = ns / REFRESH_NS;
		pit->refresh ^= P61_REFRESH;
	}
	v = (pit->port61 & P61_WMASK) | pit->refresh;
	if (ch_out(&pit->ch[2], t))
		v |= P61_OUT2;
	*val = v;
	return 0;
}

int i8254_port61_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct i8254 *pit = dev;
	uint64_t t;

	if (!pit || !pit_access_ok(off, size, 1))
		return -1;
	t = pit_now(pit);
	pit_fire(pit, t);
	pit->port61 = (uint8_t)(val & P61_WMASK);
	ch_set_gate(&pit->ch[2], t, (val & P61_GATE2) != 0);
	return 0;
}

const struct dev_ops i8254_ops = {
	.name = "i8254",
	.read = i8254_read,
	.write = i8254_write,
	.reset = i8254_reset,
};

const struct dev_ops i8254_port61_ops = {
	.name = "i8254-port61",
	.read = i8254_port61_read,
	.write = i8254_port61_write,
	.reset = NULL,
};
