/*
 * The shared x86 layer: implements the core's arch interface (core/arch.h)
 * on top of a vendor back end (SVM today, VMX next), with the policies both
 * share: guest boot state, CPUID filtering, the MSRs a guest may touch,
 * port I/O exits, hypercalls, XCR0 and XSAVE state per vCPU.
 */
#include "arch/x86_64/x86.h"
#include "arch/x86_64/insn.h"
#include "arch/x86_64/x86vcpu.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/sched.h"
#include "lib/printf.h"
#include "lib/string.h"

#define V (x86_plat.vendor)
#define GUEST_BOOT_MAGIC 0x54455353U    /* "TESS" in EAX at a guest's entry */

/* Hypercalls (VMMCALL/VMCALL, function in RAX, result in RAX). */
#define HC_VM_ID        0
#define HC_VCPU_ID      1
#define HC_YIELD        2
#define HC_RESTARTS     3
#define HC_SHUTDOWN     4
#define HC_REBOOT       5
#define HC_UNSUPPORTED  ((uint64_t)-2)

#define XCR0_X87 1ULL
#define XCR0_SSE 2ULL
#define XCR0_AVX 4ULL

static struct vcpu *fpu_owner;  /* whose XSAVE state is in the CPU */

/* ------------------------------------------------------------ boot */

static uint64_t page(void)
{
	return palloc_alloc(4096, 4096);
}

static uint64_t pt_page(void *ctx)
{
	UNUSED(ctx);
	return page();
}

const struct x86_pt_alloc x86_pt_palloc = { pt_page, NULL };

int x86_backend_init(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	if (r[2] & (1U << 26)) {                        /* XSAVE */
		write_cr(4, read_cr(4) | CR4_OSXSAVE);
		cpuid(0xD, 0, r);
		x86_plat.has_xsave = true;
		x86_plat.host_xcr0 = r[0] & (XCR0_X87 | XCR0_SSE | XCR0_AVX);
		x86_plat.cpu_xcr0 = r[0] | (uint64_t)r[3] << 32;
		xsetbv(0, x86_plat.cpu_xcr0);
		cpuid(0xD, 0, r);                       /* EBX: size for that XCR0 */
		x86_plat.xsave_size = r[1];
		if (x86_plat.xsave_size > X86_XSAVE_SIZE)
			panic("XSAVE area of %u bytes is larger than Tessera's %u",
			      x86_plat.xsave_size, X86_XSAVE_SIZE);
		xsetbv(0, x86_plat.host_xcr0);
	}
	/* One binary, two back ends: whichever the CPU has. */
	if (svm_probe() == 0) {
		if (svm_cpu_init())
			return -1;
		x86_plat.vendor = &svm_ops;
	} else if (vmx_probe() == 0) {
		if (vmx_cpu_init())
			return -1;
		x86_plat.vendor = &vmx_ops;
	} else {
		pr_err("this CPU offers neither AMD SVM nor Intel VMX (or firmware disabled "
		       "it); stopping");
		return -1;
	}
	pr_info("virtualization: %s; XSAVE %s (guest XCR0 up to 0x%llx)", V->name,
		x86_plat.has_xsave ? "yes" : "no", (unsigned long long)x86_plat.host_xcr0);
	return 0;
}

int arch_vm_init(struct vm *vm)
{
	if (V->vm_init(vm))
		return -1;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		uint64_t xs = page(), ctl = page();     /* XSAVE area; VMCB or VMCS */

		if (!xs || !ctl)
			return -1;
		v->arch.xsave = (uint8_t *)(uintptr_t)xs;
		v->arch.vmcb = (void *)(uintptr_t)ctl;
		v->arch.vmcb_pa = ctl;
	}
	return 0;
}

int arch_vm_map(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	return V->vm_map(vm, gpa, hpa, size);
}

void arch_vm_reset(struct vm *vm)
{
	vm->arch.tsc_offset = 0 - rdtsc();      /* the guest's TSC starts at 0 */
	vm->arch.flush_tlb = true;
	x86_pc_reset(vm);       /* chipset timers restart on the new clock */
}

/* The PC's device windows: legacy VGA/option ROMs (0xa0000-0xfffff) and
 * the 1 GiB below 4 GiB (PCI, HPET, IOAPIC, LAPIC, firmware), where RAM
 * does not reach. Elsewhere an address outside RAM and devices stops the
 * VM (the isolation scenarios). */
bool arch_gpa_in_mmio_hole(struct vm *vm, uint64_t gpa)
{
	UNUSED(vm);
	return (gpa >= 0xA0000 && gpa < 0x100000) || (gpa >= 0xC0000000ULL && gpa < 0x100000000ULL);
}

/* Our guests' boot info needs no host values. A Linux VM's command line
 * gets the TSC rate (tsc_early_khz=): Linux 6.1 reads it from CPUID only on
 * Intel or from hypervisors it knows, and calibrating against the PIT
 * fails under emulation (the loop is too slow for its sanity checks). And
 * tsc=reliable: the guest TSC is the host's plus a per-VM offset, invariant
 * and the same on every vCPU, but Linux's watchdog checks it against
 * counted timer ticks, which a time-sliced vCPU gets late. */
void arch_vm_fixup_dtb(struct vm *vm, void *dtb, uint64_t size)
{
	const uint8_t *zp = dtb;
	uint32_t ptr, max;
	char *cmd;
	size_t len;

	if (vm->cfg->boot != CFG_BOOT_LINUX_X86 || size < 4096)
		return;
	memcpy(&ptr, zp + 0x228, 4);            /* cmd_line_ptr */
	memcpy(&max, zp + 0x238, 4);            /* cmdline_size */
	if (max > 4095)
		max = 4095;
	cmd = vm_gpa_to_hva(vm, ptr, max + 1);
	if (!cmd)
		return;
	len = strlen(cmd);
	for (size_t i = 0; i + 4 <= len; i++)
		if (!memcmp(cmd + i, "tsc", 3) && (cmd[i + 3] == '=' || cmd[i + 3] == '_'))
			return;                 /* the config says */
	if (len + 40 > max) {
		pr_info("vm %s: no room for tsc_early_khz= on the command line", vm->cfg->name);
		return;
	}
	snprintf(cmd + len, max + 1 - len, "%stsc_early_khz=%llu tsc=reliable", len ? " " : "",
		 (unsigned long long)(x86_plat.tsc_hz / 1000));
}

/* A bootloader's work for a 64-bit entry: at gpa, a GDT (64-bit code at
 * 0x10, flat data at 0x18, as the Linux boot protocol wants) and page
 * tables identity-mapping the low 4 GiB with 2 MiB pages (PML4, PDPT and
 * four page directories): 7 pages. Built again at every reset. */
static int build_boot_tables(struct vm *vm, uint64_t gpa, struct x86_boot_state *s)
{
	uint64_t *t = vm_gpa_to_hva(vm, gpa, X86_BOOT_TABLES_SIZE);

	if (!t)
		return -1;
	memset(t, 0, X86_BOOT_TABLES_SIZE);
	t[2] = 0x00AF9B000000FFFFULL;           /* 0x10: 64-bit code, DPL 0 */
	t[3] = 0x00CF93000000FFFFULL;           /* 0x18: 4 GiB flat data */
	t[512] = (gpa + 0x2000) | 3;            /* PML4[0] -> PDPT */
	for (uint64_t i = 0; i < 4; i++) {
		t[1024 + i] = (gpa + 0x3000 + i * 0x1000) | 3;  /* PDPT[i] -> PD i */
		for (uint64_t j = 0; j < 512; j++)
			t[1536 + i * 512 + j] = (i << 30 | j << 21) | 0x83;  /* 2 MiB, RW, P */
	}
	s->mode = X86_BOOT_LONG64;
	s->gdt_base = gpa;
	s->cr3 = gpa + 0x1000;
	return 0;
}

/* Our own guests start in 32-bit flat protected mode with EAX = "TESS",
 * EBX = their boot info (config table) and ESI = their vCPU id. A Linux
 * VM's vCPU 0 starts at the 64-bit entry with RSI = the zero page; its
 * other vCPUs start in real mode at the SIPI vector's page (pc). */
void arch_vcpu_reset(struct vcpu *v, uint64_t pc, uint64_t arg0, uint64_t arg1)
{
	const struct cfg_vm *c = v->vm->cfg;
	struct x86_boot_state s = {
		.mode = X86_BOOT_FLAT32, .rip = pc, .rax = GUEST_BOOT_MAGIC,
		.rbx = arg1, .rsi = arg0 ? arg0 : v->id,
	};

	if (c->boot == CFG_BOOT_LINUX_X86 && v->id == 0) {
		s = (struct x86_boot_state){ .rip = pc, .rsi = arg1 };
		if (build_boot_tables(v->vm, c->boot_tables, &s))
			pr_err("vm %s: boot tables at 0x%llx are outside its memory", c->name,
			       (unsigned long long)c->boot_tables);
	} else if (c->boot == CFG_BOOT_LINUX_X86) {
		s = (struct x86_boot_state){ .mode = X86_BOOT_REAL16, .cs_base = pc, .rip = 0 };
	}
	V->vcpu_reset(v, &s);
	if (v->vm->arch.pc.present)
		lapic_reset(&v->arch.lapic);
	v->arch.xcr0 = XCR0_X87;
	v->arch.init_pending = false;
	v->arch.wait_sipi = false;
	v->arch.shadow_rip = 0;
	v->arch.pat = 0x0007040600070406ULL;    /* the power-on PAT */
	memset(v->arch.xsave, 0, 4096);         /* XSTATE_BV = 0: init state */
	if (fpu_owner == v)
		fpu_owner = NULL;
}

/* INIT (from another vCPU's ICR): the target stops and waits for a SIPI. A
 * running target stops at its next entry. */
void x86_vcpu_init_signal(struct vcpu *v)
{
	if (v->state == VCPU_STOPPED) {
		v->arch.wait_sipi = true;
		return;
	}
	v->arch.init_pending = true;
	if (v->state == VCPU_BLOCKED) {
		v->wake_at = UINT64_MAX;
		sched_wake(v, arch_now());
	}
}

/* SIPI: a vCPU waiting for one starts in real mode at vector << 12. */
void x86_vcpu_sipi(struct vcpu *v, uint8_t vector)
{
	if (v->state != VCPU_STOPPED || !v->arch.wait_sipi)
		return;                 /* ignored, as by a CPU not in wait-for-SIPI */
	if (vcpu_start(v, (uint64_t)vector << 12, 0, 0) == 0)
		v->vm->arch.sipis++;
}

uint64_t arch_vcpu_pc(struct vcpu *v)
{
	return V->get_rip(v);
}

void arch_vcpu_describe(struct vcpu *v)
{
	x86_pc_describe(v);
}

void arch_vcpu_set_ext_irq(struct vcpu *v, bool level)
{
	UNUSED(v);
	UNUSED(level);          /* x86 interrupts come from the chipset models (pc.c) */
}

bool arch_vcpu_irq_pending(struct vcpu *v)
{
	return x86_pc_irq_pending(v) && (V->get_rflags(v) & RFLAGS_IF);
}

uint64_t arch_vcpu_next_event(struct vcpu *v)
{
	/* with interrupts off it can take none before it runs again */
	if (!(V->get_rflags(v) & RFLAGS_IF))
		return UINT64_MAX;
	return x86_pc_next_event(v);
}

/* ------------------------------------------------------------ FPU */

static void xsave_to(uint8_t *area)
{
	__asm__ volatile("xsave64 (%0)" :: "r"(area), "a"(~0U), "d"(~0U) : "memory");
}

static void xrstor_from(const uint8_t *area)
{
	__asm__ volatile("xrstor64 (%0)" :: "r"(area), "a"(~0U), "d"(~0U) : "memory");
}

/*
 * The guest's FPU/SSE/AVX state and XCR0 are in the CPU while it runs; they
 * move only when a different vCPU runs. Saving and restoring happen with
 * every component the CPU has enabled in XCR0, so the area is complete
 * whatever XCR0 the guest set — read back with XGETBV rather than trusted
 * from the last intercepted XSETBV (QEMU's TCG does not always intercept
 * it, and a stale XCR0 made XRSTOR fault in the hypervisor).
 */
static void fpu_load(struct vcpu *v)
{
	if (!x86_plat.has_xsave || fpu_owner == v)
		return;
	if (fpu_owner) {
		fpu_owner->arch.xcr0 = xgetbv(0);
		xsetbv(0, x86_plat.cpu_xcr0);
		xsave_to(fpu_owner->arch.xsave);
	} else {
		xsetbv(0, x86_plat.cpu_xcr0);
	}
	xrstor_from(v->arch.xsave);
	xsetbv(0, v->arch.xcr0);
	fpu_owner = v;
}

/* ------------------------------------------------------------ policies */

static void fault(struct vm_exit *e, struct vcpu *v, uint64_t gpa, const char *what)
{
	e->reason = EXIT_FAULT;
	e->fault.gpa = gpa;
	e->fault.pc = V->get_rip(v);
	e->fault.what = what;
}

static void skip(struct vcpu *v, const struct x86_exit *x)
{
	V->set_rip(v, x->next_rip);
}

static void inject_gp(struct vcpu *v)
{
	V->inject(v, 13, X86_EVENT_EXC, true, 0);
}

static void emulate_cpuid(struct vcpu *v)
{
	uint32_t leaf = (uint32_t)v->arch.rax, sub = (uint32_t)v->arch.gprs.rcx, r[4];

	if (leaf >= 0x40000000 && leaf <= 0x400000FF) {
		r[0] = 0x40000010;                      /* "TesseraVMM\0\0" */
		r[1] = 0x73736554; r[2] = 0x56617265; r[3] = 0x00004D4D;
		if (leaf == 0x40000001 || leaf == 0x40000010) {
			/* TSC kHz (0x40000010: the timing leaf VMware and KVM
			 * also offer; EBX: the LAPIC timer input, 1 GHz) */
			r[0] = (uint32_t)(x86_plat.tsc_hz / 1000);
			r[1] = leaf == 0x40000010 ? 1000000 : 0;
			r[2] = r[3] = 0;
		} else if (leaf != 0x40000000) {
			r[0] = r[1] = r[2] = r[3] = 0;
		}
	} else {
		cpuid(leaf, sub, r);
	}
	switch (leaf) {
	case 1:
		r[1] = (r[1] & 0x0000FFFF) | v->id << 24 | v->vm->nvcpus << 16;
		r[2] &= ~((1U << 3) | (1U << 5) | (1U << 21) | (1U << 24) | (1U << 27));
		r[2] |= 1U << 31;                       /* hypervisor present */
		if (V->get_cr(v, 4) & CR4_OSXSAVE)
			r[2] |= 1U << 27;
		/* no MCE/MCA banks, MTRRs, debug store, thermal/ACPI clock
		 * control, EIST, TM2, PDCM (perf capabilities), SMX */
		r[3] &= ~((1U << 7) | (1U << 9) | (1U << 12) | (1U << 14) | (1U << 21) |
			  (1U << 22) | (1U << 29) | (1U << 31));
		r[2] &= ~((1U << 2) | (1U << 4) | (1U << 6) | (1U << 7) | (1U << 8) | (1U << 15));
		if (v->vm->arch.pc.present) {           /* local APIC, x2APIC, TSC deadline */
			r[3] |= 1U << 9;
			r[2] |= (1U << 21) | (1U << 24);
		}
		break;
	case 0xD:
		if (sub == 0) {
			r[0] &= (uint32_t)x86_plat.host_xcr0;
			r[3] = 0;
		} else if (sub == 1) {
			r[0] &= 1;                      /* XSAVEOPT only */
		} else if (sub > 2) {
			r[0] = r[1] = r[2] = r[3] = 0;
		}
		break;
	case 0x15:      /* Intel: TSC = crystal * EBX / EAX; a 1:1 "crystal" at the TSC rate */
		if (x86_plat.vendor == &vmx_ops && x86_plat.tsc_hz <= 0xFFFFFFFFULL) {
			r[0] = 1; r[1] = 1; r[2] = (uint32_t)x86_plat.tsc_hz; r[3] = 0;
		}
		break;
	case 7:
		if (sub == 0) {
			/* no TSC_ADJUST MSR, no INVPCID (VMX would need its
			 * secondary control), no RDPID (TSC_AUX is not switched) */
			r[1] &= ~((1U << 1) | (1U << 10));
			r[2] &= ~(1U << 22);
		}
		break;
	case 6:         /* power management: only "the APIC timer always runs" */
		r[0] = 1U << 2;
		r[1] = r[2] = r[3] = 0;
		break;
	case 0xA:       /* no architectural PMU */
		r[0] = r[1] = r[2] = r[3] = 0;
		break;
	case 0x80000007:
		r[3] |= 1U << 8;        /* invariant TSC: host TSC + a per-VM offset */
		break;
	case 0x80000001:
		r[2] &= ~(1U << 2);                     /* no SVM for guests */
		r[3] &= ~(1U << 27);                    /* no RDTSCP (TSC_AUX) */
		r[2] &= ~(1U << 23);                    /* no core performance counters */
		break;
	case 0x8000000A:
		r[0] = r[1] = r[2] = r[3] = 0;
		break;
	default:
		break;
	}
	v->arch.rax = r[0];
	v->arch.gprs.rbx = r[1];
	v->arch.gprs.rcx = r[2];
	v->arch.gprs.rdx = r[3];
}

/* 0 and *val for an MSR the guest may read, -1 for #GP. */
static int msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	int r = x86_pc_rdmsr(v, msr, val);

	if (r <= 0)
		return r;
	switch (msr) {
	case MSR_EFER:
		*val = V->get_efer(v) & ~EFER_SVME;
		return 0;
	case MSR_APIC_BASE:
		*val = 0xFEE00000ULL | (v->id == 0 ? 1ULL << 8 : 0);   /* disabled, BSP */
		return 0;
	case MSR_TSC:
		*val = rdtsc() + v->vm->arch.tsc_offset;
		return 0;
	case MSR_PAT:
		*val = v->arch.pat;
		return 0;
	case 0xC001001F: /* AMD NB_CFG: no northbridge to configure */
	case 0x8B:      /* microcode revision */
	case 0xFE:      /* MTRRcap: no variable ranges, no fixed ranges */
	case 0x2FF:     /* MTRRdefType */
		*val = 0;
		return 0;
	case 0x1A0:     /* MISC_ENABLE: fast string operations on */
		*val = 1;
		return 0;
	case 0xC0010015: /* HWCR: TscFreqSel, the TSC runs at a constant rate */
		*val = 1ULL << 24;
		return 0;
	default:
		return -1;
	}
}

static int msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	int r = x86_pc_wrmsr(v, msr, val);

	if (r <= 0)
		return r;
	switch (msr) {
	case MSR_EFER:
		if (val & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
			return -1;
		V->set_efer(v, val);
		return 0;
	case MSR_PAT:
		for (unsigned i = 0; i < 8; i++) {
			uint8_t t = (uint8_t)(val >> (8 * i));

			if (t == 2 || t == 3 || t > 7)
				return -1;      /* reserved memory types */
		}
		v->arch.pat = val;      /* kept, not applied: guest RAM is write-back */
		return 0;
	case MSR_APIC_BASE:
	case 0xC001001F:
	case 0x8B:
	case 0x2FF:
	case 0x1A0:
		return 0;       /* accepted, no effect */
	default:
		return -1;
	}
}

/* #GP for an MSR Tessera does not model; each one (read or write) is
 * reported once so what a guest probes can be seen. */
static void msr_refused(struct vcpu *v, uint32_t msr, bool write, uint64_t val)
{
	if (vm_note_once(v->vm, 3ULL << 62 | (uint64_t)write << 61 | msr)) {
		if (write)
			pr_info("vm %s: wrmsr 0x%x <- 0x%llx: MSR not modelled, #GP",
				v->vm->cfg->name, msr, (unsigned long long)val);
		else
			pr_info("vm %s: rdmsr 0x%x: MSR not modelled, #GP", v->vm->cfg->name, msr);
	}
	inject_gp(v);
}

static void emulate_wrmsr(struct vcpu *v)
{
	uint32_t msr = (uint32_t)v->arch.gprs.rcx;
	uint64_t val = (v->arch.rax & 0xFFFFFFFF) | v->arch.gprs.rdx << 32;

	if (msr_write(v, msr, val)) {
		msr_refused(v, msr, true, val);
		return;
	}
	V->set_rip(v, V->get_rip(v) + 2);
}

static bool emulate_xsetbv(struct vcpu *v)
{
	uint64_t val = (v->arch.rax & 0xFFFFFFFF) | v->arch.gprs.rdx << 32;

	if ((uint32_t)v->arch.gprs.rcx != 0 || !(val & XCR0_X87) ||
	    (val & ~x86_plat.host_xcr0) || ((val & XCR0_AVX) && !(val & XCR0_SSE)))
		return false;
	v->arch.xcr0 = val;
	xsetbv(0, val);         /* this vCPU owns the FPU while it runs */
	return true;
}

/* A hypercall that only asks a question: true, the answer in RAX. false
 * for the ones with work for the core (hypercall_core). */
static bool hypercall_answer(struct vcpu *v)
{
	uint64_t ret;

	switch (v->arch.rax) {
	case HC_VM_ID: ret = v->vm->id; break;
	case HC_VCPU_ID: ret = v->id; break;
	case HC_RESTARTS: ret = v->vm->restarts; break;
	case HC_YIELD:
	case HC_SHUTDOWN:
	case HC_REBOOT:
		return false;
	default:
		v->stats.hypercalls_unsupported++;
		ret = HC_UNSUPPORTED;
		break;
	}
	v->stats.hypercalls++;
	v->arch.rax = ret;
	return true;
}

static void hypercall_core(struct vcpu *v, struct vm_exit *e)
{
	v->stats.hypercalls++;
	switch (v->arch.rax) {
	case HC_YIELD:
		v->arch.rax = 0;
		e->reason = EXIT_YIELD;
		break;
	case HC_SHUTDOWN:
		e->reason = EXIT_SHUTDOWN;
		break;
	default:
		e->reason = EXIT_REBOOT;
		break;
	}
}

/* Guest linear -> guest physical through the guest's own page tables
 * (4-level long mode, or none). -1 when unmapped or in a mode we do not walk. */
static int guest_translate(struct vcpu *v, uint64_t lin, uint64_t *gpa)
{
	uint64_t cr0 = V->get_cr(v, 0), table, e = 0;

	if (!(cr0 & CR0_PG)) {
		*gpa = lin & 0xFFFFFFFFULL;
		return 0;
	}
	if (!(V->get_efer(v) & EFER_LMA))
		return -1;                      /* 32-bit paging: not walked (yet) */
	table = V->get_cr(v, 3) & 0x000FFFFFFFFFF000ULL;
	for (int level = 3; level >= 0; level--) {
		const uint64_t *t = vm_gpa_to_hva(v->vm, table, 4096);

		if (!t)
			return -1;
		e = t[(lin >> (12 + 9 * level)) & 511];
		if (!(e & 1))
			return -1;
		if (level == 0 || (level < 3 && (e & 0x80))) {
			uint64_t span = 1ULL << (12 + 9 * level);

			*gpa = (e & 0x000FFFFFFFFFF000ULL & ~(span - 1)) | (lin & (span - 1));
			return 0;
		}
		table = e & 0x000FFFFFFFFFF000ULL;
	}
	return -1;
}

/* Up to `n` bytes of the guest's code at RIP; returns how many were read. */
static unsigned fetch_code(struct vcpu *v, uint8_t *buf, unsigned n)
{
	uint64_t rip = V->get_rip(v), gpa;
	unsigned got = 0;

	while (got < n) {
		uint64_t lin = rip + got, chunk = 4096 - (lin & 4095);
		const uint8_t *src;

		if (guest_translate(v, lin, &gpa))
			break;
		if (chunk > n - got)
			chunk = n - got;
		src = vm_gpa_to_hva(v->vm, gpa, chunk);
		if (!src)
			break;
		memcpy(buf + got, src, chunk);
		got += (unsigned)chunk;
	}
	return got;
}

/*
 * Just before an external interrupt is injected. QEMU 7.2's VMRUN does not
 * load the interrupt shadow from the VMCB (docs/robustness.md, bug 7): an
 * exit that lands in the shadow of `sti; hlt` (a host interrupt, an
 * interrupt window) re-enters without it, so an interrupt would be taken
 * before the HLT and the guest would then halt with its wake-up already
 * consumed, for good if nothing else comes. A CPU that honours the shadow
 * halts and wakes at once, the interrupt returning past the HLT: do that
 * here. Only at the RIP of an exit in a shadow (the fetch stays off the
 * injection path otherwise); if the record is stale, resuming past a HLT
 * the interrupt meets is still an order a CPU may show (the HLT ran, the
 * interrupt woke it).
 */
void x86_vcpu_pre_inject(struct vcpu *v)
{
	uint8_t op;

	if (!v->arch.shadow_rip || v->arch.shadow_rip != V->get_rip(v))
		return;
	if (fetch_code(v, &op, 1) == 1 && op == 0xF4)
		V->set_rip(v, v->arch.shadow_rip + 1);
	v->arch.shadow_rip = 0;
}

static uint64_t *gpr_slot(struct vcpu *v, unsigned reg)
{
	static const size_t off[16] = {
		0, offsetof(struct x86_gprs, rcx), offsetof(struct x86_gprs, rdx),
		offsetof(struct x86_gprs, rbx), 0 /* rsp: not decodable as MMIO data */,
		offsetof(struct x86_gprs, rbp), offsetof(struct x86_gprs, rsi),
		offsetof(struct x86_gprs, rdi), offsetof(struct x86_gprs, r8),
		offsetof(struct x86_gprs, r9), offsetof(struct x86_gprs, r10),
		offsetof(struct x86_gprs, r11), offsetof(struct x86_gprs, r12),
		offsetof(struct x86_gprs, r13), offsetof(struct x86_gprs, r14),
		offsetof(struct x86_gprs, r15),
	};

	return (uint64_t *)((uint8_t *)&v->arch.gprs + off[reg & 15]);
}

static uint64_t get_reg(struct vcpu *v, unsigned reg)
{
	return reg == 0 ? v->arch.rax : *gpr_slot(v, reg);
}

static void set_reg(struct vcpu *v, unsigned reg, uint64_t val)
{
	if (reg == 0)
		v->arch.rax = val;
	else
		*gpr_slot(v, reg) = val;
}

/* The xAPIC page of v's own local APIC, emulated here: it is per vCPU,
 * not on the VM's bus. false: not an xAPIC access. */
static bool lapic_mmio(struct vcpu *v, struct vm_exit *e)
{
	struct lapic *l = &v->arch.lapic;
	uint64_t off = e->mmio.gpa - lapic_mmio_base(l);
	int r;

	if (!v->vm->arch.pc.present || !lapic_xapic_mode(l) || off >= LAPIC_MMIO_SIZE)
		return false;
	if (e->mmio.write)
		r = lapic_mmio_ops.write(l, off, e->mmio.size, e->mmio.value);
	else
		r = lapic_mmio_ops.read(l, off, e->mmio.size, &e->mmio.value);
	if (r) {
		fault(e, v, e->mmio.gpa, "a local APIC access of a size or alignment it refuses");
		return true;
	}
	v->stats.exits[EXIT_MMIO]++;
	arch_vcpu_complete_mmio(v, e);
	return true;
}

/* A nested-paging fault at a GPA a device covers: decode the MOV.
 * true: the core must see *e. */
static bool mmio_exit(struct vcpu *v, const struct x86_exit *x, struct vm_exit *e)
{
	uint8_t code[X86_INSN_MAX];
	unsigned n = fetch_code(v, code, sizeof(code));
	bool lm = (V->get_efer(v) & EFER_LMA) != 0;
	struct x86_mem_insn m;

	if (x->fetch) {
		fault(e, v, x->gpa, "instruction fetch outside its memory");
		return true;
	}
	if (x86_decode_mem(code, n, lm, &m) || (m.reg == 4 && !m.high_byte && !m.has_imm)) {
		fault(e, v, x->gpa, "an MMIO access by an instruction Tessera does not emulate");
		return true;
	}
	v->arch.mmio_next_rip = V->get_rip(v) + m.len;
	v->arch.mmio_reg = m.reg;
	v->arch.mmio_size = m.size;
	v->arch.mmio_dst = m.dst_size;
	v->arch.mmio_high = m.high_byte;
	v->arch.mmio_sext = m.sext;
	e->reason = EXIT_MMIO;
	e->mmio.pio = false;
	e->mmio.gpa = x->gpa;
	e->mmio.size = m.size;
	e->mmio.write = m.store;
	if (m.store) {
		uint64_t val = m.has_imm ? m.imm : get_reg(v, m.reg) >> (m.high_byte ? 8 : 0);

		e->mmio.value = m.size == 8 ? val : val & ((1ULL << (8 * m.size)) - 1);
	}
	if (lapic_mmio(v, e) && e->reason != EXIT_FAULT)
		return false;
	return true;
}

static void complete_mmio_load(struct vcpu *v, uint64_t val)
{
	struct arch_vcpu *a = &v->arch;
	unsigned bits = 8U * a->mmio_size;
	uint64_t old = get_reg(v, a->mmio_reg);

	if (bits < 64) {
		val &= (1ULL << bits) - 1;
		if (a->mmio_sext && (val >> (bits - 1)) & 1)
			val |= ~0ULL << bits;
	}
	if (a->mmio_high)
		val = (old & ~0xFF00ULL) | (val & 0xFF) << 8;
	else if (a->mmio_dst == 1)
		val = (old & ~0xFFULL) | (val & 0xFF);
	else if (a->mmio_dst == 2)
		val = (old & ~0xFFFFULL) | (val & 0xFFFF);
	else if (a->mmio_dst == 4)
		val &= 0xFFFFFFFFULL;           /* 32-bit destinations zero-extend */
	set_reg(v, a->mmio_reg, val);
}

/*
 * After a port access: could it have changed what v should be injected or
 * when its next chipset event is? Yes for the chipset's own ports (8259s,
 * ELCR, PIT, port 0x61, CMOS) and when a device moved an ISA line (a UART
 * raising IRQ 4); no for the rest (a UART's scratch or line status, the
 * PCI ports, port 0x80, a port with no device).
 */
static bool port_may_change(struct vcpu *v, uint16_t port)
{
	struct x86_pc *pc = &v->vm->arch.pc;

	if (pc->lines_changed) {
		pc->lines_changed = false;
		return true;
	}
	return port < 0x100 ? (port & ~1u) == 0x20 || (port & ~1u) == 0xa0 ||
			      (port & ~3u) == 0x40 || port == 0x61 || (port & ~1u) == 0x70 :
			      (port & ~1u) == 0x4d0;
}

/*
 * A port access, finished on the VM's I/O bus (vm_pio) rather than by a
 * round trip through the core. X86_FAST_* (x86vcpu.h): the core must see
 * it when the access was refused (the VM's fault policy was applied) or
 * has work (a vCPU woke, the console has news).
 */
int x86_fast_io(struct vcpu *v, const struct x86_exit *x)
{
	uint64_t mask = x->size == 4 ? 0xFFFFFFFFULL : (1ULL << (8 * x->size)) - 1;
	uint64_t val = x->in ? 0 : v->arch.rax & mask;
	int r;

	if (x->string || x->rep)
		return X86_FAST_NO;
	v->stats.exits[EXIT_MMIO]++;
	r = vm_pio(v, x->port, x->size, !x->in, &val);
	if (unlikely(r)) {
		vm_mmio_fault(v, x->port, x->size, !x->in, r);
		return X86_FAST_CORE;
	}
	if (x->in) {
		/* a 32-bit result zero-extends; 8 and 16 bits merge */
		v->arch.rax = x->size == 4 ? (uint32_t)val : (v->arch.rax & ~mask) | (val & mask);
	}
	r = X86_FAST_SKIP;
	if (port_may_change(v, x->port))
		r |= X86_FAST_SYNC;
	if (unlikely(sched.need_resched || console_changed))
		r |= X86_FAST_CORE;
	return r;
}

/*
 * The exits the back ends finish in their run loops (x86vcpu.h): they read
 * and write guest registers and Tessera's own state, never the chipset's,
 * except for an MSR read that fires the LAPIC timer on its way (the
 * register reads bring the timer up to date first), which ends the loop
 * so the interrupt goes in at once.
 */
int x86_fast_cpuid(struct vcpu *v)
{
	emulate_cpuid(v);
	return X86_FAST_SKIP;
}

int x86_fast_hypercall(struct vcpu *v)
{
	return hypercall_answer(v) ? X86_FAST_SKIP : X86_FAST_NO;
}

static __attribute__((noinline)) int rdmsr_other(struct vcpu *v, uint32_t msr)
{
	uint64_t val;

	if (msr_read(v, msr, &val)) {
		msr_refused(v, msr, false, 0);
		return X86_FAST_SYNC;
	}
	v->arch.rax = (uint32_t)val;
	v->arch.gprs.rdx = val >> 32;
	return X86_FAST_SKIP;
}

/* RDMSR; the x2APIC's registers (the LAPIC brings its timer up to date
 * first, which may fire it) straight to v's own LAPIC. */
int x86_fast_rdmsr(struct vcpu *v)
{
	uint32_t msr = (uint32_t)v->arch.gprs.rcx;
	struct lapic *l = &v->arch.lapic;
	uint64_t fired, val;

	if (msr < 0x800 || msr > 0x8FF || !v->vm->arch.pc.present)
		return rdmsr_other(v, msr);
	fired = l->timer_irqs;
	if (lapic_rdmsr(l, msr, &val))
		return rdmsr_other(v, msr);     /* refused there too: #GP */
	v->arch.rax = (uint32_t)val;
	v->arch.gprs.rdx = val >> 32;
	return l->timer_irqs == fired ? X86_FAST_SKIP : X86_FAST_SKIP | X86_FAST_SYNC;
}

int x86_fast_exit(struct vcpu *v, const struct x86_exit *x)
{
	switch (x->kind) {
	case X86_EXIT_IO:
		return x86_fast_io(v, x);
	case X86_EXIT_CPUID:
		return x86_fast_cpuid(v);
	case X86_EXIT_HYPERCALL:
		return x86_fast_hypercall(v);
	case X86_EXIT_MSR_READ:
		return x86_fast_rdmsr(v);
	default:
		return X86_FAST_NO;
	}
}

void arch_vcpu_complete_mmio(struct vcpu *v, const struct vm_exit *e)
{
	if (!e->mmio.write)
		complete_mmio_load(v, e->mmio.value);
	V->set_rip(v, v->arch.mmio_next_rip);
}

void arch_vcpu_run(struct vcpu *v, struct vm_exit *e)
{
	struct x86_exit x;

	if (unlikely(v->arch.init_pending)) {
		v->arch.init_pending = false;
		v->arch.wait_sipi = true;
		e->reason = EXIT_VCPU_STOP;
		return;
	}
	fpu_load(v);
	/* The chipset is brought up to date, interrupts injected and the host
	 * timer set when something may have changed: on entry from the core,
	 * after a host interrupt, a LAPIC access or an interrupt window, while
	 * an interrupt waits, or once v's next chipset event is due. Exits that
	 * touch none of it (CPUID, MSR reads, hypercalls, XSETBV) go straight
	 * back into the guest. */
	bool resync = true, busy = true;
	uint64_t next_dev = 0, fast_until = 0;
	int r;

	for (;;) {
		if (resync || busy || rdtsc() >= next_dev) {
			enum x86_inj inj = x86_pc_inject(v);

			busy = inj != X86_INJ_NONE;
			/* while an interrupt waits for a window, later device
			 * events could not be taken either: the window's exit
			 * brings them up to date (no host interrupts for them) */
			next_dev = inj == X86_INJ_WINDOW ? UINT64_MAX : x86_pc_next_event(v);
			x86_plat.entry_deadline = x86_program_timer(next_dev < x86_plat.want_deadline ?
								    next_dev : x86_plat.want_deadline);
			resync = false;
			/* The back end's own loop (CPUID, MSR reads, hypercalls)
			 * only while nothing waits to go in, and until the next
			 * device event or the host timer (VMX: its preemption
			 * timer does not count the host's time in that loop). */
			fast_until = busy ? 0 : next_dev < x86_plat.entry_deadline ?
				     next_dev : x86_plat.entry_deadline;
		}
		V->vcpu_run(v, &x, fast_until);
		switch (x.kind) {
		case X86_EXIT_NONE:
			resync = true;
			continue;
		case X86_EXIT_INTR:
			resync = true;
			x86_take_host_interrupts();
			x86_stack_check();
			if (x86_poll_console()) {
				e->reason = EXIT_HOST_IRQ;
				return;
			}
			if (rdtsc() < x86_plat.want_deadline)
				continue;       /* a device timer of this vCPU: deliver, go on */
			e->reason = EXIT_TICK;
			return;
		case X86_EXIT_CPUID:
		case X86_EXIT_MSR_READ:
		case X86_EXIT_HYPERCALL:
		case X86_EXIT_IO:
			r = x86_fast_exit(v, &x);
			if (r == X86_FAST_NO && x.kind == X86_EXIT_IO) {
				fault(e, v, x.port, "string port I/O (INS/OUTS), which Tessera does not emulate");
				return;
			}
			if (r == X86_FAST_NO) {         /* yield, shutdown, reboot */
				skip(v, &x);
				hypercall_core(v, e);
				return;
			}
			if (r & X86_FAST_SKIP)
				V->set_rip(v, x.next_rip);
			if (r & X86_FAST_CORE) {
				e->reason = EXIT_RESCHED;
				return;
			}
			resync |= (r & X86_FAST_SYNC) != 0;
			continue;
		case X86_EXIT_CORE:
			e->reason = EXIT_RESCHED;
			return;
		case X86_EXIT_MSR_WRITE:
			emulate_wrmsr(v);
			resync = true;
			continue;
		case X86_EXIT_XSETBV:
			if (emulate_xsetbv(v))
				skip(v, &x);
			else
				inject_gp(v);
			continue;
		case X86_EXIT_HLT:
			skip(v, &x);
			if (!(V->get_rflags(v) & RFLAGS_IF)) {
				/* only NMI, SMI or INIT end this halt, and Tessera
				 * sends no NMI: the vCPU is off until INIT/SIPI (how
				 * Linux without ACPI powers off) */
				v->arch.wait_sipi = false;
				e->reason = EXIT_VCPU_STOP;
				return;
			}
			if (arch_vcpu_irq_pending(v)) {
				resync = true;
				continue;
			}
			e->reason = EXIT_HALT;
			e->halt.deadline = x86_pc_next_event(v);
			return;
		case X86_EXIT_NPF:
			/* RAM not touched yet (core/vm.c): mapped now, re-run */
			if (vm_ram_fault(v->vm, x.gpa))
				continue;
			if (mmio_exit(v, &x, e))
				return;
			resync = true;          /* the local APIC's page */
			continue;
		case X86_EXIT_SHUTDOWN:
			fault(e, v, 0, "triple fault (shutdown)");
			return;
		case X86_EXIT_IRQ_WINDOW:
			V->want_irq_window(v, false);
			resync = true;
			continue;
		case X86_EXIT_UNHANDLED:
		default:
			fault(e, v, x.code, "an exit Tessera does not handle (code in the address field)");
			return;
		}
	}
}
