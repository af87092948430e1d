/*
 * Bootargs: space (or tab) separated key=value words in rt.bootargs.
 * Numbers are decimal or 0x hex; a malformed one prints
 * "bootargs: bad value ..." and the default is used.
 */
#include "rt.h"

static const char *arg_find(const char *key, size_t *vlen)
{
    size_t klen = strlen(key);
    const char *p = rt.bootargs;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if ((size_t)(p - tok) > klen && strncmp(tok, key, klen) == 0 && tok[klen] == '=') {
            *vlen = (size_t)(p - tok) - klen - 1;
            return tok + klen + 1;
        }
    }
    return 0;
}

int rt_arg_str(const char *key, char *buf, size_t n)
{
    size_t len;
    const char *v = arg_find(key, &len);
    if (!v)
        return 0;
    if (n) {
        if (len >= n)
            len = n - 1;
        memcpy(buf, v, len);
        buf[len] = 0;
    }
    return 1;
}

int rt_parse_ulong(const char **s, unsigned long *out, int base)
{
    const char *p = *s;
    unsigned long v = 0;
    int digits = 0;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    for (;; p++, digits++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            break;
        if (d >= base)
            break;
        v = v * (unsigned long)base + (unsigned long)d;
    }
    if (!digits)
        return -1;
    *s = p;
    *out = v;
    return 0;
}

long rt_arg_long(const char *key, long def)
{
    char buf[32];
    if (!rt_arg_str(key, buf, sizeof(buf)))
        return def;
    const char *p = buf;
    int neg = *p == '-';
    unsigned long v;
    if (neg)
        p++;
    if (rt_parse_ulong(&p, &v, 10) || *p) {
        printf("bootargs: bad value '%s' for %s, using %ld\n", buf, key, def);
        return def;
    }
    return neg ? -(long)v : (long)v;
}

unsigned long rt_arg_ulong(const char *key, unsigned long def)
{
    char buf[32];
    if (!rt_arg_str(key, buf, sizeof(buf)))
        return def;
    const char *p = buf;
    unsigned long v;
    if (rt_parse_ulong(&p, &v, 10) || *p) {
        printf("bootargs: bad value '%s' for %s, using %lu\n", buf, key, def);
        return def;
    }
    return v;
}
