/*
 * Local APIC model, one instance per vCPU: the x2APIC programming model
 * through MSR accessors and the xAPIC one through a 4 KiB MMIO window,
 * both over the same register state.
 *
 *   lapic_rdmsr/lapic_wrmsr  IA32_APIC_BASE (0x1b), IA32_TSC_DEADLINE
 *                            (0x6e0) and, in x2APIC mode, 0x800-0x8ff.
 *                            -1 means "raise #GP" (unknown MSR, x2APIC MSR
 *                            outside x2APIC mode, read of a write-only or
 *                            write of a read-only register, reserved bits,
 *                            illegal APIC_BASE transitions).
 *   lapic_mmio_ops           the xAPIC page (off = addr - lapic_mmio_base()).
 *                            Outside xAPIC mode it reads all-ones and
 *                            ignores writes.
 *
 * Version 0x50014: 6 LVT entries (timer, thermal, perf, LINT0, LINT1,
 * error; no CMCI), no EOI-broadcast suppression.
 *
 * Outside world: send_ipi() gets every IPI the guest sends through ICR or
 * the x2APIC SELF IPI register, self-IPIs included; the hypervisor finds
 * the targets (lapic_match_dest) and calls lapic_set_irq() on them (or
 * starts/INITs vCPUs). eoi() is called with the vector when the guest
 * EOIs a level-triggered interrupt (for the IOAPIC's remote IRR).
 * Time: now_ns() drives the APIC timer (timer_hz input clock before the
 * divider), now_tsc() the TSC-deadline timer (tsc_hz converts TSC ticks
 * into ns for lapic_next_timer_event_ns()).
 */
#ifndef TESSERA_DEVICES_LAPIC_H
#define TESSERA_DEVICES_LAPIC_H

#include "devices/device.h"

#define LAPIC_DEFAULT_BASE 0xfee00000ULL
#define LAPIC_MMIO_SIZE    0x1000ULL
#define LAPIC_NO_EVENT     UINT64_MAX
#define LAPIC_NLVT         6

#define MSR_IA32_APIC_BASE   0x1bu
#define MSR_IA32_TSC_DEADLINE 0x6e0u
#define MSR_X2APIC_FIRST     0x800u
#define MSR_X2APIC_LAST      0x8ffu

#define LAPIC_BASE_BSP  (1ULL << 8)
#define LAPIC_BASE_EXTD (1ULL << 10)
#define LAPIC_BASE_EN   (1ULL << 11)

/* delivery modes (ICR bits 10:8, LVT bits 10:8) */
#define LAPIC_DM_FIXED  0
#define LAPIC_DM_LOWEST 1
#define LAPIC_DM_SMI    2
#define LAPIC_DM_NMI    4
#define LAPIC_DM_INIT   5
#define LAPIC_DM_SIPI   6
#define LAPIC_DM_EXTINT 7

/* destination shorthands (ICR bits 19:18) */
#define LAPIC_SH_NONE   0
#define LAPIC_SH_SELF   1
#define LAPIC_SH_ALL    2       /* all including self */
#define LAPIC_SH_OTHERS 3       /* all excluding self */

/* LVT indices */
#define LAPIC_LVT_TIMER   0
#define LAPIC_LVT_THERMAL 1
#define LAPIC_LVT_PERF    2
#define LAPIC_LVT_LINT0   3
#define LAPIC_LVT_LINT1   4
#define LAPIC_LVT_ERROR   5

/* An IPI as decoded from the ICR. */
struct lapic_ipi {
	uint32_t dest;          /* x2APIC: 32-bit; xAPIC: ICR bits 63:56 */
	uint32_t src_id;        /* APIC ID of the sender */
	uint8_t vector;
	uint8_t delivery;       /* LAPIC_DM_* (never 3 or 7: dropped) */
	uint8_t shorthand;      /* LAPIC_SH_* */
	bool logical;           /* destination mode */
	bool level;             /* ICR bit 14 (INIT: assert) */
	bool trigger_level;     /* ICR bit 15 */
};

struct lapic_config {
	uint32_t id;                    /* APIC ID (xAPIC uses the low 8 bits) */
	bool bsp;                       /* APIC_BASE.BSP; LINT0 = ExtINT at reset */
	bool x2apic_supported;          /* APIC_BASE.EXTD may be set */
	bool x2apic_at_reset;           /* start in x2APIC mode (as firmware left it) */
	uint64_t timer_hz;              /* APIC timer input clock (0: 1 GHz) */
	uint64_t tsc_hz;                /* guest TSC frequency (0: 1 GHz) */
	uint64_t (*now_ns)(void *opaque);
	uint64_t (*now_tsc)(void *opaque);      /* NULL: derived from now_ns */
	void (*send_ipi)(void *opaque, const struct lapic_ipi *ipi);
	void (*eoi)(void *opaque, uint8_t vector);
	void *opaque;
};

struct lapic {
	struct lapic_config cfg;        /* wiring, fixed at init */
	/* architectural state */
	uint32_t id;
	uint64_t apic_base;
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr, esr_pending;      /* ESR as read / errors since ESR write */
	uint32_t icr_lo, icr_hi;
	uint32_t isr[8], tmr[8], irr[8];
	uint8_t isr_sum, irr_sum;       /* bit w: isr[w] / irr[w] is not 0 */
	uint32_t lvt[LAPIC_NLVT];
	uint32_t tmict, tdcr;
	uint64_t tsc_deadline;
	/* timer: counts consumed(t) = t_base + (bus(t) - t_start) / divisor */
	bool t_running;
	uint64_t t_start, t_base, t_fired;
	/* statistics */
	uint64_t timer_irqs, ipis_sent, dropped;
};

extern const struct dev_ops lapic_mmio_ops;

void lapic_init(struct lapic *l, const struct lapic_config *cfg);
/* Power-on reset (dev_ops reset): APIC_BASE back to its default too. */
void lapic_reset(void *dev);
/* INIT: like power-on but APIC_BASE (mode, base) and the ID are kept. */
void lapic_init_reset(struct lapic *l);

int lapic_rdmsr(struct lapic *l, uint32_t msr, uint64_t *val);
int lapic_wrmsr(struct lapic *l, uint32_t msr, uint64_t val);
int lapic_mmio_read(void *dev, uint64_t off, unsigned size, uint64_t *val);
int lapic_mmio_write(void *dev, uint64_t off, unsigned size, uint64_t val);

/* Interrupt acceptance: vector into IRR (TMR = level_trigger). -1 when
 * dropped (APIC disabled) or illegal (vector < 16: ESR "receive illegal"). */
int lapic_set_irq(struct lapic *l, uint8_t vector, bool level_trigger);
/* Highest IRR vector whose class is above PPR's, or -1. (Inline: an
 * empty IRR, the usual answer at a hypervisor's entry, costs one test.) */
int lapic_pending_vector_slow(const struct lapic *l);
static inline int lapic_pending_vector(const struct lapic *l)
{
	return l && l->irr_sum ? lapic_pending_vector_slow(l) : -1;
}
/* Highest in-service and requested vectors (-1: none) and the PPR. */
void lapic_peek(const struct lapic *l, int *isr, int *irr, uint32_t *prio);
/* Injection of vector: IRR -> ISR. -1 if vector is not in IRR. */
int lapic_ack(struct lapic *l, uint8_t vector);
/* Whether the PIC's INTR reaches this CPU (APIC off, or LINT0 unmasked ExtINT). */
bool lapic_accept_pic_intr(const struct lapic *l);
/* Whether (dest, logical) of an IPI / IOAPIC message selects this APIC. */
bool lapic_match_dest(const struct lapic *l, uint32_t dest, bool logical);

/* now_ns time of the next timer expiry (unmasked timer only), or LAPIC_NO_EVENT. */
uint64_t lapic_next_timer_event_ns(struct lapic *l);
/* Guest TSC (now_tsc) at which lapic_timer_update() next has work, or
 * LAPIC_NO_EVENT: until then calling it changes nothing. For a hypervisor
 * whose now_ns is floor(tsc * 1e9 / tsc_hz) it is exact (the first such
 * tick). */
uint64_t lapic_timer_due_tsc_slow(const struct lapic *l);
static inline uint64_t lapic_timer_due_tsc(const struct lapic *l)
{
	uint32_t lvt = l ? l->lvt[LAPIC_LVT_TIMER] : 0x10000u;

	if (lvt & 0x10000u)                             /* masked (or no LAPIC) */
		return LAPIC_NO_EVENT;
	if (((lvt >> 17) & 3) == 2)                     /* TSC-deadline mode */
		return l->tsc_deadline ? l->tsc_deadline : LAPIC_NO_EVENT;
	return lapic_timer_due_tsc_slow(l);
}
/* Fire the timer if it expired (injects its LVT vector unless masked). */
void lapic_timer_update(struct lapic *l);

/* TPR for CR8 accesses (CR8 = TPR >> 4). */
uint8_t lapic_get_tpr(const struct lapic *l);
void lapic_set_tpr(struct lapic *l, uint8_t tpr);
bool lapic_x2apic_mode(const struct lapic *l);
bool lapic_xapic_mode(const struct lapic *l);
/* Guest-physical base of the xAPIC page (APIC_BASE bits 51:12). */
uint64_t lapic_mmio_base(const struct lapic *l);

#endif
