/*
 * libFuzzer harness: devices/uart16550.c. The input is a sequence of
 * operations (read, write, receive a byte, reset) at any offset, size and
 * value. Invariants after every operation:
 *  - an access is accepted exactly when offset < 8 and size is 1, 2 or 4;
 *    a refused access changes nothing, not even *val;
 *  - the interrupt line only toggles (driven on change), and its level is
 *    the model's own IIR condition (gated by OUT2 when wired that way);
 *  - the receive FIFO never holds more than 16 bytes; LSR always shows
 *    THRE|TEMT and shows DR exactly while the FIFO holds data.
 */
#include "tests/fuzz/fuzz_common.h"
#include "devices/uart16550.h"

static int line_level = 0, line_calls;
static unsigned long tx_bytes;

static void irq_set(void *opaque, unsigned line, bool level)
{
	(void)opaque;
	CHECK(line == 10);
	CHECK((int)level != line_level);        /* driven only on change */
	line_level = level;
	line_calls++;
}

static void tx(void *opaque, uint8_t c)
{
	(void)opaque;
	(void)c;
	tx_bytes++;
}

/* The IIR rule of docs/devices.md, from the registers. */
static bool expected_level(const struct uart16550 *u)
{
	bool pend = ((u->ier & 0x04) && (u->lsr & 0x02)) ||
		    ((u->ier & 0x01) && u->rx_count > 0) ||
		    ((u->ier & 0x02) && u->thre_pending) ||
		    ((u->ier & 0x08) && (u->msr & 0x0f));

	if (u->out2_gates_irq && !(u->mcr & 0x08))
		return false;
	return pend;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct uart16550 u;
	struct irq_line irq = { irq_set, NULL, 10 };
	static const unsigned sizes[8] = { 1, 2, 4, 8, 1, 3, 0, 16 };

	line_level = 0;
	uart16550_init(&u, irq, tx, NULL, in_u8(&in) & 1);
	for (int ops = 0; in_left(&in) && ops < 4096; ops++) {
		uint8_t op = in_u8(&in);
		uint64_t off = op & 0x40 ? in_u64(&in) : (uint64_t)(in_u8(&in) & 0x0f);
		unsigned sz = sizes[(op >> 3) & 7];
		bool ok = off < 8 && (sz == 1 || sz == 2 || sz == 4);
		uint64_t v;
		int r;

		switch (op & 7) {
		case 0: case 1: case 2:
			v = 0xDEADBEEFCAFEF00DULL;
			r = uart16550_read(&u, off, sz, &v);
			CHECK(r == (ok ? 0 : -1));
			if (r)
				CHECK(v == 0xDEADBEEFCAFEF00DULL);
			else
				CHECK(v <= 0xff);
			if (!r && off == 5) {
				CHECK((v & 0x60) == 0x60);
				/* DR reflects the FIFO as it was when read */
			}
			break;
		case 3: case 4: case 5: {
			struct uart16550 before = u;

			v = in_u8(&in) | (op & 0x80 ? in_u64(&in) << 8 : 0);
			r = uart16550_write(&u, off, sz, v);
			CHECK(r == (ok ? 0 : -1));
			if (r)
				CHECK(memcmp(&before, &u, sizeof(u)) == 0);
			break;
		}
		case 6: {
			unsigned space = uart16550_rx_space(&u);

			r = uart16550_rx_push(&u, in_u8(&in));
			CHECK(r == (space ? 0 : -1));
			break;
		}
		default:
			if (op & 0x80) {
				uart16550_reset(&u);
			} else {
				/* missing device or result pointer: refused */
				CHECK(uart16550_read(NULL, 0, 1, &v) == -1);
				CHECK(uart16550_read(&u, 0, 1, NULL) == -1);
				CHECK(uart16550_write(NULL, 0, 1, 0) == -1);
			}
			break;
		}
		CHECK(u.rx_count <= UART16550_FIFO_SIZE && u.rx_head < UART16550_FIFO_SIZE);
		CHECK(uart16550_rx_space(&u) == UART16550_FIFO_SIZE - u.rx_count);
		CHECK(u.irq_level == line_level);
		CHECK(line_level == expected_level(&u));
		CHECK((u.ier & ~0x0f) == 0 && (u.mcr & ~0x1f) == 0);
	}
	return 0;
}
