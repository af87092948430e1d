/*
 * fpcheck (x86_64): SSE/AVX register isolation, the twin of riscv64's
 * fpcheck. Fills XMM0-15 (and, with AVX, the upper halves of YMM0-15) and
 * MXCSR.RC with a pattern unique to this VM, spins across many time slices
 * (other VMs run and use their own registers meanwhile), then checks every
 * register still holds its pattern. rounds= and spin_ms= come from
 * bootargs; avx=0 leaves AVX off. Prints "fpcheck: PASS" or
 * "fpcheck: FAIL ...".
 *
 * All register traffic is inline asm: the C code is compiled with
 * -mgeneral-regs-only, so the compiler never touches these registers.
 * AVX: CR4.OSXSAVE and XCR0 = x87|SSE|AVX (XSETBV, which Tessera checks
 * against what it lets guests enable).
 */
#include "rt.h"

#define CR4_OSXSAVE (1ul << 18)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_ECX_AVX   (1u << 28)

static uint64_t want[32], got[32];          /* xmm n = [2n] low, [2n+1] high */
static uint64_t want_hi[32], got_hi[32];    /* ymm n bits 255:128 */

__attribute__((noinline)) static void sse_fill(const uint64_t *v, const uint32_t *mxcsr)
{
    __asm__ volatile(
        ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
        "movdqu (\\n * 16)(%0), %%xmm\\n\n"
        ".endr\n"
        "ldmxcsr (%1)\n" :: "r"(v), "r"(mxcsr) : "memory");
}

__attribute__((noinline)) static void sse_dump(uint64_t *v, uint32_t *mxcsr)
{
    __asm__ volatile(
        ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
        "movdqu %%xmm\\n, (\\n * 16)(%0)\n"
        ".endr\n"
        "stmxcsr (%1)\n" :: "r"(v), "r"(mxcsr) : "memory");
}

/* upper 128 bits of each YMM; the lower halves (the XMMs) are kept */
__attribute__((noinline)) static void avx_fill_hi(const uint64_t *v)
{
    __asm__ volatile(
        ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
        "vinsertf128 $1, (\\n * 16)(%0), %%ymm\\n, %%ymm\\n\n"
        ".endr\n" :: "r"(v) : "memory");
}

__attribute__((noinline)) static void avx_dump_hi(uint64_t *v)
{
    __asm__ volatile(
        ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
        "vextractf128 $1, %%ymm\\n, (\\n * 16)(%0)\n"
        ".endr\n" :: "r"(v) : "memory");
}

static int avx_enable(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    if (!(r[2] & CPUID1_ECX_XSAVE) || !(r[2] & CPUID1_ECX_AVX))
        return 0;
    cpuid(0xd, 0, r);
    if ((r[0] & 7) != 7)
        return 0;                       /* XCR0 cannot hold x87|SSE|AVX */
    write_cr(4, read_cr(4) | CR4_OSXSAVE);
    __asm__ volatile("xsetbv" :: "c"(0), "a"(7), "d"(0) : "memory");
    return 1;
}

static uint64_t next(uint64_t *seed)
{
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    return *seed;
}

void gmain(unsigned long hartid, const void *boot)
{
    (void)hartid;
    (void)boot;
    long id = rt_vm_id();
    uint64_t seed = 0x9E3779B97F4A7C15ull * (uint64_t)(id < 0 ? 7 : id + 1);
    unsigned long rounds = rt_arg_ulong("rounds", 20), spin_ms = rt_arg_ulong("spin_ms", 25);
    unsigned long rc_want = (unsigned long)(id < 0 ? 1 : (id % 3) + 1);   /* never the default 0 */
    int avx = rt_arg_ulong("avx", 1) ? avx_enable() : 0;
    unsigned long bad = 0;

    printf("fpcheck: %lu rounds of %lu ms, rounding mode %lu\n", rounds, spin_ms, rc_want);
    printf("fpcheck: registers xmm0-15%s, mxcsr\n", avx ? ", ymm0-15 upper halves" : "");
    for (unsigned long r = 0; r < rounds && !bad; r++) {
        for (int i = 0; i < 32; i++) {
            want[i] = next(&seed);
            want_hi[i] = next(&seed);
        }
        uint32_t mx = 0x1f80 | (uint32_t)rc_want << 13, mx_got = 0;
        sse_fill(want, &mx);
        if (avx)
            avx_fill_hi(want_hi);
        uint64_t end = rt_now() + rt_us_to_ticks(spin_ms * 1000);
        while (rt_now() < end)
            ;
        sse_dump(got, &mx_got);
        if (avx)
            avx_dump_hi(got_hi);
        for (int i = 0; i < 32; i++) {
            if (got[i] != want[i]) {
                printf("fpcheck: FAIL round %lu: xmm%d.%s = 0x%lx, expected 0x%lx\n", r, i / 2,
                       i & 1 ? "hi" : "lo", (unsigned long)got[i], (unsigned long)want[i]);
                bad++;
            }
            if (avx && got_hi[i] != want_hi[i]) {
                printf("fpcheck: FAIL round %lu: ymm%d.%s = 0x%lx, expected 0x%lx\n", r, i / 2,
                       i & 1 ? "q3" : "q2", (unsigned long)got_hi[i], (unsigned long)want_hi[i]);
                bad++;
            }
        }
        unsigned long rc = (mx_got >> 13) & 3;
        if (rc != rc_want) {
            printf("fpcheck: FAIL round %lu: mxcsr.rc = %lu, expected %lu\n", r, rc, rc_want);
            bad++;
        }
    }
    printf(bad ? "fpcheck: FAIL\n" : "fpcheck: PASS\n");
    rt_shutdown();
}
