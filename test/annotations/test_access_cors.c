/*
 * test_access_cors.c -- the source-range and CORS families on their
 * own: values, aliases, defaults, fail-closed ranges and the values
 * that reject an Ingress.
 */
#include <stdio.h>
#include <string.h>

#include "ann_fixture.h"

/* ------------------------------------------------------------ access */

static void
test_access_ranges(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "allowlist-source-range':'10.0.0.0/8, ::1','" NG
                  "denylist-source-range':'10.1.0.0/16'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_int_equal(f.a.access.allow.n, 2);
    assert_int_equal(f.a.access.allow.v[0].prefix_len, 8);
    assert_int_equal(f.a.access.allow.v[1].family, 6);
    assert_int_equal(f.a.access.deny.n, 1);
    assert_int_equal(f.a.access.deny.v[0].prefix_len, 16);
    assert_false(f.a.access.denied);
    assert_string_equal(f.warnings, "");
    ann_fx_free(&f);

    ann_parse(&f, "{}");
    assert_int_equal(f.a.access.allow.n, 0);
    assert_int_equal(f.a.access.deny.n, 0);
    assert_false(f.a.access.denied);
    ann_fx_free(&f);
}

static void
test_access_whitelist_alias(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "whitelist-source-range':'192.168.0.0/16'}");
    assert_int_equal(f.a.access.allow.n, 1);
    assert_int_equal(f.a.access.allow.v[0].prefix_len, 16);
    ann_fx_free(&f);

    /* Both set: the allowlist spelling wins. */
    ann_parse(&f, "{'" NG "allowlist-source-range':'10.0.0.0/8','" NG
                  "whitelist-source-range':'192.168.0.0/16,172.16.0.0/12'}");
    assert_int_equal(f.a.access.allow.n, 1);
    assert_int_equal(f.a.access.allow.v[0].prefix_len, 8);
    ann_fx_free(&f);
}

static void
test_access_bad_range_fails_closed(void **state)
{
    static const char *const bad[] = {
        "{'" NG "allowlist-source-range':'10.0.0.0/8,office'}",
        "{'" NG "whitelist-source-range':'10.0.0.0/33'}",
        "{'" NG "denylist-source-range':'1.2.3.4/8/8'}",
        "{'" NG "denylist-source-range':''}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ann_fx f;

        ann_parse(&f, bad[i]);
        assert_int_equal(f.rc, CTL_ANN_OK);
        assert_true(f.a.access.denied);
        assert_non_null(strstr(f.warnings, "-source-range"));
        ann_fx_free(&f);
    }
}

/* -------------------------------------------------------------- cors */

static void
test_cors_defaults(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "enable-cors':'true'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_true(f.a.cors.enabled);
    assert_string_equal(f.a.cors.origin, "*");
    assert_string_equal(f.a.cors.methods,
                        "GET, PUT, POST, DELETE, PATCH, OPTIONS");
    assert_string_equal(f.a.cors.headers,
                        "DNT,Keep-Alive,User-Agent,X-Requested-With,"
                        "If-Modified-Since,Cache-Control,Content-Type,Range,"
                        "Authorization");
    assert_string_equal(f.a.cors.expose, "");
    assert_true(f.a.cors.credentials);
    assert_int_equal(f.a.cors.max_age, 1728000);
    ann_fx_free(&f);

    ann_parse(&f, "{}");
    assert_false(f.a.cors.enabled);
    ann_fx_free(&f);
}

static void
test_cors_values(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "enable-cors':'true','" NG
                  "cors-allow-origin':'https://app.example, "
                  "https://*.example.org:8443,http://localhost','" SH
                  "cors-allow-methods':'GET, POST','" NG
                  "cors-allow-headers':'X-Custom,Content-Type','" NG
                  "cors-expose-headers':'X-Total, X-Page','" NG
                  "cors-allow-credentials':'false','" NG
                  "cors-max-age':'600'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_string_equal(f.a.cors.origin, "https://app.example, "
                                         "https://*.example.org:8443,"
                                         "http://localhost");
    assert_string_equal(f.a.cors.methods, "GET, POST");
    assert_string_equal(f.a.cors.headers, "X-Custom,Content-Type");
    assert_string_equal(f.a.cors.expose, "X-Total, X-Page");
    assert_false(f.a.cors.credentials);
    assert_int_equal(f.a.cors.max_age, 600);
    ann_fx_free(&f);
}

static void
test_cors_invalid_values_reject(void **state)
{
    static const char *const bad[][3] = {
        {"cors-allow-origin", "example.com", NG "cors-allow-origin"},
        {"cors-allow-origin", "https://a.example,", NG "cors-allow-origin"},
        {"cors-allow-origin", "ftp://a.example", NG "cors-allow-origin"},
        {"cors-allow-origin", "https://a.example/path",
         NG "cors-allow-origin"},
        {"cors-allow-origin", "https://a.example:123456",
         NG "cors-allow-origin"},
        {"cors-allow-origin", "https://*.*.example", NG "cors-allow-origin"},
        {"cors-allow-methods", "GET;POST", NG "cors-allow-methods"},
        {"cors-allow-methods", "", NG "cors-allow-methods"},
        {"cors-allow-methods", "GET,,POST", NG "cors-allow-methods"},
        {"cors-allow-headers", "X-A, X B", NG "cors-allow-headers"},
        {"cors-allow-headers", "X-A\\r\\nSet-Cookie: a=b", NG
         "cors-allow-headers"},
        {"cors-expose-headers", "X-(A)", NG "cors-expose-headers"},
        {"cors-max-age", "1d", NG "cors-max-age"},
        {"cors-max-age", "-1", NG "cors-max-age"},
        {"enable-cors", "yes please", NG "enable-cors"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char json[300];
        ann_fx f;

        snprintf(json, sizeof(json),
                 "{'" NG "enable-cors':'true','" NG "%s':'%s'}", bad[i][0],
                 bad[i][1]);
        ann_parse(&f, json);
        if (f.rc != CTL_ANN_INVALID)
            fail_msg("accepted %s: %s", bad[i][0], bad[i][1]);
        assert_string_equal(f.e.key, bad[i][2]);
        ann_fx_free(&f);
    }
}

static void
test_cors_empty_expose_and_wildcards(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "enable-cors':'true','" NG
                  "cors-expose-headers':'*','" NG "cors-allow-headers':'*'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_string_equal(f.a.cors.expose, "*");
    assert_string_equal(f.a.cors.headers, "*");
    ann_fx_free(&f);

    ann_parse(&f, "{'" NG "enable-cors':'true','" NG
                  "cors-expose-headers':''}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_string_equal(f.a.cors.expose, "");
    ann_fx_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_access_ranges),
        cmocka_unit_test(test_access_whitelist_alias),
        cmocka_unit_test(test_access_bad_range_fails_closed),
        cmocka_unit_test(test_cors_defaults),
        cmocka_unit_test(test_cors_values),
        cmocka_unit_test(test_cors_invalid_values_reject),
        cmocka_unit_test(test_cors_empty_expose_and_wildcards),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
