/*
 * test_model_emit.c -- annotations as the table carries them: policies
 * (rate limits, redirects, rewrites, fail-closed denial), canaries
 * paired with primary routes, regex hosts and the order of their routes.
 * Everything is read back through tbl_view_init and the view.
 */
#include <stdio.h>
#include <string.h>

#include "model_fixture.h"

#define NG "nginx.ingress.kubernetes.io/"
#define SH "shmingress.io/"

static void
setup(fixture *f)
{
    fx_init_service_a(f);
    fx_service(f, "default", "b", "", 80, 8080, "10.0.0.2");
    fx_service(f, "default", "c", "", 80, 8080, "10.0.0.3");
}

/* The route of Ingress default/<name> for path, or fail. */
static const tbl_route *
route_of(fixture *f, const char *name, const char *path)
{
    for (uint32_t i = 0; i < f->view.route_count; i++) {
        const tbl_route *r = &f->view.routes[i];

        if (r->path_type != TBL_PATH_DEFAULT &&
            strcmp(tbl_view_str(&f->view, r->ingress_name), name) == 0 &&
            strcmp(tbl_view_str(&f->view, r->path), path) == 0)
            return r;
    }
    fail_msg("no route %s %s", name, path);
    return NULL;
}

static const char *
backend_name(fixture *f, uint32_t backend)
{
    const tbl_backend *be = tbl_view_backend(&f->view, backend);

    assert_non_null(be);
    return tbl_view_str(&f->view, be->service_name);
}

static void
test_policy_carries_values(void **state)
{
    fixture f;
    const tbl_policy *p;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "limited", NULL,
               "'annotations':{'" NG "limit-rps':'10','" NG
               "limit-whitelist':'10.0.0.0/8','" NG
               "permanent-redirect':'https://new.example/','" SH
               "permanent-redirect-code':'308','" NG "app-root':'/app'}",
               FX_RULES(FX_RULE("l.example",
                                FX_PATH("/", "Prefix", "a", 80))));
    fx_ingress(&f, "default", "plain", NULL, "",
               FX_RULES(FX_RULE("p.example",
                                FX_PATH("/", "Prefix", "a", 80))));
    fx_build(&f);
    p = tbl_view_policy(&f.view, route_of(&f, "limited", "/")->policy);
    assert_non_null(p);
    assert_int_equal(p->limit_rps, 10);
    assert_int_equal(p->limit_rpm, 0);
    assert_int_equal(p->limit_burst_multiplier, 5);
    assert_int_equal(p->limit_allow_count, 1);
    assert_int_equal(f.view.cidrs[p->limit_allow_first].prefix_len, 8);
    assert_string_equal(tbl_view_str(&f.view, p->redirect_url),
                        "https://new.example/");
    assert_int_equal(p->redirect_code, 308);
    assert_string_equal(tbl_view_str(&f.view, p->app_root), "/app");
    assert_int_equal(p->flags & TBL_POL_DENIED, 0);
    assert_null(tbl_view_policy(&f.view, route_of(&f, "plain", "/")->policy));
    fx_free(&f);
}

static void
test_bad_allowlist_denies(void **state)
{
    fixture f;
    const tbl_policy *p;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "guarded", NULL,
               "'annotations':{'" NG "limit-rps':'1','" NG
               "limit-allowlist':'10.0.0.0/8,office'}",
               FX_RULES(FX_RULE("g.example",
                                FX_PATH("/", "Prefix", "a", 80))));
    fx_build(&f);
    p = tbl_view_policy(&f.view, route_of(&f, "guarded", "/")->policy);
    assert_non_null(p);
    assert_true(p->flags & TBL_POL_DENIED);
    fx_free(&f);
}

#define CANARY(name, created, ann, host, path, svc)                         \
    fx_ingress(&f, "default", name, created,                                \
               "'annotations':{'" NG "canary':'true'" ann "}",              \
               FX_RULES(FX_RULE(host, FX_PATH(path, "Prefix", svc, 80))))

static void
test_canary_pairs_with_route(void **state)
{
    fixture f;
    const tbl_route *r;
    const tbl_canary *c;
    const char *log;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "main", "2026-01-01T00:00:00Z", "",
               FX_RULES(FX_RULE("w.example",
                                FX_PATH("/", "Prefix", "a", 80),
                                FX_PATH("/api", "Prefix", "a", 80))));
    CANARY("canary", "2026-01-02T00:00:00Z",
           ",'" NG "canary-weight':'20','" NG
           "canary-by-header':'X-Canary','" NG "limit-rps':'1'",
           "w.example", "/", "b");
    CANARY("late", "2026-01-03T00:00:00Z", "", "w.example", "/", "c");
    CANARY("lost", "2026-01-03T00:00:00Z", "", "w.example", "/nothing",
           "c");
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();

    r = route_of(&f, "main", "/");
    assert_string_equal(backend_name(&f, r->backend), "a");
    assert_null(tbl_view_policy(&f.view, r->policy)); /* not borrowed */
    c = tbl_view_canary(&f.view, r->canary);
    assert_non_null(c);
    assert_string_equal(backend_name(&f, c->backend), "b");
    assert_int_equal(c->weight, 20);
    assert_int_equal(c->weight_total, 100);
    assert_int_equal(c->flags, TBL_CANARY_BY_HEADER);
    assert_string_equal(tbl_view_str(&f.view, c->header), "X-Canary");
    assert_string_equal(tbl_view_str(&f.view, c->ingress_name), "canary");
    assert_null(tbl_view_canary(&f.view, route_of(&f, "main", "/api")
                                             ->canary));
    assert_non_null(strstr(log, "object=default/late"));
    assert_non_null(strstr(log, "only one canary per route"));
    assert_non_null(strstr(log, "msg=\"canary ingress not served\" "
                                "kind=Ingress object=default/lost"));
    assert_int_equal(f.stats.ingresses_owned, 4);
    assert_int_equal(f.stats.ingresses_skipped, 2);
    fx_free(&f);
}

static void
test_canary_needs_same_path_type(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "main", NULL, "",
               FX_RULES(FX_RULE("w.example",
                                FX_PATH("/x", "Exact", "a", 80))));
    CANARY("canary", NULL, "", "w.example", "/x", "b");
    fx_build(&f);
    assert_null(tbl_view_canary(&f.view, route_of(&f, "main", "/x")->canary));
    assert_int_equal(f.view.canary_count, 0);
    fx_free(&f);
}

static void
test_regex_host_and_order(void **state)
{
    fixture f;
    const tbl_vhost *vh = NULL;
    const tbl_policy *p;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "rw", "2026-01-01T00:00:00Z",
               "'annotations':{'" NG "rewrite-target':'/$2','" NG
               "x-forwarded-prefix':'/api'}",
               FX_RULES(FX_RULE("r.example",
                                FX_PATH("/api(/|$)(.*)",
                                        "ImplementationSpecific", "a", 80))));
    fx_ingress(&f, "default", "other", "2026-01-02T00:00:00Z", "",
               FX_RULES(FX_RULE("r.example",
                                FX_PATH("/a", "Prefix", "b", 80),
                                FX_PATH("/exact", "Exact", "b", 80),
                                FX_PATH("/longer/path", "Prefix", "c", 80))));
    fx_build(&f);
    assert_int_equal(route_of(&f, "rw", "/api(/|$)(.*)")->path_type,
                     TBL_PATH_REGEX);
    assert_int_equal(route_of(&f, "other", "/a")->path_type, TBL_PATH_REGEX);
    assert_int_equal(route_of(&f, "other", "/exact")->path_type,
                     TBL_PATH_EXACT);
    p = tbl_view_policy(&f.view, route_of(&f, "rw", "/api(/|$)(.*)")
                                     ->policy);
    assert_non_null(p);
    assert_string_equal(tbl_view_str(&f.view, p->rewrite_target), "/$2");
    assert_string_equal(tbl_view_str(&f.view, p->x_forwarded_prefix),
                        "/api");
    for (uint32_t i = 0; i < f.view.vhost_count; i++) {
        if (strcmp(tbl_view_str(&f.view, f.view.vhosts[i].host),
                   "r.example") == 0)
            vh = &f.view.vhosts[i];
    }
    assert_non_null(vh);
    assert_true(vh->flags & TBL_VHOST_REGEX);
    assert_int_equal(vh->regex_count, 3);
    /* Longest first. */
    assert_string_equal(
        tbl_view_str(&f.view,
                     f.view.routes[f.view.route_lists[vh->regex_first]]
                         .path),
        "/api(/|$)(.*)");
    assert_string_equal(
        tbl_view_str(&f.view,
                     f.view.routes[f.view.route_lists[vh->regex_first + 1]]
                         .path),
        "/longer/path");
    assert_string_equal(
        tbl_view_str(&f.view,
                     f.view.routes[f.view.route_lists[vh->regex_first + 2]]
                         .path),
        "/a");
    fx_free(&f);
}

static void
test_rewrite_groups_checked(void **state)
{
    fixture f;
    const char *log;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "few", NULL,
               "'annotations':{'" NG "rewrite-target':'/$2'}",
               FX_RULES(FX_RULE("r.example",
                                FX_PATH("/api(/|$)", "ImplementationSpecific",
                                        "a", 80))));
    fx_ingress(&f, "default", "broken", NULL,
               "'annotations':{'" NG "use-regex':'true'}",
               FX_RULES(FX_RULE("b.example",
                                FX_PATH("/x(", "ImplementationSpecific", "a",
                                        80))));
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_non_null(strstr(log, "object=default/few"));
    assert_non_null(strstr(log, "uses $2 but path"));
    assert_non_null(strstr(log, "object=default/broken"));
    assert_non_null(strstr(log, "not a valid regular expression"));
    assert_int_equal(f.stats.routes, 0);
    fx_free(&f);
}

static const tbl_vhost *
vhost_of(fixture *f, const char *host)
{
    for (uint32_t i = 0; i < f->view.vhost_count; i++) {
        if (strcmp(tbl_view_str(&f->view, f->view.vhosts[i].host), host) ==
            0)
            return &f->view.vhosts[i];
    }
    return NULL;
}

static void
test_from_to_www_adds_counterpart(void **state)
{
    fixture f;
    const tbl_vhost *vh;
    const tbl_policy *p;

    (void)state;
    setup(&f);
    fx_ingress(&f, "default", "www", NULL,
               "'annotations':{'" NG "from-to-www-redirect':'true'}",
               FX_RULES(FX_RULE("shop.example",
                                FX_PATH("/", "Prefix", "a", 80)),
                        FX_RULE("www.blog.example",
                                FX_PATH("/", "Prefix", "a", 80)),
                        FX_RULE("taken.example",
                                FX_PATH("/", "Prefix", "a", 80))));
    fx_ingress(&f, "default", "taken", NULL, "",
               FX_RULES(FX_RULE("www.taken.example",
                                FX_PATH("/", "Prefix", "b", 80))));
    fx_build(&f);
    /* The Ingress's own routes carry no policy. */
    assert_null(tbl_view_policy(&f.view, route_of(&f, "www", "/")->policy));
    vh = vhost_of(&f, "www.shop.example");
    assert_non_null(vh);
    p = tbl_view_policy(&f.view, vh->policy);
    assert_non_null(p);
    assert_int_equal(p->flags, TBL_POL_FROM_TO_WWW);
    vh = vhost_of(&f, "blog.example");
    assert_non_null(vh);
    assert_non_null(tbl_view_policy(&f.view, vh->policy));
    /* An Ingress serves the counterpart: left alone. */
    vh = vhost_of(&f, "www.taken.example");
    assert_non_null(vh);
    assert_null(tbl_view_policy(&f.view, vh->policy));
    assert_string_equal(fx_route(&f, "www.taken.example", "/"), "b:80");
    fx_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_carries_values),
        cmocka_unit_test(test_bad_allowlist_denies),
        cmocka_unit_test(test_canary_pairs_with_route),
        cmocka_unit_test(test_canary_needs_same_path_type),
        cmocka_unit_test(test_regex_host_and_order),
        cmocka_unit_test(test_rewrite_groups_checked),
        cmocka_unit_test(test_from_to_www_adds_counterpart),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
