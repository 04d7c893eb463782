/*
 * store.h -- the controller's view of the cluster: one map per kind of
 * object, keyed by namespace/name, holding the parsed JSON of each object.
 *
 * Sources (the manifests directory, the Kubernetes API) put and delete
 * objects; the model builder only reads.  The store does not interpret
 * objects beyond their kind, namespace and name, and it is not thread
 * safe: the controller is single-threaded.
 */
#ifndef SHMINGRESS_CTL_STORE_H
#define SHMINGRESS_CTL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

typedef enum {
    CTL_KIND_INGRESS_CLASS = 0,
    CTL_KIND_INGRESS,
    CTL_KIND_SERVICE,
    CTL_KIND_ENDPOINT_SLICE,
    CTL_KIND_SECRET,
    CTL_KIND_CONFIG_MAP,
    CTL_KIND_COUNT
} ctl_kind;

typedef struct {
    ctl_kind  kind;
    char     *namespace_; /* "" for cluster-scoped kinds              */
    char     *name;
    char     *origin;     /* where it came from, for log lines:
                             "examples/app.yaml#2" or "api"          */
    cJSON    *json;       /* the whole object, owned by the store     */
    void     *derived;    /* a reader's parse of json (the model's),
                             freed with derived_free when json is
                             replaced or the object deleted; NULL until
                             set with ctl_object_set_derived           */
    void    (*derived_free)(void *);
} ctl_object;

typedef struct ctl_store ctl_store;

ctl_store *ctl_store_new(void);
void ctl_store_free(ctl_store *s);

/*
 * Maps apiVersion + kind ("networking.k8s.io/v1", "Ingress") to a
 * ctl_kind; returns -1 for kinds the controller does not use.
 */
int ctl_kind_from_json(const cJSON *obj);
const char *ctl_kind_name(ctl_kind kind);

/*
 * Inserts or replaces an object; the store takes ownership of json (also
 * on failure).  Returns 0, or -1 on allocation failure.
 */
int ctl_store_put(ctl_store *s, ctl_kind kind, const char *namespace_,
                  const char *name, cJSON *json, const char *origin);

/* Removes an object; returns 1 if it was there, 0 if not. */
int ctl_store_delete(ctl_store *s, ctl_kind kind, const char *namespace_,
                     const char *name);

const ctl_object *ctl_store_get(const ctl_store *s, ctl_kind kind,
                                const char *namespace_, const char *name);

/* Iteration in no particular order; stable while the store is unchanged. */
size_t ctl_store_count(const ctl_store *s, ctl_kind kind);
const ctl_object *ctl_store_at(const ctl_store *s, ctl_kind kind, size_t i);

/*
 * Attaches derived data to an object, freeing any it had.  It is a cache
 * of what json says, so setting it through a const object changes no
 * object; it lets the model parse an object once per version instead of
 * once per build.
 */
void ctl_object_set_derived(const ctl_object *o, void *data,
                            void (*free_fn)(void *));

/* Bumped by every put and delete; lets the loop skip needless rebuilds. */
uint64_t ctl_store_version(const ctl_store *s);

#endif
