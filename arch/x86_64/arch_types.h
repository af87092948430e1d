/* Per-vCPU and per-VM state of the x86-64 back ends (shared part + vendor). */
#ifndef TESSERA_ARCH_X86_64_ARCH_TYPES_H
#define TESSERA_ARCH_X86_64_ARCH_TYPES_H

#include "lib/types.h"
#include "devices/cmos.h"
#include "devices/debugport.h"
#include "devices/i8254.h"
#include "devices/i8259.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/pci_stub.h"

/* A PC's interrupt controllers come with the "pc" device; no PLIC is linked. */
#define ARCH_HAS_PLIC 0
/* NPF / EPT violations reach vm_ram_fault: VM RAM is filled on first touch */
#define ARCH_LAZY_RAM 1

/* General-purpose registers not kept in the VMCB/VMCS (order: switch code). */
struct x86_gprs {
	uint64_t rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
};

#define X86_XSAVE_SIZE 4096

struct arch_vcpu {
	struct x86_gprs gprs;
	uint64_t rax;                   /* VMX: the guest's RAX (SVM keeps it in the VMCB) */
	void *vmcb;                     /* SVM: one 4 KiB VMCB; VMX: the VMCS */
	uint64_t vmcb_pa;
	bool launched;                  /* VMX: VMLAUNCH done, VMRESUME from now on */
	uint64_t xcr0;                  /* the guest's XCR0 */
	uint8_t *xsave;                 /* XSAVE area, 64-byte aligned */
	uint64_t mmio_next_rip;
	uint8_t mmio_reg, mmio_size, mmio_dst;
	bool mmio_high, mmio_sext;
	struct lapic lapic;             /* with a "pc" device */
	bool init_pending;              /* INIT arrived while it ran: stop at entry */
	bool wait_sipi;                 /* stopped by INIT: a SIPI starts it */
	/* RIP of the last instruction an exit found in an STI/MOV-SS
	 * interrupt shadow (0: none); see x86_vcpu_pre_inject */
	uint64_t shadow_rip;
	uint64_t pat;                   /* IA32_PAT as the guest wrote it */
	uint64_t syscall_msrs[5];       /* VMX: STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE */
};

/* The PC chipset of a VM with a "pc" device (arch/x86_64/pc.c). */
struct x86_pc {
	bool present;
	struct i8259 pic;
	struct i8254 pit;
	struct cmos cmos;
	struct pci_stub pci;
	struct debugport dbg;
	struct ioapic ioapic;
	bool lines_changed;             /* an ISA line moved since the last resync */
	/* guest TSC at which the PIT / the RTC may next raise its IRQ
	 * (UINT64_MAX: cannot; 0: unknown, a port access changed it) */
	uint64_t pit_due, cmos_due;
	uint8_t window;                 /* bit i: vCPU i has an interrupt window
					 * requested by x86_pc_inject */
};

struct arch_vm {
	uint64_t *npt_root;             /* nested page table PML4 */
	uint64_t npt_root_pa;
	uint8_t *iopm;                  /* SVM I/O permission map, 12 KiB */
	uint8_t *msrpm;                 /* SVM MSR permission map, 8 KiB */
	uint32_t asid;                  /* SVM ASID / VMX VPID */
	uint64_t eptp;                  /* VMX: EPT pointer */
	uint64_t tsc_offset;
	bool flush_tlb;
	uint32_t sipis;                 /* vCPUs started by INIT/SIPI */
	struct x86_pc pc;
};

#endif
