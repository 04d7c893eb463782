/*
 * model_annotations.c -- what the model does with an Ingress's
 * annotations: parse them once per object version (the registry in
 * annotations/ does the parsing), reject the version when a value is
 * invalid, and then keep serving the last good version of that Ingress.
 *
 * The last good version of every owned Ingress is a copy of its JSON in
 * a private store, kept across builds and object versions: ingress-nginx
 * keeps its previous parse the same way.  An Ingress that never had a
 * good version is simply not served.  This file does not turn values
 * into table records (model.c's emit step does).
 */
#define _GNU_SOURCE /* asprintf */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "model_internal.h"

/*
 * The last good versions.  The model has no state of its own between
 * builds, so this lives here; it follows one store at a time and starts
 * over when it sees another (or the same address reused: a store's
 * version never goes down).
 */
static struct {
    ctl_store       *good;
    const ctl_store *of;
    uint64_t         version;
} kept;

typedef struct {
    const ctl_object *ing;
    char             *joined; /* warnings, "key: reason; ..."          */
    bool              nomem;
} warn_ctx;

static void
append_warning(warn_ctx *w, const char *key, const char *reason)
{
    char *next = NULL;

    if (asprintf(&next, "%s%s%s: %s", w->joined ? w->joined : "",
                 w->joined ? "; " : "", key, reason) < 0) {
        w->nomem = true;
        return;
    }
    free(w->joined);
    w->joined = next;
}

static void
on_warning(void *ctx, const char *key, const char *reason)
{
    warn_ctx *w = ctx;
    char qk[200], qr[300];

    ctl_log_object(CTL_LOG_WARN, "annotation ignored", w->ing,
                   "key=\"%s\" reason=\"%s\"",
                   ctl_log_quote(key, qk, sizeof(qk)),
                   ctl_log_quote(reason, qr, sizeof(qr)));
    append_warning(w, key, reason);
}

static void
on_unknown_compat(void *ctx, const char *key, const char *reason)
{
    warn_ctx *w = ctx;
    char qk[200];

    ctl_log_object(CTL_LOG_DEBUG, "annotation ignored", w->ing,
                   "key=\"%s\" reason=\"%s\"",
                   ctl_log_quote(key, qk, sizeof(qk)), reason);
}

void
ctl_ingress_annotations_reset(ctl_ingress_info *info)
{
    ctl_annotations_free(&info->values);
    free(info->values_invalid);
    free(info->values_warnings);
    info->values_invalid = NULL;
    info->values_warnings = NULL;
    info->values_state = CTL_VALUES_UNREAD;
}

/*
 * The paths of an Ingress that uses regex must compile, and have as many
 * capture groups as rewrite-target uses.  Exact paths stay exact.
 * Returns 0 or -1 with e filled.
 */
static int
check_regex_paths(const ctl_object *ing, const ctl_ann_rewrite *rw,
                  ctl_ann_error *e)
{
    const cJSON *rules = ctl_json_array(ctl_json_object(ing->json, "spec"),
                                        "rules");
    const cJSON *rule, *p;

    if (!rw->use_regex && rw->rewrite_target == NULL)
        return 0;
    cJSON_ArrayForEach(rule, rules)
    {
        cJSON_ArrayForEach(p, ctl_json_array(ctl_json_object(rule, "http"),
                                             "paths"))
        {
            const char *path = ctl_json_string(p, "path");
            const char *type = ctl_json_string(p, "pathType");
            const char *why;
            int groups;

            if (path == NULL || (type != NULL && strcmp(type, "Exact") == 0))
                continue;
            groups = ctl_ann_regex_groups(path, &why);
            if (groups < 0) {
                snprintf(e->key, sizeof(e->key), "%s",
                         rw->use_regex ? "use-regex" : "rewrite-target");
                snprintf(e->value, sizeof(e->value), "%s", path);
                snprintf(e->reason, sizeof(e->reason), "path %s", why);
                return -1;
            }
            if (groups < rw->rewrite_max_group) {
                snprintf(e->key, sizeof(e->key), "rewrite-target");
                snprintf(e->value, sizeof(e->value), "%s",
                         rw->rewrite_target);
                snprintf(e->reason, sizeof(e->reason),
                         "uses $%d but path \"%.100s\" has %d capture "
                         "group(s)", rw->rewrite_max_group, path, groups);
                return -1;
            }
        }
    }
    return 0;
}

/* Parses once per version; -1 only when out of memory. */
static int
read_values(const ctl_class_rules *r, const ctl_object *ing,
            ctl_ingress_info *info)
{
    const cJSON *ann = ctl_json_object(ctl_json_object(ing->json,
                                                       "metadata"),
                                       "annotations");
    warn_ctx w = {ing, NULL, false};
    ctl_ann_error e;
    ctl_ann_result rc;
    char qk[200], qv[300], qr[300];

    if (info->values_state != CTL_VALUES_UNREAD)
        return 0;
    rc = ctl_annotations_parse(ann, r->annotations_prefix,
                               r->annotations_prefix_len, &info->values,
                               on_warning, on_unknown_compat, &w, &e);
    info->values_warnings = w.joined;
    if (rc == CTL_ANN_NOMEM || w.nomem)
        return -1;
    if (rc == CTL_ANN_OK &&
        check_regex_paths(ing, &info->values.rewrite, &e) != 0)
        rc = CTL_ANN_INVALID;
    if (rc == CTL_ANN_OK) {
        info->values_state = CTL_VALUES_GOOD;
        return 0;
    }
    info->values_state = CTL_VALUES_BAD;
    ctl_annotations_free(&info->values);
    ctl_log_object(CTL_LOG_WARN, "ingress rejected", ing,
                   "field=metadata.annotations key=\"%s\" value=\"%s\" "
                   "reason=\"%s\"",
                   ctl_log_quote(e.key, qk, sizeof(qk)),
                   ctl_log_quote(e.value, qv, sizeof(qv)),
                   ctl_log_quote(e.reason, qr, sizeof(qr)));
    if (asprintf(&info->values_invalid, "metadata.annotations[%s]=\"%s\": %s",
                 e.key, e.value, e.reason) < 0) {
        info->values_invalid = NULL;
        return -1;
    }
    return 0;
}

static bool
is_kept_copy(const ctl_object *ing)
{
    return kept.good != NULL &&
           ctl_store_get(kept.good, CTL_KIND_INGRESS, ing->namespace_,
                         ing->name) == ing;
}

/* Drops last good versions of Ingresses that are gone, or all of them
 * when the store is not the one they were kept for. */
static int
forget_gone(const ctl_store *store)
{
    size_t i = 0;

    if (kept.good != NULL &&
        (kept.of != store || ctl_store_version(store) < kept.version)) {
        ctl_store_free(kept.good);
        kept.good = NULL;
    }
    if (kept.good == NULL) {
        kept.good = ctl_store_new();
        if (kept.good == NULL)
            return -1;
    }
    kept.of = store;
    kept.version = ctl_store_version(store);
    while (i < ctl_store_count(kept.good, CTL_KIND_INGRESS)) {
        const ctl_object *k = ctl_store_at(kept.good, CTL_KIND_INGRESS, i);

        if (ctl_store_get(store, CTL_KIND_INGRESS, k->namespace_, k->name) ==
            NULL)
            ctl_store_delete(kept.good, CTL_KIND_INGRESS, k->namespace_,
                             k->name);
        else
            i++;
    }
    return 0;
}

static int ann_build_new(ctl_build *bd);

int
ctl_annotations_begin(ctl_build *bd)
{
    if (ann_build_new(bd) != 0)
        return -1;
    return forget_gone(bd->store);
}

int
ctl_ingress_served_version(ctl_build *bd, const ctl_class_rules *r,
                           const ctl_object **ing, ctl_ingress_info **info)
{
    const ctl_object *prev;
    ctl_ingress_info *pinfo;

    if (read_values(r, *ing, *info) != 0)
        return -1;
    if ((*info)->values_warnings != NULL)
        ctl_model_problem(bd, *ing, "AnnotationWarning", "%s",
                          (*info)->values_warnings);
    if ((*info)->values_state == CTL_VALUES_GOOD)
        return 1;
    prev = ctl_store_get(kept.good, CTL_KIND_INGRESS, (*ing)->namespace_,
                         (*ing)->name);
    ctl_model_problem(bd, *ing, "InvalidIngress", "%s%s",
                      (*info)->values_invalid,
                      prev ? "; the previous version is served"
                           : "; not served");
    if (prev == NULL)
        return 0;
    pinfo = ctl_ingress_info_of(r, prev);
    if (pinfo == NULL || read_values(r, prev, pinfo) != 0)
        return -1;
    if (pinfo->values_state != CTL_VALUES_GOOD)
        return 0;
    *ing = prev;
    *info = pinfo;
    return 1;
}

/* ------------------------------------------------ canaries, regex, emit */

typedef struct {
    const ctl_object *obj;
    ctl_ingress_info *info;
} to_keep;

typedef struct {
    const ctl_object *obj;
    ctl_ingress_info *info;
    bool              paired; /* at least one route took it          */
} held_canary;

typedef struct {
    uint32_t        canary; /* into canaries                         */
    const ctl_path *path;   /* the canary's own path (its backend)   */
    uint32_t        index;  /* CANARIES index once added, or NONE    */
} canary_pair;

struct ctl_ann_build {
    ctl_vec  canaries;    /* held_canary, oldest first               */
    ctl_vec  pairs;       /* canary_pair                             */
    ctl_vec  path_pair;   /* uint32_t per bd->paths: pair or NONE    */
    ctl_vec  policies;    /* uint32_t per bd->ingresses: policy,
                             NONE, or UNSET                          */
    ctl_vec  regex_hosts; /* const char *                            */
    ctl_vec  keep;        /* to_keep: versions to copy after the build */
    ctl_hmap regex_index; /* host -> regex_hosts                     */
};

#define POLICY_UNSET (TBL_NONE - 1)


static const ctl_ingress *
build_ingress(const ctl_build *bd, uint32_t i)
{
    return CTL_VEC_AT(&bd->ingresses, ctl_ingress, i);
}

static int
ann_build_new(ctl_build *bd)
{
    struct ctl_ann_build *a = calloc(1, sizeof(*a));

    if (a == NULL)
        return -1;
    ctl_vec_init(&a->canaries, sizeof(held_canary));
    ctl_vec_init(&a->pairs, sizeof(canary_pair));
    ctl_vec_init(&a->path_pair, sizeof(uint32_t));
    ctl_vec_init(&a->policies, sizeof(uint32_t));
    ctl_vec_init(&a->regex_hosts, sizeof(const char *));
    ctl_vec_init(&a->keep, sizeof(to_keep));
    ctl_hmap_init(&a->regex_index);
    bd->ann = a;
    return 0;
}

void
ctl_annotations_end(ctl_build *bd)
{
    struct ctl_ann_build *a = bd->ann;

    if (a == NULL)
        return;
    ctl_vec_free(&a->canaries);
    ctl_vec_free(&a->pairs);
    ctl_vec_free(&a->path_pair);
    ctl_vec_free(&a->policies);
    ctl_vec_free(&a->regex_hosts);
    ctl_vec_free(&a->keep);
    ctl_hmap_free(&a->regex_index);
    free(a);
    bd->ann = NULL;
}

int
ctl_canary_add(ctl_build *bd, const ctl_object *ing, ctl_ingress_info *info)
{
    int valid = ctl_ingress_spec_read(bd, ing, info);
    held_canary *h;

    if (valid <= 0) {
        if (valid == 0)
            bd->stats->ingresses_skipped++;
        return valid;
    }
    ctl_ingress_service_upstream(info);
    h = ctl_vec_push(&bd->ann->canaries);
    if (h == NULL)
        return -1;
    h->obj = ing;
    h->info = info;
    return ctl_ingress_keep_good(bd, ing, info);
}

/* --- regex hosts */

typedef struct {
    const ctl_vec *hosts;
    const char    *host;
} host_query;

static bool
regex_host_is(const void *ctx, uint32_t i)
{
    const host_query *q = ctx;

    return strcmp(*CTL_VEC_AT(q->hosts, const char *, i), q->host) == 0;
}

static bool
is_regex_host(const struct ctl_ann_build *a, const char *host)
{
    host_query q = {&a->regex_hosts, host};

    return ctl_hmap_find(&a->regex_index, ctl_hash(host, strlen(host), 0),
                         regex_host_is, &q) != NULL;
}

static bool
ingress_wants_regex(const ctl_ingress_info *info)
{
    return info->values.rewrite.use_regex ||
           info->values.rewrite.rewrite_target != NULL;
}

/* rewrite-target or use-regex on any path makes every path of its host
 * a regex, across Ingresses, as ingress-nginx does. */
static int
mark_regex_hosts(ctl_build *bd)
{
    struct ctl_ann_build *a = bd->ann;

    for (uint32_t i = 0; i < bd->paths.len; i++) {
        const ctl_path *p = ctl_build_path(bd, i);
        const char **slot;

        if (!ingress_wants_regex(build_ingress(bd, p->ingress)->info) ||
            is_regex_host(a, p->host))
            continue;
        slot = ctl_vec_push(&a->regex_hosts);
        if (slot == NULL ||
            ctl_hmap_add(&a->regex_index,
                         ctl_hash(p->host, strlen(p->host), 0),
                         (uint32_t)(a->regex_hosts.len - 1)) != 0)
            return -1;
        *slot = p->host;
    }
    return 0;
}

static bool
is_regex_route(const ctl_build *bd, const ctl_path *p)
{
    return p->type != TBL_PATH_EXACT && is_regex_host(bd->ann, p->host);
}

/* --- claim order: regex routes last, longest first (nginx-ingress
 * sorts regex locations by descending path length; the table tries
 * regex routes in list order). */

static const ctl_build *sort_bd;

static int
regex_claim_compare(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    size_t la = strlen(ctl_build_path(sort_bd, a)->path);
    size_t lb = strlen(ctl_build_path(sort_bd, b)->path);

    if (la != lb)
        return la > lb ? -1 : 1;
    return a < b ? -1 : a > b;
}

static int
order_claims(ctl_build *bd, ctl_vec *claims)
{
    uint32_t *c = claims->data, *tmp;
    size_t plain = 0, regex = 0, n = claims->len;

    tmp = malloc((n ? n : 1) * sizeof(*tmp));
    if (tmp == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!is_regex_route(bd, ctl_build_path(bd, c[i])))
            c[plain++] = c[i];
        else
            tmp[regex++] = c[i];
    }
    /* Equal lengths keep path order: oldest Ingress first. */
    if (regex > 0) {
        sort_bd = bd;
        qsort(tmp, regex, sizeof(*tmp), regex_claim_compare);
        memcpy(c + plain, tmp, regex * sizeof(*tmp));
    }
    free(tmp);
    return 0;
}

/* --- canary pairing */

static void
log_unpaired(const held_canary *h, const ctl_path *p, const char *why)
{
    char qh[300], qp[600];

    ctl_log_object(CTL_LOG_WARN, "canary path not served", h->obj,
                   "field=spec.rules[%u].http.paths[%u] host=\"%s\" "
                   "path=\"%s\" reason=\"%s\"",
                   p->rule, p->index, ctl_log_quote(p->host, qh, sizeof(qh)),
                   ctl_log_quote(p->path, qp, sizeof(qp)), why);
}

static int
pair_path(ctl_build *bd, const ctl_vec *claims, const ctl_hmap *keys,
          uint32_t ci, const ctl_path *p)
{
    struct ctl_ann_build *a = bd->ann;
    held_canary *h = CTL_VEC_AT(&a->canaries, held_canary, ci);
    const uint32_t *found = ctl_claim_find(bd, keys, claims, p);
    uint32_t *slot;
    canary_pair *pair;

    if (found == NULL) {
        log_unpaired(h, p, "no primary ingress serves this host, path and "
                           "pathType");
        return 0;
    }
    slot = CTL_VEC_AT(&a->path_pair, uint32_t,
                      *CTL_VEC_AT(claims, uint32_t, *found));
    if (*slot != TBL_NONE) {
        log_unpaired(h, p, "the route already has an older canary; only "
                           "one canary per route");
        return 0;
    }
    pair = ctl_vec_push(&a->pairs);
    if (pair == NULL)
        return -1;
    pair->canary = ci;
    pair->path = p;
    pair->index = TBL_NONE;
    *slot = (uint32_t)(a->pairs.len - 1);
    h->paired = true;
    return 0;
}

static int
pair_canaries(ctl_build *bd, const ctl_vec *claims)
{
    struct ctl_ann_build *a = bd->ann;
    uint32_t *pp = NULL;
    ctl_hmap keys;
    int rc = 0;

    if (bd->paths.len > 0) {
        pp = ctl_vec_push_n(&a->path_pair, bd->paths.len);
        if (pp == NULL)
            return -1;
    }
    for (size_t i = 0; i < bd->paths.len; i++)
        pp[i] = TBL_NONE;
    ctl_hmap_init(&keys);
    for (uint32_t i = 0; i < claims->len && rc == 0; i++) {
        const ctl_path *p =
            ctl_build_path(bd, *CTL_VEC_AT(claims, uint32_t, i));

        rc = ctl_hmap_add(&keys, p->key_hash, i);
    }
    for (uint32_t ci = 0; ci < a->canaries.len && rc == 0; ci++) {
        held_canary *h = CTL_VEC_AT(&a->canaries, held_canary, ci);

        for (size_t k = 0; k < h->info->paths.len && rc == 0; k++)
            rc = pair_path(bd, claims, &keys, ci,
                           CTL_VEC_AT(&h->info->paths, ctl_path, k));
        if (rc == 0 && !h->paired) {
            bd->stats->ingresses_skipped++;
            ctl_log_object(CTL_LOG_WARN, "canary ingress not served", h->obj,
                           "reason=\"no route of a primary ingress matches "
                           "its host, path and pathType\"");
            ctl_model_problem(bd, h->obj, "CanaryWithoutPrimary", "%s",
                              "no route of a primary ingress matches its "
                              "host, path and pathType");
        }
    }
    ctl_hmap_free(&keys);
    return rc;
}

int
ctl_annotations_prepare(ctl_build *bd, ctl_vec *claims)
{
    uint32_t *pol = NULL;

    if (bd->ingresses.len > 0) {
        pol = ctl_vec_push_n(&bd->ann->policies, bd->ingresses.len);
        if (pol == NULL)
            return -1;
    }
    for (size_t i = 0; i < bd->ingresses.len; i++)
        pol[i] = POLICY_UNSET;
    if (mark_regex_hosts(bd) != 0 || pair_canaries(bd, claims) != 0)
        return -1;
    return order_claims(bd, claims);
}

/* --- emit */

/* Every policy carries resolved upstream settings: what the Ingress
 * sets, else the ConfigMap's (the module applies a policy's as a whole,
 * and a ConfigMap change reaches every policy through a rebuild). */
static void
upstream_spec_of(const ctl_build *bd, const ctl_ann_upstream *u,
                 tbl_policy_spec *s)
{
    const tbl_config_spec *g = bd->config;

#define UP_SET(bit) CTL_ANN_IS_SET(u, CTL_ANN_UP_##bit)
    s->connect_timeout_ms = UP_SET(CONNECT)
                                ? (uint32_t)(u->connect_timeout * 1000)
                                : g->connect_timeout_ms;
    s->send_timeout_ms = UP_SET(SEND) ? (uint32_t)(u->send_timeout * 1000)
                                      : g->send_timeout_ms;
    s->read_timeout_ms = UP_SET(READ) ? (uint32_t)(u->read_timeout * 1000)
                                      : g->read_timeout_ms;
    s->body_size_max = UP_SET(BODY) ? (uint64_t)u->body_size
                                    : g->body_size_max;
    s->next_upstream = UP_SET(NEXT) ? u->next_upstream : g->next_upstream;
    s->next_upstream_tries = UP_SET(TRIES)
                                 ? (uint32_t)u->next_upstream_tries
                                 : g->next_upstream_tries;
    s->next_upstream_timeout_ms =
        UP_SET(NEXT_TIMEOUT) ? (uint32_t)(u->next_upstream_timeout * 1000)
                             : g->next_upstream_timeout_ms;
    if (UP_SET(BUFFERING) ? u->buffering
                          : (g->flags & TBL_CFG_PROXY_BUFFERING) != 0)
        s->flags |= TBL_POL_PROXY_BUFFERING;
#undef UP_SET
    s->upstream_vhost = u->upstream_vhost;
    s->backend_protocol = u->protocol;
}

/* Source ranges, and CORS as the module answers it: the controller
 * resolves every default, so the module never merges.  An Ingress's own
 * allowlist or denylist replaces the ConfigMap's, as in ingress-nginx. */
static void
access_spec_of(const ctl_build *bd, const ctl_annotations *v,
               tbl_policy_spec *s)
{
    const ctl_ann_cors *c = &v->cors;
    const tbl_config_spec *g = bd->config;

    if (v->access.denied)
        s->flags |= TBL_POL_DENIED;
    s->allow = v->access.allow.n > 0 ? v->access.allow.v : g->allow;
    s->allow_count = v->access.allow.n > 0 ? v->access.allow.n
                                           : g->allow_count;
    s->deny = v->access.deny.n > 0 ? v->access.deny.v : g->deny;
    s->deny_count = v->access.deny.n > 0 ? v->access.deny.n : g->deny_count;
    if (!c->enabled)
        return;
    s->flags |= TBL_POL_CORS;
    if (c->credentials)
        s->flags |= TBL_POL_CORS_CREDENTIALS;
    s->cors_allow_origin = c->origin;
    s->cors_allow_methods = c->methods;
    s->cors_allow_headers = c->headers;
    s->cors_expose_headers = c->expose;
    s->cors_max_age = (uint32_t)c->max_age;
}

/* ssl-redirect and force-ssl-redirect that the Ingress does not write
 * take the ConfigMap's values, as in ingress-nginx. */
static uint32_t
ssl_flags_of(const ctl_build *bd, const ctl_ann_ssl_redirect *a)
{
    bool ssl = (bd->config_flags & TBL_CFG_SSL_REDIRECT) != 0;
    bool force = (bd->config_flags & TBL_CFG_FORCE_SSL_REDIRECT) != 0;
    uint32_t flags = 0;

    if (CTL_ANN_IS_SET(a, CTL_ANN_SSL_REDIRECT_BIT))
        ssl = a->ssl_redirect;
    if (CTL_ANN_IS_SET(a, CTL_ANN_FORCE_SSL_REDIRECT_BIT))
        force = a->force;
    if (ssl)
        flags |= TBL_POL_SSL_REDIRECT;
    if (force)
        flags |= TBL_POL_FORCE_SSL_REDIRECT;
    if (a->preserve_trailing_slash)
        flags |= TBL_POL_PRESERVE_TRAILING_SLASH;
    return flags;
}

/* What the module does for a route without a policy. */
static uint32_t
ssl_flags_default(const ctl_build *bd)
{
    return ((bd->config_flags & TBL_CFG_SSL_REDIRECT) ? TBL_POL_SSL_REDIRECT
                                                       : 0) |
           ((bd->config_flags & TBL_CFG_FORCE_SSL_REDIRECT)
                ? TBL_POL_FORCE_SSL_REDIRECT
                : 0);
}

/* auth-url and its companions, already checked and resolved. */
static void
extauth_spec_of(const ctl_ann_extauth *a, tbl_policy_spec *s)
{
    if (a->url == NULL)
        return;
    s->auth_type = TBL_AUTH_EXTERNAL;
    s->auth_url = a->url;
    s->auth_method = a->method;
    s->auth_signin = a->signin;
    s->auth_response_headers = a->response_headers;
    s->auth_request_redirect = a->request_redirect;
    if (a->always_set_cookie)
        s->flags |= TBL_POL_AUTH_ALWAYS_SET_COOKIE;
}

static void
policy_spec_of(const ctl_build *bd, const ctl_annotations *v,
               uint32_t ssl_flags, tbl_policy_spec *s)
{
    tbl_policy_spec_init(s);
    s->flags |= ssl_flags;
    if (v->redirect.relative)
        s->flags |= TBL_POL_RELATIVE_REDIRECTS;
    if (v->ratelimit.deny)
        s->flags |= TBL_POL_DENIED;
    if (v->redirect.url != NULL) {
        s->redirect_url = v->redirect.url;
        s->redirect_code = v->redirect.code;
    }
    s->app_root = v->rewrite.app_root;
    s->rewrite_target = v->rewrite.rewrite_target;
    s->x_forwarded_prefix = v->rewrite.x_forwarded_prefix;
    s->limit_rps = (uint32_t)v->ratelimit.rps;
    s->limit_rpm = (uint32_t)v->ratelimit.rpm;
    s->limit_burst_multiplier = (uint32_t)v->ratelimit.burst_multiplier;
    s->limit_connections = (uint32_t)v->ratelimit.connections;
    s->limit_allow = v->ratelimit.allow.v;
    s->limit_allow_count = v->ratelimit.allow.n;
    access_spec_of(bd, v, s);
    upstream_spec_of(bd, &v->upstream, s);
    extauth_spec_of(&v->extauth, s);
    memcpy(s->custom_errors, v->custom_errors.codes,
           sizeof(s->custom_errors));
}

/*
 * The default-backend annotation's backend: port 80 of a Service in the
 * Ingress's namespace (ingress-nginx's rule); another namespace is
 * refused, with a warning, rather than reaching across namespaces.
 */
static uint32_t
default_backend_of(ctl_build *bd, const ctl_ingress *ing)
{
    const char *d = ing->info->values.custom_errors.default_backend;
    const char *ns = ing->obj->namespace_, *slash;
    ctl_backend_ref ref;

    if (d == NULL)
        return TBL_NONE;
    slash = strchr(d, '/');
    if (slash != NULL &&
        (strlen(ns) != (size_t)(slash - d) || strncmp(d, ns, strlen(ns)))) {
        char q[300];

        ctl_log_object(CTL_LOG_WARN, "annotation ignored", ing->obj,
                       "key=\"default-backend\" value=\"%s\" "
                       "reason=\"the Service must be in the Ingress's "
                       "namespace\"", ctl_log_quote(d, q, sizeof(q)));
        ctl_model_problem(bd, ing->obj, "AnnotationWarning",
                          "default-backend: \"%s\" is not in namespace "
                          "%s; ignored", d, ns);
        return TBL_NONE;
    }
    memset(&ref, 0, sizeof(ref));
    ref.service = slash ? slash + 1 : d;
    ref.port_number = 80;
    ctl_backend_ref_hash(&ref, ns);
    return ctl_backend_resolve_annotated(bd, ns, &ref, ing->obj);
}

/* Cookie affinity wins over upstream-hash-by, which wins over
 * load-balance; an Ingress that sets none takes the ConfigMap's
 * load-balance, so the module never merges. */
static void
balance_spec_of(const ctl_build *bd, const ctl_ann_balance *b,
                tbl_policy_spec *s)
{
    s->load_balance = b->load_balance_text != NULL ? b->load_balance
                                                   : bd->config_load_balance;
    if (b->hash_by != NULL) {
        s->load_balance = b->hash_subset ? TBL_LB_HASH_SUBSET : TBL_LB_HASH;
        s->hash_by = b->hash_by;
    }
    s->affinity_mode = b->affinity_mode;
    if (b->affinity_mode == TBL_AFFINITY_NONE)
        return;
    s->affinity_cookie_name = b->cookie_name_resolved;
    s->affinity_cookie_path = b->cookie_path;
    s->affinity_cookie_domain = b->cookie_domain;
    s->affinity_cookie_samesite = b->samesite;
    s->affinity_max_age = (uint32_t)b->lifetime;
    if (b->secure)
        s->flags |= TBL_POL_AFFINITY_SECURE;
    if (b->change_on_failure)
        s->flags |= TBL_POL_AFFINITY_CHANGE_ON_FAILURE;
}

/* Does anything a route policy carries differ from no policy at all?
 * (from-to-www-redirect is a server matter: the counterpart host.)  No
 * policy means the ConfigMap's ssl-redirect and force-ssl-redirect. */
static bool
needs_policy(const ctl_annotations *v, bool ssl_differs)
{
    const ctl_ann_ratelimit *l = &v->ratelimit;
    const ctl_ann_rewrite *r = &v->rewrite;

    return l->rps > 0 || l->rpm > 0 || l->connections > 0 || l->deny ||
           l->allow.n > 0 || v->redirect.url != NULL || v->redirect.relative ||
           r->rewrite_target != NULL || r->x_forwarded_prefix != NULL ||
           r->app_root != NULL || v->access.denied ||
           v->access.allow.n > 0 || v->access.deny.n > 0 ||
           v->cors.enabled || v->upstream.set != 0 || v->balance.set != 0 ||
           v->custom_errors.set != 0 || ssl_differs ||
           v->auth.type != TBL_AUTH_NONE || v->auth.denied ||
           v->extauth.url != NULL;
}

/* A policy checks one kind of auth: basic and external auth together
 * would drop one of them, so the routes deny instead (fail closed). */
static void
deny_two_auths(ctl_build *bd, const ctl_ingress *ing,
               const ctl_annotations *v, tbl_policy_spec *s)
{
    if (v->extauth.url == NULL || v->auth.type == TBL_AUTH_NONE)
        return;
    s->flags |= TBL_POL_DENIED;
    ctl_log_object(CTL_LOG_WARN, "routes denied", ing->obj,
                   "field=metadata.annotations reason=\"auth-type and "
                   "auth-url together are not supported\"");
    ctl_model_problem(bd, ing->obj, "AnnotationWarning", "%s",
                      "auth-type and auth-url together are not supported: "
                      "the routes answer 503");
}

/* The policy of an Ingress's routes, added once per build; NONE when its
 * annotations set nothing a policy carries. */
static uint32_t
policy_of(ctl_build *bd, uint32_t ingress)
{
    uint32_t *slot = CTL_VEC_AT(&bd->ann->policies, uint32_t, ingress);
    const ctl_ingress *ing = build_ingress(bd, ingress);
    const ctl_annotations *v = &ing->info->values;
    tbl_policy_spec spec;
    uint32_t ssl;
    uint8_t *secret;
    size_t secret_len;
    char err[256], qerr[300];

    if (*slot != POLICY_UNSET)
        return *slot;
    *slot = TBL_NONE;
    ssl = ssl_flags_of(bd, &v->ssl_redirect);
    if (!needs_policy(v, ssl != ssl_flags_default(bd)))
        return TBL_NONE;
    policy_spec_of(bd, v, ssl, &spec);
    spec.default_backend = default_backend_of(bd, ing);
    balance_spec_of(bd, &v->balance, &spec);
    /* out of memory for the auth lines: deny rather than serve open */
    if (ctl_auth_spec(bd, ing->obj, &v->auth, &spec, &secret,
                      &secret_len) != 0)
        spec.flags |= TBL_POL_DENIED;
    deny_two_auths(bd, ing, v, &spec);
    *slot = tbl_builder_add_policy(bd->b, &spec, err, sizeof(err));
    if (secret != NULL) {
        OPENSSL_cleanse(secret, secret_len);
        free(secret);
    }
    if (*slot == TBL_NONE)
        ctl_log_object(CTL_LOG_ERROR, "annotations not applied", ing->obj,
                       "field=metadata.annotations reason=\"%s\"",
                       ctl_log_quote(err, qerr, sizeof(qerr)));
    return *slot;
}

static uint32_t
canary_of(ctl_build *bd, uint32_t path_index)
{
    struct ctl_ann_build *a = bd->ann;
    uint32_t pi = *CTL_VEC_AT(&a->path_pair, uint32_t, path_index);
    canary_pair *pair;
    const held_canary *h;
    const ctl_ann_canary *c;
    tbl_canary_spec spec;
    char err[256], qerr[300];

    if (pi == TBL_NONE)
        return TBL_NONE;
    pair = CTL_VEC_AT(&a->pairs, canary_pair, pi);
    if (pair->index != TBL_NONE)
        return pair->index;
    h = CTL_VEC_AT(&a->canaries, held_canary, pair->canary);
    c = &h->info->values.canary;
    memset(&spec, 0, sizeof(spec));
    spec.backend = ctl_backend_resolve(bd, h->obj->namespace_,
                                       &pair->path->backend, h->obj,
                                       pair->path);
    spec.weight = (uint32_t)c->weight;
    spec.weight_total = (uint32_t)c->weight_total;
    if (c->header != NULL) {
        spec.flags |= TBL_CANARY_BY_HEADER;
        if (c->header_value != NULL)
            spec.flags |= TBL_CANARY_BY_HEADER_VALUE;
        else if (c->header_pattern != NULL)
            spec.flags |= TBL_CANARY_BY_HEADER_PATTERN;
    }
    if (c->cookie != NULL)
        spec.flags |= TBL_CANARY_BY_COOKIE;
    if (h->info->values.balance.canary_legacy)
        spec.flags |= TBL_CANARY_AFFINITY_LEGACY;
    spec.header = c->header;
    spec.header_value = c->header_value;
    spec.header_pattern = c->header_pattern;
    spec.cookie = c->cookie;
    spec.ingress_namespace = h->obj->namespace_;
    spec.ingress_name = h->obj->name;
    spec.host = pair->path->host;
    spec.path = pair->path->path;
    pair->index = tbl_builder_add_canary(bd->b, &spec, err, sizeof(err));
    if (pair->index == TBL_NONE)
        ctl_log_object(CTL_LOG_ERROR, "canary not added", h->obj,
                       "reason=\"%s\"", ctl_log_quote(err, qerr,
                                                      sizeof(qerr)));
    return pair->index;
}

int
ctl_route_annotate(ctl_build *bd, uint32_t path_index, tbl_route_spec *r)
{
    const ctl_path *p = ctl_build_path(bd, path_index);

    if (is_regex_route(bd, p))
        r->path_type = TBL_PATH_REGEX;
    r->policy = policy_of(bd, p->ingress);
    r->canary = canary_of(bd, path_index);
    return 0;
}

/* ------------------------------------------------------ last good */

int
ctl_ingress_keep_good(ctl_build *bd, const ctl_object *ing,
                      ctl_ingress_info *info)
{
    to_keep *k;

    if (info->kept || is_kept_copy(ing))
        return 0;
    k = ctl_vec_push(&bd->ann->keep);
    if (k == NULL)
        return -1;
    k->obj = ing;
    k->info = info;
    return 0;
}

/* Copies happen after the build: a put may move the kept store's
 * objects, which the build holds pointers to. */
int
ctl_annotations_keep(ctl_build *bd)
{
    for (size_t i = 0; i < bd->ann->keep.len; i++) {
        to_keep *k = CTL_VEC_AT(&bd->ann->keep, to_keep, i);
        cJSON *copy = cJSON_Duplicate(k->obj->json, 1);

        if (copy == NULL ||
            ctl_store_put(kept.good, CTL_KIND_INGRESS, k->obj->namespace_,
                          k->obj->name, copy, k->obj->origin) != 0)
            return -1;
        k->info->kept = true;
    }
    return 0;
}

/* ------------------------------------------------- from-to-www-redirect */

static bool
host_is_served(const ctl_build *bd, const char *host)
{
    for (uint32_t i = 0; i < bd->ingresses.len; i++) {
        const ctl_vec *hosts = &build_ingress(bd, i)->info->hosts;

        for (size_t h = 0; h < hosts->len; h++) {
            if (strcmp(*CTL_VEC_AT(hosts, const char *, h), host) == 0)
                return true;
        }
    }
    return false;
}

/* The counterpart vhost answers every request with a redirect to the
 * same URI on the host with or without "www." (the module's job). */
static int
add_www_counterpart(ctl_build *bd, const ctl_ingress *ing, const char *host,
                    uint32_t policy)
{
    char other[300];
    uint32_t vhost;

    if (host[0] == '*')
        return 0;
    if (strncmp(host, "www.", 4) == 0)
        snprintf(other, sizeof(other), "%s", host + 4);
    else if (snprintf(other, sizeof(other), "www.%s", host) >=
             (int)sizeof(other))
        return 0;
    if (host_is_served(bd, other)) {
        char q[300];

        ctl_log_object(CTL_LOG_INFO, "from-to-www-redirect ignored",
                       ing->obj, "host=\"%s\" reason=\"an ingress serves "
                       "the counterpart host\"",
                       ctl_log_quote(other, q, sizeof(q)));
        return 0;
    }
    vhost = tbl_builder_vhost(bd->b, other);
    if (vhost == TBL_NONE)
        return -1;
    tbl_builder_set_vhost_policy(bd->b, vhost, policy);
    return 0;
}

/* The vhost an Ingress's aliases name: its first rule host's. */
static uint32_t
alias_target(ctl_build *bd, const ctl_ingress *ing)
{
    if (ing->info->hosts.len == 0)
        return TBL_NONE;
    return tbl_builder_vhost(bd->b,
                             *CTL_VEC_AT(&ing->info->hosts, const char *, 0));
}

int
ctl_annotations_add_aliases(ctl_build *bd)
{
    char alias[256], err[256], q[300], qe[300];

    /* oldest first: it keeps an alias two Ingresses claim */
    for (uint32_t i = 0; i < bd->ingresses.len; i++) {
        const ctl_ingress *ing = build_ingress(bd, i);
        const char *p = ing->info->values.alias.list;
        uint32_t vhost;

        if (p == NULL)
            continue;
        vhost = alias_target(bd, ing);
        while ((p = ctl_ann_alias_next(p, alias, sizeof(alias))) != NULL) {
            if (vhost != TBL_NONE &&
                tbl_builder_add_alias(bd->b, vhost, alias, err,
                                      sizeof(err)) == 0)
                continue;
            if (vhost == TBL_NONE)
                snprintf(err, sizeof(err), "the Ingress has no rule host");
            ctl_log_object(CTL_LOG_WARN, "server-alias ignored", ing->obj,
                           "field=metadata.annotations.server-alias "
                           "value=\"%s\" reason=\"%s\"",
                           ctl_log_quote(alias, q, sizeof(q)),
                           ctl_log_quote(err, qe, sizeof(qe)));
            ctl_model_problem(bd, ing->obj, "AliasIgnored",
                              "server-alias \"%s\": %s", alias, err);
        }
    }
    return 0;
}

int
ctl_annotations_add_servers(ctl_build *bd)
{
    uint32_t policy = TBL_NONE;

    for (uint32_t i = 0; i < bd->ingresses.len; i++) {
        const ctl_ingress *ing = build_ingress(bd, i);

        if (!ing->info->values.redirect.from_to_www)
            continue;
        if (policy == TBL_NONE) {
            tbl_policy_spec spec;
            char err[256];

            tbl_policy_spec_init(&spec);
            spec.flags = TBL_POL_FROM_TO_WWW;
            policy = tbl_builder_add_policy(bd->b, &spec, err, sizeof(err));
            if (policy == TBL_NONE)
                return -1;
        }
        for (size_t h = 0; h < ing->info->hosts.len; h++) {
            if (add_www_counterpart(bd, ing,
                                    *CTL_VEC_AT(&ing->info->hosts,
                                                const char *, h),
                                    policy) != 0)
                return -1;
        }
    }
    return 0;
}
