/*
 * test_tbl_validate.c -- tbl_view_init must refuse every table that a
 * lookup could not walk safely, and say why.  A rich table is built, then
 * truncated at every length, flipped at every byte, and corrupted field
 * by field with the checksum re-sealed so that the structural checks
 * themselves are reached.  The optional sections (canaries, policies,
 * certificates, SNI, CIDRs, config) are appended with hand-written
 * records, so every field can be damaged, and checked the same way.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tbl_sample.h"
#include "tbl_test.h"

/* ----------------------------------------------------------- the table */

static void
build_rich(tbl_test_table *t)
{
    char err[256];

    if (tbl_sample_rich(&t->buf, &t->len, err, sizeof(err)) != 0
        || tbl_view_init(&t->view, t->buf, t->len, err, sizeof(err)) != 0)
    {
        fail_msg("sample table: %s", err);
    }
}

/* Validates buf; expects failure with `want` in the message. */
static void
expect_reject(const uint8_t *buf, size_t len, const char *what,
              const char *want)
{
    char err[512] = "";

    if (tbl_test_validate(buf, len, err, sizeof(err)) == 0) {
        fail_msg("%s: accepted", what);
    }
    if (want != NULL && strstr(err, want) == NULL) {
        fail_msg("%s: message \"%s\" does not mention \"%s\"", what, err,
                 want);
    }
}

/* ---------------------------------------------------- whole-file damage */

static void
test_truncated_everywhere(void **state)
{
    tbl_test_table t;
    size_t         n;

    (void)state;
    build_rich(&t);
    for (n = 0; n < t.len; n++) {
        char what[64];

        snprintf(what, sizeof(what), "truncated to %zu", n);
        expect_reject(t.buf, n, what,
                      n < sizeof(tbl_header) ? "truncated" : "file_size");
    }
    tbl_test_table_free(&t);
}

/*
 * Every byte flipped (two ways) is caught, by the checksum for anything
 * after the header.  The two header fields that are for operators only
 * (generation, compared by readers with the file name, and built_at_ms)
 * are the exception, and the test says so.
 */
static void
test_every_byte_flip(void **state)
{
    tbl_test_table t;
    size_t         i, gen = offsetof(tbl_header, generation),
                      built = offsetof(tbl_header, built_at_ms);
    int            k;

    (void)state;
    build_rich(&t);
    for (i = 0; i < t.len; i++) {
        for (k = 0; k < 2; k++) {
            uint8_t mask = k ? 0x80 : 0x01;
            char    what[64], err[256];
            int     informational = (i >= gen && i < gen + 8)
                                || (i >= built && i < built + 8);

            t.buf[i] ^= mask;
            snprintf(what, sizeof(what), "byte %zu ^ 0x%02x", i, mask);
            if (informational) {
                assert_int_equal(tbl_test_validate(t.buf, t.len, err,
                                                   sizeof(err)),
                                 0);
            } else {
                expect_reject(t.buf, t.len, what,
                              i >= sizeof(tbl_header) ? "checksum" : NULL);
            }
            t.buf[i] ^= mask;
        }
    }
    tbl_test_table_free(&t);
}

static void
test_alignment_and_null(void **state)
{
    tbl_test_table t;
    tbl_view       v;
    uint8_t       *shifted;
    char           err[256];

    (void)state;
    build_rich(&t);
    shifted = malloc(t.len + 8);
    assert_non_null(shifted);
    memcpy(shifted + 4, t.buf, t.len);
    assert_int_equal(tbl_view_init(&v, shifted + 4, t.len, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "aligned"));
    assert_int_equal(tbl_view_init(&v, NULL, 0, err, sizeof(err)), -1);
    /* errlen 0: still refused, nothing written. */
    assert_int_equal(tbl_view_init(&v, shifted + 4, t.len, NULL, 0), -1);
    free(shifted);
    tbl_test_table_free(&t);
}

/* ------------------------------------------- corruptions, checksum re-sealed */

/* A writable view of a private copy of the table. */
typedef struct {
    uint8_t     *buf;
    size_t       len;
    tbl_view     v;
    tbl_header  *hdr;
    tbl_vhost   *vhosts;
    tbl_route   *routes;
    tbl_backend *backends;
    tbl_endpoint *endpoints;
    uint32_t    *lists;
} mut;

typedef void (*mutate_fn)(mut *m);

typedef struct {
    const char *name;
    mutate_fn   fn;
    const char *want;
} mut_case;

static uint32_t
route_by_path(const mut *m, const char *path, uint8_t type)
{
    uint32_t i;

    for (i = 0; i < m->v.route_count; i++) {
        if (m->routes[i].path_type == type
            && strcmp(tbl_view_str(&m->v, m->routes[i].path), path) == 0)
        {
            return i;
        }
    }
    fail_msg("no %s route %s", tbl_path_type_name(type), path);
    return TBL_NONE;
}

static uint32_t
vhost_by_host(const mut *m, const char *host)
{
    uint32_t i;

    for (i = 0; i < m->v.vhost_count; i++) {
        if (strcmp(tbl_view_str(&m->v, m->vhosts[i].host), host) == 0) {
            return i;
        }
    }
    fail_msg("no vhost %s", host);
    return TBL_NONE;
}

static tbl_slot *
first_slot(const tbl_slot *slots, uint32_t cap, int occupied)
{
    uint32_t i;

    for (i = 0; i < cap; i++) {
        if ((slots[i].value != TBL_NONE) == occupied) {
            return (tbl_slot *)&slots[i];
        }
    }
    fail_msg("no %s slot", occupied ? "occupied" : "empty");
    return NULL;
}

static void
rehash(mut *m, tbl_slot *s)
{
    s->hash = tbl_hash64(tbl_view_str(&m->v, s->key), s->key.len,
                         TBL_HASH_SEED ^ s->scope);
}

static void
m_misaligned(mut *m)
{
    tbl_sample_section(m->buf, TBL_SEC_VHOSTS)->offset += 4;
}

static void
m_past_end(mut *m)
{
    tbl_sample_section(m->buf, TBL_SEC_ROUTES)->count += 1000;
}

static void
m_count_64bit(mut *m)
{
    tbl_sample_section(m->buf, TBL_SEC_ENDPOINTS)->count = 1ull << 40;
}

static void
m_overlap(mut *m)
{
    tbl_sample_section(m->buf, TBL_SEC_BACKENDS)->offset
        = tbl_sample_section(m->buf, TBL_SEC_ROUTES)->offset;
}

static void
m_second_kind(mut *m)
{
    tbl_sample_section(m->buf, TBL_SEC_ENDPOINTS)->kind = TBL_SEC_BACKENDS;
}

static void
m_unknown_kind(mut *m)
{
    tbl_sample_section(m->buf, TBL_SEC_ROUTE_LISTS)->kind = 99;
}

static void
m_entry_size(mut *m)
{
    tbl_sample_section(m->buf, TBL_SEC_VHOSTS)->entry_size = 41;
}

static void
m_missing_required(mut *m)
{
    /* tbl_cidr and tbl_endpoint are both 24 bytes. */
    tbl_sample_section(m->buf, TBL_SEC_ENDPOINTS)->kind = TBL_SEC_CIDRS;
}

static void
m_capacity(mut *m)
{
    tbl_sample_section(m->buf, TBL_SEC_PATH_PREFIX)->count -= 1;
}

static void
m_section_count(mut *m)
{
    m->hdr->section_count = TBL_SEC_KIND_MAX + 1;
}

static void
m_header_flags(mut *m)
{
    m->hdr->flags = 1;
}

static void
m_pool_short(mut *m)
{
    tbl_sample_section(m->buf, TBL_SEC_STRINGS)->count = 4;
}

static void
m_route_vhost(mut *m)
{
    m->routes[0].vhost = m->v.vhost_count;
}

static void
m_route_backend(mut *m)
{
    m->routes[1].backend = m->v.backend_count + 3;
}

static void
m_route_path_off(mut *m)
{
    m->routes[0].path.off = (uint32_t)m->v.strings_len;
}

static void
m_route_path_nul(mut *m)
{
    m->routes[0].path.len += 1;
}

static void
m_route_type(mut *m)
{
    m->routes[0].path_type = 9;
}

static void
m_route_flags(mut *m)
{
    m->routes[0].flags = 1;
}

static void
m_route_ns(mut *m)
{
    m->routes[2].ingress_namespace.off = 0xfffffff0u;
}

static void
m_exact_no_slash(mut *m)
{
    uint32_t r = route_by_path(m, "/checkout", TBL_PATH_EXACT);

    ((char *)tbl_view_str(&m->v, m->routes[r].path))[0] = 'x';
}

static void
m_embedded_nul(mut *m)
{
    ((char *)tbl_view_str(&m->v, m->vhosts[0].host))[3] = '\0';
}

static void
m_global_default_path(mut *m)
{
    m->routes[m->hdr->default_route].vhost = 0;
}

static void
m_impl_range(mut *m)
{
    m->vhosts[vhost_by_host(m, "shop.example.com")].impl_first
        = m->v.route_list_len;
}

static void
m_list_wrong_type(mut *m)
{
    const tbl_vhost *vh = &m->vhosts[vhost_by_host(m, "shop.example.com")];

    m->lists[vh->impl_first] = route_by_path(m, "/cart/", TBL_PATH_PREFIX);
}

static void
m_list_oor(mut *m)
{
    const tbl_vhost *vh = &m->vhosts[vhost_by_host(m, "shop.example.com")];

    m->lists[vh->regex_first] = m->v.route_count;
}

static void
m_impl_unsorted(mut *m)
{
    const tbl_vhost *vh = &m->vhosts[vhost_by_host(m, "shop.example.com")];
    uint32_t         tmp = m->lists[vh->impl_first];

    m->lists[vh->impl_first] = m->lists[vh->impl_first + 1];
    m->lists[vh->impl_first + 1] = tmp;
}

static void
m_regex_flag(mut *m)
{
    m->vhosts[vhost_by_host(m, "shop.example.com")].flags &= ~TBL_VHOST_REGEX;
}

static void
m_vhost_flags(mut *m)
{
    m->vhosts[0].flags |= TBL_VHOST_WILDCARD | TBL_VHOST_CATCHALL;
}

static void
m_vhost_unknown_flag(mut *m)
{
    m->vhosts[0].flags |= 0x100;
}

static void
m_catchall_named(mut *m)
{
    m->vhosts[vhost_by_host(m, "shop.example.com")].flags
        |= TBL_VHOST_CATCHALL;
    m->vhosts[vhost_by_host(m, "shop.example.com")].flags
        &= ~TBL_VHOST_REGEX;
}

static void
m_wildcard_host(mut *m)
{
    m->vhosts[vhost_by_host(m, "b.example.org")].flags |= TBL_VHOST_WILDCARD;
}

static void
m_orphan_catchall(mut *m)
{
    m->hdr->catchall_vhost = TBL_NONE;
}

static void
m_vhost_default(mut *m)
{
    m->vhosts[vhost_by_host(m, "shop.example.com")].default_route
        = route_by_path(m, "/", TBL_PATH_PREFIX);
}

static void
m_vhost_default_other(mut *m)
{
    m->vhosts[vhost_by_host(m, "b.example.org")].default_route
        = m->vhosts[vhost_by_host(m, "shop.example.com")].default_route;
}

static void
m_exact_filter(mut *m)
{
    m->vhosts[vhost_by_host(m, "shop.example.com")].exact_lengths = 0;
}

static void
m_prefix_filter(mut *m)
{
    /* "/cart/" is keyed "/cart": length 5, not 6. */
    m->vhosts[vhost_by_host(m, "shop.example.com")].prefix_lengths
        &= ~TBL_LENGTH_BIT(5);
}

static void
m_vhost_cert(mut *m)
{
    m->vhosts[0].cert = 0;
}

static void
m_vhost_policy(mut *m)
{
    m->vhosts[1].policy = 2;
}

static void
m_header_catchall(mut *m)
{
    m->hdr->catchall_vhost = vhost_by_host(m, "shop.example.com");
}

static void
m_header_default(mut *m)
{
    m->hdr->default_route = route_by_path(m, "/checkout", TBL_PATH_EXACT);
}

static void
m_header_cert(mut *m)
{
    m->hdr->default_cert = 0;
}

static void
m_backend_range(mut *m)
{
    m->backends[1].endpoint_first = m->v.endpoint_count;
}

static void
m_backend_flags(mut *m)
{
    m->backends[0].flags = 0x80;
}

static void
m_backend_str(mut *m)
{
    m->backends[0].port_name.len = 1000000;
}

static void
m_endpoint_family(mut *m)
{
    m->endpoints[0].family = 5;
}

static void
m_endpoint_flags(mut *m)
{
    m->endpoints[1].flags = 0x40;
}

static void
m_slot_hash(mut *m)
{
    first_slot(m->v.host_exact, m->v.host_exact_cap, 1)->hash ^= 1;
}

static void
m_slot_key(mut *m)
{
    /* another key is an alias, but never one of the catch-all */
    first_slot(m->v.host_exact, m->v.host_exact_cap, 1)->value
        = m->v.hdr->catchall_vhost;
}

static void
m_slot_value(mut *m)
{
    first_slot(m->v.path_exact, m->v.path_exact_cap, 1)->value
        = m->v.route_count;
}

static void
m_slot_scope(mut *m)
{
    tbl_slot *s = first_slot(m->v.path_prefix, m->v.path_prefix_cap, 1);

    s->scope += 1;
    rehash(m, s);
}

static void
m_slot_wrong_kind(mut *m)
{
    tbl_slot *s = first_slot(m->v.path_prefix, m->v.path_prefix_cap, 1);

    s->value = route_by_path(m, "/checkout", TBL_PATH_EXACT);
}

static void
m_slot_full(mut *m)
{
    tbl_slot *used = first_slot(m->v.host_wildcard, m->v.host_wildcard_cap, 1);
    tbl_slot *empty = first_slot(m->v.host_wildcard, m->v.host_wildcard_cap,
                                 0);

    *empty = *used;
}

/* A copy placed away from its home position: unreachable or a twin. */
static void
m_slot_duplicate(mut *m)
{
    tbl_slot *s = (tbl_slot *)m->v.host_exact;
    uint32_t  cap = m->v.host_exact_cap, i, used = TBL_NONE;

    for (i = 0; i < cap; i++) {
        if (s[i].value != TBL_NONE) {
            used = i;
            break;
        }
    }
    for (i = 0; i < cap; i++) {
        if (s[i].value == TBL_NONE && i != (used + 1) % cap) {
            s[i] = s[used];
            return;
        }
    }
    fail_msg("no room for a duplicate");
}

static void
m_empty_slot_dirty(mut *m)
{
    first_slot(m->v.path_exact, m->v.path_exact_cap, 0)->scope = 3;
}

static const mut_case mut_cases[] = {
    {"misaligned section", m_misaligned, "misaligned"},
    {"section past end", m_past_end, "past the end"},
    {"64-bit count", m_count_64bit, "exceeds 32 bits"},
    {"overlapping sections", m_overlap, "overlap"},
    {"kind twice", m_second_kind, "a second BACKENDS"},
    {"unknown kind", m_unknown_kind, "unknown kind 99"},
    {"entry size", m_entry_size, "entry_size 41"},
    {"required section", m_missing_required, "ENDPOINTS is missing"},
    {"hash capacity", m_capacity, "power of two"},
    {"section count", m_section_count, "section_count"},
    {"header flags", m_header_flags, "reserved"},
    {"short pool", m_pool_short, "string pool"},
    {"route vhost", m_route_vhost, "routes[0].vhost"},
    {"route backend", m_route_backend, "routes[1].backend"},
    {"route path offset", m_route_path_off, "routes[0].path"},
    {"route path NUL", m_route_path_nul, "NUL-terminated"},
    {"route type", m_route_type, "routes[0].path_type"},
    {"route flags", m_route_flags, "routes[0].flags"},
    {"route namespace", m_route_ns, "routes[2].ingress_namespace"},
    {"exact without slash", m_exact_no_slash, "not a valid Exact path"},
    {"embedded NUL", m_embedded_nul, "vhosts[0].host"},
    {"global default on a vhost", m_global_default_path,
     "header.default_route"},
    {"impl range", m_impl_range, ".impl"},
    {"list entry type", m_list_wrong_type, "is a Prefix route"},
    {"list entry range", m_list_oor, "route_lists"},
    {"impl order", m_impl_unsorted, "not sorted"},
    {"regex flag", m_regex_flag, "REGEX flag"},
    {"vhost flags", m_vhost_flags, "flags"},
    {"vhost unknown flag", m_vhost_unknown_flag, "flags"},
    {"named catch-all", m_catchall_named, "does not fit"},
    {"wildcard without *.", m_wildcard_host, "does not fit"},
    {"orphan catch-all", m_orphan_catchall, "catchall_vhost"},
    {"vhost default is a path", m_vhost_default, "default_route"},
    {"vhost default of another", m_vhost_default_other, "default_route"},
    {"exact length filter", m_exact_filter, "exact_lengths filter"},
    {"prefix length filter", m_prefix_filter, "prefix_lengths filter"},
    {"vhost cert", m_vhost_cert, "vhosts[0].cert"},
    {"vhost policy", m_vhost_policy, "vhosts[1].policy"},
    {"header catch-all", m_header_catchall, "header.catchall_vhost"},
    {"header default", m_header_default, "header.default_route"},
    {"header cert", m_header_cert, "header.default_cert"},
    {"backend endpoints", m_backend_range, "backends[1].endpoint_first"},
    {"backend flags", m_backend_flags, "backends[0].flags"},
    {"backend string", m_backend_str, "backends[0].port_name"},
    {"endpoint family", m_endpoint_family, "endpoints[0].family"},
    {"endpoint flags", m_endpoint_flags, "endpoints[1].flags"},
    {"slot hash", m_slot_hash, "wrong hash"},
    {"slot key", m_slot_key, "does not name"},
    {"slot value", m_slot_value, "path_exact"},
    {"slot scope", m_slot_scope, "does not match"},
    {"slot route type", m_slot_wrong_kind, "does not match"},
    {"no empty slot", m_slot_full, "no empty slot"},
    {"duplicate slot", m_slot_duplicate, "duplicate or not reachable"},
    {"dirty empty slot", m_empty_slot_dirty, "empty slot"},
};

static void
mut_open(mut *m, const uint8_t *buf, size_t len)
{
    char err[256];

    m->buf = malloc(len);
    assert_non_null(m->buf);
    memcpy(m->buf, buf, len);
    m->len = len;
    assert_int_equal(tbl_view_init(&m->v, m->buf, len, err, sizeof(err)), 0);
    m->hdr = (tbl_header *)m->buf;
    m->vhosts = (tbl_vhost *)m->v.vhosts;
    m->routes = (tbl_route *)m->v.routes;
    m->backends = (tbl_backend *)m->v.backends;
    m->endpoints = (tbl_endpoint *)m->v.endpoints;
    m->lists = (uint32_t *)m->v.route_lists;
}

static void
run_mutations(const uint8_t *buf, size_t len, const mut_case *cases,
              size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        mut m;

        mut_open(&m, buf, len);
        cases[i].fn(&m);
        tbl_sample_reseal(m.buf, m.len);
        expect_reject(m.buf, m.len, cases[i].name, cases[i].want);
        free(m.buf);
    }
}

static void
test_corruptions(void **state)
{
    tbl_test_table t;

    (void)state;
    build_rich(&t);
    run_mutations(t.buf, t.len, mut_cases,
                  sizeof(mut_cases) / sizeof(mut_cases[0]));
    tbl_test_table_free(&t);
}

/* Header fields outside the checksum are checked one by one. */
static void
test_header_fields(void **state)
{
    static const struct {
        size_t      off;
        uint32_t    value;
        const char *want;
    } cases[] = {
        {offsetof(tbl_header, magic), 0x12345678, "magic"},
        {offsetof(tbl_header, format_version), 2, "format_version: 2"},
        {offsetof(tbl_header, header_size), 96, "header_size: 96"},
        {offsetof(tbl_header, file_size), 7, "file_size"},
        {offsetof(tbl_header, checksum), 1, "checksum"},
        {offsetof(tbl_header, reserved0), 1, "reserved"},
        {offsetof(tbl_header, reserved), 1, "reserved"},
    };
    tbl_test_table t;
    size_t         i;

    (void)state;
    build_rich(&t);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *copy = malloc(t.len);

        assert_non_null(copy);
        memcpy(copy, t.buf, t.len);
        memcpy(copy + cases[i].off, &cases[i].value, sizeof(uint32_t));
        expect_reject(copy, t.len, cases[i].want, cases[i].want);
        free(copy);
    }
    tbl_test_table_free(&t);
}

/* --------------------------------------------------- optional sections */

/* The rich table plus every optional section (see tbl_sample.h). */
static void
build_full(uint8_t **out, size_t *out_len)
{
    tbl_test_table t;
    char           err[256];

    build_rich(&t);
    *out_len = t.len;
    *out = tbl_sample_add_optional(t.buf, out_len);
    assert_non_null(*out);
    if (tbl_test_validate(*out, *out_len, err, sizeof(err)) != 0) {
        fail_msg("full table: %s", err);
    }
}

static void
test_optional_sections(void **state)
{
    uint8_t *buf;
    size_t   len;
    tbl_view v;
    char     err[256];

    (void)state;
    build_full(&buf, &len);
    assert_int_equal(tbl_view_init(&v, buf, len, err, sizeof(err)), 0);
    assert_int_equal(v.cidr_count, 3);
    assert_int_equal(v.canary_count, 1);
    assert_int_equal(v.policy_count, 2);
    assert_int_equal(v.cert_count, 2);
    assert_int_equal(v.sni_exact_cap, 4);
    assert_int_equal(v.sni_wildcard_cap, 4);
    assert_non_null(v.config);
    assert_int_equal(v.config->limit_conn_status_code, 429);
    assert_int_equal(v.blobs_len, 64);
    assert_memory_equal(tbl_view_blob(&v, v.certs[0].key), "KEY-DER-BYTES",
                        13);
    assert_int_equal(v.canaries[0].canary_id, 77);
    assert_int_equal(v.routes[0].canary, 0);

    /* SNI: exact, then one-label wildcard, then the default. */
    assert_int_equal(tbl_lookup_cert(&v, "SHOP.example.com", 16), 0);
    assert_int_equal(tbl_lookup_cert(&v, "www.example.com", 15), 1);
    assert_int_equal(tbl_lookup_cert(&v, "other.net", 9), 1);
    assert_int_equal(tbl_lookup_cert(&v, NULL, 0), 1);
    free(buf);
}

/*
 * A table with nothing optional reads as "none" everywhere, and its
 * CONFIG holds the defaults (the builder always writes one).
 */
static void
test_optional_absent(void **state)
{
    tbl_test_table t;

    (void)state;
    build_rich(&t);
    assert_non_null(t.view.config);
    assert_int_equal(t.view.config->http_redirect_code, 308);
    assert_string_equal(
        tbl_view_str(&t.view, t.view.config->forwarded_for_header),
        "X-Forwarded-For");
    assert_null(t.view.canaries);
    assert_null(t.view.policies);
    assert_null(t.view.cidrs);
    assert_null(t.view.blobs);
    assert_int_equal(t.view.cert_count, 0);
    assert_int_equal(tbl_lookup_cert(&t.view, "shop.example.com", 16),
                     TBL_NONE);
    tbl_test_table_free(&t);
}

static tbl_section *
sec(mut *m, uint32_t kind)
{
    return tbl_sample_section(m->buf, kind);
}

#define OPT(m, type, kind) \
    ((type *)((m)->buf + sec((m), (kind))->offset))

static void
o_canary_weight(mut *m)
{
    OPT(m, tbl_canary, TBL_SEC_CANARIES)->weight = 101;
}

static void
o_canary_total(mut *m)
{
    OPT(m, tbl_canary, TBL_SEC_CANARIES)->weight_total = 0;
}

static void
o_canary_flags(mut *m)
{
    OPT(m, tbl_canary, TBL_SEC_CANARIES)->flags = TBL_CANARY_BY_HEADER_VALUE;
}

static void
o_canary_backend(mut *m)
{
    OPT(m, tbl_canary, TBL_SEC_CANARIES)->backend = 9;
}

static void
o_canary_str(mut *m)
{
    OPT(m, tbl_canary, TBL_SEC_CANARIES)->cookie.off = 0x7fffffff;
}

static void
o_policy_allow(mut *m)
{
    OPT(m, tbl_policy, TBL_SEC_POLICIES)->allow_count = 4;
}

static void
o_policy_limit_allow(mut *m)
{
    OPT(m, tbl_policy, TBL_SEC_POLICIES)->limit_allow_first = 0xffffffffu;
    OPT(m, tbl_policy, TBL_SEC_POLICIES)->limit_allow_count = 2;
}

static void
o_policy_secret(mut *m)
{
    OPT(m, tbl_policy, TBL_SEC_POLICIES)->auth_secret.len = 64;
}

static void
o_policy_code(mut *m)
{
    OPT(m, tbl_policy, TBL_SEC_POLICIES)->redirect_code = 399;
}

static void
o_policy_code_no_url(mut *m)
{
    OPT(m, tbl_policy, TBL_SEC_POLICIES)[1].redirect_code = 301;
}

static void
o_policy_auth(mut *m)
{
    OPT(m, tbl_policy, TBL_SEC_POLICIES)->auth_type = 9;
}

static void
o_policy_flags(mut *m)
{
    OPT(m, tbl_policy, TBL_SEC_POLICIES)->flags |= 1u << 30;
}

static void
o_policy_next(mut *m)
{
    OPT(m, tbl_policy, TBL_SEC_POLICIES)->next_upstream = 1u << 20;
}

static void
o_policy_backend(mut *m)
{
    OPT(m, tbl_policy, TBL_SEC_POLICIES)[1].default_backend = 2;
}

static void
o_policy_str(mut *m)
{
    OPT(m, tbl_policy, TBL_SEC_POLICIES)[1].cors_allow_headers.len = 5000;
}

static void
o_cert_empty(mut *m)
{
    OPT(m, tbl_cert, TBL_SEC_CERTS)->chain.len = 0;
}

static void
o_cert_key(mut *m)
{
    OPT(m, tbl_cert, TBL_SEC_CERTS)[1].key.off = 60;
}

static void
o_cert_flags(mut *m)
{
    OPT(m, tbl_cert, TBL_SEC_CERTS)->flags = 4;
}

static void
o_cidr_bits(mut *m)
{
    OPT(m, tbl_cidr, TBL_SEC_CIDRS)->addr[1] = 1;
}

static void
o_cidr_family(mut *m)
{
    OPT(m, tbl_cidr, TBL_SEC_CIDRS)[1].family = 5;
}

static void
o_cidr_prefix(mut *m)
{
    OPT(m, tbl_cidr, TBL_SEC_CIDRS)[2].prefix_len = 33;
}

static void
o_config_code(mut *m)
{
    OPT(m, tbl_config, TBL_SEC_CONFIG)->http_redirect_code = 200;
}

static void
o_config_limit(mut *m)
{
    OPT(m, tbl_config, TBL_SEC_CONFIG)->limit_req_status_code = 600;
}

static void
o_config_block(mut *m)
{
    OPT(m, tbl_config, TBL_SEC_CONFIG)->block_count = 2;
}

static void
o_config_flags(mut *m)
{
    OPT(m, tbl_config, TBL_SEC_CONFIG)->flags = 1u << 10;
}

static void
o_config_real_ip(mut *m)
{
    OPT(m, tbl_config, TBL_SEC_CONFIG)->real_ip_count = 1000;
}

static void
o_config_empty(mut *m)
{
    sec(m, TBL_SEC_CONFIG)->count = 0;
}

static void
o_config_str(mut *m)
{
    OPT(m, tbl_config, TBL_SEC_CONFIG)->global_auth_url.len = 1;
}

static void
o_sni_value(mut *m)
{
    tbl_slot *s = OPT(m, tbl_slot, TBL_SEC_SNI_EXACT);
    uint32_t  i;

    for (i = 0; i < 4; i++) {
        if (s[i].value != TBL_NONE) {
            s[i].value = 2;
        }
    }
}

static void
o_sni_scope(mut *m)
{
    tbl_slot *s = OPT(m, tbl_slot, TBL_SEC_SNI_WILDCARD);
    uint32_t  i;

    for (i = 0; i < 4; i++) {
        if (s[i].value != TBL_NONE) {
            s[i].scope = 1;
            s[i].hash = tbl_hash64(tbl_view_str(&m->v, s[i].key), s[i].key.len,
                                   TBL_HASH_SEED ^ 1);
        }
    }
}

static void
o_route_canary(mut *m)
{
    m->routes[0].canary = 1;
}

static void
o_route_policy(mut *m)
{
    m->routes[3].policy = 2;
}

static const mut_case opt_cases[] = {
    {"canary weight", o_canary_weight, "weight 101 of total 100"},
    {"canary total", o_canary_total, "canaries[0]"},
    {"canary flags", o_canary_flags, "canaries[0].flags"},
    {"canary backend", o_canary_backend, "canaries[0].backend"},
    {"canary string", o_canary_str, "canaries[0].cookie"},
    {"policy allow range", o_policy_allow, "policies[0].allow_first"},
    {"policy limit allow", o_policy_limit_allow, "limit_allow_first"},
    {"policy secret", o_policy_secret, "policies[0].auth_secret"},
    {"policy redirect code", o_policy_code, "redirect_code: 399"},
    {"policy code without url", o_policy_code_no_url,
     "policies[1].redirect_code"},
    {"policy auth type", o_policy_auth, "auth_type 9"},
    {"policy flags", o_policy_flags, "policies[0]"},
    {"policy next upstream", o_policy_next, "policies[0]"},
    {"policy default backend", o_policy_backend, "default_backend"},
    {"policy string", o_policy_str, "cors_allow_headers"},
    {"cert chain", o_cert_empty, "certs[0]"},
    {"cert key", o_cert_key, "certs[1].key"},
    {"cert flags", o_cert_flags, "certs[0].flags"},
    {"cidr bits", o_cidr_bits, "cidrs[0]"},
    {"cidr family", o_cidr_family, "cidrs[1]"},
    {"cidr prefix", o_cidr_prefix, "cidrs[2]"},
    {"config redirect", o_config_code, "status codes"},
    {"config limit", o_config_limit, "status codes"},
    {"config block range", o_config_block, "block_first"},
    {"config real_ip range", o_config_real_ip, "real_ip_first"},
    {"config flags", o_config_flags, "config"},
    {"config count", o_config_empty, "exactly 1"},
    {"config string", o_config_str, "global_auth_url"},
    {"sni value", o_sni_value, "sni_exact"},
    {"sni scope", o_sni_scope, "scope: 1, must be 0"},
    {"route canary", o_route_canary, "routes[0].canary"},
    {"route policy", o_route_policy, "routes[3].policy"},
};

static void
test_optional_corruptions(void **state)
{
    uint8_t *buf;
    size_t   len;

    (void)state;
    build_full(&buf, &len);
    run_mutations(buf, len, opt_cases,
                  sizeof(opt_cases) / sizeof(opt_cases[0]));
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_every_byte_flip),
        cmocka_unit_test(test_alignment_and_null),
        cmocka_unit_test(test_corruptions),
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_optional_sections),
        cmocka_unit_test(test_optional_absent),
        cmocka_unit_test(test_optional_corruptions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
