/*
 * test_registry.c -- what the registry does for every family: both
 * prefixes and their precedence, rejection naming key and value, snippet
 * refusal, unknown keys, fail-closed keys.
 */
#include <stdio.h>
#include <string.h>

#include "ann_fixture.h"

static void
test_no_annotations_gives_defaults(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_false(f.a.canary.enabled);
    assert_int_equal(f.a.canary.weight_total, 100);
    assert_int_equal(f.a.ratelimit.burst_multiplier, 5);
    assert_int_equal(f.a.ratelimit.rps, 0);
    assert_int_equal(f.a.redirect.permanent_code, 301);
    assert_int_equal(f.a.redirect.temporal_code, 302);
    assert_null(f.a.redirect.url);
    assert_null(f.a.rewrite.rewrite_target);
    assert_string_equal(f.warnings, "");
    ann_fx_free(&f);
}

static void
test_our_prefix_wins_in_any_order(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" SH "limit-rps':'7','" NG "limit-rps':'3'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_int_equal(f.a.ratelimit.rps, 7);
    ann_fx_free(&f);

    ann_parse(&f, "{'" NG "limit-rps':'3','" SH "limit-rps':'7'}");
    assert_int_equal(f.a.ratelimit.rps, 7);
    ann_fx_free(&f);

    /* The losing value is not even parsed. */
    ann_parse(&f, "{'" NG "limit-rps':'many','" SH "limit-rps':'7'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_int_equal(f.a.ratelimit.rps, 7);
    ann_fx_free(&f);

    ann_parse(&f, "{'" NG "limit-rpm':'60'}");
    assert_int_equal(f.a.ratelimit.rpm, 60);
    ann_fx_free(&f);
}

static void
test_other_prefixes_are_not_read(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'example.com/limit-rps':'3','limit-rps':'4',"
                  "'nginx.ingress.kubernetes.iox/limit-rps':'5'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_int_equal(f.a.ratelimit.rps, 0);
    assert_string_equal(f.warnings, "");
    assert_string_equal(f.debug, "");
    ann_fx_free(&f);
}

static void
test_invalid_value_names_key_and_value(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "limit-rps':'ten'}");
    assert_int_equal(f.rc, CTL_ANN_INVALID);
    assert_string_equal(f.e.key, NG "limit-rps");
    assert_string_equal(f.e.value, "ten");
    assert_string_equal(f.e.reason, "not an integer");
    ann_fx_free(&f);

    ann_parse(&f, "{'" SH "use-regex':'yes'}");
    assert_int_equal(f.rc, CTL_ANN_INVALID);
    assert_string_equal(f.e.key, SH "use-regex");
    assert_string_equal(f.e.value, "yes");
    ann_fx_free(&f);

    ann_parse(&f, "{'" NG "limit-connections':5}");
    assert_int_equal(f.rc, CTL_ANN_INVALID);
    assert_string_equal(f.e.key, NG "limit-connections");
    assert_string_equal(f.e.reason, "must be a string");
    ann_fx_free(&f);
}

static void
test_snippets_are_refused(void **state)
{
    static const char *const keys[] = {
        NG "configuration-snippet", NG "server-snippet", NG "auth-snippet",
        NG "stream-snippet",        SH "modsecurity-snippet"};
    char json[200];
    ann_fx f;

    (void)state;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        snprintf(json, sizeof(json), "{'%s':'return 200;'}", keys[i]);
        ann_parse(&f, json);
        assert_int_equal(f.rc, CTL_ANN_INVALID);
        assert_string_equal(f.e.key, keys[i]);
        assert_string_equal(f.e.value, "return 200;");
        assert_non_null(strstr(f.e.reason, "never supported"));
        assert_non_null(strstr(f.e.reason, "nginx configuration"));
        ann_fx_free(&f);
    }
}

static void
test_unknown_keys(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" SH "limit-rsp':'3','" NG "ssl-passthrough':'true'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_string_equal(f.warnings, SH "limit-rsp: unknown shmingress.io "
                                       "annotation; ignored\n");
    assert_string_equal(f.debug, NG "ssl-passthrough: not supported; "
                                    "ignored\n");
    ann_fx_free(&f);
}

static void
test_fail_closed_key_denies_instead_of_rejecting(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "limit-rps':'10','" NG
                  "limit-allowlist':'10.0.0.0/8,nonsense'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_true(f.a.ratelimit.deny);
    assert_int_equal(f.a.ratelimit.allow.n, 0);
    assert_int_equal(f.a.ratelimit.rps, 10);
    assert_non_null(strstr(f.warnings, NG "limit-allowlist: not a "
                                          "comma-separated list"));
    ann_fx_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_annotations_gives_defaults),
        cmocka_unit_test(test_our_prefix_wins_in_any_order),
        cmocka_unit_test(test_other_prefixes_are_not_read),
        cmocka_unit_test(test_invalid_value_names_key_and_value),
        cmocka_unit_test(test_snippets_are_refused),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_fail_closed_key_denies_instead_of_rejecting),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
