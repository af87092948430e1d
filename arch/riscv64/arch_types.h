/* Per-vCPU and per-VM state of the RISC-V H back end. */
#ifndef TESSERA_ARCH_RISCV64_ARCH_TYPES_H
#define TESSERA_ARCH_RISCV64_ARCH_TYPES_H

/* Byte offsets used by switch.S (checked with _Static_assert in vcpu.c). */
#define VCPU_PC         0       /* gpr[0] holds the guest pc */
#define VCPU_HOST_SP    256
#define VCPU_HSTATUS    264
#define VCPU_SSTATUS    272

#ifndef __ASSEMBLER__
#include "lib/types.h"
#include "arch/riscv64/insn.h"

/* A decoded MMIO instruction, kept per vCPU so that a guest polling a
 * device with the same instruction decodes it once. */
struct rv_mmio_dc {
	uint32_t insn;          /* the instruction as fetched; RV_DC_NONE: empty */
	struct rv_mem_insn m;   /* its decode (m.store: the slot's direction) */
	bool light;             /* m.reg is not s0-s11: the light path may do it */
};
/* Never a fetched instruction: a 16-bit one comes back zero-extended, a
 * 32-bit one has its low two bits set. */
#define RV_DC_NONE 0xFFFF0000U

struct arch_vcpu {
	uint64_t gpr[32];       /* x1..x31; slot 0 is the guest pc */
	uint64_t host_sp;
	uint64_t hstatus;       /* HS-level state the guest runs with */
	uint64_t sstatus;
	/* VS-level CSRs, live in the hart while this vCPU is loaded */
	uint64_t vsstatus, vsie, vstvec, vsscratch, vsepc, vscause, vstval, vsatp;
	uint64_t vstimecmp;     /* guest time of the virtual timer */
	uint64_t hvip;          /* VSSIP/VSTIP/VSEIP injected by Tessera */
	/* floating point, switched lazily */
	uint64_t fpr[32];
	uint64_t fcsr;
	bool fp_dirty;          /* hart's F registers are newer than fpr[] */
	bool suspended;         /* SBI HSM suspend in progress */
	bool light_exit;        /* the light path filled the exit for the core */
	bool hvip_changed;      /* a device set or cleared VSEIP in hvip */
	/* the load an MMIO exit is waiting for */
	uint8_t mmio_rd, mmio_len, mmio_size;
	bool mmio_sext, mmio_write;
	int mmio_err;           /* a bus error still to report (BUS_*), or 0 */
	uint64_t mmio_gpa;      /* its address */
	/* decode cache, [0] loads, [1] stores: the last MMIO instruction
	 * of each kind and its decode */
	struct rv_mmio_dc mmio_dc[2];
};

/* Host time: one instruction, inlined into the core's loop. */
#define ARCH_NOW_INLINE 1
#define ARCH_HAS_PLIC 1                 /* VMs may have a PLIC (devices/plic.c) */
#define ARCH_LAZY_RAM 1                 /* guest page faults reach vm_ram_fault */
static inline uint64_t arch_now(void)
{
	uint64_t t;

	__asm__ volatile("csrr %0, time" : "=r"(t));
	return t;
}

struct arch_vm {
	uint64_t *root;         /* Sv39x4 G-stage root table (16 KiB) */
	uint64_t hgatp;
	uint64_t htimedelta;    /* guest time = host time + htimedelta */
	bool no_vmid;           /* hgatp has VMID 0 (too few VMID bits): no TLB tags */
};
#endif

#endif
