#ifndef TESSERA_LIB_PRINTF_H
#define TESSERA_LIB_PRINTF_H

#include <stdarg.h>
#include "lib/types.h"

/* Formats %d %i %u %x %X %p %s %c %% with flags '-', '0', a width and the
 * length modifiers l, ll, z. Always NUL-terminates when size > 0; returns
 * the length the full output would have had. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
