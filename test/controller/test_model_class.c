/*
 * test_model_class.c -- which Ingresses are served: legacy annotation,
 * ingressClassName, default class, --watch-ingress-without-class, and
 * the Ingresses we refuse (snippets) or hold back (canaries).
 */
#include <stdio.h>
#include <string.h>

#include "model_fixture.h"

#define WEB_RULES                                                           \
    FX_RULES(FX_RULE("web.example", FX_PATH("/", "Prefix", "web", 80)))

static void
setup_services(fixture *f)
{
    fx_init(f);
    fx_service(f, "default", "web", "http", 80, 8080, "10.0.0.1");
}

static void
test_legacy_annotation_decides(void **state)
{
    fixture f;

    (void)state;
    setup_services(&f);
    fx_put(&f, "{'apiVersion':'networking.k8s.io/v1','kind':'IngressClass',"
               "'metadata':{'name':'other'},"
               "'spec':{'controller':'example.com/other'}}");
    fx_our_class(&f, "shmingress", 0);
    /* Annotation ours, class foreign: ours (the annotation wins). */
    fx_ingress(&f, "default", "a", NULL,
               "'annotations':{'kubernetes.io/ingress.class':'shmingress'}",
               "'ingressClassName':'other',"
               FX_RULES(FX_RULE("a.example", FX_PATH("/", "Prefix", "web",
                                                     80))));
    /* Annotation foreign, class ours: not ours. */
    fx_ingress(&f, "default", "b", NULL,
               "'annotations':{'kubernetes.io/ingress.class':'nginx'}",
               "'ingressClassName':'shmingress',"
               FX_RULES(FX_RULE("b.example", FX_PATH("/", "Prefix", "web",
                                                     80))));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "a.example", "/"), "web:80");
    assert_string_equal(fx_route(&f, "b.example", "/"), "404");
    assert_int_equal(f.stats.ingresses_owned, 1);
    fx_free(&f);
}

static void
test_class_name_needs_our_controller(void **state)
{
    fixture f;

    (void)state;
    setup_services(&f);
    fx_our_class(&f, "mine", 0);
    fx_put(&f, "{'apiVersion':'networking.k8s.io/v1','kind':'IngressClass',"
               "'metadata':{'name':'theirs'},"
               "'spec':{'controller':'k8s.io/ingress-nginx'}}");
    fx_ingress(&f, "default", "ours", NULL, "",
               "'ingressClassName':'mine',"
               FX_RULES(FX_RULE("ours.example", FX_PATH("/", "Prefix", "web",
                                                        80))));
    fx_ingress(&f, "default", "theirs", NULL, "",
               "'ingressClassName':'theirs',"
               FX_RULES(FX_RULE("theirs.example", FX_PATH("/", "Prefix",
                                                          "web", 80))));
    fx_ingress(&f, "default", "unknown", NULL, "",
               "'ingressClassName':'no-such-class',"
               FX_RULES(FX_RULE("unknown.example", FX_PATH("/", "Prefix",
                                                           "web", 80))));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "ours.example", "/"), "web:80");
    assert_string_equal(fx_route(&f, "theirs.example", "/"), "404");
    assert_string_equal(fx_route(&f, "unknown.example", "/"), "404");
    assert_int_equal(f.stats.ingresses_owned, 1);
    assert_int_equal(f.stats.ingresses_skipped, 0);
    fx_free(&f);
}

static void
add_classless(fixture *f)
{
    fx_ingress(f, "default", "classless", NULL, "",
               FX_RULES(FX_RULE("classless.example",
                                FX_PATH("/", "Prefix", "web", 80))));
}

static void
test_classless_not_ours_by_default(void **state)
{
    fixture f;

    (void)state;
    setup_services(&f);
    fx_our_class(&f, "shmingress", 0);
    add_classless(&f);
    fx_build(&f);
    assert_string_equal(fx_route(&f, "classless.example", "/"), "404");
    fx_free(&f);
}

static void
test_classless_with_flag(void **state)
{
    fixture f;

    (void)state;
    setup_services(&f);
    f.cfg.watch_without_class = true;
    add_classless(&f);
    fx_build(&f);
    assert_string_equal(fx_route(&f, "classless.example", "/"), "web:80");
    fx_free(&f);
}

static void
test_classless_with_our_default_class(void **state)
{
    fixture f;

    (void)state;
    setup_services(&f);
    fx_our_class(&f, "shmingress", 1);
    add_classless(&f);
    fx_build(&f);
    assert_string_equal(fx_route(&f, "classless.example", "/"), "web:80");
    fx_free(&f);
}

static void
test_classless_with_foreign_default_class(void **state)
{
    fixture f;

    (void)state;
    setup_services(&f);
    fx_our_class(&f, "shmingress", 0);
    fx_put(&f, "{'apiVersion':'networking.k8s.io/v1','kind':'IngressClass',"
               "'metadata':{'name':'nginx','annotations':{"
               "'ingressclass.kubernetes.io/is-default-class':'true'}},"
               "'spec':{'controller':'k8s.io/ingress-nginx'}}");
    add_classless(&f);
    fx_build(&f);
    assert_string_equal(fx_route(&f, "classless.example", "/"), "404");
    fx_free(&f);
}

/* A snippet annotation under either prefix refuses the Ingress; the
 * rest of the cluster is still served. */
static void
test_snippets_refused(void **state)
{
    static const char *const keys[] = {
        "nginx.ingress.kubernetes.io/configuration-snippet",
        "nginx.ingress.kubernetes.io/server-snippet",
        "shmingress.io/auth-snippet",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        fixture f;
        char meta[256];
        const char *log;

        setup_services(&f);
        f.cfg.watch_without_class = true;
        snprintf(meta, sizeof(meta), "'annotations':{'%s':'return 200;'}",
                 keys[i]);
        fx_ingress(&f, "default", "snippet", NULL, meta,
                   FX_RULES(FX_RULE("snippet.example",
                                    FX_PATH("/", "Prefix", "web", 80))));
        add_classless(&f);
        fx_capture_start();
        fx_build(&f);
        log = fx_capture_stop();
        assert_string_equal(fx_route(&f, "snippet.example", "/"), "404");
        assert_string_equal(fx_route(&f, "classless.example", "/"), "web:80");
        assert_int_equal(f.stats.ingresses_owned, 2);
        assert_int_equal(f.stats.ingresses_skipped, 1);
        assert_non_null(strstr(log, "level=warn"));
        assert_non_null(strstr(log, "object=default/snippet"));
        assert_non_null(strstr(log, keys[i]));
        assert_non_null(strstr(log, "snippet annotations are never "
                                    "supported"));
        fx_free(&f);
    }
}

/* Snippet-like keys under a prefix that is not ours are not refused. */
static void
test_foreign_snippet_prefix_ignored(void **state)
{
    fixture f;

    (void)state;
    setup_services(&f);
    f.cfg.watch_without_class = true;
    fx_ingress(&f, "default", "x", NULL,
               "'annotations':{'example.com/configuration-snippet':'a'}",
               FX_RULES(FX_RULE("x.example", FX_PATH("/", "Prefix", "web",
                                                     80))));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "x.example", "/"), "web:80");
    fx_free(&f);
}

/* Canaries are never served as primaries: the primary keeps its path
 * even though the canary is older; a canary without primary is not
 * served. */
static void
test_canary_held_back(void **state)
{
    fixture f;
    const char *log;

    (void)state;
    setup_services(&f);
    fx_service(&f, "default", "web-v2", "http", 80, 8080, "10.0.0.2");
    f.cfg.watch_without_class = true;
    fx_ingress(&f, "default", "canary", "2020-01-01T00:00:00Z",
               "'annotations':{'nginx.ingress.kubernetes.io/canary':'true'}",
               FX_RULES(FX_RULE("web.example",
                                FX_PATH("/", "Prefix", "web-v2", 80))));
    fx_ingress(&f, "default", "canary2", "2020-01-01T00:00:00Z",
               "'annotations':{'shmingress.io/canary':'true',"
               "'nginx.ingress.kubernetes.io/canary':'false'}",
               FX_RULES(FX_RULE("two.example",
                                FX_PATH("/", "Prefix", "web-v2", 80))));
    fx_ingress(&f, "default", "primary", "2021-01-01T00:00:00Z", "",
               WEB_RULES);
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_string_equal(fx_route(&f, "web.example", "/"), "web:80");
    assert_string_equal(fx_route(&f, "two.example", "/"), "404");
    assert_int_equal(f.stats.conflicts, 0);
    assert_int_equal(f.stats.ingresses_skipped, 1);
    assert_non_null(strstr(log, "level=warn msg=\"canary ingress not "
                                "served\" kind=Ingress "
                                "object=default/canary2"));
    fx_free(&f);
}

/* Our prefix wins: canary "false" under shmingress.io/ makes it a
 * primary even when the compatibility prefix says "true". */
static void
test_our_canary_prefix_wins(void **state)
{
    fixture f;

    (void)state;
    setup_services(&f);
    f.cfg.watch_without_class = true;
    fx_ingress(&f, "default", "x", NULL,
               "'annotations':{'shmingress.io/canary':'false',"
               "'nginx.ingress.kubernetes.io/canary':'true'}",
               WEB_RULES);
    fx_build(&f);
    assert_string_equal(fx_route(&f, "web.example", "/"), "web:80");
    fx_free(&f);
}

/* --annotations-prefix changes the compatibility prefix. */
static void
test_custom_annotations_prefix(void **state)
{
    fixture f;

    (void)state;
    setup_services(&f);
    f.cfg.watch_without_class = true;
    f.cfg.annotations_prefix = "custom.example.com";
    fx_ingress(&f, "default", "x", NULL,
               "'annotations':{'custom.example.com/canary':'true'}",
               WEB_RULES);
    fx_ingress(&f, "default", "y", NULL,
               "'annotations':{'nginx.ingress.kubernetes.io/server-snippet':"
               "'a'}",
               FX_RULES(FX_RULE("y.example", FX_PATH("/", "Prefix", "web",
                                                     80))));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "web.example", "/"), "404");
    assert_string_equal(fx_route(&f, "y.example", "/"), "web:80");
    fx_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legacy_annotation_decides),
        cmocka_unit_test(test_class_name_needs_our_controller),
        cmocka_unit_test(test_classless_not_ours_by_default),
        cmocka_unit_test(test_classless_with_flag),
        cmocka_unit_test(test_classless_with_our_default_class),
        cmocka_unit_test(test_classless_with_foreign_default_class),
        cmocka_unit_test(test_snippets_refused),
        cmocka_unit_test(test_foreign_snippet_prefix_ignored),
        cmocka_unit_test(test_canary_held_back),
        cmocka_unit_test(test_our_canary_prefix_wins),
        cmocka_unit_test(test_custom_annotations_prefix),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
