/*
 * tool_explain.c -- "shmingress-table explain": which route a request
 * gets and why.
 *
 * The answer always comes from tbl_lookup(), the function nginx calls.
 * The explanation is derived separately, by walking the table's records
 * (vhosts and routes scanned one by one, no hash probes) with the rules
 * of docs/table-format.md: host bucket exact > wildcard > catch-all with
 * no fall-through; then Exact, then regex, then the longest Prefix unless
 * a strictly longer ImplementationSpecific string prefix matches; then
 * the vhost's default backend, the global default, or 404.  When the two
 * disagree the tool prints both and exits 3: one of them has a bug.
 * Regex routes are listed but not evaluated (that takes the module's
 * PCRE2 cache); tbl_lookup is called without a regex matcher, so both
 * sides skip them the same way, and the output says that nginx may pick
 * a regex route instead.
 */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "tool_describe.h"

typedef enum {
    STEP_MISS = 0,
    STEP_HIT,           /* matched, and this route is the winner        */
    STEP_SHADOWED,      /* matched, but another route won               */
    STEP_NOT_EVALUATED  /* regex: not run by the tool                   */
} step_result;

static const char *step_result_name(step_result r)
{
    switch (r) {
    case STEP_MISS: return "miss";
    case STEP_HIT: return "hit";
    case STEP_SHADOWED: return "hit, shadowed";
    case STEP_NOT_EVALUATED: return "not evaluated by the tool";
    }
    return "?";
}

typedef struct {
    uint8_t     type;     /* TBL_PATH_EXACT/PREFIX/IMPL/REGEX          */
    const char *cand;     /* probed key: request-path prefix or rule  */
    size_t      cand_len;
    uint32_t    route;    /* NONE on a miss                           */
    step_result result;
} path_step;

typedef enum {
    BUCKET_MISS = 0,
    BUCKET_HIT,
    BUCKET_NOT_CONSULTED,
    BUCKET_NOT_APPLICABLE /* e.g. no wildcard form of a one-label host */
} bucket_result;

typedef struct {
    const char   *name;   /* "exact", "wildcard", "catch-all"         */
    char          key[TBL_MAX_HOST_LEN + 3];
    bucket_result result;
    uint32_t      vhost;
} host_step;

typedef struct {
    const tbl_view *v;
    const char     *path;
    size_t          path_len;
    char            host[TBL_MAX_HOST_LEN + 1]; /* normalized          */
    int             host_len;                   /* -1: not a host name */

    host_step       buckets[3];
    uint32_t        vhost;
    uint8_t         host_kind; /* tbl_host_kind                        */

    path_step      *steps;
    size_t          nsteps, capsteps;
    size_t          regex_skipped;

    uint32_t        route;     /* the walk's winner                     */
    uint8_t         kind;      /* tbl_match_kind                        */
    const char     *reason;
} explain;

static const char *match_kind_name(uint8_t kind)
{
    switch (kind) {
    case TBL_MATCH_NONE: return "none";
    case TBL_MATCH_EXACT: return "exact";
    case TBL_MATCH_PREFIX: return "prefix";
    case TBL_MATCH_IMPL: return "implementation-specific";
    case TBL_MATCH_REGEX: return "regex";
    case TBL_MATCH_HOST_DEFAULT: return "vhost-default";
    case TBL_MATCH_DEFAULT: return "global-default";
    }
    return "unknown";
}

static const char *host_kind_name(uint8_t kind)
{
    switch (kind) {
    case TBL_HOST_NONE: return "none";
    case TBL_HOST_EXACT: return "exact";
    case TBL_HOST_WILDCARD: return "wildcard";
    case TBL_HOST_CATCHALL: return "catch-all";
    }
    return "unknown";
}

/* ------------------------------------------------------------ host walk */

static int str_equals(const tbl_view *v, tbl_str s, const char *p,
                      size_t len)
{
    return s.len == len && memcmp(tbl_view_str(v, s), p, len) == 0;
}

static uint32_t find_vhost(const tbl_view *v, uint32_t flag, const char *host,
                           size_t len)
{
    for (uint32_t i = 0; i < v->vhost_count; i++) {
        const tbl_vhost *vh = &v->vhosts[i];
        uint32_t kind = vh->flags & (TBL_VHOST_WILDCARD | TBL_VHOST_CATCHALL);
        if (kind == flag && str_equals(v, vh->host, host, len))
            return i;
    }
    return TBL_NONE;
}

/* Records one bucket; everything after a hit is "not consulted". */
static void try_bucket(explain *e, int i, const char *name, uint32_t vhost,
                       uint8_t host_kind)
{
    host_step *b = &e->buckets[i];
    b->name = name;
    b->vhost = vhost;
    if (e->vhost != TBL_NONE) {
        b->result = BUCKET_NOT_CONSULTED;
        return;
    }
    b->result = vhost == TBL_NONE ? BUCKET_MISS : BUCKET_HIT;
    if (vhost != TBL_NONE) {
        e->vhost = vhost;
        e->host_kind = host_kind;
    }
}

static void walk_hosts(explain *e)
{
    const tbl_view *v = e->v;
    uint32_t exact = TBL_NONE, wildcard = TBL_NONE;
    int have_wildcard_key = 0;

    e->vhost = TBL_NONE;
    e->host_kind = TBL_HOST_NONE;
    if (e->host_len > 0) {
        snprintf(e->buckets[0].key, sizeof(e->buckets[0].key), "%s", e->host);
        exact = find_vhost(v, 0, e->host, (size_t)e->host_len);
        /* "*.suffix" covers exactly one label in front of suffix. */
        const char *dot = memchr(e->host, '.', (size_t)e->host_len);
        if (dot != NULL && dot != e->host && dot[1] != '\0') {
            snprintf(e->buckets[1].key, sizeof(e->buckets[1].key), "*%s",
                     dot);
            wildcard = find_vhost(v, TBL_VHOST_WILDCARD, e->buckets[1].key,
                                  strlen(e->buckets[1].key));
            have_wildcard_key = 1;
        }
    }
    try_bucket(e, 0, "exact", exact, TBL_HOST_EXACT);
    if (e->host_len <= 0 && e->buckets[0].result == BUCKET_MISS)
        e->buckets[0].result = BUCKET_NOT_APPLICABLE;
    try_bucket(e, 1, "wildcard", wildcard, TBL_HOST_WILDCARD);
    if (!have_wildcard_key && e->buckets[1].result == BUCKET_MISS)
        e->buckets[1].result = BUCKET_NOT_APPLICABLE;
    try_bucket(e, 2, "catch-all", v->hdr->catchall_vhost, TBL_HOST_CATCHALL);
}

/* ------------------------------------------------------------ path walk */

static int add_step(explain *e, uint8_t type, const char *cand, size_t len,
                    uint32_t route, step_result result)
{
    if (e->nsteps == e->capsteps) {
        size_t cap = e->capsteps ? e->capsteps * 2 : 16;
        path_step *s = realloc(e->steps, cap * sizeof(*s));
        if (s == NULL)
            return -1;
        e->steps = s;
        e->capsteps = cap;
    }
    e->steps[e->nsteps++] = (path_step){type, cand, len, route, result};
    return 0;
}

/* A Prefix rule's key: its path without one trailing '/' ("/" stays). */
static size_t prefix_key_len(const tbl_view *v, const tbl_route *r)
{
    const char *p = tbl_view_str(v, r->path);
    if (r->path.len > 1 && p[r->path.len - 1] == '/')
        return r->path.len - 1;
    return r->path.len;
}

static uint32_t find_route(const tbl_view *v, uint32_t vhost, uint8_t type,
                           const char *key, size_t len)
{
    for (uint32_t i = 0; i < v->route_count; i++) {
        const tbl_route *r = &v->routes[i];
        if (r->vhost != vhost || r->path_type != type)
            continue;
        size_t klen = type == TBL_PATH_PREFIX ? prefix_key_len(v, r)
                                              : r->path.len;
        if (klen == len && memcmp(tbl_view_str(v, r->path), key, len) == 0)
            return i;
    }
    return TBL_NONE;
}

static int walk_exact(explain *e, uint32_t *exact)
{
    *exact = find_route(e->v, e->vhost, TBL_PATH_EXACT, e->path, e->path_len);
    return add_step(e, TBL_PATH_EXACT, e->path, e->path_len, *exact,
                    STEP_MISS);
}

/*
 * Prefix candidates are the request path cut at each '/' boundary,
 * longest first, plus "/": exactly the keys a Prefix rule can have and
 * still match element-wise.  The first hit is the longest Prefix.
 */
static int walk_prefix(explain *e, uint32_t *best)
{
    size_t len = e->path_len;
    *best = TBL_NONE;
    if (len > 1 && e->path[len - 1] == '/')
        len--;
    for (;;) {
        uint32_t r = find_route(e->v, e->vhost, TBL_PATH_PREFIX, e->path, len);
        if (*best == TBL_NONE)
            *best = r;
        if (add_step(e, TBL_PATH_PREFIX, e->path, len, r, STEP_MISS) != 0)
            return -1;
        if (len <= 1)
            return 0;
        while (len > 1 && e->path[len - 1] != '/')
            len--;
        if (len > 1)
            len--; /* drop the '/' itself: "/a/b" -> "/a" */
    }
}

static int compare_longest_first(const void *a, const void *b, void *ctx)
{
    const tbl_view *v = ctx;
    uint32_t la = v->routes[*(const uint32_t *)a].path.len;
    uint32_t lb = v->routes[*(const uint32_t *)b].path.len;
    return la < lb ? 1 : la > lb ? -1 : 0;
}

/* Routes of one type in this vhost; for IMPL sorted longest first. */
static uint32_t *collect_routes(explain *e, uint8_t type, size_t *n)
{
    const tbl_view *v = e->v;
    uint32_t *idx = malloc(sizeof(*idx) * (v->route_count + 1));
    *n = 0;
    if (idx == NULL)
        return NULL;
    for (uint32_t i = 0; i < v->route_count; i++)
        if (v->routes[i].vhost == e->vhost && v->routes[i].path_type == type)
            idx[(*n)++] = i;
    if (type == TBL_PATH_IMPL)
        qsort_r(idx, *n, sizeof(*idx), compare_longest_first, (void *)v);
    return idx;
}

/* ImplementationSpecific is a plain string prefix; longest first. */
static int walk_impl(explain *e, uint32_t *best)
{
    size_t n;
    uint32_t *idx = collect_routes(e, TBL_PATH_IMPL, &n);
    *best = TBL_NONE;
    if (idx == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const tbl_route *r = &e->v->routes[idx[i]];
        const char *p = tbl_view_str(e->v, r->path);
        uint32_t hit = r->path.len <= e->path_len &&
                               memcmp(p, e->path, r->path.len) == 0
                           ? idx[i]
                           : TBL_NONE;
        if (*best == TBL_NONE)
            *best = hit;
        if (add_step(e, TBL_PATH_IMPL, p, r->path.len, hit, STEP_MISS) != 0) {
            free(idx);
            return -1;
        }
    }
    free(idx);
    return 0;
}

static int walk_regex(explain *e)
{
    size_t n;
    uint32_t *idx = collect_routes(e, TBL_PATH_REGEX, &n);
    if (idx == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const tbl_route *r = &e->v->routes[idx[i]];
        if (add_step(e, TBL_PATH_REGEX, tbl_view_str(e->v, r->path),
                     r->path.len, idx[i], STEP_NOT_EVALUATED) != 0) {
            free(idx);
            return -1;
        }
    }
    e->regex_skipped = n;
    free(idx);
    return 0;
}

static void win(explain *e, uint32_t route, uint8_t kind, const char *reason)
{
    e->route = route;
    e->kind = kind;
    e->reason = reason;
}

/*
 * Exact beats everything; otherwise an ImplementationSpecific prefix
 * wins only when it is strictly longer than the longest matching Prefix
 * rule as written.
 */
static void decide_path(explain *e, uint32_t exact, uint32_t prefix,
                        uint32_t impl)
{
    const tbl_route *routes = e->v->routes;
    if (exact != TBL_NONE) {
        win(e, exact, TBL_MATCH_EXACT,
            prefix != TBL_NONE ? "Exact beats Prefix"
            : impl != TBL_NONE ? "Exact beats ImplementationSpecific"
                               : "Exact path match");
    } else if (impl != TBL_NONE &&
               (prefix == TBL_NONE ||
                routes[impl].path.len > routes[prefix].path.len)) {
        win(e, impl, TBL_MATCH_IMPL,
            prefix != TBL_NONE
                ? "ImplementationSpecific longer than the longest Prefix"
                : "longest ImplementationSpecific prefix");
    } else if (prefix != TBL_NONE) {
        win(e, prefix, TBL_MATCH_PREFIX,
            impl != TBL_NONE
                ? "longest Prefix (no longer ImplementationSpecific match)"
                : "longest Prefix");
    }
}

/* The winner's step says "hit", every other matching step "shadowed". */
static void mark_steps(explain *e)
{
    for (size_t i = 0; i < e->nsteps; i++) {
        path_step *s = &e->steps[i];
        if (s->result == STEP_NOT_EVALUATED || s->route == TBL_NONE)
            continue;
        s->result = s->route == e->route ? STEP_HIT : STEP_SHADOWED;
    }
}

static void walk_defaults(explain *e)
{
    if (e->route != TBL_NONE)
        return;
    if (e->vhost != TBL_NONE &&
        e->v->vhosts[e->vhost].default_route != TBL_NONE) {
        e->route = e->v->vhosts[e->vhost].default_route;
        e->kind = TBL_MATCH_HOST_DEFAULT;
        e->reason = "no path matched: vhost default backend";
    } else if (e->v->hdr->default_route != TBL_NONE) {
        e->route = e->v->hdr->default_route;
        e->kind = TBL_MATCH_DEFAULT;
        e->reason = e->vhost == TBL_NONE ? "no host matched: global default"
                                         : "no path matched: global default";
    } else {
        e->kind = TBL_MATCH_NONE;
        e->reason = "no match -> 404";
    }
}

/* Steps in the order nginx meets them: Exact, regex, Prefix, Impl. */
static int walk(explain *e)
{
    uint32_t exact, prefix, impl;
    e->route = TBL_NONE;
    e->kind = TBL_MATCH_NONE;
    walk_hosts(e);
    if (e->vhost != TBL_NONE) {
        if (walk_exact(e, &exact) != 0 || walk_regex(e) != 0 ||
            walk_prefix(e, &prefix) != 0 || walk_impl(e, &impl) != 0)
            return -1;
        decide_path(e, exact, prefix, impl);
        mark_steps(e);
    }
    walk_defaults(e);
    return 0;
}

/* ---------------------------------------------------------- the answer */

static int answer_status(const tbl_view *v, const tbl_match *m,
                         const char **why)
{
    if (m->route == TBL_NONE) {
        *why = "no route";
        return 404;
    }
    *why = tool_backend_503_reason(v, v->routes[m->route].backend);
    return *why != NULL ? 503 : 200;
}

static int walk_agrees(const explain *e, const tbl_match *m)
{
    return m->vhost == e->vhost && m->host_kind == e->host_kind &&
           m->route == e->route && m->kind == e->kind;
}

/* ---------------------------------------------------------- plain text */

static void print_route_line(FILE *out, const tbl_view *v, uint32_t route)
{
    const tbl_route *r = &v->routes[route];
    char ingress[1024];
    const char *from = tool_route_ingress(v, r, ingress, sizeof(ingress));
    fprintf(out, "route %u %s", route, tbl_path_type_name(r->path_type));
    if (r->path_type != TBL_PATH_DEFAULT)
        fprintf(out, " \"%s\"", tbl_view_str(v, r->path));
    if (from != NULL)
        fprintf(out, " from Ingress %s", from);
    else
        fprintf(out, " (controller default)");
}

static void print_hosts_text(const explain *e, FILE *out)
{
    if (e->host_len < 0)
        fprintf(out, "host: not a valid host name, only the catch-all "
                     "applies\n");
    else
        fprintf(out, "host: normalized \"%s\"\n", e->host);
    for (int i = 0; i < 3; i++) {
        const host_step *b = &e->buckets[i];
        fprintf(out, "  %-9s ", b->name);
        if (b->key[0] != '\0')
            fprintf(out, "\"%s\"", b->key);
        fprintf(out, ": ");
        switch (b->result) {
        case BUCKET_HIT:
            fprintf(out, "hit -> vhost %u\n", b->vhost);
            break;
        case BUCKET_MISS:
            fprintf(out, "miss\n");
            break;
        case BUCKET_NOT_CONSULTED:
            fprintf(out, "not consulted (a matched host never falls "
                         "through)\n");
            break;
        case BUCKET_NOT_APPLICABLE:
            fprintf(out, "not applicable to this host\n");
            break;
        }
    }
}

static void print_paths_text(const explain *e, FILE *out)
{
    const tbl_view *v = e->v;
    if (e->vhost == TBL_NONE) {
        fprintf(out, "paths: no vhost, none considered\n");
        return;
    }
    fprintf(out, "paths in vhost %u \"%s\" (%s):\n", e->vhost,
            tbl_view_str(v, v->vhosts[e->vhost].host),
            tool_vhost_kind_name(&v->vhosts[e->vhost]));
    for (size_t i = 0; i < e->nsteps; i++) {
        const path_step *s = &e->steps[i];
        fprintf(out, "  %-22s \"%.*s\": %s", tbl_path_type_name(s->type),
                (int)s->cand_len, s->cand, step_result_name(s->result));
        if (s->route != TBL_NONE && s->result != STEP_MISS) {
            fprintf(out, " -> ");
            print_route_line(out, v, s->route);
        }
        fputc('\n', out);
    }
    if (e->regex_skipped > 0)
        fprintf(out, "  note: %zu regex route%s not evaluated here; in "
                     "nginx a matching one wins over Prefix and "
                     "ImplementationSpecific\n",
                e->regex_skipped, e->regex_skipped == 1 ? " was" : "s were");
}

static void print_backend_text(const tbl_view *v, uint32_t backend, FILE *out)
{
    if (backend == TBL_NONE) {
        fprintf(out, "backend: none\n");
        return;
    }
    const tbl_backend *be = &v->backends[backend];
    fprintf(out, "backend: service %s/%s port %u",
            tbl_view_str(v, be->service_namespace),
            tbl_view_str(v, be->service_name), be->port);
    if (be->port_name.len > 0)
        fprintf(out, " (%s)", tbl_view_str(v, be->port_name));
    fprintf(out, ", %u endpoint%s\n", be->endpoint_count,
            be->endpoint_count == 1 ? "" : "s");
    for (uint32_t i = 0; i < be->endpoint_count; i++) {
        const tbl_endpoint *ep = &v->endpoints[be->endpoint_first + i];
        char addr[64], flags[64];
        fprintf(out, "  %s %s\n", tool_endpoint_address(ep, addr, sizeof(addr)),
                tool_endpoint_flags(ep, flags, sizeof(flags)));
    }
}

static void print_match_text(const tbl_view *v, const char *who,
                             const tbl_match *m, FILE *out)
{
    fprintf(out, "%s: host %s vhost ", who, host_kind_name(m->host_kind));
    if (m->vhost == TBL_NONE)
        fprintf(out, "none");
    else
        fprintf(out, "%u", m->vhost);
    fprintf(out, ", match %s, ", match_kind_name(m->kind));
    if (m->route == TBL_NONE)
        fprintf(out, "no route");
    else
        print_route_line(out, v, m->route);
    fputc('\n', out);
}

static void print_text(const tool_table *t, const explain *e,
                       const tbl_match *m, int agrees, FILE *out)
{
    const tbl_view *v = &t->view;
    const char *why;
    int status = answer_status(v, m, &why);

    fprintf(out, "table: %s (generation %llu)\n", t->path,
            (unsigned long long)v->hdr->generation);
    print_hosts_text(e, out);
    print_paths_text(e, out);
    print_match_text(v, "answer (tbl_lookup)", m, out);
    if (!agrees) {
        tbl_match walked = {e->vhost, e->route, e->kind, e->host_kind};
        print_match_text(v, "walk of the records", &walked, out);
        fprintf(out, "DISAGREEMENT: tbl_lookup and the record walk differ; "
                     "this is a bug\n");
        return;
    }
    fprintf(out, "reason: %s\n", e->reason);
    if (m->route != TBL_NONE)
        print_backend_text(v, v->routes[m->route].backend, out);
    if (why != NULL)
        fprintf(out, "status: %d (%s)\n", status, why);
    else
        fprintf(out, "status: %d (proxied)\n", status);
}

/* ---------------------------------------------------------------- JSON */

static cJSON *match_json(const tbl_view *v, const tbl_match *m)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "host_kind", host_kind_name(m->host_kind));
    if (m->vhost == TBL_NONE)
        cJSON_AddNullToObject(obj, "vhost");
    else
        cJSON_AddNumberToObject(obj, "vhost", m->vhost);
    cJSON_AddStringToObject(obj, "match", match_kind_name(m->kind));
    cJSON_AddItemToObject(obj, "route", tool_route_json(v, m->route));
    return obj;
}

static cJSON *hosts_json(const explain *e)
{
    static const char *results[] = {
        [BUCKET_MISS] = "miss",
        [BUCKET_HIT] = "hit",
        [BUCKET_NOT_CONSULTED] = "not consulted",
        [BUCKET_NOT_APPLICABLE] = "not applicable",
    };
    cJSON *obj = cJSON_CreateObject();
    if (e->host_len < 0)
        cJSON_AddNullToObject(obj, "normalized");
    else
        cJSON_AddStringToObject(obj, "normalized", e->host);
    cJSON *arr = cJSON_AddArrayToObject(obj, "buckets");
    for (int i = 0; i < 3; i++) {
        const host_step *b = &e->buckets[i];
        cJSON *step = cJSON_CreateObject();
        cJSON_AddStringToObject(step, "bucket", b->name);
        if (b->key[0] != '\0')
            cJSON_AddStringToObject(step, "key", b->key);
        cJSON_AddStringToObject(step, "result", results[b->result]);
        if (b->result == BUCKET_HIT)
            cJSON_AddNumberToObject(step, "vhost", b->vhost);
        cJSON_AddItemToArray(arr, step);
    }
    return obj;
}

static cJSON *paths_json(const explain *e)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < e->nsteps; i++) {
        const path_step *s = &e->steps[i];
        cJSON *step = cJSON_CreateObject();
        char *cand = strndup(s->cand, s->cand_len);
        cJSON_AddStringToObject(step, "type", tbl_path_type_name(s->type));
        cJSON_AddStringToObject(step, "candidate", cand ? cand : "");
        free(cand);
        cJSON_AddStringToObject(step, "result", step_result_name(s->result));
        if (s->route != TBL_NONE && s->result != STEP_MISS)
            cJSON_AddNumberToObject(step, "route", s->route);
        cJSON_AddItemToArray(arr, step);
    }
    return arr;
}

static int print_json(const tool_table *t, const explain *e,
                      const tbl_match *m, int agrees, FILE *out)
{
    const tbl_view *v = &t->view;
    const char *why;
    int status = answer_status(v, m, &why);
    cJSON *root = cJSON_CreateObject();

    cJSON *table = cJSON_AddObjectToObject(root, "table");
    cJSON_AddStringToObject(table, "file", t->path);
    cJSON_AddNumberToObject(table, "generation", (double)v->hdr->generation);
    cJSON_AddItemToObject(root, "host", hosts_json(e));
    cJSON_AddItemToObject(root, "paths", paths_json(e));
    cJSON_AddNumberToObject(root, "regex_not_evaluated",
                            (double)e->regex_skipped);
    cJSON_AddItemToObject(root, "answer", match_json(v, m));
    cJSON_AddBoolToObject(root, "agrees", agrees);
    if (!agrees) {
        tbl_match walked = {e->vhost, e->route, e->kind, e->host_kind};
        cJSON_AddItemToObject(root, "walk", match_json(v, &walked));
    } else {
        cJSON_AddStringToObject(root, "reason", e->reason);
    }
    cJSON_AddNumberToObject(root, "status", status);
    if (why != NULL)
        cJSON_AddStringToObject(root, "status_reason", why);
    int rc = tool_print_json(root, out);
    cJSON_Delete(root);
    return rc;
}

/* -------------------------------------------------------------- command */

int tool_explain(const tool_table *t, const tool_explain_request *req,
                 FILE *out)
{
    explain e;
    memset(&e, 0, sizeof(e));
    e.v = &t->view;
    e.path = req->path;
    e.path_len = strcspn(req->path, "?");
    if (e.path_len == 0 || req->path[0] != '/') {
        fprintf(stderr, "shmingress-table: --path must start with '/': "
                        "\"%s\"\n", req->path);
        return TOOL_EXIT_USAGE;
    }
    if (e.path_len > TBL_MAX_PATH_LEN) {
        fprintf(stderr, "shmingress-table: --path longer than %u bytes\n",
                TBL_MAX_PATH_LEN);
        return TOOL_EXIT_USAGE;
    }
    e.host_len = tbl_normalize_host(req->host, strlen(req->host), e.host,
                                    sizeof(e.host));
    if (e.host_len >= 0)
        e.host[e.host_len] = '\0';

    tbl_match m;
    tbl_lookup(e.v, req->host, strlen(req->host), e.path, e.path_len, NULL,
               NULL, &m);
    if (walk(&e) != 0) {
        free(e.steps);
        fprintf(stderr, "shmingress-table: out of memory\n");
        return TOOL_EXIT_INVALID;
    }

    int agrees = walk_agrees(&e, &m);
    int rc = req->json ? print_json(t, &e, &m, agrees, out)
                       : (print_text(t, &e, &m, agrees, out), TOOL_EXIT_OK);
    free(e.steps);
    if (rc != TOOL_EXIT_OK)
        return rc;
    return agrees ? TOOL_EXIT_OK : TOOL_EXIT_DISAGREE;
}
