/*
 * 16550A UART model. See devices/uart16550.h for the interface and
 * docs/devices.md for what is and is not emulated.
 *
 * State kept in struct uart16550:
 *   lsr  holds the latched bits only: THRE|TEMT (always set) and OE;
 *        DR is computed from rx_count when LSR is read.
 *   msr  holds the modem status (bits 4-7) and the delta bits (0-3).
 *   fcr  holds the last FCR value with the self-clearing bits 1-2 removed;
 *        bit 0 says whether FIFOs are enabled (IIR bits 6-7 read 11).
 */
#include "devices/uart16550.h"

/* register offsets */
#define REG_RBR_THR_DLL 0
#define REG_IER_DLM     1
#define REG_IIR_FCR     2
#define REG_LCR         3
#define REG_MCR         4
#define REG_LSR         5
#define REG_MSR         6
#define REG_SCR         7

#define IER_RDA   0x01
#define IER_THRE  0x02
#define IER_RLS   0x04
#define IER_MSR   0x08
#define IER_MASK  0x0f

#define IIR_NONE  0x01
#define IIR_MSR   0x00
#define IIR_THRE  0x02
#define IIR_RDA   0x04
#define IIR_RLS   0x06
#define IIR_FIFO  0xc0

#define FCR_ENABLE   0x01
#define FCR_CLR_RX   0x02
#define FCR_CLR_TX   0x04
#define FCR_KEEP     0xf9  /* bits that are remembered (1,2 self-clear) */

#define LCR_DLAB  0x80

#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT1  0x04
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10
#define MCR_MASK  0x1f

#define LSR_DR    0x01
#define LSR_OE    0x02
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define LSR_RESET (LSR_THRE | LSR_TEMT)

#define MSR_DCTS  0x01
#define MSR_DDSR  0x02
#define MSR_TERI  0x04
#define MSR_DDCD  0x08
#define MSR_DELTA 0x0f
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80
#define MSR_IDLE  (MSR_CTS | MSR_DSR | MSR_DCD)  /* inputs outside loopback */

/* Highest-priority pending interrupt, as IIR bits 0-3 (IIR_NONE if none). */
static uint8_t uart_iir_id(const struct uart16550 *u)
{
	if ((u->ier & IER_RLS) && (u->lsr & LSR_OE))
		return IIR_RLS;
	if ((u->ier & IER_RDA) && u->rx_count > 0)
		return IIR_RDA;
	if ((u->ier & IER_THRE) && u->thre_pending)
		return IIR_THRE;
	if ((u->ier & IER_MSR) && (u->msr & MSR_DELTA))
		return IIR_MSR;
	return IIR_NONE;
}

/* Recompute the output level and drive the line only when it changes. */
static void uart_update_irq(struct uart16550 *u)
{
	bool level = uart_iir_id(u) != IIR_NONE;

	if (u->out2_gates_irq && !(u->mcr & MCR_OUT2))
		level = false;
	if (level != u->irq_level) {
		u->irq_level = level;
		irq_line_set(&u->irq, level);
	}
}

/* Modem status inputs (bits 4-7) implied by the current MCR. */
static uint8_t uart_msr_inputs(uint8_t mcr)
{
	uint8_t s = 0;

	if (!(mcr & MCR_LOOP))
		return MSR_IDLE;
	if (mcr & MCR_RTS)
		s |= MSR_CTS;
	if (mcr & MCR_DTR)
		s |= MSR_DSR;
	if (mcr & MCR_OUT1)
		s |= MSR_RI;
	if (mcr & MCR_OUT2)
		s |= MSR_DCD;
	return s;
}

static void uart_rx_clear(struct uart16550 *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* Append one byte; on a full FIFO set OE and drop the byte. */
static int uart_rx_enqueue(struct uart16550 *u, uint8_t c)
{
	unsigned tail;

	if (u->rx_count >= UART16550_FIFO_SIZE) {
		u->lsr |= LSR_OE;
		return -1;
	}
	tail = (u->rx_head + u->rx_count) % UART16550_FIFO_SIZE;
	u->rx[tail] = c;
	u->rx_count++;
	return 0;
}

static uint8_t uart_rx_dequeue(struct uart16550 *u)
{
	uint8_t c;

	if (u->rx_count == 0)
		return 0;
	c = u->rx[u->rx_head % UART16550_FIFO_SIZE];
	u->rx_head = (u->rx_head + 1) % UART16550_FIFO_SIZE;
	u->rx_count--;
	return c;
}

void uart16550_init(struct uart16550 *u, struct irq_line irq,
		    void (*tx)(void *opaque, uint8_t c), void *tx_opaque,
		    bool out2_gates_irq)
{
	unsigned i;

	u->irq = irq;
	u->tx = tx;
	u->tx_opaque = tx_opaque;
	u->out2_gates_irq = out2_gates_irq;
	for (i = 0; i < UART16550_FIFO_SIZE; i++)
		u->rx[i] = 0;
	u->irq_level = false;
	uart16550_reset(u);
}

void uart16550_reset(void *dev)
{
	struct uart16550 *u = dev;

	if (!u)
		return;
	u->ier = 0;
	u->lcr = 0;
	u->mcr = 0;
	u->lsr = LSR_RESET;
	u->msr = MSR_IDLE;
	u->scr = 0;
	u->fcr = 0;
	u->dll = 0;
	u->dlm = 0;
	u->thre_pending = false;
	uart_rx_clear(u);
	uart_update_irq(u);     /* lowers the line if it was high */
}

static bool uart_access_ok(uint64_t off, unsigned size)
{
	return off < UART16550_REG_SPAN && (size == 1 || size == 2 || size == 4);
}

int uart16550_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct uart16550 *u = dev;
	uint8_t v = 0, id;

	if (!u || !val || !uart_access_ok(off, size))
		return -1;

	switch (off) {
	case REG_RBR_THR_DLL:
		if (u->lcr & LCR_DLAB)
			v = u->dll;
		else
			v = uart_rx_dequeue(u);
		break;
	case REG_IER_DLM:
		v = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
		break;
	case REG_IIR_FCR:
		id = uart_iir_id(u);
		v = id;
		if (u->fcr & FCR_ENABLE)
			v |= IIR_FIFO;
		/* Reading IIR while it reports THRE acknowledges THRE. */
		if (id == IIR_THRE)
			u->thre_pending = false;
		break;
	case REG_LCR:
		v = u->lcr;
		break;
	case REG_MCR:
		v = u->mcr;
		break;
	case REG_LSR:
		v = u->lsr | LSR_THRE | LSR_TEMT;
		if (u->rx_count > 0)
			v |= LSR_DR;
		u->lsr &= (uint8_t)~LSR_OE;     /* error bits clear on read */
		break;
	case REG_MSR:
		v = u->msr;
		u->msr &= (uint8_t)~MSR_DELTA;  /* delta bits clear on read */
		break;
	case REG_SCR:
	default:
		*val = u->scr;
		return 0;       /* nothing an interrupt depends on changed */
	}
	*val = v;
	uart_update_irq(u);
	return 0;
}

static void uart_write_thr(struct uart16550 *u, uint8_t c)
{
	if (u->mcr & MCR_LOOP)
		(void)uart_rx_enqueue(u, c);
	else if (u->tx)
		u->tx(u->tx_opaque, c);
	/* Transmission is instant: THR is empty again right away. */
	u->thre_pending = true;
}

static void uart_write_ier(struct uart16550 *u, uint8_t v)
{
	uint8_t old = u->ier;

	u->ier = v & IER_MASK;
	/* Enabling THRE while THR is empty (always) raises THRE at once. */
	if (!(old & IER_THRE) && (u->ier & IER_THRE))
		u->thre_pending = true;
}

static void uart_write_fcr(struct uart16550 *u, uint8_t v)
{
	uint8_t old = u->fcr;

	if (!(v & FCR_ENABLE)) {
		/* FIFOs off: the other bits are not programmed. */
		u->fcr = 0;
		if (old & FCR_ENABLE)
			uart_rx_clear(u);
		return;
	}
	u->fcr = v & FCR_KEEP;
	/* Switching FIFO mode, or FCR bit 1, empties the receive FIFO. */
	if (!(old & FCR_ENABLE) || (v & FCR_CLR_RX))
		uart_rx_clear(u);
	/* FCR_CLR_TX: the transmitter is always empty; nothing to do. */
}

static void uart_write_mcr(struct uart16550 *u, uint8_t v)
{
	uint8_t old_in = u->msr & (uint8_t)~MSR_DELTA;
	bool was_loop = (u->mcr & MCR_LOOP) != 0;
	uint8_t new_in, chg;

	u->mcr = v & MCR_MASK;
	new_in = uart_msr_inputs(u->mcr);
	if (was_loop && (u->mcr & MCR_LOOP)) {
		/* Inputs wired to outputs: changes set the delta bits. */
		chg = old_in ^ new_in;
		if (chg & MSR_CTS)
			u->msr |= MSR_DCTS;
		if (chg & MSR_DSR)
			u->msr |= MSR_DDSR;
		if ((old_in & MSR_RI) && !(new_in & MSR_RI))
			u->msr |= MSR_TERI;
		if (chg & MSR_DCD)
			u->msr |= MSR_DDCD;
	} else if (was_loop && !(u->mcr & MCR_LOOP)) {
		/* Back to the (idle) outside world: no deltas there. */
		u->msr &= (uint8_t)~MSR_DELTA;
	}
	u->msr = (uint8_t)((u->msr & MSR_DELTA) | new_in);
}

int uart16550_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct uart16550 *u = dev;
	uint8_t v = (uint8_t)(val & 0xff);

	if (!u || !uart_access_ok(off, size))
		return -1;

	switch (off) {
	case REG_RBR_THR_DLL:
		if (u->lcr & LCR_DLAB)
			u->dll = v;
		else
			uart_write_thr(u, v);
		break;
	case REG_IER_DLM:
		if (u->lcr & LCR_DLAB)
			u->dlm = v;
		else
			uart_write_ier(u, v);
		break;
	case REG_IIR_FCR:
		uart_write_fcr(u, v);
		break;
	case REG_LCR:
		u->lcr = v;
		break;
	case REG_MCR:
		uart_write_mcr(u, v);
		break;
	case REG_LSR:
	case REG_MSR:
		/* status registers: writes ignored (factory test only) */
		break;
	case REG_SCR:
	default:
		u->scr = v;
		return 0;       /* nothing an interrupt depends on changed */
	}
	uart_update_irq(u);
	return 0;
}

unsigned uart16550_rx_space(const struct uart16550 *u)
{
	if (!u || u->rx_count >= UART16550_FIFO_SIZE)
		return 0;
	return UART16550_FIFO_SIZE - u->rx_count;
}

int uart16550_rx_push(struct uart16550 *u, uint8_t c)
{
	int r;

	if (!u)
		return -1;
	r = uart_rx_enqueue(u, c);
	uart_update_irq(u);
	return r;
}

const struct dev_ops uart16550_ops = {
	.name = "uart16550",
	.read = uart16550_read,
	.write = uart16550_write,
	.reset = uart16550_reset,
};
