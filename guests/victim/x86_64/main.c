/*
 * victim, x86_64 half (guests/victim/victim.c has the fill and the checks):
 * sleeps in HLT, woken by its x2APIC timer in TSC-deadline mode, or with
 * the yield hypercall in a loop if it has no x2APIC.
 */
#include "rt.h"
#include "pc.h"
#include "../victim.h"

#define VEC_TIMER 0x40
#define VEC_SPUR  0xff
#define MSR_TSC_DEADLINE 0x6e0

static volatile int fired;
static int have_timer;

static void trap(struct trap_frame *f)
{
    if (f->vector == VEC_SPUR)
        return;
    if (f->vector != VEC_TIMER)
        rt_default_trap(f);
    fired = 1;
    lapic_eoi();
}

void victim_sleep_ms(unsigned long ms)
{
    uint64_t until = rt_now() + rt_us_to_ticks(ms * 1000);

    if (!have_timer) {
        while (rt_now() < until)
            rt_yield();
        return;
    }
    fired = 0;
    wrmsr(MSR_TSC_DEADLINE, until);
    while (!fired) {
        irq_disable();
        if (!fired)
            safe_halt();                /* sti; hlt: the interrupt cannot slip in between */
        irq_enable();
    }
}

void victim_timer_init(void)
{
    const char *why = "";

    rt_set_trap_handler(trap);
    if (lapic_enable(LAPIC_X2APIC, VEC_SPUR, &why) == 0) {
        lapic_write(LAPIC_LVT_TIMER, VEC_TIMER | 2u << 17);     /* TSC-deadline mode */
        have_timer = 1;
    } else {
        printf("victim: no x2APIC timer (%s): yielding between checks\n", why);
    }
}
