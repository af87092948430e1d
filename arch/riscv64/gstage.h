/*
 * G-stage (guest-physical -> host-physical) page tables, Sv39x4.
 * Pure C: the hypervisor runs with physical addressing, so a table's
 * physical address is also a pointer; host unit tests hand in an allocator
 * returning ordinary memory.
 */
#ifndef TESSERA_ARCH_RISCV64_GSTAGE_H
#define TESSERA_ARCH_RISCV64_GSTAGE_H

#include "lib/types.h"

#define GSTAGE_ROOT_SIZE  (16 * 1024)   /* 2048 entries, 16 KiB aligned */
#define GSTAGE_GPA_BITS   41
#define GSTAGE_R 2
#define GSTAGE_W 4
#define GSTAGE_X 8

struct gstage_alloc {
	/* zeroed, 4 KiB aligned page; 0 when out of memory */
	uint64_t (*page)(void *ctx);
	void *ctx;
};

/* Map [gpa, gpa+size) to [hpa, hpa+size) with the largest leaves that fit
 * (1 GiB, 2 MiB, 4 KiB). All three must be 4 KiB aligned. Returns 0, or -1
 * on bad arguments, overlap with an existing mapping, or no memory. */
int gstage_map(uint64_t *root, uint64_t gpa, uint64_t hpa, uint64_t size,
	       unsigned perm, const struct gstage_alloc *a);
/* Translate gpa; returns 0 and fills *hpa (and *leaf_size if non-NULL). */
int gstage_lookup(const uint64_t *root, uint64_t gpa, uint64_t *hpa, uint64_t *leaf_size);

#endif
