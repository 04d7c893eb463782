/*
 * test_families.c -- each family's keys, defaults and cross-key rules:
 * canary, rate limiting, rewrites, redirects.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ann_fixture.h"

/* Puts each {key, value} pair of bad, one at a time, into an object that
 * starts with the members in before (empty, or ending in a comma), and
 * asserts the registry rejects it naming that key and, with check_value,
 * that value. */
static void
expect_each_rejected(const char *before, const char *const (*bad)[2], size_t n,
                     bool check_value)
{
    char   json[300];
    ann_fx f;

    for (size_t i = 0; i < n; i++) {
        snprintf(json, sizeof(json), "{%s'%s':'%s'}", before, bad[i][0],
                 bad[i][1]);
        ann_parse(&f, json);
        assert_int_equal(f.rc, CTL_ANN_INVALID);
        assert_string_equal(f.e.key, bad[i][0]);
        if (check_value)
            assert_string_equal(f.e.value, bad[i][1]);
        ann_fx_free(&f);
    }
}

/* ------------------------------------------------------------ canary */

static void
test_canary_values(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "canary':'true','" NG "canary-weight':'20','" NG
                  "canary-by-header':'X-Canary','" NG
                  "canary-by-header-pattern':'^v[0-9]+$','" NG
                  "canary-by-cookie':'canary'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_true(f.a.canary.enabled);
    assert_int_equal(f.a.canary.weight, 20);
    assert_int_equal(f.a.canary.weight_total, 100);
    assert_string_equal(f.a.canary.header, "X-Canary");
    assert_null(f.a.canary.header_value);
    assert_string_equal(f.a.canary.header_pattern, "^v[0-9]+$");
    assert_string_equal(f.a.canary.cookie, "canary");
    assert_string_equal(f.warnings, "");
    ann_fx_free(&f);
}

static void
test_canary_weight_total_like_ingress_nginx(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "canary':'true','" NG "canary-weight':'300','" NG
                  "canary-weight-total':'1000'}");
    assert_int_equal(f.a.canary.weight_total, 1000);
    assert_int_equal(f.a.canary.weight, 300);
    ann_fx_free(&f);

    /* Totals of 100 or less count as 100; weights above the total are
     * the total. */
    ann_parse(&f, "{'" NG "canary':'true','" NG "canary-weight':'30','" NG
                  "canary-weight-total':'10'}");
    assert_int_equal(f.a.canary.weight_total, 100);
    assert_int_equal(f.a.canary.weight, 30);
    ann_fx_free(&f);

    ann_parse(&f, "{'" NG "canary':'true','" NG "canary-weight':'150'}");
    assert_int_equal(f.a.canary.weight, 100);
    ann_fx_free(&f);
}

static void
test_canary_header_value_beats_pattern(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "canary':'true','" NG "canary-by-header':'X-C','" NG
                  "canary-by-header-value':'on','" NG
                  "canary-by-header-pattern':'^o'}");
    assert_string_equal(f.a.canary.header_value, "on");
    assert_null(f.a.canary.header_pattern);
    ann_fx_free(&f);
}

static void
test_canary_invalid_values(void **state)
{
    static const char *const bad[][2] = {
        {NG "canary", "maybe"},
        {NG "canary-weight", "-1"},
        {NG "canary-weight", "half"},
        {NG "canary-by-header", "X Canary"},
        {NG "canary-by-header-pattern", "(unclosed"},
        {NG "canary-by-cookie", "a;b"},
    };

    (void)state;
    expect_each_rejected("'" NG "canary':'true',", bad,
                         sizeof(bad) / sizeof(bad[0]), true);
}

static void
test_canary_keys_without_canary_are_ignored(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "canary-weight':'50','" NG
                  "canary-by-cookie':'c'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_false(f.a.canary.enabled);
    assert_int_equal(f.a.canary.weight, 0);
    assert_null(f.a.canary.cookie);
    assert_non_null(strstr(f.warnings, "canary-weight: canary-* annotation "
                                       "without canary: \"true\""));
    assert_non_null(strstr(f.warnings, "canary-by-cookie: "));
    ann_fx_free(&f);

    ann_parse(&f, "{'" NG "canary':'false','" NG "canary-weight':'50'}");
    assert_int_equal(f.a.canary.weight, 0);
    assert_non_null(strstr(f.warnings, "canary-weight: "));
    ann_fx_free(&f);
}

static void
test_canary_ingress_keeps_only_canary_keys(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "canary':'true','" NG "limit-rps':'5','" NG
                  "rewrite-target':'/','" NG
                  "permanent-redirect':'https://x.example/'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_true(f.a.canary.enabled);
    assert_int_equal(f.a.ratelimit.rps, 0);
    assert_int_equal(f.a.ratelimit.burst_multiplier, 5);
    assert_null(f.a.rewrite.rewrite_target);
    assert_null(f.a.redirect.url);
    assert_int_equal(f.a.redirect.permanent_code, 301);
    ann_fx_free(&f);

    /* They are still validated, as ingress-nginx does. */
    ann_parse(&f, "{'" NG "canary':'true','" NG "limit-rps':'x'}");
    assert_int_equal(f.rc, CTL_ANN_INVALID);
    ann_fx_free(&f);
}

/* -------------------------------------------------------- rate limit */

static void
test_ratelimit_values(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "limit-rps':'10','" NG "limit-rpm':'300','" NG
                  "limit-burst-multiplier':'3','" NG
                  "limit-connections':'4','" NG
                  "limit-allowlist':'10.0.0.0/8, ::1'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_int_equal(f.a.ratelimit.rps, 10);
    assert_int_equal(f.a.ratelimit.rpm, 300);
    assert_int_equal(f.a.ratelimit.burst_multiplier, 3);
    assert_int_equal(f.a.ratelimit.connections, 4);
    assert_int_equal(f.a.ratelimit.allow.n, 2);
    assert_int_equal(f.a.ratelimit.allow.v[1].family, 6);
    assert_false(f.a.ratelimit.deny);
    ann_fx_free(&f);
}

static void
test_ratelimit_whitelist_alias(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "limit-whitelist':'192.168.0.0/16'}");
    assert_int_equal(f.a.ratelimit.allow.n, 1);
    assert_int_equal(f.a.ratelimit.allow.v[0].prefix_len, 16);
    ann_fx_free(&f);

    /* Both set: the allowlist spelling wins. */
    ann_parse(&f, "{'" NG "limit-allowlist':'10.0.0.0/8','" NG
                  "limit-whitelist':'192.168.0.0/16,172.16.0.0/12'}");
    assert_int_equal(f.a.ratelimit.allow.n, 1);
    assert_int_equal(f.a.ratelimit.allow.v[0].prefix_len, 8);
    ann_fx_free(&f);
}

static void
test_ratelimit_multiplier_below_one_is_default(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "limit-burst-multiplier':'0'}");
    assert_int_equal(f.a.ratelimit.burst_multiplier, 5);
    ann_fx_free(&f);
}

static void
test_ratelimit_invalid_values(void **state)
{
    static const char *const bad[][2] = {
        {NG "limit-rps", "-1"},
        {NG "limit-rpm", "1.5"},
        {NG "limit-connections", "lots"},
        {NG "limit-burst-multiplier", "x"},
    };

    (void)state;
    expect_each_rejected("", bad, sizeof(bad) / sizeof(bad[0]), true);
}

/* ----------------------------------------------------------- rewrite */

static void
test_rewrite_values(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "rewrite-target':'/$2/x$1','" NG
                  "use-regex':'True','" NG "x-forwarded-prefix':'/api','" NG
                  "app-root':'/app1'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_string_equal(f.a.rewrite.rewrite_target, "/$2/x$1");
    assert_int_equal(f.a.rewrite.rewrite_max_group, 2);
    assert_true(f.a.rewrite.use_regex);
    assert_string_equal(f.a.rewrite.x_forwarded_prefix, "/api");
    assert_string_equal(f.a.rewrite.app_root, "/app1");
    ann_fx_free(&f);

    ann_parse(&f, "{'" NG "rewrite-target':'/'}");
    assert_int_equal(f.a.rewrite.rewrite_max_group, 0);
    assert_false(f.a.rewrite.use_regex);
    ann_fx_free(&f);
}

static void
test_rewrite_invalid_values(void **state)
{
    static const char *const bad[][2] = {
        {NG "app-root", "https://example.com/app"},
        {NG "app-root", "app"},
        {NG "use-regex", "on"},
        {NG "rewrite-target", "/a\\u0001b"},
    };

    (void)state;
    expect_each_rejected("", bad, sizeof(bad) / sizeof(bad[0]), false);
}

/* ---------------------------------------------------------- redirect */

static void
test_redirect_codes_and_precedence(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "permanent-redirect':'https://new.example/'}");
    assert_string_equal(f.a.redirect.url, "https://new.example/");
    assert_int_equal(f.a.redirect.code, 301);
    ann_fx_free(&f);

    ann_parse(&f, "{'" NG "permanent-redirect':'https://new.example/','" NG
                  "permanent-redirect-code':'308'}");
    assert_int_equal(f.a.redirect.code, 308);
    ann_fx_free(&f);

    ann_parse(&f, "{'" NG "permanent-redirect':'https://new.example/','" NG
                  "permanent-redirect-code':'309'}");
    assert_int_equal(f.a.redirect.code, 301);
    ann_fx_free(&f);

    ann_parse(&f, "{'" NG "permanent-redirect':'https://p.example/','" NG
                  "temporal-redirect':'http://t.example/x','" NG
                  "temporal-redirect-code':'308'}");
    assert_string_equal(f.a.redirect.url, "http://t.example/x");
    assert_int_equal(f.a.redirect.code, 302); /* 308 is not temporal */
    ann_fx_free(&f);

    ann_parse(&f, "{'" NG "temporal-redirect':'http://t.example/','" NG
                  "temporal-redirect-code':'307','" NG
                  "from-to-www-redirect':'true','" NG
                  "relative-redirects':'1'}");
    assert_int_equal(f.a.redirect.code, 307);
    assert_true(f.a.redirect.from_to_www);
    assert_true(f.a.redirect.relative);
    ann_fx_free(&f);
}

static void
test_redirect_invalid_values(void **state)
{
    static const char *const bad[][2] = {
        {NG "permanent-redirect", "/relative"},
        {NG "permanent-redirect", "javascript:alert(1)"},
        {NG "temporal-redirect", "https://a.example/ x"},
        {NG "permanent-redirect-code", "moved"},
        {NG "from-to-www-redirect", "yes"},
    };

    (void)state;
    expect_each_rejected("", bad, sizeof(bad) / sizeof(bad[0]), true);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canary_values),
        cmocka_unit_test(test_canary_weight_total_like_ingress_nginx),
        cmocka_unit_test(test_canary_header_value_beats_pattern),
        cmocka_unit_test(test_canary_invalid_values),
        cmocka_unit_test(test_canary_keys_without_canary_are_ignored),
        cmocka_unit_test(test_canary_ingress_keeps_only_canary_keys),
        cmocka_unit_test(test_ratelimit_values),
        cmocka_unit_test(test_ratelimit_whitelist_alias),
        cmocka_unit_test(test_ratelimit_multiplier_below_one_is_default),
        cmocka_unit_test(test_ratelimit_invalid_values),
        cmocka_unit_test(test_rewrite_values),
        cmocka_unit_test(test_rewrite_invalid_values),
        cmocka_unit_test(test_redirect_codes_and_precedence),
        cmocka_unit_test(test_redirect_invalid_values),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
