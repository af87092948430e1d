/*
 * timer (x86_64): interrupt latency of the PC timers, measured with the TSC.
 * bootargs: rounds (default 20, per phase), tol_us (default 1000),
 *           apic=x2apic|xapic|auto (default x2apic: Tessera's LAPIC is an
 *           x2APIC; xapic/auto for native runs on CPUs without one),
 *           pit_pin (default 2: the IOAPIC input of ISA IRQ 0 on PCs).
 *
 * Three phases, each sleeping in HLT between interrupts (the first
 * interrupt of a phase is awaited with a bounded busy loop instead, so a
 * timer that never fires ends in FAIL rather than a VM asleep forever):
 *   pit     PIT channel 0 periodic (mode 2, 2 ms) -> 8259 IRQ 0 -> vector
 *           0x20. Interrupt i belongs to the i-th period; deadline =
 *           programming time + i periods (a lost tick shows as one extra
 *           period of latency).
 *   lapic   local APIC timer one-shot (divide by 1; its rate calibrated
 *           against the TSC first) -> vector 0x40; delta = 1, 3, 5, 2, 4
 *           ms repeating; then a cancel round: arm 1 ms, write 0 to the
 *           initial count, busy-wait 5 ms: nothing may fire.
 *   ioapic  PIT channel 0 one-shot (mode 0) -> IOAPIC pin pit_pin ->
 *           LAPIC vector 0x30, same deltas.
 * latency = TSC read first thing in the handler - deadline. Deadlines are
 * taken from a TSC read just before the write that starts the timer, so
 * they are never later than the real ones; "early" allows 2 us for the
 * timers' own granularity.
 */
#include "rt.h"
#include "pc.h"

#define VEC_PIC_BASE   0x20     /* master 0x20-0x27, slave 0x28-0x2f */
#define VEC_PIT_PIC    0x20
#define VEC_IOAPIC     0x30
#define VEC_LAPIC      0x40
#define VEC_SPURIOUS   0xff
#define MAX_ROUNDS     1000
#define EARLY_SLACK_US 2
#define FIRST_WAIT_US  1000000  /* after the deadline, for a phase's first interrupt */

static const unsigned delta_ms[] = { 1, 3, 5, 2, 4 };

static volatile unsigned expect_vec;
static volatile unsigned long nirq;
static unsigned long extra;             /* one-shot timers that fired twice */
static volatile uint64_t t_irq[MAX_ROUNDS];
static volatile unsigned long unexpected, unexpected_vec;
static unsigned long rounds;
static long tol_us;
static int64_t max_lat, sum_lat;
static unsigned long measured;
static char reason[128];

static void fail(const char *fmt, ...) __printf(1, 2);
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!reason[0])                     /* keep the first failure */
        vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
}

static void trap(struct trap_frame *f)
{
    uint64_t now = rt_now();
    unsigned v = (unsigned)f->vector;

    if (v < 32)
        rt_default_trap(f);
    if (v == VEC_SPURIOUS)
        return;                         /* LAPIC spurious: no EOI */
    if (v >= VEC_PIC_BASE && v < VEC_PIC_BASE + 16) {
        unsigned irq = v - VEC_PIC_BASE;
        if ((irq == 7 || irq == 15) &&
            !(pic_read_reg(irq == 7 ? PIC_M_CMD : PIC_S_CMD, PIC_READ_ISR) & 0x80)) {
            if (irq == 15)
                outb(PIC_M_CMD, PIC_EOI);       /* the master saw a real IRQ 2 */
            return;                             /* spurious IRQ 7 / 15 */
        }
        if (irq >= 8)
            outb(PIC_S_CMD, PIC_EOI);
        outb(PIC_M_CMD, PIC_EOI);
    } else {
        lapic_eoi();
    }
    if (v != expect_vec) {
        unexpected++;
        unexpected_vec = v;
        return;
    }
    if (nirq < MAX_ROUNDS)
        t_irq[nirq] = now;
    nirq++;
}

/* Wait until nirq > n or the TSC passes guard. HLT: IF is off around the
 * check and sti;hlt is atomic, so an interrupt cannot slip in between.
 * busy (a phase's first interrupt): spin with interrupts on. */
static int wait_irq(unsigned long n, uint64_t guard, int busy)
{
    if (busy) {
        irq_enable();
        while (nirq <= n && rt_now() <= guard)
            cpu_relax();
        return nirq > n;
    }
    for (;;) {
        irq_disable();
        if (nirq > n || rt_now() > guard)
            break;
        safe_halt();
    }
    irq_enable();
    return nirq > n;
}

static void account(const char *phase, unsigned long i, uint64_t delta_us, uint64_t deadline,
                    uint64_t t)
{
    int64_t lat = rt_sticks_to_us((int64_t)(t - deadline));
    printf("%s round %lu delta_us=%lu latency_us=%ld\n", phase, i, (unsigned long)delta_us,
           (long)lat);
    if (lat < -EARLY_SLACK_US)
        fail("%s round %lu fired early latency_us=%ld", phase, i, (long)lat);
    else if (lat > tol_us)
        fail("%s round %lu latency_us=%ld above tol_us", phase, i, (long)lat);
    if (lat > max_lat)
        max_lat = lat;
    sum_lat += lat;
    measured++;
}

static uint16_t pit_count_for_us(uint64_t us)
{
    uint64_t c = (us * PIT_HZ + 500000) / 1000000;
    return c > 0xffff ? 0xffff : (uint16_t)c;
}

static uint64_t pit_clocks_to_ticks(uint64_t clocks)
{
    return clocks * rt.timebase_hz / PIT_HZ;
}

/* ---- phase 1: PIT periodic through the 8259 */
static void phase_pit(void)
{
    const uint64_t period_us = 2000;
    uint16_t count = pit_count_for_us(period_us);

    printf("timer: pit periodic period_us=%lu (count %u) via 8259 irq 0, vector 0x%x\n",
           (unsigned long)period_us, count, VEC_PIT_PIC);
    irq_disable();
    pic_init(VEC_PIC_BASE, VEC_PIC_BASE + 8, 0xffff);
    expect_vec = VEC_PIT_PIC;
    nirq = 0;
    outb(PIT_CMD, 0x34);                        /* ch 0, LSB/MSB, mode 2, binary */
    outb(PIT_CH0, (uint8_t)count);
    pic_mask(0xfffe);
    /* An edge from before (the control word sets OUT high) may be pending:
     * take it by poll (an INTA cycle without the CPU) and EOI it, before
     * the counter starts so no real tick can be swallowed. */
    if (pic_read_reg(PIC_M_CMD, PIC_POLL) & 0x80)
        outb(PIC_M_CMD, PIC_EOI);
    uint64_t t0 = rt_now();
    outb(PIT_CH0, (uint8_t)(count >> 8));       /* counting starts now */

    unsigned long got = 0;
    for (unsigned long i = 0; i < rounds; i++) {
        uint64_t deadline = t0 + pit_clocks_to_ticks((uint64_t)count * (i + 1));
        uint64_t guard = deadline + rt_us_to_ticks(i == 0 ? FIRST_WAIT_US : 1000000);
        if (!wait_irq(i, guard, i == 0)) {
            fail("pit round %lu no interrupt (irq 0 via 8259)", i);
            break;
        }
        got = i + 1;
    }
    irq_disable();
    pic_mask(0xffff);
    outb(PIT_CMD, 0x30);                        /* park: mode 0 without a count, OUT low */
    irq_enable();
    for (unsigned long i = 0; i < got; i++)
        account("pit", i, period_us, t0 + pit_clocks_to_ticks((uint64_t)count * (i + 1)),
                t_irq[i]);
    if (got < rounds)
        printf("pit round %lu no interrupt within 1 s\n", got);
}

/* ---- phase 2: LAPIC timer one-shot */
static uint64_t lapic_hz;

static int lapic_calibrate(void)
{
    lapic_write(LAPIC_TDCR, 0x0b);                          /* divide by 1 */
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | VEC_LAPIC);
    lapic_write(LAPIC_TMICT, 0xffffffffu);
    uint64_t a = rt_now();              /* after the start: elapsed is not overestimated */
    rt_delay_us(20000);
    uint64_t b = rt_now();              /* before the read: ditto */
    uint32_t left = lapic_read(LAPIC_TMCCT);
    lapic_write(LAPIC_TMICT, 0);
    uint64_t counted = 0xffffffffu - (uint64_t)left;
    if (left == 0 || counted == 0 || b <= a)
        return -1;
    lapic_hz = counted * rt.timebase_hz / (b - a);
    return lapic_hz ? 0 : -1;
}

static void phase_lapic(void)
{
    if (lapic_calibrate()) {
        fail("lapic timer does not count (calibration)");
        printf("timer: lapic timer does not count\n");
        return;
    }
    printf("timer: lapic %s timer one-shot, vector 0x%x, %lu Hz (calibrated)\n",
           lapic_mode == LAPIC_X2APIC ? "x2apic" : "xapic", VEC_LAPIC, (unsigned long)lapic_hz);
    lapic_write(LAPIC_LVT_TIMER, VEC_LAPIC);                /* one-shot, unmasked */
    expect_vec = VEC_LAPIC;
    nirq = 0;
    for (unsigned long i = 0; i < rounds; i++) {
        uint64_t delta_us = delta_ms[i % 5] * 1000ull;
        uint64_t cnt = (delta_us * lapic_hz + 999999) / 1000000;
        if (cnt > 0xffffffffu)
            cnt = 0xffffffffu;
        if (nirq > 1)
            extra += nirq - 1;
        nirq = 0;
        irq_disable();
        uint64_t deadline = rt_now() + rt_us_to_ticks(delta_us);
        lapic_write(LAPIC_TMICT, (uint32_t)cnt);
        if (!wait_irq(0, deadline + rt_us_to_ticks(i == 0 ? FIRST_WAIT_US : 1000000), i == 0)) {
            lapic_write(LAPIC_TMICT, 0);
            printf("lapic round %lu delta_us=%lu no interrupt within 1 s\n", i,
                   (unsigned long)delta_us);
            fail("lapic round %lu no interrupt (delta_us=%lu)", i, (unsigned long)delta_us);
            if (i == 0)
                return;
            continue;
        }
        account("lapic", i, delta_us, deadline, t_irq[0]);
    }
    /* cancel round */
    if (nirq > 1)
        extra += nirq - 1;
    nirq = 0;
    lapic_write(LAPIC_TMICT, (uint32_t)((1000 * lapic_hz + 999999) / 1000000));
    lapic_write(LAPIC_TMICT, 0);
    rt_delay_us(5000);
    printf("lapic round cancel delta_us=1000 cancelled fired=%s\n", nirq ? "yes" : "no");
    if (nirq)
        fail("lapic cancelled timer fired");
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | VEC_LAPIC);
}

/* ---- phase 3: PIT one-shot through the IOAPIC */
static void phase_ioapic(unsigned pin)
{
    uint32_t id = lapic_id();

    printf("timer: ioapic pit one-shot via ioapic pin %u -> vector 0x%x, apic id %u\n", pin,
           VEC_IOAPIC, id);
    irq_disable();
    pic_mask(0xffff);
    outb(PIT_CMD, 0x30);                        /* ch 0 mode 0: OUT low, no edges */
    expect_vec = VEC_IOAPIC;
    nirq = 0;
    ioapic_route(pin, VEC_IOAPIC, id, 0);
    irq_enable();
    for (unsigned long i = 0; i < rounds; i++) {
        uint64_t delta_us = delta_ms[i % 5] * 1000ull;
        uint16_t count = pit_count_for_us(delta_us);
        if (nirq > 1)
            extra += nirq - 1;
        nirq = 0;
        irq_disable();
        outb(PIT_CMD, 0x30);                    /* mode 0, LSB/MSB */
        outb(PIT_CH0, (uint8_t)count);
        uint64_t t0 = rt_now();
        outb(PIT_CH0, (uint8_t)(count >> 8));   /* OUT rises after count clocks */
        uint64_t deadline = t0 + pit_clocks_to_ticks(count);
        if (!wait_irq(0, deadline + rt_us_to_ticks(i == 0 ? FIRST_WAIT_US : 1000000), i == 0)) {
            printf("ioapic round %lu delta_us=%lu no interrupt within 1 s\n", i,
                   (unsigned long)delta_us);
            fail("ioapic round %lu no interrupt (pit via ioapic pin %u)", i, pin);
            if (i == 0)
                break;
            continue;
        }
        account("ioapic", i, delta_us, deadline, t_irq[0]);
    }
    rt_delay_us(1000);
    irq_disable();
    if (nirq > 1)
        extra += nirq - 1;
    ioapic_route(pin, VEC_IOAPIC, id, 1);
    outb(PIT_CMD, 0x30);
    irq_enable();
}

void gmain(unsigned long hartid, const void *boot)
{
    (void)hartid;
    (void)boot;
    rounds = rt_arg_ulong("rounds", 20);
    tol_us = rt_arg_long("tol_us", 1000);
    unsigned pin = (unsigned)rt_arg_ulong("pit_pin", 2);
    char apic[16] = "x2apic";
    rt_arg_str("apic", apic, sizeof(apic));
    if (rounds > MAX_ROUNDS)
        rounds = MAX_ROUNDS;

    printf("timer: rounds=%lu tol_us=%ld timebase=%lu Hz\n", rounds, tol_us,
           (unsigned long)rt.timebase_hz);
    rt_set_trap_handler(trap);

    phase_pit();

    enum lapic_mode want = LAPIC_X2APIC;
    if (strcmp(apic, "xapic") == 0) {
        want = LAPIC_XAPIC;
    } else if (strcmp(apic, "auto") == 0) {
        uint32_t r[4];
        cpuid(1, 0, r);
        want = (r[2] & CPUID1_ECX_X2APIC) ? LAPIC_X2APIC : LAPIC_XAPIC;
    }
    const char *why = "";
    irq_disable();
    int ok = lapic_enable(want, VEC_SPURIOUS, &why) == 0;
    irq_enable();
    if (!ok) {
        printf("timer: lapic unavailable: %s\n", why);
        fail("lapic: %s", why);
    } else {
        phase_lapic();
        if (pin < 24)
            phase_ioapic(pin);
    }

    irq_disable();
    if (extra)
        fail("%lu extra timer interrupts", extra);
    if (unexpected)
        fail("%lu unexpected interrupts (last vector 0x%lx)", unexpected, unexpected_vec);
    printf("timer: max_latency_us=%ld avg_latency_us=%ld\n", (long)max_lat,
           measured ? (long)(sum_lat / (int64_t)measured) : 0L);
    if (reason[0])
        printf("timer: FAIL %s\n", reason);
    else
        printf("timer: PASS\n");
    rt_shutdown();
}
