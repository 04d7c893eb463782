/*
 * model.c -- ctl_model_build: the store's Ingresses as one route table.
 *
 * The steps, each in its own function:
 *   1. pick our Ingresses and order them oldest first (model_class.c,
 *      model_ingress.c decide ownership and validity);
 *   2. merge their paths per host: one route per (host, pathType, match
 *      key); the oldest Ingress keeps a contested key, except that of
 *      Prefix "/foo" and "/foo/" the longer one wins, as types.go asks;
 *   3. choose default backends: per host, then for the catch-all vhost,
 *      then --default-backend-service;
 *   4. write everything through the table builder, resolving Services
 *      (model_backend.c) as routes need them;
 *   5. certificates: the default, then spec.tls[] (model_tls.c).
 * docs/routing.md explains each decision for users.  Nothing here
 * serializes or publishes the table.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

typedef struct {
    const ctl_object *obj;
    ctl_ingress_info *info;
} candidate;

static int
candidate_compare(const void *a, const void *b)
{
    const candidate *x = a, *y = b;

    return ctl_ingress_compare_age(x->obj, x->info->created, y->obj,
                                   y->info->created);
}

static void
build_free(ctl_build *bd)
{
    ctl_backends_free(bd);
    ctl_annotations_end(bd);
    ctl_vec_free(&bd->ingresses);
    ctl_vec_free(&bd->paths);
}

static const ctl_ingress *
ingress_at(const ctl_build *bd, uint32_t i)
{
    return CTL_VEC_AT(&bd->ingresses, ctl_ingress, i);
}

/* ------------------------------------------------- 1. our Ingresses */

static int
read_owned_ingresses(ctl_build *bd)
{
    size_t n = ctl_store_count(bd->store, CTL_KIND_INGRESS), owned = 0;
    candidate *c = malloc((n ? n : 1) * sizeof(*c));
    const ctl_model_sink *sink = bd->cfg->sink;
    ctl_class_rules rules;
    char why[512];
    int rc = 0;

    if (c == NULL)
        return -1;
    ctl_class_rules_init(&rules, bd->store, bd->cfg);
    rc = ctl_annotations_begin(bd);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const ctl_object *ing = ctl_store_at(bd->store, CTL_KIND_INGRESS, i);
        ctl_ingress_info *info = ctl_ingress_info_of(&rules, ing);
        ctl_ingress_info *served_info;
        const ctl_object *served;

        if (info == NULL) {
            rc = -1;
            break;
        }
        switch (ctl_ingress_ownership(&rules, bd->store, ing, info, why,
                                      sizeof(why))) {
        case CTL_OWNED:
            /* Invalid annotations: the last good version, or nothing. */
            served = ing;
            served_info = info;
            rc = ctl_ingress_served_version(bd, &rules, &served,
                                            &served_info);
            if (rc == 0) {
                bd->stats->ingresses_owned++;
                bd->stats->ingresses_skipped++;
            } else if (rc == 1) {
                rc = 0;
                ctl_ingress_created(served, served_info);
                c[owned].obj = served;
                c[owned].info = served_info;
                owned++;
            }
            break;
        case CTL_REFUSED:
            bd->stats->ingresses_owned++;
            bd->stats->ingresses_skipped++;
            ctl_model_problem(bd, ing, "AnnotationRefused", "%s", why);
            break;
        case CTL_NOT_OURS:
            continue;
        }
        if (sink != NULL && sink->owned != NULL)
            sink->owned(sink->data, ing);
    }
    if (rc == 0)
        qsort(c, owned, sizeof(*c), candidate_compare);
    for (size_t i = 0; i < owned && rc == 0; i++) {
        int added;

        if (c[i].info->values.canary.enabled) {
            bd->stats->ingresses_owned++;
            rc = ctl_canary_add(bd, c[i].obj, c[i].info);
            continue;
        }
        added = ctl_ingress_add(bd, c[i].obj, c[i].info);

        bd->stats->ingresses_owned++;
        if (added == 0)
            bd->stats->ingresses_skipped++;
        if (added == 1) {
            ctl_tls_secrets_check(bd, c[i].obj);
            if (ctl_ingress_keep_good(bd, c[i].obj, c[i].info) != 0)
                rc = -1;
        }
        if (added < 0)
            rc = -1;
    }
    free(c);
    return rc;
}

static const char *
host_at(const ctl_ingress *ing, uint32_t h)
{
    return *CTL_VEC_AT(&ing->info->hosts, const char *, h);
}

static uint32_t
host_count(const ctl_ingress *ing)
{
    return (uint32_t)ing->info->hosts.len;
}

/* ----------------------------------------------------- 2. merge paths */

static const char *
path_type_name(uint8_t type)
{
    switch (type) {
    case TBL_PATH_EXACT:
        return "Exact";
    case TBL_PATH_PREFIX:
        return "Prefix";
    default:
        return "ImplementationSpecific";
    }
}

static void
log_path_conflict(const ctl_build *bd, const ctl_path *winner,
                  const ctl_path *loser, const char *why)
{
    const ctl_object *w = ingress_at(bd, winner->ingress)->obj;
    const ctl_object *l = ingress_at(bd, loser->ingress)->obj;
    char qhost[300], qpath[600], qwpath[600];

    ctl_log_object(CTL_LOG_WARN, "path conflict", ingress_at(bd,
                                                             loser->ingress)
                                                      ->obj,
                   "field=spec.rules[%u].http.paths[%u] host=\"%s\" "
                   "path=\"%s\" pathType=%s winner=%s/%s winner_path=\"%s\" "
                   "reason=\"%s\"",
                   loser->rule, loser->index,
                   ctl_log_quote(loser->host, qhost, sizeof(qhost)),
                   ctl_log_quote(loser->path, qpath, sizeof(qpath)),
                   path_type_name(loser->type), w->namespace_, w->name,
                   ctl_log_quote(winner->path, qwpath, sizeof(qwpath)), why);
    ctl_model_problem(bd, l, "PathConflict",
                      "spec.rules[%u].http.paths[%u].path=\"%s\" (%s, host "
                      "\"%s\") is served by %s/%s path \"%s\": %s",
                      loser->rule, loser->index, loser->path,
                      path_type_name(loser->type), loser->host, w->namespace_,
                      w->name, winner->path, why);
}

typedef struct {
    const ctl_build *bd;
    const ctl_vec   *claims;
    const ctl_path  *path;
} claim_query;

static bool
claim_has_key(const void *ctx, uint32_t claim)
{
    const claim_query *q = ctx;

    return ctl_path_same_key(
        ctl_build_path(q->bd, *CTL_VEC_AT(q->claims, uint32_t, claim)),
        q->path);
}

const uint32_t *
ctl_claim_find(const ctl_build *bd, const ctl_hmap *keys,
               const ctl_vec *claims, const ctl_path *p)
{
    claim_query q = {bd, claims, p};

    return ctl_hmap_find(keys, p->key_hash, claim_has_key, &q);
}

/*
 * Fills claims (path indexes, one per match key, in first-claim order).
 * Paths arrive oldest Ingress first, so the first claim of a key is the
 * oldest; only a longer Prefix spelling takes a key over.
 */
static int
merge_paths(ctl_build *bd, ctl_vec *claims)
{
    ctl_hmap keys;
    int rc = 0;

    ctl_hmap_init(&keys);
    for (uint32_t pi = 0; pi < bd->paths.len && rc == 0; pi++) {
        const ctl_path *p = ctl_build_path(bd, pi);
        const uint32_t *found;
        const ctl_path *held;
        uint32_t *claim;

        found = ctl_claim_find(bd, &keys, claims, p);
        if (found == NULL) {
            claim = ctl_vec_push(claims);
            if (claim == NULL ||
                ctl_hmap_add(&keys, p->key_hash,
                             (uint32_t)(claims->len - 1)) != 0)
                rc = -1;
            else
                *claim = pi;
            continue;
        }
        claim = CTL_VEC_AT(claims, uint32_t, *found);
        held = ctl_build_path(bd, *claim);
        bd->stats->conflicts++;
        if (strlen(p->path) > strlen(held->path)) {
            log_path_conflict(bd, p, held, "the longer Prefix path wins");
            *claim = pi;
        } else {
            log_path_conflict(bd, held, p,
                              strcmp(p->path, held->path) != 0
                                  ? "the longer Prefix path wins"
                              : p->ingress == held->ingress
                                  ? "the first listing wins"
                                  : "the oldest ingress wins");
        }
    }
    ctl_hmap_free(&keys);
    return rc;
}

/* ------------------------------------------------------ 4. emit */

static void
route_spec_for(const ctl_ingress *ing, uint32_t backend, tbl_route_spec *r)
{
    memset(r, 0, sizeof(*r));
    r->backend = backend;
    r->canary = TBL_NONE;
    r->policy = TBL_NONE;
    r->ingress_namespace = ing->obj->namespace_;
    r->ingress_name = ing->obj->name;
}

/* Every host an Ingress names gets a vhost, also when its rule has no
 * paths: the host then answers with its default, not the catch-all's. */
static int
add_vhosts(ctl_build *bd)
{
    for (uint32_t i = 0; i < bd->ingresses.len; i++) {
        const ctl_ingress *ing = ingress_at(bd, i);

        if (ing->info->has_hostless &&
            tbl_builder_vhost(bd->b, "") == TBL_NONE)
            return -1;
        for (uint32_t h = 0; h < host_count(ing); h++) {
            if (tbl_builder_vhost(bd->b, host_at(ing, h)) == TBL_NONE)
                return -1;
        }
    }
    return 0;
}

static int
add_routes(ctl_build *bd, const ctl_vec *claims)
{
    const char *host = NULL;
    uint32_t vhost = TBL_NONE;

    for (size_t c = 0; c < claims->len; c++) {
        uint32_t pi = *CTL_VEC_AT(claims, uint32_t, c);
        const ctl_path *p = ctl_build_path(bd, pi);
        const ctl_ingress *ing = ingress_at(bd, p->ingress);
        uint32_t backend;
        tbl_route_spec r;
        char err[256];

        /* Paths of one rule share their host string: look it up once. */
        if (p->host != host) {
            host = p->host;
            vhost = tbl_builder_vhost(bd->b, host);
        }
        backend = ctl_backend_resolve(bd, ing->obj->namespace_, &p->backend,
                                      ing->obj, p);
        if (vhost == TBL_NONE || backend == TBL_NONE)
            return -1;
        route_spec_for(ing, backend, &r);
        r.path = p->path;
        r.path_type = p->type;
        if (ctl_route_annotate(bd, pi, &r) != 0)
            return -1;
        if (tbl_builder_add_route(bd->b, vhost, &r, err, sizeof(err)) != 0) {
            char qerr[300];

            ctl_log_object(CTL_LOG_ERROR, "route not added", ing->obj,
                           "field=spec.rules[%u].http.paths[%u] reason=\"%s\"",
                           p->rule, p->index,
                           ctl_log_quote(err, qerr, sizeof(qerr)));
            continue;
        }
        bd->stats->routes++;
    }
    return 0;
}

/* ---------------------------------------------------- 3. defaults */

static bool
same_default(const ctl_ingress *a, const ctl_ingress *b)
{
    const ctl_backend_ref *x = &a->info->default_backend;
    const ctl_backend_ref *y = &b->info->default_backend;

    return strcmp(a->obj->namespace_, b->obj->namespace_) == 0 &&
           strcmp(x->service, y->service) == 0 &&
           x->port_number == y->port_number &&
           (x->port_name == NULL) == (y->port_name == NULL) &&
           (x->port_name == NULL || strcmp(x->port_name, y->port_name) == 0);
}

static void
log_default_conflict(const ctl_build *bd, const ctl_ingress *winner,
                     const ctl_ingress *loser, const char *host)
{
    char qhost[300];

    ctl_log_object(CTL_LOG_WARN, "default backend conflict", loser->obj,
                   "field=spec.defaultBackend host=\"%s\" winner=%s/%s "
                   "reason=\"the oldest ingress wins\"",
                   ctl_log_quote(host, qhost, sizeof(qhost)),
                   winner->obj->namespace_, winner->obj->name);
    ctl_model_problem(bd, loser->obj, "DefaultBackendConflict",
                      "spec.defaultBackend.service.name=\"%s\": %s%s%s "
                      "use the default backend of %s/%s: the oldest "
                      "ingress wins",
                      loser->info->default_backend.service,
                      host[0] ? "requests for host \"" : "requests matching "
                                                        "no host",
                      host, host[0] ? "\"" : "", winner->obj->namespace_,
                      winner->obj->name);
}

static int
set_vhost_default(ctl_build *bd, const char *host, const ctl_ingress *ing)
{
    uint32_t vhost, backend;
    tbl_route_spec r;
    char err[256];

    vhost = tbl_builder_vhost(bd->b, host);
    backend = ctl_backend_resolve(bd, ing->obj->namespace_,
                                  &ing->info->default_backend, ing->obj,
                                  NULL);
    if (vhost == TBL_NONE || backend == TBL_NONE)
        return -1;
    route_spec_for(ing, backend, &r);
    r.path = NULL;
    r.path_type = TBL_PATH_DEFAULT;
    if (tbl_builder_set_vhost_default(bd->b, vhost, &r, err, sizeof(err)) !=
        0) {
        char qerr[300];

        ctl_log_object(CTL_LOG_ERROR, "default backend not set", ing->obj,
                       "field=spec.defaultBackend reason=\"%s\"",
                       ctl_log_quote(err, qerr, sizeof(qerr)));
    }
    return 0;
}

typedef struct {
    const char *host;
    uint32_t    ingress;
} host_default;

typedef struct {
    const ctl_vec *chosen;
    const char    *host;
} host_query;

static bool
host_is(const void *ctx, uint32_t i)
{
    const host_query *q = ctx;

    return strcmp(CTL_VEC_AT(q->chosen, host_default, i)->host, q->host) ==
           0;
}

/*
 * A named host falls back to the defaultBackend of the oldest Ingress
 * that names the host and has one.
 */
static int
set_host_defaults(ctl_build *bd)
{
    ctl_hmap index;  /* host -> chosen */
    ctl_vec chosen;  /* host_default, in the order hosts were chosen */
    int rc = 0;

    ctl_hmap_init(&index);
    ctl_vec_init(&chosen, sizeof(host_default));
    for (uint32_t i = 0; i < bd->ingresses.len && rc == 0; i++) {
        const ctl_ingress *ing = ingress_at(bd, i);

        for (uint32_t h = 0; ing->info->has_default && h < host_count(ing);
             h++) {
            host_query q = {&chosen, host_at(ing, h)};
            uint64_t hash = ctl_hash(q.host, strlen(q.host), 0);
            const uint32_t *found = ctl_hmap_find(&index, hash, host_is, &q);
            host_default *d;

            if (found != NULL) {
                const ctl_ingress *w = ingress_at(
                    bd, CTL_VEC_AT(&chosen, host_default, *found)->ingress);

                if (w != ing && !same_default(w, ing)) {
                    bd->stats->conflicts++;
                    log_default_conflict(bd, w, ing, q.host);
                }
                continue;
            }
            d = ctl_vec_push(&chosen);
            if (d == NULL ||
                ctl_hmap_add(&index, hash, (uint32_t)(chosen.len - 1)) != 0) {
                rc = -1;
                break;
            }
            d->host = q.host;
            d->ingress = i;
        }
    }
    for (size_t k = 0; k < chosen.len && rc == 0; k++) {
        const host_default *d = CTL_VEC_AT(&chosen, host_default, k);

        rc = set_vhost_default(bd, d->host, ingress_at(bd, d->ingress));
    }
    ctl_vec_free(&chosen);
    ctl_hmap_free(&index);
    return rc;
}

/* An Ingress aims its defaultBackend at the catch-all when it has no
 * rules or a rule without host. */
static bool
targets_catchall(const ctl_ingress *ing)
{
    return ing->info->has_default &&
           (!ing->info->has_rules || ing->info->has_hostless);
}

/*
 * The catch-all vhost (requests whose host matches no rule) falls back
 * to the oldest defaultBackend aimed at it; when there is none, to the
 * oldest defaultBackend of any Ingress, which is what the Ingress API
 * says a request matching no host gets.
 */
static int
set_catchall_default(ctl_build *bd)
{
    const ctl_ingress *winner = NULL;

    for (uint32_t i = 0; i < bd->ingresses.len; i++) {
        const ctl_ingress *ing = ingress_at(bd, i);

        if (!targets_catchall(ing))
            continue;
        if (winner == NULL) {
            winner = ing;
        } else if (!same_default(winner, ing)) {
            bd->stats->conflicts++;
            log_default_conflict(bd, winner, ing, "");
        }
    }
    for (uint32_t i = 0; i < bd->ingresses.len && winner == NULL; i++) {
        if (ingress_at(bd, i)->info->has_default)
            winner = ingress_at(bd, i);
    }
    return winner != NULL ? set_vhost_default(bd, "", winner) : 0;
}

/* ------------------------------------------------------------- build */

int
ctl_model_build(const ctl_store *store, const ctl_model_config *cfg,
                tbl_builder *b, ctl_model_stats *stats)
{
    ctl_build bd;
    ctl_vec claims;
    int rc;

    memset(&bd, 0, sizeof(bd));
    memset(stats, 0, sizeof(*stats));
    bd.store = store;
    bd.cfg = cfg;
    bd.b = b;
    bd.stats = stats;
    ctl_vec_init(&bd.ingresses, sizeof(ctl_ingress));
    ctl_vec_init(&bd.paths, sizeof(ctl_path));
    ctl_vec_init(&claims, sizeof(uint32_t));
    if (cfg->sink != NULL && cfg->sink->begin != NULL)
        cfg->sink->begin(cfg->sink->data);

    rc = ctl_backends_init(&bd);
    if (rc == 0)
        rc = ctl_backend_set_global_default(&bd);
    if (rc == 0)
        rc = read_owned_ingresses(&bd);
    if (rc == 0)
        rc = merge_paths(&bd, &claims);
    if (rc == 0)
        rc = ctl_config_build(&bd);
    if (rc == 0)
        rc = ctl_annotations_prepare(&bd, &claims);
    if (rc == 0)
        rc = add_vhosts(&bd);
    if (rc == 0)
        rc = add_routes(&bd, &claims);
    if (rc == 0)
        rc = set_host_defaults(&bd);
    if (rc == 0)
        rc = set_catchall_default(&bd);
    if (rc == 0)
        rc = ctl_annotations_add_aliases(&bd);
    if (rc == 0)
        rc = ctl_tls_build(&bd);
    if (rc == 0)
        rc = ctl_annotations_add_servers(&bd);
    if (rc == 0)
        rc = ctl_annotations_keep(&bd);
    if (rc != 0)
        ctl_log(CTL_LOG_ERROR, "route table not built",
                "reason=\"out of memory\"");
    if (cfg->sink != NULL && cfg->sink->end != NULL)
        cfg->sink->end(cfg->sink->data, rc == 0);

    ctl_vec_free(&claims);
    build_free(&bd);
    return rc;
}
