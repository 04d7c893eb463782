/*
 * pipeline_fixture.h -- helpers for tests that drive the controller
 * through real files: temporary directories, manifests written the way
 * tools write them, and the published table opened as nginx would open
 * it (control file -> table.<gen> -> tbl_view_init -> tbl_lookup).
 */
#ifndef SHMINGRESS_TEST_PIPELINE_FIXTURE_H
#define SHMINGRESS_TEST_PIPELINE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "tbl.h"

/* A fresh directory under /tmp (malloc'd path) and its removal. */
char *pf_tmpdir(const char *tag);
void pf_rmtree(char *path);

/* "<dir>/<name>" in a static buffer (one at a time). */
const char *pf_path(const char *dir, const char *name);

/* Writes a file atomically: ".<name>.tmp" first, then rename. */
void pf_write(const char *dir, const char *name, const char *text);
/* Rewrites a file in place (truncate + write), as an editor might. */
void pf_write_in_place(const char *dir, const char *name, const char *text);
void pf_remove(const char *dir, const char *name);

/*
 * YAML for our IngressClass "shmingress", for a Service "name" with port
 * 80 and one ready endpoint, and for an Ingress routing host + Prefix
 * path to a service's port 80.  Each returns a static buffer.
 */
const char *pf_class_yaml(void);
const char *pf_service_yaml(const char *ns, const char *name);
const char *pf_ingress_yaml(const char *ns, const char *name,
                            const char *host, const char *path,
                            const char *service);

/*
 * The "shop" world: our class, Services shop/web and shop/api, and an
 * Ingress routing shop.example.com/ to shop/<service>.
 */
void pf_write_shop(const char *dir, const char *service);

/* The generation in <table_dir>/control, 0 when there is none. */
uint64_t pf_generation(const char *table_dir);

/* The table currently published in table_dir, mapped and validated. */
typedef struct {
    void     *map;
    size_t    size;
    uint64_t  generation;
    tbl_view  view;
    char      answer[300];
} pf_table;

void pf_table_open(pf_table *t, const char *table_dir);
void pf_table_close(pf_table *t);

/* "ns/service" of the backend that host + path reach, or "404". */
const char *pf_route(pf_table *t, const char *host, const char *path);

/* Opens, routes one request and closes: for one-off checks. */
const char *pf_route_published(const char *table_dir, const char *host,
                               const char *path, char *buf, size_t len);

/*
 * Runs the loop until cond(data) holds or timeout_ms pass, checking every
 * few milliseconds.  Returns cond's last answer.
 */
int pf_run_until(ctl_loop *loop, int (*cond)(void *), void *data,
                 uint64_t timeout_ms);

/* Captures stderr (log lines) between start and stop. */
void pf_capture_start(void);
const char *pf_capture_stop(void);

#endif
