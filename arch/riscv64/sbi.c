/*
 * SBI for guests (SBI v2.0): an extension table, one handler per extension.
 * Every argument comes from the guest and is checked; anything unknown
 * answers SBI_ERR_NOT_SUPPORTED. Behaviour is documented in docs/sbi.md.
 */
#include "arch/riscv64/rv.h"
#include "core/log.h"

#define SBI_SUCCESS              0
#define SBI_ERR_FAILED          (-1)
#define SBI_ERR_NOT_SUPPORTED   (-2)
#define SBI_ERR_INVALID_PARAM   (-3)
#define SBI_ERR_INVALID_ADDRESS (-5)
#define SBI_ERR_ALREADY_AVAILABLE (-6)

#define SBI_SPEC_VERSION        0x02000000UL    /* 2.0 */
#define SBI_IMPL_ID_TESSERA     0x7E55UL        /* not a registered id */
#define SBI_IMPL_VERSION        0x00000100UL

#define HSM_STARTED 0
#define HSM_STOPPED 1
#define HSM_SUSPENDED 4

#define DBCN_MAX 4096

#define SBI_EXT_BASE 0x10UL
#define SBI_EXT_TIME 0x54494D45UL

enum sbi_next {
	SBI_RESUME,             /* write a0/a1, go back into the guest */
	SBI_EXIT,               /* write a0/a1, return *e to the core */
	SBI_EXIT_KEEP_REGS,     /* the handler set the guest's registers itself */
	SBI_RESUME_KEEP_REGS,
};

struct sbi_ext {
	unsigned long eid;
	const char *name;
	enum sbi_next (*fn)(struct vcpu *v, unsigned long fid, const uint64_t *arg,
			    struct sbiret *ret, struct vm_exit *e);
	bool legacy;            /* v0.1 calls return only a0 */
};

static const struct sbi_ext *find_ext(unsigned long eid);

/* Apply fn to each hart of the VM named by (mask, base); -3 if one is invalid. */
static long for_each_hart(struct vcpu *v, unsigned long mask, unsigned long base,
			  void (*fn)(struct vcpu *target))
{
	struct vm *vm = v->vm;

	if (base == ~0UL) {
		for (unsigned i = 0; i < vm->nvcpus; i++)
			fn(&vm->vcpus[i]);
		return SBI_SUCCESS;
	}
	for (unsigned i = 0; i < 64; i++)
		if ((mask >> i & 1) && (base >= vm->nvcpus || i >= vm->nvcpus - base))
			return SBI_ERR_INVALID_PARAM;
	for (unsigned i = 0; i < 64; i++)
		if (mask >> i & 1)
			fn(&vm->vcpus[base + i]);
	return SBI_SUCCESS;
}

static enum sbi_next sbi_base(struct vcpu *v, unsigned long fid, const uint64_t *arg,
			      struct sbiret *ret, struct vm_exit *e)
{
	UNUSED(v);
	UNUSED(e);
	switch (fid) {
	case 0: ret->value = SBI_SPEC_VERSION; break;
	case 1: ret->value = SBI_IMPL_ID_TESSERA; break;
	case 2: ret->value = SBI_IMPL_VERSION; break;
	case 3: ret->value = find_ext(arg[0]) ? 1 : 0; break;
	case 4: case 5: case 6: ret->value = 0; break;  /* a virtual hart */
	default: ret->error = SBI_ERR_NOT_SUPPORTED; break;
	}
	return SBI_RESUME;
}

static enum sbi_next sbi_time(struct vcpu *v, unsigned long fid, const uint64_t *arg,
			      struct sbiret *ret, struct vm_exit *e)
{
	UNUSED(e);
	if (fid != 0) {
		ret->error = SBI_ERR_NOT_SUPPORTED;
		return SBI_RESUME;
	}
	rv_vcpu_set_timer(v, arg[0]);
	return SBI_RESUME;
}

static void raise_ssip(struct vcpu *t)
{
	t->arch.hvip |= MIP_VSSIP;
	t->stats.irqs_injected++;
	vcpu_kick(t);
}

static enum sbi_next sbi_ipi(struct vcpu *v, unsigned long fid, const uint64_t *arg,
			     struct sbiret *ret, struct vm_exit *e)
{
	UNUSED(e);
	if (fid != 0)
		ret->error = SBI_ERR_NOT_SUPPORTED;
	else
		ret->error = for_each_hart(v, arg[0], arg[1], raise_ssip);
	return SBI_RESUME;
}

static void nothing(struct vcpu *t)
{
	UNUSED(t);
}

static enum sbi_next sbi_rfence(struct vcpu *v, unsigned long fid, const uint64_t *arg,
				struct sbiret *ret, struct vm_exit *e)
{
	UNUSED(e);
	if (fid > 2) {
		ret->error = SBI_ERR_NOT_SUPPORTED;     /* hfence.*: guests have no H */
		return SBI_RESUME;
	}
	ret->error = for_each_hart(v, arg[0], arg[1], nothing);
	if (ret->error)
		return SBI_RESUME;
	/* All of the VM's vCPUs share this one hart's caches and TLB. */
	if (fid == 0)
		__asm__ volatile("fence.i" ::: "memory");
	else
		rv_vcpu_local_vvma_flush();
	return SBI_RESUME;
}

static bool in_ram(struct vm *vm, uint64_t gpa)
{
	return vm_gpa_to_hva(vm, gpa, 2) != NULL;
}

static enum sbi_next sbi_hsm(struct vcpu *v, unsigned long fid, const uint64_t *arg,
			     struct sbiret *ret, struct vm_exit *e)
{
	struct vm *vm = v->vm;
	struct vcpu *t;
	uint32_t type;

	switch (fid) {
	case 0:         /* hart_start(hartid, start_addr, opaque) */
		if (arg[0] >= vm->nvcpus) {
			ret->error = SBI_ERR_INVALID_PARAM;
			break;
		}
		t = &vm->vcpus[arg[0]];
		if (t->state != VCPU_STOPPED)
			ret->error = SBI_ERR_ALREADY_AVAILABLE;
		else if (!in_ram(vm, arg[1]))
			ret->error = SBI_ERR_INVALID_ADDRESS;
		else if (vcpu_start(t, arg[1], arg[0], arg[2]))
			ret->error = SBI_ERR_FAILED;
		break;
	case 1:         /* hart_stop() */
		e->reason = EXIT_VCPU_STOP;
		return SBI_EXIT_KEEP_REGS;
	case 2:         /* hart_get_status(hartid) */
		if (arg[0] >= vm->nvcpus) {
			ret->error = SBI_ERR_INVALID_PARAM;
			break;
		}
		t = &vm->vcpus[arg[0]];
		ret->value = t->state == VCPU_STOPPED ? HSM_STOPPED :
			     t->arch.suspended ? HSM_SUSPENDED : HSM_STARTED;
		break;
	case 3:         /* hart_suspend(type, resume_addr, opaque) */
		if (arg[0] > 0xFFFFFFFFUL) {
			ret->error = SBI_ERR_INVALID_PARAM;
			break;
		}
		type = (uint32_t)arg[0];
		if (type == 0) {
			v->arch.gpr[10] = SBI_SUCCESS;
			if (rv_vcpu_halt(v, e)) {
				v->arch.suspended = true;
				return SBI_EXIT_KEEP_REGS;
			}
			return SBI_RESUME;
		}
		if (type == 0x80000000U) {
			if (!in_ram(vm, arg[1])) {
				ret->error = SBI_ERR_INVALID_ADDRESS;
				break;
			}
			/* Non-retentive: wake up at resume_addr, as from reset. */
			rv_vcpu_resume_at(v, arg[1], v->id, arg[2]);
			if (!rv_vcpu_halt(v, e))
				return SBI_RESUME_KEEP_REGS;
			v->arch.suspended = true;
			return SBI_EXIT_KEEP_REGS;
		}
		ret->error = (type < 0x10000000U || (type > 0x80000000U && type < 0x90000000U)) ?
			     SBI_ERR_INVALID_PARAM : SBI_ERR_NOT_SUPPORTED;
		break;
	default:
		ret->error = SBI_ERR_NOT_SUPPORTED;
		break;
	}
	return SBI_RESUME;
}

static enum sbi_next sbi_srst(struct vcpu *v, unsigned long fid, const uint64_t *arg,
			      struct sbiret *ret, struct vm_exit *e)
{
	UNUSED(v);
	if (fid != 0) {
		ret->error = SBI_ERR_NOT_SUPPORTED;
		return SBI_RESUME;
	}
	if (arg[0] > 2 || (arg[1] > 1 && arg[1] < 0xE0000000UL) || arg[1] > 0xFFFFFFFFUL) {
		ret->error = SBI_ERR_INVALID_PARAM;
		return SBI_RESUME;
	}
	e->reason = arg[0] == 0 ? EXIT_SHUTDOWN : EXIT_REBOOT;
	return SBI_EXIT_KEEP_REGS;
}

static enum sbi_next sbi_dbcn(struct vcpu *v, unsigned long fid, const uint64_t *arg,
			      struct sbiret *ret, struct vm_exit *e)
{
	struct vm *vm = v->vm;
	uint64_t n = arg[0], gpa = arg[1] | arg[2] << 32;
	uint8_t *buf;

	UNUSED(e);
	if (fid == 2) {
		console_vm_putc(vm, (uint8_t)arg[0]);
		return SBI_RESUME;
	}
	if (fid > 1) {
		ret->error = SBI_ERR_NOT_SUPPORTED;
		return SBI_RESUME;
	}
	if (n > DBCN_MAX)
		n = DBCN_MAX;   /* the spec allows doing part of the work */
	if (arg[2] || (n && !(buf = vm_gpa_to_hva(vm, gpa, n)))) {
		ret->error = SBI_ERR_INVALID_PARAM;
		return SBI_RESUME;
	}
	if (fid == 0) {
		for (uint64_t i = 0; i < n; i++)
			console_vm_putc(vm, buf[i]);
		ret->value = (long)n;
	} else {
		uint64_t i = 0;
		int c;

		for (; i < n && (c = console_vm_getc(vm)) >= 0; i++)
			buf[i] = (uint8_t)c;
		ret->value = (long)i;
	}
	return SBI_RESUME;
}

static enum sbi_next sbi_putchar(struct vcpu *v, unsigned long fid, const uint64_t *arg,
				 struct sbiret *ret, struct vm_exit *e)
{
	UNUSED(fid);
	UNUSED(ret);
	UNUSED(e);
	console_vm_putc(v->vm, (uint8_t)arg[0]);
	return SBI_RESUME;
}

static enum sbi_next sbi_getchar(struct vcpu *v, unsigned long fid, const uint64_t *arg,
				 struct sbiret *ret, struct vm_exit *e)
{
	UNUSED(fid);
	UNUSED(arg);
	UNUSED(e);
	ret->error = console_vm_getc(v->vm);
	return SBI_RESUME;
}

static enum sbi_next sbi_tessera(struct vcpu *v, unsigned long fid, const uint64_t *arg,
				 struct sbiret *ret, struct vm_exit *e)
{
	UNUSED(arg);
	switch (fid) {
	case 0: ret->value = v->vm->id; break;
	case 1: ret->value = v->id; break;
	case 3: ret->value = v->vm->restarts; break;
	case 2:
		e->reason = EXIT_YIELD;
		return SBI_EXIT;
	default: ret->error = SBI_ERR_NOT_SUPPORTED; break;
	}
	return SBI_RESUME;
}

/* Most frequent first: the lookup is a short linear scan. */
static const struct sbi_ext sbi_exts[] = {
	{ 0x54494D45, "TIME", sbi_time, false },
	{ 0x735049, "IPI", sbi_ipi, false },
	{ 0x52464E43, "RFENCE", sbi_rfence, false },
	{ 0x10, "BASE", sbi_base, false },
	{ 0x48534D, "HSM", sbi_hsm, false },
	{ 0x4442434E, "DBCN", sbi_dbcn, false },
	{ 0x53525354, "SRST", sbi_srst, false },
	{ SBI_EXT_TESSERA, "TESSERA", sbi_tessera, false },
	{ 0x01, "legacy-putchar", sbi_putchar, true },
	{ 0x02, "legacy-getchar", sbi_getchar, true },
};

static const struct sbi_ext *find_ext(unsigned long eid)
{
	for (unsigned i = 0; i < ARRAY_SIZE(sbi_exts); i++)
		if (sbi_exts[i].eid == eid)
			return &sbi_exts[i];
	return NULL;
}

bool rv_sbi_ecall(struct vcpu *v, struct vm_exit *e)
{
	struct arch_vcpu *a = &v->arch;
	const struct sbi_ext *ext;
	struct sbiret ret = { SBI_SUCCESS, 0 };
	enum sbi_next next;

	v->stats.hypercalls++;
	a->gpr[0] += 4;
	/* The calls guests make most, answered without the table walk and
	 * the handler call: set_timer and BASE's constant queries. */
	switch (a->gpr[17]) {
	case SBI_EXT_TIME:
		if (a->gpr[16] != 0)
			break;
		rv_vcpu_set_timer(v, a->gpr[10]);
		a->gpr[10] = SBI_SUCCESS;
		a->gpr[11] = 0;
		return false;
	case SBI_EXT_BASE:
		if (a->gpr[16] > 2)
			break;
		a->gpr[11] = a->gpr[16] == 0 ? SBI_SPEC_VERSION :
			     a->gpr[16] == 1 ? SBI_IMPL_ID_TESSERA : SBI_IMPL_VERSION;
		a->gpr[10] = SBI_SUCCESS;
		return false;
	default:
		break;
	}
	ext = find_ext(a->gpr[17]);
	if (unlikely(!ext)) {
		v->stats.hypercalls_unsupported++;
		a->gpr[10] = (uint64_t)SBI_ERR_NOT_SUPPORTED;
		if (a->gpr[17] >= 0x10)
			a->gpr[11] = 0;
		return false;
	}
	next = ext->fn(v, a->gpr[16], &a->gpr[10], &ret, e);
	if (unlikely(ret.error == SBI_ERR_NOT_SUPPORTED))
		v->stats.hypercalls_unsupported++;
	if (next == SBI_RESUME || next == SBI_EXIT) {
		a->gpr[10] = (uint64_t)ret.error;
		if (!ext->legacy)
			a->gpr[11] = (uint64_t)ret.value;
	}
	return next == SBI_EXIT || next == SBI_EXIT_KEEP_REGS;
}

struct sbiret rv_sbi_call(unsigned long eid, unsigned long fid, unsigned long a0,
			  unsigned long a1, unsigned long a2)
{
	register unsigned long r0 __asm__("a0") = a0;
	register unsigned long r1 __asm__("a1") = a1;
	register unsigned long r2 __asm__("a2") = a2;
	register unsigned long r6 __asm__("a6") = fid;
	register unsigned long r7 __asm__("a7") = eid;

	__asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r2), "r"(r6), "r"(r7) : "memory");
	return (struct sbiret){ (long)r0, (long)r1 };
}

/* The light path's SBI entry (see rv_light_done in vcpu.c; after
 * rv_sbi_call, so the fuzz build's copy of this file leaves it out): BASE's
 * constant queries answered at once, the rest through rv_sbi_ecall. */
unsigned long rv_light_ecall(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;
	uint64_t cmp = a->vstimecmp, hvip;
	unsigned long fid = a->gpr[16];

	if (a->gpr[17] == SBI_EXT_BASE && fid <= 2) {
		v->stats.hypercalls++;
		a->gpr[0] += 4;
		a->gpr[10] = SBI_SUCCESS;
		a->gpr[11] = fid == 0 ? SBI_SPEC_VERSION : fid == 1 ? SBI_IMPL_ID_TESSERA :
			     SBI_IMPL_VERSION;
		return 0;
	}
	hvip = csr_read(CSR_HVIP);
	a->hvip = hvip;
	return rv_light_done(v, rv_sbi_ecall(v, rv_light_exit_e), cmp, hvip);
}
