/* VMs and vCPUs: the objects the core manages. */
#ifndef TESSERA_CORE_VM_H
#define TESSERA_CORE_VM_H

#include "core/arch_types.h"
#include "core/arch.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/console.h"
#include "devices/plic.h"
#include "devices/uart16550.h"

enum vcpu_state {
	VCPU_CREATED = 0,       /* built, never started */
	VCPU_RUNNABLE,          /* on the run queue */
	VCPU_RUNNING,           /* on the physical CPU now */
	VCPU_BLOCKED,           /* halted, waiting for an interrupt or its timer */
	VCPU_STOPPED,           /* powered off (HSM stopped, or its VM stopped) */
	VCPU_PAUSED,            /* was runnable when its VM was paused */
};

/* CREATED: built, never started. PAUSED: its vCPUs keep their state but
 * none runs or wakes up until it is resumed. */
enum vm_state { VM_CREATED = 0, VM_RUNNING, VM_PAUSED, VM_STOPPED, VM_STATE_NR };

struct vcpu_stats {
	uint64_t exits[EXIT_NR];
	uint64_t run_ticks;             /* host ticks spent in the guest's slices */
	uint64_t irqs_injected;
	uint64_t hypercalls;
	uint64_t hypercalls_unsupported; /* answered "not supported" */
	uint64_t csr_emulated;          /* trapped CSR accesses emulated */
};

struct vcpu {
	struct arch_vcpu arch;          /* first: assembly reaches it from the vcpu pointer */
	struct vm *vm;
	unsigned id;
	enum vcpu_state state;
	struct vcpu *rq_next;           /* run queue link */
	uint64_t wake_at;               /* host time a BLOCKED vCPU wakes, or a RUNNABLE one's
					 * own timer fires (it preempts then); UINT64_MAX: never */
	uint64_t slice_left;            /* ticks left of its slice when it was preempted or halted */
	uint64_t slice_debt;            /* boosts it got (sched_promote), owed from its next slices */
	uint64_t blocked_at;            /* host time it last halted */
	struct vcpu_stats stats;
	uint64_t share_mark;            /* run_ticks at the start of the sampling window */
	uint64_t share_ticks;           /* run ticks in the last complete window */
};

/* Guest RAM. A lazy region (ARCH_LAZY_RAM, LAZY_RAM_MIN or more) is mapped and filled one chunk
 * at a time, on the VM's first touch (vm_ram_fault) or Tessera's
 * (vm_gpa_to_hva): RAM_CHUNKS chunks of at least 2 MiB. */
#define RAM_CHUNKS 64
/* Smaller regions are cleared at build: cheap, and a small VM's first
 * instructions then do not pay for it (timed guests see no difference). */
#define LAZY_RAM_MIN MiB(64)
struct vm_region {
	uint64_t gpa, size, hpa;
	uint64_t chunk;                 /* bytes per chunk; 0: mapped and filled at build */
	uint64_t populated;             /* bit k: chunk k is mapped and filled */
};

union vm_device {
	struct uart16550 uart;
	struct plic plic;
};

struct vm {
	unsigned id;
	const struct cfg_vm *cfg;
	enum vm_state state;
	unsigned nvcpus;
	struct vcpu vcpus[CFG_MAX_VCPUS];
	struct vm_region regions[CFG_MAX_REGIONS];
	unsigned nregions;
	struct bus bus;                 /* MMIO */
	struct bus iobus;               /* x86 I/O ports */
	union vm_device devs[CFG_MAX_DEVICES];
	struct uart16550 *console_uart;  /* the UART wired to the console, or NULL */
	struct plic *plic;
	struct console_chan con;
	uint32_t restarts;
	/* unmodelled accesses (ports, MSRs, device windows) reported once each */
#define VM_NOTED_MAX 32
	uint64_t noted[VM_NOTED_MAX];
	uint32_t nnoted;
	struct arch_vm arch;
};

/* nvms of them, allocated from palloc by vm_build_all (NULL before) */
extern struct vm *vms;
extern unsigned nvms;
/* Length in host ticks of the last CPU-share sampling window (0: none yet). */
extern uint64_t vm_share_window;

/* Build every VM of the config; -1 if one could not be built. */
int vm_build_all(const struct cfg_system *cfg);
/* Run a VM whose RAM and devices are fresh: vCPU 0 at its entry. */
void vm_start(struct vm *vm);
/* Stop a running or paused VM; logs the reason and its counters. */
void vm_stop(struct vm *vm, const char *why);
/* Power a stopped VM on afresh: images reloaded, devices reset, restart
 * count cleared. -1 if it is not stopped or its images do not load. */
int vm_boot(struct vm *vm);
/* Stop (if needed), reload images, reset devices and vCPUs, run again. */
void vm_restart(struct vm *vm, const char *why);
/* Take a running VM's vCPUs off the CPU, keeping their state; -1 if it is
 * not running. Resume puts them back (halted ones stay halted). */
int vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);
/* The VM's counters summed over its vCPUs. */
void vm_sum_stats(const struct vm *vm, struct vcpu_stats *t);
/* Close a CPU-share sampling window: called about once a second. */
void vm_sample_shares(uint64_t now);
/* Apply the VM's configured policy to an event. */
void vm_event(struct vm *vm, enum cfg_policy policy, const char *what);
const char *vm_policy_name(enum cfg_policy policy);
void vm_handle_exit(struct vcpu *v, struct vm_exit *e);
/* A guest load/store at gpa outside its RAM, for a back end that finishes
 * MMIO exits itself: the access on the VM's bus (a load's result in *val).
 * 0 when the guest goes on, else BUS_NO_DEVICE or BUS_REFUSED: then call
 * vm_mmio_fault (the VM's fault policy) and return to the core. */
static inline int vm_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val);
/* The same for a port access on the VM's I/O bus (a port nothing answers
 * reads all ones); a refused access goes to vm_mmio_fault too. */
static inline int vm_pio(struct vcpu *v, uint64_t port, unsigned size, bool write, uint64_t *val);
void vm_mmio_fault(struct vcpu *v, uint64_t gpa, unsigned size, bool write, int r);
/* vm_mmio and vm_pio when the bus did not complete the access (r): 0 when
 * the guest goes on (a hole or port nothing answers), else r. */
int vm_bus_unclaimed(struct vcpu *v, uint64_t gpa, unsigned size, bool write, bool pio,
		     uint64_t *val, int r);
/* Host address of [gpa, gpa+len) if it lies inside one RAM region, else NULL. */
/* Host address of [gpa, gpa+len) if it lies in one RAM region (filling
 * chunks not touched yet), else NULL. */
void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);
/* A stage-2 fault at gpa: true if gpa is RAM not touched yet, now mapped
 * and filled (the back end re-runs the instruction); false otherwise. */
bool vm_ram_fault(struct vm *vm, uint64_t gpa);
/* true the first time this VM shows `key` (an access Tessera does not
 * model, for a report line), for up to VM_NOTED_MAX distinct keys. */
bool vm_note_once(struct vm *vm, uint64_t key);
bool vm_all_stopped(void);

/* vCPU power management for SBI HSM and friends. */
int vcpu_start(struct vcpu *v, uint64_t pc, uint64_t arg0, uint64_t arg1);
/* An interrupt became pending for v: wake it if it is halted. */
void vcpu_kick(struct vcpu *v);

/* Inline, so that an exit path reaches the device model with no call in
 * between (bus_access tries the last device hit inline too). */
static inline int vm_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
	int r = bus_access(&v->vm->bus, gpa, size, write, val);

	return likely(r == 0) ? 0 : vm_bus_unclaimed(v, gpa, size, write, false, val, r);
}

static inline int vm_pio(struct vcpu *v, uint64_t port, unsigned size, bool write, uint64_t *val)
{
	int r = bus_access(&v->vm->iobus, port, size, write, val);

	return likely(r == 0) ? 0 : vm_bus_unclaimed(v, port, size, write, true, val, r);
}

#endif
