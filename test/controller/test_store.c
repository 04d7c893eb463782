/*
 * test_store.c -- the object store: kinds, put/replace/delete, lookups
 * and iteration, including many objects so that the index grows and
 * deletions shift probe runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static cJSON *
parse(const char *text)
{
    cJSON *j = cJSON_Parse(text);

    assert_non_null(j);
    return j;
}

static void
test_kind_from_json(void **state)
{
    static const struct {
        const char *json;
        int         kind;
    } cases[] = {
        {"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\"}",
         CTL_KIND_INGRESS},
        {"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"IngressClass\"}",
         CTL_KIND_INGRESS_CLASS},
        {"{\"apiVersion\":\"v1\",\"kind\":\"Service\"}", CTL_KIND_SERVICE},
        {"{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\"}",
         CTL_KIND_ENDPOINT_SLICE},
        {"{\"apiVersion\":\"v1\",\"kind\":\"Secret\"}", CTL_KIND_SECRET},
        {"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"}", CTL_KIND_CONFIG_MAP},
        /* v1 only: the beta API is gone from Kubernetes. */
        {"{\"apiVersion\":\"networking.k8s.io/v1beta1\",\"kind\":\"Ingress\"}",
         -1},
        {"{\"apiVersion\":\"extensions/v1beta1\",\"kind\":\"Ingress\"}", -1},
        {"{\"apiVersion\":\"discovery.k8s.io/v1beta1\","
         "\"kind\":\"EndpointSlice\"}",
         -1},
        {"{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\"}", -1},
        {"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\"}", -1},
        {"{\"kind\":\"Service\"}", -1},
        {"{\"apiVersion\":1,\"kind\":\"Service\"}", -1},
        {"[]", -1},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *j = parse(cases[i].json);

        assert_int_equal(ctl_kind_from_json(j), cases[i].kind);
        cJSON_Delete(j);
    }
    assert_string_equal(ctl_kind_name(CTL_KIND_ENDPOINT_SLICE),
                        "EndpointSlice");
}

static void
test_put_get_replace_delete(void **state)
{
    ctl_store *s = ctl_store_new();
    const ctl_object *o;
    uint64_t v0;

    (void)state;
    assert_non_null(s);
    v0 = ctl_store_version(s);
    assert_int_equal(ctl_store_put(s, CTL_KIND_SERVICE, "shop", "api",
                                   parse("{\"v\":1}"), "a.yaml#1"),
                     0);
    assert_true(ctl_store_version(s) > v0);
    o = ctl_store_get(s, CTL_KIND_SERVICE, "shop", "api");
    assert_non_null(o);
    assert_string_equal(o->namespace_, "shop");
    assert_string_equal(o->name, "api");
    assert_string_equal(o->origin, "a.yaml#1");
    assert_int_equal(o->kind, CTL_KIND_SERVICE);

    /* Same name, other kind or namespace: different objects. */
    assert_null(ctl_store_get(s, CTL_KIND_INGRESS, "shop", "api"));
    assert_null(ctl_store_get(s, CTL_KIND_SERVICE, "other", "api"));

    /* Replace keeps one object and takes the new content. */
    assert_int_equal(ctl_store_put(s, CTL_KIND_SERVICE, "shop", "api",
                                   parse("{\"v\":2}"), "api"),
                     0);
    assert_int_equal(ctl_store_count(s, CTL_KIND_SERVICE), 1);
    o = ctl_store_get(s, CTL_KIND_SERVICE, "shop", "api");
    assert_int_equal(cJSON_GetObjectItem(o->json, "v")->valueint, 2);
    assert_string_equal(o->origin, "api");

    /* Cluster-scoped objects use "" (NULL is accepted as ""). */
    assert_int_equal(ctl_store_put(s, CTL_KIND_INGRESS_CLASS, NULL, "c",
                                   parse("{}"), NULL),
                     0);
    assert_non_null(ctl_store_get(s, CTL_KIND_INGRESS_CLASS, "", "c"));
    assert_string_equal(ctl_store_get(s, CTL_KIND_INGRESS_CLASS, "", "c")
                            ->origin,
                        "");

    v0 = ctl_store_version(s);
    assert_int_equal(ctl_store_delete(s, CTL_KIND_SERVICE, "shop", "api"), 1);
    assert_true(ctl_store_version(s) > v0);
    assert_int_equal(ctl_store_delete(s, CTL_KIND_SERVICE, "shop", "api"), 0);
    assert_null(ctl_store_get(s, CTL_KIND_SERVICE, "shop", "api"));
    assert_int_equal(ctl_store_count(s, CTL_KIND_SERVICE), 0);
    ctl_store_free(s);
}

/* Namespace and name are separate parts of the key: "a/b" + "c" is not
 * "a" + "b/c". */
static void
test_key_parts_do_not_alias(void **state)
{
    ctl_store *s = ctl_store_new();

    (void)state;
    assert_int_equal(ctl_store_put(s, CTL_KIND_SECRET, "ab", "c",
                                   parse("{\"v\":1}"), "x"),
                     0);
    assert_int_equal(ctl_store_put(s, CTL_KIND_SECRET, "a", "bc",
                                   parse("{\"v\":2}"), "x"),
                     0);
    assert_int_equal(ctl_store_count(s, CTL_KIND_SECRET), 2);
    assert_int_equal(cJSON_GetObjectItem(ctl_store_get(s, CTL_KIND_SECRET,
                                                       "a", "bc")
                                             ->json,
                                         "v")
                         ->valueint,
                     2);
    ctl_store_free(s);
}

/* Puts 20k objects, deletes every third, and checks that exactly the
 * rest are found, both by key and by iteration. */
static void
test_many_objects_iteration_and_delete(void **state)
{
    enum { N = 20000 };
    ctl_store *s = ctl_store_new();
    char ns[32], name[32];
    unsigned char *seen = calloc(N, 1);
    size_t count;

    (void)state;
    for (int i = 0; i < N; i++) {
        char body[32];

        snprintf(ns, sizeof(ns), "ns%d", i % 7);
        snprintf(name, sizeof(name), "obj-%d", i);
        snprintf(body, sizeof(body), "{\"i\":%d}", i);
        assert_int_equal(ctl_store_put(s, CTL_KIND_ENDPOINT_SLICE, ns, name,
                                       parse(body), "api"),
                         0);
    }
    assert_int_equal(ctl_store_count(s, CTL_KIND_ENDPOINT_SLICE), N);
    for (int i = 0; i < N; i += 3) {
        snprintf(ns, sizeof(ns), "ns%d", i % 7);
        snprintf(name, sizeof(name), "obj-%d", i);
        assert_int_equal(ctl_store_delete(s, CTL_KIND_ENDPOINT_SLICE, ns,
                                          name),
                         1);
    }
    for (int i = 0; i < N; i++) {
        const ctl_object *o;

        snprintf(ns, sizeof(ns), "ns%d", i % 7);
        snprintf(name, sizeof(name), "obj-%d", i);
        o = ctl_store_get(s, CTL_KIND_ENDPOINT_SLICE, ns, name);
        if (i % 3 == 0) {
            assert_null(o);
        } else {
            assert_non_null(o);
            assert_int_equal(cJSON_GetObjectItem(o->json, "i")->valueint, i);
        }
    }
    count = ctl_store_count(s, CTL_KIND_ENDPOINT_SLICE);
    assert_int_equal(count, N - (N + 2) / 3);
    for (size_t k = 0; k < count; k++) {
        const ctl_object *o = ctl_store_at(s, CTL_KIND_ENDPOINT_SLICE, k);
        int i = cJSON_GetObjectItem(o->json, "i")->valueint;

        assert_true(i % 3 != 0);
        assert_int_equal(seen[i], 0);
        seen[i] = 1;
    }
    assert_null(ctl_store_at(s, CTL_KIND_ENDPOINT_SLICE, count));
    free(seen);
    ctl_store_free(s);
}

static void
test_put_rejects_bad_kind_and_frees(void **state)
{
    ctl_store *s = ctl_store_new();

    (void)state;
    /* Ownership passes also on failure: valgrind/ASan see no leak. */
    assert_int_equal(ctl_store_put(s, CTL_KIND_COUNT, "a", "b", parse("{}"),
                                   "x"),
                     -1);
    assert_int_equal(ctl_store_put(s, CTL_KIND_SERVICE, "a", NULL,
                                   parse("{}"), "x"),
                     -1);
    assert_int_equal(ctl_store_delete(s, CTL_KIND_SERVICE, "a", "b"), 0);
    assert_null(ctl_store_get(s, CTL_KIND_SERVICE, "a", "b"));
    ctl_store_free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_from_json),
        cmocka_unit_test(test_put_get_replace_delete),
        cmocka_unit_test(test_key_parts_do_not_alias),
        cmocka_unit_test(test_many_objects_iteration_and_delete),
        cmocka_unit_test(test_put_rejects_bad_kind_and_frees),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
