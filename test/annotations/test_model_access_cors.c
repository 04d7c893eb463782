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
test_ranges_in_policy(void **state)
{
    fixture f;
    const tbl_policy *p;
    uint8_t inside[4] = {10, 2, 3, 4}, denied[4] = {10, 1, 0, 9};

    (void)state;
    fx_init_service_a(&f);
    fx_annotated_ingress(
        &f, "ranged", "r.example",
        "'" NG "whitelist-source-range':'10.0.0.0/8,2001:db8::/32','" NG
        "denylist-source-range':'10.1.0.0/16'");
    fx_annotated_ingress(&f, "plain", "p.example", "");
    fx_build(&f);
    p = fx_policy(&f, "r.example");
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
    assert_null(fx_policy(&f, "p.example"));
    fx_free(&f);
}

static void
test_bad_range_denies(void **state)
{
    fixture f;
    const tbl_policy *p;

    (void)state;
    fx_init_service_a(&f);
    fx_annotated_ingress(&f, "guarded", "g.example",
                         "'" NG "denylist-source-range':'10.0.0.0/8,office'");
    fx_build(&f);
    p = fx_policy(&f, "g.example");
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
    fx_init_service_a(&f);
    fx_annotated_ingress(&f, "open", "o.example",
                         "'" NG "enable-cors':'true'");
    fx_annotated_ingress(&f, "listed", "l.example",
                         "'" NG "enable-cors':'true','" NG
                         "cors-allow-origin':'https://app.example','" NG
                         "cors-allow-credentials':'false','" NG
                         "cors-expose-headers':'X-Total','" NG
                         "cors-max-age':'60'");
    fx_annotated_ingress(&f, "off", "x.example",
                         "'" NG "enable-cors':'false','" NG
                         "cors-max-age':'60'");
    fx_build(&f);

    p = fx_policy(&f, "o.example");
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

    p = fx_policy(&f, "l.example");
    assert_non_null(p);
    assert_int_equal(p->flags, TBL_POL_CORS | TBL_POL_SSL_REDIRECT);
    assert_string_equal(tbl_view_str(&f.view, p->cors_allow_origin),
                        "https://app.example");
    assert_string_equal(tbl_view_str(&f.view, p->cors_expose_headers),
                        "X-Total");
    assert_int_equal(p->cors_max_age, 60);

    assert_null(fx_policy(&f, "x.example"));
    fx_free(&f);
}

static void
test_bad_cors_rejects_ingress(void **state)
{
    fixture f;
    const char *log;

    (void)state;
    fx_init_service_a(&f);
    fx_annotated_ingress(&f, "web", "w.example",
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
