/*
 * Runtime core: device-tree discovery, traps, power, Tessera vendor calls.
 * Bootargs, time conversions, printf and string functions are shared with
 * the other architectures (guests/common/).
 */
#include "rt.h"

struct rt_info rt;
static rt_trap_fn trap_handler;

/* ---- init */

static void find_uart(const void *fdt)
{
    static const char *const compats[] = { "ns16550a", "ns16550", "snps,dw-apb-uart" };
    for (unsigned i = 0; i < sizeof(compats) / sizeof(compats[0]); i++) {
        int off = fdt_node_by_compatible(fdt, -1, compats[i]);
        uint64_t base;
        if (off < 0 || fdt_node_reg(fdt, off, 0, &base, 0))
            continue;
        uint32_t v;
        rt.uart_base = (uintptr_t)base;
        rt.uart_shift = fdt_getprop_u32(fdt, off, "reg-shift", &v) ? 0 : v;
        rt.uart_width = fdt_getprop_u32(fdt, off, "reg-io-width", &v) ? 1 : v;
        if (rt.uart_width != 4)
            rt.uart_width = 1;
        return;
    }
}

void rt_init(unsigned long hartid, const void *fdt)
{
    memset(&rt, 0, sizeof(rt));
    rt.boot_hart = hartid;
    rt.vm_name = "unknown";
    rt.bootargs = "";
    rt.timebase_hz = 10000000;
    rt.uart_width = 1;
    if (fdt_check(fdt))
        return;                     /* console falls back to SBI */
    rt.fdt = fdt;
    find_uart(fdt);

    const char *s = fdt_getprop_str(fdt, "/chosen", "tessera,vm-name");
    if (s && *s)
        rt.vm_name = s;
    s = fdt_getprop_str(fdt, "/chosen", "bootargs");
    if (s)
        rt.bootargs = s;

    int cpus = fdt_path_offset(fdt, "/cpus"), depth = 0;
    uint32_t tb;
    if (fdt_getprop_u32(fdt, cpus, "timebase-frequency", &tb) == 0 && tb)
        rt.timebase_hz = tb;
    else if (fdt_getprop_u32(fdt, fdt_path_offset(fdt, "/cpus/cpu"), "timebase-frequency", &tb) == 0 && tb)
        rt.timebase_hz = tb;
    for (int off = -1, base = -1; cpus >= 0 && (off = fdt_next_node(fdt, off, &depth)) >= 0;) {
        if (off == cpus)
            base = depth;
        else if (base >= 0 && depth <= base)
            break;                          /* left /cpus */
        else if (base >= 0 && depth == base + 1 &&
                 strncmp(fdt_node_name(fdt, off), "cpu@", 4) == 0)
            rt.ncpus++;
    }

    int mem = fdt_path_offset(fdt, "/memory");
    if (mem < 0) {
        /* fall back to the first node with device_type = "memory" */
        for (int off = -1; (off = fdt_next_node(fdt, off, &depth)) >= 0;) {
            int len;
            const char *t = fdt_getprop(fdt, off, "device_type", &len);
            if (t && len == 7 && strcmp(t, "memory") == 0) {
                mem = off;
                break;
            }
        }
    }
    if (mem >= 0)
        fdt_node_reg(fdt, mem, 0, &rt.ram_base, &rt.ram_size);
}

/* ---- traps */

void rt_set_trap_handler(rt_trap_fn fn)
{
    trap_handler = fn;
}

void rt_default_trap(struct trap_frame *f)
{
    printf("trap: unhandled scause=0x%lx sepc=0x%lx stval=0x%lx hart %lu\n",
           f->scause, f->sepc, f->stval, rt_hartid());
    rt_shutdown();
}

int rt_trap_describe(const struct trap_frame *f, char *buf, size_t n)
{
    return snprintf(buf, n, "scause=0x%lx sepc=0x%lx stval=0x%lx", f->scause, f->sepc, f->stval);
}

void rt_trap_dispatch(struct trap_frame *f);
void rt_trap_dispatch(struct trap_frame *f)
{
    if (trap_handler)
        trap_handler(f);
    else
        rt_default_trap(f);
}

/* ---- Tessera vendor extension (-1 when it is missing: not under Tessera) */

long rt_vm_id(void)
{
    struct sbiret r = sbi_tessera_vm_id();
    return r.error ? -1 : r.value;
}

long rt_vcpu_id(void)
{
    struct sbiret r = sbi_tessera_vcpu_id();
    return r.error ? -1 : r.value;
}

long rt_restarts(void)
{
    struct sbiret r = sbi_tessera_restarts();
    return r.error ? -1 : r.value;
}

void rt_yield(void)
{
    sbi_tessera_yield();
}

/* ---- power */

void rt_shutdown(void)
{
    irq_disable();
    sbi_system_reset(SBI_SRST_SHUTDOWN, SBI_SRST_REASON_NONE);
    sbi_legacy(SBI_EXT_LEGACY_SHUTDOWN, 0);
    for (;;)
        wfi();
}

void rt_reboot(int warm)
{
    irq_disable();
    sbi_system_reset(warm ? SBI_SRST_WARM_REBOOT : SBI_SRST_COLD_REBOOT, SBI_SRST_REASON_NONE);
    rt_shutdown();
}

void rt_hart_stop(void)
{
    irq_disable();
    sbi_hart_stop();
    for (;;)
        wfi();
}

__attribute__((weak)) void gsecondary(unsigned long hartid, unsigned long opaque)
{
    printf("hart %lu started (opaque 0x%lx) but this guest has no gsecondary; stopping\n",
           hartid, opaque);
}
