/*
 * kube_secrets.h -- which Secrets the controller keeps: only those
 * something refers to.
 *
 * A cluster holds many Secrets the controller must never hold (service
 * account tokens, Helm releases, other applications' credentials), so the
 * Secret reflector watches every Secret in scope but stores only the
 * referenced ones: spec.tls[].secretName of an Ingress, the auth-secret,
 * auth-tls-secret and proxy-ssl-secret annotations (under shmingress.io/
 * and the compatibility prefix; "name" or "namespace/name"), and pinned
 * names (--default-ssl-certificate).  References are counted per Secret
 * and recomputed from each Ingress version the Ingress reflector sees, so
 * a change costs one Ingress's worth of work.
 *
 * References are taken from every Ingress in scope, not only from those
 * of our class: which Ingresses are ours is the model's decision and
 * depends on IngressClasses and flags; keeping the few Secrets other
 * classes name is cheap and never leaves an owned Ingress without its
 * certificate.  (The model still only uses Secrets of its own Ingresses.)
 *
 * The reflector keeps the names of all Secrets it has seen.  When a
 * Secret becomes referenced that exists but is not stored, it is fetched
 * with a GET (a few at a time, retried with backoff); a watch event for
 * it that arrives meanwhile wins over the GET's answer.  When the last
 * reference goes, the Secret leaves the store.
 */
#ifndef SHMINGRESS_KUBE_SECRETS_H
#define SHMINGRESS_KUBE_SECRETS_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "kube_client.h"
#include "kube_reflector.h"
#include "loop.h"
#include "pipeline.h"
#include "store.h"

#define KUBE_SECRET_FETCHES 4u /* GETs in flight at once */

typedef struct kube_secrets kube_secrets;

/*
 * annotations_prefix is the compatibility prefix (--annotations-prefix,
 * NULL for nginx.ingress.kubernetes.io); link may be NULL.
 */
kube_secrets *kube_secrets_new(kube_client *client, ctl_loop *loop,
                               ctl_store *store, ctl_pipeline_source *link,
                               const char *annotations_prefix);
void kube_secrets_free(kube_secrets *s);

/* A reference that never goes away; -1 when out of memory. */
int kube_secrets_pin(kube_secrets *s, const char *ns, const char *name);

/* The reflector whose Secrets are tracked (knows, synced). */
void kube_secrets_set_reflector(kube_secrets *s, kube_reflector *r);

/* What the Ingress reflector sees (ingress NULL: deleted). */
void kube_secrets_ingress_observed(kube_secrets *s, const char *ns,
                                   const char *name, const cJSON *ingress);

/* For the Secret reflector: store this Secret?  And: it was seen. */
bool kube_secrets_wanted(const kube_secrets *s, const char *ns,
                         const char *name);
void kube_secrets_secret_observed(kube_secrets *s, const char *ns,
                                  const char *name);

/* Secrets currently referenced, and GETs made since the start. */
size_t kube_secrets_referenced(const kube_secrets *s);
unsigned long kube_secrets_fetches(const kube_secrets *s);

#endif
