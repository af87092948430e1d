/*
 * echo: interrupt-driven console input. Enables the 16550's receive
 * interrupt and its PLIC source, sleeps in WFI, and on each external
 * interrupt claims the source, drains the receive FIFO and completes.
 * Every typed line comes back as "echo: <line>"; "quit" shuts the VM down.
 * This is the path a person typing into a VM exercises: host UART ->
 * Tessera's console focus -> the VM's 16550 model -> its PLIC -> VSEIP.
 */
#include "rt.h"

#define UART_RBR 0
#define UART_IER 1
#define UART_LSR 5
#define LSR_DR   0x01

static volatile uint8_t *uart;
static volatile uint32_t *plic;
static unsigned irq, ctx;
static char line[128];
static unsigned len;
static volatile unsigned long irqs;
static volatile int quit;

static void line_done(void)
{
    line[len] = '\0';
    if (len)
        printf("echo: %s\n", line);
    if (strcmp(line, "quit") == 0)
        quit = 1;
    len = 0;
}

static void trap(struct trap_frame *f)
{
    if (f->scause != SCAUSE_SEI)
        rt_default_trap(f);
    uint32_t id;
    volatile uint32_t *claim = plic + (0x200004 + 0x1000 * ctx) / 4;
    while ((id = *claim) != 0) {
        irqs++;
        while (uart[UART_LSR] & LSR_DR) {
            char c = (char)uart[UART_RBR];
            if (c == '\r' || c == '\n')
                line_done();
            else if (len < sizeof(line) - 1)
                line[len++] = c;
        }
        *claim = id;
    }
}

void gmain(unsigned long hartid, const void *fdt)
{
    int node = fdt_node_by_compatible(fdt, -1, "riscv,plic0");
    int un = fdt_node_by_compatible(fdt, -1, "ns16550a");
    uint64_t base, size;
    uint32_t v;

    if (node < 0 || un < 0 || fdt_node_reg(fdt, node, 0, &base, &size) ||
        fdt_getprop_u32(fdt, un, "interrupts", &v))
        panic("echo: needs a plic and an ns16550a with interrupts in the device tree");
    plic = (volatile uint32_t *)(uintptr_t)base;
    uart = (volatile uint8_t *)rt.uart_base;
    irq = v;
    ctx = (unsigned)hartid;             /* Tessera: context i = vCPU i */

    rt_set_trap_handler(trap);
    plic[irq] = 1;                                          /* priority */
    plic[(0x2000 + 0x80 * ctx) / 4 + irq / 32] = 1u << (irq % 32);
    plic[(0x200000 + 0x1000 * ctx) / 4] = 0;                /* threshold */
    uart[UART_IER] = 0x01;                                  /* RX interrupt */
    csr_set(sie, SIE_SEIE);
    irq_enable();
    printf("echo: ready (uart irq %u, plic context %u); type a line, 'quit' ends\n", irq, ctx);
    while (!quit)
        __asm__ volatile("wfi");
    irq_disable();
    printf("echo: %lu external interrupts; bye\n", irqs);
    rt_shutdown();
}
