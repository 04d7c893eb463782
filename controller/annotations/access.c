/*
 * access.c -- allowlist-source-range (alias whitelist-source-range) and
 * denylist-source-range: which client addresses may use an Ingress's
 * routes.  Both are security-relevant, so a value that does not parse
 * denies the routes (503, like ingress-nginx's denied locations) rather
 * than dropping the restriction.  Matching addresses is the module's
 * job; deciding which address is the client's (realip) is nginx's.
 */
#include <stddef.h>

#include "registry.h"

enum { K_WHITELIST, K_ALLOWLIST, K_DENYLIST };

/* whitelist-source-range comes first so that allowlist-source-range,
 * parsed later into the same slot, wins when both are set. */
static const ctl_ann_key access_keys[] = {
    [K_WHITELIST] = {"whitelist-source-range", CTL_ANN_CIDRS, 0, 0,
                     offsetof(ctl_ann_access, allow), CTL_ANN_FAIL_CLOSED},
    [K_ALLOWLIST] = {"allowlist-source-range", CTL_ANN_CIDRS, 0, 0,
                     offsetof(ctl_ann_access, allow), CTL_ANN_FAIL_CLOSED},
    [K_DENYLIST] = {"denylist-source-range", CTL_ANN_CIDRS, 0, 0,
                    offsetof(ctl_ann_access, deny), CTL_ANN_FAIL_CLOSED},
};

static int
access_finish(void *p, bool fail_closed, ctl_ann_warn_fn warn, void *ctx,
              ctl_ann_error *e)
{
    ctl_ann_access *a = p;

    (void)warn;
    (void)ctx;
    (void)e;
    a->denied = fail_closed;
    return 0;
}

const ctl_ann_family ctl_ann_access_family = {
    "access",
    access_keys,
    sizeof(access_keys) / sizeof(access_keys[0]),
    offsetof(ctl_annotations, access),
    sizeof(ctl_ann_access),
    NULL,
    access_finish,
};
