/*
 * tbl_internal.h -- the few rules that the builder, the validator and the
 * lookup must apply identically: how a hash slot is keyed and probed, and
 * how a Prefix path becomes its key.  Keeping them in one place is what
 * guarantees that a table the builder writes is a table the lookup reads.
 * Not part of the public API.
 */
#ifndef SHMINGRESS_TBL_INTERNAL_H
#define SHMINGRESS_TBL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>

#include "tbl.h"

/*
 * tbl_hash64 in pieces.  Input is read as little-endian 64-bit words; each
 * word is scrambled on its own (multiply, xor-shift: off the dependency
 * chain, so the CPU overlaps it with the previous round) and folded into
 * the state with xor, rotate, multiply.  The last 1..7 bytes form one
 * zero-padded word, and the length is mixed in only by the finish, so
 * zero padding cannot collide and every prefix of an input shares the
 * state of the words it contains.
 */
#define TBL_H_INIT  0x2d358dccaa6c78a5ull /* so ("", seed 0) is not 0  */
#define TBL_H_LEN   0x9fb21c651e98df25ull /* length mix               */
#define TBL_H_WORD  0xc2b2ae3d27d4eb4full /* word scramble            */
#define TBL_H_ROUND 0x165667b19e3779f9ull /* state round              */
#define TBL_H_FIN1  0xbf58476d1ce4e5b9ull /* avalanche                */
#define TBL_H_FIN2  0x94d049bb133111ebull

static inline uint64_t
tbl_hash_load64(const uint8_t *p)
{
    uint64_t w;

    memcpy(&w, p, sizeof(w));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

static inline uint64_t
tbl_hash_start(uint64_t seed)
{
    return seed ^ TBL_H_INIT;
}

static inline uint64_t
tbl_hash_round(uint64_t h, uint64_t w)
{
    w *= TBL_H_WORD;
    w ^= w >> 31;
    h ^= w;
    return ((h << 29) | (h >> 35)) * TBL_H_ROUND;
}

static inline uint64_t
tbl_hash_load32(const uint8_t *p)
{
    uint32_t w;

    memcpy(&w, p, sizeof(w));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap32(w);
#endif
    return w;
}

/*
 * The n (1..7) bytes at p as a little-endian word, upper bytes zero,
 * without reading past p + n: two overlapping loads (4 bytes each, or
 * single bytes below 4) whose shared bytes are equal, so OR-ing them
 * gives exactly the zero-padded word.
 */
static inline uint64_t
tbl_hash_tail(const uint8_t *p, size_t n)
{
    if (n >= 4) {
        return tbl_hash_load32(p) | tbl_hash_load32(p + n - 4) << (8 * (n - 4));
    }
    return (uint64_t)p[0] | (uint64_t)p[n / 2] << (8 * (n / 2))
           | (uint64_t)p[n - 1] << (8 * (n - 1));
}

/* Mixes in the total length and avalanches: the last step of a hash. */
static inline uint64_t
tbl_hash_final(uint64_t h, size_t len)
{
    h ^= (uint64_t)len * TBL_H_LEN;
    h ^= h >> 32;
    h *= TBL_H_FIN1;
    h ^= h >> 29;
    h *= TBL_H_FIN2;
    h ^= h >> 32;
    return h;
}

/*
 * Folds in the n (< 8) bytes at p as one zero-padded word (when n > 0),
 * then the total length, then avalanches.
 */
static inline uint64_t
tbl_hash_finish(uint64_t h, const uint8_t *p, size_t n, size_t len)
{
    if (n > 0) {
        h = tbl_hash_round(h, tbl_hash_tail(p, n));
    }
    return tbl_hash_final(h, len);
}

/*
 * tbl_hash64 of several pieces as if they were one buffer, without
 * copying them together: up to 7 pending bytes wait in a register word
 * until the next piece completes it.  The builder hashes composite keys
 * ("ns\0name\0...") this way, straight from the caller's strings.
 */
typedef struct {
    uint64_t h;
    uint64_t word;  /* pending bytes, little-endian */
    size_t   nword; /* how many (0..7)              */
    size_t   len;
} tbl_hash_stream;

static inline void
tbl_hash_stream_start(tbl_hash_stream *s, uint64_t seed)
{
    s->h = tbl_hash_start(seed);
    s->word = 0;
    s->nword = 0;
    s->len = 0;
}

static inline void
tbl_hash_stream_add(tbl_hash_stream *s, const void *data, size_t n)
{
    const uint8_t *p = data;

    s->len += n;
    if (s->nword > 0 && n > 0) {
        size_t take = 8 - s->nword < n ? 8 - s->nword : n;

        s->word |= tbl_hash_tail(p, take) << (8 * s->nword);
        s->nword += take;
        p += take;
        n -= take;
        if (s->nword < 8) {
            return;
        }
        s->h = tbl_hash_round(s->h, s->word);
        s->word = 0;
        s->nword = 0;
    }
    while (n >= 8) {
        s->h = tbl_hash_round(s->h, tbl_hash_load64(p));
        p += 8;
        n -= 8;
    }
    if (n > 0) {
        s->word = tbl_hash_tail(p, n);
        s->nword = n;
    }
}

/* One piece and the NUL that ends it (a zero byte: nothing to OR in). */
static inline void
tbl_hash_stream_part(tbl_hash_stream *s, const void *data, size_t n)
{
    tbl_hash_stream_add(s, data, n);
    s->len++;
    if (++s->nword == 8) {
        s->h = tbl_hash_round(s->h, s->word);
        s->word = 0;
        s->nword = 0;
    }
}

static inline uint64_t
tbl_hash_stream_end(const tbl_hash_stream *s)
{
    uint64_t h = s->h;

    if (s->nword > 0) {
        h = tbl_hash_round(h, s->word);
    }
    return tbl_hash_final(h, s->len);
}

/* Seeds for the stable ids (distinct from the slot and checksum seeds). */
#define TBL_ROUTE_ID_SEED   0x726f7574652d6964ull
#define TBL_BACKEND_ID_SEED 0x6261636b656e6469ull

/* tbl_hash64 itself, inlined where it runs per request. */
static inline uint64_t
tbl_hash_bytes(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t       h = tbl_hash_start(seed);
    size_t         n = len;

    while (n >= 8) {
        h = tbl_hash_round(h, tbl_hash_load64(p));
        p += 8;
        n -= 8;
    }
    return tbl_hash_finish(h, p, n, len);
}

static inline uint64_t
tbl_slot_hash(const void *key, size_t len, uint32_t scope)
{
    return tbl_hash_bytes(key, len, TBL_HASH_SEED ^ scope);
}

/*
 * A Prefix rule's key: one trailing '/' dropped, "/" itself kept, so that
 * "/foo" and "/foo/" are the same rule and probing the request path's
 * segment boundaries finds both.
 */
static inline size_t
tbl_prefix_key_len(const char *path, size_t len)
{
    if (len > 1 && path[len - 1] == '/') {
        return len - 1;
    }
    return len;
}

/*
 * Linear probing from hash & (cap - 1).  Returns the slot index holding
 * (key, scope), or TBL_NONE.  Terminates because a validated (or freshly
 * built) hash section always has an empty slot.
 */
static inline uint32_t
tbl_slot_find(const tbl_slot *slots, uint32_t cap, const char *strings,
              const char *key, size_t len, uint32_t scope, uint64_t h)
{
    uint32_t mask, i;

    if (cap == 0) {
        return TBL_NONE;
    }
    mask = cap - 1;
    for (i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        const tbl_slot *s = &slots[i];

        if (s->value == TBL_NONE) {
            return TBL_NONE;
        }
        if (s->hash == h && s->scope == scope && s->key.len == len
            && memcmp(strings + s->key.off, key, len) == 0)
        {
            return i;
        }
    }
}

/*
 * CIDR lists (tbl_cidr.c).  The builder stores every list sorted by
 * tbl_cidr_order and minimal -- no entry inside an earlier one -- so the
 * entries are disjoint and the only one that can hold an address is the
 * last that starts at or below it.  The validator checks the same rules.
 */
int tbl_cidr_order(const tbl_cidr *a, const tbl_cidr *b);

/* The numbers of ingress-nginx's ConfigMap defaults, in one place: what
 * tbl_view_config gives a table without CONFIG, and where
 * tbl_config_spec_defaults starts. */
extern const tbl_config tbl_config_defaults;

/* Whether the 16-byte addr of the given family lies inside net. */
int tbl_cidr_holds(const tbl_cidr *net, const uint8_t *addr,
                   unsigned family);

/* Wall clock in milliseconds, for the operator-facing timestamps. */
static inline uint64_t
tbl_wall_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

#endif
