/*
 * Guest-physical -> host-physical tables for x86: 4 levels, 48-bit
 * guest-physical space, 1 GiB / 2 MiB / 4 KiB leaves chosen by alignment.
 * AMD's nested page tables use the ordinary long-mode PTE format (guest
 * accesses count as user accesses, so U must be set); Intel's EPT has its
 * own bits (R, W, X, memory type). Pure C, host-testable.
 */
#include "arch/x86_64/x86vcpu.h"

#define PT_P   (1ULL << 0)
#define PT_RW  (1ULL << 1)
#define PT_US  (1ULL << 2)
#define PT_PS  (1ULL << 7)
#define EPT_R  (1ULL << 0)
#define EPT_W  (1ULL << 1)
#define EPT_X  (1ULL << 2)
#define EPT_WB (6ULL << 3)
#define EPT_LARGE (1ULL << 7)
#define ADDR_MASK 0x000FFFFFFFFFF000ULL
#define GPA_LIMIT (1ULL << 48)

static uint64_t table_entry(enum x86_pt_format fmt, uint64_t pa)
{
	return pa | (fmt == X86_PT_NPT ? (PT_P | PT_RW | PT_US) : (EPT_R | EPT_W | EPT_X));
}

static uint64_t leaf_entry(enum x86_pt_format fmt, uint64_t pa, int level)
{
	if (fmt == X86_PT_NPT)
		return pa | PT_P | PT_RW | PT_US | (level ? PT_PS : 0);
	return pa | EPT_R | EPT_W | EPT_X | EPT_WB | (level ? EPT_LARGE : 0);
}

static bool present(uint64_t e)
{
	return (e & 7) != 0;    /* P for NPT; any of R/W/X for EPT */
}

static bool is_leaf(uint64_t e, int level)
{
	return level == 0 || (e & PT_PS);       /* bit 7 in both formats */
}

static unsigned idx(uint64_t gpa, int level)
{
	return (unsigned)((gpa >> (12 + 9 * level)) & 511);
}

static int map_one(uint64_t *root, enum x86_pt_format fmt, uint64_t gpa, uint64_t hpa,
		   int leaf_level, const struct x86_pt_alloc *a)
{
	uint64_t *t = root;

	for (int level = 3; level > leaf_level; level--) {
		uint64_t *e = &t[idx(gpa, level)];

		if (!present(*e)) {
			uint64_t page = a->page(a->ctx);

			if (!page)
				return -1;
			*e = table_entry(fmt, page);
		} else if (level < 3 && is_leaf(*e, level)) {
			return -1;
		}
		t = (uint64_t *)(uintptr_t)(*e & ADDR_MASK);
	}
	if (present(t[idx(gpa, leaf_level)]))
		return -1;
	t[idx(gpa, leaf_level)] = leaf_entry(fmt, hpa, leaf_level);
	return 0;
}

int x86_pt_map(uint64_t *root, enum x86_pt_format fmt, uint64_t gpa, uint64_t hpa,
	       uint64_t size, const struct x86_pt_alloc *a)
{
	if (!root || ((gpa | hpa | size) & 0xFFF) || !size || gpa >= GPA_LIMIT ||
	    size > GPA_LIMIT - gpa || hpa + size < hpa || ((hpa + size - 1) & ~ADDR_MASK & ~0xFFFULL))
		return -1;
	while (size) {
		int level = 0;

		if (IS_ALIGNED(gpa | hpa, GiB(1)) && size >= GiB(1))
			level = 2;
		else if (IS_ALIGNED(gpa | hpa, MiB(2)) && size >= MiB(2))
			level = 1;
		if (map_one(root, fmt, gpa, hpa, level, a))
			return -1;
		gpa += 1ULL << (12 + 9 * level);
		hpa += 1ULL << (12 + 9 * level);
		size -= 1ULL << (12 + 9 * level);
	}
	return 0;
}

int x86_pt_lookup(const uint64_t *root, uint64_t gpa, uint64_t *hpa, uint64_t *leaf_size)
{
	const uint64_t *t = root;

	if (!root || gpa >= GPA_LIMIT)
		return -1;
	for (int level = 3; level >= 0; level--) {
		uint64_t e = t[idx(gpa, level)], span = 1ULL << (12 + 9 * level);

		if (!present(e))
			return -1;
		if (level < 3 && is_leaf(e, level)) {
			*hpa = (e & ADDR_MASK & ~(span - 1)) + (gpa & (span - 1));
			if (leaf_size)
				*leaf_size = span;
			return 0;
		}
		t = (const uint64_t *)(uintptr_t)(e & ADDR_MASK);
	}
	return -1;
}
