/*
 * Host unit tests for the PCI configuration stub (devices/pci_stub.c) and
 * the port 0x80 debug port (devices/debugport.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "devices/pci_stub.h"
#include "devices/debugport.h"

/* ------------------------------------------------------------ helpers */

static void out(struct pci_stub *p, unsigned port, unsigned size, uint32_t v)
{
	assert_int_equal(pci_stub_ops.write(p, port - 0xcf8, size, v), 0);
}

static uint32_t in(struct pci_stub *p, unsigned port, unsigned size)
{
	uint64_t v = 0x123456789ULL;

	assert_int_equal(pci_stub_ops.read(p, port - 0xcf8, size, &v), 0);
	assert_true(v <= 0xffffffffULL);
	return (uint32_t)v;
}

static uint32_t cf8(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

/* ------------------------------------------------------------ PCI */

static void test_pci_ops_and_reset(void **state)
{
	struct pci_stub p;

	(void)state;
	pci_stub_init(&p);
	assert_string_equal(pci_stub_ops.name, "pci-stub");
	assert_ptr_equal(pci_stub_ops.read, pci_stub_read);
	assert_ptr_equal(pci_stub_ops.write, pci_stub_write);
	assert_ptr_equal(pci_stub_ops.reset, pci_stub_reset);
	assert_int_equal(in(&p, 0xcf8, 4), 0);
	out(&p, 0xcf8, 4, 0x80001234);
	assert_int_equal(in(&p, 0xcf8, 4), 0x80001234);
	pci_stub_ops.reset(&p);
	assert_int_equal(in(&p, 0xcf8, 4), 0);
	pci_stub_reset(NULL);
}

/* Linux arch/x86/pci/direct.c: pci_check_type1() */
static void test_pci_linux_check_type1(void **state)
{
	struct pci_stub p;
	uint32_t tmp;

	(void)state;
	pci_stub_init(&p);
	out(&p, 0xcfb, 1, 0x01);        /* not a CONFIG_ADDRESS write */
	tmp = in(&p, 0xcf8, 4);
	assert_int_equal(tmp, 0);
	out(&p, 0xcf8, 4, 0x80000000);
	assert_int_equal(in(&p, 0xcf8, 4), 0x80000000);
	/* pci_sanity_check(): bus 0 has no host bridge, no VGA */
	for (unsigned devfn = 0; devfn < 0x100; devfn++) {
		out(&p, 0xcf8, 4, cf8(0, devfn >> 3, devfn & 7, 0x0a));
		assert_int_equal(in(&p, 0xcfc + 2, 2), 0xffff);         /* class */
		out(&p, 0xcf8, 4, cf8(0, devfn >> 3, devfn & 7, 0x00));
		assert_int_equal(in(&p, 0xcfc, 2), 0xffff);             /* vendor */
	}
	out(&p, 0xcf8, 4, tmp);
	assert_int_equal(in(&p, 0xcf8, 4), tmp);
	assert_int_equal(p.cfg_reads, 512);
}

/* pci_check_type2(): byte writes to 0xcf8/0xcfa, read back as 0. */
static void test_pci_linux_check_type2(void **state)
{
	struct pci_stub p;

	(void)state;
	pci_stub_init(&p);
	out(&p, 0xcfb, 1, 0x00);
	out(&p, 0xcf8, 1, 0x00);
	out(&p, 0xcfa, 1, 0x00);
	assert_int_equal(in(&p, 0xcf8, 1), 0);
	assert_int_equal(in(&p, 0xcfa, 1), 0);
	/* narrow accesses read bytes of CONFIG_ADDRESS, writes are ignored */
	out(&p, 0xcf8, 4, 0x8012345c);
	out(&p, 0xcf9, 1, 0x06);        /* (reset control on a real PIIX) */
	out(&p, 0xcfa, 2, 0xffff);
	assert_int_equal(in(&p, 0xcf8, 4), 0x8012345c);
	assert_int_equal(in(&p, 0xcf8, 1), 0x5c);
	assert_int_equal(in(&p, 0xcf9, 1), 0x34);
	assert_int_equal(in(&p, 0xcfa, 1), 0x12);
	assert_int_equal(in(&p, 0xcfb, 1), 0x80);
	assert_int_equal(in(&p, 0xcfa, 2), 0x8012);
	assert_int_equal(in(&p, 0xcf9, 2), 0x1234);
}

static void test_pci_no_device_anywhere(void **state)
{
	struct pci_stub p;
	unsigned bus, dev, fn, reg;

	(void)state;
	pci_stub_init(&p);
	for (bus = 0; bus < 256; bus += 17) {
		for (dev = 0; dev < 32; dev++) {
			for (fn = 0; fn < 8; fn++) {
				reg = (bus + dev * 8 + fn) & 0xfc;
				out(&p, 0xcf8, 4, cf8(bus, dev, fn, reg));
				assert_int_equal(in(&p, 0xcfc, 4), 0xffffffffu);
				assert_int_equal(in(&p, 0xcfe, 2), 0xffff);
				assert_int_equal(in(&p, 0xcff, 1), 0xff);
				out(&p, 0xcfc, 4, 0x12345678);  /* ignored */
				assert_int_equal(in(&p, 0xcfc, 4), 0xffffffffu);
			}
		}
	}
	/* with the enable bit clear too */
	out(&p, 0xcf8, 4, 0x00000000);
	assert_int_equal(in(&p, 0xcfc, 4), 0xffffffffu);
	/* reserved bits of CONFIG_ADDRESS read 0 */
	out(&p, 0xcf8, 4, 0xffffffff);
	assert_int_equal(in(&p, 0xcf8, 4), 0x80fffffc);
	assert_true(p.cfg_writes > 0);
}

static void test_pci_bad_accesses(void **state)
{
	struct pci_stub p, snap;
	uint64_t v;
	static const struct { uint64_t off; unsigned size; } bad[] = {
		{ 0, 3 }, { 0, 8 }, { 0, 0 }, { 2, 4 }, { 3, 2 }, { 1, 4 },
		{ 4, 8 }, { 6, 4 }, { 7, 2 }, { 5, 4 }, { 8, 1 }, { 0x100, 4 },
		{ ~0ULL, 1 }, { 4, 5 },
	};

	(void)state;
	pci_stub_init(&p);
	out(&p, 0xcf8, 4, 0x80000010);
	memcpy(&snap, &p, sizeof(p));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 0x42;
		assert_int_equal(pci_stub_read(&p, bad[i].off, bad[i].size, &v), -1);
		assert_int_equal(v, 0x42);
		assert_int_equal(pci_stub_write(&p, bad[i].off, bad[i].size, 0), -1);
	}
	assert_memory_equal(&snap, &p, sizeof(p));
	assert_int_equal(pci_stub_read(&p, 4, 4, NULL), -1);
	assert_int_equal(pci_stub_read(NULL, 4, 4, &v), -1);
	assert_int_equal(pci_stub_write(NULL, 0, 4, 0), -1);
}

/* ------------------------------------------------------------ debug port */

static void test_debugport(void **state)
{
	struct debugport d;
	uint64_t v;
	unsigned i;

	(void)state;
	debugport_init(&d);
	assert_string_equal(debugport_ops.name, "debugport");
	assert_ptr_equal(debugport_ops.read, debugport_read);
	assert_ptr_equal(debugport_ops.write, debugport_write);
	assert_ptr_equal(debugport_ops.reset, debugport_reset);
	assert_int_equal(debugport_ops.read(&d, 0, 1, &v), 0);
	assert_int_equal(v, 0xff);                      /* nothing written yet */
	assert_int_equal(d.writes, 0);
	/* Linux io_delay / outb_p: outb(0, 0x80), many times */
	for (i = 0; i < 1000; i++)
		assert_int_equal(debugport_ops.write(&d, 0, 1, 0), 0);
	assert_int_equal(d.writes, 1000);
	assert_int_equal(debugport_ops.read(&d, 0, 1, &v), 0);
	assert_int_equal(v, 0x00);
	/* POST code */
	assert_int_equal(debugport_ops.write(&d, 0, 1, 0x1a5), 0);
	assert_int_equal(d.last, 0xa5);
	assert_int_equal(debugport_ops.read(&d, 0, 1, &v), 0);
	assert_int_equal(v, 0xa5);
	/* only 1-byte accesses at off 0 */
	for (unsigned sz = 0; sz <= 8; sz++) {
		v = 7;
		if (sz != 1) {
			assert_int_equal(debugport_read(&d, 0, sz, &v), -1);
			assert_int_equal(debugport_write(&d, 0, sz, 1), -1);
		}
		assert_int_equal(debugport_read(&d, 1, sz, &v), -1);
		assert_int_equal(debugport_write(&d, ~0ULL, sz, 1), -1);
		assert_int_equal(v, 7);
	}
	assert_int_equal(d.writes, 1001);
	assert_int_equal(d.last, 0xa5);
	assert_int_equal(debugport_read(&d, 0, 1, NULL), -1);
	assert_int_equal(debugport_read(NULL, 0, 1, &v), -1);
	assert_int_equal(debugport_write(NULL, 0, 1, 0), -1);
	/* reset: back to "never written", the counter is statistics */
	debugport_ops.reset(&d);
	assert_int_equal(debugport_read(&d, 0, 1, &v), 0);
	assert_int_equal(v, 0xff);
	assert_int_equal(d.writes, 1001);
	debugport_reset(NULL);
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
	struct pci_stub p;
	struct debugport d;
	uint64_t writes = 0, last = 0xff;
	unsigned i;

	(void)state;
	pci_stub_init(&p);
	debugport_init(&d);
	xs_state = 0xcf8cfc80cf8cfc80ULL;
	for (i = 0; i < 100000; i++) {
		uint64_t r = xorshift(), v = xorshift(), got = 0;
		unsigned size = (unsigned)(r % 9);
		uint64_t off = (r >> 8) % 10;
		bool sz_ok = size == 1 || size == 2 || size == 4;
		bool pci_ok = sz_ok && off < 8 && (off % 4) + size <= 4;
		bool dbg_ok = size == 1 && off == 0;
		uint32_t addr = p.addr;
		int ret;

		if ((r >> 20) % 64 == 0)
			off = v;
		pci_ok = pci_ok && off < 8;
		dbg_ok = dbg_ok && off == 0;
		switch ((r >> 16) % 4) {
		case 0:
			ret = pci_stub_read(&p, off, size, &got);
			assert_int_equal(ret, pci_ok ? 0 : -1);
			if (ret == 0 && off >= 4)
				assert_int_equal(got, size == 4 ? 0xffffffffULL :
						 (1ULL << (8 * size)) - 1);
			if (ret == 0 && off < 4)
				assert_int_equal(got, (addr >> (8 * off)) &
						 (size == 4 ? 0xffffffffULL : (1ULL << (8 * size)) - 1));
			break;
		case 1:
			ret = pci_stub_write(&p, off, size, v);
			assert_int_equal(ret, pci_ok ? 0 : -1);
			if (ret == 0 && off == 0 && size == 4)
				assert_int_equal(p.addr, (uint32_t)v & 0x80fffffcu);
			else
				assert_int_equal(p.addr, addr);
			break;
		case 2:
			ret = debugport_write(&d, off, size, v);
			assert_int_equal(ret, dbg_ok ? 0 : -1);
			if (ret == 0) {
				writes++;
				last = v & 0xff;
			}
			break;
		default:
			ret = debugport_read(&d, off, size, &got);
			assert_int_equal(ret, dbg_ok ? 0 : -1);
			if (ret == 0)
				assert_int_equal(got, last);
			break;
		}
		assert_int_equal(p.addr & ~0x80fffffcu, 0);
		assert_int_equal(d.writes, writes);
		assert_int_equal(d.last, last);
	}
	assert_true(writes > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pci_ops_and_reset),
		cmocka_unit_test(test_pci_linux_check_type1),
		cmocka_unit_test(test_pci_linux_check_type2),
		cmocka_unit_test(test_pci_no_device_anywhere),
		cmocka_unit_test(test_pci_bad_accesses),
		cmocka_unit_test(test_debugport),
		cmocka_unit_test(test_random_sequences),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
