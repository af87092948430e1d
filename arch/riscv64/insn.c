#include "arch/riscv64/insn.h"

static int decode32(uint32_t insn, struct rv_mem_insn *m)
{
	unsigned opcode = insn & 0x7F, f3 = (insn >> 12) & 7;

	m->len = 4;
	if (opcode == 0x03) {           /* LB LH LW LD LBU LHU LWU */
		if (f3 == 7)
			return -1;
		m->store = false;
		m->size = (uint8_t)(1u << (f3 & 3));
		m->sext = f3 < 4;
		m->reg = (uint8_t)((insn >> 7) & 0x1F);
		return 0;
	}
	if (opcode == 0x23) {           /* SB SH SW SD */
		if (f3 > 3)
			return -1;
		m->store = true;
		m->size = (uint8_t)(1u << f3);
		m->sext = false;
		m->reg = (uint8_t)((insn >> 20) & 0x1F);
		return 0;
	}
	return -1;
}

static int decode16(uint32_t insn, struct rv_mem_insn *m)
{
	unsigned quad = insn & 3, f3 = (insn >> 13) & 7;
	uint8_t creg = (uint8_t)(8 + ((insn >> 2) & 7));        /* rd' / rs2' */

	m->len = 2;
	m->sext = true;
	if (quad == 0) {
		switch (f3) {
		case 2: m->size = 4; m->store = false; m->reg = creg; return 0; /* C.LW */
		case 3: m->size = 8; m->store = false; m->reg = creg; return 0; /* C.LD */
		case 6: m->size = 4; m->store = true; m->reg = creg; return 0;  /* C.SW */
		case 7: m->size = 8; m->store = true; m->reg = creg; return 0;  /* C.SD */
		default: return -1;
		}
	}
	if (quad == 2) {
		uint8_t rd = (uint8_t)((insn >> 7) & 0x1F), rs2 = (uint8_t)((insn >> 2) & 0x1F);

		switch (f3) {
		case 2: if (!rd) return -1; m->size = 4; m->store = false; m->reg = rd; return 0;  /* C.LWSP */
		case 3: if (!rd) return -1; m->size = 8; m->store = false; m->reg = rd; return 0;  /* C.LDSP */
		case 6: m->size = 4; m->store = true; m->reg = rs2; return 0;   /* C.SWSP */
		case 7: m->size = 8; m->store = true; m->reg = rs2; return 0;   /* C.SDSP */
		default: return -1;
		}
	}
	return -1;
}

static int decode(uint32_t insn, struct rv_mem_insn *m)
{
	if (rv_insn_len(insn) == 4)
		return decode32(insn, m);
	if ((insn & 0xFFFF) == 0)
		return -1;              /* the all-zero parcel is defined illegal */
	return decode16(insn & 0xFFFF, m);
}

int rv_decode_mem(uint32_t insn, struct rv_mem_insn *m)
{
	if (decode(insn, m))
		return -1;
	m->shift = (uint8_t)(64 - 8 * m->size);
	return 0;
}
