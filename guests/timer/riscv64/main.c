/*
 * timer: measures SBI set_timer interrupt latency.
 * bootargs: rounds (default 20), tol_us (default 1000).
 * Each round arms the timer delta (1..5 ms, fixed pattern) ahead and sleeps
 * in wfi until the supervisor timer interrupt arrives; latency = time seen in
 * the handler - deadline.  A last round arms and cancels the timer and checks
 * that nothing fires within 5 ms.
 */
#include "rt.h"

static volatile int fired;
static volatile uint64_t t_irq;
static volatile unsigned long spurious;

static void trap(struct trap_frame *f)
{
    uint64_t now = rt_now();
    if (f->scause != SCAUSE_STI)
        rt_default_trap(f);
    sbi_set_timer(UINT64_MAX);          /* clears the pending STIP */
    if (fired)
        spurious++;
    t_irq = now;
    fired = 1;
}

static char reason[96];

static void fail(const char *fmt, ...) __printf(1, 2);
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!reason[0])                     /* keep the first failure */
        vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
}

/* Sleep until the handler ran or `guard` passes. SIE is off between the
 * check and wfi so the interrupt cannot slip in between (wfi still wakes on
 * a pending interrupt enabled in sie), then on to take the interrupt. */
static int wait_irq(uint64_t guard)
{
    for (;;) {
        irq_disable();
        if (fired || rt_now() > guard)
            break;
        wfi();
        irq_enable();
    }
    irq_enable();
    return fired;
}

void gmain(unsigned long hartid, const void *fdt)
{
    static const unsigned delta_ms[] = { 1, 3, 5, 2, 4 };
    (void)hartid;
    (void)fdt;
    unsigned long rounds = rt_arg_ulong("rounds", 20);
    long tol_us = rt_arg_long("tol_us", 1000);

    printf("timer: rounds=%lu tol_us=%ld timebase=%lu Hz\n", rounds, tol_us,
           (unsigned long)rt.timebase_hz);
    rt_set_trap_handler(trap);
    csr_write(sie, SIE_STIE);
    irq_enable();

    int64_t max_lat = 0, sum_lat = 0;
    unsigned long measured = 0;
    for (unsigned long i = 0; i < rounds; i++) {
        uint64_t delta_us = delta_ms[i % 5] * 1000ull;
        fired = 0;
        uint64_t deadline = rt_now() + rt_us_to_ticks(delta_us);
        struct sbiret r = sbi_set_timer(deadline);
        if (r.error) {
            printf("round %lu set_timer error %ld\n", i, r.error);
            fail("round %lu set_timer returned %ld", i, r.error);
            break;
        }
        if (!wait_irq(deadline + rt_us_to_ticks(1000000))) {
            sbi_set_timer(UINT64_MAX);
            printf("round %lu delta_us=%lu no interrupt within 1 s\n", i, (unsigned long)delta_us);
            fail("round %lu no interrupt (delta_us=%lu)", i, (unsigned long)delta_us);
            continue;
        }
        int64_t lat = rt_sticks_to_us((int64_t)(t_irq - deadline));
        printf("round %lu delta_us=%lu latency_us=%ld\n", i, (unsigned long)delta_us, (long)lat);
        if ((int64_t)(t_irq - deadline) < 0)
            fail("round %lu fired early latency_us=%ld", i, (long)lat);
        else if (lat > tol_us)
            fail("round %lu latency_us=%ld above tol_us", i, (long)lat);
        if (lat > max_lat)
            max_lat = lat;
        sum_lat += lat;
        measured++;
    }

    /* cancel round */
    fired = 0;
    sbi_set_timer(rt_now() + rt_us_to_ticks(1000));
    sbi_set_timer(UINT64_MAX);
    rt_delay_us(5000);
    printf("round cancel delta_us=1000 cancelled fired=%s\n", fired ? "yes" : "no");
    if (fired)
        fail("cancelled timer fired");

    irq_disable();
    csr_write(sie, 0);
    if (spurious)
        fail("%lu extra timer interrupts", spurious);

    printf("timer: max_latency_us=%ld avg_latency_us=%ld\n", (long)max_lat,
           measured ? (long)(sum_lat / (int64_t)measured) : 0L);
    if (reason[0])
        printf("timer: FAIL %s\n", reason);
    else
        printf("timer: PASS\n");
    rt_shutdown();
}
