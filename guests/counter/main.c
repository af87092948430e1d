/*
 * counter: a CPU hog that never yields or waits.  Each iteration does a
 * fixed chunk of integer work; time is checked with rt_now() (rdtime on
 * riscv64, rdtsc on x86_64) every iteration.  One source for every
 * architecture.
 * bootargs: report_ms (default 250), stop_ms (default 0 = run forever).
 * Times are guest time since gmain started.
 */
#include "rt.h"

static volatile uint64_t sink;

void gmain(unsigned long hartid, const void *fdt)
{
    (void)hartid;
    (void)fdt;
    unsigned long report_ms = rt_arg_ulong("report_ms", 250);
    unsigned long stop_ms = rt_arg_ulong("stop_ms", 0);
    if (report_ms == 0)
        report_ms = 250;

    printf("counter: report_ms=%lu stop_ms=%lu work=%d xorshift steps per iteration\n",
           report_ms, stop_ms, RT_WORK_STEPS);

    uint64_t t0 = rt_now();
    uint64_t report_ticks = rt_us_to_ticks(report_ms * 1000);
    uint64_t next_report = t0 + report_ticks;
    uint64_t x = 0x9E3779B97F4A7C15ull, iterations = 0;

    for (;;) {
        x = rt_work(x);
        sink = x;
        iterations++;

        uint64_t now = rt_now();
        uint64_t ms = rt_ticks_to_ms(now - t0);
        if (stop_ms && ms >= stop_ms) {
            printf("done iterations=%lu time_ms=%lu\n", (unsigned long)iterations, (unsigned long)ms);
            rt_shutdown();
        }
        if (now >= next_report) {
            printf("progress iterations=%lu time_ms=%lu\n", (unsigned long)iterations, (unsigned long)ms);
            while (next_report <= now)      /* after a long descheduling: no burst */
                next_report += report_ticks;
        }
    }
}
