/*
 * test_values.c -- the validators behind each annotation type.
 */
#include <stdlib.h>
#include <string.h>

#include "ann_fixture.h"

static void
test_bool_accepts_go_spellings(void **state)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    const char *why;
    bool v;

    (void)state;
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(ctl_ann_parse_bool(yes[i], &v, &why), 0);
        assert_true(v);
        assert_int_equal(ctl_ann_parse_bool(no[i], &v, &why), 0);
        assert_false(v);
    }
    assert_int_equal(ctl_ann_parse_bool("yes", &v, &why), -1);
    assert_int_equal(ctl_ann_parse_bool("tRuE", &v, &why), -1);
    assert_int_equal(ctl_ann_parse_bool("", &v, &why), -1);
}

static void
test_int_range(void **state)
{
    const char *why;
    int64_t v;

    (void)state;
    assert_int_equal(ctl_ann_parse_int("42", 0, 100, &v, &why), 0);
    assert_int_equal(v, 42);
    assert_int_equal(ctl_ann_parse_int("-3", -5, 5, &v, &why), 0);
    assert_int_equal(v, -3);
    assert_int_equal(ctl_ann_parse_int("101", 0, 100, &v, &why), -1);
    assert_string_equal(why, "out of range");
    assert_int_equal(ctl_ann_parse_int("10x", 0, 100, &v, &why), -1);
    assert_string_equal(why, "not an integer");
    assert_int_equal(ctl_ann_parse_int(" 1", 0, 100, &v, &why), -1);
    assert_int_equal(ctl_ann_parse_int("", 0, 100, &v, &why), -1);
    assert_int_equal(
        ctl_ann_parse_int("99999999999999999999", 0, 100, &v, &why), -1);
}

static void
test_seconds_and_size(void **state)
{
    const char *why;
    int64_t v;

    (void)state;
    assert_int_equal(ctl_ann_parse_seconds("30", 0, 86400, &v, &why), 0);
    assert_int_equal(v, 30);
    assert_int_equal(ctl_ann_parse_seconds("5m", 0, 86400, &v, &why), 0);
    assert_int_equal(v, 300);
    assert_int_equal(ctl_ann_parse_seconds("2h", 0, 86400, &v, &why), 0);
    assert_int_equal(v, 7200);
    assert_int_equal(ctl_ann_parse_seconds("2d", 0, 86400, &v, &why), -1);
    assert_int_equal(ctl_ann_parse_seconds("25h", 0, 86400, &v, &why), -1);
    assert_int_equal(ctl_ann_parse_seconds("5ms", 0, 86400, &v, &why), -1);

    assert_int_equal(ctl_ann_parse_size("512", &v, &why), 0);
    assert_int_equal(v, 512);
    assert_int_equal(ctl_ann_parse_size("10k", &v, &why), 0);
    assert_int_equal(v, 10240);
    assert_int_equal(ctl_ann_parse_size("1m", &v, &why), 0);
    assert_int_equal(v, 1048576);
    assert_int_equal(ctl_ann_parse_size("2G", &v, &why), 0);
    assert_int_equal(v, 2147483648);
    assert_int_equal(ctl_ann_parse_size("-1m", &v, &why), -1);
    assert_int_equal(ctl_ann_parse_size("1mb", &v, &why), -1);
    assert_int_equal(ctl_ann_parse_size("m", &v, &why), -1);
}

static void
test_cidrs(void **state)
{
    ctl_ann_cidrs c;
    const char *why;
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};

    (void)state;
    assert_int_equal(
        ctl_ann_parse_cidrs("10.1.2.3/8, 192.168.0.1 ,2001:db8::1/32", &c,
                            &why),
        0);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.v[0].family, 4);
    assert_int_equal(c.v[0].prefix_len, 8);
    assert_memory_equal(c.v[0].addr, "\x0a\x00\x00\x00", 4); /* masked */
    assert_int_equal(c.v[1].prefix_len, 32);
    assert_memory_equal(c.v[1].addr, "\xc0\xa8\x00\x01", 4);
    assert_int_equal(c.v[2].family, 6);
    assert_int_equal(c.v[2].prefix_len, 32);
    assert_memory_equal(c.v[2].addr, v6, 16);
    free(c.v);

    static const char *const bad[] = {"10.0.0.0/33", "10.0.0/8", "",
                                      "10.0.0.1,,10.0.0.2", "::1/129",
                                      "10.0.0.0/", "example.com"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ctl_ann_parse_cidrs(bad[i], &c, &why), -1);
        free(c.v);
    }
}

static void
test_text_types(void **state)
{
    const char *why;

    (void)state;
    assert_int_equal(ctl_ann_check_text(CTL_ANN_URL, "https://a.example/x",
                                        &why), 0);
    assert_int_equal(ctl_ann_check_text(CTL_ANN_URL, "http://a", &why), 0);
    assert_int_equal(ctl_ann_check_text(CTL_ANN_URL, "/relative", &why), -1);
    assert_int_equal(ctl_ann_check_text(CTL_ANN_URL, "ftp://a", &why), -1);
    assert_int_equal(ctl_ann_check_text(CTL_ANN_URL, "https://", &why), -1);
    assert_int_equal(
        ctl_ann_check_text(CTL_ANN_URL, "https://a/x; return 200", &why),
        -1);

    assert_int_equal(ctl_ann_check_text(CTL_ANN_PATH, "/app", &why), 0);
    assert_int_equal(ctl_ann_check_text(CTL_ANN_PATH, "app", &why), -1);
    assert_int_equal(
        ctl_ann_check_text(CTL_ANN_PATH, "http://a/app", &why), -1);

    assert_int_equal(ctl_ann_check_text(CTL_ANN_HEADER, "X-Canary", &why),
                     0);
    assert_int_equal(ctl_ann_check_text(CTL_ANN_HEADER, "X Canary", &why),
                     -1);
    assert_int_equal(ctl_ann_check_text(CTL_ANN_HEADER, "X:a", &why), -1);
    assert_int_equal(ctl_ann_check_text(CTL_ANN_COOKIE, "canary_v2", &why),
                     0);
    assert_int_equal(ctl_ann_check_text(CTL_ANN_COOKIE, "a=b", &why), -1);
    assert_int_equal(ctl_ann_check_text(CTL_ANN_COOKIE, "", &why), -1);

    assert_int_equal(ctl_ann_check_text(CTL_ANN_STRING, "a b", &why), 0);
    assert_int_equal(ctl_ann_check_text(CTL_ANN_STRING, "a\nb", &why), -1);
}

static void
test_regex_groups(void **state)
{
    const char *why;

    (void)state;
    assert_int_equal(ctl_ann_regex_groups("/api(/|$)(.*)", &why), 2);
    assert_int_equal(ctl_ann_regex_groups("/plain", &why), 0);
    assert_int_equal(ctl_ann_regex_groups("/(?:x)(y)", &why), 1);
    assert_int_equal(ctl_ann_regex_groups("/api(", &why), -1);
    assert_non_null(strstr(why, "not a valid regular expression"));
    assert_int_equal(ctl_ann_check_text(CTL_ANN_REGEX, "[a-", &why), -1);
    assert_int_equal(ctl_ann_check_text(CTL_ANN_REGEX, "^v[0-9]+$", &why),
                     0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bool_accepts_go_spellings),
        cmocka_unit_test(test_int_range),
        cmocka_unit_test(test_seconds_and_size),
        cmocka_unit_test(test_cidrs),
        cmocka_unit_test(test_text_types),
        cmocka_unit_test(test_regex_groups),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
