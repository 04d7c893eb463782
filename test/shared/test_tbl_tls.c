/*
 * test_tbl_tls.c -- certificates and server names through the builder:
 * records and DER bytes read back through the view, one record per
 * distinct content, SNI exact and wildcard names found by
 * tbl_lookup_cert, the default certificate, vhost certificates, the
 * inputs the builder refuses, and corruptions the validator catches.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tbl_sample.h"
#include "tbl_test.h"

static const uint8_t chain_a[] = "\x30\x82leaf-A\x30\x82intermediate";
static const uint8_t key_a[] = "\x30\x81private-A";
static const uint8_t chain_b[] = "\x30\x82leaf-B";
static const uint8_t key_b[] = "\x30\x81private-B";

static tbl_cert_spec
spec(const uint8_t *chain, size_t chain_len, const uint8_t *key,
     size_t key_len, const char *name)
{
    tbl_cert_spec s = {chain, chain_len, key, key_len, 1900000000, 0,
                       "shop", name};

    return s;
}

static uint32_t
add_cert(tbl_builder *b, tbl_cert_spec s)
{
    char     err[256];
    uint32_t idx = tbl_builder_add_cert(b, &s, err, sizeof(err));

    if (idx == TBL_NONE) {
        fail_msg("add_cert: %s", err);
    }
    return idx;
}

static void
add_sni(tbl_builder *b, const char *host, uint32_t cert)
{
    char err[256];

    if (tbl_builder_add_sni(b, host, cert, err, sizeof(err)) != 0) {
        fail_msg("add_sni %s: %s", host, err);
    }
}

static void
test_round_trip(void **state)
{
    tbl_builder    *b = tbl_builder_new();
    tbl_test_table  t;
    const tbl_cert *c;
    uint32_t        a, bb, again;
    uint64_t        h;

    (void)state;
    a = add_cert(b, spec(chain_a, sizeof(chain_a), key_a, sizeof(key_a),
                         "tls-a"));
    bb = add_cert(b, spec(chain_b, sizeof(chain_b), key_b, sizeof(key_b),
                          "tls-b"));
    /* the same bytes from another Secret: the same record */
    again = add_cert(b, spec(chain_a, sizeof(chain_a), key_a, sizeof(key_a),
                             "tls-copy"));
    assert_int_equal(a, 0);
    assert_int_equal(bb, 1);
    assert_int_equal(again, a);
    tbl_test_finish(b, &t);

    assert_int_equal(t.view.cert_count, 2);
    c = tbl_view_cert(&t.view, a);
    assert_non_null(c);
    assert_int_equal(c->chain.len, sizeof(chain_a));
    assert_memory_equal(tbl_view_blob(&t.view, c->chain), chain_a,
                        sizeof(chain_a));
    assert_memory_equal(tbl_view_blob(&t.view, c->key), key_a,
                        sizeof(key_a));
    assert_int_equal(c->not_after, 1900000000);
    assert_int_equal(c->flags, 0);
    assert_string_equal(tbl_view_str(&t.view, c->secret_namespace), "shop");
    assert_string_equal(tbl_view_str(&t.view, c->secret_name), "tls-a");
    /* the documented content hash: chain, then key seeded by it */
    h = tbl_hash64(key_a, sizeof(key_a),
                   tbl_hash64(chain_a, sizeof(chain_a),
                              0x636572742d686173ull));
    assert_int_equal(c->content_hash, h);
    assert_int_not_equal(t.view.certs[1].content_hash, h);
    assert_null(tbl_view_cert(&t.view, 2));
    assert_null(tbl_view_cert(&t.view, TBL_NONE));
    /* secrets never reach the string pool */
    assert_null(memmem(t.view.strings, t.view.strings_len, "private", 7));
    tbl_test_table_free(&t);
}

/* Same chain, other key (a renewed key) is another certificate. */
static void
test_content_identity(void **state)
{
    tbl_builder *b = tbl_builder_new();

    (void)state;
    assert_int_equal(add_cert(b, spec(chain_a, sizeof(chain_a), key_a,
                                      sizeof(key_a), "x")),
                     0);
    assert_int_equal(add_cert(b, spec(chain_a, sizeof(chain_a), key_b,
                                      sizeof(key_b), "x")),
                     1);
    assert_int_equal(add_cert(b, spec(chain_a, sizeof(chain_a) - 1, key_a,
                                      sizeof(key_a), "x")),
                     2);
    /* chain and key split differently over the same bytes */
    assert_int_equal(add_cert(b, spec(chain_a, sizeof(chain_a) - 1,
                                      chain_a + sizeof(chain_a) - 1,
                                      1, "x")),
                     3);
    assert_int_equal(add_cert(b, spec(chain_a, sizeof(chain_a) - 2,
                                      chain_a + sizeof(chain_a) - 2,
                                      2, "x")),
                     4);
    tbl_builder_free(b);
}

static void
test_sni(void **state)
{
    tbl_builder   *b = tbl_builder_new();
    tbl_test_table t;
    uint32_t       a, c, d;
    char           err[256];

    (void)state;
    a = add_cert(b, spec(chain_a, sizeof(chain_a), key_a, sizeof(key_a),
                         "tls-a"));
    c = add_cert(b, spec(chain_b, sizeof(chain_b), key_b, sizeof(key_b),
                         "tls-b"));
    d = add_cert(b, spec(chain_b, sizeof(chain_b), key_a, sizeof(key_a),
                         "fallback"));
    add_sni(b, "shop.example.com", a);
    add_sni(b, "*.example.com", c);
    add_sni(b, "example.com", a);
    add_sni(b, "shop.example.com", a); /* again, same cert: no-op */
    assert_int_equal(tbl_builder_add_sni(b, "shop.example.com", c, err,
                                         sizeof(err)),
                     -1);
    assert_string_equal(err, "tls host \"shop.example.com\": certificate of "
                             "secret shop/tls-b conflicts with the one "
                             "already chosen from shop/tls-a");
    assert_int_equal(tbl_builder_add_sni(b, "*.example.com", a, err,
                                         sizeof(err)),
                     -1);
    assert_int_equal(tbl_builder_set_default_cert(b, d), 0);
    tbl_test_finish(b, &t);

    assert_int_equal(t.view.sni_exact_cap, 4);
    assert_int_equal(t.view.sni_wildcard_cap, 2);
    assert_int_equal(tbl_lookup_cert(&t.view, "shop.example.com", 16), a);
    assert_int_equal(tbl_lookup_cert(&t.view, "SHOP.Example.com.", 17), a);
    assert_int_equal(tbl_lookup_cert(&t.view, "example.com", 11), a);
    assert_int_equal(tbl_lookup_cert(&t.view, "www.example.com", 15), c);
    /* a wildcard covers one label only */
    assert_int_equal(tbl_lookup_cert(&t.view, "a.b.example.com", 15), d);
    assert_int_equal(tbl_lookup_cert(&t.view, "other.org", 9), d);
    assert_int_equal(tbl_lookup_cert(&t.view, NULL, 0), d);
    assert_int_equal(t.view.hdr->default_cert, d);
    assert_int_equal(t.view.certs[d].flags, TBL_CERT_DEFAULT);
    tbl_test_table_free(&t);
}

static void
test_sni_refused(void **state)
{
    static const char *const bad[] = {
        "Shop.example.com", "", "*.", "*", "a..b", "-.b.", "a b.com",
        "*.*.example.com", "shop.example.com:443",
    };
    tbl_builder *b = tbl_builder_new();
    uint32_t     a;
    char         err[256];
    size_t       i;

    (void)state;
    a = add_cert(b, spec(chain_a, sizeof(chain_a), key_a, sizeof(key_a),
                         "tls-a"));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tbl_builder_add_sni(b, bad[i], a, err, sizeof(err)) == 0) {
            fail_msg("\"%s\" accepted", bad[i]);
        }
        assert_non_null(strstr(err, "not a lower-case host name"));
    }
    assert_int_equal(tbl_builder_add_sni(b, NULL, a, err, sizeof(err)), -1);
    assert_int_equal(tbl_builder_add_sni(b, "a.io", 1, err, sizeof(err)), -1);
    assert_string_equal(err, "tls host \"a.io\": unknown certificate index 1");
    tbl_builder_free(b);
}

static void
test_certs_refused(void **state)
{
    tbl_builder  *b = tbl_builder_new();
    tbl_cert_spec s;
    char          err[256];

    (void)state;
    s = spec(chain_a, 0, key_a, sizeof(key_a), "empty");
    assert_int_equal(tbl_builder_add_cert(b, &s, err, sizeof(err)), TBL_NONE);
    assert_string_equal(err,
                        "secret shop/empty: empty certificate chain or key");
    s = spec(chain_a, sizeof(chain_a), NULL, 5, "nokey");
    assert_int_equal(tbl_builder_add_cert(b, &s, err, sizeof(err)), TBL_NONE);
    s = spec(chain_a, sizeof(chain_a), key_a, sizeof(key_a), "flags");
    s.flags = 2;
    assert_int_equal(tbl_builder_add_cert(b, &s, err, sizeof(err)), TBL_NONE);
    assert_non_null(strstr(err, "unknown certificate flags 0x2"));
    assert_int_equal(tbl_builder_set_default_cert(b, 0), -1);
    tbl_builder_free(b);
}

/* A later default moves TBL_CERT_DEFAULT; flags of equal certs merge. */
static void
test_default_and_flags(void **state)
{
    tbl_builder   *b = tbl_builder_new();
    tbl_test_table t;
    tbl_cert_spec  s = spec(chain_b, sizeof(chain_b), key_b, sizeof(key_b),
                            "generated");
    uint32_t       a, c;

    (void)state;
    a = add_cert(b, spec(chain_a, sizeof(chain_a), key_a, sizeof(key_a),
                         "tls-a"));
    c = add_cert(b, spec(chain_b, sizeof(chain_b), key_b, sizeof(key_b),
                         "tls-b"));
    assert_int_equal(tbl_builder_set_default_cert(b, a), 0);
    assert_int_equal(tbl_builder_set_default_cert(b, c), 0);
    s.flags = TBL_CERT_DEFAULT;
    assert_int_equal(add_cert(b, s), c);
    tbl_test_finish(b, &t);
    assert_int_equal(t.view.hdr->default_cert, c);
    assert_int_equal(t.view.certs[a].flags, 0);
    assert_int_equal(t.view.certs[c].flags, TBL_CERT_DEFAULT);
    assert_string_equal(tbl_view_str(&t.view, t.view.certs[c].secret_name),
                        "tls-b");
    tbl_test_table_free(&t);
}

static void
test_vhost_cert(void **state)
{
    tbl_builder   *b = tbl_builder_new();
    tbl_test_table t;
    uint32_t       a, c, vh, other;

    (void)state;
    a = add_cert(b, spec(chain_a, sizeof(chain_a), key_a, sizeof(key_a),
                         "tls-a"));
    c = add_cert(b, spec(chain_b, sizeof(chain_b), key_b, sizeof(key_b),
                         "tls-b"));
    vh = tbl_builder_vhost(b, "shop.example.com");
    other = tbl_builder_vhost(b, "plain.example.com");
    assert_int_equal(tbl_builder_set_vhost_cert(b, vh, a), 0);
    assert_int_equal(tbl_builder_set_vhost_cert(b, vh, a), 0);
    assert_int_equal(tbl_builder_set_vhost_cert(b, vh, c), -1);
    assert_int_equal(tbl_builder_set_vhost_cert(b, vh, 7), -1);
    assert_int_equal(tbl_builder_set_vhost_cert(b, 9, a), -1);
    tbl_test_finish(b, &t);
    assert_int_equal(t.view.vhosts[vh].cert, a);
    assert_int_equal(t.view.vhosts[vh].flags, TBL_VHOST_TLS);
    assert_int_equal(t.view.vhosts[other].cert, TBL_NONE);
    assert_int_equal(t.view.vhosts[other].flags, 0);
    tbl_test_table_free(&t);
}

/* A built table with certificates, damaged one field at a time. */
static void
test_corruptions(void **state)
{
    tbl_builder   *b = tbl_builder_new();
    tbl_test_table t;
    uint8_t       *copy;
    tbl_cert      *c;
    tbl_slot      *s;
    uint32_t       a, i;
    char           err[256];

    (void)state;
    a = add_cert(b, spec(chain_a, sizeof(chain_a), key_a, sizeof(key_a),
                         "tls-a"));
    add_sni(b, "shop.example.com", a);
    tbl_builder_set_default_cert(b, a);
    tbl_test_finish(b, &t);
    copy = malloc(t.len);
    assert_non_null(copy);

    memcpy(copy, t.buf, t.len);
    c = (tbl_cert *)(copy + tbl_sample_section(copy, TBL_SEC_CERTS)->offset);
    c->key.len = 1000;
    tbl_sample_reseal(copy, t.len);
    assert_int_equal(tbl_test_validate(copy, t.len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "certs[0].key"));

    memcpy(copy, t.buf, t.len);
    s = (tbl_slot *)(copy
                     + tbl_sample_section(copy, TBL_SEC_SNI_EXACT)->offset);
    for (i = 0; i < 2; i++) {
        if (s[i].value != TBL_NONE) {
            s[i].value = 1;
        }
    }
    tbl_sample_reseal(copy, t.len);
    assert_int_equal(tbl_test_validate(copy, t.len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "sni_exact"));

    memcpy(copy, t.buf, t.len);
    ((tbl_header *)copy)->default_cert = 1;
    assert_int_equal(tbl_test_validate(copy, t.len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "default_cert"));
    free(copy);
    tbl_test_table_free(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_content_identity),
        cmocka_unit_test(test_sni),
        cmocka_unit_test(test_sni_refused),
        cmocka_unit_test(test_certs_refused),
        cmocka_unit_test(test_default_and_flags),
        cmocka_unit_test(test_vhost_cert),
        cmocka_unit_test(test_corruptions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
