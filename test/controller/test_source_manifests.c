/*
 * test_source_manifests.c -- the manifests source against real files:
 * what is read, what a bad or removed file does to the store, which of
 * two definitions wins, and that the inotify watch follows writes,
 * deletes and ConfigMap-style symlink swaps.
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
#include "pipeline_fixture.h"
#include "source_manifests.h"
#include "store.h"

typedef struct {
    char          *dir;
    ctl_store     *store;
    ctl_loop      *loop;
    ctl_manifests *m;
} world;

static int
setup(void **state)
{
    world *w = calloc(1, sizeof(*w));

    w->dir = pf_tmpdir("src");
    w->store = ctl_store_new();
    *state = w;
    return 0;
}

static int
teardown(void **state)
{
    world *w = *state;

    ctl_manifests_free(w->m);
    ctl_store_free(w->store);
    ctl_loop_free(w->loop);
    pf_rmtree(w->dir);
    free(w);
    return 0;
}

/* Starts the source; with watch, it also gets a loop and inotify. */
static void
start(world *w, int watch)
{
    char err[256];

    if (watch)
        w->loop = ctl_loop_new();
    w->m = ctl_manifests_new(w->dir, w->store, w->loop, NULL, 5);
    assert_non_null(w->m);
    if (ctl_manifests_start(w->m, err, sizeof(err)) < 0)
        fail_msg("start: %s", err);
}

static const ctl_object *
get(world *w, ctl_kind kind, const char *ns, const char *name)
{
    return ctl_store_get(w->store, kind, ns, name);
}

/* The value of spec.ports[0].port of a Service, or -1. */
static int
service_port(world *w, const char *ns, const char *name)
{
    const ctl_object *o = get(w, CTL_KIND_SERVICE, ns, name);
    const cJSON *ports, *port;

    if (o == NULL)
        return -1;
    ports = cJSON_GetObjectItem(cJSON_GetObjectItem(o->json, "spec"), "ports");
    port = cJSON_GetObjectItem(cJSON_GetArrayItem(ports, 0), "port");
    return cJSON_IsNumber(port) ? port->valueint : -1;
}

static const char *
svc(const char *name, int port)
{
    static char buf[256];

    snprintf(buf, sizeof(buf),
             "apiVersion: v1\nkind: Service\nmetadata: {name: %s}\n"
             "spec: {ports: [{port: %d}]}\n",
             name, port);
    return buf;
}

static void
test_reads_manifest_files_only(void **state)
{
    world *w = *state;
    char origin[512];
    const ctl_object *o;

    pf_write(w->dir, "b.yaml", "---\n---\napiVersion: v1\nkind: Service\n"
                               "metadata: {name: b, namespace: ns1}\n"
                               "---\napiVersion: apps/v1\nkind: Deployment\n"
                               "metadata: {name: ignored}\n");
    pf_write(w->dir, "a.json",
             "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": ["
             "{\"apiVersion\": \"v1\", \"kind\": \"Service\", "
             "\"metadata\": {\"name\": \"x\"}},"
             "{\"apiVersion\": \"v1\", \"kind\": \"Secret\", "
             "\"metadata\": {\"name\": \"y\", \"namespace\": \"\"}}]}");
    pf_write(w->dir, "c.yml", pf_class_yaml());
    pf_write(w->dir, "notes.txt", svc("txt", 1));
    pf_write(w->dir, ".hidden.yaml", svc("hidden", 1));
    assert_int_equal(mkdir(pf_path(w->dir, "sub.yaml"), 0700), 0);
    assert_int_equal(mkdir(pf_path(w->dir, "sub"), 0700), 0);
    pf_write(pf_path(w->dir, "sub"), "deep.yaml", svc("deep", 1));
    start(w, 0);

    o = get(w, CTL_KIND_SERVICE, "ns1", "b");
    assert_non_null(o);
    snprintf(origin, sizeof(origin), "%s/b.yaml#2", w->dir);
    assert_string_equal(o->origin, origin);
    o = get(w, CTL_KIND_SERVICE, "default", "x");
    assert_non_null(o);
    snprintf(origin, sizeof(origin), "%s/a.json#1.1", w->dir);
    assert_string_equal(o->origin, origin);
    assert_non_null(get(w, CTL_KIND_SECRET, "default", "y"));
    assert_non_null(get(w, CTL_KIND_INGRESS_CLASS, "", "shmingress"));
    assert_null(get(w, CTL_KIND_SERVICE, "default", "txt"));
    assert_null(get(w, CTL_KIND_SERVICE, "default", "hidden"));
    assert_null(get(w, CTL_KIND_SERVICE, "default", "deep"));
    assert_int_equal(ctl_store_count(w->store, CTL_KIND_SERVICE), 2);
    {
        ctl_manifests_stats st;

        ctl_manifests_get_stats(w->m, &st);
        assert_int_equal(st.files, 3);
        assert_int_equal(st.objects, 4);
        assert_int_equal(st.files_skipped, 0);
    }
}

static void
test_bad_file_keeps_its_previous_objects(void **state)
{
    world *w = *state;
    const char *log;
    char expect[512];

    pf_write(w->dir, "app.yaml", svc("web", 80));
    pf_write(w->dir, "other.yaml", svc("other", 1));
    start(w, 0);
    assert_int_equal(service_port(w, "default", "web"), 80);

    pf_write(w->dir, "app.yaml", "apiVersion: v1\nkind: Service\n"
                                 "metadata: {name: web\nspec: {}\n");
    pf_write(w->dir, "other.yaml", svc("other", 2));
    pf_capture_start();
    assert_true(ctl_manifests_rescan(w->m) > 0);
    log = pf_capture_stop();
    snprintf(expect, sizeof(expect),
             "level=warn msg=\"manifest file skipped\" file=\"%s/app.yaml\" "
             "line=4 column=5 problem=\"did not find expected ',' or '}'",
             w->dir);
    if (strstr(log, expect) == NULL)
        fail_msg("log lacks [%s]:\n%s", expect, log);
    assert_non_null(strstr(log, "kept_objects=1"));
    /* The bad file lost nothing; the good one was still read. */
    assert_int_equal(service_port(w, "default", "web"), 80);
    assert_int_equal(service_port(w, "default", "other"), 2);

    /* Unchanged, the bad file is not read (or logged) again. */
    pf_capture_start();
    assert_int_equal(ctl_manifests_rescan(w->m), 0);
    assert_null(strstr(pf_capture_stop(), "skipped"));

    pf_write(w->dir, "app.yaml", svc("web", 81));
    pf_capture_start();
    ctl_manifests_rescan(w->m);
    assert_non_null(strstr(pf_capture_stop(), "manifest file fixed"));
    assert_int_equal(service_port(w, "default", "web"), 81);
}

static void
test_object_without_name_keeps_the_file(void **state)
{
    world *w = *state;
    const char *log;

    pf_write(w->dir, "app.yaml", svc("web", 80));
    start(w, 0);
    pf_write(w->dir, "app.yaml", "apiVersion: v1\nkind: Service\n"
                                 "metadata: {name: web}\nspec: {ports: [{port: 90}]}\n"
                                 "---\napiVersion: v1\nkind: Service\n"
                                 "metadata: {namespace: x}\n");
    pf_capture_start();
    ctl_manifests_rescan(w->m);
    log = pf_capture_stop();
    assert_non_null(strstr(log, "msg=\"manifest file skipped\""));
    assert_non_null(strstr(log, "app.yaml#2\" kind=Service"));
    assert_non_null(strstr(log, "field=metadata.name value=\"\" problem=\"missing\""));
    assert_int_equal(service_port(w, "default", "web"), 80);

    pf_write(w->dir, "app.yaml", "apiVersion: v1\nkind: Service\n"
                                 "metadata: {name: Web_1}\n");
    pf_capture_start();
    ctl_manifests_rescan(w->m);
    log = pf_capture_stop();
    assert_non_null(strstr(log, "field=metadata.name value=\"Web_1\" "
                                "problem=\"not a DNS-1123 subdomain\""));
    pf_write(w->dir, "app.yaml", "apiVersion: v1\nkind: Service\n"
                                 "metadata: {name: web, namespace: 7}\n");
    pf_capture_start();
    ctl_manifests_rescan(w->m);
    log = pf_capture_stop();
    assert_non_null(strstr(log, "field=metadata.namespace"));
    pf_write(w->dir, "app.yaml", "- just\n- a list\n");
    pf_capture_start();
    ctl_manifests_rescan(w->m);
    log = pf_capture_stop();
    assert_non_null(strstr(log, "problem=\"not a mapping\""));
    assert_int_equal(service_port(w, "default", "web"), 80);
}

static void
test_removed_file_takes_its_objects(void **state)
{
    world *w = *state;

    pf_write(w->dir, "a.yaml", svc("a", 1));
    pf_write(w->dir, "b.yaml", "apiVersion: v1\nkind: List\nitems:\n"
                               "- {apiVersion: v1, kind: Service, metadata: {name: b1}}\n"
                               "- {apiVersion: v1, kind: Service, metadata: {name: b2}}\n");
    start(w, 0);
    assert_int_equal(ctl_store_count(w->store, CTL_KIND_SERVICE), 3);
    pf_remove(w->dir, "b.yaml");
    assert_int_equal(ctl_manifests_rescan(w->m), 1);
    assert_int_equal(ctl_store_count(w->store, CTL_KIND_SERVICE), 1);
    assert_non_null(get(w, CTL_KIND_SERVICE, "default", "a"));

    /* Even a file whose last read failed takes its last good objects. */
    pf_write(w->dir, "a.yaml", "{{{");
    ctl_manifests_rescan(w->m);
    assert_non_null(get(w, CTL_KIND_SERVICE, "default", "a"));
    pf_remove(w->dir, "a.yaml");
    ctl_manifests_rescan(w->m);
    assert_int_equal(ctl_store_count(w->store, CTL_KIND_SERVICE), 0);
}

static void
test_later_file_wins_a_duplicate(void **state)
{
    world *w = *state;
    const char *log;

    pf_write(w->dir, "10-a.yaml", svc("web", 10));
    pf_write(w->dir, "20-b.yaml", svc("web", 20));
    pf_capture_start();
    start(w, 0);
    log = pf_capture_stop();
    assert_int_equal(service_port(w, "default", "web"), 20);
    assert_non_null(strstr(log, "msg=\"duplicate object\" kind=Service "
                                "object=\"default/web\""));
    assert_non_null(strstr(log, "20-b.yaml#1\" ignored="));

    /* Changing the loser changes nothing; removing the winner falls back. */
    pf_write(w->dir, "10-a.yaml", svc("web", 11));
    ctl_manifests_rescan(w->m);
    assert_int_equal(service_port(w, "default", "web"), 20);
    pf_remove(w->dir, "20-b.yaml");
    ctl_manifests_rescan(w->m);
    assert_int_equal(service_port(w, "default", "web"), 11);

    /* Within one file, the later document wins. */
    pf_write(w->dir, "10-a.yaml", "apiVersion: v1\nkind: Service\n"
                                  "metadata: {name: web}\nspec: {ports: [{port: 1}]}\n"
                                  "---\napiVersion: v1\nkind: Service\n"
                                  "metadata: {name: web}\nspec: {ports: [{port: 2}]}\n");
    pf_capture_start();
    ctl_manifests_rescan(w->m);
    log = pf_capture_stop();
    assert_int_equal(service_port(w, "default", "web"), 2);
    assert_non_null(strstr(log, "duplicate object in one file"));
}

static void
test_same_content_changes_nothing(void **state)
{
    world *w = *state;
    uint64_t v;

    pf_write(w->dir, "a.yaml", svc("a", 1));
    pf_write(w->dir, "b.yaml", svc("b", 1));
    start(w, 0);
    v = ctl_store_version(w->store);
    pf_write(w->dir, "a.yaml", svc("a", 1));
    assert_int_equal(ctl_manifests_rescan(w->m), 1);
    assert_int_equal(ctl_store_version(w->store), v);
    pf_write(w->dir, "a.yaml", svc("a", 2));
    ctl_manifests_rescan(w->m);
    assert_true(ctl_store_version(w->store) > v);
}

static void
test_missing_directory_fails_start(void **state)
{
    world *w = *state;
    char err[256], path[512];
    ctl_manifests *m;

    snprintf(path, sizeof(path), "%s/nope", w->dir);
    m = ctl_manifests_new(path, w->store, NULL, NULL, 5);
    pf_capture_start();
    assert_int_equal(ctl_manifests_start(m, err, sizeof(err)), -1);
    pf_capture_stop();
    assert_non_null(strstr(err, "cannot read manifests dir"));
    assert_non_null(strstr(err, "No such file or directory"));
    ctl_manifests_free(m);
}

typedef struct {
    world      *w;
    const char *name;
    int         port; /* -1: expect the Service gone */
} expectation;

static int
port_is(void *data)
{
    expectation *e = data;

    return service_port(e->w, "default", e->name) == e->port;
}

static void
expect_port(world *w, const char *name, int port)
{
    expectation e = {w, name, port};

    if (!pf_run_until(w->loop, port_is, &e, 2000))
        fail_msg("service %s: port %d, wanted %d", name,
                 service_port(w, "default", name), port);
}

static void
test_watch_follows_the_directory(void **state)
{
    world *w = *state;

    pf_write(w->dir, "a.yaml", svc("a", 1));
    start(w, 1);
    assert_int_equal(service_port(w, "default", "a"), 1);

    pf_write(w->dir, "a.yaml", svc("a", 2));             /* rename in   */
    expect_port(w, "a", 2);
    pf_write_in_place(w->dir, "a.yaml", svc("a", 3));    /* rewrite     */
    expect_port(w, "a", 3);
    pf_write_in_place(w->dir, "new.yaml", svc("n", 4));  /* create      */
    expect_port(w, "n", 4);
    assert_int_equal(symlink("a.yaml", pf_path(w->dir, "link.yml")), 0);
    pf_write(w->dir, "a.yaml", svc("a", 5));
    expect_port(w, "a", 5);
    pf_remove(w->dir, "new.yaml");                       /* delete      */
    expect_port(w, "n", -1);
    assert_int_equal(rename(pf_path(w->dir, "link.yml"), "/tmp/shmingress-moved-away"), 0);
    unlink("/tmp/shmingress-moved-away");
    pf_write_in_place(w->dir, "a.yaml", "not: [valid");  /* bad: kept   */
    pf_write(w->dir, "b.yaml", svc("b", 6));
    expect_port(w, "b", 6);
    assert_int_equal(service_port(w, "default", "a"), 5);
}

/*
 * A mounted ConfigMap: the visible files are symlinks through "..data",
 * which is swapped atomically to a new timestamped directory.
 */
static void
test_watch_follows_configmap_swaps(void **state)
{
    world *w = *state;
    char ts1[600], ts2[600];

    snprintf(ts1, sizeof(ts1), "%s/..2026_01_01_00_00_00.1", w->dir);
    snprintf(ts2, sizeof(ts2), "%s/..2026_01_01_00_00_01.2", w->dir);
    assert_int_equal(mkdir(ts1, 0755), 0);
    pf_write(ts1, "app.yaml", svc("cm", 1));
    assert_int_equal(symlink("..2026_01_01_00_00_00.1", pf_path(w->dir, "..data")), 0);
    assert_int_equal(symlink("..data/app.yaml", pf_path(w->dir, "app.yaml")), 0);
    start(w, 1);
    assert_int_equal(service_port(w, "default", "cm"), 1);

    assert_int_equal(mkdir(ts2, 0755), 0);
    pf_write(ts2, "app.yaml", svc("cm", 2));
    assert_int_equal(symlink("..2026_01_01_00_00_01.2", pf_path(w->dir, "..data_tmp")), 0);
    {
        char from[600];

        snprintf(from, sizeof(from), "%s", pf_path(w->dir, "..data_tmp"));
        assert_int_equal(rename(from, pf_path(w->dir, "..data")), 0);
    }
    pf_remove(ts1, "app.yaml");
    assert_int_equal(rmdir(ts1), 0);
    expect_port(w, "cm", 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_manifest_files_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_file_keeps_its_previous_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_without_name_keeps_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_file_takes_its_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_later_file_wins_a_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_content_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_directory_fails_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_follows_the_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_follows_configmap_swaps, setup, teardown),
    };

    ctl_log_set_level(CTL_LOG_INFO);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
