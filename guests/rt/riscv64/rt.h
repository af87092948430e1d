/*
 * Tessera riscv64 guest runtime: everything a test guest needs, nothing from
 * the hypervisor.  A guest defines
 *     void gmain(unsigned long hartid, const void *fdt);
 * and optionally
 *     void gsecondary(unsigned long hartid, unsigned long opaque);
 * crt0 calls rt_init() before gmain(); when gmain returns the VM is shut down.
 */
#ifndef GUEST_RT_H
#define GUEST_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "rt_conf.h"
#include "csr.h"
#include "fdt.h"
#include "sbi.h"

#define __noreturn __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))

/* ---- entry points (provided by the guest) */
void gmain(unsigned long hartid, const void *fdt);
void gsecondary(unsigned long hartid, unsigned long opaque);   /* weak default: hart_stop */

/* ---- symbols from crt0.S / the linker script */
extern char _start[], _secondary[];
extern char __image_start[], __image_end[], _end[];

/* ---- runtime state, filled by rt_init() from the device tree */
struct rt_info {
    const void *fdt;
    const char *vm_name;          /* /chosen/tessera,vm-name or "unknown" */
    const char *bootargs;         /* /chosen/bootargs or "" */
    uint64_t    timebase_hz;      /* /cpus/timebase-frequency or 10 MHz */
    uintptr_t   uart_base;        /* ns16550(a) node, 0 if none */
    unsigned    uart_shift;       /* reg-shift */
    unsigned    uart_width;       /* reg-io-width: 1 or 4 */
    uint64_t    ram_base, ram_size;   /* first /memory reg pair */
    int         ncpus;            /* number of cpu@N nodes under /cpus */
    unsigned long boot_hart;
};
extern struct rt_info rt;

void rt_init(unsigned long hartid, const void *fdt);

static inline unsigned long rt_hartid(void)
{
    unsigned long tp;
    __asm__ volatile("mv %0, tp" : "=r"(tp));
    return tp;
}

/* ---- console: 16550 polled TX (falls back to SBI DBCN / legacy putchar) */
void rt_putc(char c);
void rt_puts(const char *s);            /* no newline added */
int  printf(const char *fmt, ...) __printf(1, 2);
int  vprintf(const char *fmt, va_list ap);
int  snprintf(char *buf, size_t n, const char *fmt, ...) __printf(3, 4);
int  vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
void rt_console_lock(void);             /* recursive per hart */
void rt_console_unlock(void);

/* ---- bootargs: space separated key=value */
int  rt_arg_str(const char *key, char *buf, size_t n);         /* 1 if present */
unsigned long rt_arg_ulong(const char *key, unsigned long def);
long rt_arg_long(const char *key, long def);
/* Parse an unsigned number at *s ("0x" prefix = hex, else `base`); advances *s. */
int  rt_parse_ulong(const char **s, unsigned long *out, int base);

/* ---- time (rdtime ticks at rt.timebase_hz) */
static inline uint64_t rt_now(void) { return rdtime(); }
uint64_t rt_ticks_to_us(uint64_t ticks);
uint64_t rt_ticks_to_ms(uint64_t ticks);
int64_t  rt_sticks_to_us(int64_t ticks);
uint64_t rt_us_to_ticks(uint64_t us);
void     rt_delay_us(uint64_t us);

/* ---- traps */
struct trap_frame {
    unsigned long x[32];          /* x[0] unused; x[2] = sp at the time of the trap */
    unsigned long sepc, sstatus, scause, stval;
};
typedef void (*rt_trap_fn)(struct trap_frame *f);
void rt_set_trap_handler(rt_trap_fn fn);       /* NULL = default */
void rt_default_trap(struct trap_frame *f) __noreturn;   /* print + shutdown */
void rt_trap_vector(void);                     /* assembly, installed in stvec */

/* ---- power */
void rt_shutdown(void) __noreturn;
void rt_reboot(int warm) __noreturn;
void rt_hart_stop(void) __noreturn;
void panic(const char *fmt, ...) __printf(1, 2) __noreturn;

/* ---- string */
void  *memset(void *d, int c, size_t n);
void  *memcpy(void *d, const void *s, size_t n);
void  *memmove(void *d, const void *s, size_t n);
int    memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int    strcmp(const char *a, const char *b);
int    strncmp(const char *a, const char *b, size_t n);
char  *strchr(const char *s, int c);

#endif
