/*
 * libFuzzer harness: arch/x86_64/insn.c (x86_decode_mem, the MMIO MOV
 * decoder of the VMX and SVM back ends). The first input byte picks long
 * or 32-bit protected mode; the rest is the code, given to the decoder in
 * a heap buffer of exactly that size (ASan catches any read past it).
 * Checked against an independent decoder written from the Intel SDM
 * (vol. 2, ch. 2 and the MOV/MOVZX/MOVSX pages) for exactly the forms
 * insn.h claims: 88/89/8A/8B, C6/C7 /0 with an immediate, A0-A3 with a
 * moffs, 0F B6/B7/BE/BF; legacy prefixes 66, 67 and segment overrides,
 * REX (long mode only) immediately before the opcode; memory operands
 * only. Everything else must be refused. Also:
 *  - len <= avail, len <= 15, size 1/2/4/8, dst_size 1/2/4/8, reg < 16,
 *    high_byte only for byte registers 0-3 without REX;
 *  - decoding exactly len bytes gives the same result, len - 1 bytes fail.
 */
#include "tests/fuzz/fuzz_common.h"
#include "arch/x86_64/insn.h"

/* Bytes of SIB + displacement after a memory ModRM, -1 for mod == 3. */
static int ref_modrm_extra(const uint8_t *p, unsigned n, unsigned k, unsigned asz)
{
	unsigned modrm = p[k], mod = modrm >> 6, rm = modrm & 7;
	static const int disp16[3] = { 0, 1, 2 }, disp32[3] = { 0, 1, 4 };

	if (mod == 3)
		return -1;
	if (asz == 2)
		return (mod == 0 && rm == 6) ? 2 : disp16[mod];
	if (rm == 4) {                  /* SIB follows */
		if (k + 1 >= n)
			return -2;      /* truncated: caller refuses */
		if (mod == 0 && (p[k + 1] & 7) == 5)
			return 1 + 4;
		return 1 + disp32[mod];
	}
	if (mod == 0 && rm == 5)
		return 4;               /* disp32 (RIP-relative in long mode) */
	return disp32[mod];
}

static int ref_decode(const uint8_t *p, unsigned avail, bool lm, struct x86_mem_insn *m)
{
	unsigned n = avail < 15 ? avail : 15, k = 0, rex = 0, opsize, asz, len;
	bool p66 = false, p67 = false;
	uint8_t op;
	int extra;

	memset(m, 0, sizeof(*m));
	while (k < n && (p[k] == 0x66 || p[k] == 0x67 || p[k] == 0x26 || p[k] == 0x2e ||
			 p[k] == 0x36 || p[k] == 0x3e || p[k] == 0x64 || p[k] == 0x65)) {
		p66 |= p[k] == 0x66;
		p67 |= p[k] == 0x67;
		k++;
	}
	if (lm && k < n && p[k] >= 0x40 && p[k] <= 0x4f)
		rex = p[k++];
	if (k >= n)
		return -1;
	opsize = (rex & 8) ? 8 : p66 ? 2 : 4;
	asz = lm ? (p67 ? 4 : 8) : (p67 ? 2 : 4);
	op = p[k++];
	switch (op) {
	case 0xa0: case 0xa1: case 0xa2: case 0xa3:
		len = k + asz;
		if (len > n)
			return -1;
		m->size = (uint8_t)(op & 1 ? opsize : 1);
		m->dst_size = m->size;
		m->store = op >= 0xa2;
		m->len = (uint8_t)len;
		return 0;
	case 0x0f:
		if (k >= n)
			return -1;
		op = p[k++];
		if (op != 0xb6 && op != 0xb7 && op != 0xbe && op != 0xbf)
			return -1;
		if (k >= n)
			return -1;
		extra = ref_modrm_extra(p, n, k, asz);
		if (extra < 0 || k + 1 + (unsigned)extra > n)
			return -1;
		m->reg = (uint8_t)(((p[k] >> 3) & 7) + ((rex & 4) ? 8 : 0));
		m->size = (op == 0xb6 || op == 0xbe) ? 1 : 2;
		m->dst_size = (uint8_t)opsize;
		m->sext = op >= 0xbe;
		m->len = (uint8_t)(k + 1 + (unsigned)extra);
		return 0;
	case 0x88: case 0x89: case 0x8a: case 0x8b: case 0xc6: case 0xc7:
		break;
	default:
		return -1;
	}
	if (k >= n)
		return -1;
	extra = ref_modrm_extra(p, n, k, asz);
	if (extra < 0)
		return -1;
	len = k + 1 + (unsigned)extra;
	m->size = (uint8_t)((op & 1) ? opsize : 1);
	m->dst_size = m->size;
	if (op >= 0xc6) {
		unsigned isz = m->size == 1 ? 1 : m->size == 2 ? 2 : 4;

		if ((p[k] >> 3) & 7)
			return -1;      /* C6/C7 /1-/7 are not MOV */
		if (len + isz > n)
			return -1;
		m->imm = 0;
		for (unsigned i = 0; i < isz; i++)
			m->imm |= (uint64_t)p[len + i] << (8 * i);
		if (isz == 4 && m->size == 8)
			m->imm = (uint64_t)(int64_t)(int32_t)(uint32_t)m->imm;
		m->has_imm = true;
		m->store = true;
		m->len = (uint8_t)(len + isz);
		return 0;
	}
	if (len > n)
		return -1;
	m->store = op <= 0x89;
	m->reg = (uint8_t)(((p[k] >> 3) & 7) + ((rex & 4) ? 8 : 0));
	if (m->size == 1 && !rex && m->reg >= 4) {
		m->high_byte = true;    /* AH, CH, DH, BH */
		m->reg -= 4;
	}
	m->len = (uint8_t)len;
	return 0;
}

static void check_same(const struct x86_mem_insn *a, const struct x86_mem_insn *b)
{
	CHECK(a->len == b->len);
	CHECK(a->size == b->size);
	CHECK(a->store == b->store);
	CHECK(a->has_imm == b->has_imm);
	CHECK(a->imm == b->imm);
	CHECK(a->reg == b->reg);
	CHECK(a->high_byte == b->high_byte);
	CHECK(a->dst_size == b->dst_size);
	CHECK(a->sext == b->sext);
}

static int decode_exact(const uint8_t *code, unsigned n, bool lm, struct x86_mem_insn *m)
{
	uint8_t *buf = malloc(n ? n : 1);
	int r;

	CHECK(buf);
	memcpy(buf, code, n);
	r = x86_decode_mem(buf, n, lm, m);
	free(buf);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct x86_mem_insn got, want, again;
	unsigned n;
	bool lm;
	int r, rr;

	if (size < 1 || size > 64)
		return 0;
	lm = !(data[0] & 1);
	n = (unsigned)size - 1;
	r = decode_exact(data + 1, n, lm, &got);
	rr = ref_decode(data + 1, n, lm, &want);
	CHECK(r == 0 || r == -1);
	CHECK(r == rr);
	if (r)
		return 0;
	check_same(&got, &want);
	CHECK(got.len >= 1 && got.len <= n && got.len <= X86_INSN_MAX);
	CHECK(got.size == 1 || got.size == 2 || got.size == 4 || got.size == 8);
	CHECK(got.dst_size == 1 || got.dst_size == 2 || got.dst_size == 4 || got.dst_size == 8);
	CHECK(got.reg < 16);
	CHECK(!got.high_byte || (got.reg < 4 && got.size == 1));
	CHECK(!got.sext || !got.store);
	CHECK(lm || got.size != 8);
	CHECK(x86_decode_mem(data + 1, got.len, lm, &again) == 0);
	check_same(&got, &again);
	CHECK(decode_exact(data + 1, got.len - 1u, lm, &again) == -1);
	return 0;
}
