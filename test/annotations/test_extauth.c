/*
 * test_extauth.c -- the external-auth family on its own: resolved
 * values (signin URL with its redirect parameter, header list), the
 * variables allowed in URLs, and the values that reject an Ingress.
 */
#include <stdio.h>
#include <string.h>

#include "ann_fixture.h"

static void
test_extauth_off_by_default(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "auth-signin':'https://login.example/start'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_null(f.a.extauth.url);
    ann_fx_free(&f);
}

static void
test_extauth_values(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "auth-url':'http://auth.example:4180/oauth2/auth',"
                  "'" NG "auth-method':'POST',"
                  "'" NG "auth-signin':'https://$host/oauth2/start',"
                  "'" NG "auth-response-headers':' X-Auth-Request-User , "
                  "X-Auth-Request-Email',"
                  "'" NG "auth-request-redirect':'https://$host/back',"
                  "'" NG "auth-always-set-cookie':'true'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_string_equal(f.a.extauth.url,
                        "http://auth.example:4180/oauth2/auth");
    assert_string_equal(f.a.extauth.method, "POST");
    assert_string_equal(f.a.extauth.signin,
                        "https://$host/oauth2/start?rd=$pass_access_scheme"
                        "://$http_host$escaped_request_uri");
    assert_string_equal(f.a.extauth.response_headers,
                        "X-Auth-Request-User,X-Auth-Request-Email");
    assert_string_equal(f.a.extauth.request_redirect, "https://$host/back");
    assert_true(f.a.extauth.always_set_cookie);
    assert_string_equal(f.warnings, "");
    ann_fx_free(&f);
}

static void
test_extauth_signin_redirect_param(void **state)
{
    ann_fx f;

    (void)state;
    /* a query already there: "&" */
    ann_parse(&f, "{'" NG "auth-url':'http://10.0.0.1/auth','" NG
                  "auth-signin':'https://login.example/start?x=1','" NG
                  "auth-signin-redirect-param':'next'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_string_equal(f.a.extauth.signin,
                        "https://login.example/start?x=1&next="
                        "$pass_access_scheme://$http_host"
                        "$escaped_request_uri");
    ann_fx_free(&f);

    /* the parameter written by the Ingress is kept as it is */
    ann_parse(&f, "{'" NG "auth-url':'http://10.0.0.1/auth','" NG
                  "auth-signin':'https://login.example/start?rd="
                  "$escaped_request_uri'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_string_equal(f.a.extauth.signin, "https://login.example/start?rd="
                                            "$escaped_request_uri");
    ann_fx_free(&f);
}

static void
test_extauth_ours_wins(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" SH "auth-url':'http://[::1]:9000/a','" NG
                  "auth-url':'http://other.example/a'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_string_equal(f.a.extauth.url, "http://[::1]:9000/a");
    ann_fx_free(&f);
}

static void
test_extauth_unsupported_keys_warn(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f,
              "{'" NG "auth-url':'http://10.0.0.1/auth','" NG
              "auth-cache-key':'$remote_user','" NG "auth-keepalive':'10'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_non_null(strstr(f.warnings, "auth-cache-key: not supported"));
    assert_non_null(strstr(f.warnings, "auth-keepalive: not supported"));
    ann_fx_free(&f);
}

static void
test_extauth_invalid_values_reject(void **state)
{
    static const char *const bad[][2] = {
        {"auth-url", "auth.example/oauth2/auth"},
        {"auth-url", "ftp://auth.example/"},
        {"auth-url", "http:///path"},
        {"auth-url", "http://shmingress_backend/x"},
        {"auth-url", "http://user@auth.example/"},
        {"auth-url", "http://auth.example:123456/"},
        {"auth-url", "http://auth.example/$remote_addr"},
        {"auth-url", "http://auth.example/a b"},
        {"auth-url", "http://auth.example/a\\r\\nX: y"},
        {"auth-url", "http://$request_uri/"},
        {"auth-url", "http://auth.example/#frag"},
        {"auth-method", "get"},
        {"auth-method", "GET\\r\\nX: y"},
        {"auth-method", "PROPFIND"},
        {"auth-signin", "/oauth2/start"},
        {"auth-signin", "https://login.example/${host}"},
        {"auth-signin-redirect-param", "r d"},
        {"auth-response-headers", "X-A,,X-B"},
        {"auth-response-headers", "X-A, X B"},
        {"auth-response-headers", ""},
        {"auth-request-redirect", "https://x/$arg_token"},
        {"auth-request-redirect", "a\\\"b"},
        {"auth-always-set-cookie", "sometimes"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char   json[400], key[100];
        ann_fx f;

        snprintf(json, sizeof(json),
                 "{'" NG "auth-url':'http://10.0.0.1/auth','" SH "%s':'%s'}",
                 bad[i][0], bad[i][1]);
        ann_parse(&f, json);
        if (f.rc != CTL_ANN_INVALID)
            fail_msg("accepted %s: %s", bad[i][0], bad[i][1]);
        snprintf(key, sizeof(key), SH "%s", bad[i][0]);
        assert_string_equal(f.e.key, key);
        ann_fx_free(&f);
    }
}

static void
test_extauth_snippet_refused(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "auth-url':'http://10.0.0.1/auth','" NG
                  "auth-snippet':'proxy_set_header X 1;'}");
    assert_int_equal(f.rc, CTL_ANN_INVALID);
    assert_string_equal(f.e.key, NG "auth-snippet");
    ann_fx_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extauth_off_by_default),
        cmocka_unit_test(test_extauth_values),
        cmocka_unit_test(test_extauth_signin_redirect_param),
        cmocka_unit_test(test_extauth_ours_wins),
        cmocka_unit_test(test_extauth_unsupported_keys_warn),
        cmocka_unit_test(test_extauth_invalid_values_reject),
        cmocka_unit_test(test_extauth_snippet_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
