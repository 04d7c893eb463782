
/*
 * ngx_http_shmingress_table.c -- the route table as one worker sees it.
 *
 * Each worker maps the control file read-only and, whenever the
 * generation stored there changes, maps and validates table.<gen> once
 * and makes it current.  Requests pin the table they route with; a
 * superseded table is unmapped when its last request is done.  A file
 * that fails to open or validate is logged once and skipped: the worker
 * keeps serving the last good table.  Nothing here routes requests or
 * writes to the table directory.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sys/mman.h>

#include "tbl_publish.h"
#include "ngx_http_shmingress_module.h"


#define NGX_HTTP_SHMINGRESS_ERRLEN      256

/* how often a vanished table.<gen> is re-resolved through the control file */
#define NGX_HTTP_SHMINGRESS_MAP_RETRIES 4

/* how far back a worker without a table looks past a rejected one */
#define NGX_HTTP_SHMINGRESS_FALLBACK    16


static ngx_int_t ngx_http_shmingress_control_open(ngx_log_t *log);
static void ngx_http_shmingress_table_update(uint64_t gen, ngx_log_t *log);
static ngx_http_shmingress_table_t *ngx_http_shmingress_table_map(
    uint64_t gen, ngx_log_t *log, ngx_uint_t *vanished);
static void ngx_http_shmingress_table_install(ngx_http_shmingress_table_t *t,
    ngx_http_shmingress_table_t *old);
static void ngx_http_shmingress_table_fallback(uint64_t gen,
    ngx_http_shmingress_table_t *old, ngx_log_t *log);
static void ngx_http_shmingress_table_unmap(ngx_http_shmingress_table_t *t);


/* per-worker state: set up in init_process, used by this process only */
static const char                   *ngx_http_shmingress_dir;
static tbl_control                  *ngx_http_shmingress_control;
static ngx_uint_t                    ngx_http_shmingress_control_logged;
static uint64_t                      ngx_http_shmingress_seen;
static uint64_t                      ngx_http_shmingress_rejected;
static ngx_http_shmingress_table_t  *ngx_http_shmingress_current;
static ngx_queue_t                   ngx_http_shmingress_retired;


ngx_int_t
ngx_http_shmingress_table_init_process(ngx_cycle_t *cycle, ngx_str_t *dir)
{
    ngx_http_shmingress_dir = (const char *) dir->data;
    ngx_http_shmingress_control = NULL;
    ngx_http_shmingress_control_logged = 0;
    ngx_http_shmingress_seen = 0;
    ngx_http_shmingress_rejected = 0;
    ngx_http_shmingress_current = NULL;
    ngx_queue_init(&ngx_http_shmingress_retired);

    /* the controller may start later: requests retry until it exists */
    (void) ngx_http_shmingress_control_open(cycle->log);

    return NGX_OK;
}


void
ngx_http_shmingress_table_exit_process(ngx_cycle_t *cycle)
{
    ngx_queue_t                  *q;
    ngx_http_shmingress_table_t  *t;

    if (ngx_http_shmingress_dir == NULL) {
        return;
    }

    /* no request pool is destroyed after this: drop every mapping */

    while (!ngx_queue_empty(&ngx_http_shmingress_retired)) {
        q = ngx_queue_head(&ngx_http_shmingress_retired);
        ngx_queue_remove(q);
        t = ngx_queue_data(q, ngx_http_shmingress_table_t, queue);
        ngx_http_shmingress_table_unmap(t);
    }

    if (ngx_http_shmingress_current) {
        ngx_http_shmingress_table_unmap(ngx_http_shmingress_current);
        ngx_http_shmingress_current = NULL;
    }

    if (ngx_http_shmingress_control) {
        tbl_control_close(ngx_http_shmingress_control);
        ngx_http_shmingress_control = NULL;
    }
}


/*
 * The table a request should use, or NULL when none has been published
 * (or none was valid).  The common case is one atomic load and one
 * compare: no syscall, no lock, no allocation.
 */
ngx_http_shmingress_table_t *
ngx_http_shmingress_table_current(ngx_log_t *log)
{
    uint64_t  gen;

    if (ngx_http_shmingress_control == NULL
        && ngx_http_shmingress_control_open(log) != NGX_OK)
    {
        return NULL;
    }

    gen = tbl_control_generation(ngx_http_shmingress_control);

    if (gen != ngx_http_shmingress_seen) {
        ngx_http_shmingress_table_update(gen, log);
    }

    return ngx_http_shmingress_current;
}


void
ngx_http_shmingress_table_pin(ngx_http_shmingress_table_t *t)
{
    t->refs++;
}


void
ngx_http_shmingress_table_unpin(ngx_http_shmingress_table_t *t)
{
    t->refs--;

    if (t->refs == 0 && t != ngx_http_shmingress_current) {
        ngx_queue_remove(&t->queue);
        ngx_http_shmingress_table_unmap(t);
    }
}


static ngx_int_t
ngx_http_shmingress_control_open(ngx_log_t *log)
{
    char  err[NGX_HTTP_SHMINGRESS_ERRLEN];

    if (tbl_control_open(ngx_http_shmingress_dir, 0,
                         &ngx_http_shmingress_control, err, sizeof(err))
        == 0)
    {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "shmingress: mapped control file in \"%s\"",
                      ngx_http_shmingress_dir);
        return NGX_OK;
    }

    ngx_http_shmingress_control = NULL;

    /* expected until the controller has started: say it once */

    if (!ngx_http_shmingress_control_logged) {
        ngx_http_shmingress_control_logged = 1;
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "shmingress: no control file yet, answering 503 "
                      "until one is published: %s", err);
    }

    return NGX_DECLINED;
}


/*
 * Maps a newly announced generation.  ngx_http_shmingress_seen is the
 * last generation acted on, so a rejected file is tried (and logged)
 * once; a newer generation gets its own chance.
 */
static void
ngx_http_shmingress_table_update(uint64_t gen, ngx_log_t *log)
{
    ngx_uint_t                    i, vanished;
    ngx_http_shmingress_table_t  *t, *old;

    old = ngx_http_shmingress_current;

    for (i = 0; i < NGX_HTTP_SHMINGRESS_MAP_RETRIES; i++) {

        ngx_http_shmingress_seen = gen;

        if (gen == 0) {
            return;
        }

        if (old && gen <= old->generation) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "shmingress: control file announces generation "
                          "%uL, older than the mapped %uL; ignored",
                          gen, old->generation);
            return;
        }

        t = ngx_http_shmingress_table_map(gen, log, &vanished);

        if (t) {
            ngx_http_shmingress_table_install(t, old);
            return;
        }

        if (!vanished) {
            ngx_http_shmingress_table_fallback(gen, old, log);
            return;
        }

        /*
         * The file was unlinked between the load and the open: the
         * controller only does that after publishing something newer.
         */

        gen = tbl_control_generation(ngx_http_shmingress_control);

        if (gen == ngx_http_shmingress_seen) {
            break;
        }
    }

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "shmingress: table file for generation %uL is missing "
                  "in \"%s\"; keeping the previous table",
                  ngx_http_shmingress_seen, ngx_http_shmingress_dir);
}


static void
ngx_http_shmingress_table_install(ngx_http_shmingress_table_t *t,
    ngx_http_shmingress_table_t *old)
{
    ngx_http_shmingress_current = t;

    if (old == NULL) {
        return;
    }

    if (old->refs == 0) {
        ngx_http_shmingress_table_unmap(old);

    } else {
        ngx_queue_insert_tail(&ngx_http_shmingress_retired, &old->queue);
    }
}


/*
 * The announced table was rejected.  A worker that mapped an earlier
 * good table keeps it, but one that never saw it (it was idle, or it
 * started after that publication) would have nothing to serve: the
 * controller keeps the last few generations on disk, so take the newest
 * of those that validates and is newer than what this worker has.
 */
static void
ngx_http_shmingress_table_fallback(uint64_t gen,
    ngx_http_shmingress_table_t *old, ngx_log_t *log)
{
    uint64_t                      g, floor;
    ngx_uint_t                    vanished;
    ngx_http_shmingress_table_t  *t;

    if (old) {
        floor = old->generation;

    } else {
        floor = gen > NGX_HTTP_SHMINGRESS_FALLBACK
                ? gen - NGX_HTTP_SHMINGRESS_FALLBACK : 0;
    }

    /* what was rejected before is not tried (nor logged) again */

    if (floor < ngx_http_shmingress_rejected) {
        floor = ngx_http_shmingress_rejected;
    }

    ngx_http_shmingress_rejected = gen;

    for (g = gen - 1; g > floor; g--) {
        t = ngx_http_shmingress_table_map(g, log, &vanished);

        if (t) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "shmingress: serving generation %uL instead of "
                          "the rejected %uL", g, gen);
            ngx_http_shmingress_table_install(t, old);
            return;
        }
    }
}


static ngx_http_shmingress_table_t *
ngx_http_shmingress_table_map(uint64_t gen, ngx_log_t *log,
    ngx_uint_t *vanished)
{
    char                          path[NGX_MAX_PATH];
    char                          err[NGX_HTTP_SHMINGRESS_ERRLEN];
    void                         *addr;
    size_t                        size;
    ngx_fd_t                      fd;
    ngx_err_t                     errn;
    ngx_file_info_t               fi;
    ngx_http_shmingress_table_t  *t;

    *vanished = 0;

    if (tbl_table_path(ngx_http_shmingress_dir, gen, path, sizeof(path))
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "shmingress: table path in \"%s\" is too long",
                      ngx_http_shmingress_dir);
        return NULL;
    }

    fd = ngx_open_file(path, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        errn = ngx_errno;

        if (errn == NGX_ENOENT) {
            *vanished = 1;
            return NULL;
        }

        ngx_log_error(NGX_LOG_ERR, log, errn,
                      "shmingress: rejected table \"%s\": "
                      ngx_open_file_n " failed", path);
        return NULL;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "shmingress: rejected table \"%s\": "
                      ngx_fd_info_n " failed", path);
        ngx_close_file(fd);
        return NULL;
    }

    if (ngx_file_size(&fi) <= 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "shmingress: rejected table \"%s\": size %O",
                      path, ngx_file_size(&fi));
        ngx_close_file(fd);
        return NULL;
    }

    size = (size_t) ngx_file_size(&fi);

    addr = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    errn = ngx_errno;

    ngx_close_file(fd);

    if (addr == MAP_FAILED) {
        ngx_log_error(NGX_LOG_ERR, log, errn,
                      "shmingress: rejected table \"%s\": mmap() failed",
                      path);
        return NULL;
    }

    t = ngx_calloc(sizeof(ngx_http_shmingress_table_t), log);
    if (t == NULL) {
        munmap(addr, size);
        return NULL;
    }

    t->addr = addr;
    t->size = size;
    t->generation = gen;

    if (tbl_view_init(&t->view, addr, size, err, sizeof(err)) != 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "shmingress: rejected table \"%s\": %s; "
                      "keeping the previous table", path, err);
        ngx_http_shmingress_table_unmap(t);
        return NULL;
    }

    if (t->view.hdr->generation != gen) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "shmingress: rejected table \"%s\": header says "
                      "generation %uL; keeping the previous table",
                      path, (uint64_t) t->view.hdr->generation);
        ngx_http_shmingress_table_unmap(t);
        return NULL;
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "shmingress: mapped table \"%s\" generation=%uL size=%uz",
                  path, gen, size);

    return t;
}


static void
ngx_http_shmingress_table_unmap(ngx_http_shmingress_table_t *t)
{
    munmap(t->addr, t->size);
    ngx_free(t);
}
