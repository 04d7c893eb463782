/*
 * kube_lines.h -- splits a watch stream into its newline-terminated
 * events, whatever the chunks it arrives in.
 *
 * The API server writes one JSON object and a '\n' per event, but a read
 * may hold half an event or several.  Complete lines found inside one
 * chunk are handed over in place; only a line cut by a chunk boundary is
 * copied, into a buffer that grows up to a bound.  A line longer than the
 * bound means the stream is broken (no real object is that big), and the
 * caller should drop the connection.  Empty lines are skipped; a '\r'
 * before the '\n' is kept (JSON parsers take it as whitespace).  This
 * file knows nothing about JSON.
 */
#ifndef SHMINGRESS_KUBE_LINES_H
#define SHMINGRESS_KUBE_LINES_H

#include <stddef.h>

#define KUBE_LINE_MAX (16u << 20)

typedef struct {
    char  *buf;  /* the start of a line cut by a chunk boundary */
    size_t len;
    size_t cap;
    size_t max;  /* longest line accepted */
} kube_lines;

/* Returns 0 to go on, anything else to stop feeding (it is returned). */
typedef int kube_line_fn(const char *line, size_t len, void *data);

void kube_lines_init(kube_lines *l, size_t max);
void kube_lines_free(kube_lines *l);

/* Forgets a partial line, e.g. when a new stream starts. */
void kube_lines_reset(kube_lines *l);

/* Bytes of an unfinished line held back (0 at an event boundary). */
size_t kube_lines_pending(const kube_lines *l);

/*
 * Feeds a chunk and calls fn for every line it completes, in order.
 * Returns 0, fn's nonzero value when fn stopped it, KUBE_LINES_TOO_LONG
 * when a line passed max, or KUBE_LINES_NOMEM.
 */
#define KUBE_LINES_TOO_LONG (-1000)
#define KUBE_LINES_NOMEM    (-1001)

int kube_lines_feed(kube_lines *l, const char *chunk, size_t len,
                    kube_line_fn *fn, void *data);

#endif
