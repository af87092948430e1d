#include "lib/fdt.h"
#include "lib/string.h"

enum { TOK_BEGIN = 1, TOK_END = 2, TOK_PROP = 3, TOK_NOP = 4, TOK_FINISH = 9 };

int fdt_init(struct fdt *f, void *blob, size_t max_size)
{
	const uint8_t *h = blob;
	uint32_t total;

	if (!blob || max_size < 40 || fdt32_ld(h) != FDT_MAGIC)
		return -1;
	total = fdt32_ld(h + 4);
	if (total < 40 || total > max_size || fdt32_ld(h + 20) < 16)
		return -1;
	f->blob = blob;
	f->size = total;
	f->off_struct = fdt32_ld(h + 8);
	f->off_strings = fdt32_ld(h + 12);
	f->size_strings = fdt32_ld(h + 32);
	f->size_struct = fdt32_ld(h + 36);
	if (f->off_struct > total || f->size_struct > total - f->off_struct ||
	    f->off_strings > total || f->size_strings > total - f->off_strings ||
	    (f->off_struct & 3) || (f->size_struct & 3))
		return -1;
	return 0;
}

/* Read the token at structure offset `off`; sets *next to the following
 * token's offset. Returns the token or -1 when the tree is malformed. */
static int token_at(const struct fdt *f, int off, int *next)
{
	const uint8_t *s = f->blob + f->off_struct;
	uint32_t end = f->size_struct, tok, len, o;

	if (off < 0 || end < 4 || (uint32_t)off > end - 4 || (off & 3))
		return -1;
	o = (uint32_t)off;
	tok = fdt32_ld(s + o);
	o += 4;
	switch (tok) {
	case TOK_BEGIN:
		while (o < end && s[o])
			o++;
		if (o >= end)
			return -1;
		o = ALIGN_UP(o + 1, 4);
		break;
	case TOK_PROP:
		if (end - o < 8)        /* o <= end here */
			return -1;
		len = fdt32_ld(s + o);
		if (len > end - o - 8)
			return -1;
		o = ALIGN_UP(o + 8 + len, 4);
		break;
	case TOK_END:
	case TOK_NOP:
	case TOK_FINISH:
		break;
	default:
		return -1;
	}
	if (o > end)
		return -1;
	*next = (int)o;
	return (int)tok;
}

int fdt_next_node(const struct fdt *f, int node, int *depth)
{
	int off = 0, next, tok;

	if (node >= 0) {
		if (token_at(f, node, &off) != TOK_BEGIN)
			return -1;
	}
	for (;;) {
		tok = token_at(f, off, &next);
		if (tok < 0 || tok == TOK_FINISH)
			return -1;
		if (tok == TOK_BEGIN) {
			if (node >= 0)
				(*depth)++;
			else
				*depth = 0;
			return off;
		}
		if (tok == TOK_END) {
			if (node < 0 || --(*depth) < 0)
				return -1;
		}
		off = next;
	}
}

const char *fdt_node_name(const struct fdt *f, int node)
{
	int next;

	if (token_at(f, node, &next) != TOK_BEGIN)
		return NULL;
	return (const char *)f->blob + f->off_struct + node + 4;
}

static const char *string_at(const struct fdt *f, uint32_t nameoff)
{
	const char *s = (const char *)f->blob + f->off_strings;

	if (nameoff >= f->size_strings)
		return NULL;
	/* must be NUL-terminated inside the strings block */
	if (strnlen(s + nameoff, f->size_strings - nameoff) == f->size_strings - nameoff)
		return NULL;
	return s + nameoff;
}

const void *fdt_getprop(const struct fdt *f, int node, const char *name, int *len)
{
	const uint8_t *s = f->blob + f->off_struct;
	int off, tok;

	if (token_at(f, node, &off) != TOK_BEGIN)
		return NULL;
	for (;;) {
		int next;

		tok = token_at(f, off, &next);
		if (tok == TOK_NOP) {
			off = next;
			continue;
		}
		if (tok != TOK_PROP)
			return NULL;
		const char *pn = string_at(f, fdt32_ld(s + off + 8));
		if (pn && strcmp(pn, name) == 0) {
			if (len)
				*len = (int)fdt32_ld(s + off + 4);
			return s + off + 12;
		}
		off = next;
	}
}

static bool name_matches(const char *node, const char *comp, size_t clen)
{
	bool comp_has_unit = false;

	for (size_t i = 0; i < clen; i++)
		if (comp[i] == '@')
			comp_has_unit = true;
	if (strncmp(node, comp, clen) != 0)
		return false;
	return node[clen] == '\0' || (node[clen] == '@' && !comp_has_unit);
}

int fdt_path_offset(const struct fdt *f, const char *path)
{
	int node, depth = 0, want = 0;

	if (!path || path[0] != '/')
		return -1;
	node = fdt_next_node(f, -1, &depth);
	while (node >= 0) {
		const char *comp;
		size_t clen = 0;

		while (*path == '/')
			path++;
		if (!*path)
			return node;
		comp = path;
		while (comp[clen] && comp[clen] != '/')
			clen++;
		want++;
		/* search the children of `node` for comp */
		for (;;) {
			node = fdt_next_node(f, node, &depth);
			if (node < 0 || depth < want)
				return -1;
			if (depth == want && name_matches(fdt_node_name(f, node), comp, clen))
				break;
		}
		path = comp + clen;
	}
	return -1;
}

int fdt_parent_offset(const struct fdt *f, int node)
{
	int stack[32], depth = 0, n;

	n = fdt_next_node(f, -1, &depth);
	while (n >= 0 && depth < (int)ARRAY_SIZE(stack)) {
		stack[depth] = n;
		if (n == node)
			return depth > 0 ? stack[depth - 1] : -1;
		n = fdt_next_node(f, n, &depth);
	}
	return -1;
}

bool fdt_stringlist_contains(const char *list, int len, const char *s)
{
	size_t sl = strlen(s);

	while (len > 0) {
		size_t l = strnlen(list, (size_t)len);

		if (l == sl && memcmp(list, s, sl) == 0)
			return true;
		list += l + 1;
		len -= (int)l + 1;
	}
	return false;
}

int fdt_node_by_compatible(const struct fdt *f, int start, const char *compat)
{
	int depth = 0, node = start, len;

	if (start < 0) {
		node = fdt_next_node(f, -1, &depth);
	} else {
		/* walk on past start's own subtree, to the end of the tree */
		depth = 1 << 20;
		node = fdt_next_node(f, start, &depth);
	}
	for (; node >= 0; node = fdt_next_node(f, node, &depth)) {
		const char *c = fdt_getprop(f, node, "compatible", &len);

		if (c && len > 0 && fdt_stringlist_contains(c, len, compat))
			return node;
	}
	return -1;
}

uint32_t fdt_getprop_u32(const struct fdt *f, int node, const char *name, uint32_t def)
{
	int len;
	const void *p = fdt_getprop(f, node, name, &len);

	return (p && len >= 4) ? fdt32_ld(p) : def;
}

static uint64_t read_cells(const uint8_t *p, uint32_t cells)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < cells; i++)
		v = (v << 32) | fdt32_ld(p + 4 * i);
	return v;
}

int fdt_get_reg(const struct fdt *f, int node, int idx, uint64_t *addr, uint64_t *size)
{
	int parent = fdt_parent_offset(f, node), len;
	uint32_t ac, sc, stride;
	const uint8_t *reg;

	if (parent < 0 || idx < 0)
		return -1;
	ac = fdt_getprop_u32(f, parent, "#address-cells", 2);
	sc = fdt_getprop_u32(f, parent, "#size-cells", 1);
	if (ac < 1 || ac > 2 || sc > 2)
		return -1;
	reg = fdt_getprop(f, node, "reg", &len);
	stride = 4 * (ac + sc);
	if (!reg || len < 0 || ((uint64_t)idx + 1) * stride > (uint64_t)len)
		return -1;
	reg += (uint32_t)idx * stride;
	*addr = read_cells(reg, ac);
	*size = read_cells(reg + 4 * ac, sc);
	return 0;
}

int fdt_setprop_u32_inplace(const struct fdt *f, int node, const char *name, uint32_t v)
{
	int len;
	uint8_t *p = (uint8_t *)(uintptr_t)fdt_getprop(f, node, name, &len);

	if (!p || len != 4)
		return -1;
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 0;
}

static void fdt32_st(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int fdt_setprop_string(struct fdt *f, int node, const char *name, const char *val)
{
	int len;
	uint8_t *p = (uint8_t *)(uintptr_t)fdt_getprop(f, node, name, &len);
	uint32_t n = (uint32_t)strlen(val) + 1, old_sz, new_sz, tail, end;

	/* dtc's layout: the strings block follows the structure block, and
	 * the slack (dtc -p) follows both. */
	if (!p || n > f->size || f->off_strings < f->off_struct + f->size_struct)
		return -1;
	old_sz = ALIGN_UP((uint32_t)len, 4);
	new_sz = ALIGN_UP(n, 4);
	tail = (uint32_t)(p - f->blob) + old_sz;
	end = f->off_strings + f->size_strings;
	if (new_sz > old_sz && new_sz - old_sz > f->size - end)
		return -1;
	memmove(p + new_sz, p + old_sz, end - tail);
	if (new_sz < old_sz)
		memset(f->blob + end - (old_sz - new_sz), 0, old_sz - new_sz);
	memset(p, 0, new_sz);
	memcpy(p, val, n);
	fdt32_st(p - 8, n);
	f->size_struct = f->size_struct + new_sz - old_sz;
	f->off_strings = f->off_strings + new_sz - old_sz;
	fdt32_st(f->blob + 12, f->off_strings);
	fdt32_st(f->blob + 36, f->size_struct);
	return 0;
}

int fdt_node_by_phandle(const struct fdt *f, uint32_t phandle)
{
	int depth = 0, node;

	for (node = fdt_next_node(f, -1, &depth); node >= 0;
	     node = fdt_next_node(f, node, &depth))
		if (fdt_getprop_u32(f, node, "phandle", 0) == phandle && phandle)
			return node;
	return -1;
}
