/*
 * Minimal read-only flattened device tree walker (no libfdt).
 * Node handles are byte offsets of FDT_BEGIN_NODE tokens inside the
 * structure block; -1 means "not found".
 */
#ifndef GUEST_RT_FDT_H
#define GUEST_RT_FDT_H

#include <stdint.h>

int fdt_check(const void *fdt);                 /* 0 if the header looks sane */
/* Next node after `off` (first = root if off < 0); *depth tracks nesting (root = 0). */
int fdt_next_node(const void *fdt, int off, int *depth);
const char *fdt_node_name(const void *fdt, int off);
const void *fdt_getprop(const void *fdt, int off, const char *name, int *len);
/* "/chosen", "/cpus/cpu@1", "/soc/serial" (a component without '@' matches any unit address). */
int fdt_path_offset(const void *fdt, const char *path);
/* First node after `after` (-1: from the start) whose compatible list contains `compat`. */
int fdt_node_by_compatible(const void *fdt, int after, const char *compat);
/* idx-th (address, size) pair of `reg`, decoded with the parent's #address-cells/#size-cells. */
int fdt_node_reg(const void *fdt, int off, int idx, uint64_t *addr, uint64_t *size);
const char *fdt_getprop_str(const void *fdt, const char *path, const char *name);
int fdt_getprop_u32(const void *fdt, int off, const char *name, uint32_t *out);
uint32_t fdt_be32(const void *p);

#endif
