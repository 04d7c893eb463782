/*
 * test_tbl_lookup.c -- routing decisions of tbl_lookup: every example of
 * the Ingress docs and KEP (ingress-semantics.md 2.6 and 2.7, #1a-#25)
 * as table-driven cases, ImplementationSpecific and regex precedence,
 * host normalization, and the catch-all / default fallbacks.
 */
#include <regex.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tbl_test.h"

/* ---------------------------------------------------------- path cases */

typedef struct {
    uint8_t     type;
    const char *path;
} rule;

typedef struct {
    const char *id;
    rule        rules[4];
    const char *request;   /* may carry a query string              */
    uint8_t     want_type; /* 0: the vhost's default backend        */
    const char *want_path;
} path_case;

#define P TBL_PATH_PREFIX
#define E TBL_PATH_EXACT
#define I TBL_PATH_IMPL

static const path_case path_cases[] = {
    {"1a", {{P, "/"}}, "/", P, "/"},
    {"1b", {{P, "/"}}, "/anything/deep?q=1", P, "/"},
    {"2", {{E, "/foo"}}, "/foo", E, "/foo"},
    {"3", {{E, "/foo"}}, "/bar", 0, NULL},
    {"4", {{E, "/foo"}}, "/foo/", 0, NULL},
    {"5", {{E, "/foo/"}}, "/foo", 0, NULL},
    {"6a", {{P, "/foo"}}, "/foo", P, "/foo"},
    {"6b", {{P, "/foo"}}, "/foo/", P, "/foo"},
    {"7a", {{P, "/foo/"}}, "/foo", P, "/foo/"},
    {"7b", {{P, "/foo/"}}, "/foo/", P, "/foo/"},
    {"8", {{P, "/aaa/bb"}}, "/aaa/bbb", 0, NULL},
    {"9", {{P, "/aaa/bbb"}}, "/aaa/bbb", P, "/aaa/bbb"},
    {"10", {{P, "/aaa/bbb/"}}, "/aaa/bbb", P, "/aaa/bbb/"},
    {"11", {{P, "/aaa/bbb"}}, "/aaa/bbb/", P, "/aaa/bbb"},
    {"12", {{P, "/aaa/bbb"}}, "/aaa/bbb/ccc", P, "/aaa/bbb"},
    {"13", {{P, "/aaa/bbb"}}, "/aaa/bbbxyz", 0, NULL},
    {"14", {{P, "/"}, {P, "/aaa"}}, "/aaa/ccc", P, "/aaa"},
    {"15", {{P, "/"}, {P, "/aaa"}, {P, "/aaa/bbb"}}, "/aaa/bbb", P,
     "/aaa/bbb"},
    {"16", {{P, "/"}, {P, "/aaa"}, {P, "/aaa/bbb"}}, "/ccc", P, "/"},
    {"17", {{P, "/aaa"}}, "/ccc", 0, NULL},
    {"18", {{P, "/foo"}, {E, "/foo"}}, "/foo", E, "/foo"},
    {"19", {{P, "/foo/bar"}}, "/foo/barbaz", 0, NULL},
    {"20", {{P, "/foo/bar"}}, "/foo/bar/baz", P, "/foo/bar"},
    /* 21: "/foo" and "/foo/" are one Prefix key; the builder refuses the
     * pair (test_21_builder_refuses_pair) and the controller keeps the
     * longer "/foo/", which then serves both requests. */
    {"21a", {{P, "/foo/"}}, "/foo", P, "/foo/"},
    {"21b", {{P, "/foo/"}}, "/foo/", P, "/foo/"},
    {"22", {{P, "/foo"}, {E, "/foo"}}, "/foo/", P, "/foo"},
    {"23", {{E, "/foo"}}, "/FOO", 0, NULL},
    {"24", {{P, "/foo"}}, "/foo?x=/bar", P, "/foo"},
    /* 25: Exact beats every Prefix, even a longer one (the KEP rule). */
    {"25", {{E, "/foo"}, {P, "/foo/"}}, "/foo", E, "/foo"},
    /* More Prefix shapes. */
    {"p1", {{P, "/a/b/c"}, {P, "/a"}}, "/a/b/c/d/e", P, "/a/b/c"},
    {"p2", {{P, "/a/b/c"}, {P, "/a"}}, "/a/b/cd", P, "/a"},
    {"p3", {{P, "/a"}}, "/a//b", P, "/a"},
    {"p4", {{P, "/"}}, "", P, "/"},
    /* ImplementationSpecific: plain string prefix, and it wins only when
     * strictly longer than the best Prefix rule as written. */
    {"i1", {{I, "/foo"}}, "/foobar", I, "/foo"},
    {"i2", {{I, "/foo"}, {P, "/foo"}}, "/foo/x", P, "/foo"},
    {"i3", {{P, "/foo"}, {I, "/foo/b"}}, "/foo/bar", I, "/foo/b"},
    {"i4", {{P, "/foo/bar"}, {I, "/foo/b"}}, "/foo/bar", P, "/foo/bar"},
    {"i5", {{I, "/a"}, {I, "/abc"}}, "/abcd", I, "/abc"},
    {"i6", {{I, "/abc"}, {I, "/a"}}, "/abx", I, "/a"},
    {"i7", {{I, ""}}, "/anything", I, ""},
    {"i8", {{E, "/a"}, {I, "/a"}}, "/a", E, "/a"},
    {"i9", {{P, "/"}, {I, "/x"}}, "/x", I, "/x"},
    {"i10", {{P, "/foo/"}, {I, "/foo"}}, "/foo/x", P, "/foo/"},
    {"i11", {{I, "/abc"}}, "/ab", 0, NULL},
};

/* The request path as the module hands it over: without the query. */
static size_t
path_len(const char *request)
{
    const char *q = strchr(request, '?');

    return q ? (size_t)(q - request) : strlen(request);
}

static void
run_path_case(const path_case *c)
{
    tbl_builder   *b = tbl_builder_new();
    tbl_test_table t;
    tbl_route_spec def = {NULL, TBL_PATH_DEFAULT, TBL_NONE, TBL_NONE,
                          TBL_NONE, "default", "fallback"};
    tbl_match      m;
    uint32_t       vh;
    char           err[256];
    size_t         k;

    assert_non_null(b);
    vh = tbl_builder_vhost(b, "foo.bar.com");
    for (k = 0; k < 4 && c->rules[k].path != NULL; k++) {
        char name[64];

        snprintf(name, sizeof(name), "svc-%zu", k);
        tbl_test_route(b, vh, c->rules[k].type, c->rules[k].path,
                       tbl_test_backend(b, name));
    }
    def.backend = tbl_test_backend(b, "default-backend");
    assert_int_equal(tbl_builder_set_vhost_default(b, vh, &def, err,
                                                   sizeof(err)),
                     0);
    tbl_test_finish(b, &t);

    tbl_lookup(&t.view, "foo.bar.com", 11, c->request, path_len(c->request),
               NULL, NULL, &m);
    if (c->want_type == 0) {
        if (m.kind != TBL_MATCH_HOST_DEFAULT) {
            fail_msg("case %s: %s matched %s \"%s\", want the default", c->id,
                     c->request,
                     tbl_path_type_name(t.view.routes[m.route].path_type),
                     tbl_view_str(&t.view, t.view.routes[m.route].path));
        }
    } else {
        const tbl_route *r;

        if (m.route == TBL_NONE
            || t.view.routes[m.route].path_type == TBL_PATH_DEFAULT)
        {
            fail_msg("case %s: %s got no path match, want %s \"%s\"", c->id,
                     c->request, tbl_path_type_name(c->want_type),
                     c->want_path);
        }
        r = &t.view.routes[m.route];
        if (r->path_type != c->want_type
            || strcmp(tbl_view_str(&t.view, r->path), c->want_path) != 0)
        {
            fail_msg("case %s: %s matched %s \"%s\", want %s \"%s\"", c->id,
                     c->request, tbl_path_type_name(r->path_type),
                     tbl_view_str(&t.view, r->path),
                     tbl_path_type_name(c->want_type), c->want_path);
        }
        assert_int_equal(m.kind, c->want_type == E   ? TBL_MATCH_EXACT
                                 : c->want_type == P ? TBL_MATCH_PREFIX
                                                     : TBL_MATCH_IMPL);
    }
    assert_int_equal(m.vhost, vh);
    assert_int_equal(m.host_kind, TBL_HOST_EXACT);
    tbl_test_table_free(&t);
}

static void
test_path_cases(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
        run_path_case(&path_cases[i]);
    }
}

static void
test_21_builder_refuses_pair(void **state)
{
    tbl_builder   *b = tbl_builder_new();
    uint32_t       vh = tbl_builder_vhost(b, "foo.bar.com");
    tbl_route_spec s = {"/foo", TBL_PATH_PREFIX, TBL_NONE, TBL_NONE,
                        TBL_NONE, "default", "other"};
    char           err[256];

    (void)state;
    tbl_test_route(b, vh, TBL_PATH_PREFIX, "/foo/", TBL_NONE);
    assert_int_equal(tbl_builder_add_route(b, vh, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "foo.bar.com"));
    assert_non_null(strstr(err, "Prefix"));
    assert_non_null(strstr(err, "\"/foo\""));
    tbl_builder_free(b);
}

/* ---------------------------------------------------------- host cases */

typedef struct {
    const char *header;
    const char *want_host; /* vhost's host as written; NULL: no vhost */
    uint8_t     want_kind; /* tbl_host_kind                            */
} host_case;

static void
check_host(const tbl_view *v, const host_case *c)
{
    tbl_match m;

    tbl_lookup(v, c->header, strlen(c->header), "/", 1, NULL, NULL, &m);
    if (c->want_host == NULL) {
        assert_int_equal(m.vhost, TBL_NONE);
    } else {
        if (m.vhost == TBL_NONE) {
            fail_msg("Host \"%s\": no vhost, want \"%s\"", c->header,
                     c->want_host);
        }
        if (strcmp(tbl_view_str(v, v->vhosts[m.vhost].host), c->want_host)
            != 0)
        {
            fail_msg("Host \"%s\": vhost \"%s\", want \"%s\"", c->header,
                     tbl_view_str(v, v->vhosts[m.vhost].host), c->want_host);
        }
    }
    assert_int_equal(m.host_kind, c->want_kind);
}

static void
build_hosts(tbl_test_table *t, int with_catchall)
{
    static const char *hosts[] = {"foo.bar.com", "*.foo.com",
                                  "first.bar.com", "second.bar.com",
                                  "a.wild.org", "*.wild.org"};
    tbl_builder *b = tbl_builder_new();
    size_t       i;

    for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        tbl_test_route(b, tbl_builder_vhost(b, hosts[i]), TBL_PATH_PREFIX,
                       "/", tbl_test_backend(b, hosts[i]));
    }
    if (with_catchall) {
        tbl_test_route(b, tbl_builder_vhost(b, ""), TBL_PATH_PREFIX, "/",
                       tbl_test_backend(b, "service3"));
    }
    tbl_test_finish(b, t);
}

static void
test_host_matching(void **state)
{
    static const host_case cases[] = {
        {"foo.bar.com", "foo.bar.com", TBL_HOST_EXACT},
        {"bar.foo.com", "*.foo.com", TBL_HOST_WILDCARD},
        {"baz.bar.foo.com", "", TBL_HOST_CATCHALL},
        {"foo.com", "", TBL_HOST_CATCHALL},
        {"10.1.2.3", "", TBL_HOST_CATCHALL},
        {"10.1.2.3:8080", "", TBL_HOST_CATCHALL},
        {"[2001:db8::1]:443", "", TBL_HOST_CATCHALL},
        {"", "", TBL_HOST_CATCHALL},
        {"first.bar.com", "first.bar.com", TBL_HOST_EXACT},
        {"second.bar.com", "second.bar.com", TBL_HOST_EXACT},
        {"third.bar.com", "", TBL_HOST_CATCHALL},
        {"a.wild.org", "a.wild.org", TBL_HOST_EXACT},
        {"b.wild.org", "*.wild.org", TBL_HOST_WILDCARD},
        {"FOO.Bar.COM", "foo.bar.com", TBL_HOST_EXACT},
        {"foo.bar.com:8080", "foo.bar.com", TBL_HOST_EXACT},
        {"foo.bar.com.", "foo.bar.com", TBL_HOST_EXACT},
        {"foo.bar.com.:80", "foo.bar.com", TBL_HOST_EXACT},
        {"X.Foo.Com:443", "*.foo.com", TBL_HOST_WILDCARD},
        {".foo.com", "", TBL_HOST_CATCHALL},
        {"foo.bar.com..", "", TBL_HOST_CATCHALL},
        {"foo.bar.com:http", "", TBL_HOST_CATCHALL},
        {"foo bar", "", TBL_HOST_CATCHALL},
        {"*.foo.com", "", TBL_HOST_CATCHALL},
    };
    tbl_test_table t;
    size_t         i;

    (void)state;
    build_hosts(&t, 1);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check_host(&t.view, &cases[i]);
    }
    tbl_test_table_free(&t);
}

static void
test_host_without_catchall(void **state)
{
    static const host_case cases[] = {
        {"foo.bar.com", "foo.bar.com", TBL_HOST_EXACT},
        {"unknown.example", NULL, TBL_HOST_NONE},
        {"", NULL, TBL_HOST_NONE},
        {"foo.com", NULL, TBL_HOST_NONE},
    };
    tbl_test_table t;
    tbl_match      m;
    size_t         i;

    (void)state;
    build_hosts(&t, 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check_host(&t.view, &cases[i]);
    }
    tbl_lookup(&t.view, "nope", 4, "/", 1, NULL, NULL, &m);
    assert_int_equal(m.kind, TBL_MATCH_NONE);
    assert_int_equal(m.route, TBL_NONE);
    tbl_test_table_free(&t);
}

/* ---------------------------------------------------- fallbacks and kinds */

static void
test_fallbacks(void **state)
{
    tbl_builder   *b = tbl_builder_new();
    tbl_test_table t;
    tbl_route_spec vdef = {NULL, TBL_PATH_DEFAULT, TBL_NONE, TBL_NONE,
                           TBL_NONE, "apps", "shop"};
    tbl_route_spec gdef = {NULL, TBL_PATH_DEFAULT, TBL_NONE, TBL_NONE,
                           TBL_NONE, "", ""};
    tbl_match      m;
    uint32_t       shop, api, any;
    char           err[256];

    (void)state;
    shop = tbl_builder_vhost(b, "shop.example.com");
    api = tbl_builder_vhost(b, "api.example.com");
    any = tbl_builder_vhost(b, "");
    tbl_test_route(b, shop, TBL_PATH_PREFIX, "/cart", TBL_NONE);
    tbl_test_route(b, api, TBL_PATH_PREFIX, "/v1", TBL_NONE);
    tbl_test_route(b, any, TBL_PATH_PREFIX, "/", TBL_NONE);
    vdef.backend = tbl_test_backend(b, "shop-default");
    gdef.backend = tbl_test_backend(b, "global-default");
    assert_int_equal(tbl_builder_set_vhost_default(b, shop, &vdef, err,
                                                   sizeof(err)),
                     0);
    assert_int_equal(tbl_builder_set_default(b, &gdef, err, sizeof(err)), 0);
    tbl_test_finish(b, &t);

    /* A path miss on a host with a defaultBackend uses it. */
    tbl_lookup(&t.view, "shop.example.com", 16, "/other", 6, NULL, NULL, &m);
    assert_int_equal(m.kind, TBL_MATCH_HOST_DEFAULT);
    assert_int_equal(m.vhost, shop);
    assert_int_equal(m.route, t.view.vhosts[shop].default_route);

    /* A matched host never falls through to the catch-all's "/". */
    tbl_lookup(&t.view, "api.example.com", 15, "/other", 6, NULL, NULL, &m);
    assert_int_equal(m.kind, TBL_MATCH_DEFAULT);
    assert_int_equal(m.vhost, api);
    assert_int_equal(m.host_kind, TBL_HOST_EXACT);
    assert_int_equal(m.route, t.view.hdr->default_route);

    tbl_lookup(&t.view, "api.example.com", 15, "/v1/users", 9, NULL, NULL,
               &m);
    assert_int_equal(m.kind, TBL_MATCH_PREFIX);

    /* Unknown hosts go to the catch-all vhost. */
    tbl_lookup(&t.view, "elsewhere.net", 13, "/x", 2, NULL, NULL, &m);
    assert_int_equal(m.kind, TBL_MATCH_PREFIX);
    assert_int_equal(m.vhost, any);
    assert_int_equal(m.host_kind, TBL_HOST_CATCHALL);
    tbl_test_table_free(&t);
}

static void
test_empty_table(void **state)
{
    tbl_builder   *b = tbl_builder_new();
    tbl_test_table t;
    tbl_match      m;

    (void)state;
    tbl_test_finish(b, &t);
    tbl_lookup(&t.view, "a.com", 5, "/", 1, NULL, NULL, &m);
    assert_int_equal(m.kind, TBL_MATCH_NONE);
    assert_int_equal(m.vhost, TBL_NONE);
    assert_int_equal(m.route, TBL_NONE);
    assert_int_equal(m.host_kind, TBL_HOST_NONE);
    tbl_test_table_free(&t);
}

/* ---------------------------------------------------------------- regex */

typedef struct {
    int calls;
} regex_ctx;

/* Matches like ingress-nginx's "~* ^<path>": anchored, case-insensitive. */
static int
posix_regex(void *ctx, const tbl_view *v, const tbl_route *route,
            const char *path, size_t path_len)
{
    regex_ctx *rc = ctx;
    regex_t    re;
    char       pattern[512], subject[512];
    int        hit;

    rc->calls++;
    snprintf(pattern, sizeof(pattern), "^%s", tbl_view_str(v, route->path));
    snprintf(subject, sizeof(subject), "%.*s", (int)path_len, path);
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_ICASE
                                               | REG_NOSUB),
                     0);
    hit = regexec(&re, subject, 0, NULL, 0) == 0;
    regfree(&re);
    return hit;
}

static void
test_regex(void **state)
{
    tbl_builder   *b = tbl_builder_new();
    tbl_test_table t;
    regex_ctx      rc = {0};
    tbl_match      m;
    uint32_t       vh, plain;

    (void)state;
    vh = tbl_builder_vhost(b, "re.example.com");
    tbl_test_route(b, vh, TBL_PATH_EXACT, "/api/exact", TBL_NONE);
    tbl_test_route(b, vh, TBL_PATH_REGEX, "/api/v[0-9]+/", TBL_NONE);
    tbl_test_route(b, vh, TBL_PATH_REGEX, "/api/.*", TBL_NONE);
    tbl_test_route(b, vh, TBL_PATH_PREFIX, "/", TBL_NONE);
    plain = tbl_builder_vhost(b, "plain.example.com");
    tbl_test_route(b, plain, TBL_PATH_PREFIX, "/", TBL_NONE);
    tbl_test_finish(b, &t);
    assert_true(t.view.vhosts[vh].flags & TBL_VHOST_REGEX);
    assert_false(t.view.vhosts[plain].flags & TBL_VHOST_REGEX);

    /* Exact first, and the regex callback is not even asked. */
    tbl_lookup(&t.view, "re.example.com", 14, "/api/exact", 10, posix_regex,
               &rc, &m);
    assert_int_equal(m.kind, TBL_MATCH_EXACT);
    assert_int_equal(rc.calls, 0);

    /* Then regexes in list order: the first that matches wins. */
    tbl_lookup(&t.view, "re.example.com", 14, "/API/V2/x", 9, posix_regex,
               &rc, &m);
    assert_int_equal(m.kind, TBL_MATCH_REGEX);
    assert_string_equal(tbl_view_str(&t.view, t.view.routes[m.route].path),
                        "/api/v[0-9]+/");
    tbl_lookup(&t.view, "re.example.com", 14, "/api/other", 10, posix_regex,
               &rc, &m);
    assert_string_equal(tbl_view_str(&t.view, t.view.routes[m.route].path),
                        "/api/.*");

    /* Before Prefix; and Prefix when no regex matches. */
    tbl_lookup(&t.view, "re.example.com", 14, "/web", 4, posix_regex, &rc,
               &m);
    assert_int_equal(m.kind, TBL_MATCH_PREFIX);

    /* No callback: regex routes are skipped. */
    tbl_lookup(&t.view, "re.example.com", 14, "/api/other", 10, NULL, NULL,
               &m);
    assert_int_equal(m.kind, TBL_MATCH_PREFIX);

    /* Vhosts without the REGEX flag never call it. */
    rc.calls = 0;
    tbl_lookup(&t.view, "plain.example.com", 17, "/api/x", 6, posix_regex,
               &rc, &m);
    assert_int_equal(rc.calls, 0);
    tbl_test_table_free(&t);
}

/*
 * Keys of 63 bytes and more share one filter bit, and request paths may
 * be longer than any rule (4096 bytes): both still match exactly.
 */
static void
test_long_paths(void **state)
{
    tbl_builder   *b = tbl_builder_new();
    tbl_test_table t;
    tbl_match      m;
    char           exact64[65], exact80[81], prefix100[101], req[6000];
    uint32_t       vh;

    (void)state;
    memset(exact64, 'e', sizeof(exact64));
    exact64[0] = '/';
    exact64[64] = '\0';
    memset(exact80, 'f', sizeof(exact80));
    exact80[0] = '/';
    exact80[80] = '\0';
    memset(prefix100, 'p', sizeof(prefix100));
    prefix100[0] = '/';
    prefix100[100] = '\0';
    vh = tbl_builder_vhost(b, "long.example.com");
    tbl_test_route(b, vh, TBL_PATH_EXACT, exact64, TBL_NONE);
    tbl_test_route(b, vh, TBL_PATH_EXACT, exact80, TBL_NONE);
    tbl_test_route(b, vh, TBL_PATH_PREFIX, prefix100, TBL_NONE);
    tbl_test_route(b, vh, TBL_PATH_PREFIX, "/a", TBL_NONE);
    tbl_test_finish(b, &t);

    tbl_lookup(&t.view, "long.example.com", 16, exact80, 80, NULL, NULL, &m);
    assert_int_equal(m.kind, TBL_MATCH_EXACT);
    assert_int_equal(t.view.routes[m.route].path.len, 80);
    tbl_lookup(&t.view, "long.example.com", 16, exact64, 64, NULL, NULL, &m);
    assert_int_equal(t.view.routes[m.route].path.len, 64);
    /* 79 bytes of the 80-byte rule: same filter bit, no match. */
    tbl_lookup(&t.view, "long.example.com", 16, exact80, 79, NULL, NULL, &m);
    assert_int_equal(m.kind, TBL_MATCH_NONE);

    snprintf(req, sizeof(req), "%s/deeper/still", prefix100);
    tbl_lookup(&t.view, "long.example.com", 16, req, strlen(req), NULL, NULL,
               &m);
    assert_int_equal(m.kind, TBL_MATCH_PREFIX);
    assert_int_equal(t.view.routes[m.route].path.len, 100);

    /* A request path longer than any rule can be. */
    memset(req, 'z', sizeof(req));
    memcpy(req, "/a/", 3);
    req[3000] = '/';
    tbl_lookup(&t.view, "long.example.com", 16, req, sizeof(req), NULL, NULL,
               &m);
    assert_int_equal(m.kind, TBL_MATCH_PREFIX);
    assert_string_equal(tbl_view_str(&t.view, t.view.routes[m.route].path),
                        "/a");
    tbl_test_table_free(&t);
}

/* -------------------------------------------------------- normalization */

typedef struct {
    const char *in;
    const char *out; /* NULL: rejected */
} norm_case;

static void
test_normalize_host(void **state)
{
    static const norm_case cases[] = {
        {"example.com", "example.com"},
        {"Foo.Example.COM", "foo.example.com"},
        {"example.com:8080", "example.com"},
        {"example.com:", "example.com"},
        {"example.com.", "example.com"},
        {"example.com.:443", "example.com"},
        {"localhost", "localhost"},
        {"my_host-1.internal", "my_host-1.internal"},
        {"10.0.0.1", "10.0.0.1"},
        {"10.0.0.1:80", "10.0.0.1"},
        {"[::1]", "::1"},
        {"[::1]:8080", "::1"},
        {"[2001:DB8::A]:443", "2001:db8::a"},
        {"2001:db8::1", "2001:db8::1"},
        {"[::ffff:10.0.0.1]", "::ffff:10.0.0.1"},
        {"", NULL},
        {":80", NULL},
        {".", NULL},
        {"..", NULL},
        {".example.com", NULL},
        {"a..b", NULL},
        {"example.com..", NULL},
        {"exa mple.com", NULL},
        {"example.com/x", NULL},
        {"user@example.com", NULL},
        {"example.com:80x", NULL},
        {"example.com:-1", NULL},
        {"[::1", NULL},
        {"[::1]x", NULL},
        {"[::1]:8o", NULL},
        {"[]", NULL},
        {"[zz::1]", NULL},
        {"2001:db8::g", NULL},
        {"ex\xc3\xa4mple.com", NULL},
        {"*.example.com", NULL},
    };
    char   buf[TBL_MAX_HOST_LEN + 1], big[300];
    size_t i;
    int    n;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = tbl_normalize_host(cases[i].in, strlen(cases[i].in), buf,
                               sizeof(buf));
        if (cases[i].out == NULL) {
            if (n != -1) {
                fail_msg("\"%s\" normalized to \"%s\", want rejection",
                         cases[i].in, buf);
            }
            continue;
        }
        if (n < 0 || strcmp(buf, cases[i].out) != 0
            || (size_t)n != strlen(cases[i].out))
        {
            fail_msg("\"%s\": got %d \"%s\", want \"%s\"", cases[i].in, n,
                     n < 0 ? "" : buf, cases[i].out);
        }
    }

    /* 253 bytes is the longest name; the port does not count. */
    memset(big, 'a', sizeof(big));
    for (i = 63; i < 253; i += 64) {
        big[i] = '.';
    }
    memcpy(big + 253, ":8080", 5);
    assert_int_equal(tbl_normalize_host(big, 253, buf, sizeof(buf)), 253);
    assert_int_equal(tbl_normalize_host(big, 258, buf, sizeof(buf)), 253);
    big[253] = 'a';
    assert_int_equal(tbl_normalize_host(big, 254, buf, sizeof(buf)), -1);

    /* The output must fit with its NUL. */
    assert_int_equal(tbl_normalize_host("abcd", 4, buf, 4), -1);
    assert_int_equal(tbl_normalize_host("abcd", 4, buf, 5), 4);
    assert_int_equal(tbl_normalize_host(NULL, 0, buf, sizeof(buf)), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_cases),
        cmocka_unit_test(test_21_builder_refuses_pair),
        cmocka_unit_test(test_host_matching),
        cmocka_unit_test(test_host_without_catchall),
        cmocka_unit_test(test_fallbacks),
        cmocka_unit_test(test_empty_table),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_long_paths),
        cmocka_unit_test(test_normalize_host),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
