/*
 * devices-check (x86_64 only): pokes every PC device register Tessera
 * emulates and checks the answers against real PC semantics.
 * bootargs: apic=x2apic|xapic|auto (default x2apic, as in timer),
 *           uart_irq_check=0 to skip the UART interrupt check.
 *
 * Every check prints "ok <what>" or "FAIL <what>: got 0x<x> expected 0x<y>"
 * (or "FAIL <what>: <why>"); the run ends with
 *     devices-check: summary passed=<P> failed=<F>
 *     devices-check: PASS | FAIL
 * and the VM shuts down. Areas, in order: CPUID signature, unknown ports,
 * port 0x80, 8259 PICs (IMR, ELCR, IRR/ISR, delivery, EOI, poll), 8254 PIT
 * (latch, rate, read-back, channel 2 and port 0x61), CMOS/RTC (status
 * registers, time, ticking, binary mode, RAM, periodic interrupt through the
 * slave PIC), PCI configuration ports ("no device"), the 16550 (scratch,
 * LCR, divisor latch, FIFO, modem loopback, THRE interrupt on its IRQ), the
 * local APIC (mode, ID, version, TPR, self IPI, timer) and the IOAPIC
 * (version, redirection entries). Nothing is printed while the UART is in
 * loopback mode; results are printed afterwards.
 */
#include "rt.h"
#include "pc.h"

#define VEC_PIC_BASE  0x20
#define VEC_IPI       0x50
#define VEC_SPURIOUS  0xff

static unsigned passed, failed;
static volatile unsigned long vec_count[256];
static volatile unsigned last_vec;
static volatile uint8_t isr_in_handler_m, isr_in_handler_s;
static volatile uint8_t rtc_c_in_handler, uart_iir_in_handler;
static volatile unsigned long spurious_pic;

/* ---- reporting */

static void check(const char *what, uint64_t got, uint64_t expected)
{
    if (got == expected) {
        passed++;
        printf("ok %s\n", what);
    } else {
        failed++;
        printf("FAIL %s: got 0x%lx expected 0x%lx\n", what, (unsigned long)got,
               (unsigned long)expected);
    }
}

static void check_true(int ok, const char *fmt, ...) __printf(2, 3);
static void check_true(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rt_console_lock();
    if (ok) {
        passed++;
        printf("ok ");
        vprintf(fmt, ap);
    } else {
        failed++;
        printf("FAIL ");
        vprintf(fmt, ap);
    }
    printf("\n");
    rt_console_unlock();
    va_end(ap);
}

/* ---- interrupts */

static void trap(struct trap_frame *f)
{
    unsigned v = (unsigned)f->vector;

    if (v < 32)
        rt_default_trap(f);
    if (v == VEC_SPURIOUS) {
        vec_count[v]++;
        return;
    }
    if (v >= VEC_PIC_BASE && v < VEC_PIC_BASE + 16) {
        unsigned irq = v - VEC_PIC_BASE;
        uint8_t isr_m = pic_read_reg(PIC_M_CMD, PIC_READ_ISR);
        uint8_t isr_s = pic_read_reg(PIC_S_CMD, PIC_READ_ISR);
        if ((irq == 7 && !(isr_m & 0x80)) || (irq == 15 && !(isr_s & 0x80))) {
            if (irq == 15)
                outb(PIC_M_CMD, PIC_EOI);
            spurious_pic++;
            return;
        }
        isr_in_handler_m = isr_m;
        isr_in_handler_s = isr_s;
        if (irq == 8)
            rtc_c_in_handler = cmos_read(0x0c);         /* clears IRQF: IRQ 8 goes low */
        if (irq == rt.uart_irq && rt.uart_port) {
            uart_iir_in_handler = inb(rt.uart_port + UART_IIR);
            outb(rt.uart_port + UART_IER, 0);
        }
        if (irq >= 8)
            outb(PIC_S_CMD, PIC_EOI);
        outb(PIC_M_CMD, PIC_EOI);
    } else {
        lapic_eoi();
    }
    last_vec = v;
    vec_count[v]++;
}

/* Spin with interrupts on until vec_count[v] > before or us pass. */
static int wait_vec(unsigned v, unsigned long before, uint64_t us)
{
    uint64_t end = rt_now() + rt_us_to_ticks(us);
    irq_enable();
    while (vec_count[v] <= before && rt_now() < end)
        cpu_relax();
    irq_disable();
    return vec_count[v] > before;
}

/* ---- CPUID and the bus */

static void check_cpuid(void)
{
    uint32_t r[4];
    char sig[13];

    cpuid(0x40000000, 0, r);
    memcpy(sig, &r[1], 4);
    memcpy(sig + 4, &r[2], 4);
    memcpy(sig + 8, &r[3], 4);
    sig[12] = 0;
    for (int i = 0; i < 12; i++)
        if (sig[i] && (sig[i] < 0x20 || sig[i] > 0x7e))
            sig[i] = '?';
    check_true(strcmp(sig, "TesseraVMM") == 0, "cpuid 0x40000000 signature '%s' (TesseraVMM)", sig);
}

static void check_unassigned(void)
{
    check("unassigned port 0x2f8 (8-bit) reads all-ones", inb(0x2f8), 0xff);
    check("unassigned port 0x1230 (16-bit) reads all-ones", inw(0x1230), 0xffff);
    check("unassigned port 0x1230 (32-bit) reads all-ones", inl(0x1230), 0xffffffffu);
    outb(0x2f8 + UART_SCR, 0x12);       /* ignored, must not stop the VM */
    check("unassigned port write ignored", inb(0x2f8 + UART_SCR), 0xff);
}

static void check_port80(void)
{
    for (unsigned i = 0; i < 256; i++)
        outb(0x80, (uint8_t)i);
    outb(0x80, 0x5a);
    uint8_t v = inb(0x80);
    /* Tessera returns the last value written; an idle ISA bus 0xff */
    check_true(v == 0x5a || v == 0xff, "port 0x80 accepts 257 writes (reads back 0x%x)", v);
}

/* ---- 8259 */

static void check_pic(void)
{
    irq_disable();
    pic_init(VEC_PIC_BASE, VEC_PIC_BASE + 8, 0xffff);
    outb(PIC_M_DATA, 0xa5);
    check("pic master imr read back", inb(PIC_M_DATA), 0xa5);
    outb(PIC_S_DATA, 0x5a);
    check("pic slave imr read back", inb(PIC_S_DATA), 0x5a);
    pic_mask(0xffff);
    check("pic master isr empty after init", pic_read_reg(PIC_M_CMD, PIC_READ_ISR), 0);

    /* ELCR: IRQ 0, 1, 2, 8 and 13 are edge only */
    uint8_t e1 = inb(PIC_ELCR1), e2 = inb(PIC_ELCR2);
    outb(PIC_ELCR1, 0xff);
    outb(PIC_ELCR2, 0xff);
    check("pic elcr1 writable bits (irq 3-7)", inb(PIC_ELCR1), 0xf8);
    check("pic elcr2 writable bits (irq 9-12, 14, 15)", inb(PIC_ELCR2), 0xde);
    outb(PIC_ELCR1, e1 & 0xf8);
    outb(PIC_ELCR2, e2 & 0xde);

    /* IRR latches a masked edge: PIT channel 0 one-shot of ~84 us */
    pit_program(0, 0, 100);
    rt_delay_us(2000);
    check("pic irr bit 0 set by a masked irq 0 edge",
          pic_read_reg(PIC_M_CMD, PIC_READ_IRR) & 0x01, 0x01);
    check("pic isr still empty (masked)", pic_read_reg(PIC_M_CMD, PIC_READ_ISR), 0);

    /* unmask: delivered as vector 0x20, ISR bit 0 set in the handler, EOI clears */
    unsigned long before = vec_count[VEC_PIC_BASE];
    isr_in_handler_m = 0;
    pic_mask(0xfffe);
    int got = wait_vec(VEC_PIC_BASE, before, 100000);
    check_true(got, "pic irq 0 delivered as vector 0x20 after unmasking");
    if (got)
        check("pic isr bit 0 set in the handler", isr_in_handler_m & 0x01, 0x01);
    check("pic isr clear after eoi", pic_read_reg(PIC_M_CMD, PIC_READ_ISR), 0);
    check("pic irr bit 0 clear after the ack", pic_read_reg(PIC_M_CMD, PIC_READ_IRR) & 0x01, 0);

    /* poll mode, interrupts off: the read is the INTA */
    pit_program(0, 0, 100);
    rt_delay_us(2000);
    check("pic poll returns irq 0 pending", pic_read_reg(PIC_M_CMD, PIC_POLL), 0x80);
    check("pic isr bit 0 set by the poll", pic_read_reg(PIC_M_CMD, PIC_READ_ISR), 0x01);
    outb(PIC_M_CMD, PIC_EOI);
    check("pic poll with nothing pending", pic_read_reg(PIC_M_CMD, PIC_POLL) & 0x80, 0);
    pic_mask(0xffff);
    outb(PIT_CMD, 0x30);                /* park channel 0: mode 0, no count, OUT low */
}

/* ---- 8254 */

static void check_pit(void)
{
    irq_disable();
    /* channel 0, mode 2, count 0xf000 (51 ms): latch twice */
    pit_program(0, 2, 0xf000);
    rt_delay_us(20);                    /* the count loads on the next clock */
    uint16_t a = pit_latch_read(0);
    rt_delay_us(200);
    uint16_t b = pit_latch_read(0);
    check_true(b < a, "pit channel 0 counts down (latched 0x%x then 0x%x)", a, b);

    /* rate: ~11932 clocks in 10 ms */
    uint64_t t0 = rt_now();
    a = pit_latch_read(0);
    rt_delay_us(10000);
    b = pit_latch_read(0);
    uint64_t t1 = rt_now();
    uint64_t clocks = (uint16_t)(a - b);
    uint64_t expect = rt_ticks_to_us(t1 - t0) * PIT_HZ / 1000000;
    check_true(clocks * 100 >= expect * 95 && clocks * 100 <= expect * 105,
               "pit counts at 1.193 MHz (%lu clocks in %lu us, expected %lu)",
               (unsigned long)clocks, (unsigned long)rt_ticks_to_us(t1 - t0),
               (unsigned long)expect);

    /* read-back: latch status and count of channel 0 */
    outb(PIT_CMD, 0xc2);
    uint8_t st = inb(PIT_CH0);
    uint8_t lo = inb(PIT_CH0), hi = inb(PIT_CH0);
    check_true((st & 0x3f) == 0x34,
               "pit read-back of channel 0: status 0x%02x (lsb/msb, mode 2, binary), count 0x%x",
               st, hi << 8 | lo);

    /* channel 2 through port 0x61: gate on, speaker off, mode 0, 1 ms */
    uint8_t p61 = inb(PIT_PORT61);
    outb(PIT_PORT61, (uint8_t)((p61 & 0x0c) | 0x01));
    pit_program(2, 0, 1193);
    uint64_t s = rt_now();
    int low = !(inb(PIT_PORT61) & 0x20);
    uint64_t e = s;
    int high = 0;
    while (rt_now() - s < rt_us_to_ticks(20000))
        if (inb(PIT_PORT61) & 0x20) {
            e = rt_now();
            high = 1;
            break;
        }
    check_true(low, "pit out2 (port 0x61 bit 5) low while channel 2 counts");
    unsigned long us = (unsigned long)rt_ticks_to_us(e - s);
    check_true(high && us >= 900, "pit out2 high at terminal count (after %lu us, expected 1000)", us);

    /* refresh toggle: port 0x61 bit 4 changes every ~15 us */
    uint8_t first = inb(PIT_PORT61) & 0x10;
    int toggled = 0;
    for (uint64_t end = rt_now() + rt_us_to_ticks(1000); rt_now() < end;)
        if ((inb(PIT_PORT61) & 0x10) != first) {
            toggled = 1;
            break;
        }
    check_true(toggled, "port 0x61 refresh bit 4 toggles");
    outb(PIT_PORT61, p61 & 0x0f);
    outb(PIT_CMD, 0x30);
}

/* ---- CMOS / RTC */

static int bcd_ok(uint8_t v) { return (v & 0x0f) < 10 && (v >> 4) < 10; }
static unsigned bcd(uint8_t v) { return (v >> 4) * 10 + (v & 0x0f); }

static uint8_t rtc_read_stable(uint8_t reg)
{
    for (unsigned i = 0; i < 100000 && (cmos_read(0x0a) & 0x80); i++)
        ;                               /* update in progress */
    return cmos_read(reg);
}

static void check_rtc(void)
{
    irq_disable();
    uint8_t a = cmos_read(0x0a), b = cmos_read(0x0b);
    check("rtc status a divider and rate (32.768 kHz, 1024 Hz)", a & 0x7f, 0x26);
    check("rtc status b: bcd, 24 h, no interrupts enabled", b & 0x76, 0x02);
    check("rtc status d: valid ram and time", cmos_read(0x0d), 0x80);
    cmos_read(0x0c);
    check("rtc status c: no flag raised with interrupts off", cmos_read(0x0c) & 0x80, 0);

    uint8_t sec = rtc_read_stable(0x00), min = cmos_read(0x02), hour = cmos_read(0x04);
    uint8_t day = cmos_read(0x07), mon = cmos_read(0x08), year = cmos_read(0x09);
    uint8_t cent = cmos_read(0x32);
    int ok = bcd_ok(sec) && bcd(sec) < 60 && bcd_ok(min) && bcd(min) < 60 && bcd_ok(hour) &&
             bcd(hour) < 24 && bcd_ok(day) && bcd(day) >= 1 && bcd(day) <= 31 && bcd_ok(mon) &&
             bcd(mon) >= 1 && bcd(mon) <= 12 && bcd_ok(year) && bcd_ok(cent);
    check_true(ok, "rtc time registers valid bcd (%02x%02x-%02x-%02x %02x:%02x:%02x)", cent,
               year, mon, day, hour, min, sec);

    /* seconds tick within 1.5 s */
    uint64_t s = rt_now();
    uint8_t now = sec;
    while (rt_now() - s < rt_us_to_ticks(1500000)) {
        now = rtc_read_stable(0x00);
        if (now != sec)
            break;
        rt_delay_us(5000);
    }
    unsigned long ms = (unsigned long)rt_ticks_to_ms(rt_now() - s);
    check_true(now != sec && bcd(now) == (bcd(sec) + 1) % 60,
               "rtc seconds tick within 1.5 s (0x%02x -> 0x%02x after %lu ms)", sec, now, ms);

    /* binary mode */
    uint8_t sb = rtc_read_stable(0x00);
    cmos_write(0x0b, (uint8_t)(b | 0x04));
    uint8_t bin = cmos_read(0x00);
    cmos_write(0x0b, b);
    check_true(bin < 60 && (bin == bcd(sb) || bin == (bcd(sb) + 1) % 60),
               "rtc binary mode (status b dm): seconds 0x%02x bcd = %u binary", sb, bin);

    /* CMOS RAM byte 0x5f (not a clock register) */
    uint8_t keep = cmos_read(0x5f);
    cmos_write(0x5f, 0xa5);
    uint8_t r1 = cmos_read(0x5f);
    cmos_write(0x5f, 0x5a);
    uint8_t r2 = cmos_read(0x5f);
    cmos_write(0x5f, keep);
    check("cmos ram byte 0x5f read/write", (uint64_t)r1 << 8 | r2, 0xa55a);

    /* periodic interrupt (1024 Hz): IRQ 8 -> slave IR0 -> master IR2 -> 0x28 */
    pic_mask((uint16_t)~((1u << 2) | (1u << 8)));
    cmos_read(0x0c);
    unsigned long before = vec_count[VEC_PIC_BASE + 8];
    rtc_c_in_handler = 0;
    isr_in_handler_m = isr_in_handler_s = 0;
    cmos_write(0x0b, (uint8_t)(b | 0x40));      /* PIE */
    int got = wait_vec(VEC_PIC_BASE + 8, before, 200000);
    cmos_write(0x0b, b);
    pic_mask(0xffff);
    cmos_read(0x0c);
    check_true(got, "rtc periodic interrupt: irq 8 through the slave pic as vector 0x28");
    if (got) {
        check("rtc status c in the handler: irqf and pf", rtc_c_in_handler & 0xc0, 0xc0);
        check("pic cascade: master isr bit 2 and slave isr bit 0 in the handler",
              (uint64_t)(isr_in_handler_m & 0x04) << 8 | (isr_in_handler_s & 0x01), 0x0401);
    }
    check("pic isr clear after both eois",
          (uint64_t)pic_read_reg(PIC_M_CMD, PIC_READ_ISR) << 8 |
              pic_read_reg(PIC_S_CMD, PIC_READ_ISR), 0);
}

/* ---- PCI configuration ports */

static void check_pci(void)
{
    outl(PCI_CONFIG_ADDR, 0x80001234u);
    check("pci config address register read back", inl(PCI_CONFIG_ADDR), 0x80001234u);
    unsigned present = 0;
    for (unsigned dev = 0; dev < 32; dev++) {
        uint32_t id = pci_cfg_read32(0, dev, 0, 0);
        if (id != 0xffffffffu) {
            if (present++ < 4)
                printf("pci: bus 0 device %u function 0 answers 0x%08x\n", dev, id);
        }
    }
    check_true(present == 0, "pci bus 0 devices 0-31: config data reads 0xffffffff (%u answered)",
               present);
    outl(PCI_CONFIG_ADDR, 0x80000000u);
    check("pci config data 16-bit read all-ones", inw(PCI_CONFIG_DATA + 2), 0xffff);
    check("pci config data 8-bit read all-ones", inb(PCI_CONFIG_DATA + 3), 0xff);
    outl(PCI_CONFIG_ADDR, 0);
}

/* ---- 16550 */

static void check_uart(int irq_check)
{
    uint16_t p = rt.uart_port;
    if (!p) {
        check_true(0, "uart: no console uart in the boot info");
        return;
    }
    irq_disable();
    outb(p + UART_SCR, 0x5a);
    uint8_t s1 = inb(p + UART_SCR);
    outb(p + UART_SCR, 0xa5);
    uint8_t s2 = inb(p + UART_SCR);
    check("uart scratch register", (uint64_t)s1 << 8 | s2, 0x5aa5);

    uint8_t lcr = inb(p + UART_LCR);
    outb(p + UART_LCR, 0x03);
    check("uart lcr read back (8n1)", inb(p + UART_LCR), 0x03);

    /* divisor latch: 115200 baud */
    outb(p + UART_LCR, 0x83);
    outb(p + UART_DLL, 0x01);
    outb(p + UART_DLM, 0x00);
    uint8_t dll = inb(p + UART_DLL), dlm = inb(p + UART_DLM);
    outb(p + UART_LCR, 0x03);
    check("uart divisor latch read back", (uint64_t)dlm << 8 | dll, 0x0001);
    (void)lcr;

    outb(p + UART_IER, 0x01);
    uint8_t ier = inb(p + UART_IER);
    outb(p + UART_IER, 0x00);
    check("uart ier read back", ier, 0x01);

    /* FIFO (after the transmitter drained: FCR also resets the FIFOs) */
    for (unsigned i = 0; i < 1000000 && !(inb(p + UART_LSR) & UART_LSR_TEMT); i++)
        ;
    outb(p + UART_FCR, 0x07);
    check("uart fifo enabled: iir bits 7-6 (16550a)", inb(p + UART_IIR) & 0xc0, 0xc0);

    /* loopback: nothing may be printed until MCR is restored */
    for (unsigned i = 0; i < 1000000 && !(inb(p + UART_LSR) & UART_LSR_TEMT); i++)
        ;
    uint8_t mcr = inb(p + UART_MCR);
    outb(p + UART_MCR, UART_MCR_LOOP | 0x0f);
    uint8_t msr_on = inb(p + UART_MSR) & 0xf0;
    outb(p + UART_MCR, UART_MCR_LOOP);
    uint8_t msr_off = inb(p + UART_MSR) & 0xf0;
    for (unsigned i = 0; i < 64 && (inb(p + UART_LSR) & UART_LSR_DR); i++)
        inb(p + UART_RBR);
    static const uint8_t bytes[] = { 0x55, 0xaa, 0x00, 0xff, 'T' };
    uint8_t echoed[sizeof(bytes)];
    unsigned n_ok = 0, n_got = 0;
    for (unsigned i = 0; i < sizeof(bytes); i++) {
        outb(p + UART_THR, bytes[i]);
        uint64_t end = rt_now() + rt_us_to_ticks(20000);
        int dr = 0;
        while (rt_now() < end)
            if (inb(p + UART_LSR) & UART_LSR_DR) {
                dr = 1;
                break;
            }
        echoed[i] = dr ? inb(p + UART_RBR) : 0;
        n_got += (unsigned)dr;
        n_ok += dr && echoed[i] == bytes[i];
    }
    uint8_t dr_after = inb(p + UART_LSR) & UART_LSR_DR;
    outb(p + UART_MCR, mcr);
    check("uart loopback: msr bits 7-4 follow mcr bits 3-0", (uint64_t)msr_on << 8 | msr_off,
          0xf000);
    check_true(n_ok == sizeof(bytes),
               "uart loopback: %u of %u bytes came back (%u received; first 0x%02x)", n_ok,
               (unsigned)sizeof(bytes), n_got, echoed[0]);
    check("uart loopback: receive buffer empty afterwards", dr_after, 0);

    if (!irq_check || rt.uart_irq > 15 || rt.uart_irq == 2)
        return;
    /* THRE interrupt on the UART's ISA IRQ (OUT2 gates it on PCs) */
    unsigned v = VEC_PIC_BASE + rt.uart_irq;
    unsigned long before = vec_count[v];
    uart_iir_in_handler = 0xff;
    outb(p + UART_MCR, (uint8_t)(mcr | 0x08));
    pic_mask((uint16_t)~(1u << rt.uart_irq | (rt.uart_irq >= 8 ? 1u << 2 : 0)));
    outb(p + UART_IER, 0x02);
    int got = wait_vec(v, before, 200000);
    outb(p + UART_IER, 0x00);
    pic_mask(0xffff);
    outb(p + UART_MCR, mcr);
    check_true(got, "uart thre interrupt on irq %u (vector 0x%x)", rt.uart_irq, v);
    if (got)
        check("uart iir in the handler: thr empty", uart_iir_in_handler & 0x0f, 0x02);
}

/* ---- local APIC and IOAPIC */

static void check_apic(const char *want_s)
{
    enum lapic_mode want = LAPIC_X2APIC;
    if (strcmp(want_s, "xapic") == 0) {
        want = LAPIC_XAPIC;
    } else if (strcmp(want_s, "auto") == 0) {
        uint32_t r[4];
        cpuid(1, 0, r);
        want = (r[2] & CPUID1_ECX_X2APIC) ? LAPIC_X2APIC : LAPIC_XAPIC;
    }
    uint64_t base;
    int rd = rt_rdmsr_safe(MSR_IA32_APIC_BASE, &base);
    check_true(rd == 0, "rdmsr IA32_APIC_BASE (0x%lx)", rd ? 0ul : (unsigned long)base);
    uint64_t junk;
    check_true(rt_rdmsr_safe(0xc0011234u, &junk) != 0, "rdmsr of an unknown msr raises #GP");

    const char *why = "";
    irq_disable();
    if (lapic_enable(want, VEC_SPURIOUS, &why)) {
        check_true(0, "lapic %s mode: %s", want == LAPIC_X2APIC ? "x2apic" : "xapic", why);
        return;
    }
    check_true(1, "lapic %s mode enabled", want == LAPIC_X2APIC ? "x2apic" : "xapic");

    uint32_t ver = lapic_read(LAPIC_VER);
    check_true((ver & 0xff) >= 0x10 && (ver & 0xff) <= 0x15 && ((ver >> 16) & 0xff) >= 5,
               "lapic version 0x%x (integrated, %u lvt entries)", ver, ((ver >> 16) & 0xff) + 1);
    long me = rt.tessera ? rt_vcpu_id() : (long)rt.boot_hart;
    check("lapic id = vcpu id", lapic_id(), (uint64_t)me);
    lapic_write(LAPIC_TPR, 0x20);
    uint32_t tpr = lapic_read(LAPIC_TPR);
    lapic_write(LAPIC_TPR, 0);
    check("lapic tpr read back", tpr, 0x20);
    check("lapic svr read back", lapic_read(LAPIC_SVR) & 0x1ff, 0x100 | VEC_SPURIOUS);

    unsigned long before = vec_count[VEC_IPI];
    lapic_self_ipi(VEC_IPI);
    check_true(wait_vec(VEC_IPI, before, 100000), "lapic self ipi delivered (vector 0x%x)", VEC_IPI);
    check("lapic isr empty after eoi", lapic_read(LAPIC_ISR + 0x10 * (VEC_IPI / 32)), 0);

    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | 0x41);
    lapic_write(LAPIC_TDCR, 0x0b);
    lapic_write(LAPIC_TMICT, 0xffffffffu);
    uint32_t c1 = lapic_read(LAPIC_TMCCT);
    rt_delay_us(200);
    uint32_t c2 = lapic_read(LAPIC_TMCCT);
    lapic_write(LAPIC_TMICT, 0);
    check_true(c2 < c1, "lapic timer counts down (0x%x then 0x%x)", c1, c2);
    check("lapic timer stopped by initial count 0", lapic_read(LAPIC_TMCCT), 0);

    uint32_t iover = ioapic_read(IOAPIC_VER);
    check_true(((iover >> 16) & 0xff) == 23 && (iover & 0xff) >= 0x11,
               "ioapic version 0x%08x (24 redirection entries)", iover);
    uint32_t lo0 = ioapic_read(IOAPIC_RTE(10)), hi0 = ioapic_read(IOAPIC_RTE(10) + 1);
    ioapic_write(IOAPIC_RTE(10) + 1, 0x03000000u);
    ioapic_write(IOAPIC_RTE(10), IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL | 0x3a);
    uint32_t lo = ioapic_read(IOAPIC_RTE(10)), hi = ioapic_read(IOAPIC_RTE(10) + 1);
    ioapic_write(IOAPIC_RTE(10), lo0 | IOAPIC_RTE_MASKED);
    ioapic_write(IOAPIC_RTE(10) + 1, hi0);
    check("ioapic redirection entry 10 read back",
          (uint64_t)hi << 32 | (lo & ~(1u << 12 | 1u << 14)),
          (uint64_t)0x03000000u << 32 | (IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL | 0x3a));
    check("ioapic redirection entry 0 masked at reset", ioapic_read(IOAPIC_RTE(0)) & IOAPIC_RTE_MASKED,
          IOAPIC_RTE_MASKED);

    /* an MMIO window no device answers (where a PC has its HPET) */
    volatile uint32_t *nodev = (volatile uint32_t *)0xfed00000ul;
    nodev[0] = 0x12345678u;
    check("mmio with no device (0xfed00000) reads all-ones", nodev[0], 0xffffffffu);
}

void gmain(unsigned long hartid, const void *boot)
{
    (void)boot;
    char apic[16] = "x2apic";
    rt_arg_str("apic", apic, sizeof(apic));
    int uart_irq_check = (int)rt_arg_ulong("uart_irq_check", 1);

    printf("devices-check: vcpu %lu, uart 0x%x irq %u, apic %s, timebase %lu Hz (%s)\n", hartid,
           rt.uart_port, rt.uart_irq, apic, (unsigned long)rt.timebase_hz, rt.timebase_src);
    rt_set_trap_handler(trap);

    check_cpuid();
    check_unassigned();
    check_port80();
    check_pic();
    check_pit();
    check_rtc();
    check_pci();
    check_uart(uart_irq_check);
    check_apic(apic);

    irq_disable();
    if (spurious_pic)
        printf("devices-check: %lu spurious pic interrupts (ignored)\n", spurious_pic);
    printf("devices-check: summary passed=%u failed=%u\n", passed, failed);
    printf(failed ? "devices-check: FAIL\n" : "devices-check: PASS\n");
    rt_shutdown();
}
