/*
 * fpcheck: FP register isolation. Fills all 32 F/D registers and fcsr with a
 * pattern unique to this VM, spins across many time slices (other VMs run
 * and use their own FP registers meanwhile), then checks every register
 * still holds its pattern. rounds= and spin_ms= come from bootargs.
 * Prints "fpcheck: PASS" or "fpcheck: FAIL ...".
 */
#include "rt.h"

#define SSTATUS_FS_INITIAL (1UL << 13)

static uint64_t want[32], got[32];

__attribute__((noinline)) static void fp_fill(const uint64_t *v, unsigned long frm)
{
    __asm__ volatile(
        ".option push\n.option arch, +d\n"
        ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        "fld f\\n, (\\n * 8)(%0)\n"
        ".endr\n"
        "fsrm %1\n"
        ".option pop\n" :: "r"(v), "r"(frm) : "memory");
}

__attribute__((noinline)) static unsigned long fp_dump(uint64_t *v)
{
    unsigned long frm;

    __asm__ volatile(
        ".option push\n.option arch, +d\n"
        ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        "fsd f\\n, (\\n * 8)(%1)\n"
        ".endr\n"
        "frrm %0\n"
        ".option pop\n" : "=r"(frm) : "r"(v) : "memory");
    return frm;
}

void gmain(unsigned long hartid, const void *fdt)
{
    (void)hartid;
    (void)fdt;
    struct sbiret id = sbi_tessera_vm_id();
    uint64_t seed = 0x9E3779B97F4A7C15ull * (uint64_t)(id.error ? 7 : id.value + 1);
    unsigned long rounds = rt_arg_ulong("rounds", 20), spin_ms = rt_arg_ulong("spin_ms", 25);
    unsigned long frm_want = (unsigned long)(id.error ? 1 : (id.value % 4) + 1);
    unsigned long bad = 0;

    csr_set(sstatus, SSTATUS_FS_INITIAL);
    printf("fpcheck: %lu rounds of %lu ms, rounding mode %lu\n", rounds, spin_ms, frm_want);
    for (unsigned long r = 0; r < rounds && !bad; r++) {
        for (int i = 0; i < 32; i++) {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
            want[i] = seed;
        }
        fp_fill(want, frm_want);
        uint64_t end = rt_now() + rt_us_to_ticks(spin_ms * 1000);
        while (rt_now() < end)
            ;
        unsigned long frm = fp_dump(got);
        for (int i = 0; i < 32; i++) {
            if (got[i] != want[i]) {
                printf("fpcheck: FAIL round %lu: f%d = 0x%lx, expected 0x%lx\n",
                       r, i, (unsigned long)got[i], (unsigned long)want[i]);
                bad++;
            }
        }
        if (frm != frm_want) {
            printf("fpcheck: FAIL round %lu: frm = %lu, expected %lu\n", r, frm, frm_want);
            bad++;
        }
    }
    printf(bad ? "fpcheck: FAIL\n" : "fpcheck: PASS\n");
    rt_shutdown();
}
