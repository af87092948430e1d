/*
 * victim: the neighbour in the isolation test (issue 8). Fills its free RAM
 * (from the end of its image to just below its device tree) with a
 * pseudo-random pattern, then sleeps on its timer and checks the whole
 * area against the pattern every check_ms until wait_ms has passed.
 *
 * bootargs: wait_ms (default 2000), check_ms (default 250)
 * Output:
 *   victim: filled 0x<a>-0x<b> (<n> bytes) checksum 0x<c>
 *   victim: check <i> ok checksum 0x<c>
 *   victim: FAIL word at 0x<a> is 0x<v>, expected 0x<w> (<n> words differ)
 *   victim: PASS memory unchanged after <ms> ms, checksum 0x<c>
 * then SRST shutdown.
 */
#include "rt.h"

static volatile int fired;

static void trap(struct trap_frame *f)
{
    if (f->scause != SCAUSE_STI)
        rt_default_trap(f);
    sbi_set_timer(UINT64_MAX);
    fired = 1;
}

static uint64_t pat(uint64_t i)
{
    uint64_t x = i * 0x9E3779B97F4A7C15ull + 0x7E55;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    return x ^ (x >> 31);
}

static void sleep_ms(unsigned long ms)
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

void gmain(unsigned long hartid, const void *fdt)
{
    (void)hartid;
    (void)fdt;
    unsigned long wait_ms = rt_arg_ulong("wait_ms", 2000);
    unsigned long check_ms = rt_arg_ulong("check_ms", 250);
    uint64_t *lo = (uint64_t *)(((unsigned long)_end + 4095) & ~4095UL);
    uint64_t *hi = (uint64_t *)((rt.ram_base + rt.ram_size - 0x10000) & ~4095UL);
    uint64_t n = (uint64_t)(hi - lo), sum = 0, t0;

    if (!check_ms)
        check_ms = 250;
    for (uint64_t i = 0; i < n; i++) {
        lo[i] = pat(i);
        sum = (sum << 7 | sum >> 57) ^ lo[i];
    }
    printf("victim: filled 0x%lx-0x%lx (%lu bytes) checksum 0x%lx\n", (unsigned long)lo,
           (unsigned long)hi, (unsigned long)(n * 8), (unsigned long)sum);
    rt_set_trap_handler(trap);
    csr_write(sie, SIE_STIE);
    irq_enable();
    t0 = rt_now();
    for (unsigned long round = 1;; round++) {
        unsigned long bad = 0, first = 0;
        uint64_t s = 0;
        sleep_ms(check_ms);
        for (uint64_t i = 0; i < n; i++) {
            if (lo[i] != pat(i) && !bad++)
                first = i;
            s = (s << 7 | s >> 57) ^ lo[i];
        }
        if (bad || s != sum) {
            printf("victim: FAIL word at 0x%lx is 0x%lx, expected 0x%lx (%lu words differ)\n",
                   (unsigned long)&lo[first], (unsigned long)lo[first],
                   (unsigned long)pat(first), bad);
            rt_shutdown();
        }
        printf("victim: check %lu ok checksum 0x%lx\n", round, (unsigned long)s);
        uint64_t ms = rt_ticks_to_ms(rt_now() - t0);
        if (ms >= wait_ms) {
            printf("victim: PASS memory unchanged after %lu ms, checksum 0x%lx\n",
                   (unsigned long)ms, (unsigned long)s);
            rt_shutdown();
        }
    }
}
