/*
 * tbl_serialize.c -- tbl_builder_finish's second half: lays out and
 * writes the table the builder collected.
 *
 * Everything that needs hashing or counting was done when the records
 * were added (slot hashes, section sizes, key-length filters), so this
 * file plans the sections, then fills each one in a single pass: copies
 * for the record arrays, placement for the hash sections, one counting
 * pass for the route lists.  Sections appear in a fixed order and the
 * optional ones only when they hold something, so identical builders give
 * identical bytes.  It reads only the builder; the validator checks the
 * result in the tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tbl.h"
#include "tbl_builder_internal.h"

/*
 * The sections a builder may emit, in directory and file order.  The
 * header's section_count is outside the checksum, so the directory ends
 * with required sections: a count one too small then drops ENDPOINTS
 * (refused as missing) rather than an optional section (which would read
 * as "none"), and one too large reads the string pool's first bytes, an
 * impossible kind.
 */
enum {
    TBL_OUT_STRINGS,
    TBL_OUT_BLOBS,
    TBL_OUT_CIDRS,
    TBL_OUT_CANARIES,
    TBL_OUT_POLICIES,
    TBL_OUT_CERTS,
    TBL_OUT_SNI_EXACT,
    TBL_OUT_SNI_WILDCARD,
    TBL_OUT_CONFIG,
    TBL_OUT_VHOSTS,
    TBL_OUT_HOST_EXACT,
    TBL_OUT_HOST_WILDCARD,
    TBL_OUT_ROUTES,
    TBL_OUT_PATH_EXACT,
    TBL_OUT_PATH_PREFIX,
    TBL_OUT_ROUTE_LISTS,
    TBL_OUT_BACKENDS,
    TBL_OUT_ENDPOINTS,
    TBL_OUT_MAX
};

typedef struct {
    tbl_section sec[TBL_OUT_MAX];
    uint8_t     present[TBL_OUT_MAX];
    uint32_t    count;
    size_t      total;
} tbl_layout;

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
tbl_layout_want(tbl_layout *l, int i, uint32_t kind, uint32_t entry_size,
                uint64_t count)
{
    l->sec[i].kind = kind;
    l->sec[i].entry_size = entry_size;
    l->sec[i].count = count;
    l->present[i] = 1;
    l->count++;
}

/* Optional sections are written only when they hold something. */
static void
tbl_layout_want_some(tbl_layout *l, int i, uint32_t kind,
                     uint32_t entry_size, uint64_t count)
{
    if (count > 0) {
        tbl_layout_want(l, i, kind, entry_size, count);
    }
}

/* Places the wanted sections after the directory, 8-aligned, in order. */
static void
tbl_layout_place(tbl_layout *l)
{
    int i;

    l->total = sizeof(tbl_header) + l->count * sizeof(tbl_section);
    for (i = 0; i < TBL_OUT_MAX; i++) {
        if (!l->present[i]) {
            continue;
        }
        l->sec[i].offset = l->total;
        l->total += (size_t)(l->sec[i].count * l->sec[i].entry_size);
        l->total = (l->total + TBL_ALIGN - 1) & ~(size_t)(TBL_ALIGN - 1);
    }
}

static void
tbl_layout_plan(const tbl_builder *b, tbl_layout *l)
{
    size_t sni_wild = b->snis.len - b->sni_exact_count;

    memset(l, 0, sizeof(*l));
    tbl_layout_want(l, TBL_OUT_STRINGS, TBL_SEC_STRINGS, 1, b->pool.len);
    tbl_layout_want(l, TBL_OUT_VHOSTS, TBL_SEC_VHOSTS, sizeof(tbl_vhost),
                    b->vhosts.len);
    tbl_layout_want(l, TBL_OUT_HOST_EXACT, TBL_SEC_HOST_EXACT,
                    sizeof(tbl_slot), tbl_hash_capacity(b->host_exact_count));
    tbl_layout_want(l, TBL_OUT_HOST_WILDCARD, TBL_SEC_HOST_WILDCARD,
                    sizeof(tbl_slot), tbl_hash_capacity(b->host_wild_count));
    tbl_layout_want(l, TBL_OUT_ROUTES, TBL_SEC_ROUTES, sizeof(tbl_route),
                    b->routes.len);
    tbl_layout_want(l, TBL_OUT_PATH_EXACT, TBL_SEC_PATH_EXACT,
                    sizeof(tbl_slot), tbl_hash_capacity(b->path_exact_count));
    tbl_layout_want(l, TBL_OUT_PATH_PREFIX, TBL_SEC_PATH_PREFIX,
                    sizeof(tbl_slot),
                    tbl_hash_capacity(b->path_prefix_count));
    tbl_layout_want(l, TBL_OUT_ROUTE_LISTS, TBL_SEC_ROUTE_LISTS,
                    sizeof(uint32_t), b->list_count);
    tbl_layout_want(l, TBL_OUT_BACKENDS, TBL_SEC_BACKENDS,
                    sizeof(tbl_backend), b->backends.len);
    tbl_layout_want(l, TBL_OUT_ENDPOINTS, TBL_SEC_ENDPOINTS,
                    sizeof(tbl_endpoint), b->endpoints.len);
    tbl_layout_want_some(l, TBL_OUT_BLOBS, TBL_SEC_BLOBS, 1, b->blobs.len);
    tbl_layout_want_some(l, TBL_OUT_CIDRS, TBL_SEC_CIDRS, sizeof(tbl_cidr),
                         b->cidrs.len);
    tbl_layout_want_some(l, TBL_OUT_CANARIES, TBL_SEC_CANARIES,
                         sizeof(tbl_canary), b->canaries.len);
    tbl_layout_want_some(l, TBL_OUT_POLICIES, TBL_SEC_POLICIES,
                         sizeof(tbl_policy), b->policies.len);
    tbl_layout_want_some(l, TBL_OUT_CERTS, TBL_SEC_CERTS, sizeof(tbl_cert),
                         b->certs.len);
    tbl_layout_want_some(l, TBL_OUT_SNI_EXACT, TBL_SEC_SNI_EXACT,
                         sizeof(tbl_slot),
                         tbl_hash_capacity(b->sni_exact_count));
    tbl_layout_want_some(l, TBL_OUT_SNI_WILDCARD, TBL_SEC_SNI_WILDCARD,
                         sizeof(tbl_slot), tbl_hash_capacity(sni_wild));
    tbl_layout_want(l, TBL_OUT_CONFIG, TBL_SEC_CONFIG, sizeof(tbl_config), 1);
    tbl_layout_place(l);
}

static void *
tbl_out_section(uint8_t *out, const tbl_layout *l, int i)
{
    return out + l->sec[i].offset;
}

/* Copies a record array into its section (absent sections are empty). */
static void
tbl_out_copy(uint8_t *out, const tbl_layout *l, int i, const void *items,
             size_t bytes)
{
    if (bytes > 0) {
        memcpy(tbl_out_section(out, l, i), items, bytes);
    }
}

/* ---------------------------------------------------------- hash slots */

/* Marks every slot of a hash section empty: all zero but value. */
static tbl_slot *
tbl_out_slots(uint8_t *out, const tbl_layout *l, int i)
{
    static const tbl_slot empty = {0, {0, 0}, TBL_NONE, 0};
    tbl_slot             *slots = tbl_out_section(out, l, i);
    uint64_t              k;

    for (k = 0; k < l->sec[i].count; k++) {
        slots[k] = empty;
    }
    return slots;
}

static void
tbl_slot_place(tbl_slot *slots, uint64_t cap, uint64_t h, tbl_str key,
               uint32_t scope, uint32_t value)
{
    uint64_t i;

    for (i = h & (cap - 1); slots[i].value != TBL_NONE; i = (i + 1) & (cap - 1))
    {
    }
    slots[i].hash = h;
    slots[i].key = key;
    slots[i].scope = scope;
    slots[i].value = value;
}

/* ------------------------------------------------------------- records */

/* Per vhost: where its ImplementationSpecific and regex lists start. */
static void
tbl_write_vhosts(const tbl_builder *b, uint8_t *out, const tbl_layout *l)
{
    tbl_vhost *vhosts = tbl_out_section(out, l, TBL_OUT_VHOSTS);
    tbl_slot  *exact = tbl_out_slots(out, l, TBL_OUT_HOST_EXACT);
    tbl_slot  *wild = tbl_out_slots(out, l, TBL_OUT_HOST_WILDCARD);
    uint64_t   exact_cap = l->sec[TBL_OUT_HOST_EXACT].count;
    uint64_t   wild_cap = l->sec[TBL_OUT_HOST_WILDCARD].count;
    uint32_t   pos = 0;
    size_t     i;

    for (i = 0; i < b->vhosts.len; i++) {
        const tbl_bvhost *vh = &b->vhosts.items[i];
        tbl_vhost        *v = &vhosts[i];

        *v = vh->rec;
        v->impl_first = pos;
        pos += v->impl_count;
        v->regex_first = pos;
        pos += v->regex_count;
        if (v->flags & TBL_VHOST_WILDCARD) {
            tbl_slot_place(wild, wild_cap, vh->wildcard_hash,
                           vh->wildcard_key, 0, (uint32_t)i);
        } else if (!(v->flags & TBL_VHOST_CATCHALL)) {
            tbl_slot_place(exact, exact_cap, vh->host_hash, v->host, 0,
                           (uint32_t)i);
        }
    }
    for (i = 0; i < b->aliases.len; i++) {
        const tbl_balias *a = &b->aliases.items[i];

        if (tbl_alias_shadowed(b, a)) {
            continue;
        }
        tbl_slot_place(a->wildcard ? wild : exact,
                       a->wildcard ? wild_cap : exact_cap, a->key_hash,
                       a->key, 0, a->vhost);
    }
}

static int
tbl_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * Sorts an ImplementationSpecific list longest path first, equal lengths
 * in insertion order: one key per route, (~len << 32 | route), ascending.
 */
static void
tbl_sort_impl(const tbl_builder *b, uint64_t *keys, uint32_t *list,
              uint32_t n)
{
    uint32_t k;

    for (k = 0; k < n; k++) {
        uint32_t len = b->routes.items[list[k]].path.len;

        keys[k] = (uint64_t)(UINT32_MAX - len) << 32 | list[k];
    }
    qsort(keys, n, sizeof(*keys), tbl_u64_cmp);
    for (k = 0; k < n; k++) {
        list[k] = (uint32_t)keys[k];
    }
}

/*
 * ROUTE_LISTS in one pass over the routes (each goes to the next free
 * place of its vhost's list, so lists keep insertion order), then the
 * ImplementationSpecific lists sorted.  tbl_write_vhosts ran first.
 */
static int
tbl_write_lists(tbl_builder *b, uint8_t *out, const tbl_layout *l)
{
    const tbl_vhost *vhosts = tbl_out_section(out, l, TBL_OUT_VHOSTS);
    uint32_t        *lists = tbl_out_section(out, l, TBL_OUT_ROUTE_LISTS);
    uint32_t        *next;
    size_t           i, longest = 0;

    if (b->list_count == 0) {
        return 0;
    }
    b->list_pos.len = 0;
    if (tbl_vec_reserve(&b->list_pos, 2 * b->vhosts.len) != 0) {
        return -1;
    }
    next = b->list_pos.items;
    for (i = 0; i < b->vhosts.len; i++) {
        next[2 * i] = vhosts[i].impl_first;
        next[2 * i + 1] = vhosts[i].regex_first;
        if (vhosts[i].impl_count > longest) {
            longest = vhosts[i].impl_count;
        }
    }
    for (i = 0; i < b->routes.len; i++) {
        const tbl_route *r = &b->routes.items[i];

        if (r->path_type == TBL_PATH_IMPL) {
            lists[next[2 * r->vhost]++] = (uint32_t)i;
        } else if (r->path_type == TBL_PATH_REGEX) {
            lists[next[2 * r->vhost + 1]++] = (uint32_t)i;
        }
    }
    b->sort_keys.len = 0;
    if (tbl_vec_reserve(&b->sort_keys, longest) != 0) {
        return -1;
    }
    for (i = 0; i < b->vhosts.len; i++) {
        if (vhosts[i].impl_count > 1) {
            tbl_sort_impl(b, b->sort_keys.items, lists + vhosts[i].impl_first,
                          vhosts[i].impl_count);
        }
    }
    return 0;
}

static void
tbl_write_routes(const tbl_builder *b, uint8_t *out, const tbl_layout *l)
{
    tbl_slot *exact = tbl_out_slots(out, l, TBL_OUT_PATH_EXACT);
    tbl_slot *prefix = tbl_out_slots(out, l, TBL_OUT_PATH_PREFIX);
    uint64_t  exact_cap = l->sec[TBL_OUT_PATH_EXACT].count;
    uint64_t  prefix_cap = l->sec[TBL_OUT_PATH_PREFIX].count;
    size_t    i;

    tbl_out_copy(out, l, TBL_OUT_ROUTES, b->routes.items,
                 b->routes.len * sizeof(tbl_route));
    for (i = 0; i < b->routes.len; i++) {
        const tbl_route  *r = &b->routes.items[i];
        const tbl_broute *k = &b->route_keys.items[i];

        if (r->path_type == TBL_PATH_EXACT) {
            tbl_slot_place(exact, exact_cap, k->slot_hash, k->key, r->vhost,
                           (uint32_t)i);
        } else if (r->path_type == TBL_PATH_PREFIX) {
            tbl_slot_place(prefix, prefix_cap, k->slot_hash, k->key,
                           r->vhost, (uint32_t)i);
        }
    }
}

static void
tbl_write_sni(const tbl_builder *b, uint8_t *out, const tbl_layout *l)
{
    tbl_slot *exact, *wild;
    uint64_t  exact_cap = l->sec[TBL_OUT_SNI_EXACT].count;
    uint64_t  wild_cap = l->sec[TBL_OUT_SNI_WILDCARD].count;
    size_t    i;

    if (b->snis.len == 0) {
        return;
    }
    exact = exact_cap ? tbl_out_slots(out, l, TBL_OUT_SNI_EXACT) : NULL;
    wild = wild_cap ? tbl_out_slots(out, l, TBL_OUT_SNI_WILDCARD) : NULL;
    for (i = 0; i < b->snis.len; i++) {
        const tbl_bsni *s = &b->snis.items[i];

        if (s->wildcard) {
            tbl_slot_place(wild, wild_cap, s->hash, s->key, 0, s->cert);
        } else {
            tbl_slot_place(exact, exact_cap, s->hash, s->key, 0, s->cert);
        }
    }
}

static void
tbl_write_header(const tbl_builder *b, uint8_t *out, const tbl_layout *l,
                 uint64_t generation)
{
    tbl_header   hdr;
    tbl_section *dir = (tbl_section *)(out + sizeof(hdr));
    int          i;

    memset(&hdr, 0, sizeof(hdr));
    hdr.magic = TBL_MAGIC;
    hdr.format_version = TBL_FORMAT_VERSION;
    hdr.header_size = sizeof(tbl_header);
    hdr.file_size = l->total;
    hdr.generation = generation;
    hdr.built_at_ms = b->built_at_set ? b->built_at_ms : tbl_wall_ms();
    hdr.section_count = l->count;
    hdr.catchall_vhost = b->catchall;
    hdr.default_route = b->default_route;
    hdr.default_cert = b->default_cert;
    for (i = 0; i < TBL_OUT_MAX; i++) {
        if (l->present[i]) {
            memcpy(dir++, &l->sec[i], sizeof(tbl_section));
        }
    }
    hdr.checksum = tbl_hash64(out + sizeof(hdr), l->total - sizeof(hdr),
                              TBL_CHECKSUM_SEED);
    memcpy(out, &hdr, sizeof(hdr));
}

/* The record arrays that go out as they are. */
static void
tbl_write_arrays(const tbl_builder *b, uint8_t *out, const tbl_layout *l)
{
    tbl_out_copy(out, l, TBL_OUT_STRINGS, b->pool.items, b->pool.len);
    tbl_out_copy(out, l, TBL_OUT_BACKENDS, b->backends.items,
                 b->backends.len * sizeof(tbl_backend));
    tbl_out_copy(out, l, TBL_OUT_ENDPOINTS, b->endpoints.items,
                 b->endpoints.len * sizeof(tbl_endpoint));
    tbl_out_copy(out, l, TBL_OUT_BLOBS, b->blobs.items, b->blobs.len);
    tbl_out_copy(out, l, TBL_OUT_CIDRS, b->cidrs.items,
                 b->cidrs.len * sizeof(tbl_cidr));
    tbl_out_copy(out, l, TBL_OUT_CANARIES, b->canaries.items,
                 b->canaries.len * sizeof(tbl_canary));
    tbl_out_copy(out, l, TBL_OUT_POLICIES, b->policies.items,
                 b->policies.len * sizeof(tbl_policy));
    tbl_out_copy(out, l, TBL_OUT_CERTS, b->certs.items,
                 b->certs.len * sizeof(tbl_cert));
    tbl_out_copy(out, l, TBL_OUT_CONFIG, &b->config, sizeof(tbl_config));
}

/*
 * Zeroes the alignment padding after each section.  Every other byte is
 * written by the section writers, so the buffer need not be cleared as a
 * whole (a table is megabytes; calloc would write it twice).
 */
static void
tbl_zero_padding(uint8_t *out, const tbl_layout *l)
{
    int i;

    for (i = 0; i < TBL_OUT_MAX; i++) {
        size_t end, next;

        if (!l->present[i]) {
            continue;
        }
        end = (size_t)(l->sec[i].offset + l->sec[i].count * l->sec[i].entry_size);
        next = (end + TBL_ALIGN - 1) & ~(size_t)(TBL_ALIGN - 1);
        memset(out + end, 0, next - end);
    }
}

int
tbl_serialize(tbl_builder *b, uint64_t generation, uint8_t **out,
              size_t *out_len, char *err, size_t errlen)
{
    tbl_layout l;
    uint8_t   *buf;

    tbl_layout_plan(b, &l);
    buf = malloc(l.total);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory allocating a %zu-byte table",
                 l.total);
        return -1;
    }
    tbl_zero_padding(buf, &l);
    tbl_write_arrays(b, buf, &l);
    tbl_write_vhosts(b, buf, &l);
    if (tbl_write_lists(b, buf, &l) != 0) {
        free(buf);
        snprintf(err, errlen, "out of memory sorting routes");
        return -1;
    }
    tbl_write_routes(b, buf, &l);
    tbl_write_sni(b, buf, &l);
    tbl_write_header(b, buf, &l, generation);
    *out = buf;
    *out_len = l.total;
    return 0;
}
