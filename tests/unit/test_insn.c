/* Host unit tests for the RISC-V load/store decoder (arch/riscv64/insn.c).
 * Instructions are assembled here from the instruction formats of the
 * unprivileged ISA spec (R/I/S types, CL/CS/CI/CSS compressed formats), not
 * from the decoder's masks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "arch/riscv64/insn.h"

/* ------------------------------------------------------------ encoders */

enum {
	OP_LOAD = 0x03, OP_LOAD_FP = 0x07, OP_MISC_MEM = 0x0f, OP_IMM = 0x13,
	OP_AUIPC = 0x17, OP_STORE = 0x23, OP_STORE_FP = 0x27, OP_AMO = 0x2f,
	OP_OP = 0x33, OP_LUI = 0x37, OP_BRANCH = 0x63, OP_JALR = 0x67,
	OP_JAL = 0x6f, OP_SYSTEM = 0x73,
};

static uint32_t enc_i(unsigned opcode, unsigned f3, unsigned rd, unsigned rs1, int imm)
{
	return ((uint32_t)imm & 0xfff) << 20 | (rs1 & 31) << 15 | (f3 & 7) << 12 |
	       (rd & 31) << 7 | (opcode & 0x7f);
}

static uint32_t enc_s(unsigned opcode, unsigned f3, unsigned rs1, unsigned rs2, int imm)
{
	uint32_t u = (uint32_t)imm & 0xfff;

	return (u >> 5) << 25 | (rs2 & 31) << 20 | (rs1 & 31) << 15 | (f3 & 7) << 12 |
	       (u & 31) << 7 | (opcode & 0x7f);
}

static uint32_t enc_r(unsigned opcode, unsigned f3, unsigned f7, unsigned rd,
		      unsigned rs1, unsigned rs2)
{
	return (f7 & 0x7f) << 25 | (rs2 & 31) << 20 | (rs1 & 31) << 15 | (f3 & 7) << 12 |
	       (rd & 31) << 7 | (opcode & 0x7f);
}

/* AMO: funct5 | aq | rl | rs2 | rs1 | funct3 | rd | 0101111 */
static uint32_t enc_amo(unsigned f5, bool aq, bool rl, unsigned f3, unsigned rd,
			unsigned rs1, unsigned rs2)
{
	return enc_r(OP_AMO, f3, (f5 << 2) | (unsigned)aq << 1 | (unsigned)rl, rd, rs1, rs2);
}

/* Base loads and stores: f3 per the spec's RV32I/RV64I tables. */
static uint32_t lb(unsigned rd, unsigned rs1, int imm)  { return enc_i(OP_LOAD, 0, rd, rs1, imm); }
static uint32_t lh(unsigned rd, unsigned rs1, int imm)  { return enc_i(OP_LOAD, 1, rd, rs1, imm); }
static uint32_t lw(unsigned rd, unsigned rs1, int imm)  { return enc_i(OP_LOAD, 2, rd, rs1, imm); }
static uint32_t ld(unsigned rd, unsigned rs1, int imm)  { return enc_i(OP_LOAD, 3, rd, rs1, imm); }
static uint32_t lbu(unsigned rd, unsigned rs1, int imm) { return enc_i(OP_LOAD, 4, rd, rs1, imm); }
static uint32_t lhu(unsigned rd, unsigned rs1, int imm) { return enc_i(OP_LOAD, 5, rd, rs1, imm); }
static uint32_t lwu(unsigned rd, unsigned rs1, int imm) { return enc_i(OP_LOAD, 6, rd, rs1, imm); }
static uint32_t sb(unsigned rs2, unsigned rs1, int imm) { return enc_s(OP_STORE, 0, rs1, rs2, imm); }
static uint32_t sh(unsigned rs2, unsigned rs1, int imm) { return enc_s(OP_STORE, 1, rs1, rs2, imm); }
static uint32_t sw(unsigned rs2, unsigned rs1, int imm) { return enc_s(OP_STORE, 2, rs1, rs2, imm); }
static uint32_t sd(unsigned rs2, unsigned rs1, int imm) { return enc_s(OP_STORE, 3, rs1, rs2, imm); }

/* Compressed registers x8..x15 are encoded as 3-bit r' = x - 8. */
static unsigned cr(unsigned x)
{
	assert_true(x >= 8 && x <= 15);
	return x - 8;
}

/* CL/CS formats, quadrant 0: funct3 | imm | rs1' | imm | rd'/rs2' | 00.
 * C.LW/C.SW: uimm[5:3] -> 12:10, uimm[2] -> 6, uimm[6] -> 5. */
static uint16_t c_lw_sw(unsigned f3, unsigned r, unsigned rs1, unsigned uimm)
{
	return (uint16_t)((f3 & 7) << 13 | ((uimm >> 3) & 7) << 10 | cr(rs1) << 7 |
			  ((uimm >> 2) & 1) << 6 | ((uimm >> 6) & 1) << 5 | cr(r) << 2 | 0);
}

/* C.LD/C.SD (and C.FLD/C.FSD): uimm[5:3] -> 12:10, uimm[7:6] -> 6:5. */
static uint16_t c_ld_sd(unsigned f3, unsigned r, unsigned rs1, unsigned uimm)
{
	return (uint16_t)((f3 & 7) << 13 | ((uimm >> 3) & 7) << 10 | cr(rs1) << 7 |
			  ((uimm >> 6) & 3) << 5 | cr(r) << 2 | 0);
}

static uint16_t c_lw(unsigned rd, unsigned rs1, unsigned u)  { return c_lw_sw(2, rd, rs1, u); }
static uint16_t c_sw(unsigned rs2, unsigned rs1, unsigned u) { return c_lw_sw(6, rs2, rs1, u); }
static uint16_t c_ld(unsigned rd, unsigned rs1, unsigned u)  { return c_ld_sd(3, rd, rs1, u); }
static uint16_t c_sd(unsigned rs2, unsigned rs1, unsigned u) { return c_ld_sd(7, rs2, rs1, u); }
static uint16_t c_fld(unsigned rd, unsigned rs1, unsigned u) { return c_ld_sd(1, rd, rs1, u); }
static uint16_t c_fsd(unsigned rs2, unsigned rs1, unsigned u) { return c_ld_sd(5, rs2, rs1, u); }

/* CI format, quadrant 2: C.LWSP uimm[5] -> 12, uimm[4:2|7:6] -> 6:2. */
static uint16_t c_lwsp(unsigned rd, unsigned uimm)
{
	return (uint16_t)(2 << 13 | ((uimm >> 5) & 1) << 12 | (rd & 31) << 7 |
			  ((uimm >> 2) & 7) << 4 | ((uimm >> 6) & 3) << 2 | 2);
}

/* C.LDSP (f3=3) / C.FLDSP (f3=1): uimm[5] -> 12, uimm[4:3|8:6] -> 6:2. */
static uint16_t c_ldsp_f(unsigned f3, unsigned rd, unsigned uimm)
{
	return (uint16_t)(f3 << 13 | ((uimm >> 5) & 1) << 12 | (rd & 31) << 7 |
			  ((uimm >> 3) & 3) << 5 | ((uimm >> 6) & 7) << 2 | 2);
}

static uint16_t c_ldsp(unsigned rd, unsigned u)  { return c_ldsp_f(3, rd, u); }
static uint16_t c_fldsp(unsigned rd, unsigned u) { return c_ldsp_f(1, rd, u); }

/* CSS format: C.SWSP uimm[5:2|7:6] -> 12:7, rs2 -> 6:2. */
static uint16_t c_swsp(unsigned rs2, unsigned uimm)
{
	return (uint16_t)(6 << 13 | ((uimm >> 2) & 15) << 9 | ((uimm >> 6) & 3) << 7 |
			  (rs2 & 31) << 2 | 2);
}

/* C.SDSP (f3=7) / C.FSDSP (f3=5): uimm[5:3|8:6] -> 12:7. */
static uint16_t c_sdsp_f(unsigned f3, unsigned rs2, unsigned uimm)
{
	return (uint16_t)(f3 << 13 | ((uimm >> 3) & 7) << 10 | ((uimm >> 6) & 7) << 7 |
			  (rs2 & 31) << 2 | 2);
}

static uint16_t c_sdsp(unsigned rs2, unsigned u)  { return c_sdsp_f(7, rs2, u); }
static uint16_t c_fsdsp(unsigned rs2, unsigned u) { return c_sdsp_f(5, rs2, u); }

/* ------------------------------------------------------------ helpers */

static void expect_mem(uint32_t insn, unsigned len, unsigned size, bool store,
		       unsigned reg)
{
	struct rv_mem_insn m;

	memset(&m, 0xa5, sizeof(m));
	if (rv_decode_mem(insn, &m) != 0)
		fail_msg("insn 0x%08x rejected", insn);
	assert_int_equal(m.len, len);
	assert_int_equal(rv_insn_len(insn), len);
	assert_int_equal(m.size, size);
	assert_int_equal(m.store, store);
	assert_int_equal(m.reg, reg);
	assert_int_equal(m.shift, 64 - 8 * size);
}

static void expect_load(uint32_t insn, unsigned len, unsigned size, bool sext, unsigned rd)
{
	struct rv_mem_insn m;

	expect_mem(insn, len, size, false, rd);
	assert_int_equal(rv_decode_mem(insn, &m), 0);
	assert_int_equal(m.sext, sext);
}

static void expect_reject(uint32_t insn)
{
	struct rv_mem_insn m;

	memset(&m, 0, sizeof(m));
	if (rv_decode_mem(insn, &m) != -1)
		fail_msg("insn 0x%08x accepted (size %u reg %u store %d)", insn,
			 m.size, m.reg, m.store);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

/* ------------------------------------------------------------ base ISA */

static void test_loads(void **state)
{
	(void)state;
	expect_load(lb(5, 10, 0), 4, 1, true, 5);
	expect_load(lh(6, 11, -2), 4, 2, true, 6);
	expect_load(lw(7, 12, 2047), 4, 4, true, 7);
	expect_mem(ld(31, 2, -2048), 4, 8, false, 31);
	expect_load(lbu(1, 3, 1), 4, 1, false, 1);
	expect_load(lhu(30, 4, 100), 4, 2, false, 30);
	expect_load(lwu(8, 9, -1), 4, 4, false, 8);
	/* rd = x0 is a legal (discarding) load */
	expect_load(lw(0, 10, 0), 4, 4, true, 0);

	/* every register and immediate decode the same way */
	for (unsigned rd = 0; rd < 32; rd++)
		for (unsigned rs1 = 0; rs1 < 32; rs1 += 7) {
			int imm = (int)(rnd() & 0xfff) - 2048;

			expect_load(lb(rd, rs1, imm), 4, 1, true, rd);
			expect_load(lh(rd, rs1, imm), 4, 2, true, rd);
			expect_load(lw(rd, rs1, imm), 4, 4, true, rd);
			expect_mem(ld(rd, rs1, imm), 4, 8, false, rd);
			expect_load(lbu(rd, rs1, imm), 4, 1, false, rd);
			expect_load(lhu(rd, rs1, imm), 4, 2, false, rd);
			expect_load(lwu(rd, rs1, imm), 4, 4, false, rd);
		}
}

static void test_stores(void **state)
{
	(void)state;
	expect_mem(sb(5, 10, 0), 4, 1, true, 5);
	expect_mem(sh(6, 11, -2), 4, 2, true, 6);
	expect_mem(sw(7, 12, 2047), 4, 4, true, 7);
	expect_mem(sd(31, 2, -2048), 4, 8, true, 31);
	expect_mem(sw(0, 10, 8), 4, 4, true, 0);         /* storing x0 */

	for (unsigned rs2 = 0; rs2 < 32; rs2++)
		for (unsigned rs1 = 0; rs1 < 32; rs1 += 5) {
			int imm = (int)(rnd() & 0xfff) - 2048;

			/* reg is rs2 (bits 24:20), not rs1 or the immediate */
			expect_mem(sb(rs2, rs1, imm), 4, 1, true, rs2);
			expect_mem(sh(rs2, rs1, imm), 4, 2, true, rs2);
			expect_mem(sw(rs2, rs1, imm), 4, 4, true, rs2);
			expect_mem(sd(rs2, rs1, imm), 4, 8, true, rs2);
		}
}

static void test_reject_base(void **state)
{
	(void)state;
	/* reserved load funct3 (would be LDU in RV128) */
	expect_reject(enc_i(OP_LOAD, 7, 5, 10, 0));
	/* store funct3 > 3 (SQ and reserved) */
	for (unsigned f3 = 4; f3 < 8; f3++)
		expect_reject(enc_s(OP_STORE, f3, 10, 5, 0));
	/* FP and vector loads/stores: FLH FLW FLD FLQ, FSH FSW FSD FSQ */
	for (unsigned f3 = 0; f3 < 8; f3++) {
		expect_reject(enc_i(OP_LOAD_FP, f3, 5, 10, 16));
		expect_reject(enc_s(OP_STORE_FP, f3, 10, 5, 16));
	}
	/* AMOs: AMOSWAP AMOADD AMOXOR AMOAND AMOOR AMOMIN AMOMAX AMOMINU AMOMAXU, .W/.D */
	static const unsigned amo_f5[] = { 0x01, 0x00, 0x04, 0x0c, 0x08, 0x10, 0x14, 0x18, 0x1c };

	for (unsigned i = 0; i < ARRAY_SIZE(amo_f5); i++)
		for (unsigned f3 = 2; f3 <= 3; f3++) {
			expect_reject(enc_amo(amo_f5[i], false, false, f3, 5, 10, 6));
			expect_reject(enc_amo(amo_f5[i], true, true, f3, 5, 10, 6));
		}
	/* LR.W/LR.D and SC.W/SC.D */
	for (unsigned f3 = 2; f3 <= 3; f3++) {
		expect_reject(enc_amo(0x02, true, false, f3, 5, 10, 0));
		expect_reject(enc_amo(0x03, false, true, f3, 5, 10, 6));
	}
	/* non-memory instructions */
	expect_reject(enc_i(OP_IMM, 0, 5, 10, 42));              /* addi */
	expect_reject(enc_i(OP_IMM, 0, 0, 0, 0));                /* nop */
	expect_reject(enc_r(OP_OP, 0, 0, 1, 2, 3));              /* add */
	expect_reject(enc_r(OP_OP, 0, 1, 1, 2, 3));              /* mul */
	expect_reject(0x12345u << 12 | 5u << 7 | OP_LUI);        /* lui */
	expect_reject(0x12345u << 12 | 5u << 7 | OP_AUIPC);      /* auipc */
	expect_reject(1u << 7 | OP_JAL);                          /* jal */
	expect_reject(enc_i(OP_JALR, 0, 0, 1, 0));               /* ret */
	expect_reject(enc_s(OP_BRANCH, 0, 1, 2, 8));             /* beq */
	expect_reject(enc_i(OP_MISC_MEM, 0, 0, 0, 0x0ff));       /* fence */
	expect_reject(enc_i(OP_MISC_MEM, 1, 0, 0, 0));           /* fence.i */
	expect_reject(enc_i(OP_SYSTEM, 0, 0, 0, 0));             /* ecall */
	expect_reject(enc_i(OP_SYSTEM, 0, 0, 0, 0x105));         /* wfi */
	expect_reject(enc_i(OP_SYSTEM, 2, 5, 0, 0xc01));         /* csrr time */
	/* hypervisor virtual-machine loads/stores (HLV.W, HSV.W) are SYSTEM */
	expect_reject(enc_r(OP_SYSTEM, 4, 0x34, 5, 10, 0));
	expect_reject(enc_r(OP_SYSTEM, 4, 0x35, 0, 10, 5));
	expect_reject(0xffffffffu);
	/* 48-bit+ encodings are not loads either */
	expect_reject(0x0000001fu);
	expect_reject(0x0000003fu);
}

/* Spec predicate for a 32-bit word: an integer load or store. */
static bool is_int_mem32(uint32_t w)
{
	unsigned op = w & 0x7f, f3 = (w >> 12) & 7;

	return (op == OP_LOAD && f3 != 7) || (op == OP_STORE && f3 <= 3);
}

static void test_random_32bit(void **state)
{
	struct rv_mem_insn m;

	(void)state;
	for (unsigned i = 0; i < 1000000; i++) {
		uint32_t w = rnd() | 3;      /* a 32-bit parcel */
		int rc;

		if (i & 1)                   /* half of them with a load/store opcode */
			w = (w & ~0x7fu) | ((i & 2) ? OP_LOAD : OP_STORE);
		memset(&m, 0, sizeof(m));
		rc = rv_decode_mem(w, &m);
		if (rc != (is_int_mem32(w) ? 0 : -1))
			fail_msg("0x%08x: rc %d", w, rc);
		if (rc == 0) {
			unsigned f3 = (w >> 12) & 7;

			assert_int_equal(m.len, 4);
			assert_int_equal(m.size, 1u << (f3 & 3));
			assert_int_equal(m.store, (w & 0x7f) == OP_STORE);
			assert_int_equal(m.reg, m.store ? (w >> 20) & 31 : (w >> 7) & 31);
			if (!m.store)
				assert_int_equal(m.sext, f3 < 4);
			assert_int_equal(m.shift, 64 - 8 * m.size);
		}
	}
}

/* ------------------------------------------------------------ compressed */

static void test_compressed_quadrant0(void **state)
{
	(void)state;
	for (unsigned r = 8; r < 16; r++)
		for (unsigned rs1 = 8; rs1 < 16; rs1++) {
			unsigned u4 = (rnd() & 31) << 2, u8 = (rnd() & 31) << 3;

			expect_load(c_lw(r, rs1, u4), 2, 4, true, r);
			expect_mem(c_ld(r, rs1, u8), 2, 8, false, r);
			expect_mem(c_sw(r, rs1, u4), 2, 4, true, r);
			expect_mem(c_sd(r, rs1, u8), 2, 8, true, r);
			/* C.FLD / C.FSD are FP: rejected */
			expect_reject(c_fld(r, rs1, u8));
			expect_reject(c_fsd(r, rs1, u8));
		}
	/* extreme offsets */
	expect_load(c_lw(15, 8, 124), 2, 4, true, 15);
	expect_mem(c_sd(9, 15, 248), 2, 8, true, 9);
	/* C.ADDI4SPN (f3=0) is arithmetic; f3=4 is reserved */
	expect_reject(0u << 13 | 0xffu << 5 | 1u << 2);   /* c.addi4spn x9, sp, ... */
	expect_reject(4u << 13 | 0x3u << 5 | 2u << 2);
}

static void test_compressed_sp(void **state)
{
	(void)state;
	for (unsigned r = 0; r < 32; r++) {
		unsigned u4 = (rnd() & 63) << 2, u8 = (rnd() & 63) << 3;

		if (r) {
			expect_load(c_lwsp(r, u4), 2, 4, true, r);
			expect_mem(c_ldsp(r, u8), 2, 8, false, r);
		}
		/* stores of any register, x0 included */
		expect_mem(c_swsp(r, u4), 2, 4, true, r);
		expect_mem(c_sdsp(r, u8), 2, 8, true, r);
		/* FP variants rejected */
		expect_reject(c_fldsp(r, u8));
		expect_reject(c_fsdsp(r, u8));
	}
	expect_load(c_lwsp(1, 252), 2, 4, true, 1);
	expect_mem(c_sdsp(31, 504), 2, 8, true, 31);
	/* rd = x0 is reserved for C.LWSP and C.LDSP */
	expect_reject(c_lwsp(0, 0));
	expect_reject(c_lwsp(0, 60));
	expect_reject(c_ldsp(0, 0));
	expect_reject(c_ldsp(0, 8));
}

static void test_compressed_upper_half_ignored(void **state)
{
	(void)state;
	/* the trapping word may carry the next instruction in bits 31:16 */
	expect_load((uint32_t)lw(5, 6, 0) << 16 | c_lw(10, 11, 8), 2, 4, true, 10);
	expect_mem(0xffff0000u | c_sdsp(3, 16), 2, 8, true, 3);
	expect_reject(0xffff0000u | 0x0001u);          /* c.nop + junk */
	expect_reject((uint32_t)lw(5, 6, 0) << 16);    /* zero parcel + a load above it */
}

static void test_compressed_rejects(void **state)
{
	(void)state;
	expect_reject(0x0000);          /* defined illegal */
	expect_reject(0x0001);          /* c.nop */
	expect_reject(0x0505);          /* c.addi x10, 1 */
	expect_reject(0xa001);          /* c.j */
	expect_reject(0x4501);          /* c.li x10, 0 */
	expect_reject(0x852e);          /* c.mv x10, x11 */
	expect_reject(0x8082);          /* c.jr ra (ret) */
	expect_reject(0x9002);          /* c.ebreak */
	expect_reject(0x050a);          /* c.slli x10, 2 */
	expect_reject(0x1141);          /* c.addi sp, -16 */
	expect_reject(0x0800);          /* c.addi4spn x8, sp, 16 */
}

/* ------------------------------------------------------------ exhaustive */

static void test_exhaustive_16bit(void **state)
{
	unsigned accepted16 = 0;

	(void)state;
	for (uint32_t p = 0; p < 0x10000; p++) {
		struct rv_mem_insn m;
		int rc;

		memset(&m, 0xcc, sizeof(m));
		rc = rv_decode_mem(p, &m);
		assert_true(rc == 0 || rc == -1);
		if (rc)
			continue;
		assert_true(m.reg < 32);
		assert_true(m.size == 1 || m.size == 2 || m.size == 4 || m.size == 8);
		if ((p & 3) == 3) {
			/* a 32-bit instruction whose upper half is zero */
			assert_int_equal(m.len, 4);
			assert_true(is_int_mem32(p));
			continue;
		}
		accepted16++;
		assert_int_equal(m.len, 2);
		assert_true(m.size == 4 || m.size == 8);
		/* only quadrants 0 and 2, funct3 LW/LD/SW/SD */
		unsigned q = p & 3, f3 = (p >> 13) & 7;

		assert_true(q == 0 || q == 2);
		assert_true(f3 == 2 || f3 == 3 || f3 == 6 || f3 == 7);
		assert_int_equal(m.size, (f3 & 1) ? 8 : 4);
		assert_int_equal(m.store, f3 >= 6);
		if (q == 0)
			assert_true(m.reg >= 8 && m.reg <= 15);
		else if (!m.store)
			assert_true(m.reg != 0);
	}
	/* quadrant 0: 4 funct3 x 2^11; quadrant 2: loads 2 x (2^11 - 2^6 with
	 * rd=0) + stores 2 x 2^11 */
	assert_int_equal(accepted16, 4 * 2048 + 2 * (2048 - 64) + 2 * 2048);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads),
		cmocka_unit_test(test_stores),
		cmocka_unit_test(test_reject_base),
		cmocka_unit_test(test_random_32bit),
		cmocka_unit_test(test_compressed_quadrant0),
		cmocka_unit_test(test_compressed_sp),
		cmocka_unit_test(test_compressed_upper_half_ignored),
		cmocka_unit_test(test_compressed_rejects),
		cmocka_unit_test(test_exhaustive_16bit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
