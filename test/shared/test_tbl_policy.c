/*
 * test_tbl_policy.c -- policies, canaries and the config through the
 * builder: every field read back through the view, one record per
 * distinct content, ids that depend on content and not on position,
 * routes and vhosts referring to them, defaults, the values the builder
 * refuses (everything tbl_view_init would), and corruptions the
 * validator catches in tables the builder wrote.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tbl_sample.h"
#include "tbl_test.h"

static const uint8_t htpasswd[] = "user:$apr1$abc$def\n";

/* A policy that sets every field. */
static void
full_policy(tbl_policy_spec *p, const tbl_cidr *cidrs, uint32_t backend)
{
    tbl_policy_spec_init(p);
    p->flags = TBL_POL_SSL_REDIRECT | TBL_POL_CORS | TBL_POL_FROM_TO_WWW;
    p->redirect_code = 301;
    p->auth_type = TBL_AUTH_BASIC;
    p->backend_protocol = TBL_PROTO_GRPC;
    p->redirect_url = "https://example.com/";
    p->app_root = "/app";
    p->rewrite_target = "/$2";
    p->x_forwarded_prefix = "/shop";
    p->limit_rps = 10;
    p->limit_rpm = 300;
    p->limit_burst_multiplier = 5;
    p->limit_connections = 7;
    p->limit_allow = cidrs;
    p->limit_allow_count = 1;
    p->allow = cidrs;
    p->allow_count = 2;
    p->deny = cidrs + 2;
    p->deny_count = 1;
    p->auth_realm = "Shop";
    p->auth_secret = htpasswd;
    p->auth_secret_len = sizeof(htpasswd) - 1;
    p->auth_url = "http://auth.svc/verify";
    p->auth_method = "POST";
    p->auth_signin = "https://login/";
    p->auth_response_headers = "X-User,X-Group";
    p->connect_timeout_ms = 3000;
    p->send_timeout_ms = 4000;
    p->read_timeout_ms = 5000;
    p->next_upstream = TBL_NEXT_ERROR | TBL_NEXT_HTTP_502;
    p->next_upstream_tries = 2;
    p->next_upstream_timeout_ms = 9000;
    p->body_size_max = 8 << 20;
    p->upstream_vhost = "internal.svc";
    p->load_balance = TBL_LB_HASH;
    p->affinity_mode = TBL_AFFINITY_PERSISTENT;
    p->affinity_max_age = 3600;
    p->hash_by = "$remote_addr";
    p->affinity_cookie_name = "route";
    p->affinity_cookie_path = "/";
    p->cors_allow_origin = "https://a.example";
    p->cors_allow_methods = "GET, PUT";
    p->cors_allow_headers = "X-Token";
    p->cors_expose_headers = "X-Trace";
    p->cors_max_age = 600;
    p->default_backend = backend;
    p->custom_errors[(404 - TBL_CUSTOM_ERRORS_BASE) / 64]
        |= 1ull << ((404 - TBL_CUSTOM_ERRORS_BASE) % 64);
}

static tbl_cidr
cidr(const char *s)
{
    tbl_cidr c;

    assert_int_equal(tbl_cidr_parse(s, strlen(s), &c), 0);
    return c;
}

static uint32_t
add_policy(tbl_builder *b, const tbl_policy_spec *p)
{
    char     err[256];
    uint32_t idx = tbl_builder_add_policy(b, p, err, sizeof(err));

    if (idx == TBL_NONE) {
        fail_msg("add_policy: %s", err);
    }
    return idx;
}

#define STR(v, s) tbl_view_str((v), (s))

static void
test_policy_round_trip(void **state)
{
    tbl_builder       *b = tbl_builder_new();
    tbl_cidr           cidrs[] = {cidr("10.0.0.0/8"), cidr("::1"),
                                  cidr("192.0.2.1")};
    tbl_policy_spec    ps;
    tbl_test_table     t;
    const tbl_policy  *p;
    const tbl_view    *v = &t.view;
    tbl_route_spec     rs = {"/", TBL_PATH_PREFIX, TBL_NONE, TBL_NONE,
                             TBL_NONE, "shop", "web"};
    uint32_t           be, pi, vh;
    uint8_t            addr[16] = {10, 1, 2, 3};
    char               err[256];

    (void)state;
    be = tbl_test_backend(b, "errors");
    full_policy(&ps, cidrs, be);
    pi = add_policy(b, &ps);
    vh = tbl_builder_vhost(b, "shop.example.com");
    rs.policy = pi;
    assert_int_equal(tbl_builder_add_route(b, vh, &rs, err, sizeof(err)), 0);
    assert_int_equal(tbl_builder_set_vhost_policy(b, vh, pi), 0);
    tbl_test_finish(b, &t);

    assert_int_equal(v->policy_count, 1);
    p = tbl_view_policy(v, v->routes[0].policy);
    assert_ptr_equal(p, tbl_view_policy(v, v->vhosts[vh].policy));
    assert_int_equal(p->flags, ps.flags);
    assert_int_equal(p->redirect_code, 301);
    assert_int_equal(p->auth_type, TBL_AUTH_BASIC);
    assert_int_equal(p->backend_protocol, TBL_PROTO_GRPC);
    assert_string_equal(STR(v, p->redirect_url), "https://example.com/");
    assert_string_equal(STR(v, p->app_root), "/app");
    assert_string_equal(STR(v, p->rewrite_target), "/$2");
    assert_string_equal(STR(v, p->x_forwarded_prefix), "/shop");
    assert_int_equal(p->limit_rps, 10);
    assert_int_equal(p->limit_rpm, 300);
    assert_int_equal(p->limit_burst_multiplier, 5);
    assert_int_equal(p->limit_connections, 7);
    assert_int_equal(p->limit_allow_count, 1);
    assert_int_equal(p->allow_count, 2);
    assert_int_equal(p->deny_count, 1);
    assert_true(tbl_cidr_match(v, p->allow_first, p->allow_count, addr, 4));
    assert_true(tbl_cidr_match(v, p->limit_allow_first, p->limit_allow_count,
                               addr, 4));
    assert_false(tbl_cidr_match(v, p->deny_first, p->deny_count, addr, 4));
    assert_string_equal(STR(v, p->auth_realm), "Shop");
    assert_int_equal(p->auth_secret.len, sizeof(htpasswd) - 1);
    assert_memory_equal(tbl_view_blob(v, p->auth_secret), htpasswd,
                        sizeof(htpasswd) - 1);
    assert_null(memmem(v->strings, v->strings_len, "$apr1$", 6));
    assert_string_equal(STR(v, p->auth_url), "http://auth.svc/verify");
    assert_string_equal(STR(v, p->auth_method), "POST");
    assert_string_equal(STR(v, p->auth_signin), "https://login/");
    assert_string_equal(STR(v, p->auth_response_headers), "X-User,X-Group");
    assert_int_equal(p->connect_timeout_ms, 3000);
    assert_int_equal(p->send_timeout_ms, 4000);
    assert_int_equal(p->read_timeout_ms, 5000);
    assert_int_equal(p->next_upstream, TBL_NEXT_ERROR | TBL_NEXT_HTTP_502);
    assert_int_equal(p->next_upstream_tries, 2);
    assert_int_equal(p->next_upstream_timeout_ms, 9000);
    assert_int_equal(p->body_size_max, 8 << 20);
    assert_string_equal(STR(v, p->upstream_vhost), "internal.svc");
    assert_int_equal(p->load_balance, TBL_LB_HASH);
    assert_int_equal(p->affinity_mode, TBL_AFFINITY_PERSISTENT);
    assert_int_equal(p->affinity_max_age, 3600);
    assert_string_equal(STR(v, p->hash_by), "$remote_addr");
    assert_string_equal(STR(v, p->affinity_cookie_name), "route");
    assert_string_equal(STR(v, p->affinity_cookie_path), "/");
    assert_string_equal(STR(v, p->cors_allow_origin), "https://a.example");
    assert_string_equal(STR(v, p->cors_allow_methods), "GET, PUT");
    assert_string_equal(STR(v, p->cors_allow_headers), "X-Token");
    assert_string_equal(STR(v, p->cors_expose_headers), "X-Trace");
    assert_int_equal(p->cors_max_age, 600);
    assert_int_equal(p->default_backend, be);
    assert_memory_equal(p->custom_errors, ps.custom_errors,
                        sizeof(p->custom_errors));
    assert_null(tbl_view_policy(v, TBL_NONE));
    assert_null(tbl_view_policy(v, 1));
    tbl_test_table_free(&t);
}

/* policy_id of the one policy of a table built from `p` (after `noise`). */
static uint64_t
policy_id_of(const tbl_policy_spec *p, int noise, uint32_t *idx)
{
    tbl_builder    *b = tbl_builder_new();
    tbl_test_table  t;
    tbl_policy_spec other;
    tbl_cidr        c = cidr("172.16.0.0/12");
    uint64_t        id;
    int             i;

    tbl_policy_spec_init(&other);
    for (i = 0; i < noise; i++) {
        char name[16];

        snprintf(name, sizeof(name), "noise%d", i);
        tbl_test_backend(b, name);
        other.limit_rps = (uint32_t)i + 1;
        other.hash_by = name;
        other.deny = &c;
        other.deny_count = 1;
        add_policy(b, &other);
    }
    *idx = add_policy(b, p);
    tbl_test_finish(b, &t);
    id = t.view.policies[*idx].policy_id;
    tbl_test_table_free(&t);
    return id;
}

/* Ids follow content, so worker state keyed by them survives swaps. */
static void
test_policy_ids(void **state)
{
    tbl_cidr        cidrs[] = {cidr("10.0.0.0/8"), cidr("::1"),
                               cidr("192.0.2.1")};
    tbl_cidr        reordered[] = {cidr("::1"), cidr("10.1.0.0/16"),
                                   cidr("10.0.0.0/8")};
    tbl_policy_spec p;
    uint32_t        i0, i5;
    uint64_t        id;

    (void)state;
    tbl_policy_spec_init(&p);
    p.limit_rps = 50;
    p.rewrite_target = "/x";
    p.auth_secret = htpasswd;
    p.auth_secret_len = 5;
    p.allow = cidrs;
    p.allow_count = 2;
    id = policy_id_of(&p, 0, &i0);
    assert_int_equal(policy_id_of(&p, 5, &i5), id);
    assert_int_not_equal(i5, i0);
    /* the same set written another way */
    p.allow = reordered;
    p.allow_count = 3;
    assert_int_equal(policy_id_of(&p, 3, &i5), id);
    p.allow_count = 1;
    assert_int_not_equal(policy_id_of(&p, 0, &i0), id);
    p.allow_count = 3;
    p.auth_secret_len = 6;
    assert_int_not_equal(policy_id_of(&p, 0, &i0), id);
    p.auth_secret_len = 5;
    p.rewrite_target = "/y";
    assert_int_not_equal(policy_id_of(&p, 0, &i0), id);
    p.rewrite_target = "/x";
    p.limit_rps = 51;
    assert_int_not_equal(policy_id_of(&p, 0, &i0), id);
    p.limit_rps = 50;
    /* strings are told apart by their lengths: "/x"+"" vs "/"+"x" */
    p.rewrite_target = "/";
    p.x_forwarded_prefix = "x";
    assert_int_not_equal(policy_id_of(&p, 0, &i0), id);
}

/* The default backend enters the id by its stable id, not its index. */
static void
test_policy_id_backend(void **state)
{
    uint64_t ids[2];
    int      k;

    (void)state;
    for (k = 0; k < 2; k++) {
        tbl_builder    *b = tbl_builder_new();
        tbl_test_table  t;
        tbl_policy_spec p;
        int             i;

        for (i = 0; i < 3 * k; i++) {
            char name[32];

            snprintf(name, sizeof(name), "before%d", i);
            tbl_test_backend(b, name);
        }
        tbl_policy_spec_init(&p);
        p.default_backend = tbl_test_backend(b, "errors");
        add_policy(b, &p);
        tbl_test_finish(b, &t);
        ids[k] = t.view.policies[0].policy_id;
        assert_int_equal(t.view.policies[0].default_backend, 3 * k);
        tbl_test_table_free(&t);
    }
    assert_int_equal(ids[0], ids[1]);
}

static void
test_policy_dedup(void **state)
{
    tbl_builder    *b = tbl_builder_new();
    tbl_cidr        cidrs[] = {cidr("10.0.0.0/8"), cidr("::1"),
                               cidr("192.0.2.1")};
    tbl_policy_spec p, q;
    tbl_test_table  t;
    uint8_t         secret[sizeof(htpasswd)];
    char           *root = strdup("/app");
    uint32_t        be;

    (void)state;
    be = tbl_test_backend(b, "errors");
    full_policy(&p, cidrs, be);
    full_policy(&q, cidrs, be);
    /* equal content from other buffers */
    memcpy(secret, htpasswd, sizeof(secret));
    q.auth_secret = secret;
    assert_non_null(root);
    q.app_root = root;
    assert_int_equal(add_policy(b, &p), 0);
    assert_int_equal(add_policy(b, &q), 0);
    q.cors_max_age = 601;
    assert_int_equal(add_policy(b, &q), 1);
    tbl_policy_spec_init(&q);
    assert_int_equal(add_policy(b, &q), 2);
    assert_int_equal(add_policy(b, &q), 2);
    free(root);
    tbl_test_finish(b, &t);
    assert_int_equal(t.view.policy_count, 3);
    /* the secret is stored once */
    assert_int_equal(t.view.blobs_len, sizeof(htpasswd) - 1);
    assert_int_equal(t.view.policies[2].default_backend, TBL_NONE);
    tbl_test_table_free(&t);
}

static void
test_policy_refused(void **state)
{
    static const struct {
        const char *want;
        int         field;
        uint32_t    value;
    } cases[] = {
        {"policy flags: unknown bits 0x2000", 0, 1u << 13},
        {"policy next_upstream: unknown bits 0x1000", 1, 1u << 12},
        {"policy redirect_code: 299", 2, 299},
        {"policy redirect_code: 309", 2, 309},
        {"policy auth_type: 4", 3, 4},
        {"policy backend_protocol: 6", 4, 6},
        {"policy load_balance: 4", 5, 4},
        {"policy affinity_mode: 3", 6, 3},
        {"policy default_backend: index 1 out of range (1 backends)", 7, 1},
    };
    tbl_builder    *b = tbl_builder_new();
    tbl_policy_spec p;
    char            err[256];
    size_t          i;

    (void)state;
    tbl_test_backend(b, "web");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tbl_policy_spec_init(&p);
        p.redirect_url = "https://x/";
        p.redirect_code = 308;
        switch (cases[i].field) {
        case 0: p.flags = cases[i].value; break;
        case 1: p.next_upstream = cases[i].value; break;
        case 2: p.redirect_code = (uint16_t)cases[i].value; break;
        case 3: p.auth_type = (uint8_t)cases[i].value; break;
        case 4: p.backend_protocol = (uint8_t)cases[i].value; break;
        case 5: p.load_balance = (uint8_t)cases[i].value; break;
        case 6: p.affinity_mode = (uint8_t)cases[i].value; break;
        default: p.default_backend = cases[i].value; break;
        }
        assert_int_equal(tbl_builder_add_policy(b, &p, err, sizeof(err)),
                         TBL_NONE);
        if (strstr(err, cases[i].want) == NULL) {
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].want);
        }
    }
    /* a code without a URL, a URL without a code */
    tbl_policy_spec_init(&p);
    p.redirect_code = 301;
    assert_int_equal(tbl_builder_add_policy(b, &p, err, sizeof(err)),
                     TBL_NONE);
    tbl_policy_spec_init(&p);
    p.redirect_url = "https://x/";
    assert_int_equal(tbl_builder_add_policy(b, &p, err, sizeof(err)),
                     TBL_NONE);
    tbl_policy_spec_init(&p);
    p.auth_secret_len = 3;
    assert_int_equal(tbl_builder_add_policy(b, &p, err, sizeof(err)),
                     TBL_NONE);
    assert_non_null(strstr(err, "auth_secret"));
    /* refusals leave the builder usable */
    tbl_policy_spec_init(&p);
    assert_int_equal(add_policy(b, &p), 0);
    tbl_builder_free(b);
}

static void
test_canary(void **state)
{
    tbl_builder      *b = tbl_builder_new();
    tbl_canary_spec   c = {0};
    tbl_test_table    t;
    const tbl_canary *k;
    tbl_route_spec    rs = {"/", TBL_PATH_PREFIX, TBL_NONE, TBL_NONE,
                            TBL_NONE, "shop", "web"};
    uint32_t          be, ci, again, other;
    uint64_t          id;
    char              err[256];

    (void)state;
    be = tbl_test_backend(b, "web-canary");
    c.backend = be;
    c.weight = 20;
    c.weight_total = 100;
    c.flags = TBL_CANARY_BY_HEADER | TBL_CANARY_BY_HEADER_VALUE
              | TBL_CANARY_BY_COOKIE;
    c.header = "X-Canary";
    c.header_value = "yes";
    c.cookie = "canary";
    c.ingress_namespace = "shop";
    c.ingress_name = "web-canary";
    c.host = "shop.example.com";
    c.path = "/";
    ci = tbl_builder_add_canary(b, &c, err, sizeof(err));
    assert_int_equal(ci, 0);
    again = tbl_builder_add_canary(b, &c, err, sizeof(err));
    assert_int_equal(again, ci);
    c.path = "/api";
    other = tbl_builder_add_canary(b, &c, err, sizeof(err));
    assert_int_equal(other, 1);
    rs.canary = ci;
    assert_int_equal(tbl_builder_add_route(b, tbl_builder_vhost(b,
                                                              "shop.example.com"),
                                           &rs, err, sizeof(err)),
                     0);
    tbl_test_finish(b, &t);

    k = tbl_view_canary(&t.view, t.view.routes[0].canary);
    assert_non_null(k);
    assert_int_equal(k->backend, be);
    assert_int_equal(k->weight, 20);
    assert_int_equal(k->weight_total, 100);
    assert_int_equal(k->flags, c.flags);
    assert_string_equal(STR(&t.view, k->header), "X-Canary");
    assert_string_equal(STR(&t.view, k->header_value), "yes");
    assert_string_equal(STR(&t.view, k->header_pattern), "");
    assert_string_equal(STR(&t.view, k->cookie), "canary");
    assert_string_equal(STR(&t.view, k->ingress_namespace), "shop");
    assert_string_equal(STR(&t.view, k->ingress_name), "web-canary");
    id = tbl_hash64("shop\0web-canary\0shop.example.com\0/", 35,
                    0x63616e6172792d69ull);
    assert_int_equal(k->canary_id, id);
    assert_int_not_equal(t.view.canaries[1].canary_id, id);
    assert_null(tbl_view_canary(&t.view, 2));
    tbl_test_table_free(&t);
}

static void
test_canary_refused(void **state)
{
    tbl_builder    *b = tbl_builder_new();
    tbl_canary_spec c = {0};
    char            err[256];

    (void)state;
    c.backend = TBL_NONE;
    c.weight_total = 100;
    c.ingress_namespace = "shop";
    c.ingress_name = "canary";
    c.weight = 101;
    assert_int_equal(tbl_builder_add_canary(b, &c, err, sizeof(err)),
                     TBL_NONE);
    assert_string_equal(err, "canary ingress shop/canary: weight 101 of "
                             "total 100");
    c.weight = 0;
    c.weight_total = 0;
    assert_int_equal(tbl_builder_add_canary(b, &c, err, sizeof(err)),
                     TBL_NONE);
    c.weight_total = 100;
    c.flags = TBL_CANARY_BY_HEADER_PATTERN;
    assert_int_equal(tbl_builder_add_canary(b, &c, err, sizeof(err)),
                     TBL_NONE);
    assert_non_null(strstr(err, "bad flags 0x4"));
    c.flags = 1u << 5;
    assert_int_equal(tbl_builder_add_canary(b, &c, err, sizeof(err)),
                     TBL_NONE);
    c.flags = 0;
    c.backend = 0;
    assert_int_equal(tbl_builder_add_canary(b, &c, err, sizeof(err)),
                     TBL_NONE);
    assert_non_null(strstr(err, "backend index 0 out of range"));
    c.backend = TBL_NONE;
    assert_int_equal(tbl_builder_add_canary(b, &c, err, sizeof(err)), 0);
    tbl_builder_free(b);
}

/* Routes and vhosts may refer only to policies and canaries added. */
static void
test_references(void **state)
{
    tbl_builder    *b = tbl_builder_new();
    tbl_route_spec  rs = {"/", TBL_PATH_PREFIX, TBL_NONE, 0, TBL_NONE,
                          "shop", "web"};
    tbl_policy_spec p;
    uint32_t        vh = tbl_builder_vhost(b, "a.io");
    char            err[256];

    (void)state;
    assert_int_equal(tbl_builder_add_route(b, vh, &rs, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "canary 0 / policy 4294967295 out of range"));
    rs.canary = TBL_NONE;
    rs.policy = 0;
    assert_int_equal(tbl_builder_add_route(b, vh, &rs, err, sizeof(err)), -1);
    assert_int_equal(tbl_builder_set_vhost_policy(b, vh, 0), -1);
    tbl_policy_spec_init(&p);
    assert_int_equal(add_policy(b, &p), 0);
    assert_int_equal(tbl_builder_add_route(b, vh, &rs, err, sizeof(err)), 0);
    assert_int_equal(tbl_builder_set_vhost_policy(b, vh, 0), 0);
    assert_int_equal(tbl_builder_set_vhost_policy(b, vh, TBL_NONE), 0);
    assert_int_equal(tbl_builder_set_vhost_policy(b, 3, 0), -1);
    tbl_builder_free(b);
}

static void
test_config(void **state)
{
    tbl_builder      *b = tbl_builder_new();
    tbl_config_spec   cs;
    tbl_cidr          block[] = {cidr("203.0.113.0/24"), cidr("203.0.113.7")};
    tbl_cidr          real_ip[] = {cidr("10.0.0.0/8"), cidr("fd00::/8")};
    tbl_test_table    t;
    const tbl_config *g;
    uint8_t           addr[4] = {203, 0, 113, 99};
    uint8_t           peer[4] = {10, 1, 2, 3};
    char              err[256];

    (void)state;
    tbl_config_spec_defaults(&cs);
    cs.flags |= TBL_CFG_USE_FORWARDED_HEADERS;
    cs.http_redirect_code = 301;
    cs.limit_req_status_code = 429;
    cs.forwarded_for_header = "X-Real-Forwarded-For";
    cs.global_auth_url = "http://auth/";
    cs.block = block;
    cs.block_count = 2;
    cs.real_ip = real_ip;
    cs.real_ip_count = 2;
    assert_int_equal(tbl_builder_set_config(b, &cs, err, sizeof(err)), 0);
    tbl_test_finish(b, &t);
    g = tbl_view_config(&t.view);
    assert_ptr_equal(g, t.view.config);
    assert_int_equal(g->flags, TBL_CFG_HSTS | TBL_CFG_HSTS_INCLUDE_SUBDOMAINS
                                   | TBL_CFG_SSL_REDIRECT
                                   | TBL_CFG_USE_FORWARDED_HEADERS);
    assert_int_equal(g->http_redirect_code, 301);
    assert_int_equal(g->limit_req_status_code, 429);
    assert_int_equal(g->limit_conn_status_code, 503);
    assert_string_equal(STR(&t.view, g->forwarded_for_header),
                        "X-Real-Forwarded-For");
    assert_string_equal(STR(&t.view, g->no_tls_redirect_locations),
                        "/.well-known/acme-challenge");
    assert_string_equal(STR(&t.view, g->global_auth_url), "http://auth/");
    assert_int_equal(g->block_count, 1);
    assert_int_equal(g->allow_count, 0);
    assert_true(tbl_cidr_match(&t.view, g->block_first, g->block_count, addr,
                               4));
    assert_int_equal(g->real_ip_count, 2);
    assert_true(tbl_cidr_match(&t.view, g->real_ip_first, g->real_ip_count,
                               peer, 4));
    assert_false(tbl_cidr_match(&t.view, g->real_ip_first, g->real_ip_count,
                                addr, 4));
    tbl_test_table_free(&t);
}

/* Without set_config the table carries ingress-nginx's defaults. */
static void
test_config_defaults(void **state)
{
    tbl_test_table    t;
    const tbl_config *g;
    tbl_view          bare;

    (void)state;
    tbl_test_finish(tbl_builder_new(), &t);
    g = tbl_view_config(&t.view);
    assert_non_null(t.view.config);
    assert_int_equal(g->flags, TBL_CFG_HSTS | TBL_CFG_HSTS_INCLUDE_SUBDOMAINS
                                   | TBL_CFG_SSL_REDIRECT);
    assert_int_equal(g->hsts_max_age, 31536000);
    assert_int_equal(g->http_redirect_code, 308);
    assert_int_equal(g->limit_req_status_code, 503);
    assert_int_equal(g->limit_conn_status_code, 503);
    assert_int_equal(g->load_balance, TBL_LB_ROUND_ROBIN);
    assert_int_equal(g->connect_timeout_ms, 5000);
    assert_int_equal(g->send_timeout_ms, 60000);
    assert_int_equal(g->read_timeout_ms, 60000);
    assert_int_equal(g->next_upstream, TBL_NEXT_ERROR | TBL_NEXT_TIMEOUT);
    assert_int_equal(g->next_upstream_tries, 3);
    assert_int_equal(g->next_upstream_timeout_ms, 0);
    assert_int_equal(g->body_size_max, 1 << 20);
    assert_string_equal(STR(&t.view, g->forwarded_for_header),
                        "X-Forwarded-For");

    /* a table without CONFIG: the same numbers, empty strings */
    bare = t.view;
    bare.config = NULL;
    g = tbl_view_config(&bare);
    assert_int_equal(g->body_size_max, 1 << 20);
    assert_int_equal(g->http_redirect_code, 308);
    assert_int_equal(g->next_upstream_tries, 3);
    assert_int_equal(g->forwarded_for_header.len, 0);
    assert_int_equal(g->allow_count, 0);
    assert_int_equal(g->real_ip_count, 0);
    tbl_test_table_free(&t);
}

static void
test_config_refused(void **state)
{
    tbl_builder    *b = tbl_builder_new();
    tbl_config_spec cs;
    tbl_cidr        bad = {{1}, 4, 40, {0}};
    char            err[256];

    (void)state;
    tbl_config_spec_defaults(&cs);
    cs.http_redirect_code = 200;
    assert_int_equal(tbl_builder_set_config(b, &cs, err, sizeof(err)), -1);
    assert_string_equal(err, "config http_redirect_code: 200 (300..308)");
    tbl_config_spec_defaults(&cs);
    cs.limit_conn_status_code = 600;
    assert_int_equal(tbl_builder_set_config(b, &cs, err, sizeof(err)), -1);
    tbl_config_spec_defaults(&cs);
    cs.limit_req_status_code = 399;
    assert_int_equal(tbl_builder_set_config(b, &cs, err, sizeof(err)), -1);
    tbl_config_spec_defaults(&cs);
    cs.flags = 1u << 10;
    assert_int_equal(tbl_builder_set_config(b, &cs, err, sizeof(err)), -1);
    tbl_config_spec_defaults(&cs);
    cs.load_balance = 9;
    assert_int_equal(tbl_builder_set_config(b, &cs, err, sizeof(err)), -1);
    tbl_config_spec_defaults(&cs);
    cs.allow = &bad;
    cs.allow_count = 1;
    assert_int_equal(tbl_builder_set_config(b, &cs, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "config allow[0]: family 4 / prefix length 40"));
    tbl_config_spec_defaults(&cs);
    cs.real_ip = &bad;
    cs.real_ip_count = 1;
    assert_int_equal(tbl_builder_set_config(b, &cs, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "config real_ip[0]"));
    tbl_builder_free(b);
}

/* A table the builder wrote, policies and canaries damaged in place. */
static void
test_corruptions(void **state)
{
    tbl_builder    *b = tbl_builder_new();
    tbl_cidr        cidrs[] = {cidr("10.0.0.0/8"), cidr("::1"),
                               cidr("192.0.2.1")};
    tbl_policy_spec ps;
    tbl_canary_spec cs = {0};
    tbl_test_table  t;
    uint8_t        *copy;
    tbl_policy     *p;
    tbl_canary     *k;
    char            err[256];

    (void)state;
    full_policy(&ps, cidrs, tbl_test_backend(b, "errors"));
    add_policy(b, &ps);
    cs.backend = TBL_NONE;
    cs.weight_total = 100;
    assert_int_equal(tbl_builder_add_canary(b, &cs, err, sizeof(err)), 0);
    tbl_test_finish(b, &t);
    copy = malloc(t.len);
    assert_non_null(copy);

    memcpy(copy, t.buf, t.len);
    p = (tbl_policy *)(copy
                       + tbl_sample_section(copy, TBL_SEC_POLICIES)->offset);
    p->auth_secret.off = (uint32_t)t.view.blobs_len;
    tbl_sample_reseal(copy, t.len);
    assert_int_equal(tbl_test_validate(copy, t.len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "policies[0].auth_secret"));

    memcpy(copy, t.buf, t.len);
    p = (tbl_policy *)(copy
                       + tbl_sample_section(copy, TBL_SEC_POLICIES)->offset);
    p->deny_first = 4; /* past the 4 entries */
    tbl_sample_reseal(copy, t.len);
    assert_int_equal(tbl_test_validate(copy, t.len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "policies[0].deny_first"));

    memcpy(copy, t.buf, t.len);
    k = (tbl_canary *)(copy
                       + tbl_sample_section(copy, TBL_SEC_CANARIES)->offset);
    k->weight = 101;
    tbl_sample_reseal(copy, t.len);
    assert_int_equal(tbl_test_validate(copy, t.len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "canaries[0]"));
    free(copy);
    tbl_test_table_free(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_round_trip),
        cmocka_unit_test(test_policy_ids),
        cmocka_unit_test(test_policy_id_backend),
        cmocka_unit_test(test_policy_dedup),
        cmocka_unit_test(test_policy_refused),
        cmocka_unit_test(test_canary),
        cmocka_unit_test(test_canary_refused),
        cmocka_unit_test(test_references),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_refused),
        cmocka_unit_test(test_corruptions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
