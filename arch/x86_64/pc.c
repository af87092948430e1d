/*
 * The PC chipset of an x86 VM ("pc" in its config), wired the way a PC is:
 * ISA IRQs fan out to the 8259 pair and to the IOAPIC (IRQ 0 on pin 2), the
 * IOAPIC delivers to the local APICs, their EOIs reach back to the IOAPIC,
 * and the master 8259's INTR reaches vCPU 0 through LINT0 (virtual wire).
 * Device time is the VM's own: nanoseconds since it started, from the TSC.
 */
#include "arch/x86_64/x86.h"
#include "arch/x86_64/x86vcpu.h"
#include "core/console.h"
#include "core/log.h"
#include "lib/printf.h"

_Static_assert(CFG_MAX_VCPUS <= 8, "x86_pc.window has a bit per vCPU");

uint64_t x86_tsc_to_ns(uint64_t tsc)
{
	uint64_t hz = x86_plat.tsc_hz;

	return tsc / hz * 1000000000ULL + tsc % hz * 1000000000ULL / hz;
}

uint64_t x86_ns_to_tsc(uint64_t ns)
{
	uint64_t hz = x86_plat.tsc_hz;

	return ns / 1000000000ULL * hz + ns % 1000000000ULL * hz / 1000000000ULL;
}

/* The VM's clock: guest TSC (host TSC + its offset) in nanoseconds. */
static uint64_t vm_now_ns(void *opaque)
{
	struct vm *vm = opaque;

	return x86_tsc_to_ns(rdtsc() + vm->arch.tsc_offset);
}

static uint64_t vm_now_tsc(void *opaque)
{
	struct vm *vm = opaque;

	return rdtsc() + vm->arch.tsc_offset;
}

static uint64_t vcpu_now_ns(void *opaque)
{
	return vm_now_ns(((struct vcpu *)opaque)->vm);
}

static uint64_t vcpu_now_tsc(void *opaque)
{
	return vm_now_tsc(((struct vcpu *)opaque)->vm);
}

static void vm_wallclock(void *opaque, uint64_t *sec, uint32_t *nsec)
{
	uint64_t ns = vm_now_ns(opaque);

	*sec = 1767225600ULL + ns / 1000000000ULL;      /* 2026-01-01 + VM uptime */
	*nsec = (uint32_t)(ns % 1000000000ULL);
}

/* An ISA IRQ line: both interrupt controllers see it, as on a PC. */
static void isa_irq(void *opaque, unsigned irq, bool level)
{
	struct vm *vm = opaque;

	vm->arch.pc.lines_changed = true;
	i8259_set_irq(&vm->arch.pc.pic, irq, level);
	ioapic_set_irq(&vm->arch.pc.ioapic, irq == 0 ? 2 : irq, level);
}

static void pic_intr(void *opaque, unsigned line, bool level)
{
	struct vm *vm = opaque;

	UNUSED(line);
	if (level)
		vcpu_kick(&vm->vcpus[0]);
}

static void ioapic_deliver(void *opaque, uint32_t dest, bool logical, uint8_t mode,
			   uint8_t vector, bool level)
{
	struct vm *vm = opaque;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!lapic_match_dest(&v->arch.lapic, dest, logical))
			continue;
		if (mode == 0 || mode == 1) {           /* fixed, lowest priority */
			if (lapic_set_irq(&v->arch.lapic, vector, level) == 0)
				vcpu_kick(v);
			if (mode == 1)
				break;
		} else if (mode == 7) {                 /* ExtINT: the 8259 answers */
			vcpu_kick(v);
		}
	}
}

static void lapic_ipi(void *opaque, const struct lapic_ipi *ipi)
{
	struct vcpu *src = opaque;
	struct vm *vm = src->vm;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		bool self = v == src;

		if ((ipi->shorthand == LAPIC_SH_SELF && !self) ||
		    (ipi->shorthand == LAPIC_SH_OTHERS && self) ||
		    (ipi->shorthand == LAPIC_SH_NONE &&
		     !lapic_match_dest(&v->arch.lapic, ipi->dest, ipi->logical)))
			continue;
		if (ipi->delivery == LAPIC_DM_FIXED || ipi->delivery == LAPIC_DM_LOWEST) {
			if (lapic_set_irq(&v->arch.lapic, ipi->vector, false) == 0)
				vcpu_kick(v);
		} else if (ipi->delivery == LAPIC_DM_INIT && !self && (ipi->level || !ipi->trigger_level))
			x86_vcpu_init_signal(v);        /* (a level de-assert does nothing) */
		else if (ipi->delivery == LAPIC_DM_SIPI && !self)
			x86_vcpu_sipi(v, ipi->vector);
	}
}

static void lapic_eoi(void *opaque, uint8_t vector)
{
	struct vcpu *v = opaque;

	ioapic_eoi(&v->vm->arch.pc.ioapic, vector);
}

struct irq_line arch_vm_irq_line(struct vm *vm, uint32_t irq)
{
	if (!vm->arch.pc.present)
		return (struct irq_line){ NULL, NULL, 0 };
	return (struct irq_line){ isa_irq, vm, irq };
}

static int add(struct bus *b, uint64_t base, uint64_t size, const struct dev_ops *ops, void *dev)
{
	return bus_add(b, base, size, ops, dev, 0);
}

/*
 * The PIT's and the RTC's ports, through these wrappers: an access can
 * change when the device next raises its IRQ, so the chipset's cached time
 * for it (pit_due, cmos_due) is dropped (0: "check now"), and the next
 * check brings the model up to date and computes it again.
 */
static struct x86_pc *pc_of_pit(void *dev)
{
	return (struct x86_pc *)((char *)dev - offsetof(struct x86_pc, pit));
}

static struct x86_pc *pc_of_cmos(void *dev)
{
	return (struct x86_pc *)((char *)dev - offsetof(struct x86_pc, cmos));
}

static int pit_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	pc_of_pit(dev)->pit_due = 0;
	return i8254_read(dev, off, size, val);
}

static int pit_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	pc_of_pit(dev)->pit_due = 0;
	return i8254_write(dev, off, size, val);
}

static void pit_reset(void *dev)
{
	pc_of_pit(dev)->pit_due = 0;
	i8254_reset(dev);
}

static int port61_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	pc_of_pit(dev)->pit_due = 0;
	return i8254_port61_read(dev, off, size, val);
}

static int port61_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	pc_of_pit(dev)->pit_due = 0;
	return i8254_port61_write(dev, off, size, val);
}

/*
 * Whether an edge on IRQ 0 can change anything: the master 8259 latches it
 * (IR0 unmasked, or masked with no request latched yet in edge mode) or
 * the IOAPIC's pin 2 is unmasked. Otherwise (a guest that masked the timer
 * it does not use, as ours and Linux after boot do) the PIT's edges are
 * not followed at all: nothing could see them (the counters themselves
 * are read from the time), so it costs no host timer, no update on the
 * way in, and a VM that was off the CPU for many periods pays nothing to
 * come back (the 16-VM scale row).
 */
static bool pit_heard(const struct x86_pc *pc)
{
	const struct i8259_chip *m = &pc->pic.chip[0];

	if (!(m->imr & 1) || !((m->irr & 1) || m->ltim))
		return true;
	return !(pc->ioapic.rte[2] & IOAPIC_RTE_MASKED);
}

/* A PIC or IOAPIC access may make IRQ 0 heard: an unfollowed PIT is first
 * brought up to now (its edges reach the state before the access, where
 * nobody hears them), then looked at again. */
static void irq0_may_change(struct x86_pc *pc)
{
	if (pc->pit_due == UINT64_MAX) {
		i8254_update(&pc->pit);
		pc->pit_due = 0;
	}
}

static struct x86_pc *pc_of_pic(void *dev)
{
	return (struct x86_pc *)((char *)dev - offsetof(struct x86_pc, pic));
}

static struct x86_pc *pc_of_ioapic(void *dev)
{
	return (struct x86_pc *)((char *)dev - offsetof(struct x86_pc, ioapic));
}

static int pic_m_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	irq0_may_change(pc_of_pic(dev));
	return i8259_master_read(dev, off, size, val);
}

static int pic_m_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	irq0_may_change(pc_of_pic(dev));
	return i8259_master_write(dev, off, size, val);
}

static void pic_reset(void *dev)
{
	irq0_may_change(pc_of_pic(dev));
	i8259_reset(dev);
}

static int pic_elcr_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	irq0_may_change(pc_of_pic(dev));
	return i8259_elcr_write(dev, off, size, val);
}

static int ioapic_write_w(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	irq0_may_change(pc_of_ioapic(dev));
	return ioapic_write(dev, off, size, val);
}

static void ioapic_reset_w(void *dev)
{
	irq0_may_change(pc_of_ioapic(dev));
	ioapic_reset(dev);
}

static const struct dev_ops pc_pic_master_ops = {
	.name = "i8259-master", .read = pic_m_read, .write = pic_m_write, .reset = pic_reset,
};
static const struct dev_ops pc_elcr_ops = {
	.name = "i8259-elcr", .read = i8259_elcr_read, .write = pic_elcr_write, .reset = NULL,
};
static const struct dev_ops pc_ioapic_ops = {
	.name = "ioapic", .read = ioapic_read, .write = ioapic_write_w, .reset = ioapic_reset_w,
};

static int rtc_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	pc_of_cmos(dev)->cmos_due = 0;
	return cmos_read(dev, off, size, val);
}

static int rtc_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	pc_of_cmos(dev)->cmos_due = 0;
	return cmos_write(dev, off, size, val);
}

static void rtc_reset(void *dev)
{
	pc_of_cmos(dev)->cmos_due = 0;
	cmos_reset(dev);
}

static const struct dev_ops pc_pit_ops = {
	.name = "i8254", .read = pit_read, .write = pit_write, .reset = pit_reset,
};
static const struct dev_ops pc_port61_ops = {
	.name = "i8254-port61", .read = port61_read, .write = port61_write, .reset = NULL,
};
static const struct dev_ops pc_cmos_ops = {
	.name = "cmos", .read = rtc_read, .write = rtc_write, .reset = rtc_reset,
};

/*
 * Floors on how soon a device event is watched. A periodic source (the
 * PIT, whatever its mode, and a periodic LAPIC timer) goes on without the
 * guest, so one programmed at MHz rates would take the core with host
 * timer interrupts: with its own interrupts off, the vCPU would exit
 * before running a single instruction (bug 7), and while it waits its
 * turn, its neighbour would pay. It is watched at most every 100 us (KVM
 * limits periodic timers alike); its edges in between coalesce, as for a
 * guest with interrupts off. A one-shot event needs a guest write each, so
 * only a 1 us floor against absurd deadlines. In TSC ticks (set once the
 * TSC rate is known, with the first chipset).
 */
#define PERIODIC_FLOOR_NS 100000ULL
#define ONESHOT_FLOOR_NS  1000ULL

static uint64_t periodic_floor, oneshot_floor;

int arch_vm_add_platform(struct vm *vm, const struct cfg_device *d)
{
	struct x86_pc *pc = &vm->arch.pc;
	int r = 0;

	if (d->type != CFG_DEV_PC) {
		pr_err("vm %s: device type %d is not available on x86", vm->cfg->name, d->type);
		return -1;
	}
	pc->present = true;
	periodic_floor = x86_ns_to_tsc(PERIODIC_FLOOR_NS);
	oneshot_floor = x86_ns_to_tsc(ONESHOT_FLOOR_NS);
	pc->pit_due = 0;
	pc->cmos_due = 0;
	pc->window = 0;
	i8259_init(&pc->pic, (struct irq_line){ pic_intr, vm, 0 });
	i8254_init(&pc->pit, (struct irq_line){ isa_irq, vm, 0 }, vm_now_ns, vm);
	cmos_init(&pc->cmos, (struct irq_line){ isa_irq, vm, 8 }, vm_wallclock, vm);
	pci_stub_init(&pc->pci);
	debugport_init(&pc->dbg);
	ioapic_init(&pc->ioapic, (uint8_t)vm->nvcpus, ioapic_deliver, vm);  /* ID after the CPUs' */
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		struct lapic_config cfg = {
			.id = i, .bsp = i == 0, .x2apic_supported = true, .x2apic_at_reset = false,
			.timer_hz = 1000000000ULL, .tsc_hz = x86_plat.tsc_hz,
			.now_ns = vcpu_now_ns, .now_tsc = vcpu_now_tsc,
			.send_ipi = lapic_ipi, .eoi = lapic_eoi, .opaque = v,
		};

		lapic_init(&v->arch.lapic, &cfg);
	}
	r |= add(&vm->iobus, I8259_MASTER_BASE, I8259_SPAN, &pc_pic_master_ops, &pc->pic);
	r |= add(&vm->iobus, I8259_SLAVE_BASE, I8259_SPAN, &i8259_slave_ops, &pc->pic);
	r |= add(&vm->iobus, I8259_ELCR_BASE, I8259_SPAN, &pc_elcr_ops, &pc->pic);
	r |= add(&vm->iobus, I8254_BASE, I8254_SPAN, &pc_pit_ops, &pc->pit);
	r |= add(&vm->iobus, I8254_PORT61, 1, &pc_port61_ops, &pc->pit);
	r |= add(&vm->iobus, 0x70, 2, &pc_cmos_ops, &pc->cmos);
	r |= add(&vm->iobus, PCI_STUB_BASE, PCI_STUB_SPAN, &pci_stub_ops, &pc->pci);
	r |= add(&vm->iobus, 0x80, 1, &debugport_ops, &pc->dbg);
	r |= add(&vm->bus, IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_SIZE, &pc_ioapic_ops, &pc->ioapic);
	if (r) {
		pr_err("vm %s: too many devices for the PC chipset", vm->cfg->name);
		return -1;
	}
	return 0;
}

/* Power-on state, on the VM's clock as it is now: device time starts with
 * the VM (a timer model that saw a later time would drop early edges). */
void x86_pc_reset(struct vm *vm)
{
	struct x86_pc *pc = &vm->arch.pc;

	if (!pc->present)
		return;
	i8259_reset(&pc->pic);
	i8254_reset(&pc->pit);
	cmos_reset(&pc->cmos);
	ioapic_reset(&pc->ioapic);
	pc->pit_due = 0;
	pc->cmos_due = 0;
}

/* VM ns -> the first guest TSC tick whose ns (x86_tsc_to_ns) is at least
 * ns: a check at that tick finds the event due. */
static uint64_t ns_to_tsc_up(uint64_t ns)
{
	uint64_t hz = x86_plat.tsc_hz, q = ns / 1000000000ULL, r = ns % 1000000000ULL;

	if (ns == UINT64_MAX || q > (UINT64_MAX - hz) / hz)
		return UINT64_MAX;
	return q * hz + (r * hz + 999999999ULL) / 1000000000ULL;
}

/*
 * Bring the chipset's timers up to now, for v: each model is updated only
 * once its next event is due (pit_due, cmos_due in guest TSC ticks, the
 * LAPIC's from its registers), so an entry with nothing due costs a TSC
 * read and three compares. Exact: updating a model between its events
 * changes nothing it shows (the PIT's edges, the RTC's flags and the
 * LAPIC's expiries are closed-form functions of time, accounted in full at
 * the next update or access), and every port access of the PIT or RTC
 * drops its cached time (the wrappers above).
 */
static __attribute__((noinline)) void pc_update_due(struct vcpu *v, uint64_t now)
{
	struct x86_pc *pc = &v->vm->arch.pc;
	uint64_t rel;

	if (now >= pc->pit_due) {
		i8254_update(&pc->pit);
		pc->pit_due = pit_heard(pc) ? ns_to_tsc_up(i8254_next_event_ns(&pc->pit)) :
					      UINT64_MAX;
	}
	if (now >= pc->cmos_due) {
		/* syncs the RTC (flags, IRQ 8) to its own, later, reading of
		 * the clock: counting from now makes the due time early, if
		 * anything, never late */
		rel = cmos_next_event_in_ns(&pc->cmos);
		pc->cmos_due = rel == CMOS_NO_EVENT ? UINT64_MAX :
			       ns_to_tsc_up(x86_tsc_to_ns(now) + rel);
	}
	if (now >= lapic_timer_due_tsc(&v->arch.lapic))
		lapic_timer_update(&v->arch.lapic);
}

/* The guest TSC now, the chipset brought up to it. */
static inline uint64_t pc_update(struct vcpu *v)
{
	const struct x86_pc *pc = &v->vm->arch.pc;
	uint64_t now = rdtsc() + v->vm->arch.tsc_offset;

	if (unlikely(now >= pc->pit_due || now >= pc->cmos_due ||
		     now >= lapic_timer_due_tsc(&v->arch.lapic)))
		pc_update_due(v, now);
	return now;
}

static uint64_t floor_at(uint64_t t, uint64_t min)
{
	return t != UINT64_MAX && t < min ? min : t;
}

/* Host TSC time of the earliest chipset timer event that concerns v. */
uint64_t x86_pc_next_event(struct vcpu *v)
{
	struct x86_pc *pc = &v->vm->arch.pc;
	const struct lapic *l = &v->arch.lapic;
	uint64_t now, t, lt;

	if (!pc->present)
		return UINT64_MAX;
	now = pc_update(v);
	t = floor_at(pc->pit_due, now + periodic_floor);
	lt = lapic_timer_due_tsc(l);
	if (lt != UINT64_MAX)
		lt = floor_at(lt, now + (((l->lvt[LAPIC_LVT_TIMER] >> 17) & 3) == 1 ?
					 periodic_floor : oneshot_floor));
	t = lt < t ? lt : t;
	t = pc->cmos_due < t ? pc->cmos_due : t;
	if (t == UINT64_MAX)
		return UINT64_MAX;
	t = floor_at(t, now + oneshot_floor);           /* the RTC: at most 8 kHz */
	return t - v->vm->arch.tsc_offset;
}

/* Whether the 8259's INTR is up and for v (vCPU 0, through LINT0 or APIC
 * off). */
static bool pic_for(struct vcpu *v)
{
	return v->vm->arch.pc.pic.intr_level && v->id == 0 &&
	       lapic_accept_pic_intr(&v->arch.lapic);
}

bool x86_pc_irq_pending(struct vcpu *v)
{
	if (!v->vm->arch.pc.present)
		return false;
	pc_update(v);
	return pic_for(v) || lapic_pending_vector(&v->arch.lapic) >= 0;
}

/* `vm info`: IF, the LAPIC's priority state and timer, the 8259's INTR. */
void x86_pc_describe(struct vcpu *v)
{
	const struct lapic *l = &v->arch.lapic;
	uint64_t next, now = arch_now(), per_us = arch_ticks_per_sec() / 1000000;
	char when[32] = "none";
	int isr, irr;
	uint32_t ppr;

	if (!v->vm->arch.pc.present)
		return;
	next = x86_pc_next_event(v);
	if (next <= now)
		snprintf(when, sizeof(when), "due");
	else if (next != UINT64_MAX)
		snprintf(when, sizeof(when), "in %llu us",
			 (unsigned long long)((next - now) / (per_us ? per_us : 1)));
	lapic_peek(l, &isr, &irr, &ppr);
	console_printf("    IF %u, lapic %s svr 0x%x tpr 0x%x ppr 0x%x, in service %d, "
		       "requested %d, lvt timer 0x%x count %u%s, 8259 INTR %s, next event %s",
		       (x86_plat.vendor->get_rflags(v) & RFLAGS_IF) ? 1 : 0,
		       lapic_x2apic_mode(l) ? "x2apic" : lapic_xapic_mode(l) ? "xapic" : "off",
		       l->svr, l->tpr, ppr, isr, irr, l->lvt[LAPIC_LVT_TIMER], l->tmict,
		       l->t_running ? " running" : "", pic_for(v) ? "up" : "down", when);
}

/* Before entering v: inject its highest pending interrupt if it can take
 * one now, else ask for an exit when it can (X86_INJ_WINDOW). X86_INJ_NONE:
 * nothing was pending (the chipset is quiet for v until its next event or
 * a guest access). */
enum x86_inj x86_pc_inject(struct vcpu *v)
{
	const struct x86_vendor_ops *V = x86_plat.vendor;
	struct x86_pc *pc = &v->vm->arch.pc;
	uint8_t bit = (uint8_t)(1u << (v->id & 7));
	bool pic;
	int vec;

	if (!pc->present)
		return X86_INJ_NONE;
	pc_update(v);
	pic = pic_for(v);
	vec = pic ? -1 : lapic_pending_vector(&v->arch.lapic);
	if (likely(!pic && vec < 0)) {
		/* the window request is dropped only if this code made one:
		 * the vendor call (a VMCS write on VMX) is not free */
		if (unlikely(pc->window & bit)) {
			pc->window &= (uint8_t)~bit;
			V->want_irq_window(v, false);
		}
		return X86_INJ_NONE;
	}
	if (!V->interruptible(v)) {
		pc->window |= bit;
		V->want_irq_window(v, true);
		return X86_INJ_WINDOW;
	}
	if (pic)
		vec = i8259_ack(&pc->pic);
	else
		lapic_ack(&v->arch.lapic, (uint8_t)vec);
	x86_vcpu_pre_inject(v);
	V->inject(v, (uint8_t)vec, X86_EVENT_EXT, false, 0);
	if (unlikely(pc->window & bit)) {
		pc->window &= (uint8_t)~bit;
		V->want_irq_window(v, false);
	}
	v->stats.irqs_injected++;
	return X86_INJ_DONE;
}

int x86_pc_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	if (!v->vm->arch.pc.present)
		return 1;               /* not ours */
	if (msr == MSR_APIC_BASE || msr == 0x6E0 || (msr >= 0x800 && msr <= 0x8FF))
		return lapic_rdmsr(&v->arch.lapic, msr, val) ? -1 : 0;
	return 1;
}

int x86_pc_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
	if (!v->vm->arch.pc.present)
		return 1;
	if (msr == MSR_APIC_BASE || msr == 0x6E0 || (msr >= 0x800 && msr <= 0x8FF))
		return lapic_wrmsr(&v->arch.lapic, msr, val) ? -1 : 0;
	return 1;
}
