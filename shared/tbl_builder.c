/*
 * tbl_builder.c -- collects vhosts, routes, backends and endpoints and
 * serializes them into one route table (see tbl_format.h).
 *
 * The builder is the controller's only way to write a table, so it holds
 * the format's invariants: strings deduplicated and NUL-terminated, hash
 * sections at load <= 0.5 with a power-of-two capacity, Prefix keys
 * normalized, ImplementationSpecific lists sorted longest first, every
 * byte of the output initialized.  Identical calls give identical bytes.
 * It does not decide between conflicting Ingresses: a duplicate match key
 * is an error the caller must avoid.  It never reads its own output; the
 * tests prove the output validates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tbl.h"
#include "tbl_internal.h"

/* --------------------------------------------------------- growable bytes */

typedef struct {
    uint8_t *data;
    size_t   len;
    size_t   cap;
} tbl_bytes;

/* Makes room for `more` elements of `size` bytes; 0 or -1 (no memory). */
static int
tbl_reserve(void **data, size_t *cap, size_t len, size_t more, size_t size)
{
    size_t need = len + more, ncap;
    void  *p;

    if (need < len) {
        return -1;
    }
    if (need <= *cap) {
        return 0;
    }
    ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / size) {
            return -1;
        }
        ncap *= 2;
    }
    p = realloc(*data, ncap * size);
    if (p == NULL) {
        return -1;
    }
    *data = p;
    *cap = ncap;
    return 0;
}

static int
tbl_bytes_append(tbl_bytes *b, const void *p, size_t n)
{
    if (tbl_reserve((void **)&b->data, &b->cap, b->len, n, 1) != 0) {
        return -1;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    return 0;
}

/* ----------------------------------------------------- byte-string map */

/*
 * An open-addressing map from byte strings to u32, used for string
 * deduplication and for "already added?" questions.  Keys are copied
 * into the map's own arena.
 */
typedef struct {
    uint64_t hash;
    size_t   off;
    size_t   len;
    uint32_t value; /* TBL_NONE: empty */
} tbl_bkey;

typedef struct {
    tbl_bkey *slots;
    size_t    cap; /* power of two or 0 */
    size_t    count;
    tbl_bytes keys;
} tbl_bmap;

static uint32_t
tbl_bmap_get(const tbl_bmap *m, const void *key, size_t len, uint64_t h)
{
    size_t mask, i;

    if (m->cap == 0) {
        return TBL_NONE;
    }
    mask = m->cap - 1;
    for (i = h & mask;; i = (i + 1) & mask) {
        const tbl_bkey *k = &m->slots[i];

        if (k->value == TBL_NONE) {
            return TBL_NONE;
        }
        if (k->hash == h && k->len == len
            && (len == 0 || memcmp(m->keys.data + k->off, key, len) == 0))
        {
            return k->value;
        }
    }
}

static void
tbl_bmap_place(tbl_bkey *slots, size_t cap, const tbl_bkey *k)
{
    size_t i;

    for (i = k->hash & (cap - 1); slots[i].value != TBL_NONE;
         i = (i + 1) & (cap - 1))
    {
    }
    slots[i] = *k;
}

static int
tbl_bmap_grow(tbl_bmap *m)
{
    size_t    ncap = m->cap ? m->cap * 2 : 64, i;
    tbl_bkey *ns;

    ns = malloc(ncap * sizeof(*ns));
    if (ns == NULL) {
        return -1;
    }
    for (i = 0; i < ncap; i++) {
        ns[i].value = TBL_NONE;
    }
    for (i = 0; i < m->cap; i++) {
        if (m->slots[i].value != TBL_NONE) {
            tbl_bmap_place(ns, ncap, &m->slots[i]);
        }
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

/* Adds a key that is not in the map yet. */
static int
tbl_bmap_put(tbl_bmap *m, const void *key, size_t len, uint64_t h,
             uint32_t value)
{
    tbl_bkey k;

    if ((m->count + 1) * 2 > m->cap && tbl_bmap_grow(m) != 0) {
        return -1;
    }
    k.hash = h;
    k.off = m->keys.len;
    k.len = len;
    k.value = value;
    if (tbl_bytes_append(&m->keys, key, len) != 0) {
        return -1;
    }
    tbl_bmap_place(m->slots, m->cap, &k);
    m->count++;
    return 0;
}

static void
tbl_bmap_free(tbl_bmap *m)
{
    free(m->slots);
    free(m->keys.data);
}

/* ------------------------------------------------------------- builder */

typedef struct {
    uint32_t *items;
    size_t    len;
    size_t    cap;
} tbl_u32s;

typedef struct {
    tbl_vhost rec;
    tbl_str   wildcard_key; /* host without "*." (wildcards only)  */
    tbl_u32s  impl;         /* routes, sorted at finish            */
    tbl_u32s  regex;        /* routes, in insertion order          */
} tbl_bvhost;

struct tbl_builder {
    tbl_bytes     pool;       /* the STRINGS section being built  */
    tbl_bmap      pool_index; /* string -> offset in pool         */
    tbl_bvhost   *vhosts;
    size_t        vhost_count, vhost_cap;
    tbl_bmap      vhost_index; /* host -> vhost                   */
    tbl_route    *routes;
    size_t        route_count, route_cap;
    tbl_str      *prefix_keys; /* per route, Prefix routes only   */
    size_t        prefix_key_cap;
    tbl_bmap      route_index; /* match key -> route              */
    tbl_backend  *backends;
    size_t        backend_count, backend_cap;
    tbl_bmap      backend_index; /* ns/name/port -> backend       */
    tbl_endpoint *endpoints;
    size_t        endpoint_count, endpoint_cap;
    tbl_bytes     scratch; /* composite keys                      */
    int           out_of_memory; /* set by any failed allocation  */
    uint32_t      catchall;
    uint32_t      default_route;
    uint64_t      built_at_ms;
    int           built_at_set;
};

static int tbl_intern(tbl_builder *b, const char *s, size_t len,
                      tbl_str *out);

tbl_builder *
tbl_builder_new(void)
{
    tbl_builder *b = calloc(1, sizeof(*b));

    if (b == NULL) {
        return NULL;
    }
    b->catchall = TBL_NONE;
    b->default_route = TBL_NONE;
    if (tbl_intern(b, "", 0, &(tbl_str){0, 0}) != 0) {
        tbl_builder_free(b);
        return NULL;
    }
    return b;
}

void
tbl_builder_free(tbl_builder *b)
{
    size_t i;

    if (b == NULL) {
        return;
    }
    for (i = 0; i < b->vhost_count; i++) {
        free(b->vhosts[i].impl.items);
        free(b->vhosts[i].regex.items);
    }
    free(b->vhosts);
    free(b->routes);
    free(b->prefix_keys);
    free(b->backends);
    free(b->endpoints);
    free(b->pool.data);
    free(b->scratch.data);
    tbl_bmap_free(&b->pool_index);
    tbl_bmap_free(&b->vhost_index);
    tbl_bmap_free(&b->route_index);
    tbl_bmap_free(&b->backend_index);
    free(b);
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

/*
 * Interns a string into the pool; tbl_builder_new puts "" at offset 0.
 * Returns 0 and sets *out, or -1 when out of memory or past the 4 GiB
 * that a tbl_str offset can address.
 */
static int
tbl_intern(tbl_builder *b, const char *s, size_t len, tbl_str *out)
{
    uint64_t h = tbl_hash64(s, len, 0);
    uint32_t off = tbl_bmap_get(&b->pool_index, s, len, h);

    if (off == TBL_NONE) {
        if (b->pool.len + len + 1 >= TBL_NONE) {
            return -1;
        }
        off = (uint32_t)b->pool.len;
        if (tbl_bytes_append(&b->pool, s, len) != 0
            || tbl_bytes_append(&b->pool, "", 1) != 0
            || tbl_bmap_put(&b->pool_index, s, len, h, off) != 0)
        {
            return -1;
        }
    }
    out->off = off;
    out->len = (uint32_t)len;
    return 0;
}

static int
tbl_intern_cstr(tbl_builder *b, const char *s, tbl_str *out)
{
    if (s == NULL) {
        s = "";
    }
    return tbl_intern(b, s, strlen(s), out);
}

static const char *
tbl_builder_str(const tbl_builder *b, tbl_str s)
{
    return (const char *)b->pool.data + s.off;
}

/* Starts a composite key in the scratch buffer. */
static void
tbl_key_reset(tbl_builder *b)
{
    b->scratch.len = 0;
}

/* Appends one NUL-terminated part to the scratch key. */
static int
tbl_key_part(tbl_builder *b, const void *p, size_t n)
{
    return tbl_bytes_append(&b->scratch, p, n) == 0
                   && tbl_bytes_append(&b->scratch, "", 1) == 0
               ? 0
               : -1;
}

/* ------------------------------------------------------------ backends */

static int
tbl_endpoint_copy(tbl_endpoint *dst, const tbl_endpoint *src)
{
    if (src->family != 4 && src->family != 6) {
        return -1;
    }
    memset(dst, 0, sizeof(*dst));
    memcpy(dst->addr, src->addr, src->family == 4 ? 4 : 16);
    dst->port = src->port;
    dst->family = src->family;
    dst->flags = src->flags & (TBL_EP_READY | TBL_EP_SERVING
                               | TBL_EP_TERMINATING);
    return 0;
}

/* Scratch key "ns\0name\0port\0port_name\0": identity and id of a backend. */
static int
tbl_backend_key(tbl_builder *b, const tbl_backend_spec *spec)
{
    char        port[16];
    const char *pname = spec->port_name ? spec->port_name : "";

    snprintf(port, sizeof(port), "%u", spec->port);
    tbl_key_reset(b);
    return tbl_key_part(b, spec->service_namespace,
                        strlen(spec->service_namespace))
                   == 0
                   && tbl_key_part(b, spec->service_name,
                                   strlen(spec->service_name))
                          == 0
                   && tbl_key_part(b, port, strlen(port)) == 0
                   && tbl_key_part(b, pname, strlen(pname)) == 0
               ? 0
               : -1;
}

uint32_t
tbl_builder_add_backend(tbl_builder *b, const tbl_backend_spec *spec)
{
    tbl_backend *be;
    uint64_t     h;
    uint32_t     idx;
    size_t       i;

    if (spec->service_namespace == NULL || spec->service_name == NULL
        || (spec->endpoint_count > 0 && spec->endpoints == NULL)
        || tbl_backend_key(b, spec) != 0)
    {
        return TBL_NONE;
    }
    h = tbl_hash64(b->scratch.data, b->scratch.len, TBL_BACKEND_ID_SEED);
    idx = tbl_bmap_get(&b->backend_index, b->scratch.data, b->scratch.len,
                       h);
    if (idx != TBL_NONE) {
        return idx;
    }
    if (b->backend_count >= TBL_NONE - 1
        || b->endpoint_count + spec->endpoint_count >= TBL_NONE
        || tbl_reserve((void **)&b->backends, &b->backend_cap,
                       b->backend_count, 1, sizeof(tbl_backend))
               != 0
        || tbl_reserve((void **)&b->endpoints, &b->endpoint_cap,
                       b->endpoint_count, spec->endpoint_count,
                       sizeof(tbl_endpoint))
               != 0)
    {
        return TBL_NONE;
    }
    for (i = 0; i < spec->endpoint_count; i++) {
        if (tbl_endpoint_copy(&b->endpoints[b->endpoint_count + i],
                              &spec->endpoints[i])
            != 0)
        {
            return TBL_NONE;
        }
    }

    idx = (uint32_t)b->backend_count;
    be = &b->backends[idx];
    memset(be, 0, sizeof(*be));
    if (tbl_bmap_put(&b->backend_index, b->scratch.data, b->scratch.len, h,
                     idx)
            != 0
        || tbl_intern_cstr(b, spec->service_namespace, &be->service_namespace)
               != 0
        || tbl_intern_cstr(b, spec->service_name, &be->service_name) != 0
        || tbl_intern_cstr(b, spec->port_name, &be->port_name) != 0)
    {
        return TBL_NONE;
    }
    be->port = spec->port;
    be->flags = spec->flags & (TBL_BACKEND_SERVICE_MISSING
                               | TBL_BACKEND_PORT_MISSING
                               | TBL_BACKEND_NO_ENDPOINTS);
    be->endpoint_first = (uint32_t)b->endpoint_count;
    be->endpoint_count = (uint32_t)spec->endpoint_count;
    be->backend_id = h;
    b->endpoint_count += spec->endpoint_count;
    b->backend_count++;
    return idx;
}

/* -------------------------------------------------------------- vhosts */

/*
 * Whether `host` (length len) is a lower-case DNS name the table can
 * hold: labels of [a-z0-9_-] separated by single dots, at most 253 bytes.
 * The same alphabet tbl_normalize_host lets through.
 */
static int
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

uint32_t
tbl_builder_vhost(tbl_builder *b, const char *host)
{
    tbl_bvhost *vh;
    size_t      len;
    uint64_t    h;
    uint32_t    idx;
    uint32_t    flags = 0;

    if (host == NULL) {
        return TBL_NONE;
    }
    len = strlen(host);
    h = tbl_hash64(host, len, 0);
    idx = tbl_bmap_get(&b->vhost_index, host, len, h);
    if (idx != TBL_NONE) {
        return idx;
    }

    if (len == 0) {
        flags = TBL_VHOST_CATCHALL;
    } else if (len > 2 && host[0] == '*' && host[1] == '.') {
        if (!tbl_host_is_valid(host + 2, len - 2)) {
            return TBL_NONE;
        }
        flags = TBL_VHOST_WILDCARD;
    } else if (!tbl_host_is_valid(host, len)) {
        return TBL_NONE;
    }

    if (b->vhost_count >= TBL_NONE - 1
        || tbl_reserve((void **)&b->vhosts, &b->vhost_cap, b->vhost_count, 1,
                       sizeof(tbl_bvhost))
               != 0)
    {
        return TBL_NONE;
    }
    idx = (uint32_t)b->vhost_count;
    vh = &b->vhosts[idx];
    memset(vh, 0, sizeof(*vh));
    if (tbl_intern(b, host, len, &vh->rec.host) != 0
        || (flags == TBL_VHOST_WILDCARD
            && tbl_intern(b, host + 2, len - 2, &vh->wildcard_key) != 0)
        || tbl_bmap_put(&b->vhost_index, host, len, h, idx) != 0)
    {
        return TBL_NONE;
    }
    vh->rec.flags = flags;
    vh->rec.default_route = TBL_NONE;
    vh->rec.cert = TBL_NONE;
    vh->rec.policy = TBL_NONE;
    if (flags == TBL_VHOST_CATCHALL) {
        b->catchall = idx;
    }
    b->vhost_count++;
    return idx;
}

int
tbl_builder_set_vhost_flags(tbl_builder *b, uint32_t vhost, uint32_t flags)
{
    if (vhost >= b->vhost_count
        || (flags & ~(uint32_t)(TBL_VHOST_TLS | TBL_VHOST_REGEX)) != 0)
    {
        return -1;
    }
    b->vhosts[vhost].rec.flags |= flags;
    return 0;
}

/* -------------------------------------------------------------- routes */

static const char *
tbl_vhost_name(const tbl_builder *b, uint32_t vhost)
{
    return vhost == TBL_NONE ? ""
                             : tbl_builder_str(b, b->vhosts[vhost].rec.host);
}

/* Which references a route spec may hold, checked before anything else. */
static int
tbl_route_spec_check(const tbl_builder *b, uint32_t vhost,
                     const tbl_route_spec *spec, char *err, size_t errlen)
{
    const char *ns = spec->ingress_namespace ? spec->ingress_namespace : "";
    const char *name = spec->ingress_name ? spec->ingress_name : "";

    if (spec->backend != TBL_NONE && spec->backend >= b->backend_count) {
        snprintf(err, errlen,
                 "ingress %s/%s host \"%s\": backend index %u out of range "
                 "(%zu backends)",
                 ns, name, tbl_vhost_name(b, vhost), spec->backend,
                 b->backend_count);
        return -1;
    }
    if (spec->canary != TBL_NONE || spec->policy != TBL_NONE) {
        snprintf(err, errlen,
                 "ingress %s/%s host \"%s\": canary %u / policy %u given, "
                 "but the table has no canaries or policies",
                 ns, name, tbl_vhost_name(b, vhost), spec->canary,
                 spec->policy);
        return -1;
    }
    if (b->route_count >= TBL_NONE - 1) {
        snprintf(err, errlen, "too many routes (%zu)", b->route_count);
        return -1;
    }
    return 0;
}

/*
 * Route ids survive table rebuilds, so state kept by workers (rate-limit
 * buckets, regex caches) follows the route, not its index:
 * hash("ns\0name\0host\0path\0" + type byte).
 */
static int
tbl_route_id(tbl_builder *b, const char *ns, const char *name,
             const char *host, const char *path, uint8_t type, uint64_t *id)
{
    tbl_key_reset(b);
    if (tbl_key_part(b, ns, strlen(ns)) != 0
        || tbl_key_part(b, name, strlen(name)) != 0
        || tbl_key_part(b, host, strlen(host)) != 0
        || tbl_key_part(b, path, strlen(path)) != 0
        || tbl_bytes_append(&b->scratch, &type, 1) != 0)
    {
        return -1;
    }
    *id = tbl_hash64(b->scratch.data, b->scratch.len, TBL_ROUTE_ID_SEED);
    return 0;
}

/* Fills and appends a route record; returns its index or TBL_NONE. */
static uint32_t
tbl_route_append(tbl_builder *b, uint32_t vhost, const tbl_route_spec *spec,
                 const char *path, uint8_t type)
{
    const char *ns = spec->ingress_namespace ? spec->ingress_namespace : "";
    const char *name = spec->ingress_name ? spec->ingress_name : "";
    tbl_route  *r;
    uint32_t    idx = (uint32_t)b->route_count;

    if (tbl_reserve((void **)&b->routes, &b->route_cap, b->route_count, 1,
                    sizeof(tbl_route))
            != 0
        || tbl_reserve((void **)&b->prefix_keys, &b->prefix_key_cap,
                       b->route_count, 1, sizeof(tbl_str))
               != 0)
    {
        return TBL_NONE;
    }
    r = &b->routes[idx];
    memset(r, 0, sizeof(*r));
    memset(&b->prefix_keys[idx], 0, sizeof(tbl_str));
    if (tbl_intern_cstr(b, path, &r->path) != 0
        || tbl_intern_cstr(b, ns, &r->ingress_namespace) != 0
        || tbl_intern_cstr(b, name, &r->ingress_name) != 0
        || tbl_route_id(b, ns, name, tbl_vhost_name(b, vhost), path, type,
                        &r->route_id)
               != 0)
    {
        return TBL_NONE;
    }
    r->path_type = type;
    r->vhost = vhost;
    r->backend = spec->backend;
    r->canary = TBL_NONE;
    r->policy = TBL_NONE;
    b->route_count++;
    return idx;
}

static int
tbl_u32s_push(tbl_u32s *l, uint32_t v)
{
    if (tbl_reserve((void **)&l->items, &l->cap, l->len, 1,
                    sizeof(uint32_t))
        != 0)
    {
        return -1;
    }
    l->items[l->len++] = v;
    return 0;
}

/* Checks the path a route is matched by, per type. */
static int
tbl_route_path_check(const tbl_builder *b, uint32_t vhost,
                     const tbl_route_spec *spec, char *err, size_t errlen)
{
    const char *ns = spec->ingress_namespace ? spec->ingress_namespace : "";
    const char *name = spec->ingress_name ? spec->ingress_name : "";
    size_t      len;

    if (spec->path_type < TBL_PATH_EXACT || spec->path_type > TBL_PATH_REGEX
        || spec->path == NULL)
    {
        snprintf(err, errlen,
                 "ingress %s/%s host \"%s\": bad path type %u or no path",
                 ns, name, tbl_vhost_name(b, vhost), spec->path_type);
        return -1;
    }
    len = strlen(spec->path);
    if (len > TBL_MAX_PATH_LEN) {
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

int
tbl_builder_add_route(tbl_builder *b, uint32_t vhost,
                      const tbl_route_spec *spec, char *err, size_t errlen)
{
    tbl_bvhost *vh;
    size_t      len, keylen;
    uint64_t    h;
    uint32_t    idx, other, scope = vhost;
    uint8_t     type = spec->path_type;

    if (vhost >= b->vhost_count) {
        snprintf(err, errlen, "route for unknown vhost index %u", vhost);
        return -1;
    }
    if (tbl_route_spec_check(b, vhost, spec, err, errlen) != 0
        || tbl_route_path_check(b, vhost, spec, err, errlen) != 0)
    {
        return -1;
    }
    vh = &b->vhosts[vhost];
    len = strlen(spec->path);
    keylen = type == TBL_PATH_PREFIX ? tbl_prefix_key_len(spec->path, len)
                                     : len;

    tbl_key_reset(b);
    if (tbl_bytes_append(&b->scratch, &type, 1) != 0
        || tbl_bytes_append(&b->scratch, &scope, sizeof(scope)) != 0
        || tbl_bytes_append(&b->scratch, spec->path, keylen) != 0)
    {
        goto nomem;
    }
    h = tbl_hash64(b->scratch.data, b->scratch.len, 0);
    other = tbl_bmap_get(&b->route_index, b->scratch.data, b->scratch.len, h);
    if (other != TBL_NONE) {
        const tbl_route *o = &b->routes[other];

        snprintf(err, errlen,
                 "host \"%s\": duplicate %s path \"%s\" (already routed by "
                 "ingress %s/%s as \"%s\")",
                 tbl_vhost_name(b, vhost), tbl_path_type_name(type),
                 spec->path, tbl_builder_str(b, o->ingress_namespace),
                 tbl_builder_str(b, o->ingress_name),
                 tbl_builder_str(b, o->path));
        return -1;
    }
    if (tbl_bmap_put(&b->route_index, b->scratch.data, b->scratch.len, h,
                     (uint32_t)b->route_count)
        != 0)
    {
        goto nomem;
    }

    idx = tbl_route_append(b, vhost, spec, spec->path, type);
    if (idx == TBL_NONE) {
        goto nomem;
    }
    if (type == TBL_PATH_PREFIX
        && tbl_intern(b, spec->path, keylen, &b->prefix_keys[idx]) != 0)
    {
        goto nomem;
    }
    if (type == TBL_PATH_IMPL && tbl_u32s_push(&vh->impl, idx) != 0) {
        goto nomem;
    }
    if (type == TBL_PATH_REGEX) {
        if (tbl_u32s_push(&vh->regex, idx) != 0) {
            goto nomem;
        }
        vh->rec.flags |= TBL_VHOST_REGEX;
    }
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
    uint32_t    idx;

    if (*slot != TBL_NONE) {
        const tbl_route *o = &b->routes[*slot];

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
    idx = tbl_route_append(b, vhost, spec, "", TBL_PATH_DEFAULT);
    if (idx == TBL_NONE) {
        b->out_of_memory = 1;
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
    if (vhost >= b->vhost_count) {
        snprintf(err, errlen, "default backend for unknown vhost index %u",
                 vhost);
        return -1;
    }
    return tbl_add_default(b, vhost, spec,
                           &b->vhosts[vhost].rec.default_route, err, errlen);
}

int
tbl_builder_set_default(tbl_builder *b, const tbl_route_spec *spec,
                        char *err, size_t errlen)
{
    return tbl_add_default(b, TBL_NONE, spec, &b->default_route, err, errlen);
}

/* ----------------------------------------------------------- serialize */

typedef struct {
    uint32_t len;
    uint32_t route;
} tbl_impl_key;

/* Longest path first; equal lengths keep insertion order. */
static int
tbl_impl_cmp(const void *a, const void *b)
{
    const tbl_impl_key *x = a, *y = b;

    if (x->len != y->len) {
        return x->len > y->len ? -1 : 1;
    }
    return x->route < y->route ? -1 : (x->route > y->route);
}

static int
tbl_sort_impl(tbl_builder *b, tbl_u32s *l)
{
    tbl_impl_key *keys;
    size_t        i;

    if (l->len < 2) {
        return 0;
    }
    keys = malloc(l->len * sizeof(*keys));
    if (keys == NULL) {
        return -1;
    }
    for (i = 0; i < l->len; i++) {
        keys[i].len = b->routes[l->items[i]].path.len;
        keys[i].route = l->items[i];
    }
    qsort(keys, l->len, sizeof(*keys), tbl_impl_cmp);
    for (i = 0; i < l->len; i++) {
        l->items[i] = keys[i].route;
    }
    free(keys);
    return 0;
}

/* Smallest power of two >= 2n (load <= 0.5), 0 for an empty set. */
static uint64_t
tbl_hash_capacity(size_t n)
{
    uint64_t cap = 1;

    if (n == 0) {
        return 0;
    }
    while (cap < (uint64_t)n * 2) {
        cap *= 2;
    }
    return cap;
}

static void
tbl_slot_insert(tbl_slot *slots, uint64_t cap, const tbl_builder *b,
                tbl_str key, uint32_t scope, uint32_t value)
{
    uint64_t h = tbl_slot_hash(tbl_builder_str(b, key), key.len, scope);
    uint64_t i;

    for (i = h & (cap - 1); slots[i].value != TBL_NONE; i = (i + 1) & (cap - 1))
    {
    }
    slots[i].hash = h;
    slots[i].key = key;
    slots[i].scope = scope;
    slots[i].value = value;
}

static void
tbl_slots_clear(tbl_slot *slots, uint64_t cap)
{
    uint64_t i;

    for (i = 0; i < cap; i++) {
        slots[i].value = TBL_NONE;
    }
}

/* The sections a builder emits, in file order. */
enum {
    TBL_OUT_STRINGS,
    TBL_OUT_VHOSTS,
    TBL_OUT_HOST_EXACT,
    TBL_OUT_HOST_WILDCARD,
    TBL_OUT_ROUTES,
    TBL_OUT_PATH_EXACT,
    TBL_OUT_PATH_PREFIX,
    TBL_OUT_ROUTE_LISTS,
    TBL_OUT_BACKENDS,
    TBL_OUT_ENDPOINTS,
    TBL_OUT_COUNT
};

typedef struct {
    tbl_section sec[TBL_OUT_COUNT];
    size_t      total;
} tbl_layout;

static void
tbl_layout_add(tbl_layout *l, int i, uint32_t kind, uint32_t entry_size,
               uint64_t count)
{
    l->sec[i].kind = kind;
    l->sec[i].entry_size = entry_size;
    l->sec[i].offset = l->total;
    l->sec[i].count = count;
    l->total += (size_t)(count * entry_size);
    l->total = (l->total + TBL_ALIGN - 1) & ~(size_t)(TBL_ALIGN - 1);
}

static void
tbl_layout_plan(const tbl_builder *b, tbl_layout *l)
{
    size_t   i, n_exact = 0, n_wild = 0, n_pexact = 0, n_pprefix = 0;
    uint64_t lists = 0;

    for (i = 0; i < b->vhost_count; i++) {
        const tbl_bvhost *vh = &b->vhosts[i];

        if (vh->rec.flags & TBL_VHOST_WILDCARD) {
            n_wild++;
        } else if (!(vh->rec.flags & TBL_VHOST_CATCHALL)) {
            n_exact++;
        }
        lists += vh->impl.len + vh->regex.len;
    }
    for (i = 0; i < b->route_count; i++) {
        n_pexact += b->routes[i].path_type == TBL_PATH_EXACT;
        n_pprefix += b->routes[i].path_type == TBL_PATH_PREFIX;
    }

    memset(l, 0, sizeof(*l));
    l->total = sizeof(tbl_header) + TBL_OUT_COUNT * sizeof(tbl_section);
    tbl_layout_add(l, TBL_OUT_STRINGS, TBL_SEC_STRINGS, 1, b->pool.len);
    tbl_layout_add(l, TBL_OUT_VHOSTS, TBL_SEC_VHOSTS, sizeof(tbl_vhost),
                   b->vhost_count);
    tbl_layout_add(l, TBL_OUT_HOST_EXACT, TBL_SEC_HOST_EXACT,
                   sizeof(tbl_slot), tbl_hash_capacity(n_exact));
    tbl_layout_add(l, TBL_OUT_HOST_WILDCARD, TBL_SEC_HOST_WILDCARD,
                   sizeof(tbl_slot), tbl_hash_capacity(n_wild));
    tbl_layout_add(l, TBL_OUT_ROUTES, TBL_SEC_ROUTES, sizeof(tbl_route),
                   b->route_count);
    tbl_layout_add(l, TBL_OUT_PATH_EXACT, TBL_SEC_PATH_EXACT,
                   sizeof(tbl_slot), tbl_hash_capacity(n_pexact));
    tbl_layout_add(l, TBL_OUT_PATH_PREFIX, TBL_SEC_PATH_PREFIX,
                   sizeof(tbl_slot), tbl_hash_capacity(n_pprefix));
    tbl_layout_add(l, TBL_OUT_ROUTE_LISTS, TBL_SEC_ROUTE_LISTS,
                   sizeof(uint32_t), lists);
    tbl_layout_add(l, TBL_OUT_BACKENDS, TBL_SEC_BACKENDS, sizeof(tbl_backend),
                   b->backend_count);
    tbl_layout_add(l, TBL_OUT_ENDPOINTS, TBL_SEC_ENDPOINTS,
                   sizeof(tbl_endpoint), b->endpoint_count);
}

static void *
tbl_out_section(uint8_t *out, const tbl_layout *l, int i)
{
    return out + l->sec[i].offset;
}

/* Appends a route list to ROUTE_LISTS at *pos; returns where it starts. */
static uint32_t
tbl_write_list(uint32_t *lists, uint32_t *pos, const tbl_u32s *l)
{
    uint32_t first = *pos;

    if (l->len > 0) {
        memcpy(lists + first, l->items, l->len * sizeof(uint32_t));
    }
    *pos += (uint32_t)l->len;
    return first;
}

static void
tbl_write_vhosts(const tbl_builder *b, uint8_t *out, const tbl_layout *l)
{
    tbl_vhost *vhosts = tbl_out_section(out, l, TBL_OUT_VHOSTS);
    uint32_t  *lists = tbl_out_section(out, l, TBL_OUT_ROUTE_LISTS);
    tbl_slot  *exact = tbl_out_section(out, l, TBL_OUT_HOST_EXACT);
    tbl_slot  *wild = tbl_out_section(out, l, TBL_OUT_HOST_WILDCARD);
    uint32_t   pos = 0;
    size_t     i;

    tbl_slots_clear(exact, l->sec[TBL_OUT_HOST_EXACT].count);
    tbl_slots_clear(wild, l->sec[TBL_OUT_HOST_WILDCARD].count);
    for (i = 0; i < b->vhost_count; i++) {
        const tbl_bvhost *vh = &b->vhosts[i];
        tbl_vhost        *v = &vhosts[i];

        *v = vh->rec;
        v->impl_count = (uint32_t)vh->impl.len;
        v->impl_first = tbl_write_list(lists, &pos, &vh->impl);
        v->regex_count = (uint32_t)vh->regex.len;
        v->regex_first = tbl_write_list(lists, &pos, &vh->regex);

        if (v->flags & TBL_VHOST_WILDCARD) {
            tbl_slot_insert(wild, l->sec[TBL_OUT_HOST_WILDCARD].count, b,
                            vh->wildcard_key, 0, (uint32_t)i);
        } else if (!(v->flags & TBL_VHOST_CATCHALL)) {
            tbl_slot_insert(exact, l->sec[TBL_OUT_HOST_EXACT].count, b,
                            v->host, 0, (uint32_t)i);
        }
    }
}

/* Also sets each vhost's key-length filters (tbl_write_vhosts runs first). */
static void
tbl_write_routes(const tbl_builder *b, uint8_t *out, const tbl_layout *l)
{
    tbl_slot  *exact = tbl_out_section(out, l, TBL_OUT_PATH_EXACT);
    tbl_slot  *prefix = tbl_out_section(out, l, TBL_OUT_PATH_PREFIX);
    tbl_vhost *vhosts = tbl_out_section(out, l, TBL_OUT_VHOSTS);
    size_t     i;

    if (b->route_count > 0) {
        memcpy(tbl_out_section(out, l, TBL_OUT_ROUTES), b->routes,
               b->route_count * sizeof(tbl_route));
    }
    tbl_slots_clear(exact, l->sec[TBL_OUT_PATH_EXACT].count);
    tbl_slots_clear(prefix, l->sec[TBL_OUT_PATH_PREFIX].count);
    for (i = 0; i < b->route_count; i++) {
        const tbl_route *r = &b->routes[i];

        if (r->path_type == TBL_PATH_EXACT) {
            tbl_slot_insert(exact, l->sec[TBL_OUT_PATH_EXACT].count, b,
                            r->path, r->vhost, (uint32_t)i);
            vhosts[r->vhost].exact_lengths |= TBL_LENGTH_BIT(r->path.len);
        } else if (r->path_type == TBL_PATH_PREFIX) {
            tbl_slot_insert(prefix, l->sec[TBL_OUT_PATH_PREFIX].count, b,
                            b->prefix_keys[i], r->vhost, (uint32_t)i);
            vhosts[r->vhost].prefix_lengths
                |= TBL_LENGTH_BIT(b->prefix_keys[i].len);
        }
    }
}

static void
tbl_write_header(const tbl_builder *b, uint8_t *out, const tbl_layout *l,
                 uint64_t generation)
{
    tbl_header hdr;

    memset(&hdr, 0, sizeof(hdr));
    hdr.magic = TBL_MAGIC;
    hdr.format_version = TBL_FORMAT_VERSION;
    hdr.header_size = sizeof(tbl_header);
    hdr.file_size = l->total;
    hdr.generation = generation;
    hdr.built_at_ms = b->built_at_set ? b->built_at_ms : tbl_wall_ms();
    hdr.section_count = TBL_OUT_COUNT;
    hdr.catchall_vhost = b->catchall;
    hdr.default_route = b->default_route;
    hdr.default_cert = TBL_NONE;
    memcpy(out + sizeof(hdr), l->sec, sizeof(l->sec));
    hdr.checksum = tbl_hash64(out + sizeof(hdr), l->total - sizeof(hdr),
                              TBL_CHECKSUM_SEED);
    memcpy(out, &hdr, sizeof(hdr));
}

int
tbl_builder_finish(tbl_builder *b, uint64_t generation, uint8_t **out,
                   size_t *out_len, char *err, size_t errlen)
{
    tbl_layout l;
    uint8_t   *buf;
    size_t     i;

    if (b->out_of_memory) {
        snprintf(err, errlen, "an earlier call ran out of memory");
        return -1;
    }
    for (i = 0; i < b->vhost_count; i++) {
        if (tbl_sort_impl(b, &b->vhosts[i].impl) != 0) {
            snprintf(err, errlen, "out of memory sorting routes");
            return -1;
        }
    }
    tbl_layout_plan(b, &l);
    buf = calloc(1, l.total);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory allocating a %zu-byte table",
                 l.total);
        return -1;
    }
    if (b->pool.len > 0) {
        memcpy(buf + l.sec[TBL_OUT_STRINGS].offset, b->pool.data,
               b->pool.len);
    }
    tbl_write_vhosts(b, buf, &l);
    tbl_write_routes(b, buf, &l);
    if (b->backend_count > 0) {
        memcpy(tbl_out_section(buf, &l, TBL_OUT_BACKENDS), b->backends,
               b->backend_count * sizeof(tbl_backend));
    }
    if (b->endpoint_count > 0) {
        memcpy(tbl_out_section(buf, &l, TBL_OUT_ENDPOINTS), b->endpoints,
               b->endpoint_count * sizeof(tbl_endpoint));
    }
    tbl_write_header(b, buf, &l, generation);
    *out = buf;
    *out_len = l.total;
    return 0;
}
