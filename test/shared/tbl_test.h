/*
 * tbl_test.h -- helpers shared by the route table tests: building small
 * tables in one call, finding records by content, and editing a table's
 * bytes (add a section, re-seal the checksum) to produce the tables the
 * builder cannot or will not write, so the validator can be tested on
 * them.  Everything here goes through the real builder and validator.
 */
#ifndef SHMINGRESS_TBL_TEST_H
#define SHMINGRESS_TBL_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "tbl.h"

/* A built, validated table; free with tbl_test_table_free. */
typedef struct {
    uint8_t *buf;
    size_t   len;
    tbl_view view;
} tbl_test_table;

/* Adds a route and fails the test if the builder refuses it. */
void tbl_test_route(tbl_builder *b, uint32_t vhost, uint8_t type,
                    const char *path, uint32_t backend);

/* A backend "default/<name>:80" with one IPv4 endpoint. */
uint32_t tbl_test_backend(tbl_builder *b, const char *name);

/* Finishes b (generation 1, fixed build time), validates, frees b. */
void tbl_test_finish(tbl_builder *b, tbl_test_table *t);
void tbl_test_table_free(tbl_test_table *t);

/* Recomputes header.checksum after the bytes were edited. */
void tbl_test_reseal(uint8_t *buf, size_t len);

/* The directory entry of a section kind, or NULL. */
tbl_section *tbl_test_section(uint8_t *buf, uint32_t kind);

/*
 * Returns a new malloc'd table: buf plus one more section (appended
 * 8-aligned after the others), re-sealed.  Frees buf.
 */
uint8_t *tbl_test_add_section(uint8_t *buf, size_t *len, uint32_t kind,
                              uint32_t entry_size, const void *data,
                              uint64_t count);

/* The pool reference of string s in view v (fails the test if absent). */
tbl_str tbl_test_str(const tbl_view *v, const char *s);

/* Runs tbl_view_init on a malloc'd copy (8-aligned) of buf[0..len). */
int tbl_test_validate(const uint8_t *buf, size_t len, char *err,
                      size_t errlen);

#endif
