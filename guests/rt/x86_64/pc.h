/*
 * The PC chipset as x86 test guests program it: 8259 PICs, 8254 PIT,
 * CMOS/RTC, PCI configuration mechanism #1, the 16550's registers, the
 * local APIC (xAPIC MMIO or x2APIC MSRs) and the IOAPIC.
 * Port helpers are inline; the APIC helpers live in apic.c.
 */
#ifndef GUEST_RT_PC_H
#define GUEST_RT_PC_H

#include <stdint.h>
#include "x86.h"

/* ---- 8259A pair */
#define PIC_M_CMD   0x20
#define PIC_M_DATA  0x21
#define PIC_S_CMD   0xa0
#define PIC_S_DATA  0xa1
#define PIC_ELCR1   0x4d0
#define PIC_ELCR2   0x4d1
#define PIC_EOI     0x20        /* OCW2 non-specific EOI */
#define PIC_READ_IRR 0x0a       /* OCW3 */
#define PIC_READ_ISR 0x0b
#define PIC_POLL    0x0c

/* ICW1-4 for both chips: master vectors base_m.., slave base_s.., cascade on
 * IR2, 8086 mode, normal EOI; then mask = IMRs (low byte master). */
static inline void pic_init(uint8_t base_m, uint8_t base_s, uint16_t mask)
{
    outb(PIC_M_CMD, 0x11);
    outb(PIC_S_CMD, 0x11);
    outb(PIC_M_DATA, base_m);
    outb(PIC_S_DATA, base_s);
    outb(PIC_M_DATA, 0x04);
    outb(PIC_S_DATA, 0x02);
    outb(PIC_M_DATA, 0x01);
    outb(PIC_S_DATA, 0x01);
    outb(PIC_M_DATA, (uint8_t)mask);
    outb(PIC_S_DATA, (uint8_t)(mask >> 8));
}

static inline void pic_mask(uint16_t mask)
{
    outb(PIC_M_DATA, (uint8_t)mask);
    outb(PIC_S_DATA, (uint8_t)(mask >> 8));
}

static inline uint8_t pic_read_reg(uint16_t cmd_port, uint8_t ocw3)
{
    outb(cmd_port, ocw3);
    return inb(cmd_port);
}

/* ---- 8254 PIT */
#define PIT_CH0     0x40
#define PIT_CH2     0x42
#define PIT_CMD     0x43
#define PIT_PORT61  0x61
#define PIT_HZ      1193182ull

/* control word: channel ch, LSB then MSB, mode m, binary */
static inline void pit_program(unsigned ch, unsigned mode, uint16_t count)
{
    outb(PIT_CMD, (uint8_t)(ch << 6 | 0x30 | mode << 1));
    outb((uint16_t)(PIT_CH0 + ch), (uint8_t)count);
    outb((uint16_t)(PIT_CH0 + ch), (uint8_t)(count >> 8));
}

/* counter latch command, then LSB and MSB of the latched value */
static inline uint16_t pit_latch_read(unsigned ch)
{
    outb(PIT_CMD, (uint8_t)(ch << 6));
    uint8_t lo = inb((uint16_t)(PIT_CH0 + ch));
    uint8_t hi = inb((uint16_t)(PIT_CH0 + ch));
    return (uint16_t)(hi << 8 | lo);
}

/* ---- CMOS / RTC */
#define CMOS_INDEX  0x70
#define CMOS_DATA   0x71

static inline uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

static inline void cmos_write(uint8_t reg, uint8_t v)
{
    outb(CMOS_INDEX, reg);
    outb(CMOS_DATA, v);
}

/* ---- PCI configuration mechanism #1 */
#define PCI_CONFIG_ADDR 0xcf8
#define PCI_CONFIG_DATA 0xcfc

static inline uint32_t pci_cfg_read32(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    outl(PCI_CONFIG_ADDR, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc));
    return inl(PCI_CONFIG_DATA);
}

/* ---- 16550 registers (offsets from the base port) */
#define UART_RBR 0      /* read, DLAB = 0 */
#define UART_THR 0      /* write, DLAB = 0 */
#define UART_DLL 0      /* DLAB = 1 */
#define UART_IER 1
#define UART_DLM 1      /* DLAB = 1 */
#define UART_IIR 2      /* read */
#define UART_FCR 2      /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7
#define UART_LSR_DR   0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_MCR_LOOP 0x10

/* ---- local APIC (apic.c). Registers are named by their xAPIC MMIO
 * offset; in x2APIC mode the MSR is 0x800 + offset / 16. */
#define LAPIC_ID      0x020
#define LAPIC_VER     0x030
#define LAPIC_TPR     0x080
#define LAPIC_EOI     0x0b0
#define LAPIC_LDR     0x0d0
#define LAPIC_SVR     0x0f0
#define LAPIC_ISR     0x100     /* + 0x10 * n, n = 0..7 */
#define LAPIC_TMR     0x180
#define LAPIC_IRR     0x200
#define LAPIC_ESR     0x280
#define LAPIC_ICR     0x300     /* x2APIC: one 64-bit MSR 0x830 */
#define LAPIC_ICR_HI  0x310     /* xAPIC only */
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TMICT   0x380
#define LAPIC_TMCCT   0x390
#define LAPIC_TDCR    0x3e0
#define LAPIC_SELF_IPI 0x3f0    /* x2APIC only */
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_LVT_PERIODIC (1u << 17)
#define LAPIC_SVR_ENABLE (1u << 8)
#define LAPIC_XAPIC_BASE 0xfee00000ul

enum lapic_mode { LAPIC_OFF = 0, LAPIC_XAPIC = 1, LAPIC_X2APIC = 2 };
extern enum lapic_mode lapic_mode;

/* Switch the local APIC on in the wanted mode (IA32_APIC_BASE: EN, then
 * EXTD for x2APIC) and software-enable it (SVR = enable | spurious vector).
 * 0 on success; -1 with *why set when the mode is not available (x2APIC not
 * in CPUID, or an MSR write refused with #GP). */
int lapic_enable(enum lapic_mode want, uint8_t spurious_vector, const char **why);
uint32_t lapic_read(unsigned reg);
void lapic_write(unsigned reg, uint32_t v);
void lapic_eoi(void);
uint32_t lapic_id(void);                /* full x2APIC ID, or xAPIC ID bits 31:24 */
void lapic_self_ipi(uint8_t vector);

/* ---- IOAPIC (MMIO at 0xfec00000: IOREGSEL +0x00, IOWIN +0x10) */
#define IOAPIC_BASE   0xfec00000ul
#define IOAPIC_ID     0x00
#define IOAPIC_VER    0x01
#define IOAPIC_RTE(p) (0x10 + 2 * (p))          /* low half; +1 high half */
#define IOAPIC_RTE_MASKED (1u << 16)
#define IOAPIC_RTE_LEVEL  (1u << 15)

uint32_t ioapic_read(unsigned reg);
void ioapic_write(unsigned reg, uint32_t v);
/* pin -> vector, fixed delivery, physical destination apic id, edge, active high */
void ioapic_route(unsigned pin, uint8_t vector, uint32_t apic_id, int masked);

/* ---- MMIO with plain MOVs (the forms a hypervisor's decoder expects) */
static inline uint32_t mmio_read32(uintptr_t a)
{
    uint32_t v;
    __asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(a) : "memory");
    return v;
}

static inline void mmio_write32(uintptr_t a, uint32_t v)
{
    __asm__ volatile("movl %0, (%1)" :: "r"(v), "r"(a) : "memory");
}

/* ---- MSR accesses that may #GP: 0 ok, -1 if the CPU raised #GP
 * (recovered by the runtime's trap dispatcher, see rt.c). */
int rt_rdmsr_safe(uint32_t msr, uint64_t *val);
int rt_wrmsr_safe(uint32_t msr, uint64_t val);

#endif
