/*
 * 16550A UART model (one instance per VM).
 *
 * Registers at byte offsets 0..7 (reg-shift 0): RBR/THR/DLL, IER/DLM,
 * IIR/FCR, LCR, MCR, LSR, MSR, SCR. Accesses of 1, 2 or 4 bytes at
 * offsets 0..7 use the low byte; anything else returns -1.
 * Transmit never blocks: each byte written to THR (outside loopback mode)
 * goes straight to the tx callback, so LSR always shows THRE|TEMT.
 * Received bytes come from uart16550_rx_push() into a 16-byte FIFO.
 * The interrupt output is level: high while IIR shows a pending interrupt
 * (and MCR.OUT2 is set, as on a PC; see uart16550_init's out2_gates_irq).
 */
#ifndef TESSERA_DEVICES_UART16550_H
#define TESSERA_DEVICES_UART16550_H

#include "devices/device.h"

#define UART16550_FIFO_SIZE 16
#define UART16550_REG_SPAN 8

struct uart16550 {
	/* wiring */
	struct irq_line irq;
	void (*tx)(void *opaque, uint8_t c);
	void *tx_opaque;
	bool out2_gates_irq;    /* PC wiring: IRQ reaches the PIC only with MCR.OUT2 */
	/* registers */
	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr, dll, dlm;
	bool thre_pending;      /* THR-empty interrupt condition (cleared by IIR read / THR write) */
	/* receive FIFO */
	uint8_t rx[UART16550_FIFO_SIZE];
	unsigned rx_head, rx_count;
	bool irq_level;         /* last level driven on irq */
};

extern const struct dev_ops uart16550_ops;

void uart16550_init(struct uart16550 *u, struct irq_line irq,
		    void (*tx)(void *opaque, uint8_t c), void *tx_opaque,
		    bool out2_gates_irq);
void uart16550_reset(void *dev);
int uart16550_read(void *dev, uint64_t off, unsigned size, uint64_t *val);
int uart16550_write(void *dev, uint64_t off, unsigned size, uint64_t val);
/* Free space in the receive FIFO (0 when the guest has not read it yet). */
unsigned uart16550_rx_space(const struct uart16550 *u);
/* Queue one received byte; returns 0, or -1 when the FIFO is full. */
int uart16550_rx_push(struct uart16550 *u, uint8_t c);

#endif
