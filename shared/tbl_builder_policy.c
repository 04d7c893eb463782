/*
 * tbl_builder_policy.c -- what annotations and the ConfigMap decide, as
 * the route table stores it: POLICIES, CANARIES, the CIDR lists they
 * refer to, and the one CONFIG record.
 *
 * Policies and canaries are stored once per distinct content, because
 * most routes share one (or have none): a spec is turned into its record
 * -- strings interned, auth secret and CIDR lists deduplicated -- and two
 * equal specs give equal records, so the record bytes are the identity.
 * CIDR lists are normalized on the way in (host bits cleared, sorted,
 * entries inside others dropped), which is what makes tbl_cidr_match a
 * binary search.  Every value the validator would refuse is refused here
 * first, with the field named, so a bad annotation costs one policy and
 * never the whole table.  Parsing annotations is the controller's job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tbl.h"
#include "tbl_builder_internal.h"

/* ---------------------------------------------------------- CIDR lists */

static int
tbl_cidr_qsort_cmp(const void *a, const void *b)
{
    return tbl_cidr_order(a, b);
}

/* One CIDR of a spec, checked and put in canonical form. */
static int
tbl_cidr_canonical(const tbl_cidr *in, tbl_cidr *out, const char *field,
                   size_t i, char *err, size_t errlen)
{
    unsigned bits = in->family == 4 ? 32 : 128, bit;

    if ((in->family != 4 && in->family != 6) || in->prefix_len > bits) {
        snprintf(err, errlen, "%s[%zu]: family %u / prefix length %u", field,
                 i, in->family, in->prefix_len);
        return -1;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->addr, in->addr, bits / 8);
    out->family = in->family;
    out->prefix_len = in->prefix_len;
    for (bit = in->prefix_len; bit < bits; bit++) {
        out->addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
    }
    return 0;
}

/*
 * Copies n CIDRs into cidr_scratch in stored form: canonical, sorted,
 * and without entries that an earlier (wider) one already covers.
 */
static int
tbl_cidrs_normalize(tbl_builder *b, const tbl_cidr *in, size_t n,
                    const char *field, char *err, size_t errlen)
{
    tbl_cidr *c;
    size_t    i, kept = 0;

    b->cidr_scratch.len = 0;
    if (n == 0) {
        return 0;
    }
    if (in == NULL) {
        snprintf(err, errlen, "%s: %zu entries but no array", field, n);
        return -1;
    }
    if (tbl_vec_reserve(&b->cidr_scratch, n) != 0) {
        b->out_of_memory = 1;
        snprintf(err, errlen, "%s: out of memory", field);
        return -1;
    }
    c = b->cidr_scratch.items;
    for (i = 0; i < n; i++) {
        if (tbl_cidr_canonical(&in[i], &c[i], field, i, err, errlen) != 0) {
            return -1;
        }
    }
    qsort(c, n, sizeof(*c), tbl_cidr_qsort_cmp);
    for (i = 0; i < n; i++) {
        if (kept > 0 && tbl_cidr_holds(&c[kept - 1], c[i].addr, c[i].family))
        {
            continue;
        }
        c[kept++] = c[i];
    }
    b->cidr_scratch.len = kept;
    return 0;
}

static int
tbl_cidr_list_eq(const tbl_builder *b, uint32_t idx, const void *key)
{
    const tbl_brange *r = &b->cidr_lists.items[idx];

    (void)key;
    return r->count == b->cidr_scratch.len
           && memcmp(b->cidrs.items + r->first, b->cidr_scratch.items,
                     r->count * sizeof(tbl_cidr))
                  == 0;
}

/*
 * Stores a spec's CIDR list (or finds the same list stored before) and
 * returns its range.  An empty list is (0, 0).
 */
static int
tbl_cidrs_store(tbl_builder *b, const tbl_cidr *in, size_t n,
                const char *field, uint32_t *first, uint32_t *count,
                char *err, size_t errlen)
{
    uint64_t    h;
    uint32_t    idx;
    size_t      bytes;
    tbl_brange *r;

    *first = 0;
    *count = 0;
    if (tbl_cidrs_normalize(b, in, n, field, err, errlen) != 0) {
        return -1;
    }
    if (b->cidr_scratch.len == 0) {
        return 0;
    }
    bytes = b->cidr_scratch.len * sizeof(tbl_cidr);
    h = tbl_hash_bytes(b->cidr_scratch.items, bytes, 0);
    idx = tbl_imap_find(&b->cidr_index, h, tbl_cidr_list_eq, b, NULL);
    if (idx == TBL_NONE) {
        if (b->cidrs.len + b->cidr_scratch.len >= TBL_NONE
            || tbl_vec_reserve(&b->cidrs, b->cidr_scratch.len) != 0
            || tbl_vec_reserve(&b->cidr_lists, 1) != 0
            || tbl_imap_put(&b->cidr_index, h, (uint32_t)b->cidr_lists.len)
                   != 0)
        {
            b->out_of_memory = 1;
            snprintf(err, errlen, "%s: out of memory", field);
            return -1;
        }
        idx = (uint32_t)b->cidr_lists.len++;
        r = &b->cidr_lists.items[idx];
        r->first = (uint32_t)b->cidrs.len;
        r->count = (uint32_t)b->cidr_scratch.len;
        memcpy(b->cidrs.items + b->cidrs.len, b->cidr_scratch.items, bytes);
        b->cidrs.len += b->cidr_scratch.len;
    }
    *first = b->cidr_lists.items[idx].first;
    *count = b->cidr_lists.items[idx].count;
    return 0;
}

/* ------------------------------------------------------------ policies */

void
tbl_policy_spec_init(tbl_policy_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->default_backend = TBL_NONE;
}

/* The values tbl_view_init checks, refused before anything is stored. */
static int
tbl_policy_spec_check(const tbl_builder *b, const tbl_policy_spec *s,
                      char *err, size_t errlen)
{
    int has_url = s->redirect_url != NULL && s->redirect_url[0] != '\0';

    if (s->flags & ~(uint32_t)TBL_POL_FLAGS_ALL) {
        snprintf(err, errlen, "policy flags: unknown bits 0x%x", s->flags);
    } else if (s->next_upstream & ~(uint32_t)TBL_NEXT_ALL) {
        snprintf(err, errlen, "policy next_upstream: unknown bits 0x%x",
                 s->next_upstream);
    } else if (has_url != (s->redirect_code != 0)
               || (has_url
                   && (s->redirect_code < 300 || s->redirect_code > 308)))
    {
        snprintf(err, errlen,
                 "policy redirect_code: %u (300..308 exactly when a "
                 "redirect URL is set)",
                 s->redirect_code);
    } else if (s->auth_type > TBL_AUTH_MAX) {
        snprintf(err, errlen, "policy auth_type: %u", s->auth_type);
    } else if (s->backend_protocol > TBL_PROTO_MAX) {
        snprintf(err, errlen, "policy backend_protocol: %u",
                 s->backend_protocol);
    } else if (s->load_balance > TBL_LB_MAX) {
        snprintf(err, errlen, "policy load_balance: %u", s->load_balance);
    } else if (s->affinity_mode > TBL_AFFINITY_MAX) {
        snprintf(err, errlen, "policy affinity_mode: %u", s->affinity_mode);
    } else if (s->default_backend != TBL_NONE
               && s->default_backend >= b->backends.len)
    {
        snprintf(err, errlen,
                 "policy default_backend: index %u out of range (%zu "
                 "backends)",
                 s->default_backend, b->backends.len);
    } else if ((s->auth_secret_len > 0 && s->auth_secret == NULL)
               || s->auth_secret_len >= TBL_NONE)
    {
        snprintf(err, errlen, "policy auth_secret: %zu bytes unusable",
                 s->auth_secret_len);
    } else {
        return 0;
    }
    return -1;
}

typedef struct {
    const uint8_t *p;
    size_t         len;
} tbl_blob_key;

static int
tbl_blob_eq(const tbl_builder *b, uint32_t off, const void *key)
{
    const tbl_blob_key *k = key;

    return off + k->len <= b->blobs.len
           && memcmp(b->blobs.items + off, k->p, k->len) == 0;
}

/* Auth secrets are stored once per content, so equal policies stay equal. */
static int
tbl_secret_store(tbl_builder *b, const uint8_t *p, size_t len, tbl_str *out)
{
    tbl_blob_key k = {p, len};
    uint64_t     h;
    uint32_t     off;

    *out = (tbl_str){0, 0};
    if (len == 0) {
        return 0;
    }
    h = tbl_hash_bytes(p, len, 0);
    off = tbl_imap_find(&b->blob_index, h, tbl_blob_eq, b, &k);
    if (off != TBL_NONE) {
        *out = (tbl_str){off, (uint32_t)len};
        return 0;
    }
    if (tbl_blob_append(b, p, len, out) != 0
        || tbl_imap_put(&b->blob_index, h, out->off) != 0)
    {
        b->out_of_memory = 1;
        return -1;
    }
    return 0;
}

/* The string fields of a policy, spec and record side by side. */
#define TBL_POLICY_STRINGS(X)                                               \
    X(redirect_url)                                                         \
    X(app_root)                                                             \
    X(rewrite_target)                                                       \
    X(x_forwarded_prefix)                                                   \
    X(auth_realm)                                                           \
    X(auth_url)                                                             \
    X(auth_method)                                                          \
    X(auth_signin)                                                          \
    X(auth_response_headers)                                                \
    X(upstream_vhost)                                                       \
    X(hash_by)                                                              \
    X(affinity_cookie_name)                                                 \
    X(affinity_cookie_path)                                                 \
    X(cors_allow_origin)                                                    \
    X(cors_allow_methods)                                                   \
    X(cors_allow_headers)                                                   \
    X(cors_expose_headers)                                                  \
    X(auth_request_redirect)                                                \
    X(affinity_cookie_domain)                                               \
    X(affinity_cookie_samesite)

static int
tbl_policy_strings(tbl_builder *b, const tbl_policy_spec *s, tbl_policy *p)
{
#define TBL_INTERN_FIELD(f)                                                 \
    if (tbl_intern_cstr(b, s->f, &p->f) != 0) {                             \
        return -1;                                                          \
    }
    TBL_POLICY_STRINGS(TBL_INTERN_FIELD)
#undef TBL_INTERN_FIELD
    return 0;
}

static void
tbl_policy_scalars(const tbl_policy_spec *s, tbl_policy *p)
{
    p->flags = s->flags;
    p->redirect_code = s->redirect_code;
    p->auth_type = s->auth_type;
    p->backend_protocol = s->backend_protocol;
    p->limit_rps = s->limit_rps;
    p->limit_rpm = s->limit_rpm;
    p->limit_burst_multiplier = s->limit_burst_multiplier;
    p->limit_connections = s->limit_connections;
    p->connect_timeout_ms = s->connect_timeout_ms;
    p->send_timeout_ms = s->send_timeout_ms;
    p->read_timeout_ms = s->read_timeout_ms;
    p->next_upstream = s->next_upstream;
    p->next_upstream_tries = s->next_upstream_tries;
    p->next_upstream_timeout_ms = s->next_upstream_timeout_ms;
    p->body_size_max = s->body_size_max;
    p->load_balance = s->load_balance;
    p->affinity_mode = s->affinity_mode;
    p->affinity_max_age = s->affinity_max_age;
    p->cors_max_age = s->cors_max_age;
    p->default_backend = s->default_backend;
    memcpy(p->custom_errors, s->custom_errors, sizeof(p->custom_errors));
}

/* Fills a record from a spec: strings, secret and lists stored. */
static int
tbl_policy_record(tbl_builder *b, const tbl_policy_spec *s, tbl_policy *p,
                  char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    tbl_policy_scalars(s, p);
    if (tbl_policy_strings(b, s, p) != 0
        || tbl_secret_store(b, s->auth_secret, s->auth_secret_len,
                            &p->auth_secret)
               != 0)
    {
        snprintf(err, errlen, "policy: out of memory");
        return -1;
    }
    return tbl_cidrs_store(b, s->limit_allow, s->limit_allow_count,
                           "policy limit_allow", &p->limit_allow_first,
                           &p->limit_allow_count, err, errlen)
                   || tbl_cidrs_store(b, s->allow, s->allow_count,
                                      "policy allow", &p->allow_first,
                                      &p->allow_count, err, errlen)
                   || tbl_cidrs_store(b, s->deny, s->deny_count,
                                      "policy deny", &p->deny_first,
                                      &p->deny_count, err, errlen)
               ? -1
               : 0;
}

/* Hashes n bytes at base + off, where base may be NULL when n is 0. */
static void
tbl_hash_stream_at(tbl_hash_stream *hs, const void *base, size_t off,
                   size_t n)
{
    if (n > 0) {
        tbl_hash_stream_add(hs, (const uint8_t *)base + off, n);
    }
}

/*
 * policy_id: a hash of what the policy says, not of where it sits -- the
 * record with every offset zeroed and default_backend replaced by that
 * backend's stable id, then the bytes of every string, the auth secret
 * and each CIDR list -- so it stays the same across tables.
 */
static uint64_t
tbl_policy_id(const tbl_builder *b, const tbl_policy *p)
{
    tbl_policy      canon = *p;
    tbl_hash_stream hs;
    uint64_t        backend_id = 0;

    if (p->default_backend != TBL_NONE) {
        backend_id = b->backends.items[p->default_backend].backend_id;
    }
#define TBL_ZERO_OFF(f) canon.f.off = 0;
    TBL_POLICY_STRINGS(TBL_ZERO_OFF)
#undef TBL_ZERO_OFF
    canon.auth_secret.off = 0;
    canon.limit_allow_first = 0;
    canon.allow_first = 0;
    canon.deny_first = 0;
    canon.default_backend = 0;
    tbl_hash_stream_start(&hs, TBL_POLICY_ID_SEED);
    tbl_hash_stream_add(&hs, &canon, sizeof(canon));
    tbl_hash_stream_add(&hs, &backend_id, sizeof(backend_id));
#define TBL_HASH_STR(f)                                                     \
    tbl_hash_stream_part(&hs, tbl_builder_str(b, p->f), p->f.len);
    TBL_POLICY_STRINGS(TBL_HASH_STR)
#undef TBL_HASH_STR
    tbl_hash_stream_at(&hs, b->blobs.items, p->auth_secret.off,
                       p->auth_secret.len);
    tbl_hash_stream_at(&hs, b->cidrs.items,
                       p->limit_allow_first * sizeof(tbl_cidr),
                       p->limit_allow_count * sizeof(tbl_cidr));
    tbl_hash_stream_at(&hs, b->cidrs.items, p->allow_first * sizeof(tbl_cidr),
                       p->allow_count * sizeof(tbl_cidr));
    tbl_hash_stream_at(&hs, b->cidrs.items, p->deny_first * sizeof(tbl_cidr),
                       p->deny_count * sizeof(tbl_cidr));
    return tbl_hash_stream_end(&hs);
}

static int
tbl_policy_eq(const tbl_builder *b, uint32_t idx, const void *key)
{
    return memcmp(&b->policies.items[idx], key, sizeof(tbl_policy)) == 0;
}

uint32_t
tbl_builder_add_policy(tbl_builder *b, const tbl_policy_spec *spec,
                       char *err, size_t errlen)
{
    tbl_policy p;
    uint32_t   idx;

    if (tbl_policy_spec_check(b, spec, err, errlen) != 0
        || tbl_policy_record(b, spec, &p, err, errlen) != 0)
    {
        return TBL_NONE;
    }
    p.policy_id = tbl_policy_id(b, &p);
    idx = tbl_imap_find(&b->policy_index, p.policy_id, tbl_policy_eq, b, &p);
    if (idx != TBL_NONE) {
        return idx;
    }
    if (b->policies.len >= TBL_NONE - 1
        || tbl_vec_reserve(&b->policies, 1) != 0
        || tbl_imap_put(&b->policy_index, p.policy_id,
                        (uint32_t)b->policies.len)
               != 0)
    {
        goto nomem;
    }
    b->policies.items[b->policies.len] = p;
    return (uint32_t)b->policies.len++;

nomem:
    b->out_of_memory = 1;
    snprintf(err, errlen, "policy: out of memory");
    return TBL_NONE;
}

/* ------------------------------------------------------------ canaries */

static int
tbl_canary_spec_check(const tbl_builder *b, const tbl_canary_spec *s,
                      char *err, size_t errlen)
{
    uint32_t by_header = TBL_CANARY_BY_HEADER_VALUE
                         | TBL_CANARY_BY_HEADER_PATTERN;
    const char *ns = s->ingress_namespace ? s->ingress_namespace : "";
    const char *name = s->ingress_name ? s->ingress_name : "";

    if ((s->flags & ~(uint32_t)0x1f) != 0
        || ((s->flags & by_header) && !(s->flags & TBL_CANARY_BY_HEADER)))
    {
        snprintf(err, errlen, "canary ingress %s/%s: bad flags 0x%x", ns,
                 name, s->flags);
    } else if (s->weight_total == 0 || s->weight > s->weight_total) {
        snprintf(err, errlen, "canary ingress %s/%s: weight %u of total %u",
                 ns, name, s->weight, s->weight_total);
    } else if (s->backend != TBL_NONE && s->backend >= b->backends.len) {
        snprintf(err, errlen,
                 "canary ingress %s/%s: backend index %u out of range (%zu "
                 "backends)",
                 ns, name, s->backend, b->backends.len);
    } else {
        return 0;
    }
    return -1;
}

/* canary_id = hash("ns\0name\0host\0path\0"): the rule, not the record. */
static uint64_t
tbl_canary_id(const tbl_canary_spec *s)
{
    const char     *parts[4] = {s->ingress_namespace, s->ingress_name, s->host,
                                s->path};
    tbl_hash_stream hs;
    size_t          i;

    tbl_hash_stream_start(&hs, TBL_CANARY_ID_SEED);
    for (i = 0; i < 4; i++) {
        const char *p = parts[i] ? parts[i] : "";

        tbl_hash_stream_part(&hs, p, strlen(p));
    }
    return tbl_hash_stream_end(&hs);
}

static int
tbl_canary_eq(const tbl_builder *b, uint32_t idx, const void *key)
{
    return memcmp(&b->canaries.items[idx], key, sizeof(tbl_canary)) == 0;
}

uint32_t
tbl_builder_add_canary(tbl_builder *b, const tbl_canary_spec *spec,
                       char *err, size_t errlen)
{
    tbl_canary c;
    uint64_t   h;
    uint32_t   idx;

    if (tbl_canary_spec_check(b, spec, err, errlen) != 0) {
        return TBL_NONE;
    }
    memset(&c, 0, sizeof(c));
    c.backend = spec->backend;
    c.weight = spec->weight;
    c.weight_total = spec->weight_total;
    c.flags = spec->flags;
    if (tbl_intern_cstr(b, spec->header, &c.header) != 0
        || tbl_intern_cstr(b, spec->header_value, &c.header_value) != 0
        || tbl_intern_cstr(b, spec->header_pattern, &c.header_pattern) != 0
        || tbl_intern_cstr(b, spec->cookie, &c.cookie) != 0
        || tbl_intern_cstr(b, spec->ingress_namespace, &c.ingress_namespace)
               != 0
        || tbl_intern_cstr(b, spec->ingress_name, &c.ingress_name) != 0)
    {
        goto nomem;
    }
    c.canary_id = tbl_canary_id(spec);
    h = tbl_hash_bytes(&c, sizeof(c), 0);
    idx = tbl_imap_find(&b->canary_index, h, tbl_canary_eq, b, &c);
    if (idx != TBL_NONE) {
        return idx;
    }
    if (b->canaries.len >= TBL_NONE - 1
        || tbl_vec_reserve(&b->canaries, 1) != 0
        || tbl_imap_put(&b->canary_index, h, (uint32_t)b->canaries.len) != 0)
    {
        goto nomem;
    }
    b->canaries.items[b->canaries.len] = c;
    return (uint32_t)b->canaries.len++;

nomem:
    b->out_of_memory = 1;
    snprintf(err, errlen, "canary: out of memory");
    return TBL_NONE;
}

/* -------------------------------------------------------------- config */

void
tbl_config_spec_defaults(tbl_config_spec *spec)
{
    const tbl_config *d = &tbl_config_defaults;

    memset(spec, 0, sizeof(*spec));
    spec->flags = d->flags;
    spec->http_redirect_code = d->http_redirect_code;
    spec->limit_req_status_code = d->limit_req_status_code;
    spec->limit_conn_status_code = d->limit_conn_status_code;
    spec->load_balance = d->load_balance;
    spec->hsts_max_age = d->hsts_max_age;
    spec->connect_timeout_ms = d->connect_timeout_ms;
    spec->send_timeout_ms = d->send_timeout_ms;
    spec->read_timeout_ms = d->read_timeout_ms;
    spec->next_upstream = d->next_upstream;
    spec->next_upstream_tries = d->next_upstream_tries;
    spec->next_upstream_timeout_ms = d->next_upstream_timeout_ms;
    spec->body_size_max = d->body_size_max;
    spec->forwarded_for_header = "X-Forwarded-For";
    spec->no_tls_redirect_locations = "/.well-known/acme-challenge";
}

static int
tbl_config_spec_check(const tbl_config_spec *s, char *err, size_t errlen)
{
    if (s->flags & ~(uint32_t)TBL_CFG_FLAGS_ALL) {
        snprintf(err, errlen, "config flags: unknown bits 0x%x", s->flags);
    } else if (s->next_upstream & ~(uint32_t)TBL_NEXT_ALL) {
        snprintf(err, errlen, "config next_upstream: unknown bits 0x%x",
                 s->next_upstream);
    } else if (s->load_balance > TBL_LB_MAX) {
        snprintf(err, errlen, "config load_balance: %u", s->load_balance);
    } else if (s->http_redirect_code < 300 || s->http_redirect_code > 308) {
        snprintf(err, errlen, "config http_redirect_code: %u (300..308)",
                 s->http_redirect_code);
    } else if (s->limit_req_status_code < 400
               || s->limit_req_status_code > 599)
    {
        snprintf(err, errlen, "config limit_req_status_code: %u (400..599)",
                 s->limit_req_status_code);
    } else if (s->limit_conn_status_code < 400
               || s->limit_conn_status_code > 599)
    {
        snprintf(err, errlen, "config limit_conn_status_code: %u (400..599)",
                 s->limit_conn_status_code);
    } else {
        return 0;
    }
    return -1;
}

int
tbl_builder_set_config(tbl_builder *b, const tbl_config_spec *spec,
                       char *err, size_t errlen)
{
    tbl_config g;

    if (tbl_config_spec_check(spec, err, errlen) != 0) {
        return -1;
    }
    memset(&g, 0, sizeof(g));
    g.flags = spec->flags;
    g.http_redirect_code = spec->http_redirect_code;
    g.limit_req_status_code = spec->limit_req_status_code;
    g.limit_conn_status_code = spec->limit_conn_status_code;
    g.load_balance = spec->load_balance;
    g.hsts_max_age = spec->hsts_max_age;
    g.connect_timeout_ms = spec->connect_timeout_ms;
    g.send_timeout_ms = spec->send_timeout_ms;
    g.read_timeout_ms = spec->read_timeout_ms;
    g.next_upstream = spec->next_upstream;
    g.next_upstream_tries = spec->next_upstream_tries;
    g.next_upstream_timeout_ms = spec->next_upstream_timeout_ms;
    g.body_size_max = spec->body_size_max;
    memcpy(g.custom_errors, spec->custom_errors, sizeof(g.custom_errors));
    if (tbl_intern_cstr(b, spec->forwarded_for_header,
                        &g.forwarded_for_header)
            != 0
        || tbl_intern_cstr(b, spec->no_tls_redirect_locations,
                           &g.no_tls_redirect_locations)
               != 0
        || tbl_intern_cstr(b, spec->global_auth_url, &g.global_auth_url)
               != 0)
    {
        snprintf(err, errlen, "config: out of memory");
        return -1;
    }
    if (tbl_cidrs_store(b, spec->allow, spec->allow_count, "config allow",
                        &g.allow_first, &g.allow_count, err, errlen)
            != 0
        || tbl_cidrs_store(b, spec->deny, spec->deny_count, "config deny",
                           &g.deny_first, &g.deny_count, err, errlen)
               != 0
        || tbl_cidrs_store(b, spec->block, spec->block_count, "config block",
                           &g.block_first, &g.block_count, err, errlen)
               != 0
        || tbl_cidrs_store(b, spec->real_ip, spec->real_ip_count,
                           "config real_ip", &g.real_ip_first,
                           &g.real_ip_count, err, errlen)
               != 0)
    {
        return -1;
    }
    b->config = g;
    b->config_set = 1;
    return 0;
}

int
tbl_config_ensure(tbl_builder *b)
{
    tbl_config_spec spec;
    char            err[128];

    if (b->config_set) {
        return 0;
    }
    tbl_config_spec_defaults(&spec);
    return tbl_builder_set_config(b, &spec, err, sizeof(err));
}
