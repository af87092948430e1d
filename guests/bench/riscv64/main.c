/*
 * bench: measures from inside a VM what the hypervisor costs, in
 * instructions, with `rdinstret` (exact under QEMU -icount shift=0). It runs
 * unchanged as a bare-metal payload under OpenSBI, for reference numbers.
 * Method and definitions: docs/bench.md.
 *
 * bootargs:
 *   mode=<m>[,<m>...]  run these in order (default "exits"):
 *     exits  per-operation costs: null SBI call, UART scratch register load
 *            and store (MMIO), an emulated CSR read, timer interrupt latency
 *     work   a CPU-bound loop (the counter guest's xorshift work) of
 *            work_iters iterations: total instructions it took
 *     ticks  spin for ticks_ms of virtual time and report every exit seen
 *            (alone on the CPU: the slice-end timer ticks)
 *     spin   record every gap in this vCPU's execution between the absolute
 *            instruction counts from= and until= (vCPU switch, fairness)
 *   tests=sbi,mmio,csr,timer   what `exits` measures (default: all four)
 *   iters=1000 warm=16         measured / warm-up iterations per operation
 *   rounds=100                 timer rounds per variant (one per tick phase)
 *   work_iters=30000           `work` iterations
 *   ticks_ms=100               `ticks` duration (virtual time)
 *   from=0 until=0             `spin` window (absolute instret values)
 *   slice_ms=10 margin_us=50   `ticks`/`spin`: the hypervisor's time slice
 *                              (must match the config) and how long before
 *                              its end the loop starts reading densely
 *
 * Output, for tools/bench.py:
 *   BENCH metric=<name> iters=<n> min=<x> mean=<y.yy> max=<z> unit=instr
 *   BENCH clock instr_per_tick=<n> drift=<d>
 *   BENCH work iters=<n> total=<instructions>
 *   BENCH spin from=<a> until=<b> start=<first read> end=<last read> gaps=<n>
 *         own_sparse=<i> own_dense=<j>
 *   BENCH gap last=<read before> first=<read after> dense=<0|1>
 *   BENCH error <what>          (tools/bench.py fails the run)
 *   BENCH done errors=<n>
 * Metric names: empty (the calibration: rdinstret;rdinstret), sbi-base,
 * mmio-load, mmio-store, csr-hpmcounter3, timer-spin, timer-wfi, tick-exit.
 */
#include "rt.h"

uint64_t bench_empty(void);
uint64_t bench_ecall(unsigned long eid, unsigned long fid);
uint64_t bench_load8(volatile uint8_t *p, uint8_t *out);
uint64_t bench_store8(volatile uint8_t *p, uint8_t v);
uint64_t bench_csr_hpm3(unsigned long *out);
uint64_t bench_edge(uint64_t *tick);
uint64_t bench_timer_round(uint64_t deadline, unsigned long phase, unsigned long use_wfi,
                           unsigned long *scause);
struct spin {                   /* bench_spin's argument: offsets SPIN_* in loops.S */
    uint64_t from, until, run_len;
    uint64_t (*buf)[3];         /* (last read before, first read after, dense) */
    uint64_t max;
    uint64_t start, end, n, full;
};
void bench_spin(struct spin *s);
uint64_t bench_spin_sparse_own(void);

#define DENSE_OWN 3             /* bench_spin's own instructions between dense reads */
#define MAX_GAPS 1024
#define DEADLINE_TICKS 50       /* timer rounds arm the timer this far ahead */

static unsigned long iters, warm;
static int errors;
static uint64_t gaps[MAX_GAPS][3];

struct stat {
    unsigned long n;
    uint64_t min, max, sum;
};

static void stat_add(struct stat *s, uint64_t v)
{
    if (!s->n || v < s->min)
        s->min = v;
    if (!s->n || v > s->max)
        s->max = v;
    s->sum += v;
    s->n++;
}

/* Results are printed after all measurements: console output makes the
 * hypervisor busy for a while (host UART), which must not overlap them. */
#define MAX_RESULTS 16
static struct result {
    const char *name;
    struct stat s;
} results[MAX_RESULTS];
static unsigned nresults;

static void stat_print(const char *name, const struct stat *s)
{
    uint64_t m100 = s->n ? (s->sum * 100 + s->n / 2) / s->n : 0;

    printf("BENCH metric=%s iters=%lu min=%lu mean=%lu.%02lu max=%lu unit=instr\n", name,
           s->n, (unsigned long)s->min, (unsigned long)(m100 / 100),
           (unsigned long)(m100 % 100), (unsigned long)s->max);
}

static void stat_keep(const char *name, const struct stat *s)
{
    if (nresults < MAX_RESULTS)
        results[nresults++] = (struct result){ name, *s };
}

static void print_results(void)
{
    for (unsigned i = 0; i < nresults; i++)
        stat_print(results[i].name, &results[i].s);
    nresults = 0;
}

static void error(const char *fmt, ...) __printf(1, 2);
static void error(const char *fmt, ...)
{
    char buf[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    printf("BENCH error %s\n", buf);
    errors++;
}

static int listed(const char *list, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = list; *p;) {
        if (!strncmp(p, word, n) && (p[n] == ',' || p[n] == 0))
            return 1;
        while (*p && *p != ',')
            p++;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* ------------------------------------------------------------ exits */

static uint64_t empty_delta;

/*
 * Cost of one operation: its delta minus the empty sequence's, i.e. every
 * instruction the hart executed from the trapping instruction (exclusive)
 * to the next guest instruction. A faulting load or CSR access does not
 * count as executed in QEMU's instruction counter, but an `ecall` does:
 * SBI calls subtract it (checked against an instruction trace:
 * `tools/bench.py trace`).
 */
static uint64_t cost(uint64_t delta)
{
    return delta - empty_delta;
}

#define ECALL_SELF 1

static void bench_sbi(void)
{
    struct stat s = { 0 };

    for (unsigned long i = 0; i < warm; i++)
        bench_ecall(SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION);
    for (unsigned long i = 0; i < iters; i++)
        stat_add(&s, cost(bench_ecall(SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION)) - ECALL_SELF);
    stat_keep("sbi-base", &s);
}

static void bench_mmio(void)
{
    struct stat ld = { 0 }, st = { 0 };
    volatile uint8_t *scr;
    uint8_t got = 0;

    if (!rt.uart_base || rt.uart_width != 1) {
        error("mmio: no byte-wide 16550 in the device tree");
        return;
    }
    scr = (volatile uint8_t *)(rt.uart_base + (7UL << rt.uart_shift));
    for (unsigned long i = 0; i < warm; i++) {
        bench_store8(scr, (uint8_t)i);
        bench_load8(scr, &got);
    }
    for (unsigned long i = 0; i < iters; i++) {
        uint8_t v = (uint8_t)(0xA5 ^ i);

        stat_add(&st, cost(bench_store8(scr, v)));
        stat_add(&ld, cost(bench_load8(scr, &got)));
        if (got != v) {
            error("mmio: scratch register read 0x%x after writing 0x%x", got, v);
            return;
        }
    }
    stat_keep("mmio-load", &ld);
    stat_keep("mmio-store", &st);
}

static void bench_csr(void)
{
    struct stat s = { 0 };
    unsigned long v;

    for (unsigned long i = 0; i < warm; i++)
        bench_csr_hpm3(&v);
    for (unsigned long i = 0; i < iters; i++)
        stat_add(&s, cost(bench_csr_hpm3(&v)));
    stat_keep("csr-hpmcounter3", &s);
}

/*
 * Timer interrupt latency. The time CSR and instret are one clock under
 * icount, so a calibration (bench_edge) gives the instret value E(T) at
 * which time becomes T, for every T: E(T) = E0 + ipt * (T - T0).
 * latency = (handler's first rdinstret) - E(deadline) - 1: the instructions
 * executed after the one that first saw the deadline, before the handler's
 * first instruction (0 on a bare-metal hart with Sstc).
 *
 * QEMU arms its timer at "now + (deadline - time) * ipt" ns, so the
 * interrupt comes 0..ipt-1 instructions after the tick edge, by the phase
 * at which the hypervisor wrote the compare register. Round p places the
 * set_timer ecall at phase p + const, so rounds 0..ipt-1 see every phase
 * once: min = the interrupt path alone, mean = that + (ipt - 1) / 2.
 */
static uint64_t ipt, E0, T0;

static int calibrate(void)
{
    uint64_t ta, tb, ea, eb;

    ea = bench_edge(&ta);
    rt_delay_us(100);
    eb = bench_edge(&tb);
    if (tb <= ta || (eb - ea) % (tb - ta)) {
        error("clock: instret and time are not one clock (run under -icount shift=0)");
        return -1;
    }
    ipt = (eb - ea) / (tb - ta);
    E0 = eb;
    T0 = tb;
    return 0;
}

static void timer_variant(const char *name, unsigned long use_wfi, unsigned long rounds)
{
    struct stat s = { 0 };

    for (unsigned long p = 0; p < rounds + warm; p++) {
        unsigned long cause = 0;
        uint64_t d = rt_now() + DEADLINE_TICKS;
        uint64_t t = bench_timer_round(d, p % ipt, use_wfi, &cause);
        int64_t lat = (int64_t)(t - (E0 + ipt * (d - T0))) - 1;

        sbi_set_timer(UINT64_MAX);
        if (cause != SCAUSE_STI) {
            error("%s: trap scause=0x%lx instead of the timer interrupt", name, cause);
            return;
        }
        if (lat < 0) {
            error("%s: interrupt %ld instructions before the deadline", name, (long)-lat);
            return;
        }
        if (p >= warm)
            stat_add(&s, (uint64_t)lat);
    }
    stat_keep(name, &s);
}

static int64_t clock_drift;
static int clock_checked;

static void bench_timer(unsigned long rounds)
{
    uint64_t t1, e1;
    int64_t drift;

    if (calibrate())
        return;
    timer_variant("timer-spin", 0, rounds);
    timer_variant("timer-wfi", 1, rounds);
    csr_clear(sie, SIE_STIE);
    /* The same calibration must still hold after idling in wfi. */
    e1 = bench_edge(&t1);
    drift = (int64_t)(e1 - (E0 + ipt * (t1 - T0)));
    clock_drift = drift;
    clock_checked = 1;
    if (drift)
        error("clock: instret and time drifted apart by %ld instructions", (long)drift);
}

static void mode_exits(void)
{
    char tests[64] = "sbi,mmio,csr,timer";
    struct stat e = { 0 };

    rt_arg_str("tests", tests, sizeof(tests));
    for (unsigned long i = 0; i < warm + iters; i++) {
        uint64_t d = bench_empty();

        if (i >= warm)
            stat_add(&e, d);
    }
    stat_keep("empty", &e);
    if (e.min != e.max) {
        print_results();
        error("empty: rdinstret deltas vary (%lu..%lu): not under -icount shift=0?",
              (unsigned long)e.min, (unsigned long)e.max);
        return;
    }
    empty_delta = e.min;
    if (listed(tests, "sbi"))
        bench_sbi();
    if (listed(tests, "mmio"))
        bench_mmio();
    if (listed(tests, "csr"))
        bench_csr();
    if (listed(tests, "timer"))
        bench_timer(rt_arg_ulong("rounds", 100));
    print_results();
    if (clock_checked)
        printf("BENCH clock instr_per_tick=%lu drift=%ld\n", (unsigned long)ipt,
               (long)clock_drift);
}

/* ------------------------------------------------------------ work, spin */

static volatile uint64_t sink;

/* The counter guest's work unit: 1000 xorshift64 steps. */
static uint64_t __attribute__((noinline)) work(uint64_t x)
{
    for (int i = 0; i < 1000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

static void mode_work(void)
{
    unsigned long n = rt_arg_ulong("work_iters", 30000);
    uint64_t x = 0x9E3779B97F4A7C15ull, t0, t1;

    t0 = rdinstret();
    for (unsigned long i = 0; i < n; i++) {
        x = work(x);
        sink = x;
    }
    t1 = rdinstret();
    printf("BENCH work iters=%lu total=%lu\n", n, (unsigned long)(t1 - t0));
}

/* Sparse for a slice less margin_us after each resume, then dense. */
static uint64_t spin_run_len(void)
{
    uint64_t tpms = ipt * rt.timebase_hz / 1000;        /* instructions per ms */
    uint64_t slice = rt_arg_ulong("slice_ms", 10) * tpms;
    uint64_t margin = rt_arg_ulong("margin_us", 50) * tpms / 1000;

    return slice > margin ? slice - margin : 0;
}

static uint64_t gap_away(const uint64_t *g, uint64_t sparse_own)
{
    return g[1] - g[0] - (g[2] ? DENSE_OWN : sparse_own);
}

/* Alone on the CPU: every gap is one exit and back into this vCPU, and
 * its length minus this loop's own instructions is exact. */
static void mode_ticks(void)
{
    unsigned long ms = rt_arg_ulong("ticks_ms", 100);
    uint64_t own = bench_spin_sparse_own();
    struct stat s = { 0 };
    struct spin sp = { 0 };

    if (!ipt && calibrate())
        return;
    sp.from = rdinstret();
    sp.until = sp.from + ms * ipt * rt.timebase_hz / 1000;
    sp.run_len = spin_run_len();
    sp.buf = gaps;
    sp.max = MAX_GAPS;
    bench_spin(&sp);
    if (sp.full) {
        error("ticks: more than %d exits", MAX_GAPS);
        return;
    }
    for (uint64_t i = 0; i < sp.n; i++)
        stat_add(&s, gap_away(gaps[i], own));
    stat_print("tick-exit", &s);
}

static void mode_spin(void)
{
    struct spin sp = { 0 };

    sp.from = rt_arg_ulong("from", 0);
    sp.until = rt_arg_ulong("until", 0);
    if (sp.until <= sp.from) {
        error("spin: needs from= < until= (absolute instruction counts)");
        return;
    }
    if (!ipt && calibrate())
        return;
    sp.run_len = spin_run_len();
    sp.buf = gaps;
    sp.max = MAX_GAPS;
    bench_spin(&sp);
    if (sp.start >= sp.from) {
        error("spin: started at %lu, after from=%lu: raise from", (unsigned long)sp.start,
              (unsigned long)sp.from);
        return;
    }
    if (sp.full) {
        error("spin: more than %d gaps", MAX_GAPS);
        return;
    }
    printf("BENCH spin from=%lu until=%lu start=%lu end=%lu gaps=%lu own_sparse=%lu "
           "own_dense=%d\n", (unsigned long)sp.from, (unsigned long)sp.until,
           (unsigned long)sp.start, (unsigned long)sp.end, (unsigned long)sp.n,
           (unsigned long)bench_spin_sparse_own(), DENSE_OWN);
    for (uint64_t i = 0; i < sp.n; i++)
        printf("BENCH gap last=%lu first=%lu dense=%lu\n", (unsigned long)gaps[i][0],
               (unsigned long)gaps[i][1], (unsigned long)gaps[i][2]);
}

void gmain(unsigned long hartid, const void *fdt)
{
    char modes[64] = "exits";

    (void)hartid;
    (void)fdt;
    rt_arg_str("mode", modes, sizeof(modes));
    iters = rt_arg_ulong("iters", 1000);
    warm = rt_arg_ulong("warm", 16);
    if (!iters)
        iters = 1;
    printf("bench: mode=%s iters=%lu warm=%lu instret=%lu\n", modes, iters, warm,
           (unsigned long)rdinstret());
    if (listed(modes, "exits"))
        mode_exits();
    if (!errors && listed(modes, "work"))
        mode_work();
    if (!errors && listed(modes, "ticks"))
        mode_ticks();
    if (!errors && listed(modes, "spin"))
        mode_spin();
    printf("BENCH done errors=%d\n", errors);
    rt_shutdown();
}
