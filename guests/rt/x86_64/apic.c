/*
 * Local APIC (xAPIC MMIO page or x2APIC MSRs) and IOAPIC helpers for the
 * x86 test guests (pc.h).
 */
#include "rt.h"
#include "pc.h"

#define APIC_BASE_BSP  (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN   (1ull << 11)

enum lapic_mode lapic_mode;

int lapic_enable(enum lapic_mode want, uint8_t spurious_vector, const char **why)
{
    uint32_t r[4];
    uint64_t base;

    cpuid(1, 0, r);
    if (want == LAPIC_X2APIC && !(r[2] & CPUID1_ECX_X2APIC)) {
        *why = "x2apic not advertised (cpuid 1 ecx bit 21)";
        return -1;
    }
    if (rt_rdmsr_safe(MSR_IA32_APIC_BASE, &base)) {
        *why = "rdmsr IA32_APIC_BASE raised #GP";
        return -1;
    }
    /* xAPIC first when disabled (always a legal transition), then EXTD */
    if (!(base & APIC_BASE_EN)) {
        base |= APIC_BASE_EN;
        if (rt_wrmsr_safe(MSR_IA32_APIC_BASE, base)) {
            *why = "wrmsr IA32_APIC_BASE (enable) raised #GP";
            return -1;
        }
    }
    if (want == LAPIC_X2APIC && !(base & APIC_BASE_EXTD)) {
        base |= APIC_BASE_EXTD;
        if (rt_wrmsr_safe(MSR_IA32_APIC_BASE, base)) {
            *why = "wrmsr IA32_APIC_BASE (x2apic) raised #GP";
            return -1;
        }
    }
    if (want == LAPIC_XAPIC && (base & APIC_BASE_EXTD)) {
        *why = "the apic is in x2apic mode already";
        return -1;
    }
    uint64_t now;
    if (rt_rdmsr_safe(MSR_IA32_APIC_BASE, &now) ||
        !(now & APIC_BASE_EN) || (want == LAPIC_X2APIC) != !!(now & APIC_BASE_EXTD)) {
        *why = "IA32_APIC_BASE did not keep the mode written";
        return -1;
    }
    lapic_mode = want;
    if (want == LAPIC_X2APIC) {
        uint64_t svr;
        if (rt_rdmsr_safe(MSR_X2APIC(LAPIC_SVR), &svr) ||
            rt_wrmsr_safe(MSR_X2APIC(LAPIC_SVR), LAPIC_SVR_ENABLE | spurious_vector)) {
            lapic_mode = LAPIC_OFF;
            *why = "x2apic SVR access raised #GP";
            return -1;
        }
    } else {
        lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | spurious_vector);
    }
    lapic_write(LAPIC_TPR, 0);
    return 0;
}

uint32_t lapic_read(unsigned reg)
{
    if (lapic_mode == LAPIC_X2APIC)
        return (uint32_t)rdmsr(MSR_X2APIC(reg));
    return mmio_read32(LAPIC_XAPIC_BASE + reg);
}

void lapic_write(unsigned reg, uint32_t v)
{
    if (lapic_mode == LAPIC_X2APIC)
        wrmsr(MSR_X2APIC(reg), v);
    else
        mmio_write32(LAPIC_XAPIC_BASE + reg, v);
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

uint32_t lapic_id(void)
{
    uint32_t id = lapic_read(LAPIC_ID);
    return lapic_mode == LAPIC_X2APIC ? id : id >> 24;
}

void lapic_self_ipi(uint8_t vector)
{
    if (lapic_mode == LAPIC_X2APIC) {
        wrmsr(MSR_X2APIC(LAPIC_SELF_IPI), vector);
    } else {
        /* fixed, edge, shorthand self */
        mmio_write32(LAPIC_XAPIC_BASE + LAPIC_ICR_HI, 0);
        mmio_write32(LAPIC_XAPIC_BASE + LAPIC_ICR, 1u << 18 | vector);
    }
}

uint32_t ioapic_read(unsigned reg)
{
    mmio_write32(IOAPIC_BASE, reg);
    return mmio_read32(IOAPIC_BASE + 0x10);
}

void ioapic_write(unsigned reg, uint32_t v)
{
    mmio_write32(IOAPIC_BASE, reg);
    mmio_write32(IOAPIC_BASE + 0x10, v);
}

void ioapic_route(unsigned pin, uint8_t vector, uint32_t apic_id, int masked)
{
    /* mask first so a half-written entry never delivers */
    ioapic_write(IOAPIC_RTE(pin), IOAPIC_RTE_MASKED);
    ioapic_write(IOAPIC_RTE(pin) + 1, (apic_id & 0xff) << 24);
    ioapic_write(IOAPIC_RTE(pin), vector | (masked ? IOAPIC_RTE_MASKED : 0));
}
