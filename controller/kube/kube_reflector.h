/*
 * kube_reflector.h -- keeps one kind of object in the store in step with
 * the API server: list, then watch, as client-go's reflector does.
 *
 * A reflector lists its collection in pages (limit/continue), puts every
 * item in the store and deletes what it had before but the list no
 * longer has, then watches from the list's resourceVersion with bookmarks
 * and a random 5-10 minute timeoutSeconds.  Watch events go into the
 * store as they arrive; every change pokes the pipeline, whose debounce
 * turns a burst into one publication.
 *
 *   clean end of a watch       -> watch again at once from the last RV
 *   ERROR 410 / HTTP 410       -> list again (diffing, so deletes show)
 *   other ERROR, broken stream,
 *   garbage, connection lost   -> back off, watch again from the last
 *                                 good RV (a 410 then leads to a list)
 *   401                        -> token file re-read; retry at once if
 *                                 the token changed, else back off
 *   429 / 503                  -> wait Retry-After
 *   other failures             -> back off (0.8 s doubling to 30 s)
 *
 * A failed list changes nothing already in the store (deletes happen
 * only when a list completes), so losing the API server keeps the last
 * table.  resourceVersions are opaque: stored, compared for equality
 * (an item whose RV equals the stored object's is not put again), sent
 * back; never parsed.
 *
 * The reflector knows nothing about what objects mean; hooks let its
 * owner decide which objects are kept (Secrets) and see every object
 * that goes by (Ingresses, for the Secrets they name).
 */
#ifndef SHMINGRESS_KUBE_REFLECTOR_H
#define SHMINGRESS_KUBE_REFLECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "kube_client.h"
#include "loop.h"
#include "pipeline.h"
#include "store.h"

#define KUBE_LIST_LIMIT      500u
#define KUBE_WATCH_MIN_S     300u
#define KUBE_WATCH_MAX_S     600u
#define KUBE_WATCH_GRACE_S   30u  /* curl timeout beyond timeoutSeconds  */
#define KUBE_SHORT_WATCH_MS  1000u /* shorter, with no event: an error  */

typedef struct kube_reflector kube_reflector;

typedef struct {
    ctl_kind    kind;
    const char *namespace_;     /* NULL or "": all (cluster-scoped kinds
                                   ignore it)                          */
    const char *field_selector; /* NULL, or e.g. "metadata.name=web"    */
    unsigned    page_limit;     /* 0: KUBE_LIST_LIMIT                   */
} kube_reflector_config;

typedef struct {
    /* Keep this object in the store?  NULL: keep everything. */
    bool (*wanted)(void *data, const char *ns, const char *name);
    /*
     * Every object seen (list items, watch events) before the store is
     * changed for it; json is NULL for a deletion.  May call into the
     * store and start requests, not free the reflector.
     */
    void (*observed)(void *data, const char *ns, const char *name,
                     const cJSON *json);
    /* The first complete list is in the store. */
    void (*synced)(void *data, kube_reflector *r);
    void *data;
} kube_reflector_hooks;

typedef struct {
    uint64_t lists;       /* completed lists                         */
    uint64_t watches;     /* watch requests started                  */
    uint64_t events;      /* watch events applied (bookmarks too)    */
    uint64_t failures;    /* requests that ended in a backoff         */
    uint64_t expired;     /* 410s that led to a list                  */
    size_t   objects;     /* objects the API has, as last seen        */
} kube_reflector_stats;

/* link may be NULL (tests); hooks may be NULL.  Strings are copied. */
kube_reflector *kube_reflector_new(kube_client *client, ctl_loop *loop,
                                   ctl_store *store, ctl_pipeline_source *link,
                                   const kube_reflector_config *cfg,
                                   const kube_reflector_hooks *hooks);
void kube_reflector_free(kube_reflector *r);

/* Schedules the first list; -1 when the loop cannot arm a timer. */
int kube_reflector_start(kube_reflector *r);

bool kube_reflector_synced(const kube_reflector *r);

/* Is ns/name in the API as far as the last list and events tell? */
bool kube_reflector_knows(const kube_reflector *r, const char *ns,
                          const char *name);

/* "Secret", "Ingress": for log lines. */
const char *kube_reflector_kind(const kube_reflector *r);

void kube_reflector_get_stats(const kube_reflector *r,
                              kube_reflector_stats *st);

/*
 * Makes a Secret or other object fetched apart from the reflector (a GET)
 * look like a list item: sets apiVersion and kind when missing, checks
 * metadata.name and namespace.  Returns 0 and points ns and name into
 * obj, or -1 after logging why the object is skipped.
 */
int kube_object_prepare(ctl_kind kind, cJSON *obj, const char **ns,
                        const char **name);

/* "/api/v1/namespaces/<ns>/secrets" and the like, into buf; NULL if it
 * does not fit.  ns NULL or "" for all namespaces. */
char *kube_collection_path(ctl_kind kind, const char *ns, char *buf,
                           size_t buflen);

#endif
