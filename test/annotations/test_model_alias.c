/*
 * test_model_alias.c -- server-alias as the table serves it: an alias
 * reaches the vhost of its Ingress's first rule host, wildcards too; a
 * host some rule names is never taken, the older Ingress keeps an alias
 * two claim (both logged); a name that is not a host rejects the
 * Ingress.
 */
#include <stdio.h>
#include <string.h>

#include "model_fixture.h"

#define NG "nginx.ingress.kubernetes.io/"

static void
put(fixture *f, const char *name, const char *created, const char *host,
    const char *svc, const char *aliases)
{
    char meta[600], spec[300];

    snprintf(meta, sizeof(meta), "'annotations':{'" NG "server-alias':'%s'}",
             aliases);
    snprintf(spec, sizeof(spec),
             FX_RULES(FX_RULE("%s", FX_PATH("/", "Prefix", "%s", 80))), host,
             svc);
    fx_ingress(f, "default", name, created, meta, spec);
}

static void
setup(fixture *f)
{
    fx_init_service_a(f);
    fx_service(f, "default", "b", "", 80, 8080, "10.0.0.2");
}

static void
test_aliases_reach_the_first_rule_host(void **state)
{
    fixture     f;
    const char *log;

    (void)state;
    setup(&f);
    put(&f, "older", "2024-01-01T00:00:00Z", "a.example", "a",
        " X.example , *.w.example,b.example");
    put(&f, "newer", "2024-02-01T00:00:00Z", "b.example", "b",
        "x.example,y.example");
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();

    assert_string_equal(fx_route(&f, "x.example", "/"), "a:80");
    assert_string_equal(fx_route(&f, "one.w.example", "/"), "a:80");
    assert_string_equal(fx_route(&f, "y.example", "/"), "b:80");
    /* a rule's host is never an alias */
    assert_string_equal(fx_route(&f, "b.example", "/"), "b:80");
    assert_string_equal(fx_route(&f, "z.example", "/"), "404");
    assert_non_null(strstr(log, "server-alias ignored"));
    assert_non_null(strstr(log, "value=\"b.example\" reason=\"alias "
                                "\\\"b.example\\\": a rule names this "
                                "host\""));
    assert_non_null(strstr(log, "value=\"x.example\" reason=\"alias "
                                "\\\"x.example\\\": already an alias of "
                                "\\\"a.example\\\"\""));
    fx_free(&f);
}

static void
test_bad_alias_rejects_the_ingress(void **state)
{
    fixture     f;
    const char *log;

    (void)state;
    setup(&f);
    put(&f, "bad", NULL, "a.example", "a", "ok.example,not a/host");
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_string_equal(fx_route(&f, "a.example", "/"), "404");
    assert_non_null(strstr(log, "ingress rejected"));
    assert_non_null(strstr(log, "server-alias"));
    fx_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aliases_reach_the_first_rule_host),
        cmocka_unit_test(test_bad_alias_rejects_the_ingress),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
