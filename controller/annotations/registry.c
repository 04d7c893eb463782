/*
 * registry.c -- runs every annotation family over one Ingress.
 *
 * One pass over the annotations picks, for each known key, the value to
 * use: shmingress.io/<key> wins over <annotations prefix>/<key> whatever
 * their order.  Then each family's keys are parsed in table order into
 * the family struct, and the family's finish step applies the rules that
 * involve several keys.  A value that does not parse rejects the whole
 * Ingress, as ingress-nginx >= 1.12 does, except for keys marked
 * fail-closed (security), whose family denies the routes instead.  What
 * a rejection means for serving (the previous good version) is the
 * model's business.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

#define MAX_KEYS 32

static const ctl_ann_family *const families[] = {
    &ctl_ann_canary_family,
    &ctl_ann_ratelimit_family,
    &ctl_ann_rewrite_family,
    &ctl_ann_redirect_family,
    &ctl_ann_ssl_redirect_family,
    &ctl_ann_access_family,
    &ctl_ann_cors_family,
    &ctl_ann_upstream_family,
    &ctl_ann_custom_errors_family,
    &ctl_ann_auth_family,
    &ctl_ann_balance_family,
    &ctl_ann_extauth_family,
    &ctl_ann_alias_family,
};

#define NFAMILIES (sizeof(families) / sizeof(families[0]))

typedef struct {
    const char *value[NFAMILIES][MAX_KEYS];
    const char *key[NFAMILIES][MAX_KEYS]; /* full key, for messages */
    bool        ours[NFAMILIES][MAX_KEYS];
} choice;

void
ctl_ann_set_error(ctl_ann_error *e, const char *key, const char *value,
                  const char *reason)
{
    snprintf(e->key, sizeof(e->key), "%s", key);
    snprintf(e->value, sizeof(e->value), "%s", value ? value : "");
    snprintf(e->reason, sizeof(e->reason), "%s", reason);
}

/* The part of key after "<prefix>/", or NULL. */
static const char *
after_prefix(const char *key, const char *prefix, size_t n)
{
    if (n > 0 && strncmp(key, prefix, n) == 0 && key[n] == '/')
        return key + n + 1;
    return NULL;
}

static bool
is_snippet(const char *suffix)
{
    size_t n = strlen(suffix);

    return n >= 8 && strcmp(suffix + n - 8, "-snippet") == 0;
}

/* Records the value of a known key; false when no family has it. */
static bool
choose(choice *c, const char *suffix, const cJSON *m, bool ours)
{
    for (size_t f = 0; f < NFAMILIES; f++) {
        for (size_t k = 0; k < families[f]->nkeys; k++) {
            if (strcmp(families[f]->keys[k].name, suffix) != 0)
                continue;
            if (ours || !c->ours[f][k]) {
                c->value[f][k] = cJSON_IsString(m) ? m->valuestring : NULL;
                c->key[f][k] = m->string;
                c->ours[f][k] = ours;
            }
            return true;
        }
    }
    return false;
}

static ctl_ann_result
choose_all(choice *c, const cJSON *annotations, const char *compat,
           size_t compat_len, ctl_ann_warn_fn warn,
           ctl_ann_warn_fn debug_unknown, void *ctx, ctl_ann_error *e)
{
    const size_t our_len = sizeof(CTL_ANN_OUR_PREFIX) - 1;
    const cJSON *m;

    cJSON_ArrayForEach(m, annotations)
    {
        const char *suffix = after_prefix(m->string, CTL_ANN_OUR_PREFIX,
                                          our_len);
        bool ours = suffix != NULL;

        if (!ours)
            suffix = after_prefix(m->string, compat, compat_len);
        if (suffix == NULL)
            continue;
        if (is_snippet(suffix)) {
            ctl_ann_set_error(e, m->string, cJSON_GetStringValue(m),
                      "snippet annotations are never supported: no "
                      "annotation text becomes nginx configuration");
            return CTL_ANN_INVALID;
        }
        if (choose(c, suffix, m, ours))
            continue;
        if (ours)
            warn(ctx, m->string, "unknown shmingress.io annotation; ignored");
        else if (debug_unknown != NULL)
            debug_unknown(ctx, m->string, "not supported; ignored");
    }
    return CTL_ANN_OK;
}

static void
free_slot(const ctl_ann_key *k, void *slot)
{
    if (k->type == CTL_ANN_CIDRS) {
        ctl_ann_cidrs *c = slot;

        free(c->v);
        c->v = NULL;
        c->n = 0;
    } else if (k->type >= CTL_ANN_URL) {
        free(*(char **)slot);
        *(char **)slot = NULL;
    }
}

/* Parses one value into its slot: 0, -1 invalid (why set), -2 nomem. */
static int
parse_value(const ctl_ann_key *k, const char *s, void *slot,
            const char **why)
{
    char *copy;
    int rc;

    free_slot(k, slot);
    switch (k->type) {
    case CTL_ANN_BOOL:
        return ctl_ann_parse_bool(s, slot, why);
    case CTL_ANN_INT:
        return ctl_ann_parse_int(s, k->min, k->max, slot, why);
    case CTL_ANN_SECONDS:
        return ctl_ann_parse_seconds(s, k->min, k->max, slot, why);
    case CTL_ANN_SIZE:
        return ctl_ann_parse_size(s, slot, why);
    case CTL_ANN_CIDRS:
        return ctl_ann_parse_cidrs(s, slot, why);
    default:
        rc = ctl_ann_check_text(k->type, s, why);
        if (rc != 0)
            return rc;
        copy = strdup(s);
        if (copy == NULL)
            return -2;
        *(char **)slot = copy;
        return 0;
    }
}

/* A finish step names keys without their prefix: give the message the
 * key as the Ingress wrote it. */
static void
full_key(const ctl_ann_family *fam, const choice *c, size_t f,
         ctl_ann_error *e)
{
    for (size_t k = 0; k < fam->nkeys; k++) {
        if (c->key[f][k] != NULL && strcmp(fam->keys[k].name, e->key) == 0) {
            snprintf(e->key, sizeof(e->key), "%s", c->key[f][k]);
            return;
        }
    }
}

static ctl_ann_result
parse_family(const ctl_ann_family *fam, const choice *c, size_t f,
             void *dst, ctl_ann_warn_fn warn, void *ctx, ctl_ann_error *e)
{
    uint32_t *set = dst; /* every family struct starts with its mask */
    bool fail_closed = false;

    for (size_t k = 0; k < fam->nkeys; k++) {
        const ctl_ann_key *key = &fam->keys[k];
        const char *why = "must be a string";
        int rc = -1;

        if (c->key[f][k] == NULL)
            continue;
        if (c->value[f][k] != NULL)
            rc = parse_value(key, c->value[f][k], (char *)dst + key->offset,
                             &why);
        if (rc == -2)
            return CTL_ANN_NOMEM;
        if (rc == 0) {
            *set |= 1u << k;
            continue;
        }
        free_slot(key, (char *)dst + key->offset);
        if (!(key->flags & CTL_ANN_FAIL_CLOSED)) {
            ctl_ann_set_error(e, c->key[f][k], c->value[f][k], why);
            return CTL_ANN_INVALID;
        }
        warn(ctx, c->key[f][k], why);
        fail_closed = true;
    }
    if (fam->finish != NULL &&
        fam->finish(dst, fail_closed, warn, ctx, e) != 0) {
        full_key(fam, c, f, e);
        return CTL_ANN_INVALID;
    }
    return CTL_ANN_OK;
}

static void
reset_family(const ctl_ann_family *fam, void *dst)
{
    for (size_t k = 0; k < fam->nkeys; k++)
        free_slot(&fam->keys[k], (char *)dst + fam->keys[k].offset);
    memset(dst, 0, fam->size);
    if (fam->defaults != NULL)
        fam->defaults(dst);
}

/*
 * A canary Ingress borrows everything else from its primary, so only its
 * canary-* and balancing keys count (as ingress-nginx, once they all
 * parsed); the model reads affinity-canary-behavior of the latter.
 */
static void
keep_canary_only(ctl_annotations *a)
{
    for (size_t f = 0; f < NFAMILIES; f++) {
        if (families[f] != &ctl_ann_canary_family &&
            families[f] != &ctl_ann_balance_family)
            reset_family(families[f], (char *)a + families[f]->offset);
    }
}

/* A canary's backend is balanced with its primary route's settings (the
 * table has one balancing policy per route): say so when a canary
 * Ingress writes its own. */
static void
warn_canary_balancing(const ctl_ann_balance *b, ctl_ann_warn_fn warn,
                      void *ctx)
{
    const char *key = b->affinity_text != NULL     ? "affinity"
                      : b->hash_by != NULL         ? "upstream-hash-by"
                      : b->load_balance_text != NULL ? "load-balance"
                                                     : NULL;

    if (key != NULL)
        warn(ctx, key, "ignored on a canary Ingress: its backend is "
                       "balanced with the primary route's settings");
}

ctl_ann_result
ctl_annotations_parse(const cJSON *annotations, const char *compat_prefix,
                      size_t compat_prefix_len, ctl_annotations *out,
                      ctl_ann_warn_fn warn, ctl_ann_warn_fn debug_unknown,
                      void *ctx, ctl_ann_error *e)
{
    choice c;
    ctl_ann_result rc;

    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    for (size_t f = 0; f < NFAMILIES; f++) {
        if (families[f]->defaults != NULL)
            families[f]->defaults((char *)out + families[f]->offset);
    }
    rc = choose_all(&c, cJSON_IsObject(annotations) ? annotations : NULL,
                    compat_prefix, compat_prefix_len, warn, debug_unknown,
                    ctx, e);
    for (size_t f = 0; f < NFAMILIES && rc == CTL_ANN_OK; f++)
        rc = parse_family(families[f], &c, f,
                          (char *)out + families[f]->offset, warn, ctx, e);
    if (rc == CTL_ANN_OK && out->canary.enabled) {
        keep_canary_only(out);
        warn_canary_balancing(&out->balance, warn, ctx);
    }
    return rc;
}

void
ctl_annotations_free(ctl_annotations *a)
{
    for (size_t f = 0; f < NFAMILIES; f++)
        reset_family(families[f], (char *)a + families[f]->offset);
}
