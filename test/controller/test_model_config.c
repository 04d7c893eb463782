/*
 * test_model_config.c -- the --configmap settings as the table carries
 * them: every key read into CONFIG, route policies resolved against the
 * ConfigMap where their annotations say nothing, a bad value keeping the
 * last good one (and logged with the ConfigMap, key and value), and the
 * source ranges failing closed.  Read back through the view.
 */
#include <stdio.h>
#include <string.h>

#include "model_fixture.h"

#define NG "nginx.ingress.kubernetes.io/"

static void
setup(fixture *f)
{
    fx_init_service_a(f);
    f->cfg.configmap = "ingress/settings";
}

static void
settings(fixture *f, const char *data)
{
    fx_put(f,
           "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':"
           "'settings','namespace':'ingress'},'data':{%s}}",
           data);
}

static int
has_error_code(const uint64_t *map, unsigned code)
{
    code -= TBL_CUSTOM_ERRORS_BASE;
    return (map[code / 64] >> (code % 64)) & 1;
}

static int
matches(fixture *f, uint32_t first, uint32_t count, uint8_t a, uint8_t b,
        uint8_t c, uint8_t d)
{
    uint8_t addr[4] = {a, b, c, d};

    return tbl_cidr_match(&f->view, first, count, addr, 4);
}

static void
test_keys_into_config(void **state)
{
    fixture           f;
    const tbl_config *g;

    (void)state;
    setup(&f);
    settings(&f, "'proxy-connect-timeout':'3','proxy-send-timeout':'20s',"
                 "'proxy-read-timeout':'2m','proxy-body-size':'8m',"
                 "'proxy-next-upstream':'error http_502',"
                 "'proxy-next-upstream-tries':'5',"
                 "'proxy-next-upstream-timeout':'10',"
                 "'proxy-buffering':'on','custom-http-errors':'404, 503',"
                 "'whitelist-source-range':'10.0.0.0/8',"
                 "'denylist-source-range':'10.9.0.0/16',"
                 "'block-cidrs':'192.0.2.0/24,2001:db8::/32',"
                 "'use-forwarded-headers':'true','enable-real-ip':'true',"
                 "'compute-full-forwarded-for':'true',"
                 "'forwarded-for-header':'X-Client-IP',"
                 "'proxy-real-ip-cidr':'172.16.0.0/12'");
    fx_build(&f);
    g = tbl_view_config(&f.view);
    assert_int_equal(g->connect_timeout_ms, 3000);
    assert_int_equal(g->send_timeout_ms, 20000);
    assert_int_equal(g->read_timeout_ms, 120000);
    assert_int_equal(g->body_size_max, 8 << 20);
    assert_int_equal(g->next_upstream, TBL_NEXT_ERROR | TBL_NEXT_HTTP_502);
    assert_int_equal(g->next_upstream_tries, 5);
    assert_int_equal(g->next_upstream_timeout_ms, 10000);
    assert_true(has_error_code(g->custom_errors, 404));
    assert_true(has_error_code(g->custom_errors, 503));
    assert_false(has_error_code(g->custom_errors, 500));
    assert_int_equal(
        g->flags
            & (TBL_CFG_PROXY_BUFFERING | TBL_CFG_USE_FORWARDED_HEADERS
               | TBL_CFG_ENABLE_REAL_IP | TBL_CFG_COMPUTE_FULL_FORWARDED_FOR
               | TBL_CFG_ACCESS_DENIED),
        TBL_CFG_PROXY_BUFFERING | TBL_CFG_USE_FORWARDED_HEADERS
            | TBL_CFG_ENABLE_REAL_IP | TBL_CFG_COMPUTE_FULL_FORWARDED_FOR);
    assert_string_equal(tbl_view_str(&f.view, g->forwarded_for_header),
                        "X-Client-IP");
    assert_true(matches(&f, g->allow_first, g->allow_count, 10, 1, 1, 1));
    assert_true(matches(&f, g->deny_first, g->deny_count, 10, 9, 1, 1));
    assert_int_equal(g->block_count, 2);
    assert_true(matches(&f, g->block_first, g->block_count, 192, 0, 2, 7));
    assert_true(
        matches(&f, g->real_ip_first, g->real_ip_count, 172, 20, 0, 1));
    assert_false(matches(&f, g->real_ip_first, g->real_ip_count, 10, 0, 0, 1));
    fx_free(&f);
}

/* Without the keys: ingress-nginx's defaults, every IPv4 peer trusted. */
static void
test_defaults(void **state)
{
    fixture           f;
    const tbl_config *g;

    (void)state;
    setup(&f);
    fx_build(&f);
    g = tbl_view_config(&f.view);
    assert_int_equal(g->read_timeout_ms, 60000);
    assert_int_equal(g->body_size_max, 1 << 20);
    assert_int_equal(g->allow_count + g->deny_count + g->block_count, 0);
    assert_int_equal(g->real_ip_count, 1);
    assert_true(matches(&f, g->real_ip_first, 1, 203, 0, 113, 9));
    assert_int_equal(
        g->flags & (TBL_CFG_PROXY_BUFFERING | TBL_CFG_ACCESS_DENIED), 0);
    fx_free(&f);
}

/* A policy takes the ConfigMap's value for what its Ingress leaves
 * unset; what the Ingress writes wins. */
static void
test_policies_resolved_against_the_configmap(void **state)
{
    fixture           f;
    const tbl_policy *p;

    (void)state;
    setup(&f);
    settings(&f,
             "'proxy-read-timeout':'7','proxy-body-size':'2k',"
             "'proxy-buffering':'on','whitelist-source-range':'10.0.0.0/8',"
             "'denylist-source-range':'10.9.0.0/16'");
    fx_annotated_ingress(&f, "prefixed", "x.example",
                         "'" NG "x-forwarded-prefix':'/x'");
    fx_annotated_ingress(&f, "own", "o.example",
                         "'" NG "proxy-read-timeout':'30','" NG
                         "proxy-buffering':'off','" NG
                         "whitelist-source-range':'192.168.0.0/16'");
    fx_annotated_ingress(&f, "plain", "p.example", "");
    fx_build(&f);

    p = fx_policy(&f, "x.example");
    assert_non_null(p);
    assert_int_equal(p->read_timeout_ms, 7000);
    assert_int_equal(p->connect_timeout_ms, 5000);
    assert_int_equal(p->body_size_max, 2048);
    assert_true(p->flags & TBL_POL_PROXY_BUFFERING);
    assert_true(matches(&f, p->allow_first, p->allow_count, 10, 1, 1, 1));
    assert_true(matches(&f, p->deny_first, p->deny_count, 10, 9, 1, 1));

    p = fx_policy(&f, "o.example");
    assert_non_null(p);
    assert_int_equal(p->read_timeout_ms, 30000);
    assert_int_equal(p->body_size_max, 2048);
    assert_false(p->flags & TBL_POL_PROXY_BUFFERING);
    assert_false(matches(&f, p->allow_first, p->allow_count, 10, 1, 1, 1));
    assert_true(matches(&f, p->allow_first, p->allow_count, 192, 168, 1, 1));
    assert_true(matches(&f, p->deny_first, p->deny_count, 10, 9, 1, 1));

    /* no policy: the module reads CONFIG itself */
    assert_null(fx_policy(&f, "p.example"));

    /* a ConfigMap change reaches the policies on the next build */
    settings(&f, "'proxy-read-timeout':'9'");
    fx_build(&f);
    p = fx_policy(&f, "x.example");
    assert_int_equal(p->read_timeout_ms, 9000);
    assert_int_equal(p->allow_count, 0);
    fx_free(&f);
}

static void
test_bad_value_keeps_the_last_good_one(void **state)
{
    fixture     f;
    const char *log;

    (void)state;
    setup(&f);
    settings(&f, "'proxy-read-timeout':'30','custom-http-errors':'404'");
    fx_build(&f);
    assert_int_equal(tbl_view_config(&f.view)->read_timeout_ms, 30000);

    settings(&f, "'proxy-read-timeout':'soon','custom-http-errors':'404,42'");
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_int_equal(tbl_view_config(&f.view)->read_timeout_ms, 30000);
    assert_true(has_error_code(tbl_view_config(&f.view)->custom_errors, 404));
    assert_non_null(strstr(log, "configmap value ignored"));
    assert_non_null(strstr(log, "ingress/settings"));
    assert_non_null(strstr(log, "field=data.proxy-read-timeout "
                                "value=\"soon\""));
    assert_non_null(strstr(log, "using=last-good"));
    assert_non_null(strstr(log, "field=data.custom-http-errors "
                                "value=\"404,42\""));

    /* a key removed from the ConfigMap goes back to its default */
    settings(&f, "'custom-http-errors':'500'");
    fx_build(&f);
    assert_int_equal(tbl_view_config(&f.view)->read_timeout_ms, 60000);
    settings(&f, "'proxy-read-timeout':'never'");
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_int_equal(tbl_view_config(&f.view)->read_timeout_ms, 60000);
    assert_non_null(strstr(log, "using=default"));
    fx_free(&f);
}

static void
test_bad_ranges_fail_closed(void **state)
{
    fixture           f;
    const tbl_config *g;
    const char       *log;

    (void)state;
    setup(&f);
    settings(&f, "'whitelist-source-range':'10.0.0.0/8,not-a-range',"
                 "'proxy-real-ip-cidr':'10.0.0.0/33'");
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    g = tbl_view_config(&f.view);
    assert_true(g->flags & TBL_CFG_ACCESS_DENIED);
    assert_int_equal(g->real_ip_count, 0);
    assert_non_null(strstr(log, "using=deny-all"));
    assert_non_null(strstr(log, "using=no-trusted-peer"));

    settings(&f, "'block-cidrs':'999.1.1.1'");
    fx_build(&f);
    assert_true(tbl_view_config(&f.view)->flags & TBL_CFG_ACCESS_DENIED);

    settings(&f, "'block-cidrs':''");
    fx_build(&f);
    g = tbl_view_config(&f.view);
    assert_false(g->flags & TBL_CFG_ACCESS_DENIED);
    assert_int_equal(g->block_count, 0);
    fx_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_into_config),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_policies_resolved_against_the_configmap),
        cmocka_unit_test(test_bad_value_keeps_the_last_good_one),
        cmocka_unit_test(test_bad_ranges_fail_closed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
