/* Host unit tests for the 16550A UART model (devices/uart16550.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "devices/uart16550.h"

#define RBR 0
#define THR 0
#define DLL 0
#define IER 1
#define DLM 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

/* ------------------------------------------------------------ fixture */

struct fake {
	struct uart16550 u;
	unsigned irq_calls;     /* number of irq_line_set callbacks */
	unsigned irq_raises;
	bool irq_level;         /* level as seen by the "interrupt controller" */
	unsigned irq_line_seen;
	uint8_t tx[4096];
	unsigned ntx;
};

static void fake_irq(void *opaque, unsigned line, bool level)
{
	struct fake *f = opaque;

	/* the model must only drive the line on a change */
	assert_true(level != f->irq_level);
	f->irq_level = level;
	f->irq_calls++;
	if (level)
		f->irq_raises++;
	f->irq_line_seen = line;
}

static void fake_tx(void *opaque, uint8_t c)
{
	struct fake *f = opaque;

	if (f->ntx < sizeof(f->tx))
		f->tx[f->ntx] = c;
	f->ntx++;
}

static void fake_init(struct fake *f, bool out2_gates)
{
	struct irq_line l = { .set = fake_irq, .opaque = f, .line = 4 };

	memset(f, 0, sizeof(*f));
	uart16550_init(&f->u, l, fake_tx, f, out2_gates);
}

static uint8_t rd(struct fake *f, unsigned off)
{
	uint64_t v = 0xdeadbeefcafef00dULL;

	assert_int_equal(uart16550_read(&f->u, off, 1, &v), 0);
	assert_true(v <= 0xff);
	return (uint8_t)v;
}

static void wr(struct fake *f, unsigned off, uint8_t v)
{
	assert_int_equal(uart16550_write(&f->u, off, 1, v), 0);
}

/* ------------------------------------------------------------ tests */

static void test_ops_and_reset_values(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, false);
	assert_string_equal(uart16550_ops.name, "uart16550");
	assert_ptr_equal(uart16550_ops.read, uart16550_read);
	assert_ptr_equal(uart16550_ops.write, uart16550_write);
	assert_ptr_equal(uart16550_ops.reset, uart16550_reset);

	assert_int_equal(rd(&f, IER), 0);
	assert_int_equal(rd(&f, IIR), 0x01);
	assert_int_equal(rd(&f, LCR), 0);
	assert_int_equal(rd(&f, MCR), 0);
	assert_int_equal(rd(&f, LSR), 0x60);
	assert_int_equal(rd(&f, MSR), 0xb0);
	assert_int_equal(rd(&f, SCR), 0);
	assert_int_equal(uart16550_rx_space(&f.u), UART16550_FIFO_SIZE);
	assert_int_equal(f.irq_calls, 0);
	assert_false(f.irq_level);
}

static void test_dlab(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, false);
	wr(&f, IER, 0x05);
	wr(&f, LCR, 0x83);
	assert_int_equal(rd(&f, LCR), 0x83);
	wr(&f, DLL, 0x0c);
	wr(&f, DLM, 0x34);
	assert_int_equal(rd(&f, DLL), 0x0c);
	assert_int_equal(rd(&f, DLM), 0x34);
	assert_int_equal(f.ntx, 0);             /* DLL write is not a THR write */
	wr(&f, LCR, 0x03);
	assert_int_equal(rd(&f, IER), 0x05);    /* IER untouched by DLM write */
	wr(&f, THR, 'A');
	assert_int_equal(f.ntx, 1);
	assert_int_equal(f.tx[0], 'A');
	wr(&f, LCR, 0x83);
	assert_int_equal(rd(&f, DLL), 0x0c);    /* DLL untouched by THR write */
	assert_int_equal(rd(&f, DLM), 0x34);

	/* RBR is not read while DLAB=1 */
	assert_int_equal(uart16550_rx_push(&f.u, 'x'), 0);
	assert_int_equal(rd(&f, RBR), 0x0c);
	assert_int_equal(uart16550_rx_space(&f.u), UART16550_FIFO_SIZE - 1);
	wr(&f, LCR, 0x03);
	assert_int_equal(rd(&f, RBR), 'x');
}

static void test_ier_mask(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, false);
	wr(&f, IER, 0xff);
	assert_int_equal(rd(&f, IER), 0x0f);
	wr(&f, IER, 0x40);
	assert_int_equal(rd(&f, IER), 0x00);
	wr(&f, MCR, 0xff);
	assert_int_equal(rd(&f, MCR), 0x1f);
	wr(&f, MCR, 0);
	wr(&f, SCR, 0xa5);
	assert_int_equal(rd(&f, SCR), 0xa5);
	wr(&f, SCR, 0x5a);
	assert_int_equal(rd(&f, SCR), 0x5a);
}

static void test_iir_fifo_identification(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, false);
	assert_int_equal(rd(&f, IIR), 0x01);
	wr(&f, FCR, 0x01);
	assert_int_equal(rd(&f, IIR), 0xc1);
	/* Linux: 16750 probe sets FCR bit 5; IIR bit 5 must stay 0 */
	wr(&f, FCR, 0x21);
	assert_int_equal(rd(&f, IIR), 0xc1);
	wr(&f, LCR, 0x80);                      /* DLAB does not affect IIR */
	assert_int_equal(rd(&f, IIR), 0xc1);
	wr(&f, LCR, 0xbf);
	assert_int_equal(rd(&f, IIR), 0xc1);    /* no EFR: not a 16650 */
	wr(&f, LCR, 0x00);
	/* IIR bit 4 stays 0 whatever MCR.LOOP says (NS SuperIO probe) */
	wr(&f, MCR, 0x10);
	assert_int_equal(rd(&f, IIR) & 0x30, 0);
	wr(&f, MCR, 0x00);
	wr(&f, FCR, 0x00);
	assert_int_equal(rd(&f, IIR), 0x01);
	wr(&f, FCR, 0xc7);                      /* trigger 14, clear FIFOs */
	assert_int_equal(rd(&f, IIR), 0xc1);
	assert_int_equal(f.u.fcr & 0xc0, 0xc0); /* trigger level stored */
	assert_int_equal(f.u.fcr & 0x06, 0);    /* self-clearing bits */
}

/* Linux 8250 autoconfig sequences for IER and loopback. */
static void test_linux_probe_sequence(void **state)
{
	struct fake f;
	uint8_t save;

	(void)state;
	fake_init(&f, false);
	save = rd(&f, IER);
	wr(&f, IER, 0);
	assert_int_equal(rd(&f, IER) & 0x0f, 0);
	wr(&f, IER, 0x0f);
	assert_int_equal(rd(&f, IER) & 0x0f, 0x0f);
	wr(&f, IER, save);
	wr(&f, MCR, 0x10 | 0x0a);
	assert_int_equal(rd(&f, MSR) & 0xf0, 0x90);
	wr(&f, MCR, 0);
	wr(&f, LCR, 0xbf);
	wr(&f, 2, 0);           /* EFR write = FCR 0 on a 16550A */
	wr(&f, LCR, 0);
	wr(&f, FCR, 0x01);
	assert_int_equal(rd(&f, IIR) >> 6, 3);  /* "16550A" */
}

static void test_thre_interrupt(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, false);
	/* Enabling THRE with an empty THR raises it at once. */
	wr(&f, IER, 0x02);
	assert_true(f.irq_level);
	assert_int_equal(f.irq_calls, 1);
	assert_int_equal(f.irq_line_seen, 4);
	/* Reading IIR that shows THRE acknowledges it. */
	assert_int_equal(rd(&f, IIR), 0x02);
	assert_false(f.irq_level);
	assert_int_equal(rd(&f, IIR), 0x01);
	/* Writing THR re-arms (transmission is instant). */
	wr(&f, THR, 'h');
	assert_true(f.irq_level);
	assert_int_equal(rd(&f, IIR), 0x02);
	assert_false(f.irq_level);
	/* Re-writing IER with THRE still set does not re-arm... */
	wr(&f, IER, 0x02);
	assert_false(f.irq_level);
	assert_int_equal(rd(&f, IIR), 0x01);
	/* ...but a 0 -> 1 transition does (Linux's THRE test). */
	wr(&f, IER, 0x00);
	wr(&f, IER, 0x02);
	assert_true(f.irq_level);
	assert_int_equal(rd(&f, IIR), 0x02);
	assert_int_equal(rd(&f, IIR), 0x01);
	/* THR write while THRE disabled: no interrupt */
	wr(&f, IER, 0x00);
	wr(&f, THR, 'i');
	assert_false(f.irq_level);
	assert_int_equal(rd(&f, IIR), 0x01);
	/* With FIFOs on the id byte carries 0xc0 */
	wr(&f, FCR, 0x07);
	wr(&f, IER, 0x02);
	assert_int_equal(rd(&f, IIR), 0xc2);
	assert_int_equal(rd(&f, IIR), 0xc1);
	assert_int_equal(f.ntx, 2);
	assert_memory_equal(f.tx, "hi", 2);
	/* raises counted: enable, thr write, 0->1, fifo enable */
	assert_int_equal(f.irq_raises, 4);
	assert_int_equal(f.irq_calls, 8);
}

static void test_rx_fifo_order_and_rda(void **state)
{
	struct fake f;
	unsigned i;

	(void)state;
	fake_init(&f, false);
	wr(&f, FCR, 0x01);
	wr(&f, IER, 0x01);
	assert_false(f.irq_level);
	assert_int_equal(rd(&f, LSR) & 0x01, 0);
	for (i = 0; i < UART16550_FIFO_SIZE; i++) {
		assert_int_equal(uart16550_rx_space(&f.u), UART16550_FIFO_SIZE - i);
		assert_int_equal(uart16550_rx_push(&f.u, (uint8_t)('a' + i)), 0);
		assert_true(f.irq_level);
	}
	assert_int_equal(uart16550_rx_space(&f.u), 0);
	assert_int_equal(f.irq_calls, 1);
	assert_int_equal(rd(&f, IIR), 0xc4);
	for (i = 0; i < UART16550_FIFO_SIZE; i++) {
		assert_int_equal(rd(&f, LSR) & 0x01, 0x01);
		assert_true(f.irq_level);
		assert_int_equal(rd(&f, RBR), 'a' + i);
	}
	assert_int_equal(rd(&f, LSR), 0x60);
	assert_false(f.irq_level);
	assert_int_equal(rd(&f, IIR), 0xc1);
	/* wrap-around of the ring keeps order */
	assert_int_equal(uart16550_rx_push(&f.u, 0xaa), 0);
	for (i = 0; i < 40; i++) {
		assert_int_equal(uart16550_rx_push(&f.u, (uint8_t)i), 0);
		assert_int_equal(uart16550_rx_push(&f.u, (uint8_t)(i + 100)), 0);
		assert_int_equal(rd(&f, RBR), i == 0 ? 0xaa : 100 + i - 1);
		assert_int_equal(rd(&f, RBR), i);
	}
	/* empty read returns 0, no crash */
	while (rd(&f, LSR) & 1)
		(void)rd(&f, RBR);
	assert_int_equal(rd(&f, RBR), 0);
	/* FCR bit 1 flushes RX */
	assert_int_equal(uart16550_rx_push(&f.u, 'z'), 0);
	assert_true(f.irq_level);
	wr(&f, FCR, 0x03);
	assert_false(f.irq_level);
	assert_int_equal(rd(&f, LSR) & 1, 0);
	/* FCR bit 1 is ignored while bit 0 is 0 ... */
	wr(&f, FCR, 0x00);                      /* leaving FIFO mode clears */
	assert_int_equal(uart16550_rx_push(&f.u, 'y'), 0);
	wr(&f, FCR, 0x02);
	assert_int_equal(rd(&f, LSR) & 1, 1);
	/* ... switching FIFO mode on or off empties the receive FIFO */
	wr(&f, FCR, 0x01);
	assert_int_equal(rd(&f, LSR) & 1, 0);
	assert_int_equal(uart16550_rx_push(&f.u, 'w'), 0);
	wr(&f, FCR, 0x41);                      /* same mode: kept */
	assert_int_equal(rd(&f, LSR) & 1, 1);
	wr(&f, FCR, 0x00);
	assert_int_equal(rd(&f, LSR) & 1, 0);
	assert_int_equal(uart16550_rx_space(&f.u), UART16550_FIFO_SIZE);
}

static void test_overrun(void **state)
{
	struct fake f;
	unsigned i;

	(void)state;
	fake_init(&f, false);
	for (i = 0; i < UART16550_FIFO_SIZE; i++)
		assert_int_equal(uart16550_rx_push(&f.u, (uint8_t)i), 0);
	assert_false(f.irq_level);              /* IER = 0 */
	wr(&f, IER, 0x04);                      /* RLS only */
	assert_false(f.irq_level);
	assert_int_equal(uart16550_rx_push(&f.u, 0xee), -1);
	assert_true(f.irq_level);
	assert_int_equal(rd(&f, IIR), 0x06);
	wr(&f, IER, 0x07);
	assert_int_equal(rd(&f, IIR), 0x06);    /* RLS beats RDA and THRE */
	assert_int_equal(rd(&f, LSR), 0x63);    /* OE|DR|THRE|TEMT */
	assert_int_equal(rd(&f, LSR), 0x61);    /* OE cleared by the read */
	assert_int_equal(rd(&f, IIR), 0x04);    /* then RDA */
	for (i = 0; i < UART16550_FIFO_SIZE; i++)
		assert_int_equal(rd(&f, RBR), i);  /* dropped byte not stored */
	assert_int_equal(rd(&f, IIR), 0x02);    /* then THRE */
	assert_int_equal(rd(&f, IIR), 0x01);
	assert_false(f.irq_level);
}

static void test_loopback(void **state)
{
	struct fake f;
	unsigned i;

	(void)state;
	fake_init(&f, false);
	wr(&f, FCR, 0x01);
	wr(&f, MCR, 0x10);
	assert_int_equal(rd(&f, MSR), 0x00);    /* all outputs low */
	for (i = 0; i < 5; i++)
		wr(&f, THR, (uint8_t)(0x30 + i));
	assert_int_equal(f.ntx, 0);             /* nothing to the host */
	assert_int_equal(uart16550_rx_space(&f.u), UART16550_FIFO_SIZE - 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(rd(&f, RBR), 0x30 + i);
	/* overrun through loopback */
	for (i = 0; i < UART16550_FIFO_SIZE + 1; i++)
		wr(&f, THR, (uint8_t)i);
	assert_int_equal(rd(&f, LSR), 0x63);
	wr(&f, MCR, 0x00);
	wr(&f, THR, 'q');
	assert_int_equal(f.ntx, 1);
	assert_int_equal(f.tx[0], 'q');
	assert_int_equal(uart16550_rx_space(&f.u), 0);
}

static void test_msr_loopback(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, false);
	assert_int_equal(rd(&f, MSR), 0xb0);
	wr(&f, MCR, 0x03);                      /* DTR|RTS, no loop */
	assert_int_equal(rd(&f, MSR), 0xb0);
	wr(&f, MCR, 0x10);
	assert_int_equal(rd(&f, MSR), 0x00);
	wr(&f, MCR, 0x11);                      /* DTR -> DSR */
	assert_int_equal(rd(&f, MSR), 0x22);    /* DSR + DDSR */
	assert_int_equal(rd(&f, MSR), 0x20);    /* delta cleared by read */
	wr(&f, MCR, 0x12);                      /* RTS -> CTS, DTR off */
	assert_int_equal(rd(&f, MSR), 0x13);
	wr(&f, MCR, 0x14);                      /* OUT1 -> RI */
	assert_int_equal(rd(&f, MSR), 0x41);    /* RI rising: no TERI */
	wr(&f, MCR, 0x18);                      /* OUT2 -> DCD, RI falls */
	assert_int_equal(rd(&f, MSR), 0x8c);    /* DCD + DDCD + TERI */
	wr(&f, MCR, 0x1f);
	assert_int_equal(rd(&f, MSR), 0xf3);
	/* MSR interrupt */
	wr(&f, IER, 0x08);
	assert_false(f.irq_level);
	wr(&f, MCR, 0x1e);
	assert_true(f.irq_level);
	assert_int_equal(rd(&f, IIR), 0x00);
	assert_int_equal(rd(&f, MSR), 0xd2);
	assert_false(f.irq_level);
	assert_int_equal(rd(&f, IIR), 0x01);
	/* Leaving loopback: idle inputs, no deltas */
	wr(&f, MCR, 0x1f);
	wr(&f, MCR, 0x00);
	assert_false(f.irq_level);
	assert_int_equal(rd(&f, MSR), 0xb0);
	/* writes to LSR/MSR are ignored */
	wr(&f, MSR, 0x0f);
	wr(&f, LSR, 0xff);
	assert_int_equal(rd(&f, MSR), 0xb0);
	assert_int_equal(rd(&f, LSR), 0x60);
}

static void test_out2_gating(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, true);
	wr(&f, IER, 0x02);
	assert_false(f.irq_level);              /* pending but gated */
	assert_int_equal(f.irq_calls, 0);
	wr(&f, MCR, 0x08);                      /* OUT2 */
	assert_true(f.irq_level);
	wr(&f, MCR, 0x00);
	assert_false(f.irq_level);
	wr(&f, MCR, 0x0b);
	assert_true(f.irq_level);
	assert_int_equal(rd(&f, IIR), 0x02);
	assert_false(f.irq_level);
	assert_int_equal(uart16550_rx_push(&f.u, 1), 0);
	wr(&f, IER, 0x01);
	assert_true(f.irq_level);
	assert_int_equal(f.irq_calls, 5);

	/* without gating OUT2 does not matter */
	fake_init(&f, false);
	wr(&f, IER, 0x02);
	assert_true(f.irq_level);
	wr(&f, MCR, 0x08);
	wr(&f, MCR, 0x00);
	assert_true(f.irq_level);
	assert_int_equal(f.irq_calls, 1);
}

static void test_reset(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, false);
	wr(&f, LCR, 0x80);
	wr(&f, DLL, 1);
	wr(&f, DLM, 2);
	wr(&f, LCR, 0x1b);
	wr(&f, IER, 0x0f);
	wr(&f, FCR, 0xc1);
	wr(&f, MCR, 0x1f);
	wr(&f, SCR, 0x77);
	for (int i = 0; i < 20; i++)
		(void)uart16550_rx_push(&f.u, 'r');
	assert_true(f.irq_level);
	uart16550_ops.reset(&f.u);
	assert_false(f.irq_level);
	assert_int_equal(f.irq_calls, 2);
	assert_int_equal(rd(&f, IER), 0);
	assert_int_equal(rd(&f, IIR), 0x01);
	assert_int_equal(rd(&f, LCR), 0);
	assert_int_equal(rd(&f, MCR), 0);
	assert_int_equal(rd(&f, LSR), 0x60);
	assert_int_equal(rd(&f, MSR), 0xb0);
	assert_int_equal(rd(&f, SCR), 0);
	assert_int_equal(uart16550_rx_space(&f.u), UART16550_FIFO_SIZE);
	wr(&f, LCR, 0x80);
	assert_int_equal(rd(&f, DLL), 0);
	assert_int_equal(rd(&f, DLM), 0);
	/* wiring survives reset */
	wr(&f, LCR, 0);
	wr(&f, THR, 'k');
	assert_int_equal(f.ntx, 1);
	wr(&f, IER, 2);
	assert_true(f.irq_level);
	/* reset with the line low does not drive it */
	fake_init(&f, false);
	uart16550_reset(&f.u);
	assert_int_equal(f.irq_calls, 0);
}

static void test_sizes_and_bad_accesses(void **state)
{
	struct fake f;
	struct uart16550 snap;
	uint64_t v;
	static const unsigned bad_sizes[] = { 0, 3, 5, 6, 7, 8, 16, 0xffffffffu };
	static const uint64_t bad_offs[] = { 8, 9, 15, 16, 0x100, 0x7fffffffULL,
					     0xffffffffffffffffULL, 1ULL << 63 };

	(void)state;
	fake_init(&f, false);
	/* 2- and 4-byte accesses act on the low byte */
	assert_int_equal(uart16550_write(&f.u, SCR, 4, 0x12345678), 0);
	v = ~0ULL;
	assert_int_equal(uart16550_read(&f.u, SCR, 4, &v), 0);
	assert_int_equal(v, 0x78);
	assert_int_equal(uart16550_write(&f.u, SCR, 2, 0xabcd), 0);
	assert_int_equal(uart16550_read(&f.u, SCR, 2, &v), 0);
	assert_int_equal(v, 0xcd);
	assert_int_equal(uart16550_write(&f.u, IER, 4, 0xffffff02), 0);
	assert_int_equal(uart16550_read(&f.u, IER, 4, &v), 0);
	assert_int_equal(v, 0x02);
	assert_int_equal(uart16550_write(&f.u, THR, 4, 0x4142), 0);
	assert_int_equal(f.ntx, 1);
	assert_int_equal(f.tx[0], 0x42);

	/* bad sizes at every good offset, good sizes at bad offsets */
	memcpy(&snap, &f.u, sizeof(snap));
	for (unsigned off = 0; off < 8; off++) {
		for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
			v = 0x1111;
			assert_int_equal(uart16550_read(&f.u, off, bad_sizes[i], &v), -1);
			assert_int_equal(v, 0x1111);
			assert_int_equal(uart16550_write(&f.u, off, bad_sizes[i], 0xff), -1);
		}
	}
	for (size_t i = 0; i < sizeof(bad_offs) / sizeof(bad_offs[0]); i++) {
		for (unsigned sz = 0; sz <= 8; sz++) {
			v = 0x2222;
			assert_int_equal(uart16550_read(&f.u, bad_offs[i], sz, &v), -1);
			assert_int_equal(v, 0x2222);
			assert_int_equal(uart16550_write(&f.u, bad_offs[i], sz, 0xff), -1);
		}
	}
	assert_memory_equal(&snap, &f.u, sizeof(snap));
	assert_int_equal(f.ntx, 1);
	assert_int_equal(uart16550_read(&f.u, 0, 1, NULL), -1);
	assert_int_equal(uart16550_read(NULL, 0, 1, &v), -1);
	assert_int_equal(uart16550_write(NULL, 0, 1, 0), -1);
	assert_int_equal(uart16550_rx_push(NULL, 0), -1);
	assert_int_equal(uart16550_rx_space(NULL), 0);
	uart16550_reset(NULL);
}

static void test_null_callbacks(void **state)
{
	struct uart16550 u;
	struct irq_line none = { 0 };
	uint64_t v;

	(void)state;
	uart16550_init(&u, none, NULL, NULL, false);
	assert_int_equal(uart16550_write(&u, IER, 1, 0x0f), 0);
	assert_int_equal(uart16550_write(&u, THR, 1, 'x'), 0);
	assert_true(u.irq_level);
	assert_int_equal(uart16550_read(&u, IIR, 1, &v), 0);
	assert_int_equal(v, 0x02);
}

/* ------------------------------------------------------------ random */

static uint64_t xs_state;

static uint64_t xorshift(void)
{
	uint64_t x = xs_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	xs_state = x;
	return x;
}

/* What the IIR id should be, from the documented semantics. */
static bool expected_pending(const struct uart16550 *u)
{
	return ((u->ier & 0x04) && (u->lsr & 0x02)) ||
	       ((u->ier & 0x01) && u->rx_count > 0) ||
	       ((u->ier & 0x02) && u->thre_pending) ||
	       ((u->ier & 0x08) && (u->msr & 0x0f));
}

static void check_invariants(struct fake *f)
{
	bool exp = expected_pending(&f->u);

	if (f->u.out2_gates_irq && !(f->u.mcr & 0x08))
		exp = false;
	assert_true(f->irq_level == exp);
	assert_true(f->u.irq_level == exp);
	assert_true(f->u.rx_count <= UART16550_FIFO_SIZE);
	assert_true(f->u.rx_head < UART16550_FIFO_SIZE);
	assert_int_equal(uart16550_rx_space(&f->u),
			 UART16550_FIFO_SIZE - f->u.rx_count);
	assert_int_equal(f->u.ier & 0xf0, 0);
	assert_int_equal(f->u.mcr & 0xe0, 0);
	assert_int_equal(f->u.lsr & 0x60, 0x60);
	if (!(f->u.mcr & 0x10))
		assert_int_equal(f->u.msr, 0xb0);
}

static void random_run(bool gates, uint64_t seed)
{
	static const unsigned sizes[] = { 1, 2, 4, 1, 1, 8, 0, 3 };
	struct fake f;
	unsigned i;

	fake_init(&f, gates);
	xs_state = seed;
	for (i = 0; i < 100000; i++) {
		uint64_t r = xorshift();
		unsigned kind = r & 7;
		uint64_t off = (r >> 8) & 0x7;
		unsigned size = sizes[(r >> 12) & 7];
		uint64_t val = xorshift();
		uint64_t v = 0;
		bool was_pending = expected_pending(&f.u);
		int ret;

		if ((r >> 16) % 64 == 0)
			off = (r >> 20);        /* occasionally far out */
		switch (kind) {
		case 0: case 1: case 2:
			ret = uart16550_read(&f.u, off, size, &v);
			if (ret == 0) {
				assert_true(v <= 0xff);
				if (off == 2) {
					assert_int_equal(!(v & 1), was_pending);
					assert_int_equal(v & 0x30, 0);
				}
			}
			break;
		case 3: case 4: case 5:
			/* keep DLAB / loopback from dominating */
			if (off == 3 && (val & 0x80) && (r & 0x100000))
				val &= 0x7f;
			ret = uart16550_write(&f.u, off, size, val);
			break;
		case 6:
			ret = uart16550_rx_push(&f.u, (uint8_t)val);
			break;
		default:
			if ((r >> 24) % 512 == 0)
				uart16550_reset(&f.u);
			ret = 0;
			break;
		}
		if (kind <= 5) {
			bool ok = off < 8 && (size == 1 || size == 2 || size == 4);

			assert_int_equal(ret, ok ? 0 : -1);
		}
		check_invariants(&f);
	}
	assert_true(f.irq_calls > 0);
}

static void test_random_sequences(void **state)
{
	(void)state;
	random_run(false, 0x9e3779b97f4a7c15ULL);
	random_run(true, 0x0123456789abcdefULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops_and_reset_values),
		cmocka_unit_test(test_dlab),
		cmocka_unit_test(test_ier_mask),
		cmocka_unit_test(test_iir_fifo_identification),
		cmocka_unit_test(test_linux_probe_sequence),
		cmocka_unit_test(test_thre_interrupt),
		cmocka_unit_test(test_rx_fifo_order_and_rda),
		cmocka_unit_test(test_overrun),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_msr_loopback),
		cmocka_unit_test(test_out2_gating),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_sizes_and_bad_accesses),
		cmocka_unit_test(test_null_callbacks),
		cmocka_unit_test(test_random_sequences),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
