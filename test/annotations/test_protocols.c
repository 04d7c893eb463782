/*
 * test_protocols.c -- backend-protocol, service-upstream,
 * custom-http-errors and default-backend: values, rejections, and the
 * policies and backends the model emits from them.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "model_fixture.h"
#include "ann_fixture.h"

static bool
has_code(const uint64_t *bits, unsigned code)
{
    code -= TBL_CUSTOM_ERRORS_BASE;
    return (bits[code / 64] >> (code % 64)) & 1;
}

static void
test_protocols(void **state)
{
    static const struct {
        const char *value;
        uint8_t     proto;
    } cases[] = {
        {"HTTP", TBL_PROTO_HTTP},   {"auto_http", TBL_PROTO_HTTP},
        {"HTTPS", TBL_PROTO_HTTPS}, {"grpc", TBL_PROTO_GRPC},
        {"GRPCS", TBL_PROTO_GRPCS},
    };
    char json[200];
    ann_fx f;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(json, sizeof(json), "{'" NG "backend-protocol':'%s'}",
                 cases[i].value);
        ann_parse(&f, json);
        assert_int_equal(f.rc, CTL_ANN_OK);
        assert_int_equal(f.a.upstream.protocol, cases[i].proto);
        ann_fx_free(&f);
    }
    ann_parse(&f, "{'" NG "backend-protocol':'FCGI'}");
    assert_int_equal(f.rc, CTL_ANN_INVALID);
    assert_string_equal(f.e.key, NG "backend-protocol");
    assert_non_null(strstr(f.e.reason, "FastCGI"));
    ann_fx_free(&f);

    ann_parse(&f, "{'" SH "service-upstream':'true'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_true(f.a.upstream.service_upstream);
    ann_fx_free(&f);
}

static void
test_custom_errors_values(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "custom-http-errors':'404, 503,599,300',"
                  "'" NG "default-backend':'error-pages'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_true(has_code(f.a.custom_errors.codes, 404));
    assert_true(has_code(f.a.custom_errors.codes, 503));
    assert_true(has_code(f.a.custom_errors.codes, 599));
    assert_true(has_code(f.a.custom_errors.codes, 300));
    assert_false(has_code(f.a.custom_errors.codes, 500));
    assert_string_equal(f.a.custom_errors.default_backend, "error-pages");
    ann_fx_free(&f);

    ann_parse(&f, "{}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_null(f.a.custom_errors.default_backend);
    for (unsigned i = 0; i < TBL_CUSTOM_ERRORS_WORDS; i++)
        assert_int_equal(f.a.custom_errors.codes[i], 0);
    ann_fx_free(&f);
}

static void
expect_invalid(const char *json, const char *key, const char *value)
{
    ann_fx f;

    ann_parse(&f, json);
    assert_int_equal(f.rc, CTL_ANN_INVALID);
    assert_string_equal(f.e.key, key);
    assert_string_equal(f.e.value, value);
    ann_fx_free(&f);
}

static void
test_custom_errors_rejections(void **state)
{
    (void)state;
    expect_invalid("{'" NG "custom-http-errors':'404,200'}",
                   NG "custom-http-errors", "404,200");
    expect_invalid("{'" NG "custom-http-errors':'404,,503'}",
                   NG "custom-http-errors", "404,,503");
    expect_invalid("{'" NG "custom-http-errors':'600'}",
                   NG "custom-http-errors", "600");
    expect_invalid("{'" NG "custom-http-errors':'4040'}",
                   NG "custom-http-errors", "4040");
    expect_invalid("{'" NG "custom-http-errors':''}",
                   NG "custom-http-errors", "");
    expect_invalid("{'" SH "default-backend':'Errors'}",
                   SH "default-backend", "Errors");
    expect_invalid("{'" SH "default-backend':'a/b/c'}", SH "default-backend",
                   "a/b/c");
}

static void
test_model_emits_codes_and_default_backend(void **state)
{
    fixture f;
    const tbl_policy *p;
    const tbl_backend *be;

    (void)state;
    fx_init(&f);
    fx_our_class(&f, "shmingress", 1);
    fx_service(&f, "shop", "app", "", 8080, 8080, "10.0.0.1");
    fx_service(&f, "shop", "errors", "", 80, 8080, "10.0.0.2");
    fx_ingress(&f, "shop", "web", NULL,
               "'annotations':{'" NG "custom-http-errors':'404,503','" NG
               "default-backend':'errors','" NG "backend-protocol':'GRPCS'}",
               FX_RULES(FX_RULE("w.example",
                                FX_PATH("/", "Prefix", "app", 8080))));
    fx_ingress(&f, "shop", "own-ns", NULL,
               "'annotations':{'" NG "default-backend':'shop/errors'}",
               FX_RULES(FX_RULE("o.example",
                                FX_PATH("/", "Prefix", "app", 8080))));
    fx_ingress(&f, "shop", "other-ns", NULL,
               "'annotations':{'" NG "default-backend':'kube-system/x'}",
               FX_RULES(FX_RULE("x.example",
                                FX_PATH("/", "Prefix", "app", 8080))));
    fx_ingress(&f, "shop", "missing", NULL,
               "'annotations':{'" NG "default-backend':'nothere'}",
               FX_RULES(FX_RULE("m.example",
                                FX_PATH("/", "Prefix", "app", 8080))));
    fx_capture_start();
    fx_build(&f);
    assert_non_null(strstr(fx_capture_stop(), "Ingress's namespace"));

    p = tbl_view_policy(&f.view, fx_route_of(&f, "web")->policy);
    assert_non_null(p);
    assert_int_equal(p->backend_protocol, TBL_PROTO_GRPCS);
    assert_true(has_code(p->custom_errors, 404));
    assert_true(has_code(p->custom_errors, 503));
    assert_false(has_code(p->custom_errors, 502));
    be = tbl_view_backend(&f.view, p->default_backend);
    assert_non_null(be);
    assert_string_equal(tbl_view_str(&f.view, be->service_name), "errors");
    assert_int_equal(be->port, 80);
    assert_int_equal(be->endpoint_count, 1);

    p = tbl_view_policy(&f.view, fx_route_of(&f, "own-ns")->policy);
    assert_non_null(tbl_view_backend(&f.view, p->default_backend));

    p = tbl_view_policy(&f.view, fx_route_of(&f, "other-ns")->policy);
    assert_int_equal(p->default_backend, TBL_NONE);

    p = tbl_view_policy(&f.view, fx_route_of(&f, "missing")->policy);
    be = tbl_view_backend(&f.view, p->default_backend);
    assert_non_null(be);
    assert_true(be->flags & TBL_BACKEND_SERVICE_MISSING);
    fx_free(&f);
}

static void
test_service_upstream_uses_the_cluster_ip(void **state)
{
    fixture f;
    const tbl_backend *be;
    const tbl_endpoint *ep;
    uint8_t addr[4];

    (void)state;
    fx_init(&f);
    fx_our_class(&f, "shmingress", 1);
    fx_put(&f, "{'apiVersion':'v1','kind':'Service','metadata':"
               "{'namespace':'shop','name':'app'},'spec':{'type':'ClusterIP',"
               "'clusterIP':'10.96.0.7','ports':[{'name':'http','port':80,"
               "'targetPort':8080}]}}");
    fx_put(&f, "{'apiVersion':'discovery.k8s.io/v1','kind':'EndpointSlice',"
               "'metadata':{'namespace':'shop','name':'app-1','labels':"
               "{'kubernetes.io/service-name':'app'}},'addressType':'IPv4',"
               "'endpoints':[{'addresses':['10.1.0.1']},{'addresses':"
               "['10.1.0.2']}],'ports':[{'name':'http','port':8080}]}");
    fx_put(&f, "{'apiVersion':'v1','kind':'Service','metadata':"
               "{'namespace':'shop','name':'headless'},'spec':{'clusterIP':"
               "'None','ports':[{'name':'http','port':80}]}}");
    fx_put(&f, "{'apiVersion':'discovery.k8s.io/v1','kind':'EndpointSlice',"
               "'metadata':{'namespace':'shop','name':'headless-1','labels':"
               "{'kubernetes.io/service-name':'headless'}},'addressType':"
               "'IPv4','endpoints':[{'addresses':['10.2.0.1']}],'ports':"
               "[{'name':'http','port':80}]}");
    fx_ingress(&f, "shop", "via-service", "2024-01-01T00:00:00Z",
               "'annotations':{'" NG "service-upstream':'true'}",
               FX_RULES(FX_RULE("s.example", FX_PATH("/", "Prefix", "app", 80)),
                        FX_RULE("h.example",
                                FX_PATH("/", "Prefix", "headless", 80))));
    fx_ingress(&f, "shop", "newer", "2024-02-01T00:00:00Z", "",
               FX_RULES(FX_RULE("p.example",
                                FX_PATH("/", "Prefix", "app", 80))));
    fx_capture_start();
    fx_build(&f);
    assert_non_null(strstr(fx_capture_stop(), "service-upstream ignored"));

    be = fx_backend(&f, "s.example", "/");
    assert_int_equal(be->endpoint_count, 1);
    ep = &f.view.endpoints[be->endpoint_first];
    inet_pton(AF_INET, "10.96.0.7", addr);
    assert_int_equal(ep->family, 4);
    assert_memory_equal(ep->addr, addr, 4);
    assert_int_equal(ep->port, 80);

    /* one backend per Service port, as in ingress-nginx: the oldest
     * Ingress routing to it decides, so a newer one shares it */
    assert_ptr_equal(fx_backend(&f, "p.example", "/"), be);

    /* a headless Service has no clusterIP: its endpoints are used */
    be = fx_backend(&f, "h.example", "/");
    assert_int_equal(be->endpoint_count, 1);
    assert_int_equal(f.view.endpoints[be->endpoint_first].port, 80);
    fx_free(&f);

    /* the oldest Ingress without the annotation: the pods */
    fx_init(&f);
    fx_our_class(&f, "shmingress", 1);
    fx_service(&f, "shop", "app", "http", 80, 8080, "10.1.0.1");
    fx_put(&f, "{'apiVersion':'v1','kind':'Service','metadata':"
               "{'namespace':'shop','name':'app'},'spec':{'clusterIP':"
               "'10.96.0.7','ports':[{'name':'http','port':80,"
               "'targetPort':8080}]}}");
    fx_ingress(&f, "shop", "older", "2023-01-01T00:00:00Z", "",
               FX_RULES(FX_RULE("p.example",
                                FX_PATH("/", "Prefix", "app", 80))));
    fx_ingress(&f, "shop", "via-service", "2024-01-01T00:00:00Z",
               "'annotations':{'" NG "service-upstream':'true'}",
               FX_RULES(FX_RULE("s.example",
                                FX_PATH("/", "Prefix", "app", 80))));
    fx_build(&f);
    be = fx_backend(&f, "s.example", "/");
    assert_int_equal(f.view.endpoints[be->endpoint_first].port, 8080);
    fx_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocols),
        cmocka_unit_test(test_custom_errors_values),
        cmocka_unit_test(test_custom_errors_rejections),
        cmocka_unit_test(test_model_emits_codes_and_default_backend),
        cmocka_unit_test(test_service_upstream_uses_the_cluster_ip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
