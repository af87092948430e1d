/*
 * isolation: writes a pattern to each address in bootargs probe=<a>[,<a>...]
 * (hex, "0x" optional) and reads it back.  The hypervisor is expected to stop
 * the VM at the first access outside its memory, so normally the output ends
 * after the first "isolation: writing pattern at ..." line for a foreign
 * address.  One source for every architecture (x86_64: the runtime's
 * identity map covers 4 GiB, or 512 GiB where the CPU has 1 GiB pages; a
 * probe beyond it takes a #PF, reported as a guest-visible fault).
 */
#include "rt.h"

#define PATTERN   0x5A5A5A5A5A5A5A5Aull
#ifdef __riscv
#define RAM_SOURCE "no /memory node"
#else
#define RAM_SOURCE "no boot info"
#endif
#define MAX_PROBES 16

static void trap(struct trap_frame *f)
{
    /* Only reached if the access was refused with a fault delivered to the
     * guest (e.g. running natively under OpenSBI, where PMP protects the
     * firmware, or natively on x86 beyond the identity map) instead of the
     * VM being stopped. */
    char what[96];
    rt_trap_describe(f, what, sizeof(what));
    printf("isolation: access fault delivered to guest %s\n", what);
    printf("isolation: FAIL not stopped (access blocked by a guest-visible fault)\n");
    rt_shutdown();
}

void gmain(unsigned long hartid, const void *fdt)
{
    (void)hartid;
    (void)fdt;
    rt_set_trap_handler(trap);

    if (rt.ram_size)
        printf("isolation: my RAM is 0x%lx-0x%lx\n", (unsigned long)rt.ram_base,
               (unsigned long)(rt.ram_base + rt.ram_size));
    else
        printf("isolation: my RAM is unknown (%s)\n", RAM_SOURCE);

    char list[256];
    unsigned long probes[MAX_PROBES];
    int n = 0;
    if (rt_arg_str("probe", list, sizeof(list))) {
        const char *p = list;
        while (*p && n < MAX_PROBES) {
            if (rt_parse_ulong(&p, &probes[n], 16) || (*p && *p != ',')) {
                printf("isolation: FAIL bad probe list '%s'\n", list);
                rt_shutdown();
            }
            n++;
            if (*p == ',')
                p++;
        }
    }
    if (n == 0) {
        printf("isolation: FAIL no probe=<addr>[,<addr>...] in bootargs\n");
        rt_shutdown();
    }

    for (int i = 0; i < n; i++) {
        unsigned long a = probes[i];
        if (a & 7) {
            printf("isolation: probe 0x%lx is not 8-byte aligned, rounding down\n", a);
            a &= ~7ul;
        }
        if (a >= rt.ram_base && a < rt.ram_base + rt.ram_size)
            printf("isolation: note 0x%lx is inside my own RAM\n", a);
        if (a + 8 > (unsigned long)__image_start && a < (unsigned long)_end) {
            printf("isolation: skipping 0x%lx, it is inside this guest's image\n", a);
            continue;
        }
        printf("isolation: writing pattern at 0x%lx\n", a);
        *(volatile uint64_t *)a = PATTERN;
        printf("isolation: reading 0x%lx\n", a);
        uint64_t v = *(volatile uint64_t *)a;
        printf("isolation: read 0x%lx from 0x%lx%s\n", (unsigned long)v, a,
               v == PATTERN ? " (pattern)" : "");
    }
    printf("isolation: FAIL not stopped\n");
    rt_shutdown();
}
