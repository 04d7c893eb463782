/*
 * test_auth.c -- basic auth: the auth family on its own (auth-type,
 * auth-secret, auth-secret-type, auth-realm, and every value that
 * denies), then the policy the model emits from a Secret: htpasswd lines
 * kept, unsupported hashes skipped with a warning naming the user,
 * auth-map, and the missing, cross-namespace and unusable Secrets that
 * deny the routes -- never logging a hash.
 */
#include <stdio.h>
#include <string.h>

#include "ann_fixture.h"
#include "model_fixture.h"

#define BCRYPT "$2y$05$P83AWzTFinoPnTvfIQ.HW.NCHwA1vL4P1oDree6GHalVDwYePqNkW"
#define APR1   "$apr1$SiUouV62$RuLXDrJRIp7rlaoVdy.m8."
#define SHA    "{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM="
#define DES    "abzlUXK5ed5rs"

/* ------------------------------------------------------------ family */

static void
test_family_basic(void **state)
{
    ann_fx f;

    (void)state;
    ann_parse(&f, "{'" NG "auth-type':'basic','" NG "auth-secret':'htp','" NG
                  "auth-realm':'Team A'}");
    assert_int_equal(f.rc, CTL_ANN_OK);
    assert_int_equal(f.a.auth.type, TBL_AUTH_BASIC);
    assert_false(f.a.auth.denied);
    assert_false(f.a.auth.map);
    assert_string_equal(f.a.auth.secret, "htp");
    assert_string_equal(f.a.auth.realm, "Team A");
    assert_string_equal(f.warnings, "");
    ann_fx_free(&f);

    /* ours wins; auth-map; a namespaced reference */
    ann_parse(&f,
              "{'" NG "auth-type':'digest','" SH "auth-type':'basic','" NG
              "auth-secret':'other/htp','" NG "auth-secret-type':'auth-map'}");
    assert_int_equal(f.a.auth.type, TBL_AUTH_BASIC);
    assert_false(f.a.auth.denied);
    assert_true(f.a.auth.map);
    ann_fx_free(&f);

    /* without auth-type the other keys mean nothing */
    ann_parse(&f, "{'" NG "auth-secret':'htp','" NG "auth-realm':'x'}");
    assert_int_equal(f.a.auth.type, TBL_AUTH_NONE);
    assert_false(f.a.auth.denied);
    ann_fx_free(&f);
}

static void
test_family_denies(void **state)
{
    static const struct {
        const char *json;
        const char *warning;
    } bad[] = {
        {"{'" NG "auth-type':'digest','" NG "auth-secret':'htp'}",
         "auth-type: digest authentication is not supported"},
        {"{'" NG "auth-type':'Basic','" NG "auth-secret':'htp'}",
         "auth-type: must be basic"},
        {"{'" NG "auth-type':'basic'}", "auth-secret: missing"},
        {"{'" NG "auth-type':'basic','" NG "auth-secret':'a/b/c'}",
         "auth-secret: must be name or namespace/name"},
        {"{'" NG "auth-type':'basic','" NG "auth-secret':'Htp'}",
         "auth-secret: must be name"},
        {"{'" NG "auth-type':'basic','" NG "auth-secret':'/htp'}",
         "auth-secret: must be name"},
        {"{'" NG "auth-type':'basic','" NG "auth-secret':'htp','" NG
         "auth-secret-type':'file'}",
         "auth-secret-type: must be auth-file or auth-map"},
        {"{'" NG "auth-type':'basic','" NG "auth-secret':'htp','" NG
         "auth-realm':'a\\u0001b'}",
         NG "auth-realm: "},
        {"{'" NG "auth-type':'basic\\n','" NG "auth-secret':'htp'}",
         NG "auth-type: "},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ann_fx f;

        ann_parse(&f, bad[i].json);
        assert_int_equal(f.rc, CTL_ANN_OK);
        assert_true(f.a.auth.denied);
        if (strstr(f.warnings, bad[i].warning) == NULL)
            fail_msg("case %zu: warnings \"%s\" lack \"%s\"", i, f.warnings,
                     bad[i].warning);
        ann_fx_free(&f);
    }
}

/* ------------------------------------------------------------- model */

static void
put_basic(fixture *f, const char *name, const char *host, const char *secret)
{
    char ann[300];

    snprintf(ann, sizeof(ann),
             "'" NG "auth-type':'basic','" NG "auth-secret':'%s','" NG
             "auth-realm':'Staff'",
             secret);
    fx_annotated_ingress(f, name, host, ann);
}

static void
put_secret(fixture *f, const char *ns, const char *name, const char *data)
{
    fx_put(f,
           "{'apiVersion':'v1','kind':'Secret','metadata':{'namespace':"
           "'%s','name':'%s'},%s}",
           ns, name, data);
}

static const char *
lines_of(fixture *f, const tbl_policy *p)
{
    static char buf[2048];

    assert_true(p->auth_secret.len < sizeof(buf));
    memcpy(buf, tbl_view_blob(&f->view, p->auth_secret), p->auth_secret.len);
    buf[p->auth_secret.len] = '\0';
    return buf;
}

static void
test_model_auth_file(void **state)
{
    fixture           f;
    const tbl_policy *p;
    const char       *log;

    (void)state;
    fx_init_service_a(&f);
    put_secret(&f, "default", "htp",
               "'stringData':{'auth':'# staff\\n"
               "alice:" BCRYPT "\\r\\n\\nbob:" APR1 ":comment\\n"
               "carol:{PLAIN}secret\\ndave:" SHA "\\nerin:" DES
               "\\nno-colon\\n'}");
    put_basic(&f, "web", "w.example", "htp");
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();

    p = fx_policy(&f, "w.example");
    assert_non_null(p);
    assert_int_equal(p->auth_type, TBL_AUTH_BASIC);
    assert_int_equal(p->flags & TBL_POL_DENIED, 0);
    assert_string_equal(tbl_view_str(&f.view, p->auth_realm), "Staff");
    assert_string_equal(lines_of(&f, p), "alice:" BCRYPT "\nbob:" APR1
                                         "\ndave:" SHA "\nerin:" DES "\n");
    assert_non_null(strstr(log, "user \\\"carol\\\": the hash is not bcrypt"));
    assert_non_null(strstr(log, "a line is not user:hash"));
    assert_non_null(strstr(log, "secret=\"default/htp\" key=\"auth\""));
    assert_non_null(strstr(log, "object=default/web"));
    assert_null(strstr(log, "PLAIN"));
    fx_free(&f);
}

static void
test_model_auth_map(void **state)
{
    fixture           f;
    const tbl_policy *p;

    (void)state;
    fx_init_service_a(&f);
    /* data is base64: "{SHA}GpHW..." for alice; stringData wins for bob */
    put_secret(&f, "default", "users",
               "'data':{'alice':'e1NIQX1HcEhXTDN5bWM1bGlXa05vcHF0ZFNqdXFZSE09"
               "','bob':'eA=='},'stringData':{'bob':'" DES "\\n'}");
    fx_annotated_ingress(&f, "web", "w.example",
                         "'" NG "auth-type':'basic','" NG
                         "auth-secret':'users','" NG
                         "auth-secret-type':'auth-map'");
    fx_build(&f);
    p = fx_policy(&f, "w.example");
    assert_non_null(p);
    assert_int_equal(p->flags & TBL_POL_DENIED, 0);
    assert_string_equal(lines_of(&f, p), "bob:" DES "\nalice:" SHA "\n");
    assert_string_equal(tbl_view_str(&f.view, p->auth_realm), "");
    fx_free(&f);
}

static void
assert_denied(fixture *f, const char *host, const char *log,
              const char *reason)
{
    const tbl_policy *p = fx_policy(f, host);

    assert_non_null(p);
    assert_true(p->flags & TBL_POL_DENIED);
    assert_int_equal(p->auth_secret.len, 0);
    if (strstr(log, reason) == NULL)
        fail_msg("log lacks \"%s\":\n%s", reason, log);
}

static void
test_model_unusable_secrets_deny(void **state)
{
    fixture     f;
    const char *log;

    (void)state;
    fx_init_service_a(&f);
    put_secret(&f, "default", "nokey", "'stringData':{'users':'a:" SHA "'}");
    put_secret(&f, "default", "junk", "'stringData':{'auth':'a:xyz\\n'}");
    put_secret(&f, "default", "b64", "'data':{'auth':'!!!'}");
    put_secret(&f, "other", "htp", "'stringData':{'auth':'a:" SHA "'}");
    put_basic(&f, "missing", "m.example", "gone");
    put_basic(&f, "nokey", "k.example", "nokey");
    put_basic(&f, "junk", "j.example", "junk");
    put_basic(&f, "b64", "b.example", "b64");
    put_basic(&f, "cross", "c.example", "other/htp");
    fx_annotated_ingress(&f, "digest", "d.example",
                         "'" NG "auth-type':'digest','" NG
                         "auth-secret':'htp'");
    fx_annotated_ingress(&f, "open", "o.example", "");
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();

    assert_denied(&f, "m.example", log,
                  "secret=\"default/gone\" key=\"auth\" reason=\"not found");
    assert_denied(&f, "k.example", log,
                  "secret=\"default/nokey\" key=\"auth\" reason=\"missing");
    assert_denied(&f, "j.example", log, "no usable user:hash line");
    assert_denied(&f, "b.example", log, "not valid base64");
    assert_denied(&f, "c.example", log,
                  "needs --allow-cross-namespace-resources");
    assert_denied(&f, "d.example", log,
                  "digest authentication is not "
                  "supported");
    assert_null(fx_policy(&f, "o.example"));
    assert_null(strstr(log, "GpHW"));
    fx_free(&f);
}

static void
test_model_cross_namespace_allowed(void **state)
{
    fixture           f;
    const tbl_policy *p;

    (void)state;
    fx_init_service_a(&f);
    f.cfg.allow_cross_namespace = true;
    put_secret(&f, "other", "htp", "'stringData':{'auth':'a:" SHA "'}");
    put_basic(&f, "cross", "c.example", "other/htp");
    fx_build(&f);
    p = fx_policy(&f, "c.example");
    assert_non_null(p);
    assert_int_equal(p->flags & TBL_POL_DENIED, 0);
    assert_string_equal(lines_of(&f, p), "a:" SHA "\n");
    fx_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_family_basic),
        cmocka_unit_test(test_family_denies),
        cmocka_unit_test(test_model_auth_file),
        cmocka_unit_test(test_model_auth_map),
        cmocka_unit_test(test_model_unusable_secrets_deny),
        cmocka_unit_test(test_model_cross_namespace_allowed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
