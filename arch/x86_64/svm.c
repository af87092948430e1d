/*
 * AMD SVM: one VMCB per vCPU, nested paging and an ASID per VM, I/O and
 * MSR permission maps per VM. Only the VMCB layout and VMRUN mechanics live
 * here; x86vcpu.c decides what every exit means.
 */
#include "arch/x86_64/x86.h"
#include "arch/x86_64/x86vcpu.h"
#include "core/log.h"
#include "core/palloc.h"
#include "lib/string.h"

_Static_assert(offsetof(struct arch_vcpu, rax) == 112 && offsetof(struct arch_vcpu, vmcb_pa) == 128,
	       "svm_switch.S: A_RAX, A_VMCB_PA");

/* VMCB control area */
#define VMCB_INTERCEPT_CR       0x000
#define VMCB_INTERCEPT_EXC      0x008
#define VMCB_INTERCEPT_MISC1    0x00C
#define VMCB_INTERCEPT_MISC2    0x010
#define VMCB_IOPM_BASE          0x040
#define VMCB_MSRPM_BASE         0x048
#define VMCB_TSC_OFFSET         0x050
#define VMCB_ASID               0x058
#define VMCB_TLB_CTL            0x05C
#define VMCB_INT_CTL            0x060
#define VMCB_INT_VECTOR         0x064
#define VMCB_INT_SHADOW         0x068
#define VMCB_EXITCODE           0x070
#define VMCB_EXITINFO1          0x078
#define VMCB_EXITINFO2          0x080
#define VMCB_EXITINTINFO        0x088
#define VMCB_NP_ENABLE          0x090
#define VMCB_EVENTINJ           0x0A8
#define VMCB_NCR3               0x0B0
#define VMCB_CLEAN              0x0C0
/* VMCB state save area */
#define VMCB_ES                 0x400
#define VMCB_CS                 0x410
#define VMCB_SS                 0x420
#define VMCB_DS                 0x430
#define VMCB_FS                 0x440
#define VMCB_GS                 0x450
#define VMCB_GDTR               0x460
#define VMCB_LDTR               0x470
#define VMCB_IDTR               0x480
#define VMCB_TR                 0x490
#define VMCB_CPL                0x4CB
#define VMCB_EFER               0x4D0
#define VMCB_CR4                0x548
#define VMCB_CR3                0x550
#define VMCB_CR0                0x558
#define VMCB_DR7                0x560
#define VMCB_DR6                0x568
#define VMCB_RFLAGS             0x570
#define VMCB_RIP                0x578
#define VMCB_RSP                0x5D8
#define VMCB_RAX                0x5F8
#define VMCB_G_PAT              0x668

/* intercept bits (MISC1 / MISC2) */
#define I1_INTR     (1U << 0)
#define I1_NMI      (1U << 1)
#define I1_SMI      (1U << 2)
#define I1_INIT     (1U << 3)
#define I1_VINTR    (1U << 4)
#define I1_CPUID    (1U << 18)
#define I1_INVD     (1U << 22)
#define I1_HLT      (1U << 24)
#define I1_INVLPGA  (1U << 26)
#define I1_IOIO     (1U << 27)
#define I1_MSR      (1U << 28)
#define I1_TASKSW   (1U << 29)
#define I1_SHUTDOWN (1U << 31)
#define I2_VMRUN    (1U << 0)
#define I2_VMMCALL  (1U << 1)
#define I2_VMLOAD   (1U << 2)
#define I2_VMSAVE   (1U << 3)
#define I2_STGI     (1U << 4)
#define I2_CLGI     (1U << 5)
#define I2_SKINIT   (1U << 6)
#define I2_XSETBV   (1U << 13)

#define INT_CTL_V_IRQ          (1U << 8)
#define INT_CTL_V_IGN_TPR      (1U << 20)
#define INT_CTL_V_INTR_MASKING (1U << 24)

/* exit codes */
#define SVM_EXIT_EXC_BASE   0x040
#define SVM_EXIT_INTR       0x060
#define SVM_EXIT_VINTR      0x064
#define SVM_EXIT_CPUID      0x072
#define SVM_EXIT_HLT        0x078
#define SVM_EXIT_IOIO       0x07B
#define SVM_EXIT_MSR        0x07C
#define SVM_EXIT_SHUTDOWN   0x07F
#define SVM_EXIT_VMMCALL    0x081
#define SVM_EXIT_XSETBV     0x08D
#define SVM_EXIT_INVD       0x076
#define SVM_EXIT_INVLPGA    0x07A
#define SVM_EXIT_VMRUN      0x080   /* .. 0x086: VMRUN, VMMCALL, VMLOAD, VMSAVE, */
#define SVM_EXIT_SKINIT     0x086   /* STGI, CLGI, SKINIT */
#define SVM_EXIT_NPF        0x400

#define IOPM_SIZE  (3 * 4096UL)
#define MSRPM_SIZE (2 * 4096UL)

static uint64_t hsave_pa;

/*
 * The vCPU whose FS, GS, TR, LDTR, KernelGSBase and SYSCALL/SYSENTER MSRs
 * are in the CPU. VMLOAD and VMSAVE move exactly these between the CPU and
 * a VMCB, and VMRUN/#VMEXIT leave them alone: after an exit the CPU still
 * holds the guest's, and Tessera never uses them itself (CPL 0 only, no
 * SYSCALL/SYSENTER/SWAPGS, no FS/GS-relative data, no IST in its IDT, so
 * the guest's TR is never consulted). So they move only when a different
 * vCPU runs, like the FPU: VMSAVE into the old owner's VMCB, VMLOAD from the
 * new one's.
 */
static struct vcpu *svm_owner;

#define F8(v, off)  (*(volatile uint8_t *)((uint8_t *)(v)->arch.vmcb + (off)))
#define F32(v, off) (*(volatile uint32_t *)((uint8_t *)(v)->arch.vmcb + (off)))
#define F64(v, off) (*(volatile uint64_t *)((uint8_t *)(v)->arch.vmcb + (off)))
/* Plain accesses for the run loop, where VMRUN (an asm with a memory
 * clobber) is what changes the VMCB */
#define VMCB8(p, off)  (*(uint8_t *)((p) + (off)))
#define VMCB64(p, off) (*(uint64_t *)((p) + (off)))


int svm_probe(void)
{
	uint32_t r[4];

	cpuid(0x80000000, 0, r);
	if (r[0] < 0x8000000A)
		return -1;
	cpuid(0x80000001, 0, r);
	if (!(r[2] & (1U << 2)))
		return -1;                      /* no SVM */
	if (rdmsr(MSR_VM_CR) & (1U << 4))
		return -1;                      /* disabled by firmware */
	/* QEMU honours NP_ENABLE even when CPUID hides it; still ask. */
	cpuid(0x8000000A, 0, r);
	if (!(r[3] & 1U))
		pr_warn("SVM: CPUID does not advertise nested paging; trying it anyway");
	return 0;
}

int svm_cpu_init(void)
{
	hsave_pa = palloc_alloc(4096, 4096);
	if (!hsave_pa)
		return -1;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, hsave_pa);
	return 0;
}

/* Pass an MSR straight through (both read and write). */
static void msrpm_allow(uint8_t *pm, uint32_t msr)
{
	uint32_t base, off;

	if (msr < 0x2000)
		base = 0, off = msr;
	else if (msr >= 0xC0000000 && msr < 0xC0002000)
		base = 0x800, off = msr - 0xC0000000;
	else if (msr >= 0xC0010000 && msr < 0xC0012000)
		base = 0x1000, off = msr - 0xC0010000;
	else
		return;
	pm[base + off / 4] &= (uint8_t)~(3U << (2 * (off % 4)));
}

static int svm_vm_init(struct vm *vm)
{
	static const uint32_t passthrough[] = {
		/* loaded and saved by VMLOAD/VMSAVE with the guest's VMCB */
		MSR_STAR, MSR_LSTAR, 0xC0000083 /* CSTAR */, 0xC0000084 /* SFMASK */,
		MSR_KERNEL_GS_BASE, MSR_FS_BASE, MSR_GS_BASE,
		0x174, 0x175, 0x176 /* SYSENTER_CS/ESP/EIP */,
	};
	uint64_t root = palloc_alloc(4096, 4096);
	uint64_t iopm = palloc_alloc(IOPM_SIZE, 4096), msrpm = palloc_alloc(MSRPM_SIZE, 4096);

	if (!root || !iopm || !msrpm)
		return -1;
	vm->arch.npt_root = (uint64_t *)(uintptr_t)root;
	vm->arch.npt_root_pa = root;
	vm->arch.iopm = (uint8_t *)(uintptr_t)iopm;
	vm->arch.msrpm = (uint8_t *)(uintptr_t)msrpm;
	memset(vm->arch.iopm, 0xFF, IOPM_SIZE);         /* every port exits */
	memset(vm->arch.msrpm, 0xFF, MSRPM_SIZE);       /* every MSR exits ... */
	for (unsigned i = 0; i < ARRAY_SIZE(passthrough); i++)
		msrpm_allow(vm->arch.msrpm, passthrough[i]);    /* ... but these */
	vm->arch.asid = vm->id + 1;                     /* ASID 0 is the host's */
	return 0;
}

static int svm_vm_map(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	return x86_pt_map(vm->arch.npt_root, X86_PT_NPT, gpa, hpa, size, &x86_pt_palloc);
}

static void seg(struct vcpu *v, unsigned off, uint16_t sel, uint16_t attr, uint32_t limit,
		uint64_t base)
{
	*(volatile uint16_t *)((uint8_t *)v->arch.vmcb + off) = sel;
	*(volatile uint16_t *)((uint8_t *)v->arch.vmcb + off + 2) = attr;
	F32(v, off + 4) = limit;
	F64(v, off + 8) = base;
}

static void svm_vcpu_reset(struct vcpu *v, const struct x86_boot_state *s)
{
	struct vm *vm = v->vm;

	memset(v->arch.vmcb, 0, 4096);
	F32(v, VMCB_INTERCEPT_EXC) = 0;
	F32(v, VMCB_INTERCEPT_MISC1) = I1_INTR | I1_NMI | I1_SMI | I1_INIT | I1_CPUID |
				       I1_INVD | I1_HLT | I1_INVLPGA | I1_IOIO | I1_MSR |
				       I1_TASKSW | I1_SHUTDOWN;
	F32(v, VMCB_INTERCEPT_MISC2) = I2_VMRUN | I2_VMMCALL | I2_VMLOAD | I2_VMSAVE |
				       I2_STGI | I2_CLGI | I2_SKINIT | I2_XSETBV;
	F64(v, VMCB_IOPM_BASE) = (uint64_t)(uintptr_t)vm->arch.iopm;
	F64(v, VMCB_MSRPM_BASE) = (uint64_t)(uintptr_t)vm->arch.msrpm;
	F64(v, VMCB_TSC_OFFSET) = vm->arch.tsc_offset;
	F32(v, VMCB_ASID) = vm->arch.asid;
	F8(v, VMCB_TLB_CTL) = 1;                /* flush this ASID on the first run */
	F32(v, VMCB_INT_CTL) = INT_CTL_V_INTR_MASKING;
	F64(v, VMCB_NP_ENABLE) = 1;
	F64(v, VMCB_NCR3) = vm->arch.npt_root_pa;
	F64(v, VMCB_G_PAT) = 0x0007040600070406ULL;
	F64(v, VMCB_DR6) = 0xFFFF0FF0;
	F64(v, VMCB_DR7) = 0x400;
	F64(v, VMCB_RFLAGS) = 0x2;
	F64(v, VMCB_RIP) = s->rip;
	F64(v, VMCB_RSP) = s->rsp;
	seg(v, VMCB_LDTR, 0, 0x0082, 0xFFFF, 0);
	seg(v, VMCB_TR, 0, 0x008B, 0x67, 0);
	if (s->mode == X86_BOOT_LONG64) {
		seg(v, VMCB_CS, 0x10, 0x0A9B, 0xFFFFFFFF, 0);   /* 64-bit code */
		for (unsigned off = VMCB_ES; off <= VMCB_GS; off += 0x10)
			if (off != VMCB_CS)
				seg(v, off, 0x18, 0x0C93, 0xFFFFFFFF, 0);
		seg(v, VMCB_GDTR, 0, 0, 0x1F, s->gdt_base);
		seg(v, VMCB_IDTR, 0, 0, 0, 0);
		F64(v, VMCB_CR0) = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
		F64(v, VMCB_CR4) = CR4_PAE;
		F64(v, VMCB_CR3) = s->cr3;
		F64(v, VMCB_EFER) = EFER_SVME | EFER_LME | EFER_LMA;
	} else if (s->mode == X86_BOOT_REAL16) {
		seg(v, VMCB_CS, (uint16_t)(s->cs_base >> 4), 0x009B, 0xFFFF, s->cs_base);
		for (unsigned off = VMCB_ES; off <= VMCB_GS; off += 0x10)
			if (off != VMCB_CS)
				seg(v, off, 0, 0x0093, 0xFFFF, 0);
		seg(v, VMCB_GDTR, 0, 0, 0xFFFF, 0);
		seg(v, VMCB_IDTR, 0, 0, 0xFFFF, 0);
		F64(v, VMCB_CR0) = CR0_ET | CR0_NE;
		F64(v, VMCB_EFER) = EFER_SVME;
	} else {
		seg(v, VMCB_CS, 0x08, 0x0C9B, 0xFFFFFFFF, 0);   /* 32-bit flat code */
		for (unsigned off = VMCB_ES; off <= VMCB_GS; off += 0x10)
			if (off != VMCB_CS)
				seg(v, off, 0x10, 0x0C93, 0xFFFFFFFF, 0);
		seg(v, VMCB_GDTR, 0, 0, 0xFFFF, 0);
		seg(v, VMCB_IDTR, 0, 0, 0xFFFF, 0);
		F64(v, VMCB_CR0) = CR0_PE | CR0_ET | CR0_NE;
		F64(v, VMCB_EFER) = EFER_SVME;  /* VMRUN insists; hidden from the guest */
	}
	v->arch.gprs = (struct x86_gprs){ 0 };
	v->arch.gprs.rsi = s->rsi;
	v->arch.gprs.rbx = s->rbx;
	v->arch.rax = s->rax;
	if (svm_owner == v)
		svm_owner = NULL;       /* the VMCB's segments are new: VMLOAD them */
}

static inline void vmsave(uint64_t pa)
{
	__asm__ volatile("vmsave %%rax" :: "a"(pa) : "memory");
}

static inline void vmload(uint64_t pa)
{
	__asm__ volatile("vmload %%rax" :: "a"(pa) : "memory");
}

/*
 * The exits x86_fast_exit may finish, decoded into *x (kind, next_rip and
 * for port I/O its port, size and direction): false for the others. TCG
 * has no next-RIP save: CPUID, VMMCALL and RDMSR advance by their length
 * without prefixes; port I/O has the next RIP in EXITINFO2.
 */
static inline bool decode_fast(const uint8_t *vmcb, uint64_t code, struct x86_exit *x)
{
	uint64_t rip = VMCB64(vmcb, VMCB_RIP), info1 = VMCB64(vmcb, VMCB_EXITINFO1);

	switch (code) {
	case SVM_EXIT_CPUID:
		x->kind = X86_EXIT_CPUID;
		x->next_rip = rip + 2;
		return true;
	case SVM_EXIT_VMMCALL:
		x->kind = X86_EXIT_HYPERCALL;
		x->next_rip = rip + 3;
		return true;
	case SVM_EXIT_MSR:
		if (info1)
			return false;           /* WRMSR */
		x->kind = X86_EXIT_MSR_READ;
		x->next_rip = rip + 2;
		return true;
	case SVM_EXIT_IOIO:
		x->kind = X86_EXIT_IO;
		x->in = info1 & 1;
		x->string = (info1 >> 2) & 1;
		x->rep = (info1 >> 3) & 1;
		x->size = (info1 & (1U << 4)) ? 1 : (info1 & (1U << 5)) ? 2 : 4;
		x->port = (uint16_t)(info1 >> 16);
		x->next_rip = VMCB64(vmcb, VMCB_EXITINFO2);
		return true;
	default:
		return false;
	}
}

/* What svm_fast() tells svm_enter (svm_switch.S). */
enum {
	SVM_DECODE = 0,         /* an exit for svm_vcpu_run to decode */
	SVM_LOOP = 1,           /* finished: enter again (svm_switch.S knows 1) */
	SVM_SYNC = 2,           /* finished: back to arch_vcpu_run (X86_EXIT_NONE) */
	SVM_CORE = 3,           /* finished: the core has work (X86_EXIT_CORE) */
};

int svm_enter(struct vcpu *v, struct arch_vcpu *a);
int svm_fast(struct vcpu *v);

/* The run loop's parameters (one physical CPU: one loop at a time). */
static struct {
	struct x86_exit *x;
	uint64_t fast_until;
} svm_loop;

/*
 * Called by svm_enter after every exit, GIF still clear: finish a CPUID,
 * hypercall, MSR read or port access (x86_fast_exit) and ask for the next
 * entry while rdtsc() < fast_until. A host interrupt that came meanwhile
 * stays pending, and the next VMRUN (which sets GIF) exits with it at once:
 * V_INTR_MASKING with the host's IF set makes it an INTR intercept. These
 * exits come from executing an instruction, never from delivering an
 * event, so EXITINTINFO has nothing to re-inject for them. Only RAX, RBX,
 * RCX, RDX, RSI, RDI and R8-R11 are in v->arch here (svm_switch.S).
 */
int svm_fast(struct vcpu *v)
{
	uint8_t *vmcb = v->arch.vmcb;
	uint64_t code = VMCB64(vmcb, VMCB_EXITCODE);
	unsigned len;
	int r;

	VMCB8(vmcb, VMCB_TLB_CTL) = 0;
	if (!svm_loop.fast_until)
		return SVM_DECODE;
	switch (code) {
	case SVM_EXIT_VMMCALL:
		r = x86_fast_hypercall(v);
		len = 3;
		break;
	case SVM_EXIT_CPUID:
		r = x86_fast_cpuid(v);
		len = 2;
		break;
	case SVM_EXIT_MSR:
		if (VMCB64(vmcb, VMCB_EXITINFO1))
			return SVM_DECODE;      /* WRMSR */
		r = x86_fast_rdmsr(v);
		len = 2;
		break;
	case SVM_EXIT_IOIO:
		decode_fast(vmcb, code, svm_loop.x);
		r = x86_fast_io(v, svm_loop.x);
		len = (unsigned)(svm_loop.x->next_rip - VMCB64(vmcb, VMCB_RIP));
		break;
	default:
		return SVM_DECODE;
	}
	if (r == X86_FAST_NO)
		return SVM_DECODE;
	if (r & X86_FAST_SKIP) {
		/* TCG has no next-RIP save: the length without prefixes, as
		 * decode_fast gives the slow path */
		VMCB64(vmcb, VMCB_RIP) += len;
		VMCB64(vmcb, VMCB_INT_SHADOW) &= ~1ULL; /* it ends with the insn */
		v->arch.shadow_rip = 0;
	}
	if (r & X86_FAST_CORE)
		return SVM_CORE;
	if ((r & X86_FAST_SYNC) || rdtsc() >= svm_loop.fast_until)
		return SVM_SYNC;
	return SVM_LOOP;
}

/*
 * Enter v; CPUID, hypercalls, MSR reads and port I/O are finished in the
 * loop (svm_fast) while rdtsc() < fast_until (x86vcpu.h). GIF is clear from
 * before the first VMRUN to after the last, and RFLAGS.IF set across them:
 * with V_INTR_MASKING the host's IF decides whether physical interrupts
 * reach the host, so the LAPIC timer ends the guest's run with an INTR
 * exit and stays pending (IF=0 again) until the host chooses to take it.
 */
static void svm_vcpu_run(struct vcpu *v, struct x86_exit *x, uint64_t fast_until)
{
	uint8_t *vmcb = v->arch.vmcb;
	uint64_t code, info1, info2;
	int r;

	if (v->vm->arch.flush_tlb) {
		F8(v, VMCB_TLB_CTL) = 1;
		v->vm->arch.flush_tlb = false;
	}
	F64(v, VMCB_TSC_OFFSET) = v->vm->arch.tsc_offset;
	if (svm_owner != v) {
		if (svm_owner)
			vmsave(svm_owner->arch.vmcb_pa);
		vmload(v->arch.vmcb_pa);
		svm_owner = v;
	}
	svm_loop.x = x;
	svm_loop.fast_until = fast_until;
	__asm__ volatile("clgi; sti" ::: "memory");
	r = svm_enter(v, &v->arch);
	__asm__ volatile("cli; stgi" ::: "memory");
	/* the shadowed instruction, for x86_vcpu_pre_inject (a stale record
	 * costs nothing: resuming past any HLT an interrupt meets is an
	 * ordering a CPU may show too) */
	if (unlikely(F64(v, VMCB_INT_SHADOW) & 1))
		v->arch.shadow_rip = F64(v, VMCB_RIP);
	if (r != SVM_DECODE) {
		x->kind = r == SVM_CORE ? X86_EXIT_CORE : X86_EXIT_NONE;
		return;
	}
	code = F64(v, VMCB_EXITCODE);
	/* An event cut short by the exit goes in again (same format). */
	if (F64(v, VMCB_EXITINTINFO) >> 31 & 1)
		F64(v, VMCB_EVENTINJ) = F64(v, VMCB_EXITINTINFO);
	info1 = F64(v, VMCB_EXITINFO1);
	info2 = F64(v, VMCB_EXITINFO2);
	*x = (struct x86_exit){ .kind = X86_EXIT_UNHANDLED, .code = code };
	if (decode_fast(vmcb, code, x))
		return;
	switch (code) {
	case SVM_EXIT_INTR:
		x->kind = X86_EXIT_INTR;
		break;
	case SVM_EXIT_VINTR:
		x->kind = X86_EXIT_IRQ_WINDOW;
		break;
	case SVM_EXIT_HLT:
		x->kind = X86_EXIT_HLT;
		x->next_rip = F64(v, VMCB_RIP) + 1;
		break;
	case SVM_EXIT_XSETBV:
		x->kind = X86_EXIT_XSETBV;
		x->next_rip = F64(v, VMCB_RIP) + 3;
		break;
	case SVM_EXIT_MSR:              /* WRMSR (RDMSR: decode_fast) */
		x->kind = X86_EXIT_MSR_WRITE;
		x->next_rip = F64(v, VMCB_RIP) + 2;
		break;
	case SVM_EXIT_NPF:
		x->kind = X86_EXIT_NPF;
		x->gpa = info2;
		x->write = (info1 >> 1) & 1;
		x->fetch = (info1 >> 4) & 1;
		break;
	case SVM_EXIT_SHUTDOWN:
		x->kind = X86_EXIT_SHUTDOWN;
		break;
	case SVM_EXIT_INVD:
		/* nothing to drop: guest RAM is write-back host RAM (0F 08) */
		F64(v, VMCB_RIP) += 2;
		x->kind = X86_EXIT_NONE;
		break;
	case SVM_EXIT_INVLPGA:
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMRUN + 2 ... SVM_EXIT_SKINIT:
		/* the guest has no SVM (CPUID): #UD, as on a CPU without it */
		F64(v, VMCB_EVENTINJ) = 6 | 3ULL << 8 | 1ULL << 31;
		x->kind = X86_EXIT_NONE;
		break;
	default:
		break;
	}
}

static uint64_t svm_get_rip(struct vcpu *v) { return F64(v, VMCB_RIP); }
static void svm_set_rip(struct vcpu *v, uint64_t rip)
{
	F64(v, VMCB_RIP) = rip;
	F64(v, VMCB_INT_SHADOW) &= ~1ULL;       /* the shadow ends with the emulated insn */
	v->arch.shadow_rip = 0;
}

static uint64_t svm_get_rflags(struct vcpu *v) { return F64(v, VMCB_RFLAGS); }
static uint64_t svm_get_efer(struct vcpu *v) { return F64(v, VMCB_EFER); }
static void svm_set_efer(struct vcpu *v, uint64_t efer) { F64(v, VMCB_EFER) = efer | EFER_SVME; }

static uint64_t svm_get_cr(struct vcpu *v, int n)
{
	return n == 0 ? F64(v, VMCB_CR0) : n == 3 ? F64(v, VMCB_CR3) : F64(v, VMCB_CR4);
}

static bool svm_interruptible(struct vcpu *v)
{
	return (F64(v, VMCB_RFLAGS) & RFLAGS_IF) && !(F64(v, VMCB_INT_SHADOW) & 1) &&
	       !(F64(v, VMCB_EVENTINJ) >> 31 & 1);
}

static void svm_inject(struct vcpu *v, uint8_t vector, int type, bool has_err, uint32_t err)
{
	F64(v, VMCB_EVENTINJ) = vector | (uint64_t)type << 8 | (has_err ? 1ULL << 11 : 0) |
				1ULL << 31 | (uint64_t)err << 32;
}

/* Ask for an exit as soon as the guest can take an interrupt: a virtual
 * interrupt request whose delivery SVM intercepts (VINTR). */
static void svm_want_irq_window(struct vcpu *v, bool on)
{
	uint32_t ctl = F32(v, VMCB_INT_CTL), misc = F32(v, VMCB_INTERCEPT_MISC1);

	if (on) {
		F32(v, VMCB_INT_CTL) = ctl | INT_CTL_V_IRQ | INT_CTL_V_IGN_TPR;
		F32(v, VMCB_INTERCEPT_MISC1) = misc | I1_VINTR;
	} else {
		F32(v, VMCB_INT_CTL) = ctl & ~(INT_CTL_V_IRQ | INT_CTL_V_IGN_TPR);
		F32(v, VMCB_INTERCEPT_MISC1) = misc & ~I1_VINTR;
	}
}

const struct x86_vendor_ops svm_ops = {
	.name = "AMD SVM",
	.vm_init = svm_vm_init,
	.vm_map = svm_vm_map,
	.vcpu_reset = svm_vcpu_reset,
	.vcpu_run = svm_vcpu_run,
	.get_rip = svm_get_rip,
	.set_rip = svm_set_rip,
	.get_rflags = svm_get_rflags,
	.get_cr = svm_get_cr,
	.get_efer = svm_get_efer,
	.set_efer = svm_set_efer,
	.interruptible = svm_interruptible,
	.inject = svm_inject,
	.want_irq_window = svm_want_irq_window,
};
