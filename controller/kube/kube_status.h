/*
 * kube_status.h -- writes status.loadBalancer.ingress on the Ingresses
 * this controller serves, so users, DNS controllers and conformance
 * suites learn the address they answer on.
 *
 * The address comes from --publish-status-address (IPs become "ip",
 * names "hostname"), else from the --publish-service Service: its
 * status.loadBalancer.ingress, else its ClusterIP (an ExternalName
 * Service gives its externalName).  That Service is read from the store
 * when it lies in the watched namespaces, and fetched every resync
 * otherwise.  Without either flag no status is written.
 *
 * Which Ingresses get it is the model's decision, reported after every
 * build (see ctl_model_sink): every Ingress of our class.  An Ingress
 * that stops being ours (its class changed) has its status cleared, but
 * only while it still holds exactly our address, so a status another
 * controller wrote meanwhile is left alone.  Nothing is cleared when the
 * controller shuts down.
 *
 * Only the leader writes.  A write happens only when the status differs:
 * first against the Ingress in the store (no request at all when equal),
 * then against a fresh GET, and the PUT to the /status subresource
 * carries the resourceVersion of that GET; a 409 reads again and retries
 * a few times with backoff, and anything else waits for the next resync.
 * At most KUBE_STATUS_WRITES Ingresses are written at once; every owned
 * Ingress is checked again every resync period and whenever the address
 * changes.
 */
#ifndef SHMINGRESS_KUBE_STATUS_H
#define SHMINGRESS_KUBE_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kube_client.h"
#include "loop.h"
#include "model.h"
#include "store.h"

#define KUBE_STATUS_WRITES      4u     /* Ingresses written at once   */
#define KUBE_STATUS_RESYNC_MS   60000u /* ingress-nginx's interval    */
#define KUBE_STATUS_TRIES       5u     /* per write, 409s included    */

typedef struct {
    const char *publish_service;        /* "ns/name" or NULL           */
    const char *publish_status_address; /* "a,b" or NULL; wins         */
    const char *watch_namespace;        /* NULL or "": all namespaces  */
    uint64_t    resync_ms;              /* 0: KUBE_STATUS_RESYNC_MS    */
} kube_status_config;

typedef struct kube_status kube_status;

/*
 * Checks the addresses (err names the bad one).  The store must outlive
 * the writer.  Returns NULL with a message in err.
 */
kube_status *kube_status_new(ctl_loop *loop, kube_client *client,
                             const ctl_store *store,
                             const kube_status_config *cfg, char *err,
                             size_t errlen);

/*
 * Checks a --publish-status-address value: comma-separated IP addresses
 * and lower-case DNS names.  Returns 0, or -1 with the bad one named in
 * err.
 */
int kube_status_check_addresses(const char *flag, char *err, size_t errlen);

/* Cancels writes in flight without calling back. */
void kube_status_free(kube_status *s);

/* Registered with the pipeline: learns the owned Ingresses per build. */
const ctl_model_sink *kube_status_sink(kube_status *s);

/*
 * Leading: checks every Ingress now and keeps them in step.  Not
 * leading: cancels what is in flight and writes nothing.
 */
void kube_status_set_leader(kube_status *s, bool leading);

#endif
