/*
 * test_model_annotations.c -- what the model does with annotations: an
 * invalid value rejects only its Ingress, whose last good version keeps
 * being served; warnings name the key.
 */
#include <stdio.h>
#include <string.h>

#include "model_fixture.h"

#define NG "nginx.ingress.kubernetes.io/"
#define SH "shmingress.io/"

static void
setup(fixture *f)
{
    fx_init_service_a(f);
    fx_service(f, "default", "b", "", 80, 8080, "10.0.0.2");
}

static void
put_web(fixture *f, const char *meta, const char *path)
{
    char spec[400];

    snprintf(spec, sizeof(spec), FX_RULES(FX_RULE("web.example",
                                                  FX_PATH("%s", "Prefix",
                                                          "a", 80))),
             path);
    fx_ingress(f, "default", "web", "2026-01-01T00:00:00Z", meta, spec);
}

static void
test_invalid_value_rejects_only_its_ingress(void **state)
{
    fixture f;
    const char *log;

    (void)state;
    setup(&f);
    put_web(&f, "'annotations':{'" NG "limit-rps':'fast'}", "/");
    fx_ingress(&f, "default", "other", NULL, "",
               FX_RULES(FX_RULE("other.example",
                                FX_PATH("/", "Prefix", "b", 80))));
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_non_null(strstr(log, "msg=\"ingress rejected\""));
    assert_non_null(strstr(log, "object=default/web"));
    assert_non_null(strstr(log, "key=\"" NG "limit-rps\""));
    assert_non_null(strstr(log, "value=\"fast\""));
    assert_non_null(strstr(log, "reason=\"not an integer\""));
    assert_string_equal(fx_route(&f, "web.example", "/"), "404");
    assert_string_equal(fx_route(&f, "other.example", "/"), "b:80");
    assert_int_equal(f.stats.ingresses_owned, 2);
    assert_int_equal(f.stats.ingresses_skipped, 1);
    fx_free(&f);
}

static void
test_previous_good_version_is_served(void **state)
{
    fixture f;
    const char *log;

    (void)state;
    setup(&f);
    put_web(&f, "'annotations':{'" NG "limit-rps':'5'}", "/old");
    fx_build(&f);
    assert_string_equal(fx_route(&f, "web.example", "/old"), "a:80");

    /* An invalid edit: the old paths stay, the new ones do not appear. */
    put_web(&f, "'annotations':{'" NG "limit-rps':'5','" SH
                "use-regex':'maybe'}",
            "/new");
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_non_null(strstr(log, "key=\"" SH "use-regex\" value=\"maybe\""));
    assert_string_equal(fx_route(&f, "web.example", "/old"), "a:80");
    assert_string_equal(fx_route(&f, "web.example", "/new"), "404");

    /* Rebuilding changes nothing and logs the rejection only once. */
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_null(strstr(log, "ingress rejected"));
    assert_string_equal(fx_route(&f, "web.example", "/old"), "a:80");

    /* A fixed edit is served. */
    put_web(&f, "'annotations':{'" SH "use-regex':'false'}", "/new");
    fx_build(&f);
    assert_string_equal(fx_route(&f, "web.example", "/new"), "a:80");
    assert_string_equal(fx_route(&f, "web.example", "/old"), "404");
    fx_free(&f);
}

static void
test_deleted_ingress_forgets_its_good_version(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    put_web(&f, "", "/old");
    fx_build(&f);
    assert_string_equal(fx_route(&f, "web.example", "/old"), "a:80");
    assert_int_equal(ctl_store_delete(f.store, CTL_KIND_INGRESS, "default",
                                      "web"),
                     1);
    fx_build(&f);
    put_web(&f, "'annotations':{'" NG "limit-rpm':'-1'}", "/new");
    fx_build(&f);
    assert_string_equal(fx_route(&f, "web.example", "/old"), "404");
    assert_string_equal(fx_route(&f, "web.example", "/new"), "404");
    fx_free(&f);
}

/* Served old versions and new good versions in one build: the copies
 * made at the end must not disturb the build. */
static void
test_many_kept_versions(void **state)
{
    fixture f;
    char name[32], host[64], spec[300];

    (void)state;
    setup(&f);
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "ing%d", i);
        snprintf(host, sizeof(host), "h%d.example", i);
        snprintf(spec, sizeof(spec),
                 FX_RULES(FX_RULE("%s", FX_PATH("/", "Prefix", "a", 80))),
                 host);
        fx_ingress(&f, "default", name, NULL, "", spec);
    }
    fx_build(&f);
    for (int i = 0; i < 80; i++) {
        snprintf(name, sizeof(name), "ing%d", i);
        snprintf(host, sizeof(host), "h%d.example", i);
        snprintf(spec, sizeof(spec),
                 FX_RULES(FX_RULE("%s", FX_PATH("/", "Prefix", "b", 80))),
                 host);
        fx_ingress(&f, "default", name, NULL,
                   i % 2 ? "'annotations':{'" NG "limit-rps':'x'}" : "",
                   spec);
    }
    fx_build(&f);
    assert_string_equal(fx_route(&f, "h1.example", "/"), "a:80");
    assert_string_equal(fx_route(&f, "h2.example", "/"), "b:80");
    assert_string_equal(fx_route(&f, "h41.example", "/"), "404");
    assert_string_equal(fx_route(&f, "h42.example", "/"), "b:80");
    fx_free(&f);
}

static void
test_snippet_refused_by_the_model(void **state)
{
    fixture f;
    const char *log;

    (void)state;
    setup(&f);
    put_web(&f, "'annotations':{'" NG "server-snippet':'return 200;'}", "/");
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_non_null(strstr(log, "snippet annotations are never supported"));
    assert_string_equal(fx_route(&f, "web.example", "/"), "404");
    fx_free(&f);
}

static void
test_unknown_keys_warn_or_debug(void **state)
{
    fixture f;
    const char *log;

    (void)state;
    setup(&f);
    put_web(&f, "'annotations':{'" SH "limit-rsp':'5','" NG
                "ssl-passthrough':'true'}",
            "/");
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_non_null(strstr(log, "level=warn msg=\"annotation ignored\""));
    assert_non_null(strstr(log, "key=\"" SH "limit-rsp\""));
    /* debug lines are off by default */
    assert_null(strstr(log, "ssl-passthrough"));
    assert_string_equal(fx_route(&f, "web.example", "/"), "a:80");
    fx_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_value_rejects_only_its_ingress),
        cmocka_unit_test(test_previous_good_version_is_served),
        cmocka_unit_test(test_deleted_ingress_forgets_its_good_version),
        cmocka_unit_test(test_many_kept_versions),
        cmocka_unit_test(test_snippet_refused_by_the_model),
        cmocka_unit_test(test_unknown_keys_warn_or_debug),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
