/*
 * bench (x86_64): measures from inside a VM what the hypervisor costs, in
 * instructions, with `rdtsc`. Under QEMU -icount shift=0 the TSC is the
 * virtual clock, one tick per instruction executed (exact: `rdtsc` ends its
 * translation block); under Bochs the TSC counts instructions. The x86 twin
 * of guests/bench/riscv64 (same bootargs where they apply, same output
 * lines). Method and definitions: docs/bench.md.
 *
 * bootargs:
 *   mode=<m>[,<m>...]  run these in order (default "exits"):
 *     exits  per-operation costs: null hypercall, CPUID leaf 0, port I/O to
 *            the UART scratch register (in and out), x2APIC MSR read,
 *            LAPIC TSC-deadline timer interrupt latency
 *     work   a CPU-bound loop (the counter guest's xorshift work) of
 *            work_iters iterations: total instructions it took
 *     ticks  spin for ticks_ms of TSC time and report every exit seen
 *     spin   record every gap in this vCPU's execution between the TSC
 *            values from= and until= (vCPU switch, fairness)
 *   tests=hc,cpuid,pio,msr,timer   what `exits` measures (default: all)
 *   iters=1000 warm=16         measured / warm-up iterations per operation
 *   rounds=100                 timer rounds per variant
 *   work_iters=30000  ticks_ms=100  from=0 until=0  slice_ms=10 margin_us=50
 *
 * Output (tools/bench.py): the lines of guests/bench/riscv64/main.c, and
 *   BENCH start tsc=<TSC at gmain entry> slice_ticks=<slice_ms in TSC ticks>
 * Metric names: empty, hypercall, cpuid-0, pio-out, pio-in, msr-x2apic,
 * timer-spin, timer-hlt, tick-exit.
 */
#include "rt.h"
#include "pc.h"

uint64_t bench_empty(void);
uint64_t bench_vmmcall(uint64_t fn, uint64_t *ret);
uint64_t bench_vmcall(uint64_t fn, uint64_t *ret);
uint64_t bench_cpuid0(uint32_t *max_leaf);
uint64_t bench_outb(uint16_t port, uint8_t v);
uint64_t bench_inb(uint16_t port, uint8_t *out);
uint64_t bench_rdmsr(uint32_t msr, uint64_t *val);
uint64_t bench_timer_round(uint64_t deadline, uint64_t use_hlt);
extern char bench_timer_isr[];
struct spin {                   /* bench_spin's argument: offsets SPIN_* in loops.S */
    uint64_t from, until, run_len;
    uint64_t (*buf)[3];         /* (last read before, first read after, dense) */
    uint64_t max;
    uint64_t start, end, n, full;
    uint64_t long_gap;          /* a gap this long starts a new slice */
};
void bench_spin(struct spin *s);
uint64_t bench_spin_sparse_own(void);

#define DENSE_OWN 8             /* bench_spin's own instructions between dense reads */
#define MAX_GAPS 1024
#define TIMER_VEC 0x40
#define SPURIOUS_VEC 0xff
#define TIMER_AHEAD 20000       /* TSC ticks between arming and the deadline */
#define LVT_TSC_DEADLINE (2u << 17)

/* setup instructions inside each measured sequence (loops.S) */
#define SETUP_HC 2              /* mov fn to rax; mov rax to r10 */
#define SETUP_CPUID 2           /* xor eax; mov eax to r10d */
#define SETUP_OUT 2
#define SETUP_IN 2
#define SETUP_MSR 2

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

/* Results are printed after all measurements (console output is a stream
 * of port I/O exits, which must not overlap them). */
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

static uint64_t cost(uint64_t delta, unsigned setup)
{
    return delta - empty_delta - setup;
}

static uint64_t hypercall_once(uint64_t fn, uint64_t *ret)
{
    return rt.amd ? bench_vmmcall(fn, ret) : bench_vmcall(fn, ret);
}

static void bench_hc(void)
{
    struct stat s = { 0 };
    uint64_t ret = 0;

    if (!rt.tessera) {
        error("hypercall: not under Tessera");
        return;
    }
    for (unsigned long i = 0; i < warm; i++)
        hypercall_once(RT_HC_VM_ID, &ret);
    for (unsigned long i = 0; i < iters; i++)
        stat_add(&s, cost(hypercall_once(RT_HC_VM_ID, &ret), SETUP_HC));
    if (ret != (uint64_t)rt_vm_id())
        error("hypercall: VM id %lu, expected %ld", (unsigned long)ret, rt_vm_id());
    stat_keep("hypercall", &s);
}

static void bench_cpuid(void)
{
    struct stat s = { 0 };
    uint32_t max = 0;

    for (unsigned long i = 0; i < warm; i++)
        bench_cpuid0(&max);
    for (unsigned long i = 0; i < iters; i++)
        stat_add(&s, cost(bench_cpuid0(&max), SETUP_CPUID));
    if (!max)
        error("cpuid: leaf 0 says no leaves");
    stat_keep("cpuid-0", &s);
}

static void bench_pio(void)
{
    struct stat in = { 0 }, out = { 0 };
    uint16_t scr;
    uint8_t got = 0;

    if (!rt.uart_port) {
        error("pio: no 16550 port in the boot info");
        return;
    }
    scr = (uint16_t)(rt.uart_port + UART_SCR);
    for (unsigned long i = 0; i < warm; i++) {
        bench_outb(scr, (uint8_t)i);
        bench_inb(scr, &got);
    }
    for (unsigned long i = 0; i < iters; i++) {
        uint8_t v = (uint8_t)(0xA5 ^ i);

        stat_add(&out, cost(bench_outb(scr, v), SETUP_OUT));
        stat_add(&in, cost(bench_inb(scr, &got), SETUP_IN));
        if (got != v) {
            error("pio: scratch register read 0x%x after writing 0x%x", got, v);
            return;
        }
    }
    stat_keep("pio-in", &in);
    stat_keep("pio-out", &out);
}

static int x2apic_on;

static int x2apic(void)
{
    const char *why = "";

    if (x2apic_on)
        return 0;
    if (lapic_enable(LAPIC_X2APIC, SPURIOUS_VEC, &why)) {
        error("x2apic: %s", why);
        return -1;
    }
    x2apic_on = 1;
    return 0;
}

static void bench_msr(void)
{
    struct stat s = { 0 };
    uint64_t v = 0;

    if (x2apic())
        return;
    for (unsigned long i = 0; i < warm; i++)
        bench_rdmsr(MSR_X2APIC(LAPIC_VER), &v);
    for (unsigned long i = 0; i < iters; i++)
        stat_add(&s, cost(bench_rdmsr(MSR_X2APIC(LAPIC_VER), &v), SETUP_MSR));
    if (!(v & 0xff))
        error("msr: x2APIC version register reads 0x%lx", (unsigned long)v);
    stat_keep("msr-x2apic", &s);
}

/*
 * Timer interrupt latency: the LAPIC in TSC-deadline mode, armed for D;
 * latency = the TSC read by the handler's first instruction - D: the
 * instructions executed from the deadline to the handler (0 on a machine
 * that delivers at the deadline). Round p arms the timer for
 * now + TIMER_AHEAD + p, so the rounds see every phase of the host timer's
 * granularity: min is the hypervisor's own path.
 */
static void set_gate(unsigned vec, void *handler)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) d;
    uint64_t a = (uint64_t)(uintptr_t)handler;
    uint16_t *g;

    __asm__ volatile("sidt %0" : "=m"(d));
    g = (uint16_t *)(uintptr_t)(d.base + 16 * vec);
    g[0] = (uint16_t)a;
    g[3] = (uint16_t)(a >> 16);
    *(uint32_t *)&g[4] = (uint32_t)(a >> 32);
}

static void timer_variant(const char *name, uint64_t use_hlt, unsigned long rounds)
{
    struct stat s = { 0 };

    for (unsigned long p = 0; p < rounds + warm; p++) {
        uint64_t d = rt_now() + TIMER_AHEAD + p;
        uint64_t t = bench_timer_round(d, use_hlt);

        lapic_eoi();
        if (t < d) {
            error("%s: interrupt %lu instructions before the deadline", name,
                  (unsigned long)(d - t));
            return;
        }
        if (p >= warm)
            stat_add(&s, t - d);
    }
    stat_keep(name, &s);
}

static void bench_timer(unsigned long rounds)
{
    uint32_t r[4];

    cpuid(1, 0, r);
    if (!(r[2] & CPUID1_ECX_TSCDL)) {
        error("timer: no TSC-deadline timer (cpuid 1 ecx bit 24)");
        return;
    }
    if (x2apic())
        return;
    set_gate(TIMER_VEC, bench_timer_isr);
    lapic_write(LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VEC);
    timer_variant("timer-spin", 0, rounds);
    timer_variant("timer-hlt", 1, rounds);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | LVT_TSC_DEADLINE | TIMER_VEC);
}

static void mode_exits(void)
{
    char tests[64] = "hc,cpuid,pio,msr,timer";
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
        error("empty: rdtsc deltas vary (%lu..%lu): not under -icount shift=0?",
              (unsigned long)e.min, (unsigned long)e.max);
        return;
    }
    empty_delta = e.min;
    if (listed(tests, "hc"))
        bench_hc();
    if (listed(tests, "cpuid"))
        bench_cpuid();
    if (listed(tests, "pio"))
        bench_pio();
    if (listed(tests, "msr"))
        bench_msr();
    if (listed(tests, "timer"))
        bench_timer(rt_arg_ulong("rounds", 100));
    print_results();
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

    t0 = rdtsc();
    for (unsigned long i = 0; i < n; i++) {
        x = work(x);
        sink = x;
    }
    t1 = rdtsc();
    printf("BENCH work iters=%lu total=%lu\n", n, (unsigned long)(t1 - t0));
}

/* Sparse for a slice less margin_us after each resume, then dense. */
static uint64_t spin_run_len(void)
{
    uint64_t tpms = rt.timebase_hz / 1000;              /* TSC ticks per ms */
    uint64_t slice = rt_arg_ulong("slice_ms", 10) * tpms;
    uint64_t margin = rt_arg_ulong("margin_us", 50) * tpms / 1000;

    return slice > margin ? slice - margin : 0;
}

static uint64_t gap_away(const uint64_t *g, uint64_t sparse_own)
{
    return g[1] - g[0] - (g[2] ? DENSE_OWN : sparse_own);
}

static void mode_ticks(void)
{
    unsigned long ms = rt_arg_ulong("ticks_ms", 100);
    uint64_t own = bench_spin_sparse_own();
    struct stat s = { 0 };
    struct spin sp = { 0 };

    sp.from = rdtsc();
    sp.until = sp.from + ms * rt.timebase_hz / 1000;
    sp.run_len = spin_run_len();
    sp.long_gap = 0;            /* alone: every tick starts a slice */
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
        error("spin: needs from= < until= (TSC values)");
        return;
    }
    sp.run_len = spin_run_len();
    sp.long_gap = rt.timebase_hz / 1000;                /* 1 ms */
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

void gmain(unsigned long hartid, const void *bootinfo)
{
    uint64_t t0 = rdtsc();
    char modes[64] = "exits";

    (void)hartid;
    (void)bootinfo;
    rt_arg_str("mode", modes, sizeof(modes));
    iters = rt_arg_ulong("iters", 1000);
    warm = rt_arg_ulong("warm", 16);
    if (!iters)
        iters = 1;
    if (listed(modes, "exits"))
        mode_exits();
    if (!errors && listed(modes, "work"))
        mode_work();
    if (!errors && listed(modes, "ticks"))
        mode_ticks();
    if (!errors && listed(modes, "spin"))
        mode_spin();
    /* Printed last: console output costs the hypervisor time (a slow host
     * UART), which would shift when the other VMs first run. t0: where
     * this VM's clock was when it first ran (each VM's TSC starts at 0 when
     * the VM is started); tools/bench.py places the VMs' clocks against
     * each other with it, roughly, before matching switches. */
    printf("bench: mode=%s iters=%lu warm=%lu tsc_hz=%lu (%s) %s\n", modes, iters, warm,
           (unsigned long)rt.timebase_hz, rt.timebase_src, rt_hypercall_insn());
    printf("BENCH start tsc=%lu slice_ticks=%lu\n", (unsigned long)t0,
           (unsigned long)(rt_arg_ulong("slice_ms", 10) * (rt.timebase_hz / 1000)));
    printf("BENCH done errors=%d\n", errors);
    rt_shutdown();
}
