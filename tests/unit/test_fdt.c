/* Host unit tests for the bounds-checked FDT reader (lib/fdt.c). Blobs are
 * built in memory with tests/unit/fdt_builder.h and copied into heap
 * buffers of their exact size, so any read past the end trips ASan. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fdt.h"
#include "tests/unit/fdt_builder.h"

/* Structure-block offsets of the nodes of the test tree. */
struct tree {
	int root, chosen, cpus, cpu0, intc, memory, soc, uart0, plic, uart1,
	    c11, dev11, c21, dev21, nocells, devdef, bad, devbad, empty;
	uint32_t size;
	uint8_t *blob;          /* malloc'ed, exactly `size` bytes */
};

static struct fdtb B;   /* large: keep it off the stack */

static const char plic_compat[] = "sifive,plic-1.0.0\0riscv,plic0";

/* A QEMU-virt-like tree, plus a few nodes exercising #address-cells /
 * #size-cells combinations. With nops, FDT_NOP tokens are sprinkled between
 * properties and nodes (they must be skipped). */
static void build_tree(struct tree *t, bool nops)
{
	struct fdtb *b = &B;

	fdtb_init(b);
	t->root = fdtb_offset(b);
	fdtb_begin(b, "");
	fdtb_prop_u32(b, "#address-cells", 2);
	fdtb_prop_u32(b, "#size-cells", 2);
	if (nops)
		fdtb_nop(b);
	fdtb_prop_str(b, "compatible", "riscv-virtio");
	fdtb_prop_str(b, "model", "riscv-virtio,qemu");

	if (nops)
		fdtb_nop(b);
	t->chosen = fdtb_offset(b);
	fdtb_begin(b, "chosen");
	fdtb_prop_str(b, "stdout-path", "/soc/serial@10000000");
	if (nops)
		fdtb_nop(b);
	fdtb_prop_str(b, "bootargs", "console=ttyS0 earlycon");
	fdtb_end(b);

	t->cpus = fdtb_offset(b);
	fdtb_begin(b, "cpus");
	fdtb_prop_u32(b, "#address-cells", 1);
	fdtb_prop_u32(b, "#size-cells", 0);
	fdtb_prop_u32(b, "timebase-frequency", 10000000);
	t->cpu0 = fdtb_offset(b);
	fdtb_begin(b, "cpu@0");
	fdtb_prop_str(b, "device_type", "cpu");
	fdtb_prop_cells(b, "reg", 1, 0u);
	fdtb_prop_str(b, "status", "okay");
	fdtb_prop_str(b, "compatible", "riscv");
	fdtb_prop_str(b, "riscv,isa", "rv64imafdch_zicsr_zifencei");
	fdtb_prop_str(b, "mmu-type", "riscv,sv48");
	t->intc = fdtb_offset(b);
	fdtb_begin(b, "interrupt-controller");
	fdtb_prop_u32(b, "#interrupt-cells", 1);
	fdtb_prop_empty(b, "interrupt-controller");
	fdtb_prop_str(b, "compatible", "riscv,cpu-intc");
	fdtb_prop_u32(b, "phandle", 1);
	fdtb_end(b);
	fdtb_end(b);            /* cpu@0 */
	fdtb_end(b);            /* cpus */

	t->memory = fdtb_offset(b);
	fdtb_begin(b, "memory@80000000");
	fdtb_prop_str(b, "device_type", "memory");
	fdtb_prop_cells(b, "reg", 4, 0x0u, 0x80000000u, 0x0u, 0x8000000u);
	fdtb_end(b);

	t->soc = fdtb_offset(b);
	fdtb_begin(b, "soc");
	fdtb_prop_u32(b, "#address-cells", 2);
	fdtb_prop_u32(b, "#size-cells", 2);
	fdtb_prop_str(b, "compatible", "simple-bus");
	fdtb_prop_empty(b, "ranges");
	t->uart0 = fdtb_offset(b);
	fdtb_begin(b, "serial@10000000");
	fdtb_prop_u32(b, "interrupts", 10);
	fdtb_prop_u32(b, "interrupt-parent", 3);
	fdtb_prop_u32(b, "clock-frequency", 0x384000);
	fdtb_prop_cells(b, "reg", 4, 0x0u, 0x10000000u, 0x0u, 0x100u);
	fdtb_prop_str(b, "compatible", "ns16550a");
	fdtb_end(b);
	if (nops)
		fdtb_nop(b);
	t->plic = fdtb_offset(b);
	fdtb_begin(b, "plic@c000000");
	fdtb_prop_u32(b, "phandle", 3);
	fdtb_prop_u32(b, "riscv,ndev", 0x5f);
	fdtb_prop_cells(b, "reg", 4, 0x0u, 0xc000000u, 0x0u, 0x600000u);
	fdtb_prop_cells(b, "interrupts-extended", 4, 1u, 11u, 1u, 9u);
	fdtb_prop_empty(b, "interrupt-controller");
	fdtb_prop(b, "compatible", plic_compat, sizeof(plic_compat));
	fdtb_prop_u32(b, "#interrupt-cells", 1);
	fdtb_end(b);
	t->uart1 = fdtb_offset(b);
	fdtb_begin(b, "serial@10001000");
	fdtb_prop_cells(b, "reg", 4, 0x0u, 0x10001000u, 0x0u, 0x100u);
	fdtb_prop(b, "compatible", "snps,dw-apb-uart\0ns16550a", 26);
	fdtb_end(b);
	fdtb_end(b);            /* soc */

	t->c11 = fdtb_offset(b);
	fdtb_begin(b, "bus11");
	fdtb_prop_u32(b, "#address-cells", 1);
	fdtb_prop_u32(b, "#size-cells", 1);
	t->dev11 = fdtb_offset(b);
	fdtb_begin(b, "dev@1000");
	fdtb_prop_cells(b, "reg", 4, 0x1000u, 0x100u, 0x2000u, 0x200u);
	fdtb_end(b);
	fdtb_end(b);

	t->c21 = fdtb_offset(b);
	fdtb_begin(b, "bus21");
	fdtb_prop_u32(b, "#address-cells", 2);
	fdtb_prop_u32(b, "#size-cells", 1);
	t->dev21 = fdtb_offset(b);
	fdtb_begin(b, "dev@100000000");
	fdtb_prop_cells(b, "reg", 6, 0x1u, 0x0u, 0x1000u, 0xffffffffu, 0xfffff000u, 0x800u);
	fdtb_end(b);
	fdtb_end(b);

	t->nocells = fdtb_offset(b);
	fdtb_begin(b, "nocells");       /* no #cells: defaults 2 and 1 */
	t->devdef = fdtb_offset(b);
	fdtb_begin(b, "dev");
	fdtb_prop_cells(b, "reg", 3, 0x2u, 0x3000u, 0x40u);
	fdtb_end(b);
	fdtb_end(b);

	t->bad = fdtb_offset(b);
	fdtb_begin(b, "badcells");
	fdtb_prop_u32(b, "#address-cells", 3);
	fdtb_prop_u32(b, "#size-cells", 1);
	t->devbad = fdtb_offset(b);
	fdtb_begin(b, "dev");
	fdtb_prop_cells(b, "reg", 4, 1u, 2u, 3u, 4u);
	fdtb_end(b);
	fdtb_end(b);

	t->empty = fdtb_offset(b);
	fdtb_begin(b, "empty");
	fdtb_end(b);

	if (nops)
		fdtb_nop(b);
	fdtb_end(b);            /* root */
	t->size = fdtb_finish(b);
	t->blob = malloc(t->size);
	assert_non_null(t->blob);
	memcpy(t->blob, b->out, t->size);
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	build_tree(t, false);
	*state = t;
	return 0;
}

static int setup_nops(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	build_tree(t, true);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;

	free(t->blob);
	free(t);
	return 0;
}

static void init_ok(struct tree *t, struct fdt *f)
{
	assert_int_equal(fdt_init(f, t->blob, t->size), 0);
}

static void put32(uint8_t *p, uint32_t v)
{
	fdtb_be32(p, v);
}

/* ------------------------------------------------------------ fdt_init */

static void test_init_valid(void **state)
{
	struct tree *t = *state;
	struct fdt f;

	memset(&f, 0, sizeof(f));
	assert_int_equal(fdt_init(&f, t->blob, t->size), 0);
	assert_ptr_equal(f.blob, t->blob);
	assert_int_equal(f.size, t->size);
	assert_int_equal(f.off_struct, 56);
	assert_int_equal(f.size_struct, fdt32_ld(t->blob + 36));
	assert_int_equal(f.off_strings, fdt32_ld(t->blob + 12));
	assert_int_equal(f.size_strings, fdt32_ld(t->blob + 32));
	/* a larger readable window is fine: totalsize is what counts */
	{
		uint8_t *big = calloc(1, t->size + 100);

		assert_non_null(big);
		memcpy(big, t->blob, t->size);
		assert_int_equal(fdt_init(&f, big, t->size + 100), 0);
		assert_int_equal(f.size, t->size);
		free(big);
	}
	/* version 16 is still accepted */
	put32(t->blob + 20, 16);
	assert_int_equal(fdt_init(&f, t->blob, t->size), 0);
}

static void test_init_bad_header(void **state)
{
	struct tree *t = *state;
	uint8_t *copy = malloc(t->size);
	struct fdt f;

	assert_non_null(copy);
#define RESET() memcpy(copy, t->blob, t->size)
	RESET();
	assert_int_equal(fdt_init(&f, NULL, t->size), -1);
	assert_int_equal(fdt_init(&f, copy, 39), -1);
	assert_int_equal(fdt_init(&f, copy, 0), -1);
	/* magic */
	copy[0] ^= 0x01;
	assert_int_equal(fdt_init(&f, copy, t->size), -1);
	RESET();
	put32(copy, 0xedfe0dd0);        /* byte-swapped magic */
	assert_int_equal(fdt_init(&f, copy, t->size), -1);
	/* version */
	RESET();
	put32(copy + 20, 15);
	assert_int_equal(fdt_init(&f, copy, t->size), -1);
	put32(copy + 20, 0);
	assert_int_equal(fdt_init(&f, copy, t->size), -1);
	/* totalsize larger than what is readable, and absurdly small */
	RESET();
	assert_int_equal(fdt_init(&f, copy, t->size - 1), -1);
	put32(copy + 4, t->size + 1);
	assert_int_equal(fdt_init(&f, copy, t->size), -1);
	put32(copy + 4, 0xffffffff);
	assert_int_equal(fdt_init(&f, copy, t->size), -1);
	put32(copy + 4, 39);
	assert_int_equal(fdt_init(&f, copy, t->size), -1);
	/* structure block out of range */
	RESET();
	put32(copy + 8, t->size + 4);
	assert_int_equal(fdt_init(&f, copy, t->size), -1);
	RESET();
	put32(copy + 36, t->size);      /* size_dt_struct runs past the end */
	assert_int_equal(fdt_init(&f, copy, t->size), -1);
	RESET();
	put32(copy + 8, 0xfffffff0);
	put32(copy + 36, 0x20);         /* off + size wraps around */
	assert_int_equal(fdt_init(&f, copy, t->size), -1);
	RESET();
	put32(copy + 8, 58);            /* misaligned structure block */
	assert_int_equal(fdt_init(&f, copy, t->size), -1);
	RESET();
	put32(copy + 36, fdt32_ld(copy + 36) - 2);   /* misaligned size */
	assert_int_equal(fdt_init(&f, copy, t->size), -1);
	/* strings block out of range */
	RESET();
	put32(copy + 12, t->size + 1);
	assert_int_equal(fdt_init(&f, copy, t->size), -1);
	RESET();
	put32(copy + 32, fdt32_ld(copy + 32) + 1);
	assert_int_equal(fdt_init(&f, copy, t->size), -1);
	RESET();
	put32(copy + 12, 0xffffff00);
	put32(copy + 32, 0x200);
	assert_int_equal(fdt_init(&f, copy, t->size), -1);
	/* untouched copy is fine */
	RESET();
	assert_int_equal(fdt_init(&f, copy, t->size), 0);
#undef RESET
	free(copy);
}

/* ------------------------------------------------------------ walking */

static void test_next_node_order(void **state)
{
	struct tree *t = *state;
	struct fdt f;
	const struct { int off; int depth; const char *name; } want[] = {
		{ t->root, 0, "" }, { t->chosen, 1, "chosen" }, { t->cpus, 1, "cpus" },
		{ t->cpu0, 2, "cpu@0" }, { t->intc, 3, "interrupt-controller" },
		{ t->memory, 1, "memory@80000000" }, { t->soc, 1, "soc" },
		{ t->uart0, 2, "serial@10000000" }, { t->plic, 2, "plic@c000000" },
		{ t->uart1, 2, "serial@10001000" }, { t->c11, 1, "bus11" },
		{ t->dev11, 2, "dev@1000" }, { t->c21, 1, "bus21" },
		{ t->dev21, 2, "dev@100000000" }, { t->nocells, 1, "nocells" },
		{ t->devdef, 2, "dev" }, { t->bad, 1, "badcells" }, { t->devbad, 2, "dev" },
		{ t->empty, 1, "empty" },
	};
	int depth = 42, node;
	unsigned i = 0;

	init_ok(t, &f);
	for (node = fdt_next_node(&f, -1, &depth); node >= 0;
	     node = fdt_next_node(&f, node, &depth), i++) {
		assert_true(i < ARRAY_SIZE(want));
		assert_int_equal(node, want[i].off);
		assert_int_equal(depth, want[i].depth);
		assert_string_equal(fdt_node_name(&f, node), want[i].name);
	}
	assert_int_equal(i, ARRAY_SIZE(want));
	/* offsets that are not a BEGIN_NODE token */
	assert_null(fdt_node_name(&f, -1));
	assert_null(fdt_node_name(&f, t->root + 2));
	assert_null(fdt_node_name(&f, t->root + 8));  /* a property */
	assert_null(fdt_node_name(&f, (int)f.size_struct));
	assert_null(fdt_node_name(&f, INT_MAX & ~3));
	depth = 0;
	assert_int_equal(fdt_next_node(&f, t->root + 8, &depth), -1);
	assert_int_equal(fdt_next_node(&f, 3, &depth), -1);
}

/* ------------------------------------------------------------ paths */

static void test_path_offset(void **state)
{
	struct tree *t = *state;
	struct fdt f;

	init_ok(t, &f);
	assert_int_equal(fdt_path_offset(&f, "/"), t->root);
	assert_int_equal(fdt_path_offset(&f, "/chosen"), t->chosen);
	assert_int_equal(fdt_path_offset(&f, "/chosen/"), t->chosen);
	assert_int_equal(fdt_path_offset(&f, "//cpus"), t->cpus);
	assert_int_equal(fdt_path_offset(&f, "/cpus/cpu@0"), t->cpu0);
	assert_int_equal(fdt_path_offset(&f, "/cpus/cpu"), t->cpu0);
	assert_int_equal(fdt_path_offset(&f, "/cpus/cpu@0/interrupt-controller"), t->intc);
	assert_int_equal(fdt_path_offset(&f, "/cpus/cpu/interrupt-controller"), t->intc);
	assert_int_equal(fdt_path_offset(&f, "/memory"), t->memory);
	assert_int_equal(fdt_path_offset(&f, "/memory@80000000"), t->memory);
	assert_int_equal(fdt_path_offset(&f, "/soc/serial@10000000"), t->uart0);
	assert_int_equal(fdt_path_offset(&f, "/soc/serial@10001000"), t->uart1);
	assert_int_equal(fdt_path_offset(&f, "/soc/serial"), t->uart0);   /* first match */
	assert_int_equal(fdt_path_offset(&f, "/soc/plic"), t->plic);
	assert_int_equal(fdt_path_offset(&f, "/nocells/dev"), t->devdef);
	assert_int_equal(fdt_path_offset(&f, "/badcells/dev"), t->devbad);
	assert_int_equal(fdt_path_offset(&f, "/empty"), t->empty);

	/* missing */
	assert_int_equal(fdt_path_offset(&f, "/nope"), -1);
	assert_int_equal(fdt_path_offset(&f, "/cpus/cpu@1"), -1);
	assert_int_equal(fdt_path_offset(&f, "/memory@80000001"), -1);
	assert_int_equal(fdt_path_offset(&f, "/memory@8000000"), -1);
	assert_int_equal(fdt_path_offset(&f, "/soc/serial@1000000"), -1);
	assert_int_equal(fdt_path_offset(&f, "/cp"), -1);          /* prefix */
	assert_int_equal(fdt_path_offset(&f, "/cpusx"), -1);
	assert_int_equal(fdt_path_offset(&f, "/mem"), -1);
	assert_int_equal(fdt_path_offset(&f, "/cpus/cpu@0/missing"), -1);
	assert_int_equal(fdt_path_offset(&f, "/empty/child"), -1);
	/* right name, wrong level */
	assert_int_equal(fdt_path_offset(&f, "/cpu@0"), -1);
	assert_int_equal(fdt_path_offset(&f, "/cpus/interrupt-controller"), -1);
	assert_int_equal(fdt_path_offset(&f, "/serial@10000000"), -1);
	assert_int_equal(fdt_path_offset(&f, "/dev"), -1);
	/* the name exists at that depth, but under another parent */
	assert_int_equal(fdt_path_offset(&f, "/cpus/serial"), -1);
	assert_int_equal(fdt_path_offset(&f, "/chosen/serial@10000000"), -1);
	assert_int_equal(fdt_path_offset(&f, "/bus11/dev@100000000"), -1);
	assert_int_equal(fdt_path_offset(&f, "/soc/interrupt-controller"), -1);
	/* not absolute */
	assert_int_equal(fdt_path_offset(&f, "chosen"), -1);
	assert_int_equal(fdt_path_offset(&f, ""), -1);
	assert_int_equal(fdt_path_offset(&f, NULL), -1);
}

/* ------------------------------------------------------------ properties */

static void test_getprop(void **state)
{
	struct tree *t = *state;
	struct fdt f;
	const char *s;
	const uint8_t *p;
	int len = -5;

	init_ok(t, &f);
	s = fdt_getprop(&f, t->chosen, "bootargs", &len);
	assert_non_null(s);
	assert_string_equal(s, "console=ttyS0 earlycon");
	assert_int_equal(len, (int)sizeof("console=ttyS0 earlycon"));
	s = fdt_getprop(&f, t->chosen, "stdout-path", &len);
	assert_non_null(s);
	assert_string_equal(s, "/soc/serial@10000000");
	/* the stdout path resolves */
	assert_int_equal(fdt_path_offset(&f, s), t->uart0);

	s = fdt_getprop(&f, t->cpu0, "riscv,isa", NULL);      /* len optional */
	assert_non_null(s);
	assert_string_equal(s, "rv64imafdch_zicsr_zifencei");
	/* property names are shared in the strings block: the right node's
	 * "compatible" comes back */
	assert_string_equal(fdt_getprop(&f, t->cpu0, "compatible", NULL), "riscv");
	assert_string_equal(fdt_getprop(&f, t->root, "compatible", NULL), "riscv-virtio");

	p = fdt_getprop(&f, t->plic, "interrupts-extended", &len);
	assert_non_null(p);
	assert_int_equal(len, 16);
	assert_int_equal(fdt32_ld(p), 1);
	assert_int_equal(fdt32_ld(p + 4), 11);
	assert_int_equal(fdt32_ld(p + 8), 1);
	assert_int_equal(fdt32_ld(p + 12), 9);
	p = fdt_getprop(&f, t->plic, "compatible", &len);
	assert_int_equal(len, (int)sizeof(plic_compat));
	assert_memory_equal(p, plic_compat, sizeof(plic_compat));

	/* empty properties exist with length 0 */
	len = -5;
	assert_non_null(fdt_getprop(&f, t->intc, "interrupt-controller", &len));
	assert_int_equal(len, 0);
	assert_non_null(fdt_getprop(&f, t->soc, "ranges", &len));
	assert_int_equal(len, 0);

	/* missing, or only on another node */
	assert_null(fdt_getprop(&f, t->chosen, "bootarg", &len));
	assert_null(fdt_getprop(&f, t->chosen, "bootargsx", &len));
	assert_null(fdt_getprop(&f, t->chosen, "", &len));
	assert_null(fdt_getprop(&f, t->root, "bootargs", &len));  /* a child's */
	assert_null(fdt_getprop(&f, t->cpus, "riscv,isa", &len));
	assert_null(fdt_getprop(&f, t->cpu0, "timebase-frequency", &len)); /* parent's */
	assert_null(fdt_getprop(&f, t->empty, "reg", &len));
	/* bad node offsets */
	assert_null(fdt_getprop(&f, -1, "reg", &len));
	assert_null(fdt_getprop(&f, t->uart0 + 1, "reg", &len));
	assert_null(fdt_getprop(&f, t->uart0 + 4, "reg", &len));
	assert_null(fdt_getprop(&f, (int)f.size_struct - 4, "reg", &len));  /* FDT_END */
	assert_null(fdt_getprop(&f, (int)f.size_struct, "reg", &len));
	assert_null(fdt_getprop(&f, INT_MAX, "reg", &len));
}

static void test_getprop_u32(void **state)
{
	struct tree *t = *state;
	struct fdt f;

	init_ok(t, &f);
	assert_int_equal(fdt_getprop_u32(&f, t->cpus, "timebase-frequency", 7), 10000000);
	assert_int_equal(fdt_getprop_u32(&f, t->uart0, "clock-frequency", 0), 0x384000);
	assert_int_equal(fdt_getprop_u32(&f, t->plic, "riscv,ndev", 0), 0x5f);
	assert_int_equal(fdt_getprop_u32(&f, t->cpus, "#size-cells", 99), 0);
	/* first cell of a longer property */
	assert_int_equal(fdt_getprop_u32(&f, t->memory, "reg", 7), 0);
	assert_int_equal(fdt_getprop_u32(&f, t->plic, "interrupts-extended", 7), 1);
	/* defaults: missing, empty */
	assert_int_equal(fdt_getprop_u32(&f, t->cpus, "nope", 1234), 1234);
	assert_int_equal(fdt_getprop_u32(&f, t->intc, "interrupt-controller", 0xabcd), 0xabcd);
	assert_int_equal(fdt_getprop_u32(&f, -1, "phandle", 77), 77);
	/* a 4-byte string reads as its bytes, big-endian */
	assert_int_equal(fdt_getprop_u32(&f, t->cpu0, "device_type", 0), 0x63707500); /* "cpu\0" */
}

static void test_getprop_u32_short(void **state)
{
	struct fdtb *b = &B;
	struct fdt f;
	uint8_t *blob;
	uint32_t n;
	int node, depth;

	(void)state;
	fdtb_init(b);
	fdtb_begin(b, "");
	fdtb_prop(b, "three", "\x01\x02\x03", 3);
	fdtb_prop(b, "one", "\x7f", 1);
	fdtb_prop(b, "five", "\x01\x02\x03\x04\x05", 5);
	fdtb_end(b);
	n = fdtb_finish(b);
	blob = malloc(n);
	assert_non_null(blob);
	memcpy(blob, b->out, n);
	assert_int_equal(fdt_init(&f, blob, n), 0);
	node = fdt_next_node(&f, -1, &depth);
	assert_int_equal(node, 0);
	assert_int_equal(fdt_getprop_u32(&f, node, "three", 9), 9);
	assert_int_equal(fdt_getprop_u32(&f, node, "one", 9), 9);
	assert_int_equal(fdt_getprop_u32(&f, node, "five", 9), 0x01020304);
	assert_int_equal(fdt_setprop_u32_inplace(&f, node, "three", 1), -1);
	assert_int_equal(fdt_setprop_u32_inplace(&f, node, "five", 1), -1);
	free(blob);
}

static void test_setprop_u32_inplace(void **state)
{
	struct tree *t = *state;
	uint8_t *orig = malloc(t->size);
	const uint8_t *p;
	struct fdt f;
	int len;

	assert_non_null(orig);
	memcpy(orig, t->blob, t->size);
	init_ok(t, &f);
	assert_int_equal(fdt_setprop_u32_inplace(&f, t->cpus, "timebase-frequency", 0x01234567), 0);
	assert_int_equal(fdt_getprop_u32(&f, t->cpus, "timebase-frequency", 0), 0x01234567);
	p = fdt_getprop(&f, t->cpus, "timebase-frequency", &len);
	assert_int_equal(len, 4);
	/* only those four bytes changed */
	for (uint32_t i = 0; i < t->size; i++) {
		uint32_t at = (uint32_t)(p - t->blob);

		if (i >= at && i < at + 4)
			continue;
		if (t->blob[i] != orig[i])
			fail_msg("byte %u changed", i);
	}
	assert_int_equal(p[0], 0x01);
	assert_int_equal(p[3], 0x67);
	/* the reader still works after the write */
	assert_int_equal(fdt_path_offset(&f, "/cpus/cpu@0"), t->cpu0);

	/* not 4 bytes: refused, blob untouched */
	memcpy(orig, t->blob, t->size);
	assert_int_equal(fdt_setprop_u32_inplace(&f, t->memory, "reg", 1), -1);
	assert_int_equal(fdt_setprop_u32_inplace(&f, t->intc, "interrupt-controller", 1), -1);
	assert_int_equal(fdt_setprop_u32_inplace(&f, t->chosen, "bootargs", 1), -1);
	assert_int_equal(fdt_setprop_u32_inplace(&f, t->cpus, "missing", 1), -1);
	assert_int_equal(fdt_setprop_u32_inplace(&f, -1, "phandle", 1), -1);
	assert_memory_equal(orig, t->blob, t->size);
	/* a 4-byte property of any kind is fine (reg of cpu@0 has 1 cell) */
	assert_int_equal(fdt_setprop_u32_inplace(&f, t->cpu0, "reg", 5), 0);
	assert_int_equal(fdt_getprop_u32(&f, t->cpu0, "reg", 0), 5);
	free(orig);
}

/* The tree with `slack` zero bytes after it, counted in totalsize (dtc -p). */
static uint8_t *with_slack(const struct tree *t, uint32_t slack)
{
	uint8_t *b = calloc(1, t->size + slack);

	assert_non_null(b);
	memcpy(b, t->blob, t->size);
	put32(b + 4, t->size + slack);
	return b;
}

static void test_setprop_string(void **state)
{
	struct tree *t = *state;
	const char *longer = "rv64imafdch_zicsr_zifencei_zba_zbb_zbs";
	uint8_t *b = with_slack(t, 64), *orig = with_slack(t, 64);
	struct fdt f;
	const char *s;
	int len, node;

	assert_int_equal(fdt_init(&f, b, t->size + 64), 0);
	assert_int_equal(fdt_setprop_string(&f, t->cpu0, "riscv,isa", longer), 0);
	s = fdt_getprop(&f, t->cpu0, "riscv,isa", &len);
	assert_non_null(s);
	assert_int_equal(len, (int)strlen(longer) + 1);
	assert_string_equal(s, longer);
	/* what follows moved with it: the next property, later nodes, names */
	assert_string_equal(fdt_getprop(&f, t->cpu0, "mmu-type", NULL), "riscv,sv48");
	node = fdt_path_offset(&f, "/soc/serial@10000000");
	assert_int_equal(node, t->uart0 + 12);  /* value 27 -> 39 bytes, padded 28 -> 40 */
	assert_string_equal(fdt_getprop(&f, node, "compatible", NULL), "ns16550a");
	assert_int_equal(fdt_getprop_u32(&f, node, "clock-frequency", 0), 0x384000);
	assert_int_equal(fdt_node_by_phandle(&f, 3), t->plic + 12);
	/* a fresh reader agrees with the updated header */
	assert_int_equal(fdt_init(&f, b, t->size + 64), 0);
	assert_string_equal(fdt_getprop(&f, fdt_path_offset(&f, "/cpus/cpu@0"), "riscv,isa", NULL),
			    longer);
	/* back to the original string: the blob is byte for byte the original */
	assert_int_equal(fdt_setprop_string(&f, fdt_path_offset(&f, "/cpus/cpu@0"), "riscv,isa",
					    "rv64imafdch_zicsr_zifencei"), 0);
	assert_memory_equal(b, orig, t->size + 64);
	/* more than the slack: refused, blob untouched */
	char big[200];

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(fdt_setprop_string(&f, t->cpu0, "riscv,isa", big), -1);
	assert_int_equal(fdt_setprop_string(&f, t->cpu0, "missing", "x"), -1);
	assert_memory_equal(b, orig, t->size + 64);
	free(b);
	free(orig);
}

/* ------------------------------------------------------------ reg */

static void test_get_reg(void **state)
{
	struct tree *t = *state;
	uint64_t a = 0x1111, s = 0x2222;
	struct fdt f;

	init_ok(t, &f);
	/* 2 address + 2 size cells */
	assert_int_equal(fdt_get_reg(&f, t->memory, 0, &a, &s), 0);
	assert_int_equal(a, 0x80000000ULL);
	assert_int_equal(s, 0x8000000ULL);
	assert_int_equal(fdt_get_reg(&f, t->memory, 1, &a, &s), -1);
	assert_int_equal(fdt_get_reg(&f, t->uart0, 0, &a, &s), 0);
	assert_int_equal(a, 0x10000000ULL);
	assert_int_equal(s, 0x100ULL);
	assert_int_equal(fdt_get_reg(&f, t->plic, 0, &a, &s), 0);
	assert_int_equal(a, 0xc000000ULL);
	assert_int_equal(s, 0x600000ULL);
	/* 1 + 1, two entries */
	assert_int_equal(fdt_get_reg(&f, t->dev11, 0, &a, &s), 0);
	assert_int_equal(a, 0x1000);
	assert_int_equal(s, 0x100);
	assert_int_equal(fdt_get_reg(&f, t->dev11, 1, &a, &s), 0);
	assert_int_equal(a, 0x2000);
	assert_int_equal(s, 0x200);
	assert_int_equal(fdt_get_reg(&f, t->dev11, 2, &a, &s), -1);
	/* 2 + 1, two entries, 64-bit addresses */
	assert_int_equal(fdt_get_reg(&f, t->dev21, 0, &a, &s), 0);
	assert_int_equal(a, 0x100000000ULL);
	assert_int_equal(s, 0x1000);
	assert_int_equal(fdt_get_reg(&f, t->dev21, 1, &a, &s), 0);
	assert_int_equal(a, 0xfffffffffffff000ULL);
	assert_int_equal(s, 0x800);
	assert_int_equal(fdt_get_reg(&f, t->dev21, 2, &a, &s), -1);
	/* 1 + 0 (cpus) */
	a = s = 99;
	assert_int_equal(fdt_get_reg(&f, t->cpu0, 0, &a, &s), 0);
	assert_int_equal(a, 0);
	assert_int_equal(s, 0);
	assert_int_equal(fdt_get_reg(&f, t->cpu0, 1, &a, &s), -1);
	/* parent without #cells: defaults 2 + 1 */
	assert_int_equal(fdt_get_reg(&f, t->devdef, 0, &a, &s), 0);
	assert_int_equal(a, 0x200003000ULL);
	assert_int_equal(s, 0x40);
	/* unsupported #address-cells in the parent */
	assert_int_equal(fdt_get_reg(&f, t->devbad, 0, &a, &s), -1);
	/* no reg, no parent, bad index, bad node */
	assert_int_equal(fdt_get_reg(&f, t->chosen, 0, &a, &s), -1);
	assert_int_equal(fdt_get_reg(&f, t->root, 0, &a, &s), -1);
	assert_int_equal(fdt_get_reg(&f, t->memory, -1, &a, &s), -1);
	assert_int_equal(fdt_get_reg(&f, t->memory, 1000000, &a, &s), -1);
	assert_int_equal(fdt_get_reg(&f, t->memory, INT_MAX - 1, &a, &s), -1);
	assert_int_equal(fdt_get_reg(&f, -1, 0, &a, &s), -1);
	assert_int_equal(fdt_get_reg(&f, t->memory + 4, 0, &a, &s), -1);
}

/* Regression (fixed; was lib/fdt.c:266, fdt_get_reg): `(uint64_t)(idx + 1) * stride` adds in
 * int before widening, so idx == INT_MAX is a signed overflow (undefined
 * behaviour; UBSan aborts the program with "signed integer overflow:
 * 2147483647 + 1"). Expected -1 like any other out-of-range index. */
static void test_get_reg_int_max(void **state)
{
	struct tree *t = *state;
	uint64_t a, s;
	struct fdt f;

	init_ok(t, &f);
	assert_int_equal(fdt_get_reg(&f, t->memory, INT_MAX, &a, &s), -1);
}

/* Parent cells of 0 / 3 and size-cells of 3 are rejected. */
static void test_get_reg_cell_limits(void **state)
{
	struct fdtb *b = &B;
	struct fdt f;
	uint8_t *blob;
	uint32_t n;
	int dev[3];
	uint64_t a, s;
	static const unsigned cells[3][2] = { { 0, 1 }, { 1, 3 }, { 2, 2 } };

	(void)state;
	fdtb_init(b);
	fdtb_begin(b, "");
	for (int i = 0; i < 3; i++) {
		char name[8] = "bus0";

		name[3] = (char)('0' + i);
		fdtb_begin(b, name);
		fdtb_prop_u32(b, "#address-cells", cells[i][0]);
		fdtb_prop_u32(b, "#size-cells", cells[i][1]);
		dev[i] = fdtb_offset(b);
		fdtb_begin(b, "d");
		fdtb_prop_cells(b, "reg", 4, 1u, 2u, 3u, 4u);
		fdtb_end(b);
		fdtb_end(b);
	}
	fdtb_end(b);
	n = fdtb_finish(b);
	blob = malloc(n);
	assert_non_null(blob);
	memcpy(blob, b->out, n);
	assert_int_equal(fdt_init(&f, blob, n), 0);
	assert_int_equal(fdt_get_reg(&f, dev[0], 0, &a, &s), -1);   /* 0 address cells */
	assert_int_equal(fdt_get_reg(&f, dev[1], 0, &a, &s), -1);   /* 3 size cells */
	assert_int_equal(fdt_get_reg(&f, dev[2], 0, &a, &s), 0);    /* 2 + 2 */
	assert_int_equal(a, 0x100000002ULL);
	assert_int_equal(s, 0x300000004ULL);
	free(blob);
}

/* ------------------------------------------------------------ search */

static void test_stringlist(void **state)
{
	(void)state;
	assert_true(fdt_stringlist_contains(plic_compat, sizeof(plic_compat), "riscv,plic0"));
	assert_true(fdt_stringlist_contains(plic_compat, sizeof(plic_compat), "sifive,plic-1.0.0"));
	assert_false(fdt_stringlist_contains(plic_compat, sizeof(plic_compat), "riscv,plic"));
	assert_false(fdt_stringlist_contains(plic_compat, sizeof(plic_compat), "plic0"));
	assert_false(fdt_stringlist_contains(plic_compat, sizeof(plic_compat), ""));
	assert_false(fdt_stringlist_contains(plic_compat, 0, "riscv,plic0"));
	/* the length bounds the search: the second string is cut off */
	assert_false(fdt_stringlist_contains(plic_compat, 20, "riscv,plic0"));
	assert_true(fdt_stringlist_contains(plic_compat, 18, "sifive,plic-1.0.0"));
	/* an unterminated last string is matched by its bytes only */
	assert_true(fdt_stringlist_contains("ab\0cd", 5, "cd"));
	assert_false(fdt_stringlist_contains("ab\0cd", 4, "cd"));
	assert_true(fdt_stringlist_contains("ab\0\0cd", 7, ""));
}

static void test_node_by_compatible(void **state)
{
	struct tree *t = *state;
	struct fdt f;

	init_ok(t, &f);
	assert_int_equal(fdt_node_by_compatible(&f, -1, "ns16550a"), t->uart0);
	assert_int_equal(fdt_node_by_compatible(&f, -1, "riscv,plic0"), t->plic);
	assert_int_equal(fdt_node_by_compatible(&f, -1, "sifive,plic-1.0.0"), t->plic);
	assert_int_equal(fdt_node_by_compatible(&f, -1, "snps,dw-apb-uart"), t->uart1);
	assert_int_equal(fdt_node_by_compatible(&f, -1, "riscv"), t->cpu0);
	assert_int_equal(fdt_node_by_compatible(&f, -1, "riscv,cpu-intc"), t->intc);
	assert_int_equal(fdt_node_by_compatible(&f, -1, "simple-bus"), t->soc);
	assert_int_equal(fdt_node_by_compatible(&f, -1, "riscv-virtio"), t->root);
	/* whole strings only */
	assert_int_equal(fdt_node_by_compatible(&f, -1, "plic"), -1);
	assert_int_equal(fdt_node_by_compatible(&f, -1, "riscv,plic"), -1);
	assert_int_equal(fdt_node_by_compatible(&f, -1, "ns16550"), -1);
	assert_int_equal(fdt_node_by_compatible(&f, -1, "virtio,mmio"), -1);
	/* the search starts after `start`, descending into its children */
	assert_int_equal(fdt_node_by_compatible(&f, t->cpu0, "riscv,cpu-intc"), t->intc);
	assert_int_equal(fdt_node_by_compatible(&f, t->soc, "ns16550a"), t->uart0);
	assert_int_equal(fdt_node_by_compatible(&f, t->cpu0, "riscv"), -1);
	assert_int_equal(fdt_node_by_compatible(&f, t->uart1, "ns16550a"), -1);
}

/* Regression (fixed; was lib/fdt.c:222-225, fdt_node_by_compatible): with start >= 0 the
 * walk begins with depth = 0 although `start` is not the root, so
 * fdt_next_node() returns -1 as soon as it leaves start's subtree (its
 * FDT_END_NODE takes depth below 0). Every node after start's subtree is
 * skipped: "First node after `start`" in the header, and libfdt's
 * fdt_node_offset_by_compatible(), mean the next one in document order.
 * Input: the test tree; fdt_node_by_compatible(&f, uart0, "ns16550a").
 * Expected: serial@10001000 (uart1). Actual: -1. Iterating over all UARTs
 * with the usual `for (n = by_compat(-1); n >= 0; n = by_compat(n))` loop
 * therefore finds only the first one. */
static void test_node_by_compatible_iterates_siblings(void **state)
{
	struct tree *t = *state;
	struct fdt f;
	int n, count = 0;

	init_ok(t, &f);
	assert_int_equal(fdt_node_by_compatible(&f, t->uart0, "ns16550a"), t->uart1);
	assert_int_equal(fdt_node_by_compatible(&f, t->uart0, "riscv,plic0"), t->plic);
	assert_int_equal(fdt_node_by_compatible(&f, t->chosen, "simple-bus"), t->soc);
	for (n = fdt_node_by_compatible(&f, -1, "ns16550a"); n >= 0;
	     n = fdt_node_by_compatible(&f, n, "ns16550a"))
		count++;
	assert_int_equal(count, 2);
}

static void test_parent_offset(void **state)
{
	struct tree *t = *state;
	struct fdt f;

	init_ok(t, &f);
	assert_int_equal(fdt_parent_offset(&f, t->root), -1);
	assert_int_equal(fdt_parent_offset(&f, t->chosen), t->root);
	assert_int_equal(fdt_parent_offset(&f, t->cpus), t->root);
	assert_int_equal(fdt_parent_offset(&f, t->cpu0), t->cpus);
	assert_int_equal(fdt_parent_offset(&f, t->intc), t->cpu0);
	assert_int_equal(fdt_parent_offset(&f, t->memory), t->root);
	assert_int_equal(fdt_parent_offset(&f, t->uart0), t->soc);
	assert_int_equal(fdt_parent_offset(&f, t->plic), t->soc);
	assert_int_equal(fdt_parent_offset(&f, t->uart1), t->soc);
	assert_int_equal(fdt_parent_offset(&f, t->dev21), t->c21);
	assert_int_equal(fdt_parent_offset(&f, t->empty), t->root);
	/* not a node */
	assert_int_equal(fdt_parent_offset(&f, -1), -1);
	assert_int_equal(fdt_parent_offset(&f, t->uart0 + 4), -1);
	assert_int_equal(fdt_parent_offset(&f, t->uart0 + 1), -1);
	assert_int_equal(fdt_parent_offset(&f, (int)f.size_struct), -1);
}

static void test_parent_offset_deep(void **state)
{
	struct fdtb *b = &B;
	struct fdt f;
	uint8_t *blob;
	uint32_t n;
	int off[40];

	(void)state;
	fdtb_init(b);
	for (int i = 0; i < 40; i++) {
		off[i] = fdtb_offset(b);
		fdtb_begin(b, i ? "n" : "");
	}
	for (int i = 0; i < 40; i++)
		fdtb_end(b);
	n = fdtb_finish(b);
	blob = malloc(n);
	assert_non_null(blob);
	memcpy(blob, b->out, n);
	assert_int_equal(fdt_init(&f, blob, n), 0);
	for (int i = 1; i < 32; i++)
		assert_int_equal(fdt_parent_offset(&f, off[i]), off[i - 1]);
	/* deeper than the reader's stack: not found, but no overflow */
	for (int i = 32; i < 40; i++)
		assert_int_equal(fdt_parent_offset(&f, off[i]), -1);
	free(blob);
}

static void test_node_by_phandle(void **state)
{
	struct tree *t = *state;
	struct fdt f;

	init_ok(t, &f);
	assert_int_equal(fdt_node_by_phandle(&f, 1), t->intc);
	assert_int_equal(fdt_node_by_phandle(&f, 3), t->plic);
	/* interrupt-parent of the UART resolves to the PLIC */
	assert_int_equal(fdt_node_by_phandle(&f, fdt_getprop_u32(&f, t->uart0, "interrupt-parent", 0)),
			 t->plic);
	assert_int_equal(fdt_node_by_phandle(&f, 0), -1);   /* 0 is never a phandle */
	assert_int_equal(fdt_node_by_phandle(&f, 2), -1);
	assert_int_equal(fdt_node_by_phandle(&f, 0xffffffff), -1);
}

/* The NOP-sprinkled tree must read exactly like the plain one. */
static void test_nops_are_skipped(void **state)
{
	struct tree *t = *state;
	struct fdt f;
	uint64_t a, s;
	int depth, n, count = 0;

	init_ok(t, &f);
	for (n = fdt_next_node(&f, -1, &depth); n >= 0; n = fdt_next_node(&f, n, &depth))
		count++;
	assert_int_equal(count, 19);
	assert_int_equal(fdt_path_offset(&f, "/chosen"), t->chosen);
	assert_string_equal(fdt_getprop(&f, t->chosen, "bootargs", NULL), "console=ttyS0 earlycon");
	assert_string_equal(fdt_getprop(&f, t->root, "model", NULL), "riscv-virtio,qemu");
	assert_int_equal(fdt_path_offset(&f, "/soc/plic"), t->plic);
	assert_int_equal(fdt_parent_offset(&f, t->plic), t->soc);
	assert_int_equal(fdt_node_by_phandle(&f, 3), t->plic);
	assert_int_equal(fdt_node_by_compatible(&f, -1, "riscv,plic0"), t->plic);
	assert_int_equal(fdt_get_reg(&f, t->plic, 0, &a, &s), 0);
	assert_int_equal(a, 0xc000000);
	assert_int_equal(fdt_path_offset(&f, "/empty"), t->empty);
}

/* ------------------------------------------------------------ malformed */

/* A structure block of a single 4-byte token at the very end of the blob. */
static void test_tiny_struct_block(void **state)
{
	uint8_t *blob = calloc(1, 64);
	struct fdt f;
	int depth = 0;

	(void)state;
	assert_non_null(blob);
	put32(blob, FDT_MAGIC);
	put32(blob + 4, 60);
	put32(blob + 8, 56);            /* struct: [56, 60) */
	put32(blob + 12, 40);
	put32(blob + 16, 40);
	put32(blob + 20, 17);
	put32(blob + 24, 16);
	put32(blob + 32, 0);
	put32(blob + 36, 4);
	put32(blob + 56, FDTB_END);
	assert_int_equal(fdt_init(&f, blob, 60), 0);
	assert_int_equal(fdt_next_node(&f, -1, &depth), -1);
	assert_int_equal(fdt_path_offset(&f, "/"), -1);
	assert_int_equal(fdt_node_by_phandle(&f, 1), -1);
	/* empty structure block */
	put32(blob + 36, 0);
	assert_int_equal(fdt_init(&f, blob, 60), 0);
	assert_int_equal(fdt_next_node(&f, -1, &depth), -1);
	assert_null(fdt_getprop(&f, 0, "x", NULL));
	free(blob);
}

/* Regression (fixed; was lib/fdt.c:50-55, token_at): the FDT_PROP bounds check
 * `if (o > end - 8)` underflows when the structure block is smaller than 8
 * bytes (end = size_dt_struct = 4 is accepted by fdt_init). Then
 * (1) fdt32_ld(s + o) reads the property length from the 4 bytes *after*
 *     the structure block, past totalsize when the block ends the blob
 *     (ASan: heap-buffer-overflow, 4-byte read at blob+60 of a 60-byte
 *     buffer), and
 * (2) `len > end - o - 8` underflows too, so a length of 0xfffffff4 makes
 *     ALIGN_UP(o + 8 + len, 4) wrap to 0: token_at() returns FDT_PROP with
 *     *next == off, and fdt_next_node() spins forever.
 * Input: header with size_dt_struct = 4 whose only token is FDT_PROP (3).
 * Expected: fdt_next_node(-1) == -1. Actual: out-of-bounds read (1), or an
 * endless loop (2). */
static void test_tiny_struct_prop(void **state)
{
	uint8_t *blob = calloc(1, 60), *blob2 = calloc(1, 68);
	struct fdt f;
	int depth = 0;

	(void)state;
	for (int k = 0; k < 2; k++) {
		uint8_t *b = k ? blob2 : blob;
		uint32_t total = k ? 68 : 60;

		put32(b, FDT_MAGIC);
		put32(b + 4, total);
		put32(b + 8, 56);
		put32(b + 12, 40);
		put32(b + 16, 40);
		put32(b + 20, 17);
		put32(b + 24, 16);
		put32(b + 36, 4);
		put32(b + 56, FDTB_PROP);
		if (k)
			put32(b + 60, 0xfffffff4);
		assert_int_equal(fdt_init(&f, b, total), 0);
		alarm(5);
		assert_int_equal(fdt_next_node(&f, -1, &depth), -1);
		alarm(0);
	}
	free(blob);
	free(blob2);
}

/* Truncated names and properties inside an otherwise valid header. */
static void test_truncated_tokens(void **state)
{
	struct tree *t = *state;
	uint8_t *orig = malloc(t->size);
	struct fdt f;
	int depth;

	assert_non_null(orig);
	memcpy(orig, t->blob, t->size);
	init_ok(t, &f);
	/* cut the structure block in the middle of "chosen"'s name and
	 * of its first property: the walk stops, nothing is read past */
	for (uint32_t cut = 4; cut < (uint32_t)t->cpus; cut += 4) {
		int n, guard = 0;

		f.size_struct = cut;
		for (n = fdt_next_node(&f, -1, &depth); n >= 0; n = fdt_next_node(&f, n, &depth))
			assert_true(++guard < 100);
		fdt_getprop(&f, t->chosen, "bootargs", NULL);
		fdt_path_offset(&f, "/chosen");
		fdt_parent_offset(&f, t->chosen);
	}
	/* a property whose length runs past the structure block */
	init_ok(t, &f);
	{
		const uint8_t *p = fdt_getprop(&f, t->chosen, "bootargs", NULL);
		uint8_t *lenp = (uint8_t *)(uintptr_t)p - 8;

		put32(lenp, 0x7ffffff0);
		assert_null(fdt_getprop(&f, t->chosen, "bootargs", NULL));
		depth = 0;
		assert_int_equal(fdt_next_node(&f, t->chosen, &depth), -1);
		put32(lenp, 0xfffffffc);
		assert_null(fdt_getprop(&f, t->chosen, "bootargs", NULL));
	}
	memcpy(t->blob, orig, t->size);
	/* a name offset outside the strings block, and an unterminated name */
	init_ok(t, &f);
	{
		const uint8_t *p = fdt_getprop(&f, t->chosen, "bootargs", NULL);
		uint8_t *nameoffp = (uint8_t *)(uintptr_t)p - 4;

		put32(nameoffp, f.size_strings);
		assert_null(fdt_getprop(&f, t->chosen, "bootargs", NULL));
		put32(nameoffp, 0xffffffff);
		assert_null(fdt_getprop(&f, t->chosen, "bootargs", NULL));
	}
	memcpy(t->blob, orig, t->size);
	init_ok(t, &f);
	{
		const char *strs = (const char *)t->blob + f.off_strings;
		const uint8_t *p = fdt_getprop(&f, t->chosen, "bootargs", NULL);
		uint32_t no = fdt32_ld(p - 4);

		assert_string_equal(strs + no, "bootargs");
		f.size_strings = no + 8;        /* "bootargs" without its NUL */
		assert_null(fdt_getprop(&f, t->chosen, "bootargs", NULL));
		f.size_strings = no + 9;
		assert_non_null(fdt_getprop(&f, t->chosen, "bootargs", NULL));
	}
	/* an unknown token */
	init_ok(t, &f);
	put32(t->blob + f.off_struct + (uint32_t)t->memory, 0x77);
	assert_int_equal(fdt_path_offset(&f, "/memory"), -1);
	depth = 0;
	assert_int_equal(fdt_next_node(&f, t->cpus, &depth), t->cpu0);
	free(orig);
}

/* A property header cut by the end of the structure block: token and
 * length fit, the name offset does not. The length is chosen so that a
 * missed bounds check would wrap the next-token offset back onto this one. */
static void test_prop_header_at_end(void **state)
{
	struct tree *t = *state;
	struct fdt f;
	int depth = 0;
	uint32_t p = (uint32_t)t->chosen + 12;  /* first property of /chosen */

	init_ok(t, &f);
	assert_int_equal(fdt32_ld(t->blob + f.off_struct + p), FDTB_PROP);
	put32(t->blob + f.off_struct + p + 4, 0xfffffff4);
	for (uint32_t cut = p + 4; cut <= p + 12; cut += 4) {
		f.size_struct = cut;
		alarm(10);
		assert_null(fdt_getprop(&f, t->chosen, "bootargs", NULL));
		depth = 1;
		assert_int_equal(fdt_next_node(&f, t->chosen, &depth), -1);
		assert_int_equal(fdt_path_offset(&f, "/cpus"), -1);
		alarm(0);
	}
}

/* ------------------------------------------------------------ fuzzing */

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint32_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dULL) >> 32);
}

static const char *const fuzz_paths[] = {
	"/", "/chosen", "/cpus/cpu@0/interrupt-controller", "/cpus/cpu", "/memory",
	"/soc/serial@10000000", "/soc/plic", "/nocells/dev", "/x/y/z", "//",
};
static const char *const fuzz_props[] = {
	"reg", "compatible", "phandle", "#address-cells", "#size-cells", "bootargs",
	"interrupts-extended", "", "riscv,isa",
};

/* Run every API on everything reachable in f; return a checksum so the
 * results are used. */
static uint64_t exercise(const struct fdt *f)
{
	uint64_t sum = 0, a, s;
	int depth = 0, n, count = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(fuzz_paths); i++)
		sum += (uint64_t)fdt_path_offset(f, fuzz_paths[i]);
	sum += (uint64_t)fdt_node_by_compatible(f, -1, "ns16550a");
	sum += (uint64_t)fdt_node_by_compatible(f, -1, "riscv,plic0");
	sum += (uint64_t)fdt_node_by_phandle(f, 1);
	sum += (uint64_t)fdt_node_by_phandle(f, rnd());
	for (n = fdt_next_node(f, -1, &depth); n >= 0; n = fdt_next_node(f, n, &depth)) {
		const char *name = fdt_node_name(f, n);
		int len;

		assert_true(++count < 10000);
		assert_true(depth >= 0);
		assert_non_null(name);
		sum += strlen(name);
		for (unsigned i = 0; i < ARRAY_SIZE(fuzz_props); i++) {
			const uint8_t *p = fdt_getprop(f, n, fuzz_props[i], &len);

			if (p) {
				/* the property lies inside the structure block */
				assert_true(len >= 0);
				assert_true(p >= f->blob + f->off_struct);
				assert_true(p + len <= f->blob + f->off_struct + f->size_struct);
				for (int k = 0; k < len; k++)
					sum += p[k];
				if (i == 1)
					sum += fdt_stringlist_contains((const char *)p, len, "ns16550a");
			}
			sum += fdt_getprop_u32(f, n, fuzz_props[i], 7);
		}
		for (int idx = -1; idx < 3; idx++)
			if (fdt_get_reg(f, n, idx, &a, &s) == 0)
				sum += a + s;
		sum += (uint64_t)fdt_parent_offset(f, n);
		sum += (uint64_t)fdt_node_by_compatible(f, n, "ns16550a");
		sum += (uint64_t)fdt_node_by_phandle(f, fdt_getprop_u32(f, n, "phandle", 0));
		sum += (uint64_t)fdt_setprop_u32_inplace(f, n, "phandle", fdt_getprop_u32(f, n, "phandle", 0));
		{
			int d2 = depth;

			sum += (uint64_t)fdt_next_node(f, n, &d2);
		}
	}
	/* arbitrary offsets, aligned and not */
	for (int i = 0; i < 8; i++) {
		int off = (int)(rnd() % (f->size_struct + 16)) - 8;
		int len, d = 0;

		sum += (uint64_t)(uintptr_t)fdt_node_name(f, off);
		sum += (uint64_t)(uintptr_t)fdt_getprop(f, off, "reg", &len);
		sum += (uint64_t)fdt_parent_offset(f, off);
		sum += (uint64_t)fdt_next_node(f, off, &d);
		if (fdt_get_reg(f, off, 0, &a, &s) == 0)
			sum += a;
	}
	return sum;
}

static void test_fuzz(void **state)
{
	struct tree *t = *state;
	uint64_t sum = 0;
	unsigned inited = 0;
	struct fdt f;

	/* a hang is a failure too */
	alarm(600);
	init_ok(t, &f);
	sum += exercise(&f);
	for (unsigned iter = 0; iter < 20000; iter++) {
		uint32_t size = t->size, mode = rnd() % 8;
		uint8_t *b;

		if (mode == 0 || mode == 1)
			size = rnd() % (t->size + 1);          /* truncated buffer */
		b = malloc(size ? size : 1);
		assert_non_null(b);
		memcpy(b, t->blob, size);
		if (mode == 1 && size >= 40)
			put32(b + 4, size);                    /* ... and header agreeing */
		if (mode >= 2) {
			unsigned nflip = 1 + rnd() % 8;

			for (unsigned k = 0; k < nflip; k++) {
				uint32_t r = rnd(), pos = rnd() % size;

				switch (r % 6) {
				case 0: b[pos] = (uint8_t)(r >> 8); break;
				case 1: b[pos] ^= (uint8_t)(1u << ((r >> 8) & 7)); break;
				case 2:  /* a header word */
					if (size >= 40)
						put32(b + 4 * (1 + (r >> 8) % 9), rnd() % (size + 64));
					break;
				case 3:  /* an aligned struct word: token, length or name offset */
					pos = (56 + 4 * ((r >> 8) % ((size - 56) / 4))) & ~3u;
					put32(b + pos, (r >> 16) % 12);
					break;
				case 4:
					pos = (56 + 4 * ((r >> 8) % ((size - 56) / 4))) & ~3u;
					put32(b + pos, rnd());
					break;
				default: b[pos] = 0; break;
				}
			}
			if (mode == 7) {                        /* also truncate */
				uint8_t *c;

				size = 40 + rnd() % (size - 40);
				c = malloc(size);           /* exact size again */
				assert_non_null(c);
				memcpy(c, b, size);
				free(b);
				b = c;
			}
		}
		if (fdt_init(&f, b, size) == 0) {
			inited++;
			assert_true(f.size <= size);
			sum += exercise(&f);
		}
		free(b);
	}
	alarm(0);
	/* most corruptions keep a parseable header */
	assert_true(inited > 5000);
	assert_true(sum != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_bad_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_node_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_getprop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_getprop_u32, setup, teardown),
		cmocka_unit_test(test_getprop_u32_short),
		cmocka_unit_test_setup_teardown(test_setprop_u32_inplace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setprop_string, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_reg, setup, teardown),
		cmocka_unit_test(test_get_reg_cell_limits),
		cmocka_unit_test(test_stringlist),
		cmocka_unit_test_setup_teardown(test_node_by_compatible, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parent_offset, setup, teardown),
		cmocka_unit_test(test_parent_offset_deep),
		cmocka_unit_test_setup_teardown(test_node_by_phandle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nops_are_skipped, setup_nops, teardown),
		cmocka_unit_test(test_tiny_struct_block),
		cmocka_unit_test_setup_teardown(test_truncated_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prop_header_at_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fuzz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_reg_int_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_by_compatible_iterates_siblings, setup, teardown),
		cmocka_unit_test(test_tiny_struct_prop),
};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
