/*
 * chaos: a hostile S-mode guest driven by a seeded PRNG. It does, at random,
 * everything a guest can do to its hypervisor: CSR accesses of any number,
 * SBI calls with random EIDs/FIDs/arguments, MMIO of every size and
 * alignment to its devices, privileged and illegal instructions, misaligned
 * accesses, interrupt storms and long interrupt-off stretches, WFI and HSM
 * suspend, Sv39 paging with random page-table entries, and (in "fatal" runs)
 * accesses that must end the VM: outside its memory and devices, refused
 * device accesses, MMIO with atomics/FP, SBI reboot.
 *
 * Whatever becomes a guest exception comes back to its own trap handler,
 * which counts it and skips the instruction. See docs/robustness.md.
 *
 * bootargs:
 *   seed=<n>      base seed (default 1); the run's seed also mixes in the
 *                 restart count from the Tessera vendor SBI call (fid 3)
 *   exact_seed=<n> use this seed as is (replay one run printed earlier)
 *   ops=<n>       operations per run (default 100000)
 *   runs=<n>      restarts that end in a fatal operation (default 0): runs
 *                 0..runs-1 include fatal operations and end with one; run
 *                 `runs` (the final one) does only survivable ones, prints
 *                 "chaos: done" and shuts down
 *   fatal_ppm=<n> chance of a fatal op per op in fatal runs, per million
 *                 (default 50); a fatal run that reaches ops= ends with one
 *   report=<n>    progress line every n ops (default 10000)
 *   only=<class>  restrict to one op class (debugging; see class_names)
 *   hlv=0         leave hlv/hlvx/hsv out (default 1; see priv_words)
 *   halts=0       no WFI / retentive HSM suspend (default 1); a vCPU that
 *                 halted often used to get more than its share (bug 2 in
 *                 docs/robustness.md, fixed in core/sched.c)
 *
 * Output (first line first):
 *   chaos: seed <s> restart <k> base <b> mode <fatal|final> ops <n>
 *   chaos: ops=<n> traps=<t>                    every report= ops
 *   chaos: ops=<n> traps=<t> fatal <what> ...   just before a fatal op
 *   chaos: ops=<n> traps=<t> survived fatal     (it was not fatal after all)
 *   chaos: done ops=<n> traps=<t> irqs=<i>      end of the final run
 *   chaos: op class counts: ...                 before done
 */
#include "rt.h"

#define UART_BASE  0x10000000UL
#define UART_SPAN  0x100UL
#define PLIC_BASE  0x0c000000UL
#define PLIC_SPAN  0x400000UL

#define SBI_HSM_NONRET 0x80000000UL

/* ---------------------------------------------------------------- PRNG */
/* rt_rnd/rt_below over rt_rng_state: guests/common/rand.c */

static int chance(unsigned per_1024)
{
    return (rt_rnd() & 1023) < per_1024;
}

/* ---------------------------------------------------------------- state */

static volatile unsigned long traps, irqs, unexpected;
static volatile unsigned long recover_pc;   /* where an unskippable fault resumes */
static unsigned long ops;
static int fatal_mode;
static int uart_dirty;                       /* raw bytes may have been sent */
static int use_halts = 1;                    /* bootargs halts= */

static uint8_t scratch[65536] __attribute__((aligned(4096)));
static uint64_t pt_root[512] __attribute__((aligned(4096)));
static uint64_t pt_empty[512] __attribute__((aligned(4096)));
static uint32_t tramp[4] __attribute__((aligned(16)));

enum op_class {
    OP_CSR, OP_SBI, OP_UART, OP_PLIC, OP_RAM, OP_PRIV, OP_WORD, OP_IRQ,
    OP_WFI, OP_IRQOFF, OP_PAGING, OP_VENDOR, OP_NR
};
static const char *const class_names[OP_NR] = {
    "csr", "sbi", "uart", "plic", "ram", "priv", "word", "irq",
    "wfi", "irqoff", "paging", "vendor",
};
/* Weights out of their sum; cheap pure-guest ops are a minority so most
 * ops exercise the hypervisor. */
static const unsigned weights[OP_NR] = {
    [OP_CSR] = 180, [OP_SBI] = 170, [OP_UART] = 110, [OP_PLIC] = 110,
    [OP_RAM] = 90, [OP_PRIV] = 110, [OP_WORD] = 70, [OP_IRQ] = 50,
    [OP_WFI] = 8, [OP_IRQOFF] = 3, [OP_PAGING] = 20, [OP_VENDOR] = 40,
};
static unsigned long class_count[OP_NR];
static int only_class = -1;

/* ---------------------------------------------------------------- traps */

static unsigned insn_len_at(unsigned long pc)
{
    uint16_t lo = *(volatile uint16_t *)pc;
    return (lo & 3) == 3 ? 4 : 2;
}

static void trap(struct trap_frame *f)
{
    traps++;
    if (f->scause & SCAUSE_INTR) {
        unsigned long irq = f->scause & ~SCAUSE_INTR;
        irqs++;
        if (irq == IRQ_S_TIMER) {
            sbi_set_timer(UINT64_MAX);
        } else if (irq == IRQ_S_SOFT) {
            csr_clear(sip, SIP_SSIP);
        } else if (irq == IRQ_S_EXT) {
            /* Claim/complete once at context 0 and mask: the random PLIC
             * and UART state may keep the line high. */
            volatile uint32_t *claim = (volatile uint32_t *)(PLIC_BASE + 0x200004);
            uint32_t id = *claim;
            if (id)
                *claim = id;
            csr_clear(sie, SIE_SEIE);
        }
        if (irq < 64)
            csr_clear(sie, 1UL << irq);     /* no storm: chaos re-enables it */
        return;
    }
    switch (f->scause) {
    case 0: case 1: case 12:            /* fetch faults: nothing to skip */
        if (recover_pc) {
            f->sepc = recover_pc;
            return;
        }
        unexpected++;
        rt_default_trap(f);
    default:
        /* illegal, breakpoint, misaligned, access and page faults: skip */
        f->sepc += insn_len_at(f->sepc);
        /* returning from sret: stay in S-mode */
        f->sstatus |= SSTATUS_SPP;
        return;
    }
}

/* ---------------------------------------------------------------- helpers */

static void fence_i(void)
{
    __asm__ volatile("fence.i" ::: "memory");
}

/* Execute one 32-bit instruction word from RAM, with t1 = in; returns t0. */
static unsigned long exec_word(uint32_t insn, unsigned long in)
{
    register unsigned long t0 __asm__("t0") = 0;
    register unsigned long t1 __asm__("t1") = in;
    tramp[0] = insn;
    tramp[1] = 0x00008067;              /* ret */
    fence_i();
    __asm__ volatile("jalr ra, 0(%2)"
                     : "+r"(t0), "+r"(t1)
                     : "r"(tramp)
                     : "ra", "t2", "memory");
    return t0;
}

static void uart_sane(void)
{
    volatile uint8_t *u = (volatile uint8_t *)UART_BASE;
    u[3] = 0x03;        /* LCR: 8N1, DLAB off */
    u[4] = 0x00;        /* MCR: loopback off */
    u[1] = 0x00;        /* IER */
    if (uart_dirty)
        rt_putc('\n');  /* end any partial line of raw bytes */
    uart_dirty = 0;
}

static void report(const char *tail)
{
    int sie = csr_read(sstatus) & SSTATUS_SIE;
    irq_disable();
    uart_sane();
    printf("chaos: ops=%lu traps=%lu%s\n", ops, traps, tail);
    if (sie)
        irq_enable();
}

/* A random value with a bias to interesting ones. */
static unsigned long rand_val(void)
{
    switch (rt_rnd() & 7) {
    case 0: return rt_below(16);
    case 1: return ~0UL - rt_below(4);
    case 2: return 1UL << rt_below(64);
    case 3: return (unsigned long)(scratch + rt_below(sizeof(scratch)));
    case 4: return rt.ram_base + rt_below(rt.ram_size);
    case 5: return rt_below(1ull << 41);
    default: return rt_rnd();
    }
}

static int in_ram(unsigned long a, unsigned long len)
{
    return a >= rt.ram_base && a - rt.ram_base < rt.ram_size &&
           len <= rt.ram_size - (a - rt.ram_base);
}

static int in_devices(unsigned long a)
{
    return (a >= UART_BASE && a < UART_BASE + UART_SPAN) ||
           (a >= PLIC_BASE && a < PLIC_BASE + PLIC_SPAN);
}

static void arm_timer_soon(void)
{
    sbi_set_timer(rt_now() + 1 + rt_below(200));  /* up to 20 us at 10 MHz */
    csr_set(sie, SIE_STIE);
}

/* ---------------------------------------------------------------- MMIO */

static unsigned long mmio_load(unsigned long a, unsigned size)
{
    switch (size) {
    case 1: return *(volatile uint8_t *)a;
    case 2: return *(volatile uint16_t *)a;
    case 4: return *(volatile uint32_t *)a;
    default: return *(volatile uint64_t *)a;
    }
}

static void mmio_store(unsigned long a, unsigned size, unsigned long v)
{
    switch (size) {
    case 1: *(volatile uint8_t *)a = (uint8_t)v; break;
    case 2: *(volatile uint16_t *)a = (uint16_t)v; break;
    case 4: *(volatile uint32_t *)a = (uint32_t)v; break;
    default: *(volatile uint64_t *)a = v; break;
    }
}

static volatile unsigned long sink;

/* 16550: accepted sizes 1/2/4 at offsets 0..7, aligned. */
static void op_uart(void)
{
    unsigned size = 1u << rt_below(3);
    unsigned long off = rt_below(8) & ~(unsigned long)(size - 1);
    if (rt_rnd() & 1) {
        sink = mmio_load(UART_BASE + off, size);
    } else {
        unsigned long v = rand_val();
        /* THR with DLAB clear: a raw byte reaches the console */
        if (off == 0)
            uart_dirty = 1;
        mmio_store(UART_BASE + off, size, v);
    }
}

/* PLIC: aligned 4-byte accesses anywhere in its 4 MiB window. (Misaligned
 * device accesses end the VM under Tessera: they are a fatal op.) */
static void op_plic(void)
{
    unsigned long off;
    switch (rt_rnd() & 7) {
    case 0: off = rt_below(0x100); break;                              /* priorities */
    case 1: off = 0x1000 + rt_below(16); break;                        /* pending */
    case 2: off = 0x2000 + 0x80 * rt_below(10) + rt_below(16); break;     /* enables */
    case 3: case 4: off = 0x200000 + 0x1000 * rt_below(10) + rt_below(8); break;  /* thr/claim */
    default: off = rt_below(PLIC_SPAN); break;
    }
    off &= ~3UL;
    if (rt_rnd() & 1)
        sink = mmio_load(PLIC_BASE + off, 4);
    else
        mmio_store(PLIC_BASE + off, 4, rand_val());
}

/* ---------------------------------------------------------------- RAM */

static void op_ram(void)
{
    unsigned size = 1u << rt_below(4);
    unsigned long a = (unsigned long)scratch + rt_below(sizeof(scratch) - 16);
    switch (rt_rnd() & 7) {
    case 0: case 1:                     /* any alignment: misaligned traps */
        if (rt_rnd() & 1)
            sink = mmio_load(a, size);
        else
            mmio_store(a, size, rt_rnd());
        break;
    case 2: {                           /* AMO / LR / SC, maybe misaligned */
        unsigned long p = a & ~(rt_rnd() & 1 ? 7UL : 0UL), v = rt_rnd();
        switch (rt_rnd() & 3) {
        case 0: __asm__ volatile("amoadd.w %0, %1, (%2)" : "=r"(v) : "r"(v), "r"(p) : "memory"); break;
        case 1: __asm__ volatile("amoswap.d %0, %1, (%2)" : "=r"(v) : "r"(v), "r"(p) : "memory"); break;
        case 2: __asm__ volatile("lr.d %0, (%1)" : "=r"(v) : "r"(p) : "memory"); break;
        default: __asm__ volatile("sc.w %0, %1, (%2)" : "=r"(v) : "r"(v), "r"(p) : "memory"); break;
        }
        sink = v;
        break;
    }
    case 3:                             /* reads anywhere in its own RAM */
        a = (rt.ram_base + rt_below(rt.ram_size - 8)) & ~(unsigned long)(size - 1);
        sink = mmio_load(a, size);
        break;
    default:                            /* aligned scratch */
        a &= ~(unsigned long)(size - 1);
        if (rt_rnd() & 1)
            sink = mmio_load(a, size);
        else
            mmio_store(a, size, rt_rnd());
        break;
    }
}

/* ---------------------------------------------------------------- CSRs */

static unsigned rand_csr(void)
{
    static const uint16_t interesting[] = {
        0x100, 0x104, 0x105, 0x106, 0x10A, 0x140, 0x141, 0x142, 0x143, 0x144,
        0x14D, 0x180, 0x5A8, 0x200, 0x204, 0x205, 0x240, 0x241, 0x242, 0x243,
        0x244, 0x280, 0x24D, 0x600, 0x602, 0x603, 0x604, 0x605, 0x606, 0x607,
        0x60A, 0x643, 0x644, 0x645, 0x64A, 0x680, 0x300, 0x301, 0x302, 0x303,
        0x304, 0x305, 0x30A, 0x340, 0x341, 0x342, 0x343, 0x344, 0x3A0, 0x3B0,
        0x7A0, 0x7A1, 0x7B0, 0x7B1, 0xB00, 0xB02, 0xC00, 0xC01, 0xC02, 0xC03,
        0xC1F, 0xC80, 0xF11, 0xF12, 0xF13, 0xF14, 0x001, 0x002, 0x003, 0x008,
        0x015, 0xDA0, 0x5C0, 0x9C0,
    };
    if (rt_rnd() & 1)
        return interesting[rt_below(sizeof(interesting) / sizeof(interesting[0]))];
    return (unsigned)rt_below(4096);
}

static uint32_t csr_insn(unsigned csr, unsigned f3, unsigned rs1, unsigned rd)
{
    return (uint32_t)(csr << 20 | rs1 << 15 | f3 << 12 | rd << 7 | 0x73);
}

static void op_csr(void)
{
    unsigned csr = rand_csr(), f3 = (unsigned)(1 + rt_below(7));
    unsigned rs1 = 6;                   /* t1, or a 5-bit immediate */
    if (f3 == 4)
        f3 = 2;
    if (f3 >= 5)
        rs1 = (unsigned)rt_below(32);
    else if (chance(300))
        rs1 = 0;                        /* csrr: read only */
    /* Keep the trap vector and the MMU ours: those two are only read. */
    if (csr == 0x105 || csr == 0x180) {
        f3 = 2;
        rs1 = 0;
    }
    sink = exec_word(csr_insn(csr, f3, rs1, 5), rand_val());
}

/* ---------------------------------------------------------------- SBI */

static const unsigned long eids[] = {
    SBI_EXT_BASE, SBI_EXT_TIME, SBI_EXT_IPI, SBI_EXT_RFENCE, SBI_EXT_HSM,
    SBI_EXT_SRST, SBI_EXT_DBCN, SBI_EXT_TESSERA, SBI_EXT_PMU,
    SBI_EXT_LEGACY_PUTCHAR, SBI_EXT_LEGACY_GETCHAR, 0x00, 0x03, 0x04, 0x05,
    0x06, 0x07, 0x09, 0x0F, 0x4E41434C /* NACL */, 0x535553 /* SUSP */,
    0x43505043 /* CPPC */, 0x535441 /* STA */, 0x0A000000, 0x0AFFFFFF,
};

static void op_sbi(void)
{
    unsigned long eid, fid, a[6];
    if (chance(800))
        eid = eids[rt_below(sizeof(eids) / sizeof(eids[0]))];
    else
        eid = rand_val();
    fid = chance(800) ? rt_below(8) : rand_val();
    for (int i = 0; i < 6; i++)
        a[i] = rand_val();

    /* Calls that would end or freeze this VM for good are defused. */
    if (eid == SBI_EXT_SRST && fid == 0) {
        if (a[0] <= 2)
            a[0] = 3 + rt_below(100);      /* invalid type: -3 */
    }
    if (eid == SBI_EXT_HSM) {
        if (fid == SBI_HSM_HART_STOP)
            fid = SBI_HSM_HART_GET_STATUS;
        if (fid == SBI_HSM_HART_SUSPEND) {
            if (a[0] == 0 && !use_halts) {
                a[0] = 0x10000000UL + rt_below(0x60000000UL);  /* reserved: -2/-3 */
            } else if (a[0] == 0) {
                /* retentive: armed just before the call, below */
            } else if (a[0] == SBI_HSM_NONRET && in_ram(a[1], 2)) {
                a[1] = rt.ram_base + rt.ram_size + rt_below(1 << 20);   /* -5 */
            }
        }
    }
    if (eid == SBI_EXT_DBCN) {
        if (fid == 1 && in_ram(a[1], 1))
            a[1] = (unsigned long)scratch, a[0] &= 0xFFFF, a[2] = 0;
        if (fid == 1 && a[0] > sizeof(scratch) && a[1] == (unsigned long)scratch)
            a[0] = sizeof(scratch);
        if (fid == 0 && !chance(64))
            a[0] &= 63;                 /* keep the console readable */
        uart_dirty = 1;
    }
    if (eid == SBI_EXT_LEGACY_PUTCHAR)
        uart_dirty = 1;
    if (eid == SBI_EXT_TESSERA && fid == 2 && !chance(4))
        fid = 3;                        /* yield: rare, see op_vendor */
    if (eid == SBI_EXT_LEGACY_SHUTDOWN)
        eid = SBI_EXT_LEGACY_GETCHAR;
    unsigned long sie_on = csr_read(sstatus) & SSTATUS_SIE;
    int suspend = eid == SBI_EXT_HSM && fid == SBI_HSM_HART_SUSPEND && a[0] == 0;
    if (suspend) {
        irq_disable();                  /* see op_wfi */
        arm_timer_soon();
    }
    struct sbiret r = sbi_ecall(eid, fid, a[0], a[1], a[2], a[3], a[4], a[5]);
    if (suspend) {
        sbi_set_timer(UINT64_MAX);
        if (sie_on)
            irq_enable();
    }
    sink = (unsigned long)r.error ^ (unsigned long)r.value;
}

static void op_vendor(void)
{
    /* fid 2 (yield) gives the neighbour the rest of the slice: rare, or
     * chaos would mostly wait */
    unsigned long fid = chance(900) ? rt_below(4) : rand_val();
    if (fid == 2 && !chance(4))
        fid = 3;
    struct sbiret r = sbi_ecall(SBI_EXT_TESSERA, fid, rand_val(), rand_val(),
                                rand_val(), 0, 0, 0);
    sink = (unsigned long)r.value;
}

/* ---------------------------------------------------------------- instructions */

/* The H load/stores come first so that hlv=0 can leave them out. Under
 * QEMU 7.2 their virtual-instruction trap leaves a stale stval (the
 * previous trapped instruction); Tessera used to trust it (an hlv after a
 * wfi became a wfi and the VM slept forever), fixed in 4f20ed5 by always
 * fetching the instruction. See docs/robustness.md. */
#define N_HLV 3
static int use_hlv;
static const uint32_t priv_words[] = {
    0x60004073,     /* hlv.b zero, (zero) */
    0x6C004073,     /* hlvx.hu zero, (zero) */
    0x62004073,     /* hsv.b zero, (zero) */
    0x30200073,     /* mret */
    0x7b200073,     /* dret */
    0x00200073,     /* uret (gone: illegal) */
    0x22000073,     /* hfence.vvma */
    0x62000073,     /* hfence.gvma */
    0x16000073,     /* sinval.vma */
    0x18000073,     /* sfence.w.inval */
    0x12000073,     /* sfence.vma */
    0x0000100F,     /* fence.i */
    0x00100073,     /* ebreak */
    0x0000200F | (4u << 20), /* cbo.zero (zero) */
    0x0000200F | (1u << 20), /* cbo.clean (zero) */
    0x0000200F,     /* cbo.inval (zero) */
    0x00000000,     /* c.unimp + 0 */
    0xFFFFFFFF,     /* illegal */
    0x0000007F,     /* 64-bit prefix */
    0x0000001F,     /* 48-bit prefix */
    0x02000057,     /* vector (absent) */
    0x0000000B,     /* custom-0 */
    0x1050007F,
};

static void op_priv(void)
{
    unsigned first = use_hlv ? 0 : N_HLV;
    unsigned k = first + (unsigned)rt_below(sizeof(priv_words) / sizeof(priv_words[0]) + 3 - first);
    if (k < sizeof(priv_words) / sizeof(priv_words[0])) {
        sink = exec_word(priv_words[k], rand_val());
        return;
    }
    switch (k - sizeof(priv_words) / sizeof(priv_words[0])) {
    case 0:         /* sret in S-mode, to the next instruction, SPP = S */
        __asm__ volatile("la t0, 1f\n csrw sepc, t0\n li t0, 0x100\n csrs sstatus, t0\n"
                         "sret\n1:" ::: "t0", "memory");
        break;
    case 1:         /* c.ebreak */
        __asm__ volatile(".2byte 0x9002" ::: "memory");
        break;
    default:        /* c.unimp */
        __asm__ volatile(".2byte 0x0000" ::: "memory");
        break;
    }
}

/* A random word whose effect stays in t0 (or ft0..): ALU, FP, fences,
 * CSR ops (stvec/satp writes defused) and reserved opcodes. */
static void op_word(void)
{
    static const uint8_t ok_opcodes[] = {
        0x13, 0x33, 0x37, 0x17, 0x1B, 0x3B, 0x53, 0x43, 0x47, 0x4B, 0x4F,
        0x0F, 0x73, 0x0B, 0x2B, 0x5B, 0x7B, 0x57, 0x77, 0x1F, 0x3F, 0x7F,
    };
    uint32_t w = (uint32_t)rt_rnd();
    uint32_t opc = ok_opcodes[rt_below(sizeof(ok_opcodes))];
    w = (w & ~0x7Fu) | opc;
    w = (w & ~(0x1Fu << 7)) | (5u << 7);            /* rd = t0 / ft5 */
    if (opc == 0x73) {
        unsigned f3 = (w >> 12) & 7, csr = w >> 20;
        if (f3 == 0 || f3 == 4)
            w = (w & ~(7u << 12)) | (2u << 12);     /* a CSR op, not ecall/sret/wfi */
        if (csr == 0x105 || csr == 0x180)
            w &= ~(0x1Fu << 15);                    /* rs1/uimm = 0 */
        if ((csr == 0x105 || csr == 0x180) && ((w >> 12) & 3) == 1)
            w = (w & ~(7u << 12)) | (2u << 12);     /* csrrw -> csrrs */
    }
    if (opc == 0x0F && ((w >> 12) & 7) == 2)
        w &= ~(0x1Fu << 15);                        /* cbo.* on address 0 only */
    sink = exec_word(w, rand_val());
}

/* ---------------------------------------------------------------- interrupts */

static void op_irq(void)
{
    switch (rt_rnd() & 7) {
    case 0: csr_write(sie, rt_rnd() & (SIE_SSIE | SIE_STIE | SIE_SEIE)); break;
    case 1: irq_enable(); break;
    case 2: irq_disable(); break;
    case 3: csr_set(sip, SIP_SSIP); break;
    case 4: sbi_set_timer(rt_now() + rt_below(5000)); break;
    case 5: sbi_send_ipi(1, 0); break;
    case 6: sbi_set_timer(rt_rnd()); break;
    default: csr_write(sstatus, (csr_read(sstatus) & ~0x122UL) | (rt_rnd() & 0x122UL)); break;
    }
}

/* WFI / retentive suspend with nothing pending yet. Interrupts stay off
 * from arming the timer to the wait (else the handler could take the
 * timer and disarm it first, and the wait would never end); the wake-up
 * interrupt is then taken, or not, with SIE as it was. */
static void op_wfi(void)
{
    unsigned long s = csr_read(sstatus) & SSTATUS_SIE, e = csr_read(sie);
    irq_disable();
    arm_timer_soon();
    if (rt_rnd() & 1)
        wfi();
    else
        sbi_hart_suspend(0, 0, 0);
    if (s && (rt_rnd() & 1))
        irq_enable();                   /* take it in the handler */
    sbi_set_timer(UINT64_MAX);
    csr_write(sie, e);
    if (s)
        irq_enable();
}

static void op_irqoff(void)
{
    unsigned long s = csr_read(sstatus) & SSTATUS_SIE;
    unsigned long n = 1000 + rt_below(20000);
    irq_disable();
    if (rt_rnd() & 1)
        sbi_set_timer(0);               /* a pending timer it does not take */
    for (volatile unsigned long i = 0; i < n; i++)
        ;
    sbi_set_timer(UINT64_MAX);
    if (s)
        irq_enable();
}

/* ---------------------------------------------------------------- paging */

#define PTE_V 1UL
#define PTE_R 2UL
#define PTE_W 4UL
#define PTE_X 8UL
#define PTE_A 64UL
#define PTE_D 128UL
#define SATP_SV39 (8UL << 60)

static void paging_with(unsigned long pte)
{
    unsigned long leaf = PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D, va;
    int sie = csr_read(sstatus) & SSTATUS_SIE;

    /* identity: gigapage 0 (devices), gigapage 2 (RAM); slot 3 is the test */
    pt_root[0] = (0x0UL >> 12) << 10 | leaf;
    pt_root[2] = (0x80000000UL >> 12) << 10 | leaf;
    pt_root[3] = pte;
    irq_disable();
    csr_write(satp, SATP_SV39 | ((unsigned long)pt_root >> 12));
    __asm__ volatile("sfence.vma" ::: "memory");
    va = 0xC0000000UL + (rt_below(1UL << 30) & ~7UL);
    if (rt_rnd() & 1)
        sink = *(volatile uint64_t *)va;
    else
        *(volatile uint64_t *)va = rt_rnd();
    /* rewrite the live entry without sfence.vma (stale TLB entries are
     * allowed to be used), then access again */
    pt_root[3] = rt_rnd() & ~(0x3FFUL << 54) & ~PTE_V;
    sink = *(volatile uint64_t *)(va ^ 8);
    csr_write(satp, 0);
    __asm__ volatile("sfence.vma" ::: "memory");
    if (sie)
        irq_enable();
}

/* Survivable page-table entries in slot 3: each access page-faults. */
static void op_paging(void)
{
    unsigned long leaf = PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D, pte;

    switch (rt_rnd() & 3) {
    case 0:     /* a random leaf into own RAM: never 1 GiB aligned -> misaligned superpage */
        pte = (rt_rnd() & 0x3FF) | PTE_V | PTE_R |
              (((rt.ram_base + rt_below(rt.ram_size)) >> 12) | 1) << 10;
        break;
    case 1:     /* non-leaf to an empty table: the walk finds V=0 */
        pte = ((unsigned long)pt_empty >> 12) << 10 | PTE_V;
        break;
    case 2:     /* W without R: reserved */
        pte = ((rt.ram_base >> 12) << 10) | PTE_V | PTE_W | PTE_A | PTE_D;
        break;
    default:    /* invalid, random rest */
        pte = rt_rnd() & ~(0x3FFUL << 54) & ~PTE_V;
        break;
    }
    (void)leaf;
    paging_with(pte);
}

/* ---------------------------------------------------------------- fatal ops */

/* Random guest-physical address outside its RAM and devices. */
static unsigned long outside_gpa(unsigned size)
{
    for (;;) {
        unsigned long a;
        switch (rt_rnd() & 7) {
        case 0: a = rt_rnd(); break;                                   /* anywhere */
        case 1: a = rt.ram_base + rt.ram_size + rt_below(1 << 24); break;   /* just past RAM */
        case 2: a = rt.ram_base - 1 - rt_below(1 << 24); break;        /* just below RAM */
        case 3: a = UART_BASE + UART_SPAN + rt_below(0x1000); break;   /* past the UART */
        case 4: a = PLIC_BASE - 1 - rt_below(0x1000); break;
        default: a = rt_below(1ull << 41); break;                      /* the G-stage space */
        }
        a &= ~(unsigned long)(size - 1);
        if (!in_ram(a, size) && !in_devices(a) && !in_devices(a + size - 1))
            return a;
    }
}

static void do_fatal(void)
{
    char tail[96];
    unsigned size = 1u << rt_below(4);
    unsigned long a;

    switch (rt_rnd() & 7) {
    case 0: case 1:
        a = outside_gpa(size);
        snprintf(tail, sizeof(tail), " fatal %u-byte load at 0x%lx", size, a);
        report(tail);
        sink = mmio_load(a, size);
        break;
    case 2:
        a = outside_gpa(size);
        snprintf(tail, sizeof(tail), " fatal %u-byte store at 0x%lx", size, a);
        report(tail);
        mmio_store(a, size, rt_rnd());
        break;
    case 3: {                           /* sizes/offsets the devices refuse */
        int load = rt_rnd() & 1;
        if (rt_rnd() & 1) {
            a = UART_BASE + 8 * rt_below(UART_SPAN / 8);       /* 8 bytes: never accepted */
            size = 8;
        } else {
            a = PLIC_BASE + (rt_below(PLIC_SPAN) & ~7UL);      /* only 4 is accepted */
            size = (rt_rnd() & 1) ? 8 : 1 + (unsigned)(rt_rnd() & 1);
        }
        snprintf(tail, sizeof(tail), " fatal refused %u-byte %s at 0x%lx", size,
                 load ? "load" : "store", a);
        report(tail);
        if (load)
            sink = mmio_load(a, size);
        else
            mmio_store(a, size, rt_rnd());
        break;
    }
    case 4:                             /* atomics and FP on MMIO: not emulated */
        if (rt_rnd() & 1) {
            unsigned long v = 1;
            a = UART_BASE + 4 * rt_below(2);
            snprintf(tail, sizeof(tail), " fatal amoor.w on MMIO at 0x%lx", a);
            report(tail);
            __asm__ volatile("amoor.w %0, %1, (%2)" : "=r"(v) : "r"(v), "r"(a) : "memory");
            sink = v;
        } else {
            a = PLIC_BASE + 8 * rt_below(PLIC_SPAN / 8);
            snprintf(tail, sizeof(tail), " fatal fld on MMIO at 0x%lx", a);
            report(tail);
            csr_set(sstatus, 1UL << 13);            /* FS = initial */
            __asm__ volatile(".option push\n.option arch, +d\nfld ft0, 0(%0)\n.option pop"
                             :: "r"(a) : "memory");
        }
        break;
    case 5:
        if (rt_rnd() & 1) {                /* misaligned device access */
            size = 2u << rt_below(3);
            a = (rt_rnd() & 1 ? UART_BASE + rt_below(8) : PLIC_BASE + rt_below(PLIC_SPAN - 8)) |
                (1 + rt_below(size - 1));
            snprintf(tail, sizeof(tail), " fatal misaligned %u-byte device load at 0x%lx", size, a);
            report(tail);
            sink = mmio_load(a, size);
            break;
        }
        report(" fatal sbi reboot");
        sbi_system_reset(1 + (rt_rnd() & 1), rt_rnd() & 1);
        break;
    case 6: {                           /* a random page-table entry: its walk or access leaves memory */
        unsigned long pte = (rt_rnd() & ~(0x3FFUL << 54)) | PTE_V;
        snprintf(tail, sizeof(tail), " fatal paging pte=0x%lx", pte);
        report(tail);
        paging_with(pte);
        break;
    }
    default:
        a = outside_gpa(4) & ~3UL;
        snprintf(tail, sizeof(tail), " fatal fetch at 0x%lx", a);
        report(tail);
        recover_pc = (unsigned long)&&back;
        ((void (*)(void))a)();
back:
        recover_pc = 0;
        break;
    }
    report(" survived fatal");
}

/* ---------------------------------------------------------------- main */

/* What it is doing now, for a debugger or a memory dump after a hang. */
volatile unsigned long chaos_now[4];

static void do_op(int cls)
{
    class_count[cls]++;
    chaos_now[0] = ops;
    chaos_now[1] = (unsigned long)cls;
    chaos_now[2] = rt_rng_state;
    switch (cls) {
    case OP_CSR: op_csr(); break;
    case OP_SBI: op_sbi(); break;
    case OP_UART: op_uart(); break;
    case OP_PLIC: op_plic(); break;
    case OP_RAM: op_ram(); break;
    case OP_PRIV: op_priv(); break;
    case OP_WORD: op_word(); break;
    case OP_IRQ: op_irq(); break;
    case OP_WFI: op_wfi(); break;
    case OP_IRQOFF: op_irqoff(); break;
    case OP_PAGING: op_paging(); break;
    default: op_vendor(); break;
    }
}

static int pick_class(unsigned total)
{
    unsigned r = (unsigned)rt_below(total);
    for (int c = 0; c < OP_NR; c++) {
        if (c == OP_WFI && !use_halts)
            continue;
        if (r < weights[c])
            return c;
        r -= weights[c];
    }
    return OP_CSR;
}

void gmain(unsigned long hartid, const void *fdt)
{
    (void)hartid;
    (void)fdt;
    unsigned long base = rt_arg_ulong("seed", 1);
    unsigned long nops = rt_arg_ulong("ops", 100000);
    unsigned long runs = rt_arg_ulong("runs", 0);
    unsigned long ppm = rt_arg_ulong("fatal_ppm", 50);
    unsigned long every = rt_arg_ulong("report", 10000);
    use_hlv = rt_arg_ulong("hlv", 1) != 0;
    use_halts = rt_arg_ulong("halts", 1) != 0;
    struct sbiret rs = sbi_tessera_restarts();
    unsigned long restart = rs.error ? 0 : (unsigned long)rs.value;
    uint64_t seed = rt_splitmix(base + restart * 0x9E3779B97F4A7C15ull);
    char only[16];
    unsigned total = 0;

    if (rt_arg_str("exact_seed", only, sizeof(only)))
        seed = rt_arg_ulong("exact_seed", seed);
    if (rt_arg_str("only", only, sizeof(only)))
        for (int c = 0; c < OP_NR; c++)
            if (strcmp(only, class_names[c]) == 0)
                only_class = c;
    if (!every)
        every = 10000;
    fatal_mode = restart < runs;
    rt_rng_state = seed ? seed : 1;
    printf("chaos: seed %lu restart %lu base %lu mode %s ops %lu\n", (unsigned long)seed,
           restart, base, fatal_mode ? "fatal" : "final", nops);
    for (int c = 0; c < OP_NR; c++)
        if (c != OP_WFI || use_halts)
            total += weights[c];
    rt_set_trap_handler(trap);

    for (ops = 0; ops < nops; ) {
        if (fatal_mode && rt_below(1000000) < ppm)
            do_fatal();
        do_op(only_class >= 0 ? only_class : pick_class(total));
        ops++;
        if (ops % every == 0)
            report("");
    }
    if (fatal_mode) {
        /* the budget is spent: end this run the way its policy restarts */
        for (;;)
            do_fatal();
    }
    irq_disable();
    uart_sane();
    printf("chaos: op class counts:");
    for (int c = 0; c < OP_NR; c++)
        printf(" %s=%lu", class_names[c], class_count[c]);
    printf("\n");
    printf("chaos: done ops=%lu traps=%lu irqs=%lu\n", ops, traps, irqs);
    rt_shutdown();
}
