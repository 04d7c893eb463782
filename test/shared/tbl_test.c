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

void
tbl_test_reseal(uint8_t *buf, size_t len)
{
    tbl_header *h = (tbl_header *)buf;

    h->checksum = tbl_hash64(buf + sizeof(*h), len - sizeof(*h),
                             TBL_CHECKSUM_SEED);
}

tbl_section *
tbl_test_section(uint8_t *buf, uint32_t kind)
{
    tbl_header  *h = (tbl_header *)buf;
    tbl_section *dir = (tbl_section *)(buf + sizeof(*h));
    uint32_t     i;

    for (i = 0; i < h->section_count; i++) {
        if (dir[i].kind == kind) {
            return &dir[i];
        }
    }
    return NULL;
}

static size_t
tbl_test_align(size_t n)
{
    return (n + TBL_ALIGN - 1) & ~(size_t)(TBL_ALIGN - 1);
}

uint8_t *
tbl_test_add_section(uint8_t *buf, size_t *len, uint32_t kind,
                     uint32_t entry_size, const void *data, uint64_t count)
{
    tbl_header  *oh = (tbl_header *)buf, *nh;
    tbl_section *od = (tbl_section *)(buf + sizeof(*oh)), *nd;
    uint32_t     n = oh->section_count, i;
    size_t       pos = sizeof(tbl_header) + (n + 1) * sizeof(tbl_section);
    size_t       total = pos;
    uint8_t     *out;

    for (i = 0; i < n; i++) {
        total = tbl_test_align(total + od[i].count * od[i].entry_size);
    }
    total = tbl_test_align(total + count * entry_size);
    out = calloc(1, total);
    assert_non_null(out);
    nh = (tbl_header *)out;
    nd = (tbl_section *)(out + sizeof(*nh));
    *nh = *oh;
    nh->section_count = n + 1;
    nh->file_size = total;
    for (i = 0; i < n; i++) {
        nd[i] = od[i];
        nd[i].offset = pos;
        memcpy(out + pos, buf + od[i].offset, od[i].count * od[i].entry_size);
        pos = tbl_test_align(pos + od[i].count * od[i].entry_size);
    }
    nd[n].kind = kind;
    nd[n].entry_size = entry_size;
    nd[n].offset = pos;
    nd[n].count = count;
    if (count > 0) {
        memcpy(out + pos, data, count * entry_size);
    }
    free(buf);
    *len = total;
    tbl_test_reseal(out, total);
    return out;
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
