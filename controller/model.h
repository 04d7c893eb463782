/*
 * model.h -- turns the store into a route table, with Ingress v1
 * semantics: which Ingresses are ours, how their hosts and paths merge,
 * which Ingress wins a conflict, and which endpoints back each Service
 * port.  Everything it decides is written through the table builder; it
 * does no I/O except log lines about objects it skips.
 */
#ifndef SHMINGRESS_CTL_MODEL_H
#define SHMINGRESS_CTL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "tbl.h"

/*
 * What a build found besides the table, for whoever acts on it (Ingress
 * status and Events in API mode).  A build calls begin, then owned and
 * problem any number of times, then end; end's complete is false when
 * the build failed (out of memory) and what it reported is partial.
 * Objects are valid only during the call.  The same problems are logged
 * whether or not a sink is set.
 */
typedef struct {
    void (*begin)(void *data);
    /* An Ingress of our class, served or refused. */
    void (*owned)(void *data, const ctl_object *ingress);
    /*
     * Something wrong with an Ingress of ours.  reason is one CamelCase
     * word (InvalidIngress, ServiceNotFound, ...; docs/operations.md
     * lists them all, as Event reasons); message names the field and its
     * value.  The same problem may be reported more than once per build.
     */
    void (*problem)(void *data, const ctl_object *ingress, const char *reason,
                    const char *message);
    void (*end)(void *data, bool complete);
    void *data;
} ctl_model_sink;

/*
 * NULL strings take the flags' defaults: controller_class
 * "shmingress.io/controller", ingress_class "shmingress",
 * annotations_prefix "nginx.ingress.kubernetes.io"; a NULL or empty
 * default_backend_service means none.
 */
typedef struct {
    const char *controller_class;   /* --controller-class               */
    const char *ingress_class;      /* --ingress-class (annotation value
                                       and default class name)          */
    bool        watch_without_class; /* --watch-ingress-without-class   */
    const char *default_backend_service; /* --default-backend-service
                                            "ns/name" or NULL           */
    const char *annotations_prefix; /* --annotations-prefix             */
    const char *default_ssl_certificate; /* --default-ssl-certificate
                                            "ns/name"; NULL or invalid:
                                            a generated certificate    */
    const char *configmap;          /* --configmap "ns/name": global
                                       settings, or NULL for defaults  */
    bool        allow_cross_namespace; /* --allow-cross-namespace-
                                          resources: auth-secret may
                                          name another namespace       */
    const ctl_model_sink *sink;     /* NULL: nobody listens             */
} ctl_model_config;

typedef struct {
    size_t ingresses_owned;
    size_t ingresses_skipped;  /* invalid or refused                   */
    size_t routes;
    size_t conflicts;          /* paths lost to an older Ingress        */
} ctl_model_stats;

/*
 * Builds the whole table for the store's current content into b (a fresh
 * builder).  Objects that are invalid are logged (object, field, value)
 * and skipped; the rest is still built.  Returns 0, or -1 only when the
 * builder itself fails (out of memory).
 *
 * Each object's parse is kept on the object (ctl_object.derived) until
 * the object changes, so a rebuild after a change parses only what
 * changed, and a problem found while parsing is logged once per version
 * of the object.  Problems that depend on other objects (a missing
 * Service, no ready endpoint, a conflict) are logged on every build.
 * docs/routing.md describes every decision.
 */
int ctl_model_build(const ctl_store *store, const ctl_model_config *cfg,
                    tbl_builder *b, ctl_model_stats *stats);

#endif
