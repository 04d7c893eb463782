/*
 * test_tbl_builder.c -- what the builder writes: a round trip through the
 * validator, deduplicated strings, stable ids, deterministic bytes (also
 * after tbl_builder_reset), hash load, sorted ImplementationSpecific
 * lists, and the inputs it refuses (duplicate match keys, bad hosts,
 * paths, types and references).
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tbl_test.h"

static void
test_round_trip(void **state)
{
    tbl_builder     *b = tbl_builder_new();
    tbl_test_table   t;
    tbl_endpoint     eps[2];
    tbl_backend_spec bs = {"shop", "cart", "http", 8080,
                           0,      eps,    2};
    tbl_route_spec   rs = {"/cart", TBL_PATH_PREFIX, 0, TBL_NONE, TBL_NONE,
                           "shop", "storefront"};
    const tbl_backend  *be;
    const tbl_endpoint *ep;
    const tbl_route    *r;
    uint32_t            vh, bi;
    char                err[256];

    (void)state;
    memset(eps, 0, sizeof(eps));
    memcpy(eps[0].addr, "\x0a\x01\x02\x03", 4);
    eps[0].family = 4;
    eps[0].port = 8080;
    eps[0].flags = TBL_EP_READY | TBL_EP_SERVING;
    memcpy(eps[1].addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    eps[1].family = 6;
    eps[1].port = 443;
    eps[1].flags = TBL_EP_TERMINATING;
    eps[1].reserved = 0xdeadbeef; /* not copied */

    bi = tbl_builder_add_backend(b, &bs);
    assert_int_equal(bi, 0);
    vh = tbl_builder_vhost(b, "shop.example.com");
    rs.backend = bi;
    assert_int_equal(tbl_builder_add_route(b, vh, &rs, err, sizeof(err)), 0);
    assert_int_equal(tbl_builder_set_vhost_flags(b, vh, TBL_VHOST_TLS), 0);
    tbl_test_finish(b, &t);

    assert_int_equal(t.view.hdr->generation, 1);
    assert_int_equal(t.view.hdr->built_at_ms, 1700000000000ull);
    assert_int_equal(t.view.hdr->catchall_vhost, TBL_NONE);
    assert_int_equal(t.view.hdr->default_route, TBL_NONE);
    assert_int_equal(t.view.hdr->default_cert, TBL_NONE);
    assert_int_equal(t.view.vhost_count, 1);
    assert_string_equal(tbl_view_str(&t.view, t.view.vhosts[0].host),
                        "shop.example.com");
    assert_int_equal(t.view.vhosts[0].flags, TBL_VHOST_TLS);
    assert_int_equal(t.view.vhosts[0].exact_lengths, 0);
    assert_int_equal(t.view.vhosts[0].prefix_lengths, TBL_LENGTH_BIT(5));
    assert_int_equal(t.view.vhosts[0].cert, TBL_NONE);
    assert_int_equal(t.view.vhosts[0].policy, TBL_NONE);

    assert_int_equal(t.view.route_count, 1);
    r = &t.view.routes[0];
    assert_string_equal(tbl_view_str(&t.view, r->path), "/cart");
    assert_int_equal(r->path_type, TBL_PATH_PREFIX);
    assert_int_equal(r->vhost, vh);
    assert_int_equal(r->backend, bi);
    assert_int_equal(r->canary, TBL_NONE);
    assert_int_equal(r->policy, TBL_NONE);
    assert_string_equal(tbl_view_str(&t.view, r->ingress_namespace), "shop");
    assert_string_equal(tbl_view_str(&t.view, r->ingress_name),
                        "storefront");

    be = &t.view.backends[0];
    assert_string_equal(tbl_view_str(&t.view, be->service_namespace),
                        "shop");
    assert_string_equal(tbl_view_str(&t.view, be->service_name), "cart");
    assert_string_equal(tbl_view_str(&t.view, be->port_name), "http");
    assert_int_equal(be->port, 8080);
    assert_int_equal(be->endpoint_count, 2);
    ep = &t.view.endpoints[be->endpoint_first];
    assert_memory_equal(ep[0].addr, "\x0a\x01\x02\x03\0\0\0\0", 8);
    assert_int_equal(ep[0].family, 4);
    assert_int_equal(ep[0].port, 8080);
    assert_int_equal(ep[0].flags, TBL_EP_READY | TBL_EP_SERVING);
    assert_memory_equal(ep[1].addr, eps[1].addr, 16);
    assert_int_equal(ep[1].family, 6);
    assert_int_equal(ep[1].reserved, 0);
    tbl_test_table_free(&t);
}

static void
test_strings_deduplicated(void **state)
{
    tbl_builder   *b = tbl_builder_new();
    tbl_test_table t;
    uint32_t       a, c;

    (void)state;
    a = tbl_builder_vhost(b, "a.example.com");
    c = tbl_builder_vhost(b, "c.example.com");
    tbl_test_route(b, a, TBL_PATH_PREFIX, "/same", TBL_NONE);
    tbl_test_route(b, c, TBL_PATH_PREFIX, "/same", TBL_NONE);
    tbl_test_route(b, c, TBL_PATH_EXACT, "/same", TBL_NONE);
    tbl_test_finish(b, &t);
    assert_int_equal(t.view.routes[0].path.off, t.view.routes[1].path.off);
    assert_int_equal(t.view.routes[1].path.off, t.view.routes[2].path.off);
    assert_int_equal(t.view.routes[0].ingress_name.off,
                     t.view.routes[2].ingress_name.off);
    /* "" lives at offset 0. */
    assert_int_equal(t.view.strings[0], '\0');
    tbl_test_table_free(&t);
}

/*
 * Routes of every kind on 200 hosts, plus a certificate, SNI names, a
 * policy and a canary, so that every section is written.
 */
static void
fill_sample(tbl_builder *b)
{
    static const uint8_t der[] = "chain", key[] = "key";
    tbl_cert_spec   cs = {der, sizeof(der), key, sizeof(key), 7, 0, "ns",
                           "tls"};
    tbl_route_spec  def = {NULL, TBL_PATH_DEFAULT, TBL_NONE, TBL_NONE,
                           TBL_NONE, "ns", "default"};
    tbl_canary_spec canary = {0};
    tbl_policy_spec pol;
    tbl_cidr        allow;
    char            err[256], host[64], path[64];
    uint32_t        cert;
    int             i;

    cert = tbl_builder_add_cert(b, &cs, err, sizeof(err));
    assert_int_not_equal(cert, TBL_NONE);
    assert_int_equal(tbl_cidr_parse("10.0.0.0/8", 10, &allow), 0);
    tbl_policy_spec_init(&pol);
    pol.allow = &allow;
    pol.allow_count = 1;
    canary.backend = TBL_NONE;
    canary.weight_total = 100;
    for (i = 0; i < 200; i++) {
        tbl_route_spec rs = {path, TBL_PATH_PREFIX, TBL_NONE, TBL_NONE,
                             TBL_NONE, "ns", "web"};
        uint32_t       vh, be;

        snprintf(host, sizeof(host), i % 3 ? "h%d.example.com" : "*.w%d.io",
                 i);
        vh = tbl_builder_vhost(b, host);
        assert_int_equal(tbl_builder_add_sni(b, host, cert, err, sizeof(err)),
                         0);
        snprintf(path, sizeof(path), "svc%d", i % 17);
        be = tbl_test_backend(b, path);
        snprintf(path, sizeof(path), "/p%d/x", i);
        tbl_test_route(b, vh, (uint8_t)(TBL_PATH_EXACT + i % 3), path, be);
        pol.limit_rps = (uint32_t)(i % 5);
        rs.policy = tbl_builder_add_policy(b, &pol, err, sizeof(err));
        canary.weight = (uint32_t)(i % 7);
        rs.canary = tbl_builder_add_canary(b, &canary, err, sizeof(err));
        rs.path = "/";
        rs.backend = be;
        assert_int_equal(tbl_builder_add_route(b, vh, &rs, err, sizeof(err)),
                         0);
    }
    tbl_test_route(b, tbl_builder_vhost(b, ""), TBL_PATH_IMPL, "/", TBL_NONE);
    assert_int_equal(tbl_builder_set_default(b, &def, err, sizeof(err)), 0);
    assert_int_equal(tbl_builder_set_default_cert(b, cert), 0);
    tbl_builder_set_built_at(b, 42);
}

/* The same calls give the same bytes; the build time is an input. */
static void
build_sample(uint8_t **buf, size_t *len, uint64_t gen)
{
    tbl_builder *b = tbl_builder_new();
    char         err[256];

    fill_sample(b);
    assert_int_equal(tbl_builder_finish(b, gen, buf, len, err, sizeof(err)),
                     0);
    tbl_builder_free(b);
}

static void
test_deterministic(void **state)
{
    uint8_t *x, *y;
    size_t   xl, yl;
    char     err[256];

    (void)state;
    build_sample(&x, &xl, 5);
    build_sample(&y, &yl, 5);
    assert_int_equal(xl, yl);
    assert_memory_equal(x, y, xl);
    assert_int_equal(tbl_test_validate(x, xl, err, sizeof(err)), 0);
    free(x);
    free(y);
}

/* The content hash ignores generation and build time, nothing else. */
static void
test_content_hash(void **state)
{
    uint8_t     *x, *y, *z;
    size_t       xl, yl, zl;
    tbl_builder *b = tbl_builder_new();
    char         err[256];

    (void)state;
    build_sample(&x, &xl, 5);
    build_sample(&y, &yl, 6);
    ((tbl_header *)y)->built_at_ms = 99;
    assert_int_equal(tbl_content_hash(x), tbl_content_hash(y));
    fill_sample(b);
    tbl_test_route(b, tbl_builder_vhost(b, "h1.example.com"), TBL_PATH_EXACT,
                   "/one-more", TBL_NONE);
    assert_int_equal(tbl_builder_finish(b, 5, &z, &zl, err, sizeof(err)), 0);
    assert_int_not_equal(tbl_content_hash(x), tbl_content_hash(z));
    ((tbl_header *)y)->default_cert = TBL_NONE;
    assert_int_not_equal(tbl_content_hash(x), tbl_content_hash(y));
    free(x);
    free(y);
    free(z);
    tbl_builder_free(b);
}

/* Finishing twice gives the same bytes: the builder is reusable. */
static void
test_finish_twice(void **state)
{
    tbl_builder *b = tbl_builder_new();
    uint8_t     *x, *y;
    size_t       xl, yl;
    char         err[256];

    (void)state;
    tbl_test_route(b, tbl_builder_vhost(b, "a.io"), TBL_PATH_IMPL, "/b",
                   TBL_NONE);
    tbl_test_route(b, tbl_builder_vhost(b, "a.io"), TBL_PATH_IMPL, "/bbb",
                   TBL_NONE);
    tbl_builder_set_built_at(b, 1);
    assert_int_equal(tbl_builder_finish(b, 1, &x, &xl, err, sizeof(err)), 0);
    assert_int_equal(tbl_builder_finish(b, 1, &y, &yl, err, sizeof(err)), 0);
    assert_int_equal(xl, yl);
    assert_memory_equal(x, y, xl);
    free(x);
    free(y);
    tbl_builder_free(b);
}

/*
 * A reset builder forgets everything, including the config, the default
 * certificate and a fixed build time, and then writes exactly what a new
 * builder writes.
 */
static void
test_reset(void **state)
{
    tbl_builder    *b = tbl_builder_new();
    tbl_config_spec cfg;
    uint8_t        *x, *y, *z;
    size_t          xl, yl, zl;
    char            err[256];

    (void)state;
    build_sample(&x, &xl, 5);
    tbl_config_spec_defaults(&cfg);
    cfg.http_redirect_code = 301;
    assert_int_equal(tbl_builder_set_config(b, &cfg, err, sizeof(err)), 0);
    fill_sample(b);
    tbl_test_route(b, tbl_builder_vhost(b, "more.io"), TBL_PATH_EXACT, "/m",
                   TBL_NONE);
    assert_int_equal(tbl_builder_finish(b, 5, &y, &yl, err, sizeof(err)), 0);
    assert_true(yl != xl || memcmp(x, y, xl) != 0);
    free(y);

    tbl_builder_reset(b);
    fill_sample(b);
    assert_int_equal(tbl_builder_finish(b, 5, &y, &yl, err, sizeof(err)), 0);
    assert_int_equal(yl, xl);
    assert_memory_equal(x, y, xl);

    tbl_builder_reset(b);
    tbl_builder_reset(b);
    assert_int_equal(tbl_builder_finish(b, 5, &z, &zl, err, sizeof(err)), 0);
    assert_int_equal(tbl_test_validate(z, zl, err, sizeof(err)), 0);
    assert_int_equal(((tbl_header *)z)->default_cert, TBL_NONE);
    assert_true(((tbl_header *)z)->built_at_ms != 42);
    free(x);
    free(y);
    free(z);
    tbl_builder_free(b);
}

static uint64_t
route_id_of(const char *ns, const char *name, const char *host,
            const char *path, uint8_t type, int extra_routes)
{
    tbl_builder   *b = tbl_builder_new();
    tbl_test_table t;
    tbl_route_spec s = {path, type, TBL_NONE, TBL_NONE, TBL_NONE, ns, name};
    char           err[256];
    uint64_t       id;
    int            i;

    for (i = 0; i < extra_routes; i++) {
        char p[32];

        snprintf(p, sizeof(p), "/extra%d", i);
        tbl_test_route(b, tbl_builder_vhost(b, "other.io"), TBL_PATH_EXACT, p,
                       TBL_NONE);
    }
    assert_int_equal(tbl_builder_add_route(b, tbl_builder_vhost(b, host), &s,
                                           err, sizeof(err)),
                     0);
    tbl_test_finish(b, &t);
    id = t.view.routes[t.view.route_count - 1].route_id;
    tbl_test_table_free(&t);
    return id;
}

/* Ids follow the route's identity, not its index in one table. */
static void
test_stable_ids(void **state)
{
    uint64_t id = route_id_of("ns", "web", "a.io", "/x", TBL_PATH_PREFIX, 0);

    (void)state;
    assert_int_equal(route_id_of("ns", "web", "a.io", "/x", TBL_PATH_PREFIX,
                                 5),
                     id);
    assert_int_not_equal(route_id_of("ns", "web2", "a.io", "/x",
                                     TBL_PATH_PREFIX, 0),
                         id);
    assert_int_not_equal(route_id_of("ns2", "web", "a.io", "/x",
                                     TBL_PATH_PREFIX, 0),
                         id);
    assert_int_not_equal(route_id_of("ns", "web", "b.io", "/x",
                                     TBL_PATH_PREFIX, 0),
                         id);
    assert_int_not_equal(route_id_of("ns", "web", "a.io", "/y",
                                     TBL_PATH_PREFIX, 0),
                         id);
    assert_int_not_equal(route_id_of("ns", "web", "a.io", "/x",
                                     TBL_PATH_EXACT, 0),
                         id);
    /* "n"+"sweb" must not equal "ns"+"web". */
    assert_int_not_equal(route_id_of("n", "sweb", "a.io", "/x",
                                     TBL_PATH_PREFIX, 0),
                         id);
}

static void
test_backends(void **state)
{
    tbl_builder     *b = tbl_builder_new();
    tbl_test_table   t;
    tbl_endpoint     bad = {{0}, 80, 5, 0, 0};
    tbl_backend_spec s1 = {"ns", "svc", "http", 80, 0, NULL, 0};
    tbl_backend_spec s2 = {"ns", "svc", "http", 81, 0, NULL, 0};
    tbl_backend_spec s3 = {"ns", "svc", NULL, 0, TBL_BACKEND_PORT_MISSING,
                           NULL, 0};
    tbl_backend_spec s4 = {"ns", "svc", "web", 0, TBL_BACKEND_PORT_MISSING,
                           NULL, 0};
    tbl_backend_spec bad_ep = {"ns", "x", NULL, 80, 0, &bad, 1};
    tbl_backend_spec no_name = {"ns", NULL, NULL, 80, 0, NULL, 0};
    uint32_t         a;

    (void)state;
    a = tbl_builder_add_backend(b, &s1);
    assert_int_equal(tbl_builder_add_backend(b, &s1), a);
    assert_int_not_equal(tbl_builder_add_backend(b, &s2), a);
    assert_int_not_equal(tbl_builder_add_backend(b, &s3), a);
    assert_int_not_equal(tbl_builder_add_backend(b, &s4),
                         tbl_builder_add_backend(b, &s3));
    assert_int_equal(tbl_builder_add_backend(b, &bad_ep), TBL_NONE);
    assert_int_equal(tbl_builder_add_backend(b, &no_name), TBL_NONE);
    tbl_test_finish(b, &t);
    assert_int_equal(t.view.backend_count, 4);
    assert_int_equal(t.view.backends[2].flags, TBL_BACKEND_PORT_MISSING);
    assert_string_equal(tbl_view_str(&t.view, t.view.backends[2].port_name),
                        "");
    assert_int_not_equal(t.view.backends[0].backend_id,
                         t.view.backends[1].backend_id);
    tbl_test_table_free(&t);
}

static void
test_hosts(void **state)
{
    static const char *good[] = {"a", "a.b", "*.a.b", "x-1.y_2.z", ""};
    static const char *bad[] = {"A.com", "*.", "*", "a..b", ".a", "a.",
                                "foo.*.com", "**.a", "*a.com", "a b",
                                "a/b", "a:80"};
    tbl_builder       *b = tbl_builder_new();
    tbl_test_table     t;
    char               longest[300];
    size_t             i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint32_t vh = tbl_builder_vhost(b, good[i]);

        assert_int_equal(vh, i);
        assert_int_equal(tbl_builder_vhost(b, good[i]), vh);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tbl_builder_vhost(b, bad[i]) != TBL_NONE) {
            fail_msg("host \"%s\" accepted", bad[i]);
        }
    }
    memset(longest, 'a', sizeof(longest));
    longest[253] = '\0';
    assert_int_not_equal(tbl_builder_vhost(b, longest), TBL_NONE);
    longest[253] = 'a';
    longest[254] = '\0';
    assert_int_equal(tbl_builder_vhost(b, longest), TBL_NONE);
    assert_int_equal(tbl_builder_vhost(b, NULL), TBL_NONE);
    assert_int_equal(tbl_builder_set_vhost_flags(b, 0, TBL_VHOST_CATCHALL),
                     -1);
    assert_int_equal(tbl_builder_set_vhost_flags(b, 99, TBL_VHOST_TLS), -1);
    tbl_test_finish(b, &t);
    assert_int_equal(t.view.vhosts[2].flags, TBL_VHOST_WILDCARD);
    assert_int_equal(t.view.vhosts[4].flags, TBL_VHOST_CATCHALL);
    assert_int_equal(t.view.hdr->catchall_vhost, 4);
    /* 4 exact hosts (incl. the long one), 1 wildcard: load <= 0.5. */
    assert_int_equal(t.view.host_exact_cap, 8);
    assert_int_equal(t.view.host_wildcard_cap, 2);
    tbl_test_table_free(&t);
}

typedef struct {
    uint8_t     first_type;
    const char *first;
    uint8_t     second_type;
    const char *second;
    int         ok;
} dup_case;

static void
test_duplicates(void **state)
{
    static const dup_case cases[] = {
        {TBL_PATH_EXACT, "/a", TBL_PATH_EXACT, "/a", 0},
        {TBL_PATH_PREFIX, "/a", TBL_PATH_PREFIX, "/a/", 0},
        {TBL_PATH_PREFIX, "/a/", TBL_PATH_PREFIX, "/a", 0},
        {TBL_PATH_PREFIX, "/", TBL_PATH_PREFIX, "/", 0},
        {TBL_PATH_IMPL, "/a", TBL_PATH_IMPL, "/a", 0},
        {TBL_PATH_REGEX, "/a.*", TBL_PATH_REGEX, "/a.*", 0},
        {TBL_PATH_EXACT, "/a", TBL_PATH_PREFIX, "/a", 1},
        {TBL_PATH_EXACT, "/a", TBL_PATH_EXACT, "/a/", 1},
        {TBL_PATH_PREFIX, "/a", TBL_PATH_IMPL, "/a", 1},
        {TBL_PATH_IMPL, "/a", TBL_PATH_IMPL, "/a/", 1},
        {TBL_PATH_IMPL, "/a", TBL_PATH_REGEX, "/a", 1},
        {TBL_PATH_PREFIX, "/a//", TBL_PATH_PREFIX, "/a", 1},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const dup_case *c = &cases[i];
        tbl_builder    *b = tbl_builder_new();
        uint32_t        vh = tbl_builder_vhost(b, "dup.example.com");
        uint32_t        other = tbl_builder_vhost(b, "other.example.com");
        tbl_route_spec  s = {c->second, c->second_type, TBL_NONE, TBL_NONE,
                             TBL_NONE, "team", "second"};
        char            err[256] = "";
        int             rc;

        tbl_test_route(b, vh, c->first_type, c->first, TBL_NONE);
        rc = tbl_builder_add_route(b, vh, &s, err, sizeof(err));
        if (c->ok) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err, "dup.example.com"));
            assert_non_null(strstr(err, c->second));
            assert_non_null(strstr(err, tbl_path_type_name(c->second_type)));
            assert_non_null(strstr(err, "default/web"));
        }
        /* Another vhost has its own key space. */
        assert_int_equal(tbl_builder_add_route(b, other, &s, err,
                                               sizeof(err)),
                         0);
        tbl_builder_free(b);
    }
}

static void
expect_route_error(tbl_builder *b, uint32_t vh, const tbl_route_spec *s,
                   const char *want)
{
    char err[256] = "";

    assert_int_equal(tbl_builder_add_route(b, vh, s, err, sizeof(err)), -1);
    if (strstr(err, want) == NULL) {
        fail_msg("error \"%s\" does not mention \"%s\"", err, want);
    }
}

static void
test_bad_routes(void **state)
{
    tbl_builder   *b = tbl_builder_new();
    uint32_t       vh = tbl_builder_vhost(b, "bad.example.com");
    tbl_route_spec s = {"/x", TBL_PATH_EXACT, TBL_NONE, TBL_NONE, TBL_NONE,
                        "ns", "ing"};
    char           longpath[TBL_MAX_PATH_LEN + 2];
    char           err[256];

    (void)state;
    s.path_type = 0;
    expect_route_error(b, vh, &s, "bad path type 0");
    s.path_type = TBL_PATH_DEFAULT;
    expect_route_error(b, vh, &s, "bad path type 5");
    s.path_type = TBL_PATH_EXACT;
    s.path = NULL;
    expect_route_error(b, vh, &s, "no path");
    s.path = "x";
    expect_route_error(b, vh, &s, "does not start with '/'");
    s.path_type = TBL_PATH_PREFIX;
    s.path = "";
    expect_route_error(b, vh, &s, "does not start with '/'");
    memset(longpath, 'a', sizeof(longpath));
    longpath[0] = '/';
    longpath[TBL_MAX_PATH_LEN + 1] = '\0';
    s.path = longpath;
    expect_route_error(b, vh, &s, "longer than 4096");
    s.path = "/x";
    s.backend = 7;
    expect_route_error(b, vh, &s, "backend index 7");
    s.backend = TBL_NONE;
    s.canary = 0;
    expect_route_error(b, vh, &s, "ns/ing");
    s.canary = TBL_NONE;
    assert_int_equal(tbl_builder_add_route(b, 99, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "99"));

    /* ImplementationSpecific paths may be empty or relative. */
    s.path_type = TBL_PATH_IMPL;
    s.path = "";
    assert_int_equal(tbl_builder_add_route(b, vh, &s, err, sizeof(err)), 0);
    s.path_type = TBL_PATH_REGEX;
    s.path = "[a-z]+";
    assert_int_equal(tbl_builder_add_route(b, vh, &s, err, sizeof(err)), 0);
    tbl_builder_free(b);
}

static void
test_defaults(void **state)
{
    tbl_builder   *b = tbl_builder_new();
    tbl_test_table t;
    tbl_route_spec one = {NULL, TBL_PATH_DEFAULT, TBL_NONE, TBL_NONE,
                          TBL_NONE, "a", "first"};
    tbl_route_spec two = {NULL, TBL_PATH_DEFAULT, TBL_NONE, TBL_NONE,
                          TBL_NONE, "b", "second"};
    uint32_t       vh = tbl_builder_vhost(b, "d.example.com");
    char           err[256];

    (void)state;
    assert_int_equal(tbl_builder_set_vhost_default(b, vh, &one, err,
                                                   sizeof(err)),
                     0);
    assert_int_equal(tbl_builder_set_vhost_default(b, vh, &two, err,
                                                   sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "b/second"));
    assert_non_null(strstr(err, "a/first"));
    assert_int_equal(tbl_builder_set_vhost_default(b, 5, &one, err,
                                                   sizeof(err)),
                     -1);
    assert_int_equal(tbl_builder_set_default(b, &one, err, sizeof(err)), 0);
    assert_int_equal(tbl_builder_set_default(b, &two, err, sizeof(err)), -1);
    tbl_test_finish(b, &t);
    assert_int_equal(t.view.routes[t.view.vhosts[vh].default_route].vhost,
                     vh);
    assert_int_equal(t.view.routes[t.view.hdr->default_route].vhost,
                     TBL_NONE);
    assert_int_equal(t.view.routes[t.view.hdr->default_route].path_type,
                     TBL_PATH_DEFAULT);
    tbl_test_table_free(&t);
}

static void
test_impl_sorted(void **state)
{
    static const char *paths[] = {"/a", "/abcd", "/ab", "/zz", "/abc", "",
                                  "/q"};
    static const char *want[] = {"/abcd", "/abc", "/ab", "/zz", "/a", "/q",
                                 ""};
    tbl_builder       *b = tbl_builder_new();
    tbl_test_table     t;
    const tbl_vhost   *vh;
    size_t             i;

    (void)state;
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        tbl_test_route(b, tbl_builder_vhost(b, "s.io"), TBL_PATH_IMPL,
                       paths[i], TBL_NONE);
    }
    tbl_test_route(b, tbl_builder_vhost(b, "s.io"), TBL_PATH_REGEX, "/r2",
                   TBL_NONE);
    tbl_test_route(b, tbl_builder_vhost(b, "s.io"), TBL_PATH_REGEX, "/r1",
                   TBL_NONE);
    tbl_test_finish(b, &t);
    vh = &t.view.vhosts[0];
    assert_int_equal(vh->impl_count, 7);
    for (i = 0; i < 7; i++) {
        const tbl_route *r = &t.view.routes[t.view.route_lists[vh->impl_first
                                                               + i]];

        assert_string_equal(tbl_view_str(&t.view, r->path), want[i]);
    }
    assert_int_equal(vh->regex_count, 2);
    assert_string_equal(
        tbl_view_str(&t.view,
                     t.view.routes[t.view.route_lists[vh->regex_first]].path),
        "/r2");
    assert_true(vh->flags & TBL_VHOST_REGEX);
    tbl_test_table_free(&t);
}

/* Many rules: every Exact and Prefix rule is found again by lookup. */
static void
test_many_routes(void **state)
{
    enum { HOSTS = 500, PATHS = 20 };
    tbl_builder   *b = tbl_builder_new();
    tbl_test_table t;
    char           host[64], path[64];
    int            h, p;

    (void)state;
    for (h = 0; h < HOSTS; h++) {
        uint32_t vh;

        snprintf(host, sizeof(host), "host-%d.example.com", h);
        vh = tbl_builder_vhost(b, host);
        for (p = 0; p < PATHS; p++) {
            snprintf(path, sizeof(path), "/api/v%d/r%d", p % 3, p);
            tbl_test_route(b, vh, p % 2 ? TBL_PATH_EXACT : TBL_PATH_PREFIX,
                           path, TBL_NONE);
        }
    }
    tbl_test_finish(b, &t);
    assert_int_equal(t.view.route_count, HOSTS * PATHS);
    assert_true(t.view.path_exact_cap >= HOSTS * PATHS);
    assert_true(t.view.path_prefix_cap >= HOSTS * PATHS);
    for (h = 0; h < HOSTS; h++) {
        for (p = 0; p < PATHS; p++) {
            tbl_match m;
            int       hl = snprintf(host, sizeof(host),
                                    "HOST-%d.example.com:80", h);
            int       pl = snprintf(path, sizeof(path),
                                    p % 2 ? "/api/v%d/r%d" : "/api/v%d/r%d/x",
                                    p % 3, p);

            tbl_lookup(&t.view, host, (size_t)hl, path, (size_t)pl, NULL,
                       NULL, &m);
            assert_int_equal(m.kind,
                             p % 2 ? TBL_MATCH_EXACT : TBL_MATCH_PREFIX);
            assert_int_equal(m.route, (uint32_t)(h * PATHS + p));
        }
    }
    tbl_test_table_free(&t);
}

/* The vhost a request for host reaches ("" path "/"), or NONE. */
static uint32_t
vhost_of(const tbl_view *v, const char *host)
{
    tbl_match m;

    tbl_lookup(v, host, strlen(host), "/", 1, NULL, NULL, &m);
    return m.kind == TBL_MATCH_NONE ? TBL_NONE : m.vhost;
}

/* server-alias: more names for a vhost; a rule's host always wins. */
static void
test_aliases(void **state)
{
    tbl_builder   *b = tbl_builder_new();
    tbl_test_table t;
    uint32_t       be = tbl_test_backend(b, "web");
    uint32_t       a, w, late, any;
    char           err[256];

    (void)state;
    a = tbl_builder_vhost(b, "a.example.com");
    w = tbl_builder_vhost(b, "*.w.example");
    any = tbl_builder_vhost(b, "");
    tbl_test_route(b, a, TBL_PATH_PREFIX, "/", be);
    tbl_test_route(b, w, TBL_PATH_PREFIX, "/", be);
    tbl_test_route(b, any, TBL_PATH_PREFIX, "/", be);

    assert_int_equal(tbl_builder_add_alias(b, a, "x.example", err,
                                           sizeof(err)), 0);
    assert_int_equal(tbl_builder_add_alias(b, a, "*.y.example", err,
                                           sizeof(err)), 0);
    assert_int_equal(tbl_builder_add_alias(b, w, "z.example", err,
                                           sizeof(err)), 0);
    assert_int_equal(tbl_builder_add_alias(b, a, "late.example", err,
                                           sizeof(err)), 0);
    assert_int_equal(tbl_builder_alias_vhost(b, "x.example"), a);
    assert_int_equal(tbl_builder_alias_vhost(b, "a.example.com"), TBL_NONE);

    assert_int_equal(tbl_builder_add_alias(b, w, "a.example.com", err,
                                           sizeof(err)), -1);
    assert_string_equal(err, "alias \"a.example.com\": a rule names this "
                             "host");
    assert_int_equal(tbl_builder_add_alias(b, w, "x.example", err,
                                           sizeof(err)), -1);
    assert_string_equal(err, "alias \"x.example\": already an alias of "
                             "\"a.example.com\"");
    assert_int_equal(tbl_builder_add_alias(b, any, "c.example", err,
                                           sizeof(err)), -1);
    assert_int_equal(tbl_builder_add_alias(b, a, "Bad.example", err,
                                           sizeof(err)), -1);
    assert_string_equal(err, "alias \"Bad.example\": not a host name");
    assert_int_equal(tbl_builder_add_alias(b, 99, "d.example", err,
                                           sizeof(err)), -1);

    /* a vhost created afterwards takes the name back */
    late = tbl_builder_vhost(b, "late.example");
    tbl_test_route(b, late, TBL_PATH_PREFIX, "/", be);
    tbl_test_finish(b, &t);

    assert_int_equal(vhost_of(&t.view, "a.example.com"), a);
    assert_int_equal(vhost_of(&t.view, "x.example"), a);
    assert_int_equal(vhost_of(&t.view, "one.y.example"), a);
    assert_int_equal(vhost_of(&t.view, "y.example"), any);
    assert_int_equal(vhost_of(&t.view, "z.example"), w);
    assert_int_equal(vhost_of(&t.view, "late.example"), late);
    assert_int_equal(vhost_of(&t.view, "other.example"), any);
    tbl_test_table_free(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_strings_deduplicated),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_finish_twice),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_content_hash),
        cmocka_unit_test(test_stable_ids),
        cmocka_unit_test(test_backends),
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_bad_routes),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_impl_sorted),
        cmocka_unit_test(test_many_routes),
        cmocka_unit_test(test_aliases),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
