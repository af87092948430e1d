/*
 * RISC-V PLIC model. See devices/plic.h for the register layout and
 * docs/devices.md for the exact semantics chosen.
 *
 * Invariant kept after every operation:
 *   pending == level & ~in_service & valid_mask
 * i.e. the gateway forwards a high line whenever the source is not in
 * service, and a line that drops before being claimed un-pends (level
 * sources only; as QEMU's PLIC does).
 */
#include "devices/plic.h"

#define PLIC_PRIO_MASK      7u
#define PLIC_PRIO_BASE      0x000000ULL
#define PLIC_PENDING_BASE   0x001000ULL
#define PLIC_ENABLE_BASE    0x002000ULL
#define PLIC_ENABLE_STRIDE  0x80ULL
#define PLIC_CONTEXT_BASE   0x200000ULL
#define PLIC_CONTEXT_STRIDE 0x1000ULL
#define PLIC_WORDS          (PLIC_MAX_SOURCES / 32)

/* Bits of the source ids that exist (1..nsrc-1). */
static uint64_t plic_valid_mask(const struct plic *p)
{
	uint64_t m;

	if (p->nsrc >= 64)
		m = ~0ULL;
	else
		m = (1ULL << p->nsrc) - 1;
	return m & ~1ULL;
}

static unsigned plic_nctx(const struct plic *p)
{
	return p->nctx > PLIC_MAX_CONTEXTS ? PLIC_MAX_CONTEXTS : p->nctx;
}

/* Best enabled pending source for ctx with priority > threshold, or 0. */
static unsigned plic_best(const struct plic *p, unsigned ctx)
{
	uint64_t cand = p->pending & p->enable[ctx] & plic_valid_mask(p);
	uint32_t best_prio = p->threshold[ctx];
	unsigned best = 0, src;

	for (src = 1; src < PLIC_MAX_SOURCES; src++) {
		if (!(cand & (1ULL << src)))
			continue;
		/* strictly greater: the lowest id wins on ties */
		if (p->prio[src] > best_prio) {
			best_prio = p->prio[src];
			best = src;
		}
	}
	return best;
}

/* Recompute pending and every context output; drive changed lines only. */
static void plic_update(struct plic *p)
{
	unsigned ctx, n = plic_nctx(p);

	p->pending = p->level & ~p->in_service & plic_valid_mask(p);
	for (ctx = 0; ctx < n; ctx++) {
		bool level = plic_best(p, ctx) != 0;
		bool was = (p->out_level >> ctx) & 1;

		if (level == was)
			continue;
		if (level)
			p->out_level = (uint8_t)(p->out_level | (1u << ctx));
		else
			p->out_level = (uint8_t)(p->out_level & ~(1u << ctx));
		irq_line_set(&p->out[ctx], level);
	}
}

void plic_init(struct plic *p, unsigned nsrc, unsigned nctx,
	       const struct irq_line *out)
{
	unsigned i;

	if (nsrc < 1)
		nsrc = 1;
	if (nsrc > PLIC_MAX_SOURCES)
		nsrc = PLIC_MAX_SOURCES;
	if (nctx < 1)
		nctx = 1;
	if (nctx > PLIC_MAX_CONTEXTS)
		nctx = PLIC_MAX_CONTEXTS;
	p->nsrc = nsrc;
	p->nctx = nctx;
	for (i = 0; i < PLIC_MAX_CONTEXTS; i++) {
		if (out && i < nctx) {
			p->out[i] = out[i];
		} else {
			p->out[i].set = NULL;
			p->out[i].opaque = NULL;
			p->out[i].line = 0;
		}
	}
	p->level = 0;
	p->out_level = 0;
	plic_reset(p);
}

/*
 * Clears priorities, enables, thresholds, pending and in-service state and
 * lowers every output. Input line levels are wires owned by the devices,
 * not PLIC state, so they are kept (a device that still drives its line
 * high becomes pending again as soon as it is enabled).
 */
void plic_reset(void *dev)
{
	struct plic *p = dev;
	unsigned i;

	if (!p)
		return;
	for (i = 0; i < PLIC_MAX_SOURCES; i++)
		p->prio[i] = 0;
	for (i = 0; i < PLIC_MAX_CONTEXTS; i++) {
		p->enable[i] = 0;
		p->threshold[i] = 0;
	}
	p->in_service = 0;
	p->pending = 0;
	plic_update(p);         /* nothing enabled: all outputs go low */
}

void plic_set_irq(void *opaque, unsigned src, bool level)
{
	struct plic *p = opaque;

	if (!p || src == 0 || src >= p->nsrc || src >= PLIC_MAX_SOURCES)
		return;
	if (level)
		p->level |= 1ULL << src;
	else
		p->level &= ~(1ULL << src);
	plic_update(p);
}

static uint32_t plic_claim(struct plic *p, unsigned ctx)
{
	unsigned src = plic_best(p, ctx);

	if (src) {
		p->in_service |= 1ULL << src;
		plic_update(p);
	}
	return src;
}

static void plic_complete(struct plic *p, unsigned ctx, uint64_t val)
{
	uint64_t bit;

	if (val == 0 || val >= p->nsrc || val >= PLIC_MAX_SOURCES)
		return;
	bit = 1ULL << val;
	/* Spec: a completion for a source not enabled for ctx is ignored. */
	if (!(p->enable[ctx] & bit))
		return;
	p->in_service &= ~bit;
	plic_update(p);         /* re-pends if the line is still high */
}

static bool plic_access_ok(uint64_t off, unsigned size)
{
	return size == 4 && off < PLIC_SIZE && (off & 3) == 0;
}

int plic_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct plic *p = dev;
	uint64_t v = 0;

	if (!p || !val || !plic_access_ok(off, size))
		return -1;

	if (off < PLIC_PENDING_BASE) {
		uint64_t src = (off - PLIC_PRIO_BASE) / 4;

		if (src >= 1 && src < p->nsrc && src < PLIC_MAX_SOURCES)
			v = p->prio[src];
	} else if (off < PLIC_ENABLE_BASE) {
		uint64_t word = (off - PLIC_PENDING_BASE) / 4;

		if (word < PLIC_WORDS)
			v = (uint32_t)(p->pending >> (32 * word));
	} else if (off < PLIC_CONTEXT_BASE) {
		uint64_t rel = off - PLIC_ENABLE_BASE;
		uint64_t ctx = rel / PLIC_ENABLE_STRIDE;
		uint64_t word = (rel % PLIC_ENABLE_STRIDE) / 4;

		if (ctx < plic_nctx(p) && word < PLIC_WORDS)
			v = (uint32_t)(p->enable[ctx] >> (32 * word));
	} else {
		uint64_t rel = off - PLIC_CONTEXT_BASE;
		uint64_t ctx = rel / PLIC_CONTEXT_STRIDE;
		uint64_t reg = rel % PLIC_CONTEXT_STRIDE;

		if (ctx < plic_nctx(p)) {
			if (reg == 0)
				v = p->threshold[ctx];
			else if (reg == 4)
				v = plic_claim(p, (unsigned)ctx);
		}
	}
	*val = v;
	return 0;
}

int plic_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct plic *p = dev;
	uint32_t v = (uint32_t)val;

	if (!p || !plic_access_ok(off, size))
		return -1;

	if (off < PLIC_PENDING_BASE) {
		uint64_t src = (off - PLIC_PRIO_BASE) / 4;

		if (src >= 1 && src < p->nsrc && src < PLIC_MAX_SOURCES) {
			p->prio[src] = v & PLIC_PRIO_MASK;
			plic_update(p);
		}
	} else if (off < PLIC_ENABLE_BASE) {
		/* pending bits are read-only */
	} else if (off < PLIC_CONTEXT_BASE) {
		uint64_t rel = off - PLIC_ENABLE_BASE;
		uint64_t ctx = rel / PLIC_ENABLE_STRIDE;
		uint64_t word = (rel % PLIC_ENABLE_STRIDE) / 4;

		if (ctx < plic_nctx(p) && word < PLIC_WORDS) {
			uint64_t shift = 32 * word;
			uint64_t m = 0xffffffffULL << shift;
			uint64_t e = p->enable[ctx];

			e = (e & ~m) | (((uint64_t)v << shift) & m);
			p->enable[ctx] = e & plic_valid_mask(p);
			plic_update(p);
		}
	} else {
		uint64_t rel = off - PLIC_CONTEXT_BASE;
		uint64_t ctx = rel / PLIC_CONTEXT_STRIDE;
		uint64_t reg = rel % PLIC_CONTEXT_STRIDE;

		if (ctx < plic_nctx(p)) {
			if (reg == 0) {
				p->threshold[ctx] = v & PLIC_PRIO_MASK;
				plic_update(p);
			} else if (reg == 4) {
				plic_complete(p, (unsigned)ctx, v);
			}
		}
	}
	return 0;
}

const struct dev_ops plic_ops = {
	.name = "plic",
	.read = plic_read,
	.write = plic_write,
	.reset = plic_reset,
};
