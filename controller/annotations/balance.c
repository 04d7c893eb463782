/*
 * balance.c -- how a route picks one endpoint of its backend:
 * load-balance (round_robin, ewma), upstream-hash-by (consistent hashing
 * on a text with nginx variables), and cookie affinity (affinity,
 * affinity-mode, affinity-canary-behavior, session-cookie-*).
 *
 * Values are checked here so that only well-formed text reaches the
 * Set-Cookie header the module writes: cookie names are tokens, paths
 * and domains have no separators, SameSite is one of three words.  The
 * precedence between the methods (cookie affinity, then hashing, then
 * load-balance, then the ConfigMap's load-balance) is resolved by the
 * model when it writes the policy; the choice per request is the
 * module's.  upstream-hash-by-subset works with subsets of 3 endpoints
 * only (ingress-nginx's default size).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "registry.h"

#define TEN_YEARS (10LL * 365 * 24 * 60 * 60)

enum {
    K_LOAD_BALANCE,
    K_HASH_BY,
    K_SUBSET,
    K_SUBSET_SIZE,
    K_AFFINITY,
    K_MODE,
    K_CANARY_BEHAVIOR,
    K_NAME,
    K_PATH,
    K_DOMAIN,
    K_MAX_AGE,
    K_EXPIRES,
    K_SAMESITE,
    K_CONDITIONAL,
    K_SECURE,
    K_CHANGE
};

static const ctl_ann_key balance_keys[] = {
    [K_LOAD_BALANCE] = {"load-balance", CTL_ANN_STRING, 0, 0,
                        offsetof(ctl_ann_balance, load_balance_text), 0},
    [K_HASH_BY] = {"upstream-hash-by", CTL_ANN_STRING, 0, 0,
                   offsetof(ctl_ann_balance, hash_by), 0},
    [K_SUBSET] = {"upstream-hash-by-subset", CTL_ANN_BOOL, 0, 0,
                  offsetof(ctl_ann_balance, hash_subset), 0},
    [K_SUBSET_SIZE] = {"upstream-hash-by-subset-size", CTL_ANN_INT, 1, 1000,
                       offsetof(ctl_ann_balance, hash_subset_size), 0},
    [K_AFFINITY] = {"affinity", CTL_ANN_STRING, 0, 0,
                    offsetof(ctl_ann_balance, affinity_text), 0},
    [K_MODE] = {"affinity-mode", CTL_ANN_STRING, 0, 0,
                offsetof(ctl_ann_balance, mode_text), 0},
    [K_CANARY_BEHAVIOR] = {"affinity-canary-behavior", CTL_ANN_STRING, 0, 0,
                           offsetof(ctl_ann_balance, canary_behavior_text), 0},
    [K_NAME] = {"session-cookie-name", CTL_ANN_COOKIE, 0, 0,
                offsetof(ctl_ann_balance, cookie_name), 0},
    [K_PATH] = {"session-cookie-path", CTL_ANN_PATH, 0, 0,
                offsetof(ctl_ann_balance, cookie_path), 0},
    [K_DOMAIN] = {"session-cookie-domain", CTL_ANN_STRING, 0, 0,
                  offsetof(ctl_ann_balance, cookie_domain), 0},
    [K_MAX_AGE] = {"session-cookie-max-age", CTL_ANN_INT, 0, TEN_YEARS,
                   offsetof(ctl_ann_balance, max_age), 0},
    [K_EXPIRES] = {"session-cookie-expires", CTL_ANN_INT, 0, TEN_YEARS,
                   offsetof(ctl_ann_balance, expires), 0},
    [K_SAMESITE] = {"session-cookie-samesite", CTL_ANN_STRING, 0, 0,
                    offsetof(ctl_ann_balance, samesite_text), 0},
    [K_CONDITIONAL] = {"session-cookie-conditional-samesite-none",
                       CTL_ANN_BOOL, 0, 0,
                       offsetof(ctl_ann_balance, conditional_samesite_none),
                       0},
    [K_SECURE] = {"session-cookie-secure", CTL_ANN_BOOL, 0, 0,
                  offsetof(ctl_ann_balance, secure), 0},
    [K_CHANGE] = {"session-cookie-change-on-failure", CTL_ANN_BOOL, 0, 0,
                  offsetof(ctl_ann_balance, change_on_failure), 0},
};

static void
balance_defaults(void *p)
{
    ctl_ann_balance *b = p;

    b->load_balance = TBL_LB_ROUND_ROBIN;
    b->hash_subset_size = 3;
    b->affinity_mode = TBL_AFFINITY_NONE;
    b->cookie_name_resolved = "INGRESSCOOKIE";
}

/* "$name", "${name}" and text; "$" must start a variable name. */
static bool
valid_hash_by(const char *s)
{
    if (*s == '\0')
        return false;
    while (*s != '\0') {
        if (*s != '$') {
            s++;
            continue;
        }
        s++;
        if (*s == '{') {
            const char *name = ++s;

            while (isalnum((unsigned char)*s) || *s == '_')
                s++;
            if (s == name || *s != '}')
                return false;
            s++;
        } else {
            const char *name = s;

            while (isalnum((unsigned char)*s) || *s == '_')
                s++;
            if (s == name)
                return false;
        }
    }
    return true;
}

/* A cookie Domain: labels of letters, digits and '-', an optional
 * leading dot. */
static bool
valid_domain(const char *s)
{
    if (*s == '.')
        s++;
    if (*s == '\0' || strlen(s) > 253)
        return false;
    for (; *s != '\0'; s++) {
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
            return false;
    }
    return true;
}

/* A cookie Path: no ';' or ',' that would end the attribute. */
static bool
valid_cookie_path(const char *s)
{
    return strpbrk(s, ";,\"\\") == NULL;
}

/* The index of text among the two words, or -1 with e saying which. */
static int
pick_word(ctl_ann_error *e, const char *key, const char *text,
          const char *const words[2])
{
    char reason[64];

    for (int i = 0; i < 2; i++) {
        if (strcmp(text, words[i]) == 0)
            return i;
    }
    snprintf(reason, sizeof(reason), "must be %s or %s", words[0], words[1]);
    ctl_ann_set_error(e, key, text, reason);
    return -1;
}

static int
finish_methods(ctl_ann_balance *b, ctl_ann_error *e)
{
    static const char *const methods[] = {"round_robin", "ewma"};
    int                      i;

    if (b->load_balance_text != NULL) {
        i = pick_word(e, "load-balance", b->load_balance_text, methods);
        if (i < 0)
            return -1;
        b->load_balance = i == 0 ? TBL_LB_ROUND_ROBIN : TBL_LB_EWMA;
    }
    if (b->hash_by != NULL && !valid_hash_by(b->hash_by)) {
        ctl_ann_set_error(e, "upstream-hash-by", b->hash_by,
                  "must be text with nginx variables ($name or ${name})");
        return -1;
    }
    /* The table has no field for the size: ingress-nginx's default is
     * the one the module uses. */
    if (b->hash_subset && b->hash_subset_size != 3) {
        char size[24];

        snprintf(size, sizeof(size), "%lld", (long long)b->hash_subset_size);
        ctl_ann_set_error(e, "upstream-hash-by-subset-size", size,
                  "only 3 (the default) is supported");
        return -1;
    }
    return 0;
}

static int
finish_affinity(ctl_ann_balance *b, ctl_ann_warn_fn warn, void *ctx,
                ctl_ann_error *e)
{
    static const char *const modes[] = {"balanced", "persistent"};
    static const char *const behaviors[] = {"sticky", "legacy"};
    static const char *const samesite[] = {"None", "Lax", "Strict"};
    int                      i;
    bool                     persistent = false;

    if (b->affinity_text != NULL && strcmp(b->affinity_text, "cookie") != 0) {
        ctl_ann_set_error(e, "affinity", b->affinity_text, "must be cookie");
        return -1;
    }
    if (b->mode_text != NULL) {
        i = pick_word(e, "affinity-mode", b->mode_text, modes);
        if (i < 0)
            return -1;
        persistent = i == 1;
    }
    if (b->affinity_text != NULL)
        b->affinity_mode =
            persistent ? TBL_AFFINITY_PERSISTENT : TBL_AFFINITY_BALANCED;
    if (b->canary_behavior_text != NULL) {
        i = pick_word(e, "affinity-canary-behavior", b->canary_behavior_text,
                      behaviors);
        if (i < 0)
            return -1;
        b->canary_legacy = i == 1;
    }
    if (b->cookie_name != NULL)
        b->cookie_name_resolved = b->cookie_name;
    if (b->cookie_path != NULL && !valid_cookie_path(b->cookie_path)) {
        ctl_ann_set_error(e, "session-cookie-path", b->cookie_path,
                  "must not contain ';', ',', '\"' or '\\'");
        return -1;
    }
    if (b->cookie_domain != NULL && !valid_domain(b->cookie_domain)) {
        ctl_ann_set_error(e, "session-cookie-domain", b->cookie_domain,
                  "must be a domain name (letters, digits, '-', '.')");
        return -1;
    }
    if (b->samesite_text != NULL) {
        for (i = 0; i < 3; i++) {
            if (strcasecmp(b->samesite_text, samesite[i]) == 0)
                b->samesite = samesite[i];
        }
        if (b->samesite == NULL) {
            ctl_ann_set_error(e, "session-cookie-samesite", b->samesite_text,
                      "must be None, Lax or Strict");
            return -1;
        }
    }
    if (b->conditional_samesite_none)
        warn(ctx, "session-cookie-conditional-samesite-none",
             "not supported: SameSite=None is sent to every client");
    return 0;
}

static int
balance_finish(void *p, bool fail_closed, ctl_ann_warn_fn warn, void *ctx,
               ctl_ann_error *e)
{
    ctl_ann_balance *b = p;

    (void)fail_closed;
    if (finish_methods(b, e) != 0 || finish_affinity(b, warn, ctx, e) != 0)
        return -1;
    /* Max-Age wins over Expires, as in browsers; one lifetime is kept. */
    b->lifetime = CTL_ANN_IS_SET(b, K_MAX_AGE)   ? b->max_age
                  : CTL_ANN_IS_SET(b, K_EXPIRES) ? b->expires
                                                 : 0;
    return 0;
}

const ctl_ann_family ctl_ann_balance_family = {
    "balance",
    balance_keys,
    sizeof(balance_keys) / sizeof(balance_keys[0]),
    offsetof(ctl_annotations, balance),
    sizeof(ctl_ann_balance),
    balance_defaults,
    balance_finish,
};
