/*
 * printf and friends for every guest architecture, on top of the
 * architecture's rt_putc() and rt_hartid().  A per-hart (per-vCPU)
 * recursive spinlock keeps printf lines from different harts apart (and
 * lets a trap handler print on the hart that holds it).  Tiny printf: %s %c
 * %d %i %u %x %X %p %%, l/ll/z modifiers, '-', '0' and width.
 */
#include "rt.h"

static volatile int con_lock;
static volatile long con_owner = -1;
static int con_depth;

void rt_console_lock(void)
{
    long me = (long)rt_hartid();
    if (con_owner == me) {
        con_depth++;
        return;
    }
    while (__atomic_exchange_n(&con_lock, 1, __ATOMIC_ACQUIRE))
        while (con_lock)
            ;
    con_owner = me;
    con_depth = 1;
}

void rt_console_unlock(void)
{
    if (--con_depth > 0)
        return;
    con_owner = -1;
    __atomic_store_n(&con_lock, 0, __ATOMIC_RELEASE);
}

void rt_puts(const char *s)
{
    rt_console_lock();
    while (*s)
        rt_putc(*s++);
    rt_console_unlock();
}

/* ---- formatter */

struct out {
    char *buf;       /* NULL: console */
    size_t n, len;
};

static void emit(struct out *o, char c)
{
    if (!o->buf)
        rt_putc(c);
    else if (o->len + 1 < o->n)
        o->buf[o->len] = c;
    o->len++;
}

static void emit_num(struct out *o, unsigned long long v, int base, int upper,
                     int neg, int width, int zero, int left, int prefix)
{
    char tmp[24];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        tmp[n++] = digits[v % (unsigned)base];
        v /= (unsigned)base;
    } while (v);
    int extra = (neg ? 1 : 0) + (prefix ? 2 : 0);
    int pad = width - n - extra;
    if (!left && !zero)
        for (; pad > 0; pad--)
            emit(o, ' ');
    if (neg)
        emit(o, '-');
    if (prefix) {
        emit(o, '0');
        emit(o, 'x');
    }
    if (!left && zero)
        for (; pad > 0; pad--)
            emit(o, '0');
    while (n)
        emit(o, tmp[--n]);
    if (left)
        for (; pad > 0; pad--)
            emit(o, ' ');
}

static void format(struct out *o, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            emit(o, *fmt);
            continue;
        }
        int zero = 0, left = 0, width = 0, lng = 0;
        for (;; fmt++) {
            if (fmt[1] == '0')
                zero = 1;
            else if (fmt[1] == '-')
                left = 1;
            else
                break;
        }
        while (fmt[1] >= '0' && fmt[1] <= '9')
            width = width * 10 + (*++fmt - '0');
        while (fmt[1] == 'l' || fmt[1] == 'z') {
            lng++;
            fmt++;
        }
        char c = *++fmt;
        unsigned long long u;
        long long s;
        switch (c) {
        case 'd':
        case 'i':
            s = lng ? va_arg(ap, long) : va_arg(ap, int);
            u = s < 0 ? 0ULL - (unsigned long long)s : (unsigned long long)s;
            emit_num(o, u, 10, 0, s < 0, width, zero, left, 0);
            break;
        case 'u':
        case 'x':
        case 'X':
            u = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
            emit_num(o, u, c == 'u' ? 10 : 16, c == 'X', 0, width, zero, left, 0);
            break;
        case 'p':
            u = (uintptr_t)va_arg(ap, void *);
            emit_num(o, u, 16, 0, 0, width, zero, left, 1);
            break;
        case 'c': {
            int pad = width - 1;
            if (!left)
                for (; pad > 0; pad--)
                    emit(o, ' ');
            emit(o, (char)va_arg(ap, int));
            for (; pad > 0; pad--)
                emit(o, ' ');
            break;
        }
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            int pad = width - (int)strlen(str);
            if (!left)
                for (; pad > 0; pad--)
                    emit(o, ' ');
            while (*str)
                emit(o, *str++);
            for (; pad > 0; pad--)
                emit(o, ' ');
            break;
        }
        case '%':
            emit(o, '%');
            break;
        case 0:
            return;
        default:
            emit(o, '%');
            emit(o, c);
            break;
        }
    }
}

int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
    static char dummy;
    struct out o = { n ? buf : &dummy, n, 0 };
    format(&o, fmt, ap);
    if (n)
        buf[o.len < n ? o.len : n - 1] = 0;
    return (int)o.len;
}

int snprintf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return r;
}

int vprintf(const char *fmt, va_list ap)
{
    struct out o = { 0, 0, 0 };
    rt_console_lock();
    format(&o, fmt, ap);
    rt_console_unlock();
    return (int)o.len;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vprintf(fmt, ap);
    va_end(ap);
    return r;
}

void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rt_console_lock();
    printf("panic: ");
    vprintf(fmt, ap);
    printf("\n");
    rt_console_unlock();
    va_end(ap);
    rt_shutdown();
}
