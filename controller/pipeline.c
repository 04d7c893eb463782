/*
 * pipeline.c -- store -> model -> table -> publication (see pipeline.h).
 *
 * One build always covers the whole store: the model is cheap next to the
 * cost of getting incremental merging of Ingresses right, and a full
 * build makes every table self-contained.  Two things keep that cheap in
 * practice: the debounce folds bursts of changes into one build, and a
 * build whose bytes equal the last published table (generation, checksum
 * and build time aside) is not published at all, so nginx workers never
 * remap for nothing.
 *
 * Every table is validated with the same tbl_view_init() the workers use
 * before it is published: a builder bug shows up here, in the controller's
 * log, instead of as a table every worker refuses.
 */
#include "pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "tbl.h"
#include "tbl_publish.h"

struct ctl_pipeline_source {
    ctl_pipeline        *pipeline;
    char                *name;
    int                  ready;
    ctl_pipeline_source *next;
};

struct ctl_pipeline {
    ctl_loop            *loop;
    const ctl_store     *store;
    ctl_pipeline_config  cfg;
    tbl_control         *control;
    tbl_builder         *builder;         /* reset, not remade, per build */
    ctl_debounce        *debounce;
    ctl_timer           *heartbeat;
    ctl_pipeline_source *sources;
    const ctl_model_sink *sinks[CTL_PIPELINE_MAX_SINKS];
    size_t               nsinks;
    ctl_model_sink       fanout;          /* the model's one sink     */
    int                  retry;           /* last attempt failed      */
    int                  have_published;  /* the fields below are set */
    uint64_t             published_hash;  /* content, header aside    */
    uint64_t             published_store; /* store version it came of */
    ctl_pipeline_stats   stats;
};

/* Like mkdir -p; directories it creates get mode 0750. */
static int
ctl_make_dirs(const char *path, char *err, size_t errlen)
{
    char buf[4096];
    struct stat st;
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(buf)) {
        snprintf(err, errlen, "table dir \"%.200s\": bad path length", path);
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0750) < 0 && errno != EEXIST) {
            snprintf(err, errlen, "table dir \"%.200s\": mkdir %s: %s", path,
                     buf, strerror(errno));
            return -1;
        }
        buf[i] = path[i];
    }
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "table dir \"%.200s\" is not a directory", path);
        return -1;
    }
    return 0;
}

/* Serializes the model of the current store; the caller frees *out. */
static int
ctl_pipeline_build(ctl_pipeline *p, uint64_t gen, uint8_t **out,
                   size_t *out_len, ctl_model_stats *ms)
{
    char err[256];
    tbl_builder *b = p->builder;
    int rc = -1;

    memset(ms, 0, sizeof(*ms));
    tbl_builder_reset(b);
    if (ctl_model_build(p->store, &p->cfg.model, b, ms) < 0) {
        ctl_log(CTL_LOG_ERROR, "table build failed", "error=\"out of memory\"");
    } else if (tbl_builder_finish(b, gen, out, out_len, err, sizeof(err)) < 0) {
        char q[300];

        ctl_log(CTL_LOG_ERROR, "table build failed", "generation=%llu error=\"%s\"",
                (unsigned long long)gen, ctl_log_quote(err, q, sizeof(q)));
    } else {
        rc = 0;
    }
    return rc;
}

/*
 * Only I/O is retried on the heartbeat: a build that failed fails again
 * on the same store, so it waits for the next change instead.
 */
static void
ctl_pipeline_failed(ctl_pipeline *p, int retry)
{
    p->retry = retry;
    p->stats.failures++;
}

static int
ctl_pipeline_run(ctl_pipeline *p)
{
    uint64_t version = ctl_store_version(p->store);
    uint64_t gen, hash, t0, t1, t2;
    ctl_model_stats ms;
    uint8_t *buf = NULL;
    size_t len = 0;
    tbl_view view;
    char err[256], q[300];

    if (p->have_published && !p->retry && version == p->published_store) {
        ctl_log(CTL_LOG_DEBUG, "table build skipped",
                "reason=\"store unchanged\" store_version=%llu",
                (unsigned long long)version);
        return 0;
    }
    t0 = ctl_now_us();
    gen = tbl_next_generation(p->cfg.table_dir, p->control);
    if (ctl_pipeline_build(p, gen, &buf, &len, &ms) < 0) {
        ctl_pipeline_failed(p, 0);
        return -1;
    }
    if (tbl_view_init(&view, buf, len, err, sizeof(err)) < 0) {
        ctl_log(CTL_LOG_ERROR, "built table is invalid",
                "generation=%llu error=\"%s\"", (unsigned long long)gen,
                ctl_log_quote(err, q, sizeof(q)));
        free(buf);
        ctl_pipeline_failed(p, 0);
        return -1;
    }
    hash = tbl_content_hash(buf);
    if (p->have_published && hash == p->published_hash) {
        ctl_log(CTL_LOG_DEBUG, "table unchanged, not published",
                "generation=%llu bytes=%zu",
                (unsigned long long)p->stats.generation, len);
        free(buf);
        p->published_store = version;
        p->retry = 0;
        p->stats.unchanged++;
        return 0;
    }
    t1 = ctl_now_us();
    __atomic_store_n(&p->control->rejected_objects, ms.ingresses_skipped,
                     __ATOMIC_RELAXED);
    if (tbl_publish(p->cfg.table_dir, p->control, buf, len, gen,
                    p->cfg.keep_tables, err, sizeof(err)) < 0) {
        ctl_log(CTL_LOG_ERROR, "table publication failed",
                "generation=%llu dir=\"%s\" error=\"%s\" retry=next_change_or_heartbeat",
                (unsigned long long)gen, p->cfg.table_dir,
                ctl_log_quote(err, q, sizeof(q)));
        free(buf);
        ctl_pipeline_failed(p, 1);
        return -1;
    }
    t2 = ctl_now_us();
    ctl_log(CTL_LOG_INFO, "table published",
            "generation=%llu bytes=%zu vhosts=%u routes=%u backends=%u "
            "endpoints=%u build_ms=%.3f publish_ms=%.3f skipped=%zu "
            "conflicts=%zu",
            (unsigned long long)gen, len, view.vhost_count, view.route_count,
            view.backend_count, view.endpoint_count, (double)(t1 - t0) / 1000.0,
            (double)(t2 - t1) / 1000.0, ms.ingresses_skipped, ms.conflicts);
    free(buf);
    p->have_published = 1;
    p->published_hash = hash;
    p->published_store = version;
    p->retry = 0;
    p->stats.publications++;
    p->stats.generation = gen;
    return 0;
}

/* ------------------------------------------------------------ sinks */

static void
ctl_fanout_begin(void *data)
{
    ctl_pipeline *p = data;

    for (size_t i = 0; i < p->nsinks; i++) {
        if (p->sinks[i]->begin != NULL)
            p->sinks[i]->begin(p->sinks[i]->data);
    }
}

static void
ctl_fanout_owned(void *data, const ctl_object *ingress)
{
    ctl_pipeline *p = data;

    for (size_t i = 0; i < p->nsinks; i++) {
        if (p->sinks[i]->owned != NULL)
            p->sinks[i]->owned(p->sinks[i]->data, ingress);
    }
}

static void
ctl_fanout_problem(void *data, const ctl_object *ingress, const char *reason,
                   const char *message)
{
    ctl_pipeline *p = data;

    for (size_t i = 0; i < p->nsinks; i++) {
        if (p->sinks[i]->problem != NULL)
            p->sinks[i]->problem(p->sinks[i]->data, ingress, reason, message);
    }
}

static void
ctl_fanout_end(void *data, bool complete)
{
    ctl_pipeline *p = data;

    for (size_t i = 0; i < p->nsinks; i++) {
        if (p->sinks[i]->end != NULL)
            p->sinks[i]->end(p->sinks[i]->data, complete);
    }
}

/* The model gets the fan-out only once someone listens: without a sink
 * it skips the bookkeeping that reporting needs. */
int
ctl_pipeline_add_sink(ctl_pipeline *p, const ctl_model_sink *sink)
{
    if (p->nsinks == CTL_PIPELINE_MAX_SINKS)
        return -1;
    p->sinks[p->nsinks++] = sink;
    p->fanout.begin = ctl_fanout_begin;
    p->fanout.owned = ctl_fanout_owned;
    p->fanout.problem = ctl_fanout_problem;
    p->fanout.end = ctl_fanout_end;
    p->fanout.data = p;
    p->cfg.model.sink = &p->fanout;
    return 0;
}

/* ------------------------------------------------------------- runs */

static void
ctl_pipeline_debounced(void *data)
{
    ctl_pipeline_run(data);
}

static void
ctl_pipeline_tick(ctl_loop *loop, ctl_timer *timer, void *data)
{
    ctl_pipeline *p = data;

    (void)loop;
    (void)timer;
    tbl_control_heartbeat(p->control);
    if (p->retry && ctl_pipeline_ready(p) && !ctl_debounce_pending(p->debounce))
        ctl_pipeline_run(p);
}

ctl_pipeline *
ctl_pipeline_new(ctl_loop *loop, const ctl_store *store,
                 const ctl_pipeline_config *cfg, char *err, size_t errlen)
{
    ctl_pipeline *p;

    if (ctl_make_dirs(cfg->table_dir, err, errlen) < 0)
        return NULL;
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->loop = loop;
    p->store = store;
    p->cfg = *cfg;
    p->cfg.model.sink = NULL;
    if (cfg->model.sink != NULL)
        ctl_pipeline_add_sink(p, cfg->model.sink);
    if (tbl_control_open(cfg->table_dir, 1, &p->control, err, errlen) < 0) {
        free(p);
        return NULL;
    }
    p->builder = tbl_builder_new();
    if (p->builder == NULL) {
        snprintf(err, errlen, "out of memory");
        ctl_pipeline_free(p);
        return NULL;
    }
    p->debounce = ctl_debounce_new(loop, cfg->debounce_ms, cfg->debounce_ms * 10,
                                   ctl_pipeline_debounced, p);
    p->heartbeat = ctl_timer_new(loop, ctl_pipeline_tick, p);
    if (p->debounce == NULL || p->heartbeat == NULL ||
        ctl_timer_arm(p->heartbeat, CTL_HEARTBEAT_MS, CTL_HEARTBEAT_MS) < 0) {
        snprintf(err, errlen, "cannot create timers: %s", strerror(errno));
        ctl_pipeline_free(p);
        return NULL;
    }
    tbl_control_heartbeat(p->control);
    return p;
}

void
ctl_pipeline_free(ctl_pipeline *p)
{
    if (p == NULL)
        return;
    while (p->sources != NULL) {
        ctl_pipeline_source *s = p->sources;

        p->sources = s->next;
        free(s->name);
        free(s);
    }
    ctl_debounce_free(p->debounce);
    ctl_timer_free(p->heartbeat);
    tbl_control_close(p->control);
    tbl_builder_free(p->builder);
    free(p);
}

ctl_pipeline_source *
ctl_pipeline_add_source(ctl_pipeline *p, const char *name)
{
    ctl_pipeline_source *s = calloc(1, sizeof(*s));

    if (s == NULL || (s->name = strdup(name)) == NULL) {
        free(s);
        return NULL;
    }
    s->pipeline = p;
    s->next = p->sources;
    p->sources = s;
    return s;
}

int
ctl_pipeline_ready(const ctl_pipeline *p)
{
    if (p->sources == NULL)
        return 0;
    for (const ctl_pipeline_source *s = p->sources; s != NULL; s = s->next) {
        if (!s->ready)
            return 0;
    }
    return 1;
}

/* Before the first publication, changes wait for readiness instead. */
void
ctl_pipeline_source_changed(ctl_pipeline_source *s)
{
    ctl_pipeline *p = s->pipeline;

    if (!ctl_pipeline_ready(p))
        return;
    if (ctl_debounce_poke(p->debounce) < 0) {
        ctl_log(CTL_LOG_ERROR, "cannot arm the debounce timer",
                "error=\"%s\"", strerror(errno));
        p->retry = 1;
    }
}

void
ctl_pipeline_source_ready(ctl_pipeline_source *s)
{
    ctl_pipeline *p = s->pipeline;

    if (s->ready)
        return;
    s->ready = 1;
    ctl_log(CTL_LOG_INFO, "source ready", "source=%s all_ready=%s", s->name,
            ctl_pipeline_ready(p) ? "true" : "false");
    if (ctl_pipeline_ready(p))
        ctl_pipeline_source_changed(s);
}

int
ctl_pipeline_publish_now(ctl_pipeline *p)
{
    if (!ctl_pipeline_ready(p)) {
        ctl_log(CTL_LOG_ERROR, "table not published",
                "reason=\"a source has not finished its first read\"");
        return -1;
    }
    return ctl_pipeline_run(p);
}

const ctl_pipeline_stats *
ctl_pipeline_get_stats(const ctl_pipeline *p)
{
    return &p->stats;
}
