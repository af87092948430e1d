/*
 * libFuzzer harness: devices/plic.c. Random source/context counts, then a
 * sequence of register reads/writes (structured offsets into every block,
 * or raw 64-bit offsets; sizes 1, 2, 4, 8), input line changes and resets.
 * Invariants after every operation:
 *  - only aligned 4-byte accesses below 4 MiB are accepted; a refused one
 *    changes nothing;
 *  - pending == level & ~in_service & (sources 1..nsrc-1);
 *  - priorities and thresholds stay 3-bit, enables stay inside the sources;
 *  - each context's output line (as driven through the callback, only on
 *    change) is high exactly while an enabled pending source has a
 *    priority above the context's threshold;
 *  - a claim returns 0 or such a source with the highest priority (lowest
 *    id on ties), and marks it in service.
 */
#include "tests/fuzz/fuzz_common.h"
#include "devices/plic.h"

static uint8_t out_level;

static void out_set(void *opaque, unsigned ctx, bool level)
{
	(void)opaque;
	CHECK(ctx < PLIC_MAX_CONTEXTS);
	CHECK(((out_level >> ctx) & 1) != level);       /* only on change */
	out_level ^= (uint8_t)(1u << ctx);
}

static uint64_t valid_mask(const struct plic *p)
{
	return (p->nsrc >= 64 ? ~0ULL : (1ULL << p->nsrc) - 1) & ~1ULL;
}

static unsigned best(const struct plic *p, unsigned ctx)
{
	unsigned b = 0;
	uint32_t bp = p->threshold[ctx];

	for (unsigned s = 1; s < p->nsrc; s++)
		if (((p->pending & p->enable[ctx]) >> s & 1) && p->prio[s] > bp) {
			bp = p->prio[s];
			b = s;
		}
	return b;
}

static void check(const struct plic *p)
{
	CHECK(p->pending == (p->level & ~p->in_service & valid_mask(p)));
	for (unsigned s = 0; s < PLIC_MAX_SOURCES; s++)
		CHECK(p->prio[s] <= 7);
	for (unsigned c = 0; c < PLIC_MAX_CONTEXTS; c++) {
		CHECK(p->threshold[c] <= 7);
		CHECK((p->enable[c] & ~valid_mask(p)) == 0);
		if (c < p->nctx)
			CHECK(((out_level >> c) & 1) == (best(p, c) != 0));
		else
			CHECK(((out_level >> c) & 1) == 0);
	}
	CHECK(p->out_level == out_level);
}

static uint64_t pick_offset(struct in *in, unsigned nctx)
{
	uint8_t k = in_u8(in);
	uint64_t i = in_u8(in);

	switch (k & 7) {
	case 0: return 4 * (i & 0x7f);                                  /* priority */
	case 1: return 0x1000 + 4 * (i & 3);                            /* pending */
	case 2: return 0x2000 + 0x80 * (i % (nctx + 2)) + 4 * ((i >> 4) & 3);      /* enable */
	case 3: case 4: return 0x200000 + 0x1000 * (i % (nctx + 2)) + 4 * ((i >> 4) & 1); /* thr/claim */
	case 5: return in_bytes(in, 3) & 0x3fffff;                      /* anywhere inside */
	case 6: return in_u64(in);                                      /* anything */
	default: return (in_bytes(in, 3) & 0x3fffff) | (k >> 6);        /* maybe misaligned */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct plic p;
	struct irq_line outs[PLIC_MAX_CONTEXTS];
	static const unsigned sizes[4] = { 4, 1, 2, 8 };
	unsigned nsrc = in_u8(&in) % 70, nctx = in_u8(&in) % 10;

	for (unsigned i = 0; i < PLIC_MAX_CONTEXTS; i++)
		outs[i] = (struct irq_line){ out_set, NULL, i };
	out_level = 0;
	memset(&p, 0xA5, sizeof(p));            /* init must not rely on zeroed memory */
	p.out_level = 0;
	p.level = 0;
	plic_init(&p, nsrc, nctx, outs);
	CHECK(p.nsrc >= 1 && p.nsrc <= PLIC_MAX_SOURCES && p.nctx >= 1 && p.nctx <= PLIC_MAX_CONTEXTS);
	check(&p);
	for (int ops = 0; in_left(&in) && ops < 4096; ops++) {
		uint8_t op = in_u8(&in);
		unsigned sz = (op & 0x30) && (op & 0x40) ? sizes[(op >> 4) & 3] : 4;
		uint64_t off = pick_offset(&in, p.nctx), v;
		bool ok = sz == 4 && off < PLIC_SIZE && !(off & 3);
		int r;

		switch (op & 3) {
		case 0: {
			struct plic before = p;
			unsigned ctx = (unsigned)((off - 0x200000) / 0x1000);
			bool claim = ok && off >= 0x200000 && (off & 0xfff) == 4 && ctx < p.nctx;
			unsigned want = claim ? best(&p, ctx) : 0;

			v = 0x1234567890ULL;
			r = plic_read(&p, off, sz, &v);
			CHECK(r == (ok ? 0 : -1));
			if (r) {
				CHECK(v == 0x1234567890ULL && memcmp(&before, &p, sizeof(p)) == 0);
			} else {
				CHECK(v <= 0xffffffffULL);
				if (claim) {
					CHECK(v == want);
					if (want)
						CHECK(p.in_service & 1ULL << want);
				}
			}
			break;
		}
		case 1: {
			struct plic before = p;

			v = in_u64(&in);
			if (op & 0x80)
				v &= 0x3f;              /* plausible ids and priorities */
			r = plic_write(&p, off, sz, v);
			CHECK(r == (ok ? 0 : -1));
			if (r)
				CHECK(memcmp(&before, &p, sizeof(p)) == 0);
			break;
		}
		case 2:
			plic_set_irq(&p, in_u8(&in) % 72, op & 0x80);
			break;
		default:
			if (op & 0x80)
				plic_reset(&p);
			else
				CHECK(plic_read(&p, 0, 4, NULL) == -1 && plic_read(NULL, 0, 4, &v) == -1);
			break;
		}
		check(&p);
	}
	return 0;
}
