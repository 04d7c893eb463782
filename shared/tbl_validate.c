/*
 * tbl_validate.c -- tbl_view_init: checks a whole table once so that the
 * lookups that follow need no checks at all.
 *
 * A table comes from another process through a file, so it is untrusted
 * input: anything it says is verified before the view is filled.  The
 * checks go from cheap to expensive -- header fields, the checksum, the
 * section directory, then every record, index, string and hash slot --
 * and stop at the first problem, which the error message names (section,
 * record index, field, value).  Passing means: every lookup in
 * tbl_lookup.c stays in bounds and terminates, and every tbl_str a reader
 * follows is NUL-terminated inside its pool.  This file does not read
 * files or know where tables come from.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tbl.h"
#include "tbl_internal.h"

/* CIDR lists already found in order, by first entry (see below). */
#define TBL_CIDR_SEEN 64

typedef struct {
    tbl_view          *v;
    const tbl_section *sec[TBL_SEC_KIND_MAX + 1];
    char              *err;
    size_t             errlen;
    uint32_t           cidr_seen[TBL_CIDR_SEEN][2]; /* first, count + 1 */
} tbl_check;

static int tbl_fail(tbl_check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
tbl_fail(tbl_check *c, const char *fmt, ...)
{
    va_list ap;

    if (c->errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---------------------------------------------------------- section kinds */

typedef struct {
    const char *name;
    uint32_t    entry_size;
    uint8_t     required;
    uint8_t     hash; /* a tbl_slot hash: capacity is a power of two */
} tbl_kind_info;

static const tbl_kind_info tbl_kinds[TBL_SEC_KIND_MAX + 1] = {
    [TBL_SEC_STRINGS] = {"STRINGS", 1, 1, 0},
    [TBL_SEC_BLOBS] = {"BLOBS", 1, 0, 0},
    [TBL_SEC_VHOSTS] = {"VHOSTS", sizeof(tbl_vhost), 1, 0},
    [TBL_SEC_HOST_EXACT] = {"HOST_EXACT", sizeof(tbl_slot), 1, 1},
    [TBL_SEC_HOST_WILDCARD] = {"HOST_WILDCARD", sizeof(tbl_slot), 1, 1},
    [TBL_SEC_ROUTES] = {"ROUTES", sizeof(tbl_route), 1, 0},
    [TBL_SEC_PATH_EXACT] = {"PATH_EXACT", sizeof(tbl_slot), 1, 1},
    [TBL_SEC_PATH_PREFIX] = {"PATH_PREFIX", sizeof(tbl_slot), 1, 1},
    [TBL_SEC_ROUTE_LISTS] = {"ROUTE_LISTS", sizeof(uint32_t), 1, 0},
    [TBL_SEC_BACKENDS] = {"BACKENDS", sizeof(tbl_backend), 1, 0},
    [TBL_SEC_ENDPOINTS] = {"ENDPOINTS", sizeof(tbl_endpoint), 1, 0},
    [TBL_SEC_CANARIES] = {"CANARIES", sizeof(tbl_canary), 0, 0},
    [TBL_SEC_POLICIES] = {"POLICIES", sizeof(tbl_policy), 0, 0},
    [TBL_SEC_CERTS] = {"CERTS", sizeof(tbl_cert), 0, 0},
    [TBL_SEC_SNI_EXACT] = {"SNI_EXACT", sizeof(tbl_slot), 0, 1},
    [TBL_SEC_SNI_WILDCARD] = {"SNI_WILDCARD", sizeof(tbl_slot), 0, 1},
    [TBL_SEC_CIDRS] = {"CIDRS", sizeof(tbl_cidr), 0, 0},
    [TBL_SEC_CONFIG] = {"CONFIG", sizeof(tbl_config), 0, 0},
};

/* ------------------------------------------------------- header, directory */

static int
tbl_check_header(tbl_check *c, const uint8_t *base, size_t size)
{
    const tbl_header *h = (const tbl_header *)base;
    uint64_t          dir_end, sum;

    if (((uintptr_t)base & (TBL_ALIGN - 1)) != 0) {
        return tbl_fail(c, "table buffer is not %u-byte aligned", TBL_ALIGN);
    }
    if (size < sizeof(tbl_header)) {
        return tbl_fail(c, "truncated: %zu bytes, the header alone is %zu",
                        size, sizeof(tbl_header));
    }
    if (h->magic != TBL_MAGIC) {
        return tbl_fail(c, "header.magic: 0x%016llx is not a route table",
                        (unsigned long long)h->magic);
    }
    if (h->format_version != TBL_FORMAT_VERSION) {
        return tbl_fail(c, "header.format_version: %u, this reader knows %u",
                        h->format_version, TBL_FORMAT_VERSION);
    }
    if (h->header_size != sizeof(tbl_header)) {
        return tbl_fail(c, "header.header_size: %u, expected %zu",
                        h->header_size, sizeof(tbl_header));
    }
    if (h->file_size != size) {
        return tbl_fail(c,
                        "header.file_size: %llu, but the file has %zu bytes "
                        "(truncated or padded)",
                        (unsigned long long)h->file_size, size);
    }
    if (h->flags != 0 || h->reserved0 != 0 || h->reserved[0] != 0
        || h->reserved[1] != 0)
    {
        return tbl_fail(c, "header: flags or reserved fields are not zero");
    }
    if (h->section_count > TBL_SEC_KIND_MAX) {
        return tbl_fail(c, "header.section_count: %u, at most %u kinds exist",
                        h->section_count, TBL_SEC_KIND_MAX);
    }
    dir_end = sizeof(tbl_header) + (uint64_t)h->section_count
                                       * sizeof(tbl_section);
    if (dir_end > size) {
        return tbl_fail(c, "section directory (%u entries) ends at %llu, "
                           "past the end of the file (%zu)",
                        h->section_count, (unsigned long long)dir_end, size);
    }
    sum = tbl_hash64(base + sizeof(tbl_header), size - sizeof(tbl_header),
                     TBL_CHECKSUM_SEED);
    if (sum != h->checksum) {
        return tbl_fail(c, "header.checksum: 0x%016llx, content hashes to "
                           "0x%016llx (corrupt or partly written)",
                        (unsigned long long)h->checksum,
                        (unsigned long long)sum);
    }
    return 0;
}

static int
tbl_check_entry(tbl_check *c, const tbl_section *s, uint32_t i,
                uint64_t dir_end, size_t size)
{
    const tbl_kind_info *k;
    uint64_t             bytes;

    if (s->kind == 0 || s->kind > TBL_SEC_KIND_MAX) {
        return tbl_fail(c, "section[%u].kind: unknown kind %u", i, s->kind);
    }
    k = &tbl_kinds[s->kind];
    if (c->sec[s->kind] != NULL) {
        return tbl_fail(c, "section[%u]: a second %s section", i, k->name);
    }
    if (s->entry_size != k->entry_size) {
        return tbl_fail(c, "section %s: entry_size %u, expected %u", k->name,
                        s->entry_size, k->entry_size);
    }
    if (s->offset % TBL_ALIGN != 0 || s->offset < dir_end) {
        return tbl_fail(c, "section %s: offset %llu is misaligned or inside "
                           "the header",
                        k->name, (unsigned long long)s->offset);
    }
    if (s->count > UINT32_MAX) {
        return tbl_fail(c, "section %s: count %llu exceeds 32 bits", k->name,
                        (unsigned long long)s->count);
    }
    bytes = s->count * s->entry_size;
    if (s->offset > size || bytes > size - s->offset) {
        return tbl_fail(c, "section %s: %llu bytes at offset %llu run past "
                           "the end of the file (%zu)",
                        k->name, (unsigned long long)bytes,
                        (unsigned long long)s->offset, size);
    }
    if (k->hash
        && (s->count > (1ull << 31) || (s->count & (s->count - 1)) != 0))
    {
        return tbl_fail(c, "section %s: capacity %llu is not a power of two",
                        k->name, (unsigned long long)s->count);
    }
    c->sec[s->kind] = s;
    return 0;
}

static int
tbl_sections_overlap(const tbl_section *a, const tbl_section *b)
{
    uint64_t a_end = a->offset + a->count * a->entry_size;
    uint64_t b_end = b->offset + b->count * b->entry_size;

    return a_end > a->offset && b_end > b->offset && a->offset < b_end
           && b->offset < a_end;
}

static int
tbl_check_directory(tbl_check *c, const uint8_t *base, size_t size)
{
    const tbl_header  *h = (const tbl_header *)base;
    const tbl_section *dir = (const tbl_section *)(base + sizeof(tbl_header));
    uint64_t           dir_end = sizeof(tbl_header)
                       + (uint64_t)h->section_count * sizeof(tbl_section);
    uint32_t           i, j;

    for (i = 0; i < h->section_count; i++) {
        if (tbl_check_entry(c, &dir[i], i, dir_end, size) != 0) {
            return -1;
        }
    }
    for (i = 0; i < h->section_count; i++) {
        for (j = i + 1; j < h->section_count; j++) {
            if (tbl_sections_overlap(&dir[i], &dir[j])) {
                return tbl_fail(c, "sections %s and %s overlap",
                                tbl_kinds[dir[i].kind].name,
                                tbl_kinds[dir[j].kind].name);
            }
        }
    }
    for (i = 1; i <= TBL_SEC_KIND_MAX; i++) {
        if (tbl_kinds[i].required && c->sec[i] == NULL) {
            return tbl_fail(c, "required section %s is missing",
                            tbl_kinds[i].name);
        }
    }
    return 0;
}

/* Start and count of a section, or NULL and 0 when it is absent. */
static const void *
tbl_section_data(const tbl_check *c, unsigned kind, uint32_t *count)
{
    const tbl_section *s = c->sec[kind];

    *count = s ? (uint32_t)s->count : 0;
    return s ? c->v->base + s->offset : NULL;
}

static void
tbl_fill_view(tbl_check *c)
{
    tbl_view *v = c->v;
    uint32_t  n;

    v->strings = tbl_section_data(c, TBL_SEC_STRINGS, &n);
    v->strings_len = n;
    v->blobs = tbl_section_data(c, TBL_SEC_BLOBS, &n);
    v->blobs_len = n;
    v->vhosts = tbl_section_data(c, TBL_SEC_VHOSTS, &v->vhost_count);
    v->host_exact = tbl_section_data(c, TBL_SEC_HOST_EXACT,
                                     &v->host_exact_cap);
    v->host_wildcard = tbl_section_data(c, TBL_SEC_HOST_WILDCARD,
                                        &v->host_wildcard_cap);
    v->routes = tbl_section_data(c, TBL_SEC_ROUTES, &v->route_count);
    v->path_exact = tbl_section_data(c, TBL_SEC_PATH_EXACT,
                                     &v->path_exact_cap);
    v->path_prefix = tbl_section_data(c, TBL_SEC_PATH_PREFIX,
                                      &v->path_prefix_cap);
    v->route_lists = tbl_section_data(c, TBL_SEC_ROUTE_LISTS,
                                      &v->route_list_len);
    v->backends = tbl_section_data(c, TBL_SEC_BACKENDS, &v->backend_count);
    v->endpoints = tbl_section_data(c, TBL_SEC_ENDPOINTS,
                                    &v->endpoint_count);
    v->canaries = tbl_section_data(c, TBL_SEC_CANARIES, &v->canary_count);
    v->policies = tbl_section_data(c, TBL_SEC_POLICIES, &v->policy_count);
    v->certs = tbl_section_data(c, TBL_SEC_CERTS, &v->cert_count);
    v->sni_exact = tbl_section_data(c, TBL_SEC_SNI_EXACT, &v->sni_exact_cap);
    v->sni_wildcard = tbl_section_data(c, TBL_SEC_SNI_WILDCARD,
                                       &v->sni_wildcard_cap);
    v->cidrs = tbl_section_data(c, TBL_SEC_CIDRS, &v->cidr_count);
    v->config = tbl_section_data(c, TBL_SEC_CONFIG, &n);
    if (n == 0) {
        v->config = NULL;
    }
}

/* ------------------------------------------------------ field primitives */

/* In the pool, followed by its NUL, and free of NULs itself. */
static int
tbl_check_str(tbl_check *c, tbl_str s, const char *what, uint32_t i,
              const char *field)
{
    const tbl_view *v = c->v;

    if (s.off >= v->strings_len || s.len >= v->strings_len - s.off
        || v->strings[s.off + s.len] != '\0'
        || memchr(v->strings + s.off, '\0', s.len) != NULL)
    {
        return tbl_fail(c, "%s[%u].%s: string (off %u, len %u) is outside "
                           "the string pool (%zu bytes) or not "
                           "NUL-terminated",
                        what, i, field, s.off, s.len, v->strings_len);
    }
    return 0;
}

static int
tbl_check_blob(tbl_check *c, tbl_str s, const char *what, uint32_t i,
               const char *field)
{
    if (s.off > c->v->blobs_len || s.len > c->v->blobs_len - s.off) {
        return tbl_fail(c, "%s[%u].%s: blob (off %u, len %u) is outside the "
                           "blob pool (%zu bytes)",
                        what, i, field, s.off, s.len, c->v->blobs_len);
    }
    return 0;
}

/* value < count, or TBL_NONE when none_ok. */
static int
tbl_check_index(tbl_check *c, uint32_t value, uint32_t count, int none_ok,
                const char *what, uint32_t i, const char *field)
{
    if (value == TBL_NONE && none_ok) {
        return 0;
    }
    if (value >= count) {
        return tbl_fail(c, "%s[%u].%s: index %u out of range (%u records)",
                        what, i, field, value, count);
    }
    return 0;
}

/* [first, first + count) within a section of len entries. */
static int
tbl_check_range(tbl_check *c, uint32_t first, uint32_t count, uint32_t len,
                const char *what, uint32_t i, const char *field)
{
    if ((uint64_t)first + count > len) {
        return tbl_fail(c, "%s[%u].%s: range %u + %u exceeds %u entries",
                        what, i, field, first, count, len);
    }
    return 0;
}

/* ----------------------------------------------------------- core records */

static int
tbl_check_route_list(tbl_check *c, uint32_t vi, uint32_t first,
                     uint32_t count, uint8_t type, const char *field)
{
    const tbl_view *v = c->v;
    uint32_t        k, prev_len = UINT32_MAX;

    if (tbl_check_range(c, first, count, v->route_list_len, "vhosts", vi,
                        field)
        != 0)
    {
        return -1;
    }
    for (k = first; k < first + count; k++) {
        uint32_t         ri = v->route_lists[k];
        const tbl_route *r;

        if (tbl_check_index(c, ri, v->route_count, 0, "route_lists", k,
                            "route")
            != 0)
        {
            return -1;
        }
        r = &v->routes[ri];
        if (r->path_type != type || r->vhost != vi) {
            return tbl_fail(c, "vhosts[%u].%s: routes[%u] is a %s route of "
                               "vhost %u",
                            vi, field, ri, tbl_path_type_name(r->path_type),
                            r->vhost);
        }
        if (type == TBL_PATH_IMPL && r->path.len > prev_len) {
            return tbl_fail(c, "vhosts[%u].%s: not sorted longest first at "
                               "routes[%u]",
                            vi, field, ri);
        }
        prev_len = r->path.len;
    }
    return 0;
}

static int
tbl_check_vhost(tbl_check *c, uint32_t i)
{
    const tbl_view  *v = c->v;
    const tbl_vhost *vh = &v->vhosts[i];
    const char      *host;
    uint32_t         kind = vh->flags & (TBL_VHOST_WILDCARD
                                         | TBL_VHOST_CATCHALL);

    if (tbl_check_str(c, vh->host, "vhosts", i, "host") != 0) {
        return -1;
    }
    host = tbl_view_str(v, vh->host);
    if ((vh->flags & ~(uint32_t)0xf) != 0
        || kind == (TBL_VHOST_WILDCARD | TBL_VHOST_CATCHALL))
    {
        return tbl_fail(c, "vhosts[%u].flags: bad value 0x%x", i, vh->flags);
    }
    if ((kind == TBL_VHOST_CATCHALL) != (vh->host.len == 0)
        || vh->host.len > TBL_MAX_HOST_LEN + 2
        || (kind == TBL_VHOST_WILDCARD
            && (vh->host.len < 3 || host[0] != '*' || host[1] != '.')))
    {
        return tbl_fail(c, "vhosts[%u].host: \"%s\" does not fit flags 0x%x",
                        i, host, vh->flags);
    }
    if (kind == TBL_VHOST_CATCHALL && v->hdr->catchall_vhost != i) {
        return tbl_fail(c, "vhosts[%u]: a catch-all vhost that is not "
                           "header.catchall_vhost (%u)",
                        i, v->hdr->catchall_vhost);
    }
    if (vh->regex_count > 0 && !(vh->flags & TBL_VHOST_REGEX)) {
        return tbl_fail(c, "vhosts[%u]: regex routes without the REGEX flag",
                        i);
    }
    if (vh->default_route != TBL_NONE) {
        const tbl_route *r;

        if (tbl_check_index(c, vh->default_route, v->route_count, 0,
                            "vhosts", i, "default_route")
            != 0)
        {
            return -1;
        }
        r = &v->routes[vh->default_route];
        if (r->path_type != TBL_PATH_DEFAULT || r->vhost != i) {
            return tbl_fail(c, "vhosts[%u].default_route: routes[%u] is not "
                               "this vhost's default backend",
                            i, vh->default_route);
        }
    }
    return tbl_check_route_list(c, i, vh->impl_first, vh->impl_count,
                                TBL_PATH_IMPL, "impl")
               || tbl_check_route_list(c, i, vh->regex_first,
                                       vh->regex_count, TBL_PATH_REGEX,
                                       "regex")
               || tbl_check_index(c, vh->cert, v->cert_count, 1, "vhosts", i,
                                  "cert")
               || tbl_check_index(c, vh->policy, v->policy_count, 1,
                                  "vhosts", i, "policy")
           ? -1
           : 0;
}

static int
tbl_check_route(tbl_check *c, uint32_t i)
{
    const tbl_view  *v = c->v;
    const tbl_route *r = &v->routes[i];
    const char      *path;

    if (tbl_check_str(c, r->path, "routes", i, "path") != 0
        || tbl_check_str(c, r->ingress_namespace, "routes", i,
                         "ingress_namespace")
               != 0
        || tbl_check_str(c, r->ingress_name, "routes", i, "ingress_name")
               != 0)
    {
        return -1;
    }
    path = tbl_view_str(v, r->path);
    if (r->path_type < TBL_PATH_EXACT || r->path_type > TBL_PATH_DEFAULT) {
        return tbl_fail(c, "routes[%u].path_type: unknown type %u", i,
                        r->path_type);
    }
    if (r->flags != 0) {
        return tbl_fail(c, "routes[%u].flags: unknown bits 0x%x", i,
                        r->flags);
    }
    if (r->path.len > TBL_MAX_PATH_LEN
        || (r->path_type == TBL_PATH_DEFAULT && r->path.len != 0)
        || ((r->path_type == TBL_PATH_EXACT
             || r->path_type == TBL_PATH_PREFIX)
            && path[0] != '/'))
    {
        return tbl_fail(c, "routes[%u].path: \"%.64s\" is not a valid %s "
                           "path",
                        i, path, tbl_path_type_name(r->path_type));
    }
    if (tbl_check_index(c, r->vhost, v->vhost_count,
                        r->path_type == TBL_PATH_DEFAULT, "routes", i, "vhost")
        != 0)
    {
        return -1;
    }
    if ((r->path_type == TBL_PATH_EXACT
         && !(v->vhosts[r->vhost].exact_lengths
              & TBL_LENGTH_BIT(r->path.len)))
        || (r->path_type == TBL_PATH_PREFIX
            && !(v->vhosts[r->vhost].prefix_lengths
                 & TBL_LENGTH_BIT(tbl_prefix_key_len(path, r->path.len)))))
    {
        return tbl_fail(c, "routes[%u]: the length of \"%.64s\" is missing "
                           "from vhosts[%u]'s %s filter",
                        i, path, r->vhost,
                        r->path_type == TBL_PATH_EXACT ? "exact_lengths"
                                                       : "prefix_lengths");
    }
    return tbl_check_index(c, r->backend, v->backend_count, 1,
                                  "routes", i, "backend")
               || tbl_check_index(c, r->canary, v->canary_count, 1, "routes",
                                  i, "canary")
               || tbl_check_index(c, r->policy, v->policy_count, 1, "routes",
                                  i, "policy")
           ? -1
           : 0;
}

static int
tbl_check_backend(tbl_check *c, uint32_t i)
{
    const tbl_view    *v = c->v;
    const tbl_backend *b = &v->backends[i];

    if (b->flags & ~(uint32_t)(TBL_BACKEND_SERVICE_MISSING
                               | TBL_BACKEND_PORT_MISSING
                               | TBL_BACKEND_NO_ENDPOINTS))
    {
        return tbl_fail(c, "backends[%u].flags: unknown bits 0x%x", i,
                        b->flags);
    }
    return tbl_check_str(c, b->service_namespace, "backends", i,
                         "service_namespace")
               || tbl_check_str(c, b->service_name, "backends", i,
                                "service_name")
               || tbl_check_str(c, b->port_name, "backends", i, "port_name")
               || tbl_check_range(c, b->endpoint_first, b->endpoint_count,
                                  v->endpoint_count, "backends", i,
                                  "endpoint_first")
           ? -1
           : 0;
}

static int
tbl_check_endpoint(tbl_check *c, uint32_t i)
{
    const tbl_endpoint *e = &c->v->endpoints[i];

    if (e->family != 4 && e->family != 6) {
        return tbl_fail(c, "endpoints[%u].family: %u is neither 4 nor 6", i,
                        e->family);
    }
    if (e->flags & ~(TBL_EP_READY | TBL_EP_SERVING | TBL_EP_TERMINATING)) {
        return tbl_fail(c, "endpoints[%u].flags: unknown bits 0x%x", i,
                        e->flags);
    }
    return 0;
}

/* ------------------------------------------------------------ hash slots */

typedef int (*tbl_slot_check_fn)(tbl_check *c, const tbl_slot *s,
                                 uint32_t i);

/*
 * A host slot names a vhost that is not the catch-all: its own host (an
 * exact vhost with host == key, or a wildcard vhost with host == "*." +
 * key) or, for any other key, a server-alias of it.  Lookups compare
 * keys only, so either is safe to serve.
 */
static int
tbl_slot_host(tbl_check *c, const tbl_slot *s, uint32_t i, const char *what)
{
    const tbl_view  *v = c->v;
    uint32_t         kind;

    if (tbl_check_index(c, s->value, v->vhost_count, 0, what, i, "value")
        != 0)
    {
        return -1;
    }
    kind = v->vhosts[s->value].flags & (TBL_VHOST_WILDCARD
                                        | TBL_VHOST_CATCHALL);
    if (s->scope != 0 || s->key.len == 0 || s->key.len > TBL_MAX_HOST_LEN
        || kind == TBL_VHOST_CATCHALL)
    {
        return tbl_fail(c, "%s[%u]: key \"%s\" does not name vhosts[%u]",
                        what, i, tbl_view_str(v, s->key), s->value);
    }
    return 0;
}

static int
tbl_slot_host_exact(tbl_check *c, const tbl_slot *s, uint32_t i)
{
    return tbl_slot_host(c, s, i, "host_exact");
}

static int
tbl_slot_host_wildcard(tbl_check *c, const tbl_slot *s, uint32_t i)
{
    return tbl_slot_host(c, s, i, "host_wildcard");
}

static int
tbl_slot_path(tbl_check *c, const tbl_slot *s, uint32_t i, uint8_t type,
              const char *what)
{
    const tbl_view  *v = c->v;
    const tbl_route *r;
    size_t           keylen;

    if (tbl_check_index(c, s->value, v->route_count, 0, what, i, "value")
        != 0)
    {
        return -1;
    }
    r = &v->routes[s->value];
    keylen = r->path.len;
    if (type == TBL_PATH_PREFIX) {
        keylen = tbl_prefix_key_len(tbl_view_str(v, r->path), r->path.len);
    }
    if (r->path_type != type || r->vhost != s->scope
        || s->key.len != keylen
        || memcmp(tbl_view_str(v, r->path), tbl_view_str(v, s->key), keylen)
               != 0)
    {
        return tbl_fail(c, "%s[%u]: key \"%s\" scope %u does not match "
                           "routes[%u]",
                        what, i, tbl_view_str(v, s->key), s->scope, s->value);
    }
    return 0;
}

static int
tbl_slot_path_exact(tbl_check *c, const tbl_slot *s, uint32_t i)
{
    return tbl_slot_path(c, s, i, TBL_PATH_EXACT, "path_exact");
}

static int
tbl_slot_path_prefix(tbl_check *c, const tbl_slot *s, uint32_t i)
{
    return tbl_slot_path(c, s, i, TBL_PATH_PREFIX, "path_prefix");
}

static int
tbl_slot_sni(tbl_check *c, const tbl_slot *s, uint32_t i, const char *what)
{
    if (s->scope != 0) {
        return tbl_fail(c, "%s[%u].scope: %u, must be 0", what, i, s->scope);
    }
    return tbl_check_index(c, s->value, c->v->cert_count, 0, what, i,
                           "value");
}

static int
tbl_slot_sni_exact(tbl_check *c, const tbl_slot *s, uint32_t i)
{
    return tbl_slot_sni(c, s, i, "sni_exact");
}

static int
tbl_slot_sni_wildcard(tbl_check *c, const tbl_slot *s, uint32_t i)
{
    return tbl_slot_sni(c, s, i, "sni_wildcard");
}

/*
 * Every occupied slot: key in the pool, stored hash right, value
 * consistent with its key, and found by probing from its home position
 * (so no slot is unreachable and no key appears twice).  There must be an
 * empty slot, or probing for an absent key would never stop; that is
 * checked first because the probing check relies on it.
 */
static int
tbl_check_hash(tbl_check *c, const tbl_slot *slots, uint32_t cap,
               const char *what, tbl_slot_check_fn check)
{
    const tbl_view *v = c->v;
    uint32_t        i, empty = 0;

    for (i = 0; i < cap; i++) {
        const tbl_slot *s = &slots[i];

        if (s->value != TBL_NONE) {
            continue;
        }
        if (s->hash != 0 || s->key.off != 0 || s->key.len != 0
            || s->scope != 0)
        {
            return tbl_fail(c, "%s[%u]: empty slot with non-zero fields",
                            what, i);
        }
        empty++;
    }
    if (cap > 0 && empty == 0) {
        return tbl_fail(c, "%s: no empty slot among %u", what, cap);
    }
    for (i = 0; i < cap; i++) {
        const tbl_slot *s = &slots[i];
        const char     *key;

        if (s->value == TBL_NONE) {
            continue;
        }
        if (tbl_check_str(c, s->key, what, i, "key") != 0) {
            return -1;
        }
        key = tbl_view_str(v, s->key);
        if (s->hash != tbl_slot_hash(key, s->key.len, s->scope)) {
            return tbl_fail(c, "%s[%u].hash: wrong hash for key \"%s\"", what,
                            i, key);
        }
        if (check(c, s, i) != 0) {
            return -1;
        }
        if (tbl_slot_find(slots, cap, v->strings, key, s->key.len, s->scope,
                          s->hash)
            != i)
        {
            return tbl_fail(c, "%s[%u]: key \"%s\" is a duplicate or not "
                               "reachable by probing",
                            what, i, key);
        }
    }
    return 0;
}

/* ------------------------------------------------------- optional records */

static int
tbl_check_cidr(tbl_check *c, uint32_t i)
{
    static const uint8_t zero[sizeof(((tbl_cidr *)0)->reserved)];
    const tbl_cidr      *r = &c->v->cidrs[i];
    unsigned             bits = r->family == 4 ? 32 : 128, b;

    if ((r->family != 4 && r->family != 6) || r->prefix_len > bits
        || memcmp(r->reserved, zero, sizeof(zero)) != 0)
    {
        return tbl_fail(c, "cidrs[%u]: family %u / prefix length %u / "
                           "reserved bytes",
                        i, r->family, r->prefix_len);
    }
    for (b = r->prefix_len; b < 128; b++) {
        if (r->addr[b / 8] & (0x80u >> (b % 8))) {
            return tbl_fail(c, "cidrs[%u]: address bits set beyond /%u", i,
                            r->prefix_len);
        }
    }
    return 0;
}

/*
 * A CIDR list a policy or the config refers to: in range, and stored as
 * tbl_cidr_match needs it -- sorted by tbl_cidr_order, no entry inside
 * the one before (so all are disjoint).  Policies share lists, so a
 * small cache of lists already checked keeps this linear in the size of
 * CIDRS rather than in the number of references.
 */
static int
tbl_check_cidr_list(tbl_check *c, uint32_t first, uint32_t count,
                    const char *what, uint32_t i, const char *field)
{
    uint32_t       *seen = c->cidr_seen[first % TBL_CIDR_SEEN];
    const tbl_cidr *l;
    uint32_t        k;

    if (tbl_check_range(c, first, count, c->v->cidr_count, what, i, field)
        != 0)
    {
        return -1;
    }
    if (count < 2 || (seen[0] == first && seen[1] == count + 1)) {
        return 0;
    }
    l = c->v->cidrs + first;
    for (k = 1; k < count; k++) {
        if (tbl_cidr_order(&l[k - 1], &l[k]) >= 0
            || tbl_cidr_holds(&l[k - 1], l[k].addr, l[k].family))
        {
            return tbl_fail(c, "%s[%u].%s: cidrs[%u] is out of order or "
                               "inside cidrs[%u]",
                            what, i, field, first + k, first + k - 1);
        }
    }
    seen[0] = first;
    seen[1] = count + 1;
    return 0;
}

static int
tbl_check_canary(tbl_check *c, uint32_t i)
{
    const tbl_view   *v = c->v;
    const tbl_canary *k = &v->canaries[i];
    uint32_t          by_header = TBL_CANARY_BY_HEADER_VALUE
                         | TBL_CANARY_BY_HEADER_PATTERN;

    if ((k->flags & ~(uint32_t)0x1f) != 0
        || ((k->flags & by_header) && !(k->flags & TBL_CANARY_BY_HEADER)))
    {
        return tbl_fail(c, "canaries[%u].flags: bad value 0x%x", i,
                        k->flags);
    }
    if (k->weight_total == 0 || k->weight > k->weight_total) {
        return tbl_fail(c, "canaries[%u]: weight %u of total %u", i,
                        k->weight, k->weight_total);
    }
    return tbl_check_index(c, k->backend, v->backend_count, 1, "canaries", i,
                           "backend")
               || tbl_check_str(c, k->header, "canaries", i, "header")
               || tbl_check_str(c, k->header_value, "canaries", i,
                                "header_value")
               || tbl_check_str(c, k->header_pattern, "canaries", i,
                                "header_pattern")
               || tbl_check_str(c, k->cookie, "canaries", i, "cookie")
               || tbl_check_str(c, k->ingress_namespace, "canaries", i,
                                "ingress_namespace")
               || tbl_check_str(c, k->ingress_name, "canaries", i,
                                "ingress_name")
           ? -1
           : 0;
}

static int
tbl_check_policy_strs(tbl_check *c, const tbl_policy *p, uint32_t i)
{
    const struct {
        tbl_str     s;
        const char *name;
    } strs[] = {
        {p->redirect_url, "redirect_url"},
        {p->app_root, "app_root"},
        {p->rewrite_target, "rewrite_target"},
        {p->x_forwarded_prefix, "x_forwarded_prefix"},
        {p->auth_realm, "auth_realm"},
        {p->auth_url, "auth_url"},
        {p->auth_method, "auth_method"},
        {p->auth_signin, "auth_signin"},
        {p->auth_response_headers, "auth_response_headers"},
        {p->upstream_vhost, "upstream_vhost"},
        {p->hash_by, "hash_by"},
        {p->affinity_cookie_name, "affinity_cookie_name"},
        {p->affinity_cookie_path, "affinity_cookie_path"},
        {p->cors_allow_origin, "cors_allow_origin"},
        {p->cors_allow_methods, "cors_allow_methods"},
        {p->cors_allow_headers, "cors_allow_headers"},
        {p->cors_expose_headers, "cors_expose_headers"},
        {p->auth_request_redirect, "auth_request_redirect"},
        {p->affinity_cookie_domain, "affinity_cookie_domain"},
        {p->affinity_cookie_samesite, "affinity_cookie_samesite"},
    };
    size_t k;

    for (k = 0; k < sizeof(strs) / sizeof(strs[0]); k++) {
        if (tbl_check_str(c, strs[k].s, "policies", i, strs[k].name) != 0) {
            return -1;
        }
    }
    return tbl_check_blob(c, p->auth_secret, "policies", i, "auth_secret");
}

static int
tbl_check_policy(tbl_check *c, uint32_t i)
{
    const tbl_view   *v = c->v;
    const tbl_policy *p = &v->policies[i];

    if (tbl_check_policy_strs(c, p, i) != 0) {
        return -1;
    }
    if ((p->flags & ~(uint32_t)TBL_POL_FLAGS_ALL) != 0
        || (p->next_upstream & ~(uint32_t)TBL_NEXT_ALL) != 0)
    {
        return tbl_fail(c, "policies[%u]: unknown flag bits 0x%x / 0x%x", i,
                        p->flags, p->next_upstream);
    }
    if ((p->redirect_url.len == 0) != (p->redirect_code == 0)
        || (p->redirect_code != 0
            && (p->redirect_code < 300 || p->redirect_code > 308)))
    {
        return tbl_fail(c, "policies[%u].redirect_code: %u", i,
                        p->redirect_code);
    }
    if (p->auth_type > TBL_AUTH_MAX || p->backend_protocol > TBL_PROTO_MAX
        || p->load_balance > TBL_LB_MAX || p->affinity_mode > TBL_AFFINITY_MAX)
    {
        return tbl_fail(c, "policies[%u]: auth_type %u, backend_protocol %u, "
                           "load_balance %u or affinity_mode %u out of range",
                        i, p->auth_type, p->backend_protocol, p->load_balance,
                        p->affinity_mode);
    }
    return tbl_check_cidr_list(c, p->limit_allow_first, p->limit_allow_count,
                               "policies", i, "limit_allow_first")
               || tbl_check_cidr_list(c, p->allow_first, p->allow_count,
                                      "policies", i, "allow_first")
               || tbl_check_cidr_list(c, p->deny_first, p->deny_count,
                                      "policies", i, "deny_first")
               || tbl_check_index(c, p->default_backend, v->backend_count, 1,
                                  "policies", i, "default_backend")
           ? -1
           : 0;
}

static int
tbl_check_cert(tbl_check *c, uint32_t i)
{
    const tbl_cert *k = &c->v->certs[i];

    if (k->flags & ~(uint32_t)TBL_CERT_DEFAULT) {
        return tbl_fail(c, "certs[%u].flags: unknown bits 0x%x", i, k->flags);
    }
    if (k->chain.len == 0 || k->key.len == 0) {
        return tbl_fail(c, "certs[%u]: empty certificate chain or key", i);
    }
    return tbl_check_blob(c, k->chain, "certs", i, "chain")
               || tbl_check_blob(c, k->key, "certs", i, "key")
               || tbl_check_str(c, k->secret_namespace, "certs", i,
                                "secret_namespace")
               || tbl_check_str(c, k->secret_name, "certs", i, "secret_name")
           ? -1
           : 0;
}

static int
tbl_check_config(tbl_check *c)
{
    const tbl_view   *v = c->v;
    const tbl_config *g = v->config;
    uint32_t          n;

    tbl_section_data(c, TBL_SEC_CONFIG, &n);
    if (c->sec[TBL_SEC_CONFIG] != NULL && n != 1) {
        return tbl_fail(c, "section CONFIG: %u records, expected exactly 1",
                        n);
    }
    if (g == NULL) {
        return 0;
    }
    if ((g->flags & ~(uint32_t)TBL_CFG_FLAGS_ALL) != 0
        || (g->next_upstream & ~(uint32_t)TBL_NEXT_ALL) != 0
        || g->load_balance > TBL_LB_MAX)
    {
        return tbl_fail(c, "config: unknown flags 0x%x / next_upstream 0x%x "
                           "/ load_balance %u",
                        g->flags, g->next_upstream, g->load_balance);
    }
    if (g->http_redirect_code < 300 || g->http_redirect_code > 308
        || g->limit_req_status_code < 400 || g->limit_req_status_code > 599
        || g->limit_conn_status_code < 400 || g->limit_conn_status_code > 599)
    {
        return tbl_fail(c, "config: status codes %u / %u / %u out of range",
                        g->http_redirect_code, g->limit_req_status_code,
                        g->limit_conn_status_code);
    }
    return tbl_check_str(c, g->forwarded_for_header, "config", 0,
                         "forwarded_for_header")
               || tbl_check_str(c, g->no_tls_redirect_locations, "config", 0,
                                "no_tls_redirect_locations")
               || tbl_check_str(c, g->global_auth_url, "config", 0,
                                "global_auth_url")
               || tbl_check_cidr_list(c, g->allow_first, g->allow_count,
                                      "config", 0, "allow_first")
               || tbl_check_cidr_list(c, g->deny_first, g->deny_count,
                                      "config", 0, "deny_first")
               || tbl_check_cidr_list(c, g->block_first, g->block_count,
                                      "config", 0, "block_first")
               || tbl_check_cidr_list(c, g->real_ip_first, g->real_ip_count,
                                      "config", 0, "real_ip_first")
           ? -1
           : 0;
}

/* ---------------------------------------------------------------- driver */

typedef int (*tbl_record_check_fn)(tbl_check *c, uint32_t i);

static int
tbl_check_all(tbl_check *c, uint32_t count, tbl_record_check_fn check)
{
    uint32_t i;

    for (i = 0; i < count; i++) {
        if (check(c, i) != 0) {
            return -1;
        }
    }
    return 0;
}

static int
tbl_check_header_refs(tbl_check *c)
{
    const tbl_view   *v = c->v;
    const tbl_header *h = v->hdr;

    if (h->catchall_vhost != TBL_NONE
        && (h->catchall_vhost >= v->vhost_count
            || !(v->vhosts[h->catchall_vhost].flags & TBL_VHOST_CATCHALL)))
    {
        return tbl_fail(c, "header.catchall_vhost: %u is not a catch-all "
                           "vhost",
                        h->catchall_vhost);
    }
    if (h->default_route != TBL_NONE
        && (h->default_route >= v->route_count
            || v->routes[h->default_route].path_type != TBL_PATH_DEFAULT
            || v->routes[h->default_route].vhost != TBL_NONE))
    {
        return tbl_fail(c, "header.default_route: %u is not a global default "
                           "route",
                        h->default_route);
    }
    if (h->default_cert != TBL_NONE && h->default_cert >= v->cert_count) {
        return tbl_fail(c, "header.default_cert: index %u out of range (%u "
                           "certificates)",
                        h->default_cert, v->cert_count);
    }
    return 0;
}

static int
tbl_check_records(tbl_check *c)
{
    const tbl_view *v = c->v;

    return tbl_check_header_refs(c)
               || tbl_check_all(c, v->vhost_count, tbl_check_vhost)
               || tbl_check_all(c, v->route_count, tbl_check_route)
               || tbl_check_all(c, v->backend_count, tbl_check_backend)
               || tbl_check_all(c, v->endpoint_count, tbl_check_endpoint)
               || tbl_check_all(c, v->cidr_count, tbl_check_cidr)
               || tbl_check_all(c, v->canary_count, tbl_check_canary)
               || tbl_check_all(c, v->policy_count, tbl_check_policy)
               || tbl_check_all(c, v->cert_count, tbl_check_cert)
               || tbl_check_config(c)
               || tbl_check_hash(c, v->host_exact, v->host_exact_cap,
                                 "host_exact", tbl_slot_host_exact)
               || tbl_check_hash(c, v->host_wildcard, v->host_wildcard_cap,
                                 "host_wildcard", tbl_slot_host_wildcard)
               || tbl_check_hash(c, v->path_exact, v->path_exact_cap,
                                 "path_exact", tbl_slot_path_exact)
               || tbl_check_hash(c, v->path_prefix, v->path_prefix_cap,
                                 "path_prefix", tbl_slot_path_prefix)
               || tbl_check_hash(c, v->sni_exact, v->sni_exact_cap,
                                 "sni_exact", tbl_slot_sni_exact)
               || tbl_check_hash(c, v->sni_wildcard, v->sni_wildcard_cap,
                                 "sni_wildcard", tbl_slot_sni_wildcard)
           ? -1
           : 0;
}

int
tbl_view_init(tbl_view *v, const void *data, size_t size, char *err,
              size_t errlen)
{
    tbl_check c;
    tbl_view  nv;

    memset(&c, 0, sizeof(c));
    memset(&nv, 0, sizeof(nv));
    c.v = &nv;
    c.err = err;
    c.errlen = errlen;
    if (data == NULL) {
        return tbl_fail(&c, "no table");
    }
    nv.base = data;
    nv.size = size;
    nv.hdr = data;
    if (tbl_check_header(&c, data, size) != 0
        || tbl_check_directory(&c, data, size) != 0)
    {
        return -1;
    }
    tbl_fill_view(&c);
    if (tbl_check_records(&c) != 0) {
        return -1;
    }
    *v = nv;
    return 0;
}
