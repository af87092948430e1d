/*
 * libFuzzer harness: devices/i8254.c (the PIT and port 0x61). Virtual time
 * comes from the input: now_ns() returns a clock the input advances by
 * small or large steps (never backwards). Operations: reads and writes of
 * any offset, size and value on ports 0x40-0x43 and 0x61, time steps,
 * resets, and three checking probes. After every operation:
 *  - an access is accepted exactly when the size is 1, 2 or 4 and it fits
 *    in its range; a refused access changes nothing, not even *val;
 *  - IRQ 0 only ever pulses (raised then lowered, driven on change), once
 *    per pulse counted;
 *  - port 0x61 reads bits 0-3 as written, bit 4 the refresh toggle of now,
 *    bit 5 OUT2, bits 6-7 zero;
 *  - next-event probe: i8254_next_event_ns() is after now; one ns before
 *    it, an update gives no pulse and OUT0 is low; at it, an update gives
 *    exactly one pulse and OUT0 is high (the event is a real rising edge
 *    and none is missed before it);
 *  - read-back probe (on a copy of the state): the status byte shows the
 *    programmed RW/mode/BCD and the OUT that i8254_out() reports; a latched
 *    count in BCD mode has digits 0-9; a counting binary mode 2 counter
 *    is within 1..N, a mode 3 one within 0..N;
 *  - rate probe (on copies, at now and now + dt): a loaded counter in mode
 *    0/1/4/5 goes down by exactly the clock edges between (computed
 *    independently, wrapping at 65536 / 10000), one in mode 2 runs N..1
 *    and reloads; in modes 0, 2 and 4 a low gate stops it.
 */
#include "tests/fuzz/fuzz_common.h"
#include "devices/i8254.h"

static uint64_t now;
static int line_level;
static uint64_t raises;

static uint64_t now_ns(void *opaque)
{
	(void)opaque;
	return now;
}

static void irq_set(void *opaque, unsigned line, bool level)
{
	(void)opaque;
	CHECK(line == 0);
	CHECK((int)level != line_level);
	line_level = level;
	if (level)
		raises++;
}

static void check_bcd(uint8_t b)
{
	CHECK((b & 0x0f) <= 9 && (b >> 4) <= 9);
}

/* Read-back probe of channel k on a copy of the PIT (time already updated). */
static void probe(const struct i8254 *pit, unsigned k)
{
	struct i8254 cp = *pit;
	struct i8254_channel *c = &cp.ch[k];
	const struct i8254_channel *o = &pit->ch[k];
	uint64_t st, lo = 0, hi = 0, v;
	unsigned mode = o->mode >= 6 ? o->mode - 4u : o->mode;
	uint32_t maxn;

	c->status_latched = false;
	c->latch_state = 0;
	c->rmsb = false;
	CHECK(i8254_write(&cp, 3, 1, 0xe0 | (2u << k)) == 0);  /* status only */
	CHECK(i8254_read(&cp, k, 1, &st) == 0);
	CHECK((st & 0x3f) == ((unsigned)o->rw << 4 | (unsigned)o->mode << 1 | o->bcd));
	CHECK(((st & 0x80) != 0) == i8254_out(&cp, k));
	CHECK(i8254_write(&cp, 3, 1, k << 6) == 0);             /* latch count */
	CHECK(i8254_read(&cp, k, 1, o->rw == 2 ? &hi : &lo) == 0);
	if (o->rw == 3)
		CHECK(i8254_read(&cp, k, 1, &hi) == 0);
	if (o->bcd) {
		check_bcd((uint8_t)lo);
		check_bcd((uint8_t)hi);
	}
	CHECK(c->latch_state == 0);
	if (o->rw != 3 || o->bcd || o->state == I8254_IDLE)
		return;
	v = lo | hi << 8;
	maxn = o->n > o->cr ? o->n : o->cr;
	if (o->sw_pending && o->sw_n > maxn)
		maxn = o->sw_n;
	if (maxn >= 65536)
		return;
	if (mode == 2)
		CHECK(v >= 1 && v <= maxn);
	if (mode == 3)
		CHECK(v <= maxn);
}

/* PIT clock edges up to ns, computed independently of the model. */
static uint64_t ref_tick(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * I8254_HZ / 1000000000u);
}

/* Counter value of channel k (binary, LSB/MSB access) latched on a copy. */
static uint32_t latched_count(const struct i8254 *pit, unsigned k)
{
	struct i8254 cp = *pit;
	struct i8254_channel *c = &cp.ch[k];
	uint64_t lo, hi;
	uint32_t v;

	cp.irq0.set = NULL;             /* the copy's edges are not the line's */
	c->status_latched = false;
	c->latch_state = 0;
	c->rmsb = false;
	CHECK(i8254_write(&cp, 3, 1, k << 6) == 0);
	CHECK(i8254_read(&cp, k, 1, &lo) == 0);
	CHECK(i8254_read(&cp, k, 1, &hi) == 0);
	v = (uint32_t)(lo | hi << 8);
	if (c->bcd)
		v = (v & 15) + 10 * ((v >> 4) & 15) + 100 * ((v >> 8) & 15) + 1000 * (v >> 12);
	return v;
}

/*
 * Rate probe: a loaded counter in mode 0/1/4/5 goes down by one per clock
 * edge (wrapping), one in mode 2 runs n..1 and reloads; in modes 0, 2
 * and 4 a low gate (channel 2) stops it. Latched on copies at now and
 * now + dt; the PIT's own time does not move.
 */
static void rate_probe(const struct i8254 *pit, unsigned k, uint64_t dt)
{
	const struct i8254_channel *c = &pit->ch[k];
	unsigned mode = c->mode >= 6 ? c->mode - 4u : c->mode;
	uint32_t mod = c->bcd ? 10000 : 65536, v1, v2, want, x1;
	uint64_t t0 = now, ticks;

	bool held = !c->gate && (mode == 0 || mode == 2 || mode == 4);

	if (c->rw != 3 || c->sw_pending || mode == 3)
		return;
	if (!held && (c->state != I8254_RUN || ref_tick(now) < c->l))
		return;                 /* not counting, or count not loaded yet */
	v1 = latched_count(pit, k);
	now += dt;
	v2 = latched_count(pit, k);
	ticks = ref_tick(now) - ref_tick(t0);
	now = t0;
	if (held) {
		CHECK(v2 == v1);        /* gate low: modes 0, 2, 4 do not count */
		return;
	}
	if (mode == 2) {
		if (c->n < 2)
			return;
		x1 = v1 ? v1 : mod;
		CHECK(x1 >= 1 && x1 <= c->n);
		want = c->n - (uint32_t)((c->n - x1 + ticks) % c->n);
	} else {
		want = (uint32_t)((v1 + mod - ticks % mod) % mod);
	}
	CHECK(v2 == want % mod);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned sizes[8] = { 1, 1, 1, 2, 4, 8, 3, 0 };
	struct in in = { data, size };
	struct irq_line irq0 = { irq_set, NULL, 0 };
	struct i8254 pit;

	now = in_bytes(&in, 6);
	line_level = 0;
	raises = 0;
	i8254_init(&pit, irq0, now_ns, NULL);
	for (int ops = 0; in_left(&in) && ops < 2048; ops++) {
		uint8_t op = in_u8(&in), a = in_u8(&in);
		unsigned sz = sizes[(a >> 4) & 7];
		uint64_t off = a & 0x80 ? in_u64(&in) : (uint64_t)(a & 3);
		struct i8254 before = pit;
		uint64_t v, e;
		bool ok;
		int r;

		switch (op & 15) {
		case 0: case 1: case 2:         /* counter / control reads */
			ok = (sz == 1 || sz == 2 || sz == 4) && off < 4 && off + sz <= 4;
			v = 0x7777777777777777ULL;
			r = i8254_read(&pit, off, sz, &v);
			CHECK(r == (ok ? 0 : -1));
			if (r) {
				CHECK(v == 0x7777777777777777ULL);
				CHECK(memcmp(&before, &pit, sizeof(pit)) == 0);
			} else {
				CHECK(sz == 8 || (v >> (8 * sz)) == 0);
			}
			break;
		case 3: case 4: case 5: case 6: /* counter / control writes */
			ok = (sz == 1 || sz == 2 || sz == 4) && off < 4 && off + sz <= 4;
			v = in_u8(&in);
			if (op & 0x80)
				v |= in_u64(&in) << 8;
			if ((op & 15) == 6)             /* a control word, mode 0-7 */
				off = 3, sz = 1, ok = true;
			r = i8254_write(&pit, off, sz, v);
			CHECK(r == (ok ? 0 : -1));
			if (r)
				CHECK(memcmp(&before, &pit, sizeof(pit)) == 0);
			break;
		case 7: {                       /* port 0x61 */
			ok = (sz == 1 || sz == 2 || sz == 4) && off < 1 && off + sz <= 1;
			if (op & 0x80) {
				v = in_u8(&in);
				r = i8254_port61_write(&pit, off, sz, v);
				CHECK(r == (ok ? 0 : -1));
				if (r)
					CHECK(memcmp(&before, &pit, sizeof(pit)) == 0);
				else
					CHECK(pit.port61 == (v & 0x0f) && pit.ch[2].gate == (v & 1));
				break;
			}
			v = 0x7777777777777777ULL;
			r = i8254_port61_read(&pit, off, sz, &v);
			CHECK(r == (ok ? 0 : -1));
			if (r) {
				CHECK(v == 0x7777777777777777ULL);
				CHECK(memcmp(&before, &pit, sizeof(pit)) == 0);
				break;
			}
			CHECK((v & ~0x3fULL) == 0);
			CHECK((v & 0x0f) == pit.port61);
			/* bit 4 flips once per read when a 15.085 us refresh edge
			 * passed since the previous read (docs/devices.md) */
			CHECK(pit.refresh_edge == now / 15085);
			CHECK(((v >> 4) & 1) == ((before.refresh != 0) ^
						 (before.refresh_edge != now / 15085)));
			CHECK(((v >> 5) & 1) == i8254_out(&pit, 2));
			break;
		}
		case 8: case 9:                 /* time steps */
			if (op & 0x80)
				now += in_bytes(&in, 5);
			else
				now += (uint64_t)a * (in_u8(&in) + 1u);
			if (op & 0x40)
				i8254_update(&pit);
			break;
		case 10: case 11: {             /* next-event probe */
			uint64_t p0;

			i8254_update(&pit);
			e = i8254_next_event_ns(&pit);
			if (e == I8254_NO_EVENT)
				break;
			CHECK(e > now);
			if (e - now > (1ULL << 40))
				break;          /* keep virtual time in range */
			p0 = pit.irq0_pulses;
			now = e - 1;
			i8254_update(&pit);
			CHECK(pit.irq0_pulses == p0);
			CHECK(!i8254_out(&pit, 0));
			now = e;
			i8254_update(&pit);
			CHECK(pit.irq0_pulses == p0 + 1);
			CHECK(i8254_out(&pit, 0));
			break;
		}
		case 12: case 13:               /* read-back probe */
			i8254_update(&pit);
			probe(&pit, a % 3);
			break;
		case 14:                        /* rate probe */
			i8254_update(&pit);
			rate_probe(&pit, a % 3, op & 0x80 ? in_bytes(&in, 3) :
				   (uint64_t)in_u8(&in) * ((a >> 2) + 1u));
			break;
		default:
			if (op & 0x80) {
				i8254_reset(&pit);
			} else {
				CHECK(i8254_read(NULL, 0, 1, &v) == -1);
				CHECK(i8254_read(&pit, 0, 1, NULL) == -1);
				CHECK(i8254_write(NULL, 0, 1, 0) == -1);
				CHECK(i8254_port61_read(&pit, 0, 1, NULL) == -1);
				CHECK(i8254_port61_write(NULL, 0, 1, 0) == -1);
				CHECK(!i8254_out(&pit, 3));
				CHECK(i8254_next_event_ns(NULL) == I8254_NO_EVENT);
				i8254_update(NULL);
			}
			break;
		}
		CHECK(line_level == 0);
		CHECK(raises == pit.irq0_pulses);
		for (unsigned k = 0; k < 3; k++) {
			const struct i8254_channel *c = &pit.ch[k];

			CHECK(c->mode < 8 && c->rw >= 1 && c->rw <= 3);
			CHECK(c->state <= I8254_HOLD && c->latch_state <= 3);
			CHECK(c->cr >= 1 && c->cr <= 65536);
			CHECK(!c->bcd || !c->cr_valid || c->cr <= 10000);
			CHECK(c->gate || k == 2);
		}
	}
	return 0;
}
