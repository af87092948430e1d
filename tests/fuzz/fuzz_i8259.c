/*
 * libFuzzer harness: devices/i8259.c (the cascaded 8259A pair and the
 * ELCR). The input is a sequence of operations: port reads and writes of
 * any offset and size on the master, slave and ELCR ranges, input line
 * changes on any IRQ (0-17), INTA cycles and resets. After every operation:
 *  - an access is accepted exactly when the size is 1, 2 or 4 and it fits
 *    in the 2-port range; a refused access changes nothing, not even *val;
 *  - INT is driven only on change, and its level is what an independent
 *    priority scan of the registers says (IRR & ~IMR against ISR, rotation,
 *    special mask, special fully nested); the master's IR2 is exactly
 *    "the slave requests";
 *  - level-triggered inputs: IRR follows the line; ELCR only has the bits
 *    that exist; vector bases are multiples of 8;
 *  - a non-poll read returns IRR/ISR/IMR as the registers hold them; a poll
 *    read and an INTA return the IR the scan predicted (spurious IRQ 7 of
 *    the master, with nothing changed, when none), and set ISR unless AEOI.
 */
#include "tests/fuzz/fuzz_common.h"
#include "devices/i8259.h"

static int line_level, line_calls;

static void intr_set(void *opaque, unsigned line, bool level)
{
	(void)opaque;
	CHECK(line == 0);
	CHECK((int)level != line_level);        /* driven only on change */
	line_level = level;
	line_calls++;
}

/* The IR a chip asks for, by one scan from the highest priority level:
 * an in-service level at or above the best request blocks it. */
static int ref_chip_irq(const struct i8259_chip *c)
{
	for (unsigned p = 0; p < 8; p++) {
		unsigned ir = (p + c->prio_add) & 7;
		uint8_t bit = (uint8_t)(1u << ir);
		bool in_service = (c->isr & bit) &&
				  !(c->special_mask && (c->imr & bit)) &&
				  !(c->sfnm && c->master && ir == 2);

		if (in_service)
			return -1;
		if ((c->irr & bit) && !(c->imr & bit))
			return (int)ir;
	}
	return -1;
}

static uint8_t level_mask(const struct i8259_chip *c)
{
	uint8_t m = c->ltim ? 0xff : c->elcr;

	return c->master ? (uint8_t)(m & ~4u) : m;
}

static void check_state(const struct i8259 *pic)
{
	const struct i8259_chip *m = &pic->chip[0], *s = &pic->chip[1];

	CHECK(m->master && !s->master);
	CHECK((m->irr & 4) == (ref_chip_irq(s) >= 0 ? 4 : 0));
	CHECK(pic->intr_level == (ref_chip_irq(m) >= 0));
	CHECK(pic->intr_level == line_level);
	CHECK((m->pins & 4) == 0);
	for (int k = 0; k < 2; k++) {
		const struct i8259_chip *c = &pic->chip[k];
		uint8_t lvl = level_mask(c);

		CHECK((c->irr & lvl) == (c->pins & lvl));
		CHECK((c->elcr & ~c->elcr_mask) == 0);
		CHECK(c->elcr_mask == (k ? 0xde : 0xf8));
		CHECK((c->base & 7) == 0);
		CHECK(c->prio_add < 8 && c->init_state <= 3);
	}
}

typedef int (*rd_fn)(void *, uint64_t, unsigned, uint64_t *);
typedef int (*wr_fn)(void *, uint64_t, unsigned, uint64_t);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const rd_fn rd[3] = { i8259_master_read, i8259_slave_read, i8259_elcr_read };
	static const wr_fn wr[3] = { i8259_master_write, i8259_slave_write, i8259_elcr_write };
	static const unsigned sizes[8] = { 1, 1, 2, 4, 8, 3, 0, 1 };
	struct in in = { data, size };
	struct irq_line intr = { intr_set, NULL, 0 };
	struct i8259 pic;

	line_level = 0;
	i8259_init(&pic, intr);
	check_state(&pic);
	for (int ops = 0; in_left(&in) && ops < 4096; ops++) {
		uint8_t op = in_u8(&in), a = in_u8(&in);
		unsigned which = (a >> 6) % 3, sz = sizes[(a >> 3) & 7];
		uint64_t off = a & 0x04 ? in_u64(&in) : (uint64_t)(a & 3);
		bool ok = (sz == 1 || sz == 2 || sz == 4) && off < 2 && off + sz <= 2;
		struct i8259 before = pic;
		uint64_t v;
		int r;

		switch (op & 7) {
		case 0: case 1: {
			struct i8259_chip *c = which < 2 ? &pic.chip[which] : NULL;
			bool poll = c && c->poll;
			int want = c ? ref_chip_irq(c) : -1;
			uint8_t b0;

			v = 0x5A5A5A5A5A5A5A5AULL;
			r = rd[which](&pic, off, sz, &v);
			CHECK(r == (ok ? 0 : -1));
			if (r) {
				CHECK(v == 0x5A5A5A5A5A5A5A5AULL);
				CHECK(memcmp(&before, &pic, sizeof(pic)) == 0);
				break;
			}
			CHECK(sz == 8 || (v >> (8 * sz)) == 0);
			b0 = (uint8_t)v;
			if (which == 2) {
				for (unsigned i = 0; i < sz; i++)
					CHECK((uint8_t)(v >> (8 * i)) == pic.chip[off + i].elcr);
			} else if (poll) {
				CHECK(b0 == (want < 0 ? 0 : (0x80 | want)));
				CHECK(!c->poll);
				if (want >= 0 && !c->auto_eoi)
					CHECK(c->isr & (1u << want));
			} else if (off == 0) {
				CHECK(b0 == (before.chip[which].read_isr ?
					     before.chip[which].isr : before.chip[which].irr));
			} else {
				CHECK(b0 == before.chip[which].imr);
			}
			break;
		}
		case 2: case 3:
			v = in_u8(&in);
			if (op & 0x80)
				v |= in_u64(&in) << 8;
			r = wr[which](&pic, off, sz, v);
			CHECK(r == (ok ? 0 : -1));
			if (r)
				CHECK(memcmp(&before, &pic, sizeof(pic)) == 0);
			else if (which == 2)
				for (unsigned i = 0; i < sz; i++)
					CHECK(pic.chip[off + i].elcr ==
					      ((uint8_t)(v >> (8 * i)) & pic.chip[off + i].elcr_mask));
			break;
		case 4: case 5:
			i8259_set_irq(&pic, a % 18, op & 0x80);
			if (a % 18 == 2 || a % 18 >= 16)
				CHECK(memcmp(&before, &pic, sizeof(pic)) == 0);
			break;
		case 6: {
			int m_irq = ref_chip_irq(&pic.chip[0]);
			int s_irq = ref_chip_irq(&pic.chip[1]);
			uint8_t vec = i8259_ack(&pic);

			if (m_irq < 0) {
				CHECK(vec == (before.chip[0].base | 7));
				CHECK(pic.spurious == before.spurious + 1);
				pic.spurious--;
				CHECK(memcmp(&before, &pic, sizeof(pic)) == 0);
				pic.spurious++;
			} else if (m_irq == 2) {
				CHECK(s_irq >= 0);      /* level cascade: never spurious 15 */
				CHECK(vec == (before.chip[1].base | (unsigned)s_irq));
				if (!pic.chip[1].auto_eoi)
					CHECK(pic.chip[1].isr & (1u << s_irq));
			} else {
				CHECK(vec == (before.chip[0].base | (unsigned)m_irq));
			}
			if (m_irq >= 0 && !pic.chip[0].auto_eoi)
				CHECK(pic.chip[0].isr & (1u << m_irq));
			break;
		}
		default:
			if (op & 0x80) {
				i8259_reset(&pic);
				CHECK(pic.chip[0].imr == 0xff && pic.chip[1].imr == 0xff);
			} else {
				CHECK(i8259_master_read(NULL, 0, 1, &v) == -1);
				CHECK(i8259_slave_read(&pic, 0, 1, NULL) == -1);
				CHECK(i8259_elcr_write(NULL, 0, 1, 0) == -1);
				CHECK(i8259_ack(NULL) == 0xff);
				i8259_set_irq(NULL, 1, true);
			}
			break;
		}
		check_state(&pic);
		CHECK(i8259_intr(&pic) == (line_level != 0));
	}
	return 0;
}
