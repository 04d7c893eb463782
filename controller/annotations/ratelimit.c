/*
 * ratelimit.c -- limit-rps, limit-rpm, limit-burst-multiplier,
 * limit-connections and the sources exempt from them (limit-allowlist,
 * alias limit-whitelist).  The allowlist is security-relevant: a value
 * that does not parse denies the routes rather than dropping the limit.
 * Counting requests is the module's job; the status codes of a refusal
 * come from the ConfigMap.
 */
#include <stddef.h>
#include <stdint.h>

#include "registry.h"

#define DEFAULT_BURST_MULTIPLIER 5

enum { K_RPS, K_RPM, K_BURST, K_CONN, K_WHITELIST, K_ALLOWLIST };

/* limit-whitelist comes first so that limit-allowlist, parsed later into
 * the same slot, wins when both are set. */
static const ctl_ann_key ratelimit_keys[] = {
    [K_RPS] = {"limit-rps", CTL_ANN_INT, 0, INT32_MAX,
               offsetof(ctl_ann_ratelimit, rps), 0},
    [K_RPM] = {"limit-rpm", CTL_ANN_INT, 0, INT32_MAX,
               offsetof(ctl_ann_ratelimit, rpm), 0},
    [K_BURST] = {"limit-burst-multiplier", CTL_ANN_INT, INT32_MIN, INT32_MAX,
                 offsetof(ctl_ann_ratelimit, burst_multiplier), 0},
    [K_CONN] = {"limit-connections", CTL_ANN_INT, 0, INT32_MAX,
                offsetof(ctl_ann_ratelimit, connections), 0},
    [K_WHITELIST] = {"limit-whitelist", CTL_ANN_CIDRS, 0, 0,
                     offsetof(ctl_ann_ratelimit, allow), CTL_ANN_FAIL_CLOSED},
    [K_ALLOWLIST] = {"limit-allowlist", CTL_ANN_CIDRS, 0, 0,
                     offsetof(ctl_ann_ratelimit, allow), CTL_ANN_FAIL_CLOSED},
};

static void
ratelimit_defaults(void *p)
{
    ctl_ann_ratelimit *r = p;

    r->burst_multiplier = DEFAULT_BURST_MULTIPLIER;
}

static int
ratelimit_finish(void *p, bool fail_closed, ctl_ann_warn_fn warn, void *ctx,
                 ctl_ann_error *e)
{
    ctl_ann_ratelimit *r = p;

    (void)warn;
    (void)ctx;
    (void)e;
    /* ingress-nginx takes a multiplier below 1 as the default. */
    if (r->burst_multiplier < 1)
        r->burst_multiplier = DEFAULT_BURST_MULTIPLIER;
    r->deny = fail_closed;
    return 0;
}

const ctl_ann_family ctl_ann_ratelimit_family = {
    "ratelimit",
    ratelimit_keys,
    sizeof(ratelimit_keys) / sizeof(ratelimit_keys[0]),
    offsetof(ctl_annotations, ratelimit),
    sizeof(ctl_ann_ratelimit),
    ratelimit_defaults,
    ratelimit_finish,
};
