/* Host unit tests for the Sv39x4 G-stage table builder (arch/riscv64/gstage.c).
 * The "physical address" of a table is an ordinary pointer here: the
 * allocator hands out zeroed, 4 KiB aligned heap pages and frees them all
 * at the end of each test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "arch/riscv64/gstage.h"

/* PTE bits from the privileged spec (Sv39 PTE format). */
#define V_BIT (1ULL << 0)
#define R_BIT (1ULL << 1)
#define W_BIT (1ULL << 2)
#define X_BIT (1ULL << 3)
#define U_BIT (1ULL << 4)
#define G_BIT (1ULL << 5)
#define A_BIT (1ULL << 6)
#define D_BIT (1ULL << 7)
#define RWX   (GSTAGE_R | GSTAGE_W | GSTAGE_X)

#define MAX_PAGES 4096

struct fixture {
	uint64_t *root;
	void *pages[MAX_PAGES];
	unsigned npages;
	long budget;            /* pages the allocator may still hand out; <0: unlimited */
	unsigned calls;
	struct gstage_alloc alloc;
};

static uint64_t page_alloc(void *ctx)
{
	struct fixture *f = ctx;
	void *p;

	f->calls++;
	if (f->budget == 0 || f->npages == MAX_PAGES)
		return 0;
	if (f->budget > 0)
		f->budget--;
	p = aligned_alloc(4096, 4096);
	assert_non_null(p);
	memset(p, 0, 4096);
	f->pages[f->npages++] = p;
	return (uint64_t)(uintptr_t)p;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->root = aligned_alloc(GSTAGE_ROOT_SIZE, GSTAGE_ROOT_SIZE);
	if (!f->root)
		return -1;
	memset(f->root, 0, GSTAGE_ROOT_SIZE);
	f->budget = -1;
	f->alloc.page = page_alloc;
	f->alloc.ctx = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (unsigned i = 0; i < f->npages; i++)
		free(f->pages[i]);
	free(f->root);
	free(f);
	return 0;
}

static int map(struct fixture *f, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perm)
{
	return gstage_map(f->root, gpa, hpa, size, perm, &f->alloc);
}

/* Assert gpa translates to hpa through a leaf of leaf_size bytes. */
static void expect_xlate(struct fixture *f, uint64_t gpa, uint64_t hpa, uint64_t leaf_size)
{
	uint64_t got = 0xdead, ls = 0xdead;

	assert_int_equal(gstage_lookup(f->root, gpa, &got, &ls), 0);
	assert_int_equal(got, hpa);
	assert_int_equal(ls, leaf_size);
	/* leaf_size is optional */
	got = 0;
	assert_int_equal(gstage_lookup(f->root, gpa, &got, NULL), 0);
	assert_int_equal(got, hpa);
}

static void expect_unmapped(struct fixture *f, uint64_t gpa)
{
	uint64_t got = 0, ls = 0;

	assert_int_equal(gstage_lookup(f->root, gpa, &got, &ls), -1);
}

/* Walk the table by hand (spec: VPN[2] has 11 bits in Sv39x4) and return
 * the leaf PTE for gpa, and its level. */
static uint64_t walk_leaf(const uint64_t *root, uint64_t gpa, int *level_out)
{
	const uint64_t *t = root;

	for (int level = 2; level >= 0; level--) {
		unsigned bits = level == 2 ? 11 : 9;
		unsigned idx = (unsigned)((gpa >> (12 + 9 * level)) & ((1u << bits) - 1));
		uint64_t pte = t[idx];

		assert_true(pte & V_BIT);
		if (pte & (R_BIT | W_BIT | X_BIT)) {
			*level_out = level;
			return pte;
		}
		/* non-leaf: U, A, D must be zero (reserved for future use) */
		assert_int_equal(pte & (U_BIT | A_BIT | D_BIT), 0);
		t = (const uint64_t *)(uintptr_t)((pte >> 10) << 12);
	}
	fail_msg("no leaf for gpa 0x%llx", (unsigned long long)gpa);
	return 0;
}

/* ------------------------------------------------------------ leaf sizes */

static void test_4k_leaf(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(map(f, 0x1000, 0x80001000, 0x1000, RWX), 0);
	expect_xlate(f, 0x1000, 0x80001000, 4096);
	expect_xlate(f, 0x1abc, 0x80001abc, 4096);
	expect_xlate(f, 0x1fff, 0x80001fff, 4096);
	expect_unmapped(f, 0x0);
	expect_unmapped(f, 0xfff);
	expect_unmapped(f, 0x2000);
	/* one level-1 and one level-0 table below the root */
	assert_int_equal(f->npages, 2);
}

static void test_2m_leaf(void **state)
{
	struct fixture *f = *state;
	uint64_t gpa = 0x80200000, hpa = 0x40400000;

	assert_int_equal(map(f, gpa, hpa, MiB(2), RWX), 0);
	expect_xlate(f, gpa, hpa, MiB(2));
	expect_xlate(f, gpa + 0x12345, hpa + 0x12345, MiB(2));
	expect_xlate(f, gpa + MiB(2) - 1, hpa + MiB(2) - 1, MiB(2));
	expect_unmapped(f, gpa - 1);
	expect_unmapped(f, gpa + MiB(2));
	assert_int_equal(f->npages, 1);
}

static void test_1g_leaf(void **state)
{
	struct fixture *f = *state;
	uint64_t gpa = GiB(1), hpa = GiB(3);

	assert_int_equal(map(f, gpa, hpa, GiB(1), RWX), 0);
	expect_xlate(f, gpa, hpa, GiB(1));
	expect_xlate(f, gpa + 0x2345678, hpa + 0x2345678, GiB(1));
	expect_xlate(f, gpa + GiB(1) - 1, hpa + GiB(1) - 1, GiB(1));
	expect_unmapped(f, gpa - 1);
	expect_unmapped(f, gpa + GiB(1));
	/* a root leaf needs no table page */
	assert_int_equal(f->npages, 0);
	assert_int_equal(f->calls, 0);
}

static void test_several_gib(void **state)
{
	struct fixture *f = *state;

	/* 3 GiB + 2 MiB + 4 KiB: three 1 GiB leaves, one 2 MiB, one 4 KiB */
	assert_int_equal(map(f, GiB(4), GiB(8), GiB(3) + MiB(2) + KiB(4), GSTAGE_R | GSTAGE_W), 0);
	for (int i = 0; i < 3; i++) {
		expect_xlate(f, GiB(4) + GiB(i), GiB(8) + GiB(i), GiB(1));
		expect_xlate(f, GiB(5) + GiB(i) - 8, GiB(9) + GiB(i) - 8, GiB(1));
	}
	expect_xlate(f, GiB(7), GiB(11), MiB(2));
	expect_xlate(f, GiB(7) + MiB(2) - 1, GiB(11) + MiB(2) - 1, MiB(2));
	expect_xlate(f, GiB(7) + MiB(2), GiB(11) + MiB(2), KiB(4));
	expect_xlate(f, GiB(7) + MiB(2) + KiB(4) - 1, GiB(11) + MiB(2) + KiB(4) - 1, KiB(4));
	expect_unmapped(f, GiB(7) + MiB(2) + KiB(4));
	expect_unmapped(f, GiB(4) - 1);
}

static void test_gib_sized_but_hpa_only_2m_aligned(void **state)
{
	struct fixture *f = *state;
	uint64_t gpa = GiB(2), hpa = GiB(2) + MiB(2);

	/* 1 GiB big, but gpa and hpa do not share 1 GiB alignment: 512 x 2 MiB */
	assert_int_equal(map(f, gpa, hpa, GiB(1), RWX), 0);
	for (uint64_t off = 0; off < GiB(1); off += MiB(2))
		expect_xlate(f, gpa + off + 0x1000, hpa + off + 0x1000, MiB(2));
	assert_int_equal(f->npages, 1);
}

static void test_mixed_odd_offset(void **state)
{
	struct fixture *f = *state;
	/* starts one page below a 2 MiB boundary; hpa shares the 2 MiB offset */
	uint64_t gpa = 0x801ff000, hpa = 0x9a1ff000, size = MiB(3) + KiB(4);

	assert_int_equal(map(f, gpa, hpa, size, RWX), 0);
	expect_xlate(f, gpa, hpa, KiB(4));                     /* head: 4 KiB */
	expect_xlate(f, 0x80200000, 0x9a200000, MiB(2));       /* then 2 MiB */
	expect_xlate(f, 0x803fffff, 0x9a3fffff, MiB(2));
	for (uint64_t g = 0x80400000; g < 0x80500000; g += KiB(4))
		expect_xlate(f, g + 4, g - gpa + hpa + 4, KiB(4)); /* tail: 256 x 4 KiB */
	expect_unmapped(f, gpa - 1);
	expect_unmapped(f, 0x80500000);
}

static void test_mismatched_offsets_use_4k(void **state)
{
	struct fixture *f = *state;
	/* gpa 2 MiB aligned, hpa only 4 KiB aligned: no large leaf possible */
	uint64_t gpa = MiB(4), hpa = MiB(64) + KiB(4);

	assert_int_equal(map(f, gpa, hpa, MiB(4), RWX), 0);
	for (uint64_t off = 0; off < MiB(4); off += KiB(4))
		expect_xlate(f, gpa + off, hpa + off, KiB(4));
}

/* ------------------------------------------------------------ PTE bits */

static void test_leaf_pte_bits(void **state)
{
	struct fixture *f = *state;
	int level = -1;
	uint64_t pte;

	assert_int_equal(map(f, 0x5000, 0x87654000, 0x1000, RWX), 0);
	pte = walk_leaf(f->root, 0x5000, &level);
	assert_int_equal(level, 0);
	assert_true(pte & V_BIT);
	assert_true(pte & R_BIT);
	assert_true(pte & W_BIT);
	assert_true(pte & X_BIT);
	assert_true(pte & U_BIT);          /* G-stage leaves must be U=1 */
	assert_true(pte & A_BIT);
	assert_true(pte & D_BIT);
	assert_false(pte & G_BIT);
	assert_int_equal(pte >> 10, 0x87654000ULL >> 12);   /* PPN, nothing above */

	/* read-only leaf: W and X clear */
	assert_int_equal(map(f, MiB(2), MiB(6), MiB(2), GSTAGE_R), 0);
	pte = walk_leaf(f->root, MiB(2), &level);
	assert_int_equal(level, 1);
	assert_int_equal(pte & 0xff, V_BIT | R_BIT | U_BIT | A_BIT | D_BIT);
	assert_int_equal(pte >> 10, MiB(6) >> 12);

	/* execute-only leaf at the top root slot (index 2047 needs all 11 bits) */
	assert_int_equal(map(f, (1ULL << 41) - GiB(1), GiB(1), GiB(1), GSTAGE_X), 0);
	assert_int_equal(f->root[2047] & 0xff, V_BIT | X_BIT | U_BIT | A_BIT | D_BIT);
	assert_int_equal(f->root[2047] >> 10, GiB(1) >> 12);
	pte = walk_leaf(f->root, (1ULL << 41) - 1, &level);
	assert_int_equal(level, 2);
	expect_xlate(f, (1ULL << 41) - 1, GiB(2) - 1, GiB(1));

	/* stray bits outside R/W/X in perm are ignored */
	assert_int_equal(map(f, GiB(4), GiB(4), KiB(4), GSTAGE_R | 0x1 | 0x10 | 0x100), 0);
	pte = walk_leaf(f->root, GiB(4), &level);
	assert_int_equal(pte & 0x3ff, V_BIT | R_BIT | U_BIT | A_BIT | D_BIT);
}

static void test_root_index_uses_11_bits(void **state)
{
	struct fixture *f = *state;
	uint64_t gpa = 1ULL << 40;       /* root index 1024: beyond plain Sv39 */

	assert_int_equal(map(f, gpa, 0x80000000, KiB(4), RWX), 0);
	assert_true(f->root[1024] & V_BIT);
	assert_int_equal(f->root[0], 0);
	expect_xlate(f, gpa, 0x80000000, KiB(4));
	expect_unmapped(f, 0);   /* not aliased at root index 0 */
}

/* ------------------------------------------------------------ rejections */

static void test_bad_args(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(map(f, 0x1001, 0x2000, 0x1000, RWX), -1);    /* gpa */
	assert_int_equal(map(f, 0x1000, 0x2800, 0x1000, RWX), -1);    /* hpa */
	assert_int_equal(map(f, 0x1000, 0x2000, 0x1800, RWX), -1);    /* size */
	assert_int_equal(map(f, 0x1000, 0x2000, 0, RWX), -1);         /* empty */
	assert_int_equal(map(f, 0x1000, 0x2000, 0x1000, 0), -1);      /* no perm */
	assert_int_equal(map(f, 0x1000, 0x2000, 0x1000, GSTAGE_W), -1); /* W without R */
	assert_int_equal(gstage_map(NULL, 0x1000, 0x2000, 0x1000, RWX, &f->alloc), -1);
	/* nothing was mapped or allocated */
	assert_int_equal(f->calls, 0);
	expect_unmapped(f, 0x1000);
	for (unsigned i = 0; i < GSTAGE_ROOT_SIZE / 8; i++)
		assert_int_equal(f->root[i], 0);
	{
		uint64_t hpa;

		assert_int_equal(gstage_lookup(NULL, 0x1000, &hpa, NULL), -1);
	}
}

/* Regression (fixed; was arch/riscv64/gstage.c:57): the permission check only rejects perm ==
 * W. The privileged spec reserves every leaf with W=1 and R=0, so W|X
 * (XWR = 110) must be rejected too; gstage_map() returns 0 and writes a
 * leaf PTE with a reserved encoding (guest accesses would fault). */
static void test_write_exec_without_read_rejected(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(map(f, 0x1000, 0x2000, 0x1000, GSTAGE_W | GSTAGE_X), -1);
	expect_unmapped(f, 0x1000);
}

static void test_gpa_limit(void **state)
{
	struct fixture *f = *state;
	uint64_t top = 1ULL << GSTAGE_GPA_BITS, hpa;

	assert_int_equal(map(f, top, 0x1000, 0x1000, RWX), -1);
	assert_int_equal(map(f, top + GiB(1), GiB(1), GiB(1), RWX), -1);
	assert_int_equal(map(f, 1ULL << 63, 0x1000, 0x1000, RWX), -1);
	/* a region crossing the limit */
	assert_int_equal(map(f, top - 0x1000, 0x1000, 0x2000, RWX), -1);
	/* size overflowing 64 bits */
	assert_int_equal(map(f, 0x1000, 0x1000, 0xfffffffffffff000ULL, RWX), -1);
	assert_int_equal(map(f, top - 0x1000, 0x1000, 0xfffffffffffff000ULL, RWX), -1);
	/* hpa + size wrapping */
	assert_int_equal(map(f, 0x1000, 0xfffffffffffff000ULL, 0x2000, RWX), -1);
	expect_unmapped(f, top - 0x1000);
	/* the very last page below the limit is fine */
	assert_int_equal(map(f, top - 0x1000, 0x7000, 0x1000, RWX), 0);
	expect_xlate(f, top - 1, 0x7fff, KiB(4));
	/* lookups at or above the limit fail */
	assert_int_equal(gstage_lookup(f->root, top, &hpa, NULL), -1);
	assert_int_equal(gstage_lookup(f->root, ~0ULL, &hpa, NULL), -1);
	/* the whole space in one call is accepted (2048 1 GiB leaves) */
	{
		uint64_t *r2 = aligned_alloc(GSTAGE_ROOT_SIZE, GSTAGE_ROOT_SIZE);

		assert_non_null(r2);
		memset(r2, 0, GSTAGE_ROOT_SIZE);
		assert_int_equal(gstage_map(r2, 0, 0, top, RWX, &f->alloc), 0);
		assert_int_equal(gstage_lookup(r2, top - 1, &hpa, NULL), 0);
		assert_int_equal(hpa, top - 1);
		free(r2);
	}
}

static void test_overlap(void **state)
{
	struct fixture *f = *state;

	/* 4 KiB inside, then a 2 MiB leaf over it */
	assert_int_equal(map(f, MiB(2) + KiB(8), 0x10000, KiB(4), RWX), 0);
	assert_int_equal(map(f, MiB(2), MiB(8), MiB(2), RWX), -1);
	/* the exact same page again */
	assert_int_equal(map(f, MiB(2) + KiB(8), 0x20000, KiB(4), RWX), -1);
	expect_xlate(f, MiB(2) + KiB(8), 0x10000, KiB(4));   /* unchanged */
	/* the neighbour page is still free */
	assert_int_equal(map(f, MiB(2) + KiB(12), 0x30000, KiB(4), RWX), 0);

	/* 2 MiB leaf, then a 4 KiB page inside it */
	assert_int_equal(map(f, MiB(10), MiB(20), MiB(2), RWX), 0);
	assert_int_equal(map(f, MiB(11), 0x40000, KiB(4), RWX), -1);
	expect_xlate(f, MiB(11), MiB(21), MiB(2));

	/* 1 GiB leaf, then 2 MiB and 4 KiB inside it */
	assert_int_equal(map(f, GiB(2), GiB(5), GiB(1), RWX), 0);
	assert_int_equal(map(f, GiB(2) + MiB(4), MiB(4), MiB(2), RWX), -1);
	assert_int_equal(map(f, GiB(2) + GiB(1) - KiB(4), KiB(4), KiB(4), RWX), -1);
	expect_xlate(f, GiB(2) + GiB(1) - KiB(4), GiB(6) - KiB(4), GiB(1));

	/* a 1 GiB leaf over a GiB that already holds a table */
	assert_int_equal(map(f, 0, GiB(7), GiB(1), RWX), -1);
	expect_xlate(f, MiB(11), MiB(21), MiB(2));
}

static void test_alloc_failure(void **state)
{
	struct fixture *f = *state;

	f->budget = 0;
	assert_int_equal(map(f, 0x1000, 0x1000, 0x1000, RWX), -1);
	expect_unmapped(f, 0x1000);
	/* a 1 GiB leaf needs no page: still works */
	assert_int_equal(map(f, GiB(1), GiB(1), GiB(1), RWX), 0);
	expect_xlate(f, GiB(1), GiB(1), GiB(1));

	/* enough for the level-1 table only */
	f->budget = 1;
	assert_int_equal(map(f, 0x1000, 0x1000, 0x1000, RWX), -1);
	assert_int_equal(f->npages, 1);
	expect_unmapped(f, 0x1000);
	/* a 2 MiB leaf fits in the table already allocated */
	assert_int_equal(map(f, MiB(2), MiB(2), MiB(2), RWX), 0);
	expect_xlate(f, MiB(2), MiB(2), MiB(2));

	/* memory back: the half-built path is completed */
	f->budget = -1;
	assert_int_equal(map(f, 0x1000, 0x1000, 0x1000, RWX), 0);
	expect_xlate(f, 0x1000, 0x1000, KiB(4));
	assert_int_equal(f->npages, 2);
}

static void test_alloc_failure_midway(void **state)
{
	struct fixture *f = *state;

	/* 8 MiB of 4 KiB pages (gpa and hpa differ mod 2 MiB) across five
	 * 2 MiB blocks: each block needs a level-0 table; give out the level-1
	 * table and two level-0 tables */
	f->budget = 3;
	assert_int_equal(map(f, KiB(4), MiB(64) + KiB(8), MiB(8), GSTAGE_R), -1);
	assert_int_equal(f->npages, 3);
	assert_int_equal(f->calls, 4);
	/* what was mapped before the failure translates correctly */
	expect_xlate(f, KiB(4), MiB(64) + KiB(8), KiB(4));
	expect_xlate(f, MiB(4) - KiB(4), MiB(68), KiB(4));
	expect_unmapped(f, MiB(4));
}

static void test_lookup_unmapped(void **state)
{
	struct fixture *f = *state;
	uint64_t hpa = 0x1234, ls = 0x5678;

	/* empty table */
	assert_int_equal(gstage_lookup(f->root, 0, &hpa, &ls), -1);
	assert_int_equal(gstage_lookup(f->root, GiB(100), &hpa, &ls), -1);
	/* table present at level 1 and 0, but the neighbouring entries empty */
	assert_int_equal(map(f, MiB(2) + KiB(4), KiB(4), KiB(4), RWX), 0);
	expect_unmapped(f, MiB(2));
	expect_unmapped(f, MiB(2) + KiB(8));
	expect_unmapped(f, MiB(4) + KiB(4));
	expect_unmapped(f, 0);
	expect_unmapped(f, GiB(1) + MiB(2) + KiB(4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_4k_leaf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_2m_leaf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_1g_leaf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_several_gib, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gib_sized_but_hpa_only_2m_aligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mixed_odd_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mismatched_offsets_use_4k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leaf_pte_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_index_uses_11_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpa_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_failure_midway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_unmapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_exec_without_read_rejected, setup, teardown),
};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
