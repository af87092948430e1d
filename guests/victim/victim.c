/*
 * victim: the neighbour in the isolation test (issue 8). Fills its free RAM
 * (from the end of its image to 64 KiB below the top of its RAM: the device
 * tree or boot info page) with a pseudo-random pattern, then sleeps and
 * checks the whole area against the pattern every check_ms until wait_ms
 * has passed. The sleeping is each architecture's (riscv64/, x86_64/).
 *
 * bootargs: wait_ms (default 2000), check_ms (default 250)
 * Output:
 *   victim: filled 0x<a>-0x<b> (<n> bytes) checksum 0x<c>
 *   victim: check <i> ok checksum 0x<c>
 *   victim: FAIL word at 0x<a> is 0x<v>, expected 0x<w> (<n> words differ)
 *   victim: PASS memory unchanged after <ms> ms, checksum 0x<c>
 * then shutdown.
 */
#include "rt.h"
#include "victim.h"

static uint64_t pat(uint64_t i)
{
    uint64_t x = i * 0x9E3779B97F4A7C15ull + 0x7E55;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    return x ^ (x >> 31);
}

void gmain(unsigned long hartid, const void *boot)
{
    (void)hartid;
    (void)boot;
    unsigned long wait_ms = rt_arg_ulong("wait_ms", 2000);
    unsigned long check_ms = rt_arg_ulong("check_ms", 250);
    uint64_t *lo = (uint64_t *)(((uintptr_t)_end + 4095) & ~4095UL);
    uint64_t *hi = (uint64_t *)((uintptr_t)(rt.ram_base + rt.ram_size - 0x10000) & ~4095UL);
    uint64_t n = (uint64_t)(hi - lo), sum = 0, t0;

    if (!check_ms)
        check_ms = 250;
    for (uint64_t i = 0; i < n; i++) {
        lo[i] = pat(i);
        sum = (sum << 7 | sum >> 57) ^ lo[i];
    }
    printf("victim: filled 0x%lx-0x%lx (%lu bytes) checksum 0x%lx\n", (unsigned long)(uintptr_t)lo,
           (unsigned long)(uintptr_t)hi, (unsigned long)(n * 8), (unsigned long)sum);
    victim_timer_init();
    t0 = rt_now();
    for (unsigned long round = 1;; round++) {
        unsigned long bad = 0, first = 0;
        uint64_t s = 0;
        victim_sleep_ms(check_ms);
        for (uint64_t i = 0; i < n; i++) {
            if (lo[i] != pat(i) && !bad++)
                first = i;
            s = (s << 7 | s >> 57) ^ lo[i];
        }
        if (bad || s != sum) {
            printf("victim: FAIL word at 0x%lx is 0x%lx, expected 0x%lx (%lu words differ)\n",
                   (unsigned long)(uintptr_t)&lo[first], (unsigned long)lo[first],
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
