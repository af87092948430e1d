/*
 * The interface between the portable core and an architecture back end.
 * The core owns the loop (see core/main.c):
 *     vcpu = sched_next();  arch_vcpu_run(vcpu, &exit);  vm_handle_exit(vcpu, &exit);
 * The back end finishes the exits only it understands (SBI base queries,
 * CSR details, ...) and re-enters the guest itself; everything the core must
 * see comes back as a portable struct vm_exit.
 */
#ifndef TESSERA_CORE_ARCH_H
#define TESSERA_CORE_ARCH_H

#include "lib/types.h"
#include "core/arch_types.h"
#include "devices/device.h"

struct vm;
struct cfg_device;
struct vcpu;

enum exit_reason {
	EXIT_TICK = 0,          /* host timer: slice end or a timer deadline */
	EXIT_HOST_IRQ,          /* a host device interrupt (console input) */
	EXIT_MMIO,              /* load/store to a guest-physical address outside RAM */
	EXIT_HALT,              /* wfi/hlt with nothing pending: block until wake.deadline */
	EXIT_YIELD,             /* the guest gave up the rest of its slice */
	EXIT_VCPU_STOP,         /* this vCPU stopped itself (SBI HSM hart_stop) */
	EXIT_SHUTDOWN,          /* the guest asked to power its VM off */
	EXIT_REBOOT,            /* the guest asked to reset its VM */
	EXIT_FAULT,             /* the guest did something fatal for its VM */
	EXIT_RESCHED,           /* the back end finished an exit itself (a device
				 * access through vm_mmio), but the core has work:
				 * a vCPU woke, the console changed, a VM stopped */
	EXIT_NR
};

struct vm_exit {
	enum exit_reason reason;
	union {
		struct {
			uint64_t gpa;
			uint64_t value;         /* store data, or load result filled by the core */
			uint8_t size;           /* 1, 2, 4, 8 */
			bool write;
			bool pio;               /* x86 port I/O: gpa is the port */
		} mmio;
		struct {
			uint64_t deadline;      /* host time of the guest's timer, UINT64_MAX: none */
		} halt;
		struct {
			uint64_t gpa;           /* faulting guest-physical address, or 0 */
			uint64_t pc;            /* guest PC */
			const char *what;       /* static text */
		} fault;
	};
};

/* Enter the vCPU; return with the next exit the core must handle. */
void arch_vcpu_run(struct vcpu *v, struct vm_exit *e);
/* Finish an EXIT_MMIO the core has handled (load result in e->mmio.value). */
void arch_vcpu_complete_mmio(struct vcpu *v, const struct vm_exit *e);
/* Put a vCPU in its power-on state, starting at pc with two boot arguments. */
void arch_vcpu_reset(struct vcpu *v, uint64_t pc, uint64_t arg0, uint64_t arg1);
/* The guest PC of a vCPU (for messages). */
uint64_t arch_vcpu_pc(struct vcpu *v);
/* Print (console_printf) what decides whether the vCPU takes an interrupt:
 * its interrupt enable, pending and in-service state, its timers. */
void arch_vcpu_describe(struct vcpu *v);
/* Raise or lower the vCPU's virtual external interrupt line. */
void arch_vcpu_set_ext_irq(struct vcpu *v, bool level);
/* True when an interrupt the vCPU has enabled is pending (wakes a halt). */
bool arch_vcpu_irq_pending(struct vcpu *v);
/* Host time of the next interrupt the vCPU's own timers (virtual timer,
 * timer devices) raise, UINT64_MAX: none. Asked when it leaves the CPU
 * still runnable, so the core can let it preempt when that time comes. */
uint64_t arch_vcpu_next_event(struct vcpu *v);

/* Per-VM stage-2 translation: set up, then map a region. */
int arch_vm_init(struct vm *vm);
int arch_vm_map(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size);
/* Platform devices the back end builds for a config device it owns (x86:
 * the PC chipset of a "pc" device). 0, or -1 after a message. */
int arch_vm_add_platform(struct vm *vm, const struct cfg_device *d);
/* The interrupt line a device's config `irq` is wired to on this platform. */
struct irq_line arch_vm_irq_line(struct vm *vm, uint32_t irq);
/* Adjust a VM's freshly loaded device tree to the host (e.g. timebase). */
void arch_vm_fixup_dtb(struct vm *vm, void *dtb, uint64_t size);
/* Called when a VM (re)starts: its guest time begins at zero. */
void arch_vm_reset(struct vm *vm);
/* A guest-physical address where the platform has device windows (x86:
 * the PC's legacy and below-4-GiB MMIO holes): an access no device claims
 * there reads all-ones and drops writes instead of stopping the VM. */
bool arch_gpa_in_mmio_hole(struct vm *vm, uint64_t gpa);

/* Host time in ticks, and its frequency. */
#ifndef ARCH_NOW_INLINE         /* else a static inline of the back end */
uint64_t arch_now(void);
#endif
uint64_t arch_ticks_per_sec(void);
/* Program the host timer for the next time the core needs control. */
void arch_set_deadline(uint64_t deadline);
/* Wait for any host interrupt (timer or console) with nothing runnable. */
void arch_idle(void);

/* Host console. */
void arch_console_putc(char c);
int arch_console_getc(void);            /* -1 when nothing is waiting */

/* Stop the machine. failure: report an error to the emulator/firmware. */
__attribute__((noreturn)) void arch_poweroff(bool failure);
__attribute__((noreturn)) void arch_reboot(void);

#endif
