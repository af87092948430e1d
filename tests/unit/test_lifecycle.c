/* Host unit tests for the VM lifecycle (core/vm.c) on the real scheduler
 * (core/sched.c), device bus and device models: stop, start, restart, pause
 * and resume while a vCPU is the scheduler's current one or halted with a
 * wake time; images reloaded and devices reset on start; restart policy
 * limits; CPU-share sampling; lazy RAM (chunks mapped and filled on first
 * touch, refilled on restart). The arch layer, the allocator, the console and
 * the core loop's timer bookkeeping are stubs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/sched.h"
#include "core/vm.h"

/* ------------------------------------------------------------ stubs */

enum log_level log_level = LOG_INFO;
bool console_changed;

static char log_text[8192];             /* every line logged, '\n'-separated */
static bool irq_pending;                /* what arch_vcpu_irq_pending() says */
static uint64_t noted_wake;             /* the last timers_note_block() */
static void *blocks[64];
static unsigned nblocks;

static void logged(const char *line)
{
	size_t n = strlen(log_text);

	snprintf(log_text + n, sizeof(log_text) - n, "%s\n", line);
}

void log_printf(enum log_level lvl, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	(void)lvl;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	logged(buf);
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
	fail_msg("panic at %s:%d: %s", file, line, fmt);
	abort();
}

void console_emit_line(const char *prefix, const char *text, unsigned len)
{
	(void)prefix, (void)text, (void)len;
}

void console_vm_putc(struct vm *vm, uint8_t c)
{
	(void)vm, (void)c;
}

void timers_note_block(uint64_t deadline)
{
	noted_wake = deadline;
}

static uint64_t allocated;              /* bytes handed out, for palloc_free_bytes */

uint64_t palloc_free_bytes(void)
{
	return (1ULL << 40) - allocated;
}

/* Blocks freed by teardown, filled with `fill`. */
static uint64_t stub_alloc(uint64_t size, uint64_t align, int fill)
{
	void *p = aligned_alloc(align, (size + align - 1) / align * align);

	allocated += (size + 4095) / 4096 * 4096;
	assert_non_null(p);
	assert_true(nblocks < sizeof(blocks) / sizeof(blocks[0]));
	blocks[nblocks++] = p;
	memset(p, fill, size);
	return (uint64_t)(uintptr_t)p;
}

uint64_t palloc_alloc(uint64_t size, uint64_t align)
{
	return stub_alloc(size, align, 0);
}

/* Lazy RAM comes uncleared: the stub poisons it, so a test sees whether
 * core/vm.c cleared what the guest can see. */
uint64_t palloc_alloc_raw(uint64_t size, uint64_t align)
{
	return stub_alloc(size, align, 0xA5);
}

int palloc_claim(uint64_t base, uint64_t size)
{
	(void)base, (void)size;
	return -1;
}

int arch_vm_init(struct vm *vm)
{
	(void)vm;
	return 0;
}

static struct { uint64_t gpa, hpa, size; } maps[64];
static unsigned nmaps;

int arch_vm_map(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	(void)vm;
	assert_true(nmaps < sizeof(maps) / sizeof(maps[0]));
	maps[nmaps].gpa = gpa;
	maps[nmaps].hpa = hpa;
	maps[nmaps++].size = size;
	return 0;
}

void arch_vm_fixup_dtb(struct vm *vm, void *dtb, uint64_t size)
{
	(void)vm, (void)dtb, (void)size;
}

void arch_vm_reset(struct vm *vm)
{
	(void)vm;
}

int arch_vm_add_platform(struct vm *vm, const struct cfg_device *d)
{
	(void)vm, (void)d;
	return -1;
}

struct irq_line arch_vm_irq_line(struct vm *vm, uint32_t irq)
{
	return (struct irq_line){ plic_set_irq, vm->plic, irq };
}

void arch_vcpu_reset(struct vcpu *v, uint64_t pc, uint64_t arg0, uint64_t arg1)
{
	(void)arg0, (void)arg1;
	v->arch.unused = pc;
}

uint64_t arch_vcpu_pc(struct vcpu *v)
{
	return v->arch.unused;
}

void arch_vcpu_describe(struct vcpu *v)
{
	(void)v;
}

void arch_vcpu_set_ext_irq(struct vcpu *v, bool level)
{
	(void)v, (void)level;
}

bool arch_vcpu_irq_pending(struct vcpu *v)
{
	(void)v;
	return irq_pending;
}

void arch_vcpu_complete_mmio(struct vcpu *v, const struct vm_exit *e)
{
	(void)v, (void)e;
}

bool arch_gpa_in_mmio_hole(struct vm *vm, uint64_t gpa)
{
	(void)vm, (void)gpa;
	return false;
}

uint64_t arch_now(void)
{
	return 0;                       /* halts and wake-ups: tests/unit/test_sched.c */
}

void arch_poweroff(bool failure)
{
	fail_msg("poweroff(%d)", failure);
	abort();
}

/* ------------------------------------------------------------ fixture */

#define RAM 0x80000000ULL
#define UART 0x10000000ULL

static const uint8_t image_data[] = { 0x13, 0x00, 0x00, 0x00, 0xde, 0xad };
static const struct cfg_region region = { .gpa = RAM, .size = 0x10000 };
static const struct cfg_image image = { "guest:test", image_data, sizeof(image_data), RAM };
static const struct cfg_device devs[] = {
	{ .type = CFG_DEV_PLIC, .base = 0x0c000000, .size = 0x400000 },
	{ .type = CFG_DEV_UART16550, .base = UART, .size = 0x100, .irq = 10 },
};
static struct cfg_vm cfg_vms[2];
static struct cfg_system cfg = { "lifecycle", 10000, cfg_vms, 2 };

static int setup(void **state)
{
	static const char *const names[] = { "a", "b" };

	(void)state;
	for (unsigned i = 0; i < 2; i++)
		cfg_vms[i] = (struct cfg_vm){ .name = names[i], .vcpus = 2, .entry = RAM + 0x100 * i,
					      .on_fault = CFG_POLICY_RESTART, .max_restarts = 2,
					      .regions = &region, .nregions = 1,
					      .images = &image, .nimages = 1,
					      .devices = devs, .ndevices = 2 };
	sched_init(10);
	assert_int_equal(vm_build_all(&cfg), 0);
	for (unsigned i = 0; i < nvms; i++)
		vm_start(&vms[i]);
	log_text[0] = '\0';
	irq_pending = false;
	noted_wake = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	while (nblocks)
		free(blocks[--nblocks]);
	return 0;
}

static bool queued(const struct vcpu *v)
{
	for (const struct vcpu *p = sched.head; p; p = p->rq_next)
		if (p == v)
			return true;
	return false;
}

static unsigned queue_len(void)
{
	unsigned n = 0;

	for (const struct vcpu *p = sched.head; p; p = p->rq_next)
		n++;
	return n;
}

/* Let the scheduler run slices from `now` until it picks v. */
static uint64_t run_until(struct vcpu *v, uint64_t now)
{
	for (unsigned i = 0; sched_next(now) != v; i++, now += 10)
		assert_true(i < 100);
	return now;
}

/* Run vCPU v and halt it until `at`. */
static void halt(struct vcpu *v, uint64_t now, uint64_t at)
{
	struct vm_exit e = { .reason = EXIT_HALT, .halt.deadline = at };

	run_until(v, now);
	vm_handle_exit(v, &e);
	assert_int_equal(v->state, VCPU_BLOCKED);
	assert_int_equal(v->wake_at, at);
}

static uint8_t *ram(struct vm *vm)
{
	return vm_gpa_to_hva(vm, RAM, 1);
}

/* ------------------------------------------------------------ lazy RAM */

/* 128 MiB: 64 chunks of 2 MiB. One image at 5 MiB, one across the 2 MiB
 * boundary. */
static const uint8_t straddle[] = { 1, 2, 3, 4, 5, 6 };
static const struct cfg_region big_region = { .gpa = RAM, .size = MiB(128) };
static const struct cfg_image big_images[] = {
	{ "guest:five", image_data, sizeof(image_data), RAM + MiB(5) },
	{ "guest:edge", straddle, sizeof(straddle), RAM + MiB(2) - 3 },
};
static struct cfg_vm lazy_vm;
static struct cfg_system lazy_cfg = { "lazy", 10000, &lazy_vm, 1 };

static bool all_bytes(const uint8_t *p, uint64_t n, uint8_t v)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void test_lazy_ram(void **state)
{
	struct vm *vm;
	struct vm_region *r;
	uint8_t *raw, *p;

	(void)state;
	lazy_vm = (struct cfg_vm){ .name = "lazy", .vcpus = 1, .entry = RAM + MiB(5),
				   .on_fault = CFG_POLICY_STOP, .regions = &big_region,
				   .nregions = 1, .images = big_images, .nimages = 2 };
	sched_init(10);
	nmaps = 0;
	log_text[0] = '\0';
	assert_int_equal(vm_build_all(&lazy_cfg), 0);
	/* the build reports guest RAM and Tessera's own share apart */
	assert_non_null(strstr(log_text, "1 VM(s) built: 131072 KiB of guest RAM, "));
	assert_non_null(strstr(log_text, "KiB of Tessera's own"));
	vm = &vms[0];
	r = &vm->regions[0];
	raw = (uint8_t *)(uintptr_t)r->hpa;
	assert_int_equal(r->chunk, MiB(2));
	/* nothing mapped or touched at build, images included */
	assert_int_equal(nmaps, 0);
	assert_int_equal(r->populated, 0);
	assert_true(all_bytes(raw, MiB(128), 0xA5));

	/* the guest touches 9 MiB: chunk 4 (8-10 MiB) is cleared and mapped */
	assert_true(vm_ram_fault(vm, RAM + MiB(9) + 123));
	assert_int_equal(nmaps, 1);
	assert_int_equal(maps[0].gpa, RAM + MiB(8));
	assert_int_equal(maps[0].hpa, r->hpa + MiB(8));
	assert_int_equal(maps[0].size, MiB(2));
	assert_true(all_bytes(raw + MiB(8), MiB(2), 0));
	assert_true(all_bytes(raw + MiB(6), MiB(2), 0xA5));      /* neighbours untouched */
	assert_true(all_bytes(raw + MiB(10), MiB(2), 0xA5));
	/* a second fault there is a real one; outside RAM is not RAM's */
	assert_false(vm_ram_fault(vm, RAM + MiB(9)));
	assert_false(vm_ram_fault(vm, RAM + MiB(128)));
	assert_false(vm_ram_fault(vm, RAM - 1));
	assert_int_equal(nmaps, 1);

	/* the guest's first touch of an image's chunk finds the image there */
	assert_true(vm_ram_fault(vm, RAM + MiB(4)));
	assert_memory_equal(raw + MiB(5), image_data, sizeof(image_data));
	assert_int_equal(raw[MiB(5) - 1], 0);
	assert_int_equal(raw[MiB(5) + sizeof(image_data)], 0);
	/* Tessera's own access populates too: both halves of the straddler */
	p = vm_gpa_to_hva(vm, RAM + MiB(2) - 3, sizeof(straddle));
	assert_non_null(p);
	assert_memory_equal(p, straddle, sizeof(straddle));
	assert_int_equal(r->populated, 1U << 0 | 1U << 1 | 1U << 2 | 1U << 4);
	assert_int_equal(nmaps, 4);
	assert_null(vm_gpa_to_hva(vm, RAM + MiB(128) - 2, 4));   /* past the end */

	/* a restart refills what was touched and leaves the rest alone */
	raw[MiB(8) + 77] = 0x42;
	raw[MiB(5)] ^= 0xff;
	vm_start(vm);
	vm_restart(vm, "test");
	assert_int_equal(raw[MiB(8) + 77], 0);
	assert_memory_equal(raw + MiB(5), image_data, sizeof(image_data));
	assert_memory_equal(raw + MiB(2) - 3, straddle, sizeof(straddle));
	assert_true(all_bytes(raw + MiB(12), MiB(116), 0xA5));
	assert_int_equal(nmaps, 4);                              /* no remapping */
	while (nblocks)
		free(blocks[--nblocks]);
}

/* ------------------------------------------------------------ tests */

static void test_start_queues_vcpu0(void **state)
{
	(void)state;
	assert_int_equal(vms[0].regions[0].chunk, 0);  /* 64 KiB: cleared at build */
	assert_int_equal(vms[0].state, VM_RUNNING);
	assert_int_equal(vms[0].vcpus[0].state, VCPU_RUNNABLE);
	assert_int_equal(vms[0].vcpus[1].state, VCPU_STOPPED);
	assert_int_equal(arch_vcpu_pc(&vms[1].vcpus[0]), RAM + 0x100);
	assert_int_equal(queue_len(), 2);
	assert_memory_equal(ram(&vms[0]), image_data, sizeof(image_data));
}

static void test_pause_the_current_vcpu(void **state)
{
	struct vcpu *a = &vms[0].vcpus[0], *b = &vms[1].vcpus[0];

	(void)state;
	assert_ptr_equal(sched_next(0), a);
	assert_int_equal(vm_pause(&vms[0]), 0);
	assert_int_equal(vms[0].state, VM_PAUSED);
	assert_int_equal(a->state, VCPU_PAUSED);
	assert_null(sched.current);
	assert_false(queued(a));
	assert_non_null(strstr(log_text, "vm a paused"));
	assert_int_equal(vm_pause(&vms[0]), -1);        /* not running */
	assert_int_equal(vm_resume(&vms[1]), -1);       /* not paused */
	/* only the other VM runs now */
	for (uint64_t t = 1; t < 100; t += 7)
		assert_ptr_equal(sched_next(t), b);
	assert_int_equal(vm_resume(&vms[0]), 0);
	assert_int_equal(a->state, VCPU_RUNNABLE);
	assert_true(queued(a));
	assert_non_null(strstr(log_text, "vm a resumed"));
	assert_ptr_equal(sched_next(200), a);
}

static void test_pause_keeps_a_halted_vcpu_halted(void **state)
{
	struct vcpu *a = &vms[0].vcpus[0];

	(void)state;
	halt(a, 0, 500);
	assert_int_equal(noted_wake, 500);
	assert_int_equal(vm_pause(&vms[0]), 0);
	assert_int_equal(a->state, VCPU_BLOCKED);       /* keeps its wake time */
	assert_int_equal(a->wake_at, 500);
	/* an interrupt for a paused VM does not wake it */
	irq_pending = true;
	vcpu_kick(a);
	assert_int_equal(a->state, VCPU_BLOCKED);
	assert_false(queued(a));
	irq_pending = false;
	/* resume: the core's timers look at its wake time again */
	noted_wake = 0;
	assert_int_equal(vm_resume(&vms[0]), 0);
	assert_int_equal(a->state, VCPU_BLOCKED);
	assert_int_equal(noted_wake, 500);
	/* ... and an interrupt that is pending wakes it at once */
	assert_int_equal(vm_pause(&vms[0]), 0);
	irq_pending = true;
	assert_int_equal(vm_resume(&vms[0]), 0);
	assert_int_equal(a->state, VCPU_RUNNABLE);
	assert_true(queued(a));
	assert_int_equal(a->wake_at, UINT64_MAX);
}

static void test_stop_current_then_boot_reloads(void **state)
{
	struct vcpu *a = &vms[0].vcpus[0];
	uint64_t val = 0x55;

	(void)state;
	assert_ptr_equal(sched_next(0), a);
	/* the guest scribbles over its image and programs its UART */
	ram(&vms[0])[0] = 0xff;
	assert_int_equal(bus_access(&vms[0].bus, UART + 7, 1, true, &val), 0);   /* SCR */
	vm_stop(&vms[0], "stopped from the shell");
	assert_int_equal(vms[0].state, VM_STOPPED);
	assert_null(sched.current);
	assert_false(queued(a));
	assert_int_equal(a->state, VCPU_STOPPED);
	assert_non_null(strstr(log_text, "vm a stopped: stopped from the shell"));
	assert_int_equal(vm_boot(&vms[1]), -1);         /* running: not started again */
	vms[0].restarts = 2;
	assert_int_equal(vm_boot(&vms[0]), 0);
	assert_int_equal(vms[0].state, VM_RUNNING);
	assert_int_equal(vms[0].restarts, 0);
	assert_true(queued(a));
	assert_memory_equal(ram(&vms[0]), image_data, sizeof(image_data));
	val = 0;
	assert_int_equal(bus_access(&vms[0].bus, UART + 7, 1, false, &val), 0);
	assert_int_equal(val, 0);                       /* the device was reset */
	assert_non_null(strstr(log_text, "vm a starting from its images"));
}

static void test_stop_a_halted_and_a_paused_vm(void **state)
{
	struct vcpu *a = &vms[0].vcpus[0], *b = &vms[1].vcpus[0];

	(void)state;
	halt(a, 0, 300);
	vm_stop(&vms[0], "x");
	assert_int_equal(a->state, VCPU_STOPPED);
	assert_int_equal(a->wake_at, UINT64_MAX);
	assert_int_equal(vm_pause(&vms[1]), 0);
	vm_stop(&vms[1], "y");
	assert_int_equal(b->state, VCPU_STOPPED);
	assert_null(sched.head);
	assert_null(sched_next(1000));
	assert_true(vm_all_stopped());
	/* a stopped VM can be restarted from the shell */
	vm_restart(&vms[1], "restart from the shell");
	assert_int_equal(vms[1].restarts, 1);
	assert_true(queued(b));
	assert_ptr_equal(sched_next(1000), b);
}

static void test_restart_from_running_counts(void **state)
{
	struct vcpu *b = &vms[1].vcpus[0];

	(void)state;
	assert_ptr_equal(sched_next(0), &vms[0].vcpus[0]);
	ram(&vms[1])[4] = 0;
	vm_restart(&vms[1], "restart from the shell");
	assert_int_equal(vms[1].restarts, 1);
	assert_int_equal(b->state, VCPU_RUNNABLE);
	assert_int_equal(queue_len(), 1);
	assert_memory_equal(ram(&vms[1]), image_data, sizeof(image_data));
	assert_non_null(strstr(log_text, "vm b stopped: restart from the shell"));
	assert_non_null(strstr(log_text, "vm b restarting (restart 1)"));
}

static void test_fault_policy_limit(void **state)
{
	struct vm_exit e = { .reason = EXIT_MMIO, .mmio = { 0x90000000, 0, 8, true } };
	struct vcpu *a = &vms[0].vcpus[0];

	(void)state;
	for (unsigned k = 1; k <= 3; k++) {
		run_until(a, 1000 * k);
		vm_handle_exit(a, &e);
		assert_null(sched.current);
		if (k <= 2) {
			assert_int_equal(vms[0].restarts, k);
			assert_int_equal(vms[0].state, VM_RUNNING);
			assert_true(queued(a));
		}
	}
	assert_int_equal(vms[0].state, VM_STOPPED);
	assert_non_null(strstr(log_text, "vm a restarting (restart 2)"));
	assert_null(strstr(log_text, "restart 3"));
	assert_non_null(strstr(log_text, "vm a stopped: restart limit reached"));
	/* one event line per fault, naming the reason and the policy */
	unsigned n = 0;
	for (const char *p = log_text; (p = strstr(p, "guest-physical 0x90000000, pc 0x80000000: "
						    "policy restart")) != NULL; p++)
		n++;
	assert_int_equal(n, 3);
}

static void test_cpu_share_sampling(void **state)
{
	(void)state;
	vm_sample_shares(1000);
	vms[0].vcpus[0].stats.run_ticks += 300;
	vms[1].vcpus[0].stats.run_ticks += 600;
	vms[1].vcpus[1].stats.run_ticks += 50;
	vm_sample_shares(2000);
	assert_int_equal(vm_share_window, 1000);
	assert_int_equal(vms[0].vcpus[0].share_ticks, 300);
	assert_int_equal(vms[1].vcpus[0].share_ticks, 600);
	assert_int_equal(vms[1].vcpus[1].share_ticks, 50);
	vm_sample_shares(2500);
	assert_int_equal(vm_share_window, 500);
	assert_int_equal(vms[1].vcpus[0].share_ticks, 0);

	struct vcpu_stats t;
	vms[1].vcpus[0].stats.exits[EXIT_MMIO] = 4;
	vms[1].vcpus[1].stats.exits[EXIT_MMIO] = 3;
	vms[1].vcpus[1].stats.csr_emulated = 9;
	vm_sum_stats(&vms[1], &t);
	assert_int_equal(t.exits[EXIT_MMIO], 7);
	assert_int_equal(t.csr_emulated, 9);
	assert_int_equal(t.run_ticks, 650);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_queues_vcpu0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_the_current_vcpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_keeps_a_halted_vcpu_halted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_current_then_boot_reloads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_a_halted_and_a_paused_vm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_from_running_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_policy_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpu_share_sampling, setup, teardown),
		cmocka_unit_test(test_lazy_ram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
