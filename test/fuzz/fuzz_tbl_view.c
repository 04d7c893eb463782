/*
 * fuzz_tbl_view.c -- libFuzzer target: whatever tbl_view_init accepts
 * must be safe to read.
 *
 * The input is treated as a table file.  Its file_size and checksum are
 * repaired first, so that mutations reach the structural checks instead
 * of dying at the checksum (the unit tests cover checksum rejection).
 * When the validator accepts, every record is walked, every string
 * touched to its NUL, every index followed, every CIDR list searched for
 * each of its own entries, and lookups run over the table's own hosts
 * and paths plus a fixed set; ASan/UBSan report any read the validator
 * should have prevented.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tbl.h"

/* A string the validator passed: NUL exactly at len, none before. */
static void
touch_str(const tbl_view *v, tbl_str s)
{
    if (strlen(tbl_view_str(v, s)) != s.len) {
        abort();
    }
}

static unsigned
touch_blob(const tbl_view *v, tbl_str s)
{
    const uint8_t *p = tbl_view_blob(v, s);
    unsigned       sum = 0;
    uint32_t       i;

    for (i = 0; i < s.len; i++) {
        sum += p[i];
    }
    return sum;
}

/* Whether addr is an IPv6 address that tbl_cidr_match reads as IPv4. */
static int
v4_mapped(const tbl_cidr *c)
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0xff, 0xff};

    return c->family == 6 && memcmp(c->addr, prefix, sizeof(prefix)) == 0;
}

/*
 * A validated list is sorted and minimal, so every entry's own network
 * address must be found by the binary search.
 */
static unsigned
touch_cidrs(const tbl_view *v, uint32_t first, uint32_t count)
{
    unsigned sum = 0;
    uint32_t i;

    for (i = first; i < first + count; i++) {
        const tbl_cidr *c = &v->cidrs[i];

        sum += c->prefix_len + c->addr[15];
        if (!v4_mapped(c)
            && tbl_cidr_match(v, first, count, c->addr, c->family) != 1)
        {
            abort();
        }
    }
    return sum;
}

static unsigned
touch_backend(const tbl_view *v, uint32_t b)
{
    const tbl_backend *be;
    unsigned           sum = 0;
    uint32_t           i;

    if (b == TBL_NONE) {
        return 0;
    }
    be = &v->backends[b];
    touch_str(v, be->service_namespace);
    touch_str(v, be->service_name);
    touch_str(v, be->port_name);
    for (i = be->endpoint_first; i < be->endpoint_first + be->endpoint_count;
         i++)
    {
        sum += v->endpoints[i].port + v->endpoints[i].addr[15];
    }
    return sum;
}

static unsigned
touch_policy(const tbl_view *v, uint32_t p)
{
    const tbl_policy *pol;

    if (p == TBL_NONE) {
        return 0;
    }
    pol = &v->policies[p];
    touch_str(v, pol->redirect_url);
    touch_str(v, pol->app_root);
    touch_str(v, pol->rewrite_target);
    touch_str(v, pol->x_forwarded_prefix);
    touch_str(v, pol->auth_realm);
    touch_str(v, pol->auth_url);
    touch_str(v, pol->auth_method);
    touch_str(v, pol->auth_signin);
    touch_str(v, pol->auth_response_headers);
    touch_str(v, pol->upstream_vhost);
    touch_str(v, pol->hash_by);
    touch_str(v, pol->affinity_cookie_name);
    touch_str(v, pol->affinity_cookie_path);
    touch_str(v, pol->cors_allow_origin);
    touch_str(v, pol->cors_allow_methods);
    touch_str(v, pol->cors_allow_headers);
    touch_str(v, pol->cors_expose_headers);
    return touch_blob(v, pol->auth_secret)
           + touch_cidrs(v, pol->limit_allow_first, pol->limit_allow_count)
           + touch_cidrs(v, pol->allow_first, pol->allow_count)
           + touch_cidrs(v, pol->deny_first, pol->deny_count)
           + touch_backend(v, pol->default_backend);
}

static unsigned
touch_route(const tbl_view *v, uint32_t r)
{
    const tbl_route *route;
    unsigned         sum = 0;

    if (r == TBL_NONE) {
        return 0;
    }
    route = &v->routes[r];
    touch_str(v, route->path);
    touch_str(v, route->ingress_namespace);
    touch_str(v, route->ingress_name);
    if (route->vhost != TBL_NONE) {
        touch_str(v, v->vhosts[route->vhost].host);
    }
    if (route->canary != TBL_NONE) {
        const tbl_canary *c = &v->canaries[route->canary];

        touch_str(v, c->header);
        touch_str(v, c->header_value);
        touch_str(v, c->header_pattern);
        touch_str(v, c->cookie);
        touch_str(v, c->ingress_namespace);
        touch_str(v, c->ingress_name);
        sum += touch_backend(v, c->backend);
    }
    return sum + touch_backend(v, route->backend)
           + touch_policy(v, route->policy);
}

static unsigned
touch_cert(const tbl_view *v, uint32_t c)
{
    if (c == TBL_NONE) {
        return 0;
    }
    touch_str(v, v->certs[c].secret_namespace);
    touch_str(v, v->certs[c].secret_name);
    return touch_blob(v, v->certs[c].chain) + touch_blob(v, v->certs[c].key);
}

static void
touch_slots(const tbl_view *v, const tbl_slot *slots, uint32_t cap)
{
    uint32_t i;

    for (i = 0; i < cap; i++) {
        if (slots[i].value != TBL_NONE) {
            touch_str(v, slots[i].key);
        }
    }
}

static unsigned
walk(const tbl_view *v)
{
    unsigned sum = 0;
    uint32_t i, k;

    for (i = 0; i < v->vhost_count; i++) {
        const tbl_vhost *vh = &v->vhosts[i];

        touch_str(v, vh->host);
        for (k = 0; k < vh->impl_count; k++) {
            sum += touch_route(v, v->route_lists[vh->impl_first + k]);
        }
        for (k = 0; k < vh->regex_count; k++) {
            sum += touch_route(v, v->route_lists[vh->regex_first + k]);
        }
        sum += touch_route(v, vh->default_route) + touch_cert(v, vh->cert)
               + touch_policy(v, vh->policy);
    }
    for (i = 0; i < v->route_count; i++) {
        sum += touch_route(v, i);
    }
    for (i = 0; i < v->policy_count; i++) {
        sum += touch_policy(v, i);
    }
    for (i = 0; i < v->cert_count; i++) {
        sum += touch_cert(v, i);
    }
    touch_slots(v, v->host_exact, v->host_exact_cap);
    touch_slots(v, v->host_wildcard, v->host_wildcard_cap);
    touch_slots(v, v->path_exact, v->path_exact_cap);
    touch_slots(v, v->path_prefix, v->path_prefix_cap);
    touch_slots(v, v->sni_exact, v->sni_exact_cap);
    touch_slots(v, v->sni_wildcard, v->sni_wildcard_cap);
    if (tbl_view_config(v) == NULL
        || (v->config != NULL && tbl_view_config(v) != v->config))
    {
        abort();
    }
    if (v->config != NULL) {
        touch_str(v, v->config->forwarded_for_header);
        touch_str(v, v->config->no_tls_redirect_locations);
        touch_str(v, v->config->global_auth_url);
        sum += touch_cidrs(v, v->config->allow_first, v->config->allow_count)
               + touch_cidrs(v, v->config->deny_first, v->config->deny_count)
               + touch_cidrs(v, v->config->block_first,
                             v->config->block_count);
    }
    return sum + touch_route(v, v->hdr->default_route)
           + touch_cert(v, v->hdr->default_cert);
}

/*
 * Claims about every other regex route matches, after reading its pattern
 * and the last byte of the path it was given.
 */
static int
regex_cb(void *ctx, const tbl_view *v, const tbl_route *route,
         const char *path, size_t len)
{
    unsigned *calls = ctx;
    size_t    last = len > 0 ? (unsigned char)path[len - 1] : 0;

    (*calls)++;
    return (strlen(tbl_view_str(v, route->path)) + last + *calls) & 1;
}

static void
check_match(const tbl_view *v, const tbl_match *m)
{
    if ((m->route == TBL_NONE) != (m->kind == TBL_MATCH_NONE)
        || (m->vhost == TBL_NONE) != (m->host_kind == TBL_HOST_NONE)
        || (m->route != TBL_NONE && m->route >= v->route_count)
        || (m->vhost != TBL_NONE && m->vhost >= v->vhost_count))
    {
        abort();
    }
    touch_route(v, m->route);
}

static void
lookups(const tbl_view *v)
{
    static const char *hosts[] = {"", "a.example.com", "[::1]:80",
                                  "SHOP.EXAMPLE.COM:8080", "x.y.z.", "10.0.0.1"};
    static const char *paths[] = {"/", "/a/b/c", "", "/api/v1/x/", "//"};
    char               host[TBL_MAX_HOST_LEN + 3];
    unsigned           calls = 0;
    uint32_t           h, p;
    tbl_match          m;

    for (h = 0; h < v->vhost_count + 6 && h < 40; h++) {
        const char *name;
        size_t      nlen;

        if (h < 6) {
            name = hosts[h];
            nlen = strlen(name);
        } else {
            tbl_str s = v->vhosts[h - 6].host;

            memcpy(host, tbl_view_str(v, s), s.len);
            if (s.len > 1 && host[0] == '*') {
                host[0] = 'x';
            }
            name = host;
            nlen = s.len;
        }
        for (p = 0; p < v->route_count + 5 && p < 40; p++) {
            const char *path = p < 5 ? paths[p]
                                     : tbl_view_str(v, v->routes[p - 5].path);

            tbl_lookup(v, name, nlen, path, strlen(path), regex_cb, &calls,
                       &m);
            check_match(v, &m);
            tbl_lookup(v, name, nlen, path, strlen(path), NULL, NULL, &m);
            check_match(v, &m);
        }
        touch_cert(v, tbl_lookup_cert(v, name, nlen));
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    tbl_view v;
    char     err[256];

    if (buf == NULL) {
        return 0;
    }
    memcpy(buf, data, size);
    if (size >= sizeof(tbl_header)) {
        tbl_header *h = (tbl_header *)buf;

        h->file_size = size;
        h->checksum = tbl_hash64(buf + sizeof(*h), size - sizeof(*h),
                                 TBL_CHECKSUM_SEED);
    }
    if (tbl_view_init(&v, buf, size, err, sizeof(err)) == 0) {
        volatile unsigned sink = walk(&v);

        (void)sink;
        lookups(&v);
    }
    free(buf);
    return 0;
}
