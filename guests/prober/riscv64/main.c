/*
 * prober: walks its guest-physical space for the isolation test (issue 8).
 *
 * Every boot first checks what must work: the first and last byte (and last
 * 8 bytes) of its RAM, the UART's registers and the first and last word of
 * the PLIC window. Then it makes ONE access that must not work: probe
 * number k, where k is the restart count from Tessera's vendor SBI call
 * (fid 3). Tessera stops the VM on an access outside its RAM and devices,
 * and its on_fault = "restart" policy boots it again for probe k+1.
 *
 * Probes, in order: the bytes just outside each region (RAM, UART window,
 * PLIC window), every 1 GiB below 16 GiB, every 64 GiB up to 2^41 (the
 * Sv39x4 guest-physical limit), the last page below 2^41 and addresses
 * beyond it, then stores of a pattern where a neighbour's RAM sits in host
 * memory (bootargs victim=<host-physical base>,<size>).
 *
 * bootargs: victim=<hex base>,<hex size> (default 0x88000000,0x400000)
 * Output:
 *   prober: boot <k> ram 0x<b>-0x<e>
 *   prober: inside ok                           (the accesses that must work)
 *   prober: probe <k>/<n> <load|store> <size> 0x<addr> <why>
 *   prober: LEAK probe <k> 0x<addr> read 0x<v>  (it returned: must not happen)
 *   prober: guest exception on probe <k> scause=0x.. stval=0x..
 *   prober: done <n> probes
 * then SRST shutdown.
 */
#include "rt.h"

#define UART_BASE 0x10000000UL
#define UART_SPAN 0x100UL
#define PLIC_BASE 0x0c000000UL
#define PLIC_SPAN 0x400000UL
#define PATTERN   0x5A5A5A5A5A5A5A5Aull
#define MAX_PROBES 128

struct probe {
    unsigned long addr;
    unsigned size;
    int store;
    const char *why;
};

static struct probe probes[MAX_PROBES];
static unsigned nprobes;
static volatile unsigned long cur = ~0UL;

static void add(unsigned long addr, unsigned size, int store, const char *why)
{
    if (nprobes < MAX_PROBES)
        probes[nprobes++] = (struct probe){ addr, size, store, why };
}

static int mapped(unsigned long a)
{
    return (a >= rt.ram_base && a - rt.ram_base < rt.ram_size) ||
           (a >= UART_BASE && a - UART_BASE < UART_SPAN) ||
           (a >= PLIC_BASE && a - PLIC_BASE < PLIC_SPAN);
}

static void trap(struct trap_frame *f)
{
    printf("prober: guest exception on probe %ld scause=0x%lx stval=0x%lx sepc=0x%lx\n",
           (long)cur, f->scause, f->stval, f->sepc);
    /* skip it and let the run go on to "done" without the later probes */
    f->sepc += (*(volatile uint16_t *)f->sepc & 3) == 3 ? 4 : 2;
}

static unsigned long load(unsigned long a, unsigned size)
{
    switch (size) {
    case 1: return *(volatile uint8_t *)a;
    case 4: return *(volatile uint32_t *)a;
    default: return *(volatile uint64_t *)a;
    }
}

static void store(unsigned long a, unsigned size, unsigned long v)
{
    switch (size) {
    case 1: *(volatile uint8_t *)a = (uint8_t)v; break;
    case 4: *(volatile uint32_t *)a = (uint32_t)v; break;
    default: *(volatile uint64_t *)a = v; break;
    }
}

static void inside_checks(void)
{
    unsigned long first = rt.ram_base, last = rt.ram_base + rt.ram_size - 1;
    volatile uint8_t *u = (volatile uint8_t *)UART_BASE;

    /* the DT sits at the top of RAM: read, write back the same value */
    uint8_t b = *(volatile uint8_t *)last;
    *(volatile uint8_t *)last = b;
    uint64_t q = *(volatile uint64_t *)(last - 7);
    *(volatile uint64_t *)(last - 7) = q;
    b = *(volatile uint8_t *)first;         /* our own first instruction byte */
    (void)b;
    for (unsigned off = 0; off < 8; off++)
        (void)u[off];
    u[7] = 0xA5;                            /* SCR */
    if (u[7] != 0xA5)
        printf("prober: FAIL UART scratch register did not hold its value\n");
    (void)*(volatile uint32_t *)PLIC_BASE;
    (void)*(volatile uint32_t *)(PLIC_BASE + PLIC_SPAN - 4);
    printf("prober: inside ok: RAM 0x%lx and 0x%lx, UART 0x%lx+0..7, PLIC 0x%lx and 0x%lx\n",
           first, last, UART_BASE, PLIC_BASE, PLIC_BASE + PLIC_SPAN - 4);
}

static void build_probes(unsigned long vbase, unsigned long vsize)
{
    unsigned long end = rt.ram_base + rt.ram_size;

    add(end, 1, 0, "first byte after RAM");
    add(end, 8, 1, "first 8 bytes after RAM");
    add(rt.ram_base - 1, 1, 0, "last byte before RAM");
    add(rt.ram_base - 8, 8, 1, "last 8 bytes before RAM");
    add(UART_BASE + UART_SPAN, 1, 0, "first byte after the UART window");
    add(UART_BASE - 1, 1, 0, "last byte before the UART window");
    add(PLIC_BASE + PLIC_SPAN, 4, 0, "first word after the PLIC window");
    add(PLIC_BASE - 4, 4, 1, "last word before the PLIC window");
    add(0, 8, 0, "guest-physical 0");
    for (unsigned long a = 1UL << 30; a < 1UL << 34; a += 1UL << 30)
        if (!mapped(a))
            add(a, 8, 0, "1 GiB stride");
    for (unsigned long a = 1UL << 36; a < 1UL << 41; a += 1UL << 36)
        add(a, 8, 0, "64 GiB stride");
    add((1UL << 41) - 4096, 8, 0, "last page below 2^41");
    add((1UL << 41) - 8, 8, 1, "last 8 bytes below 2^41");
    add(1UL << 41, 8, 0, "2^41: beyond the Sv39x4 guest-physical space");
    add(1UL << 63, 8, 0, "2^63");
    add(~7UL, 8, 0, "top of the 64-bit space");
    /* where the neighbour's RAM is in host memory (not mapped here) */
    add(vbase, 8, 1, "neighbour's host-physical RAM base");
    add(vbase + vsize / 2, 8, 1, "middle of the neighbour's host-physical RAM");
    add(vbase + vsize - 8, 8, 1, "end of the neighbour's host-physical RAM");
    add(vbase + vsize / 2, 8, 0, "middle of the neighbour's host-physical RAM");
}

void gmain(unsigned long hartid, const void *fdt)
{
    (void)hartid;
    (void)fdt;
    char arg[64];
    unsigned long vbase = 0x88000000UL, vsize = 0x400000UL;
    struct sbiret r = sbi_tessera_restarts();
    unsigned long k = r.error ? 0 : (unsigned long)r.value;

    if (rt_arg_str("victim", arg, sizeof(arg))) {
        const char *p = arg;
        if (rt_parse_ulong(&p, &vbase, 16) || *p++ != ',' || rt_parse_ulong(&p, &vsize, 16))
            panic("prober: bad victim=%s", arg);
    }
    rt_set_trap_handler(trap);
    printf("prober: boot %lu ram 0x%lx-0x%lx\n", k, (unsigned long)rt.ram_base,
           (unsigned long)(rt.ram_base + rt.ram_size));
    inside_checks();
    build_probes(vbase, vsize);
    if (k < nprobes) {
        struct probe *p = &probes[k];
        printf("prober: probe %lu/%u %s %u 0x%lx %s\n", k, nprobes,
               p->store ? "store" : "load", p->size, p->addr, p->why);
        cur = k;
        if (p->store) {
            store(p->addr, p->size, PATTERN);
            printf("prober: LEAK probe %lu 0x%lx store completed\n", k, p->addr);
        } else {
            unsigned long v = load(p->addr, p->size);
            printf("prober: LEAK probe %lu 0x%lx read 0x%lx\n", k, p->addr, v);
        }
    }
    printf("prober: done %u probes\n", nprobes);
    rt_shutdown();
}
