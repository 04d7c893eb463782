/*
 * test_model_sink.c -- what the model hands to the status and Event
 * writers after a build (ctl_model_sink): begin and end around every
 * build, each Ingress of our class as owned (served or refused), and one
 * problem per thing wrong with it, with the reason and a message naming
 * the field and the value.  The table itself is the model tests' topic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "model.h"
#include "store.h"
#include "tbl.h"

#define MAX_SEEN 32

typedef struct {
    int  begins;
    int  ends;
    bool complete;
    int  owned;
    char owned_names[MAX_SEEN][64];
    int  problems;
    char problem[MAX_SEEN][1200]; /* "ns/name reason: message" */
} recorder;

static void
rec_begin(void *data)
{
    recorder *r = data;

    memset(r, 0, sizeof(*r));
    r->begins = 1;
}

static void
rec_owned(void *data, const ctl_object *ing)
{
    recorder *r = data;

    assert_true(r->owned < MAX_SEEN);
    snprintf(r->owned_names[r->owned++], 64, "%s/%s", ing->namespace_,
             ing->name);
}

static void
rec_problem(void *data, const ctl_object *ing, const char *reason,
            const char *message)
{
    recorder *r = data;

    assert_true(r->problems < MAX_SEEN);
    snprintf(r->problem[r->problems++], 1200, "%s/%s %s: %s", ing->namespace_,
             ing->name, reason, message);
}

static void
rec_end(void *data, bool complete)
{
    recorder *r = data;

    r->ends++;
    r->complete = complete;
}

static bool
has_owned(const recorder *r, const char *name)
{
    for (int i = 0; i < r->owned; i++) {
        if (strcmp(r->owned_names[i], name) == 0)
            return true;
    }
    return false;
}

static int
count_problem(const recorder *r, const char *line)
{
    int n = 0;

    for (int i = 0; i < r->problems; i++)
        n += strcmp(r->problem[i], line) == 0;
    return n;
}

static void
put(ctl_store *s, const char *json_text)
{
    cJSON *json = cJSON_Parse(json_text);
    const cJSON *meta, *ns;
    int kind;

    assert_non_null(json);
    kind = ctl_kind_from_json(json);
    assert_true(kind >= 0);
    meta = cJSON_GetObjectItemCaseSensitive(json, "metadata");
    ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
    assert_int_equal(
        ctl_store_put(s, (ctl_kind)kind, ns ? ns->valuestring : "",
                      cJSON_GetObjectItemCaseSensitive(meta, "name")
                          ->valuestring,
                      json, "test"),
        0);
}

#define CLASS                                                                 \
    "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"IngressClass\","    \
    "\"metadata\":{\"name\":\"shmingress\"},"                                 \
    "\"spec\":{\"controller\":\"shmingress.io/controller\"}}"

#define SERVICE(name)                                                         \
    "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\""  \
    name "\",\"namespace\":\"shop\"},\"spec\":{\"ports\":[{\"name\":"         \
    "\"http\",\"port\":80}]}}"

/* An Ingress of class cls, created at minute min, with extra spec. */
static void
put_ingress(ctl_store *s, const char *name, const char *cls, int min,
            const char *annotations, const char *spec)
{
    char buf[4096];

    snprintf(buf, sizeof(buf),
             "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\","
             "\"metadata\":{\"name\":\"%s\",\"namespace\":\"shop\","
             "\"creationTimestamp\":\"2025-01-01T10:%02d:00Z\","
             "\"annotations\":{%s}},"
             "\"spec\":{\"ingressClassName\":\"%s\",%s}}",
             name, min, annotations, cls, spec);
    put(s, buf);
}

#define RULE(host, svc, port)                                                 \
    "{\"host\":\"" host "\",\"http\":{\"paths\":[{\"path\":\"/\","           \
    "\"pathType\":\"Prefix\",\"backend\":{\"service\":{\"name\":\"" svc      \
    "\",\"port\":" port "}}}]}}"

static void
build(const ctl_store *s, recorder *r)
{
    ctl_model_sink sink = {rec_begin, rec_owned, rec_problem, rec_end, r};
    ctl_model_config cfg;
    ctl_model_stats stats;
    tbl_builder *b = tbl_builder_new();

    memset(&cfg, 0, sizeof(cfg));
    cfg.sink = &sink;
    assert_non_null(b);
    assert_int_equal(ctl_model_build(s, &cfg, b, &stats), 0);
    tbl_builder_free(b);
    assert_int_equal(r->begins, 1);
    assert_int_equal(r->ends, 1);
    assert_true(r->complete);
}

static void
test_owned_are_those_of_our_class(void **state)
{
    ctl_store *s = ctl_store_new();
    recorder r;

    (void)state;
    put(s, CLASS);
    put(s, SERVICE("web"));
    put_ingress(s, "good", "shmingress", 1, "",
                "\"rules\":[" RULE("a.example.com", "web", "{\"number\":80}")
                "]");
    put_ingress(s, "bad", "shmingress", 2, "",
                "\"rules\":[{\"host\":\"Bad.example.com\"}]");
    put_ingress(s, "snippet", "shmingress", 3,
                "\"nginx.ingress.kubernetes.io/server-snippet\":\"x\"",
                "\"rules\":[" RULE("s.example.com", "web", "{\"number\":80}")
                "]");
    put_ingress(s, "foreign", "other", 4, "",
                "\"rules\":[{\"host\":\"Bad.example.com\"}]");
    build(s, &r);
    assert_int_equal(r.owned, 3);
    assert_true(has_owned(&r, "shop/good"));
    assert_true(has_owned(&r, "shop/bad"));
    assert_true(has_owned(&r, "shop/snippet"));
    assert_int_equal(r.problems, 2);
    assert_int_equal(count_problem(&r, "shop/bad InvalidIngress: "
                                       "spec.rules[0].host=\"Bad.example.com"
                                       "\": must be a lower-case DNS-1123 "
                                       "subdomain"),
                     1);
    assert_int_equal(
        count_problem(&r, "shop/snippet AnnotationRefused: "
                          "metadata.annotations[\"nginx.ingress.kubernetes."
                          "io/server-snippet\"]: snippet annotations are "
                          "never supported; the ingress is not served"),
        1);

    /* Every build reports again: the sink learns the whole picture. */
    build(s, &r);
    assert_int_equal(r.owned, 3);
    assert_int_equal(r.problems, 2);
    ctl_store_free(s);
}

static void
test_missing_service_port_and_secret(void **state)
{
    ctl_store *s = ctl_store_new();
    recorder r;

    (void)state;
    put(s, CLASS);
    put(s, SERVICE("web"));
    /* Two paths to one missing Service: one problem. */
    put_ingress(s, "orphan", "shmingress", 1, "",
                "\"rules\":[{\"host\":\"o.example.com\",\"http\":{\"paths\":"
                "[{\"path\":\"/a\",\"pathType\":\"Prefix\",\"backend\":{"
                "\"service\":{\"name\":\"gone\",\"port\":{\"number\":80}}}},"
                "{\"path\":\"/b\",\"pathType\":\"Prefix\",\"backend\":{"
                "\"service\":{\"name\":\"gone\",\"port\":{\"number\":80}}}}"
                "]}}]");
    put_ingress(s, "port", "shmingress", 2, "",
                "\"defaultBackend\":{\"service\":{\"name\":\"web\",\"port\":"
                "{\"number\":8080}}},\"rules\":["
                RULE("p.example.com", "web", "{\"name\":\"grpc\"}") "]");
    put_ingress(s, "tls", "shmingress", 3, "",
                "\"tls\":[{\"hosts\":[\"t.example.com\"],\"secretName\":"
                "\"t-tls\"}],\"rules\":["
                RULE("t.example.com", "web", "{\"number\":80}") "]");
    build(s, &r);
    assert_int_equal(r.problems, 4);
    assert_int_equal(
        count_problem(&r, "shop/orphan ServiceNotFound: spec.rules[0].http."
                          "paths[0].backend.service.name=\"gone\": Service "
                          "shop/gone not found"),
        1);
    assert_int_equal(
        count_problem(&r, "shop/port PortNotFound: spec.rules[0].http.paths[0]"
                          ".backend.service.port.name=\"grpc\": Service "
                          "shop/web has no port named \"grpc\""),
        1);
    assert_int_equal(
        count_problem(&r, "shop/port PortNotFound: spec.defaultBackend.service"
                          ".port.number=8080: Service shop/web has no port "
                          "8080"),
        1);
    assert_int_equal(
        count_problem(&r, "shop/tls SecretNotFound: spec.tls[0].secretName="
                          "\"t-tls\": Secret shop/t-tls not found"),
        1);

    put(s, SERVICE("gone"));
    put(s, "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{"
           "\"name\":\"t-tls\",\"namespace\":\"shop\"},\"type\":\"Opaque\"}");
    build(s, &r);
    assert_int_equal(r.problems, 3); /* the port ones and the Secret */
    assert_int_equal(
        count_problem(&r, "shop/tls InvalidSecret: spec.tls[0].secretName="
                          "\"t-tls\": Secret shop/t-tls is not usable "
                          "(data[tls.crt]: missing); its hosts get the "
                          "default certificate"),
        1);
    ctl_store_free(s);
}

static void
test_conflicts_name_the_winner(void **state)
{
    ctl_store *s = ctl_store_new();
    recorder r;

    (void)state;
    put(s, CLASS);
    put(s, SERVICE("web"));
    put(s, SERVICE("api"));
    put_ingress(s, "old", "shmingress", 1, "",
                "\"defaultBackend\":{\"service\":{\"name\":\"web\",\"port\":"
                "{\"number\":80}}},\"rules\":["
                RULE("c.example.com", "web", "{\"number\":80}") "]");
    put_ingress(s, "new", "shmingress", 2, "",
                "\"defaultBackend\":{\"service\":{\"name\":\"api\",\"port\":"
                "{\"number\":80}}},\"rules\":["
                RULE("c.example.com", "api", "{\"number\":80}") "]");
    build(s, &r);
    assert_int_equal(
        count_problem(&r, "shop/new PathConflict: spec.rules[0].http.paths[0]"
                          ".path=\"/\" (Prefix, host \"c.example.com\") is "
                          "served by shop/old path \"/\": the oldest ingress "
                          "wins"),
        1);
    assert_int_equal(
        count_problem(&r, "shop/new DefaultBackendConflict: spec.defaultBackend"
                          ".service.name=\"api\": requests for host "
                          "\"c.example.com\" use the default backend of "
                          "shop/old: the oldest ingress wins"),
        1);
    ctl_store_free(s);
}

/* PEM of a memory BIO, base64 again for a Secret's data; caller frees. */
static char *
bio_base64(BIO *mem)
{
    char *pem, *out;
    long n = BIO_get_mem_data(mem, &pem);

    out = calloc(1, (size_t)(4 * ((n + 2) / 3) + 1));
    assert_non_null(out);
    EVP_EncodeBlock((unsigned char *)out, (unsigned char *)pem, (int)n);
    return out;
}

/* A Secret holding a self-signed EC certificate for host that expired a
 * day ago. */
static void
put_expired_secret(ctl_store *s, const char *name, const char *host)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *crt = X509_new();
    X509_NAME *subject;
    X509_EXTENSION *san;
    BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
    char dns[300], *crt64, *key64, buf[8192];

    assert_non_null(key);
    assert_non_null(crt);
    X509_set_version(crt, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(crt), 7);
    X509_gmtime_adj(X509_getm_notBefore(crt), -2 * 86400);
    X509_gmtime_adj(X509_getm_notAfter(crt), -86400);
    subject = X509_get_subject_name(crt);
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                               (const unsigned char *)host, -1, -1, 0);
    X509_set_issuer_name(crt, subject);
    snprintf(dns, sizeof(dns), "DNS:%s", host);
    san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, dns);
    assert_non_null(san);
    X509_add_ext(crt, san, -1);
    X509_EXTENSION_free(san);
    X509_set_pubkey(crt, key);
    assert_true(X509_sign(crt, key, EVP_sha256()) > 0);
    PEM_write_bio_X509(cb, crt);
    PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL);
    crt64 = bio_base64(cb);
    key64 = bio_base64(kb);
    snprintf(buf, sizeof(buf),
             "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{"
             "\"name\":\"%s\",\"namespace\":\"shop\"},\"type\":"
             "\"kubernetes.io/tls\",\"data\":{\"tls.crt\":\"%s\","
             "\"tls.key\":\"%s\"}}",
             name, crt64, key64);
    put(s, buf);
    free(crt64);
    free(key64);
    BIO_free(cb);
    BIO_free(kb);
    X509_free(crt);
    EVP_PKEY_free(key);
}

static void
test_expired_certificate_and_uncovered_host(void **state)
{
    ctl_store *s = ctl_store_new();
    recorder r;

    (void)state;
    put(s, CLASS);
    put(s, SERVICE("web"));
    put_expired_secret(s, "old-tls", "e.example.com");
    put_ingress(s, "tls", "shmingress", 1, "",
                "\"tls\":[{\"hosts\":[\"e.example.com\",\"u.example.com\"],"
                "\"secretName\":\"old-tls\"}],\"rules\":["
                RULE("e.example.com", "web", "{\"number\":80}") ","
                RULE("u.example.com", "web", "{\"number\":80}") "]");
    build(s, &r);
    assert_int_equal(
        count_problem(&r, "shop/tls CertificateExpired: spec.tls[0]."
                          "secretName=\"old-tls\": the certificate of Secret "
                          "shop/old-tls expired; it is served anyway"),
        1);
    assert_int_equal(
        count_problem(&r, "shop/tls HostNotCovered: spec.tls[0].hosts[1]="
                          "\"u.example.com\": the certificate does not name "
                          "this host; it gets the default certificate"),
        1);
    ctl_store_free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_owned_are_those_of_our_class),
        cmocka_unit_test(test_missing_service_port_and_secret),
        cmocka_unit_test(test_conflicts_name_the_winner),
        cmocka_unit_test(test_expired_certificate_and_uncovered_host),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
