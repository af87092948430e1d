/* Shared helpers for Tessera's libFuzzer harnesses (tests/fuzz, issue 8).
 * Built on the host with clang -fsanitize=fuzzer,address,undefined and
 * -DTESSERA_HOST_TEST; see mk/fuzz.mk. A failed CHECK aborts, which
 * libFuzzer reports as a crash and saves the input. */
#ifndef TESSERA_TESTS_FUZZ_COMMON_H
#define TESSERA_TESTS_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

/* A cursor over the fuzz input; reads past the end return zeros. */
struct in {
	const uint8_t *p;
	size_t n;
};

static inline int in_left(const struct in *in)
{
	return in->n > 0;
}

static inline uint8_t in_u8(struct in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static inline uint64_t in_bytes(struct in *in, unsigned k)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < k; i++)
		v |= (uint64_t)in_u8(in) << (8 * i);
	return v;
}

static inline uint64_t in_u64(struct in *in)
{
	return in_bytes(in, 8);
}

#endif
