/*
 * Runtime core (x86_64): boot info, CPU and hypervisor detection, TSC
 * frequency, the IDT and trap dispatch, Tessera services, power.
 * Bootargs, time conversions, printf and string functions are shared with
 * the other architectures (guests/common/).
 */
#include "rt.h"
#include "pc.h"

struct rt_info rt;
static rt_trap_fn trap_handler;
static char name_buf[TESSERA_BOOTINFO_NAME_LEN];
static char args_buf[TESSERA_BOOTINFO_ARGS_LEN];

/* ---- IDT */

struct idt_gate {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(16)));

static void idt_init(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint64_t a = (uint64_t)(uintptr_t)rt_isr_stubs + 16 * i;
        idt[i] = (struct idt_gate){
            .off0 = (uint16_t)a, .sel = RT_GDT_CODE64, .ist = 0,
            .type = 0x8e,                       /* present, DPL 0, interrupt gate */
            .off1 = (uint16_t)(a >> 16), .off2 = (uint32_t)(a >> 32), .zero = 0,
        };
    }
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) d = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" :: "m"(d) : "memory");
}

/* ---- CPU, hypervisor, TSC */

static void detect_cpu(void)
{
    uint32_t r[4];

    cpuid(0, 0, r);
    memcpy(rt.vendor + 0, &r[1], 4);
    memcpy(rt.vendor + 4, &r[3], 4);
    memcpy(rt.vendor + 8, &r[2], 4);
    rt.vendor[12] = 0;
    /* VMMCALL on AMD (and Hygon), VMCALL on Intel and everything else */
    rt.amd = strcmp(rt.vendor, "AuthenticAMD") == 0 || strcmp(rt.vendor, "HygonGenuine") == 0;

    cpuid(1, 0, r);
    if (!(r[2] & CPUID1_ECX_HV))
        return;                                 /* no hypervisor at all */
    cpuid(0x40000000, 0, r);
    char sig[13];
    memcpy(sig + 0, &r[1], 4);
    memcpy(sig + 4, &r[2], 4);
    memcpy(sig + 8, &r[3], 4);
    sig[12] = 0;
    rt.tessera = strcmp(sig, "TesseraVMM") == 0 && r[0] >= 0x40000001;
}

/* TSC ticks in 50 ms of PIT channel 2 (mode 0, gate on, speaker off); 0 if
 * the PIT does not behave (no PIT: port 0x61 reads all-ones). */
static uint64_t calibrate_tsc_pit(void)
{
    const uint32_t latch = 1193182 / 20;        /* 50 ms */
    uint8_t p61 = inb(0x61);

    outb(0x61, (uint8_t)((p61 & ~0x02) | 0x01));
    outb(0x43, 0xb0);                           /* ch 2, lobyte/hibyte, mode 0, binary */
    outb(0x42, latch & 0xff);
    outb(0x42, (uint8_t)(latch >> 8));
    uint64_t t0 = rdtsc();
    if (inb(0x61) & 0x20) {                     /* OUT2 must be low while counting */
        outb(0x61, p61);
        return 0;
    }
    uint64_t t1 = t0;
    for (unsigned long spins = 0; spins < 100000000ul; spins++) {
        if (inb(0x61) & 0x20) {
            t1 = rdtsc();
            break;
        }
    }
    outb(0x61, p61);
    if (t1 == t0)
        return 0;
    return (t1 - t0) * 1193182 / latch;
}

static void init_timebase(void)
{
    uint32_t r[4];

    if (rt.tessera) {
        cpuid(0x40000001, 0, r);
        if (r[0]) {
            rt.timebase_hz = (uint64_t)r[0] * 1000;
            rt.timebase_src = "cpuid";
            return;
        }
    }
    uint64_t hz = calibrate_tsc_pit();
    if (hz >= 1000000) {
        rt.timebase_hz = hz;
        rt.timebase_src = "pit";
        return;
    }
    rt.timebase_hz = 1000000000;
    rt.timebase_src = "default";
}

/* ---- init */

static void copy_str(char *dst, const char *src, size_t n)
{
    size_t i = 0;
    for (; i + 1 < n && src[i]; i++)
        dst[i] = src[i];
    dst[i] = 0;
}

void rt_init(unsigned long cpu, uint32_t magic, uint32_t bootinfo)
{
    const struct tessera_bootinfo *bi = (const void *)(uintptr_t)bootinfo;
    int bad_info = 0;

    idt_init();
    memset(&rt, 0, sizeof(rt));
    rt.boot_hart = cpu;
    rt.vm_name = "unknown";
    rt.bootargs = "";
    detect_cpu();

    if (magic == RT_BOOT_MAGIC && bi && bi->magic == TESSERA_BOOTINFO_MAGIC &&
        bi->size >= TESSERA_BOOTINFO_V1_SIZE) {
        rt.bootinfo = bi;
        copy_str(name_buf, bi->name, sizeof(name_buf));
        copy_str(args_buf, bi->bootargs, sizeof(args_buf));
        if (name_buf[0])
            rt.vm_name = name_buf;
        rt.bootargs = args_buf;
        rt.uart_port = bi->uart_port;
        rt.uart_irq = bi->uart_irq;
        rt.ram_base = bi->ram_base;
        rt.ram_size = bi->ram_size;
        rt.ncpus = (int)bi->vcpus;
        rt.vm_index = bi->vm_index;
    } else {
        /* no (valid) boot info: the PC's COM1 */
        rt.uart_port = 0x3f8;
        rt.uart_irq = 4;
        bad_info = magic == RT_BOOT_MAGIC;
    }
    if (bad_info)
        printf("rt: bad boot info at 0x%x (magic 0x%x size %u); using defaults\n",
               bootinfo, bi ? bi->magic : 0, bi ? bi->size : 0);
    init_timebase();
}

/* ---- traps */

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
    "#NP", "#SS", "#GP", "#PF", "res", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
    "res", "res", "res", "res", "res", "res", "#HV", "#VC", "#SX", "res",
};

const char *rt_vector_name(unsigned long vector)
{
    return vector < 32 ? exc_names[vector] : "irq";
}

void rt_set_trap_handler(rt_trap_fn fn)
{
    trap_handler = fn;
}

int rt_trap_describe(const struct trap_frame *f, char *buf, size_t n)
{
    return snprintf(buf, n, "vector=%lu error=0x%lx rip=0x%lx cr2=0x%lx",
                    (unsigned long)f->vector, (unsigned long)f->error,
                    (unsigned long)f->rip, (unsigned long)f->cr2);
}

void rt_default_trap(struct trap_frame *f)
{
    printf("trap: unhandled vector=%lu (%s) error=0x%lx rip=0x%lx cr2=0x%lx cpu %lu\n",
           (unsigned long)f->vector, rt_vector_name(f->vector), (unsigned long)f->error,
           (unsigned long)f->rip, (unsigned long)f->cr2, rt_hartid());
    rt_shutdown();
}

extern char rt_rdmsr_insn[], rt_wrmsr_insn[];     /* msr.S */

void rt_trap_dispatch(struct trap_frame *f);
void rt_trap_dispatch(struct trap_frame *f)
{
    if (f->vector == RT_VEC_GP && (f->rip == (uintptr_t)rt_rdmsr_insn ||
                                   f->rip == (uintptr_t)rt_wrmsr_insn)) {
        f->rip += 2;                    /* rt_rdmsr_safe / rt_wrmsr_safe */
        f->r11 = (uint64_t)-1;
        return;
    }
    if (trap_handler)
        trap_handler(f);
    else
        rt_default_trap(f);
}

/* ---- Tessera services (-1 when not under Tessera) */

long rt_vm_id(void)
{
    return rt.tessera ? (long)rt_hypercall(RT_HC_VM_ID) : -1;
}

long rt_vcpu_id(void)
{
    return rt.tessera ? (long)rt_hypercall(RT_HC_VCPU_ID) : -1;
}

long rt_restarts(void)
{
    return rt.tessera ? (long)rt_hypercall(RT_HC_RESTARTS) : -1;
}

void rt_yield(void)
{
    if (rt.tessera)
        rt_hypercall(RT_HC_YIELD);
    else
        cpu_relax();
}

/* ---- power */

void rt_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt" ::: "memory");
}

/* Let the UART finish sending (LSR.TEMT) before the machine goes away. */
static void console_drain(void)
{
    if (!rt.uart_port)
        return;
    for (unsigned spin = 0; spin < 1000000; spin++)
        if (inb(rt.uart_port + UART_LSR) & UART_LSR_TEMT)
            break;
}

void rt_shutdown(void)
{
    irq_disable();
    console_drain();
    if (rt.tessera) {
        rt_hypercall(RT_HC_SHUTDOWN);
    } else {
        outw(0x604, 0x2000);            /* QEMU pc/q35: ACPI PM1a_CNT, S5 */
        outw(0xb004, 0x2000);           /* Bochs, old QEMU */
        outw(0x4004, 0x3400);           /* VirtualBox */
    }
    rt_halt_forever();
}

void rt_reboot(int warm)
{
    irq_disable();
    console_drain();
    if (rt.tessera) {
        rt_hypercall(RT_HC_REBOOT);
        rt_halt_forever();
    }
    outb(0xcf9, warm ? 0x04 : 0x06);    /* PIIX/ICH reset control */
    for (unsigned spin = 0; spin < 100000 && (inb(0x64) & 0x02); spin++)
        ;
    outb(0x64, 0xfe);                   /* keyboard controller: pulse reset */
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) none = { 0, 0 };
    __asm__ volatile("lidt %0; int3" :: "m"(none) : "memory");   /* triple fault */
    rt_halt_forever();
}
