/*
 * tbl_test.c -- see tbl_test.h.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tbl_test.h"

void
tbl_test_route(tbl_builder *b, uint32_t vhost, uint8_t type, const char *path,
               uint32_t backend)
{
    tbl_route_spec s = {path, type, backend, TBL_NONE, TBL_NONE, "default",
                        "web"};
    char           err[256];

    if (tbl_builder_add_route(b, vhost, &s, err, sizeof(err)) != 0) {
        fail_msg("add_route %s: %s", path, err);
    }
}

uint32_t
tbl_test_backend(tbl_builder *b, const char *name)
{
    tbl_endpoint     ep = {{10, 0, 0, 1}, 8080, 4, TBL_EP_READY, 0};
    tbl_backend_spec s = {"default", name, "http", 80, 0, &ep, 1};
    uint32_t         idx = tbl_builder_add_backend(b, &s);

    assert_int_not_equal(idx, TBL_NONE);
    return idx;
}

void
tbl_test_finish(tbl_builder *b, tbl_test_table *t)
{
    char err[256];

    tbl_builder_set_built_at(b, 1700000000000ull);
    if (tbl_builder_finish(b, 1, &t->buf, &t->len, err, sizeof(err)) != 0) {
        fail_msg("finish: %s", err);
    }
    tbl_builder_free(b);
    if (tbl_view_init(&t->view, t->buf, t->len, err, sizeof(err)) != 0) {
        fail_msg("view_init: %s", err);
    }
}

void
tbl_test_table_free(tbl_test_table *t)
{
    free(t->buf);
    t->buf = NULL;
}

tbl_str
tbl_test_str(const tbl_view *v, const char *s)
{
    size_t  n = strlen(s), off;
    tbl_str r = {0, 0};

    for (off = 0; off + n < v->strings_len; off++) {
        if ((off == 0 || v->strings[off - 1] == '\0')
            && memcmp(v->strings + off, s, n + 1) == 0)
        {
            r.off = (uint32_t)off;
            r.len = (uint32_t)n;
            return r;
        }
    }
    fail_msg("string \"%s\" not in the pool", s);
    return r;
}

int
tbl_test_validate(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    uint8_t *copy = malloc(len ? len : 1);
    tbl_view v;
    int      rc;

    assert_non_null(copy);
    memcpy(copy, buf, len);
    rc = tbl_view_init(&v, copy, len, err, errlen);
    free(copy);
    return rc;
}
