/*
 * tbl_sample.c -- see tbl_sample.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tbl_sample.h"

static int
sample_route(tbl_builder *b, uint32_t vhost, uint8_t type, const char *path,
             uint32_t backend, char *err, size_t errlen)
{
    tbl_route_spec s = {path, type, backend, TBL_NONE, TBL_NONE, "shop",
                        "web"};

    return tbl_builder_add_route(b, vhost, &s, err, errlen);
}

int
tbl_sample_rich(uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    tbl_builder     *b = tbl_builder_new();
    tbl_endpoint     ep4 = {{10, 0, 0, 1}, 8080, 4, TBL_EP_READY, 0};
    tbl_endpoint     ep6 = {{0x20, 0x01, 0x0d, 0xb8, [15] = 1}, 443, 6,
                            TBL_EP_READY, 0};
    tbl_backend_spec s4 = {"shop", "cart", "http", 80, 0, &ep4, 1};
    tbl_backend_spec s6 = {"shop", "v6", NULL, 443, 0, &ep6, 1};
    tbl_route_spec   vdef = {NULL, TBL_PATH_DEFAULT, 0, TBL_NONE, TBL_NONE,
                             "shop", "web"};
    tbl_route_spec   gdef = {NULL, TBL_PATH_DEFAULT, TBL_NONE, TBL_NONE,
                             TBL_NONE, "", ""};
    uint32_t         shop, wild, any, be, be6;
    int              rc;

    if (b == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    be = tbl_builder_add_backend(b, &s4);
    be6 = tbl_builder_add_backend(b, &s6);
    shop = tbl_builder_vhost(b, "shop.example.com");
    wild = tbl_builder_vhost(b, "*.example.com");
    any = tbl_builder_vhost(b, "");
    tbl_builder_vhost(b, "b.example.org");
    tbl_builder_vhost(b, "c.example.org");
    rc = sample_route(b, shop, TBL_PATH_EXACT, "/checkout", be, err, errlen)
         || sample_route(b, shop, TBL_PATH_PREFIX, "/cart/", be, err, errlen)
         || sample_route(b, shop, TBL_PATH_PREFIX, "/", be6, err, errlen)
         || sample_route(b, shop, TBL_PATH_IMPL, "/static", be, err, errlen)
         || sample_route(b, shop, TBL_PATH_IMPL, "/s", be, err, errlen)
         || sample_route(b, shop, TBL_PATH_REGEX, "/api/v[0-9]+", be, err,
                         errlen)
         || sample_route(b, wild, TBL_PATH_PREFIX, "/", be, err, errlen)
         || sample_route(b, any, TBL_PATH_PREFIX, "/", be, err, errlen)
         || tbl_builder_set_vhost_default(b, shop, &vdef, err, errlen)
         || tbl_builder_set_default(b, &gdef, err, errlen);
    if (rc == 0) {
        tbl_builder_set_built_at(b, 1700000000000ull);
        rc = tbl_builder_finish(b, 1, buf, len, err, errlen);
    }
    tbl_builder_free(b);
    return rc ? -1 : 0;
}

void
tbl_sample_reseal(uint8_t *buf, size_t len)
{
    tbl_header *h = (tbl_header *)buf;

    h->checksum = tbl_hash64(buf + sizeof(*h), len - sizeof(*h),
                             TBL_CHECKSUM_SEED);
}

tbl_section *
tbl_sample_section(uint8_t *buf, uint32_t kind)
{
    tbl_header  *h = (tbl_header *)buf;
    tbl_section *dir = (tbl_section *)(buf + sizeof(*h));
    uint32_t     i;

    for (i = 0; i < h->section_count; i++) {
        if (dir[i].kind == kind) {
            return &dir[i];
        }
    }
    return NULL;
}

static size_t
sample_align(size_t n)
{
    return (n + TBL_ALIGN - 1) & ~(size_t)(TBL_ALIGN - 1);
}

uint8_t *
tbl_sample_add_section(uint8_t *buf, size_t *len, uint32_t kind,
                       uint32_t entry_size, const void *data, uint64_t count)
{
    tbl_header  *oh = (tbl_header *)buf, *nh;
    tbl_section *od = (tbl_section *)(buf + sizeof(*oh)), *nd;
    uint32_t     n = oh->section_count, i;
    size_t       pos = sizeof(tbl_header) + (n + 1) * sizeof(tbl_section);
    size_t       total = pos;
    uint8_t     *out;

    for (i = 0; i < n; i++) {
        total = sample_align(total + od[i].count * od[i].entry_size);
    }
    total = sample_align(total + count * entry_size);
    out = calloc(1, total);
    if (out == NULL) {
        free(buf);
        return NULL;
    }
    nh = (tbl_header *)out;
    nd = (tbl_section *)(out + sizeof(*nh));
    *nh = *oh;
    nh->section_count = n + 1;
    nh->file_size = total;
    for (i = 0; i < n; i++) {
        nd[i] = od[i];
        nd[i].offset = pos;
        memcpy(out + pos, buf + od[i].offset, od[i].count * od[i].entry_size);
        pos = sample_align(pos + od[i].count * od[i].entry_size);
    }
    nd[n].kind = kind;
    nd[n].entry_size = entry_size;
    nd[n].offset = pos;
    nd[n].count = count;
    if (count > 0) {
        memcpy(out + pos, data, count * entry_size);
    }
    free(buf);
    *len = total;
    tbl_sample_reseal(out, total);
    return out;
}

/* ------------------------------------------------------ optional sections */

static const uint8_t sample_blobs[64] = "CHAIN-DER-BYTES................."
                                        "KEY-DER-BYTES";

/* The pool reference of s, or "" when absent. */
static tbl_str
sample_str(const uint8_t *buf, const char *s)
{
    tbl_section *sec = tbl_sample_section((uint8_t *)buf, TBL_SEC_STRINGS);
    const char  *pool = (const char *)buf + sec->offset;
    size_t       n = strlen(s), off;
    tbl_str      r = {0, 0};

    for (off = 0; off + n < sec->count; off++) {
        if ((off == 0 || pool[off - 1] == '\0')
            && memcmp(pool + off, s, n + 1) == 0)
        {
            r.off = (uint32_t)off;
            r.len = (uint32_t)n;
            break;
        }
    }
    return r;
}

/* A 4-slot SNI hash holding key -> cert. */
static void
sample_sni(const uint8_t *buf, tbl_slot *slots, const char *key,
           uint32_t cert)
{
    tbl_str  k = sample_str(buf, key);
    uint64_t h = tbl_hash64(key, k.len, TBL_HASH_SEED);
    int      i;

    memset(slots, 0, 4 * sizeof(tbl_slot));
    for (i = 0; i < 4; i++) {
        slots[i].value = TBL_NONE;
    }
    slots[h & 3].hash = h;
    slots[h & 3].key = k;
    slots[h & 3].value = cert;
}

static void
sample_cidrs(tbl_cidr *c)
{
    memset(c, 0, 3 * sizeof(*c));
    c[0].family = 4;
    c[0].prefix_len = 8;
    c[0].addr[0] = 10;
    c[1].family = 6;
    c[1].prefix_len = 32;
    memcpy(c[1].addr, "\x20\x01\x0d\xb8", 4);
    c[2].family = 4;
    c[2].prefix_len = 32;
    memcpy(c[2].addr, "\xc0\xa8\x01\x01", 4);
}

static void
sample_canary(const uint8_t *buf, tbl_canary *k)
{
    memset(k, 0, sizeof(*k));
    k->backend = 1;
    k->weight = 10;
    k->weight_total = 100;
    k->flags = TBL_CANARY_BY_HEADER | TBL_CANARY_BY_HEADER_VALUE
               | TBL_CANARY_BY_COOKIE;
    k->header = sample_str(buf, "shop.example.com");
    k->header_value = sample_str(buf, "web");
    k->ingress_name = sample_str(buf, "web");
    k->canary_id = 77;
}

static void
sample_policies(const uint8_t *buf, tbl_policy *p)
{
    unsigned code = 404 - TBL_CUSTOM_ERRORS_BASE;

    memset(p, 0, 2 * sizeof(*p));
    p[0].policy_id = 1;
    p[0].flags = TBL_POL_SSL_REDIRECT | TBL_POL_CORS;
    p[0].redirect_url = sample_str(buf, "shop.example.com");
    p[0].redirect_code = 308;
    p[0].auth_type = TBL_AUTH_BASIC;
    p[0].auth_secret.off = 32;
    p[0].auth_secret.len = 13;
    p[0].allow_count = 2;
    p[0].deny_first = 2;
    p[0].deny_count = 1;
    p[0].limit_rps = 10;
    p[0].limit_burst_multiplier = 5;
    p[0].next_upstream = TBL_NEXT_ERROR | TBL_NEXT_TIMEOUT;
    p[0].default_backend = 0;
    p[0].load_balance = TBL_LB_EWMA;
    p[0].affinity_mode = TBL_AFFINITY_BALANCED;
    p[0].custom_errors[code / 64] |= 1ull << (code % 64);
    p[1].policy_id = 2;
    p[1].default_backend = TBL_NONE;
    p[1].backend_protocol = TBL_PROTO_GRPC;
}

static void
sample_certs(const uint8_t *buf, tbl_cert *c)
{
    memset(c, 0, 2 * sizeof(*c));
    c[0].chain.len = 15;
    c[0].key.off = 32;
    c[0].key.len = 13;
    c[0].content_hash = 0x1234;
    c[0].secret_name = sample_str(buf, "web");
    c[1] = c[0];
    c[1].flags = TBL_CERT_DEFAULT;
}

static void
sample_config(tbl_config *g)
{
    memset(g, 0, sizeof(*g));
    g->flags = TBL_CFG_HSTS | TBL_CFG_SSL_REDIRECT;
    g->http_redirect_code = 308;
    g->limit_req_status_code = 503;
    g->limit_conn_status_code = 429;
    g->hsts_max_age = 31536000;
    g->connect_timeout_ms = 5000;
    g->body_size_max = 1 << 20;
    g->block_first = 2;
    g->block_count = 1;
}

uint8_t *
tbl_sample_add_optional(uint8_t *buf, size_t *len)
{
    tbl_cidr   cidrs[3];
    tbl_canary canary;
    tbl_policy pol[2];
    tbl_cert   certs[2];
    tbl_config cfg;
    tbl_slot   sni_exact[4], sni_wild[4];

    sample_cidrs(cidrs);
    sample_canary(buf, &canary);
    sample_policies(buf, pol);
    sample_certs(buf, certs);
    sample_config(&cfg);
    sample_sni(buf, sni_exact, "shop.example.com", 0);
    sample_sni(buf, sni_wild, "example.com", 1);

    buf = tbl_sample_add_section(buf, len, TBL_SEC_BLOBS, 1, sample_blobs,
                                 sizeof(sample_blobs));
    if (buf != NULL) {
        buf = tbl_sample_add_section(buf, len, TBL_SEC_CIDRS,
                                     sizeof(tbl_cidr), cidrs, 3);
    }
    if (buf != NULL) {
        buf = tbl_sample_add_section(buf, len, TBL_SEC_CANARIES,
                                     sizeof(tbl_canary), &canary, 1);
    }
    if (buf != NULL) {
        buf = tbl_sample_add_section(buf, len, TBL_SEC_POLICIES,
                                     sizeof(tbl_policy), pol, 2);
    }
    if (buf != NULL) {
        buf = tbl_sample_add_section(buf, len, TBL_SEC_CERTS,
                                     sizeof(tbl_cert), certs, 2);
    }
    if (buf != NULL) {
        buf = tbl_sample_add_section(buf, len, TBL_SEC_SNI_EXACT,
                                     sizeof(tbl_slot), sni_exact, 4);
    }
    if (buf != NULL) {
        buf = tbl_sample_add_section(buf, len, TBL_SEC_SNI_WILDCARD,
                                     sizeof(tbl_slot), sni_wild, 4);
    }
    if (buf == NULL) {
        return NULL;
    }
    memcpy(buf + tbl_sample_section(buf, TBL_SEC_CONFIG)->offset, &cfg,
           sizeof(cfg));

    ((tbl_route *)(buf + tbl_sample_section(buf, TBL_SEC_ROUTES)->offset))[0]
        .canary = 0;
    ((tbl_route *)(buf + tbl_sample_section(buf, TBL_SEC_ROUTES)->offset))[0]
        .policy = 0;
    ((tbl_vhost *)(buf + tbl_sample_section(buf, TBL_SEC_VHOSTS)->offset))[0]
        .cert = 0;
    ((tbl_vhost *)(buf + tbl_sample_section(buf, TBL_SEC_VHOSTS)->offset))[0]
        .policy = 1;
    ((tbl_header *)buf)->default_cert = 1;
    tbl_sample_reseal(buf, *len);
    return buf;
}
