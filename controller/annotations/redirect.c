/*
 * redirect.c -- permanent-redirect, temporal-redirect (and their codes),
 * from-to-www-redirect and relative-redirects.  Codes out of range fall
 * back to the default instead of rejecting the Ingress, as ingress-nginx
 * does; a code that is not a number rejects it.
 */
#include <stddef.h>

#include "registry.h"

enum { K_PERM, K_PERM_CODE, K_TEMP, K_TEMP_CODE, K_WWW, K_RELATIVE };

static const ctl_ann_key redirect_keys[] = {
    [K_PERM] = {"permanent-redirect", CTL_ANN_URL, 0, 0,
                offsetof(ctl_ann_redirect, permanent), 0},
    [K_PERM_CODE] = {"permanent-redirect-code", CTL_ANN_INT, INT32_MIN,
                     INT32_MAX, offsetof(ctl_ann_redirect, permanent_code),
                     0},
    [K_TEMP] = {"temporal-redirect", CTL_ANN_URL, 0, 0,
                offsetof(ctl_ann_redirect, temporal), 0},
    [K_TEMP_CODE] = {"temporal-redirect-code", CTL_ANN_INT, INT32_MIN,
                     INT32_MAX, offsetof(ctl_ann_redirect, temporal_code),
                     0},
    [K_WWW] = {"from-to-www-redirect", CTL_ANN_BOOL, 0, 0,
               offsetof(ctl_ann_redirect, from_to_www), 0},
    [K_RELATIVE] = {"relative-redirects", CTL_ANN_BOOL, 0, 0,
                    offsetof(ctl_ann_redirect, relative), 0},
};

static void
redirect_defaults(void *p)
{
    ctl_ann_redirect *r = p;

    r->permanent_code = 301;
    r->temporal_code = 302;
}

static int
redirect_finish(void *p, bool fail_closed, ctl_ann_warn_fn warn, void *ctx,
                ctl_ann_error *e)
{
    ctl_ann_redirect *r = p;

    (void)fail_closed;
    (void)warn;
    (void)ctx;
    (void)e;
    if (r->permanent_code < 300 || r->permanent_code > 308)
        r->permanent_code = 301;
    if (r->temporal_code < 300 || r->temporal_code > 307)
        r->temporal_code = 302;
    /* temporal-redirect wins when both are set. */
    if (r->temporal != NULL) {
        r->url = r->temporal;
        r->code = (uint16_t)r->temporal_code;
    } else if (r->permanent != NULL) {
        r->url = r->permanent;
        r->code = (uint16_t)r->permanent_code;
    }
    return 0;
}

const ctl_ann_family ctl_ann_redirect_family = {
    "redirect",
    redirect_keys,
    sizeof(redirect_keys) / sizeof(redirect_keys[0]),
    offsetof(ctl_annotations, redirect),
    sizeof(ctl_ann_redirect),
    redirect_defaults,
    redirect_finish,
};
