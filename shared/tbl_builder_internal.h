/*
 * tbl_builder_internal.h -- the builder's state and the helpers its files
 * share: tbl_builder.c (lifecycle, strings, vhosts, routes, backends),
 * tbl_builder_tls.c (certificates, SNI), tbl_builder_policy.c (policies,
 * canaries, CIDR lists, config) and tbl_serialize.c (finish).
 *
 * Speed comes from three choices.  Memory is a handful of growable
 * arrays that tbl_builder_reset empties without freeing, so a builder
 * kept by the controller stops allocating after its first build.  The
 * indexes ("already added?") store only a hash tag and a record index;
 * the key itself is the record, compared in place, so nothing is copied
 * twice.  And every hash a slot of the output needs is computed once,
 * when the record is added, so finish only places and copies.
 * Not part of the public API.
 */
#ifndef SHMINGRESS_TBL_BUILDER_INTERNAL_H
#define SHMINGRESS_TBL_BUILDER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tbl.h"
#include "tbl_internal.h"

/* ------------------------------------------------------- growable arrays */

/* Makes room for `more` items of `size` bytes; 0, or -1 (no memory). */
int tbl_grow(void **items, size_t *cap, size_t len, size_t more, size_t size);

#define TBL_VEC(type)                                                       \
    struct {                                                                \
        type  *items;                                                       \
        size_t len;                                                         \
        size_t cap;                                                         \
    }

#define tbl_vec_reserve(v, more)                                            \
    tbl_grow((void **)&(v)->items, &(v)->cap, (v)->len, (more),             \
             sizeof(*(v)->items))

typedef TBL_VEC(uint8_t) tbl_bytes;
typedef TBL_VEC(uint32_t) tbl_u32s;

/* ----------------------------------------------------------- index map */

/*
 * Open addressing from a 64-bit hash to a record index.  A slot keeps
 * the hash's upper half as a tag, which also picks the home slot: most
 * mismatches cost no key comparison, and growing re-places slots by
 * their tags without hashing any key again.  The caller compares keys
 * against its own records.
 */
typedef struct {
    uint32_t tag;
    uint32_t value; /* TBL_NONE: empty */
} tbl_islot;

typedef struct {
    tbl_islot *slots;
    size_t     cap; /* power of two, or 0 */
    size_t     count;
} tbl_imap;

#define tbl_imap_tag(h) ((uint32_t)((h) >> 32))

/* Whether record `value` has the key the caller is looking for. */
typedef int (*tbl_key_eq_fn)(const tbl_builder *b, uint32_t value,
                             const void *key);

/*
 * The record whose key hashes to h and satisfies eq, or TBL_NONE.
 * Inlined with a constant eq, so the comparison is a direct call.
 */
static inline uint32_t
tbl_imap_find(const tbl_imap *m, uint64_t h, tbl_key_eq_fn eq,
              const tbl_builder *b, const void *key)
{
    uint32_t tag = tbl_imap_tag(h);
    size_t   mask, i;

    if (m->cap == 0) {
        return TBL_NONE;
    }
    mask = m->cap - 1;
    for (i = tag & mask; m->slots[i].value != TBL_NONE;
         i = (i + 1) & mask)
    {
        if (m->slots[i].tag == tag && eq(b, m->slots[i].value, key)) {
            return m->slots[i].value;
        }
    }
    return TBL_NONE;
}

/* Adds (h, value); the caller has checked that the key is absent. */
int tbl_imap_put(tbl_imap *m, uint64_t h, uint32_t value);

/* ------------------------------------------------------------- records */

/*
 * A vhost as it will be written; rec.impl_count and rec.regex_count
 * count its routes as they are added, and finish lays the lists out.
 */
typedef struct {
    tbl_vhost rec;
    uint64_t  host_hash;    /* slot hash of host (exact vhosts)     */
    tbl_str   wildcard_key; /* host without "*." (wildcards only)   */
    uint64_t  wildcard_hash;
} tbl_bvhost;

/* server-alias: another name for a vhost, written as one more host slot. */
typedef struct {
    tbl_str  host;      /* as given: "a.b" or "*.b"                   */
    uint64_t host_hash; /* tbl_slot_hash(host): the vhost_index key   */
    tbl_str  key;       /* the slot key: host, or host without "*."   */
    uint64_t key_hash;
    uint32_t vhost;
    uint32_t wildcard;  /* 1: HOST_WILDCARD, 0: HOST_EXACT            */
} tbl_balias;

/* What finish needs of a route beyond its record: its hash slot key. */
typedef struct {
    tbl_str  key;       /* Exact: the path; Prefix: path less one '/' */
    uint64_t slot_hash; /* tbl_slot_hash(key, vhost)                  */
} tbl_broute;

typedef struct {
    tbl_str  key;      /* the name, without "*." for wildcards       */
    uint64_t hash;     /* its slot hash                               */
    uint32_t cert;
    uint32_t wildcard; /* 1: SNI_WILDCARD, 0: SNI_EXACT               */
} tbl_bsni;

/* A stored CIDR list: a range of the CIDRS section. */
typedef struct {
    uint32_t first;
    uint32_t count;
} tbl_brange;

#define TBL_RECENT_STRINGS 256 /* a power of two */

struct tbl_builder {
    tbl_bytes pool;       /* the STRINGS section being built          */
    tbl_imap  pool_index; /* string -> offset (slot hash, scope 0)    */
    /*
     * The strings interned last, by hash: namespaces, Ingress names and
     * common paths repeat from call to call, and this small table stays
     * in the cache where pool_index, as large as the pool, does not.
     */
    struct {
        uint64_t hash;
        uint32_t off; /* TBL_NONE: empty */
    } recent[TBL_RECENT_STRINGS];
    tbl_bytes blobs;      /* the BLOBS section: secrets, DER          */
    tbl_imap  blob_index; /* auth secret bytes -> offset              */

    TBL_VEC(tbl_bvhost) vhosts;
    tbl_imap vhost_index;
    TBL_VEC(tbl_balias) aliases;
    tbl_imap alias_index; /* host -> alias                          */
    TBL_VEC(tbl_route) routes;
    TBL_VEC(tbl_broute) route_keys;
    tbl_imap route_index; /* (type, vhost, match key) -> route        */
    TBL_VEC(tbl_backend) backends;
    tbl_imap backend_index;
    TBL_VEC(tbl_endpoint) endpoints;

    TBL_VEC(tbl_cert) certs;
    tbl_imap cert_index; /* content hash -> cert                     */
    TBL_VEC(tbl_bsni) snis;
    tbl_imap sni_index;  /* name -> sni entry                        */
    size_t   sni_exact_count;
    TBL_VEC(tbl_policy) policies;
    tbl_imap policy_index;
    TBL_VEC(tbl_canary) canaries;
    tbl_imap canary_index;
    TBL_VEC(tbl_cidr) cidrs;
    TBL_VEC(tbl_brange) cidr_lists;
    tbl_imap cidr_index; /* normalized list -> cidr_lists entry      */
    TBL_VEC(tbl_cidr) cidr_scratch;
    tbl_config config;
    int        config_set;

    tbl_u32s  list_pos;        /* finish: next ROUTE_LISTS slot       */
    TBL_VEC(uint64_t) sort_keys; /* finish: impl lists being sorted   */
    size_t    host_exact_count; /* vhosts in HOST_EXACT               */
    size_t    host_wild_count;
    size_t    path_exact_count; /* routes in PATH_EXACT               */
    size_t    path_prefix_count;
    size_t    list_count;      /* ROUTE_LISTS entries                */
    int       out_of_memory;   /* set by any failed allocation       */
    uint32_t  catchall;
    uint32_t  default_route;
    uint32_t  default_cert;
    uint64_t  built_at_ms;
    int       built_at_set;
};

/*
 * Interns len bytes at s (no NUL inside) into the pool, h being
 * tbl_slot_hash(s, len, 0): the hash a host slot of the same key needs.
 */
int tbl_intern_hashed(tbl_builder *b, const char *s, size_t len, uint64_t h,
                      tbl_str *out);

static inline int
tbl_intern(tbl_builder *b, const char *s, size_t len, tbl_str *out)
{
    return tbl_intern_hashed(b, s, len, tbl_slot_hash(s, len, 0), out);
}

/* The same for a C string; NULL is "". */
static inline int
tbl_intern_cstr(tbl_builder *b, const char *s, tbl_str *out)
{
    return s == NULL ? (*out = (tbl_str){0, 0}, 0)
                     : tbl_intern(b, s, strlen(s), out);
}

static inline const char *
tbl_builder_str(const tbl_builder *b, tbl_str s)
{
    return (const char *)b->pool.items + s.off;
}

/* Appends bytes to BLOBS (no deduplication). */
int tbl_blob_append(tbl_builder *b, const void *p, size_t len, tbl_str *out);

/* Host names as the table holds them: lower-case DNS labels. */
int tbl_host_is_valid(const char *host, size_t len);

/* Whether a vhost created after the alias took its name. */
int tbl_alias_shadowed(const tbl_builder *b, const tbl_balias *a);

/* Writes the table; see tbl_builder_finish. */
int tbl_serialize(tbl_builder *b, uint64_t generation, uint8_t **out,
                  size_t *out_len, char *err, size_t errlen);

/* Interns the default CONFIG when none was set (tbl_builder_policy.c). */
int tbl_config_ensure(tbl_builder *b);

/* Seeds of the content hashes the builder writes. */
#define TBL_CERT_HASH_SEED   0x636572742d686173ull
#define TBL_POLICY_ID_SEED   0x706f6c6963792d69ull
#define TBL_CANARY_ID_SEED   0x63616e6172792d69ull

#endif
