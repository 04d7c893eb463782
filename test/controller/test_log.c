/*
 * test_log.c -- log line format: key=value text and JSON, levels,
 * quoting, and one write per line.
 */
#include <regex.h>
#include <stdbool.h>
#include <string.h>

#include "log.h"
#include "model_fixture.h"

static void
assert_matches(const char *text, const char *pattern)
{
    regex_t re;
    int rc;

    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    rc = regexec(&re, text, 0, NULL, 0);
    regfree(&re);
    if (rc != 0)
        fail_msg("\"%s\" does not match /%s/", text, pattern);
}

static void
test_text_line(void **state)
{
    const char *out;
    char q[64];

    (void)state;
    fx_capture_start();
    ctl_log(CTL_LOG_WARN, "ingress skipped", "object=%s field=%s value=\"%s\"",
            "default/web", "spec.rules[0].host",
            ctl_log_quote("a\"b\\c\nd", q, sizeof(q)));
    out = fx_capture_stop();
    assert_matches(out, "^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
                        "[0-9]{2}\\.[0-9]{3}Z level=warn msg=\"ingress "
                        "skipped\" object=default/web "
                        "field=spec\\.rules\\[0\\]\\.host "
                        "value=\"a\\\\\"b\\\\\\\\c\\\\nd\"\n$");
}

static void
test_levels_filter(void **state)
{
    const char *out;

    (void)state;
    ctl_log_set_level(CTL_LOG_WARN);
    fx_capture_start();
    ctl_log(CTL_LOG_INFO, "hidden", NULL);
    ctl_log(CTL_LOG_ERROR, "shown", NULL);
    out = fx_capture_stop();
    ctl_log_set_level(CTL_LOG_INFO);
    assert_null(strstr(out, "hidden"));
    assert_matches(out, "^ts=[^ ]+ level=error msg=\"shown\"\n$");
}

static void
test_quote_escapes_and_truncates(void **state)
{
    char buf[7];
    char big[64];

    (void)state;
    assert_string_equal(ctl_log_quote("a\tb\x01", big, sizeof(big)),
                        "a\\tb\\x01");
    /* Never splits an escape and always terminates. */
    assert_string_equal(ctl_log_quote("abcde\"f", buf, sizeof(buf)),
                        "abcde");
    assert_string_equal(ctl_log_quote(NULL, buf, sizeof(buf)), "");
}

static void
test_json_line(void **state)
{
    const char *out;
    char q[64];

    (void)state;
    ctl_log_set_json(true);
    fx_capture_start();
    ctl_log(CTL_LOG_INFO, "path \"conflict\"",
            "object=default/web path=\"%s\" count=3",
            ctl_log_quote("/a\"b\tc", q, sizeof(q)));
    out = fx_capture_stop();
    ctl_log_set_json(false);
    assert_matches(out, "^\\{\"ts\":\"[0-9T:.-]+Z\",\"level\":\"info\","
                        "\"msg\":\"path \\\\\"conflict\\\\\"\","
                        "\"object\":\"default/web\","
                        "\"path\":\"/a\\\\\"b\\\\u0009c\","
                        "\"count\":\"3\"\\}\n$");
}

/* An overlong line is cut, and still one line (and, in JSON, still an
 * object). */
static void
test_long_lines_stay_one_line(void **state)
{
    static char big[10000];
    const char *out;

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    fx_capture_start();
    ctl_log(CTL_LOG_INFO, "big", "a=1 value=%s", big);
    out = fx_capture_stop();
    assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out));
    assert_true(strlen(out) <= 4096);

    ctl_log_set_json(true);
    fx_capture_start();
    ctl_log(CTL_LOG_INFO, "big", "a=1 value=%s", big);
    out = fx_capture_stop();
    ctl_log_set_json(false);
    assert_matches(out, "^\\{.*\"a\":\"1\"\\}\n$");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_line),
        cmocka_unit_test(test_levels_filter),
        cmocka_unit_test(test_quote_escapes_and_truncates),
        cmocka_unit_test(test_json_line),
        cmocka_unit_test(test_long_lines_stay_one_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
