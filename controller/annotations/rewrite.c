/*
 * rewrite.c -- rewrite-target, use-regex, x-forwarded-prefix and
 * app-root.  It records the highest $N that rewrite-target uses; whether
 * the Ingress's paths have that many groups, and which hosts become
 * regex hosts, is decided by the model, which sees the paths.
 */
#include <stddef.h>

#include "registry.h"

enum { K_TARGET, K_REGEX, K_PREFIX, K_APP_ROOT };

static const ctl_ann_key rewrite_keys[] = {
    [K_TARGET] = {"rewrite-target", CTL_ANN_STRING, 0, 0,
                  offsetof(ctl_ann_rewrite, rewrite_target), 0},
    [K_REGEX] = {"use-regex", CTL_ANN_BOOL, 0, 0,
                 offsetof(ctl_ann_rewrite, use_regex), 0},
    [K_PREFIX] = {"x-forwarded-prefix", CTL_ANN_STRING, 0, 0,
                  offsetof(ctl_ann_rewrite, x_forwarded_prefix), 0},
    [K_APP_ROOT] = {"app-root", CTL_ANN_PATH, 0, 0,
                    offsetof(ctl_ann_rewrite, app_root), 0},
};

/* The highest $1..$9 in s; "$$" and "$name" are literal text. */
static int
max_group(const char *s)
{
    int max = 0;

    for (; *s; s++) {
        if (s[0] == '$' && s[1] >= '1' && s[1] <= '9' && s[1] - '0' > max)
            max = s[1] - '0';
    }
    return max;
}

static int
rewrite_finish(void *p, bool fail_closed, ctl_ann_warn_fn warn, void *ctx,
               ctl_ann_error *e)
{
    ctl_ann_rewrite *r = p;

    (void)fail_closed;
    (void)warn;
    (void)ctx;
    (void)e;
    if (r->rewrite_target != NULL)
        r->rewrite_max_group = max_group(r->rewrite_target);
    return 0;
}

const ctl_ann_family ctl_ann_rewrite_family = {
    "rewrite",
    rewrite_keys,
    sizeof(rewrite_keys) / sizeof(rewrite_keys[0]),
    offsetof(ctl_annotations, rewrite),
    sizeof(ctl_ann_rewrite),
    NULL,
    rewrite_finish,
};
