/*
 * pipeline_fixture.c -- files, tables and loop helpers for the manifests
 * source, pipeline and daemon tests (see pipeline_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline_fixture.h"
#include "tbl_publish.h"

char *
pf_tmpdir(const char *tag)
{
    char *path = malloc(128);

    assert_non_null(path);
    snprintf(path, 128, "/tmp/shmingress-%s.XXXXXX", tag);
    assert_non_null(mkdtemp(path));
    return path;
}

void
pf_rmtree(char *path)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'",
             path, path);
    assert_int_equal(system(cmd), 0);
    free(path);
}

const char *
pf_path(const char *dir, const char *name)
{
    static char buf[1024];

    snprintf(buf, sizeof(buf), "%s/%s", dir, name);
    return buf;
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

void
pf_write(const char *dir, const char *name, const char *text)
{
    char tmp[1024], dst[1024];

    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
    snprintf(dst, sizeof(dst), "%s/%s", dir, name);
    write_file(tmp, text);
    assert_int_equal(rename(tmp, dst), 0);
}

void
pf_write_in_place(const char *dir, const char *name, const char *text)
{
    write_file(pf_path(dir, name), text);
}

void
pf_remove(const char *dir, const char *name)
{
    assert_int_equal(unlink(pf_path(dir, name)), 0);
}

const char *
pf_class_yaml(void)
{
    return "apiVersion: networking.k8s.io/v1\n"
           "kind: IngressClass\n"
           "metadata:\n"
           "  name: shmingress\n"
           "spec:\n"
           "  controller: shmingress.io/controller\n";
}

const char *
pf_service_yaml(const char *ns, const char *name)
{
    static char buf[1024];

    snprintf(buf, sizeof(buf),
             "apiVersion: v1\n"
             "kind: Service\n"
             "metadata: {name: %s, namespace: %s}\n"
             "spec:\n"
             "  ports: [{name: http, port: 80, targetPort: 8080}]\n"
             "---\n"
             "apiVersion: discovery.k8s.io/v1\n"
             "kind: EndpointSlice\n"
             "metadata:\n"
             "  name: %s-1\n"
             "  namespace: %s\n"
             "  labels: {kubernetes.io/service-name: %s}\n"
             "addressType: IPv4\n"
             "ports: [{name: http, port: 8080}]\n"
             "endpoints:\n"
             "- addresses: [10.0.0.1]\n"
             "  conditions: {ready: true}\n",
             name, ns, name, ns, name);
    return buf;
}

const char *
pf_ingress_yaml(const char *ns, const char *name, const char *host,
                const char *path, const char *service)
{
    static char buf[1024];

    snprintf(buf, sizeof(buf),
             "apiVersion: networking.k8s.io/v1\n"
             "kind: Ingress\n"
             "metadata:\n"
             "  name: %s\n"
             "  namespace: %s\n"
             "spec:\n"
             "  ingressClassName: shmingress\n"
             "  rules:\n"
             "  - host: %s\n"
             "    http:\n"
             "      paths:\n"
             "      - path: %s\n"
             "        pathType: Prefix\n"
             "        backend:\n"
             "          service: {name: %s, port: {number: 80}}\n",
             name, ns, host, path, service);
    return buf;
}

void
pf_write_shop(const char *dir, const char *service)
{
    pf_write(dir, "00-class.yaml", pf_class_yaml());
    pf_write(dir, "10-web.yaml", pf_service_yaml("shop", "web"));
    pf_write(dir, "11-api.yaml", pf_service_yaml("shop", "api"));
    pf_write(dir, "20-shop.yaml",
             pf_ingress_yaml("shop", "shop", "shop.example.com", "/", service));
}

uint64_t
pf_generation(const char *table_dir)
{
    tbl_control *ctl;
    char err[256];
    uint64_t gen;

    if (tbl_control_open(table_dir, 0, &ctl, err, sizeof(err)) < 0)
        return 0;
    gen = tbl_control_generation(ctl);
    tbl_control_close(ctl);
    return gen;
}

void
pf_table_open(pf_table *t, const char *table_dir)
{
    char path[1024], err[256];
    struct stat st;
    int fd;

    memset(t, 0, sizeof(*t));
    t->generation = pf_generation(table_dir);
    assert_true(t->generation > 0);
    assert_int_equal(tbl_table_path(table_dir, t->generation, path,
                                    sizeof(path)),
                     0);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    t->size = (size_t)st.st_size;
    t->map = mmap(NULL, t->size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(t->map != MAP_FAILED);
    if (tbl_view_init(&t->view, t->map, t->size, err, sizeof(err)) < 0)
        fail_msg("published table is invalid: %s", err);
    assert_int_equal(t->view.hdr->generation, t->generation);
}

void
pf_table_close(pf_table *t)
{
    munmap(t->map, t->size);
    memset(t, 0, sizeof(*t));
}

const char *
pf_route(pf_table *t, const char *host, const char *path)
{
    tbl_match m;
    const tbl_route *r;
    const tbl_backend *b;

    tbl_lookup(&t->view, host, strlen(host), path, strlen(path), NULL, NULL,
               &m);
    if (m.kind == TBL_MATCH_NONE)
        return "404";
    r = &t->view.routes[m.route];
    if (r->backend == TBL_NONE)
        return "503";
    b = &t->view.backends[r->backend];
    snprintf(t->answer, sizeof(t->answer), "%s/%s",
             tbl_view_str(&t->view, b->service_namespace),
             tbl_view_str(&t->view, b->service_name));
    return t->answer;
}

const char *
pf_route_published(const char *table_dir, const char *host, const char *path,
                   char *buf, size_t len)
{
    pf_table t;

    pf_table_open(&t, table_dir);
    snprintf(buf, len, "%s", pf_route(&t, host, path));
    pf_table_close(&t);
    return buf;
}

typedef struct {
    int    (*cond)(void *);
    void    *data;
    uint64_t deadline;
    int      met;
} pf_wait;

static void
pf_check(ctl_loop *loop, ctl_timer *timer, void *data)
{
    pf_wait *w = data;

    (void)timer;
    w->met = w->cond(w->data);
    if (w->met || ctl_now_ms() >= w->deadline)
        ctl_loop_stop(loop);
}

int
pf_run_until(ctl_loop *loop, int (*cond)(void *), void *data,
             uint64_t timeout_ms)
{
    pf_wait w = {cond, data, ctl_now_ms() + timeout_ms, 0};
    ctl_timer *t = ctl_timer_new(loop, pf_check, &w);

    assert_non_null(t);
    w.met = cond(data);
    if (!w.met) {
        assert_int_equal(ctl_timer_arm(t, 2, 2), 0);
        assert_int_equal(ctl_loop_run(loop), 0);
    }
    ctl_timer_free(t);
    return w.met;
}

static int   capture_saved = -1;
static FILE *capture_file;
static char *capture_text;

void
pf_capture_start(void)
{
    fflush(stderr);
    capture_file = tmpfile();
    assert_non_null(capture_file);
    capture_saved = dup(2);
    assert_true(capture_saved >= 0);
    assert_true(dup2(fileno(capture_file), 2) >= 0);
}

const char *
pf_capture_stop(void)
{
    long n;

    fflush(stderr);
    dup2(capture_saved, 2);
    close(capture_saved);
    capture_saved = -1;
    n = ftell(capture_file);
    free(capture_text);
    capture_text = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    assert_non_null(capture_text);
    rewind(capture_file);
    if (n > 0)
        assert_int_equal(fread(capture_text, 1, (size_t)n, capture_file),
                         (size_t)n);
    fclose(capture_file);
    capture_file = NULL;
    return capture_text;
}
