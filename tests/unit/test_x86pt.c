/* x86 guest-physical tables (arch/x86_64/npt.c), NPT and EPT formats. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/x86vcpu.h"

#define MAXPAGES 64
static void *pages[MAXPAGES];
static unsigned npages, limit = MAXPAGES;

static uint64_t page(void *ctx)
{
	(void)ctx;
	if (npages >= limit)
		return 0;
	void *p = aligned_alloc(4096, 4096);
	memset(p, 0, 4096);
	pages[npages++] = p;
	return (uint64_t)(uintptr_t)p;
}

static const struct x86_pt_alloc alloc = { page, NULL };

static int setup(void **state)
{
	npages = 0;
	limit = MAXPAGES;
	*state = (void *)(uintptr_t)page(NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < npages; i++)
		free(pages[i]);
	return 0;
}

static void test_leaf_sizes(void **state)
{
	uint64_t *root = *state, hpa, leaf;

	assert_int_equal(x86_pt_map(root, X86_PT_NPT, 0, 0x40000000, 1ULL << 30, &alloc), 0);
	assert_int_equal(x86_pt_lookup(root, 0x12345, &hpa, &leaf), 0);
	assert_int_equal(hpa, 0x40012345);
	assert_int_equal(leaf, 1ULL << 30);
	assert_int_equal(x86_pt_map(root, X86_PT_NPT, 0x80000000, 0x200000, 0x400000, &alloc), 0);
	assert_int_equal(x86_pt_lookup(root, 0x80300001, &hpa, &leaf), 0);
	assert_int_equal(hpa, 0x500001);
	assert_int_equal(leaf, 2ULL << 20);
	assert_int_equal(x86_pt_map(root, X86_PT_NPT, 0xC0001000, 0x9000, 0x2000, &alloc), 0);
	assert_int_equal(x86_pt_lookup(root, 0xC0002FFF, &hpa, &leaf), 0);
	assert_int_equal(hpa, 0xAFFF);
	assert_int_equal(leaf, 4096);
	assert_int_equal(x86_pt_lookup(root, 0xC0003000, &hpa, &leaf), -1);
	assert_int_equal(x86_pt_lookup(root, 0x7FFFFFFF, &hpa, &leaf), -1);
}

static void test_npt_entry_bits(void **state)
{
	uint64_t *root = *state;

	assert_int_equal(x86_pt_map(root, X86_PT_NPT, 0x1000, 0x5000, 0x1000, &alloc), 0);
	uint64_t *pdpt = (uint64_t *)(uintptr_t)(root[0] & ~0xFFFULL);
	uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[0] & ~0xFFFULL);
	uint64_t *pt = (uint64_t *)(uintptr_t)(pd[0] & ~0xFFFULL);

	assert_int_equal(root[0] & 7, 7);       /* P, RW, US on tables too */
	assert_int_equal(pt[1], 0x5000 | 7);    /* guest accesses are user accesses */
}

static void test_ept_entry_bits(void **state)
{
	uint64_t *root = *state, hpa;

	assert_int_equal(x86_pt_map(root, X86_PT_EPT, 0x200000, 0x400000, 0x200000, &alloc), 0);
	uint64_t *pdpt = (uint64_t *)(uintptr_t)(root[0] & ~0xFFFULL);
	uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[0] & ~0xFFFULL);

	assert_int_equal(pd[1], 0x400000 | 7 | (6 << 3) | (1 << 7));   /* RWX, WB, large */
	assert_int_equal(x86_pt_lookup(root, 0x3FFFFF, &hpa, NULL), 0);
	assert_int_equal(hpa, 0x5FFFFF);
}

static void test_bad_arguments_and_overlap(void **state)
{
	uint64_t *root = *state;

	assert_int_equal(x86_pt_map(root, X86_PT_NPT, 0x1001, 0, 0x1000, &alloc), -1);
	assert_int_equal(x86_pt_map(root, X86_PT_NPT, 0, 0x1001, 0x1000, &alloc), -1);
	assert_int_equal(x86_pt_map(root, X86_PT_NPT, 0, 0, 0, &alloc), -1);
	assert_int_equal(x86_pt_map(root, X86_PT_NPT, 1ULL << 48, 0, 0x1000, &alloc), -1);
	assert_int_equal(x86_pt_map(root, X86_PT_NPT, (1ULL << 48) - 0x1000, 0, 0x2000, &alloc), -1);
	assert_int_equal(x86_pt_map(root, X86_PT_NPT, 0, 1ULL << 52, 0x1000, &alloc), -1);
	assert_int_equal(x86_pt_map(NULL, X86_PT_NPT, 0, 0, 0x1000, &alloc), -1);
	assert_int_equal(x86_pt_map(root, X86_PT_NPT, 0, 0, 0x200000, &alloc), 0);
	assert_int_equal(x86_pt_map(root, X86_PT_NPT, 0x1000, 0x1000, 0x1000, &alloc), -1);
	assert_int_equal(x86_pt_map(root, X86_PT_NPT, 0, 0, 0x40000000, &alloc), -1);
}

static void test_out_of_pages(void **state)
{
	uint64_t *root = *state;

	limit = npages + 1;     /* one table, then nothing */
	assert_int_equal(x86_pt_map(root, X86_PT_NPT, 0x1000, 0x1000, 0x1000, &alloc), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_leaf_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_npt_entry_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ept_entry_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments_and_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_pages, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
