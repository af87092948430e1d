#include "arch/riscv64/gstage.h"

#define PTE_V 1ULL
#define PTE_U 16ULL
#define PTE_A 64ULL
#define PTE_D 128ULL
#define PTE_LEAF_BITS (GSTAGE_R | GSTAGE_W | GSTAGE_X)

static inline uint64_t pte_pa(uint64_t pte)
{
	return (pte >> 10) << 12;
}

static inline uint64_t *pte_table(uint64_t pte)
{
	return (uint64_t *)(uintptr_t)pte_pa(pte);
}

static unsigned index_of(uint64_t gpa, int level)
{
	uint64_t mask = level == 2 ? 0x7FF : 0x1FF;     /* the root has 2 extra bits */

	return (unsigned)((gpa >> (12 + 9 * level)) & mask);
}

static int map_one(uint64_t *root, uint64_t gpa, uint64_t hpa, int leaf_level,
		   unsigned perm, const struct gstage_alloc *a)
{
	uint64_t *table = root;

	for (int level = 2; level > leaf_level; level--) {
		uint64_t *pte = &table[index_of(gpa, level)];

		if (!(*pte & PTE_V)) {
			uint64_t page = a->page(a->ctx);

			if (!page)
				return -1;
			*pte = (page >> 12) << 10 | PTE_V;
		} else if (*pte & PTE_LEAF_BITS) {
			return -1;      /* already mapped by a larger leaf */
		}
		table = pte_table(*pte);
	}
	table = &table[index_of(gpa, leaf_level)];
	if (*table & PTE_V)
		return -1;
	/* G-stage leaves are "user" pages; A and D preset so no A/D faults. */
	*table = (hpa >> 12) << 10 | perm | PTE_U | PTE_A | PTE_D | PTE_V;
	return 0;
}

int gstage_map(uint64_t *root, uint64_t gpa, uint64_t hpa, uint64_t size,
	       unsigned perm, const struct gstage_alloc *a)
{
	perm &= PTE_LEAF_BITS;
	/* W without R is a reserved encoding */
	if (!root || !perm || ((perm & GSTAGE_W) && !(perm & GSTAGE_R)) ||
	    ((gpa | hpa | size) & 0xFFF) || size == 0 ||
	    gpa >= (1ULL << GSTAGE_GPA_BITS) || size > (1ULL << GSTAGE_GPA_BITS) - gpa ||
	    hpa + size < hpa)
		return -1;
	while (size) {
		int level = 0;
		uint64_t step;

		if (IS_ALIGNED(gpa | hpa, GiB(1)) && size >= GiB(1))
			level = 2;
		else if (IS_ALIGNED(gpa | hpa, MiB(2)) && size >= MiB(2))
			level = 1;
		step = 1ULL << (12 + 9 * level);
		if (map_one(root, gpa, hpa, level, perm, a))
			return -1;
		gpa += step;
		hpa += step;
		size -= step;
	}
	return 0;
}

int gstage_lookup(const uint64_t *root, uint64_t gpa, uint64_t *hpa, uint64_t *leaf_size)
{
	const uint64_t *table = root;

	if (!root || gpa >= (1ULL << GSTAGE_GPA_BITS))
		return -1;
	for (int level = 2; level >= 0; level--) {
		uint64_t pte = table[index_of(gpa, level)];
		uint64_t span = 1ULL << (12 + 9 * level);

		if (!(pte & PTE_V))
			return -1;
		if (pte & PTE_LEAF_BITS) {
			*hpa = pte_pa(pte) + (gpa & (span - 1));
			if (leaf_size)
				*leaf_size = span;
			return 0;
		}
		table = pte_table(pte);
	}
	return -1;
}
