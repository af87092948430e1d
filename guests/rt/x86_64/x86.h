/* x86-64 instructions for Tessera's x86 test guests (port I/O, MSRs, CPUID,
 * control registers, TSC, interrupt flag). */
#ifndef GUEST_RT_X86_H
#define GUEST_RT_X86_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)  { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port) : "memory"); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port) : "memory"); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port) : "memory"); }

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
    return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* r[0..3] = EAX, EBX, ECX, EDX of CPUID leaf/subleaf */
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
    return (uint64_t)hi << 32 | lo;
}

#define read_cr(n) ({ uint64_t __v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(__v) :: "memory"); __v; })
#define write_cr(n, v) __asm__ volatile("mov %0, %%cr" #n :: "r"((uint64_t)(v)) : "memory")

static inline uint64_t read_rflags(void)
{
    uint64_t f;
    __asm__ volatile("pushfq; popq %0" : "=r"(f) :: "memory");
    return f;
}

#define RFLAGS_IF (1UL << 9)

static inline void irq_enable(void)  { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void hlt(void)         { __asm__ volatile("hlt" ::: "memory"); }
/* sti;hlt: the STI shadow makes an interrupt that is already pending wake
 * the HLT instead of being taken before it (no lost wake-up). */
static inline void safe_halt(void)   { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void cpu_relax(void)   { __asm__ volatile("pause" ::: "memory"); }

/* the same spelling as riscv64 csr.h, for arch-neutral guest code */
static inline void wfi(void) { hlt(); }

/* MSRs and CPUID bits the runtime and guests use */
#define MSR_IA32_APIC_BASE  0x1bu
#define MSR_IA32_TSC_DEADLINE 0x6e0u
#define MSR_EFER            0xc0000080u
#define MSR_X2APIC(off)     (0x800u + ((off) >> 4))     /* xAPIC MMIO offset -> x2APIC MSR */
#define CPUID1_ECX_X2APIC   (1u << 21)
#define CPUID1_ECX_TSCDL    (1u << 24)
#define CPUID1_ECX_HV       (1u << 31)
#define CPUID1_EDX_APIC     (1u << 9)

#endif
