/*
 * Local APIC model (xAPIC MMIO + x2APIC MSRs). See devices/lapic.h for
 * the interface and docs/devices.md for what is and is not emulated.
 *
 * Registers are indexed by "reg" = xAPIC offset >> 4 = x2APIC MSR - 0x800.
 * One read and one write routine serve both views; the few differences
 * (ID/LDR format, DFR/APR/ICR2 only in xAPIC, 64-bit ICR, SELF IPI, #GP
 * on read-only/write-only registers) are decided by the `x2` flag.
 *
 * The APIC timer counts from the global bus clock
 * bus(t) = floor(now_ns * timer_hz / 1e9): consumed(t) = t_base +
 * (bus(t) - t_start) / divisor. Expiry k (k = t_fired + 1) happens when
 * consumed reaches k * tmict; a one-shot timer stops after it, a periodic
 * one goes on (missed periods are coalesced into one interrupt).
 */
#include "devices/lapic.h"

#define NS_PER_SEC 1000000000ULL
#define HZ_MIN     1000ULL
#define HZ_MAX     10000000000ULL       /* keeps muldiv() exact */

#define LAPIC_VERSION 0x00050014u       /* max LVT 5 (6 entries), version 0x14 */

/* register indices (xAPIC offset >> 4) */
#define R_ID     0x02
#define R_VER    0x03
#define R_TPR    0x08
#define R_APR    0x09
#define R_PPR    0x0a
#define R_EOI    0x0b
#define R_RRD    0x0c
#define R_LDR    0x0d
#define R_DFR    0x0e
#define R_SVR    0x0f
#define R_ISR    0x10
#define R_TMR    0x18
#define R_IRR    0x20
#define R_ESR    0x28
#define R_CMCI   0x2f
#define R_ICR    0x30
#define R_ICR2   0x31
#define R_LVT    0x32   /* 0x32..0x37 */
#define R_TMICT  0x38
#define R_TMCCT  0x39
#define R_TDCR   0x3e
#define R_SELF   0x3f

#define SVR_ENABLE   0x100u
#define SVR_MASK     0x3ffu     /* vector, enable, focus */
#define LVT_MASKED   0x10000u
#define LVT_DM(v)    (((v) >> 8) & 7)
#define TIMER_MODE(v) (((v) >> 17) & 3)
#define TIMER_ONESHOT  0
#define TIMER_PERIODIC 1
#define TIMER_DEADLINE 2
#define TDCR_MASK    0xbu
#define ESR_SEND_ILLEGAL 0x20u
#define ESR_RECV_ILLEGAL 0x40u

#define ICR_LO_MASK  0x000ccfffu        /* vector, DM, dest mode, level, trigger, shorthand */
#define BASE_ADDR_MASK 0x000ffffffffff000ULL
#define BASE_RSVD    (~(BASE_ADDR_MASK | LAPIC_BASE_BSP | LAPIC_BASE_EXTD | LAPIC_BASE_EN))

static const uint32_t lvt_mask[LAPIC_NLVT] = {
	0x000700ffu,    /* timer: vector, mask, mode */
	0x000107ffu,    /* thermal: vector, DM, mask */
	0x000107ffu,    /* perf */
	0x0001a7ffu,    /* LINT0: vector, DM, polarity, trigger, mask */
	0x0001a7ffu,    /* LINT1 */
	0x000100ffu,    /* error: vector, mask */
};

/* ------------------------------------------------------------ helpers */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return (b && a > UINT64_MAX / b) ? UINT64_MAX : a * b;
}

/* floor or ceil of a * mul / div; exact while (div - 1) * mul < 2^64. */
static uint64_t muldiv(uint64_t a, uint64_t mul, uint64_t div, bool up)
{
	uint64_t q = a / div, r = a % div;
	uint64_t lo = (r * mul + (up ? div - 1 : 0)) / div;

	return sat_add(sat_mul(q, mul), lo);
}

static uint64_t now_ns(const struct lapic *l)
{
	return l->cfg.now_ns ? l->cfg.now_ns(l->cfg.opaque) : 0;
}

static uint64_t now_tsc(const struct lapic *l)
{
	if (l->cfg.now_tsc)
		return l->cfg.now_tsc(l->cfg.opaque);
	return muldiv(now_ns(l), l->cfg.tsc_hz, NS_PER_SEC, false);
}

static uint64_t bus_now(const struct lapic *l)
{
	return muldiv(now_ns(l), l->cfg.timer_hz, NS_PER_SEC, false);
}

/* Highest set vector in a 256-bit register whose non-empty words are the
 * bits of sum, or -1: the word by count-leading-zeros (bsr/lzcnt) of the
 * summary, the bit by the same on the word; no loop at all. */
static int vec_highest(const uint32_t *r, uint8_t sum)
{
	unsigned w;

	if (!sum)
		return -1;
	w = 31u - (unsigned)__builtin_clz(sum);
	return (int)(w * 32u + 31u - (unsigned)__builtin_clz(r[w]));
}

static bool vec_test(const uint32_t *r, uint8_t v)
{
	return (r[v >> 5] >> (v & 31)) & 1;
}

/* IRR and ISR change only here, with their summaries (bit w: word w is
 * not empty). */
static void vec_set(uint32_t *r, uint8_t *sum, uint8_t v)
{
	r[v >> 5] |= 1u << (v & 31);
	*sum |= (uint8_t)(1u << (v >> 5));
}

static void vec_clear(uint32_t *r, uint8_t *sum, uint8_t v)
{
	r[v >> 5] &= ~(1u << (v & 31));
	if (!r[v >> 5])
		*sum &= (uint8_t)~(1u << (v >> 5));
}

static bool hw_enabled(const struct lapic *l)
{
	return (l->apic_base & LAPIC_BASE_EN) != 0;
}

static bool sw_enabled(const struct lapic *l)
{
	return (l->svr & SVR_ENABLE) != 0;
}

bool lapic_x2apic_mode(const struct lapic *l)
{
	return l && hw_enabled(l) && (l->apic_base & LAPIC_BASE_EXTD);
}

bool lapic_xapic_mode(const struct lapic *l)
{
	return l && hw_enabled(l) && !(l->apic_base & LAPIC_BASE_EXTD);
}

uint64_t lapic_mmio_base(const struct lapic *l)
{
	return l ? l->apic_base & BASE_ADDR_MASK : LAPIC_DEFAULT_BASE;
}

static uint32_t ppr(const struct lapic *l)
{
	int isrv = vec_highest(l->isr, l->isr_sum);
	uint32_t isr_class = isrv < 0 ? 0 : ((uint32_t)isrv & 0xf0);

	return (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
}

/* For `vm info`: the highest vector in service and requested (-1: none)
 * and the processor priority, what decides whether an interrupt is taken. */
void lapic_peek(const struct lapic *l, int *isr, int *irr, uint32_t *prio)
{
	*isr = vec_highest(l->isr, l->isr_sum);
	*irr = vec_highest(l->irr, l->irr_sum);
	*prio = ppr(l);
}

/* x2APIC logical ID: cluster = id[31:4], bit id[3:0] in the low 16 bits. */
static uint32_t x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

/* ------------------------------------------------------------ interrupts */

static int accept(struct lapic *l, uint8_t vector, bool level);

/* Record an error; the error LVT interrupts unless masked. */
static void lapic_error(struct lapic *l, uint32_t bits)
{
	uint32_t lvt = l->lvt[LAPIC_LVT_ERROR];

	l->esr_pending |= bits;
	if (!(lvt & LVT_MASKED) && (lvt & 0xff) >= 16)
		(void)accept(l, (uint8_t)lvt, false);
}

static int accept(struct lapic *l, uint8_t vector, bool level)
{
	if (!hw_enabled(l) || !sw_enabled(l)) {
		l->dropped++;
		return -1;
	}
	if (vector < 16) {
		lapic_error(l, ESR_RECV_ILLEGAL);
		return -1;
	}
	vec_set(l->irr, &l->irr_sum, vector);
	if (level)
		l->tmr[vector >> 5] |= 1u << (vector & 31);
	else
		l->tmr[vector >> 5] &= ~(1u << (vector & 31));
	return 0;
}

int lapic_set_irq(struct lapic *l, uint8_t vector, bool level_trigger)
{
	if (!l)
		return -1;
	return accept(l, vector, level_trigger);
}

int lapic_pending_vector_slow(const struct lapic *l)
{
	int v;

	if (!l || !hw_enabled(l))
		return -1;
	v = vec_highest(l->irr, l->irr_sum);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (ppr(l) & 0xf0))
		return -1;
	return v;
}

int lapic_ack(struct lapic *l, uint8_t vector)
{
	if (!l || !vec_test(l->irr, vector))
		return -1;
	vec_clear(l->irr, &l->irr_sum, vector);
	vec_set(l->isr, &l->isr_sum, vector);
	return 0;
}

static void lapic_eoi(struct lapic *l)
{
	int v = vec_highest(l->isr, l->isr_sum);

	if (v < 0)
		return;
	vec_clear(l->isr, &l->isr_sum, (uint8_t)v);
	if (vec_test(l->tmr, (uint8_t)v) && l->cfg.eoi)
		l->cfg.eoi(l->cfg.opaque, (uint8_t)v);
}

bool lapic_accept_pic_intr(const struct lapic *l)
{
	uint32_t lint0;

	if (!l)
		return false;
	if (!hw_enabled(l))
		return true;
	lint0 = l->lvt[LAPIC_LVT_LINT0];
	return !(lint0 & LVT_MASKED) && LVT_DM(lint0) == LAPIC_DM_EXTINT;
}

bool lapic_match_dest(const struct lapic *l, uint32_t dest, bool logical)
{
	uint32_t d8 = dest & 0xff, ldr8;

	if (!l || !hw_enabled(l))
		return false;
	if (lapic_x2apic_mode(l)) {
		if (dest == 0xffffffffu)
			return true;
		if (!logical)
			return dest == l->id;
		return (dest >> 16) == (l->ldr >> 16) && (dest & l->ldr & 0xffff);
	}
	if (d8 == 0xff)
		return true;
	if (!logical)
		return d8 == (l->id & 0xff);
	ldr8 = l->ldr >> 24;
	if ((l->dfr >> 28) == 0xf)              /* flat model */
		return (ldr8 & d8) != 0;
	return (d8 >> 4) == (ldr8 >> 4) && (d8 & ldr8 & 0xf);   /* cluster */
}

static void lapic_send_icr(struct lapic *l, uint32_t lo, uint32_t dest)
{
	struct lapic_ipi ipi;

	ipi.vector = (uint8_t)lo;
	ipi.delivery = (uint8_t)LVT_DM(lo);
	ipi.logical = (lo >> 11) & 1;
	ipi.level = (lo >> 14) & 1;
	ipi.trigger_level = (lo >> 15) & 1;
	ipi.shorthand = (uint8_t)((lo >> 18) & 3);
	/* a self-IPI names its sender whatever the ICR's destination says */
	ipi.dest = ipi.shorthand == LAPIC_SH_SELF ? l->id : dest;
	ipi.src_id = l->id;
	switch (ipi.delivery) {
	case LAPIC_DM_FIXED:
	case LAPIC_DM_LOWEST:
		if (ipi.vector < 16) {
			lapic_error(l, ESR_SEND_ILLEGAL);
			return;
		}
		break;
	case LAPIC_DM_INIT:
		if (!ipi.level && ipi.trigger_level)
			return;         /* INIT level de-assert: no effect */
		break;
	case 3:
	case LAPIC_DM_EXTINT:
		return;                 /* reserved for IPIs */
	default:
		break;
	}
	if (ipi.shorthand == LAPIC_SH_SELF && ipi.delivery != LAPIC_DM_FIXED)
		return;                 /* only fixed self-IPIs are defined */
	l->ipis_sent++;
	if (l->cfg.send_ipi)
		l->cfg.send_ipi(l->cfg.opaque, &ipi);
}

/* ------------------------------------------------------------ timer */

static unsigned timer_mode(const struct lapic *l)
{
	unsigned m = TIMER_MODE(l->lvt[LAPIC_LVT_TIMER]);

	return m == TIMER_PERIODIC || m == TIMER_DEADLINE ? m : TIMER_ONESHOT;
}

static uint64_t divisor(const struct lapic *l)
{
	unsigned v = ((l->tdcr & 8) >> 1) | (l->tdcr & 3);

	return v == 7 ? 1 : 2ULL << v;
}

static uint64_t consumed(const struct lapic *l, uint64_t bus)
{
	return l->t_base + (bus > l->t_start ? bus - l->t_start : 0) / divisor(l);
}

/* Bus tick at which expiry t_fired + 1 happens. */
static uint64_t next_expiry_bus(const struct lapic *l)
{
	uint64_t target = sat_mul(l->t_fired + 1, l->tmict);

	if (target <= l->t_base)
		return l->t_start;
	return sat_add(l->t_start, sat_mul(target - l->t_base, divisor(l)));
}

static uint32_t current_count(const struct lapic *l)
{
	uint64_t c, target;

	if (!l->t_running || l->tmict == 0 || timer_mode(l) == TIMER_DEADLINE)
		return 0;
	c = consumed(l, bus_now(l));
	if (timer_mode(l) == TIMER_PERIODIC)
		return l->tmict - (uint32_t)(c % l->tmict);
	target = sat_mul(l->t_fired + 1, l->tmict);
	return c >= target ? 0 : (uint32_t)(target - c);
}

static void timer_fire(struct lapic *l)
{
	uint32_t lvt = l->lvt[LAPIC_LVT_TIMER];

	if (lvt & LVT_MASKED)
		return;
	l->timer_irqs++;
	(void)accept(l, (uint8_t)lvt, false);
}

void lapic_timer_update(struct lapic *l)
{
	uint64_t c, n;

	if (!l)
		return;
	if (timer_mode(l) == TIMER_DEADLINE) {
		if (l->tsc_deadline && now_tsc(l) >= l->tsc_deadline) {
			l->tsc_deadline = 0;
			timer_fire(l);
		}
		return;
	}
	if (!l->t_running || l->tmict == 0)
		return;
	c = consumed(l, bus_now(l));
	if (c < sat_mul(l->t_fired + 1, l->tmict))
		return;
	if (timer_mode(l) == TIMER_PERIODIC) {
		n = c / l->tmict;
		l->t_fired = n;         /* missed periods coalesce */
	} else {
		l->t_running = false;
	}
	timer_fire(l);
}

uint64_t lapic_next_timer_event_ns(struct lapic *l)
{
	uint64_t tsc, ns;

	if (!l || (l->lvt[LAPIC_LVT_TIMER] & LVT_MASKED))
		return LAPIC_NO_EVENT;
	if (timer_mode(l) == TIMER_DEADLINE) {
		if (!l->tsc_deadline)
			return LAPIC_NO_EVENT;
		ns = now_ns(l);
		tsc = now_tsc(l);
		if (tsc >= l->tsc_deadline)
			return ns;
		return sat_add(ns, muldiv(l->tsc_deadline - tsc, NS_PER_SEC,
					  l->cfg.tsc_hz, true));
	}
	if (!l->t_running || l->tmict == 0)
		return LAPIC_NO_EVENT;
	return muldiv(next_expiry_bus(l), NS_PER_SEC, l->cfg.timer_hz, true);
}

/*
 * The first value of the guest TSC (now_tsc's clock) at which
 * lapic_timer_update() changes anything, or LAPIC_NO_EVENT: the hypervisor
 * compares it with the TSC instead of calling lapic_timer_update() at
 * every entry. A pure function of the registers (no cache to go stale).
 * TSC-deadline mode: the deadline itself. One-shot and periodic: the
 * expiry's bus tick -> the first ns that reaches it -> the first TSC tick
 * whose ns (floor(tsc * 1e9 / tsc_hz), as a hypervisor derives now_ns from
 * the TSC) is at least that. A masked timer: none (its expiries are
 * accounted by the update every register access makes first).
 */
uint64_t lapic_timer_due_tsc_slow(const struct lapic *l)
{
	uint64_t ns;

	if (!l || (l->lvt[LAPIC_LVT_TIMER] & LVT_MASKED))
		return LAPIC_NO_EVENT;
	if (timer_mode(l) == TIMER_DEADLINE)
		return l->tsc_deadline ? l->tsc_deadline : LAPIC_NO_EVENT;
	if (!l->t_running || l->tmict == 0)
		return LAPIC_NO_EVENT;
	ns = muldiv(next_expiry_bus(l), NS_PER_SEC, l->cfg.timer_hz, true);
	if (ns == UINT64_MAX)
		return LAPIC_NO_EVENT;
	return muldiv(ns, l->cfg.tsc_hz, NS_PER_SEC, true);
}

static void timer_stop(struct lapic *l)
{
	l->t_running = false;
	l->t_start = 0;
	l->t_base = 0;
	l->t_fired = 0;
}

static void write_tmict(struct lapic *l, uint32_t v)
{
	if (timer_mode(l) == TIMER_DEADLINE)
		return;                 /* ignored in TSC-deadline mode */
	l->tmict = v;
	timer_stop(l);
	if (v) {
		l->t_running = true;
		l->t_start = bus_now(l);
	}
}

static void write_tdcr(struct lapic *l, uint32_t v)
{
	uint64_t bus = bus_now(l);

	if (l->t_running) {             /* keep the count, change the rate */
		l->t_base = consumed(l, bus);
		l->t_start = bus;
	}
	l->tdcr = v & TDCR_MASK;
}

static void write_lvt(struct lapic *l, unsigned i, uint32_t v)
{
	uint32_t old = l->lvt[i];

	v &= lvt_mask[i];
	if (!sw_enabled(l))
		v |= LVT_MASKED;
	if (i == LAPIC_LVT_LINT0 || i == LAPIC_LVT_LINT1)
		v |= old & (1u << 14);  /* remote IRR is read-only */
	l->lvt[i] = v;
	if (i == LAPIC_LVT_TIMER &&
	    (TIMER_MODE(old) == TIMER_DEADLINE) != (TIMER_MODE(v) == TIMER_DEADLINE)) {
		/* entering or leaving TSC-deadline mode disarms the timer */
		l->tmict = 0;
		l->tsc_deadline = 0;
		timer_stop(l);
	}
}

/* ------------------------------------------------------------ state */

static void lapic_regs_reset(struct lapic *l)
{
	unsigned i;

	l->tpr = 0;
	l->ldr = 0;
	l->dfr = 0xffffffffu;
	l->svr = 0xff;
	l->esr = 0;
	l->esr_pending = 0;
	l->icr_lo = 0;
	l->icr_hi = 0;
	for (i = 0; i < 8; i++) {
		l->isr[i] = 0;
		l->tmr[i] = 0;
		l->irr[i] = 0;
	}
	l->isr_sum = 0;
	l->irr_sum = 0;
	for (i = 0; i < LAPIC_NLVT; i++)
		l->lvt[i] = LVT_MASKED;
	/* virtual wire: the BSP's LINT0 takes the PIC (as a BIOS leaves it) */
	if (l->cfg.bsp)
		l->lvt[LAPIC_LVT_LINT0] = LAPIC_DM_EXTINT << 8;
	l->tmict = 0;
	l->tdcr = 0;
	l->tsc_deadline = 0;
	timer_stop(l);
	if (l->apic_base & LAPIC_BASE_EXTD)
		l->ldr = x2apic_ldr(l->id);
}

void lapic_init(struct lapic *l, const struct lapic_config *cfg)
{
	l->cfg = *cfg;
	if (l->cfg.timer_hz == 0)
		l->cfg.timer_hz = NS_PER_SEC;
	if (l->cfg.tsc_hz == 0)
		l->cfg.tsc_hz = NS_PER_SEC;
	if (l->cfg.timer_hz < HZ_MIN)
		l->cfg.timer_hz = HZ_MIN;
	if (l->cfg.timer_hz > HZ_MAX)
		l->cfg.timer_hz = HZ_MAX;
	if (l->cfg.tsc_hz < HZ_MIN)
		l->cfg.tsc_hz = HZ_MIN;
	if (l->cfg.tsc_hz > HZ_MAX)
		l->cfg.tsc_hz = HZ_MAX;
	if (!l->cfg.x2apic_supported)
		l->cfg.x2apic_at_reset = false;
	l->timer_irqs = 0;
	l->ipis_sent = 0;
	l->dropped = 0;
	lapic_reset(l);
}

void lapic_reset(void *dev)
{
	struct lapic *l = dev;

	if (!l)
		return;
	l->id = l->cfg.id;
	l->apic_base = LAPIC_DEFAULT_BASE | LAPIC_BASE_EN;
	if (l->cfg.bsp)
		l->apic_base |= LAPIC_BASE_BSP;
	if (l->cfg.x2apic_at_reset)
		l->apic_base |= LAPIC_BASE_EXTD;
	lapic_regs_reset(l);
}

void lapic_init_reset(struct lapic *l)
{
	if (l)
		lapic_regs_reset(l);
}

uint8_t lapic_get_tpr(const struct lapic *l)
{
	return l ? (uint8_t)l->tpr : 0;
}

void lapic_set_tpr(struct lapic *l, uint8_t tpr)
{
	if (l)
		l->tpr = tpr;
}

/* ------------------------------------------------------------ registers */

/* Read register reg; -1 when it does not exist in this mode (or is WO). */
/* The two registers that are computed, out of reg_read's line: the plain
 * ones then need no stack frame (an x2APIC read's common case). */
static __attribute__((noinline)) int read_ppr(const struct lapic *l, uint64_t *val)
{
	*val = ppr(l);
	return 0;
}

static __attribute__((noinline)) int read_tmcct(const struct lapic *l, uint64_t *val)
{
	*val = current_count(l);
	return 0;
}

static int reg_read(struct lapic *l, unsigned reg, bool x2, uint64_t *val)
{
	uint64_t v;

	switch (reg) {
	case R_ID:
		v = x2 ? l->id : (l->id & 0xff) << 24;
		break;
	case R_VER:
		v = LAPIC_VERSION;
		break;
	case R_TPR:
		v = l->tpr;
		break;
	case R_PPR:
		return read_ppr(l, val);
	case R_LDR:
		v = l->ldr;
		break;
	case R_SVR:
		v = l->svr;
		break;
	case R_ISR ... R_ISR + 7:
		v = l->isr[reg - R_ISR];
		break;
	case R_TMR ... R_TMR + 7:
		v = l->tmr[reg - R_TMR];
		break;
	case R_IRR ... R_IRR + 7:
		v = l->irr[reg - R_IRR];
		break;
	case R_ESR:
		v = l->esr;
		break;
	case R_ICR:
		v = x2 ? (uint64_t)l->icr_hi << 32 | l->icr_lo : l->icr_lo;
		break;
	case R_LVT ... R_LVT + LAPIC_NLVT - 1:
		v = l->lvt[reg - R_LVT];
		break;
	case R_TMICT:
		v = l->tmict;
		break;
	case R_TMCCT:
		return read_tmcct(l, val);
	case R_TDCR:
		v = l->tdcr;
		break;
	case R_APR:
	case R_RRD:
		if (x2)
			return -1;
		v = 0;                  /* arbitration not modelled */
		break;
	case R_DFR:
		if (x2)
			return -1;
		v = l->dfr;
		break;
	case R_ICR2:
		if (x2)
			return -1;
		v = l->icr_hi;
		break;
	default:                        /* EOI, SELF IPI (write-only), reserved */
		return -1;
	}
	*val = v;
	return 0;
}

/* Write register reg; -1 for #GP (x2APIC); xAPIC callers ignore errors. */
static int reg_write(struct lapic *l, unsigned reg, bool x2, uint64_t val)
{
	uint32_t v = (uint32_t)val;

	if (x2 && reg != R_ICR && (val >> 32))
		return -1;
	switch (reg) {
	case R_TPR:
		l->tpr = v & 0xff;
		return 0;
	case R_EOI:
		if (x2 && v)
			return -1;
		lapic_eoi(l);
		return 0;
	case R_LDR:
		if (x2)
			return -1;      /* read-only in x2APIC mode */
		l->ldr = v & 0xff000000u;
		return 0;
	case R_DFR:
		if (x2)
			return -1;
		l->dfr = (v & 0xf0000000u) | 0x0fffffffu;
		return 0;
	case R_SVR:
		l->svr = v & SVR_MASK;
		if (!sw_enabled(l)) {
			unsigned i;

			for (i = 0; i < LAPIC_NLVT; i++)
				l->lvt[i] |= LVT_MASKED;
		}
		return 0;
	case R_ESR:
		if (x2 && v)
			return -1;
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		return 0;
	case R_ICR:
		if (x2) {
			l->icr_lo = (uint32_t)val & ICR_LO_MASK;
			l->icr_hi = (uint32_t)(val >> 32);
			lapic_send_icr(l, l->icr_lo, l->icr_hi);
		} else {
			l->icr_lo = v & ICR_LO_MASK;
			lapic_send_icr(l, l->icr_lo, l->icr_hi >> 24);
		}
		return 0;
	case R_ICR2:
		if (x2)
			return -1;
		l->icr_hi = v & 0xff000000u;
		return 0;
	case R_LVT ... R_LVT + LAPIC_NLVT - 1:
		write_lvt(l, reg - R_LVT, v);
		return 0;
	case R_TMICT:
		write_tmict(l, v);
		return 0;
	case R_TDCR:
		write_tdcr(l, v);
		return 0;
	case R_SELF:
		if (!x2)
			return -1;
		if (v > 0xff)
			return -1;      /* bits 31:8 reserved */
		lapic_send_icr(l, (LAPIC_SH_SELF << 18) | (v & 0xff), l->id);
		return 0;
	case R_ID:
		if (x2)
			return -1;
		return 0;               /* xAPIC ID: kept fixed (documented) */
	default:
		/* VER, PPR, ISR/TMR/IRR, TMCCT, APR, RRD: read-only; reserved */
		return -1;
	}
}

/* ------------------------------------------------------------ MSRs */

static int write_apic_base(struct lapic *l, uint64_t v)
{
	uint64_t old = l->apic_base;
	bool en = v & LAPIC_BASE_EN, extd = v & LAPIC_BASE_EXTD;
	bool old_en = old & LAPIC_BASE_EN, old_extd = old & LAPIC_BASE_EXTD;

	if (v & BASE_RSVD)
		return -1;
	if (extd && !l->cfg.x2apic_supported)
		return -1;
	if (extd && !en)
		return -1;              /* invalid state */
	if (old_en && old_extd && en && !extd)
		return -1;              /* x2APIC -> xAPIC */
	if (!old_en && extd)
		return -1;              /* disabled -> x2APIC */
	l->apic_base = v;
	if (!en && old_en) {
		lapic_regs_reset(l);    /* disabling loses the state */
	} else if (extd && !old_extd) {
		l->ldr = x2apic_ldr(l->id);     /* xAPIC -> x2APIC */
		l->icr_hi = 0;
	}
	return 0;
}

/* Of the registers, only the IRR and the current count show the timer's
 * progress: the others read the same before and after an update, which
 * runs anyway when the timer is due (the hypervisor compares
 * lapic_timer_due_tsc with the TSC). */
static inline bool reg_shows_timer(unsigned reg)
{
	return reg == R_TMCCT || reg - R_IRR < 8;
}

/* APIC_BASE, TSC_DEADLINE, the registers the timer shows in, refusals. */
static __attribute__((noinline)) int rdmsr_slow(struct lapic *l, uint32_t msr, uint64_t *val)
{
	if (!l || !val)
		return -1;
	if (msr == MSR_IA32_APIC_BASE) {
		*val = l->apic_base;
		return 0;
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		lapic_timer_update(l);
		*val = timer_mode(l) == TIMER_DEADLINE ? l->tsc_deadline : 0;
		return 0;
	}
	if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST || !lapic_x2apic_mode(l))
		return -1;
	lapic_timer_update(l);
	return reg_read(l, msr - MSR_X2APIC_FIRST, true, val);
}

int lapic_rdmsr(struct lapic *l, uint32_t msr, uint64_t *val)
{
	unsigned reg = msr - MSR_X2APIC_FIRST;

	if (likely(l && val && reg <= MSR_X2APIC_LAST - MSR_X2APIC_FIRST &&
		   lapic_x2apic_mode(l) && !reg_shows_timer(reg)))
		return reg_read(l, reg, true, val);
	return rdmsr_slow(l, msr, val);
}

int lapic_wrmsr(struct lapic *l, uint32_t msr, uint64_t val)
{
	int r;

	if (!l)
		return -1;
	if (msr == MSR_IA32_APIC_BASE)
		return write_apic_base(l, val);
	if (msr == MSR_IA32_TSC_DEADLINE) {
		lapic_timer_update(l);
		if (timer_mode(l) == TIMER_DEADLINE) {
			l->tsc_deadline = val;
			lapic_timer_update(l);  /* a past deadline fires at once */
		}
		return 0;
	}
	if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST || !lapic_x2apic_mode(l))
		return -1;
	lapic_timer_update(l);
	r = reg_write(l, msr - MSR_X2APIC_FIRST, true, val);
	lapic_timer_update(l);
	return r;
}

/* ------------------------------------------------------------ MMIO */

static bool mmio_ok(uint64_t off, unsigned size)
{
	return off < LAPIC_MMIO_SIZE && (size == 1 || size == 2 || size == 4) &&
	       (off & 3) + size <= 4;
}

int lapic_mmio_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct lapic *l = dev;
	uint64_t v = 0;
	uint64_t mask;

	if (!l || !val || !mmio_ok(off, size))
		return -1;
	mask = size == 4 ? 0xffffffffULL : (1ULL << (8 * size)) - 1;
	if (!lapic_xapic_mode(l)) {
		*val = mask;            /* no xAPIC page in this mode */
		return 0;
	}
	lapic_timer_update(l);
	/* bytes 4-15 of each 16-byte slot and unknown registers read 0 */
	if ((off & 0xf) < 4 && reg_read(l, (unsigned)(off >> 4), false, &v) == 0)
		v = (v >> (8 * (off & 3))) & mask;
	else
		v = 0;
	*val = v;
	return 0;
}

int lapic_mmio_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct lapic *l = dev;

	if (!l || !mmio_ok(off, size))
		return -1;
	if (!lapic_xapic_mode(l) || size != 4 || (off & 0xf))
		return 0;               /* ignored */
	lapic_timer_update(l);
	(void)reg_write(l, (unsigned)(off >> 4), false, (uint32_t)val);
	lapic_timer_update(l);
	return 0;
}

const struct dev_ops lapic_mmio_ops = {
	.name = "lapic",
	.read = lapic_mmio_read,
	.write = lapic_mmio_write,
	.reset = lapic_reset,
};
