/*
 * spin-cli (x86_64): a CPU hog with interrupts disabled. It does the
 * counter's unit of work (rt_work) in a loop with RFLAGS.IF = 0 and never
 * exits to the hypervisor until its own clock (the TSC) passes stop_ms; then
 * it prints "done iterations=<n> time_ms=<ms>" and shuts its VM down. Only a
 * slice timer that ends a guest's run whatever its IF (VMX: the preemption
 * timer; SVM: the physical-interrupt intercept) lets a VM beside it run
 * meanwhile; its iterations are comparable with a counter's.
 * bootargs: stop_ms (default 2000; 0 = spin forever).
 */
#include "rt.h"

static volatile uint64_t sink;

void gmain(unsigned long hartid, const void *bootinfo)
{
    (void)hartid;
    (void)bootinfo;
    unsigned long stop_ms = rt_arg_ulong("stop_ms", 2000);

    printf("spin-cli: interrupts off, spinning for %lu ms of guest time (0: forever)\n",
           stop_ms);
    uint64_t x = 0x9E3779B97F4A7C15ull, iterations = 0, ms = 0;
    uint64_t t0 = rt_now();

    irq_disable();
    while (!stop_ms || ms < stop_ms) {
        x = rt_work(x);
        sink = x;
        iterations++;
        ms = rt_ticks_to_ms(rt_now() - t0);
    }
    printf("done iterations=%lu time_ms=%lu\n", (unsigned long)iterations, (unsigned long)ms);
    rt_shutdown();
}
