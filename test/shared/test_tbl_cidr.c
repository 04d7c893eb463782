/*
 * test_tbl_cidr.c -- CIDR lists end to end: tbl_cidr_parse, how the
 * builder stores a list (host bits cleared, sorted, covered entries
 * dropped, equal lists shared), tbl_cidr_match against a brute-force
 * answer on lists of up to a thousand entries, IPv4-mapped addresses,
 * and the validator refusing lists a binary search could not use.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tbl_sample.h"
#include "tbl_test.h"

static tbl_cidr
cidr(const char *s)
{
    tbl_cidr c;

    if (tbl_cidr_parse(s, strlen(s), &c) != 0) {
        fail_msg("cannot parse \"%s\"", s);
    }
    return c;
}

static void
test_parse(void **state)
{
    static const char *const bad[] = {
        "",          "/8",           "10.0.0.0/",   "10.0.0.0/33",
        "10.0.0/8",  "10.0.0.0/8x",  "10.0.0.0/-1", "::1/129",
        "::1/1280",  "10.0.0.0 /8",  "host",        "1.2.3.4/08x",
        "fe80::1%1", "10.0.0.0/8/8",
    };
    tbl_cidr c;
    size_t   i;

    (void)state;
    c = cidr("10.1.2.3/8");
    assert_int_equal(c.family, 4);
    assert_int_equal(c.prefix_len, 8);
    assert_memory_equal(c.addr, "\x0a\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    c = cidr("192.168.1.77");
    assert_int_equal(c.prefix_len, 32);
    assert_memory_equal(c.addr, "\xc0\xa8\x01\x4d", 4);
    c = cidr("172.16.255.255/12");
    assert_memory_equal(c.addr, "\xac\x10\x00\x00", 4);
    c = cidr("2001:db8:ffff::1/33");
    assert_int_equal(c.family, 6);
    assert_int_equal(c.prefix_len, 33);
    assert_memory_equal(c.addr, "\x20\x01\x0d\xb8\x80\0\0\0\0\0\0\0\0\0\0\0",
                        16);
    c = cidr("::/0");
    assert_int_equal(c.prefix_len, 0);
    c = cidr("0.0.0.0/0");
    assert_int_equal(c.family, 4);
    /* the length bounds the parse: "10.0.0.0/8" read as "10.0.0.0/" */
    assert_int_equal(tbl_cidr_parse("10.0.0.0/8", 9, &c), -1);
    assert_int_equal(tbl_cidr_parse("10.0.0.0/8", 8, &c), 0);
    assert_int_equal(c.prefix_len, 32);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tbl_cidr_parse(bad[i], strlen(bad[i]), &c) == 0) {
            fail_msg("\"%s\" parsed", bad[i]);
        }
    }
}

/* A table whose only policy allows `list` (n entries). */
static void
build_allow(const tbl_cidr *list, size_t n, tbl_test_table *t,
            uint32_t *policy)
{
    tbl_builder    *b = tbl_builder_new();
    tbl_policy_spec ps;
    char            err[256];

    tbl_policy_spec_init(&ps);
    ps.allow = list;
    ps.allow_count = n;
    *policy = tbl_builder_add_policy(b, &ps, err, sizeof(err));
    if (*policy == TBL_NONE) {
        fail_msg("add_policy: %s", err);
    }
    tbl_test_finish(b, t);
}

static int
match(const tbl_view *v, const tbl_policy *p, const char *addr)
{
    tbl_cidr a = cidr(addr);

    return tbl_cidr_match(v, p->allow_first, p->allow_count, a.addr,
                          a.family);
}

static void
test_stored_form(void **state)
{
    tbl_cidr          in[] = {cidr("10.2.0.0/16"), cidr("2001:db8::/32"),
                              cidr("10.0.0.0/8"),  cidr("10.9.9.9"),
                              cidr("192.168.0.1/24"), cidr("10.0.0.0/8"),
                              cidr("2001:db8:1::/48"), cidr("11.0.0.0/8")};
    tbl_test_table    t;
    const tbl_policy *p;
    const tbl_cidr   *c;
    uint32_t          pi;

    (void)state;
    in[4].addr[3] = 1; /* host bits are cleared on the way in */
    in[4].reserved[0] = 7;
    build_allow(in, sizeof(in) / sizeof(in[0]), &t, &pi);
    p = tbl_view_policy(&t.view, pi);
    assert_non_null(p);
    assert_int_equal(p->allow_count, 4);
    c = &t.view.cidrs[p->allow_first];
    assert_int_equal(c[0].family, 4);
    assert_int_equal(c[0].prefix_len, 8);
    assert_int_equal(c[0].addr[0], 10);
    assert_int_equal(c[1].addr[0], 11);
    assert_memory_equal(c[2].addr, "\xc0\xa8\x00\x00", 4);
    assert_int_equal(c[2].prefix_len, 24);
    assert_int_equal(c[2].reserved[0], 0);
    assert_int_equal(c[3].family, 6);
    assert_int_equal(c[3].prefix_len, 32);

    assert_true(match(&t.view, p, "10.200.1.1"));
    assert_true(match(&t.view, p, "11.255.255.255"));
    assert_true(match(&t.view, p, "192.168.0.255"));
    assert_false(match(&t.view, p, "192.168.1.0"));
    assert_false(match(&t.view, p, "12.0.0.0"));
    assert_false(match(&t.view, p, "9.255.255.255"));
    assert_true(match(&t.view, p, "2001:db8:1234::5"));
    assert_false(match(&t.view, p, "2001:db9::"));
    assert_false(match(&t.view, p, "::a00:1")); /* not 10.0.0.1 */
    /* IPv4-mapped IPv6 is matched as IPv4, as nginx's allow does */
    assert_true(match(&t.view, p, "::ffff:10.1.2.3"));
    assert_false(match(&t.view, p, "::ffff:12.1.2.3"));
    tbl_test_table_free(&t);
}

static void
test_empty_and_edges(void **state)
{
    tbl_cidr          all[] = {cidr("0.0.0.0/0")};
    tbl_test_table    t;
    const tbl_policy *p;
    uint32_t          pi;
    uint8_t           any[16] = {0};

    (void)state;
    build_allow(all, 1, &t, &pi);
    p = tbl_view_policy(&t.view, pi);
    assert_true(match(&t.view, p, "255.255.255.255"));
    assert_true(match(&t.view, p, "0.0.0.0"));
    assert_false(match(&t.view, p, "::1"));
    assert_int_equal(tbl_cidr_match(&t.view, 0, 0, any, 4), 0);
    assert_int_equal(tbl_cidr_match(&t.view, p->allow_first, 1, any, 5), 0);
    tbl_test_table_free(&t);

    build_allow(NULL, 0, &t, &pi);
    p = tbl_view_policy(&t.view, pi);
    assert_int_equal(p->allow_count, 0);
    assert_null(t.view.cidrs);
    assert_int_equal(tbl_cidr_match(&t.view, p->allow_first, 0, any, 4), 0);
    tbl_test_table_free(&t);
}

/* Whether addr is in any of list[0..n), the slow way. */
static int
brute_match(const tbl_cidr *list, size_t n, const uint8_t *addr, int family)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned bits = list[i].prefix_len, b;
        int      in = list[i].family == family;

        for (b = 0; in && b < bits; b++) {
            uint8_t m = (uint8_t)(0x80u >> (b % 8));

            in = (addr[b / 8] & m) == (list[i].addr[b / 8] & m);
        }
        if (in) {
            return 1;
        }
    }
    return 0;
}

static uint32_t
rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

/*
 * 1000 random CIDRs of every prefix length in a small address space (so
 * that they nest and overlap), checked against brute force on addresses
 * near and inside them.
 */
static void
test_large_list(void **state)
{
    enum { N = 1000, PROBES = 20000 };
    static tbl_cidr list[N];
    tbl_test_table  t;
    const tbl_policy *p;
    uint64_t        seed = 42;
    uint32_t        pi;
    size_t          i;

    (void)state;
    for (i = 0; i < N; i++) {
        tbl_cidr *c = &list[i];
        size_t    k;

        memset(c, 0, sizeof(*c));
        c->family = rnd(&seed) % 4 == 0 ? 6 : 4;
        c->prefix_len = (uint8_t)(rnd(&seed) % (c->family == 4 ? 33 : 129));
        for (k = 0; k < (c->family == 4 ? 4u : 16u); k++) {
            c->addr[k] = (uint8_t)(k < 2 ? rnd(&seed) % 3 : rnd(&seed));
        }
        if (c->family == 4 && c->prefix_len < 8) {
            c->prefix_len += 8; /* keep 0.0.0.0/0 from covering it all */
        }
    }
    build_allow(list, N, &t, &pi);
    p = tbl_view_policy(&t.view, pi);
    assert_true(p->allow_count > 0 && p->allow_count <= N);
    for (i = 0; i < PROBES; i++) {
        const tbl_cidr *base = &list[rnd(&seed) % N];
        uint8_t         addr[16];
        int             family = base->family, got, want;
        size_t          k;

        memcpy(addr, base->addr, 16);
        for (k = rnd(&seed) % 16; k < 16; k++) {
            if (rnd(&seed) % 2) {
                addr[k] = (uint8_t)rnd(&seed);
            }
        }
        if (family == 4) {
            memset(addr + 4, 0, 12);
        }
        got = tbl_cidr_match(&t.view, p->allow_first, p->allow_count, addr,
                             family);
        want = brute_match(list, N, addr, family);
        if (got != want) {
            fail_msg("probe %zu: got %d, want %d", i, got, want);
        }
    }
    tbl_test_table_free(&t);
}

/* Equal lists are stored once, whatever their order or redundancy. */
static void
test_lists_shared(void **state)
{
    tbl_builder    *b = tbl_builder_new();
    tbl_cidr        x[] = {cidr("10.0.0.0/8"), cidr("::1"), cidr("10.1.0.0/16")};
    tbl_cidr        y[] = {cidr("::1/128"), cidr("10.0.0.0/8")};
    tbl_cidr        z[] = {cidr("10.0.0.0/8")};
    tbl_policy_spec ps;
    tbl_test_table  t;
    uint32_t        p1, p2, p3;
    char            err[256];

    (void)state;
    tbl_policy_spec_init(&ps);
    ps.allow = x;
    ps.allow_count = 3;
    p1 = tbl_builder_add_policy(b, &ps, err, sizeof(err));
    ps.allow = y;
    ps.allow_count = 2;
    ps.deny = y;
    ps.deny_count = 2;
    p2 = tbl_builder_add_policy(b, &ps, err, sizeof(err));
    ps.deny = z;
    ps.deny_count = 1;
    p3 = tbl_builder_add_policy(b, &ps, err, sizeof(err));
    assert_int_equal(p1, 0);
    assert_int_equal(p2, 1);
    assert_int_equal(p3, 2);
    tbl_test_finish(b, &t);
    assert_int_equal(t.view.cidr_count, 3);
    assert_int_equal(t.view.policies[0].allow_first,
                     t.view.policies[1].allow_first);
    assert_int_equal(t.view.policies[1].deny_first,
                     t.view.policies[1].allow_first);
    assert_int_equal(t.view.policies[2].deny_count, 1);
    tbl_test_table_free(&t);
}

static void
test_bad_cidrs(void **state)
{
    tbl_builder    *b = tbl_builder_new();
    tbl_cidr        bad[2] = {cidr("10.0.0.0/8"), cidr("10.0.0.0/8")};
    tbl_policy_spec ps;
    char            err[256];

    (void)state;
    tbl_policy_spec_init(&ps);
    bad[1].family = 5;
    ps.deny = bad;
    ps.deny_count = 2;
    assert_int_equal(tbl_builder_add_policy(b, &ps, err, sizeof(err)),
                     TBL_NONE);
    assert_non_null(strstr(err, "policy deny[1]: family 5"));
    bad[1].family = 4;
    bad[1].prefix_len = 33;
    assert_int_equal(tbl_builder_add_policy(b, &ps, err, sizeof(err)),
                     TBL_NONE);
    assert_non_null(strstr(err, "prefix length 33"));
    ps.deny = NULL;
    assert_int_equal(tbl_builder_add_policy(b, &ps, err, sizeof(err)),
                     TBL_NONE);
    assert_non_null(strstr(err, "no array"));
    tbl_builder_free(b);
}

/* The validator refuses lists out of order or with nested entries. */
static void
test_validator_order(void **state)
{
    tbl_cidr        in[] = {cidr("10.0.0.0/8"), cidr("11.0.0.0/8"),
                            cidr("12.0.0.0/8")};
    tbl_test_table  t;
    tbl_cidr       *c;
    uint8_t        *copy;
    uint32_t        pi;
    char            err[256];

    (void)state;
    build_allow(in, 3, &t, &pi);
    copy = malloc(t.len);
    assert_non_null(copy);

    memcpy(copy, t.buf, t.len);
    c = (tbl_cidr *)(copy + tbl_sample_section(copy, TBL_SEC_CIDRS)->offset);
    c[0].addr[0] = 12;
    c[2].addr[0] = 10;
    tbl_sample_reseal(copy, t.len);
    assert_int_equal(tbl_test_validate(copy, t.len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "policies[0].allow_first: cidrs[1] is out "
                                "of order"));

    memcpy(copy, t.buf, t.len);
    c = (tbl_cidr *)(copy + tbl_sample_section(copy, TBL_SEC_CIDRS)->offset);
    c[1].addr[0] = 10;
    c[1].addr[1] = 1;
    c[1].prefix_len = 16;
    tbl_sample_reseal(copy, t.len);
    assert_int_equal(tbl_test_validate(copy, t.len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "inside cidrs[0]"));

    memcpy(copy, t.buf, t.len);
    c = (tbl_cidr *)(copy + tbl_sample_section(copy, TBL_SEC_CIDRS)->offset);
    c[2].reserved[5] = 1;
    tbl_sample_reseal(copy, t.len);
    assert_int_equal(tbl_test_validate(copy, t.len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cidrs[2]"));
    free(copy);
    tbl_test_table_free(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_stored_form),
        cmocka_unit_test(test_empty_and_edges),
        cmocka_unit_test(test_large_list),
        cmocka_unit_test(test_lists_shared),
        cmocka_unit_test(test_bad_cidrs),
        cmocka_unit_test(test_validator_order),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
