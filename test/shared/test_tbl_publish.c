/*
 * test_tbl_publish.c -- the table directory protocol in a scratch
 * directory: the control file (creation, permissions, read-only opens,
 * refusal of foreign files, concurrent creation), increasing generations,
 * keep-N pruning, cleanup of interrupted publications, and continuity
 * across a controller restart.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tbl.h"
#include "tbl_publish.h"

static int
setup_dir(void **state)
{
    char *dir = strdup("/tmp/tbl-publish-XXXXXX");

    if (dir == NULL || mkdtemp(dir) == NULL) {
        return -1;
    }
    *state = dir;
    return 0;
}

static int
teardown_dir(void **state)
{
    char          *dir = *state, path[512];
    DIR           *d = opendir(dir);
    struct dirent *e;

    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    rmdir(dir);
    free(dir);
    return 0;
}

/* A small valid table for generation gen. */
static void
make_table(uint64_t gen, uint8_t **buf, size_t *len)
{
    tbl_builder   *b = tbl_builder_new();
    tbl_route_spec s = {"/", TBL_PATH_PREFIX, TBL_NONE, TBL_NONE, TBL_NONE,
                        "ns", "web"};
    char           err[256];

    assert_int_equal(tbl_builder_add_route(b, tbl_builder_vhost(b, "a.io"),
                                           &s, err, sizeof(err)),
                     0);
    assert_int_equal(tbl_builder_finish(b, gen, buf, len, err, sizeof(err)),
                     0);
    tbl_builder_free(b);
}

static void
publish(const char *dir, tbl_control *ctl, unsigned keep)
{
    uint64_t gen = tbl_next_generation(dir, ctl);
    uint8_t *buf;
    size_t   len;
    char     err[256];

    make_table(gen, &buf, &len);
    if (tbl_publish(dir, ctl, buf, len, gen, keep, err, sizeof(err)) != 0) {
        fail_msg("publish %llu: %s", (unsigned long long)gen, err);
    }
    free(buf);
}

static int
exists(const char *dir, const char *name)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void
touch(const char *dir, const char *name)
{
    char path[512];
    int  fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
}

static void
test_control_created(void **state)
{
    const char  *dir = *state;
    tbl_control *ctl;
    struct stat  st;
    char         path[512], err[256];
    mode_t       old = umask(077);

    assert_int_equal(tbl_control_open(dir, 1, &ctl, err, sizeof(err)), 0);
    umask(old);
    snprintf(path, sizeof(path), "%s/control", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, TBL_CONTROL_SIZE);
    assert_int_equal(st.st_mode & 0777, 0640);
    assert_int_equal(ctl->magic, TBL_CONTROL_MAGIC);
    assert_int_equal(ctl->version, TBL_CONTROL_VERSION);
    assert_int_equal(tbl_control_generation(ctl), 0);
    assert_int_equal(ctl->controller_pid, (uint64_t)getpid());
    assert_true(ctl->heartbeat_ms > 0);
    assert_int_equal(tbl_next_generation(dir, ctl), 1);
    tbl_control_close(ctl);
    /* No temporary left behind. */
    assert_false(exists(dir, "control.tmp"));
}

static void
test_publish_and_prune(void **state)
{
    const char  *dir = *state;
    tbl_control *ctl, *ro;
    char         err[256], path[512];
    struct stat  st;
    int          i;

    assert_int_equal(tbl_control_open(dir, 1, &ctl, err, sizeof(err)), 0);
    assert_int_equal(tbl_control_open(dir, 0, &ro, err, sizeof(err)), 0);
    for (i = 1; i <= 6; i++) {
        publish(dir, ctl, 3);
        /* The read-only mapping sees every store. */
        assert_int_equal(tbl_control_generation(ro), (uint64_t)i);
    }
    assert_int_equal(ctl->publications, 6);
    assert_true(ctl->published_at_ms > 0);
    assert_false(exists(dir, "table.1"));
    assert_false(exists(dir, "table.3"));
    assert_true(exists(dir, "table.4"));
    assert_true(exists(dir, "table.5"));
    assert_true(exists(dir, "table.6"));
    assert_false(exists(dir, "table.6.tmp"));

    assert_int_equal(tbl_table_path(dir, 6, path, sizeof(path)), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    assert_int_equal(tbl_table_path(dir, 6, path, 10), -1);

    /* keep 0 still keeps the table just published. */
    publish(dir, ctl, 0);
    assert_true(exists(dir, "table.7"));
    assert_false(exists(dir, "table.6"));
    tbl_control_close(ro);
    tbl_control_close(ctl);
}

static void
test_published_bytes(void **state)
{
    const char  *dir = *state;
    tbl_control *ctl;
    uint8_t     *buf, *back;
    size_t       len;
    char         err[256], path[512];
    FILE        *f;
    tbl_view     v;

    assert_int_equal(tbl_control_open(dir, 1, &ctl, err, sizeof(err)), 0);
    make_table(1, &buf, &len);
    assert_int_equal(tbl_publish(dir, ctl, buf, len, 1, 4, err, sizeof(err)),
                     0);
    tbl_table_path(dir, 1, path, sizeof(path));
    f = fopen(path, "rb");
    assert_non_null(f);
    back = malloc(len + 1);
    assert_int_equal(fread(back, 1, len + 1, f), len);
    fclose(f);
    assert_memory_equal(back, buf, len);
    assert_int_equal(tbl_view_init(&v, back, len, err, sizeof(err)), 0);
    assert_int_equal(v.hdr->generation, 1);
    free(back);
    free(buf);
    tbl_control_close(ctl);
}

static void
test_generations_never_decrease(void **state)
{
    const char  *dir = *state;
    tbl_control *ctl;
    uint8_t     *buf;
    size_t       len;
    char         err[256];

    assert_int_equal(tbl_control_open(dir, 1, &ctl, err, sizeof(err)), 0);
    publish(dir, ctl, 4);
    publish(dir, ctl, 4);

    make_table(2, &buf, &len);
    assert_int_equal(tbl_publish(dir, ctl, buf, len, 2, 4, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "not newer than the published 2"));
    free(buf);
    make_table(1, &buf, &len);
    assert_int_equal(tbl_publish(dir, ctl, buf, len, 1, 4, err, sizeof(err)),
                     -1);
    free(buf);

    /* The buffer must carry the generation it is published as. */
    make_table(3, &buf, &len);
    assert_int_equal(tbl_publish(dir, ctl, buf, len, 4, 4, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "does not carry generation 4"));
    assert_int_equal(tbl_publish(dir, ctl, buf, 10, 3, 4, err, sizeof(err)),
                     -1);
    free(buf);
    assert_int_equal(tbl_control_generation(ctl), 2);
    assert_false(exists(dir, "table.3"));
    assert_false(exists(dir, "table.4"));
    tbl_control_close(ctl);
}

/* A restarted controller continues from the control file, or from the
 * newest table when the control file is gone. */
static void
test_restart_continuity(void **state)
{
    const char  *dir = *state;
    tbl_control *ctl;
    char         err[256], path[512];

    assert_int_equal(tbl_control_open(dir, 1, &ctl, err, sizeof(err)), 0);
    publish(dir, ctl, 2);
    publish(dir, ctl, 2);
    publish(dir, ctl, 2);
    tbl_control_close(ctl);

    assert_int_equal(tbl_control_open(dir, 1, &ctl, err, sizeof(err)), 0);
    assert_int_equal(tbl_control_generation(ctl), 3);
    assert_int_equal(tbl_next_generation(dir, ctl), 4);
    tbl_control_close(ctl);

    snprintf(path, sizeof(path), "%s/control", dir);
    unlink(path);
    assert_int_equal(tbl_control_open(dir, 1, &ctl, err, sizeof(err)), 0);
    assert_int_equal(tbl_control_generation(ctl), 0);
    assert_int_equal(tbl_next_generation(dir, ctl), 4);
    publish(dir, ctl, 2);
    assert_int_equal(tbl_control_generation(ctl), 4);
    assert_true(exists(dir, "table.3"));
    assert_true(exists(dir, "table.4"));
    assert_false(exists(dir, "table.2"));
    tbl_control_close(ctl);

    /* Without a control mapping at all, only the directory counts. */
    assert_int_equal(tbl_next_generation(dir, NULL), 5);
}

/* Strict names: only table.<N> and table.<N>.tmp are ours. */
static void
test_stray_files(void **state)
{
    const char  *dir = *state;
    tbl_control *ctl;
    char         err[256];

    touch(dir, "table.2.tmp");
    touch(dir, "table.9.tmp");
    touch(dir, "table.07");
    touch(dir, "table.x");
    touch(dir, "table.");
    touch(dir, "table.5.bak");
    touch(dir, "table.99999999999999999999999");
    touch(dir, "notes");
    assert_int_equal(tbl_control_open(dir, 1, &ctl, err, sizeof(err)), 0);
    /* .tmp files and malformed names do not raise the generation. */
    assert_int_equal(tbl_next_generation(dir, ctl), 1);
    publish(dir, ctl, 1);
    publish(dir, ctl, 1);
    publish(dir, ctl, 1);
    assert_false(exists(dir, "table.2.tmp"));
    assert_true(exists(dir, "table.9.tmp"));
    assert_true(exists(dir, "table.07"));
    assert_true(exists(dir, "table.x"));
    assert_true(exists(dir, "table."));
    assert_true(exists(dir, "table.5.bak"));
    assert_true(exists(dir, "table.99999999999999999999999"));
    assert_true(exists(dir, "notes"));
    assert_true(exists(dir, "table.3"));
    assert_false(exists(dir, "table.2"));
    tbl_control_close(ctl);
}

static void
write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void
test_control_refused(void **state)
{
    const char  *dir = *state;
    tbl_control *ctl;
    char         err[256], junk[TBL_CONTROL_SIZE];

    /* Read-only open never creates. */
    assert_int_equal(tbl_control_open(dir, 0, &ctl, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "control"));
    assert_false(exists(dir, "control"));

    memset(junk, 'x', sizeof(junk));
    write_file(dir, "control", junk, sizeof(junk));
    assert_int_equal(tbl_control_open(dir, 0, &ctl, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a shmingress control file"));
    assert_int_equal(tbl_control_open(dir, 1, &ctl, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a shmingress control file"));

    write_file(dir, "control", junk, 100);
    assert_int_equal(tbl_control_open(dir, 0, &ctl, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "size 100"));
    assert_non_null(strstr(err, "4096"));

    assert_int_equal(tbl_control_open("/nonexistent/dir", 1, &ctl, err,
                                      sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "/nonexistent/dir"));
}

/* Several controllers racing to create the file: all succeed, one file. */
static void
test_concurrent_create(void **state)
{
    const char  *dir = *state;
    tbl_control *ctl;
    pid_t        kids[6];
    char         err[256];
    int          i, status;

    for (i = 0; i < 6; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            tbl_control *c;

            _exit(tbl_control_open(dir, 1, &c, err, sizeof(err)) == 0
                          && c->magic == TBL_CONTROL_MAGIC
                      ? 0
                      : 1);
        }
    }
    for (i = 0; i < 6; i++) {
        assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(tbl_control_open(dir, 0, &ctl, err, sizeof(err)), 0);
    tbl_control_close(ctl);
}

static void
test_heartbeat(void **state)
{
    const char  *dir = *state;
    tbl_control *ctl;
    char         err[256];

    assert_int_equal(tbl_control_open(dir, 1, &ctl, err, sizeof(err)), 0);
    ctl->heartbeat_ms = 0;
    tbl_control_heartbeat(ctl);
    assert_true(ctl->heartbeat_ms > 1700000000000ull);
    tbl_control_close(ctl);
}

#define DIR_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup_dir, teardown_dir)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        DIR_TEST(test_control_created),
        DIR_TEST(test_publish_and_prune),
        DIR_TEST(test_published_bytes),
        DIR_TEST(test_generations_never_decrease),
        DIR_TEST(test_restart_continuity),
        DIR_TEST(test_stray_files),
        DIR_TEST(test_control_refused),
        DIR_TEST(test_concurrent_create),
        DIR_TEST(test_heartbeat),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
