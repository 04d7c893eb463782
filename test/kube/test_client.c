/*
 * test_client.c -- the API client against the real API stand-in
 * (test/apiserver/kube_standin.py, started here over TLS): every method
 * with JSON bodies, error statuses and their descriptions, a streamed
 * watch the reader stops, cancellation without callbacks, the response
 * bound, the token file re-read after a 401, and a server that is not
 * there.  Requests run on a real ctl loop; each test waits for its
 * callbacks with a deadline.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kube_client.h"
#include "kube_config.h"
#include "loop.h"

#define DEADLINE_MS 20000u

typedef struct {
    pid_t        standin;
    char         dir[64];
    char         kubeconfig[128];
    kube_config  cfg;
    ctl_loop    *loop;
    ctl_timer   *deadline;
    kube_client *client;
} world;

/* What one request ended with, copied out of its callback. */
typedef struct {
    world *w;
    int    done;
    long   status;
    bool   failed;
    bool   token_renewed;
    char   error[256];
    char   body[8192];
    char   describe[512];
    char   streamed[8192];
    size_t streamed_len;
    int    stop_after_bytes; /* on_data returns -1 once this many came */
} result;

static void
on_deadline(ctl_loop *loop, ctl_timer *timer, void *data)
{
    (void)timer;
    (void)data;
    ctl_loop_stop(loop);
}

static void
on_done(kube_request *req, const kube_response *resp, void *data)
{
    result *r = data;

    (void)req;
    r->done++;
    r->status = resp->status;
    r->failed = resp->failed;
    r->token_renewed = resp->token_renewed;
    snprintf(r->error, sizeof(r->error), "%s", resp->error);
    snprintf(r->body, sizeof(r->body), "%.*s", (int)resp->body_len, resp->body);
    kube_response_describe(resp, r->describe, sizeof(r->describe));
    ctl_loop_stop(r->w->loop);
}

static int
on_data(kube_request *req, const char *buf, size_t len, void *data)
{
    result *r = data;

    (void)req;
    if (r->streamed_len + len < sizeof(r->streamed)) {
        memcpy(r->streamed + r->streamed_len, buf, len);
        r->streamed_len += len;
        r->streamed[r->streamed_len] = '\0';
    }
    if (r->stop_after_bytes && r->streamed_len >= (size_t)r->stop_after_bytes)
        return -1;
    return 0;
}

/* Runs the loop until on_done stopped it (or the deadline passed). */
static void
wait_done(world *w, result *r)
{
    ctl_timer_arm(w->deadline, DEADLINE_MS, 0);
    while (!r->done) {
        ctl_loop_run(w->loop);
        if (!ctl_timer_armed(w->deadline))
            fail_msg("request did not finish within %u ms", DEADLINE_MS);
    }
    ctl_timer_disarm(w->deadline);
}

static void
request(world *w, result *r, const char *method, const char *path,
        const char *body)
{
    kube_request_opts o;

    memset(r, 0, sizeof(*r));
    r->w = w;
    memset(&o, 0, sizeof(o));
    o.method = method;
    o.path = path;
    o.body = body;
    o.body_len = body ? strlen(body) : 0;
    if (method != NULL && strcmp(method, "PATCH") == 0)
        o.content_type = "application/merge-patch+json";
    o.on_done = on_done;
    o.data = r;
    assert_non_null(kube_request_start(w->client, &o));
    wait_done(w, r);
}

/* Starts the stand-in and reads its "ready" line. */
static int
start_standin(world *w)
{
    int out[2];
    char line[1024];
    FILE *f;

    if (pipe(out) < 0)
        return -1;
    w->standin = fork();
    if (w->standin == 0) {
        dup2(out[1], 1);
        close(out[0]);
        execl(PYTHON, PYTHON, STANDIN, "--port", "0", "--tls",
              "--token", "admin-token", "--kubeconfig-out", w->kubeconfig,
              (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    f = fdopen(out[0], "r");
    if (f == NULL || fgets(line, sizeof(line), f) == NULL ||
        strstr(line, "\"ready\"") == NULL)
        return -1;
    fclose(f);
    return 0;
}

static int
setup(void **state)
{
    world *w = calloc(1, sizeof(*w));
    char err[512];

    snprintf(w->dir, sizeof(w->dir), "/tmp/kube-client-test-XXXXXX");
    if (mkdtemp(w->dir) == NULL)
        return -1;
    snprintf(w->kubeconfig, sizeof(w->kubeconfig), "%s/kubeconfig", w->dir);
    if (start_standin(w) < 0 ||
        kube_config_from_kubeconfig(&w->cfg, w->kubeconfig, err,
                                    sizeof(err)) < 0)
        return -1;
    w->loop = ctl_loop_new();
    w->deadline = ctl_timer_new(w->loop, on_deadline, w);
    w->client = kube_client_new(w->loop, &w->cfg, err, sizeof(err));
    if (w->client == NULL) {
        fprintf(stderr, "kube_client_new: %s\n", err);
        return -1;
    }
    *state = w;
    return 0;
}

static int
teardown(void **state)
{
    world *w = *state;
    char cmd[128];

    kube_client_free(w->client);
    ctl_timer_free(w->deadline);
    ctl_loop_free(w->loop);
    kube_config_clear(&w->cfg);
    kill(w->standin, SIGTERM);
    waitpid(w->standin, NULL, 0);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
    free(w);
    return system(cmd) == 0 ? 0 : -1;
}

#define CM_PATH "/api/v1/namespaces/client-test/configmaps"

static void
test_methods_and_bodies(void **state)
{
    world *w = *state;
    result r;

    request(w, &r, "POST", CM_PATH,
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
            "{\"name\":\"cm\"},\"data\":{\"a\":\"1\"}}");
    assert_false(r.failed);
    assert_int_equal(r.status, 201);

    request(w, &r, NULL, CM_PATH "/cm", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"data\":{\"a\":\"1\"}"));

    request(w, &r, "PUT", CM_PATH "/cm",
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
            "{\"name\":\"cm\",\"namespace\":\"client-test\"},"
            "\"data\":{\"b\":\"2\"}}");
    assert_int_equal(r.status, 200);

    request(w, &r, "PATCH", CM_PATH "/cm", "{\"data\":{\"c\":\"3\"}}");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"b\""));
    assert_non_null(strstr(r.body, "\"c\""));

    /* A conflicting create: the Status comes back described. */
    request(w, &r, "POST", CM_PATH,
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
            "{\"name\":\"cm\"}}");
    assert_false(r.failed);
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(r.describe, "HTTP 409 AlreadyExists"));

    request(w, &r, "DELETE", CM_PATH "/cm", NULL);
    assert_int_equal(r.status, 200);
    request(w, &r, NULL, CM_PATH "/cm", NULL);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.describe, "HTTP 404 NotFound: "));

    /* Every request said who it was. */
    request(w, &r, NULL, "/__control/requests", NULL);
    assert_non_null(strstr(r.body, "shmingress-controller/"));
}

/* A watch streams events as they happen; the reader ends it. */
static void
test_stream_stopped_by_reader(void **state)
{
    world *w = *state;
    kube_request_opts o;
    result watch, create;

    memset(&watch, 0, sizeof(watch));
    watch.w = w;
    watch.stop_after_bytes = 1;
    memset(&o, 0, sizeof(o));
    o.path = CM_PATH "?watch=1&timeoutSeconds=30";
    o.timeout_ms = 60000;
    o.on_data = on_data;
    o.on_done = on_done;
    o.data = &watch;
    assert_non_null(kube_request_start(w->client, &o));
    request(w, &create, "POST", CM_PATH,
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
            "{\"name\":\"streamed\"}}");
    assert_int_equal(create.status, 201);
    wait_done(w, &watch);
    assert_int_equal(watch.done, 1);
    assert_true(watch.failed);
    assert_int_equal(watch.status, 200);
    assert_string_equal(watch.error, "stopped by the reader");
    assert_non_null(strstr(watch.streamed, "{\"type\":\"ADDED\""));
    /* A stream's body is never buffered. */
    assert_string_equal(watch.body, "");
}

/* A cancelled request never calls back; others carry on. */
static void
test_cancel(void **state)
{
    world *w = *state;
    kube_request_opts o;
    result slow, fast;

    request(w, &fast, "POST", "/__control/delay",
            "{\"seconds\": 2, \"pattern\": \"slow-one\"}");
    assert_int_equal(fast.status, 200);
    memset(&slow, 0, sizeof(slow));
    slow.w = w;
    memset(&o, 0, sizeof(o));
    o.path = CM_PATH "/slow-one";
    o.on_done = on_done;
    o.data = &slow;
    kube_request_cancel(kube_request_start(w->client, &o));
    request(w, &fast, NULL, CM_PATH, NULL);
    assert_int_equal(fast.status, 200);
    assert_int_equal(slow.done, 0);
}

static void
test_response_bound(void **state)
{
    world *w = *state;
    kube_request_opts o;
    result r;

    memset(&r, 0, sizeof(r));
    r.w = w;
    memset(&o, 0, sizeof(o));
    o.path = CM_PATH;
    o.max_body = 16;
    o.on_done = on_done;
    o.data = &r;
    assert_non_null(kube_request_start(w->client, &o));
    wait_done(w, &r);
    assert_true(r.failed);
    assert_string_equal(r.error, "response body too large");
}

static void
write_token(const char *path, const char *token)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fprintf(f, "%s\n", token);
    fclose(f);
}

/* The token comes from a file: a 401 re-reads it, and says whether the
 * token changed so a caller knows a retry is worth it. */
static void
test_token_file_reread_after_401(void **state)
{
    world *w = *state;
    kube_config cfg = w->cfg;
    kube_client *saved = w->client;
    char path[128], err[512];
    result r;

    snprintf(path, sizeof(path), "%s/token", w->dir);
    write_token(path, "admin-token");
    cfg.token = NULL;
    cfg.token_file = path;
    w->client = kube_client_new(w->loop, &cfg, err, sizeof(err));
    assert_non_null(w->client);

    request(w, &r, NULL, CM_PATH, NULL);
    assert_int_equal(r.status, 200);
    request(w, &r, "POST", "/__control/rotate_token",
            "{\"token\": \"second-token\"}");
    request(w, &r, NULL, CM_PATH, NULL);
    assert_int_equal(r.status, 401);
    assert_false(r.token_renewed);
    write_token(path, "second-token");
    request(w, &r, NULL, CM_PATH, NULL);
    assert_int_equal(r.status, 401);
    assert_true(r.token_renewed);
    request(w, &r, NULL, CM_PATH, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(kube_client_reload_token(w->client), 0);

    kube_client_free(w->client);
    w->client = saved;
    request(w, &r, "POST", "/__control/rotate_token",
            "{\"token\": \"admin-token\"}");
}

static void
test_server_not_there(void **state)
{
    world *w = *state;
    kube_config cfg = w->cfg;
    kube_client *saved = w->client;
    char err[512];
    result r;

    cfg.server = "https://127.0.0.1:1";
    w->client = kube_client_new(w->loop, &cfg, err, sizeof(err));
    assert_non_null(w->client);
    request(w, &r, NULL, CM_PATH, NULL);
    assert_true(r.failed);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.describe, "transport: "));
    kube_client_free(w->client);
    w->client = saved;
}

static void
test_escape(void **state)
{
    char buf[64];

    (void)state;
    assert_string_equal(kube_escape("metadata.name=a-b_c~d", buf, sizeof(buf)),
                        "metadata.name%3Da-b_c~d");
    assert_string_equal(kube_escape("a/b c&d", buf, sizeof(buf)),
                        "a%2Fb%20c%26d");
    assert_null(kube_escape("abcdef", buf, 6));
    assert_non_null(kube_escape("abcde", buf, 6));
    assert_null(kube_escape("/", buf, 3));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_methods_and_bodies),
        cmocka_unit_test(test_stream_stopped_by_reader),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_response_bound),
        cmocka_unit_test(test_token_file_reread_after_401),
        cmocka_unit_test(test_server_not_there),
        cmocka_unit_test(test_escape),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, setup, teardown);
}
