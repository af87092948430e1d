/*
 * prober (x86_64): the x86 twin of guests/prober/riscv64/main.c for the
 * isolation test (issue 8); configs/x86_64/robustness/probe.toml.
 *
 * Every boot first checks what must work: both ends of each of its RAM
 * regions (the image region first, as the boot info reports it, then
 * low=<base>,<size>), the UART's scratch register, the IOAPIC's version
 * register, and reads/writes inside the PC's device windows
 * (the IOAPIC at 0xfec00000 and the LAPIC's xAPIC page at 0xfee00000 are
 * devices; the probed addresses avoid them)
 * (0xa0000-0xfffff, 0xc0000000-0xffffffff) where no device sits: Tessera
 * documents those as all-ones reads and dropped writes, not a stop.
 *
 * Then ONE access that must stop it: probe k, k = the restart count
 * (hypercall 3). Tessera stops the VM on an access outside its RAM and
 * devices (outside the windows); on_fault = "restart" boots it for probe
 * k+1. Probes, in order: the bytes just outside each RAM region and each
 * device window, every 1 GiB below 16 GiB, every multiple of <stride> GiB
 * (bootarg stride, default 64) from 16 GiB up to 2^MAXPHYADDR (CPUID
 * 0x80000008), the last page and last 8 bytes below it, then stores of a
 * pattern where the victim's RAM sits in host memory (bootarg
 * victim=<host base>,<size>).
 *
 * The guest cannot address guest-physical memory at or above 2^MAXPHYADDR:
 * a page-table entry pointing there has reserved bits set and the CPU
 * raises #PF (error code bit 3, RSVD) in the guest before any nested walk.
 * Those probes (2^MAXPHYADDR, powers of two up to 2^48 = the NPT/EPT
 * limit, 2^48 and 2^51) all run in the last boot, each expecting that #PF.
 *
 * Addresses >= 4 GiB are reached through a 2 MiB page at virtual
 * 0x8000000000 (PML4 slot 1), remapped for each probe; below 4 GiB the
 * runtime's identity map is used.
 *
 * Output:
 *   prober: boot <k> ram 0x<b>-0x<e> low 0x<b>-0x<e> maxphyaddr <m>
 *   prober: inside ok: ...                      (the accesses that must work)
 *   prober: windows ok: <r> reads all-ones, <w> writes dropped
 *   prober: FAIL ...                            (a must-work check failed)
 *   prober: probe <i>/<n> <load|store> <size> 0x<addr> <why>
 *   prober: probe <i> #PF error=0x<e> as expected  (beyond MAXPHYADDR)
 *   prober: LEAK probe <i> 0x<addr> read 0x<v> | store completed
 *   prober: guest exception on probe <i> ...    (unexpected)
 *   prober: done <n> probes
 * then the shutdown hypercall.
 */
#include "rt.h"
#include "pc.h"

#define PATTERN    0x5A5A5A5A5A5A5A5Aull
#define MAX_PROBES 160
#define WIN_VA     0x8000000000ull      /* PML4[1]: the probe window */
#define PTE_P      1ull
#define PTE_RW     2ull
#define PTE_PWT    8ull
#define PTE_PCD    16ull
#define PTE_PS     128ull

struct probe {
    uint64_t addr;
    unsigned size;
    int store;
    int expect_pf;              /* beyond MAXPHYADDR: a #PF in the guest */
    const char *why;
};

extern uint64_t rt_pml4[512];
static uint64_t win_pdpt[512] __attribute__((aligned(4096)));
static uint64_t win_pd[512] __attribute__((aligned(4096)));

static struct probe probes[MAX_PROBES];
static unsigned nprobes, nstop;
static volatile long cur = -1;
volatile uint64_t probe_recover;        /* where an expected #PF resumes */
static volatile unsigned long pf_count;
static uint64_t low_base, low_size;
static unsigned maxphy;

static void add(uint64_t addr, unsigned size, int store, const char *why)
{
    if (nprobes < MAX_PROBES)
        probes[nprobes++] = (struct probe){ addr, size, store, addr >> maxphy != 0, why };
}

static void trap(struct trap_frame *f)
{
    if (f->vector == RT_VEC_PF && probe_recover && (f->error & 8)) {
        printf("prober: probe %ld #PF error=0x%lx as expected (beyond MAXPHYADDR)\n",
               (long)cur, (unsigned long)f->error);
        pf_count++;
        f->rip = probe_recover;
        probe_recover = 0;
        return;
    }
    printf("prober: guest exception on probe %ld %s error=0x%lx rip=0x%lx cr2=0x%lx\n",
           (long)cur, rt_vector_name(f->vector), (unsigned long)f->error,
           (unsigned long)f->rip, (unsigned long)f->cr2);
    rt_shutdown();
}

/* The virtual address that reaches guest-physical a. */
static uint64_t va_of(uint64_t a)
{
    if (a < (4ull << 30))
        return a;
    win_pd[0] = (a & ~((2ull << 20) - 1)) | PTE_P | PTE_RW | PTE_PS | PTE_PCD | PTE_PWT;
    rt_pml4[1] = (uint64_t)(uintptr_t)win_pdpt | PTE_P | PTE_RW;
    win_pdpt[0] = (uint64_t)(uintptr_t)win_pd | PTE_P | PTE_RW;
    __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
    return WIN_VA + (a & ((2ull << 20) - 1));
}

/* Plain MOVs (the forms Tessera's MMIO decoder takes); probe_recover set
 * to just past the instruction, for the probes that expect a #PF. */
static uint64_t load(uint64_t va, unsigned size)
{
    uint64_t v = 0;

    switch (size) {
    case 1:
        __asm__ volatile("lea 1f(%%rip), %%r11; mov %%r11, probe_recover(%%rip)\n\t"
                         "movb (%1), %b0\n1:" : "+q"(v) : "r"(va) : "r11", "memory");
        break;
    case 4:
        __asm__ volatile("lea 1f(%%rip), %%r11; mov %%r11, probe_recover(%%rip)\n\t"
                         "movl (%1), %k0\n1:" : "+r"(v) : "r"(va) : "r11", "memory");
        break;
    default:
        __asm__ volatile("lea 1f(%%rip), %%r11; mov %%r11, probe_recover(%%rip)\n\t"
                         "movq (%1), %0\n1:" : "+r"(v) : "r"(va) : "r11", "memory");
        break;
    }
    probe_recover = 0;
    return v;
}

static void store(uint64_t va, unsigned size, uint64_t v)
{
    switch (size) {
    case 1:
        __asm__ volatile("lea 1f(%%rip), %%r11; mov %%r11, probe_recover(%%rip)\n\t"
                         "movb %b0, (%1)\n1:" :: "q"(v), "r"(va) : "r11", "memory");
        break;
    case 4:
        __asm__ volatile("lea 1f(%%rip), %%r11; mov %%r11, probe_recover(%%rip)\n\t"
                         "movl %k0, (%1)\n1:" :: "r"(v), "r"(va) : "r11", "memory");
        break;
    default:
        __asm__ volatile("lea 1f(%%rip), %%r11; mov %%r11, probe_recover(%%rip)\n\t"
                         "movq %0, (%1)\n1:" :: "r"(v), "r"(va) : "r11", "memory");
        break;
    }
    probe_recover = 0;
}

static int fails;

static void must(int ok, const char *what, uint64_t a, uint64_t v)
{
    if (!ok) {
        fails++;
        printf("prober: FAIL %s at 0x%lx: 0x%lx\n", what, (unsigned long)a, (unsigned long)v);
    }
}

static void ram_ends(uint64_t base, uint64_t size)
{
    uint64_t last = base + size - 1;
    uint64_t b = load(last, 1);

    store(last, 1, b);
    must(load(last, 1) == b, "RAM byte changed", last, b);
    uint64_t q = load(last - 7, 8);
    store(last - 7, 8, q);
    must(load(last - 7, 8) == q, "RAM quad changed", last - 7, q);
    b = load(base, 1);
    store(base, 1, b);
    must(load(base, 1) == b, "RAM byte changed", base, b);
}

/* In the PC windows, where no device sits: reads give all ones, writes are
 * dropped; the VM goes on. */
static const struct { uint64_t a; unsigned size; } win_reads[] = {
    { 0xa0000, 1 }, { 0xa0000, 8 }, { 0xfffff, 1 }, { 0xffff8, 8 },
    { 0xc0000000, 1 }, { 0xc0000000, 8 }, { 0xfebffffc, 4 }, { 0xfec01000, 4 },
    { 0xfedffffc, 4 }, { 0xfee01000, 4 }, { 0xfffffff8, 8 }, { 0xffffffff, 1 },
};
static const struct { uint64_t a; unsigned size; } win_writes[] = {
    { 0xa0000, 8 }, { 0xfffff, 1 }, { 0xc0000000, 8 }, { 0xfee01000, 4 }, { 0xffffffff, 1 },
};

static void inside_checks(void)
{
    unsigned r = 0, w = 0;

    ram_ends(rt.ram_base, rt.ram_size);
    if (low_size)
        ram_ends(low_base, low_size);
    outb((uint16_t)(rt.uart_port + 7), 0xa5);           /* SCR */
    must(inb((uint16_t)(rt.uart_port + 7)) == 0xa5, "UART scratch", rt.uart_port + 7, 0);
    mmio_write32(IOAPIC_BASE, IOAPIC_VER);
    uint32_t ver = mmio_read32(IOAPIC_BASE + 0x10);
    must(ver != 0xffffffffu && (ver & 0xff) != 0xff, "IOAPIC version", IOAPIC_BASE + 0x10, ver);
    printf("prober: inside ok: RAM 0x%lx..0x%lx and 0x%lx..0x%lx, UART port 0x%x, IOAPIC version 0x%x\n",
           (unsigned long)rt.ram_base, (unsigned long)(rt.ram_base + rt.ram_size - 1),
           (unsigned long)low_base, (unsigned long)(low_base + low_size - 1),
           rt.uart_port + 7, ver);
    for (unsigned i = 0; i < sizeof(win_reads) / sizeof(win_reads[0]); i++, r++) {
        uint64_t v = load(win_reads[i].a, win_reads[i].size);
        uint64_t ones = win_reads[i].size == 8 ? ~0ull : (1ull << (8 * win_reads[i].size)) - 1;
        must(v == ones, "window read not all-ones", win_reads[i].a, v);
    }
    for (unsigned i = 0; i < sizeof(win_writes) / sizeof(win_writes[0]); i++, w++) {
        store(win_writes[i].a, win_writes[i].size, PATTERN);
        uint64_t v = load(win_writes[i].a, win_writes[i].size);
        uint64_t ones = win_writes[i].size == 8 ? ~0ull : (1ull << (8 * win_writes[i].size)) - 1;
        must(v == ones, "window write not dropped", win_writes[i].a, v);
    }
    printf("prober: windows ok: %u reads all-ones, %u writes dropped\n", r, w);
}

static void build_probes(uint64_t vbase, uint64_t vsize, uint64_t stride)
{
    uint64_t end = rt.ram_base + rt.ram_size, top = 1ull << maxphy;

    add(end, 1, 0, "first byte after RAM");
    add(end, 8, 1, "first 8 bytes after RAM");
    if (low_size) {
        add(low_base + low_size, 1, 0, "first byte after low RAM");
        add(low_base + low_size, 8, 1, "first 8 bytes after low RAM");
        add(0x9ffff, 1, 0, "last byte before the legacy window (0xa0000)");
        add(0x9fff8, 8, 1, "last 8 bytes before the legacy window");
    }
    add(0xbfffffff, 1, 0, "last byte before the PCI window (0xc0000000)");
    add(0xbffffff8, 8, 1, "last 8 bytes before the PCI window");
    add(1ull << 32, 1, 0, "first byte after the PCI window (4 GiB)");
    add(1ull << 32, 8, 1, "first 8 bytes after the PCI window");
    for (uint64_t a = 1ull << 30; a < 16ull << 30; a += 1ull << 30)
        if (a < 0xc0000000ull || a > 1ull << 32)
            add(a, 8, 0, "1 GiB stride");
    for (uint64_t a = stride << 30; a < top; a += stride << 30)     /* multiples of stride */
        if (a >= 16ull << 30)
            add(a, 8, 0, "big stride");
    add(top - 4096, 8, 0, "last page below 2^MAXPHYADDR");
    add(top - 8, 8, 1, "last 8 bytes below 2^MAXPHYADDR");
    /* where the victim's RAM is in host memory (outside the prober's RAM) */
    add(vbase, 8, 1, "victim's host-physical RAM base");
    add(vbase + vsize / 2, 8, 1, "middle of the victim's host-physical RAM");
    add(vbase + vsize - 8, 8, 1, "end of the victim's host-physical RAM");
    add(vbase + vsize / 2, 8, 0, "middle of the victim's host-physical RAM");
    nstop = nprobes;
    /* beyond what the guest can address: #PF (RSVD) in the guest itself */
    add(top, 8, 0, "2^MAXPHYADDR");
    for (unsigned b = maxphy + 1; b < 48; b++)
        add(1ull << b, 8, 0, "power of two below 2^48");
    add((1ull << 48) - 8, 8, 1, "last 8 bytes below 2^48 (the NPT/EPT limit)");
    add(1ull << 48, 8, 0, "2^48: beyond 4-level NPT/EPT");
    add(1ull << 51, 8, 0, "2^51 (architectural 52-bit limit)");
    for (unsigned i = 0; i < nstop; i++)
        if (probes[i].expect_pf)
            panic("prober: probe %u below the stop group expects #PF", i);
}

static void run_probe(unsigned i)
{
    struct probe *p = &probes[i];
    uint64_t va = va_of(p->addr);

    printf("prober: probe %u/%u %s %u 0x%lx %s\n", i, nprobes, p->store ? "store" : "load",
           p->size, (unsigned long)p->addr, p->why);
    cur = i;
    unsigned long pf = pf_count;
    if (p->store) {
        store(va, p->size, PATTERN);
        if (pf_count == pf)
            printf("prober: LEAK probe %u 0x%lx store completed\n", i, (unsigned long)p->addr);
    } else {
        uint64_t v = load(va, p->size);
        if (pf_count == pf)
            printf("prober: LEAK probe %u 0x%lx read 0x%lx\n", i, (unsigned long)p->addr,
                   (unsigned long)v);
    }
}

void gmain(unsigned long hartid, const void *bootinfo)
{
    (void)hartid;
    (void)bootinfo;
    char arg[64];
    unsigned long vbase = 0x20000000UL, vsize = 0x400000UL;
    long rs = rt_restarts();
    unsigned long k = rs < 0 ? 0 : (unsigned long)rs;
    unsigned long stride = rt_arg_ulong("stride", 64);
    uint32_t r[4];

    if (rt_arg_str("victim", arg, sizeof(arg))) {
        const char *p = arg;
        if (rt_parse_ulong(&p, &vbase, 16) || *p++ != ',' || rt_parse_ulong(&p, &vsize, 16))
            panic("prober: bad victim=%s", arg);
    }
    if (rt_arg_str("low", arg, sizeof(arg))) {
        const char *p = arg;
        unsigned long b, s;
        if (rt_parse_ulong(&p, &b, 16) || *p++ != ',' || rt_parse_ulong(&p, &s, 16))
            panic("prober: bad low=%s", arg);
        low_base = b;
        low_size = s;
    }
    if (!stride)
        stride = 64;
    cpuid(0x80000000, 0, r);
    maxphy = 36;
    if (r[0] >= 0x80000008) {
        cpuid(0x80000008, 0, r);
        maxphy = r[0] & 0xff;
    }
    if (maxphy > 48)
        maxphy = 48;
    rt_set_trap_handler(trap);
    printf("prober: boot %lu ram 0x%lx-0x%lx low 0x%lx-0x%lx maxphyaddr %u\n", k,
           (unsigned long)rt.ram_base, (unsigned long)(rt.ram_base + rt.ram_size),
           (unsigned long)low_base, (unsigned long)(low_base + low_size), maxphy);
    inside_checks();
    build_probes(vbase, vsize, stride);
    if (fails) {
        printf("prober: FAIL %d must-work checks, no probe\n", fails);
        rt_shutdown();
    }
    if (k < nstop)
        run_probe((unsigned)k);
    else
        for (unsigned i = nstop; i < nprobes; i++)
            run_probe(i);
    printf("prober: done %u probes (%u stops, %u #PF)\n", nprobes, nstop, nprobes - nstop);
    rt_shutdown();
}
