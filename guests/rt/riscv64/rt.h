/*
 * Tessera riscv64 guest runtime: everything a test guest needs, nothing from
 * the hypervisor.  A guest defines
 *     void gmain(unsigned long hartid, const void *fdt);
 * and optionally
 *     void gsecondary(unsigned long hartid, unsigned long opaque);
 * crt0 calls rt_init() before gmain(); when gmain returns the VM is shut down.
 * The architecture-neutral part of the API (printf, bootargs, time, string,
 * rt_vm_id() and the other Tessera services, power) is declared in
 * guests/common/rt_common.h and shared with guests/rt/x86_64.
 */
#ifndef GUEST_RT_H
#define GUEST_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "rt_common.h"
#include "rt_conf.h"
#include "csr.h"
#include "fdt.h"
#include "sbi.h"

/* ---- entry points (provided by the guest) */
void gmain(unsigned long hartid, const void *fdt);
void gsecondary(unsigned long hartid, unsigned long opaque);   /* weak default: hart_stop */

/* ---- symbols from crt0.S / the linker script */
extern char _start[], _secondary[];
extern char __image_start[], __image_end[], _end[];

/* ---- runtime state, filled by rt_init() from the device tree */
struct rt_info {
    const void *fdt;
    const char *vm_name;          /* /chosen/tessera,vm-name or "unknown" */
    const char *bootargs;         /* /chosen/bootargs or "" */
    uint64_t    timebase_hz;      /* /cpus/timebase-frequency or 10 MHz */
    uintptr_t   uart_base;        /* ns16550(a) node, 0 if none */
    unsigned    uart_shift;       /* reg-shift */
    unsigned    uart_width;       /* reg-io-width: 1 or 4 */
    uint64_t    ram_base, ram_size;   /* first /memory reg pair */
    int         ncpus;            /* number of cpu@N nodes under /cpus */
    unsigned long boot_hart;
};
extern struct rt_info rt;

void rt_init(unsigned long hartid, const void *fdt);

static inline unsigned long rt_hartid(void)
{
    unsigned long tp;
    __asm__ volatile("mv %0, tp" : "=r"(tp));
    return tp;
}

/* ---- console: 16550 polled TX (falls back to SBI DBCN / legacy putchar);
 *      printf, bootargs and time helpers: rt_common.h */
static inline uint64_t rt_now(void) { return rdtime(); }

/* ---- traps */
struct trap_frame {
    unsigned long x[32];          /* x[0] unused; x[2] = sp at the time of the trap */
    unsigned long sepc, sstatus, scause, stval;
};
typedef void (*rt_trap_fn)(struct trap_frame *f);
void rt_set_trap_handler(rt_trap_fn fn);       /* NULL = default */
void rt_default_trap(struct trap_frame *f) __noreturn;   /* print + shutdown */
void rt_trap_vector(void);                     /* assembly, installed in stvec */
/* "scause=0x.. sepc=0x.. stval=0x.." into buf (for arch-neutral guests). */
int rt_trap_describe(const struct trap_frame *f, char *buf, size_t n);

/* ---- power (rt_shutdown, rt_reboot(warm) and panic: rt_common.h) */
void rt_hart_stop(void) __noreturn;

#endif
