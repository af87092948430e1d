/*
 * Minimal flattened device tree reader: walks the structure block tokens.
 * Every read is bounds-checked against the header so a garbage pointer or a
 * truncated blob yields "not found" instead of a runaway walk.
 */
#include "rt.h"

#define FDT_MAGIC       0xd00dfeedu
#define FDT_BEGIN_NODE  1
#define FDT_END_NODE    2
#define FDT_PROP        3
#define FDT_NOP         4
#define FDT_END         9
#define FDT_MAX_DEPTH   16

uint32_t fdt_be32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint32_t hdr(const void *fdt, int field) { return fdt_be32((const uint8_t *)fdt + 4 * field); }
static const uint8_t *sblk(const void *fdt) { return (const uint8_t *)fdt + hdr(fdt, 2); }
static uint32_t ssize(const void *fdt) { return hdr(fdt, 9); }
static const char *strs(const void *fdt) { return (const char *)fdt + hdr(fdt, 3); }

int fdt_check(const void *fdt)
{
    if (!fdt || ((uintptr_t)fdt & 3) || hdr(fdt, 0) != FDT_MAGIC || hdr(fdt, 5) < 17)
        return -1;
    uint32_t total = hdr(fdt, 1);
    if (hdr(fdt, 2) + (uint64_t)ssize(fdt) > total || hdr(fdt, 3) + (uint64_t)hdr(fdt, 8) > total)
        return -1;
    return 0;
}

/* Token at *pos; advances *pos past the token and its payload. -1 on overrun. */
static int next_token(const void *fdt, int *pos)
{
    const uint8_t *s = sblk(fdt);
    uint32_t lim = ssize(fdt);
    int p = *pos;
    if (p < 0 || (uint32_t)p + 4 > lim)
        return -1;
    int tok = (int)fdt_be32(s + p);
    p += 4;
    if (tok == FDT_BEGIN_NODE) {
        while ((uint32_t)p < lim && s[p])
            p++;
        p = (p + 1 + 3) & ~3;
    } else if (tok == FDT_PROP) {
        if ((uint32_t)p + 8 > lim)
            return -1;
        p += 8 + ((fdt_be32(s + p) + 3) & ~3u);
    }
    if ((uint32_t)p > lim)
        return -1;
    *pos = p;
    return tok;
}

int fdt_next_node(const void *fdt, int off, int *depth)
{
    int pos = off < 0 ? 0 : off, tok;
    if (off < 0)
        *depth = -1;
    else if (next_token(fdt, &pos) != FDT_BEGIN_NODE)
        return -1;
    for (;;) {
        int at = pos;
        tok = next_token(fdt, &pos);
        if (tok == FDT_BEGIN_NODE) {
            ++*depth;
            return at;
        } else if (tok == FDT_END_NODE) {
            if (--*depth < -1)
                return -1;
        } else if (tok != FDT_PROP && tok != FDT_NOP) {
            return -1;          /* FDT_END or garbage */
        }
    }
}

const char *fdt_node_name(const void *fdt, int off)
{
    return (const char *)sblk(fdt) + off + 4;
}

const void *fdt_getprop(const void *fdt, int off, const char *name, int *len)
{
    if (off < 0)
        return 0;
    int pos = off;
    if (next_token(fdt, &pos) != FDT_BEGIN_NODE)
        return 0;
    for (;;) {
        int at = pos, tok = next_token(fdt, &pos);
        if (tok == FDT_NOP)
            continue;
        if (tok != FDT_PROP)
            return 0;           /* properties precede subnodes */
        const uint8_t *p = sblk(fdt) + at + 4;
        if (hdr(fdt, 3) + fdt_be32(p + 4) >= hdr(fdt, 1))
            return 0;
        if (strcmp(strs(fdt) + fdt_be32(p + 4), name) == 0) {
            if (len)
                *len = (int)fdt_be32(p);
            return p + 8;
        }
    }
}

/* "serial" matches "serial" and "serial@10000000"; "cpu@1" only "cpu@1". */
static int name_matches(const char *node, const char *comp, size_t n)
{
    if (strncmp(node, comp, n) != 0)
        return 0;
    if (node[n] == 0)
        return 1;
    if (node[n] != '@')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (comp[i] == '@')
            return 0;
    return 1;
}

int fdt_path_offset(const void *fdt, const char *path)
{
    int depth = 0, matched = 0, off = -1;
    if (fdt_check(fdt) || !path || path[0] != '/')
        return -1;
    while ((off = fdt_next_node(fdt, off, &depth)) >= 0) {
        if (depth == 0) {
            while (*path == '/')
                path++;
            if (!*path)
                return off;         /* "/" */
            continue;
        }
        if (depth <= matched)
            return -1;              /* left the subtree we were searching in */
        if (depth != matched + 1)
            continue;
        /* component number `matched` */
        const char *c = path;
        for (int i = 0; i < matched; i++) {
            while (*c && *c != '/')
                c++;
            while (*c == '/')
                c++;
        }
        size_t n = 0;
        while (c[n] && c[n] != '/')
            n++;
        if (name_matches(fdt_node_name(fdt, off), c, n)) {
            matched++;
            const char *rest = c + n;
            while (*rest == '/')
                rest++;
            if (!*rest)
                return off;
        }
    }
    return -1;
}

int fdt_node_by_compatible(const void *fdt, int after, const char *compat)
{
    int depth = 0, off = after;
    if (fdt_check(fdt))
        return -1;
    while ((off = fdt_next_node(fdt, off, &depth)) >= 0) {
        int len;
        const char *p = fdt_getprop(fdt, off, "compatible", &len);
        while (p && len > 0) {
            if (strcmp(p, compat) == 0)
                return off;
            int l = (int)strlen(p) + 1;
            p += l;
            len -= l;
        }
    }
    return -1;
}

int fdt_getprop_u32(const void *fdt, int off, const char *name, uint32_t *out)
{
    int len;
    const void *p = fdt_getprop(fdt, off, name, &len);
    if (!p || len != 4)
        return -1;
    *out = fdt_be32(p);
    return 0;
}

const char *fdt_getprop_str(const void *fdt, const char *path, const char *name)
{
    int len;
    const char *p = fdt_getprop(fdt, fdt_path_offset(fdt, path), name, &len);
    if (!p || len < 1 || p[len - 1] != 0)
        return 0;
    return p;
}

static uint64_t read_cells(const uint8_t *p, uint32_t n)
{
    uint64_t v = 0;
    for (uint32_t i = 0; i < n; i++)
        v = v << 32 | fdt_be32(p + 4 * i);
    return v;
}

int fdt_node_reg(const void *fdt, int off, int idx, uint64_t *addr, uint64_t *size)
{
    int stack[FDT_MAX_DEPTH], depth = 0, o = -1;
    if (fdt_check(fdt) || off < 0)
        return -1;
    while ((o = fdt_next_node(fdt, o, &depth)) >= 0 && o != off)
        if (depth < FDT_MAX_DEPTH)
            stack[depth] = o;
    if (o != off || depth < 1 || depth > FDT_MAX_DEPTH)
        return -1;
    uint32_t ac = 2, sc = 1;       /* defaults from the devicetree spec */
    fdt_getprop_u32(fdt, stack[depth - 1], "#address-cells", &ac);
    fdt_getprop_u32(fdt, stack[depth - 1], "#size-cells", &sc);
    if (ac > 2 || sc > 2)
        return -1;
    int len;
    const uint8_t *p = fdt_getprop(fdt, off, "reg", &len);
    uint32_t entry = 4 * (ac + sc);
    if (!p || entry == 0 || (uint32_t)len < entry * (uint32_t)(idx + 1))
        return -1;
    p += entry * (uint32_t)idx;
    *addr = read_cells(p, ac);
    if (size)
        *size = read_cells(p + 4 * ac, sc);
    return 0;
}
