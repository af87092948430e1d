/* Host unit tests for the I/O APIC model (devices/ioapic.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "devices/ioapic.h"

/* ------------------------------------------------------------ fixture */

struct msg {
	uint32_t dest;
	bool logical;
	uint8_t dm, vector;
	bool level;
};

#define MAX_MSGS 64

struct fake {
	struct ioapic io;
	struct msg m[MAX_MSGS];
	unsigned n;
};

static void fake_deliver(void *opaque, uint32_t dest, bool dest_logical,
			 uint8_t delivery_mode, uint8_t vector, bool level_triggered)
{
	struct fake *f = opaque;

	if (f->n < MAX_MSGS)
		f->m[f->n] = (struct msg){ dest, dest_logical, delivery_mode,
					   vector, level_triggered };
	f->n++;
}

static void fake_init(struct fake *f, uint8_t id)
{
	memset(f, 0, sizeof(*f));
	ioapic_init(&f->io, id, fake_deliver, f);
}

/* Linux io_apic_read()/io_apic_write(): IOREGSEL at 0, IOWIN at 0x10. */
static uint32_t io_read(struct fake *f, uint8_t reg)
{
	uint64_t v = 0x1234567890ULL;

	assert_int_equal(ioapic_ops.write(&f->io, 0x00, 4, reg), 0);
	assert_int_equal(ioapic_ops.read(&f->io, 0x10, 4, &v), 0);
	assert_true(v <= 0xffffffffULL);
	return (uint32_t)v;
}

static void io_write(struct fake *f, uint8_t reg, uint32_t v)
{
	assert_int_equal(ioapic_ops.write(&f->io, 0x00, 4, reg), 0);
	assert_int_equal(ioapic_ops.write(&f->io, 0x10, 4, v), 0);
}

/* Linux ioapic_write_entry(): high half first, then low. */
static void set_rte(struct fake *f, unsigned pin, uint32_t lo, uint8_t dest)
{
	io_write(f, (uint8_t)(0x11 + 2 * pin), (uint32_t)dest << 24);
	io_write(f, (uint8_t)(0x10 + 2 * pin), lo);
}

static uint32_t rte_lo(struct fake *f, unsigned pin)
{
	return io_read(f, (uint8_t)(0x10 + 2 * pin));
}

#define EDGE      0x00000
#define LEVEL     0x08000
#define LOWPOL    0x02000
#define MASKED    0x10000
#define LOGICAL   0x00800
#define REMOTE    0x04000

/* ------------------------------------------------------------ tests */

static void test_ops_and_reset(void **state)
{
	struct fake f;
	unsigned pin;

	(void)state;
	fake_init(&f, 2);
	assert_string_equal(ioapic_ops.name, "ioapic");
	assert_ptr_equal(ioapic_ops.read, ioapic_read);
	assert_ptr_equal(ioapic_ops.write, ioapic_write);
	assert_ptr_equal(ioapic_ops.reset, ioapic_reset);
	assert_int_equal(io_read(&f, 0x00), 0x02000000);
	assert_int_equal(io_read(&f, 0x01), 0x00170011);
	assert_int_equal(io_read(&f, 0x02), 0x02000000);
	for (pin = 0; pin < 24; pin++) {
		assert_int_equal(rte_lo(&f, pin), 0x00010000);
		assert_int_equal(io_read(&f, (uint8_t)(0x11 + 2 * pin)), 0);
	}
	/* beyond the table and unknown registers read 0 */
	assert_int_equal(io_read(&f, 0x40), 0);
	assert_int_equal(io_read(&f, 0x03), 0);
	assert_int_equal(io_read(&f, 0xff), 0);
	/* IOREGSEL reads back */
	assert_int_equal(ioapic_ops.write(&f.io, 0, 4, 0x1ff), 0);
	{
		uint64_t v;

		assert_int_equal(ioapic_ops.read(&f.io, 0, 4, &v), 0);
		assert_int_equal(v, 0xff);
		assert_int_equal(ioapic_ops.read(&f.io, 0x20, 4, &v), 0);
		assert_int_equal(v, 0);
		assert_int_equal(ioapic_ops.read(&f.io, 0x40, 4, &v), 0);
		assert_int_equal(v, 0);         /* no EOI register in version 0x11 */
	}
	/* masked at reset: nothing is delivered */
	ioapic_set_irq(&f.io, 4, true);
	assert_int_equal(f.n, 0);
}

static void test_id_version_arbitration(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 0);
	io_write(&f, 0x00, 0xffffffff);
	assert_int_equal(io_read(&f, 0x00), 0x0f000000);
	assert_int_equal(io_read(&f, 0x02), 0x0f000000);
	io_write(&f, 0x01, 0);
	io_write(&f, 0x02, 0);
	assert_int_equal(io_read(&f, 0x01), 0x00170011);
	assert_int_equal(io_read(&f, 0x02), 0x0f000000);
	ioapic_reset(&f.io);
	assert_int_equal(io_read(&f, 0x00), 0);
}

static void test_edge(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 0);
	/* the PIT: ISA IRQ 0 on pin 2, vector 0x30, edge, physical, CPU 0 */
	set_rte(&f, 2, 0x30 | EDGE, 0);
	ioapic_set_irq(&f.io, 2, true);
	ioapic_set_irq(&f.io, 2, false);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.m[0].vector, 0x30);
	assert_int_equal(f.m[0].dest, 0);
	assert_false(f.m[0].logical);
	assert_false(f.m[0].level);
	assert_int_equal(f.m[0].dm, 0);
	/* no new edge while the line stays high */
	ioapic_set_irq(&f.io, 2, true);
	ioapic_set_irq(&f.io, 2, true);
	assert_int_equal(f.n, 2);
	ioapic_set_irq(&f.io, 2, false);
	/* edges while masked are lost, also after unmasking */
	set_rte(&f, 2, 0x30 | MASKED, 0);
	ioapic_set_irq(&f.io, 2, true);
	ioapic_set_irq(&f.io, 2, false);
	set_rte(&f, 2, 0x30, 0);
	assert_int_equal(f.n, 2);
	/* edge pins have no remote IRR; an EOI changes nothing */
	ioapic_set_irq(&f.io, 2, true);
	assert_int_equal(rte_lo(&f, 2) & REMOTE, 0);
	ioapic_eoi(&f.io, 0x30);
	assert_int_equal(f.n, 3);
	/* logical destination, lowest priority, 8-bit destination */
	set_rte(&f, 5, 0x41 | LOGICAL | (1 << 8), 0x0f);
	ioapic_set_irq(&f.io, 5, true);
	assert_int_equal(f.m[3].dest, 0x0f);
	assert_true(f.m[3].logical);
	assert_int_equal(f.m[3].dm, 1);
}

static void test_level_remote_irr(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 0);
	set_rte(&f, 9, 0x59 | LEVEL | LOWPOL, 1);
	ioapic_set_irq(&f.io, 9, true);
	assert_int_equal(f.n, 1);
	assert_true(f.m[0].level);
	assert_int_equal(f.m[0].dest, 1);
	assert_int_equal(rte_lo(&f, 9), 0x59 | LEVEL | LOWPOL | REMOTE);
	/* no second message while remote IRR is set */
	ioapic_set_irq(&f.io, 9, false);
	ioapic_set_irq(&f.io, 9, true);
	assert_int_equal(f.n, 1);
	/* EOI while still asserted: re-delivered at once */
	ioapic_eoi(&f.io, 0x59);
	assert_int_equal(f.n, 2);
	assert_int_equal(rte_lo(&f, 9) & REMOTE, REMOTE);
	/* EOI of another vector: nothing */
	ioapic_eoi(&f.io, 0x5a);
	assert_int_equal(rte_lo(&f, 9) & REMOTE, REMOTE);
	/* serviced: line drops, EOI clears, nothing more */
	ioapic_set_irq(&f.io, 9, false);
	ioapic_eoi(&f.io, 0x59);
	assert_int_equal(f.n, 2);
	assert_int_equal(rte_lo(&f, 9) & REMOTE, 0);
	/* remote IRR is read-only */
	io_write(&f, 0x10 + 18, 0x59 | LEVEL | REMOTE);
	assert_int_equal(rte_lo(&f, 9) & REMOTE, 0);
	ioapic_set_irq(&f.io, 9, true);
	io_write(&f, 0x10 + 18, 0x59 | LEVEL);          /* rewrite keeps it */
	assert_int_equal(rte_lo(&f, 9) & REMOTE, REMOTE);
	assert_int_equal(f.n, 3);
	/* switching to edge clears remote IRR */
	io_write(&f, 0x10 + 18, 0x59);
	assert_int_equal(rte_lo(&f, 9) & REMOTE, 0);
	/* the EOI broadcast reaches every pin with that vector */
	set_rte(&f, 10, 0x60 | LEVEL, 0);
	set_rte(&f, 11, 0x60 | LEVEL, 0);
	ioapic_set_irq(&f.io, 10, true);
	ioapic_set_irq(&f.io, 11, true);
	assert_int_equal(f.n, 5);
	ioapic_set_irq(&f.io, 10, false);
	ioapic_eoi(&f.io, 0x60);
	assert_int_equal(f.n, 6);                       /* pin 11 again */
	assert_int_equal(rte_lo(&f, 10) & REMOTE, 0);
	assert_int_equal(rte_lo(&f, 11) & REMOTE, REMOTE);
}

static void test_level_mask_unmask(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 0);
	set_rte(&f, 16, 0x71 | LEVEL | MASKED, 0);
	ioapic_set_irq(&f.io, 16, true);
	assert_int_equal(f.n, 0);
	assert_int_equal(rte_lo(&f, 16) & REMOTE, 0);
	/* unmasking an asserted level pin delivers */
	set_rte(&f, 16, 0x71 | LEVEL, 0);
	assert_int_equal(f.n, 1);
	/* masking while in service, EOI, unmask: delivered again */
	set_rte(&f, 16, 0x71 | LEVEL | MASKED, 0);
	ioapic_eoi(&f.io, 0x71);
	assert_int_equal(f.n, 1);
	set_rte(&f, 16, 0x71 | LEVEL, 0);
	assert_int_equal(f.n, 2);
	/* a level that went away while masked is forgotten */
	set_rte(&f, 16, 0x71 | LEVEL | MASKED, 0);
	ioapic_set_irq(&f.io, 16, false);
	ioapic_eoi(&f.io, 0x71);
	set_rte(&f, 16, 0x71 | LEVEL, 0);
	assert_int_equal(f.n, 2);
	/* an edge pin switched to level with its line high delivers */
	set_rte(&f, 3, 0x33, 0);
	ioapic_set_irq(&f.io, 3, true);
	assert_int_equal(f.n, 3);
	set_rte(&f, 3, 0x33 | LEVEL, 0);
	assert_int_equal(f.n, 4);
}

static void test_non_fixed_modes_are_edge(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 0);
	/* ExtINT on pin 0 (virtual wire through the IOAPIC), trigger ignored */
	set_rte(&f, 0, (7 << 8) | LEVEL, 0);
	ioapic_set_irq(&f.io, 0, true);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.m[0].dm, 7);
	assert_false(f.m[0].level);
	assert_int_equal(rte_lo(&f, 0) & REMOTE, 0);
	ioapic_set_irq(&f.io, 0, true);
	assert_int_equal(f.n, 1);
	ioapic_set_irq(&f.io, 0, false);
	ioapic_set_irq(&f.io, 0, true);
	assert_int_equal(f.n, 2);
	/* NMI */
	set_rte(&f, 1, (4 << 8) | LEVEL, 0);
	ioapic_set_irq(&f.io, 1, true);
	assert_int_equal(f.m[2].dm, 4);
	assert_false(f.m[2].level);
}

static void test_register_bits(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 0);
	io_write(&f, 0x10, 0xffffffff);
	assert_int_equal(rte_lo(&f, 0), 0x0001afff);    /* status, remote IRR RO */
	io_write(&f, 0x11, 0xffffffff);
	assert_int_equal(io_read(&f, 0x11), 0xff000000);
	/* the last entry, 23, at 0x3e/0x3f; 0x40 is outside */
	io_write(&f, 0x3e, 0x12);
	io_write(&f, 0x3f, 0x05000000);
	assert_int_equal(io_read(&f, 0x3e), 0x12);
	assert_int_equal(io_read(&f, 0x3f), 0x05000000);
	io_write(&f, 0x40, 0xffffffff);
	io_write(&f, 0x03, 0xffffffff);
	assert_int_equal(io_read(&f, 0x40), 0);
	/* pins out of range are ignored */
	ioapic_set_irq(&f.io, 24, true);
	ioapic_set_irq(&f.io, 0xffffffffu, true);
	ioapic_set_irq(NULL, 0, true);
	ioapic_eoi(NULL, 0);
	assert_int_equal(f.io.level, 0);
}

static void test_bad_accesses(void **state)
{
	struct fake f;
	struct ioapic snap;
	uint64_t v;
	unsigned sz;

	(void)state;
	fake_init(&f, 1);
	memcpy(&snap, &f.io, sizeof(snap));
	for (sz = 0; sz <= 8; sz++) {
		v = 0x77;
		if (sz != 4) {
			assert_int_equal(ioapic_read(&f.io, 0x10, sz, &v), -1);
			assert_int_equal(ioapic_write(&f.io, 0x00, sz, 0x10), -1);
		}
		assert_int_equal(ioapic_read(&f.io, 0x12, sz, &v), -1);
		assert_int_equal(ioapic_write(&f.io, 0x1001, sz, 0), -1);
		assert_int_equal(ioapic_read(&f.io, 0x1000, sz, &v), -1);
		assert_int_equal(ioapic_write(&f.io, ~0ULL, sz, 0), -1);
		assert_int_equal(v, 0x77);
	}
	assert_memory_equal(&snap, &f.io, sizeof(snap));
	assert_int_equal(ioapic_read(&f.io, 0, 4, NULL), -1);
	assert_int_equal(ioapic_read(NULL, 0, 4, &v), -1);
	assert_int_equal(ioapic_write(NULL, 0, 4, 0), -1);
	ioapic_reset(NULL);
	/* no callback: counted, nothing else */
	ioapic_init(&f.io, 0, NULL, NULL);
	set_rte(&f, 1, 0x31, 0);
	ioapic_set_irq(&f.io, 1, true);
	assert_int_equal(f.io.deliveries, 1);
}

static void test_reset_keeps_wires(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 3);
	set_rte(&f, 7, 0x47 | LEVEL, 0);
	ioapic_set_irq(&f.io, 7, true);
	assert_int_equal(f.n, 1);
	ioapic_ops.reset(&f.io);
	assert_int_equal(rte_lo(&f, 7), MASKED);
	assert_int_equal(io_read(&f, 0), 0x03000000);
	set_rte(&f, 7, 0x47 | LEVEL, 0);                /* line still high */
	assert_int_equal(f.n, 2);
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

static void test_random_sequences(void **state)
{
	struct fake f;
	unsigned i, pin;

	(void)state;
	fake_init(&f, 0);
	xs_state = 0xfec00000fec00000ULL;
	for (i = 0; i < 100000; i++) {
		uint64_t r = xorshift(), v = xorshift();
		unsigned before = f.n;
		uint64_t e;

		pin = (unsigned)(v % 26);
		switch (r % 8) {
		case 0: case 1: case 2: {
			bool lvl = (v >> 8) & 1;
			bool was = pin < 24 && ((f.io.level >> pin) & 1);

			e = pin < 24 ? f.io.rte[pin] : 0;
			ioapic_set_irq(&f.io, pin, lvl);
			if (pin >= 24 || (e & MASKED)) {
				assert_int_equal(f.n, before);
			} else if ((e & LEVEL) && ((e >> 8) & 7) <= 1) {
				/* level: delivers iff asserted and no remote IRR before */
				assert_int_equal(f.n, before + (lvl && !(e & REMOTE)));
			} else {
				assert_int_equal(f.n, before + (lvl && !was));
			}
			break;
		}
		case 3:
			/* an entry, mostly unmasked */
			if (pin < 24) {
				uint32_t lo = (uint32_t)(v >> 16);

				if ((v >> 48) % 4)
					lo &= ~(uint32_t)MASKED;
				set_rte(&f, pin, lo, (uint8_t)(v >> 56));
			}
			break;
		case 4:
			ioapic_eoi(&f.io, (uint8_t)(v >> 8));
			break;
		case 5:
			(void)io_read(&f, (uint8_t)(v >> 8));
			break;
		case 6:
			io_write(&f, (uint8_t)(v >> 8), (uint32_t)(v >> 16));
			break;
		default: {
			unsigned size = (unsigned)(v % 9);
			uint64_t off = (v >> 8) % 0x1008, got;
			bool ok = size == 4 && off < 0x1000 && (off & 3) == 0;
			int ret;

			if ((v >> 30) % 2048 == 0)
				ioapic_reset(&f.io);
			if (v & (1ULL << 20))
				ret = ioapic_read(&f.io, off, size, &got);
			else
				ret = ioapic_write(&f.io, off, size, v >> 32);
			assert_int_equal(ret, ok ? 0 : -1);
			break;
		}
		}
		/* invariants */
		for (pin = 0; pin < 24; pin++) {
			uint64_t ent = f.io.rte[pin];

			assert_int_equal(ent & ~(0x1ffffULL | 0xff00000000000000ULL) &
					 ~(uint64_t)REMOTE, 0);
			assert_int_equal(ent & 0x1000, 0);      /* delivery status idle */
			if (!(ent & LEVEL) || ((ent >> 8) & 7) > 1)
				assert_int_equal(ent & REMOTE, 0);
		}
		assert_int_equal(f.io.level >> 24, 0);
		assert_int_equal(f.io.id & ~0x0f000000u, 0);
	}
	assert_true(f.n > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops_and_reset),
		cmocka_unit_test(test_id_version_arbitration),
		cmocka_unit_test(test_edge),
		cmocka_unit_test(test_level_remote_irr),
		cmocka_unit_test(test_level_mask_unmask),
		cmocka_unit_test(test_non_fixed_modes_are_edge),
		cmocka_unit_test(test_register_bits),
		cmocka_unit_test(test_bad_accesses),
		cmocka_unit_test(test_reset_keeps_wires),
		cmocka_unit_test(test_random_sequences),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
