/*
 * kube_lines.c -- newline framing of watch streams (see kube_lines.h).
 */
#include "kube_lines.h"

#include <stdlib.h>
#include <string.h>

void
kube_lines_init(kube_lines *l, size_t max)
{
    memset(l, 0, sizeof(*l));
    l->max = max;
}

void
kube_lines_free(kube_lines *l)
{
    free(l->buf);
    memset(l, 0, sizeof(*l));
}

void
kube_lines_reset(kube_lines *l)
{
    l->len = 0;
}

size_t
kube_lines_pending(const kube_lines *l)
{
    return l->len;
}

/* Holds back the start of a line; it may never pass l->max. */
static int
kube_lines_keep(kube_lines *l, const char *p, size_t n)
{
    if (n > l->max || l->len > l->max - n)
        return KUBE_LINES_TOO_LONG;
    if (l->len + n > l->cap) {
        size_t cap = l->cap ? l->cap : 4096;
        char *b;

        while (cap < l->len + n)
            cap *= 2;
        if (cap > l->max)
            cap = l->max;
        b = realloc(l->buf, cap);
        if (b == NULL)
            return KUBE_LINES_NOMEM;
        l->buf = b;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, p, n);
    l->len += n;
    return 0;
}

static int
kube_lines_emit(const char *line, size_t len, kube_line_fn *fn, void *data)
{
    return len == 0 ? 0 : fn(line, len, data);
}

int
kube_lines_feed(kube_lines *l, const char *chunk, size_t len,
                kube_line_fn *fn, void *data)
{
    const char *p = chunk, *end = chunk + len;
    int rc;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n;

        if (nl == NULL)
            return kube_lines_keep(l, p, (size_t)(end - p));
        n = (size_t)(nl - p);
        if (l->len > 0) {
            /* The end of a line that began in an earlier chunk. */
            if ((rc = kube_lines_keep(l, p, n)) != 0)
                return rc;
            n = l->len;
            l->len = 0;
            rc = kube_lines_emit(l->buf, n, fn, data);
        } else if (n > l->max) {
            return KUBE_LINES_TOO_LONG;
        } else {
            rc = kube_lines_emit(p, n, fn, data);
        }
        if (rc != 0)
            return rc;
        p = nl + 1;
    }
    return 0;
}
