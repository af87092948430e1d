#include "core/palloc.h"
#include "core/log.h"
#include "lib/string.h"

struct range {
	uint64_t start, end;    /* [start, end) */
};

static struct range ranges[PALLOC_MAX_RANGES];
static unsigned nranges;

void palloc_add(uint64_t base, uint64_t size)
{
	uint64_t start = ALIGN_UP(base, PAGE_SIZE), end = ALIGN_DOWN(base + size, PAGE_SIZE);

	unsigned i;

	if (end <= start || nranges == PALLOC_MAX_RANGES)
		return;
	/* keep the list sorted by address whatever order RAM comes in */
	for (i = nranges; i > 0 && ranges[i - 1].start > start; i--)
		ranges[i] = ranges[i - 1];
	ranges[i] = (struct range){ start, end };
	nranges++;
}

void palloc_reserve(uint64_t base, uint64_t size)
{
	uint64_t rs = ALIGN_DOWN(base, PAGE_SIZE), re = ALIGN_UP(base + size, PAGE_SIZE);

	for (unsigned i = 0; i < nranges; i++) {
		struct range *r = &ranges[i];

		if (re <= r->start || rs >= r->end)
			continue;
		if (rs > r->start && re < r->end) {
			/* split in two */
			if (nranges == PALLOC_MAX_RANGES) {
				r->end = rs;    /* lose the upper part rather than overlap */
				continue;
			}
			/* keep the list sorted by address: first fit is lowest fit */
			for (unsigned k = nranges; k > i + 1; k--)
				ranges[k] = ranges[k - 1];
			nranges++;
			ranges[i + 1] = (struct range){ re, r->end };
			r->end = rs;
			i++;
		} else if (rs <= r->start && re >= r->end) {
			r->end = r->start;      /* fully reserved: empty */
		} else if (rs <= r->start) {
			r->start = re;
		} else {
			r->end = rs;
		}
	}
	/* drop emptied ranges so splits do not run out of slots */
	unsigned n = 0;

	for (unsigned i = 0; i < nranges; i++)
		if (ranges[i].end > ranges[i].start)
			ranges[n++] = ranges[i];
	nranges = n;
}

int palloc_claim(uint64_t base, uint64_t size)
{
	if (!IS_ALIGNED(base, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE) || !size ||
	    base + size < base)
		return -1;
	for (unsigned i = 0; i < nranges; i++) {
		if (base >= ranges[i].start && base + size <= ranges[i].end) {
			palloc_reserve(base, size);
			memset((void *)(uintptr_t)base, 0, size);
			return 0;
		}
	}
	return -1;
}

uint64_t palloc_alloc(uint64_t size, uint64_t align)
{
	uint64_t a = palloc_alloc_raw(size, align);

	if (a)
		memset((void *)(uintptr_t)a, 0, ALIGN_UP(size, PAGE_SIZE));
	return a;
}

uint64_t palloc_alloc_raw(uint64_t size, uint64_t align)
{
	size = ALIGN_UP(size, PAGE_SIZE);
	if (align < PAGE_SIZE)
		align = PAGE_SIZE;
	for (unsigned i = 0; i < nranges; i++) {
		uint64_t a = ALIGN_UP(ranges[i].start, align);

		if (a >= ranges[i].start && a + size <= ranges[i].end && a + size > a) {
			palloc_reserve(a, size);
			return a;
		}
	}
	return 0;
}

uint64_t palloc_free_bytes(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < nranges; i++)
		n += ranges[i].end - ranges[i].start;
	return n;
}

void palloc_dump(void)
{
	for (unsigned i = 0; i < nranges; i++)
		if (ranges[i].end > ranges[i].start)
			pr_debug("free RAM 0x%llx-0x%llx", (unsigned long long)ranges[i].start,
				 (unsigned long long)ranges[i].end);
}
