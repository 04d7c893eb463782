/*
 * tbl_test.h -- cmocka helpers shared by the route table tests: building
 * small tables in one call and finding records by content.  Everything
 * here goes through the real builder and validator; byte-level editing
 * of tables lives in tbl_sample.h.
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

/* The pool reference of string s in view v (fails the test if absent). */
tbl_str tbl_test_str(const tbl_view *v, const char *s);

/* Runs tbl_view_init on a malloc'd copy (8-aligned) of buf[0..len). */
int tbl_test_validate(const uint8_t *buf, size_t len, char *err,
                      size_t errlen);

#endif
