/*
 * tool_load.c -- reads a table file whole into a heap buffer and runs
 * the validator over it.  The tool reads instead of mapping so that a
 * file truncated or rewritten while we look at it cannot fault us; the
 * tables are small enough (a few MB at 100k rules) for that to be cheap.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tbl_publish.h"
#include "tool_load.h"

#define TOOL_MAX_TABLE_BYTES (1ull << 32)

static int read_whole_file(int fd, const char *path, uint8_t **out,
                           size_t *out_len, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: fstat: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    if ((unsigned long long)st.st_size > TOOL_MAX_TABLE_BYTES) {
        snprintf(err, errlen, "%s: %lld bytes is larger than any table",
                 path, (long long)st.st_size);
        return -1;
    }

    /* One spare byte so an empty file still gets a non-NULL buffer. */
    size_t cap = (size_t)st.st_size + 1, len = 0;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        snprintf(err, errlen, "%s: out of memory for %zu bytes", path, cap);
        return -1;
    }
    while (len < cap) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
            free(buf);
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

/* Opens and reads path; *missing says whether it did not exist at all. */
static int read_table_file(tool_table *t, const char *path, int *missing,
                           char *err, size_t errlen)
{
    *missing = 0;
    snprintf(t->path, sizeof(t->path), "%s", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *missing = errno == ENOENT;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return TOOL_LOAD_IO;
    }
    int rc = read_whole_file(fd, path, &t->data, &t->size, err, errlen);
    close(fd);
    return rc == 0 ? TOOL_LOAD_OK : TOOL_LOAD_IO;
}

static int validate_loaded(tool_table *t, char *err, size_t errlen)
{
    char why[512];
    if (tbl_view_init(&t->view, t->data, t->size, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s", why);
        return TOOL_LOAD_INVALID;
    }
    return TOOL_LOAD_OK;
}

int tool_load_file(tool_table *t, const char *path, char *err, size_t errlen)
{
    int missing;
    memset(t, 0, sizeof(*t));
    int rc = read_table_file(t, path, &missing, err, errlen);
    if (rc != TOOL_LOAD_OK)
        return rc;
    return validate_loaded(t, err, errlen);
}

int tool_load_dir(tool_table *t, const char *dir, char *err, size_t errlen)
{
    tbl_control *ctl;
    memset(t, 0, sizeof(*t));
    if (tbl_control_open(dir, 0, &ctl, err, errlen) != 0)
        return TOOL_LOAD_IO;

    /* A few tries: each miss means a newer generation was published. */
    int rc = TOOL_LOAD_IO;
    for (int attempt = 0; attempt < 3; attempt++) {
        uint64_t gen = tbl_control_generation(ctl);
        char path[4096];
        int missing;
        if (gen == 0) {
            snprintf(err, errlen, "%s: no table published yet (generation 0)",
                     dir);
            break;
        }
        if (tbl_table_path(dir, gen, path, sizeof(path)) != 0) {
            snprintf(err, errlen, "%s: table path too long", dir);
            break;
        }
        rc = read_table_file(t, path, &missing, err, errlen);
        if (rc == TOOL_LOAD_OK || !missing)
            break;
    }
    tbl_control_close(ctl);
    if (rc != TOOL_LOAD_OK)
        return rc;
    return validate_loaded(t, err, errlen);
}

void tool_table_free(tool_table *t)
{
    free(t->data);
    t->data = NULL;
    t->size = 0;
}
