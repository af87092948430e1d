/* A tiny flattened-devicetree writer for host unit tests, following the
 * Devicetree Specification (v0.4, chapter 5 "Flattened Devicetree (DTB)
 * Format"): a 40-byte big-endian header, the memory reservation block (here
 * just its terminating all-zero entry), the structure block of
 * FDT_BEGIN_NODE / FDT_PROP / FDT_END_NODE / FDT_NOP / FDT_END tokens and
 * the strings block of property names.
 *
 *     struct fdtb b;
 *     fdtb_init(&b);
 *     fdtb_begin(&b, "");
 *     fdtb_prop_u32(&b, "#address-cells", 2);
 *     fdtb_end(&b);
 *     size_t n = fdtb_finish(&b);      // blob in b.out[0..n)
 *
 * Overflowing the fixed buffers aborts the test program. */
#ifndef TESSERA_TESTS_UNIT_FDT_BUILDER_H
#define TESSERA_TESTS_UNIT_FDT_BUILDER_H

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FDTB_MAX 16384

enum {
	FDTB_BEGIN_NODE = 1, FDTB_END_NODE = 2, FDTB_PROP = 3, FDTB_NOP = 4,
	FDTB_END = 9,
};

struct fdtb {
	uint8_t st[FDTB_MAX];           /* structure block */
	uint32_t st_len;
	char str[FDTB_MAX];             /* strings block */
	uint32_t str_len;
	uint8_t out[3 * FDTB_MAX];      /* the finished blob */
	uint32_t version, last_comp;
};

static inline void fdtb_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void fdtb_init(struct fdtb *b)
{
	memset(b, 0, sizeof(*b));
	b->version = 17;
	b->last_comp = 16;
}

static inline void fdtb_raw(struct fdtb *b, const void *data, uint32_t len)
{
	if (b->st_len + len + 3 > FDTB_MAX)
		abort();
	memcpy(b->st + b->st_len, data, len);
	b->st_len += len;
	while (b->st_len & 3)           /* tokens are 4-byte aligned, zero padded */
		b->st[b->st_len++] = 0;
}

static inline void fdtb_token(struct fdtb *b, uint32_t tok)
{
	uint8_t t[4];

	fdtb_be32(t, tok);
	fdtb_raw(b, t, 4);
}

static inline void fdtb_begin(struct fdtb *b, const char *name)
{
	fdtb_token(b, FDTB_BEGIN_NODE);
	fdtb_raw(b, name, (uint32_t)strlen(name) + 1);
}

static inline void fdtb_end(struct fdtb *b)
{
	fdtb_token(b, FDTB_END_NODE);
}

static inline void fdtb_nop(struct fdtb *b)
{
	fdtb_token(b, FDTB_NOP);
}

/* Offset of name in the strings block, adding it when new. */
static inline uint32_t fdtb_string(struct fdtb *b, const char *name)
{
	uint32_t n = (uint32_t)strlen(name) + 1;

	for (uint32_t o = 0; o < b->str_len; o += (uint32_t)strlen(b->str + o) + 1)
		if (strcmp(b->str + o, name) == 0)
			return o;
	if (b->str_len + n > FDTB_MAX)
		abort();
	memcpy(b->str + b->str_len, name, n);
	b->str_len += n;
	return b->str_len - n;
}

/* Current structure-block offset: the offset the next node will have. */
static inline int fdtb_offset(const struct fdtb *b)
{
	return (int)b->st_len;
}

static inline void fdtb_prop(struct fdtb *b, const char *name, const void *data, uint32_t len)
{
	uint8_t h[12];

	fdtb_be32(h, FDTB_PROP);
	fdtb_be32(h + 4, len);
	fdtb_be32(h + 8, fdtb_string(b, name));
	fdtb_raw(b, h, 12);
	if (len)
		fdtb_raw(b, data, len);
}

static inline void fdtb_prop_empty(struct fdtb *b, const char *name)
{
	fdtb_prop(b, name, NULL, 0);
}

static inline void fdtb_prop_str(struct fdtb *b, const char *name, const char *s)
{
	fdtb_prop(b, name, s, (uint32_t)strlen(s) + 1);
}

static inline void fdtb_prop_u32(struct fdtb *b, const char *name, uint32_t v)
{
	uint8_t d[4];

	fdtb_be32(d, v);
	fdtb_prop(b, name, d, 4);
}

/* n big-endian cells given as unsigned int arguments. */
static inline void fdtb_prop_cells(struct fdtb *b, const char *name, unsigned n, ...)
{
	uint8_t d[64 * 4];
	va_list ap;

	if (n > 64)
		abort();
	va_start(ap, n);
	for (unsigned i = 0; i < n; i++)
		fdtb_be32(d + 4 * i, va_arg(ap, unsigned));
	va_end(ap);
	fdtb_prop(b, name, d, 4 * n);
}

/* Append FDT_END, lay the blob out in b->out and return its total size.
 * Layout: header (40) | memory reservation block (16, terminator only) |
 * structure block | strings block. */
static inline uint32_t fdtb_finish(struct fdtb *b)
{
	uint32_t off_rsv = 40, off_st = off_rsv + 16, off_str, total;

	fdtb_token(b, FDTB_END);
	off_str = off_st + b->st_len;
	total = off_str + b->str_len;
	if (total > sizeof(b->out))
		abort();
	memset(b->out, 0, sizeof(b->out));
	fdtb_be32(b->out + 0, 0xd00dfeedU);     /* magic */
	fdtb_be32(b->out + 4, total);           /* totalsize */
	fdtb_be32(b->out + 8, off_st);          /* off_dt_struct */
	fdtb_be32(b->out + 12, off_str);        /* off_dt_strings */
	fdtb_be32(b->out + 16, off_rsv);        /* off_mem_rsvmap */
	fdtb_be32(b->out + 20, b->version);     /* version */
	fdtb_be32(b->out + 24, b->last_comp);   /* last_comp_version */
	fdtb_be32(b->out + 28, 0);              /* boot_cpuid_phys */
	fdtb_be32(b->out + 32, b->str_len);     /* size_dt_strings */
	fdtb_be32(b->out + 36, b->st_len);      /* size_dt_struct */
	memcpy(b->out + off_st, b->st, b->st_len);
	memcpy(b->out + off_str, b->str, b->str_len);
	return total;
}

#endif
