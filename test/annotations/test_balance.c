/*
 * test_balance.c -- the balancing family (load-balance, upstream-hash-by,
 * cookie affinity and its session-cookie-* keys): values, defaults,
 * rejections, and the policy and canary records the model emits,
 * including the precedence between the methods and the ConfigMap's
 * load-balance.
 */
#include <stdio.h>
#include <string.h>

#include "model_fixture.h"
#include "ann_fixture.h"

static void
test_defaults(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_int_equal(f.a.balance.set, 0);
    assert_int_equal(f.a.balance.affinity_mode, TBL_AFFINITY_NONE);
    assert_string_equal(f.a.balance.cookie_name_resolved, "INGRESSCOOKIE");
    assert_null(f.a.balance.hash_by);
    assert_false(f.a.balance.canary_legacy);
    ann_fx_free(&f);
}

static void
test_values(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "load-balance':'ewma','" NG
                  "upstream-hash-by':'$request_uri${arg_x}-k','" NG
                  "affinity':'cookie','" SH "affinity-mode':'persistent','" NG
                  "affinity-canary-behavior':'legacy','" NG
                  "session-cookie-name':'route','" NG
                  "session-cookie-path':'/app','" NG
                  "session-cookie-domain':'.example.com','" NG
                  "session-cookie-expires':'100','" NG
                  "session-cookie-max-age':'3600','" NG
                  "session-cookie-samesite':'lax','" NG
                  "session-cookie-secure':'true','" NG
                  "session-cookie-change-on-failure':'true'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_int_equal(f.a.balance.load_balance, TBL_LB_EWMA);
    assert_string_equal(f.a.balance.hash_by, "$request_uri${arg_x}-k");
    assert_int_equal(f.a.balance.affinity_mode, TBL_AFFINITY_PERSISTENT);
    assert_true(f.a.balance.canary_legacy);
    assert_string_equal(f.a.balance.cookie_name_resolved, "route");
    assert_string_equal(f.a.balance.cookie_path, "/app");
    assert_string_equal(f.a.balance.cookie_domain, ".example.com");
    assert_int_equal(f.a.balance.lifetime, 3600);
    assert_string_equal(f.a.balance.samesite, "Lax");
    assert_true(f.a.balance.secure);
    assert_true(f.a.balance.change_on_failure);
    assert_string_equal(f.warnings, "");
    ann_fx_free(&f);

    /* Expires alone gives the lifetime; the mode defaults to balanced. */
    ann_parse(&f, "{'" NG "affinity':'cookie','" NG
                  "session-cookie-expires':'60'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_int_equal(f.a.balance.affinity_mode, TBL_AFFINITY_BALANCED);
    assert_int_equal(f.a.balance.lifetime, 60);
    ann_fx_free(&f);

    /* Unsupported but harmless: a warning, the rest applies. */
    ann_parse(&f, "{'" NG "affinity':'cookie','" NG
                  "session-cookie-conditional-samesite-none':'true'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_non_null(strstr(f.warnings, "conditional-samesite-none"));
    ann_fx_free(&f);
}

static void
test_canary_ingress_keeps_only_the_canary_behavior(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "canary':'true','" NG "affinity':'cookie','" NG
                  "affinity-canary-behavior':'legacy'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_true(f.a.balance.canary_legacy);
    assert_non_null(strstr(f.warnings, "affinity: ignored on a canary"));
    ann_fx_free(&f);

    ann_parse(&f, "{'" NG "canary':'true','" NG
                  "affinity-canary-behavior':'legacy'}");
    assert_string_equal(f.warnings, "");
    ann_fx_free(&f);
}

static void
test_rejections(void **state)
{
    (void)state;
    ann_expect_invalid("{'" NG "load-balance':'least_conn'}",
                       NG "load-balance", "round_robin or ewma");
    ann_expect_invalid("{'" NG "upstream-hash-by':'$'}", "upstream-hash-by",
                       "variables");
    ann_expect_invalid("{'" NG "upstream-hash-by':'${x'}", "upstream-hash-by",
                       "variables");
    ann_expect_invalid("{'" NG "upstream-hash-by':'$x','" NG
                       "upstream-hash-by-subset':'true','" NG
                       "upstream-hash-by-subset-size':'5'}",
                       "upstream-hash-by-subset-size", "only 3");
    ann_expect_invalid("{'" NG "affinity':'ip'}", "affinity", "cookie");
    ann_expect_invalid("{'" NG "affinity':'cookie','" NG
                       "affinity-mode':'sometimes'}",
                       "affinity-mode", "balanced or persistent");
    ann_expect_invalid("{'" NG "affinity-canary-behavior':'odd'}",
                       "affinity-canary-behavior", "sticky or legacy");
    ann_expect_invalid("{'" NG "session-cookie-name':'a b'}",
                       "session-cookie-name", "cookie name");
    ann_expect_invalid("{'" NG "session-cookie-name':'a;b'}",
                       "session-cookie-name", "cookie name");
    ann_expect_invalid("{'" NG "session-cookie-path':'app'}",
                       "session-cookie-path", "path");
    ann_expect_invalid("{'" NG "session-cookie-path':'/a;Domain=x'}",
                       "session-cookie-path", "';'");
    ann_expect_invalid("{'" NG "session-cookie-domain':'a.com; Secure'}",
                       "session-cookie-domain", "domain");
    ann_expect_invalid("{'" NG "session-cookie-samesite':'Sometimes'}",
                       "session-cookie-samesite", "None, Lax or Strict");
    ann_expect_invalid("{'" NG "session-cookie-max-age':'-1'}",
                       "session-cookie-max-age", "");
    ann_expect_invalid("{'" NG "session-cookie-secure':'yes please'}",
                       "session-cookie-secure", "");
}

/* ------------------------------------------------------------- model */

static const char *
str(fixture *f, tbl_str s)
{
    return tbl_view_str(&f->view, s);
}

static void
setup(fixture *f, const char *configmap_load_balance)
{
    fx_init_service_a(f);
    fx_service(f, "default", "b", "", 80, 8080, "10.0.0.2");
    if (configmap_load_balance != NULL) {
        f->cfg.configmap = "ops/settings";
        fx_put(f,
               "{'apiVersion':'v1','kind':'ConfigMap','metadata':"
               "{'name':'settings','namespace':'ops'},'data':"
               "{'load-balance':'%s'}}",
               configmap_load_balance);
    }
}

static void
test_policy_precedence(void **state)
{
    fixture           f;
    const tbl_policy *p;

    (void)state;
    setup(&f, "ewma");
    fx_annotated_ingress(&f, "sticky", "s.example",
                         "'" NG "affinity':'cookie','" NG
                         "upstream-hash-by':'$request_uri','" NG
                         "session-cookie-samesite':'Strict','" NG
                         "session-cookie-max-age':'60','" NG
                         "session-cookie-secure':'true','" NG
                         "session-cookie-change-on-failure':'true'");
    fx_annotated_ingress(&f, "hashed", "h.example",
                         "'" NG "upstream-hash-by':'$remote_addr','" NG
                         "load-balance':'round_robin'");
    fx_annotated_ingress(&f, "subset", "u.example",
                         "'" NG "upstream-hash-by':'$arg_u','" NG
                         "upstream-hash-by-subset':'true'");
    fx_annotated_ingress(&f, "rr", "r.example",
                         "'" NG "load-balance':'round_robin'");
    fx_annotated_ingress(&f, "other", "o.example",
                         "'" NG "x-forwarded-prefix':'/x'");
    fx_ingress(
        &f, "default", "plain", NULL, "",
        FX_RULES(FX_RULE("p.example", FX_PATH("/", "Prefix", "a", 80))));
    fx_build(&f);

    p = tbl_view_policy(&f.view, fx_route_of(&f, "sticky")->policy);
    assert_non_null(p);
    assert_int_equal(p->affinity_mode, TBL_AFFINITY_BALANCED);
    assert_string_equal(str(&f, p->affinity_cookie_name), "INGRESSCOOKIE");
    assert_string_equal(str(&f, p->affinity_cookie_path), "");
    assert_string_equal(str(&f, p->affinity_cookie_samesite), "Strict");
    assert_int_equal(p->affinity_max_age, 60);
    assert_true(p->flags & TBL_POL_AFFINITY_SECURE);
    assert_true(p->flags & TBL_POL_AFFINITY_CHANGE_ON_FAILURE);

    p = tbl_view_policy(&f.view, fx_route_of(&f, "hashed")->policy);
    assert_int_equal(p->load_balance, TBL_LB_HASH);
    assert_int_equal(p->affinity_mode, TBL_AFFINITY_NONE);
    assert_string_equal(str(&f, p->hash_by), "$remote_addr");

    p = tbl_view_policy(&f.view, fx_route_of(&f, "subset")->policy);
    assert_int_equal(p->load_balance, TBL_LB_HASH_SUBSET);
    assert_string_equal(str(&f, p->hash_by), "$arg_u");

    p = tbl_view_policy(&f.view, fx_route_of(&f, "rr")->policy);
    assert_int_equal(p->load_balance, TBL_LB_ROUND_ROBIN);

    /* A policy for other reasons carries the ConfigMap's method. */
    p = tbl_view_policy(&f.view, fx_route_of(&f, "other")->policy);
    assert_int_equal(p->load_balance, TBL_LB_EWMA);
    assert_int_equal(p->affinity_mode, TBL_AFFINITY_NONE);

    /* No policy: the module reads CONFIG. */
    assert_null(tbl_view_policy(&f.view, fx_route_of(&f, "plain")->policy));
    assert_int_equal(tbl_view_config(&f.view)->load_balance, TBL_LB_EWMA);
    fx_free(&f);
}

static void
test_configmap_load_balance_bad_value_keeps_default(void **state)
{
    fixture     f;
    const char *log;

    (void)state;
    setup(&f, "random");
    fx_ingress(
        &f, "default", "plain", NULL, "",
        FX_RULES(FX_RULE("p.example", FX_PATH("/", "Prefix", "a", 80))));
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_int_equal(tbl_view_config(&f.view)->load_balance,
                     TBL_LB_ROUND_ROBIN);
    assert_non_null(strstr(log, "field=data.load-balance value=\"random\""));
    fx_free(&f);
}

static void
test_canary_affinity_behavior(void **state)
{
    fixture           f;
    const tbl_canary *c;

    (void)state;
    setup(&f, NULL);
    fx_ingress(
        &f, "default", "main", "2026-01-01T00:00:00Z",
        "'annotations':{'" NG "affinity':'cookie'}",
        FX_RULES(FX_RULE("c.example", FX_PATH("/", "Prefix", "a", 80))));
    fx_ingress(
        &f, "default", "canary", "2026-01-02T00:00:00Z",
        "'annotations':{'" NG "canary':'true','" NG "canary-weight':'50','" NG
        "affinity-canary-behavior':'legacy'}",
        FX_RULES(FX_RULE("c.example", FX_PATH("/", "Prefix", "b", 80))));
    fx_build(&f);
    c = tbl_view_canary(&f.view, fx_route_of(&f, "main")->canary);
    assert_non_null(c);
    assert_true(c->flags & TBL_CANARY_AFFINITY_LEGACY);
    fx_free(&f);

    setup(&f, NULL);
    fx_ingress(
        &f, "default", "main", "2026-01-01T00:00:00Z",
        "'annotations':{'" NG "affinity':'cookie'}",
        FX_RULES(FX_RULE("c.example", FX_PATH("/", "Prefix", "a", 80))));
    fx_ingress(
        &f, "default", "canary", "2026-01-02T00:00:00Z",
        "'annotations':{'" NG "canary':'true','" NG "canary-weight':'50'}",
        FX_RULES(FX_RULE("c.example", FX_PATH("/", "Prefix", "b", 80))));
    fx_build(&f);
    c = tbl_view_canary(&f.view, fx_route_of(&f, "main")->canary);
    assert_non_null(c);
    assert_int_equal(c->flags & TBL_CANARY_AFFINITY_LEGACY, 0);
    fx_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_canary_ingress_keeps_only_the_canary_behavior),
        cmocka_unit_test(test_policy_precedence),
        cmocka_unit_test(test_configmap_load_balance_bad_value_keeps_default),
        cmocka_unit_test(test_canary_affinity_behavior),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
