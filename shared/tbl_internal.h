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

#include "tbl.h"

/* Seeds for the stable ids (distinct from the slot and checksum seeds). */
#define TBL_ROUTE_ID_SEED   0x726f7574652d6964ull
#define TBL_BACKEND_ID_SEED 0x6261636b656e6469ull

static inline uint64_t
tbl_slot_hash(const void *key, size_t len, uint32_t scope)
{
    return tbl_hash64(key, len, TBL_HASH_SEED ^ scope);
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

#endif
