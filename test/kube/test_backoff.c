/*
 * test_backoff.c -- retry delays: doubling from 800 ms, jitter up to one
 * step, never past 30 s, a fresh start after two healthy minutes, and
 * Retry-After taking over when the server sends it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kube_backoff.h"

static void
test_doubling_without_jitter(void **state)
{
    static const uint64_t want[] = {800,   1600,  3200,  6400,  12800,
                                    25600, 30000, 30000, 30000, 30000};
    kube_backoff b;
    uint64_t now = 1000;

    (void)state;
    kube_backoff_init(&b);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(kube_backoff_next(&b, now, 0.0), want[i]);
        now += 1000;
    }
}

static void
test_jitter_adds_up_to_one_step(void **state)
{
    kube_backoff b;

    (void)state;
    kube_backoff_init(&b);
    assert_int_equal(kube_backoff_next(&b, 1, 0.5), 1200);
    assert_int_equal(kube_backoff_next(&b, 2, 0.25), 2000);
    assert_int_equal(kube_backoff_next(&b, 3, 0.999), 6396);
    /* Out-of-range jitter counts as none. */
    assert_int_equal(kube_backoff_next(&b, 4, 1.5), 6400);
    assert_int_equal(kube_backoff_next(&b, 5, -0.1), 12800);
    /* The cap holds with jitter too. */
    for (int i = 0; i < 100; i++)
        assert_true(kube_backoff_next(&b, 6 + (uint64_t)i, 0.999) <= 30000);
    assert_int_equal(kube_backoff_next(&b, 200, 0.999), 30000);
}

static void
test_reset_after_healthy_period(void **state)
{
    kube_backoff b;
    uint64_t now = 5000;

    (void)state;
    kube_backoff_init(&b);
    for (int i = 0; i < 6; i++)
        kube_backoff_next(&b, now += 100, 0.0);
    /* Exactly two minutes later still counts as the same bad run. */
    now += KUBE_BACKOFF_RESET_MS;
    assert_int_equal(kube_backoff_next(&b, now, 0.0), 30000);
    /* Longer than that: back to the first step. */
    now += KUBE_BACKOFF_RESET_MS + 1;
    assert_int_equal(kube_backoff_next(&b, now, 0.0), 800);
    assert_int_equal(kube_backoff_next(&b, now + 10, 0.0), 1600);
}

static void
test_retry_after(void **state)
{
    kube_backoff b;

    (void)state;
    kube_backoff_init(&b);
    assert_int_equal(kube_backoff_after(&b, 10, 0.0, 5), 5000);
    /* It still counts as a failure: the next plain wait is the 2nd step. */
    assert_int_equal(kube_backoff_after(&b, 20, 0.0, 0), 1600);
    assert_int_equal(kube_backoff_after(&b, 30, 0.0, 1), 1000);
    assert_int_equal(kube_backoff_after(&b, 40, 0.0, 100000),
                     KUBE_BACKOFF_RETRY_AFTER_MAX_S * 1000u);
}

static void
test_jitter_range(void **state)
{
    double lo = 1.0, hi = 0.0;

    (void)state;
    for (int i = 0; i < 100000; i++) {
        double j = kube_jitter();

        assert_true(j >= 0.0 && j < 1.0);
        lo = j < lo ? j : lo;
        hi = j > hi ? j : hi;
    }
    /* Spread over the range, not stuck. */
    assert_true(lo < 0.01 && hi > 0.99);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doubling_without_jitter),
        cmocka_unit_test(test_jitter_adds_up_to_one_step),
        cmocka_unit_test(test_reset_after_healthy_period),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_jitter_range),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
