/*
 * fuzz_tbl_build.c -- libFuzzer target: any sequence of builder calls
 * yields a table that validates, is deterministic, and routes what was
 * added.
 *
 * The input is read as a stream of operations (add backend, vhost,
 * route, defaults, flags, certificate, SNI name, default and vhost
 * certificate, policy, canary, config, vhost policy, reset) whose
 * arguments come from small dictionaries or straight from the input
 * bytes, valid or not.  After finishing, the table must pass
 * tbl_view_init, an identical second build must give identical bytes,
 * every Exact route on an exact or catch-all host must be found for its
 * own path, every Prefix route must make a sub-path match a rule at
 * least as specific, every SNI name must select its certificate, every
 * certificate must hold its bytes, and every policy's allow list must
 * answer tbl_cidr_match as a linear scan of the CIDRs it was given.  Any
 * failure aborts, which libFuzzer reports.
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
    char     name[64];
    uint32_t cert;
} added_sni;

typedef struct {
    uint8_t  bytes[16];
    size_t   chain_len;
    size_t   key_len;
} added_cert;

#define MAX_CIDRS 6

typedef struct {
    uint32_t index;
    tbl_cidr allow[MAX_CIDRS];
    size_t   allow_count;
} added_policy;

typedef struct {
    tbl_builder *b;
    uint32_t     vhosts;
    uint32_t     backends;
    uint32_t     certs;
    uint32_t     policies;
    uint32_t     canaries;
    added_route  routes[64];
    size_t       nroutes;
    char         hosts[64][64];
    added_sni    snis[32];
    size_t       nsnis;
    added_cert   cert_bytes[32];
    added_policy policy_lists[16];
    size_t       npolicies;
} session;

/* Forgets what the builder forgot: tbl_builder_reset in the stream. */
static void
session_reset(session *s)
{
    tbl_builder *b = s->b;

    memset(s, 0, sizeof(*s));
    s->b = b;
    tbl_builder_reset(b);
}

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

/* server-alias: any name on any vhost; a vhost added later for the same
 * name must still win (check_exact looks vhosts up by their own host). */
static void
op_alias(session *s, input *in)
{
    char host[64], err[256];

    read_host(in, host, sizeof(host));
    tbl_builder_add_alias(s->b, s->vhosts ? next(in) % (s->vhosts + 1) : 0,
                          host, err, sizeof(err));
}

static uint32_t
pick_backend(session *s, input *in)
{
    uint8_t sel = next(in);

    return s->backends == 0 || sel % 4 == 0 ? TBL_NONE : sel % s->backends;
}

/* An index below count, or sometimes NONE or one past the end. */
static uint32_t
pick_index(input *in, uint32_t count)
{
    uint8_t sel = next(in);

    if (sel % 8 == 0) {
        return TBL_NONE;
    }
    if (sel % 8 == 1) {
        return count;
    }
    return count == 0 ? TBL_NONE : sel % count;
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
    spec.canary = next(in) & 1 ? pick_index(in, s->canaries) : TBL_NONE;
    spec.policy = next(in) & 1 ? pick_index(in, s->policies) : TBL_NONE;
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

static void
op_cert(session *s, input *in)
{
    tbl_cert_spec spec;
    uint8_t       bytes[16];
    char          err[256];
    uint32_t      idx;
    size_t        i;

    memset(&spec, 0, sizeof(spec));
    for (i = 0; i < sizeof(bytes); i++) {
        bytes[i] = next(in) % 4; /* few distinct values: duplicates */
    }
    spec.chain = bytes;
    spec.chain_len = next(in) % 9;
    spec.key = bytes + 8;
    spec.key_len = next(in) % 9;
    spec.not_after = next(in);
    spec.flags = next(in) % 3;
    spec.secret_namespace = dict_names[next(in) % 4];
    spec.secret_name = next(in) & 1 ? dict_names[next(in) % 4] : NULL;
    idx = tbl_builder_add_cert(s->b, &spec, err, sizeof(err));
    if (idx == TBL_NONE) {
        return;
    }
    if (idx > s->certs) {
        fprintf(stderr, "cert index %u after %u certs\n", idx, s->certs);
        abort();
    }
    if (idx == s->certs && idx < 32) {
        added_cert *c = &s->cert_bytes[idx];

        memcpy(c->bytes, bytes, sizeof(bytes));
        c->chain_len = spec.chain_len;
        c->key_len = spec.key_len;
    }
    if (idx == s->certs) {
        s->certs++;
    }
}

static void
op_sni(session *s, input *in)
{
    char     host[64], err[256];
    uint32_t cert = pick_index(in, s->certs);

    read_host(in, host, sizeof(host));
    if (tbl_builder_add_sni(s->b, host, cert, err, sizeof(err)) == 0
        && s->nsnis < 32)
    {
        size_t i;

        for (i = 0; i < s->nsnis; i++) {
            if (strcmp(s->snis[i].name, host) == 0) {
                return;
            }
        }
        snprintf(s->snis[s->nsnis].name, sizeof(s->snis[0].name), "%s", host);
        s->snis[s->nsnis++].cert = cert;
    }
}

static void
op_tls(session *s, input *in)
{
    uint32_t cert = pick_index(in, s->certs);

    if (next(in) & 1) {
        tbl_builder_set_default_cert(s->b, cert);
    } else if (s->vhosts > 0) {
        tbl_builder_set_vhost_cert(s->b, next(in) % s->vhosts, cert);
    }
}

/* Up to MAX_CIDRS CIDRs, mostly valid, from a small address space. */
static size_t
read_cidrs(input *in, tbl_cidr *out)
{
    size_t n = next(in) % (MAX_CIDRS + 1), i, k;

    for (i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        out[i].family = next(in) % 5 == 0 ? 6 : 4;
        out[i].prefix_len = next(in) % (out[i].family == 4 ? 34 : 130);
        for (k = 0; k < 16; k++) {
            out[i].addr[k] = k < 4 ? next(in) % 3 : 0;
        }
    }
    return n;
}

static const char *const dict_urls[] = {NULL, "", "https://x.io/", "/a"};

static void
op_policy(session *s, input *in)
{
    tbl_policy_spec spec;
    tbl_cidr        allow[MAX_CIDRS], deny[MAX_CIDRS];
    uint8_t         secret[4];
    char            err[256];
    uint32_t        idx;

    tbl_policy_spec_init(&spec);
    spec.flags = next(in) % 2 ? next(in) : 0;
    spec.redirect_url = dict_urls[next(in) % 4];
    spec.redirect_code = (uint16_t)(next(in) % 4 ? 0 : 295 + next(in) % 16);
    spec.auth_type = next(in) % 5;
    spec.load_balance = next(in) % 5;
    spec.limit_rps = next(in) % 3;
    spec.rewrite_target = dict_segments[next(in) % 8];
    spec.hash_by = next(in) % 2 ? dict_names[next(in) % 4] : NULL;
    spec.allow = allow;
    spec.allow_count = read_cidrs(in, allow);
    spec.deny = deny;
    spec.deny_count = read_cidrs(in, deny);
    secret[0] = next(in);
    secret[1] = next(in);
    spec.auth_secret = secret;
    spec.auth_secret_len = next(in) % 3;
    spec.default_backend = next(in) % 2 ? pick_index(in, s->backends)
                                        : TBL_NONE;
    idx = tbl_builder_add_policy(s->b, &spec, err, sizeof(err));
    if (idx == TBL_NONE) {
        return;
    }
    if (idx >= s->policies) {
        s->policies = idx + 1;
    }
    if (s->npolicies < 16) {
        added_policy *p = &s->policy_lists[s->npolicies++];

        p->index = idx;
        memcpy(p->allow, allow, sizeof(allow));
        p->allow_count = spec.allow_count;
    }
}

static void
op_canary(session *s, input *in)
{
    tbl_canary_spec spec;
    char            err[256];
    uint32_t        idx;

    memset(&spec, 0, sizeof(spec));
    spec.backend = pick_index(in, s->backends);
    spec.weight_total = next(in) % 4 ? 100 : next(in) % 3;
    spec.weight = next(in) % 110;
    spec.flags = next(in) % 40;
    spec.header = next(in) % 2 ? "X-Canary" : NULL;
    spec.ingress_namespace = dict_names[next(in) % 4];
    spec.ingress_name = dict_names[next(in) % 4];
    spec.host = dict_hosts[next(in) % 4];
    spec.path = dict_segments[next(in) % 8];
    idx = tbl_builder_add_canary(s->b, &spec, err, sizeof(err));
    if (idx != TBL_NONE && idx >= s->canaries) {
        s->canaries = idx + 1;
    }
}

static void
op_config(session *s, input *in)
{
    tbl_config_spec spec;
    tbl_cidr        block[MAX_CIDRS], real_ip[MAX_CIDRS];
    char            err[256];

    tbl_config_spec_defaults(&spec);
    if (next(in) % 2) {
        spec.http_redirect_code = (uint16_t)(295 + next(in) % 16);
        spec.limit_req_status_code = (uint16_t)(398 + next(in) % 4);
        spec.flags = (uint32_t)next(in) << (next(in) % 2);
        spec.forwarded_for_header = dict_names[next(in) % 4];
    }
    spec.block = block;
    spec.block_count = read_cidrs(in, block);
    spec.real_ip = real_ip;
    spec.real_ip_count = read_cidrs(in, real_ip);
    tbl_builder_set_config(s->b, &spec, err, sizeof(err));
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
        switch (next(&in) % 17) {
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
        case 7:
            if (s->vhosts > 0) {
                tbl_builder_set_vhost_flags(s->b, next(&in) % s->vhosts,
                                            next(&in) & 0x0f);
            }
            break;
        case 8:
            op_cert(s, &in);
            break;
        case 9:
            op_sni(s, &in);
            break;
        case 10:
            op_tls(s, &in);
            break;
        case 11:
            op_policy(s, &in);
            break;
        case 12:
            op_canary(s, &in);
            break;
        case 13:
            op_config(s, &in);
            break;
        case 14:
            if (s->vhosts > 0) {
                tbl_builder_set_vhost_policy(s->b, next(&in) % s->vhosts,
                                             pick_index(&in, s->policies));
            }
            break;
        case 15:
            op_alias(s, &in);
            break;
        default:
            if (next(&in) % 4 == 0) {
                session_reset(s);
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

/* Each SNI name selects its certificate; a wildcard one more label. */
static void
check_sni(const tbl_view *v, const session *s, const added_sni *n)
{
    char        probe[80];
    const char *name = n->name;
    size_t      i;

    if (name[0] == '*') {
        snprintf(probe, sizeof(probe), "zz9%s", name + 1);
        for (i = 0; i < s->nsnis; i++) {
            if (strcmp(s->snis[i].name, probe) == 0) {
                return;
            }
        }
        name = probe;
    }
    if (tbl_lookup_cert(v, name, strlen(name)) != n->cert) {
        fprintf(stderr, "SNI %s: not cert %u\n", name, n->cert);
        abort();
    }
}

static void
check_cert(const tbl_view *v, const added_cert *c, uint32_t idx)
{
    const tbl_cert *rec = tbl_view_cert(v, idx);

    if (rec == NULL || rec->chain.len != c->chain_len
        || rec->key.len != c->key_len
        || memcmp(tbl_view_blob(v, rec->chain), c->bytes, c->chain_len) != 0
        || memcmp(tbl_view_blob(v, rec->key), c->bytes + 8, c->key_len) != 0)
    {
        fprintf(stderr, "cert %u: wrong bytes\n", idx);
        abort();
    }
}

/* Whether addr lies in one of the n CIDRs, bit by bit. */
static int
scan_cidrs(const tbl_cidr *list, size_t n, const uint8_t *addr, int family)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned b;
        int      in = list[i].family == family;

        for (b = 0; in && b < list[i].prefix_len; b++) {
            uint8_t m = (uint8_t)(0x80u >> (b % 8));

            in = (addr[b / 8] & m) == (list[i].addr[b / 8] & m);
        }
        if (in) {
            return 1;
        }
    }
    return 0;
}

/* The stored allow list answers as the given one on nearby addresses. */
static void
check_policy(const tbl_view *v, const added_policy *p)
{
    const tbl_policy *rec = tbl_view_policy(v, p->index);
    size_t            i, k;

    if (rec == NULL) {
        abort();
    }
    for (i = 0; i < p->allow_count; i++) {
        for (k = 0; k < 8; k++) {
            uint8_t addr[16];
            int     family = p->allow[i].family;

            memcpy(addr, p->allow[i].addr, 16);
            addr[k % 4] ^= (uint8_t)(1u << k);
            if (tbl_cidr_match(v, rec->allow_first, rec->allow_count, addr,
                               family)
                != scan_cidrs(p->allow, p->allow_count, addr, family))
            {
                fprintf(stderr, "policy %u: allow list answers wrong\n",
                        p->index);
                abort();
            }
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
    for (i = 0; i < s1.nsnis; i++) {
        check_sni(&v, &s1, &s1.snis[i]);
    }
    for (i = 0; i < s1.certs && i < 32; i++) {
        check_cert(&v, &s1.cert_bytes[i], (uint32_t)i);
    }
    for (i = 0; i < s1.npolicies; i++) {
        check_policy(&v, &s1.policy_lists[i]);
    }
    free(a);
    free(b);
    return 0;
}
