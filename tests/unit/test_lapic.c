/* Host unit tests for the local APIC model (devices/lapic.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "devices/lapic.h"

/* xAPIC register offsets */
#define ID     0x020
#define VER    0x030
#define TPR    0x080
#define APR    0x090
#define PPR    0x0a0
#define EOI    0x0b0
#define LDR    0x0d0
#define DFR    0x0e0
#define SVR    0x0f0
#define ISR0   0x100
#define TMR0   0x180
#define IRR0   0x200
#define ESR    0x280
#define ICR    0x300
#define ICR2   0x310
#define LVTT   0x320
#define LVTTHM 0x330
#define LVTPC  0x340
#define LVT0   0x350
#define LVT1   0x360
#define LVTERR 0x370
#define TMICT  0x380
#define TMCCT  0x390
#define TDCR   0x3e0

/* ------------------------------------------------------------ fixture */

#define MAX_IPIS 64

struct fake {
	struct lapic l;
	uint64_t now;                   /* ns */
	uint64_t tsc;
	struct lapic_ipi ipi[MAX_IPIS];
	unsigned nipi;
	uint8_t eoi[MAX_IPIS];
	unsigned neoi;
};

static uint64_t fake_now(void *opaque)
{
	return ((struct fake *)opaque)->now;
}

static uint64_t fake_tsc(void *opaque)
{
	return ((struct fake *)opaque)->tsc;
}

static void fake_ipi(void *opaque, const struct lapic_ipi *ipi)
{
	struct fake *f = opaque;

	if (f->nipi < MAX_IPIS)
		f->ipi[f->nipi] = *ipi;
	f->nipi++;
}

static void fake_eoi(void *opaque, uint8_t vector)
{
	struct fake *f = opaque;

	if (f->neoi < MAX_IPIS)
		f->eoi[f->neoi] = vector;
	f->neoi++;
}

static void fake_init_cfg(struct fake *f, uint32_t id, bool bsp, bool x2)
{
	struct lapic_config cfg = {
		.id = id, .bsp = bsp, .x2apic_supported = true,
		.x2apic_at_reset = x2, .timer_hz = 1000000000, .tsc_hz = 2000000000,
		.now_ns = fake_now, .now_tsc = fake_tsc, .send_ipi = fake_ipi,
		.eoi = fake_eoi,
	};

	memset(f, 0, sizeof(*f));
	f->now = 1000000;
	f->tsc = 5000000;
	cfg.opaque = f;
	lapic_init(&f->l, &cfg);
}

static void fake_init(struct fake *f)
{
	fake_init_cfg(f, 0, true, false);
}

static uint32_t rd(struct fake *f, unsigned off)
{
	uint64_t v = 0xdeadbeefcafeULL;

	assert_int_equal(lapic_mmio_ops.read(&f->l, off, 4, &v), 0);
	assert_true(v <= 0xffffffffULL);
	return (uint32_t)v;
}

static void wr(struct fake *f, unsigned off, uint32_t v)
{
	assert_int_equal(lapic_mmio_ops.write(&f->l, off, 4, v), 0);
}

static uint64_t rdmsr(struct fake *f, uint32_t msr)
{
	uint64_t v = 0x5555;

	assert_int_equal(lapic_rdmsr(&f->l, msr, &v), 0);
	return v;
}

static void wrmsr(struct fake *f, uint32_t msr, uint64_t v)
{
	assert_int_equal(lapic_wrmsr(&f->l, msr, v), 0);
}

static void gp_rdmsr(struct fake *f, uint32_t msr)
{
	uint64_t v = 0x5555;

	assert_int_equal(lapic_rdmsr(&f->l, msr, &v), -1);
	assert_int_equal(v, 0x5555);
}

static void gp_wrmsr(struct fake *f, uint32_t msr, uint64_t v)
{
	assert_int_equal(lapic_wrmsr(&f->l, msr, v), -1);
}

/* Linux-style software enable: SVR = enable | spurious vector 0xff. */
static void sw_enable(struct fake *f)
{
	wr(f, SVR, 0x1ff);
}

static void to_x2apic(struct fake *f)
{
	wrmsr(f, 0x1b, rdmsr(f, 0x1b) | LAPIC_BASE_EXTD);
}

/* Take the pending interrupt like the CPU does; returns the vector. */
static int take(struct fake *f)
{
	int v;

	lapic_timer_update(&f->l);
	v = lapic_pending_vector(&f->l);
	if (v >= 0)
		assert_int_equal(lapic_ack(&f->l, (uint8_t)v), 0);
	return v;
}

/* ------------------------------------------------------------ tests */

static void test_ops_and_reset_state(void **state)
{
	struct fake f;

	(void)state;
	fake_init_cfg(&f, 3, true, false);
	assert_string_equal(lapic_mmio_ops.name, "lapic");
	assert_ptr_equal(lapic_mmio_ops.read, lapic_mmio_read);
	assert_ptr_equal(lapic_mmio_ops.write, lapic_mmio_write);
	assert_ptr_equal(lapic_mmio_ops.reset, lapic_reset);
	assert_int_equal(rdmsr(&f, 0x1b), 0xfee00900);  /* EN | BSP */
	assert_true(lapic_xapic_mode(&f.l));
	assert_false(lapic_x2apic_mode(&f.l));
	assert_int_equal(lapic_mmio_base(&f.l), 0xfee00000);
	assert_int_equal(rd(&f, ID), 3u << 24);
	assert_int_equal(rd(&f, VER), 0x00050014);
	assert_int_equal(rd(&f, TPR), 0);
	assert_int_equal(rd(&f, PPR), 0);
	assert_int_equal(rd(&f, LDR), 0);
	assert_int_equal(rd(&f, DFR), 0xffffffff);
	assert_int_equal(rd(&f, SVR), 0xff);
	assert_int_equal(rd(&f, LVTT), 0x10000);
	assert_int_equal(rd(&f, LVTTHM), 0x10000);
	assert_int_equal(rd(&f, LVTPC), 0x10000);
	assert_int_equal(rd(&f, LVT0), 0x700);          /* BSP: virtual wire */
	assert_int_equal(rd(&f, LVT1), 0x10000);
	assert_int_equal(rd(&f, LVTERR), 0x10000);
	assert_int_equal(rd(&f, TMICT), 0);
	assert_int_equal(rd(&f, TMCCT), 0);
	assert_int_equal(rd(&f, TDCR), 0);
	assert_true(lapic_accept_pic_intr(&f.l));
	/* x2APIC MSRs do not exist in xAPIC mode */
	gp_rdmsr(&f, 0x802);
	gp_wrmsr(&f, 0x808, 0);
	/* an AP: no BSP bit, LINT0 masked */
	fake_init_cfg(&f, 1, false, false);
	assert_int_equal(rdmsr(&f, 0x1b), 0xfee00800);
	assert_int_equal(rd(&f, LVT0), 0x10000);
	assert_false(lapic_accept_pic_intr(&f.l));
	assert_int_equal(lapic_next_timer_event_ns(&f.l), LAPIC_NO_EVENT);
}

static void test_apic_base_transitions(void **state)
{
	struct fake f;
	uint64_t v;

	(void)state;
	fake_init_cfg(&f, 0x23, true, false);
	gp_wrmsr(&f, 0x1b, 0xfee00900 | 0x1);           /* reserved bit 0 */
	gp_wrmsr(&f, 0x1b, 0xfee00900 | 0x200);         /* reserved bit 9 */
	gp_wrmsr(&f, 0x1b, 0xfee00900 | (1ULL << 52));
	gp_wrmsr(&f, 0x1b, 0xfee00500);                 /* EXTD without EN */
	to_x2apic(&f);
	assert_true(lapic_x2apic_mode(&f.l));
	assert_int_equal(rdmsr(&f, 0x802), 0x23);
	assert_int_equal(rdmsr(&f, 0x803), 0x00050014);
	assert_int_equal(rdmsr(&f, 0x80d), (2u << 16) | (1u << 3));
	/* no xAPIC page in x2APIC mode */
	assert_int_equal(rd(&f, VER), 0xffffffff);
	wr(&f, TPR, 0x50);
	assert_int_equal(rdmsr(&f, 0x808), 0);
	gp_wrmsr(&f, 0x1b, 0xfee00900);                 /* x2APIC -> xAPIC */
	wrmsr(&f, 0x1b, 0xfee00100);                    /* -> disabled */
	assert_false(lapic_x2apic_mode(&f.l));
	assert_false(lapic_xapic_mode(&f.l));
	assert_true(lapic_accept_pic_intr(&f.l));       /* APIC off: PIC goes to the CPU */
	assert_int_equal(lapic_set_irq(&f.l, 0x40, false), -1);
	assert_int_equal(lapic_pending_vector(&f.l), -1);
	gp_rdmsr(&f, 0x802);
	gp_wrmsr(&f, 0x1b, 0xfee00d00);                 /* disabled -> x2APIC */
	wrmsr(&f, 0x1b, 0xfee00900);                    /* -> xAPIC */
	assert_int_equal(rd(&f, SVR), 0xff);            /* state was reset */
	/* relocating the page */
	wrmsr(&f, 0x1b, 0xfed00900);
	assert_int_equal(lapic_mmio_base(&f.l), 0xfed00000);
	/* without x2APIC support EXTD is reserved */
	{
		struct lapic_config cfg = { .id = 1 };
		struct lapic l;

		lapic_init(&l, &cfg);
		assert_int_equal(lapic_wrmsr(&l, 0x1b, 0xfee00c00), -1);
		assert_int_equal(lapic_rdmsr(&l, 0x1b, &v), 0);
		assert_int_equal(v, 0xfee00800);
		/* x2apic_at_reset is ignored without support */
		cfg.x2apic_at_reset = true;
		lapic_init(&l, &cfg);
		assert_false(lapic_x2apic_mode(&l));
	}
	/* firmware left x2APIC on */
	fake_init_cfg(&f, 5, false, true);
	assert_true(lapic_x2apic_mode(&f.l));
	assert_int_equal(rdmsr(&f, 0x1b), 0xfee00c00);
	assert_int_equal(rdmsr(&f, 0x80d), 1u << 5);
}

/* x2APIC reads bring the timer up to date where it shows (IRR, current
 * count) and nowhere else. */
static void test_x2apic_read_timer_progress(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	to_x2apic(&f);
	wrmsr(&f, 0x80f, 0x1ff);
	wrmsr(&f, 0x832, 0xec);                 /* LVT timer: one-shot, vector 0xec */
	wrmsr(&f, 0x83e, 0xb);                  /* divide by 1 */
	wrmsr(&f, 0x838, 1000);
	f.now += 1000;                          /* expired, nobody looked yet */
	(void)rdmsr(&f, 0x803);                 /* version, */
	(void)rdmsr(&f, 0x808);                 /* TPR, */
	(void)rdmsr(&f, 0x832);                 /* the timer LVT: no update */
	assert_int_equal(f.l.timer_irqs, 0);
	assert_int_equal(rdmsr(&f, 0x827), 1u << (0xec - 0xe0));   /* IRR 0xe0-0xff */
	assert_int_equal(f.l.timer_irqs, 1);
	/* the current count reads 0 once it has run out, after an update */
	wrmsr(&f, 0x838, 500);
	f.now += 500;
	assert_int_equal(rdmsr(&f, 0x839), 0);
	assert_int_equal(f.l.timer_irqs, 2);
}

static void test_x2apic_msr_rules(void **state)
{
	struct fake f;
	static const uint32_t ro[] = { 0x802, 0x803, 0x80a, 0x80d, 0x810, 0x817,
				       0x818, 0x820, 0x827, 0x839 };
	static const uint32_t none[] = { 0x800, 0x801, 0x804, 0x807, 0x809, 0x80c,
					 0x80e, 0x82f, 0x831, 0x83a, 0x83d, 0x840,
					 0x8ff };

	(void)state;
	fake_init(&f);
	to_x2apic(&f);
	sw_enable(&f);                  /* no MMIO now: ignored */
	wrmsr(&f, 0x80f, 0x1ff);
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		(void)rdmsr(&f, ro[i]);
		gp_wrmsr(&f, ro[i], 0);
	}
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		gp_rdmsr(&f, none[i]);
		gp_wrmsr(&f, none[i], 0);
	}
	gp_rdmsr(&f, 0x80b);            /* EOI: write-only */
	gp_rdmsr(&f, 0x83f);            /* SELF IPI: write-only */
	gp_wrmsr(&f, 0x80b, 1);         /* EOI must be 0 */
	gp_wrmsr(&f, 0x828, 1);         /* ESR write must be 0 */
	gp_wrmsr(&f, 0x808, 1ULL << 32);        /* bits 63:32 reserved */
	gp_wrmsr(&f, 0x83f, 0x100);
	gp_rdmsr(&f, 0x10);             /* not an APIC MSR */
	gp_wrmsr(&f, 0x10, 0);
	wrmsr(&f, 0x80b, 0);
	wrmsr(&f, 0x828, 0);
	wrmsr(&f, 0x808, 0x1234ff);     /* TPR keeps bits 7:0 */
	assert_int_equal(rdmsr(&f, 0x808), 0xff);
	assert_int_equal(lapic_get_tpr(&f.l), 0xff);
	lapic_set_tpr(&f.l, 0x20);      /* CR8 = 2 */
	assert_int_equal(rdmsr(&f, 0x808), 0x20);
	assert_int_equal(rdmsr(&f, 0x80a), 0x20);       /* PPR */
	/* ICR is one 64-bit register */
	wrmsr(&f, 0x830, 0x0000000700000000ULL | 0x4000 | 0xfd);
	assert_int_equal(rdmsr(&f, 0x830), 0x00000007000040fdULL);
	assert_int_equal(f.nipi, 1);
	assert_int_equal(f.ipi[0].dest, 7);
	assert_int_equal(f.ipi[0].vector, 0xfd);
	/* NULL arguments */
	assert_int_equal(lapic_rdmsr(NULL, 0x802, NULL), -1);
	assert_int_equal(lapic_rdmsr(&f.l, 0x802, NULL), -1);
	assert_int_equal(lapic_wrmsr(NULL, 0x808, 0), -1);
}

static void test_priority_and_eoi(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	sw_enable(&f);
	assert_int_equal(lapic_set_irq(&f.l, 0x31, false), 0);
	assert_int_equal(rd(&f, IRR0 + 0x10), 1u << 17);       /* 0x31 = word 1 bit 17 */
	wr(&f, TPR, 0x30);
	assert_int_equal(lapic_pending_vector(&f.l), -1);       /* same class held */
	wr(&f, TPR, 0x2f);
	assert_int_equal(lapic_pending_vector(&f.l), 0x31);
	wr(&f, TPR, 0);
	assert_int_equal(take(&f), 0x31);
	assert_int_equal(rd(&f, ISR0 + 0x10), 1u << 17);
	assert_int_equal(rd(&f, IRR0 + 0x10), 0);
	assert_int_equal(rd(&f, PPR), 0x30);
	wr(&f, TPR, 0x45);
	assert_int_equal(rd(&f, PPR), 0x45);
	wr(&f, TPR, 0x00);
	/* same class waits, higher class nests */
	assert_int_equal(lapic_set_irq(&f.l, 0x35, false), 0);
	assert_int_equal(lapic_pending_vector(&f.l), -1);
	assert_int_equal(lapic_set_irq(&f.l, 0x41, false), 0);
	assert_int_equal(take(&f), 0x41);
	assert_int_equal(rd(&f, PPR), 0x40);
	assert_int_equal(lapic_pending_vector(&f.l), -1);
	wr(&f, EOI, 0);                 /* ends 0x41 (highest ISR) */
	assert_int_equal(rd(&f, PPR), 0x30);
	assert_int_equal(lapic_pending_vector(&f.l), -1);
	wr(&f, EOI, 0);                 /* ends 0x31 */
	assert_int_equal(rd(&f, PPR), 0x00);
	assert_int_equal(take(&f), 0x35);
	wr(&f, EOI, 0x12345);           /* any value in xAPIC mode */
	assert_int_equal(rd(&f, ISR0 + 0x10), 0);
	wr(&f, EOI, 0);                 /* nothing in service: no-op */
	assert_int_equal(f.neoi, 0);    /* all edge: no EOI broadcast */
	/* ack of a vector not in IRR */
	assert_int_equal(lapic_ack(&f.l, 0x99), -1);
	assert_int_equal(lapic_ack(NULL, 0x99), -1);
	/* the same vector twice while in IRR collapses */
	lapic_set_irq(&f.l, 0xec, false);
	lapic_set_irq(&f.l, 0xec, false);
	assert_int_equal(take(&f), 0xec);
	assert_int_equal(take(&f), -1);
	wr(&f, EOI, 0);
	/* vector 255 and register word 7 */
	lapic_set_irq(&f.l, 0xff, false);
	assert_int_equal(rd(&f, IRR0 + 0x70), 0x80000000u);
	assert_int_equal(take(&f), 0xff);
	wr(&f, EOI, 0);
}

static void test_level_eoi_broadcast(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	sw_enable(&f);
	assert_int_equal(lapic_set_irq(&f.l, 0x61, true), 0);
	assert_int_equal(rd(&f, TMR0 + 0x30), 1u << 1);
	assert_int_equal(take(&f), 0x61);
	wr(&f, EOI, 0);
	assert_int_equal(f.neoi, 1);
	assert_int_equal(f.eoi[0], 0x61);
	/* an edge interrupt on the same vector clears TMR */
	lapic_set_irq(&f.l, 0x61, false);
	assert_int_equal(rd(&f, TMR0 + 0x30), 0);
	assert_int_equal(take(&f), 0x61);
	wr(&f, EOI, 0);
	assert_int_equal(f.neoi, 1);
}

static void test_illegal_vectors_and_esr(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	sw_enable(&f);
	wr(&f, LVTERR, 0xfe);           /* error interrupt, vector 0xfe */
	assert_int_equal(lapic_set_irq(&f.l, 0x0f, false), -1);
	/* Linux: write ESR, then read it */
	assert_int_equal(rd(&f, ESR), 0);
	wr(&f, ESR, 0);
	assert_int_equal(rd(&f, ESR), 0x40);            /* receive illegal vector */
	wr(&f, ESR, 0);
	assert_int_equal(rd(&f, ESR), 0);
	assert_int_equal(take(&f), 0xfe);
	wr(&f, EOI, 0);
	/* sending an illegal fixed vector */
	wr(&f, ICR2, 1u << 24);
	wr(&f, ICR, 0x00000005);
	assert_int_equal(f.nipi, 0);
	wr(&f, ESR, 0);
	assert_int_equal(rd(&f, ESR), 0x20);
	assert_int_equal(take(&f), 0xfe);
	/* the timer with an illegal vector */
	wr(&f, LVTERR, 0x100fe);        /* error LVT masked */
	wr(&f, TDCR, 0xb);
	wr(&f, LVTT, 0x03);
	wr(&f, TMICT, 10);
	f.now += 10;
	lapic_timer_update(&f.l);
	wr(&f, ESR, 0);
	assert_int_equal(rd(&f, ESR), 0x40);
	assert_int_equal(lapic_pending_vector(&f.l), -1);
}

static void test_software_disable(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	/* at reset the APIC is software-disabled: fixed interrupts dropped */
	assert_int_equal(lapic_set_irq(&f.l, 0x40, false), -1);
	assert_int_equal(f.l.dropped, 1);
	/* LVT writes keep the mask while disabled */
	wr(&f, LVTT, 0x000000ef);
	assert_int_equal(rd(&f, LVTT), 0x000100ef);
	sw_enable(&f);
	wr(&f, LVTT, 0x000200ef);       /* periodic, unmasked */
	wr(&f, LVT0, 0x00000700);
	wr(&f, LVTERR, 0x000000fe);
	assert_int_equal(rd(&f, LVTT), 0x000200ef);
	assert_int_equal(lapic_set_irq(&f.l, 0x40, false), 0);
	/* clearing SVR.enable masks every LVT and keeps IRR */
	wr(&f, SVR, 0x0ff);
	assert_int_equal(rd(&f, LVTT), 0x000300ef);
	assert_int_equal(rd(&f, LVT0), 0x00010700);
	assert_int_equal(rd(&f, LVTERR), 0x000100fe);
	assert_int_equal(rd(&f, LVTTHM) & 0x10000, 0x10000);
	assert_false(lapic_accept_pic_intr(&f.l));
	assert_int_equal(lapic_pending_vector(&f.l), 0x40);     /* held */
	/* re-enabling does not unmask */
	sw_enable(&f);
	assert_int_equal(rd(&f, LVTT), 0x000300ef);
	/* the timer runs but stays masked */
	wr(&f, TMICT, 100);
	assert_int_equal(lapic_next_timer_event_ns(&f.l), LAPIC_NO_EVENT);
	/* SVR keeps vector, enable, focus bits */
	wr(&f, SVR, 0xffffffff);
	assert_int_equal(rd(&f, SVR), 0x3ff);
}

static void test_linux_xapic_setup(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	/* setup_local_APIC(), roughly */
	wr(&f, TPR, rd(&f, TPR) & ~0xffu);
	wr(&f, DFR, 0xffffffff);        /* flat */
	wr(&f, LDR, (rd(&f, LDR) & ~0xff000000u) | (1u << 24));
	assert_int_equal(rd(&f, LDR), 0x01000000);
	assert_int_equal(rd(&f, DFR), 0xffffffff);
	wr(&f, SVR, (rd(&f, SVR) & ~0xffu) | 0x100 | 0xff);
	wr(&f, LVT0, 0x00010700);       /* ExtINT, masked (IOAPIC in use) */
	wr(&f, LVT1, 0x00000400);       /* NMI */
	assert_false(lapic_accept_pic_intr(&f.l));
	wr(&f, LVTERR, 0xfe);
	wr(&f, ESR, 0);
	wr(&f, ESR, 0);
	assert_int_equal(rd(&f, ESR), 0);
	assert_int_equal(rd(&f, LVT1), 0x400);
	/* remote IRR bit of LINT0 is read-only, DFR low bits read 1 */
	wr(&f, LVT0, 0x0001c700);
	assert_int_equal(rd(&f, LVT0), 0x00018700);
	wr(&f, DFR, 0x0);
	assert_int_equal(rd(&f, DFR), 0x0fffffff);
	/* virtual wire through LINT0 as Linux's check_timer() may set it */
	wr(&f, LVT0, 0x00000700);
	assert_true(lapic_accept_pic_intr(&f.l));
	wr(&f, LVT0, 0x00000000);       /* fixed: not for the PIC */
	assert_false(lapic_accept_pic_intr(&f.l));
	/* the xAPIC ID register is not writable here */
	wr(&f, ID, 0x07000000);
	assert_int_equal(rd(&f, ID), 0);
}

static void test_icr_ipis_xapic(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	sw_enable(&f);
	/* Linux wakeup_secondary_cpu_via_init() to APIC ID 2 */
	wr(&f, ICR2, 2u << 24);
	wr(&f, ICR, 0x0000c500);        /* INIT, level, assert */
	wr(&f, ICR2, 2u << 24);
	wr(&f, ICR, 0x00008500);        /* INIT de-assert: no effect */
	assert_int_equal(f.nipi, 1);
	assert_int_equal(f.ipi[0].delivery, LAPIC_DM_INIT);
	assert_int_equal(f.ipi[0].dest, 2);
	assert_true(f.ipi[0].level);
	assert_true(f.ipi[0].trigger_level);
	assert_int_equal(f.ipi[0].shorthand, LAPIC_SH_NONE);
	assert_false(f.ipi[0].logical);
	assert_int_equal(rd(&f, ICR) & 0x1000, 0);      /* delivery status idle */
	wr(&f, ICR2, 2u << 24);
	wr(&f, ICR, 0x0000069f);        /* STARTUP, vector 0x9f (0x9f000) */
	wr(&f, ICR, 0x0000069f);
	assert_int_equal(f.nipi, 3);
	assert_int_equal(f.ipi[1].delivery, LAPIC_DM_SIPI);
	assert_int_equal(f.ipi[1].vector, 0x9f);
	assert_int_equal(f.ipi[2].dest, 2);             /* ICR2 is kept */
	assert_int_equal(rd(&f, ICR2), 2u << 24);
	/* fixed IPI, logical destination */
	wr(&f, ICR2, 0x0f000000);
	wr(&f, ICR, 0x000008fd);
	assert_int_equal(f.ipi[3].delivery, LAPIC_DM_FIXED);
	assert_true(f.ipi[3].logical);
	assert_int_equal(f.ipi[3].dest, 0x0f);
	assert_int_equal(f.ipi[3].vector, 0xfd);
	assert_int_equal(f.ipi[3].src_id, 0);
	/* self shorthand, all-but-self NMI */
	wr(&f, ICR, 0x000400f0);
	assert_int_equal(f.ipi[4].shorthand, LAPIC_SH_SELF);
	assert_int_equal(f.ipi[4].vector, 0xf0);
	/* fuzz_lapic: a self-IPI names the sender, not ICR2's 0x0f */
	assert_int_equal(f.ipi[4].dest, 0);
	wr(&f, ICR, 0x000c0400);
	assert_int_equal(f.ipi[5].shorthand, LAPIC_SH_OTHERS);
	assert_int_equal(f.ipi[5].delivery, LAPIC_DM_NMI);
	/* undefined combinations are dropped: self + INIT, ExtINT, DM 3 */
	wr(&f, ICR, 0x00044500);
	wr(&f, ICR, 0x00000700);
	wr(&f, ICR, 0x00000330);
	assert_int_equal(f.nipi, 6);
	assert_int_equal(f.l.ipis_sent, 6);
	/* reserved ICR bits read 0 */
	wr(&f, ICR, 0xfffff0f1);
	assert_int_equal(rd(&f, ICR), 0x000cc0f1);
	/* a missing callback is fine */
	f.l.cfg.send_ipi = NULL;
	wr(&f, ICR, 0x000000f1);
}

static void test_icr_ipis_x2apic(void **state)
{
	struct fake f;

	(void)state;
	fake_init_cfg(&f, 0x11, true, true);
	wrmsr(&f, 0x80f, 0x1ff);
	wrmsr(&f, 0x830, (0x12ULL << 32) | 0x0000c500);
	assert_int_equal(f.ipi[0].dest, 0x12);
	assert_int_equal(f.ipi[0].delivery, LAPIC_DM_INIT);
	wrmsr(&f, 0x830, (0x12ULL << 32) | 0x00000610);
	assert_int_equal(f.ipi[1].delivery, LAPIC_DM_SIPI);
	assert_int_equal(f.ipi[1].vector, 0x10);
	/* x2APIC cluster logical destination, 32 bits */
	wrmsr(&f, 0x830, (0x00030004ULL << 32) | 0x000008ec);
	assert_true(f.ipi[2].logical);
	assert_int_equal(f.ipi[2].dest, 0x00030004);
	/* SELF IPI register */
	wrmsr(&f, 0x83f, 0xe3);
	assert_int_equal(f.nipi, 4);
	assert_int_equal(f.ipi[3].shorthand, LAPIC_SH_SELF);
	assert_int_equal(f.ipi[3].vector, 0xe3);
	assert_int_equal(f.ipi[3].delivery, LAPIC_DM_FIXED);
	assert_int_equal(f.ipi[3].src_id, 0x11);
	/* the hypervisor delivers it back */
	assert_true(lapic_match_dest(&f.l, f.ipi[3].src_id, false));
	lapic_set_irq(&f.l, f.ipi[3].vector, f.ipi[3].trigger_level);
	assert_int_equal(take(&f), 0xe3);
	assert_int_equal(rdmsr(&f, 0x817), 1u << 3);    /* ISR word 7 */
	wrmsr(&f, 0x80b, 0);
	assert_int_equal(rdmsr(&f, 0x817), 0);
}

static void test_match_dest(void **state)
{
	struct fake f;

	(void)state;
	fake_init_cfg(&f, 5, false, false);
	/* physical */
	assert_true(lapic_match_dest(&f.l, 5, false));
	assert_false(lapic_match_dest(&f.l, 6, false));
	assert_true(lapic_match_dest(&f.l, 0xff, false));
	/* flat logical */
	wr(&f, LDR, 0x04000000);
	assert_true(lapic_match_dest(&f.l, 0x04, true));
	assert_true(lapic_match_dest(&f.l, 0x0c, true));
	assert_false(lapic_match_dest(&f.l, 0x03, true));
	assert_true(lapic_match_dest(&f.l, 0xff, true));
	/* cluster logical */
	wr(&f, DFR, 0x0fffffff);
	wr(&f, LDR, 0x12000000);        /* cluster 1, member bit 1 */
	assert_true(lapic_match_dest(&f.l, 0x12, true));
	assert_true(lapic_match_dest(&f.l, 0x13, true));
	assert_false(lapic_match_dest(&f.l, 0x22, true));
	assert_false(lapic_match_dest(&f.l, 0x14, true));
	/* x2APIC: 32-bit physical, cluster logical */
	to_x2apic(&f);
	assert_int_equal(rdmsr(&f, 0x80d), 0x00000020);
	assert_true(lapic_match_dest(&f.l, 5, false));
	assert_false(lapic_match_dest(&f.l, 0x105, false));
	assert_true(lapic_match_dest(&f.l, 0xffffffffu, false));
	assert_true(lapic_match_dest(&f.l, 0x00000020, true));
	assert_true(lapic_match_dest(&f.l, 0x0000ffff, true));
	assert_false(lapic_match_dest(&f.l, 0x00010020, true));
	assert_false(lapic_match_dest(&f.l, 0x00000010, true));
	/* disabled APIC matches nothing */
	wrmsr(&f, 0x1b, 0xfee00000);
	assert_false(lapic_match_dest(&f.l, 0xffffffffu, false));
	assert_false(lapic_match_dest(NULL, 0, false));
}

static void test_timer_oneshot_and_divide(void **state)
{
	struct fake f;
	static const struct { uint32_t tdcr; uint64_t div; } divs[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
		{ 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
	};

	(void)state;
	fake_init(&f);
	sw_enable(&f);
	for (size_t i = 0; i < sizeof(divs) / sizeof(divs[0]); i++) {
		uint64_t t0, d = divs[i].div;

		wr(&f, TDCR, divs[i].tdcr | 0xf0);
		assert_int_equal(rd(&f, TDCR), divs[i].tdcr);
		wr(&f, LVTT, 0xec);                     /* one-shot */
		t0 = f.now;
		wr(&f, TMICT, 1000);
		assert_int_equal(rd(&f, TMICT), 1000);
		assert_int_equal(rd(&f, TMCCT), 1000);
		assert_int_equal(lapic_next_timer_event_ns(&f.l), t0 + 1000 * d);
		f.now = t0 + 250 * d;
		assert_int_equal(rd(&f, TMCCT), 750);
		f.now = t0 + 1000 * d - 1;
		assert_int_equal(take(&f), -1);
		assert_int_equal(rd(&f, TMCCT), 1);
		f.now = t0 + 1000 * d;
		assert_int_equal(take(&f), 0xec);
		wr(&f, EOI, 0);
		assert_int_equal(rd(&f, TMCCT), 0);
		assert_int_equal(lapic_next_timer_event_ns(&f.l), LAPIC_NO_EVENT);
		f.now += 100000;
		assert_int_equal(take(&f), -1);         /* once only */
		f.now += 12345;
	}
	assert_int_equal(f.l.timer_irqs, 8);
	/* writing 0 stops it */
	wr(&f, TMICT, 50);
	wr(&f, TMICT, 0);
	f.now += 1000000;
	assert_int_equal(take(&f), -1);
	assert_int_equal(lapic_next_timer_event_ns(&f.l), LAPIC_NO_EVENT);
	/* changing the divider keeps the current count */
	wr(&f, TDCR, 0xb);              /* /1 */
	wr(&f, TMICT, 1000);
	f.now += 400;
	wr(&f, TDCR, 0x0);              /* /2: 600 counts left = 1200 ns */
	assert_int_equal(rd(&f, TMCCT), 600);
	assert_int_equal(lapic_next_timer_event_ns(&f.l), f.now + 1200);
	f.now += 1200;
	assert_int_equal(take(&f), 0xec);
	wr(&f, EOI, 0);
	/* a masked one-shot expiring does not interrupt later */
	wr(&f, LVTT, 0x100ec);
	wr(&f, TMICT, 10);
	assert_int_equal(lapic_next_timer_event_ns(&f.l), LAPIC_NO_EVENT);
	f.now += 100;
	wr(&f, LVTT, 0xec);
	assert_int_equal(take(&f), -1);
}

static void test_timer_periodic(void **state)
{
	struct fake f;
	uint64_t t0;
	unsigned k;

	(void)state;
	fake_init(&f);
	sw_enable(&f);
	wr(&f, TDCR, 0x3);              /* /16 */
	wr(&f, LVTT, 0x200ef);          /* periodic */
	t0 = f.now;
	wr(&f, TMICT, 625);             /* 10 us period */
	for (k = 1; k <= 100; k++) {
		uint64_t e = lapic_next_timer_event_ns(&f.l);

		assert_int_equal(e, t0 + k * 10000);
		f.now = e - 1;
		assert_int_equal(take(&f), -1);
		assert_int_equal(rd(&f, TMCCT), 1);
		f.now = e;
		assert_int_equal(take(&f), 0xef);
		wr(&f, EOI, 0);
		assert_int_equal(rd(&f, TMCCT), 625);
	}
	/* missed periods coalesce into one interrupt */
	f.now += 55000;
	assert_int_equal(take(&f), 0xef);
	wr(&f, EOI, 0);
	assert_int_equal(take(&f), -1);
	assert_int_equal(lapic_next_timer_event_ns(&f.l), t0 + 106 * 10000);
	/* masked periods are lost, not queued */
	wr(&f, LVTT, 0x300ef);
	f.now += 100000;
	wr(&f, LVTT, 0x200ef);
	assert_int_equal(take(&f), -1);
	/* periodic -> one-shot: this period ends it */
	wr(&f, LVTT, 0x000ef);
	f.now = lapic_next_timer_event_ns(&f.l);
	assert_int_equal(take(&f), 0xef);
	wr(&f, EOI, 0);
	assert_int_equal(lapic_next_timer_event_ns(&f.l), LAPIC_NO_EVENT);
	assert_int_equal(rd(&f, TMCCT), 0);
}

static void test_timer_tsc_deadline(void **state)
{
	struct fake f;

	(void)state;
	fake_init_cfg(&f, 0, true, true);
	wrmsr(&f, 0x80f, 0x1ff);
	/* not in deadline mode: the MSR reads 0 and ignores writes */
	wrmsr(&f, 0x6e0, 123);
	assert_int_equal(rdmsr(&f, 0x6e0), 0);
	wrmsr(&f, 0x838, 1000);
	wrmsr(&f, 0x832, 0x400ee);      /* TSC-deadline: disarms the count */
	assert_int_equal(rdmsr(&f, 0x838), 0);
	wrmsr(&f, 0x838, 1000);         /* ignored in this mode */
	assert_int_equal(rdmsr(&f, 0x838), 0);
	assert_int_equal(rdmsr(&f, 0x839), 0);
	assert_int_equal(lapic_next_timer_event_ns(&f.l), LAPIC_NO_EVENT);
	/* Linux lapic_next_deadline(): wrmsr(TSC_DEADLINE, rdtsc() + delta) */
	wrmsr(&f, 0x6e0, f.tsc + 3000);
	assert_int_equal(rdmsr(&f, 0x6e0), 5003000);
	assert_int_equal(lapic_next_timer_event_ns(&f.l), f.now + 1500);   /* 2 GHz */
	f.tsc += 2999;
	f.now += 1499;
	assert_int_equal(take(&f), -1);
	f.tsc += 1;
	f.now += 1;
	assert_int_equal(take(&f), 0xee);
	wrmsr(&f, 0x80b, 0);
	assert_int_equal(rdmsr(&f, 0x6e0), 0);          /* disarmed itself */
	assert_int_equal(lapic_next_timer_event_ns(&f.l), LAPIC_NO_EVENT);
	/* a deadline in the past fires at once */
	wrmsr(&f, 0x6e0, 1);
	assert_int_equal(lapic_pending_vector(&f.l), 0xee);
	assert_int_equal(take(&f), 0xee);
	wrmsr(&f, 0x80b, 0);
	/* 0 disarms; leaving deadline mode disarms */
	wrmsr(&f, 0x6e0, f.tsc + 100);
	wrmsr(&f, 0x6e0, 0);
	assert_int_equal(lapic_next_timer_event_ns(&f.l), LAPIC_NO_EVENT);
	wrmsr(&f, 0x6e0, f.tsc + 100);
	wrmsr(&f, 0x832, 0x000ee);
	assert_int_equal(lapic_next_timer_event_ns(&f.l), LAPIC_NO_EVENT);
	wrmsr(&f, 0x832, 0x400ee);
	assert_int_equal(rdmsr(&f, 0x6e0), 0);
	/* masked deadline: no event, no interrupt, still disarms */
	wrmsr(&f, 0x832, 0x500ee);
	wrmsr(&f, 0x6e0, f.tsc + 10);
	assert_int_equal(lapic_next_timer_event_ns(&f.l), LAPIC_NO_EVENT);
	f.tsc += 10;
	assert_int_equal(take(&f), -1);
	assert_int_equal(rdmsr(&f, 0x6e0), 0);
	/* without a TSC callback the TSC is derived from now_ns */
	f.l.cfg.now_tsc = NULL;
	wrmsr(&f, 0x832, 0x400ee);
	wrmsr(&f, 0x6e0, f.now * 2 + 4000);
	assert_int_equal(lapic_next_timer_event_ns(&f.l), f.now + 2000);
}

static void test_reset_and_init(void **state)
{
	struct fake f;

	(void)state;
	fake_init_cfg(&f, 9, true, false);
	sw_enable(&f);
	to_x2apic(&f);
	wrmsr(&f, 0x808, 0x40);
	lapic_set_irq(&f.l, 0x80, false);
	wrmsr(&f, 0x838, 1000);
	lapic_init_reset(&f.l);         /* INIT: mode and ID survive */
	assert_true(lapic_x2apic_mode(&f.l));
	assert_int_equal(rdmsr(&f, 0x802), 9);
	assert_int_equal(rdmsr(&f, 0x80d), 1u << 9);
	assert_int_equal(rdmsr(&f, 0x808), 0);
	assert_int_equal(rdmsr(&f, 0x80f), 0xff);
	assert_int_equal(rdmsr(&f, 0x838), 0);
	assert_int_equal(lapic_pending_vector(&f.l), -1);
	lapic_mmio_ops.reset(&f.l);     /* power-on: xAPIC again */
	assert_true(lapic_xapic_mode(&f.l));
	assert_int_equal(rdmsr(&f, 0x1b), 0xfee00900);
	lapic_reset(NULL);
	lapic_init_reset(NULL);
	lapic_timer_update(NULL);
	assert_int_equal(lapic_next_timer_event_ns(NULL), LAPIC_NO_EVENT);
	assert_int_equal(lapic_pending_vector(NULL), -1);
	assert_int_equal(lapic_set_irq(NULL, 0x40, false), -1);
	assert_false(lapic_accept_pic_intr(NULL));
	assert_int_equal(lapic_get_tpr(NULL), 0);
	lapic_set_tpr(NULL, 1);
}

static void test_mmio_sizes(void **state)
{
	struct fake f;
	uint64_t v;

	(void)state;
	fake_init_cfg(&f, 0x42, true, false);
	/* sub-word reads inside a register */
	assert_int_equal(lapic_mmio_read(&f.l, VER, 1, &v), 0);
	assert_int_equal(v, 0x14);
	assert_int_equal(lapic_mmio_read(&f.l, VER + 2, 1, &v), 0);
	assert_int_equal(v, 0x05);
	assert_int_equal(lapic_mmio_read(&f.l, ID + 2, 2, &v), 0);
	assert_int_equal(v, 0x4200);
	/* bytes 4-15 of a slot, reserved and write-only registers read 0 */
	assert_int_equal(lapic_mmio_read(&f.l, VER + 4, 4, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(rd(&f, 0x000), 0);
	assert_int_equal(rd(&f, EOI), 0);
	assert_int_equal(rd(&f, 0x2f0), 0);
	assert_int_equal(rd(&f, 0x3f0), 0);
	assert_int_equal(rd(&f, 0xff0), 0);
	assert_int_equal(rd(&f, APR), 0);
	/* refused: bad sizes, crossing 4 bytes, outside the page */
	v = 0x99;
	assert_int_equal(lapic_mmio_read(&f.l, VER, 8, &v), -1);
	assert_int_equal(lapic_mmio_read(&f.l, VER, 3, &v), -1);
	assert_int_equal(lapic_mmio_read(&f.l, VER + 2, 4, &v), -1);
	assert_int_equal(lapic_mmio_read(&f.l, VER + 3, 2, &v), -1);
	assert_int_equal(lapic_mmio_read(&f.l, 0x1000, 4, &v), -1);
	assert_int_equal(lapic_mmio_read(&f.l, ~0ULL, 1, &v), -1);
	assert_int_equal(lapic_mmio_write(&f.l, 0x1000, 4, 0), -1);
	assert_int_equal(lapic_mmio_write(&f.l, TPR, 8, 0), -1);
	assert_int_equal(lapic_mmio_read(&f.l, TPR, 4, NULL), -1);
	assert_int_equal(lapic_mmio_read(NULL, TPR, 4, &v), -1);
	assert_int_equal(lapic_mmio_write(NULL, TPR, 4, 0), -1);
	assert_int_equal(v, 0x99);
	/* narrow or misaligned writes are ignored */
	assert_int_equal(lapic_mmio_write(&f.l, TPR, 1, 0x55), 0);
	assert_int_equal(lapic_mmio_write(&f.l, TPR + 4, 4, 0x55), 0);
	assert_int_equal(rd(&f, TPR), 0);
	/* writes to read-only registers are ignored */
	wr(&f, VER, 0);
	wr(&f, PPR, 0xff);
	wr(&f, IRR0, 0xffffffff);
	wr(&f, TMCCT, 5);
	assert_int_equal(rd(&f, VER), 0x00050014);
	assert_int_equal(rd(&f, IRR0), 0);
	assert_int_equal(rd(&f, TMCCT), 0);
}

/* ------------------------------------------------------------ random */

static uint64_t xs_state;

static uint64_t xorshift(void)
{
	uint64_t x = xs_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	xs_state = x;
	return x;
}

static int ref_highest(const uint32_t *r)
{
	for (int v = 255; v >= 0; v--)
		if (r[v / 32] & (1u << (v % 32)))
			return v;
	return -1;
}

static void check_invariants(struct fake *f)
{
	const struct lapic *l = &f->l;
	int isrv = ref_highest(l->isr), irrv = ref_highest(l->irr);
	uint32_t ppr_ref = (l->tpr & 0xf0) >= (uint32_t)(isrv < 0 ? 0 : isrv & 0xf0) ?
			   l->tpr : (uint32_t)(isrv & 0xf0);
	int pend = lapic_pending_vector(l);
	uint64_t e;

	if (lapic_x2apic_mode(l)) {
		uint64_t v;

		assert_int_equal(lapic_rdmsr(&f->l, 0x80a, &v), 0);
		assert_int_equal(v, ppr_ref);
		assert_int_equal(l->ldr, ((l->id >> 4) << 16) | (1u << (l->id & 15)));
	} else if (lapic_xapic_mode(l)) {
		assert_int_equal(rd(f, PPR), ppr_ref);
	}
	if (!(l->apic_base & LAPIC_BASE_EN) || irrv < 0 ||
	    (irrv & 0xf0) <= (int)(ppr_ref & 0xf0))
		assert_int_equal(pend, -1);
	else
		assert_int_equal(pend, irrv);
	/* the word summaries match the registers */
	for (int w = 0; w < 8; w++) {
		assert_int_equal((l->irr_sum >> w) & 1, l->irr[w] != 0);
		assert_int_equal((l->isr_sum >> w) & 1, l->isr[w] != 0);
	}
	/* vectors 0-15 never enter IRR or ISR */
	assert_int_equal(l->irr[0] & 0xffff, 0);
	assert_int_equal(l->isr[0] & 0xffff, 0);
	if (!(l->svr & 0x100))
		for (int i = 0; i < LAPIC_NLVT; i++)
			if (i != LAPIC_LVT_LINT0 || !l->cfg.bsp)
				assert_true(l->lvt[i] & 0x10000);
	assert_int_equal(l->tdcr & ~0xbu, 0);
	assert_true(l->tpr <= 0xff);
	/* once updated, the next timer event is in the future */
	lapic_timer_update(&f->l);
	e = lapic_next_timer_event_ns(&f->l);
	assert_true(e == LAPIC_NO_EVENT || e > f->now);
}

static void test_random_sequences(void **state)
{
	struct fake f;
	unsigned i;
	static const unsigned regs[] = { TPR, EOI, LDR, DFR, SVR, ESR, ICR, ICR2,
					 LVTT, LVTTHM, LVTPC, LVT0, LVT1, LVTERR,
					 TMICT, TDCR, ID, PPR, ISR0, IRR0 + 0x70 };

	(void)state;
	fake_init_cfg(&f, 2, true, false);
	xs_state = 0xa91cfee00000ULL;
	for (i = 0; i < 100000; i++) {
		uint64_t r = xorshift(), v = xorshift();
		unsigned reg = regs[(v >> 8) % (sizeof(regs) / sizeof(regs[0]))];
		uint64_t got;

		switch (r % 14) {
		case 0: case 1:
			lapic_set_irq(&f.l, (uint8_t)v, (v >> 8) & 1);
			break;
		case 2: case 3:
			(void)take(&f);
			break;
		case 4:
			if (lapic_xapic_mode(&f.l))
				wr(&f, EOI, 0);
			else
				(void)lapic_wrmsr(&f.l, 0x80b, 0);
			break;
		case 5: case 6: {
			/* keep SVR mostly enabled and timers fast */
			uint32_t val = (uint32_t)(v >> 16);

			if (reg == SVR && (v >> 48) % 4)
				val |= 0x100;
			if (reg == TMICT)
				val %= 5000;
			if (reg == ICR)
				val &= ~0x700u;         /* keep IPIs fixed */
			if (lapic_xapic_mode(&f.l))
				wr(&f, reg, val);
			else
				(void)lapic_wrmsr(&f.l, 0x800 + reg / 16, val);
			break;
		}
		case 7:
			if (lapic_xapic_mode(&f.l))
				(void)rd(&f, (unsigned)(v % 0x1000) & ~3u);
			else
				(void)lapic_rdmsr(&f.l, 0x800 + (uint32_t)(v % 256), &got);
			break;
		case 8:
			f.now += (v >> 20) % 20000;
			f.tsc += (v >> 40) % 40000;
			lapic_timer_update(&f.l);
			break;
		case 9: {
			uint64_t e = lapic_next_timer_event_ns(&f.l);

			/* jumping exactly to the event fires the timer once */
			if (e != LAPIC_NO_EVENT && e - f.now < 100000000 &&
			    ((f.l.lvt[0] >> 17) & 3) != 2) {
				uint64_t before = f.l.timer_irqs;

				f.now = e - 1;
				lapic_timer_update(&f.l);
				assert_int_equal(f.l.timer_irqs, before);
				f.now = e;
				lapic_timer_update(&f.l);
				assert_int_equal(f.l.timer_irqs, before + 1);
			}
			break;
		}
		case 10:
			/* mode changes, legal or not */
			(void)lapic_wrmsr(&f.l, 0x1b, 0xfee00000 | ((v & 3) << 10) | 0x100);
			break;
		case 11:
			(void)lapic_wrmsr(&f.l, 0x6e0, f.tsc + (v >> 50));
			(void)lapic_wrmsr(&f.l, 0x800 + (uint32_t)(v % 256), v >> 20);
			break;
		case 12: {
			unsigned size = (unsigned)(v % 9);
			uint64_t off = (v >> 8) % 0x1010;
			bool ok = off < 0x1000 && (size == 1 || size == 2 || size == 4) &&
				  (off & 3) + size <= 4;
			int ret;

			if (v & (1ULL << 40))
				ret = lapic_mmio_read(&f.l, off, size, &got);
			else
				ret = lapic_mmio_write(&f.l, off, size, v >> 41);
			assert_int_equal(ret, ok ? 0 : -1);
			break;
		}
		default:
			if ((v >> 30) % 1024 == 0)
				lapic_reset(&f.l);
			else if ((v >> 30) % 1024 == 1)
				lapic_init_reset(&f.l);
			else if (!lapic_xapic_mode(&f.l) && !lapic_x2apic_mode(&f.l))
				(void)lapic_wrmsr(&f.l, 0x1b, 0xfee00900);
			break;
		}
		check_invariants(&f);
	}
	assert_true(f.l.timer_irqs > 10);
	assert_true(f.nipi > 100);
}

/*
 * lapic_pending_vector() and lapic_peek() find the word from a summary and
 * the bit by clz; the same answers as the bit-by-bit reference (ref_highest) for
 * random sparse and dense registers and every TPR class.
 */
static void test_pending_vector_wordwise(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	sw_enable(&f);
	xs_state = 0x5eed0f1a9ULL;
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t r = xorshift();
		int isr, irr, isrv, irrv, want;
		uint32_t prio, ppr_ref;

		for (unsigned w = 0; w < 8; w++) {
			uint64_t a = xorshift(), b = xorshift();

			/* mostly empty words, some single bits, some dense */
			f.l.irr[w] = (r >> w) & 1 ? (uint32_t)(a & b & (a >> 32)) :
				     (r >> (8 + w)) & 1 ? 1u << (a & 31) : 0;
			f.l.isr[w] = (r >> (16 + w)) & 1 ? 1u << (b & 31) : 0;
			if ((r >> (24 + w)) & 1)
				f.l.irr[w] = 0x80000000u >> (b & 31);
		}
		if ((r >> 40) % 7 == 0)
			memset(f.l.isr, 0, sizeof(f.l.isr));
		if ((r >> 44) % 5 == 0)
			memset(f.l.irr, 0, sizeof(f.l.irr));
		f.l.tpr = (uint32_t)(r >> 48) & 0xff;
		f.l.isr_sum = f.l.irr_sum = 0;          /* the summaries of what was poked */
		for (unsigned w = 0; w < 8; w++) {
			f.l.isr_sum |= (uint8_t)((f.l.isr[w] != 0) << w);
			f.l.irr_sum |= (uint8_t)((f.l.irr[w] != 0) << w);
		}
		isrv = ref_highest(f.l.isr);
		irrv = ref_highest(f.l.irr);
		ppr_ref = (f.l.tpr & 0xf0) >= (uint32_t)(isrv < 0 ? 0 : isrv & 0xf0) ?
			  f.l.tpr : (uint32_t)(isrv & 0xf0);
		want = irrv < 0 || (irrv & 0xf0) <= (int)(ppr_ref & 0xf0) ? -1 : irrv;
		assert_int_equal(lapic_pending_vector(&f.l), want);
		lapic_peek(&f.l, &isr, &irr, &prio);
		assert_int_equal(isr, isrv);
		assert_int_equal(irr, irrv);
		assert_int_equal(prio, ppr_ref);
	}
}

/* A clock as the hypervisor has it: the guest TSC is the master and now_ns
 * is floor(tsc * 1e9 / hz). */
struct tsc_clock {
	uint64_t tsc, hz;
};

static uint64_t clk_tsc(void *opaque)
{
	return ((struct tsc_clock *)opaque)->tsc;
}

static uint64_t clk_ns(void *opaque)
{
	const struct tsc_clock *c = opaque;

	return c->tsc / c->hz * 1000000000ULL + c->tsc % c->hz * 1000000000ULL / c->hz;
}

/* Whether lapic_timer_update() at tsc t would fire l's timer (on a copy). */
static bool fires_at(const struct lapic *l, struct tsc_clock *c, uint64_t t)
{
	struct lapic copy = *l;
	uint64_t saved = c->tsc;

	c->tsc = t;
	lapic_timer_update(&copy);
	c->tsc = saved;
	return copy.timer_irqs != l->timer_irqs;
}

/*
 * lapic_timer_due_tsc() is the first TSC tick at which the update fires:
 * never late (it fires there), never early (it does not one tick before),
 * in one-shot, periodic and TSC-deadline modes, every divider, TSC rates
 * around 1 GHz (QEMU), 50 MHz (Bochs) and 3 GHz; masked timers have none.
 */
static void test_timer_due_tsc(void **state)
{
	static const uint64_t hzs[] = { 999931000ULL, 49995000ULL, 3000000007ULL, 1000000000ULL };
	static const uint32_t modes[] = { 0, 1u << 17, 2u << 17 };

	(void)state;
	xs_state = 0xd0e7157cULL;
	for (unsigned i = 0; i < 20000; i++) {
		struct tsc_clock clk = { 0, hzs[i % 4] };
		struct lapic l;
		struct lapic_config cfg = {
			.id = 0, .bsp = true, .x2apic_supported = true, .x2apic_at_reset = true,
			.timer_hz = 1000000000, .tsc_hz = clk.hz,
			.now_ns = clk_ns, .now_tsc = clk_tsc, .opaque = &clk,
		};
		uint64_t r = xorshift(), v = xorshift(), due;
		uint32_t mode = modes[r % 3];
		bool masked = (r >> 4) % 8 == 0;

		clk.tsc = xorshift() >> (20 + (r >> 8) % 40);
		lapic_init(&l, &cfg);
		assert_int_equal(lapic_wrmsr(&l, 0x80f, 0x1ff), 0);
		assert_int_equal(lapic_wrmsr(&l, 0x832, mode | 0x30 | (masked ? 0x10000u : 0)), 0);
		assert_int_equal(lapic_wrmsr(&l, 0x83e, (v >> 3) & 0xb), 0);
		if (mode == (2u << 17))
			assert_int_equal(lapic_wrmsr(&l, 0x6e0, clk.tsc + (v >> 20) % 5000000), 0);
		else
			assert_int_equal(lapic_wrmsr(&l, 0x838, (uint32_t)(v >> 32) % 100000), 0);
		/* let a few expiries of a periodic timer pass */
		for (unsigned k = 0; k < (r >> 12) % 4; k++) {
			due = lapic_timer_due_tsc(&l);
			if (due == LAPIC_NO_EVENT)
				break;
			clk.tsc = due + (xorshift() % 3 ? 0 : xorshift() % 1000);
			lapic_timer_update(&l);
		}
		due = lapic_timer_due_tsc(&l);
		if (masked) {
			assert_true(due == LAPIC_NO_EVENT);
			continue;
		}
		if (due == LAPIC_NO_EVENT) {
			assert_false(fires_at(&l, &clk, clk.tsc + 1000000000ULL));
			continue;
		}
		assert_true(fires_at(&l, &clk, due));
		if (due > clk.tsc)
			assert_false(fires_at(&l, &clk, due - 1));
		assert_true(fires_at(&l, &clk, due + (xorshift() % 100000)));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops_and_reset_state),
		cmocka_unit_test(test_apic_base_transitions),
		cmocka_unit_test(test_x2apic_msr_rules),
		cmocka_unit_test(test_x2apic_read_timer_progress),
		cmocka_unit_test(test_priority_and_eoi),
		cmocka_unit_test(test_level_eoi_broadcast),
		cmocka_unit_test(test_illegal_vectors_and_esr),
		cmocka_unit_test(test_software_disable),
		cmocka_unit_test(test_linux_xapic_setup),
		cmocka_unit_test(test_icr_ipis_xapic),
		cmocka_unit_test(test_icr_ipis_x2apic),
		cmocka_unit_test(test_match_dest),
		cmocka_unit_test(test_timer_oneshot_and_divide),
		cmocka_unit_test(test_timer_periodic),
		cmocka_unit_test(test_timer_tsc_deadline),
		cmocka_unit_test(test_reset_and_init),
		cmocka_unit_test(test_mmio_sizes),
		cmocka_unit_test(test_random_sequences),
		cmocka_unit_test(test_pending_vector_wordwise),
		cmocka_unit_test(test_timer_due_tsc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
