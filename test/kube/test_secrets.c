/*
 * test_secrets.c -- which Secrets are kept: references from Ingress TLS
 * sections and secret annotations (both prefixes, "name" and
 * "namespace/name"), counted across Ingresses and versions, pins that
 * never go, and a Secret leaving the store with its last reference.
 * No API server here: without a synced Secret reflector nothing is
 * fetched, which is what the first list relies on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_secrets.h"
#include "loop.h"
#include "store.h"

typedef struct {
    ctl_loop     *loop;
    ctl_store    *store;
    kube_secrets *secrets;
} fixture;

static int
setup_with_prefix(void **state, const char *prefix)
{
    fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->loop = ctl_loop_new();
    f->store = ctl_store_new();
    assert_non_null(f->loop);
    assert_non_null(f->store);
    f->secrets = kube_secrets_new(NULL, f->loop, f->store, NULL, prefix);
    assert_non_null(f->secrets);
    *state = f;
    return 0;
}

static int
setup(void **state)
{
    return setup_with_prefix(state, NULL);
}

static int
setup_custom_prefix(void **state)
{
    return setup_with_prefix(state, "example.com/");
}

static int
teardown(void **state)
{
    fixture *f = *state;

    kube_secrets_free(f->secrets);
    ctl_store_free(f->store);
    ctl_loop_free(f->loop);
    free(f);
    return 0;
}

/* Single quotes in fixtures become double quotes. */
static cJSON *
json(const char *text)
{
    char *buf = strdup(text);
    cJSON *j;

    for (char *p = buf; *p; p++)
        if (*p == '\'')
            *p = '"';
    j = cJSON_Parse(buf);
    free(buf);
    assert_non_null(j);
    return j;
}

static void
observe(fixture *f, const char *ns, const char *name, const char *text)
{
    cJSON *j = text ? json(text) : NULL;

    kube_secrets_ingress_observed(f->secrets, ns, name, j);
    cJSON_Delete(j);
}

static void
put_secret(fixture *f, const char *ns, const char *name)
{
    char text[300];

    snprintf(text, sizeof(text),
             "{'apiVersion':'v1','kind':'Secret','metadata':{'name':'%s',"
             "'namespace':'%s'}}", name, ns);
    assert_int_equal(ctl_store_put(f->store, CTL_KIND_SECRET, ns, name,
                                   json(text), "api"), 0);
}

#define WANTED(f, ns, name) kube_secrets_wanted((f)->secrets, ns, name)

static void
test_tls_and_annotations(void **state)
{
    fixture *f = *state;

    observe(f, "shop", "web",
            "{'metadata':{'annotations':{"
            "'nginx.ingress.kubernetes.io/auth-secret':'basic',"
            "'shmingress.io/auth-tls-secret':'certs/client-ca',"
            "'nginx.ingress.kubernetes.io/proxy-ssl-secret':'a/b/c',"
            "'other.io/auth-secret':'not-ours'}},"
            "'spec':{'tls':[{'hosts':['a'],'secretName':'shop-tls'},"
            "{'secretName':''},{'hosts':['b']},"
            "{'secretName':'shop-tls'}]}}");
    assert_true(WANTED(f, "shop", "shop-tls"));
    assert_true(WANTED(f, "shop", "basic"));
    assert_true(WANTED(f, "certs", "client-ca"));
    assert_false(WANTED(f, "shop", "not-ours"));
    assert_false(WANTED(f, "a", "b/c"));
    assert_false(WANTED(f, "shop", "client-ca"));
    assert_int_equal(kube_secrets_referenced(f->secrets), 3);
}

/* Two Ingresses share a Secret: it stays until the last one lets go,
 * then it leaves the store. */
static void
test_counted_across_ingresses(void **state)
{
    fixture *f = *state;
    static const char tls[] =
        "{'spec':{'tls':[{'secretName':'shared'}]}}";

    observe(f, "shop", "one", tls);
    observe(f, "shop", "two", tls);
    put_secret(f, "shop", "shared");
    put_secret(f, "shop", "unrelated");

    observe(f, "shop", "one", "{'spec':{}}");
    assert_true(WANTED(f, "shop", "shared"));
    assert_non_null(ctl_store_get(f->store, CTL_KIND_SECRET, "shop", "shared"));

    observe(f, "shop", "two", NULL);
    assert_false(WANTED(f, "shop", "shared"));
    assert_null(ctl_store_get(f->store, CTL_KIND_SECRET, "shop", "shared"));
    /* Secrets nobody referenced are not the tracker's business. */
    assert_non_null(ctl_store_get(f->store, CTL_KIND_SECRET, "shop",
                                  "unrelated"));
    assert_int_equal(kube_secrets_referenced(f->secrets), 0);
}

/* A new version that keeps a Secret never drops it in between. */
static void
test_update_keeps_common_reference(void **state)
{
    fixture *f = *state;

    observe(f, "shop", "web", "{'spec':{'tls':[{'secretName':'a'}]}}");
    put_secret(f, "shop", "a");
    observe(f, "shop", "web",
            "{'spec':{'tls':[{'secretName':'a'},{'secretName':'b'}]}}");
    assert_non_null(ctl_store_get(f->store, CTL_KIND_SECRET, "shop", "a"));
    assert_true(WANTED(f, "shop", "b"));
    observe(f, "shop", "web", "{'spec':{'tls':[{'secretName':'b'}]}}");
    assert_false(WANTED(f, "shop", "a"));
    assert_null(ctl_store_get(f->store, CTL_KIND_SECRET, "shop", "a"));
}

static void
test_pins_stay(void **state)
{
    fixture *f = *state;

    assert_int_equal(kube_secrets_pin(f->secrets, "ingress", "default-cert"),
                     0);
    observe(f, "ingress", "x",
            "{'spec':{'tls':[{'secretName':'default-cert'}]}}");
    observe(f, "ingress", "x", NULL);
    assert_true(WANTED(f, "ingress", "default-cert"));
}

/* --annotations-prefix replaces the compatibility prefix only. */
static void
test_custom_prefix(void **state)
{
    fixture *f = *state;

    observe(f, "shop", "web",
            "{'metadata':{'annotations':{"
            "'example.com/auth-secret':'custom',"
            "'shmingress.io/auth-secret':'ours',"
            "'nginx.ingress.kubernetes.io/auth-secret':'compat'}}}");
    assert_true(WANTED(f, "shop", "custom"));
    assert_true(WANTED(f, "shop", "ours"));
    assert_false(WANTED(f, "shop", "compat"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tls_and_annotations, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_counted_across_ingresses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_update_keeps_common_reference,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_pins_stay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_custom_prefix,
                                        setup_custom_prefix, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
