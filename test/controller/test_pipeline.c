/*
 * test_pipeline.c -- manifests in a directory, through the store, model
 * and pipeline, to a published table that is opened and routed through
 * the way a worker does it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pipeline.h"
#include "pipeline_fixture.h"
#include "source_manifests.h"
#include "store.h"
#include "tbl_publish.h"

typedef struct {
    char                *root;
    char                 manifests[256];
    char                 tables[256];
    ctl_loop            *loop;
    ctl_store           *store;
    ctl_pipeline        *pipeline;
    ctl_manifests       *source;
    uint64_t             debounce_ms;
} world;

static int
setup(void **state)
{
    world *w = calloc(1, sizeof(*w));

    w->root = pf_tmpdir("pipe");
    snprintf(w->manifests, sizeof(w->manifests), "%s/manifests", w->root);
    snprintf(w->tables, sizeof(w->tables), "%s/state/table", w->root);
    assert_int_equal(mkdir(w->manifests, 0700), 0);
    w->debounce_ms = 5;
    *state = w;
    return 0;
}

/* Stops the controller (if running), keeping the directories. */
static void
stop(world *w)
{
    ctl_manifests_free(w->source);
    ctl_pipeline_free(w->pipeline);
    ctl_store_free(w->store);
    ctl_loop_free(w->loop);
    w->source = NULL;
    w->pipeline = NULL;
    w->store = NULL;
    w->loop = NULL;
}

static int
teardown(void **state)
{
    world *w = *state;

    stop(w);
    pf_rmtree(w->root);
    free(w);
    return 0;
}

/* Builds the controller in process: loop, store, pipeline, source. */
static void
create(world *w)
{
    ctl_pipeline_config cfg;
    char err[256];

    memset(&cfg, 0, sizeof(cfg));
    cfg.table_dir = w->tables;
    cfg.keep_tables = 4;
    cfg.debounce_ms = w->debounce_ms;
    cfg.model.controller_class = "shmingress.io/controller";
    cfg.model.ingress_class = "shmingress";
    cfg.model.annotations_prefix = "nginx.ingress.kubernetes.io";
    w->loop = ctl_loop_new();
    w->store = ctl_store_new();
    w->pipeline = ctl_pipeline_new(w->loop, w->store, &cfg, err, sizeof(err));
    if (w->pipeline == NULL)
        fail_msg("pipeline: %s", err);
    w->source = ctl_manifests_new(w->manifests, w->store, w->loop,
                                  ctl_pipeline_add_source(w->pipeline, "manifests"),
                                  w->debounce_ms);
    assert_non_null(w->source);
}

static void
start_source(world *w)
{
    char err[256];

    if (ctl_manifests_start(w->source, err, sizeof(err)) < 0)
        fail_msg("source: %s", err);
}

typedef struct {
    world   *w;
    uint64_t above;
} gen_wait;

static int
generation_above(void *data)
{
    gen_wait *g = data;

    return pf_generation(g->w->tables) > g->above;
}

/* Runs the loop until a generation above `above` is published. */
static uint64_t
wait_generation_above(world *w, uint64_t above, uint64_t timeout_ms)
{
    gen_wait g = {w, above};

    if (!pf_run_until(w->loop, generation_above, &g, timeout_ms))
        fail_msg("generation stayed at %llu",
                 (unsigned long long)pf_generation(w->tables));
    return pf_generation(w->tables);
}

static int
never(void *data)
{
    (void)data;
    return 0;
}

static const char *
route(world *w, const char *host, const char *path)
{
    static char buf[300];

    return pf_route_published(w->tables, host, path, buf, sizeof(buf));
}

static void
test_first_table_waits_for_the_first_read(void **state)
{
    world *w = *state;
    const char *log;

    pf_write_shop(w->manifests, "web");
    create(w);
    /* Before the source has read everything, nothing may be published. */
    pf_capture_start();
    assert_int_equal(ctl_pipeline_publish_now(w->pipeline), -1);
    log = pf_capture_stop();
    assert_non_null(strstr(log, "a source has not finished its first read"));
    assert_false(ctl_pipeline_ready(w->pipeline));
    pf_run_until(w->loop, never, NULL, 30);
    assert_int_equal(pf_generation(w->tables), 0);

    pf_capture_start();
    start_source(w);
    assert_int_equal(wait_generation_above(w, 0, 2000), 1);
    log = pf_capture_stop();
    assert_non_null(strstr(log, "level=info msg=\"table published\" "
                                "generation=1 bytes="));
    assert_non_null(strstr(log, " vhosts=1 routes=1 backends=1 endpoints=1 "
                                "build_ms="));
    assert_non_null(strstr(log, " skipped=0 "));
    assert_string_equal(route(w, "shop.example.com", "/cart"), "shop/web");
    assert_string_equal(route(w, "other.example.com", "/"), "404");
    {
        struct stat st;

        assert_int_equal(stat(w->tables, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0750);
    }
}

static void
test_changes_are_published(void **state)
{
    world *w = *state;
    uint64_t gen;

    pf_write_shop(w->manifests, "web");
    create(w);
    start_source(w);
    gen = wait_generation_above(w, 0, 2000);

    pf_write(w->manifests, "20-shop.yaml",
             pf_ingress_yaml("shop", "shop", "shop.example.com", "/", "api"));
    gen = wait_generation_above(w, gen, 2000);
    assert_string_equal(route(w, "shop.example.com", "/"), "shop/api");

    /* A broken file keeps its last good objects: no new table. */
    pf_write(w->manifests, "20-shop.yaml", "kind: Ingress\nmetadata: {name: [\n");
    pf_capture_start();
    pf_run_until(w->loop, never, NULL, 100);
    assert_non_null(strstr(pf_capture_stop(), "msg=\"manifest file skipped\""));
    assert_int_equal(pf_generation(w->tables), gen);
    assert_string_equal(route(w, "shop.example.com", "/"), "shop/api");

    /* A removed file takes its routes with it. */
    pf_remove(w->manifests, "20-shop.yaml");
    gen = wait_generation_above(w, gen, 2000);
    assert_string_equal(route(w, "shop.example.com", "/"), "404");
    assert_int_equal(ctl_pipeline_get_stats(w->pipeline)->generation, gen);
}

static void
test_identical_table_is_not_published(void **state)
{
    world *w = *state;
    const ctl_pipeline_stats *st;
    uint64_t gen;

    pf_write_shop(w->manifests, "web");
    pf_write(w->manifests, "30-cm.yaml",
             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: x}\n"
             "data: {a: '1'}\n");
    create(w);
    start_source(w);
    gen = wait_generation_above(w, 0, 2000);
    st = ctl_pipeline_get_stats(w->pipeline);

    /* The store changes, the table it yields does not. */
    pf_write(w->manifests, "30-cm.yaml",
             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: x}\n"
             "data: {a: '2'}\n");
    pf_capture_start();
    ctl_log_set_level(CTL_LOG_DEBUG);
    pf_run_until(w->loop, never, NULL, 150);
    ctl_log_set_level(CTL_LOG_INFO);
    assert_non_null(strstr(pf_capture_stop(), "table unchanged, not published"));
    assert_int_equal(st->unchanged, 1);
    assert_int_equal(st->publications, 1);
    assert_int_equal(pf_generation(w->tables), gen);

    /* Nothing in the store changed at all: not even a build. */
    assert_int_equal(ctl_pipeline_publish_now(w->pipeline), 0);
    assert_int_equal(st->unchanged, 1);
    assert_int_equal(st->publications, 1);
}

static void
test_changes_are_coalesced(void **state)
{
    world *w = *state;
    char name[16];
    uint64_t gen;

    pf_write_shop(w->manifests, "web");
    w->debounce_ms = 50;
    create(w);
    start_source(w);
    gen = wait_generation_above(w, 0, 2000);
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        pf_write(w->manifests, "40-more.yaml", pf_service_yaml("x", name));
        pf_write(w->manifests, "20-shop.yaml",
                 pf_ingress_yaml("shop", "shop", "shop.example.com", "/",
                                 i % 2 ? "api" : "web"));
    }
    assert_int_equal(wait_generation_above(w, gen, 2000), gen + 1);
    pf_run_until(w->loop, never, NULL, 200);
    assert_int_equal(pf_generation(w->tables), gen + 1);
    assert_int_equal(ctl_pipeline_get_stats(w->pipeline)->publications, 2);
    assert_string_equal(route(w, "shop.example.com", "/"), "shop/api");
}

static void
test_generations_continue_across_runs(void **state)
{
    world *w = *state;
    char path[512];

    pf_write_shop(w->manifests, "web");
    create(w);
    start_source(w);
    assert_int_equal(ctl_pipeline_publish_now(w->pipeline), 0);
    assert_int_equal(pf_generation(w->tables), 1);
    stop(w);

    /* Same content after a restart: still a new, higher generation. */
    create(w);
    start_source(w);
    assert_int_equal(wait_generation_above(w, 1, 2000), 2);
    stop(w);

    /* Without the control file, the table files carry the count. */
    snprintf(path, sizeof(path), "%s/control", w->tables);
    assert_int_equal(unlink(path), 0);
    create(w);
    start_source(w);
    assert_int_equal(ctl_pipeline_publish_now(w->pipeline), 0);
    assert_int_equal(pf_generation(w->tables), 3);
    assert_string_equal(route(w, "shop.example.com", "/"), "shop/web");
}

static void
test_failed_publication_is_retried(void **state)
{
    world *w = *state;
    const ctl_pipeline_stats *st;
    char blocker[512], inner[600];
    const char *log;

    pf_write_shop(w->manifests, "web");
    create(w);
    start_source(w);
    assert_int_equal(wait_generation_above(w, 0, 2000), 1);
    st = ctl_pipeline_get_stats(w->pipeline);

    /* A directory where the next table's temporary file must go. */
    snprintf(blocker, sizeof(blocker), "%s/table.2.tmp", w->tables);
    snprintf(inner, sizeof(inner), "%s/x", blocker);
    assert_int_equal(mkdir(blocker, 0700), 0);
    assert_int_equal(mkdir(inner, 0700), 0);
    pf_write(w->manifests, "20-shop.yaml",
             pf_ingress_yaml("shop", "shop", "shop.example.com", "/", "api"));
    pf_capture_start();
    pf_run_until(w->loop, never, NULL, 100);
    log = pf_capture_stop();
    assert_non_null(strstr(log, "level=error msg=\"table publication failed\" "
                                "generation=2"));
    assert_int_equal(st->failures, 1);
    assert_int_equal(pf_generation(w->tables), 1);
    assert_string_equal(route(w, "shop.example.com", "/"), "shop/web");

    /* The heartbeat retries without any further change. */
    assert_int_equal(rmdir(inner), 0);
    assert_int_equal(rmdir(blocker), 0);
    assert_int_equal(wait_generation_above(w, 1, 3000), 2);
    assert_string_equal(route(w, "shop.example.com", "/"), "shop/api");
}

static void
test_heartbeat_ticks(void **state)
{
    world *w = *state;
    tbl_control *ctl;
    char err[256];
    uint64_t first;

    create(w);
    assert_int_equal(tbl_control_open(w->tables, 0, &ctl, err, sizeof(err)), 0);
    first = __atomic_load_n(&ctl->heartbeat_ms, __ATOMIC_ACQUIRE);
    assert_true(first > 0);
    pf_run_until(w->loop, never, NULL, 1100);
    assert_true(__atomic_load_n(&ctl->heartbeat_ms, __ATOMIC_ACQUIRE) > first);
    tbl_control_close(ctl);
}

static void
test_table_dir_must_be_usable(void **state)
{
    world *w = *state;
    ctl_pipeline_config cfg;
    ctl_loop *loop = ctl_loop_new();
    ctl_store *store = ctl_store_new();
    char err[256], path[512];

    memset(&cfg, 0, sizeof(cfg));
    snprintf(path, sizeof(path), "%s/file", w->root);
    pf_write(w->root, "file", "x");
    cfg.table_dir = path;
    cfg.keep_tables = 4;
    assert_null(ctl_pipeline_new(loop, store, &cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "is not a directory"));
    ctl_store_free(store);
    ctl_loop_free(loop);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_table_waits_for_the_first_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_are_published, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identical_table_is_not_published, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_are_coalesced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generations_continue_across_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_publication_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeat_ticks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_dir_must_be_usable, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
