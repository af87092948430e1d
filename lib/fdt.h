/*
 * A small read-mostly flattened device tree reader. Every access is bounds
 * checked against the blob's header, so a malformed tree yields errors
 * (negative offsets, NULL properties), never out-of-bounds reads.
 * Nodes are named by their offset in the structure block, as in libfdt.
 */
#ifndef TESSERA_LIB_FDT_H
#define TESSERA_LIB_FDT_H

#include "lib/types.h"

#define FDT_MAGIC 0xd00dfeedU

struct fdt {
	uint8_t *blob;
	uint32_t size;          /* totalsize from the header */
	uint32_t off_struct, size_struct;
	uint32_t off_strings, size_strings;
};

static inline uint32_t fdt32_ld(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Validate the header of the blob at `blob` (at most max_size bytes readable). */
int fdt_init(struct fdt *f, void *blob, size_t max_size);
/* Offset of the first node after `node` (-1: start at the root) in document
 * order; *depth is updated (root = 0). Returns -1 at the end or on error. */
int fdt_next_node(const struct fdt *f, int node, int *depth);
const char *fdt_node_name(const struct fdt *f, int node);
const void *fdt_getprop(const struct fdt *f, int node, const char *name, int *len);
/* Absolute path with components matched by full name or by name before '@'. */
int fdt_path_offset(const struct fdt *f, const char *path);
int fdt_parent_offset(const struct fdt *f, int node);
/* First node after `start` (-1 for all) whose compatible list has `compat`. */
int fdt_node_by_compatible(const struct fdt *f, int start, const char *compat);
bool fdt_stringlist_contains(const char *list, int len, const char *s);
/* The idx-th (address, size) pair of `reg`, using the parent's cells. */
int fdt_get_reg(const struct fdt *f, int node, int idx, uint64_t *addr, uint64_t *size);
/* A property's first cell (u32), or def when missing/short. */
uint32_t fdt_getprop_u32(const struct fdt *f, int node, const char *name, uint32_t def);
/* Overwrite an existing 4-byte property in place. */
int fdt_setprop_u32_inplace(const struct fdt *f, int node, const char *name, uint32_t v);
/* Set an existing property to the string val, growing or shrinking it in
 * place: what follows moves, into the slack at the blob's end when it grows
 * (dtc -p). Node offsets after the property change. -1 (blob untouched):
 * no such property, not enough slack, or strings before the structure. */
int fdt_setprop_string(struct fdt *f, int node, const char *name, const char *val);
/* Node by phandle, or -1. */
int fdt_node_by_phandle(const struct fdt *f, uint32_t phandle);

#endif
