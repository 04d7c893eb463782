/*
 * alias.c -- server-alias: more host names for the servers of an
 * Ingress's rules, as a comma-separated list ("a.example.com,
 * *.example.org").  Each name must be a host name (lower-cased here) or
 * a "*." wildcard of one; anything else rejects the Ingress.  Which
 * vhost an alias names, and that a host some rule names always wins,
 * are the model's business (model_annotations.c).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "registry.h"

#define ALIAS_MAX_LEN 253

static const ctl_ann_key alias_keys[] = {
    {"server-alias", CTL_ANN_STRING, 0, 0, offsetof(ctl_ann_alias, list), 0},
};

/* Is s[0..n) a lower-case DNS name, optionally after "*."? */
static bool
alias_is_host(const char *s, size_t n)
{
    if (n > 2 && s[0] == '*' && s[1] == '.') {
        s += 2;
        n -= 2;
    }
    if (n == 0 || n > ALIAS_MAX_LEN || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '.' ? s[i + 1] == '.'
                     : !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                         c == '-' || c == '_'))
            return false;
    }
    return true;
}

const char *
ctl_ann_alias_next(const char *list, char *out, size_t outlen)
{
    size_t n;

    if (list == NULL)
        return NULL;
    list += strspn(list, ",");
    n = strcspn(list, ",");
    if (n == 0)
        return NULL;
    snprintf(out, outlen, "%.*s", (int)n, list);
    return list + n;
}

/* Lower-cases the list and drops its spaces, then checks each name. */
static int
alias_finish(void *p, bool fail_closed, ctl_ann_warn_fn warn, void *ctx,
             ctl_ann_error *e)
{
    ctl_ann_alias *a = p;
    char *w, *r, *item;

    (void)fail_closed;
    (void)warn;
    (void)ctx;
    if (a->list == NULL)
        return 0;
    for (r = w = a->list; *r != '\0'; r++) {
        if (*r == ' ' || *r == '\t')
            continue;
        *w++ = (char)((*r >= 'A' && *r <= 'Z') ? *r + 32 : *r);
    }
    *w = '\0';
    for (item = a->list; *item != '\0';) {
        size_t n = strcspn(item, ",");

        if (n > 0 && !alias_is_host(item, n)) {
            snprintf(e->key, sizeof(e->key), "server-alias");
            snprintf(e->value, sizeof(e->value), "%.*s", (int)n, item);
            snprintf(e->reason, sizeof(e->reason),
                     "must be comma-separated host names, each may start "
                     "with \"*.\"");
            return -1;
        }
        item += n + (item[n] == ',');
    }
    return 0;
}

const ctl_ann_family ctl_ann_alias_family = {
    "server-alias",
    alias_keys,
    sizeof(alias_keys) / sizeof(alias_keys[0]),
    offsetof(ctl_annotations, alias),
    sizeof(ctl_ann_alias),
    NULL,
    alias_finish,
};
