/* Host unit tests for the per-VM device bus (core/bus.c, core/bus.h): which
 * device an access reaches, the last-hit fast path, the error codes and the
 * statistics. The devices are small fakes that record what they were asked. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "core/bus.h"

struct fake {
	unsigned reads, writes, resets;
	uint64_t last_off, last_val;
	unsigned last_size;
	uint64_t reg;
	bool refuse;
};

static int fake_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct fake *f = dev;

	f->reads++;
	f->last_off = off;
	f->last_size = size;
	if (f->refuse)
		return -1;
	*val = f->reg + off;
	return 0;
}

static int fake_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct fake *f = dev;

	f->writes++;
	f->last_off = off;
	f->last_size = size;
	f->last_val = val;
	if (f->refuse)
		return -1;
	f->reg = val;
	return 0;
}

static void fake_reset(void *dev)
{
	((struct fake *)dev)->resets++;
}

static const struct dev_ops fake_ops = { "fake", fake_read, fake_write, fake_reset };

static struct bus b;
static struct fake fa, fb, fc;

static int setup(void **state)
{
	(void)state;
	memset(&b, 0, sizeof(b));
	memset(&fa, 0, sizeof(fa));
	memset(&fb, 0, sizeof(fb));
	memset(&fc, 0, sizeof(fc));
	fa.reg = 0x100;
	fb.reg = 0x200;
	fc.reg = 0x300;
	assert_int_equal(bus_add(&b, 0x1000, 0x100, &fake_ops, &fa, 1), 0);
	assert_int_equal(bus_add(&b, 0x2000, 0x8, &fake_ops, &fb, 2), 0);
	assert_int_equal(bus_add(&b, 0x3000, 0x1000, &fake_ops, &fc, 0), 0);
	return 0;
}

static void test_routing(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_null(b.hit);
	assert_int_equal(bus_access(&b, 0x2004, 4, false, &v), 0);
	assert_int_equal(v, 0x204);
	assert_ptr_equal(b.hit, &b.devs[1]);
	assert_int_equal(fb.last_off, 4);
	assert_int_equal(fb.last_size, 4);
	/* the last device hit first, then the others by search */
	assert_int_equal(bus_access(&b, 0x2007, 1, true, &(uint64_t){ 0x5a }), 0);
	assert_int_equal(fb.reg, 0x5a);
	assert_int_equal(bus_access(&b, 0x1000, 1, false, &v), 0);
	assert_int_equal(v, 0x100);
	assert_ptr_equal(b.hit, &b.devs[0]);
	assert_int_equal(bus_access(&b, 0x3fff, 1, false, &v), 0);
	assert_int_equal(v, 0x300 + 0xfff);
	assert_ptr_equal(b.hit, &b.devs[2]);
	/* window edges: just below, just past the last device hit */
	assert_int_equal(bus_access(&b, 0x2fff, 1, false, &v), BUS_NO_DEVICE);
	assert_int_equal(bus_access(&b, 0x4000, 1, false, &v), BUS_NO_DEVICE);
	assert_int_equal(bus_access(&b, 0x10ff, 1, false, &v), 0);
	assert_int_equal(fa.last_off, 0xff);
	assert_int_equal(b.unclaimed, 2);
	assert_int_equal(fa.reads, 2);
	assert_int_equal(fb.reads, 1);
	assert_int_equal(fb.writes, 1);
	assert_int_equal(fc.reads, 1);
	assert_int_equal(b.devs[1].reads, 1);
	assert_int_equal(b.devs[1].writes, 1);
	assert_int_equal(bus_accesses(&b), 2 + 2 + 2 + 1);
}

static void test_refused(void **state)
{
	uint64_t v = 0;

	(void)state;
	/* past the end of the window: refused without asking the device,
	 * on the fast path and on the search alike */
	assert_int_equal(bus_access(&b, 0x2006, 4, false, &v), BUS_REFUSED);
	assert_int_equal(fb.reads, 0);
	assert_ptr_equal(b.hit, &b.devs[1]);
	assert_int_equal(bus_access(&b, 0x2005, 4, true, &v), BUS_REFUSED);
	assert_int_equal(fb.writes, 0);
	/* the device's own refusal */
	fb.refuse = true;
	assert_int_equal(bus_access(&b, 0x2000, 1, false, &v), BUS_REFUSED);
	assert_int_equal(bus_access(&b, 0x2000, 1, true, &v), BUS_REFUSED);
	assert_int_equal(fb.reads, 1);
	assert_int_equal(fb.writes, 1);
	assert_int_equal(b.unclaimed, 0);
}

static void test_empty_bus(void **state)
{
	struct bus e;
	uint64_t v = 0;

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_int_equal(bus_access(&e, 0, 1, false, &v), BUS_NO_DEVICE);
	assert_int_equal(bus_access(&e, 0x1000, 8, true, &v), BUS_NO_DEVICE);
	assert_null(e.hit);
	assert_int_equal(e.unclaimed, 2);
	assert_int_equal(bus_accesses(&e), 2);
}

static void test_add_limits(void **state)
{
	struct bus e;
	struct fake f;
	uint64_t v = 0;

	(void)state;
	memset(&e, 0, sizeof(e));
	memset(&f, 0, sizeof(f));
	/* a window may end at the top of the address space, not wrap */
	assert_int_equal(bus_add(&e, 0xfffffffffffff000ULL, 0x1000, &fake_ops, &f, 0), 0);
	assert_int_equal(bus_add(&e, 0xfffffffffffff000ULL, 0x1001, &fake_ops, &f, 0), -1);
	assert_int_equal(bus_access(&e, 0xffffffffffffffffULL, 1, false, &v), 0);
	assert_int_equal(bus_access(&e, 0, 1, false, &v), BUS_NO_DEVICE);
	for (unsigned i = 1; i < BUS_MAX_DEVICES; i++)
		assert_int_equal(bus_add(&e, i * 0x10, 0x10, &fake_ops, &f, 0), 0);
	assert_int_equal(bus_add(&e, 0x1000, 0x10, &fake_ops, &f, 0), -1);
	bus_reset(&e);
	assert_int_equal(f.resets, BUS_MAX_DEVICES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_routing, setup),
		cmocka_unit_test_setup(test_refused, setup),
		cmocka_unit_test_setup(test_empty_bus, setup),
		cmocka_unit_test_setup(test_add_limits, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
