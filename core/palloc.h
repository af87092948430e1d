/* Host physical memory allocator over the RAM nobody else uses. Allocations
 * are never freed: VMs are built once and restarted in place. */
#ifndef TESSERA_CORE_PALLOC_H
#define TESSERA_CORE_PALLOC_H

#include "lib/types.h"

#define PALLOC_MAX_RANGES 64
#define PAGE_SIZE 4096ULL

void palloc_add(uint64_t base, uint64_t size);
/* Remove [base, base+size) from the free ranges (firmware, FDT, image). */
void palloc_reserve(uint64_t base, uint64_t size);
/* Claim exactly [base, base+size); -1 if any of it is not free. */
int palloc_claim(uint64_t base, uint64_t size);
/* Zeroed memory of `size` bytes aligned to `align` (power of two), or 0. */
uint64_t palloc_alloc(uint64_t size, uint64_t align);
/* The same, contents as found: for VM RAM that is zeroed on first touch. */
uint64_t palloc_alloc_raw(uint64_t size, uint64_t align);
uint64_t palloc_free_bytes(void);
void palloc_dump(void);

#endif
