/*
 * pipeline.h -- from the store to a published table: debounce, build the
 * model into a table, publish it, keep the heartbeat going.
 *
 * Sources (the manifests directory now, the Kubernetes API later) plug in
 * the same way.  A source registers once, owns its own descriptors and
 * timers in the shared loop, puts and deletes objects in the store, and
 * then tells the pipeline:
 *   - ctl_pipeline_source_changed() after it changed the store;
 *   - ctl_pipeline_source_ready() once its first complete read is in the
 *     store (every manifest read, or every reflector's first list).
 * Nothing is published before every registered source is ready, so a
 * restart never replaces a good table with an empty or partial one.
 * After that, changes are coalesced for debounce_ms (at most ten times
 * that under a steady stream) and then built and published.
 *
 * Every build also hands what the model found besides the table (owned
 * Ingresses, problems with them) to the registered sinks; in API mode
 * these write Ingress status and Events.
 *
 * The pipeline does not read or interpret objects itself (the model does)
 * and never exits the process: build and publication errors are logged,
 * the previous table stays published, and the next change or heartbeat
 * tries again.
 */
#ifndef SHMINGRESS_CTL_PIPELINE_H
#define SHMINGRESS_CTL_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "model.h"
#include "store.h"

#define CTL_HEARTBEAT_MS 1000u
#define CTL_PIPELINE_MAX_SINKS 4u

typedef struct {
    const char      *table_dir;   /* created (mode 0750) when missing  */
    unsigned         keep_tables; /* generations kept on disk         */
    uint64_t         debounce_ms;
    ctl_model_config model;       /* strings must outlive the pipeline */
} ctl_pipeline_config;

typedef struct {
    uint64_t publications;   /* tables published by this process     */
    uint64_t unchanged;      /* builds identical to the last table   */
    uint64_t failures;       /* builds or publications that failed   */
    uint64_t generation;     /* last published, 0 before the first   */
} ctl_pipeline_stats;

typedef struct ctl_pipeline ctl_pipeline;
typedef struct ctl_pipeline_source ctl_pipeline_source;

/*
 * Creates the table directory if needed, maps its control file and
 * starts the heartbeat.  Returns NULL with a message in err.
 */
ctl_pipeline *ctl_pipeline_new(ctl_loop *loop, const ctl_store *store,
                               const ctl_pipeline_config *cfg, char *err,
                               size_t errlen);
void ctl_pipeline_free(ctl_pipeline *p);

/* Registers a source by name (for log lines); NULL on allocation failure. */
ctl_pipeline_source *ctl_pipeline_add_source(ctl_pipeline *p,
                                             const char *name);
void ctl_pipeline_source_changed(ctl_pipeline_source *s);
void ctl_pipeline_source_ready(ctl_pipeline_source *s);

/*
 * Hands what every later build finds (owned Ingresses, problems; see
 * ctl_model_sink) to sink as well, after any sink given in the config.
 * The sink must outlive the pipeline.  Returns -1 when
 * CTL_PIPELINE_MAX_SINKS are registered already.
 */
int ctl_pipeline_add_sink(ctl_pipeline *p, const ctl_model_sink *sink);

/* Nonzero once every registered source has reported ready. */
int ctl_pipeline_ready(const ctl_pipeline *p);

/*
 * Builds and publishes right away, without waiting for the debounce (for
 * --once and tests).  Returns 0 when the table is published or unchanged,
 * -1 when some source is not ready or the build or publication failed.
 */
int ctl_pipeline_publish_now(ctl_pipeline *p);

const ctl_pipeline_stats *ctl_pipeline_get_stats(const ctl_pipeline *p);

#endif
