#include "arch/x86_64/insn.h"

/* Bytes after ModRM: SIB and displacement, for 32/64-bit addressing. */
static int modrm_tail(const uint8_t *p, unsigned avail, bool addr16)
{
	unsigned mod, rm, n = 0;

	if (avail < 1)
		return -1;
	mod = p[0] >> 6;
	rm = p[0] & 7;
	if (addr16) {
		if (mod == 0 && rm == 6)
			return 2;
		return mod == 1 ? 1 : mod == 2 ? 2 : 0;
	}
	if (mod == 3)
		return 0;
	if (rm == 4) {                          /* SIB */
		if (avail < 2)
			return -1;
		n = 1;
		if (mod == 0 && (p[1] & 7) == 5)
			return (int)n + 4;      /* no base: disp32 */
	} else if (mod == 0 && rm == 5) {
		return 4;                       /* disp32 / RIP-relative */
	}
	return (int)n + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

int x86_decode_mem(const uint8_t *code, unsigned avail, bool long_mode,
		   struct x86_mem_insn *m)
{
	unsigned i = 0, opsize = 4, rex = 0;
	bool addr16 = false, addr_override = false;
	uint8_t op;

	if (avail > X86_INSN_MAX)
		avail = X86_INSN_MAX;
	*m = (struct x86_mem_insn){ 0 };
	/* legacy prefixes */
	for (; i < avail; i++) {
		uint8_t b = code[i];

		if (b == 0x66)
			opsize = 2;
		else if (b == 0x67)
			addr_override = true;
		else if (b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E || b == 0x64 || b == 0x65)
			continue;
		else
			break;
	}
	if (long_mode && i < avail && (code[i] & 0xF0) == 0x40)
		rex = code[i++];
	if (i >= avail)
		return -1;
	addr16 = !long_mode && addr_override;
	if (rex & 8)
		opsize = 8;
	op = code[i++];
	if (op == 0x0F) {                       /* MOVZX / MOVSX */
		uint8_t op2;
		int tail;

		if (i >= avail)
			return -1;
		op2 = code[i++];
		if (op2 != 0xB6 && op2 != 0xB7 && op2 != 0xBE && op2 != 0xBF)
			return -1;
		if (i >= avail || (code[i] >> 6) == 3)
			return -1;
		tail = modrm_tail(code + i, avail - i, addr16);
		if (tail < 0 || i + 1 + (unsigned)tail > avail)
			return -1;
		m->reg = (uint8_t)(((code[i] >> 3) & 7) | ((rex & 4) << 1));
		m->size = (op2 & 1) ? 2 : 1;
		m->dst_size = (uint8_t)opsize;
		m->sext = op2 >= 0xBE;
		m->len = (uint8_t)(i + 1 + (unsigned)tail);
		return 0;
	}
	if (op >= 0xA0 && op <= 0xA3) {         /* MOV AL/eAX <-> [moffs] */
		unsigned asz = long_mode ? (addr_override ? 4 : 8) : (addr_override ? 2 : 4);

		if (i + asz > avail)
			return -1;
		m->reg = 0;
		m->size = (op & 1) ? (uint8_t)opsize : 1;
		m->dst_size = m->size;
		m->store = op >= 0xA2;
		m->len = (uint8_t)(i + asz);
		return 0;
	}
	if (op != 0x88 && op != 0x89 && op != 0x8A && op != 0x8B && op != 0xC6 && op != 0xC7)
		return -1;
	if (i >= avail || (code[i] >> 6) == 3)
		return -1;                      /* register operand: not memory */
	int tail = modrm_tail(code + i, avail - i, addr16);

	if (tail < 0)
		return -1;
	unsigned reg = (code[i] >> 3) & 7, end = i + 1 + (unsigned)tail;

	m->size = (op & 1) ? (uint8_t)opsize : 1;
	m->dst_size = m->size;
	if (op == 0xC6 || op == 0xC7) {
		unsigned isz = m->size == 8 ? 4 : m->size;

		if (reg != 0 || end + isz > avail)
			return -1;
		uint64_t imm = 0;

		for (unsigned k = 0; k < isz; k++)
			imm |= (uint64_t)code[end + k] << (8 * k);
		if (m->size == 8 && (imm & 0x80000000ULL))
			imm |= 0xFFFFFFFF00000000ULL;   /* imm32 sign-extended */
		m->has_imm = true;
		m->imm = imm;
		m->store = true;
		m->len = (uint8_t)(end + isz);
		return end + isz > X86_INSN_MAX ? -1 : 0;
	}
	if (end > avail)
		return -1;
	m->store = op == 0x88 || op == 0x89;
	m->reg = (uint8_t)(reg | ((rex & 4) << 1));
	if (m->size == 1 && !rex && reg >= 4) {
		m->reg = (uint8_t)(reg - 4);    /* AH, CH, DH, BH */
		m->high_byte = true;
	}
	m->len = (uint8_t)end;
	return 0;
}
