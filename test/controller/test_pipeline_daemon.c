/*
 * test_pipeline_daemon.c -- the real shmingress-controller binary: its
 * command line and exit codes, --once, and a running daemon that picks
 * up a changed manifest and stops cleanly on SIGTERM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "pipeline_fixture.h"

#ifndef CONTROLLER_BIN
#error "CONTROLLER_BIN must name the shmingress-controller binary"
#endif

typedef struct {
    char *root;
    char  manifests[256];
    char  tables[256];
    char  out[256]; /* the child's stdout */
    char  err[256]; /* the child's stderr */
    char  text[65536];
} world;

static int
setup(void **state)
{
    world *w = calloc(1, sizeof(*w));

    w->root = pf_tmpdir("daemon");
    snprintf(w->manifests, sizeof(w->manifests), "%s/manifests", w->root);
    snprintf(w->tables, sizeof(w->tables), "%s/table", w->root);
    snprintf(w->out, sizeof(w->out), "%s/stdout", w->root);
    snprintf(w->err, sizeof(w->err), "%s/stderr", w->root);
    assert_int_equal(mkdir(w->manifests, 0700), 0);
    *state = w;
    return 0;
}

static int
teardown(void **state)
{
    world *w = *state;

    pf_rmtree(w->root);
    free(w);
    return 0;
}

/* Starts the controller with argv (NULL-terminated, without argv[0]). */
static pid_t
spawn(world *w, const char *const *args)
{
    const char *argv[32];
    size_t n = 0;
    pid_t pid;

    argv[n++] = CONTROLLER_BIN;
    while (*args != NULL && n < 31)
        argv[n++] = *args++;
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int out = open(w->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(w->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(127);
        execv(CONTROLLER_BIN, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* The exit code, or -1 when the process did not exit within timeout. */
static int
wait_exit(pid_t pid, uint64_t timeout_ms)
{
    uint64_t deadline = ctl_now_ms() + timeout_ms;
    int status;

    while (ctl_now_ms() < deadline) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(5000);
    }
    return -1;
}

static const char *
slurp(world *w, const char *path)
{
    FILE *f = fopen(path, "r");
    size_t n;

    assert_non_null(f);
    n = fread(w->text, 1, sizeof(w->text) - 1, f);
    w->text[n] = '\0';
    fclose(f);
    return w->text;
}

/* Runs the controller to completion; returns its exit code. */
static int
run(world *w, const char *const *args)
{
    return wait_exit(spawn(w, args), 10000);
}

static void
expect_usage_error(world *w, const char *const *args, const char *message)
{
    const char *err;

    assert_int_equal(run(w, args), 2);
    err = slurp(w, w->err);
    if (strstr(err, message) == NULL)
        fail_msg("stderr lacks \"%s\":\n%s", message, err);
}

static void
test_command_line_errors_exit_2(void **state)
{
    world *w = *state;
    const char *none[] = {NULL};

    expect_usage_error(w, none, "--table-dir DIR is required");
    expect_usage_error(w, (const char *[]){"--manifests", w->manifests,
                                           "--watch-namespace", "shop", NULL},
                       "--watch-namespace is for the Kubernetes API, which "
                       "--manifests replaces");
    expect_usage_error(w, (const char *[]){"--bogus", NULL},
                       "unknown flag \"--bogus\"\nTry 'shmingress-controller --help'.");
    expect_usage_error(w, (const char *[]){"--manifests", w->manifests, NULL},
                       "--table-dir DIR is required");
    expect_usage_error(w, (const char *[]){"--manifests", NULL},
                       "--manifests needs a value");
    expect_usage_error(w, (const char *[]){"--debounce-ms", "soon", NULL},
                       "--debounce-ms: \"soon\" is not an integer in [0, 60000]");
    expect_usage_error(w, (const char *[]){"--keep-tables=0", NULL},
                       "--keep-tables: \"0\" is not an integer in [1, 1000]");
    expect_usage_error(w, (const char *[]){"--watch-ingress-without-class=maybe", NULL},
                       "is not true or false");
    expect_usage_error(w, (const char *[]){"--log-level", "loud", NULL},
                       "is not debug, info, warn or error");
    expect_usage_error(w, (const char *[]){"--log-format=xml", NULL},
                       "is not text or json");
    expect_usage_error(w, (const char *[]){"--default-backend-service", "web", NULL},
                       "\"web\" is not NAMESPACE/NAME");
    expect_usage_error(w, (const char *[]){"stray", NULL},
                       "unexpected argument \"stray\"");
}

static void
test_help_and_version(void **state)
{
    world *w = *state;

    assert_int_equal(run(w, (const char *[]){"--help", NULL}), 0);
    assert_non_null(strstr(slurp(w, w->out), "--manifests DIR"));
    assert_non_null(strstr(w->text, "--watch-ingress-without-class"));
    assert_int_equal(run(w, (const char *[]){"--version", NULL}), 0);
    assert_string_equal(slurp(w, w->out), "shmingress-controller " SHMINGRESS_VERSION "\n");
}

static void
test_once_publishes_one_table(void **state)
{
    world *w = *state;
    char flag_m[300], flag_t[300], buf[300];

    pf_write_shop(w->manifests, "web");
    snprintf(flag_m, sizeof(flag_m), "--manifests=%s", w->manifests);
    snprintf(flag_t, sizeof(flag_t), "--table-dir=%s", w->tables);
    assert_int_equal(run(w, (const char *[]){flag_m, flag_t, "--once",
                                             "--log-format", "json", NULL}),
                     0);
    assert_int_equal(pf_generation(w->tables), 1);
    assert_string_equal(pf_route_published(w->tables, "shop.example.com", "/",
                                           buf, sizeof(buf)),
                        "shop/web");
    slurp(w, w->err);
    assert_non_null(strstr(w->text, "{\"ts\":\""));
    assert_non_null(strstr(w->text, "\"msg\":\"table published\""));

    /* A second run continues the generations. */
    assert_int_equal(run(w, (const char *[]){"--manifests", w->manifests,
                                             "--table-dir", w->tables, "--once",
                                             "--watch-ingress-without-class",
                                             NULL}),
                     0);
    assert_int_equal(pf_generation(w->tables), 2);
}

static void
test_start_failures_exit_1(void **state)
{
    world *w = *state;
    char missing[300], file[300];

    snprintf(missing, sizeof(missing), "%s/nope", w->root);
    assert_int_equal(run(w, (const char *[]){"--manifests", missing,
                                             "--table-dir", w->tables, "--once",
                                             NULL}),
                     1);
    assert_non_null(strstr(slurp(w, w->err),
                           "level=error msg=\"cannot start\" error=\"cannot read "
                           "manifests dir"));
    assert_int_equal(pf_generation(w->tables), 0);

    pf_write(w->root, "plain", "x");
    snprintf(file, sizeof(file), "%s/plain/table", w->root);
    assert_int_equal(run(w, (const char *[]){"--manifests", w->manifests,
                                             "--table-dir", file, NULL}),
                     1);
    assert_non_null(strstr(slurp(w, w->err), "msg=\"cannot start\""));
}

static uint64_t
wait_generation_above(world *w, uint64_t above, uint64_t timeout_ms)
{
    uint64_t deadline = ctl_now_ms() + timeout_ms;

    while (ctl_now_ms() < deadline) {
        uint64_t gen = pf_generation(w->tables);

        if (gen > above)
            return gen;
        usleep(5000);
    }
    fail_msg("generation stayed at %llu; log:\n%s",
             (unsigned long long)pf_generation(w->tables), slurp(w, w->err));
    return 0;
}

static void
test_daemon_follows_changes_and_stops_on_sigterm(void **state)
{
    world *w = *state;
    char buf[300];
    uint64_t gen;
    pid_t pid;

    pf_write_shop(w->manifests, "web");
    pid = spawn(w, (const char *[]){"--manifests", w->manifests, "--table-dir",
                                    w->tables, "--debounce-ms", "5", NULL});
    gen = wait_generation_above(w, 0, 2000);
    assert_string_equal(pf_route_published(w->tables, "shop.example.com", "/",
                                           buf, sizeof(buf)),
                        "shop/web");

    pf_write(w->manifests, "20-shop.yaml",
             pf_ingress_yaml("shop", "shop", "shop.example.com", "/", "api"));
    gen = wait_generation_above(w, gen, 2000);
    assert_string_equal(pf_route_published(w->tables, "shop.example.com", "/",
                                           buf, sizeof(buf)),
                        "shop/api");

    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(wait_exit(pid, 2000), 0);
    slurp(w, w->err);
    assert_non_null(strstr(w->text, "level=info msg=\"stopping\" signal=SIGTERM"));
    assert_null(strstr(w->text, "level=error"));
    assert_int_equal(pf_generation(w->tables), gen);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_command_line_errors_exit_2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_and_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_once_publishes_one_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_failures_exit_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_follows_changes_and_stops_on_sigterm, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
