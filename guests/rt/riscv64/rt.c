/*
 * Runtime core: device-tree discovery, bootargs, time, traps, power.
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

/* ---- bootargs */

static const char *arg_find(const char *key, size_t *vlen)
{
    size_t klen = strlen(key);
    const char *p = rt.bootargs;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if ((size_t)(p - tok) > klen && strncmp(tok, key, klen) == 0 && tok[klen] == '=') {
            *vlen = (size_t)(p - tok) - klen - 1;
            return tok + klen + 1;
        }
    }
    return 0;
}

int rt_arg_str(const char *key, char *buf, size_t n)
{
    size_t len;
    const char *v = arg_find(key, &len);
    if (!v)
        return 0;
    if (n) {
        if (len >= n)
            len = n - 1;
        memcpy(buf, v, len);
        buf[len] = 0;
    }
    return 1;
}

int rt_parse_ulong(const char **s, unsigned long *out, int base)
{
    const char *p = *s;
    unsigned long v = 0;
    int digits = 0;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    for (;; p++, digits++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            break;
        if (d >= base)
            break;
        v = v * (unsigned long)base + (unsigned long)d;
    }
    if (!digits)
        return -1;
    *s = p;
    *out = v;
    return 0;
}

long rt_arg_long(const char *key, long def)
{
    char buf[32];
    if (!rt_arg_str(key, buf, sizeof(buf)))
        return def;
    const char *p = buf;
    int neg = *p == '-';
    unsigned long v;
    if (neg)
        p++;
    if (rt_parse_ulong(&p, &v, 10) || *p) {
        printf("bootargs: bad value '%s' for %s, using %ld\n", buf, key, def);
        return def;
    }
    return neg ? -(long)v : (long)v;
}

unsigned long rt_arg_ulong(const char *key, unsigned long def)
{
    char buf[32];
    if (!rt_arg_str(key, buf, sizeof(buf)))
        return def;
    const char *p = buf;
    unsigned long v;
    if (rt_parse_ulong(&p, &v, 10) || *p) {
        printf("bootargs: bad value '%s' for %s, using %lu\n", buf, key, def);
        return def;
    }
    return v;
}

/* ---- time */

uint64_t rt_ticks_to_us(uint64_t t)
{
    uint64_t hz = rt.timebase_hz;
    return t / hz * 1000000 + t % hz * 1000000 / hz;
}

uint64_t rt_ticks_to_ms(uint64_t t)
{
    uint64_t hz = rt.timebase_hz;
    return t / hz * 1000 + t % hz * 1000 / hz;
}

int64_t rt_sticks_to_us(int64_t t)
{
    return t < 0 ? -(int64_t)rt_ticks_to_us((uint64_t)-t) : (int64_t)rt_ticks_to_us((uint64_t)t);
}

uint64_t rt_us_to_ticks(uint64_t us)
{
    uint64_t hz = rt.timebase_hz;
    return us / 1000000 * hz + us % 1000000 * hz / 1000000;
}

void rt_delay_us(uint64_t us)
{
    uint64_t end = rt_now() + rt_us_to_ticks(us);
    while (rt_now() < end)
        ;
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

void rt_trap_dispatch(struct trap_frame *f);
void rt_trap_dispatch(struct trap_frame *f)
{
    if (trap_handler)
        trap_handler(f);
    else
        rt_default_trap(f);
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

void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rt_console_lock();
    printf("panic: ");
    vprintf(fmt, ap);
    printf("\n");
    rt_console_unlock();
    va_end(ap);
    rt_shutdown();
}

__attribute__((weak)) void gsecondary(unsigned long hartid, unsigned long opaque)
{
    printf("hart %lu started (opaque 0x%lx) but this guest has no gsecondary; stopping\n",
           hartid, opaque);
}
