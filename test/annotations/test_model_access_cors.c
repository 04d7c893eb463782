/*
 * test_model_access_cors.c -- source ranges and CORS as the table
 * carries them: the policy's CIDR lists and CORS fields with their
 * defaults resolved, fail-closed denial, and a bad CORS value rejecting
 * its Ingress.  Read back through the view.
 */
#include <stdio.h>
#include <string.h>

#include "model_fixture.h"

#define NG "nginx.ingress.kubernetes.io/"

static void
setup(fixture *f)
{
    fx_init(f);
    fx_our_class(f, "shmingress", 1);
    fx_service(f, "default", "a", "", 80, 8080, "10.0.0.1");
}

static const tbl_policy *
policy_of(fixture *f, const char *host)
{
    tbl_match m;

    tbl_lookup(&f->view, host, strlen(host), "/", 1, NULL, NULL, &m);
    assert_int_not_equal(m.kind, TBL_MATCH_NONE);
    return tbl_view_policy(&f->view, f->view.routes[m.route].policy);
}

static void
put(fixture *f, const char *name, const char *host, const char *ann)
{
    char meta[600], spec[300];

    snprintf(meta, sizeof(meta), "'annotations':{%s}", ann);
    snprintf(spec, sizeof(spec),
             FX_RULES(FX_RULE("%s", FX_PATH("/", "Prefix", "a", 80))), host);
    fx_ingress(f, "default", name, NULL, meta, spec);
}

static void
test_ranges_in_policy(void **state)
{
    fixture f;
    const tbl_policy *p;
    uint8_t inside[4] = {10, 2, 3, 4}, denied[4] = {10, 1, 0, 9};

    (void)state;
    setup(&f);
    put(&f, "ranged", "r.example",
        "'" NG "whitelist-source-range':'10.0.0.0/8,2001:db8::/32','" NG
        "denylist-source-range':'10.1.0.0/16'");
    put(&f, "plain", "p.example", "");
    fx_build(&f);
    p = policy_of(&f, "r.example");
    assert_non_null(p);
    assert_int_equal(p->allow_count, 2);
    assert_int_equal(p->deny_count, 1);
    assert_int_equal(p->flags & (TBL_POL_DENIED | TBL_POL_CORS), 0);
    assert_int_equal(tbl_cidr_match(&f.view, p->allow_first, p->allow_count,
                                    inside, 4), 1);
    assert_int_equal(tbl_cidr_match(&f.view, p->deny_first, p->deny_count,
                                    denied, 4), 1);
    assert_int_equal(tbl_cidr_match(&f.view, p->deny_first, p->deny_count,
                                    inside, 4), 0);
    assert_null(policy_of(&f, "p.example"));
    fx_free(&f);
}

static void
test_bad_range_denies(void **state)
{
    fixture f;
    const tbl_policy *p;

    (void)state;
    setup(&f);
    put(&f, "guarded", "g.example",
        "'" NG "denylist-source-range':'10.0.0.0/8,office'");
    fx_build(&f);
    p = policy_of(&f, "g.example");
    assert_non_null(p);
    assert_true(p->flags & TBL_POL_DENIED);
    fx_free(&f);
}

static void
test_cors_in_policy(void **state)
{
    fixture f;
    const tbl_policy *p;

    (void)state;
    setup(&f);
    put(&f, "open", "o.example", "'" NG "enable-cors':'true'");
    put(&f, "listed", "l.example",
        "'" NG "enable-cors':'true','" NG
        "cors-allow-origin':'https://app.example','" NG
        "cors-allow-credentials':'false','" NG
        "cors-expose-headers':'X-Total','" NG "cors-max-age':'60'");
    put(&f, "off", "x.example",
        "'" NG "enable-cors':'false','" NG "cors-max-age':'60'");
    fx_build(&f);

    p = policy_of(&f, "o.example");
    assert_non_null(p);
    assert_int_equal(p->flags, TBL_POL_CORS | TBL_POL_CORS_CREDENTIALS |
                                   TBL_POL_SSL_REDIRECT);
    assert_string_equal(tbl_view_str(&f.view, p->cors_allow_origin), "*");
    assert_string_equal(tbl_view_str(&f.view, p->cors_allow_methods),
                        "GET, PUT, POST, DELETE, PATCH, OPTIONS");
    assert_non_null(strstr(tbl_view_str(&f.view, p->cors_allow_headers),
                           "Authorization"));
    assert_string_equal(tbl_view_str(&f.view, p->cors_expose_headers), "");
    assert_int_equal(p->cors_max_age, 1728000);

    p = policy_of(&f, "l.example");
    assert_non_null(p);
    assert_int_equal(p->flags, TBL_POL_CORS | TBL_POL_SSL_REDIRECT);
    assert_string_equal(tbl_view_str(&f.view, p->cors_allow_origin),
                        "https://app.example");
    assert_string_equal(tbl_view_str(&f.view, p->cors_expose_headers),
                        "X-Total");
    assert_int_equal(p->cors_max_age, 60);

    assert_null(policy_of(&f, "x.example"));
    fx_free(&f);
}

static void
test_bad_cors_rejects_ingress(void **state)
{
    fixture f;
    const char *log;

    (void)state;
    setup(&f);
    put(&f, "web", "w.example",
        "'" NG "enable-cors':'true','" NG
        "cors-allow-origin':'app.example'");
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_non_null(strstr(log, "msg=\"ingress rejected\""));
    assert_non_null(strstr(log, "object=default/web"));
    assert_non_null(strstr(log, "value=\"app.example\""));
    assert_string_equal(fx_route(&f, "w.example", "/"), "404");
    fx_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges_in_policy),
        cmocka_unit_test(test_bad_range_denies),
        cmocka_unit_test(test_cors_in_policy),
        cmocka_unit_test(test_bad_cors_rejects_ingress),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
