/* Host unit tests for the host page allocator (core/palloc.c).
 *
 * palloc zeroes what it hands out, so it is given real memory: a 64 MiB,
 * 2 MiB aligned heap arena (and, for the 1 GiB alignment test, a window of
 * an mmap'ed address-space reservation).
 *
 * State: palloc keeps its free ranges in file-scope statics and has no
 * reset function. Every test runs in this one process, in order, and starts
 * from a known state: the setup function empties the allocator through its
 * own API (reserving [0, 2^64 - 4 KiB), which covers every range palloc_add
 * can ever accept, since a range ending at 2^64 wraps and is refused) and
 * asserts palloc_free_bytes() == 0 before adding what the test needs. That
 * keeps cmocka's per-test reporting, which fork-per-test would complicate.
 * Ranges that are never allocated from may use made-up addresses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/log.h"
#include "core/palloc.h"

/* ------------------------------------------------------------ log stub */

static unsigned log_calls;
static char last_log[256];

void log_printf(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	(void)lvl;
	log_calls++;
	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ fixture */

#define ARENA_SIZE MiB(64)
#define FILL 0xa5

static uint8_t *arena;
static uint64_t A;              /* arena address */

static void palloc_reset(void)
{
	palloc_reserve(0, 1ULL << 63);
	palloc_reserve(1ULL << 63, (1ULL << 63) - PAGE_SIZE);
	assert_int_equal(palloc_free_bytes(), 0);
}

static int group_setup(void **state)
{
	(void)state;
	arena = aligned_alloc(MiB(2), ARENA_SIZE);
	if (!arena)
		return -1;
	A = (uint64_t)(uintptr_t)arena;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	free(arena);
	return 0;
}

/* Empty allocator, arena filled with a pattern, not yet added. */
static int setup(void **state)
{
	(void)state;
	palloc_reset();
	memset(arena, FILL, ARENA_SIZE);
	log_calls = 0;
	return 0;
}

static void expect_zero(uint64_t addr, uint64_t size)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)addr;

	for (uint64_t i = 0; i < size; i++)
		if (p[i])
			fail_msg("byte 0x%llx of 0x%llx not zeroed", (unsigned long long)i,
				 (unsigned long long)addr);
}

static void expect_fill(uint64_t addr, uint64_t size)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)addr;

	for (uint64_t i = 0; i < size; i++)
		if (p[i] != FILL)
			fail_msg("byte at 0x%llx touched", (unsigned long long)(addr + i));
}

/* ------------------------------------------------------------ add */

static void test_add(void **state)
{
	(void)state;
	palloc_add(A, ARENA_SIZE);
	assert_int_equal(palloc_free_bytes(), ARENA_SIZE);
	palloc_reset();

	/* rounded inwards to whole pages */
	palloc_add(A + 100, 3 * PAGE_SIZE);
	assert_int_equal(palloc_free_bytes(), 2 * PAGE_SIZE);
	assert_int_equal(palloc_alloc(PAGE_SIZE, PAGE_SIZE), A + PAGE_SIZE);
	assert_int_equal(palloc_alloc(PAGE_SIZE, PAGE_SIZE), A + 2 * PAGE_SIZE);
	assert_int_equal(palloc_alloc(PAGE_SIZE, PAGE_SIZE), 0);
	expect_fill(A, PAGE_SIZE);                         /* outside: untouched */
	expect_fill(A + 3 * PAGE_SIZE, PAGE_SIZE);
	palloc_reset();

	/* nothing left after rounding, empty, wrapping: ignored */
	palloc_add(A + 1, PAGE_SIZE);
	palloc_add(A + 1, 2 * PAGE_SIZE - 2);
	palloc_add(A, 0);
	palloc_add(A, PAGE_SIZE - 1);
	palloc_add(~0ULL - PAGE_SIZE, 4 * PAGE_SIZE);
	palloc_add(1ULL << 63, 1ULL << 63);                /* ends at 2^64 */
	assert_int_equal(palloc_free_bytes(), 0);

	/* several ranges add up */
	palloc_add(GiB(1), MiB(1));
	palloc_add(GiB(2), MiB(3));
	assert_int_equal(palloc_free_bytes(), MiB(4));
}

/* Regression (fixed; was core/palloc.c:18, palloc_add): ranges are appended in call order,
 * so the free list is only sorted if the caller adds RAM bottom-up. The
 * allocator relies on it being sorted ("keep the list sorted by address:
 * first fit is lowest fit", palloc_reserve). Input: palloc_add(A + 32M, 32M)
 * then palloc_add(A, 32M); palloc_alloc(4K, 4K). Expected A (lowest fit);
 * actual A + 32M. */
static void test_add_keeps_sorted(void **state)
{
	(void)state;
	palloc_add(A + MiB(32), MiB(32));
	palloc_add(A, MiB(32));
	assert_int_equal(palloc_alloc(PAGE_SIZE, PAGE_SIZE), A);
}

static void test_add_max_ranges(void **state)
{
	(void)state;
	/* made-up addresses: only counted, never allocated from */
	for (unsigned i = 0; i < PALLOC_MAX_RANGES + 5; i++)
		palloc_add(GiB(4) + MiB(2) * i, MiB(1));
	assert_int_equal(palloc_free_bytes(), MiB(1) * PALLOC_MAX_RANGES);
}

/* ------------------------------------------------------------ alloc */

static void test_alloc_alignment(void **state)
{
	uint64_t a, b, c, d, e, f;

	(void)state;
	palloc_add(A, ARENA_SIZE);
	a = palloc_alloc(PAGE_SIZE, PAGE_SIZE);
	assert_int_equal(a, A);                     /* first fit, lowest */
	b = palloc_alloc(PAGE_SIZE, 0);             /* align < 4 KiB: a page */
	assert_int_equal(b, A + PAGE_SIZE);
	c = palloc_alloc(1, 1);                     /* size rounds up to a page */
	assert_int_equal(c, A + 2 * PAGE_SIZE);
	d = palloc_alloc(MiB(2), MiB(2));
	assert_int_equal(d, A + MiB(2));            /* skips the partial 2 MiB */
	assert_true(IS_ALIGNED(d, MiB(2)));
	e = palloc_alloc(PAGE_SIZE, PAGE_SIZE);     /* fills the gap below d */
	assert_int_equal(e, A + 3 * PAGE_SIZE);
	f = palloc_alloc(KiB(12), KiB(16));
	assert_true(IS_ALIGNED(f, KiB(16)));
	assert_int_equal(f, A + KiB(16));
	assert_int_equal(palloc_free_bytes(), ARENA_SIZE - 4 * PAGE_SIZE - MiB(2) - KiB(12));

	/* all zeroed, and exactly as much as asked (rounded to pages) */
	expect_zero(a, 3 * PAGE_SIZE);
	expect_zero(d, MiB(2));
	expect_zero(e, PAGE_SIZE);
	expect_zero(f, KiB(12));
	expect_fill(A + KiB(28), MiB(2) - KiB(28));
	expect_fill(A + MiB(4), PAGE_SIZE);

	/* a bigger aligned block goes to the first 8 MiB boundary above d */
	assert_int_equal(palloc_alloc(MiB(8), MiB(8)), ALIGN_UP(A + MiB(4), MiB(8)));
	/* and the 4 KiB holes are still handed out lowest first */
	assert_int_equal(palloc_alloc(PAGE_SIZE, PAGE_SIZE), A + KiB(28));
}

static void test_alloc_2m_many(void **state)
{
	(void)state;
	palloc_add(A + PAGE_SIZE, ARENA_SIZE - PAGE_SIZE);   /* unaligned start */
	for (unsigned i = 1; i < ARENA_SIZE / MiB(2); i++) {
		uint64_t p = palloc_alloc(MiB(2), MiB(2));

		assert_int_equal(p, A + MiB(2) * i);
	}
	assert_int_equal(palloc_alloc(MiB(2), MiB(2)), 0);
	/* what is left is the first 2 MiB minus a page: smaller blocks fit */
	assert_int_equal(palloc_free_bytes(), MiB(2) - PAGE_SIZE);
	assert_int_equal(palloc_alloc(MiB(1), MiB(1)), A + MiB(1));
	assert_int_equal(palloc_alloc(MiB(1), PAGE_SIZE), 0);
	assert_int_equal(palloc_alloc(MiB(1) - PAGE_SIZE, PAGE_SIZE), A + PAGE_SIZE);
	assert_int_equal(palloc_free_bytes(), 0);
}

static void test_alloc_1g_alignment(void **state)
{
	uint64_t g, got;
	uint8_t *res;

	(void)state;
	/* in the arena: only if it happens to straddle a 1 GiB boundary */
	palloc_add(A, ARENA_SIZE);
	g = ALIGN_UP(A, GiB(1));
	got = palloc_alloc(PAGE_SIZE, GiB(1));
	if (g + PAGE_SIZE <= A + ARENA_SIZE) {
		assert_int_equal(got, g);
	} else {
		assert_int_equal(got, 0);
		assert_int_equal(palloc_free_bytes(), ARENA_SIZE);
	}
	/* an alignment larger than any address here always fails */
	assert_int_equal(palloc_alloc(PAGE_SIZE, 1ULL << 62), 0);
	assert_int_equal(palloc_alloc(PAGE_SIZE, 1ULL << 63), 0);
	palloc_reset();

	/* a real 1 GiB aligned page: reserve 2 GiB of address space, open a
	 * 2 MiB read/write window around the 1 GiB boundary inside it */
	res = mmap(NULL, GiB(2), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		skip();
	g = ALIGN_UP((uint64_t)(uintptr_t)res, GiB(1));
	assert_int_equal(mprotect((void *)(uintptr_t)(g - MiB(1)), MiB(2),
				  PROT_READ | PROT_WRITE), 0);
	memset((void *)(uintptr_t)(g - MiB(1)), FILL, MiB(2));
	palloc_add(g - MiB(1), MiB(2));
	got = palloc_alloc(PAGE_SIZE, GiB(1));
	assert_int_equal(got, g);
	expect_zero(g, PAGE_SIZE);
	expect_fill(g + PAGE_SIZE, PAGE_SIZE);
	assert_int_equal(palloc_free_bytes(), MiB(2) - PAGE_SIZE);
	/* the next 1 GiB boundary is outside the window */
	assert_int_equal(palloc_alloc(PAGE_SIZE, GiB(1)), 0);
	palloc_reset();
	munmap(res, GiB(2));
}

static void test_exhaustion(void **state)
{
	uint64_t prev = 0;

	(void)state;
	palloc_add(A, ARENA_SIZE);
	assert_int_equal(palloc_alloc(ARENA_SIZE + PAGE_SIZE, PAGE_SIZE), 0);
	assert_int_equal(palloc_alloc(~0ULL, PAGE_SIZE), 0);           /* rounds to 0 */
	assert_int_equal(palloc_alloc(~0ULL - 2 * PAGE_SIZE, PAGE_SIZE), 0);
	assert_int_equal(palloc_alloc(0, PAGE_SIZE), 0);               /* nothing */
	assert_int_equal(palloc_free_bytes(), ARENA_SIZE);
	expect_fill(A, PAGE_SIZE);

	/* page by page until nothing is left */
	for (unsigned i = 0; i < ARENA_SIZE / PAGE_SIZE; i++) {
		uint64_t p = palloc_alloc(PAGE_SIZE, PAGE_SIZE);

		assert_int_equal(p, A + PAGE_SIZE * i);
		assert_true(p > prev);
		prev = p;
		assert_int_equal(palloc_free_bytes(), ARENA_SIZE - PAGE_SIZE * (i + 1));
	}
	assert_int_equal(palloc_alloc(PAGE_SIZE, PAGE_SIZE), 0);
	assert_int_equal(palloc_alloc(1, 1), 0);
	assert_int_equal(palloc_free_bytes(), 0);
	expect_zero(A, ARENA_SIZE);
}

static void test_alloc_whole(void **state)
{
	(void)state;
	palloc_add(A, ARENA_SIZE);
	assert_int_equal(palloc_alloc(ARENA_SIZE, MiB(2)), A);
	assert_int_equal(palloc_free_bytes(), 0);
	assert_int_equal(palloc_alloc(PAGE_SIZE, PAGE_SIZE), 0);
}

static void test_free_but_misaligned(void **state)
{
	(void)state;
	/* 2 MiB - 4 KiB free, but no 2 MiB boundary with room after it */
	palloc_add(A + PAGE_SIZE, MiB(2) - PAGE_SIZE);
	assert_int_equal(palloc_alloc(PAGE_SIZE, MiB(2)), 0);
	assert_int_equal(palloc_alloc(MiB(2), PAGE_SIZE), 0);
	assert_int_equal(palloc_free_bytes(), MiB(2) - PAGE_SIZE);
	assert_int_equal(palloc_alloc(PAGE_SIZE, MiB(1)), A + MiB(1));
}

/* ------------------------------------------------------------ reserve */

static void test_reserve_split(void **state)
{
	(void)state;
	palloc_add(A, ARENA_SIZE);
	palloc_reserve(A + MiB(1), PAGE_SIZE);          /* a hole in the middle */
	assert_int_equal(palloc_free_bytes(), ARENA_SIZE - PAGE_SIZE);
	/* the lower part is tried first; too small for 1 MiB + 4 KiB */
	assert_int_equal(palloc_alloc(MiB(1) + PAGE_SIZE, PAGE_SIZE), A + MiB(1) + PAGE_SIZE);
	assert_int_equal(palloc_alloc(MiB(1), PAGE_SIZE), A);
	assert_int_equal(palloc_free_bytes(), ARENA_SIZE - MiB(2) - 2 * PAGE_SIZE);
	/* the reserved page is never handed out */
	for (uint64_t p; (p = palloc_alloc(PAGE_SIZE, PAGE_SIZE)) != 0;)
		assert_int_not_equal(p, A + MiB(1));
	expect_fill(A + MiB(1), PAGE_SIZE);
}

static void test_reserve_edges(void **state)
{
	uint64_t free0;

	(void)state;
	palloc_add(A, MiB(16));
	/* unaligned: widened to whole pages */
	palloc_reserve(A + MiB(5) + 1, 10);
	assert_int_equal(palloc_free_bytes(), MiB(16) - PAGE_SIZE);
	palloc_reserve(A + MiB(6) - 1, 2);               /* straddles two pages */
	assert_int_equal(palloc_free_bytes(), MiB(16) - 3 * PAGE_SIZE);
	/* at the start and the end of the range */
	palloc_reserve(A, PAGE_SIZE);
	palloc_reserve(A + MiB(16) - PAGE_SIZE, PAGE_SIZE);
	assert_int_equal(palloc_free_bytes(), MiB(16) - 5 * PAGE_SIZE);
	assert_int_equal(palloc_alloc(PAGE_SIZE, PAGE_SIZE), A + PAGE_SIZE);
	/* overlapping the end of the range and beyond */
	palloc_reserve(A + MiB(15), MiB(10));
	/* outside every range, and empty */
	free0 = palloc_free_bytes();
	palloc_reserve(A + MiB(32), MiB(1));
	palloc_reserve(A + MiB(2), 0);
	assert_int_equal(palloc_free_bytes(), free0);
	/* 16M - 3 pages (holes) - 2 (ends) - 1 (alloc) - (1M - 1 page) */
	assert_int_equal(free0, MiB(15) - 5 * PAGE_SIZE);
	/* twice is the same as once */
	palloc_reserve(A + MiB(5), PAGE_SIZE);
	assert_int_equal(palloc_free_bytes(), free0);
	/* a range fully covered disappears; covering several ranges at once */
	palloc_reserve(A + MiB(5), MiB(1) + PAGE_SIZE);   /* [5M, 6M + 4K) */
	assert_int_equal(palloc_free_bytes(), free0 - MiB(1) + 2 * PAGE_SIZE);
	palloc_reserve(A, MiB(15));
	assert_int_equal(palloc_free_bytes(), 0);
	assert_int_equal(palloc_alloc(PAGE_SIZE, PAGE_SIZE), 0);
}

static void test_reserve_out_of_slots(void **state)
{
	const uint64_t base = GiB(16);  /* made up: never allocated from */
	uint64_t before;

	(void)state;
	palloc_add(base, MiB(64));
	/* 63 holes make 64 ranges */
	for (unsigned i = 0; i < PALLOC_MAX_RANGES - 1; i++)
		palloc_reserve(base + MiB(1) * (i + 1), PAGE_SIZE);
	before = palloc_free_bytes();
	assert_int_equal(before, MiB(64) - (PALLOC_MAX_RANGES - 1) * PAGE_SIZE);
	/* one more split with no slot left: the upper part is dropped
	 * (documented: lose memory rather than overlap) */
	palloc_reserve(base + MiB(32) + KiB(512), PAGE_SIZE);   /* in [32M+4K, 33M) */
	assert_int_equal(palloc_free_bytes(), before - KiB(512));
	before = palloc_free_bytes();
	/* trimming an end needs no slot and is exact */
	palloc_reserve(base + MiB(40) + PAGE_SIZE, PAGE_SIZE);
	assert_int_equal(palloc_free_bytes(), before - PAGE_SIZE);
	/* emptying a range frees its slot: splitting is exact again */
	palloc_reserve(base + MiB(1), MiB(1));                  /* [1M+4K, 2M) gone */
	before = palloc_free_bytes();
	palloc_reserve(base + MiB(50) + KiB(512), PAGE_SIZE);
	assert_int_equal(palloc_free_bytes(), before - PAGE_SIZE);
}

/* ------------------------------------------------------------ claim */

static void test_claim(void **state)
{
	uint64_t free0;

	(void)state;
	palloc_add(A, ARENA_SIZE);
	assert_int_equal(palloc_claim(A + MiB(8), MiB(2)), 0);
	expect_zero(A + MiB(8), MiB(2));
	expect_fill(A + MiB(8) - 16, 16);
	expect_fill(A + MiB(10), 16);
	free0 = palloc_free_bytes();
	assert_int_equal(free0, ARENA_SIZE - MiB(2));

	/* not free any more: whole, partly overlapping at either end, inside */
	assert_int_equal(palloc_claim(A + MiB(8), MiB(2)), -1);
	assert_int_equal(palloc_claim(A + MiB(9), MiB(2)), -1);
	assert_int_equal(palloc_claim(A + MiB(7), MiB(2)), -1);
	assert_int_equal(palloc_claim(A + MiB(9), PAGE_SIZE), -1);
	assert_int_equal(palloc_claim(A + MiB(7), MiB(4)), -1);   /* spans the hole */
	/* bad arguments */
	assert_int_equal(palloc_claim(A + 1, PAGE_SIZE), -1);
	assert_int_equal(palloc_claim(A + MiB(1), PAGE_SIZE + 1), -1);
	assert_int_equal(palloc_claim(A + MiB(1), 100), -1);
	assert_int_equal(palloc_claim(A + MiB(1), 0), -1);
	assert_int_equal(palloc_claim(~0ULL - PAGE_SIZE + 1, 2 * PAGE_SIZE), -1);   /* wraps */
	assert_int_equal(palloc_claim(A & ~(PAGE_SIZE - 1), ~0ULL & ~(PAGE_SIZE - 1)), -1);
	/* outside the free memory */
	assert_int_equal(palloc_claim(A + ARENA_SIZE, PAGE_SIZE), -1);
	assert_int_equal(palloc_claim(A + ARENA_SIZE - PAGE_SIZE, 2 * PAGE_SIZE), -1);
	assert_int_equal(palloc_claim(A - PAGE_SIZE, 2 * PAGE_SIZE), -1);
	/* failed claims change nothing and touch nothing */
	assert_int_equal(palloc_free_bytes(), free0);
	expect_fill(A, MiB(1) + 2 * PAGE_SIZE);
	expect_fill(A + ARENA_SIZE - PAGE_SIZE, PAGE_SIZE);

	/* edges of a free range */
	assert_int_equal(palloc_claim(A, PAGE_SIZE), 0);
	assert_int_equal(palloc_claim(A + MiB(8) - PAGE_SIZE, PAGE_SIZE), 0);
	assert_int_equal(palloc_claim(A + MiB(10), PAGE_SIZE), 0);
	assert_int_equal(palloc_claim(A + ARENA_SIZE - PAGE_SIZE, PAGE_SIZE), 0);
	assert_int_equal(palloc_free_bytes(), free0 - 4 * PAGE_SIZE);
	/* allocations never return claimed memory */
	for (uint64_t p; (p = palloc_alloc(PAGE_SIZE, PAGE_SIZE)) != 0;) {
		assert_false(p >= A + MiB(8) - PAGE_SIZE && p < A + MiB(10) + PAGE_SIZE);
		assert_true(p > A && p < A + ARENA_SIZE - PAGE_SIZE);
	}
	assert_int_equal(palloc_free_bytes(), 0);
	/* the whole of a remaining range, then nothing */
	palloc_reset();
	palloc_add(A, MiB(4));
	assert_int_equal(palloc_claim(A, MiB(4)), 0);
	assert_int_equal(palloc_free_bytes(), 0);
	assert_int_equal(palloc_claim(A, PAGE_SIZE), -1);
}

/* ------------------------------------------------------------ dump */

static void test_dump(void **state)
{
	char want[128];

	(void)state;
	palloc_dump();
	assert_int_equal(log_calls, 0);
	palloc_add(A, MiB(4));
	palloc_reserve(A + MiB(1), MiB(1));
	palloc_dump();
	assert_int_equal(log_calls, 2);
	snprintf(want, sizeof(want), "free RAM 0x%llx-0x%llx",
		 (unsigned long long)(A + MiB(2)), (unsigned long long)(A + MiB(4)));
	assert_string_equal(last_log, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_add, setup),
		cmocka_unit_test_setup(test_add_max_ranges, setup),
		cmocka_unit_test_setup(test_alloc_alignment, setup),
		cmocka_unit_test_setup(test_alloc_2m_many, setup),
		cmocka_unit_test_setup(test_alloc_1g_alignment, setup),
		cmocka_unit_test_setup(test_exhaustion, setup),
		cmocka_unit_test_setup(test_alloc_whole, setup),
		cmocka_unit_test_setup(test_free_but_misaligned, setup),
		cmocka_unit_test_setup(test_reserve_split, setup),
		cmocka_unit_test_setup(test_reserve_edges, setup),
		cmocka_unit_test_setup(test_reserve_out_of_slots, setup),
		cmocka_unit_test_setup(test_claim, setup),
		cmocka_unit_test_setup(test_dump, setup),
		cmocka_unit_test_setup(test_add_keeps_sorted, setup),
};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
