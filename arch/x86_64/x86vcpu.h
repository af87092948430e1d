/*
 * The shared x86 layer: what SVM and VMX have in common (guest state setup,
 * CPUID and MSR policy, port I/O and MMIO exits, hypercalls, XSAVE state),
 * and the seam each vendor back end implements (struct x86_vendor_ops).
 * Think Jailhouse's vcpu_vendor_*: the vendor code knows the VMCB or the
 * VMCS; everything above it speaks struct x86_exit.
 */
#ifndef TESSERA_ARCH_X86_64_X86VCPU_H
#define TESSERA_ARCH_X86_64_X86VCPU_H

#include "core/vm.h"

enum x86_exit_kind {
	X86_EXIT_NONE = 0,      /* handled by the vendor code; enter again */
	X86_EXIT_INTR,          /* a physical interrupt (host timer) */
	X86_EXIT_CPUID,
	X86_EXIT_MSR_READ,
	X86_EXIT_MSR_WRITE,
	X86_EXIT_IO,
	X86_EXIT_NPF,           /* nested/EPT fault at gpa */
	X86_EXIT_HLT,
	X86_EXIT_HYPERCALL,     /* VMMCALL / VMCALL */
	X86_EXIT_XSETBV,
	X86_EXIT_SHUTDOWN,      /* triple fault */
	X86_EXIT_IRQ_WINDOW,    /* the guest can take an interrupt now */
	X86_EXIT_CORE,          /* finished (x86_fast_exit); the core has work */
	X86_EXIT_UNHANDLED,     /* anything else: fatal for the VM */
};

struct x86_exit {
	enum x86_exit_kind kind;
	uint64_t next_rip;      /* RIP after the instruction (instruction exits) */
	uint64_t gpa;           /* NPF */
	bool write, fetch;      /* NPF */
	uint16_t port;          /* IO */
	uint8_t size;           /* IO: 1, 2, 4 */
	bool in, string, rep;   /* IO */
	uint64_t code;          /* vendor exit code, for messages */
};

/* Initial register state of a vCPU (power-on for our guests, or a boot
 * protocol's entry state). */
enum x86_boot_mode {
	X86_BOOT_FLAT32 = 0,    /* 32-bit flat protected mode, paging off */
	X86_BOOT_LONG64,        /* 64-bit mode on the page tables at cr3 */
	X86_BOOT_REAL16,        /* real mode, CS base cs_base (an AP after SIPI) */
};

struct x86_boot_state {
	enum x86_boot_mode mode;
	uint64_t cs_base;       /* real mode: CS = cs_base >> 4 */
	uint64_t rip, rsp, rsi, rbx, rax;
	uint64_t cr3;           /* long mode: guest page tables */
	uint64_t gdt_base;      /* long mode: guest GDT with code 0x10, data 0x18 */
};

struct x86_vendor_ops {
	const char *name;
	int (*vm_init)(struct vm *vm);
	int (*vm_map)(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size);
	void (*vcpu_reset)(struct vcpu *v, const struct x86_boot_state *s);
	/* Run v until an exit the caller must see, decoded into *x. Before
	 * that, while rdtsc() < fast_until (0: never), the back end finishes
	 * CPUID, hypercalls, MSR reads and port I/O with x86_fast_exit() and
	 * re-enters at once (a host interrupt still ends the run: it stays
	 * pending across the loop and exits the next entry). The guest's RAX
	 * is in v->arch.rax whatever the vendor keeps it in. */
	void (*vcpu_run)(struct vcpu *v, struct x86_exit *x, uint64_t fast_until);
	uint64_t (*get_rip)(struct vcpu *v);
	/* Finish an instruction Tessera emulated (RIP moves past it): this also
	 * ends an STI / MOV SS interrupt shadow, which covered only that
	 * instruction (after `sti; hlt` the guest must be interruptible). */
	void (*set_rip)(struct vcpu *v, uint64_t rip);
	uint64_t (*get_rflags)(struct vcpu *v);
	uint64_t (*get_cr)(struct vcpu *v, int n);      /* 0, 3, 4 */
	uint64_t (*get_efer)(struct vcpu *v);
	void (*set_efer)(struct vcpu *v, uint64_t efer);
	bool (*interruptible)(struct vcpu *v);
	void (*inject)(struct vcpu *v, uint8_t vector, int type, bool has_err, uint32_t err);
	void (*want_irq_window)(struct vcpu *v, bool on);
};

/*
 * The exits a back end's run loop finishes without leaving vcpu_run:
 * x86_fast_exit(v, x) for X86_EXIT_CPUID, X86_EXIT_HYPERCALL,
 * X86_EXIT_MSR_READ and X86_EXIT_IO, with x->next_rip (and for IO the
 * port, size and direction) decoded. X86_FAST_NO: not finished here
 * (nothing was done; the exit goes to arch_vcpu_run). Otherwise a mask:
 * X86_FAST_SKIP, the instruction completed and RIP moves to x->next_rip
 * (which also ends an interrupt shadow); X86_FAST_SYNC, leave the loop (as
 * X86_EXIT_NONE) before entering again: an exception went in, or the
 * chipset may have changed (a chipset port, a device moved an ISA line, a
 * LAPIC timer fired while its register was read); X86_FAST_CORE, leave it
 * for the core (as X86_EXIT_CORE): a vCPU woke, the console has news, or a
 * refused port access stopped the VM.
 */
#define X86_FAST_NO   0
#define X86_FAST_SKIP 1
#define X86_FAST_SYNC 2
#define X86_FAST_CORE 4
int x86_fast_exit(struct vcpu *v, const struct x86_exit *x);
/* the same, one kind each (a back end that has decoded the kind anyway) */
int x86_fast_cpuid(struct vcpu *v);
int x86_fast_hypercall(struct vcpu *v);
int x86_fast_rdmsr(struct vcpu *v);
int x86_fast_io(struct vcpu *v, const struct x86_exit *x);

#define X86_EVENT_EXT 0
#define X86_EVENT_NMI 2
#define X86_EVENT_EXC 3

struct x86_platform {
	uint64_t tsc_hz, lapic_hz;
	uint64_t want_deadline;         /* the core's (arch_set_deadline) */
	uint64_t entry_deadline;        /* with the running vCPU's device timers */
	const struct x86_vendor_ops *vendor;
	bool has_xsave;
	uint64_t host_xcr0;             /* the features Tessera lets guests enable */
	uint64_t cpu_xcr0;              /* every feature the CPU has: used to save/restore */
	uint32_t xsave_size;
};
extern struct x86_platform x86_plat;

extern const struct x86_vendor_ops svm_ops;
int svm_probe(void);            /* 0 if SVM with nested paging is usable */
int svm_cpu_init(void);
extern const struct x86_vendor_ops vmx_ops;
int vmx_probe(void);            /* 0 if VMX can be turned on */
int vmx_cpu_init(void);
uint64_t x86_tss_base(void);

int x86_backend_init(void);
#define X86_BOOT_TABLES_SIZE (7 * 4096ULL)     /* GDT + PML4 + PDPT + 4 PDs */
void x86_vcpu_init_signal(struct vcpu *v);      /* INIT IPI to v */
void x86_vcpu_sipi(struct vcpu *v, uint8_t vector);
/* pc.c: the chipset of a VM with a "pc" device */
void x86_pc_reset(struct vm *vm);
uint64_t x86_pc_next_event(struct vcpu *v);     /* host TSC, UINT64_MAX: none */
bool x86_pc_irq_pending(struct vcpu *v);
void x86_pc_describe(struct vcpu *v);
/* Called by x86_pc_inject just before an external interrupt goes in. */
void x86_vcpu_pre_inject(struct vcpu *v);
enum x86_inj {
	X86_INJ_NONE,           /* nothing pending */
	X86_INJ_DONE,           /* an interrupt goes in at the next entry */
	X86_INJ_WINDOW,         /* one waits for the guest to be interruptible */
};
enum x86_inj x86_pc_inject(struct vcpu *v);
int x86_pc_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val);  /* 1: not a chipset MSR */
int x86_pc_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val);
uint64_t x86_tsc_to_ns(uint64_t tsc);
uint64_t x86_ns_to_tsc(uint64_t ns);
/* Program the host timer for deadline or the console's next poll or drain,
 * whichever is first; returns that time. */
uint64_t x86_program_timer(uint64_t deadline);
void x86_take_host_interrupts(void);
bool x86_poll_console(void);
void x86_stack_check(void);

/* npt.c: 4-level guest-physical tables (AMD NPT or Intel EPT leaf format). */
enum x86_pt_format { X86_PT_NPT, X86_PT_EPT };
struct x86_pt_alloc {
	uint64_t (*page)(void *ctx);
	void *ctx;
};
extern const struct x86_pt_alloc x86_pt_palloc;   /* pages from palloc */
int x86_pt_map(uint64_t *root, enum x86_pt_format fmt, uint64_t gpa, uint64_t hpa,
	       uint64_t size, const struct x86_pt_alloc *a);
int x86_pt_lookup(const uint64_t *root, uint64_t gpa, uint64_t *hpa, uint64_t *leaf_size);

#endif
