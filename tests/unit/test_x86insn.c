/* The x86 MMIO instruction decoder (arch/x86_64/insn.c). The byte strings
 * below were produced by GNU as from the instruction in each comment. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/insn.h"

struct vec {
	const char *what;
	bool lm;
	uint8_t bytes[16];
	unsigned n;
	/* expectations */
	uint8_t len, size, reg, dst_size;
	bool store, has_imm, high_byte, sext;
	uint64_t imm;
};

static const struct vec vecs[] = {
	{ "mov %eax,(%rdi)", 1, { 0x89, 0x07 }, 2, 2, 4, 0, 4, 1, 0, 0, 0, 0 },
	{ "mov 0x20(%rdi),%eax", 1, { 0x8b, 0x47, 0x20 }, 3, 3, 4, 0, 4, 0, 0, 0, 0, 0 },
	{ "mov %rax,(%rsp)", 1, { 0x48, 0x89, 0x04, 0x24 }, 4, 4, 8, 0, 8, 1, 0, 0, 0, 0 },
	{ "movl $0x12345678,(%rdi)", 1, { 0xc7, 0x07, 0x78, 0x56, 0x34, 0x12 }, 6,
	  6, 4, 0, 4, 1, 1, 0, 0, 0x12345678 },
	{ "mov %ax,(%rdi)", 1, { 0x66, 0x89, 0x07 }, 3, 3, 2, 0, 2, 1, 0, 0, 0, 0 },
	{ "mov %ah,(%rdi)", 1, { 0x88, 0x27 }, 2, 2, 1, 0, 1, 1, 0, 1, 0, 0 },
	{ "mov %sil,(%rdi)", 1, { 0x40, 0x88, 0x37 }, 3, 3, 1, 6, 1, 1, 0, 0, 0, 0 },
	{ "movabs 0xfec00000,%eax", 1, { 0xa1, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0 }, 9,
	  9, 4, 0, 4, 0, 0, 0, 0, 0 },
	{ "movzbl (%rdi),%eax", 1, { 0x0f, 0xb6, 0x07 }, 3, 3, 1, 0, 4, 0, 0, 0, 0, 0 },
	{ "mov 0x8(%rdi),%r9d", 1, { 0x44, 0x8b, 0x4f, 0x08 }, 4, 4, 4, 9, 4, 0, 0, 0, 0, 0 },
	{ "mov 0x10(%rip),%ecx", 1, { 0x8b, 0x0d, 0x10, 0, 0, 0 }, 6, 6, 4, 1, 4, 0, 0, 0, 0, 0 },
	{ "movq $-1,0x300(%rbx)", 1, { 0x48, 0xc7, 0x83, 0x00, 0x03, 0, 0, 0xff, 0xff, 0xff, 0xff },
	  11, 11, 8, 0, 8, 1, 1, 0, 0, ~0ULL },
	{ "movb $0x5a,(%rdx,%rcx,4)", 1, { 0xc6, 0x04, 0x8a, 0x5a }, 4, 4, 1, 0, 1, 1, 1, 0, 0, 0x5a },
	{ "movswl 0x2(%r12),%edx", 1, { 0x41, 0x0f, 0xbf, 0x54, 0x24, 0x02 }, 6,
	  6, 2, 2, 4, 0, 0, 0, 1, 0 },
	{ "mov %r15,0x1000(%r13)", 1, { 0x4d, 0x89, 0xbd, 0x00, 0x10, 0, 0 }, 7,
	  7, 8, 15, 8, 1, 0, 0, 0, 0 },
	{ "32: mov %eax,(%edi)", 0, { 0x89, 0x07 }, 2, 2, 4, 0, 4, 1, 0, 0, 0, 0 },
	{ "32: mov 0xfec00010,%eax", 0, { 0xa1, 0x10, 0, 0xc0, 0xfe }, 5, 5, 4, 0, 4, 0, 0, 0, 0, 0 },
	{ "32: mov %eax,0xfec00000", 0, { 0xa3, 0, 0, 0xc0, 0xfe }, 5, 5, 4, 0, 4, 1, 0, 0, 0, 0 },
	{ "32: movw $0x1234,0x4(%ebx)", 0, { 0x66, 0xc7, 0x43, 0x04, 0x34, 0x12 }, 6,
	  6, 2, 0, 2, 1, 1, 0, 0, 0x1234 },
	{ "32: mov 0x8(%esi,%ecx,2),%dl", 0, { 0x8a, 0x54, 0x4e, 0x08 }, 4, 4, 1, 2, 1, 0, 0, 0, 0, 0 },
	{ "32: 0x40 is INC, not REX", 0, { 0x40, 0x89, 0x07 }, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
};

static void test_vectors(void **state)
{
	(void)state;
	for (unsigned k = 0; k < sizeof(vecs) / sizeof(vecs[0]); k++) {
		const struct vec *v = &vecs[k];
		struct x86_mem_insn m;
		int r = x86_decode_mem(v->bytes, v->n, v->lm, &m);

		if (v->len == 0) {
			assert_int_equal(r, -1);
			continue;
		}
		if (r != 0)
			fail_msg("%s: not decoded", v->what);
		if (m.len != v->len || m.size != v->size || m.reg != v->reg ||
		    m.store != v->store || m.has_imm != v->has_imm ||
		    m.high_byte != v->high_byte || m.sext != v->sext ||
		    (!v->store && m.dst_size != v->dst_size) || (v->has_imm && m.imm != v->imm))
			fail_msg("%s: len %u size %u reg %u store %d imm %d/%llx high %d sext %d dst %u",
				 v->what, m.len, m.size, m.reg, m.store, m.has_imm,
				 (unsigned long long)m.imm, m.high_byte, m.sext, m.dst_size);
	}
}

static void test_truncated_never_reads_past(void **state)
{
	(void)state;
	for (unsigned k = 0; k < sizeof(vecs) / sizeof(vecs[0]); k++) {
		const struct vec *v = &vecs[k];

		for (unsigned n = 0; n < v->n; n++) {
			uint8_t *buf = malloc(n ? n : 1);   /* exact size: ASan sees overreads */
			struct x86_mem_insn m;

			memcpy(buf, v->bytes, n);
			assert_int_equal(x86_decode_mem(buf, n, v->lm, &m), -1);
			free(buf);
		}
	}
}

static void test_rejects(void **state)
{
	static const uint8_t cases[][4] = {
		{ 0x89, 0xc7 },                 /* mov %eax,%edi: register operand */
		{ 0x01, 0x07 },                 /* add %eax,(%rdi) */
		{ 0xc7, 0x4f, 0x10, 0x00 },     /* C7 with /1 */
		{ 0xf3, 0xa5 },                 /* rep movsl */
		{ 0x0f, 0xb1, 0x07 },           /* cmpxchg */
		{ 0x0f, 0xb6, 0xc0 },           /* movzbl %al,%eax */
	};
	struct x86_mem_insn m;

	(void)state;
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		assert_int_equal(x86_decode_mem(cases[k], 4, true, &m), -1);
}

static void test_random_bytes(void **state)
{
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	uint8_t buf[15];
	struct x86_mem_insn m;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		for (unsigned k = 0; k < sizeof(buf); k++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			buf[k] = (uint8_t)x;
		}
		unsigned n = (unsigned)(x >> 60);
		if (x86_decode_mem(buf, n, (x >> 20) & 1, &m) == 0) {
			assert_true(m.len >= 1 && m.len <= n);
			assert_true(m.size == 1 || m.size == 2 || m.size == 4 || m.size == 8);
			assert_true(m.reg < 16);
			assert_true(!m.high_byte || m.reg < 4);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_truncated_never_reads_past),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_random_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
