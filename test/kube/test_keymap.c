/*
 * test_keymap.c -- the namespace/name map: put, get, delete, growth past
 * many entries, iteration that sees every entry once and survives
 * deleting the current one, and swap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "kube_keymap.h"

#define N 5000

static void
test_put_get_delete(void **state)
{
    kube_keymap m;
    kube_keyent *e;
    int created;

    (void)state;
    kube_keymap_init(&m);
    assert_null(kube_keymap_get(&m, "ns", "a"));
    assert_int_equal(kube_keymap_del(&m, "ns", "a"), 0);
    e = kube_keymap_put(&m, "ns", "a", &created);
    assert_non_null(e);
    assert_int_equal(created, 1);
    assert_string_equal(e->ns, "ns");
    assert_string_equal(e->name, "a");
    e->count = 3;
    assert_ptr_equal(kube_keymap_put(&m, "ns", "a", &created), e);
    assert_int_equal(created, 0);
    assert_int_equal(kube_keymap_get(&m, "ns", "a")->count, 3);
    /* "n/sa" and "ns/a" are different keys; so are "" and a namespace. */
    assert_null(kube_keymap_get(&m, "n", "sa"));
    assert_non_null(kube_keymap_put(&m, "", "a", NULL));
    assert_int_equal(m.count, 2);
    assert_int_equal(kube_keymap_del(&m, "ns", "a"), 1);
    assert_null(kube_keymap_get(&m, "ns", "a"));
    assert_non_null(kube_keymap_get(&m, "", "a"));
    kube_keymap_clear(&m);
    assert_int_equal(m.count, 0);
}

static void
test_growth_and_iteration(void **state)
{
    static char seen[N];
    kube_keymap m, other;
    kube_keyiter it;
    kube_keyent *e;
    char name[32];
    size_t count = 0;

    (void)state;
    kube_keymap_init(&m);
    kube_keymap_init(&other);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "obj-%d", i);
        e = kube_keymap_put(&m, i % 2 ? "odd" : "even", name, NULL);
        assert_non_null(e);
        e->count = i;
    }
    assert_int_equal(m.count, N);
    memset(seen, 0, sizeof(seen));
    kube_keyiter_init(&it, &m);
    while ((e = kube_keyiter_next(&it, &m)) != NULL) {
        assert_int_equal(seen[e->count], 0);
        seen[e->count] = 1;
        count++;
        /* Deleting the current entry is allowed. */
        if (e->count % 3 == 0)
            kube_keymap_del(&m, e->ns, e->name);
    }
    assert_int_equal(count, N);
    assert_int_equal(m.count, N - (N + 2) / 3);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "obj-%d", i);
        e = kube_keymap_get(&m, i % 2 ? "odd" : "even", name);
        if (i % 3 == 0)
            assert_null(e);
        else
            assert_int_equal(e->count, i);
    }
    kube_keymap_swap(&m, &other);
    assert_int_equal(m.count, 0);
    assert_int_equal(other.count, N - (N + 2) / 3);
    kube_keymap_clear(&m);
    kube_keymap_clear(&other);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_delete),
        cmocka_unit_test(test_growth_and_iteration),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
