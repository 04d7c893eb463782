/*
 * test_lines.c -- the watch stream framer: the same events come out
 * whatever chunks the stream is cut into, lines past the bound are
 * refused, garbage is a line like any other, and a reader can stop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_lines.h"

#define MAX_LINES 16

typedef struct {
    char   lines[MAX_LINES][256];
    size_t count;
    size_t stop_after; /* 0: never stop */
} collected;

static int
collect(const char *line, size_t len, void *data)
{
    collected *c = data;

    assert_true(c->count < MAX_LINES);
    assert_true(len < sizeof(c->lines[0]));
    memcpy(c->lines[c->count], line, len);
    c->lines[c->count][len] = '\0';
    c->count++;
    return c->stop_after != 0 && c->count == c->stop_after ? 7 : 0;
}

static const char stream[] =
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}\n"
    "\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}\r\n"
    "{\"type\":\"DELETED\",\"object\":{}}\n";

static const char *const expected[] = {
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}",
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}",
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}\r",
    "{\"type\":\"DELETED\",\"object\":{}}",
};

static void
assert_expected(const collected *c)
{
    assert_int_equal(c->count, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(c->lines[i], expected[i]);
}

static void
feed_ok(kube_lines *l, const char *p, size_t n, collected *c)
{
    assert_int_equal(kube_lines_feed(l, p, n, collect, c), 0);
}

/* Every way of cutting the stream into two and into three chunks. */
static void
test_every_split(void **state)
{
    size_t n = sizeof(stream) - 1;

    (void)state;
    for (size_t i = 0; i <= n; i++) {
        kube_lines l;
        collected c = {0};

        kube_lines_init(&l, 4096);
        feed_ok(&l, stream, i, &c);
        feed_ok(&l, stream + i, n - i, &c);
        assert_expected(&c);
        assert_int_equal(kube_lines_pending(&l), 0);
        kube_lines_free(&l);
    }
    for (size_t i = 0; i <= n; i++) {
        for (size_t j = i; j <= n; j++) {
            kube_lines l;
            collected c = {0};

            kube_lines_init(&l, 4096);
            feed_ok(&l, stream, i, &c);
            feed_ok(&l, stream + i, j - i, &c);
            feed_ok(&l, stream + j, n - j, &c);
            assert_expected(&c);
            kube_lines_free(&l);
        }
    }
}

static void
test_byte_by_byte(void **state)
{
    kube_lines l;
    collected c = {0};

    (void)state;
    kube_lines_init(&l, 4096);
    for (size_t i = 0; i < sizeof(stream) - 1; i++)
        feed_ok(&l, stream + i, 1, &c);
    assert_expected(&c);
    kube_lines_free(&l);
}

/* An unfinished event stays pending; a reset drops it. */
static void
test_pending_and_reset(void **state)
{
    kube_lines l;
    collected c = {0};

    (void)state;
    kube_lines_init(&l, 4096);
    feed_ok(&l, "{\"type\":\"ADD", 12, &c);
    assert_int_equal(c.count, 0);
    assert_int_equal(kube_lines_pending(&l), 12);
    kube_lines_reset(&l);
    assert_int_equal(kube_lines_pending(&l), 0);
    feed_ok(&l, "x\ny\n", 4, &c);
    assert_int_equal(c.count, 2);
    assert_string_equal(c.lines[0], "x");
    assert_string_equal(c.lines[1], "y");
    kube_lines_free(&l);
}

/* A line of exactly max bytes passes; one more is too long, whether it
 * arrives in one chunk or across several. */
static void
test_line_bound(void **state)
{
    char line[34];
    kube_lines l;
    collected c = {0};

    (void)state;
    memset(line, 'x', sizeof(line));
    kube_lines_init(&l, 16);
    line[16] = '\n';
    feed_ok(&l, line, 17, &c);
    assert_int_equal(c.count, 1);
    assert_int_equal(strlen(c.lines[0]), 16);

    memset(line, 'x', sizeof(line));
    line[17] = '\n';
    assert_int_equal(kube_lines_feed(&l, line, 18, collect, &c),
                     KUBE_LINES_TOO_LONG);
    kube_lines_reset(&l);

    feed_ok(&l, line, 10, &c);
    assert_int_equal(kube_lines_feed(&l, line + 10, 8, collect, &c),
                     KUBE_LINES_TOO_LONG);
    kube_lines_reset(&l);

    /* No newline at all: refused as soon as the bound is passed. */
    feed_ok(&l, line, 16, &c);
    assert_int_equal(kube_lines_feed(&l, line, 1, collect, &c),
                     KUBE_LINES_TOO_LONG);
    assert_int_equal(c.count, 1);
    kube_lines_free(&l);
}

/* Garbage is framed like anything else: the reader sees it as its own
 * line and the events around it are intact, whatever the split. */
static void
test_garbage_between_events(void **state)
{
    static const char text[] = "{\"type\":\"ADDED\"}\n"
                               "\x01\xff not json {{{\n"
                               "{\"type\":\"DELETED\"}\n";
    size_t n = sizeof(text) - 1;

    (void)state;
    for (size_t i = 0; i <= n; i++) {
        kube_lines l;
        collected c = {0};

        kube_lines_init(&l, 4096);
        feed_ok(&l, text, i, &c);
        feed_ok(&l, text + i, n - i, &c);
        assert_int_equal(c.count, 3);
        assert_string_equal(c.lines[0], "{\"type\":\"ADDED\"}");
        assert_string_equal(c.lines[1], "\x01\xff not json {{{");
        assert_string_equal(c.lines[2], "{\"type\":\"DELETED\"}");
        kube_lines_free(&l);
    }
}

/* A reader that stops (on garbage, say) gets its value back and no more
 * lines, wherever the chunk boundary was. */
static void
test_reader_stops(void **state)
{
    size_t n = sizeof(stream) - 1;

    (void)state;
    for (size_t i = 0; i <= n; i++) {
        kube_lines l;
        collected c = {0};
        int rc;

        c.stop_after = 2;
        kube_lines_init(&l, 4096);
        rc = kube_lines_feed(&l, stream, i, collect, &c);
        if (rc == 0)
            rc = kube_lines_feed(&l, stream + i, n - i, collect, &c);
        assert_int_equal(rc, 7);
        assert_int_equal(c.count, 2);
        assert_string_equal(c.lines[1], expected[1]);
        kube_lines_free(&l);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_pending_and_reset),
        cmocka_unit_test(test_line_bound),
        cmocka_unit_test(test_garbage_between_events),
        cmocka_unit_test(test_reader_stops),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
