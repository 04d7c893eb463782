/*
 * fuzz_tbl_build.c -- libFuzzer target: any sequence of builder calls
 * yields a table that validates, is deterministic, and routes what was
 * added.
 *
 * The input is read as a stream of operations (add backend, vhost,
 * route, defaults, flags) whose arguments come from small dictionaries
 * or straight from the input bytes.  After finishing, the table must pass
 * tbl_view_init, an identical second build must give identical bytes,
 * every Exact route on an exact or catch-all host must be found for its
 * own path, and every Prefix route must make a sub-path match a rule at
 * least as specific.  Any failure aborts, which libFuzzer reports.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tbl.h"

typedef struct {
    const uint8_t *p;
    size_t         left;
} input;

static uint8_t
next(input *in)
{
    if (in->left == 0) {
        return 0;
    }
    in->left--;
    return *in->p++;
}

static const char *const dict_hosts[] = {
    "",           "a.example.com", "*.example.com", "b.example.com",
    "example.com", "*.a.example.com", "x", "Upper.com", "*.", "a..b",
};
static const char *const dict_segments[] = {"a", "b", "api", "v1",
                                            "x.y", "", "%2f", "foo"};
static const char *const dict_names[] = {"web", "api", "shop", "default"};

/* A host: from the dictionary, or up to 15 raw bytes. */
static void
read_host(input *in, char *buf, size_t buflen)
{
    uint8_t sel = next(in);
    size_t  n, i;

    if (sel < 200) {
        snprintf(buf, buflen, "%s",
                 dict_hosts[sel % (sizeof(dict_hosts) / sizeof(char *))]);
        return;
    }
    n = next(in) % 16;
    for (i = 0; i < n && i + 1 < buflen; i++) {
        buf[i] = (char)(next(in) | 1);
    }
    buf[i] = '\0';
}

/* A path: '/'-joined dictionary segments, or up to 31 raw bytes. */
static void
read_path(input *in, char *buf, size_t buflen)
{
    uint8_t sel = next(in);
    size_t  len = 0, n, i;

    buf[0] = '\0';
    if (sel >= 220) {
        n = next(in) % 32;
        for (i = 0; i < n && i + 1 < buflen; i++) {
            buf[i] = (char)(next(in) | 1);
        }
        buf[i] = '\0';
        return;
    }
    n = sel % 5;
    for (i = 0; i < n; i++) {
        len += (size_t)snprintf(buf + len, buflen - len, "/%s",
                                dict_segments[next(in) % 8]);
        if (len >= buflen) {
            len = buflen - 1;
        }
    }
    if (n == 0 || (sel & 0x80)) {
        snprintf(buf + len, buflen - len, "/");
    }
}

typedef struct {
    uint32_t vhost;
    uint8_t  type;
    char     path[128];
} added_route;

typedef struct {
    tbl_builder *b;
    uint32_t     vhosts;
    uint32_t     backends;
    added_route  routes[64];
    size_t       nroutes;
    char         hosts[64][64];
} session;

static void
op_backend(session *s, input *in)
{
    tbl_endpoint     eps[3];
    tbl_backend_spec spec;
    uint32_t         idx;
    size_t           i;

    memset(&spec, 0, sizeof(spec));
    memset(eps, 0, sizeof(eps));
    spec.service_namespace = dict_names[next(in) % 4];
    spec.service_name = dict_names[next(in) % 4];
    spec.port_name = next(in) & 1 ? "http" : NULL;
    spec.port = (uint32_t)(next(in) % 4) * 80;
    spec.flags = next(in) & 7;
    spec.endpoint_count = next(in) % 4;
    spec.endpoints = eps;
    for (i = 0; i < spec.endpoint_count && i < 3; i++) {
        eps[i].family = (uint8_t)(next(in) % 3 == 0 ? 6 : 4);
        eps[i].addr[0] = next(in);
        eps[i].port = next(in);
        eps[i].flags = next(in);
    }
    if (spec.endpoint_count > 3) {
        spec.endpoint_count = 3;
    }
    idx = tbl_builder_add_backend(s->b, &spec);
    if (idx != TBL_NONE && idx >= s->backends) {
        s->backends = idx + 1;
    }
}

static void
op_vhost(session *s, input *in)
{
    char     host[64];
    uint32_t idx;

    read_host(in, host, sizeof(host));
    idx = tbl_builder_vhost(s->b, host);
    if (idx != TBL_NONE && idx >= s->vhosts && idx < 64) {
        snprintf(s->hosts[idx], sizeof(s->hosts[idx]), "%s", host);
        s->vhosts = idx + 1;
    }
}

static uint32_t
pick_backend(session *s, input *in)
{
    uint8_t sel = next(in);

    return s->backends == 0 || sel % 4 == 0 ? TBL_NONE : sel % s->backends;
}

static void
op_route(session *s, input *in)
{
    tbl_route_spec spec;
    char           path[128], err[256];
    uint32_t       vh;

    if (s->vhosts == 0) {
        return;
    }
    memset(&spec, 0, sizeof(spec));
    vh = next(in) % s->vhosts;
    spec.path_type = (uint8_t)(1 + next(in) % 4);
    read_path(in, path, sizeof(path));
    spec.path = path;
    spec.backend = pick_backend(s, in);
    spec.canary = TBL_NONE;
    spec.policy = TBL_NONE;
    spec.ingress_namespace = dict_names[next(in) % 4];
    spec.ingress_name = dict_names[next(in) % 4];
    if (tbl_builder_add_route(s->b, vh, &spec, err, sizeof(err)) == 0
        && s->nroutes < 64)
    {
        added_route *r = &s->routes[s->nroutes++];

        r->vhost = vh;
        r->type = spec.path_type;
        snprintf(r->path, sizeof(r->path), "%s", path);
    }
}

static void
op_default(session *s, input *in, int global)
{
    tbl_route_spec spec;
    char           err[256];

    memset(&spec, 0, sizeof(spec));
    spec.path_type = TBL_PATH_DEFAULT;
    spec.backend = pick_backend(s, in);
    spec.canary = TBL_NONE;
    spec.policy = TBL_NONE;
    spec.ingress_namespace = dict_names[next(in) % 4];
    spec.ingress_name = dict_names[next(in) % 4];
    if (global) {
        tbl_builder_set_default(s->b, &spec, err, sizeof(err));
    } else if (s->vhosts > 0) {
        tbl_builder_set_vhost_default(s->b, next(in) % s->vhosts, &spec, err,
                                      sizeof(err));
    }
}

/* Runs the whole operation stream against a fresh builder. */
static uint8_t *
build(const uint8_t *data, size_t size, session *s, size_t *len)
{
    input    in = {data, size};
    uint8_t *out = NULL;
    char     err[256];

    memset(s, 0, sizeof(*s));
    s->b = tbl_builder_new();
    if (s->b == NULL) {
        return NULL;
    }
    while (in.left > 0) {
        switch (next(&in) % 8) {
        case 0:
            op_backend(s, &in);
            break;
        case 1:
            op_vhost(s, &in);
            break;
        case 2:
        case 3:
        case 4:
            op_route(s, &in);
            break;
        case 5:
            op_default(s, &in, 0);
            break;
        case 6:
            op_default(s, &in, 1);
            break;
        default:
            if (s->vhosts > 0) {
                tbl_builder_set_vhost_flags(s->b, next(&in) % s->vhosts,
                                            next(&in) & 0x0f);
            }
            break;
        }
    }
    tbl_builder_set_built_at(s->b, 1);
    if (tbl_builder_finish(s->b, 7, &out, len, err, sizeof(err)) != 0) {
        fprintf(stderr, "finish failed: %s\n", err);
        abort();
    }
    tbl_builder_free(s->b);
    return out;
}

/* Exact routes are found for their own path on their own vhost. */
static void
check_exact(const tbl_view *v, const session *s, const added_route *r)
{
    const char *host = s->hosts[r->vhost];
    tbl_match   m;

    if (host[0] == '*') {
        return;
    }
    tbl_lookup(v, host, strlen(host), r->path, strlen(r->path), NULL, NULL,
               &m);
    if (m.kind != TBL_MATCH_EXACT || m.vhost != r->vhost
        || strcmp(tbl_view_str(v, v->routes[m.route].path), r->path) != 0)
    {
        fprintf(stderr, "Exact %s%s not found (kind %u)\n", host, r->path,
                m.kind);
        abort();
    }
}

/* A sub-path of a Prefix rule matches that rule or a more specific one. */
static void
check_prefix(const tbl_view *v, const session *s, const added_route *r)
{
    const char *host = s->hosts[r->vhost];
    char        sub[160];
    size_t      keylen = strlen(r->path);
    tbl_match   m;
    int         n;

    if (host[0] == '*') {
        return;
    }
    if (keylen > 1 && r->path[keylen - 1] == '/') {
        keylen--;
    }
    n = snprintf(sub, sizeof(sub), "%.*s/zz", (int)keylen, r->path);
    tbl_lookup(v, host, strlen(host), sub, (size_t)n, NULL, NULL, &m);
    if (m.vhost != r->vhost
        || (m.kind != TBL_MATCH_EXACT && m.kind != TBL_MATCH_PREFIX
            && m.kind != TBL_MATCH_IMPL))
    {
        fprintf(stderr, "Prefix %s%s: %s got kind %u\n", host, r->path, sub,
                m.kind);
        abort();
    }
    if (m.kind == TBL_MATCH_PREFIX) {
        tbl_str got = v->routes[m.route].path;
        size_t  glen = got.len;

        if (glen > 1 && tbl_view_str(v, got)[glen - 1] == '/') {
            glen--;
        }
        if (glen < keylen) {
            fprintf(stderr, "Prefix %s%s lost to shorter %s\n", host,
                    r->path, tbl_view_str(v, got));
            abort();
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static session s1, s2;
    uint8_t       *a, *b;
    size_t         alen, blen, i;
    tbl_view       v;
    char           err[256];

    a = build(data, size, &s1, &alen);
    b = build(data, size, &s2, &blen);
    if (a == NULL || b == NULL) {
        free(a);
        free(b);
        return 0;
    }
    if (alen != blen || memcmp(a, b, alen) != 0) {
        fprintf(stderr, "same operations, different bytes\n");
        abort();
    }
    if (tbl_view_init(&v, a, alen, err, sizeof(err)) != 0) {
        fprintf(stderr, "built table rejected: %s\n", err);
        abort();
    }
    for (i = 0; i < s1.nroutes; i++) {
        if (s1.routes[i].type == TBL_PATH_EXACT) {
            check_exact(&v, &s1, &s1.routes[i]);
        } else if (s1.routes[i].type == TBL_PATH_PREFIX) {
            check_prefix(&v, &s1, &s1.routes[i]);
        }
    }
    free(a);
    free(b);
    return 0;
}
