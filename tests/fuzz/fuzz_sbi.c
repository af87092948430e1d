/*
 * libFuzzer harness: SBI dispatch, arch/riscv64/sbi.c, on the host.
 *
 * mk/fuzz.mk compiles a copy of sbi.c with its two pieces of RISC-V
 * assembly taken out (the fence.i of remote_fence_i becomes a call to
 * fuzz_fence_i(), and rv_sbi_call(), Tessera's own calls to the firmware,
 * is dropped); that copy is included here together with stubs of the
 * back-end and core functions it calls. The stubs check that they are
 * only ever asked about this VM's own vCPUs and RAM.
 *
 * Input: the VM shape (1..8 vCPUs, their states), which vCPU calls, then
 * a7 (EID: one of the implemented ones, or raw), a6 (FID), a0..a5.
 * Invariants: no crash / out-of-bounds (ASan); the pc moved past the ecall
 * (or to the resume address of a non-retentive suspend); a0 is 0 or an SBI
 * error code -1..-10 (legacy getchar: a byte or -1; DBCN: counts); a
 * returned exit is one the core knows; DBCN never touches memory outside
 * the VM's RAM.
 */
#define TESSERA_CORE_ARCH_TYPES_H       /* the real RISC-V vCPU state, not the host stand-in */
#include "arch/riscv64/arch_types.h"
#include "tests/fuzz/fuzz_common.h"
#include "core/vm.h"

#define RAM_GPA 0x80000000ULL
#define RAM_SIZE 0x10000ULL

static struct vm vm;
static uint8_t *ram;                    /* malloc'd: ASan guards both ends */
static unsigned long fences, flushes, kicks, putcs, getcs;
static int in_pending;

static void fuzz_fence_i(void)
{
	fences++;
}

static void check_vcpu(const struct vcpu *t)
{
	CHECK(t >= vm.vcpus && t < vm.vcpus + vm.nvcpus);
}

void rv_vcpu_set_timer(struct vcpu *v, uint64_t guest_deadline)
{
	check_vcpu(v);
	v->arch.vstimecmp = guest_deadline;
}

void rv_vcpu_local_vvma_flush(void)
{
	flushes++;
}

bool rv_vcpu_timer_pending(struct vcpu *v)
{
	check_vcpu(v);
	return false;
}

void rv_vcpu_resume_at(struct vcpu *v, uint64_t pc, uint64_t a0, uint64_t a1)
{
	check_vcpu(v);
	CHECK(vm_gpa_to_hva(&vm, pc, 2) != NULL);
	v->arch.gpr[0] = pc;
	v->arch.gpr[10] = a0;
	v->arch.gpr[11] = a1;
}

static bool halt_blocks;

bool rv_vcpu_halt(struct vcpu *v, struct vm_exit *e)
{
	check_vcpu(v);
	if (!halt_blocks)
		return false;
	e->reason = EXIT_HALT;
	e->halt.deadline = UINT64_MAX;
	return true;
}

int vcpu_start(struct vcpu *v, uint64_t pc, uint64_t arg0, uint64_t arg1)
{
	check_vcpu(v);
	CHECK(v->state == VCPU_STOPPED);
	CHECK(vm_gpa_to_hva(&vm, pc, 2) != NULL);
	CHECK(arg0 == v->id);
	(void)arg1;
	v->state = VCPU_RUNNABLE;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	check_vcpu(v);
	kicks++;
}

void *vm_gpa_to_hva(struct vm *m, uint64_t gpa, uint64_t len)
{
	uint64_t off = gpa - RAM_GPA;

	CHECK(m == &vm);
	if (gpa >= RAM_GPA && off < RAM_SIZE && len <= RAM_SIZE - off)
		return ram + off;
	return NULL;
}

void console_vm_putc(struct vm *m, uint8_t c)
{
	CHECK(m == &vm);
	(void)c;
	putcs++;
}

int console_vm_getc(struct vm *m)
{
	CHECK(m == &vm);
	getcs++;
	return in_pending-- > 0 ? 'x' : -1;
}

#include "sbi_host.c"         /* $(BUILD)/fuzz/include/sbi_host.c: see mk/fuzz.mk */

static const unsigned long eids[] = {
	0x10, 0x54494D45, 0x735049, 0x52464E43, 0x48534D, 0x53525354, 0x4442434E,
	SBI_EXT_TESSERA, 0x01, 0x02, 0x00, 0x08, 0x504D55,
};

/* Arguments biased to the interesting ones: hart ids and masks, RAM. */
static uint64_t arg(struct in *in)
{
	uint8_t k = in_u8(in);

	switch (k & 7) {
	case 0: return k >> 3;
	case 1: return ~0ULL - (k >> 3);
	case 2: return RAM_GPA + (in_bytes(in, 2) % (RAM_SIZE + 64)) - 16;
	case 3: return 1ULL << (k >> 2);
	case 4: return 0x80000000ULL + (k >> 3);
	default: return in_u64(in);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	uint8_t shape = in_u8(&in), states = in_u8(&in);

	if (!ram)
		ram = malloc(RAM_SIZE);
	memset(&vm, 0, sizeof(vm));
	vm.nvcpus = 1 + (shape & 7);
	vm.state = VM_RUNNING;
	for (unsigned i = 0; i < vm.nvcpus; i++) {
		vm.vcpus[i].vm = &vm;
		vm.vcpus[i].id = i;
		vm.vcpus[i].state = (states >> i) & 1 ? VCPU_STOPPED : VCPU_RUNNABLE;
		vm.vcpus[i].arch.suspended = (shape >> 3) & 1;
	}
	while (in.n >= 2) {
		uint8_t k = in_u8(&in);
		struct vcpu *v = &vm.vcpus[k % vm.nvcpus];
		struct arch_vcpu *a = &v->arch;
		struct vm_exit e;
		uint64_t pc = RAM_GPA + 4 * (in_u8(&in) & 15), eid;
		bool exit;

		eid = (k & 0x80) ? in_u64(&in) : eids[in_u8(&in) % (sizeof(eids) / sizeof(eids[0]))];
		a->gpr[0] = pc;
		a->gpr[17] = eid;
		a->gpr[16] = (k & 0x40) ? in_u64(&in) : in_u8(&in) % 8;
		for (int i = 10; i <= 15; i++)
			a->gpr[i] = arg(&in);
		halt_blocks = k & 0x20;
		in_pending = k & 0x10 ? 3 : 0;
		memset(&e, 0xAB, sizeof(e));
		e.reason = EXIT_NR;
		exit = rv_sbi_ecall(v, &e);

		if (exit)
			CHECK(e.reason == EXIT_HALT || e.reason == EXIT_YIELD ||
			      e.reason == EXIT_VCPU_STOP || e.reason == EXIT_SHUTDOWN ||
			      e.reason == EXIT_REBOOT);
		else
			CHECK(e.reason == EXIT_NR);
		if (a->gpr[0] != pc + 4) {
			/* only a non-retentive suspend moves the pc elsewhere */
			CHECK(eid == 0x48534D && a->gpr[16] == 3);
			CHECK(vm_gpa_to_hva(&vm, a->gpr[0], 2) != NULL);
			continue;
		}
		if (eid == 0x02)
			CHECK((int64_t)a->gpr[10] == -1 || a->gpr[10] == 'x');
		else if (eid == 0x48534D && a->gpr[16] == 3 && a->gpr[10] == v->id)
			;       /* non-retentive resume at pc + 4: a0 = hart id */
		else if (eid == 0x4442434E && a->gpr[16] <= 1 && a->gpr[10] == 0)
			CHECK(a->gpr[11] <= 4096);
		else if (!(exit && e.reason != EXIT_YIELD))
			CHECK((int64_t)a->gpr[10] <= 0 && (int64_t)a->gpr[10] >= -10);
	}
	return 0;
}
