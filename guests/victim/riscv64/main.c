/*
 * victim, riscv64 half (guests/victim/victim.c has the fill and the
 * checks): sleeps on the SBI timer, in WFI.
 */
#include "rt.h"
#include "../victim.h"

static volatile int fired;

static void trap(struct trap_frame *f)
{
    if (f->scause != SCAUSE_STI)
        rt_default_trap(f);
    sbi_set_timer(UINT64_MAX);
    fired = 1;
}

void victim_timer_init(void)
{
    rt_set_trap_handler(trap);
    csr_write(sie, SIE_STIE);
    irq_enable();
}

void victim_sleep_ms(unsigned long ms)
{
    fired = 0;
    sbi_set_timer(rt_now() + rt_us_to_ticks(ms * 1000));
    while (!fired) {
        irq_disable();
        if (!fired)
            wfi();
        irq_enable();
    }
}
