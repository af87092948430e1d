/*
 * RISC-V PLIC model (one instance per VM), register layout of the
 * SiFive/"riscv,plic0" PLIC:
 *   0x000000 + 4*src        source priority (src 1..nsrc-1; src 0 reads 0)
 *   0x001000 + 4*word       pending bits (read-only)
 *   0x002000 + 0x80*ctx     enable bits, 32 sources per word
 *   0x200000 + 0x1000*ctx   priority threshold
 *   0x200004 + 0x1000*ctx   claim (read) / complete (write)
 * Only 4-byte aligned 4-byte accesses are accepted; others return -1.
 * Offsets inside the window that name nothing read 0 and ignore writes.
 * Sources are level-triggered through a gateway: a source becomes pending
 * when its line is high and it is not in service; claim clears pending and
 * marks it in service; complete ends service (and re-pends if still high).
 * Context ctx's output line is high while some enabled pending source has
 * priority > threshold[ctx]. Contexts map to vCPUs (context i = vCPU i,
 * S-mode) as Tessera's device trees describe them.
 */
#ifndef TESSERA_DEVICES_PLIC_H
#define TESSERA_DEVICES_PLIC_H

#include "devices/device.h"

#define PLIC_MAX_SOURCES 64     /* source ids 0..63; 0 is "no interrupt" */
#define PLIC_MAX_CONTEXTS 8
#define PLIC_SIZE 0x400000ULL   /* MMIO window used in device trees */

struct plic {
	unsigned nsrc;                  /* number of source ids incl. 0 (<= 64) */
	unsigned nctx;                  /* contexts (<= PLIC_MAX_CONTEXTS) */
	struct irq_line out[PLIC_MAX_CONTEXTS];
	uint32_t prio[PLIC_MAX_SOURCES];
	uint64_t level;                 /* input line levels */
	uint64_t pending;
	uint64_t in_service;
	uint64_t enable[PLIC_MAX_CONTEXTS];
	uint32_t threshold[PLIC_MAX_CONTEXTS];
	uint8_t out_level;              /* bit per context: last level driven */
};

extern const struct dev_ops plic_ops;

/* out[i] is context i's output; nsrc is clamped to 1..64, nctx to 1..8. */
void plic_init(struct plic *p, unsigned nsrc, unsigned nctx,
	       const struct irq_line *out);
void plic_reset(void *dev);
int plic_read(void *dev, uint64_t off, unsigned size, uint64_t *val);
int plic_write(void *dev, uint64_t off, unsigned size, uint64_t val);
/* Input side, usable as an irq_line callback (opaque = struct plic *). */
void plic_set_irq(void *opaque, unsigned src, bool level);

#endif
