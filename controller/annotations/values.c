/*
 * values.c -- the validators behind every annotation type: they turn one
 * annotation string into a typed value or say in a few words why they
 * cannot.  They know nothing about keys, families or Ingresses; the
 * registry names the key and the object in messages.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

/* Go's strconv.ParseBool, which ingress-nginx uses for every bool. */
int
ctl_ann_parse_bool(const char *s, bool *out, const char **why)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    *why = "not a boolean (true or false)";
    return -1;
}

/* Whole-string decimal with an optional sign, as Go's strconv.Atoi. */
static int
parse_decimal(const char *s, int64_t *out, const char **end)
{
    char *e;
    long long v;

    if (!isdigit((unsigned char)s[0]) &&
        !((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1])))
        return -1;
    errno = 0;
    v = strtoll(s, &e, 10);
    if (errno != 0)
        return -1;
    *out = v;
    *end = e;
    return 0;
}

static int
in_range(int64_t v, int64_t min, int64_t max, const char **why)
{
    if (v < min || v > max) {
        *why = "out of range";
        return -1;
    }
    return 0;
}

int
ctl_ann_parse_int(const char *s, int64_t min, int64_t max, int64_t *out,
                  const char **why)
{
    const char *end;

    if (parse_decimal(s, out, &end) != 0 || *end != '\0') {
        *why = "not an integer";
        return -1;
    }
    return in_range(*out, min, max, why);
}

/* Multiplies with a unit, refusing overflow. */
static int
scale(int64_t v, int64_t unit, int64_t *out)
{
    if (v > INT64_MAX / unit || v < INT64_MIN / unit)
        return -1;
    *out = v * unit;
    return 0;
}

/* Bare seconds, or one number with an s, m or h suffix. */
int
ctl_ann_parse_seconds(const char *s, int64_t min, int64_t max, int64_t *out,
                      const char **why)
{
    const char *end;
    int64_t v, unit = 1;

    *why = "not a duration (seconds, or a number with s, m or h)";
    if (parse_decimal(s, &v, &end) != 0)
        return -1;
    if (*end == 'm')
        unit = 60;
    else if (*end == 'h')
        unit = 3600;
    else if (*end != 's' && *end != '\0')
        return -1;
    if (*end != '\0' && end[1] != '\0')
        return -1;
    if (scale(v, unit, out) != 0)
        return -1;
    return in_range(*out, min, max, why);
}

/* An nginx size: bytes, or k/K, m/M, g/G; never negative. */
int
ctl_ann_parse_size(const char *s, int64_t *out, const char **why)
{
    const char *end;
    int64_t v, unit = 1;

    *why = "not a size (bytes, or a number with k, m or g)";
    if (!isdigit((unsigned char)s[0]) || parse_decimal(s, &v, &end) != 0)
        return -1;
    switch (*end) {
    case '\0':
        break;
    case 'k':
    case 'K':
        unit = 1024;
        break;
    case 'm':
    case 'M':
        unit = 1024 * 1024;
        break;
    case 'g':
    case 'G':
        unit = 1024 * 1024 * 1024;
        break;
    default:
        return -1;
    }
    if (*end != '\0' && end[1] != '\0')
        return -1;
    return scale(v, unit, out);
}

/* ------------------------------------------------------------ CIDRs */

static void
mask_host_bits(tbl_cidr *c)
{
    unsigned bytes = c->family == 4 ? 4 : 16;

    for (unsigned i = 0; i < bytes; i++) {
        unsigned keep = c->prefix_len > i * 8 ? c->prefix_len - i * 8 : 0;

        if (keep < 8)
            c->addr[i] &= (uint8_t)(0xff00u >> keep);
    }
}

/* One "addr" or "addr/len"; host bits are cleared as Go's ParseCIDR
 * does.  A bare address is a single host. */
static int
parse_one_cidr(const char *s, size_t n, tbl_cidr *c)
{
    char buf[64];
    const char *slash;
    int64_t len;
    const char *why, *end;

    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    memset(c, 0, sizeof(*c));
    slash = strchr(buf, '/');
    if (slash != NULL)
        buf[slash - buf] = '\0';
    if (inet_pton(AF_INET, buf, c->addr) == 1)
        c->family = 4;
    else if (inet_pton(AF_INET6, buf, c->addr) == 1)
        c->family = 6;
    else
        return -1;
    len = c->family == 4 ? 32 : 128;
    if (slash != NULL) {
        if (!isdigit((unsigned char)slash[1]) ||
            parse_decimal(slash + 1, &len, &end) != 0 || *end != '\0' ||
            in_range(len, 0, c->family == 4 ? 32 : 128, &why) != 0)
            return -1;
    }
    c->prefix_len = (uint8_t)len;
    mask_host_bits(c);
    return 0;
}

const char *
ctl_ann_list_item(const char *s, const char **item, size_t *len)
{
    const char *stop;

    while (*s == ' ' || *s == '\t')
        s++;
    *item = s;
    while (*s && *s != ',')
        s++;
    stop = s;
    while (stop > *item && (stop[-1] == ' ' || stop[-1] == '\t'))
        stop--;
    *len = (size_t)(stop - *item);
    return s;
}

int
ctl_ann_parse_cidrs(const char *s, ctl_ann_cidrs *out, const char **why)
{
    size_t n = 1;
    const char *p = s;

    out->v = NULL;
    out->n = 0;
    for (const char *q = s; *q; q++)
        n += *q == ',';
    out->v = calloc(n, sizeof(*out->v));
    if (out->v == NULL)
        return -2;
    while (*p) {
        const char *start;
        size_t      len;

        p = ctl_ann_list_item(p, &start, &len);
        if (parse_one_cidr(start, len, &out->v[out->n]) != 0) {
            *why = "not a comma-separated list of IPv4/IPv6 CIDRs";
            return -1;
        }
        out->n++;
        if (*p == ',')
            p++;
    }
    if (out->n == 0) {
        *why = "an empty CIDR list";
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ text */

static bool
has_control_or_space(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return true;
    }
    return false;
}

/* RFC 9110 tchar: what a header field name or cookie name is made of. */
static bool
is_token(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) ==
                                               NULL)
            return false;
    }
    return true;
}

static int
check_url(const char *s, const char **why)
{
    const char *host;

    if (strncmp(s, "http://", 7) == 0)
        host = s + 7;
    else if (strncmp(s, "https://", 8) == 0)
        host = s + 8;
    else {
        *why = "not an absolute http:// or https:// URL";
        return -1;
    }
    if (*host == '\0' || *host == '/' || *host == '?' || *host == '#' ||
        has_control_or_space(s)) {
        *why = "not an absolute http:// or https:// URL with a host";
        return -1;
    }
    return 0;
}

int
ctl_ann_regex_groups(const char *pattern, const char **why)
{
    static _Thread_local char msg[200];
    pcre2_code *re;
    uint32_t groups = 0;
    PCRE2_SIZE off;
    int code;

    re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &code,
                       &off, NULL);
    if (re == NULL) {
        char err[120];

        pcre2_get_error_message(code, (PCRE2_UCHAR *)err, sizeof(err));
        snprintf(msg, sizeof(msg), "not a valid regular expression: %s "
                 "at offset %zu", err, (size_t)off);
        *why = msg;
        return -1;
    }
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
    pcre2_code_free(re);
    return (int)groups;
}

int
ctl_ann_check_text(ctl_ann_type type, const char *s, const char **why)
{
    switch (type) {
    case CTL_ANN_URL:
        return check_url(s, why);
    case CTL_ANN_PATH:
        if (s[0] != '/' || has_control_or_space(s)) {
            *why = "not a path (starts with '/', no spaces)";
            return -1;
        }
        return 0;
    case CTL_ANN_REGEX:
        return ctl_ann_regex_groups(s, why) < 0 ? -1 : 0;
    case CTL_ANN_HEADER:
        if (!is_token(s)) {
            *why = "not an HTTP header name";
            return -1;
        }
        return 0;
    case CTL_ANN_COOKIE:
        if (!is_token(s)) {
            *why = "not a cookie name";
            return -1;
        }
        return 0;
    default:
        for (const char *p = s; *p; p++) {
            if ((unsigned char)*p < ' ' || *p == 0x7f) {
                *why = "contains control characters";
                return -1;
            }
        }
        return 0;
    }
}
