/*
 * chaos (x86_64): the x86 twin of guests/chaos/riscv64/main.c, with the same
 * bootargs, run protocol and output lines (docs/robustness.md). A seeded
 * PRNG picks, by weight: port I/O of 1/2/4 bytes to random ports and to the
 * PC chipset, RDMSR/WRMSR of random indices, CPUID of random leaves,
 * VMMCALL/VMCALL with random functions and registers, x2APIC registers
 * (MSRs), IOAPIC MMIO and loads/stores in its RAM, privileged and illegal instructions
 * (UD2, the other vendor's virtualization instructions, XSETBV, RDPMC,
 * INVD/WBINVD, debug and control registers, software interrupts), HLT with
 * a LAPIC one-shot timer armed, long CLI stretches, self-IPIs. In fatal runs
 * it also does what must end the VM: loads/stores outside its RAM and
 * devices, device accesses the models refuse, MMIO by an instruction
 * Tessera does not emulate, the reboot hypercall.
 *
 * Every instruction that may fault runs with `chaos_recover` pointing just
 * past it; the trap handler counts the exception and resumes there.
 *
 * bootargs: seed, exact_seed, ops, runs, fatal_ppm, report, only, halts,
 * skip=<class> (leave one class out), trace=<n> (name every op from op n)
 * (as on RISC-V); cr8=0/1 (MOV to CR8 with random values; default on
 * under VMX, off under SVM, where QEMU 7.2 itself aborts on it).
 */
#include "rt.h"
#include "pc.h"

#define VEC_TIMER  0x40
#define VEC_IPI    0x41
#define VEC_SPUR   0xff
#define IOAPIC_SPAN 0x1000UL
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- state */
/* the PRNG (rt_rnd/rt_below over rt_rng_state) is guests/common/rand.c */

volatile uint64_t chaos_recover;         /* where a faulting instruction resumes */
static volatile unsigned long traps, irqs, unexpected, timer_irqs;
static unsigned long ops;
static int fatal_mode;
static int use_halts = 1;
static int use_cr8;                     /* bootargs cr8= (default: not under SVM) */
static uint64_t ram_end;
static uint8_t scratch[65536] __attribute__((aligned(4096)));

enum op_class {
    OP_PIO, OP_CHIPSET, OP_MSR, OP_CPUID, OP_HCALL, OP_LAPIC, OP_IOAPIC, OP_RAM,
    OP_PRIV, OP_IRQ, OP_HLT, OP_IRQOFF, OP_NR
};
static const char *const class_names[OP_NR] = {
    "pio", "chipset", "msr", "cpuid", "hcall", "lapic", "ioapic", "ram",
    "priv", "irq", "hlt", "irqoff",
};
static const unsigned weights[OP_NR] = {
    [OP_PIO] = 150, [OP_CHIPSET] = 110, [OP_MSR] = 160, [OP_CPUID] = 90,
    [OP_HCALL] = 90, [OP_LAPIC] = 110, [OP_IOAPIC] = 60, [OP_RAM] = 60,
    [OP_PRIV] = 110, [OP_IRQ] = 30, [OP_HLT] = 6, [OP_IRQOFF] = 2,
};
static unsigned long class_count[OP_NR];
static int only_class = -1, skip_class = -1;
static unsigned long trace_from = ~0ul;     /* bootargs trace=: name each op from there */

/* ---------------------------------------------------------------- traps */

static void trap(struct trap_frame *f)
{
    unsigned long v = f->vector;

    if (v < 32 && chaos_recover && v != 1 && v != 3 && v != 2) {
        traps++;
        f->rip = chaos_recover;
        chaos_recover = 0;
        return;
    }
    if (v == 1 || v == 3) {             /* #DB / #BP traps: rip is already past */
        traps++;
        return;
    }
    if (v == 2) {                       /* NMI (self-IPI) */
        irqs++;
        return;
    }
    if (v < 32) {
        unexpected++;
        printf("chaos: unexpected %s error=0x%lx rip=0x%lx cr2=0x%lx ops=%lu\n",
               rt_vector_name(v), (unsigned long)f->error, (unsigned long)f->rip,
               (unsigned long)f->cr2, ops);
        rt_shutdown();
    }
    irqs++;
    if (v == VEC_TIMER)
        timer_irqs++;
    if (v == VEC_SPUR)
        return;
    if (v >= 0x20 && v < 0x30) {        /* 8259 vectors (remapped) */
        /* mask the line it came on: a device it set up at random (UART
         * IER, RTC) would keep it asserted and storm */
        if (v >= 0x28) {
            outb(0xa1, (uint8_t)(inb(0xa1) | 1u << (v - 0x28)));
            outb(0xa0, 0x20);
        } else {
            outb(0x21, (uint8_t)(inb(0x21) | 1u << (v - 0x20)));
        }
        outb(0x20, 0x20);
    }
    lapic_eoi();
}

/* Run `insn` (asm text) with recovery: a fault resumes after it. */
#define RISKY(insn, ...) \
    __asm__ volatile("lea 1f(%%rip), %%r11\n\tmov %%r11, chaos_recover(%%rip)\n\t" \
                     insn "\n1:\n\tmovq $0, chaos_recover(%%rip)" __VA_ARGS__)

/* ---------------------------------------------------------------- output */

static void uart_sane(void)
{
    uint16_t p = rt.uart_port;
    outb((uint16_t)(p + 3), 0x03);      /* LCR: 8N1, DLAB off */
    outb((uint16_t)(p + 1), 0x00);      /* IER */
    outb((uint16_t)(p + 4), 0x03);      /* MCR: no loopback */
    outb((uint16_t)p, '\n');
}

static void report(const char *tail)
{
    uint64_t fl = read_rflags();
    irq_disable();
    uart_sane();
    printf("chaos: ops=%lu traps=%lu%s\n", ops, traps, tail);
    if (fl & (1u << 9))
        irq_enable();
}

static uint64_t rand_val(void)
{
    switch (rt_rnd() & 7) {
    case 0: return 0;
    case 1: return (uint64_t)-1;
    case 2: return 1ull << rt_below(64);
    case 3: return rt_below(256);
    case 4: return (uint64_t)(uintptr_t)scratch + rt_below(sizeof(scratch));
    case 5: return rt_below(ram_end);
    case 6: return rt_rnd() & 0xffffffffu;
    default: return rt_rnd();
    }
}

/* ---------------------------------------------------------------- ports */

static int dev_port(uint16_t p)
{
    return (p >= 0x20 && p <= 0x21) || (p >= 0xa0 && p <= 0xa1) || (p >= 0x4d0 && p <= 0x4d1) ||
           (p >= 0x40 && p <= 0x43) || p == 0x61 || (p >= 0x70 && p <= 0x71) ||
           (p >= 0xcf8 && p <= 0xcff) || p == 0x80 ||
           (p >= rt.uart_port && p < rt.uart_port + 8);
}

static volatile uint64_t sink;

static void pio(uint16_t port, unsigned size, int write, uint32_t val)
{
    if (write) {
        if (size == 1) outb(port, (uint8_t)val);
        else if (size == 2) outw(port, (uint16_t)val);
        else outl(port, val);
    } else {
        sink = size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
    }
}

/* Ports nothing answers, or the UART/PCI/debug ports with 1 byte. The
 * power-off and reset ports (0x604, 0xb004, 0xf4, 0xcf9, 0x64, 0x92) have no
 * device in a VM: Tessera drops the writes. */
static void op_pio(void)
{
    uint16_t port;
    unsigned size = 1u << rt_below(3);

    switch (rt_rnd() & 3) {
    case 0: port = (uint16_t)rt_rnd(); break;
    case 1: port = (uint16_t)rt_below(0x100); break;
    case 2: {
        static const uint16_t hot[] = { 0x604, 0xb004, 0xf4, 0xcf9, 0x64, 0x60, 0x92, 0xe9,
                                        0x402, 0x510, 0x511, 0x3f8, 0x2f8, 0xcf8, 0xcfc, 0x80 };
        port = (uint16_t)(hot[rt_below(ARRAY_SIZE(hot))] + rt_below(4));
        break;
    }
    default: port = (uint16_t)(rt.uart_port + rt_below(8)); break;
    }
    if (dev_port(port))
        size = 1;
    if (port == rt.uart_port + 3 || port == rt.uart_port + 4)
        return;                         /* LCR/MCR: keep the console line */
    /* 8259 command and ELCR ports are op_chipset's: a random ICW1 there
     * would make the handler's next IMR write an ICW2 (vectors < 32) */
    if (port == 0x20 || port == 0xa0 || port == 0x4d0 || port == 0x4d1)
        return;
    pio(port, size, (int)(rt_rnd() & 1), (uint32_t)rand_val());
}

/* The PC chipset: PIC (vectors 0x20-0x2f, as set up in gmain), PIT, port
 * 0x61, CMOS, PCI config, debug port; 1-byte accesses. */
static void op_chipset(void)
{
    uint8_t v = (uint8_t)rt_rnd();

    switch (rt_below(8)) {
    case 0: sink = inb((uint16_t)(rt_rnd() & 1 ? 0x20 + rt_below(2) : 0xa0 + rt_below(2))); break;
    case 1:                             /* IMR; IRQ 0 (PIT) and 8 (RTC) stay masked */
        if (rt_rnd() & 1)
            outb(0x21, v | 1);
        else
            outb(0xa1, v | 1);
        break;
    case 2: outb(rt_rnd() & 1 ? 0x20 : 0xa0, (uint8_t)(0x08 | (v & 0x63)));  /* OCW3 */
        break;
    case 3: pio((uint16_t)(0x40 + rt_below(4)), 1, (int)(rt_rnd() & 1), v); break;
    case 4: pio(0x61, 1, (int)(rt_rnd() & 1), v); break;
    case 5: pio((uint16_t)(0x70 + rt_below(2)), 1, (int)(rt_rnd() & 1), v); break;
    case 6:
        if (rt_rnd() & 1)
            outl(0xcf8, (uint32_t)rt_rnd());
        else
            sink = inl((uint16_t)(0xcfc + (rt_rnd() & 0)));
        pio((uint16_t)(0xcf8 + rt_below(8)), 1, (int)(rt_rnd() & 1), v);
        break;
    default: pio(0x80, 1, (int)(rt_rnd() & 1), v); break;
    }
}

/* ---------------------------------------------------------------- MSRs */

static uint32_t rand_msr(void)
{
    static const uint32_t known[] = {
        0x10, 0x1b, 0x3a, 0x8b, 0xc1, 0xe7, 0xe8, 0xfe, 0x174, 0x175, 0x176, 0x179, 0x17a,
        0x1a0, 0x1d9, 0x200, 0x250, 0x277, 0x2ff, 0x480, 0x48d, 0x6e0, 0x802, 0x808,
        0x80b, 0x830, 0x838, 0x83f, 0xc0000080, 0xc0000081, 0xc0000082, 0xc0000084,
        0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103, 0xc0010000, 0xc0010004,
        0xc0010010, 0xc0010114, 0xc0010117, 0xc0011029, 0x40000000, 0x40000001,
        0x4b564d00, 0x4b564d01,
    };
    switch (rt_rnd() & 7) {
    case 0: case 1: return known[rt_below(ARRAY_SIZE(known))];
    case 2: return (uint32_t)rt_below(0x2000);
    case 3: return 0xc0000000u + (uint32_t)rt_below(0x200);
    case 4: return 0xc0010000u + (uint32_t)rt_below(0x1200);
    case 5: return 0x40000000u + (uint32_t)rt_below(0x200);
    case 6: return 0x800u + (uint32_t)rt_below(0x100);
    default: return (uint32_t)rt_rnd();
    }
}

/* MSRs whose writes would break the guest itself (not Tessera): EFER,
 * APIC base, the syscall/segment bases it may use. Written back with the
 * value just read. */
static int own_msr(uint32_t m)
{
    return (m >= 0x800 && m <= 0x8ff) || m == 0xc0000080 || m == 0x1b || m == 0xc0000100 || m == 0xc0000101 ||
           m == 0xc0000102 || m == 0x10 || m == 0x6e0 || m == 0x277;
}

static void op_msr(void)
{
    uint32_t m = rand_msr();
    uint32_t lo = 0, hi = 0;

    RISKY("rdmsr", : "=a"(lo), "=d"(hi) : "c"(m) : "r11", "memory");
    if (rt_rnd() & 1) {
        if (!own_msr(m)) {
            uint64_t v = rt_rnd() & 1 ? ((uint64_t)hi << 32 | lo) ^ (1ull << rt_below(64)) : rand_val();
            lo = (uint32_t)v;
            hi = (uint32_t)(v >> 32);
        }
        RISKY("wrmsr", :: "a"(lo), "d"(hi), "c"(m) : "r11", "memory");
    }
}

/* ---------------------------------------------------------------- CPUID, hypercalls */

static void op_cpuid(void)
{
    uint32_t leaf, r[4];

    switch (rt_rnd() & 3) {
    case 0: leaf = (uint32_t)rt_below(0x24); break;
    case 1: leaf = 0x80000000u + (uint32_t)rt_below(0x24); break;
    case 2: leaf = 0x40000000u + (uint32_t)rt_below(0x110); break;
    default: leaf = (uint32_t)rt_rnd(); break;
    }
    cpuid(leaf, (uint32_t)(rt_rnd() & 1 ? rt_below(64) : rt_rnd()), r);
    sink = r[0] ^ r[1] ^ r[2] ^ r[3];
}

static void op_hcall(void)
{
    uint64_t fn, b = rand_val(), c = rand_val(), d = rand_val(), si = rand_val(), di = rand_val();

    switch (rt_rnd() & 3) {
    case 0: case 1: fn = rt_below(8); break;
    case 2: fn = rand_val(); break;
    default: fn = 0x100000000ull | rt_below(6); break;      /* high bits set */
    }
    if ((uint32_t)fn == RT_HC_SHUTDOWN || (uint32_t)fn == RT_HC_REBOOT ||
        fn == RT_HC_SHUTDOWN || fn == RT_HC_REBOOT)
        fn = RT_HC_VM_ID;
    if (fn == RT_HC_YIELD && (rt_rnd() & 7))
        fn = RT_HC_VCPU_ID;
    if (rt.amd)
        RISKY("vmmcall", : "+a"(fn), "+b"(b), "+c"(c), "+d"(d), "+S"(si), "+D"(di) :: "r11", "memory");
    else
        RISKY("vmcall", : "+a"(fn), "+b"(b), "+c"(c), "+d"(d), "+S"(si), "+D"(di) :: "r11", "memory");
    sink = fn ^ b ^ c ^ d ^ si ^ di;
}

/* ---------------------------------------------------------------- MMIO */

/* Plain MOVs of 1, 2, 4, 8 bytes: the forms Tessera's MMIO decoder takes. */
static uint64_t mmio_read(uintptr_t a, unsigned size)
{
    uint64_t v = 0;

    if (size == 1)
        __asm__ volatile("movb (%1), %b0" : "+q"(v) : "r"(a) : "memory");
    else if (size == 2)
        __asm__ volatile("movw (%1), %w0" : "+r"(v) : "r"(a) : "memory");
    else if (size == 4)
        v = mmio_read32(a);
    else
        __asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(a) : "memory");
    return v;
}

static void arm_timer(uint32_t count)
{
    lapic_write(LAPIC_TDCR, 0x0b);                  /* divide by 1 */
    lapic_write(LAPIC_LVT_TIMER, VEC_TIMER);        /* one-shot, unmasked */
    lapic_write(LAPIC_TMICT, count);
}


/* Tessera's LAPIC is an x2APIC: its registers are MSRs 0x800 + offset/16. */
static void x2_write(unsigned reg, uint64_t v)
{
    uint32_t m = 0x800u + (reg >> 4);

    RISKY("wrmsr", :: "a"((uint32_t)v), "d"((uint32_t)(v >> 32)), "c"(m) : "r11", "memory");
}

static void op_lapic(void)
{
    unsigned reg = (unsigned)rt_below(0x40) << 4;

    if (rt_rnd() & 1) {                    /* any register: reserved and write-only ones #GP */
        uint32_t lo = 0, hi = 0, m = 0x800u + (reg >> 4);
        RISKY("rdmsr", : "=a"(lo), "=d"(hi) : "c"(m) : "r11", "memory");
        sink = (uint64_t)hi << 32 | lo;
        return;
    }
    switch (rt_below(9)) {
    case 0: x2_write(LAPIC_TPR, rt_rnd()); x2_write(LAPIC_TPR, 0); break;
    case 1: x2_write(LAPIC_EOI, rt_rnd() & 1 ? 0 : rt_rnd()); break;
    case 2: x2_write(LAPIC_ESR, rt_rnd() & 1 ? 0 : rt_rnd()); break;
    case 3: x2_write(LAPIC_SVR, LAPIC_SVR_ENABLE | VEC_SPUR | (rt_rnd() & 0x1000)); break;
    case 4:                             /* LVTs other than the timer: masked */
        x2_write(0x330 + 0x10 * (unsigned)rt_below(5), LAPIC_LVT_MASKED | (uint32_t)rt_rnd());
        break;
    case 5: arm_timer((uint32_t)rt_below(200000)); break;
    case 6: x2_write(LAPIC_TDCR, rt_rnd() & 1 ? (uint32_t)rt_rnd() : (uint32_t)rt_below(16)); break;
    case 7:                             /* a self-IPI, fixed or NMI; or the SELF IPI register */
        if (rt_rnd() & 1)
            x2_write(LAPIC_ICR, (1u << 18) | (rt_rnd() & 3 ? VEC_IPI : (4u << 8)));
        else
            x2_write(LAPIC_SELF_IPI, rt_rnd() & 1 ? VEC_IPI : rt_rnd());
        break;
    default:                            /* read-only, reserved, ID, LDR, DFR, garbage */
        reg = (unsigned)rt_below(0x40) << 4;
        if (reg != LAPIC_LVT_TIMER && reg != 0x330 && reg != 0x340 && reg != LAPIC_LVT_LINT0 &&
            reg != LAPIC_LVT_LINT1 && reg != LAPIC_LVT_ERROR && reg != LAPIC_SVR &&
            reg != LAPIC_ICR && reg != LAPIC_SELF_IPI && reg != LAPIC_TPR)
            x2_write(reg, rand_val());
        break;
    }
}

static void op_ioapic(void)
{
    unsigned reg = (unsigned)rt_below(0x40);

    mmio_write32(IOAPIC_BASE, reg);
    if (rt_rnd() & 1 || reg < 0x10) {
        sink = mmio_read32(IOAPIC_BASE + 0x10);
        if (reg == 0 && (rt_rnd() & 1))
            mmio_write32(IOAPIC_BASE + 0x10, (uint32_t)rt_rnd());   /* ID */
    } else if (reg & 1) {
        mmio_write32(IOAPIC_BASE + 0x10, (uint32_t)rt_rnd());       /* destination */
    } else {                            /* RTE low half: masked, vector >= 0x30 */
        mmio_write32(IOAPIC_BASE + 0x10, ((uint32_t)rt_rnd() & ~0xffu) | IOAPIC_RTE_MASKED |
                     (uint32_t)(0x30 + rt_below(0xc0)));
    }
    if (rt_rnd() & 1)                      /* other offsets of the page */
        sink = mmio_read32(IOAPIC_BASE + (rt_below(IOAPIC_SPAN) & ~3ul));
    if (!(rt_rnd() & 7))
        mmio_write32(IOAPIC_BASE + 0x40, (uint32_t)rt_rnd());       /* EOI register */
}

static void op_ram(void)
{
    uint8_t *p = scratch + rt_below(sizeof(scratch) - 16);

    switch (rt_below(6)) {
    case 0: *(volatile uint64_t *)p = rt_rnd(); break;                 /* misaligned too */
    case 1: sink = *(volatile uint32_t *)p; break;
    case 2: __asm__ volatile("lock xaddq %0, %1" : "+r"(sink) : "m"(*(uint64_t *)p) : "memory");
        break;
    case 3: sink = *(volatile uint8_t *)(uintptr_t)(rt_below(ram_end)); break;
    case 4: {
        uint64_t n = rt_below(16);
        __asm__ volatile("rep stosb" : "+D"(p), "+c"(n) : "a"(rt_rnd()) : "memory");
        break;
    }
    default: {
        uint64_t x = rt_rnd();
        __asm__ volatile("xchgq %0, %1" : "+r"(x), "+m"(*(uint64_t *)p) :: "memory");
        sink = x;
        break;
    }
    }
}

/* ---------------------------------------------------------------- instructions */

static void op_priv(void)
{
    uint64_t x = rand_val();
    uint32_t c = (uint32_t)rt_rnd();

    switch (rt_below(21)) {
    case 0: RISKY("ud2", ::: "r11", "memory"); break;
    case 1: RISKY(".byte 0x0f, 0xff, 0xc0", ::: "r11", "memory"); break;       /* ud0 */
    case 2: RISKY(".byte 0xce", ::: "r11", "memory"); break;                   /* into: #UD */
    case 3: RISKY(".byte 0x06", ::: "r11", "memory"); break;                   /* push es: #UD */
    case 4: RISKY("rdpmc", :: "c"(c) : "rax", "rdx", "r11", "memory"); break;
    case 5: RISKY("xsetbv", :: "c"(c & (rt_rnd() & 1 ? 1 : ~0u)), "a"((uint32_t)x),
                  "d"((uint32_t)(x >> 32)) : "r11", "memory");
        break;
    case 6: RISKY("xgetbv", :: "c"(c & 3) : "rax", "rdx", "r11", "memory"); break;
    case 7: RISKY("wbinvd", ::: "r11", "memory"); break;
    case 8: RISKY("invd", ::: "r11", "memory"); break;
    case 9: RISKY("rdtscp", ::: "rax", "rcx", "rdx", "r11", "memory"); break;
    case 10: RISKY("invlpg (%0)", :: "r"(x) : "r11", "memory"); break;
    case 11: RISKY("mov %%dr7, %%rax", ::: "rax", "r11", "memory"); break;
    case 12: RISKY("mov %0, %%dr0", :: "r"(x) : "r11", "memory"); break;
    case 13: RISKY("mov %%cr8, %%rax", ::: "rax", "r11", "memory"); break;
    case 14:
        /* MOV to CR8 only where use_cr8: QEMU 7.2 TCG aborts (tcg_handle_interrupt:
         * qemu_mutex_iothread_locked) on a nested guest's CR8 write while a
         * virtual interrupt is pending (docs/robustness.md) */
        if (use_cr8) {
            RISKY("mov %0, %%cr8", :: "r"(x) : "r11", "memory");
            __asm__ volatile("xor %%eax, %%eax; mov %%rax, %%cr8" ::: "rax", "memory");
        }
        break;
    case 15: RISKY("int3", ::: "r11", "memory"); break;
    case 16: RISKY("int $0x81", ::: "r11", "memory"); break;
    case 17: RISKY("mov %%cr4, %%rax; mov %%rax, %%cr4", ::: "rax", "r11", "memory"); break;
    case 18: RISKY("rdrand %%rax", ::: "rax", "r11", "memory"); break;
    case 19: RISKY("mov %%ss, %%ax; mov %%ax, %%ss", ::: "rax", "r11", "memory"); break;
    default:                            /* virtualization instructions: #UD for a guest */
        switch (rt_below(10)) {
        case 0: RISKY("vmxon (%0)", :: "r"(scratch) : "r11", "memory"); break;
        case 1: RISKY("vmxoff", ::: "r11", "memory"); break;
        case 2: RISKY("vmread %%rax, %%rax", ::: "rax", "r11", "memory", "cc"); break;
        case 3: RISKY("vmclear (%0)", :: "r"(scratch) : "r11", "memory"); break;
        case 4: RISKY("vmrun", :: "a"(scratch) : "r11", "memory"); break;
        case 5: RISKY("vmload", :: "a"(scratch) : "r11", "memory"); break;
        case 6: RISKY("vmsave", :: "a"(scratch) : "r11", "memory"); break;
        case 7: RISKY("stgi; clgi", ::: "r11", "memory"); break;
        case 8: RISKY("invlpga", :: "a"(x), "c"(c) : "r11", "memory"); break;
        default: RISKY("getsec", :: "a"(0) : "rbx", "rcx", "r11", "memory"); break;
        }
        break;
    }
}

static void op_irq(void)
{
    switch (rt_below(3)) {
    case 0: irq_enable(); break;
    case 1: irq_disable(); break;
    default:
        x2_write(LAPIC_ICR, (1u << 18) | VEC_IPI);
        irq_enable();
        __asm__ volatile("nop" ::: "memory");
        break;
    }
}

/* HLT with interrupts on and nothing pending: a LAPIC one-shot wakes it. */
static void op_hlt(void)
{
    unsigned long before = timer_irqs;

    irq_disable();
    lapic_write(LAPIC_TPR, 0);
    x2_write(LAPIC_SVR, LAPIC_SVR_ENABLE | VEC_SPUR);
    arm_timer((uint32_t)(100 + rt_below(20000)));
    while (timer_irqs == before)
        safe_halt();                    /* sti; hlt: nothing slips in between */
}

static void op_irqoff(void)
{
    unsigned long n = 1000 + rt_below(20000);

    irq_disable();
    if (rt_rnd() & 1)
        arm_timer((uint32_t)(100 + rt_below(5000)));
    for (volatile unsigned long i = 0; i < n; i++)
        ;
    irq_enable();
}

/* ---------------------------------------------------------------- fatal */

static uint64_t outside_gpa(unsigned size)
{
    switch (rt_below(5)) {
    case 0: return ram_end;
    case 1: return ram_end + rt_below(0x100000);
    case 2: return ram_end + rt_below(0xfec00000ull - ram_end - 8);
    case 3: return LAPIC_XAPIC_BASE + rt_below(0x1000);    /* no xAPIC page: an x2APIC */
    default: return IOAPIC_BASE + IOAPIC_SPAN + rt_below(0x100000000ull - IOAPIC_BASE - IOAPIC_SPAN - size);
    }
}

static void do_fatal(void)
{
    char tail[96];
    uint64_t a;
    unsigned size = 1u << rt_below(4);

    switch (rt_below(5)) {
    case 0: case 1:                     /* outside RAM and devices */
        a = outside_gpa(size) & ~(uint64_t)(size - 1);
        snprintf(tail, sizeof(tail), " fatal %u-byte access at 0x%lx", size, (unsigned long)a);
        report(tail);
        if (rt_rnd() & 1) {
            if (size == 1) *(volatile uint8_t *)a = 1;
            else if (size == 2) *(volatile uint16_t *)a = 1;
            else if (size == 4) *(volatile uint32_t *)a = 1;
            else *(volatile uint64_t *)a = 1;
        } else {
            if (size == 1) sink = *(volatile uint8_t *)a;
            else if (size == 2) sink = *(volatile uint16_t *)a;
            else if (size == 4) sink = *(volatile uint32_t *)a;
            else sink = *(volatile uint64_t *)a;
        }
        break;
    case 2: {                           /* a port access a device refuses */
        static const uint16_t p[] = { 0x80, 0x71, 0x43, 0x21, 0xa1, 0x4d1, 0x61 };
        uint16_t port = p[rt_below(ARRAY_SIZE(p))];
        snprintf(tail, sizeof(tail), " fatal 4-byte port access at 0x%x", port);
        report(tail);
        pio(port, 4, (int)(rt_rnd() & 1), (uint32_t)rt_rnd());
        break;
    }
    case 3:                             /* refused MMIO: IOAPIC only takes 4 bytes */
        size = rt_rnd() & 1 ? 8 : 1u << rt_below(2);
        a = IOAPIC_BASE + (rt_below(IOAPIC_SPAN) & ~7ul);
        snprintf(tail, sizeof(tail), " fatal %u-byte ioapic load at 0x%lx", size, (unsigned long)a);
        report(tail);
        sink = mmio_read(a, size);
        break;
    default:
        if (rt_rnd() & 1) {                /* MMIO by an instruction not emulated */
            a = IOAPIC_BASE + 0x10;
            snprintf(tail, sizeof(tail), " fatal lock xadd on MMIO at 0x%lx", (unsigned long)a);
            report(tail);
            __asm__ volatile("lock xaddl %0, (%1)" : "+r"(size) : "r"(a) : "memory");
            break;
        }
        report(" fatal reboot hypercall");
        rt_hypercall(RT_HC_REBOOT);
        break;
    }
    report(" survived fatal");
}

/* ---------------------------------------------------------------- main */

volatile unsigned long chaos_now[4];

static void do_op(int cls)
{
    class_count[cls]++;
    if (ops >= trace_from)
        printf("chaos: op %lu %s rng 0x%lx\n", ops, class_names[cls], (unsigned long)rt_rng_state);
    chaos_now[0] = ops;
    chaos_now[1] = (unsigned long)cls;
    chaos_now[2] = rt_rng_state;
    switch (cls) {
    case OP_PIO: op_pio(); break;
    case OP_CHIPSET: op_chipset(); break;
    case OP_MSR: op_msr(); break;
    case OP_CPUID: op_cpuid(); break;
    case OP_HCALL: op_hcall(); break;
    case OP_LAPIC: op_lapic(); break;
    case OP_IOAPIC: op_ioapic(); break;
    case OP_RAM: op_ram(); break;
    case OP_PRIV: op_priv(); break;
    case OP_IRQ: op_irq(); break;
    case OP_HLT: op_hlt(); break;
    default: op_irqoff(); break;
    }
}

static int pick_class(unsigned total)
{
    unsigned r = (unsigned)rt_below(total);
    for (int c = 0; c < OP_NR; c++) {
        if ((c == OP_HLT && !use_halts) || c == skip_class)
            continue;
        if (r < weights[c])
            return c;
        r -= weights[c];
    }
    return OP_MSR;
}

void gmain(unsigned long hartid, const void *bootinfo)
{
    (void)hartid;
    (void)bootinfo;
    unsigned long base = rt_arg_ulong("seed", 1);
    unsigned long nops = rt_arg_ulong("ops", 100000);
    unsigned long runs = rt_arg_ulong("runs", 0);
    unsigned long ppm = rt_arg_ulong("fatal_ppm", 50);
    unsigned long every = rt_arg_ulong("report", 10000);
    long rs = rt_restarts();
    unsigned long restart = rs < 0 ? 0 : (unsigned long)rs;
    uint64_t seed = rt_splitmix(base + restart * 0x9E3779B97F4A7C15ull);
    const char *why = "";
    char only[16];
    unsigned total = 0;

    use_halts = rt_arg_ulong("halts", 1) != 0;
    trace_from = rt_arg_ulong("trace", ~0ul);
    use_cr8 = rt_arg_ulong("cr8", !rt.amd) != 0;
    if (rt_arg_str("exact_seed", only, sizeof(only)))
        seed = rt_arg_ulong("exact_seed", seed);
    if (rt_arg_str("only", only, sizeof(only)))
        for (int c = 0; c < OP_NR; c++)
            if (strcmp(only, class_names[c]) == 0)
                only_class = c;
    if (rt_arg_str("skip", only, sizeof(only)))
        for (int c = 0; c < OP_NR; c++)
            if (strcmp(only, class_names[c]) == 0)
                skip_class = c;
    if (!every)
        every = 10000;
    ram_end = rt.ram_size ? rt.ram_base + rt.ram_size : 16ul << 20;
    fatal_mode = restart < runs;
    rt_rng_state = seed ? seed : 1;
    printf("chaos: seed %lu restart %lu base %lu mode %s ops %lu\n", (unsigned long)seed,
           restart, base, fatal_mode ? "fatal" : "final", nops);
    for (int c = 0; c < OP_NR; c++)
        if ((c != OP_HLT || use_halts) && c != skip_class)
            total += weights[c];
    rt_set_trap_handler(trap);
    pic_init(0x20, 0x28, 0xffff);       /* 8259 vectors out of the exception range */
    if (lapic_enable(LAPIC_X2APIC, VEC_SPUR, &why)) {
        printf("chaos: no x2APIC (%s)\n", why);
        rt_shutdown();
    }
    irq_enable();

    for (ops = 0; ops < nops; ) {
        if (fatal_mode && rt_below(1000000) < ppm)
            do_fatal();
        do_op(only_class >= 0 ? only_class : pick_class(total));
        ops++;
        if (ops % every == 0)
            report("");
    }
    if (fatal_mode)
        for (;;)
            do_fatal();
    irq_disable();
    uart_sane();
    printf("chaos: op class counts:");
    for (int c = 0; c < OP_NR; c++)
        printf(" %s=%lu", class_names[c], class_count[c]);
    printf("\n");
    printf("chaos: done ops=%lu traps=%lu irqs=%lu\n", ops, traps, irqs);
    rt_shutdown();
}
