/*
 * canary.c -- the canary-* annotations: whether an Ingress is a canary
 * and which requests its backend takes (header, cookie, weight).  Pairing
 * a canary with its primary route is the model's job; choosing per
 * request is the module's.
 */
#include <stddef.h>
#include <stdlib.h>

#include "registry.h"

#define WEIGHT_MAX 1000000

enum { K_CANARY, K_WEIGHT, K_TOTAL, K_HEADER, K_VALUE, K_PATTERN, K_COOKIE };

static const ctl_ann_key canary_keys[] = {
    [K_CANARY] = {"canary", CTL_ANN_BOOL, 0, 0,
                  offsetof(ctl_ann_canary, enabled), 0},
    [K_WEIGHT] = {"canary-weight", CTL_ANN_INT, 0, WEIGHT_MAX,
                  offsetof(ctl_ann_canary, weight), 0},
    [K_TOTAL] = {"canary-weight-total", CTL_ANN_INT, 0, WEIGHT_MAX,
                 offsetof(ctl_ann_canary, weight_total), 0},
    [K_HEADER] = {"canary-by-header", CTL_ANN_HEADER, 0, 0,
                  offsetof(ctl_ann_canary, header), 0},
    [K_VALUE] = {"canary-by-header-value", CTL_ANN_STRING, 0, 0,
                 offsetof(ctl_ann_canary, header_value), 0},
    [K_PATTERN] = {"canary-by-header-pattern", CTL_ANN_REGEX, 0, 0,
                   offsetof(ctl_ann_canary, header_pattern), 0},
    [K_COOKIE] = {"canary-by-cookie", CTL_ANN_COOKIE, 0, 0,
                  offsetof(ctl_ann_canary, cookie), 0},
};

#define NKEYS (sizeof(canary_keys) / sizeof(canary_keys[0]))

static void
canary_defaults(void *p)
{
    ctl_ann_canary *c = p;

    c->weight_total = 100;
}

/* canary-* on an Ingress that is not a canary is ignored, with a
 * warning per key, as ingress-nginx does. */
static void
ignore_canary_keys(ctl_ann_canary *c, ctl_ann_warn_fn warn, void *ctx)
{
    for (size_t k = K_WEIGHT; k < NKEYS; k++) {
        if (CTL_ANN_IS_SET(c, k))
            warn(ctx, canary_keys[k].name,
                 "canary-* annotation without canary: \"true\"; ignored");
    }
    free(c->header);
    free(c->header_value);
    free(c->header_pattern);
    free(c->cookie);
    *c = (ctl_ann_canary){0};
    canary_defaults(c);
}

static int
canary_finish(void *p, bool fail_closed, ctl_ann_warn_fn warn, void *ctx,
              ctl_ann_error *e)
{
    ctl_ann_canary *c = p;

    (void)fail_closed;
    (void)e;
    if (!c->enabled) {
        ignore_canary_keys(c, warn, ctx);
        return 0;
    }
    /* The balancer only honours a total above 100 (ingress-nginx's
     * Lua); a weight above the total always picks the canary. */
    if (c->weight_total <= 100)
        c->weight_total = 100;
    if (c->weight > c->weight_total)
        c->weight = c->weight_total;
    /* An exact value makes the pattern irrelevant. */
    if (c->header_value != NULL && c->header_pattern != NULL) {
        free(c->header_pattern);
        c->header_pattern = NULL;
    }
    return 0;
}

const ctl_ann_family ctl_ann_canary_family = {
    "canary",
    canary_keys,
    NKEYS,
    offsetof(ctl_annotations, canary),
    sizeof(ctl_ann_canary),
    canary_defaults,
    canary_finish,
};
