/* Decoding of the guest load/store instructions that reach MMIO emulation. */
#ifndef TESSERA_ARCH_RISCV64_INSN_H
#define TESSERA_ARCH_RISCV64_INSN_H

#include "lib/types.h"

struct rv_mem_insn {
	uint8_t len;            /* 2 or 4 bytes */
	uint8_t size;           /* access size: 1, 2, 4, 8 */
	uint8_t reg;            /* rd of a load, rs2 of a store */
	bool store;
	bool sext;              /* load result sign-extended */
	uint8_t shift;          /* 64 - 8 * size: a value's unused high bits */
};

static inline unsigned rv_insn_len(uint32_t insn)
{
	return (insn & 3) == 3 ? 4 : 2;
}

/* Integer loads/stores, base and compressed forms. -1 for anything else
 * (FP loads/stores, AMOs, LR/SC, non-memory instructions). */
int rv_decode_mem(uint32_t insn, struct rv_mem_insn *m);

#endif
