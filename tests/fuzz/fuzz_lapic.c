/*
 * libFuzzer harness: devices/lapic.c (xAPIC MMIO page and x2APIC MSRs over
 * one register set, the APIC timer and TSC-deadline timer). The input
 * picks the configuration (ID, BSP, x2APIC support, timer and TSC clocks)
 * and then a sequence of MMIO reads/writes (any offset, size, value;
 * register offsets made likely), RDMSR/WRMSR (APIC_BASE transitions,
 * TSC_DEADLINE, 0x800-0x8ff, anything), interrupts in, injections (ack),
 * time steps, resets and two timer probes. The send_ipi callback plays the
 * back end: fixed IPIs that target this APIC come back through
 * lapic_set_irq. After every operation:
 *  - MMIO accepted exactly when off < 4 KiB, size 1/2/4 within 4 bytes;
 *    refused changes nothing; outside xAPIC mode reads are all-ones and
 *    writes change nothing; a refused (#GP) MSR access changes nothing
 *    beyond the timer update it runs first;
 *  - register invariants: TPR 8 bits, SVR/LVT/TDCR/ICR only writable bits,
 *    every LVT masked while software-disabled, no vector 0-15 in IRR/ISR,
 *    APIC_BASE: no reserved bit, EXTD only with EN and x2APIC support,
 *    the x2APIC LDR derived from the ID, ESR only the modelled errors;
 *  - lapic_pending_vector() equals a reference (highest IRR whose class
 *    beats PPR = max(TPR, class of highest ISR)); ack moves it IRR -> ISR;
 *  - EOI: the highest ISR bit is cleared and eoi() is called for it
 *    exactly when its TMR bit is set; nothing else calls eoi();
 *  - IPIs: never delivery mode 3/7, fixed/lowest vectors >= 16, SELF only
 *    fixed, src_id = ID, xAPIC destinations 8-bit; counted;
 *  - timer: the current count never exceeds the initial count; after an
 *    update, the next event is after now; for the APIC timer nothing
 *    fires one ns before it and the interrupt fires at it (TSC deadline:
 *    fires at it); the current count goes down by exactly the divided bus
 *    clocks between two reads (rate probe, on copies).
 */
#include "tests/fuzz/fuzz_common.h"
#include "devices/lapic.h"

static uint64_t now;
static struct lapic *cur;
static unsigned eoi_calls, ipi_calls;
static int eoi_vec;

static uint64_t now_ns(void *opaque)
{
	(void)opaque;
	return now;
}

static void send_ipi(void *opaque, const struct lapic_ipi *ipi)
{
	(void)opaque;
	ipi_calls++;
	CHECK(ipi->delivery != 3 && ipi->delivery != 7);
	if (ipi->delivery <= 1)
		CHECK(ipi->vector >= 16);
	if (ipi->shorthand == LAPIC_SH_SELF)
		CHECK(ipi->delivery == LAPIC_DM_FIXED && ipi->dest == cur->id);
	CHECK(ipi->src_id == cur->id);
	if (lapic_xapic_mode(cur) && ipi->shorthand != LAPIC_SH_SELF)
		CHECK(ipi->dest <= 0xff);
	/* the back end: deliver fixed IPIs that select this APIC */
	if (ipi->delivery == LAPIC_DM_FIXED &&
	    (ipi->shorthand == LAPIC_SH_SELF || ipi->shorthand == LAPIC_SH_ALL ||
	     (ipi->shorthand == LAPIC_SH_NONE && lapic_match_dest(cur, ipi->dest, ipi->logical))))
		(void)lapic_set_irq(cur, ipi->vector, ipi->trigger_level);
}

static void eoi_cb(void *opaque, uint8_t vector)
{
	(void)opaque;
	eoi_calls++;
	eoi_vec = vector;
}

static int highest(const uint32_t *r)
{
	for (int w = 7; w >= 0; w--)
		if (r[w])
			return w * 32 + 31 - __builtin_clz(r[w]);
	return -1;
}

static int ref_pending(const struct lapic *l)
{
	int irr = highest(l->irr), isr = highest(l->isr);
	unsigned ppr_class = l->tpr & 0xf0;

	if (!(l->apic_base & LAPIC_BASE_EN) || irr < 0)
		return -1;
	if (isr >= 0 && (unsigned)(isr & 0xf0) > ppr_class)
		ppr_class = (unsigned)isr & 0xf0;
	return (unsigned)(irr & 0xf0) > ppr_class ? irr : -1;
}

static void check_state(const struct lapic *l)
{
	static const uint32_t lvt_bits[LAPIC_NLVT] = {
		0x000700ffu, 0x000107ffu, 0x000107ffu, 0x0001a7ffu, 0x0001a7ffu, 0x000100ffu,
	};
	uint64_t b = l->apic_base;

	CHECK(l->tpr <= 0xff && (l->svr & ~0x3ffu) == 0 && (l->tdcr & ~0xbu) == 0);
	CHECK((l->icr_lo & ~0x000ccfffu) == 0);
	CHECK((l->esr & ~0x60u) == 0 && (l->esr_pending & ~0x60u) == 0);
	for (int i = 0; i < LAPIC_NLVT; i++) {
		CHECK((l->lvt[i] & ~lvt_bits[i]) == 0);
		/* software-disabled: all masked, but for the BSP's reset
		 * virtual-wire LINT0 (ExtINT, as KVM/QEMU leave it) */
		if (!(l->svr & 0x100) && !(i == LAPIC_LVT_LINT0 && l->lvt[i] == 0x700))
			CHECK(l->lvt[i] & 0x10000);
	}
	CHECK((l->irr[0] & 0xffff) == 0 && (l->isr[0] & 0xffff) == 0);
	for (int w = 0; w < 8; w++)     /* word summaries match the registers */
		CHECK(((l->irr_sum >> w) & 1) == (l->irr[w] != 0) &&
		      ((l->isr_sum >> w) & 1) == (l->isr[w] != 0));
	CHECK((b & ~(0x000ffffffffff000ULL | 0xd00ULL)) == 0);
	if (b & LAPIC_BASE_EXTD) {
		CHECK(b & LAPIC_BASE_EN);
		CHECK(l->cfg.x2apic_supported);
		CHECK(l->ldr == (((l->id >> 4) << 16) | (1u << (l->id & 15))));
	}
	CHECK(lapic_x2apic_mode(l) + lapic_xapic_mode(l) == ((b & LAPIC_BASE_EN) != 0));
	if (!(b & LAPIC_BASE_EN))
		CHECK(lapic_accept_pic_intr(l) && lapic_pending_vector(l) == -1);
	CHECK(lapic_pending_vector(l) == ref_pending(l));
	CHECK(l->ipis_sent == ipi_calls);
	CHECK(lapic_get_tpr(l) == l->tpr);
}

/* Current count (TMCCT) read on a copy, through whichever view is on. */
static uint32_t copy_tmcct(const struct lapic *l)
{
	struct lapic cp = *l;
	uint64_t v = 0;

	if (lapic_x2apic_mode(&cp))
		CHECK(lapic_rdmsr(&cp, 0x839, &v) == 0);
	else
		CHECK(lapic_mmio_read(&cp, 0x390, 4, &v) == 0);
	return (uint32_t)v;
}

/*
 * Count-rate probe (running one-shot or periodic timer, on copies): from
 * now to now + dt the current count goes down by exactly the divided bus
 * clocks between (bus = floor(ns * timer_hz / 1e9), divider from TDCR as
 * the SDM tabulates it), stopping at 0 (one-shot) or reloading (periodic).
 */
static void rate_probe(const struct lapic *l, uint64_t dt)
{
	static const uint32_t div_tab[8] = { 2, 4, 8, 16, 32, 64, 128, 1 };
	unsigned mode = (l->lvt[0] >> 17) & 3;
	uint32_t div = div_tab[(l->tdcr & 3) | ((l->tdcr & 8) >> 1)];
	uint64_t hz = l->cfg.timer_hz, t0 = now, b1, b2, delta, want;
	uint32_t c1, c2, n = l->tmict;

	if (!l->t_running || n == 0 || mode == 2 || mode == 3 ||
	    !(l->apic_base & LAPIC_BASE_EN))
		return;
	b1 = (uint64_t)((unsigned __int128)now * hz / 1000000000u);
	b2 = (uint64_t)((unsigned __int128)(now + dt) * hz / 1000000000u);
	if (b1 < l->t_start)
		return;
	c1 = copy_tmcct(l);
	now += dt;
	c2 = copy_tmcct(l);
	now = t0;
	delta = (b2 - l->t_start) / div - (b1 - l->t_start) / div;
	CHECK(c1 <= n && c2 <= n);
	if (mode == 1) {
		CHECK(c1 >= 1);
		want = n - (n - c1 + delta) % n;
	} else {
		want = c1 > delta ? c1 - delta : 0;
	}
	CHECK(c2 == want);
}

static uint32_t pick_msr(struct in *in, uint8_t a)
{
	switch (a & 3) {
	case 0: return a & 4 ? MSR_IA32_APIC_BASE : MSR_IA32_TSC_DEADLINE;
	case 1:
	case 2: return 0x800u + in_u8(in);
	default: return (uint32_t)in_bytes(in, 4);
	}
}

static uint64_t pick_msr_val(struct in *in, uint8_t op, uint32_t msr)
{
	uint64_t v;

	if (msr == MSR_IA32_APIC_BASE && !(op & 0x80)) {
		uint8_t f = in_u8(in);

		return 0xfee00000ULL | (f & 0x10 ? (uint64_t)in_u8(in) << 12 : 0) |
		       (f & 1 ? LAPIC_BASE_EN : 0) | (f & 2 ? LAPIC_BASE_EXTD : 0) |
		       (f & 4 ? LAPIC_BASE_BSP : 0);
	}
	if (msr == MSR_IA32_TSC_DEADLINE && !(op & 0x80))
		return now + in_bytes(in, 3);   /* near deadlines (TSC = ns at 1 GHz) */
	v = in_bytes(in, 4);
	if (op & 0x80)
		v |= in_u64(in) << 32;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t hz[8] = { 0, 1000000000ULL, 100000000ULL, 25000000ULL,
					1000, 10000000000ULL, 3000000000ULL, 1 };
	static const unsigned sizes[8] = { 4, 4, 4, 1, 2, 8, 3, 0 };
	struct in in = { data, size };
	struct lapic_config cfg = { 0 };
	struct lapic l;
	uint8_t f;

	f = in_u8(&in);
	cfg.id = f & 0x80 ? (uint32_t)in_bytes(&in, 4) : in_u8(&in);
	cfg.bsp = f & 1;
	cfg.x2apic_supported = f & 2;
	cfg.x2apic_at_reset = f & 4;
	cfg.timer_hz = hz[(f >> 3) & 7];
	cfg.tsc_hz = 0;                         /* TSC = ns: exact deadlines */
	cfg.now_ns = now_ns;
	cfg.send_ipi = send_ipi;
	cfg.eoi = eoi_cb;
	now = in_bytes(&in, 6);
	eoi_calls = ipi_calls = 0;
	cur = &l;
	lapic_init(&l, &cfg);
	check_state(&l);
	for (int ops = 0; in_left(&in) && ops < 2048; ops++) {
		uint8_t op = in_u8(&in), a = in_u8(&in);
		struct lapic before = l;
		int isr_top = highest(l.isr);
		bool want_eoi = isr_top >= 0 && ((l.tmr[isr_top / 32] >> (isr_top % 32)) & 1);
		bool is_eoi = false;
		unsigned sz = sizes[a & 7];
		uint64_t off, v;
		uint32_t msr;
		int r;

		eoi_calls = 0;
		switch (a >> 6) {
		case 0: case 1: off = (uint64_t)(in_u8(&in) & 0x3f) << 4; break;
		case 2: off = in_bytes(&in, 2) & 0x1fff; break;
		default: off = in_u64(&in); break;
		}
		switch (op & 15) {
		case 0: case 1: case 2: {               /* MMIO read */
			bool ok = off < 4096 && (sz == 1 || sz == 2 || sz == 4) && (off & 3) + sz <= 4;

			v = 0x6666666666666666ULL;
			r = lapic_mmio_read(&l, off, sz, &v);
			CHECK(r == (ok ? 0 : -1));
			if (r) {
				CHECK(v == 0x6666666666666666ULL);
				CHECK(memcmp(&before, &l, sizeof(l)) == 0);
			} else if (!lapic_xapic_mode(&before)) {
				CHECK(v == (sz == 4 ? 0xffffffffULL : (1ULL << (8 * sz)) - 1));
				CHECK(memcmp(&before, &l, sizeof(l)) == 0);
			} else {
				CHECK((v >> (8 * sz)) == 0);
				if (off == 0x390 && sz == 4)
					CHECK(v <= l.tmict);
				if (off == 0x20 && sz == 4)
					CHECK(v == (l.id & 0xff) << 24);
			}
			break;
		}
		case 3: case 4: case 5: {               /* MMIO write */
			bool ok = off < 4096 && (sz == 1 || sz == 2 || sz == 4) && (off & 3) + sz <= 4;

			v = in_bytes(&in, 4);
			if (op & 0x80)
				v |= in_u64(&in) << 32;
			is_eoi = ok && lapic_xapic_mode(&l) && sz == 4 && off == 0xb0;
			r = lapic_mmio_write(&l, off, sz, v);
			CHECK(r == (ok ? 0 : -1));
			if (r || !lapic_xapic_mode(&before))
				CHECK(memcmp(&before, &l, sizeof(l)) == 0);
			break;
		}
		case 6: {                               /* RDMSR */
			struct lapic ref = l;

			msr = pick_msr(&in, a);
			lapic_timer_update(&ref);
			v = 0x6666666666666666ULL;
			r = lapic_rdmsr(&l, msr, &v);
			if (msr == MSR_IA32_APIC_BASE || msr == MSR_IA32_TSC_DEADLINE)
				CHECK(r == 0);
			if (msr < 0x800 || msr > 0x8ff) {
				if (msr != MSR_IA32_APIC_BASE && msr != MSR_IA32_TSC_DEADLINE)
					CHECK(r == -1);
			} else if (!lapic_x2apic_mode(&l)) {
				CHECK(r == -1);
			}
			if (r) {
				/* refused: nothing read, nothing changed (the
				 * registers the timer shows in are never refused) */
				CHECK(v == 0x6666666666666666ULL);
				CHECK(memcmp(&before, &l, sizeof(l)) == 0);
				break;
			}
			/* the timer runs first only where it shows: TSC_DEADLINE,
			 * the IRR and the current count */
			if (msr == MSR_IA32_TSC_DEADLINE || msr == 0x839 || (msr >= 0x820 && msr <= 0x827))
				CHECK(memcmp(&ref, &l, sizeof(l)) == 0);
			else
				CHECK(memcmp(&before, &l, sizeof(l)) == 0);
			if (msr == MSR_IA32_APIC_BASE)
				CHECK(v == l.apic_base);
			if (msr == 0x802)
				CHECK(v == l.id);
			if (msr == 0x839)
				CHECK(v <= l.tmict);
			if (msr >= 0x800 && msr != 0x830)
				CHECK(v <= 0xffffffffULL);
			break;
		}
		case 7: case 8: case 9: {               /* WRMSR */
			struct lapic ref = l;

			msr = pick_msr(&in, a);
			v = pick_msr_val(&in, op, msr);
			lapic_timer_update(&ref);
			is_eoi = lapic_x2apic_mode(&l) && msr == 0x80b && v == 0;
			r = lapic_wrmsr(&l, msr, v);
			if (msr == MSR_IA32_TSC_DEADLINE)
				CHECK(r == 0);
			if ((msr < 0x800 || msr > 0x8ff) && msr != MSR_IA32_APIC_BASE &&
			    msr != MSR_IA32_TSC_DEADLINE)
				CHECK(r == -1);
			if (msr >= 0x800 && msr <= 0x8ff && !lapic_x2apic_mode(&before))
				CHECK(r == -1);
			if (r) {
				if (msr < 0x800 || msr > 0x8ff || !lapic_x2apic_mode(&before))
					CHECK(memcmp(&before, &l, sizeof(l)) == 0);
				else
					CHECK(memcmp(&ref, &l, sizeof(l)) == 0);
			} else if (msr == MSR_IA32_APIC_BASE) {
				CHECK(l.apic_base == v);
			}
			break;
		}
		case 10: {                              /* an interrupt in */
			uint8_t vec = in_u8(&in);

			r = lapic_set_irq(&l, vec, op & 0x80);
			if (!(l.apic_base & LAPIC_BASE_EN) || !(l.svr & 0x100) || vec < 16)
				CHECK(r == -1);
			else
				CHECK(r == 0 && ((l.irr[vec / 32] >> (vec % 32)) & 1));
			break;
		}
		case 11: {                              /* inject */
			int p;

			lapic_timer_update(&l);
			p = lapic_pending_vector(&l);
			if (op & 0x80 || p < 0) {
				uint8_t vec = in_u8(&in);
				bool in_irr = (l.irr[vec / 32] >> (vec % 32)) & 1;

				CHECK(lapic_ack(&l, vec) == (in_irr ? 0 : -1));
				break;
			}
			CHECK(lapic_ack(&l, (uint8_t)p) == 0);
			CHECK(!((l.irr[p / 32] >> (p % 32)) & 1));
			CHECK((l.isr[p / 32] >> (p % 32)) & 1);
			CHECK(highest(l.isr) == p);
			break;
		}
		case 12:                                /* time */
			now += op & 0x80 ? in_bytes(&in, 5) : (uint64_t)a * (in_u8(&in) + 1u);
			if (op & 0x40)
				lapic_timer_update(&l);
			break;
		case 14:                                /* count-rate probe */
			lapic_timer_update(&l);
			rate_probe(&l, op & 0x80 ? in_bytes(&in, 4) : (uint64_t)a * in_u8(&in));
			break;
		case 13: {                              /* timer probe */
			uint64_t e, irqs;
			bool deadline = ((l.lvt[0] >> 17) & 3) == 2;

			lapic_timer_update(&l);
			e = lapic_next_timer_event_ns(&l);
			if (e == LAPIC_NO_EVENT)
				break;
			CHECK(!(l.lvt[0] & 0x10000));
			CHECK(e > now);
			if (e - now > (1ULL << 42))
				break;
			irqs = l.timer_irqs;
			if (!deadline) {
				now = e - 1;
				lapic_timer_update(&l);
				CHECK(l.timer_irqs == irqs);
			}
			now = e;
			lapic_timer_update(&l);
			CHECK(l.timer_irqs == irqs + 1);
			break;
		}
		default:
			switch (a & 7) {
			case 0:
				lapic_reset(&l);
				break;
			case 1:
				lapic_init_reset(&l);
				CHECK(l.apic_base == before.apic_base && l.id == before.id);
				break;
			case 2:
				lapic_set_tpr(&l, in_u8(&in));
				break;
			case 3:
				(void)lapic_match_dest(&l, (uint32_t)in_bytes(&in, 4), op & 0x80);
				CHECK(lapic_match_dest(&l, lapic_x2apic_mode(&l) ? l.id :
						       l.id & 0xff, false) == ((l.apic_base & LAPIC_BASE_EN) != 0));
				break;
			default:
				CHECK(lapic_rdmsr(NULL, MSR_IA32_APIC_BASE, &v) == -1);
				CHECK(lapic_rdmsr(&l, MSR_IA32_APIC_BASE, NULL) == -1);
				CHECK(lapic_wrmsr(NULL, MSR_IA32_APIC_BASE, 0) == -1);
				CHECK(lapic_mmio_read(NULL, 0, 4, &v) == -1);
				CHECK(lapic_mmio_write(NULL, 0, 4, 0) == -1);
				CHECK(lapic_set_irq(NULL, 32, false) == -1);
				CHECK(lapic_ack(NULL, 32) == -1);
				CHECK(lapic_pending_vector(NULL) == -1);
				CHECK(lapic_next_timer_event_ns(NULL) == LAPIC_NO_EVENT);
				lapic_timer_update(NULL);
				lapic_reset(NULL);
				lapic_init_reset(NULL);
				break;
			}
			break;
		}
		if (is_eoi) {
			if (isr_top >= 0)
				CHECK(!((l.isr[isr_top / 32] >> (isr_top % 32)) & 1));
			CHECK(eoi_calls == (want_eoi ? 1u : 0u));
			if (want_eoi)
				CHECK(eoi_vec == isr_top);
		} else {
			CHECK(eoi_calls == 0);
		}
		check_state(&l);
	}
	return 0;
}
