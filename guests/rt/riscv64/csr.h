/* CSR access and bit definitions for S-mode guests. */
#ifndef GUEST_RT_CSR_H
#define GUEST_RT_CSR_H

#define csr_read(csr) ({ unsigned long __v; \
    __asm__ volatile("csrr %0, " #csr : "=r"(__v) :: "memory"); __v; })
#define csr_write(csr, val) ({ unsigned long __v = (unsigned long)(val); \
    __asm__ volatile("csrw " #csr ", %0" :: "rK"(__v) : "memory"); })
#define csr_set(csr, val) ({ unsigned long __v = (unsigned long)(val); \
    __asm__ volatile("csrs " #csr ", %0" :: "rK"(__v) : "memory"); })
#define csr_clear(csr, val) ({ unsigned long __v = (unsigned long)(val); \
    __asm__ volatile("csrc " #csr ", %0" :: "rK"(__v) : "memory"); })

#define SSTATUS_SIE   (1UL << 1)
#define SSTATUS_SPIE  (1UL << 5)
#define SSTATUS_SPP   (1UL << 8)

#define IRQ_S_SOFT    1
#define IRQ_S_TIMER   5
#define IRQ_S_EXT     9
#define SIE_SSIE      (1UL << IRQ_S_SOFT)
#define SIE_STIE      (1UL << IRQ_S_TIMER)
#define SIE_SEIE      (1UL << IRQ_S_EXT)
#define SIP_SSIP      SIE_SSIE
#define SIP_STIP      SIE_STIE
#define SIP_SEIP      SIE_SEIE

#define SCAUSE_INTR   (1UL << 63)
#define SCAUSE_SSI    (SCAUSE_INTR | IRQ_S_SOFT)   /* 0x8000000000000001 */
#define SCAUSE_STI    (SCAUSE_INTR | IRQ_S_TIMER)  /* 0x8000000000000005 */
#define SCAUSE_SEI    (SCAUSE_INTR | IRQ_S_EXT)

static inline unsigned long rdtime(void)
{
    unsigned long t;
    __asm__ volatile("rdtime %0" : "=r"(t));
    return t;
}

static inline unsigned long rdinstret(void)
{
    unsigned long t;
    __asm__ volatile("rdinstret %0" : "=r"(t));
    return t;
}

static inline unsigned long rdcycle(void)
{
    unsigned long t;
    __asm__ volatile("rdcycle %0" : "=r"(t));
    return t;
}

static inline void wfi(void) { __asm__ volatile("wfi" ::: "memory"); }
static inline void irq_enable(void)  { csr_set(sstatus, SSTATUS_SIE); }
static inline void irq_disable(void) { csr_clear(sstatus, SSTATUS_SIE); }

#endif
