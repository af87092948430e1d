/*
 * The core's loop: pick a vCPU, run it until the back end returns a portable
 * exit, handle the exit. Time slices and halted vCPUs' timers share one host
 * timer, programmed for the earliest thing the core must do.
 */
#include "core/core.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/sched.h"
#include "core/shell.h"
#include "core/vm.h"

#define TESSERA_VERSION "0.1"

static uint64_t next_wake = UINT64_MAX;  /* earliest wake_at of a waiting vCPU */

void timers_note_block(uint64_t deadline)
{
	if (deadline < next_wake)
		next_wake = deadline;
}

/*
 * Halted vCPUs wake when their timer passes or an interrupt is pending.
 * vCPUs waiting on the run queue have their own timers too (noted when they
 * leave the CPU): when one raises an interrupt the vCPU can take, it is
 * promoted and preempts the running vCPU, so an interrupt does not wait
 * behind another VM's slice.
 */
static void timers_check(uint64_t now)
{
	uint64_t next = UINT64_MAX;

	/* pointers, not vms[i]: vms is a pointer that the calls below would
	 * make the compiler reload */
	for (struct vm *vm = vms, *end = vms + nvms; vm < end; vm++) {
		for (unsigned k = 0; k < vm->nvcpus; k++) {
			struct vcpu *v = &vm->vcpus[k];

			/* a paused VM's vCPUs stay halted until it resumes */
			if (vm->state != VM_RUNNING)
				continue;
			if (v->state == VCPU_RUNNABLE) {
				if (v->wake_at <= now) {
					if (arch_vcpu_irq_pending(v)) {
						v->wake_at = UINT64_MAX;
						sched_promote(v);
						continue;
					}
					/* masked: watch its next event, but not one
					 * already due (a timer that fired while its
					 * interrupt is masked would be seen due again
					 * at every check: a livelock of host timer
					 * interrupts); it gets it on its turn */
					uint64_t n = arch_vcpu_next_event(v);

					v->wake_at = n > now ? n : UINT64_MAX;
				}
			} else if (v->state == VCPU_BLOCKED) {
				if (v->wake_at <= now || arch_vcpu_irq_pending(v)) {
					v->wake_at = UINT64_MAX;
					sched_wake(v, now);
					continue;
				}
			} else {
				continue;
			}
			if (v->wake_at < next)
				next = v->wake_at;
		}
	}
	next_wake = next;
}

/* v leaves the CPU for the run queue or comes onto it: its own timers are
 * the core's to watch only while it waits. */
static void switched(struct vcpu *prev, struct vcpu *v)
{
	if (prev && prev != v && prev->state == VCPU_RUNNABLE) {
		prev->wake_at = arch_vcpu_next_event(prev);
		timers_note_block(prev->wake_at);
	}
	if (v)
		v->wake_at = UINT64_MAX;
}

static uint64_t console_due = UINT64_MAX;  /* console_poll() has work then */
static uint64_t share_due;               /* the CPU-share window closes then */

/* Whatever is due besides running vCPUs: halted vCPUs' timers, typed shell
 * lines, console flushes and input, the CPU-share window. */
static void chores(uint64_t now)
{
	if (unlikely(now >= next_wake))
		timers_check(now);
	if (unlikely(console_changed)) {
		console_changed = false;
		shell_poll();
		console_due = console_next_deadline();
	}
	if (unlikely(now >= share_due)) {
		vm_sample_shares(now);
		share_due = now + arch_ticks_per_sec();
	}
	if (unlikely(now >= console_due)) {
		console_poll(now);
		console_due = console_next_deadline();
	}
}

/* Nothing runnable: power off when every VM has stopped (unless the shell
 * keeps the machine up), else wait for a timer or console input. */
static void idle(void)
{
	if (vm_all_stopped() && !shell_holds_machine()) {
		/* whatever the log level: the launcher waits for this line */
		console_printf("all VMs stopped; %llu vCPU switches",
			       (unsigned long long)sched.switches);
		arch_poweroff(false);
	}
	arch_set_deadline(min_u64(next_wake, console_due));
	arch_idle();
}

void core_main(void)
{
	const struct cfg_system *cfg = &tessera_config;
	uint64_t slice;
	struct vm_exit e;

	pr_info("Tessera %s: scenario '%s', %u VM(s), time slice %u us, %llu KiB free RAM",
		TESSERA_VERSION, cfg->name, cfg->nvms, cfg->time_slice_us,
		(unsigned long long)(palloc_free_bytes() >> 10));
	slice = arch_ticks_per_sec() * cfg->time_slice_us / 1000000;
	sched_init(slice);
	if (vm_build_all(cfg)) {
		pr_err("cannot build the VMs of scenario '%s'; stopping", cfg->name);
		arch_poweroff(true);
	}
	for (unsigned i = 0; i < nvms; i++) {
		pr_info("vm %u '%s': %u vCPU(s), entry 0x%llx, starting", i, vms[i].cfg->name,
			vms[i].nvcpus, (unsigned long long)vms[i].cfg->entry);
		vm_start(&vms[i]);
	}

	console_due = console_next_deadline();
	vm_sample_shares(arch_now());           /* the first window starts now */
	share_due = arch_now() + arch_ticks_per_sec();
	for (struct vcpu *prev = NULL;;) {
		uint64_t now = arch_now();
		struct vcpu *v;

		chores(now);
		v = sched_next(now);
		if (v != prev) {
			switched(prev, v);
			prev = v;
		}
		if (unlikely(!v)) {
			idle();
			continue;
		}
		arch_set_deadline(min_u64(sched.slice_end, min_u64(next_wake, console_due)));
		now = arch_now();
		arch_vcpu_run(v, &e);
		/* time in the guest, for stats and the CPU share: one timer read */
		v->stats.run_ticks += arch_now() - now;
		v->stats.exits[e.reason]++;
		/* a tick, console input or a back end's finished exit: the
		 * loop's top does all there is to do */
		if (e.reason != EXIT_TICK && e.reason != EXIT_HOST_IRQ && e.reason != EXIT_RESCHED)
			vm_handle_exit(v, &e);
	}
}
