/*
 * The architecture-neutral half of the guest runtime API, shared by
 * guests/rt/riscv64 and guests/rt/x86_64. A guest includes only "rt.h"
 * (its architecture's), which includes this file.
 *
 * The code in guests/common/ is compiled once per architecture, against that
 * architecture's rt.h. What it relies on from there:
 *   struct rt_info rt      with at least  const char *vm_name, *bootargs;
 *                          uint64_t timebase_hz, ram_base, ram_size;
 *                          int ncpus; unsigned long boot_hart
 *   rt_now()               free-running tick counter at rt.timebase_hz
 *   rt_putc()              one console byte
 *   rt_hartid()            the caller's hart / vCPU id (for the console lock)
 *   rt_shutdown()
 *
 * Every architecture's runtime also provides the calls declared at the end
 * (Tessera services: VM id, vCPU id, yield, restart count, power).
 */
#ifndef GUEST_RT_COMMON_H
#define GUEST_RT_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define __noreturn __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))

/* ---- console (printf.c; rt_putc is the architecture's) */
void rt_putc(char c);
void rt_puts(const char *s);            /* no newline added */
int  printf(const char *fmt, ...) __printf(1, 2);
int  vprintf(const char *fmt, va_list ap);
int  snprintf(char *buf, size_t n, const char *fmt, ...) __printf(3, 4);
int  vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
void rt_console_lock(void);             /* recursive per hart / vCPU */
void rt_console_unlock(void);
/* Prints "panic: <message>" and shuts the VM down. */
void panic(const char *fmt, ...) __printf(1, 2) __noreturn;

/* ---- bootargs (args.c): space separated key=value */
int  rt_arg_str(const char *key, char *buf, size_t n);         /* 1 if present */
unsigned long rt_arg_ulong(const char *key, unsigned long def);
long rt_arg_long(const char *key, long def);
/* Parse an unsigned number at *s ("0x" prefix = hex, else `base`); advances *s. */
int  rt_parse_ulong(const char **s, unsigned long *out, int base);

/* ---- time (time.c): rt_now() ticks at rt.timebase_hz */
uint64_t rt_ticks_to_us(uint64_t ticks);
uint64_t rt_ticks_to_ms(uint64_t ticks);
int64_t  rt_sticks_to_us(int64_t ticks);
uint64_t rt_us_to_ticks(uint64_t us);
void     rt_delay_us(uint64_t us);

/* ---- CPU work (work.c): RT_WORK_STEPS xorshift64 steps on x, the unit of
 * progress of the CPU-hog guests */
#define RT_WORK_STEPS 1000
uint64_t rt_work(uint64_t x);

/* ---- PRNG (rand.c): xorshift64* over rt_rng_state (never 0), seeded by
 * the guest, e.g. with rt_splitmix(seed) */
extern uint64_t rt_rng_state;
uint64_t rt_splitmix(uint64_t x);
uint64_t rt_rnd(void);
uint64_t rt_below(uint64_t n);          /* uniform-ish in [0, n); 0 when n is 0 */

/* ---- Tessera services (the architecture's runtime) */
long rt_vm_id(void);            /* -1 when not running under Tessera */
long rt_vcpu_id(void);          /* -1 when not running under Tessera */
long rt_restarts(void);         /* -1 when not running under Tessera */
void rt_yield(void);            /* give up the rest of the time slice */
void rt_shutdown(void) __noreturn;
void rt_reboot(int warm) __noreturn;

/* ---- string (string.c) */
void  *memset(void *d, int c, size_t n);
void  *memcpy(void *d, const void *s, size_t n);
void  *memmove(void *d, const void *s, size_t n);
int    memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int    strcmp(const char *a, const char *b);
int    strncmp(const char *a, const char *b, size_t n);
char  *strchr(const char *s, int c);

#endif
