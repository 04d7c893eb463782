/*
 * kube_source.h -- the Kubernetes API as a source of objects for the
 * pipeline: one reflector per kind the model reads, all on one client.
 *
 *   IngressClass   cluster-wide
 *   Ingress, Service, EndpointSlice, Secret
 *                  --watch-namespace, or all namespaces
 *   Secret         only referenced ones are stored (kube_secrets.h); a
 *                  --default-ssl-certificate outside the watched
 *                  namespace gets a reflector of its own for that name
 *   ConfigMap      only --configmap ns/name (a field selector), and none
 *                  without that flag
 *
 * The Secret reflector starts once the Ingresses are listed, so the first
 * Secret list already knows which Secrets are referenced and nothing has
 * to be fetched one by one at start.  The source reports ready when every
 * reflector has completed its first list; until then nothing is published.
 */
#ifndef SHMINGRESS_KUBE_SOURCE_H
#define SHMINGRESS_KUBE_SOURCE_H

#include "kube_client.h"
#include "kube_reflector.h"
#include "loop.h"
#include "pipeline.h"
#include "store.h"

typedef struct {
    const char *watch_namespace;         /* NULL or "": all              */
    const char *configmap;               /* "ns/name" or NULL            */
    const char *default_ssl_certificate; /* "ns/name" or NULL            */
    const char *annotations_prefix;      /* NULL: the default            */
} kube_source_config;

typedef struct kube_source kube_source;

/* Returns NULL with a message in err. */
kube_source *kube_source_new(ctl_loop *loop, kube_client *client,
                             ctl_store *store, ctl_pipeline_source *link,
                             const kube_source_config *cfg, char *err,
                             size_t errlen);
void kube_source_free(kube_source *s);

/* Starts the lists; -1 with a message in err. */
int kube_source_start(kube_source *s, char *err, size_t errlen);

#endif
