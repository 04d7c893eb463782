/*
 * custom_errors.c -- custom-http-errors and default-backend: which
 * upstream answers are replaced by a default backend's, and which
 * Service that is.
 *
 * custom-http-errors is a comma-separated list of codes 300..599, as
 * nginx's error_page accepts them; without it the ConfigMap's list
 * applies (the module's rule, so a ConfigMap change needs no policy
 * change).  default-backend names a Service of the Ingress's namespace,
 * "svc" or "namespace/svc"; whether it exists, and that a namespace
 * written matches the Ingress's, is checked by the model.
 */
#include <stddef.h>
#include <string.h>

#include "registry.h"

#define CODE_MIN 300
#define CODE_MAX 599

enum { K_CODES, K_DEFAULT_BACKEND };

static const ctl_ann_key custom_errors_keys[] = {
    [K_CODES] = {"custom-http-errors", CTL_ANN_STRING, 0, 0,
                 offsetof(ctl_ann_custom_errors, codes_text), 0},
    [K_DEFAULT_BACKEND] = {"default-backend", CTL_ANN_STRING, 0, 0,
                           offsetof(ctl_ann_custom_errors, default_backend),
                           0},
};

/* "404, 503" into bits; spaces around codes are allowed, empty items
 * and anything else are not. */
static int
parse_codes(const char *s, uint64_t bits[TBL_CUSTOM_ERRORS_WORDS])
{
    int n = 0;

    for (;;) {
        int code = 0, digits = 0;

        s += strspn(s, " ");
        while (*s >= '0' && *s <= '9' && digits < 4) {
            code = code * 10 + (*s++ - '0');
            digits++;
        }
        s += strspn(s, " ");
        if (digits != 3 || code < CODE_MIN || code > CODE_MAX)
            return -1;
        code -= (int)TBL_CUSTOM_ERRORS_BASE;
        bits[code / 64] |= 1ull << (code % 64);
        n++;
        if (*s == '\0')
            return n;
        if (*s++ != ',')
            return -1;
    }
}

/* A DNS label of lower-case letters, digits and '-': a Service name
 * (DNS-1035) must start with a letter, a namespace (DNS-1123) need not. */
static bool
is_label(const char *s, size_t n, bool letter_first)
{
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-' ||
        (letter_first && !(s[0] >= 'a' && s[0] <= 'z')))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '-'))
            return false;
    }
    return true;
}

static int
custom_errors_finish(void *p, bool fail_closed, ctl_ann_warn_fn warn,
                     void *ctx, ctl_ann_error *e)
{
    ctl_ann_custom_errors *c = p;
    const char *d = c->default_backend, *slash;

    (void)fail_closed;
    (void)warn;
    (void)ctx;
    if (c->codes_text != NULL && parse_codes(c->codes_text, c->codes) < 0) {
        ctl_ann_set_error(e, "custom-http-errors", c->codes_text,
                  "must be comma-separated HTTP status codes from 300 to "
                  "599");
        return -1;
    }
    if (d == NULL)
        return 0;
    slash = strchr(d, '/');
    if (slash == NULL ? !is_label(d, strlen(d), true)
                      : !is_label(d, (size_t)(slash - d), false) ||
                            !is_label(slash + 1, strlen(slash + 1), true)) {
        ctl_ann_set_error(e, "default-backend", d,
                  "must be a Service name, or namespace/name");
        return -1;
    }
    return 0;
}

const ctl_ann_family ctl_ann_custom_errors_family = {
    "custom-errors",
    custom_errors_keys,
    sizeof(custom_errors_keys) / sizeof(custom_errors_keys[0]),
    offsetof(ctl_annotations, custom_errors),
    sizeof(ctl_ann_custom_errors),
    NULL,
    custom_errors_finish,
};
