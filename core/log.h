/* The hypervisor's own console lines: "[tessera] ...". Never on a hot path. */
#ifndef TESSERA_CORE_LOG_H
#define TESSERA_CORE_LOG_H

#include "lib/types.h"

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };
extern enum log_level log_level;

void log_printf(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...)   log_printf(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)  log_printf(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_printf(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_printf(LOG_DEBUG, __VA_ARGS__)

__attribute__((noreturn, format(printf, 3, 4)))
void panic_at(const char *file, int line, const char *fmt, ...);
#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)
#define ASSERT(c) do { if (unlikely(!(c))) panic_at(__FILE__, __LINE__, "assertion failed: %s", #c); } while (0)

#endif
