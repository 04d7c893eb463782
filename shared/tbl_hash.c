/*
 * tbl_hash.c -- tbl_hash64, the one hash of the route table format.
 *
 * It keys every hash section, derives stable route/backend ids and
 * checksums whole files, so it must be fast on 10-byte host names and on
 * multi-megabyte tables alike, and it must never change: a different
 * function is a different TBL_FORMAT_VERSION.  It is not a cryptographic
 * hash; nothing here defends against chosen collisions (lookups compare
 * the key bytes after the hash, so collisions only cost a probe).
 *
 * Shape: the input is read as little-endian 64-bit words.  Each word is
 * scrambled on its own (multiply, xor-shift: off the dependency chain, so
 * the CPU overlaps it with the previous round) and folded into the state
 * with xor, rotate, multiply.  The last 1..7 bytes form one zero-padded
 * word; the length is mixed in first and last, so zero padding cannot
 * collide.  A final avalanche spreads every input bit over the result.
 * docs/table-format.md gives the same definition as pseudo-code.
 */
#include <string.h>

#include "tbl.h"

#define TBL_H_INIT  0x2d358dccaa6c78a5ull /* so ("", seed 0) is not 0    */
#define TBL_H_LEN   0x9fb21c651e98df25ull /* length mix                 */
#define TBL_H_WORD  0xc2b2ae3d27d4eb4full /* word scramble              */
#define TBL_H_ROUND 0x165667b19e3779f9ull /* state round                */
#define TBL_H_FIN1  0xbf58476d1ce4e5b9ull /* avalanche                  */
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

/* The last 1..7 bytes, little-endian, upper bytes zero. */
static inline uint64_t
tbl_hash_load_tail(const uint8_t *p, size_t n)
{
    uint64_t w = 0;
    size_t   i;

    for (i = 0; i < n; i++) {
        w |= (uint64_t)p[i] << (8 * i);
    }
    return w;
}

static inline uint64_t
tbl_hash_rotl(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t
tbl_hash_round(uint64_t h, uint64_t w)
{
    w *= TBL_H_WORD;
    w ^= w >> 31;
    return tbl_hash_rotl(h ^ w, 29) * TBL_H_ROUND;
}

uint64_t
tbl_hash64(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t       h = seed ^ TBL_H_INIT ^ ((uint64_t)len * TBL_H_LEN);
    size_t         n = len;

    while (n >= 8) {
        h = tbl_hash_round(h, tbl_hash_load64(p));
        p += 8;
        n -= 8;
    }
    if (n > 0) {
        h = tbl_hash_round(h, tbl_hash_load_tail(p, n));
    }

    h ^= (uint64_t)len;
    h ^= h >> 32;
    h *= TBL_H_FIN1;
    h ^= h >> 29;
    h *= TBL_H_FIN2;
    h ^= h >> 32;
    return h;
}
