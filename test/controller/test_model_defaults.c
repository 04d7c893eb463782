/*
 * test_model_defaults.c -- where requests go when no path matches:
 * an Ingress's defaultBackend for its hosts, the catch-all vhost's
 * default, and --default-backend-service.
 */
#include <string.h>

#include "model_fixture.h"

static void
setup(fixture *f)
{
    fx_init(f);
    f->cfg.watch_without_class = true;
    fx_service(f, "default", "app", "http", 80, 8080, "10.0.0.1");
    fx_service(f, "default", "fallback", "http", 80, 8080, "10.0.0.2");
    fx_service(f, "default", "other", "http", 80, 8080, "10.0.0.3");
}

/* The conformance suite's default_backend: no rules, every host. */
static void
test_rule_less_ingress_catches_everything(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "default-backend", NULL, "",
               FX_DEFAULT("fallback", 80));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "my-host", "/"), "fallback:80");
    assert_string_equal(fx_route(&f, "some-host", "/sub-path"),
                        "fallback:80");
    assert_string_equal(fx_route(&f, "", "/resource"), "fallback:80");
    assert_int_equal(f.stats.routes, 0);
    assert_int_equal(f.stats.ingresses_owned, 1);
    fx_free(&f);
}

/* With rules, the defaultBackend answers unmatched paths of the
 * Ingress's hosts; other Ingresses' hosts keep their own answer. */
static void
test_default_backend_of_named_hosts(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "shop", "2020-01-01T00:00:00Z", "",
               FX_DEFAULT("fallback", 80) ","
               FX_RULES(FX_RULE("shop.example",
                                FX_PATH("/api", "Prefix", "app", 80)),
                        "{'host':'nopaths.example'}"));
    fx_ingress(&f, "default", "blog", "2021-01-01T00:00:00Z", "",
               FX_RULES(FX_RULE("blog.example",
                                FX_PATH("/posts", "Prefix", "other", 80))));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "shop.example", "/api/x"), "app:80");
    assert_string_equal(fx_route(&f, "shop.example", "/else"),
                        "fallback:80");
    /* A rule without http names its host; the default answers it. */
    assert_string_equal(fx_route(&f, "nopaths.example", "/"), "fallback:80");
    /* blog.example has no default and does not fall through. */
    assert_string_equal(fx_route(&f, "blog.example", "/else"), "404");
    /* Unknown host: no Ingress aims at the catch-all, so the oldest
     * defaultBackend of any Ingress answers (the Ingress API's rule). */
    assert_string_equal(fx_route(&f, "unknown.example", "/"), "fallback:80");
    assert_string_equal(fx_route_owner(&f, "unknown.example", "/"),
                        "default/shop");
    fx_free(&f);
}

/* Two Ingresses on one host with different defaultBackends: the oldest
 * one that has a defaultBackend wins, the other is a conflict. */
static void
test_host_default_oldest_wins(void **state)
{
    fixture f;
    const char *log;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "plain", "2019-01-01T00:00:00Z", "",
               FX_RULES(FX_RULE("h.example",
                                FX_PATH("/p", "Prefix", "app", 80))));
    fx_ingress(&f, "default", "newer", "2021-01-01T00:00:00Z", "",
               FX_DEFAULT("other", 80) ","
               FX_RULES(FX_RULE("h.example",
                                FX_PATH("/n", "Prefix", "app", 80))));
    fx_ingress(&f, "default", "older", "2020-01-01T00:00:00Z", "",
               FX_DEFAULT("fallback", 80) ","
               FX_RULES(FX_RULE("h.example",
                                FX_PATH("/o", "Prefix", "app", 80))));
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_string_equal(fx_route(&f, "h.example", "/zzz"), "fallback:80");
    assert_int_equal(f.stats.conflicts, 1);
    assert_non_null(strstr(log, "msg=\"default backend conflict\""));
    assert_non_null(strstr(log, "object=default/newer"));
    assert_non_null(strstr(log, "winner=default/older"));
    fx_free(&f);
}

/* Identical defaultBackends on one host are not a conflict. */
static void
test_same_default_is_no_conflict(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "a", NULL, "",
               FX_DEFAULT("fallback", 80) ","
               FX_RULES(FX_RULE("h.example",
                                FX_PATH("/a", "Prefix", "app", 80))));
    fx_ingress(&f, "default", "b", NULL, "",
               FX_DEFAULT("fallback", 80) ","
               FX_RULES(FX_RULE("h.example",
                                FX_PATH("/b", "Prefix", "app", 80))));
    fx_build(&f);
    assert_int_equal(f.stats.conflicts, 0);
    assert_string_equal(fx_route(&f, "h.example", "/c"), "fallback:80");
    fx_free(&f);
}

/* The catch-all prefers defaultBackends aimed at it (no rules, or a
 * rule without host) over older ones of host-only Ingresses; among
 * those, the oldest wins. */
static void
test_catchall_default_choice(void **state)
{
    fixture f;
    const char *log;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "hosted", "2018-01-01T00:00:00Z", "",
               FX_DEFAULT("app", 80) ","
               FX_RULES(FX_RULE("hosted.example",
                                FX_PATH("/", "Prefix", "app", 80))));
    fx_ingress(&f, "default", "catch-new", "2020-01-01T00:00:00Z", "",
               FX_DEFAULT("other", 80));
    fx_ingress(&f, "default", "catch-old", "2019-01-01T00:00:00Z", "",
               FX_DEFAULT("fallback", 80) ","
               "'rules':[{'http':{'paths':["
               FX_PATH("/hostless", "Prefix", "app", 80) "]}}]");
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_string_equal(fx_route(&f, "x.example", "/"), "fallback:80");
    assert_string_equal(fx_route(&f, "x.example", "/hostless"), "app:80");
    assert_string_equal(fx_route(&f, "hosted.example", "/"), "app:80");
    assert_int_equal(f.stats.conflicts, 1);
    assert_non_null(strstr(log, "object=default/catch-new"));
    assert_non_null(strstr(log, "winner=default/catch-old"));
    fx_free(&f);
}

/* --default-backend-service answers what nothing else answers: unknown
 * hosts and unmatched paths of hosts without a defaultBackend. */
static void
test_global_default_backend_service(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_put(&f, "{'apiVersion':'v1','kind':'Service',"
               "'metadata':{'namespace':'ingress','name':'defsvc'},"
               "'spec':{'ports':[{'name':'web','port':8081},"
               "{'name':'other','port':9000}]}}");
    fx_put(&f, "{'apiVersion':'discovery.k8s.io/v1','kind':'EndpointSlice',"
               "'metadata':{'namespace':'ingress','name':'defsvc-1',"
               "'labels':{'kubernetes.io/service-name':'defsvc'}},"
               "'addressType':'IPv4','endpoints':[{'addresses':['10.5.0.1']}],"
               "'ports':[{'name':'web','port':3000},"
               "{'name':'other','port':4000}]}");
    f.cfg.default_backend_service = "ingress/defsvc";
    fx_ingress(&f, "default", "shop", NULL, "",
               FX_RULES(FX_RULE("shop.example",
                                FX_PATH("/api", "Prefix", "app", 80))));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "unknown.example", "/"), "defsvc:8081");
    assert_string_equal(fx_route(&f, "shop.example", "/else"),
                        "defsvc:8081");
    assert_string_equal(fx_route_owner(&f, "shop.example", "/else"), "/");
    assert_int_equal(fx_backend(&f, "shop.example", "/else")->endpoint_count,
                     1);
    assert_int_equal(
        f.view.endpoints[fx_backend(&f, "x", "/")->endpoint_first].port,
        3000);
    assert_string_equal(fx_route(&f, "shop.example", "/api"), "app:80");
    fx_free(&f);
}

/* A --default-backend-service that is missing, malformed or without
 * ready endpoints leaves the plain 404 (as ingress-nginx). */
static void
test_global_default_unusable(void **state)
{
    static const char *const flags[] = {"ingress/missing", "nonsense",
                                        "default/noready"};

    (void)state;
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        fixture f;
        const char *log;

        setup(&f);
        fx_put(&f, "{'apiVersion':'v1','kind':'Service',"
                   "'metadata':{'namespace':'default','name':'noready'},"
                   "'spec':{'ports':[{'port':80}]}}");
        f.cfg.default_backend_service = flags[i];
        fx_capture_start();
        fx_build(&f);
        log = fx_capture_stop();
        assert_string_equal(fx_route(&f, "unknown.example", "/"), "404");
        assert_non_null(strstr(log, "default backend service"));
        fx_free(&f);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_less_ingress_catches_everything),
        cmocka_unit_test(test_default_backend_of_named_hosts),
        cmocka_unit_test(test_host_default_oldest_wins),
        cmocka_unit_test(test_same_default_is_no_conflict),
        cmocka_unit_test(test_catchall_default_choice),
        cmocka_unit_test(test_global_default_backend_service),
        cmocka_unit_test(test_global_default_unusable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
