/*
 * libFuzzer harness: the FDT reader, lib/fdt.c. The input is the blob
 * itself (the seed corpus holds Tessera's own per-VM device trees, which
 * libFuzzer mutates). The blob lives in a heap buffer of exactly its size,
 * so ASan sees any read past it. Every API runs on every node the walker
 * reaches; returned pointers must lie inside the blob.
 */
#include "tests/fuzz/fuzz_common.h"
#include "lib/fdt.h"

static const uint8_t *lo, *hi;

static void in_blob(const void *p, int len)
{
	CHECK((const uint8_t *)p >= lo && len >= 0 && (const uint8_t *)p + len <= hi);
}

static const char *const names[] = {
	"compatible", "reg", "#address-cells", "#size-cells", "phandle", "interrupts",
	"interrupts-extended", "timebase-frequency", "device_type", "bootargs",
	"stdout-path", "riscv,isa", "tessera,vm-name", "", "status",
};

static const char *const paths[] = {
	"/", "/cpus", "/cpus/cpu@0", "/cpus/cpu", "/chosen", "/memory", "/soc",
	"/soc/serial@10000000", "/reserved-memory", "//cpus//", "/a/b/c/d/e", "cpus", "",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fdt f;
	uint8_t *blob;
	int node, depth = 0, count = 0;

	if (size > 1 << 16)
		return 0;
	blob = malloc(size ? size : 1);
	memcpy(blob, data, size);
	lo = blob;
	hi = blob + size;
	if (fdt_init(&f, blob, size) != 0) {
		free(blob);
		return 0;
	}
	CHECK(f.size <= size && f.size >= 40);
	for (unsigned i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		node = fdt_path_offset(&f, paths[i]);
		CHECK(node >= -1);
	}
	for (node = fdt_next_node(&f, -1, &depth); node >= 0 && count < 4096;
	     node = fdt_next_node(&f, node, &depth), count++) {
		const char *nm = fdt_node_name(&f, node);
		int len, parent;
		uint64_t a, s;

		CHECK(nm);
		in_blob(nm, (int)strlen(nm) + 1);
		for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			const void *p = fdt_getprop(&f, node, names[i], &len);

			if (p) {
				in_blob(p, len);
				(void)fdt_stringlist_contains(p, len, "ns16550a");
				(void)fdt_stringlist_contains(p, len, "");
			}
			(void)fdt_getprop_u32(&f, node, names[i], 7);
		}
		if (count < 16 || (count & 7) == 0) {     /* each walks the tree from the root */
			parent = fdt_parent_offset(&f, node);
			CHECK(parent >= -1);
			for (int i = 0; i < 4; i++)
				if (fdt_get_reg(&f, node, i, &a, &s))
					break;
		}
		(void)fdt_setprop_u32_inplace(&f, node, "timebase-frequency", 1000000);
		if (count < 8 || (count & 15) == 0) {     /* whole-tree walks: a sample */
			(void)fdt_node_by_phandle(&f, fdt_getprop_u32(&f, node, "phandle", 0));
			(void)fdt_node_by_compatible(&f, node, "riscv,plic0");
		}
		/* the node's own name as a path component under / */
		if (strlen(nm) < 64) {
			char path[80];

			snprintf(path, sizeof(path), "/%s", nm);
			CHECK(fdt_path_offset(&f, path) >= -1);
		}
	}
	(void)fdt_node_by_compatible(&f, -1, "ns16550a");
	(void)fdt_node_by_phandle(&f, 1);
	free(blob);
	return 0;
}
