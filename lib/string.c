/* Freestanding string and memory routines (the compiler may also emit calls
 * to memset/memcpy for struct copies, so these must exist). */
#include "lib/string.h"

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;

#if defined(__x86_64__)
	/* Whole pages (lazy RAM's chunks, page tables): REP STOSQ, which
	 * emulators run as one instruction, not a loop of them (Bochs clears
	 * a 2 MiB chunk in a fraction of the time, inside a VM's slice). */
	if (n >= 4096 && !((uintptr_t)p & 7)) {
		uint64_t w = (uint8_t)c * 0x0101010101010101ULL;
		size_t q = n / 8;

		__asm__ volatile("rep stosq" : "+D"(p), "+c"(q) : "a"(w) : "memory");
		n &= 7;
	}
#endif
	/* Word stores once aligned: VM RAM (hundreds of MiB) is cleared here. */
	if (n >= 16) {
		uint64_t w = (uint8_t)c * 0x0101010101010101ULL;

		for (; (uintptr_t)p & 7; n--)
			*p++ = (unsigned char)c;
		for (; n >= 32; n -= 32, p += 32) {
			((uint64_t *)(void *)p)[0] = w;
			((uint64_t *)(void *)p)[1] = w;
			((uint64_t *)(void *)p)[2] = w;
			((uint64_t *)(void *)p)[3] = w;
		}
		for (; n >= 8; n -= 8, p += 8)
			*(uint64_t *)(void *)p = w;
	}
	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

#if defined(__x86_64__)
	if (n >= 4096 && !((((uintptr_t)dp | (uintptr_t)sp) & 7))) {    /* images */
		size_t q = n / 8;

		__asm__ volatile("rep movsq" : "+D"(dp), "+S"(sp), "+c"(q) : : "memory");
		n &= 7;
	}
#endif
	/* Word copies when both sides are aligned: guest images are large. */
	if ((((uintptr_t)dp | (uintptr_t)sp) & 7) == 0) {
		for (; n >= 32; n -= 32, dp += 32, sp += 32) {
			uint64_t w0 = ((const uint64_t *)(const void *)sp)[0];
			uint64_t w1 = ((const uint64_t *)(const void *)sp)[1];
			uint64_t w2 = ((const uint64_t *)(const void *)sp)[2];
			uint64_t w3 = ((const uint64_t *)(const void *)sp)[3];

			((uint64_t *)(void *)dp)[0] = w0;
			((uint64_t *)(void *)dp)[1] = w1;
			((uint64_t *)(void *)dp)[2] = w2;
			((uint64_t *)(void *)dp)[3] = w3;
		}
		for (; n >= 8; n -= 8, dp += 8, sp += 8)
			*(uint64_t *)(void *)dp = *(const uint64_t *)(const void *)sp;
	}
	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	if (dp == sp || n == 0)
		return d;
	if (dp < sp || dp >= sp + n)
		return memcpy(d, s, n);
	while (n--)
		dp[n] = sp[n];
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}
