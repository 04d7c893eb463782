/*
 * test_upstream.c -- the upstream family (proxy timeouts, body size,
 * next-upstream, buffering, upstream-vhost, backend-protocol): values,
 * defaults, rejections, and the policy the model emits from them.
 */
#include <stdio.h>
#include <string.h>

#include "model_fixture.h"
#include "ann_fixture.h"

static void
test_defaults_are_the_templates(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_int_equal(f.a.upstream.set, 0);
    assert_int_equal(f.a.upstream.connect_timeout, 5);
    assert_int_equal(f.a.upstream.send_timeout, 60);
    assert_int_equal(f.a.upstream.read_timeout, 60);
    assert_int_equal(f.a.upstream.body_size, 1024 * 1024);
    assert_int_equal(f.a.upstream.next_upstream,
                     TBL_NEXT_ERROR | TBL_NEXT_TIMEOUT);
    assert_int_equal(f.a.upstream.next_upstream_tries, 3);
    assert_int_equal(f.a.upstream.next_upstream_timeout, 0);
    assert_false(f.a.upstream.buffering);
    assert_null(f.a.upstream.upstream_vhost);
    assert_int_equal(f.a.upstream.protocol, TBL_PROTO_HTTP);
    ann_fx_free(&f);
}

static void
test_values(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "proxy-connect-timeout':'2','" NG
                  "proxy-send-timeout':'30s','" SH "proxy-read-timeout':'2m',"
                  "'" NG "proxy-body-size':'8m','" NG
                  "proxy-next-upstream':'error  http_502 non_idempotent','" NG
                  "proxy-next-upstream-tries':'0','" NG
                  "proxy-next-upstream-timeout':'10','" NG
                  "proxy-buffering':'on','" NG
                  "upstream-vhost':'internal.example:8080','" NG
                  "backend-protocol':'auto_http'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_int_equal(f.a.upstream.connect_timeout, 2);
    assert_int_equal(f.a.upstream.send_timeout, 30);
    assert_int_equal(f.a.upstream.read_timeout, 120);
    assert_int_equal(f.a.upstream.body_size, 8 * 1024 * 1024);
    assert_int_equal(f.a.upstream.next_upstream,
                     TBL_NEXT_ERROR | TBL_NEXT_HTTP_502 |
                         TBL_NEXT_NON_IDEMPOTENT);
    assert_int_equal(f.a.upstream.next_upstream_tries, 0);
    assert_int_equal(f.a.upstream.next_upstream_timeout, 10);
    assert_true(f.a.upstream.buffering);
    assert_string_equal(f.a.upstream.upstream_vhost, "internal.example:8080");
    assert_int_equal(f.a.upstream.protocol, TBL_PROTO_HTTP);
    ann_fx_free(&f);

    ann_parse(&f, "{'" NG "proxy-next-upstream':'off','" NG
                  "proxy-body-size':'0'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_int_equal(f.a.upstream.next_upstream, TBL_NEXT_OFF);
    assert_int_equal(f.a.upstream.body_size, 0);
    ann_fx_free(&f);
}

static void
test_rejections(void **state)
{
    (void)state;
    ann_expect_invalid("{'" NG "proxy-read-timeout':'soon'}",
                       "proxy-read-timeout", "duration");
    ann_expect_invalid("{'" NG "proxy-connect-timeout':'0'}",
                       "proxy-connect-timeout", "");
    ann_expect_invalid("{'" NG "proxy-body-size':'-1'}", "proxy-body-size",
                       "size");
    ann_expect_invalid("{'" NG "proxy-next-upstream':'error sometimes'}",
                       "proxy-next-upstream", "conditions");
    ann_expect_invalid("{'" NG "proxy-next-upstream':'off error'}",
                       "proxy-next-upstream", "off");
    ann_expect_invalid("{'" NG "proxy-next-upstream':'  '}",
                       "proxy-next-upstream", "conditions");
    ann_expect_invalid("{'" NG "proxy-next-upstream-tries':'many'}",
                       "proxy-next-upstream-tries", "");
    ann_expect_invalid("{'" NG "proxy-buffering':'true'}", "proxy-buffering",
                       "on or off");
    ann_expect_invalid("{'" NG "upstream-vhost':'a b'}", "upstream-vhost",
                       "host name");
    ann_expect_invalid("{'" NG "backend-protocol':'FCGI'}", "backend-protocol",
                       "not supported: FastCGI");
    ann_expect_invalid("{'" NG "backend-protocol':'SPDY'}", "backend-protocol",
                       "must be HTTP");
}

static void
test_policy_carries_resolved_values(void **state)
{
    fixture f;
    const tbl_policy *p;

    (void)state;
    fx_init_service_a(&f);
    fx_annotated_ingress(
        &f, "slow", "s.example",
        "'" NG "proxy-read-timeout':'3','" NG "proxy-next-upstream':'off','" NG
        "upstream-vhost':'in.example',"
        "'" NG "proxy-buffering':'on','" NG "proxy-body-size':'0'");
    fx_annotated_ingress(&f, "rewritten", "r.example",
                         "'" NG "x-forwarded-prefix':'/x'");
    fx_ingress(&f, "default", "plain", NULL, "",
               FX_RULES(FX_RULE("p.example", FX_PATH("/", "Prefix", "a", 80))));
    fx_build(&f);

    p = tbl_view_policy(&f.view, fx_route_of(&f, "slow")->policy);
    assert_non_null(p);
    assert_int_equal(p->read_timeout_ms, 3000);
    assert_int_equal(p->connect_timeout_ms, 5000);
    assert_int_equal(p->send_timeout_ms, 60000);
    assert_int_equal(p->next_upstream, TBL_NEXT_OFF);
    assert_int_equal(p->next_upstream_tries, 3);
    assert_int_equal(p->body_size_max, 0);
    assert_true(p->flags & TBL_POL_PROXY_BUFFERING);
    assert_string_equal(tbl_view_str(&f.view, p->upstream_vhost),
                        "in.example");

    /* A policy made for other annotations carries the defaults. */
    p = tbl_view_policy(&f.view, fx_route_of(&f, "rewritten")->policy);
    assert_non_null(p);
    assert_int_equal(p->read_timeout_ms, 60000);
    assert_int_equal(p->next_upstream, TBL_NEXT_ERROR | TBL_NEXT_TIMEOUT);
    assert_int_equal(p->flags & TBL_POL_PROXY_BUFFERING, 0);
    assert_int_equal(p->body_size_max, 1024 * 1024);
    assert_int_equal(p->connect_timeout_ms, 5000);

    assert_null(tbl_view_policy(&f.view, fx_route_of(&f, "plain")->policy));
    fx_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_the_templates),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_policy_carries_resolved_values),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
