/*
 * tbl_builder.c -- collects vhosts, routes, backends and endpoints for a
 * route table (see tbl_format.h), and owns the builder's memory.
 *
 * The builder is the controller's only way to write a table, so it holds
 * the format's invariants: strings deduplicated and NUL-terminated,
 * Prefix keys normalized, every reference in range.  Identical calls give
 * identical bytes.  It does not decide between conflicting Ingresses: a
 * duplicate match key is an error the caller must avoid.  Certificates
 * live in tbl_builder_tls.c, policies, canaries and the config in
 * tbl_builder_policy.c, and writing the bytes in tbl_serialize.c; the
 * builder never reads its own output (the tests prove it validates).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tbl.h"
#include "tbl_builder_internal.h"

/* ------------------------------------------------------- growable arrays */

int
tbl_grow(void **items, size_t *cap, size_t len, size_t more, size_t size)
{
    size_t need = len + more, ncap;
    void  *p;

    if (need < len) {
        return -1;
    }
    if (need <= *cap) {
        return 0;
    }
    ncap = *cap ? *cap : 64;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / size) {
            return -1;
        }
        ncap *= 2;
    }
    p = realloc(*items, ncap * size);
    if (p == NULL) {
        return -1;
    }
    *items = p;
    *cap = ncap;
    return 0;
}

static int
tbl_bytes_append(tbl_bytes *b, const void *p, size_t n)
{
    if (n == 0) {
        return 0;
    }
    if (tbl_vec_reserve(b, n) != 0) {
        return -1;
    }
    memcpy(b->items + b->len, p, n);
    b->len += n;
    return 0;
}

/* ----------------------------------------------------------- index map */

static void
tbl_islots_clear(tbl_islot *slots, size_t cap)
{
    /* value TBL_NONE is all one bits; the tag of an empty slot is unused */
    memset(slots, 0xff, cap * sizeof(*slots));
}

static int
tbl_imap_grow(tbl_imap *m)
{
    size_t     ncap = m->cap ? m->cap * 2 : 64, i, j;
    tbl_islot *ns;

    if (m->cap > UINT32_MAX / 2) { /* the tag picks slots: 32 bits */
        return -1;
    }
    ns = malloc(ncap * sizeof(*ns));
    if (ns == NULL) {
        return -1;
    }
    tbl_islots_clear(ns, ncap);
    for (i = 0; i < m->cap; i++) {
        if (m->slots[i].value == TBL_NONE) {
            continue;
        }
        for (j = m->slots[i].tag & (ncap - 1); ns[j].value != TBL_NONE;
             j = (j + 1) & (ncap - 1))
        {
        }
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

int
tbl_imap_put(tbl_imap *m, uint64_t h, uint32_t value)
{
    uint32_t tag = tbl_imap_tag(h);
    size_t   i;

    if ((m->count + 1) * 2 > m->cap && tbl_imap_grow(m) != 0) {
        return -1;
    }
    for (i = tag & (m->cap - 1); m->slots[i].value != TBL_NONE;
         i = (i + 1) & (m->cap - 1))
    {
    }
    m->slots[i].tag = tag;
    m->slots[i].value = value;
    m->count++;
    return 0;
}

/* Empties the map and keeps its capacity for the next build. */
static void
tbl_imap_clear(tbl_imap *m)
{
    if (m->count > 0) {
        tbl_islots_clear(m->slots, m->cap);
        m->count = 0;
    }
}

static void
tbl_imap_free(tbl_imap *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------ lifecycle */

/* The state of an empty builder: only "" in the pool. */
static int
tbl_builder_start(tbl_builder *b)
{
    size_t i;

    for (i = 0; i < TBL_RECENT_STRINGS; i++) {
        b->recent[i].off = TBL_NONE;
    }
    b->catchall = TBL_NONE;
    b->default_route = TBL_NONE;
    b->default_cert = TBL_NONE;
    return tbl_intern(b, "", 0, &(tbl_str){0, 0});
}

tbl_builder *
tbl_builder_new(void)
{
    tbl_builder *b = calloc(1, sizeof(*b));

    if (b == NULL) {
        return NULL;
    }
    if (tbl_builder_start(b) != 0) {
        tbl_builder_free(b);
        return NULL;
    }
    return b;
}

/* Keys and htpasswd data must not linger in freed or reused memory. */
static void
tbl_wipe_secrets(tbl_builder *b)
{
    if (b->blobs.len > 0) {
        explicit_bzero(b->blobs.items, b->blobs.len);
    }
}

#define TBL_BUILDER_MAP_COUNT 11

/* Every map of the builder, for free and reset alike. */
static void
tbl_builder_maps(tbl_builder *b, tbl_imap *maps[TBL_BUILDER_MAP_COUNT])
{
    maps[0] = &b->pool_index;
    maps[1] = &b->blob_index;
    maps[2] = &b->vhost_index;
    maps[3] = &b->route_index;
    maps[4] = &b->backend_index;
    maps[5] = &b->cert_index;
    maps[6] = &b->sni_index;
    maps[7] = &b->policy_index;
    maps[8] = &b->canary_index;
    maps[9] = &b->cidr_index;
    maps[10] = &b->alias_index;
}

void
tbl_builder_free(tbl_builder *b)
{
    tbl_imap *maps[TBL_BUILDER_MAP_COUNT];
    size_t    i;

    if (b == NULL) {
        return;
    }
    tbl_wipe_secrets(b);
    tbl_builder_maps(b, maps);
    for (i = 0; i < TBL_BUILDER_MAP_COUNT; i++) {
        tbl_imap_free(maps[i]);
    }
    free(b->pool.items);
    free(b->blobs.items);
    free(b->vhosts.items);
    free(b->aliases.items);
    free(b->routes.items);
    free(b->route_keys.items);
    free(b->backends.items);
    free(b->endpoints.items);
    free(b->certs.items);
    free(b->snis.items);
    free(b->policies.items);
    free(b->canaries.items);
    free(b->cidrs.items);
    free(b->cidr_lists.items);
    free(b->cidr_scratch.items);
    free(b->list_pos.items);
    free(b->sort_keys.items);
    free(b);
}

/*
 * Forgets every record but keeps every array and map at its size, so the
 * next build of a similar cluster allocates nothing.
 */
void
tbl_builder_reset(tbl_builder *b)
{
    tbl_imap *maps[TBL_BUILDER_MAP_COUNT];
    size_t    i;

    tbl_wipe_secrets(b);
    tbl_builder_maps(b, maps);
    for (i = 0; i < TBL_BUILDER_MAP_COUNT; i++) {
        tbl_imap_clear(maps[i]);
    }
    b->pool.len = 0;
    b->blobs.len = 0;
    b->vhosts.len = 0;
    b->aliases.len = 0;
    b->routes.len = 0;
    b->route_keys.len = 0;
    b->backends.len = 0;
    b->endpoints.len = 0;
    b->certs.len = 0;
    b->snis.len = 0;
    b->policies.len = 0;
    b->canaries.len = 0;
    b->cidrs.len = 0;
    b->cidr_lists.len = 0;
    b->config_set = 0;
    b->host_exact_count = 0;
    b->host_wild_count = 0;
    b->path_exact_count = 0;
    b->path_prefix_count = 0;
    b->sni_exact_count = 0;
    b->list_count = 0;
    b->out_of_memory = 0;
    b->built_at_set = 0;
    if (tbl_builder_start(b) != 0) {
        b->out_of_memory = 1;
    }
}

void
tbl_builder_set_built_at(tbl_builder *b, uint64_t ms)
{
    b->built_at_ms = ms;
    b->built_at_set = 1;
}

const char *
tbl_path_type_name(unsigned type)
{
    switch (type) {
    case TBL_PATH_EXACT:
        return "Exact";
    case TBL_PATH_PREFIX:
        return "Prefix";
    case TBL_PATH_IMPL:
        return "ImplementationSpecific";
    case TBL_PATH_REGEX:
        return "Regex";
    case TBL_PATH_DEFAULT:
        return "DefaultBackend";
    default:
        return "unknown";
    }
}

/* --------------------------------------------------------- string pool */

typedef struct {
    const char *s;
    size_t      len;
} tbl_key;

/*
 * Pool strings hold no NUL and are followed by one, so a candidate
 * equals the key when the key's bytes match and a NUL follows them.
 */
static int
tbl_pool_eq(const tbl_builder *b, uint32_t off, const void *key)
{
    const tbl_key *k = key;

    return off + k->len < b->pool.len
           && memcmp(b->pool.items + off, k->s, k->len) == 0
           && b->pool.items[off + k->len] == '\0';
}

int
tbl_intern_hashed(tbl_builder *b, const char *s, size_t len, uint64_t h,
                  tbl_str *out)
{
    tbl_key  k = {s, len};
    size_t   r = (size_t)h & (TBL_RECENT_STRINGS - 1);
    uint32_t off = b->recent[r].off;

    if (off == TBL_NONE || b->recent[r].hash != h
        || !tbl_pool_eq(b, off, &k))
    {
        off = tbl_imap_find(&b->pool_index, h, tbl_pool_eq, b, &k);
    }
    if (off == TBL_NONE) {
        if (b->pool.len + len + 1 >= TBL_NONE
            || tbl_vec_reserve(&b->pool, len + 1) != 0
            || tbl_imap_put(&b->pool_index, h, (uint32_t)b->pool.len) != 0)
        {
            b->out_of_memory = 1;
            return -1;
        }
        off = (uint32_t)b->pool.len;
        memcpy(b->pool.items + off, s, len);
        b->pool.items[off + len] = '\0';
        b->pool.len += len + 1;
    }
    b->recent[r].hash = h;
    b->recent[r].off = off;
    out->off = off;
    out->len = (uint32_t)len;
    return 0;
}

int
tbl_blob_append(tbl_builder *b, const void *p, size_t len, tbl_str *out)
{
    if (b->blobs.len + len >= TBL_NONE
        || tbl_bytes_append(&b->blobs, p, len) != 0)
    {
        b->out_of_memory = 1;
        return -1;
    }
    out->off = (uint32_t)(b->blobs.len - len);
    out->len = (uint32_t)len;
    return 0;
}

/* Decimal digits of v at p (room for 10); returns how many. */
static size_t
tbl_format_u32(char *p, uint32_t v)
{
    char   tmp[10];
    size_t n = 0, i;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (i = 0; i < n; i++) {
        p[i] = tmp[n - 1 - i];
    }
    return n;
}

/* ------------------------------------------------------------ backends */

static int
tbl_endpoints_valid(const tbl_endpoint *eps, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (eps[i].family != 4 && eps[i].family != 6) {
            return 0;
        }
    }
    return 1;
}

static void
tbl_endpoint_copy(tbl_endpoint *dst, const tbl_endpoint *src)
{
    memset(dst, 0, sizeof(*dst));
    memcpy(dst->addr, src->addr, src->family == 4 ? 4 : 16);
    dst->port = src->port;
    dst->family = src->family;
    dst->flags = src->flags & (TBL_EP_READY | TBL_EP_SERVING
                               | TBL_EP_TERMINATING);
}

/* What identifies a backend: namespace, name, port and port name. */
typedef struct {
    tbl_key  ns;
    tbl_key  name;
    tbl_key  port_name;
    uint32_t port;
} tbl_backend_key;

static void
tbl_backend_key_of(const tbl_backend_spec *spec, tbl_backend_key *k)
{
    k->ns.s = spec->service_namespace;
    k->ns.len = strlen(k->ns.s);
    k->name.s = spec->service_name;
    k->name.len = strlen(k->name.s);
    k->port_name.s = spec->port_name ? spec->port_name : "";
    k->port_name.len = strlen(k->port_name.s);
    k->port = spec->port;
}

/* backend_id = hash("ns\0name\0port\0port_name\0"), port in decimal. */
static uint64_t
tbl_backend_id(const tbl_backend_key *k)
{
    tbl_hash_stream hs;
    char            port[10];

    tbl_hash_stream_start(&hs, TBL_BACKEND_ID_SEED);
    tbl_hash_stream_part(&hs, k->ns.s, k->ns.len);
    tbl_hash_stream_part(&hs, k->name.s, k->name.len);
    tbl_hash_stream_part(&hs, port, tbl_format_u32(port, k->port));
    tbl_hash_stream_part(&hs, k->port_name.s, k->port_name.len);
    return tbl_hash_stream_end(&hs);
}

/* Whether pool string s holds the key's bytes. */
static int
tbl_str_is(const tbl_builder *b, tbl_str s, const tbl_key *k)
{
    return s.len == k->len && memcmp(b->pool.items + s.off, k->s, k->len) == 0;
}

static int
tbl_backend_eq(const tbl_builder *b, uint32_t idx, const void *key)
{
    const tbl_backend_key *k = key;
    const tbl_backend     *be = &b->backends.items[idx];

    return be->port == k->port && tbl_str_is(b, be->service_name, &k->name)
           && tbl_str_is(b, be->service_namespace, &k->ns)
           && tbl_str_is(b, be->port_name, &k->port_name);
}

/* Fills the record of a new backend and its endpoints. */
static int
tbl_backend_append(tbl_builder *b, const tbl_backend_spec *spec,
                   const tbl_backend_key *k, uint64_t id)
{
    tbl_backend *be = &b->backends.items[b->backends.len];
    size_t       i;

    memset(be, 0, sizeof(*be));
    if (tbl_intern(b, k->ns.s, k->ns.len, &be->service_namespace) != 0
        || tbl_intern(b, k->name.s, k->name.len, &be->service_name) != 0
        || tbl_intern(b, k->port_name.s, k->port_name.len, &be->port_name)
               != 0)
    {
        return -1;
    }
    be->port = spec->port;
    be->flags = spec->flags & (TBL_BACKEND_SERVICE_MISSING
                               | TBL_BACKEND_PORT_MISSING
                               | TBL_BACKEND_NO_ENDPOINTS);
    be->endpoint_first = (uint32_t)b->endpoints.len;
    be->endpoint_count = (uint32_t)spec->endpoint_count;
    be->backend_id = id;
    for (i = 0; i < spec->endpoint_count; i++) {
        tbl_endpoint_copy(&b->endpoints.items[b->endpoints.len + i],
                          &spec->endpoints[i]);
    }
    b->endpoints.len += spec->endpoint_count;
    b->backends.len++;
    return 0;
}

uint32_t
tbl_builder_add_backend(tbl_builder *b, const tbl_backend_spec *spec)
{
    tbl_backend_key k;
    uint64_t        h;
    uint32_t        idx;

    if (spec->service_namespace == NULL || spec->service_name == NULL
        || (spec->endpoint_count > 0 && spec->endpoints == NULL))
    {
        return TBL_NONE;
    }
    tbl_backend_key_of(spec, &k);
    h = tbl_backend_id(&k);
    idx = tbl_imap_find(&b->backend_index, h, tbl_backend_eq, b, &k);
    if (idx != TBL_NONE) {
        return idx;
    }
    if (!tbl_endpoints_valid(spec->endpoints, spec->endpoint_count)
        || b->backends.len >= TBL_NONE - 1
        || b->endpoints.len + spec->endpoint_count >= TBL_NONE)
    {
        return TBL_NONE;
    }
    idx = (uint32_t)b->backends.len;
    if (tbl_vec_reserve(&b->backends, 1) != 0
        || tbl_vec_reserve(&b->endpoints, spec->endpoint_count) != 0
        || tbl_backend_append(b, spec, &k, h) != 0
        || tbl_imap_put(&b->backend_index, h, idx) != 0)
    {
        b->out_of_memory = 1;
        return TBL_NONE;
    }
    return idx;
}

/* -------------------------------------------------------------- vhosts */

/*
 * Whether `host` (length len) is a lower-case DNS name the table can
 * hold: labels of [a-z0-9_-] separated by single dots, at most 253 bytes.
 * The same alphabet tbl_normalize_host lets through.
 */
int
tbl_host_is_valid(const char *host, size_t len)
{
    size_t i;

    if (len == 0 || len > TBL_MAX_HOST_LEN || host[0] == '.'
        || host[len - 1] == '.')
    {
        return 0;
    }
    for (i = 0; i < len; i++) {
        char c = host[i];

        if (c == '.') {
            if (host[i + 1] == '.') {
                return 0;
            }
        } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                     || c == '-' || c == '_'))
        {
            return 0;
        }
    }
    return 1;
}

static int
tbl_vhost_eq(const tbl_builder *b, uint32_t idx, const void *key)
{
    const tbl_key *k = key;
    tbl_str        host = b->vhosts.items[idx].rec.host;

    return host.len == k->len
           && memcmp(b->pool.items + host.off, k->s, k->len) == 0;
}

/* The flags a new vhost gets from its host, or -1 when it is invalid. */
static int
tbl_vhost_kind(const char *host, size_t len, uint32_t *flags)
{
    *flags = 0;
    if (len == 0) {
        *flags = TBL_VHOST_CATCHALL;
        return 0;
    }
    if (len > 2 && host[0] == '*' && host[1] == '.') {
        *flags = TBL_VHOST_WILDCARD;
        return tbl_host_is_valid(host + 2, len - 2) ? 0 : -1;
    }
    return tbl_host_is_valid(host, len) ? 0 : -1;
}

uint32_t
tbl_builder_vhost(tbl_builder *b, const char *host)
{
    tbl_bvhost *vh;
    tbl_key     k;
    uint64_t    h;
    uint32_t    idx, flags;

    if (host == NULL) {
        return TBL_NONE;
    }
    k.s = host;
    k.len = strlen(host);
    h = tbl_slot_hash(host, k.len, 0);
    idx = tbl_imap_find(&b->vhost_index, h, tbl_vhost_eq, b, &k);
    if (idx != TBL_NONE) {
        return idx;
    }
    if (tbl_vhost_kind(host, k.len, &flags) != 0
        || b->vhosts.len >= TBL_NONE - 1)
    {
        return TBL_NONE;
    }
    if (tbl_vec_reserve(&b->vhosts, 1) != 0) {
        b->out_of_memory = 1;
        return TBL_NONE;
    }
    idx = (uint32_t)b->vhosts.len;
    vh = &b->vhosts.items[idx];
    memset(vh, 0, sizeof(*vh));
    vh->host_hash = h;
    if (tbl_intern_hashed(b, host, k.len, h, &vh->rec.host) != 0) {
        return TBL_NONE;
    }
    if (flags == TBL_VHOST_WILDCARD) {
        vh->wildcard_hash = tbl_slot_hash(host + 2, k.len - 2, 0);
        if (tbl_intern_hashed(b, host + 2, k.len - 2, vh->wildcard_hash,
                              &vh->wildcard_key)
            != 0)
        {
            return TBL_NONE;
        }
    }
    if (tbl_imap_put(&b->vhost_index, h, idx) != 0) {
        b->out_of_memory = 1;
        return TBL_NONE;
    }
    vh->rec.flags = flags;
    vh->rec.default_route = TBL_NONE;
    vh->rec.cert = TBL_NONE;
    vh->rec.policy = TBL_NONE;
    if (flags == TBL_VHOST_CATCHALL) {
        b->catchall = idx;
    } else if (flags == TBL_VHOST_WILDCARD) {
        b->host_wild_count++;
    } else {
        b->host_exact_count++;
    }
    b->vhosts.len++;
    return idx;
}

int
tbl_builder_set_vhost_flags(tbl_builder *b, uint32_t vhost, uint32_t flags)
{
    if (vhost >= b->vhosts.len
        || (flags & ~(uint32_t)(TBL_VHOST_TLS | TBL_VHOST_REGEX)) != 0)
    {
        return -1;
    }
    b->vhosts.items[vhost].rec.flags |= flags;
    return 0;
}

int
tbl_builder_set_vhost_policy(tbl_builder *b, uint32_t vhost, uint32_t policy)
{
    if (vhost >= b->vhosts.len
        || (policy != TBL_NONE && policy >= b->policies.len))
    {
        return -1;
    }
    b->vhosts.items[vhost].rec.policy = policy;
    return 0;
}

static const char *tbl_vhost_name(const tbl_builder *b, uint32_t vhost);

static int
tbl_alias_eq(const tbl_builder *b, uint32_t idx, const void *key)
{
    const tbl_key *k = key;
    tbl_str        host = b->aliases.items[idx].host;

    return host.len == k->len
           && memcmp(b->pool.items + host.off, k->s, k->len) == 0;
}

int
tbl_builder_add_alias(tbl_builder *b, uint32_t vhost, const char *host,
                      char *err, size_t errlen)
{
    tbl_balias *a;
    tbl_key     k;
    uint32_t    flags;
    size_t      skip;

    k.s = host != NULL ? host : "";
    k.len = strlen(k.s);
    if (vhost >= b->vhosts.len
        || (b->vhosts.items[vhost].rec.flags & TBL_VHOST_CATCHALL))
    {
        snprintf(err, errlen, "alias \"%s\": no such host vhost", k.s);
        return -1;
    }
    if (k.len == 0 || tbl_vhost_kind(k.s, k.len, &flags) != 0) {
        snprintf(err, errlen, "alias \"%s\": not a host name", k.s);
        return -1;
    }
    if (tbl_imap_find(&b->vhost_index, tbl_slot_hash(k.s, k.len, 0),
                      tbl_vhost_eq, b, &k)
        != TBL_NONE)
    {
        snprintf(err, errlen, "alias \"%s\": a rule names this host", k.s);
        return -1;
    }
    if (tbl_imap_find(&b->alias_index, tbl_slot_hash(k.s, k.len, 0),
                      tbl_alias_eq, b, &k)
        != TBL_NONE)
    {
        snprintf(err, errlen, "alias \"%s\": already an alias of \"%s\"",
                 k.s,
                 tbl_vhost_name(b, tbl_builder_alias_vhost(b, k.s)));
        return -1;
    }
    if (tbl_vec_reserve(&b->aliases, 1) != 0) {
        b->out_of_memory = 1;
        snprintf(err, errlen, "alias: out of memory");
        return -1;
    }
    a = &b->aliases.items[b->aliases.len];
    memset(a, 0, sizeof(*a));
    a->vhost = vhost;
    a->wildcard = flags == TBL_VHOST_WILDCARD;
    skip = a->wildcard ? 2 : 0;
    a->host_hash = tbl_slot_hash(k.s, k.len, 0);
    a->key_hash = tbl_slot_hash(k.s + skip, k.len - skip, 0);
    if (tbl_intern_hashed(b, k.s, k.len, a->host_hash, &a->host) != 0
        || tbl_intern_hashed(b, k.s + skip, k.len - skip, a->key_hash,
                             &a->key)
               != 0
        || tbl_imap_put(&b->alias_index, a->host_hash,
                        (uint32_t)b->aliases.len)
               != 0)
    {
        b->out_of_memory = 1;
        snprintf(err, errlen, "alias: out of memory");
        return -1;
    }
    if (a->wildcard) {
        b->host_wild_count++;
    } else {
        b->host_exact_count++;
    }
    b->aliases.len++;
    return 0;
}

uint32_t
tbl_builder_alias_vhost(const tbl_builder *b, const char *host)
{
    tbl_key  k;
    uint32_t i;

    k.s = host != NULL ? host : "";
    k.len = strlen(k.s);
    i = tbl_imap_find(&b->alias_index, tbl_slot_hash(k.s, k.len, 0),
                      tbl_alias_eq, b, &k);
    return i == TBL_NONE ? TBL_NONE : b->aliases.items[i].vhost;
}

/* An alias whose name a vhost took after it was added is not written. */
int
tbl_alias_shadowed(const tbl_builder *b, const tbl_balias *a)
{
    tbl_key k;

    k.s = tbl_builder_str(b, a->host);
    k.len = a->host.len;
    return tbl_imap_find(&b->vhost_index, a->host_hash, tbl_vhost_eq, b, &k)
           != TBL_NONE;
}

/* -------------------------------------------------------------- routes */

static const char *
tbl_vhost_name(const tbl_builder *b, uint32_t vhost)
{
    return vhost == TBL_NONE
               ? ""
               : tbl_builder_str(b, b->vhosts.items[vhost].rec.host);
}

/* Which references a route spec may hold, checked before anything else. */
static int
tbl_route_spec_check(const tbl_builder *b, uint32_t vhost,
                     const tbl_route_spec *spec, char *err, size_t errlen)
{
    const char *ns = spec->ingress_namespace ? spec->ingress_namespace : "";
    const char *name = spec->ingress_name ? spec->ingress_name : "";

    if (spec->backend != TBL_NONE && spec->backend >= b->backends.len) {
        snprintf(err, errlen,
                 "ingress %s/%s host \"%s\": backend index %u out of range "
                 "(%zu backends)",
                 ns, name, tbl_vhost_name(b, vhost), spec->backend,
                 b->backends.len);
        return -1;
    }
    if ((spec->canary != TBL_NONE && spec->canary >= b->canaries.len)
        || (spec->policy != TBL_NONE && spec->policy >= b->policies.len))
    {
        snprintf(err, errlen,
                 "ingress %s/%s host \"%s\": canary %u / policy %u out of "
                 "range (%zu canaries, %zu policies)",
                 ns, name, tbl_vhost_name(b, vhost), spec->canary,
                 spec->policy, b->canaries.len, b->policies.len);
        return -1;
    }
    if (b->routes.len >= TBL_NONE - 1) {
        snprintf(err, errlen, "too many routes (%zu)", b->routes.len);
        return -1;
    }
    return 0;
}

/*
 * Route ids survive table rebuilds, so state kept by workers (rate-limit
 * buckets, regex caches) follows the route, not its index:
 * hash("ns\0name\0host\0path\0" + type byte).
 */
static uint64_t
tbl_route_id(const tbl_builder *b, const tbl_key *ns, const tbl_key *name,
             tbl_str host, const tbl_key *path, uint8_t type)
{
    tbl_hash_stream hs;

    tbl_hash_stream_start(&hs, TBL_ROUTE_ID_SEED);
    tbl_hash_stream_part(&hs, ns->s, ns->len);
    tbl_hash_stream_part(&hs, name->s, name->len);
    tbl_hash_stream_part(&hs, tbl_builder_str(b, host), host.len);
    tbl_hash_stream_part(&hs, path->s, path->len);
    tbl_hash_stream_add(&hs, &type, 1);
    return tbl_hash_stream_end(&hs);
}

/* Fills and appends a route record; returns its index or TBL_NONE. */
static uint32_t
tbl_route_append(tbl_builder *b, uint32_t vhost, const tbl_route_spec *spec,
                 const tbl_key *path, uint8_t type)
{
    tbl_key    ns, name;
    tbl_str    host = {0, 0};
    tbl_route *r;
    uint32_t   idx = (uint32_t)b->routes.len;

    ns.s = spec->ingress_namespace ? spec->ingress_namespace : "";
    ns.len = strlen(ns.s);
    name.s = spec->ingress_name ? spec->ingress_name : "";
    name.len = strlen(name.s);
    if (vhost != TBL_NONE) {
        host = b->vhosts.items[vhost].rec.host;
    }
    if (tbl_vec_reserve(&b->routes, 1) != 0
        || tbl_vec_reserve(&b->route_keys, 1) != 0)
    {
        b->out_of_memory = 1;
        return TBL_NONE;
    }
    r = &b->routes.items[idx];
    memset(r, 0, sizeof(*r));
    memset(&b->route_keys.items[idx], 0, sizeof(tbl_broute));
    if (tbl_intern(b, path->s, path->len, &r->path) != 0
        || tbl_intern(b, ns.s, ns.len, &r->ingress_namespace) != 0
        || tbl_intern(b, name.s, name.len, &r->ingress_name) != 0)
    {
        return TBL_NONE;
    }
    r->route_id = tbl_route_id(b, &ns, &name, host, path, type);
    r->path_type = type;
    r->vhost = vhost;
    r->backend = spec->backend;
    r->canary = spec->canary;
    r->policy = spec->policy;
    b->routes.len++;
    b->route_keys.len++;
    return idx;
}

/* Checks the path a route is matched by, per type; sets its length. */
static int
tbl_route_path_check(const tbl_builder *b, uint32_t vhost,
                     const tbl_route_spec *spec, size_t *len, char *err,
                     size_t errlen)
{
    const char *ns = spec->ingress_namespace ? spec->ingress_namespace : "";
    const char *name = spec->ingress_name ? spec->ingress_name : "";

    if (spec->path_type < TBL_PATH_EXACT || spec->path_type > TBL_PATH_REGEX
        || spec->path == NULL)
    {
        snprintf(err, errlen,
                 "ingress %s/%s host \"%s\": bad path type %u or no path",
                 ns, name, tbl_vhost_name(b, vhost), spec->path_type);
        return -1;
    }
    *len = strlen(spec->path);
    if (*len > TBL_MAX_PATH_LEN) {
        snprintf(err, errlen,
                 "ingress %s/%s host \"%s\": %s path longer than %u bytes",
                 ns, name, tbl_vhost_name(b, vhost),
                 tbl_path_type_name(spec->path_type), TBL_MAX_PATH_LEN);
        return -1;
    }
    if ((spec->path_type == TBL_PATH_EXACT
         || spec->path_type == TBL_PATH_PREFIX)
        && spec->path[0] != '/')
    {
        snprintf(err, errlen,
                 "ingress %s/%s host \"%s\": %s path \"%s\" does not start "
                 "with '/'",
                 ns, name, tbl_vhost_name(b, vhost),
                 tbl_path_type_name(spec->path_type), spec->path);
        return -1;
    }
    return 0;
}

/* A route's match key: its type, its vhost and its (normalized) path. */
typedef struct {
    uint8_t     type;
    uint32_t    vhost;
    const char *key;
    size_t      len;
} tbl_route_key;

static int
tbl_route_eq(const tbl_builder *b, uint32_t idx, const void *key)
{
    const tbl_route_key *k = key;
    const tbl_route     *r = &b->routes.items[idx];
    tbl_str              mine = b->route_keys.items[idx].key;

    return r->path_type == k->type && r->vhost == k->vhost
           && mine.len == k->len
           && memcmp(b->pool.items + mine.off, k->key, k->len) == 0;
}

/* The index hash of a match key: its slot hash, told apart by type. */
static uint64_t
tbl_route_index_hash(uint64_t slot_hash, uint8_t type)
{
    return slot_hash ^ ((uint64_t)type * 0x9e3779b97f4a7c15ull);
}

/*
 * Counts what finish must lay out for a new route, and sets the vhost's
 * key-length filter bit.
 */
static void
tbl_route_count(tbl_builder *b, uint32_t vhost, uint8_t type, size_t keylen)
{
    tbl_vhost *rec = &b->vhosts.items[vhost].rec;

    switch (type) {
    case TBL_PATH_EXACT:
        b->path_exact_count++;
        rec->exact_lengths |= TBL_LENGTH_BIT(keylen);
        break;
    case TBL_PATH_PREFIX:
        b->path_prefix_count++;
        rec->prefix_lengths |= TBL_LENGTH_BIT(keylen);
        break;
    case TBL_PATH_IMPL:
        rec->impl_count++;
        b->list_count++;
        break;
    default:
        rec->regex_count++;
        rec->flags |= TBL_VHOST_REGEX;
        b->list_count++;
        break;
    }
}

int
tbl_builder_add_route(tbl_builder *b, uint32_t vhost,
                      const tbl_route_spec *spec, char *err, size_t errlen)
{
    tbl_route_key rk;
    tbl_key       path;
    tbl_broute   *key;
    uint64_t      h, ih;
    uint32_t      idx, other;

    if (vhost >= b->vhosts.len) {
        snprintf(err, errlen, "route for unknown vhost index %u", vhost);
        return -1;
    }
    if (tbl_route_spec_check(b, vhost, spec, err, errlen) != 0
        || tbl_route_path_check(b, vhost, spec, &path.len, err, errlen) != 0)
    {
        return -1;
    }
    path.s = spec->path;
    rk.type = spec->path_type;
    rk.vhost = vhost;
    rk.key = spec->path;
    rk.len = rk.type == TBL_PATH_PREFIX
                 ? tbl_prefix_key_len(spec->path, path.len)
                 : path.len;
    h = tbl_slot_hash(rk.key, rk.len, vhost);
    ih = tbl_route_index_hash(h, rk.type);
    other = tbl_imap_find(&b->route_index, ih, tbl_route_eq, b, &rk);
    if (other != TBL_NONE) {
        const tbl_route *o = &b->routes.items[other];

        snprintf(err, errlen,
                 "host \"%s\": duplicate %s path \"%s\" (already routed by "
                 "ingress %s/%s as \"%s\")",
                 tbl_vhost_name(b, vhost), tbl_path_type_name(rk.type),
                 spec->path, tbl_builder_str(b, o->ingress_namespace),
                 tbl_builder_str(b, o->ingress_name),
                 tbl_builder_str(b, o->path));
        return -1;
    }

    idx = tbl_route_append(b, vhost, spec, &path, rk.type);
    if (idx == TBL_NONE) {
        goto nomem;
    }
    key = &b->route_keys.items[idx];
    key->key = b->routes.items[idx].path;
    key->slot_hash = h;
    if ((rk.type == TBL_PATH_PREFIX
         && tbl_intern(b, rk.key, rk.len, &key->key) != 0)
        || tbl_imap_put(&b->route_index, ih, idx) != 0)
    {
        goto nomem;
    }
    tbl_route_count(b, vhost, rk.type, rk.len);
    return 0;

nomem:
    b->out_of_memory = 1;
    snprintf(err, errlen, "host \"%s\": out of memory adding path \"%s\"",
             tbl_vhost_name(b, vhost), spec->path);
    return -1;
}

/* Adds a TBL_PATH_DEFAULT route for vhost (or the global one for NONE). */
static int
tbl_add_default(tbl_builder *b, uint32_t vhost, const tbl_route_spec *spec,
                uint32_t *slot, char *err, size_t errlen)
{
    const char *ns = spec->ingress_namespace ? spec->ingress_namespace : "";
    const char *name = spec->ingress_name ? spec->ingress_name : "";
    tbl_key     empty = {"", 0};
    uint32_t    idx;

    if (*slot != TBL_NONE) {
        const tbl_route *o = &b->routes.items[*slot];

        snprintf(err, errlen,
                 "host \"%s\": default backend of ingress %s/%s conflicts "
                 "with the one already set by %s/%s",
                 tbl_vhost_name(b, vhost), ns, name,
                 tbl_builder_str(b, o->ingress_namespace),
                 tbl_builder_str(b, o->ingress_name));
        return -1;
    }
    if (tbl_route_spec_check(b, vhost, spec, err, errlen) != 0) {
        return -1;
    }
    idx = tbl_route_append(b, vhost, spec, &empty, TBL_PATH_DEFAULT);
    if (idx == TBL_NONE) {
        snprintf(err, errlen, "out of memory adding a default backend");
        return -1;
    }
    *slot = idx;
    return 0;
}

int
tbl_builder_set_vhost_default(tbl_builder *b, uint32_t vhost,
                              const tbl_route_spec *spec, char *err,
                              size_t errlen)
{
    if (vhost >= b->vhosts.len) {
        snprintf(err, errlen, "default backend for unknown vhost index %u",
                 vhost);
        return -1;
    }
    return tbl_add_default(b, vhost, spec,
                           &b->vhosts.items[vhost].rec.default_route, err,
                           errlen);
}

int
tbl_builder_set_default(tbl_builder *b, const tbl_route_spec *spec,
                        char *err, size_t errlen)
{
    return tbl_add_default(b, TBL_NONE, spec, &b->default_route, err, errlen);
}

int
tbl_builder_finish(tbl_builder *b, uint64_t generation, uint8_t **out,
                   size_t *out_len, char *err, size_t errlen)
{
    if (b->out_of_memory) {
        snprintf(err, errlen, "an earlier call ran out of memory");
        return -1;
    }
    if (tbl_config_ensure(b) != 0) {
        snprintf(err, errlen, "out of memory writing the default config");
        return -1;
    }
    return tbl_serialize(b, generation, out, out_len, err, errlen);
}
