/*
 * vCPUs on the RISC-V H extension: loading and saving the VS-level state,
 * entering the guest, and turning traps into portable exits.
 */
#include "arch/riscv64/rv.h"
#include "arch/riscv64/gstage.h"
#include "arch/riscv64/insn.h"
#include "core/console.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/sched.h"
#include "lib/fdt.h"
#include "lib/printf.h"
#include "lib/string.h"

_Static_assert(offsetof(struct vcpu, arch) == 0, "switch.S reaches arch_vcpu at the vcpu");
_Static_assert(offsetof(struct arch_vcpu, gpr) == VCPU_PC, "VCPU_PC");
_Static_assert(offsetof(struct arch_vcpu, host_sp) == VCPU_HOST_SP, "VCPU_HOST_SP");
_Static_assert(offsetof(struct arch_vcpu, hstatus) == VCPU_HSTATUS, "VCPU_HSTATUS");
_Static_assert(offsetof(struct arch_vcpu, sstatus) == VCPU_SSTATUS, "VCPU_SSTATUS");

#define INSN_WFI 0x10500073U
/* Guest registers the light exit path leaves live in the hart: s0-s11. */
#define LIGHT_LIVE_REGS (1U << 8 | 1U << 9 | 0x3FFU << 18)

static struct vcpu *loaded;     /* whose VS CSRs are in the hart */
static struct vm *loaded_vm;    /* whose hgatp and htimedelta are in the hart */
static struct vcpu *fp_owner;   /* whose F registers are in the hart */
static uint64_t want_deadline = UINT64_MAX;     /* what the core asked for */
static uint64_t hw_deadline;    /* what the host timer is programmed to */

/* ------------------------------------------------------------ stage 2 */

static uint64_t pt_page(void *ctx)
{
	UNUSED(ctx);
	return palloc_alloc(PAGE_SIZE, PAGE_SIZE);
}

static const struct gstage_alloc pt_alloc = { pt_page, NULL };

static inline void hfence_gvma_all(void)
{
	__asm__ volatile(".option push\n.option arch, +h\nhfence.gvma zero, zero\n.option pop" ::: "memory");
}

static inline void hfence_vvma_all(void)
{
	__asm__ volatile(".option push\n.option arch, +h\nhfence.vvma zero, zero\n.option pop" ::: "memory");
}

int arch_vm_init(struct vm *vm)
{
	uint64_t root = palloc_alloc(GSTAGE_ROOT_SIZE, GSTAGE_ROOT_SIZE), vmid = 0;

	if (!root)
		return -1;
	if (rv_plat.vmid_bits && vm->id + 1 < (1UL << rv_plat.vmid_bits))
		vmid = vm->id + 1;
	vm->arch.root = (uint64_t *)(uintptr_t)root;
	vm->arch.hgatp = HGATP_MODE_SV39X4 | vmid << HGATP_VMID_SHIFT | root >> 12;
	vm->arch.no_vmid = !vmid;
	return 0;
}

int arch_vm_map(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	int r = gstage_map(vm->arch.root, gpa, hpa, size,
			   GSTAGE_R | GSTAGE_W | GSTAGE_X, &pt_alloc);

	hfence_gvma_all();
	return r;
}

void arch_vm_reset(struct vm *vm)
{
	vm->arch.htimedelta = 0 - rv_now();     /* guest time starts at 0 */
	if (loaded_vm == vm)
		loaded_vm = NULL;
	if (loaded && loaded->vm == vm)
		loaded = NULL;
}

bool arch_gpa_in_mmio_hole(struct vm *vm, uint64_t gpa)
{
	UNUSED(vm);
	UNUSED(gpa);
	return false;           /* a VM's map is exactly its RAM and devices */
}

/* Each cpu node's riscv,isa plus the host extensions VMs get (rv_plat). */
static int add_guest_extensions(struct fdt *f, unsigned nvcpus)
{
	char path[24], isa[192];

	for (unsigned i = 0; i < nvcpus; i++) {
		const char *old;
		int node, len;
		size_t n, k;

		if (snprintf(path, sizeof(path), "/cpus/cpu@%u", i) >= (int)sizeof(path))
			return -1;
		node = fdt_path_offset(f, path);
		old = node < 0 ? NULL : fdt_getprop(f, node, "riscv,isa", &len);
		if (!old || len < 1 || old[len - 1] != '\0')
			return -1;
		n = strlen(old);
		k = strlen(rv_plat.guest_ext);
		if (n + k >= sizeof(isa))
			return -1;
		memcpy(isa, old, n);
		memcpy(isa + n, rv_plat.guest_ext, k + 1);
		if (fdt_setprop_string(f, node, "riscv,isa", isa))
			return -1;
	}
	return 0;
}

void arch_vm_fixup_dtb(struct vm *vm, void *dtb, uint64_t size)
{
	struct fdt f;
	int cpus;

	if (fdt_init(&f, dtb, size) || (cpus = fdt_path_offset(&f, "/cpus")) < 0 ||
	    fdt_setprop_u32_inplace(&f, cpus, "timebase-frequency", (uint32_t)rv_plat.timebase))
		pr_warn("vm %s: could not set timebase-frequency in its device tree",
			vm->cfg->name);
	if (rv_plat.guest_ext[0] && add_guest_extensions(&f, vm->nvcpus))
		pr_warn("vm %s: could not add the host's extensions to riscv,isa", vm->cfg->name);
}

/* ------------------------------------------------------------ vCPU state */

void arch_vcpu_reset(struct vcpu *v, uint64_t pc, uint64_t arg0, uint64_t arg1)
{
	struct arch_vcpu *a = &v->arch;

	memset(a, 0, sizeof(*a));
	a->gpr[0] = pc;
	a->gpr[10] = arg0;
	a->gpr[11] = arg1;
	a->hstatus = HSTATUS_VSXL_64 | HSTATUS_SPV | HSTATUS_SPVP | HSTATUS_VTW;
	a->sstatus = SSTATUS_SPP | SSTATUS_FS_INITIAL | SSTATUS_UXL_64;
	a->vsstatus = SSTATUS_UXL_64;
	a->vstimecmp = UINT64_MAX;
	a->mmio_dc[0].insn = a->mmio_dc[1].insn = RV_DC_NONE;
	if (loaded == v)
		loaded = NULL;
	if (fp_owner == v)
		fp_owner = NULL;
}

uint64_t arch_vcpu_pc(struct vcpu *v)
{
	return v->arch.gpr[0];
}

static void vcpu_put(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;

	a->vsstatus = csr_read(CSR_VSSTATUS);
	a->vsie = csr_read(CSR_VSIE);
	a->vstvec = csr_read(CSR_VSTVEC);
	a->vsscratch = csr_read(CSR_VSSCRATCH);
	a->vsepc = csr_read(CSR_VSEPC);
	a->vscause = csr_read(CSR_VSCAUSE);
	a->vstval = csr_read(CSR_VSTVAL);
	a->vsatp = csr_read(CSR_VSATP);
}

static inline bool fp_initial(const struct vcpu *v)
{
	return (v->arch.sstatus & SSTATUS_FS) == SSTATUS_FS_INITIAL;
}

static void vcpu_load(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;
	struct vm *vm = v->vm;

	if (loaded)
		vcpu_put(loaded);
	csr_write(CSR_VSSTATUS, a->vsstatus);
	csr_write(CSR_VSIE, a->vsie);
	csr_write(CSR_VSTVEC, a->vstvec);
	csr_write(CSR_VSSCRATCH, a->vsscratch);
	csr_write(CSR_VSEPC, a->vsepc);
	csr_write(CSR_VSCAUSE, a->vscause);
	csr_write(CSR_VSTVAL, a->vstval);
	csr_write(CSR_VSATP, a->vsatp);
	if (loaded_vm != vm) {
		csr_write(CSR_HGATP, vm->arch.hgatp);
		csr_write(CSR_HTIMEDELTA, vm->arch.htimedelta);
		if (vm->arch.no_vmid)
			hfence_gvma_all();      /* nothing tags the TLB */
		loaded_vm = vm;
	}
	/* vCPUs of one VM share a VMID on this one hart (and a VM that was
	 * reset, or a VM without one, left stale entries): their VS-stage
	 * entries must not leak into each other. */
	hfence_vvma_all();
	/* sstatus.FS still Initial: the vCPU never wrote an F register since
	 * its reset, so its fpr[] and fcsr are the reset zeros (and it has
	 * nothing to save: fp_dirty is only ever set from FS Dirty). If the
	 * owner's are too, the hart holds exactly those zeros (loaded for the
	 * owner, untouched since) and nothing of another VM can show through:
	 * no save, no restore. */
	/* FS Dirty becomes Clean (and fp_dirty) only here, when the owner's
	 * registers may have to be saved: not at every exit, which would make
	 * a guest that uses FP go Clean -> Dirty after each one (and QEMU keep
	 * two translations of the guest's code, one per FS value). */
	if (fp_owner && fp_owner != v &&
	    (fp_owner->arch.sstatus & SSTATUS_FS) == SSTATUS_FS_DIRTY) {
		fp_owner->arch.fp_dirty = true;
		fp_owner->arch.sstatus = (fp_owner->arch.sstatus & ~SSTATUS_FS) | SSTATUS_FS_CLEAN;
	}
	if (fp_owner != v && !(fp_owner && fp_initial(fp_owner) && fp_initial(v))) {
		if (fp_owner && fp_owner->arch.fp_dirty) {
			rv_fp_save(fp_owner->arch.fpr);
			fp_owner->arch.fp_dirty = false;
		}
		rv_fp_restore(a->fpr);
	}
	fp_owner = v;
	loaded = v;
}

/*
 * The virtual timer. Guests program it through SBI TIME (their device trees
 * do not offer Sstc), and Tessera raises VSTIP in hvip itself: before every
 * entry it compares the deadline with the guest's time, and the host timer
 * is set to the earlier of the core's deadline and the guest's. Hardware
 * vstimecmp would save that compare, but QEMU 7.2 updates the VSTIP it
 * derives from vstimecmp asynchronously, so a guest could see its time pass
 * the deadline with STIP still clear; the software timer has no such gap.
 */
bool rv_vcpu_timer_pending(struct vcpu *v)
{
	return v->arch.vstimecmp <= rv_now() + v->vm->arch.htimedelta;
}

/* Host time at which the vCPU's virtual timer fires, UINT64_MAX: never. */
static uint64_t timer_host_deadline(struct vcpu *v)
{
	uint64_t g = v->arch.vstimecmp, start = 0 - v->vm->arch.htimedelta;

	if (g == UINT64_MAX || g > UINT64_MAX - start)
		return UINT64_MAX;
	return g + start;
}

uint64_t arch_vcpu_next_event(struct vcpu *v)
{
	uint64_t vsie = v == loaded ? csr_read(CSR_VSIE) : v->arch.vsie;

	return (vsie & (1UL << IRQ_S_TIMER)) ? timer_host_deadline(v) : UINT64_MAX;
}

void rv_vcpu_set_timer(struct vcpu *v, uint64_t guest_deadline)
{
	v->arch.vstimecmp = guest_deadline;
}

void rv_vcpu_local_vvma_flush(void)
{
	hfence_vvma_all();
}

void arch_vcpu_set_ext_irq(struct vcpu *v, bool level)
{
	if (level)
		v->arch.hvip |= MIP_VSEIP;
	else
		v->arch.hvip &= ~MIP_VSEIP;
	v->arch.hvip_changed = true;    /* for a light MMIO access (light_mmio) */
}

bool arch_vcpu_irq_pending(struct vcpu *v)
{
	uint64_t pend = v->arch.hvip & ~MIP_VSTIP, vsie = v == loaded ? csr_read(CSR_VSIE) : v->arch.vsie;

	if (rv_vcpu_timer_pending(v))
		pend |= MIP_VSTIP;
	/* hvip's VS bits sit one above the vsie bits that enable them */
	return ((pend >> 1) & vsie & 0x222) != 0;
}

/* `vm info`: sstatus.SIE, the interrupts enabled and injected, the timer. */
void arch_vcpu_describe(struct vcpu *v)
{
	bool live = v == loaded;
	uint64_t vsie = live ? csr_read(CSR_VSIE) : v->arch.vsie;
	uint64_t vss = live ? csr_read(CSR_VSSTATUS) : v->arch.vsstatus;

	console_printf("    SIE %u, vsie 0x%llx, hvip 0x%llx, timer %s, vstimecmp 0x%llx",
		       (vss & SSTATUS_SIE) ? 1 : 0, (unsigned long long)vsie,
		       (unsigned long long)v->arch.hvip,
		       rv_vcpu_timer_pending(v) ? "pending" : "quiet",
		       (unsigned long long)v->arch.vstimecmp);
}

/* ------------------------------------------------------------ host timer */

static void program_timer(uint64_t d)
{
	if (d == hw_deadline)
		return;
	hw_deadline = d;
	if (rv_plat.has_sstc)
		csr_write(CSR_STIMECMP, d);
	else
		rv_sbi_call(0x54494D45, 0, d, 0, 0);
}

void arch_set_deadline(uint64_t deadline)
{
	want_deadline = deadline;
	program_timer(deadline);
}

uint64_t arch_ticks_per_sec(void)
{
	return rv_plat.timebase;
}

void arch_idle(void)
{
	rv_stack_check();
	__asm__ volatile("wfi" ::: "memory");
	if (csr_read(CSR_SIP) & MIP_SEIP)
		rv_host_irq();
}

/* ------------------------------------------------------------ exits */

static void fault(struct vm_exit *e, struct vcpu *v, uint64_t gpa, const char *what)
{
	e->reason = EXIT_FAULT;
	e->fault.gpa = gpa;
	e->fault.pc = v->arch.gpr[0];
	e->fault.what = what;
}

/* Deliver a synchronous exception to the (loaded) vCPU's VS-mode. */
static void inject_exception(struct vcpu *v, unsigned long cause, unsigned long tval)
{
	struct arch_vcpu *a = &v->arch;
	unsigned long vs = csr_read(CSR_VSSTATUS);

	vs &= ~(SSTATUS_SPP | SSTATUS_SPIE);
	if (a->sstatus & SSTATUS_SPP)
		vs |= SSTATUS_SPP;
	if (vs & SSTATUS_SIE)
		vs |= SSTATUS_SPIE;
	vs &= ~SSTATUS_SIE;
	csr_write(CSR_VSSTATUS, vs);
	csr_write(CSR_VSEPC, a->gpr[0]);
	csr_write(CSR_VSCAUSE, cause);
	csr_write(CSR_VSTVAL, tval);
	a->gpr[0] = csr_read(CSR_VSTVEC) & ~3UL;
	a->sstatus |= SSTATUS_SPP;
	a->hstatus |= HSTATUS_SPVP;
}

/* The instruction at the guest pc, fetched as the guest would. */
static int fetch_insn(struct vcpu *v, uint32_t *insn)
{
	unsigned long err;

	*insn = rv_fetch_guest_insn(v->arch.gpr[0], &err);
	return err ? -1 : 0;
}

void rv_vcpu_resume_at(struct vcpu *v, uint64_t pc, uint64_t a0, uint64_t a1)
{
	v->arch.gpr[0] = pc;
	v->arch.gpr[10] = a0;
	v->arch.gpr[11] = a1;
	v->arch.sstatus |= SSTATUS_SPP;
	csr_write(CSR_VSSTATUS, csr_read(CSR_VSSTATUS) & ~SSTATUS_SIE);
	csr_write(CSR_VSATP, 0);
}

/* A halt (WFI, HSM suspend): true when the core must block the vCPU. */
bool rv_vcpu_halt(struct vcpu *v, struct vm_exit *e)
{
	if (arch_vcpu_irq_pending(v))
		return false;
	e->reason = EXIT_HALT;
	e->halt.deadline = (csr_read(CSR_VSIE) & (1UL << IRQ_S_TIMER)) ?
			   timer_host_deadline(v) : UINT64_MAX;
	return true;
}

/*
 * CSR reads Tessera emulates: hpmcounter3..31 (and their RV32 high halves'
 * numbers) read as 0, as on a hart whose event counters count nothing, so a
 * guest probing them is not killed. Returns false for anything else.
 */
static inline bool csr_counter_read(uint32_t insn)
{
	/* SYSTEM opcode, rs1 = x0 and funct3 bit 1 set: csrrs/csrrc/csrrsi/
	 * csrrci that write nothing (a counter is read-only: only these are
	 * legal), of hpmcounter3..31 */
	return (insn & 0xF807FU) == 0x73U && (insn & 0x2000U) &&
	       (insn >> 20) - 0xC03U <= 0xC1FU - 0xC03U;
}

static bool emulate_csr(struct vcpu *v, uint32_t insn)
{
	unsigned rd = (insn >> 7) & 0x1F;

	if (!csr_counter_read(insn))
		return false;
	if (rd)
		v->arch.gpr[rd] = 0;
	v->arch.gpr[0] += 4;
	v->stats.csr_emulated++;
	return true;
}

static bool virtual_insn(struct vcpu *v, struct vm_exit *e)
{
	uint32_t insn;

	/* Always the instruction itself: QEMU 7.2 leaves a stale stval for
	 * some virtual-instruction traps (hlv/hsv), and trusting it made a
	 * guest's hlv look like an earlier wfi or csrr. */
	if (fetch_insn(v, &insn)) {
		fault(e, v, 0, "cannot fetch the instruction at its pc");
		return true;
	}
	if (insn == INSN_WFI) {
		v->arch.gpr[0] += 4;
		return rv_vcpu_halt(v, e);
	}
	if (emulate_csr(v, insn))
		return false;
	/* A privileged instruction or CSR the VM does not have. */
	inject_exception(v, EXC_ILLEGAL_INST, insn);
	return false;
}

/* A load's result into its destination register, sized and extended. */
static inline void mmio_load_result(struct arch_vcpu *a, uint64_t val)
{
	unsigned bits = 8U * a->mmio_size;

	if (!a->mmio_rd)
		return;
	if (bits < 64) {
		val &= (1ULL << bits) - 1;
		if (a->mmio_sext && (val >> (bits - 1)) & 1)
			val |= ~0ULL << bits;
	}
	a->gpr[a->mmio_rd] = val;
}

enum { MMIO_DONE, MMIO_EXIT, MMIO_DECLINE };

/* Decode insn into the vCPU's decode cache slot for loads (store false) or
 * stores; false (the slot unchanged) if it is not an integer load or store
 * of that kind. */
static __attribute__((noinline)) bool mmio_dc_fill(struct arch_vcpu *a, bool store, uint32_t insn)
{
	struct rv_mmio_dc *dc = &a->mmio_dc[store];
	struct rv_mem_insn m;

	if (rv_decode_mem(insn, &m) || m.store != store)
		return false;
	dc->m = m;
	dc->light = !(LIGHT_LIVE_REGS >> m.reg & 1);
	dc->insn = insn;
	return true;
}

/*
 * A guest page fault outside RAM: decode the access and do it on the VM's
 * bus here (vm_mmio), without a round trip through the core's loop.
 * MMIO_EXIT: the core must see *e (a fault, or a device asked for the
 * core). light (the light path's slow case, see light_mmio): the guest's
 * s0-s11 are not in gpr[], and an access that needs one or that MMIO
 * cannot do is MMIO_DECLINE (nothing done: the full path handles the
 * trap); a bus error is left in a->mmio_err for arch_vcpu_run to report
 * once every register is saved.
 */
static int mmio_exit(struct vcpu *v, struct vm_exit *e, bool store, bool light)
{
	struct arch_vcpu *a = &v->arch;
	const struct rv_mmio_dc *dc = &a->mmio_dc[store];
	uint64_t gpa = csr_read(CSR_HTVAL) << 2 | (csr_read(CSR_STVAL) & 3);
	uint32_t insn = (uint32_t)csr_read(CSR_HTINST);
	uint64_t val = 0;
	unsigned len;
	int r;

	if (insn & 1) {
		/* A transformed instruction: bit 1 clear means a 16-bit original. */
		len = (insn & 2) ? 4 : 2;
		insn |= 2;
	} else if (fetch_insn(v, &insn)) {
		/* The fetch's own trap overwrote the trap CSRs: report it here
		 * (the light path too), the full path could not. */
		fault(e, v, gpa, "access outside its memory (instruction unreadable)");
		return MMIO_EXIT;
	} else {
		len = rv_insn_len(insn);
	}
	/* A guest polls a device with the same few instructions: the last
	 * load and the last store decoded are kept per vCPU. */
	if (dc->insn != insn && !mmio_dc_fill(a, store, insn)) {
		if (light)
			return MMIO_DECLINE;
		fault(e, v, gpa, "access outside its memory by an instruction MMIO cannot emulate");
		return MMIO_EXIT;
	}
	if ((gpa & (dc->m.size - 1U)) || (light && !dc->light)) {
		if (light)
			return MMIO_DECLINE;
		fault(e, v, gpa, "misaligned access outside its memory");
		return MMIO_EXIT;
	}
	v->stats.exits[EXIT_MMIO]++;
	if (store && dc->m.reg)
		val = a->gpr[dc->m.reg] << dc->m.shift >> dc->m.shift;
	a->mmio_len = (uint8_t)len;
	a->mmio_size = dc->m.size;
	a->mmio_rd = dc->m.reg;
	a->mmio_sext = dc->m.sext;
	r = vm_mmio(v, gpa, dc->m.size, store, &val);
	if (unlikely(r)) {
		a->mmio_err = r;
		a->mmio_gpa = gpa;
		a->mmio_write = store;
		e->reason = EXIT_RESCHED;
		return MMIO_EXIT;
	}
	if (!store)
		mmio_load_result(a, val);
	a->gpr[0] += len;
	/* A device woke a vCPU or the console has news: let the core look. */
	if (unlikely(sched.need_resched || console_changed)) {
		e->reason = EXIT_RESCHED;
		return MMIO_EXIT;
	}
	return MMIO_DONE;
}

/* A bus error of mmio_exit, reported with every guest register saved (the
 * fault policy may restart the VM and reset this very vCPU). */
static void mmio_report_error(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;
	int r = a->mmio_err;

	a->mmio_err = 0;
	vm_mmio_fault(v, a->mmio_gpa, a->mmio_size, a->mmio_write, r);
}

/* Only for exits the core finished; the RISC-V back end does its own MMIO. */
void arch_vcpu_complete_mmio(struct vcpu *v, const struct vm_exit *e)
{
	struct arch_vcpu *a = &v->arch;

	if (!e->mmio.write)
		mmio_load_result(a, e->mmio.value);
	a->gpr[0] += a->mmio_len;
}

static const char *const exc_names[24] = {
	[EXC_INST_MISALIGNED] = "misaligned instruction fetch",
	[EXC_INST_ACCESS] = "instruction access fault",
	[EXC_ILLEGAL_INST] = "illegal instruction",
	[EXC_BREAKPOINT] = "breakpoint",
	[EXC_LOAD_MISALIGNED] = "misaligned load",
	[EXC_LOAD_ACCESS] = "load access fault",
	[EXC_STORE_MISALIGNED] = "misaligned store",
	[EXC_STORE_ACCESS] = "store access fault",
	[EXC_ECALL_U] = "ecall from VU-mode",
	[EXC_INST_GUEST_PF] = "instruction fetch outside its memory",
};

/*
 * Before every entry: VSTIP from the virtual timer, and the host timer for
 * the earlier of the core's deadline and the guest's. Once the virtual
 * timer fired, it stays asserted in hvip until the guest sets a new
 * deadline; only a future deadline needs the host timer.
 */
static inline void entry_prep(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;

	if (rv_vcpu_timer_pending(v)) {
		a->hvip |= MIP_VSTIP;
		program_timer(want_deadline);
	} else {
		uint64_t d = timer_host_deadline(v);

		a->hvip &= ~MIP_VSTIP;
		program_timer(d < want_deadline ? d : want_deadline);
	}
	csr_write(CSR_HVIP, a->hvip);
}

struct vm_exit *rv_light_exit_e;         /* the exit arch_vcpu_run returns */

/*
 * Run the guest until a trap the light path does not finish (switch.S);
 * returns v (in a0, which is all the compiler then needs to reload).
 * rv_vcpu_enter preserves only sp, ra and s0 (gp and tp come back holding
 * the guest's, which Tessera's C never uses): everything else is declared
 * clobbered here, so the compiler keeps across the call only what it must,
 * and saves the callee-saved registers once in arch_vcpu_run's prologue.
 */
static inline struct vcpu *vcpu_enter(struct vcpu *v)
{
	/* the full path returns with a0 still the context: v itself */
	register struct vcpu *a0 __asm__("a0") = v;

	__asm__ volatile("jal	ra, rv_vcpu_enter"
			 : "+r"(a0)
			 :
			 : "ra", "t0", "t1", "t2", "t3", "t4", "t5", "t6",
			   "a1", "a2", "a3", "a4", "a5", "a6", "a7",
			   "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
			   "memory");
	return a0;
}


/*
 * The light path (switch.S): an SBI call (rv_light_ecall, sbi.c) or a
 * virtual-instruction trap (rv_light_vinsn), with only the registers C may
 * clobber saved and the guest's s0-s11 still in the hart. 0: the trap is
 * finished, sret back into the guest at gpr[0] with hstatus/sstatus from
 * the context. Else take the full way back into arch_vcpu_run: with
 * light_exit set the exit for the core is in *rv_light_exit_e; without it
 * nothing was done and the loop handles the trap as usual.
 * rv_light_done is their common end: out = the core must see the exit;
 * cmp and hvip as they were at the trap.
 */
unsigned long rv_light_done(struct vcpu *v, bool out, uint64_t cmp, uint64_t hvip)
{
	struct arch_vcpu *a = &v->arch;

	if (out) {
		csr_write(CSR_HVIP, a->hvip);
		a->light_exit = true;
		return 1;
	}
	if (a->vstimecmp != cmp)
		entry_prep(v);
	else if (a->hvip != hvip)
		csr_write(CSR_HVIP, a->hvip);
	return 0;
}

unsigned long rv_light_vinsn(struct vcpu *v);
unsigned long rv_light_vinsn(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;
	uint32_t insn;
	unsigned rd;

	if (fetch_insn(v, &insn) || insn == INSN_WFI)
		return 1;
	if (csr_counter_read(insn)) {
		rd = (insn >> 7) & 0x1F;
		if (LIGHT_LIVE_REGS >> rd & 1)
			return 1;
		if (rd)
			a->gpr[rd] = 0;
		a->gpr[0] += 4;
		v->stats.csr_emulated++;
		return 0;       /* neither the timer nor hvip changed */
	}
	inject_exception(v, EXC_ILLEGAL_INST, insn);
	return 0;
}

/*
 * The light path's MMIO entries (switch.S: rv_light_load, rv_light_store).
 * The common case, an instruction in the decode cache at a 4-byte aligned
 * pc and the device the VM's bus hit last, is light_mmio's straight line;
 * anything else goes through mmio_exit (light_mmio_slow). On 0 switch.S
 * srets at once: sepc is written here, hstatus and sstatus are still the
 * trap's (nothing on this path changes them).
 */
static __attribute__((noinline)) unsigned long light_mmio_slow(struct vcpu *v, bool store)
{
	struct arch_vcpu *a = &v->arch;
	uint64_t hvip = csr_read(CSR_HVIP);
	unsigned long out;
	int r;

	a->hvip = hvip;         /* a device may raise this vCPU's VSEIP */
	a->hvip_changed = false;
	r = mmio_exit(v, rv_light_exit_e, store, true);
	if (r == MMIO_DECLINE)
		return 1;
	out = rv_light_done(v, r == MMIO_EXIT, a->vstimecmp, hvip);
	if (!out)
		csr_write(CSR_SEPC, a->gpr[0]);
	return out;
}

/* A device changed this vCPU's VSEIP (arch_vcpu_set_ext_irq) during a
 * light MMIO access: into the hart's hvip, whose VSSIP the guest may have
 * changed since the entry. */
static __attribute__((noinline)) void light_hvip_sync(struct arch_vcpu *a)
{
	uint64_t h = (csr_read(CSR_HVIP) & ~MIP_VSEIP) | (a->hvip & MIP_VSEIP);

	a->hvip = h;
	a->hvip_changed = false;
	csr_write(CSR_HVIP, h);
}

/* The access is done (pc: the next instruction), but the core must look. */
static __attribute__((noinline)) unsigned long light_mmio_resched(struct vcpu *v, uint64_t pc)
{
	v->arch.gpr[0] = pc;
	rv_light_exit_e->reason = EXIT_RESCHED;
	v->arch.light_exit = true;
	return 1;
}

/* The bus did not complete the access (r): the core's verdict (0: the
 * guest goes on, *val is the load's result), else the error stays for
 * arch_vcpu_run to report once every register is saved. The trap CSRs
 * still hold the address. */
static __attribute__((noinline)) int light_mmio_unclaimed(struct vcpu *v, bool store,
							  uint64_t *val, int r)
{
	struct arch_vcpu *a = &v->arch;
	uint64_t gpa = csr_read(CSR_HTVAL) << 2 | (csr_read(CSR_STVAL) & 3);

	r = vm_bus_unclaimed(v, gpa, a->mmio_dc[store].m.size, store, false, val, r);
	if (r) {
		a->mmio_err = r;
		a->mmio_gpa = gpa;
		a->mmio_write = store;
		a->mmio_size = a->mmio_dc[store].m.size;
		rv_light_exit_e->reason = EXIT_RESCHED;
		a->light_exit = true;
	}
	return r;
}

/* The instruction could not be fetched (its trap overwrote the trap CSRs,
 * so the full path could not tell what happened): the fault for the core. */
static __attribute__((noinline)) unsigned long light_mmio_unreadable(struct vcpu *v, uint64_t gpa)
{
	fault(rv_light_exit_e, v, gpa, "access outside its memory (instruction unreadable)");
	v->arch.light_exit = true;
	return 1;
}

static inline __attribute__((always_inline)) unsigned long light_mmio(struct vcpu *v, const bool store)
{
	struct arch_vcpu *a = &v->arch;
	const struct rv_mmio_dc *dc = &a->mmio_dc[store];
	uint64_t pc = a->gpr[0], val = 0, gpa;
	unsigned long w, vec;
	int r;

	gpa = csr_read(CSR_HTVAL) << 2 | (csr_read(CSR_STVAL) & 3);
	/* A transformed instruction from htinst, or a pc that is not 4-byte
	 * aligned (a compressed instruction's, which may be followed by a
	 * 32-bit one's first half): the general way. */
	if (unlikely((pc & 3) | csr_read(CSR_HTINST)))
		return light_mmio_slow(v, store);
	{
		/* rv_fetch_guest_insn's aligned case, inline: one HLVX.WU with
		 * a temporary trap vector that catches a fault. */
		__asm__ goto(
			"la	%[vec], 1f\n\t"
			"csrrw	%[vec], stvec, %[vec]\n\t"
			".option push\n\t"
			".option arch, +h\n\t"
			"hlvx.wu	%[w], (%[pc])\n\t"
			".option pop\n\t"
			"csrw	stvec, %[vec]\n\t"
			".pushsection .text.unlikely.rv_fetch_fault, \"ax\"\n\t"
			".balign 4\n"
			"1:	csrw	stvec, %[vec]\n\t"
			"j	%l[unreadable]\n\t"
			".popsection"
			: [w] "=&r"(w), [vec] "=&r"(vec)
			: [pc] "r"(pc)
			: "memory"
			: unreadable);
		if ((w & 3) != 3)
			w &= 0xFFFF;    /* a 16-bit instruction */
	}
	if (unlikely(dc->insn != (uint32_t)w || !dc->light || (gpa & (dc->m.size - 1UL))))
		return light_mmio_slow(v, store);
	v->stats.exits[EXIT_MMIO]++;
	if (store && dc->m.reg)
		val = a->gpr[dc->m.reg] << dc->m.shift >> dc->m.shift;
	/* vm_mmio, with the rare case out of line so that only v and val
	 * live across the device call */
	r = bus_access(&v->vm->bus, gpa, dc->m.size, store, &val);
	if (unlikely(r))
		r = light_mmio_unclaimed(v, store, &val, r);
	if (unlikely(a->hvip_changed))
		light_hvip_sync(a);
	if (unlikely(r))
		return 1;
	if (!store && dc->m.reg) {
		uint64_t x = val << dc->m.shift;

		a->gpr[dc->m.reg] = dc->m.sext ? (uint64_t)((int64_t)x >> dc->m.shift) :
						 x >> dc->m.shift;
	}
	pc = a->gpr[0] + dc->m.len;
	/* A device woke a vCPU or the console has news: let the core look. */
	if (unlikely(sched.need_resched || console_changed))
		return light_mmio_resched(v, pc);
	csr_write(CSR_SEPC, pc);
	return 0;
unreadable:
	return light_mmio_unreadable(v, gpa);
}

unsigned long rv_light_load(struct vcpu *v);
unsigned long rv_light_load(struct vcpu *v)
{
	return light_mmio(v, false);
}

unsigned long rv_light_store(struct vcpu *v);
unsigned long rv_light_store(struct vcpu *v)
{
	return light_mmio(v, true);
}

void arch_vcpu_run(struct vcpu *v, struct vm_exit *e)
{
	struct arch_vcpu *a = &v->arch;

	if (unlikely(loaded != v))
		vcpu_load(v);
	rv_light_exit_e = e;
	a->suspended = false;
	for (;;) {
		unsigned long cause;

		entry_prep(v);
		v = vcpu_enter(v);
		a = &v->arch;
		a->hvip = csr_read(CSR_HVIP);
		if (a->light_exit) {
			/* the light path finished the trap and filled *e */
			a->light_exit = false;
			if (unlikely(a->mmio_err)) {
				/* RAM not touched yet (core/vm.c): mapped now, the
				 * guest re-runs the access */
				if (vm_ram_fault(v->vm, a->mmio_gpa))
					a->mmio_err = 0;
				else
					mmio_report_error(v);
			}
			return;
		}
		cause = csr_read(CSR_SCAUSE);
		if (cause & CAUSE_IRQ_FLAG) {
			rv_stack_check();
			if ((uint32_t)cause == IRQ_S_EXT) {     /* the code: low bits */
				rv_host_irq();
				e->reason = EXIT_HOST_IRQ;
				return;
			}
			/* Before the core's deadline, the host timer fired for
			 * this vCPU's own virtual timer: the loop's top raises
			 * VSTIP and re-arms the host timer for the core. */
			if (rv_now() < want_deadline)
				continue;
			e->reason = EXIT_TICK;
			return;
		}
		switch (cause) {
		case EXC_ECALL_VS:
			if (rv_sbi_ecall(v, e))
				return;
			continue;
		case EXC_VIRTUAL_INST:
			if (virtual_insn(v, e))
				return;
			continue;
		case EXC_LOAD_GUEST_PF:
		case EXC_STORE_GUEST_PF:
			/* RAM not touched yet (core/vm.c): map it and re-run */
			if (vm_ram_fault(v->vm, csr_read(CSR_HTVAL) << 2 | (csr_read(CSR_STVAL) & 3)))
				continue;
			if (mmio_exit(v, e, cause == EXC_STORE_GUEST_PF, false) == MMIO_DONE)
				continue;
			if (unlikely(a->mmio_err))
				mmio_report_error(v);
			return;
		case EXC_INST_GUEST_PF:
			if (vm_ram_fault(v->vm, csr_read(CSR_HTVAL) << 2 | (csr_read(CSR_STVAL) & 3)))
				continue;
			/* fall through */
		default:
			fault(e, v, cause == EXC_INST_GUEST_PF ?
				    (csr_read(CSR_HTVAL) << 2 | (csr_read(CSR_STVAL) & 3)) : 0,
			      cause < ARRAY_SIZE(exc_names) && exc_names[cause] ?
				    exc_names[cause] : "unexpected exception");
			return;
		}
	}
}

/* ------------------------------------------------------------ devices */

int arch_vm_add_platform(struct vm *vm, const struct cfg_device *d)
{
	pr_err("vm %s: device type %d is not available on RISC-V", vm->cfg->name, d->type);
	return -1;
}

struct irq_line arch_vm_irq_line(struct vm *vm, uint32_t irq)
{
	if (!vm->plic)
		return (struct irq_line){ NULL, NULL, 0 };
	return (struct irq_line){ plic_set_irq, vm->plic, irq };
}
