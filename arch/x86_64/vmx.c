/*
 * Intel VMX: VMXON, one VMCS per vCPU, EPT and a VPID per VM, I/O and MSR
 * bitmaps per VM, and the VMX preemption timer as the time-slice clock (as
 * the seeds do): the remaining slice is loaded into the timer at every
 * entry and its expiry ends the guest's run, whatever the guest's RFLAGS.IF
 * (Bochs delivers no external-interrupt exit while the guest runs with
 * interrupts disabled). Only VMCS mechanics live here; x86vcpu.c decides
 * what each exit means.
 */
#include "arch/x86_64/x86.h"
#include "arch/x86_64/x86vcpu.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/sched.h"
#include "lib/string.h"

_Static_assert(offsetof(struct arch_vcpu, rax) == 112 && offsetof(struct arch_vcpu, launched) == 136,
	       "vmx_switch.S: A_RAX, A_LAUNCHED");

#define MSR_FEATURE_CONTROL     0x3A
#define MSR_VMX_BASIC           0x480
#define MSR_VMX_PINBASED        0x481
#define MSR_VMX_PROCBASED       0x482
#define MSR_VMX_EXIT            0x483
#define MSR_VMX_ENTRY           0x484
#define MSR_VMX_MISC            0x485
#define MSR_VMX_CR0_FIXED0      0x486
#define MSR_VMX_CR0_FIXED1      0x487
#define MSR_VMX_CR4_FIXED0      0x488
#define MSR_VMX_CR4_FIXED1      0x489
#define MSR_VMX_PROCBASED2      0x48B
#define MSR_VMX_EPT_VPID_CAP    0x48C
#define MSR_VMX_TRUE_PINBASED   0x48D
#define MSR_VMX_TRUE_PROCBASED  0x48E
#define MSR_VMX_TRUE_EXIT       0x48F
#define MSR_VMX_TRUE_ENTRY      0x490
#define CR4_VMXE (1UL << 13)

/* VMCS fields */
enum {
	VPID = 0x0000,
	G_ES_SEL = 0x0800, G_CS_SEL = 0x0802, G_SS_SEL = 0x0804, G_DS_SEL = 0x0806,
	G_FS_SEL = 0x0808, G_GS_SEL = 0x080A, G_LDTR_SEL = 0x080C, G_TR_SEL = 0x080E,
	H_ES_SEL = 0x0C00, H_CS_SEL = 0x0C02, H_SS_SEL = 0x0C04, H_DS_SEL = 0x0C06,
	H_FS_SEL = 0x0C08, H_GS_SEL = 0x0C0A, H_TR_SEL = 0x0C0C,
	IO_BITMAP_A = 0x2000, IO_BITMAP_B = 0x2002, MSR_BITMAP = 0x2004,
	TSC_OFFSET = 0x2010, EPT_POINTER = 0x201A, GUEST_PHYS = 0x2400,
	VMCS_LINK = 0x2800, G_PAT = 0x2804, G_EFER = 0x2806, H_PAT = 0x2C00, H_EFER = 0x2C02,
	PIN_CTLS = 0x4000, PROC_CTLS = 0x4002, EXC_BITMAP = 0x4004, EXIT_CTLS = 0x400C,
	ENTRY_CTLS = 0x4012, ENTRY_INTR_INFO = 0x4016, ENTRY_EXC_ERR = 0x4018,
	ENTRY_INSN_LEN = 0x401A, PROC_CTLS2 = 0x401E,
	VM_INSN_ERROR = 0x4400, EXIT_REASON = 0x4402, IDT_VEC_INFO = 0x4408,
	IDT_VEC_ERR = 0x440A, EXIT_INSN_LEN = 0x440C,
	G_ES_LIMIT = 0x4800, G_LDTR_LIMIT = 0x480C, G_TR_LIMIT = 0x480E,
	G_GDTR_LIMIT = 0x4810, G_IDTR_LIMIT = 0x4812, G_ES_AR = 0x4814, G_LDTR_AR = 0x4820,
	G_TR_AR = 0x4822, G_INTERRUPTIBILITY = 0x4824, G_ACTIVITY = 0x4826,
	G_SYSENTER_CS = 0x482A, G_PREEMPT_TIMER = 0x482E, H_SYSENTER_CS = 0x4C00,
	CR0_MASK = 0x6000, CR4_MASK = 0x6002, CR0_SHADOW = 0x6004, CR4_SHADOW = 0x6006,
	EXIT_QUAL = 0x6400,
	G_CR0 = 0x6800, G_CR3 = 0x6802, G_CR4 = 0x6804, G_ES_BASE = 0x6806,
	G_LDTR_BASE = 0x6812, G_TR_BASE = 0x6814, G_GDTR_BASE = 0x6816, G_IDTR_BASE = 0x6818,
	G_DR7 = 0x681A, G_RSP = 0x681C, G_RIP = 0x681E, G_RFLAGS = 0x6820,
	G_PENDING_DBG = 0x6822, G_SYSENTER_ESP = 0x6824, G_SYSENTER_EIP = 0x6826,
	H_CR0 = 0x6C00, H_CR3 = 0x6C02, H_CR4 = 0x6C04, H_FS_BASE = 0x6C06, H_GS_BASE = 0x6C08,
	H_TR_BASE = 0x6C0A, H_GDTR_BASE = 0x6C0C, H_IDTR_BASE = 0x6C0E,
	H_SYSENTER_ESP = 0x6C10, H_SYSENTER_EIP = 0x6C12, H_RSP = 0x6C14, H_RIP = 0x6C16,
};

/* controls */
#define PIN_EXT_INTR     (1U << 0)
#define PIN_NMI          (1U << 3)
#define PIN_PREEMPT      (1U << 6)
#define PROC_INTR_WINDOW (1U << 2)
#define PROC_TSC_OFFSET  (1U << 3)      /* without it TSC_OFFSET is ignored */
#define PROC_HLT         (1U << 7)
#define PROC_IO_BITMAPS  (1U << 25)
#define PROC_MSR_BITMAPS (1U << 28)
#define PROC_SECONDARY   (1U << 31)
#define PROC2_EPT        (1U << 1)
#define PROC2_RDTSCP     (1U << 3)
#define PROC2_VPID       (1U << 5)
#define PROC2_UNRESTRICTED (1U << 7)
#define PROC2_XSAVES     (1U << 20)
#define EXIT_HOST_64     (1U << 9)
#define EXIT_SAVE_PAT    (1U << 18)
#define EXIT_LOAD_PAT    (1U << 19)
#define EXIT_SAVE_EFER   (1U << 20)
#define EXIT_LOAD_EFER   (1U << 21)
#define EXIT_SAVE_PREEMPT (1U << 22)
#define ENTRY_IA32E      (1U << 9)
#define ENTRY_LOAD_PAT   (1U << 14)
#define ENTRY_LOAD_EFER  (1U << 15)

/* exit reasons */
#define VMX_EXIT_EXC_NMI    0
#define VMX_EXIT_EXTINT     1
#define VMX_EXIT_TRIPLE     2
#define VMX_EXIT_INTR_WIN   7
#define VMX_EXIT_CPUID      10
#define VMX_EXIT_GETSEC     11
#define VMX_EXIT_HLT        12
#define VMX_EXIT_INVD       13
#define VMX_EXIT_VMCALL     18
#define VMX_EXIT_VMCLEAR    19      /* .. 27: VMCLEAR, VMLAUNCH, VMPTRLD, VMPTRST, */
#define VMX_EXIT_VMXON      27      /* VMREAD, VMRESUME, VMWRITE, VMXOFF, VMXON */
#define VMX_EXIT_CR         28
#define VMX_EXIT_IO         30
#define VMX_EXIT_RDMSR      31
#define VMX_EXIT_WRMSR      32
#define VMX_EXIT_BAD_GUEST  33
#define VMX_EXIT_EPT_VIOL   48
#define VMX_EXIT_EPT_MISC   49
#define VMX_EXIT_INVEPT     50
#define VMX_EXIT_PREEMPT    52
#define VMX_EXIT_INVVPID    53
#define VMX_EXIT_XSETBV     55
#define VMX_EXIT_VMFUNC     59

#define VMX_PT_BITMAP_SIZE  (2 * 4096UL)

static uint32_t vmx_rev;
static uint32_t pin_ctls, proc_ctls, proc2_ctls, exit_ctls, entry_ctls;
static unsigned preempt_shift;
static uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
static struct vcpu *current_vmcs;

/* What vmx_fast() tells vmx_enter (vmx_switch.S), which returns it. */
enum {
	VMX_ENTRY_FAILED = -1,  /* VMLAUNCH/VMRESUME failed (VM-instruction error) */
	VMX_DECODE = 0,         /* an exit for vmx_vcpu_run to decode */
	VMX_LOOP = 1,           /* finished: enter again (vmx_switch.S knows 1) */
	VMX_SYNC = 2,           /* finished: back to arch_vcpu_run (X86_EXIT_NONE) */
	VMX_CORE = 3,           /* finished: the core has work (X86_EXIT_CORE) */
};

int vmx_enter(struct vcpu *v, struct arch_vcpu *a);
void vmx_exit(void);
int vmx_fast(struct vcpu *v);

/* The run loop's parameters (one physical CPU: one loop at a time). */
static struct {
	struct x86_exit *x;
	uint64_t fast_until;
} vmx_loop;

static inline void vmwrite(uint64_t field, uint64_t v)
{
	__asm__ volatile("vmwrite %1, %0" :: "r"(field), "rm"(v) : "cc", "memory");
}

static inline uint64_t vmread(uint64_t field)
{
	uint64_t v;

	__asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"(field) : "cc");
	return v;
}

static int vmptrld(uint64_t pa)
{
	uint8_t fail;

	__asm__ volatile("vmptrld %1; setna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return fail ? -1 : 0;
}

static void invept_all(void)
{
	struct { uint64_t eptp, zero; } d = { 0, 0 };

	__asm__ volatile("invept %0, %1" :: "m"(d), "r"(2UL) : "cc", "memory");
}

/* A control word from its capability MSR: bits that must be 1 set, bits
 * that may not be 1 cleared. Returns false if a wanted bit is impossible. */
static bool adjust(uint32_t *ctl, uint32_t want, uint32_t msr)
{
	uint64_t cap = rdmsr(msr);
	uint32_t v = (want | (uint32_t)cap) & (uint32_t)(cap >> 32);

	*ctl = v;
	return (v & want) == want;
}

int vmx_probe(void)
{
	uint32_t r[4];
	uint64_t fc;

	cpuid(1, 0, r);
	if (!(r[2] & (1U << 5)))
		return -1;
	fc = rdmsr(MSR_FEATURE_CONTROL);
	if ((fc & 1) && !(fc & (1U << 2)))
		return -1;                      /* locked with VMX off */
	return 0;
}

int vmx_cpu_init(void)
{
	uint64_t basic = rdmsr(MSR_VMX_BASIC), fc = rdmsr(MSR_FEATURE_CONTROL), vmxon;
	bool true_ctls = (basic >> 55) & 1;
	uint8_t fail;

	if (!(fc & 1))
		wrmsr(MSR_FEATURE_CONTROL, fc | 1 | (1U << 2));
	vmx_rev = (uint32_t)basic & 0x7FFFFFFF;
	if (!adjust(&pin_ctls, PIN_EXT_INTR | PIN_NMI | PIN_PREEMPT,
		    true_ctls ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED) ||
	    !adjust(&proc_ctls, PROC_TSC_OFFSET | PROC_HLT | PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_SECONDARY,
		    true_ctls ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED) ||
	    !adjust(&proc2_ctls, PROC2_EPT | PROC2_VPID | PROC2_UNRESTRICTED, MSR_VMX_PROCBASED2) ||
	    !adjust(&exit_ctls, EXIT_HOST_64 | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PREEMPT |
		    EXIT_SAVE_PAT | EXIT_LOAD_PAT, true_ctls ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT) ||
	    !adjust(&entry_ctls, ENTRY_LOAD_EFER | ENTRY_LOAD_PAT,
		    true_ctls ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY)) {
		pr_err("VMX lacks a control Tessera needs (EPT, VPID, unrestricted guest, "
		       "preemption timer, EFER/PAT switching)");
		return -1;
	}
	entry_ctls &= ~ENTRY_IA32E;             /* set per guest */
	preempt_shift = rdmsr(MSR_VMX_MISC) & 0x1F;
	cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
	cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
	cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
	cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
	write_cr(4, read_cr(4) | CR4_VMXE);
	write_cr(0, (read_cr(0) | cr0_fixed0) & cr0_fixed1);
	write_cr(4, (read_cr(4) | cr4_fixed0) & cr4_fixed1);
	vmxon = palloc_alloc(4096, 4096);
	if (!vmxon)
		return -1;
	*(uint32_t *)(uintptr_t)vmxon = vmx_rev;
	__asm__ volatile("vmxon %1; setna %0" : "=q"(fail) : "m"(vmxon) : "cc", "memory");
	if (fail) {
		pr_err("VMXON failed");
		return -1;
	}
	pr_info("VMX: preemption timer counts TSC >> %u; EPT, VPID, unrestricted guest", preempt_shift);
	return 0;
}

/* MSR bitmap: 0x000 read-low, 0x400 read-high, 0x800 write-low, 0xC00 write-high */
static void msr_allow(uint8_t *bm, uint32_t msr)
{
	uint32_t off;

	if (msr < 0x2000)
		off = 0;
	else if (msr >= 0xC0000000 && msr < 0xC0002000)
		off = 0x400, msr -= 0xC0000000;
	else
		return;
	bm[off + msr / 8] &= (uint8_t)~(1U << (msr % 8));
	bm[0x800 + off + msr / 8] &= (uint8_t)~(1U << (msr % 8));
}

static int vmx_vm_init(struct vm *vm)
{
	/* switched by the VMCS guest-state area (or harmless): pass through */
	static const uint32_t passthrough[] = {
		MSR_FS_BASE, MSR_GS_BASE, 0x174, 0x175, 0x176,
		/* not in the VMCS: switched per vCPU by syscall_msrs_load() */
		MSR_STAR, MSR_LSTAR, 0xC0000083 /* CSTAR */, 0xC0000084 /* SFMASK */,
		MSR_KERNEL_GS_BASE,
	};
	uint64_t root = palloc_alloc(4096, 4096), io = palloc_alloc(VMX_PT_BITMAP_SIZE, 4096);
	uint64_t msr = palloc_alloc(4096, 4096);

	if (!root || !io || !msr)
		return -1;
	vm->arch.npt_root = (uint64_t *)(uintptr_t)root;
	vm->arch.npt_root_pa = root;
	vm->arch.iopm = (uint8_t *)(uintptr_t)io;
	vm->arch.msrpm = (uint8_t *)(uintptr_t)msr;
	memset(vm->arch.iopm, 0xFF, VMX_PT_BITMAP_SIZE);        /* every port exits */
	memset(vm->arch.msrpm, 0xFF, 4096);                     /* every MSR exits ... */
	for (unsigned i = 0; i < ARRAY_SIZE(passthrough); i++)
		msr_allow(vm->arch.msrpm, passthrough[i]);      /* ... but these */
	vm->arch.asid = vm->id + 1;                             /* VPID 0 is the host's */
	vm->arch.eptp = root | 6 | (3 << 3);                    /* WB, 4 levels */
	return 0;
}

static int vmx_vm_map(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	int r = x86_pt_map(vm->arch.npt_root, X86_PT_EPT, gpa, hpa, size, &x86_pt_palloc);

	invept_all();
	return r;
}

static void load(struct vcpu *v)
{
	if (current_vmcs == v)
		return;
	if (vmptrld(v->arch.vmcb_pa))
		panic("VMPTRLD of vCPU %s/%u failed", v->vm->cfg->name, v->id);
	current_vmcs = v;
}

/* Guest segment: selector, access rights (VMX format), limit, base. */
static void gseg(unsigned i, uint16_t sel, uint32_t ar, uint32_t limit, uint64_t base)
{
	vmwrite(G_ES_SEL + 2 * i, sel);
	vmwrite(G_ES_AR + 2 * i, ar);
	vmwrite(G_ES_LIMIT + 2 * i, limit);
	vmwrite(G_ES_BASE + 2 * i, base);
}

static void host_state(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr, idtr;
	uint16_t tr;

	__asm__ volatile("sgdt %0; sidt %1; str %2" : "=m"(gdtr), "=m"(idtr), "=r"(tr));
	vmwrite(H_CR0, read_cr(0));
	vmwrite(H_CR3, read_cr(3));
	vmwrite(H_CR4, read_cr(4));
	vmwrite(H_CS_SEL, 0x08);
	vmwrite(H_SS_SEL, 0x10);
	vmwrite(H_DS_SEL, 0x10);
	vmwrite(H_ES_SEL, 0x10);
	vmwrite(H_FS_SEL, 0);
	vmwrite(H_GS_SEL, 0);
	vmwrite(H_TR_SEL, tr);
	vmwrite(H_FS_BASE, 0);
	vmwrite(H_GS_BASE, 0);
	vmwrite(H_TR_BASE, x86_tss_base());
	vmwrite(H_GDTR_BASE, gdtr.base);
	vmwrite(H_IDTR_BASE, idtr.base);
	vmwrite(H_SYSENTER_CS, 0);
	vmwrite(H_SYSENTER_ESP, 0);
	vmwrite(H_SYSENTER_EIP, 0);
	vmwrite(H_EFER, rdmsr(MSR_EFER));
	vmwrite(H_PAT, rdmsr(MSR_PAT));
	vmwrite(H_RIP, (uint64_t)(uintptr_t)vmx_exit);
}

/* The SYSCALL MSRs and KERNEL_GS_BASE, which the VMCS does not switch.
 * Tessera itself uses neither SYSCALL nor SWAPGS, so they hold the last
 * guest's values and change only when another vCPU runs (lazily, like
 * the FPU). */
static const uint32_t syscall_msr[5] = {
	MSR_STAR, MSR_LSTAR, 0xC0000083, 0xC0000084, MSR_KERNEL_GS_BASE,
};
static struct vcpu *syscall_owner;

static void syscall_msrs_load(struct vcpu *v)
{
	if (syscall_owner == v)
		return;
	for (unsigned i = 0; i < 5; i++) {
		if (syscall_owner)
			syscall_owner->arch.syscall_msrs[i] = rdmsr(syscall_msr[i]);
		wrmsr(syscall_msr[i], v->arch.syscall_msrs[i]);
	}
	syscall_owner = v;
}

static void vmx_vcpu_reset(struct vcpu *v, const struct x86_boot_state *s)
{
	struct vm *vm = v->vm;
	uint64_t cr0, cr4;
	uint8_t fail;

	memset(v->arch.vmcb, 0, 4096);
	*(uint32_t *)v->arch.vmcb = vmx_rev;
	if (current_vmcs == v)
		current_vmcs = NULL;
	__asm__ volatile("vmclear %1; setna %0" : "=q"(fail) : "m"(v->arch.vmcb_pa) : "cc", "memory");
	if (fail)
		panic("VMCLEAR failed");
	load(v);
	v->arch.launched = false;
	host_state();
	vmwrite(PIN_CTLS, pin_ctls);
	vmwrite(PROC_CTLS, proc_ctls);
	vmwrite(PROC_CTLS2, proc2_ctls);
	vmwrite(EXIT_CTLS, exit_ctls);
	vmwrite(ENTRY_CTLS, entry_ctls | (s->mode == X86_BOOT_LONG64 ? ENTRY_IA32E : 0));
	vmwrite(EXC_BITMAP, 0);
	vmwrite(IO_BITMAP_A, (uint64_t)(uintptr_t)vm->arch.iopm);
	vmwrite(IO_BITMAP_B, (uint64_t)(uintptr_t)vm->arch.iopm + 4096);
	vmwrite(MSR_BITMAP, (uint64_t)(uintptr_t)vm->arch.msrpm);
	vmwrite(EPT_POINTER, vm->arch.eptp);
	vmwrite(VPID, vm->arch.asid);
	vmwrite(TSC_OFFSET, vm->arch.tsc_offset);
	vmwrite(VMCS_LINK, ~0ULL);
	vmwrite(ENTRY_INTR_INFO, 0);
	/* CR0/CR4 bits VMX forces on (NE; VMXE) are owned by Tessera and read
	 * back as the guest wrote them. */
	vmwrite(CR0_MASK, cr0_fixed0 & ~(CR0_PE | CR0_PG));
	vmwrite(CR4_MASK, cr4_fixed0);
	if (s->mode == X86_BOOT_LONG64) {
		gseg(1, 0x10, 0xA09B, 0xFFFFFFFF, 0);   /* CS: 64-bit code */
		for (unsigned i = 0; i < 6; i++)
			if (i != 1)
				gseg(i, 0x18, 0xC093, 0xFFFFFFFF, 0);
		vmwrite(G_GDTR_BASE, s->gdt_base);
		vmwrite(G_GDTR_LIMIT, 0x1F);
		cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
		cr4 = CR4_PAE;
		vmwrite(G_EFER, EFER_LME | EFER_LMA);
		vmwrite(G_CR3, s->cr3);
	} else if (s->mode == X86_BOOT_REAL16) {        /* unrestricted guest */
		gseg(1, (uint16_t)(s->cs_base >> 4), 0x9B, 0xFFFF, s->cs_base);
		for (unsigned i = 0; i < 6; i++)
			if (i != 1)
				gseg(i, 0, 0x93, 0xFFFF, 0);
		vmwrite(G_GDTR_BASE, 0);
		vmwrite(G_GDTR_LIMIT, 0xFFFF);
		cr0 = CR0_ET | CR0_NE;
		cr4 = 0;
		vmwrite(G_EFER, 0);
		vmwrite(G_CR3, 0);
	} else {
		gseg(1, 0x08, 0xC09B, 0xFFFFFFFF, 0);   /* CS: 32-bit flat code */
		for (unsigned i = 0; i < 6; i++)
			if (i != 1)
				gseg(i, 0x10, 0xC093, 0xFFFFFFFF, 0);
		vmwrite(G_GDTR_BASE, 0);
		vmwrite(G_GDTR_LIMIT, 0xFFFF);
		cr0 = CR0_PE | CR0_ET | CR0_NE;
		cr4 = 0;
		vmwrite(G_EFER, 0);
		vmwrite(G_CR3, 0);
	}
	vmwrite(CR0_SHADOW, cr0);
	vmwrite(CR4_SHADOW, cr4);
	vmwrite(G_CR0, (cr0 | (cr0_fixed0 & ~(CR0_PE | CR0_PG))) & cr0_fixed1);
	vmwrite(G_CR4, (cr4 | cr4_fixed0) & cr4_fixed1);
	vmwrite(G_LDTR_SEL, 0);
	vmwrite(G_LDTR_AR, 0x10000);                    /* unusable */
	vmwrite(G_LDTR_LIMIT, 0);
	vmwrite(G_LDTR_BASE, 0);
	vmwrite(G_TR_SEL, 0);
	vmwrite(G_TR_AR, 0x8B);                         /* busy 32/64-bit TSS */
	vmwrite(G_TR_LIMIT, 0x67);
	vmwrite(G_TR_BASE, 0);
	vmwrite(G_IDTR_BASE, 0);
	vmwrite(G_IDTR_LIMIT, 0xFFFF);
	vmwrite(G_DR7, 0x400);
	vmwrite(G_RSP, s->rsp);
	vmwrite(G_RIP, s->rip);
	vmwrite(G_RFLAGS, 0x2);
	vmwrite(G_PENDING_DBG, 0);
	vmwrite(G_INTERRUPTIBILITY, 0);
	vmwrite(G_ACTIVITY, 0);
	vmwrite(G_SYSENTER_CS, 0);
	vmwrite(G_SYSENTER_ESP, 0);
	vmwrite(G_SYSENTER_EIP, 0);
	vmwrite(G_PAT, 0x0007040600070406ULL);
	v->arch.gprs = (struct x86_gprs){ 0 };
	v->arch.gprs.rsi = s->rsi;
	v->arch.gprs.rbx = s->rbx;
	v->arch.rax = s->rax;
	memset(v->arch.syscall_msrs, 0, sizeof(v->arch.syscall_msrs));
	if (syscall_owner == v)
		syscall_owner = NULL;
}

/*
 * The exits x86_fast_exit may finish, decoded into *x (kind, next_rip and
 * for port I/O its port, size and direction): false for the others.
 */
static inline bool decode_fast(uint64_t reason, struct x86_exit *x)
{
	uint64_t qual;

	switch (reason) {
	case VMX_EXIT_CPUID:
		x->kind = X86_EXIT_CPUID;
		break;
	case VMX_EXIT_VMCALL:
		x->kind = X86_EXIT_HYPERCALL;
		break;
	case VMX_EXIT_RDMSR:
		x->kind = X86_EXIT_MSR_READ;
		break;
	case VMX_EXIT_IO:
		qual = vmread(EXIT_QUAL);
		x->kind = X86_EXIT_IO;
		x->size = (uint8_t)((qual & 7) + 1);
		x->in = (qual >> 3) & 1;
		x->string = (qual >> 4) & 1;
		x->rep = (qual >> 5) & 1;
		x->port = (uint16_t)(qual >> 16);
		break;
	default:
		return false;
	}
	x->next_rip = vmread(G_RIP) + vmread(EXIT_INSN_LEN);
	return true;
}

/*
 * Called by vmx_exit after every exit (RFLAGS.IF is clear after a VM exit:
 * an external interrupt that comes meanwhile exits the next entry): finish
 * a CPUID, hypercall, MSR read or port access (x86_fast_exit) and ask for
 * the next entry while rdtsc() < fast_until. The preemption timer goes on
 * from the value the exit saved; it counts guest time only, so fast_until
 * also bounds the host's time in this loop. These exits come from
 * executing an instruction, never from delivering an event: no
 * IDT-vectoring information to re-inject. Only RAX, RBX, RCX, RDX, RSI,
 * RDI and R8-R11 are in v->arch here (vmx_switch.S).
 */
int vmx_fast(struct vcpu *v)
{
	uint64_t reason, intr;
	int r;

	if (!vmx_loop.fast_until)
		return VMX_DECODE;
	reason = vmread(EXIT_REASON);
	switch (reason) {
	case VMX_EXIT_VMCALL:
		r = x86_fast_hypercall(v);
		break;
	case VMX_EXIT_CPUID:
		r = x86_fast_cpuid(v);
		break;
	case VMX_EXIT_RDMSR:
		r = x86_fast_rdmsr(v);
		break;
	case VMX_EXIT_IO:
		decode_fast(reason, vmx_loop.x);
		r = x86_fast_io(v, vmx_loop.x);
		break;
	default:
		return VMX_DECODE;
	}
	if (r == X86_FAST_NO)
		return VMX_DECODE;
	if (r & X86_FAST_SKIP) {
		vmwrite(G_RIP, vmread(G_RIP) + vmread(EXIT_INSN_LEN));
		intr = vmread(G_INTERRUPTIBILITY);
		if (intr & 3)   /* STI / MOV SS blocking ends with the insn */
			vmwrite(G_INTERRUPTIBILITY, intr & ~3ULL);
	}
	if (r & X86_FAST_CORE)
		return VMX_CORE;
	if ((r & X86_FAST_SYNC) || rdtsc() >= vmx_loop.fast_until)
		return VMX_SYNC;
	return VMX_LOOP;
}

/*
 * Enter v; CPUID, hypercalls, MSR reads and port I/O are finished in the
 * loop (vmx_fast) while rdtsc() < fast_until (x86vcpu.h).
 */
static void vmx_vcpu_run(struct vcpu *v, struct x86_exit *x, uint64_t fast_until)
{
	uint64_t reason, qual, now = rdtsc(), budget;
	int r;

	load(v);
	syscall_msrs_load(v);
	if (v->vm->arch.flush_tlb) {
		invept_all();
		v->vm->arch.flush_tlb = false;
	}
	vmwrite(TSC_OFFSET, v->vm->arch.tsc_offset);
	/* The preemption timer guarantees the core gets the CPU back by its
	 * deadline, even from a guest spinning with interrupts off. */
	budget = x86_plat.entry_deadline > now ? x86_plat.entry_deadline - now : 0;
	budget >>= preempt_shift;
	vmwrite(G_PREEMPT_TIMER, budget > 0xFFFFFFFFULL ? 0xFFFFFFFFU : (uint32_t)budget);
	vmx_loop.x = x;
	vmx_loop.fast_until = fast_until;
	r = vmx_enter(v, &v->arch);
	if (r == VMX_ENTRY_FAILED)
		panic("VM entry of %s/%u failed: VM-instruction error %llu", v->vm->cfg->name,
		      v->id, (unsigned long long)vmread(VM_INSN_ERROR));
	if (r != VMX_DECODE) {
		x->kind = r == VMX_CORE ? X86_EXIT_CORE : X86_EXIT_NONE;
		return;
	}
	reason = vmread(EXIT_REASON);
	qual = vmread(EXIT_QUAL);
	/* An event the exit interrupted on its way into the guest (an
	 * interrupt already acknowledged at the 8259 or LAPIC) must be
	 * delivered again on the next entry, or it is lost for good. */
	uint64_t vec = vmread(IDT_VEC_INFO);

	if (vec >> 31) {
		vmwrite(ENTRY_INTR_INFO, vec & ~(1ULL << 12));
		if (vec & (1U << 11))
			vmwrite(ENTRY_EXC_ERR, vmread(IDT_VEC_ERR));
		vmwrite(ENTRY_INSN_LEN, vmread(EXIT_INSN_LEN));
	}
	*x = (struct x86_exit){ .kind = X86_EXIT_UNHANDLED, .code = reason & 0xFFFF };
	if (reason & (1U << 31)) {
		x->kind = X86_EXIT_UNHANDLED;   /* VM-entry failure: bad guest state */
		return;
	}
	if (decode_fast(reason, x))
		return;
	switch (reason & 0xFFFF) {
	case VMX_EXIT_EXTINT:
	case VMX_EXIT_PREEMPT:
		x->kind = X86_EXIT_INTR;
		break;
	case VMX_EXIT_INTR_WIN:
		x->kind = X86_EXIT_IRQ_WINDOW;
		break;
	case VMX_EXIT_HLT:
		x->kind = X86_EXIT_HLT;
		x->next_rip = vmread(G_RIP) + vmread(EXIT_INSN_LEN);
		break;
	case VMX_EXIT_XSETBV:
		x->kind = X86_EXIT_XSETBV;
		x->next_rip = vmread(G_RIP) + vmread(EXIT_INSN_LEN);
		break;
	case VMX_EXIT_WRMSR:
		x->kind = X86_EXIT_MSR_WRITE;
		x->next_rip = vmread(G_RIP) + vmread(EXIT_INSN_LEN);
		break;
	case VMX_EXIT_EPT_VIOL:
		x->kind = X86_EXIT_NPF;
		x->gpa = vmread(GUEST_PHYS);
		x->write = (qual >> 1) & 1;
		x->fetch = (qual >> 2) & 1;
		break;
	case VMX_EXIT_TRIPLE:
		x->kind = X86_EXIT_SHUTDOWN;
		break;
	case VMX_EXIT_INVD:
		/* nothing to drop: guest RAM is write-back host RAM */
		vmwrite(G_RIP, vmread(G_RIP) + vmread(EXIT_INSN_LEN));
		x->kind = X86_EXIT_NONE;
		break;
	case VMX_EXIT_GETSEC:
	case VMX_EXIT_VMCLEAR ... VMX_EXIT_VMXON:
	case VMX_EXIT_INVEPT:
	case VMX_EXIT_INVVPID:
	case VMX_EXIT_VMFUNC:
		/* the guest has no VMX or SMX (CPUID): #UD, as on a CPU without */
		vmwrite(ENTRY_INTR_INFO, 6 | 3U << 8 | 1U << 31);
		x->kind = X86_EXIT_NONE;
		break;
	default:
		break;
	}
}

static uint64_t vmx_get_rip(struct vcpu *v) { load(v); return vmread(G_RIP); }
static void vmx_set_rip(struct vcpu *v, uint64_t rip)
{
	load(v);
	vmwrite(G_RIP, rip);
	/* blocking by STI / MOV SS ends with the emulated instruction */
	vmwrite(G_INTERRUPTIBILITY, vmread(G_INTERRUPTIBILITY) & ~3ULL);
}

static uint64_t vmx_get_rflags(struct vcpu *v) { load(v); return vmread(G_RFLAGS); }
static uint64_t vmx_get_efer(struct vcpu *v) { load(v); return vmread(G_EFER); }

static void vmx_set_efer(struct vcpu *v, uint64_t efer)
{
	uint32_t entry;

	load(v);
	vmwrite(G_EFER, efer);
	/* the guest is in IA-32e mode exactly when EFER.LMA is set */
	entry = (uint32_t)vmread(ENTRY_CTLS) & ~ENTRY_IA32E;
	vmwrite(ENTRY_CTLS, entry | ((efer & EFER_LMA) ? ENTRY_IA32E : 0));
}

static uint64_t vmx_get_cr(struct vcpu *v, int n)
{
	load(v);
	return n == 0 ? vmread(CR0_SHADOW) : n == 3 ? vmread(G_CR3) : vmread(CR4_SHADOW);
}

static bool vmx_interruptible(struct vcpu *v)
{
	load(v);
	return (vmread(G_RFLAGS) & RFLAGS_IF) && !(vmread(G_INTERRUPTIBILITY) & 3) &&
	       !(vmread(ENTRY_INTR_INFO) >> 31);
}

static void vmx_inject(struct vcpu *v, uint8_t vector, int type, bool has_err, uint32_t err)
{
	load(v);
	vmwrite(ENTRY_INTR_INFO, vector | (uint32_t)type << 8 | (has_err ? 1U << 11 : 0) | 1U << 31);
	if (has_err)
		vmwrite(ENTRY_EXC_ERR, err);
}

static void vmx_want_irq_window(struct vcpu *v, bool on)
{
	uint32_t p;

	load(v);
	p = (uint32_t)vmread(PROC_CTLS);
	vmwrite(PROC_CTLS, on ? p | PROC_INTR_WINDOW : p & ~PROC_INTR_WINDOW);
}

const struct x86_vendor_ops vmx_ops = {
	.name = "Intel VMX",
	.vm_init = vmx_vm_init,
	.vm_map = vmx_vm_map,
	.vcpu_reset = vmx_vcpu_reset,
	.vcpu_run = vmx_vcpu_run,
	.get_rip = vmx_get_rip,
	.set_rip = vmx_set_rip,
	.get_rflags = vmx_get_rflags,
	.get_cr = vmx_get_cr,
	.get_efer = vmx_get_efer,
	.set_efer = vmx_set_efer,
	.interruptible = vmx_interruptible,
	.inject = vmx_inject,
	.want_irq_window = vmx_want_irq_window,
};
