/*
 * test_model_rebuild.c -- builds of one store over time: every change to
 * an object shows in the next table (parses are cached per object
 * version), problems are logged once per version, and the global default
 * shares its backend with Ingresses using the same Service port.
 */
#include <string.h>

#include "model_fixture.h"

static int
count(const char *haystack, const char *needle)
{
    int n = 0;

    for (const char *p = strstr(haystack, needle); p != NULL;
         p = strstr(p + 1, needle))
        n++;
    return n;
}

static void
test_changes_show_in_next_build(void **state)
{
    fixture f;

    (void)state;
    fx_init(&f);
    fx_our_class(&f, "shmingress", 0);
    fx_service(&f, "default", "web", "http", 80, 8080, "10.0.0.1");
    fx_service(&f, "default", "api", "http", 80, 8080, "10.0.0.5");
    fx_ingress(&f, "default", "ing", NULL, "",
               "'ingressClassName':'shmingress',"
               FX_RULES(FX_RULE("r.example",
                                FX_PATH("/old", "Prefix", "web", 80))));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "r.example", "/old"), "web:80");

    /* New endpoints in the slice. */
    fx_put(&f, "{'apiVersion':'discovery.k8s.io/v1','kind':'EndpointSlice',"
               "'metadata':{'namespace':'default','name':'web-abc',"
               "'labels':{'kubernetes.io/service-name':'web'}},"
               "'addressType':'IPv4','endpoints':[{'addresses':['10.0.0.2']},"
               "{'addresses':['10.0.0.3']}],"
               "'ports':[{'name':'http','port':8080}]}");
    fx_build(&f);
    assert_int_equal(fx_backend(&f, "r.example", "/old")->endpoint_count, 2);

    /* A changed Ingress. */
    fx_ingress(&f, "default", "ing", NULL, "",
               "'ingressClassName':'shmingress',"
               FX_RULES(FX_RULE("r.example",
                                FX_PATH("/new", "Prefix", "api", 80))));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "r.example", "/old"), "404");
    assert_string_equal(fx_route(&f, "r.example", "/new"), "api:80");

    /* A deleted Service. */
    assert_int_equal(ctl_store_delete(f.store, CTL_KIND_SERVICE, "default",
                                      "api"),
                     1);
    fx_build(&f);
    assert_string_equal(fx_route(&f, "r.example", "/new"), "api:80!missing");

    /* The class handed to another controller: no longer ours. */
    fx_put(&f, "{'apiVersion':'networking.k8s.io/v1','kind':'IngressClass',"
               "'metadata':{'name':'shmingress'},"
               "'spec':{'controller':'example.com/other'}}");
    fx_build(&f);
    assert_string_equal(fx_route(&f, "r.example", "/new"), "404");
    assert_int_equal(f.stats.ingresses_owned, 0);
    fx_free(&f);
}

/* What counts as a canary follows --annotations-prefix, also for an
 * Ingress parsed under another prefix before. */
static void
test_prefix_change_rereads_annotations(void **state)
{
    fixture f;

    (void)state;
    fx_init(&f);
    f.cfg.watch_without_class = true;
    fx_service(&f, "default", "web", "http", 80, 8080, "10.0.0.1");
    fx_ingress(&f, "default", "ing", NULL,
               "'annotations':{'custom.example/canary':'true'}",
               FX_RULES(FX_RULE("p.example",
                                FX_PATH("/", "Prefix", "web", 80))));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "p.example", "/"), "web:80");
    f.cfg.annotations_prefix = "custom.example/";
    fx_build(&f);
    assert_string_equal(fx_route(&f, "p.example", "/"), "404");
    fx_free(&f);
}

/* An invalid Ingress is reported once, not on every rebuild; fixing it
 * brings its routes. */
static void
test_invalid_ingress_logged_once(void **state)
{
    fixture f;
    const char *log;

    (void)state;
    fx_init(&f);
    f.cfg.watch_without_class = true;
    fx_service(&f, "default", "web", "http", 80, 8080, "10.0.0.1");
    fx_ingress(&f, "default", "bad", NULL, "",
               FX_RULES(FX_RULE("Bad.example",
                                FX_PATH("/", "Prefix", "web", 80))));
    fx_capture_start();
    fx_build(&f);
    fx_build(&f);
    fx_build(&f);
    log = fx_capture_stop();
    assert_int_equal(count(log, "msg=\"ingress skipped\""), 1);
    assert_int_equal(f.stats.ingresses_skipped, 1);

    fx_ingress(&f, "default", "bad", NULL, "",
               FX_RULES(FX_RULE("bad.example",
                                FX_PATH("/", "Prefix", "web", 80))));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "bad.example", "/"), "web:80");
    assert_int_equal(f.stats.ingresses_skipped, 0);
    fx_free(&f);
}

/* Backend problems are logged on every build (they depend on other
 * objects), once per build. */
static void
test_backend_problem_logged_each_build(void **state)
{
    fixture f;
    const char *log;

    (void)state;
    fx_init(&f);
    f.cfg.watch_without_class = true;
    fx_ingress(&f, "default", "ing", NULL, "",
               FX_RULES(FX_RULE("m.example",
                                FX_PATH("/a", "Prefix", "gone", 80),
                                FX_PATH("/b", "Prefix", "gone", 80))));
    fx_capture_start();
    fx_build(&f);
    fx_build(&f);
    log = fx_capture_stop();
    assert_int_equal(count(log, "msg=\"service not found\""), 2);
    fx_free(&f);
}

/* The global default and an Ingress on the same Service port share one
 * backend. */
static void
test_global_default_shares_backend(void **state)
{
    fixture f;

    (void)state;
    fx_init(&f);
    f.cfg.watch_without_class = true;
    f.cfg.default_backend_service = "default/web";
    fx_service(&f, "default", "web", "http", 80, 8080, "10.0.0.1");
    fx_ingress(&f, "default", "ing", NULL, "",
               FX_RULES(FX_RULE("s.example",
                                FX_PATH("/", "Exact", "web", 80),
                                "{'path':'/n','pathType':'Exact','backend':{"
                                "'service':{'name':'web','port':{"
                                "'name':'http'}}}}")));
    fx_build(&f);
    assert_ptr_equal(fx_backend(&f, "s.example", "/"),
                     fx_backend(&f, "other.example", "/x"));
    assert_ptr_equal(fx_backend(&f, "s.example", "/n"),
                     fx_backend(&f, "s.example", "/x"));
    assert_int_equal(f.view.backend_count, 1);
    fx_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_changes_show_in_next_build),
        cmocka_unit_test(test_prefix_change_rereads_annotations),
        cmocka_unit_test(test_invalid_ingress_logged_once),
        cmocka_unit_test(test_backend_problem_logged_each_build),
        cmocka_unit_test(test_global_default_shares_backend),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
