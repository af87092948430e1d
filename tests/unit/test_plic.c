/* Host unit tests for the RISC-V PLIC model (devices/plic.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "devices/plic.h"

#define PRIO(s)      (0x000000ULL + 4ULL * (s))
#define PENDING(w)   (0x001000ULL + 4ULL * (w))
#define ENABLE(c, w) (0x002000ULL + 0x80ULL * (c) + 4ULL * (w))
#define THRESH(c)    (0x200000ULL + 0x1000ULL * (c))
#define CLAIM(c)     (0x200004ULL + 0x1000ULL * (c))

/* ------------------------------------------------------------ fixture */

struct fake {
	struct plic p;
	bool level[PLIC_MAX_CONTEXTS];
	unsigned calls[PLIC_MAX_CONTEXTS];
	unsigned total_calls;
};

static void fake_out(void *opaque, unsigned line, bool level)
{
	struct fake *f = opaque;

	assert_true(line < PLIC_MAX_CONTEXTS);
	/* the model must only drive a line on a change */
	assert_true(level != f->level[line]);
	f->level[line] = level;
	f->calls[line]++;
	f->total_calls++;
}

static void fake_init(struct fake *f, unsigned nsrc, unsigned nctx)
{
	struct irq_line out[PLIC_MAX_CONTEXTS];

	memset(f, 0, sizeof(*f));
	for (unsigned i = 0; i < PLIC_MAX_CONTEXTS; i++) {
		out[i].set = fake_out;
		out[i].opaque = f;
		out[i].line = i;
	}
	plic_init(&f->p, nsrc, nctx, out);
}

static uint32_t rd(struct fake *f, uint64_t off)
{
	uint64_t v = 0xdeadbeefcafef00dULL;

	assert_int_equal(plic_read(&f->p, off, 4, &v), 0);
	assert_true(v <= 0xffffffffULL);
	return (uint32_t)v;
}

static void wr(struct fake *f, uint64_t off, uint32_t v)
{
	assert_int_equal(plic_write(&f->p, off, 4, v), 0);
}

/* ------------------------------------------------------------ tests */

static void test_ops_and_init(void **state)
{
	struct fake f;

	(void)state;
	assert_string_equal(plic_ops.name, "plic");
	assert_ptr_equal(plic_ops.read, plic_read);
	assert_ptr_equal(plic_ops.write, plic_write);
	assert_ptr_equal(plic_ops.reset, plic_reset);

	fake_init(&f, 0, 0);
	assert_int_equal(f.p.nsrc, 1);
	assert_int_equal(f.p.nctx, 1);
	fake_init(&f, 1000, 1000);
	assert_int_equal(f.p.nsrc, PLIC_MAX_SOURCES);
	assert_int_equal(f.p.nctx, PLIC_MAX_CONTEXTS);
	fake_init(&f, 32, 2);
	assert_int_equal(f.p.nsrc, 32);
	assert_int_equal(f.p.nctx, 2);
	assert_int_equal(f.total_calls, 0);
	/* NULL out array: no callbacks, no crash */
	plic_init(&f.p, 8, 2, NULL);
	plic_set_irq(&f.p, 1, true);
	wr(&f, PRIO(1), 1);
	wr(&f, ENABLE(0, 0), 2);
	assert_int_equal(f.p.out_level, 1);
	assert_int_equal(rd(&f, CLAIM(0)), 1);
}

static void test_priority_registers(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 40, 2);
	wr(&f, PRIO(0), 7);
	assert_int_equal(rd(&f, PRIO(0)), 0);   /* source 0 has no priority */
	for (unsigned s = 1; s < 40; s++)
		wr(&f, PRIO(s), s);
	for (unsigned s = 1; s < 40; s++)
		assert_int_equal(rd(&f, PRIO(s)), s & 7);
	wr(&f, PRIO(3), 0xffffffff);
	assert_int_equal(rd(&f, PRIO(3)), 7);
	/* beyond nsrc: reads 0, writes ignored */
	wr(&f, PRIO(40), 5);
	assert_int_equal(rd(&f, PRIO(40)), 0);
	wr(&f, PRIO(63), 5);
	assert_int_equal(rd(&f, PRIO(63)), 0);
	wr(&f, PRIO(1023), 5);
	assert_int_equal(rd(&f, PRIO(1023)), 0);
	/* thresholds masked the same way */
	wr(&f, THRESH(1), 0x1234);
	assert_int_equal(rd(&f, THRESH(1)), 0x1234 & 7);
	assert_int_equal(rd(&f, THRESH(0)), 0);
}

static void test_enable_registers(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 40, 2);
	wr(&f, ENABLE(0, 0), 0xffffffff);
	wr(&f, ENABLE(0, 1), 0xffffffff);
	assert_int_equal(rd(&f, ENABLE(0, 0)), 0xfffffffe); /* bit 0 */
	assert_int_equal(rd(&f, ENABLE(0, 1)), 0xff);       /* 32..39 */
	assert_int_equal(rd(&f, ENABLE(1, 0)), 0);
	wr(&f, ENABLE(1, 0), 0x10);
	assert_int_equal(rd(&f, ENABLE(1, 0)), 0x10);
	assert_int_equal(rd(&f, ENABLE(0, 0)), 0xfffffffe);
	/* words beyond 2 and contexts beyond nctx: nothing */
	wr(&f, ENABLE(0, 2), 0xffffffff);
	assert_int_equal(rd(&f, ENABLE(0, 2)), 0);
	wr(&f, ENABLE(2, 0), 0xffffffff);
	assert_int_equal(rd(&f, ENABLE(2, 0)), 0);
	assert_int_equal(f.p.enable[2], 0);
	/* all 64 sources */
	fake_init(&f, 64, 1);
	wr(&f, ENABLE(0, 1), 0xffffffff);
	assert_int_equal(rd(&f, ENABLE(0, 1)), 0xffffffff);
}

static void test_pending_and_threshold(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 64, 1);
	plic_set_irq(&f.p, 5, true);
	plic_set_irq(&f.p, 33, true);
	plic_set_irq(&f.p, 63, true);
	assert_int_equal(rd(&f, PENDING(0)), 1u << 5);
	assert_int_equal(rd(&f, PENDING(1)), (1u << 1) | (1u << 31));
	wr(&f, PENDING(0), 0);                 /* read-only */
	assert_int_equal(rd(&f, PENDING(0)), 1u << 5);
	assert_int_equal(rd(&f, PENDING(2)), 0);
	/* priority 0 never interrupts */
	wr(&f, ENABLE(0, 0), 1u << 5);
	assert_false(f.level[0]);
	assert_int_equal(rd(&f, CLAIM(0)), 0);
	wr(&f, PRIO(5), 3);
	assert_true(f.level[0]);
	/* threshold: only priority > threshold */
	wr(&f, THRESH(0), 3);
	assert_false(f.level[0]);
	assert_int_equal(rd(&f, CLAIM(0)), 0);
	assert_int_equal(rd(&f, PENDING(0)), 1u << 5);  /* claim did nothing */
	wr(&f, THRESH(0), 2);
	assert_true(f.level[0]);
	/* disabling drops the output */
	wr(&f, ENABLE(0, 0), 0);
	assert_false(f.level[0]);
	wr(&f, ENABLE(0, 0), 1u << 5);
	assert_true(f.level[0]);
	/* a line that drops before claim un-pends (level source) */
	plic_set_irq(&f.p, 5, false);
	assert_false(f.level[0]);
	assert_int_equal(rd(&f, PENDING(0)), 0);
	assert_int_equal(f.calls[0], 6);
}

static void test_claim_order(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 64, 1);
	wr(&f, ENABLE(0, 0), 0xffffffff);
	wr(&f, ENABLE(0, 1), 0xffffffff);
	wr(&f, PRIO(3), 2);
	wr(&f, PRIO(9), 5);
	wr(&f, PRIO(7), 5);
	wr(&f, PRIO(40), 7);
	wr(&f, PRIO(2), 1);
	plic_set_irq(&f.p, 2, true);
	plic_set_irq(&f.p, 3, true);
	plic_set_irq(&f.p, 9, true);
	plic_set_irq(&f.p, 7, true);
	plic_set_irq(&f.p, 40, true);
	/* highest priority first, lowest id on ties */
	assert_int_equal(rd(&f, CLAIM(0)), 40);
	assert_int_equal(rd(&f, CLAIM(0)), 7);
	assert_int_equal(rd(&f, CLAIM(0)), 9);
	assert_int_equal(rd(&f, CLAIM(0)), 3);
	assert_true(f.level[0]);
	assert_int_equal(rd(&f, CLAIM(0)), 2);
	assert_false(f.level[0]);
	assert_int_equal(rd(&f, CLAIM(0)), 0);
	assert_int_equal(rd(&f, PENDING(0)), 0);
	assert_int_equal(rd(&f, PENDING(1)), 0);
	assert_int_equal(f.p.in_service,
			 (1ULL << 2) | (1ULL << 3) | (1ULL << 7) | (1ULL << 9) | (1ULL << 40));
}

static void test_gateway_level_stays_high(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 16, 1);
	wr(&f, PRIO(4), 1);
	wr(&f, ENABLE(0, 0), 1u << 4);
	plic_set_irq(&f.p, 4, true);
	assert_true(f.level[0]);
	assert_int_equal(rd(&f, CLAIM(0)), 4);
	assert_false(f.level[0]);
	/* in service: the high line does not re-pend */
	assert_int_equal(rd(&f, PENDING(0)), 0);
	assert_int_equal(rd(&f, CLAIM(0)), 0);
	plic_set_irq(&f.p, 4, true);
	assert_false(f.level[0]);
	/* completion of a different id: ignored */
	wr(&f, CLAIM(0), 5);
	assert_false(f.level[0]);
	/* completion while the line is still high: re-pends at once */
	wr(&f, CLAIM(0), 4);
	assert_true(f.level[0]);
	assert_int_equal(rd(&f, PENDING(0)), 1u << 4);
	assert_int_equal(rd(&f, CLAIM(0)), 4);
	/* device deasserts while in service, then complete: quiet */
	plic_set_irq(&f.p, 4, false);
	wr(&f, CLAIM(0), 4);
	assert_false(f.level[0]);
	assert_int_equal(rd(&f, PENDING(0)), 0);
	assert_int_equal(f.p.in_service, 0);
	/* and a new edge works again */
	plic_set_irq(&f.p, 4, true);
	assert_true(f.level[0]);
	/* double completion is harmless */
	assert_int_equal(rd(&f, CLAIM(0)), 4);
	wr(&f, CLAIM(0), 4);
	wr(&f, CLAIM(0), 4);
	assert_true(f.level[0]);
	assert_int_equal(f.calls[0], 7);
}

static void test_complete_requires_enable(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 16, 2);
	wr(&f, PRIO(6), 2);
	wr(&f, ENABLE(0, 0), 1u << 6);
	plic_set_irq(&f.p, 6, true);
	assert_int_equal(rd(&f, CLAIM(0)), 6);
	/* context 1 does not have source 6 enabled: its completion is ignored */
	wr(&f, CLAIM(1), 6);
	assert_int_equal(f.p.in_service, 1ULL << 6);
	/* disabling it in context 0 before completion also ignores it */
	wr(&f, ENABLE(0, 0), 0);
	wr(&f, CLAIM(0), 6);
	assert_int_equal(f.p.in_service, 1ULL << 6);
	wr(&f, ENABLE(0, 0), 1u << 6);
	wr(&f, CLAIM(0), 6);
	assert_int_equal(f.p.in_service, 0);
	assert_true(f.level[0]);
	/* out of range ids ignored */
	wr(&f, CLAIM(0), 0);
	wr(&f, CLAIM(0), 16);
	wr(&f, CLAIM(0), 64);
	wr(&f, CLAIM(0), 0xffffffff);
	assert_int_equal(plic_write(&f.p, CLAIM(0), 4, 0x100000006ULL), 0);
	assert_true(f.level[0]);
	assert_int_equal(f.p.in_service, 0);
}

static void test_two_contexts(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 32, 2);
	wr(&f, PRIO(1), 1);
	wr(&f, PRIO(2), 6);
	wr(&f, ENABLE(0, 0), (1u << 1) | (1u << 2));
	wr(&f, ENABLE(1, 0), 1u << 2);
	wr(&f, THRESH(1), 6);
	plic_set_irq(&f.p, 1, true);
	assert_true(f.level[0]);
	assert_false(f.level[1]);
	plic_set_irq(&f.p, 2, true);
	assert_false(f.level[1]);               /* prio 6 !> threshold 6 */
	wr(&f, THRESH(1), 5);
	assert_true(f.level[1]);
	/* context 1 claims 2: both lose it; context 0 still has 1 */
	assert_int_equal(rd(&f, CLAIM(1)), 2);
	assert_false(f.level[1]);
	assert_true(f.level[0]);
	assert_int_equal(rd(&f, CLAIM(0)), 1);
	assert_false(f.level[0]);
	/* context 0 may complete 2 as well (enabled there) */
	wr(&f, CLAIM(0), 2);
	assert_true(f.level[0]);
	assert_true(f.level[1]);
	assert_int_equal(rd(&f, CLAIM(0)), 2);
	assert_false(f.level[0]);
	assert_false(f.level[1]);
	wr(&f, CLAIM(1), 2);
	assert_true(f.level[1]);
	assert_true(f.level[0]);
	/* contexts outside nctx do nothing */
	assert_int_equal(rd(&f, CLAIM(2)), 0);
	wr(&f, THRESH(2), 1);
	assert_int_equal(rd(&f, THRESH(2)), 0);
	assert_int_equal(f.calls[2], 0);
}

static void test_set_irq_out_of_range(void **state)
{
	struct fake f;
	struct plic snap;

	(void)state;
	fake_init(&f, 10, 1);
	wr(&f, ENABLE(0, 0), 0xffffffff);
	for (unsigned s = 1; s < 10; s++)
		wr(&f, PRIO(s), 1);
	memcpy(&snap, &f.p, sizeof(snap));
	plic_set_irq(&f.p, 0, true);
	plic_set_irq(&f.p, 10, true);
	plic_set_irq(&f.p, 63, true);
	plic_set_irq(&f.p, 64, true);
	plic_set_irq(&f.p, 1000, true);
	plic_set_irq(&f.p, 0xffffffffu, true);
	plic_set_irq(NULL, 1, true);
	assert_memory_equal(&snap, &f.p, sizeof(snap));
	assert_false(f.level[0]);
	assert_int_equal(rd(&f, CLAIM(0)), 0);
	plic_set_irq(&f.p, 9, true);
	assert_true(f.level[0]);
	assert_int_equal(rd(&f, CLAIM(0)), 9);
}

static void test_reset(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 64, 3);
	for (unsigned c = 0; c < 3; c++) {
		wr(&f, ENABLE(c, 0), 0xffffffff);
		wr(&f, ENABLE(c, 1), 0xffffffff);
		wr(&f, THRESH(c), 1);
	}
	for (unsigned s = 1; s < 64; s++)
		wr(&f, PRIO(s), 7);
	plic_set_irq(&f.p, 3, true);
	plic_set_irq(&f.p, 50, true);
	assert_int_equal(rd(&f, CLAIM(2)), 3);
	assert_true(f.level[0] && f.level[1] && f.level[2]);
	plic_ops.reset(&f.p);
	for (unsigned c = 0; c < 3; c++) {
		assert_false(f.level[c]);
		assert_int_equal(f.calls[c], 2);
		assert_int_equal(rd(&f, ENABLE(c, 0)), 0);
		assert_int_equal(rd(&f, ENABLE(c, 1)), 0);
		assert_int_equal(rd(&f, THRESH(c)), 0);
		assert_int_equal(rd(&f, CLAIM(c)), 0);
	}
	for (unsigned s = 0; s < 64; s++)
		assert_int_equal(rd(&f, PRIO(s)), 0);
	assert_int_equal(f.p.in_service, 0);
	/* input wires are kept: a line still high is pending again */
	assert_int_equal(rd(&f, PENDING(0)), 1u << 3);
	assert_int_equal(rd(&f, PENDING(1)), 1u << 18);
	/* reset with everything low drives nothing */
	plic_set_irq(&f.p, 3, false);
	plic_set_irq(&f.p, 50, false);
	plic_reset(&f.p);
	assert_int_equal(f.total_calls, 6);
	assert_int_equal(rd(&f, PENDING(0)), 0);
	plic_reset(NULL);
}

static void test_bad_accesses(void **state)
{
	struct fake f;
	struct plic snap;
	uint64_t v;
	static const unsigned sizes[] = { 0, 1, 2, 3, 4, 5, 8, 16, 0xffffffffu };
	static const uint64_t edges[] = {
		0, 1, 2, 3, 4, 0xffc, 0xffd, 0x1000, 0x1004, 0x1008, 0x107c,
		0x1080, 0x1ffc, 0x2000, 0x2004, 0x2008, 0x207c, 0x2080,
		0x2380, 0x2384, 0x1f1ffc, 0x1f2000, 0x1ffffc, 0x200000,
		0x200004, 0x200008, 0x200ffc, 0x201000, 0x201004,
		0x207000, 0x207004, 0x208000, 0x208004, 0x3ffffc, 0x3ffffd,
		0x3fffff, 0x400000, 0x400004, 0x7fffffff, 0xfffffffc,
		0x100000000ULL, 0xfffffffffffffffcULL, 0xffffffffffffffffULL,
	};

	(void)state;
	fake_init(&f, 64, 8);
	/* a busy state, so corruption would show */
	for (unsigned s = 1; s < 64; s++)
		wr(&f, PRIO(s), s % 8);
	for (unsigned c = 0; c < 8; c++) {
		wr(&f, ENABLE(c, 0), 0x5555aaaa);
		wr(&f, ENABLE(c, 1), 0xaaaa5555);
	}
	for (unsigned s = 1; s < 64; s += 3)
		plic_set_irq(&f.p, s, true);

	/* wrong size or alignment anywhere: -1 and nothing changes */
	memcpy(&snap, &f.p, sizeof(snap));
	for (uint64_t off = 0; off < PLIC_SIZE + 0x2000; off += 0x3fc) {
		for (unsigned d = 0; d < 4; d++) {
			for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
				uint64_t o = off + d;
				bool ok = sizes[i] == 4 && d == 0 && o < PLIC_SIZE;

				if (ok)
					continue;
				v = 0x77;
				assert_int_equal(plic_read(&f.p, o, sizes[i], &v), -1);
				assert_int_equal(v, 0x77);
				assert_int_equal(plic_write(&f.p, o, sizes[i], ~0ULL), -1);
			}
		}
	}
	for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			uint64_t o = edges[e];

			if (sizes[i] == 4 && (o & 3) == 0 && o < PLIC_SIZE)
				continue;
			assert_int_equal(plic_read(&f.p, o, sizes[i], &v), -1);
			assert_int_equal(plic_write(&f.p, o, sizes[i], ~0ULL), -1);
		}
	}
	assert_memory_equal(&snap, &f.p, sizeof(snap));

	/* valid 4-byte accesses across the whole window (coarse stride plus
	 * edges): never crash, always 0, values 32-bit */
	for (uint64_t off = 0; off < PLIC_SIZE; off += 0x1fc) {
		assert_int_equal(plic_read(&f.p, off, 4, &v), 0);
		assert_true(v <= 0xffffffffULL);
		assert_int_equal(plic_write(&f.p, off, 4, v ^ 0xffffffffffffffffULL), 0);
	}
	for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++) {
		if ((edges[e] & 3) || edges[e] >= PLIC_SIZE)
			continue;
		assert_int_equal(plic_read(&f.p, edges[e], 4, &v), 0);
		assert_int_equal(plic_write(&f.p, edges[e], 4, 0xffffffff), 0);
	}
	/* every source slot and context slot explicitly */
	for (uint64_t s = 0; s < 1024; s++) {
		assert_int_equal(plic_write(&f.p, PRIO(s), 4, s), 0);
		assert_int_equal(plic_read(&f.p, PRIO(s), 4, &v), 0);
		assert_true(v <= 7);
	}
	for (uint64_t c = 0; c < 15872; c += 7)
		assert_int_equal(plic_write(&f.p, ENABLE(c, 1), 4, 0xffffffff), 0);
	for (uint64_t c = 0; c < 512; c++) {    /* contexts in the window */
		assert_int_equal(plic_write(&f.p, THRESH(c), 4, c), 0);
		assert_int_equal(plic_read(&f.p, CLAIM(c), 4, &v), 0);
		assert_true(v < 64);
		assert_int_equal(plic_write(&f.p, CLAIM(c), 4, v), 0);
	}
	assert_true(f.p.nsrc == 64 && f.p.nctx == 8);
	assert_int_equal(f.p.pending & f.p.in_service, 0);
	assert_int_equal(f.p.pending & 1, 0);
	assert_int_equal(plic_read(&f.p, 0, 4, NULL), -1);
	assert_int_equal(plic_read(NULL, 0, 4, &v), -1);
	assert_int_equal(plic_write(NULL, 0, 4, 0), -1);
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

static uint64_t valid_mask(unsigned nsrc)
{
	return (nsrc >= 64 ? ~0ULL : (1ULL << nsrc) - 1) & ~1ULL;
}

/* Reference: best source for ctx (0 if none), from the documented rules. */
static unsigned ref_best(const struct plic *p, unsigned ctx)
{
	unsigned best = 0;
	uint32_t bp = p->threshold[ctx];

	for (unsigned s = 1; s < p->nsrc; s++) {
		uint64_t b = 1ULL << s;

		if ((p->level & b) && !(p->in_service & b) &&
		    (p->enable[ctx] & b) && p->prio[s] > bp) {
			bp = p->prio[s];
			best = s;
		}
	}
	return best;
}

static void check_invariants(struct fake *f)
{
	const struct plic *p = &f->p;
	uint64_t vm = valid_mask(p->nsrc);

	assert_int_equal(p->pending, p->level & ~p->in_service & vm);
	assert_int_equal(p->in_service & ~vm, 0);
	for (unsigned c = 0; c < PLIC_MAX_CONTEXTS; c++) {
		bool exp = c < p->nctx && ref_best(p, c) != 0;

		assert_true(f->level[c] == exp);
		assert_true((bool)((p->out_level >> c) & 1) == exp);
		assert_int_equal(p->enable[c] & ~vm, 0);
		assert_true(p->threshold[c] <= 7);
	}
	for (unsigned s = 0; s < PLIC_MAX_SOURCES; s++)
		assert_true(p->prio[s] <= 7);
	assert_int_equal(p->prio[0], 0);
}

static uint64_t random_offset(uint64_t r, unsigned nctx)
{
	unsigned c = (unsigned)((r >> 8) % (nctx + 1)); /* sometimes 1 too far */

	switch (r & 7) {
	case 0: return PRIO((r >> 12) % 70);
	case 1: return PENDING((r >> 12) % 4);
	case 2: return ENABLE(c, (r >> 12) % 3);
	case 3: return THRESH(c);
	case 4: case 5: return CLAIM(c);
	case 6: return (r >> 12) % (PLIC_SIZE + 64);
	default: return (r >> 12) & ~3ULL;    /* anywhere, mostly far out */
	}
}

static void random_run(unsigned nsrc, unsigned nctx, uint64_t seed)
{
	static const unsigned sizes[] = { 4, 4, 4, 4, 4, 4, 1, 8 };
	struct fake f;

	fake_init(&f, nsrc, nctx);
	xs_state = seed;
	for (unsigned i = 0; i < 100000; i++) {
		uint64_t r = xorshift();
		uint64_t val = xorshift();
		uint64_t off = random_offset(r >> 3, nctx);
		unsigned size = sizes[(r >> 60) & 7];
		bool ok = size == 4 && !(off & 3) && off < PLIC_SIZE;
		uint64_t v = 0;

		/* small values make the priority/claim paths interesting */
		if (val & 1)
			val = (val >> 1) % 72;
		switch ((r >> 56) & 3) {
		case 0: {
			unsigned c = (unsigned)(((off - 0x200004) / 0x1000));
			bool is_claim = ok && off >= 0x200000 &&
					((off - 0x200000) % 0x1000) == 4 &&
					c < f.p.nctx;
			unsigned exp = is_claim ? ref_best(&f.p, c) : 0;

			assert_int_equal(plic_read(&f.p, off, size, &v), ok ? 0 : -1);
			if (ok)
				assert_true(v <= 0xffffffffULL);
			if (is_claim) {
				assert_int_equal(v, exp);
				if (exp)
					assert_true(f.p.in_service & (1ULL << exp));
			}
			break;
		}
		case 1:
			assert_int_equal(plic_write(&f.p, off, size, val), ok ? 0 : -1);
			break;
		case 2:
			plic_set_irq(&f.p, (unsigned)(val % 70), (r >> 40) & 1);
			break;
		default:
			if ((r >> 20) % 1024 == 0)
				plic_reset(&f.p);
			else
				plic_set_irq(&f.p, (unsigned)(val % 70), (r >> 41) & 1);
			break;
		}
		check_invariants(&f);
	}
	assert_true(f.total_calls > 0);
}

static void test_random_sequences(void **state)
{
	(void)state;
	random_run(64, 8, 0x9e3779b97f4a7c15ULL);
	random_run(33, 2, 0x0123456789abcdefULL);
	random_run(5, 1, 0xfeedfacecafebeefULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops_and_init),
		cmocka_unit_test(test_priority_registers),
		cmocka_unit_test(test_enable_registers),
		cmocka_unit_test(test_pending_and_threshold),
		cmocka_unit_test(test_claim_order),
		cmocka_unit_test(test_gateway_level_stays_high),
		cmocka_unit_test(test_complete_requires_enable),
		cmocka_unit_test(test_two_contexts),
		cmocka_unit_test(test_set_irq_out_of_range),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_bad_accesses),
		cmocka_unit_test(test_random_sequences),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
