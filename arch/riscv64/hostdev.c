/* The host's own devices: the console UART (a 16550) and the PLIC context
 * that delivers its receive interrupt to Tessera. */
#include "arch/riscv64/rv.h"

#define UART_RBR 0
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DR   0x01
#define LSR_THRE 0x20

static volatile uint8_t *uart;

static inline void mmio_w32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)addr = v;
}

static inline uint32_t mmio_r32(uint64_t addr)
{
	return *(volatile uint32_t *)(uintptr_t)addr;
}

void rv_uart_init(uint64_t base)
{
	uart = (volatile uint8_t *)(uintptr_t)base;
	uart[UART_LCR] = 0x03;          /* 8N1, keep the firmware's divisor */
	uart[UART_FCR] = 0x07;          /* FIFOs on and cleared */
	uart[UART_MCR] = 0x0B;          /* DTR, RTS, OUT2 */
	uart[UART_IER] = 0x01;          /* receive interrupt */
}

void rv_uart_putc(char c)
{
	if (!uart)
		return;
	while (!(uart[UART_LSR] & LSR_THRE))
		;
	uart[UART_THR] = (uint8_t)c;
}

int rv_uart_getc(void)
{
	if (!uart || !(uart[UART_LSR] & LSR_DR))
		return -1;
	return uart[UART_RBR];
}

void rv_plic_init(void)
{
	uint64_t p = rv_plat.plic_base;

	if (!p || !rv_plat.uart_irq)
		return;
	mmio_w32(p + 4 * rv_plat.uart_irq, 1);
	mmio_w32(p + 0x2000 + 0x80 * rv_plat.plic_ctx + 4 * (rv_plat.uart_irq / 32),
		 1U << (rv_plat.uart_irq % 32));
	mmio_w32(p + 0x200000 + 0x1000 * rv_plat.plic_ctx, 0);
}

/* A host external interrupt: take every claimed source; only the UART is
 * enabled, and its bytes go to the console multiplexer. */
void rv_host_irq(void)
{
	uint64_t claim = rv_plat.plic_base + 0x200004 + 0x1000 * rv_plat.plic_ctx;
	uint32_t id;

	if (!rv_plat.plic_base) {
		console_host_input();
		return;
	}
	while ((id = mmio_r32(claim)) != 0) {
		console_host_input();
		mmio_w32(claim, id);
	}
}

void arch_console_putc(char c)
{
	rv_uart_putc(c);
}

int arch_console_getc(void)
{
	return rv_uart_getc();
}
