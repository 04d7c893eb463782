/*
 * auth.c -- basic authentication: auth-type, auth-secret,
 * auth-secret-type and auth-realm.
 *
 * Authentication is security, so nothing here ever drops it: a value
 * that does not parse, an auth type this controller does not implement
 * (digest), a missing or malformed auth-secret, or an unknown
 * auth-secret-type denies the Ingress's routes (503, ingress-nginx's
 * denied location) with a warning, instead of serving them open.
 * Without auth-type the other keys mean nothing, as in ingress-nginx.
 * Reading the Secret, the cross-namespace rule and the htpasswd lines
 * are the model's job (model_auth.c).
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "registry.h"

enum { K_TYPE, K_SECRET, K_SECRET_TYPE, K_REALM };

static const ctl_ann_key auth_keys[] = {
    [K_TYPE] = {"auth-type", CTL_ANN_STRING, 0, 0,
                offsetof(ctl_ann_auth, type_text), CTL_ANN_FAIL_CLOSED},
    [K_SECRET] = {"auth-secret", CTL_ANN_STRING, 0, 0,
                  offsetof(ctl_ann_auth, secret), CTL_ANN_FAIL_CLOSED},
    [K_SECRET_TYPE] = {"auth-secret-type", CTL_ANN_STRING, 0, 0,
                       offsetof(ctl_ann_auth, secret_type_text),
                       CTL_ANN_FAIL_CLOSED},
    [K_REALM] = {"auth-realm", CTL_ANN_STRING, 0, 0,
                 offsetof(ctl_ann_auth, realm), CTL_ANN_FAIL_CLOSED},
};

/* A DNS label (namespace) or subdomain (Secret name), lower case. */
static bool
is_dns_name(const char *s, size_t n, bool dots, size_t max)
{
    if (n == 0 || n > max || !isalnum((unsigned char)s[0])
        || !isalnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!(islower(c) || isdigit(c) || c == '-' || (dots && c == '.')))
            return false;
    }
    return true;
}

bool
ctl_ann_auth_secret_ref(const char *ref, const char **name, size_t *ns_len)
{
    const char *slash = strchr(ref, '/');

    if (slash == NULL) {
        *name = ref;
        *ns_len = 0;
        return is_dns_name(ref, strlen(ref), true, 253);
    }
    *name = slash + 1;
    *ns_len = (size_t)(slash - ref);
    return is_dns_name(ref, *ns_len, false, 63)
           && is_dns_name(slash + 1, strlen(slash + 1), true, 253);
}

static int
deny(ctl_ann_auth *a, ctl_ann_warn_fn warn, void *ctx, const char *key,
     const char *reason)
{
    a->denied = true;
    warn(ctx, key, reason);
    return 0;
}

static int
auth_finish(void *p, bool fail_closed, ctl_ann_warn_fn warn, void *ctx,
            ctl_ann_error *e)
{
    ctl_ann_auth *a = p;
    const char   *name;
    size_t        ns_len;

    (void)e;
    if (a->type_text == NULL) {
        /* a key that did not parse (warned about) may have been an
         * auth-type: deny rather than guess */
        a->denied = fail_closed;
        return 0;
    }
    if (strcmp(a->type_text, "digest") == 0)
        return deny(a, warn, ctx, "auth-type",
                    "digest authentication is not supported; the routes "
                    "answer 503");
    if (strcmp(a->type_text, "basic") != 0)
        return deny(a, warn, ctx, "auth-type",
                    "must be basic; the routes answer 503");
    a->type = TBL_AUTH_BASIC;
    if (fail_closed) {
        a->denied = true;
        return 0;
    }
    if (a->secret == NULL)
        return deny(a, warn, ctx, "auth-secret",
                    "missing: basic auth needs a Secret; the routes "
                    "answer 503");
    if (!ctl_ann_auth_secret_ref(a->secret, &name, &ns_len))
        return deny(a, warn, ctx, "auth-secret",
                    "must be name or namespace/name (DNS names); the "
                    "routes answer 503");
    if (a->secret_type_text != NULL
        && strcmp(a->secret_type_text, "auth-map") == 0)
        a->map = true;
    else if (a->secret_type_text != NULL
             && strcmp(a->secret_type_text, "auth-file") != 0)
        return deny(a, warn, ctx, "auth-secret-type",
                    "must be auth-file or auth-map; the routes answer 503");
    return 0;
}

const ctl_ann_family ctl_ann_auth_family = {
    "auth",
    auth_keys,
    sizeof(auth_keys) / sizeof(auth_keys[0]),
    offsetof(ctl_annotations, auth),
    sizeof(ctl_ann_auth),
    NULL,
    auth_finish,
};
