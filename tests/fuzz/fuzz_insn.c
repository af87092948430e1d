/*
 * libFuzzer harness: the MMIO instruction decoder, arch/riscv64/insn.c.
 * Every accepted instruction must have size 1/2/4/8, length 2 or 4 equal to
 * rv_insn_len(), a register below 32 and must match an independent decode
 * written from the ISA manual (RV64I LB..LWU/SB..SD, RVC C.LW/C.LD/C.SW/
 * C.SD/C.LWSP/C.LDSP/C.SWSP/C.SDSP); everything else must be refused.
 */
#include "tests/fuzz/fuzz_common.h"
#include "arch/riscv64/insn.h"

struct ref {
	int ok;
	unsigned size, reg, len;
	int store, sext;
};

static struct ref reference(uint32_t w)
{
	struct ref r = { 0, 0, 0, 0, 0, 0 };
	unsigned f3;

	if ((w & 3) == 3) {
		unsigned opc = w & 0x7f;

		f3 = (w >> 12) & 7;
		r.len = 4;
		if (opc == 0x03 && f3 != 7) {           /* LB LH LW LD LBU LHU LWU */
			r = (struct ref){ 1, 1u << (f3 & 3), (w >> 7) & 31, 4, 0, f3 < 4 };
		} else if (opc == 0x23 && f3 < 4) {     /* SB SH SW SD */
			r = (struct ref){ 1, 1u << f3, (w >> 20) & 31, 4, 1, 0 };
		}
		return r;
	}
	w &= 0xffff;
	r.len = 2;
	if (w == 0)
		return r;                               /* defined illegal */
	f3 = w >> 13;
	if ((w & 3) == 0) {
		unsigned rs = 8 + ((w >> 2) & 7);

		switch (f3) {
		case 2: return (struct ref){ 1, 4, rs, 2, 0, 1 };      /* C.LW */
		case 3: return (struct ref){ 1, 8, rs, 2, 0, 1 };      /* C.LD (RV64) */
		case 6: return (struct ref){ 1, 4, rs, 2, 1, -1 };     /* C.SW */
		case 7: return (struct ref){ 1, 8, rs, 2, 1, -1 };     /* C.SD (RV64) */
		}
	} else if ((w & 3) == 2) {
		unsigned rd = (w >> 7) & 31, rs2 = (w >> 2) & 31;

		switch (f3) {
		case 2: if (rd) return (struct ref){ 1, 4, rd, 2, 0, 1 }; break;   /* C.LWSP */
		case 3: if (rd) return (struct ref){ 1, 8, rd, 2, 0, 1 }; break;   /* C.LDSP */
		case 6: return (struct ref){ 1, 4, rs2, 2, 1, -1 };                /* C.SWSP */
		case 7: return (struct ref){ 1, 8, rs2, 2, 1, -1 };                /* C.SDSP */
		}
	}
	return r;
}

static void one(uint32_t w)
{
	struct rv_mem_insn m;
	struct ref r = reference(w);
	int ok;

	memset(&m, 0xEE, sizeof(m));
	ok = rv_decode_mem(w, &m) == 0;
	CHECK(ok == r.ok);
	CHECK(rv_insn_len(w) == r.len);
	if (!ok)
		return;
	CHECK(m.size == 1 || m.size == 2 || m.size == 4 || m.size == 8);
	CHECK(m.len == 2 || m.len == 4);
	CHECK(m.len == rv_insn_len(w));
	CHECK(m.reg < 32);
	CHECK(m.size == r.size && m.reg == r.reg && m.store == r.store);
	if (!m.store)
		CHECK(m.sext == r.sext);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };

	while (in.n >= 4) {
		uint32_t w = (uint32_t)in_bytes(&in, 4);

		one(w);
		one(w & 0xffff);                        /* the compressed reading of it */
		one(w | 0xffff0000u);
	}
	return 0;
}
