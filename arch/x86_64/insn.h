/*
 * Decoding of the x86 instructions guests use on emulated MMIO: the MOV
 * family (88/89/8A/8B, C6/C7 with an immediate, A0-A3 with an absolute
 * address, MOVZX/MOVSX 0F B6/B7/BE/BF), with operand-size, address-size,
 * segment and REX prefixes. Pure C: unit-tested and fuzzed on the host.
 */
#ifndef TESSERA_ARCH_X86_64_INSN_H
#define TESSERA_ARCH_X86_64_INSN_H

#include "lib/types.h"

#define X86_INSN_MAX 15

struct x86_mem_insn {
	uint8_t len;            /* bytes, prefixes included */
	uint8_t size;           /* memory operand: 1, 2, 4, 8 */
	bool store;             /* register/immediate -> memory */
	bool has_imm;           /* store of imm (sign-extended to size) */
	uint64_t imm;
	uint8_t reg;            /* GPR number 0..15 (RAX=0 .. R15=15) */
	bool high_byte;         /* AH/CH/DH/BH: bits 8..15 of reg (reg 0..3) */
	uint8_t dst_size;       /* load: bytes written to reg (1, 2, 4, 8) */
	bool sext;              /* load: MOVSX (else zero-extend) */
};

/* Decode at most `avail` bytes; long_mode: 64-bit code segment (REX valid),
 * else 32-bit protected mode. Returns 0 or -1 (not a supported MMIO MOV,
 * or the bytes end before the instruction does). */
int x86_decode_mem(const uint8_t *code, unsigned avail, bool long_mode,
		   struct x86_mem_insn *m);

#endif
