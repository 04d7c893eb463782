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
 * The rounds and the finish live in tbl_internal.h because the lookup
 * also uses them directly: the length enters only in the finish, so the
 * state after each 8-byte word is shared by every longer input, and one
 * pass over a request path yields the hash of each of its prefixes.
 * docs/table-format.md gives the same definition as pseudo-code.
 * tbl_content_hash, the identity of a whole table's content, is here
 * because it is one more use of the checksum.
 */
#include <string.h>

#include "tbl.h"
#include "tbl_internal.h"

uint64_t
tbl_hash64(const void *data, size_t len, uint64_t seed)
{
    return tbl_hash_bytes(data, len, seed);
}

/*
 * The checksum already covers every byte after the header, so hashing
 * the header (its per-publication fields zeroed) seeded with the checksum
 * identifies the content without reading the megabytes again.
 */
uint64_t
tbl_content_hash(const void *table)
{
    tbl_header hdr;

    memcpy(&hdr, table, sizeof(hdr));
    hdr.generation = 0;
    hdr.built_at_ms = 0;
    hdr.checksum = 0;
    return tbl_hash64(&hdr, sizeof(hdr), ((const tbl_header *)table)->checksum);
}
