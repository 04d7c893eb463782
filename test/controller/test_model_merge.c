/*
 * test_model_merge.c -- many Ingresses on one host: who keeps a
 * contested path (oldest; ties by namespace/name as ingress-nginx), the
 * "/foo" versus "/foo/" Prefix rule, pathTypes side by side, host-less
 * rules in the catch-all vhost, and hosts that do not fall through.
 */
#include <string.h>

#include "model_fixture.h"

static void
setup(fixture *f)
{
    fx_init(f);
    f->cfg.watch_without_class = true;
    fx_service(f, "default", "one", "http", 80, 8080, "10.0.0.1");
    fx_service(f, "default", "two", "http", 80, 8080, "10.0.0.2");
    fx_service(f, "default", "three", "http", 80, 8080, "10.0.0.3");
}

static void
test_oldest_wins_the_path(void **state)
{
    fixture f;
    const char *log;

    (void)state;
    setup(&f);
    /* Stored newest first, named so that name order disagrees. */
    fx_ingress(&f, "default", "a-new", "2024-03-01T00:00:00Z", "",
               FX_RULES(FX_RULE("shop.example",
                                FX_PATH("/cart", "Prefix", "two", 80),
                                FX_PATH("/new", "Prefix", "two", 80))));
    fx_ingress(&f, "default", "z-old", "2023-03-01T00:00:00Z", "",
               FX_RULES(FX_RULE("shop.example",
                                FX_PATH("/cart", "Prefix", "one", 80))));
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_string_equal(fx_route(&f, "shop.example", "/cart/x"), "one:80");
    assert_string_equal(fx_route_owner(&f, "shop.example", "/cart"),
                        "default/z-old");
    /* The loser keeps its other paths. */
    assert_string_equal(fx_route(&f, "shop.example", "/new"), "two:80");
    assert_int_equal(f.stats.conflicts, 1);
    assert_int_equal(f.stats.routes, 2);
    assert_non_null(strstr(log, "msg=\"path conflict\""));
    assert_non_null(strstr(log, "object=default/a-new"));
    assert_non_null(strstr(log, "winner=default/z-old"));
    fx_free(&f);
}

/* Timestamps with fractions and offsets compare as instants. */
static void
test_timestamps_compare_as_instants(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "a", "2024-01-01T01:30:00+02:00", "",
               FX_RULES(FX_RULE("t.example",
                                FX_PATH("/", "Prefix", "one", 80))));
    fx_ingress(&f, "default", "b", "2023-12-31T23:00:00.5Z", "",
               FX_RULES(FX_RULE("t.example",
                                FX_PATH("/", "Prefix", "two", 80))));
    fx_build(&f);
    /* a is 2023-12-31T23:30:00Z, after b. */
    assert_string_equal(fx_route(&f, "t.example", "/"), "two:80");
    fx_free(&f);
}

/* Same timestamp: "namespace/name" descending wins, like ingress-nginx. */
static void
test_tie_broken_by_name(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "alpha", "2024-01-01T00:00:00Z", "",
               FX_RULES(FX_RULE("tie.example",
                                FX_PATH("/", "Prefix", "one", 80))));
    fx_ingress(&f, "default", "beta", "2024-01-01T00:00:00Z", "",
               FX_RULES(FX_RULE("tie.example",
                                FX_PATH("/", "Prefix", "two", 80))));
    fx_build(&f);
    assert_string_equal(fx_route_owner(&f, "tie.example", "/"),
                        "default/beta");
    assert_int_equal(f.stats.conflicts, 1);
    fx_free(&f);
}

/* The tie compares "ns/name" as one string: "a/x" sorts after "a-b/x"
 * ('/' > '-'), so "a/x" wins. */
static void
test_tie_compares_full_name(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_service(&f, "a", "one", "http", 80, 8080, "10.0.1.1");
    fx_service(&f, "a-b", "two", "http", 80, 8080, "10.0.1.2");
    fx_ingress(&f, "a-b", "x", NULL, "",
               FX_RULES(FX_RULE("ns.example",
                                FX_PATH("/", "Prefix", "two", 80))));
    fx_ingress(&f, "a", "x", NULL, "",
               FX_RULES(FX_RULE("ns.example",
                                FX_PATH("/", "Prefix", "one", 80))));
    fx_build(&f);
    assert_string_equal(fx_route_owner(&f, "ns.example", "/"), "a/x");
    fx_free(&f);
}

/* An Ingress without creationTimestamp is newer than any with one. */
static void
test_missing_timestamp_sorts_last(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "zzz", NULL, "",
               FX_RULES(FX_RULE("m.example",
                                FX_PATH("/", "Prefix", "one", 80))));
    fx_ingress(&f, "default", "aaa", "2030-01-01T00:00:00Z", "",
               FX_RULES(FX_RULE("m.example",
                                FX_PATH("/", "Prefix", "two", 80))));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "m.example", "/"), "two:80");
    fx_free(&f);
}

/* Exact and Prefix on the same path coexist; Exact wins its path. */
static void
test_same_path_other_type_coexists(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "p", "2020-01-01T00:00:00Z", "",
               FX_RULES(FX_RULE("mixed.example",
                                FX_PATH("/foo", "Prefix", "one", 80))));
    fx_ingress(&f, "default", "e", "2021-01-01T00:00:00Z", "",
               FX_RULES(FX_RULE("mixed.example",
                                FX_PATH("/foo", "Exact", "two", 80))));
    fx_build(&f);
    assert_int_equal(f.stats.conflicts, 0);
    assert_int_equal(f.stats.routes, 2);
    assert_string_equal(fx_route(&f, "mixed.example", "/foo"), "two:80");
    assert_string_equal(fx_route(&f, "mixed.example", "/foo/"), "one:80");
    assert_string_equal(fx_route(&f, "mixed.example", "/foo/bar"), "one:80");
    fx_free(&f);
}

/* Exact "/foo" beats Prefix "/foo/" for "/foo" (the design proposal's
 * rule); an ImplementationSpecific path wins only when longer than the
 * best Prefix as written. */
static void
test_exact_beats_longer_prefix(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "edge", NULL, "",
               FX_RULES(FX_RULE("edge.example",
                                FX_PATH("/foo", "Exact", "one", 80),
                                FX_PATH("/foo/", "Prefix", "two", 80),
                                FX_PATH("/fo", "ImplementationSpecific",
                                        "three", 80))));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "edge.example", "/foo"), "one:80");
    assert_string_equal(fx_route(&f, "edge.example", "/foo/x"), "two:80");
    assert_string_equal(fx_route(&f, "edge.example", "/fox"), "three:80");
    fx_free(&f);
}

/* Prefix "/foo" and "/foo/" match the same requests; the longer one
 * wins whatever the age, in either order. */
static void
test_longer_prefix_spelling_wins(void **state)
{
    (void)state;
    for (int older_is_short = 0; older_is_short < 2; older_is_short++) {
        fixture f;

        setup(&f);
        fx_ingress(&f, "default", "short",
                   older_is_short ? "2020-01-01T00:00:00Z"
                                  : "2022-01-01T00:00:00Z",
                   "",
                   FX_RULES(FX_RULE("slash.example",
                                    FX_PATH("/foo", "Prefix", "one", 80))));
        fx_ingress(&f, "default", "long", "2021-01-01T00:00:00Z", "",
                   FX_RULES(FX_RULE("slash.example",
                                    FX_PATH("/foo/", "Prefix", "two", 80))));
        fx_build(&f);
        assert_string_equal(fx_route(&f, "slash.example", "/foo"), "two:80");
        assert_string_equal(fx_route(&f, "slash.example", "/foo/"),
                            "two:80");
        assert_string_equal(fx_route(&f, "slash.example", "/foo/x"),
                            "two:80");
        assert_string_equal(fx_route(&f, "slash.example", "/foobar"), "404");
        assert_int_equal(f.stats.conflicts, 1);
        fx_free(&f);
    }
}

/* Within one Ingress the first listing of a path wins. */
static void
test_duplicate_inside_one_ingress(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "dup", NULL, "",
               FX_RULES(FX_RULE("dup.example",
                                FX_PATH("/a", "Exact", "one", 80)),
                        FX_RULE("dup.example",
                                FX_PATH("/a", "Exact", "two", 80))));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "dup.example", "/a"), "one:80");
    assert_int_equal(f.stats.conflicts, 1);
    fx_free(&f);
}

/* ImplementationSpecific is a string prefix, its own key space. */
static void
test_implementation_specific_is_string_prefix(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "impl", NULL, "",
               FX_RULES(FX_RULE("impl.example",
                                FX_PATH("/foo", "ImplementationSpecific",
                                        "one", 80),
                                FX_PATH("/foo", "Prefix", "two", 80))));
    fx_build(&f);
    assert_int_equal(f.stats.conflicts, 0);
    assert_string_equal(fx_route(&f, "impl.example", "/foo/x"), "two:80");
    assert_string_equal(fx_route(&f, "impl.example", "/foobar"), "one:80");
    fx_free(&f);
}

/* Rules without host serve every host that no rule names; a named
 * host never falls through to them. */
static void
test_hostless_rules_are_the_catchall(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "any", NULL, "",
               "'rules':[{'http':{'paths':["
               FX_PATH("/", "Prefix", "one", 80) "]}}]");
    fx_ingress(&f, "default", "named", NULL, "",
               FX_RULES(FX_RULE("named.example",
                                FX_PATH("/api", "Prefix", "two", 80)),
                        FX_RULE("*.wild.example",
                                FX_PATH("/w", "Prefix", "three", 80))));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "other.example", "/x"), "one:80");
    assert_string_equal(fx_route(&f, "10.1.2.3", "/x"), "one:80");
    assert_string_equal(fx_route(&f, "", "/x"), "one:80");
    assert_string_equal(fx_route(&f, "named.example", "/api/v1"), "two:80");
    assert_string_equal(fx_route(&f, "Named.Example:8080", "/api"),
                        "two:80");
    assert_string_equal(fx_route(&f, "named.example", "/x"), "404");
    assert_string_equal(fx_route(&f, "a.wild.example", "/w"), "three:80");
    assert_string_equal(fx_route(&f, "a.wild.example", "/x"), "404");
    /* Two labels are not covered by the wildcard: catch-all. */
    assert_string_equal(fx_route(&f, "a.b.wild.example", "/w"), "one:80");
    fx_free(&f);
}

/* The same path on different hosts is no conflict. */
static void
test_same_path_other_host(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "a", NULL, "",
               FX_RULES(FX_RULE("a.example",
                                FX_PATH("/", "Prefix", "one", 80)),
                        FX_RULE("*.example",
                                FX_PATH("/", "Prefix", "three", 80))));
    fx_ingress(&f, "default", "b", NULL, "",
               FX_RULES(FX_RULE("b.example",
                                FX_PATH("/", "Prefix", "two", 80))));
    fx_build(&f);
    assert_int_equal(f.stats.conflicts, 0);
    assert_string_equal(fx_route(&f, "a.example", "/"), "one:80");
    assert_string_equal(fx_route(&f, "b.example", "/"), "two:80");
    assert_string_equal(fx_route(&f, "c.example", "/"), "three:80");
    fx_free(&f);
}

/* The conformance suite's path rules, all on one Ingress. */
static void
test_conformance_path_rules(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_service(&f, "default", "foo-exact", "", 8080, 3000, "10.0.2.1");
    fx_service(&f, "default", "foo-prefix", "", 8080, 3000, "10.0.2.2");
    fx_service(&f, "default", "aaa-prefix", "", 8080, 3000, "10.0.2.3");
    fx_service(&f, "default", "aaa-bbb-prefix", "", 8080, 3000, "10.0.2.4");
    fx_service(&f, "default", "aaa-bbb-slash", "", 8080, 3000, "10.0.2.5");
    fx_service(&f, "default", "foo-slash-exact", "", 8080, 3000,
               "10.0.2.6");
    fx_ingress(
        &f, "default", "path-rules", NULL, "",
        FX_RULES(FX_RULE("exact-path-rules",
                         FX_PATH("/foo", "Exact", "foo-exact", 8080)),
                 FX_RULE("prefix-path-rules",
                         FX_PATH("/foo", "Prefix", "foo-prefix", 8080),
                         FX_PATH("/aaa/bbb", "Prefix", "aaa-bbb-prefix",
                                 8080),
                         FX_PATH("/aaa", "Prefix", "aaa-prefix", 8080)),
                 FX_RULE("mixed-path-rules",
                         FX_PATH("/foo", "Prefix", "foo-prefix", 8080),
                         FX_PATH("/foo", "Exact", "foo-exact", 8080)),
                 FX_RULE("trailing-slash-path-rules",
                         FX_PATH("/aaa/bbb/", "Prefix", "aaa-bbb-slash",
                                 8080),
                         FX_PATH("/foo/", "Exact", "foo-slash-exact",
                                 8080))));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "exact-path-rules", "/foo"),
                        "foo-exact:8080");
    assert_string_equal(fx_route(&f, "exact-path-rules", "/foo/"), "404");
    assert_string_equal(fx_route(&f, "exact-path-rules", "/FOO"), "404");
    assert_string_equal(fx_route(&f, "exact-path-rules", "/bar"), "404");
    assert_string_equal(fx_route(&f, "prefix-path-rules", "/foo"),
                        "foo-prefix:8080");
    assert_string_equal(fx_route(&f, "prefix-path-rules", "/foo/"),
                        "foo-prefix:8080");
    assert_string_equal(fx_route(&f, "prefix-path-rules", "/FOO"), "404");
    assert_string_equal(fx_route(&f, "prefix-path-rules", "/aaa/bbb"),
                        "aaa-bbb-prefix:8080");
    assert_string_equal(fx_route(&f, "prefix-path-rules", "/aaa/bbb/ccc"),
                        "aaa-bbb-prefix:8080");
    assert_string_equal(fx_route(&f, "prefix-path-rules", "/aaa/ccc"),
                        "aaa-prefix:8080");
    assert_string_equal(fx_route(&f, "prefix-path-rules", "/aaaccc"), "404");
    assert_string_equal(fx_route(&f, "mixed-path-rules", "/foo"),
                        "foo-exact:8080");
    assert_string_equal(fx_route(&f, "trailing-slash-path-rules", "/aaa/bbb"),
                        "aaa-bbb-slash:8080");
    assert_string_equal(fx_route(&f, "trailing-slash-path-rules",
                                 "/aaa/bbb/"),
                        "aaa-bbb-slash:8080");
    assert_string_equal(fx_route(&f, "trailing-slash-path-rules", "/foo"),
                        "404");
    fx_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oldest_wins_the_path),
        cmocka_unit_test(test_timestamps_compare_as_instants),
        cmocka_unit_test(test_tie_broken_by_name),
        cmocka_unit_test(test_tie_compares_full_name),
        cmocka_unit_test(test_missing_timestamp_sorts_last),
        cmocka_unit_test(test_same_path_other_type_coexists),
        cmocka_unit_test(test_exact_beats_longer_prefix),
        cmocka_unit_test(test_longer_prefix_spelling_wins),
        cmocka_unit_test(test_duplicate_inside_one_ingress),
        cmocka_unit_test(test_implementation_specific_is_string_prefix),
        cmocka_unit_test(test_hostless_rules_are_the_catchall),
        cmocka_unit_test(test_same_path_other_host),
        cmocka_unit_test(test_conformance_path_rules),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
