/*
 * Tessera x86_64 guest runtime: everything a test guest needs, nothing from
 * the hypervisor. The x86 twin of guests/rt/riscv64/rt.h. A guest defines
 *     void gmain(unsigned long hartid, const void *bootinfo);
 * (hartid = the vCPU id from ESI at entry; bootinfo = the boot info block
 * from EBX, or NULL when EAX did not carry the "TESS" magic).
 * crt0 switches to long mode, calls rt_init() and then gmain(); when gmain
 * returns the VM is shut down.
 * The architecture-neutral part of the API (printf, bootargs, time, string,
 * rt_vm_id() and the other Tessera services, power) is declared in
 * guests/common/rt_common.h and shared with guests/rt/riscv64.
 */
#ifndef GUEST_RT_H
#define GUEST_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "rt_common.h"
#include "rt_conf.h"
#include "bootinfo.h"
#include "x86.h"

/* ---- entry point (provided by the guest) */
void gmain(unsigned long hartid, const void *bootinfo);

/* ---- symbols from crt0.S / the linker script */
extern char _start[];
extern char __image_start[], __image_end[], _end[];
extern char __stacks_start[], __stacks_end[];

/* ---- runtime state, filled by rt_init() from the boot info and CPUID */
struct rt_info {
    const struct tessera_bootinfo *bootinfo;   /* NULL: none (or a bad one) */
    const char *vm_name;          /* boot info name or "unknown" */
    const char *bootargs;         /* boot info bootargs or "" */
    uint64_t    timebase_hz;      /* TSC frequency: see timebase_src */
    const char *timebase_src;     /* "cpuid" (leaf 0x40000001), "pit" (calibrated), "default" */
    uint16_t    uart_port;        /* console 16550 I/O base; 0: no console */
    uint8_t     uart_irq;
    uint64_t    ram_base, ram_size;   /* first RAM region (boot info), 0/0 if unknown */
    int         ncpus;            /* vCPUs of the VM (boot info), 0 if unknown */
    unsigned long boot_hart;      /* vCPU id from ESI at entry */
    unsigned    vm_index;         /* boot info vm_index */
    int         tessera;          /* CPUID 0x40000000 says "TesseraVMM" */
    int         amd;              /* hypercall instruction: 1 vmmcall, 0 vmcall */
    char        vendor[13];       /* CPUID leaf 0 vendor string */
};
extern struct rt_info rt;

void rt_init(unsigned long cpu, uint32_t magic, uint32_t bootinfo);

/* vCPU id of the caller: derived from which runtime stack it runs on
 * (crt0 gives vCPU n the n-th stack), so it needs no per-CPU register. */
static inline unsigned long rt_hartid(void)
{
    uintptr_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    return (sp - (uintptr_t)__stacks_start) >> RT_STACK_SHIFT;
}

/* ---- console: polled 16550 TX at rt.uart_port (printf etc.: rt_common.h) */

/* ---- time: the TSC, at rt.timebase_hz */
static inline uint64_t rt_now(void) { return rdtsc(); }

/* ---- hypercalls: VMMCALL (AMD) / VMCALL (Intel), function in RAX, result
 * in RAX, every other register preserved. Not under Tessera (no
 * "TesseraVMM" CPUID signature) nothing is executed and the result is
 * RT_HC_UNSUPPORTED, so the guests also run on bare hardware / QEMU. */
#define RT_HC_VM_ID        0
#define RT_HC_VCPU_ID      1
#define RT_HC_YIELD        2
#define RT_HC_RESTARTS     3
#define RT_HC_SHUTDOWN     4    /* does not return */
#define RT_HC_REBOOT       5    /* does not return */
#define RT_HC_UNSUPPORTED  ((uint64_t)-2)

static inline uint64_t rt_hypercall_insn_raw(uint64_t fn)
{
    if (rt.amd)
        __asm__ volatile("vmmcall" : "+a"(fn) :: "memory");
    else
        __asm__ volatile("vmcall" : "+a"(fn) :: "memory");
    return fn;
}

static inline uint64_t rt_hypercall(uint64_t fn)
{
    return rt.tessera ? rt_hypercall_insn_raw(fn) : RT_HC_UNSUPPORTED;
}

/* "vmmcall" or "vmcall" */
static inline const char *rt_hypercall_insn(void) { return rt.amd ? "vmmcall" : "vmcall"; }

/* ---- traps: a 64-bit IDT with all 256 vectors; every one saves the GPRs in
 * a struct trap_frame and calls the handler installed with
 * rt_set_trap_handler() (the one handler sees exceptions and interrupts
 * alike, like riscv64's stvec). A handler may change any field, rip
 * included (e.g. to skip a faulting instruction); iretq uses them. */
struct trap_frame {
    uint64_t cr2;                 /* read at entry (meaningful for #PF) */
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;       /* error = 0 for vectors without an error code */
    uint64_t rip, cs, rflags, rsp, ss;     /* pushed by the CPU */
};
typedef void (*rt_trap_fn)(struct trap_frame *f);
void rt_set_trap_handler(rt_trap_fn fn);       /* NULL = default */
void rt_default_trap(struct trap_frame *f) __noreturn;   /* print + shutdown */
/* "vector=<v> error=0x.. rip=0x.. cr2=0x.." into buf (for arch-neutral guests). */
int rt_trap_describe(const struct trap_frame *f, char *buf, size_t n);
const char *rt_vector_name(unsigned long vector);  /* "#PF", ..., "irq" for >= 32 */
extern char rt_isr_stubs[];                    /* trap.S: 256 stubs, 16 bytes apart */

#define RT_VEC_DE  0
#define RT_VEC_UD  6
#define RT_VEC_GP 13
#define RT_VEC_PF 14

/* ---- power: rt_shutdown/rt_reboot (rt_common.h) use the hypercalls under
 * Tessera; elsewhere the QEMU/Bochs ACPI power-off ports, and the 0xcf9 /
 * keyboard controller / triple-fault resets. */
void rt_halt_forever(void) __noreturn;         /* cli; hlt forever */

#endif
