/*
 * Tick <-> time conversions at rt.timebase_hz (rdtime on riscv64, the TSC
 * on x86_64), exact for any 64-bit tick count without 128-bit arithmetic.
 */
#include "rt.h"

uint64_t rt_ticks_to_us(uint64_t t)
{
    uint64_t hz = rt.timebase_hz;
    return t / hz * 1000000 + t % hz * 1000000 / hz;
}

uint64_t rt_ticks_to_ms(uint64_t t)
{
    uint64_t hz = rt.timebase_hz;
    return t / hz * 1000 + t % hz * 1000 / hz;
}

int64_t rt_sticks_to_us(int64_t t)
{
    return t < 0 ? -(int64_t)rt_ticks_to_us((uint64_t)-t) : (int64_t)rt_ticks_to_us((uint64_t)t);
}

uint64_t rt_us_to_ticks(uint64_t us)
{
    uint64_t hz = rt.timebase_hz;
    return us / 1000000 * hz + us % 1000000 * hz / 1000000;
}

void rt_delay_us(uint64_t us)
{
    uint64_t end = rt_now() + rt_us_to_ticks(us);
    while (rt_now() < end)
        ;
}
