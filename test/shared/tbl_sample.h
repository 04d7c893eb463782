/*
 * tbl_sample.h -- sample tables and byte-level table editing, shared by
 * the unit tests and the fuzz seed generator (so it does not depend on
 * cmocka).  The sample is built with the real builder; the editing
 * functions add optional sections with hand-written records (to test the
 * validator field by field) or re-seal a table after a test damaged it on
 * purpose.
 */
#ifndef SHMINGRESS_TBL_SAMPLE_H
#define SHMINGRESS_TBL_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "tbl.h"

/*
 * A table with every core record kind: exact, wildcard and catch-all
 * vhosts; Exact, Prefix, ImplementationSpecific and regex routes; IPv4
 * and IPv6 endpoints; vhost and global default backends.  vhost 0 is
 * "shop.example.com", vhost 1 "*.example.com", vhost 2 the catch-all.
 * Returns 0, or -1 with a message in err.
 */
int tbl_sample_rich(uint8_t **buf, size_t *len, char *err, size_t errlen);

/*
 * Appends BLOBS, CIDRS, CANARIES, POLICIES, CERTS, SNI_EXACT and
 * SNI_WILDCARD to a tbl_sample_rich table, overwrites its CONFIG record,
 * and references them: route 0 has canary 0 and policy 0, vhost 0 cert 0
 * and policy 1, the header's default cert is 1.  Records are written by
 * hand, so tests can corrupt each field.  Frees buf; NULL when out of
 * memory.
 */
uint8_t *tbl_sample_add_optional(uint8_t *buf, size_t *len);

/* Recomputes header.checksum after the bytes were edited. */
void tbl_sample_reseal(uint8_t *buf, size_t len);

/* The directory entry of a section kind, or NULL. */
tbl_section *tbl_sample_section(uint8_t *buf, uint32_t kind);

/*
 * Returns a new malloc'd table: buf plus one more section appended
 * 8-aligned after the others, re-sealed.  Frees buf; NULL when out of
 * memory.
 */
uint8_t *tbl_sample_add_section(uint8_t *buf, size_t *len, uint32_t kind,
                                uint32_t entry_size, const void *data,
                                uint64_t count);

#endif
