/*
 * kube_lease.h -- leader election on a coordination.k8s.io/v1 Lease, the
 * way client-go's leaderelection package does it, so that of several
 * controller replicas exactly one writes Ingress status and Events.
 *
 * Every retry period the elector tries to acquire or renew: it reads the
 * Lease (or creates it when missing), and writes itself in as holder when
 * the Lease is free, expired or already its own.  Expiry is judged by the
 * local clock only: a Lease is expired when its record has not changed
 * for leaseDurationSeconds since this process last saw it change, never
 * by comparing the renewTime inside it with the local clock, so clock
 * skew between nodes does not matter.  Writes carry the resourceVersion
 * last read, so two replicas never both win (the loser gets 409).  A
 * leader that has not renewed for renew_deadline_ms steps down, before
 * any follower can consider the Lease expired.  Everything runs on the
 * controller's loop; nothing blocks.
 *
 * There is no fencing: a leader that stalls may act briefly after losing
 * the Lease, so what leaders write must be idempotent (status is; Events
 * at worst repeat).
 */
#ifndef SHMINGRESS_KUBE_LEASE_H
#define SHMINGRESS_KUBE_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kube_client.h"
#include "loop.h"

/* client-go's defaults ("core clients"). */
#define KUBE_LEASE_DURATION_MS  15000u
#define KUBE_LEASE_RENEW_MS     10000u
#define KUBE_LEASE_RETRY_MS     2000u
#define KUBE_LEASE_RELEASE_MS   3000u /* bound on the release at exit */

typedef struct {
    const char *namespace_;
    const char *name;
    const char *identity;          /* holderIdentity when leading     */
    uint32_t    lease_duration_ms; /* 0: KUBE_LEASE_DURATION_MS       */
    uint32_t    renew_deadline_ms; /* 0: KUBE_LEASE_RENEW_MS          */
    uint32_t    retry_period_ms;   /* 0: KUBE_LEASE_RETRY_MS          */
} kube_lease_config;

/* Called on every change of leadership, on the loop's thread. */
typedef void kube_lease_fn(void *data, bool leading);

typedef struct kube_lease kube_lease;

/*
 * Strings are copied.  Returns NULL with a message in err when the
 * timings are inconsistent (they must satisfy lease duration > renew
 * deadline > 1.2 x retry period, as client-go requires) or when out of
 * memory.
 */
kube_lease *kube_lease_new(ctl_loop *loop, kube_client *client,
                           const kube_lease_config *cfg,
                           kube_lease_fn *on_change, void *data, char *err,
                           size_t errlen);

/* Cancels what is in flight without calling back. */
void kube_lease_free(kube_lease *l);

/* Makes the first attempt at once; -1 when a timer cannot be armed. */
int kube_lease_start(kube_lease *l);

/*
 * Stops electing for good.  A leader writes the Lease free (holder
 * cleared, duration 1 s) so another replica takes over at once instead
 * of after the lease duration; on_change(false) is called first.  done
 * is called once that write has ended (or at once when not leading),
 * within KUBE_LEASE_RELEASE_MS either way.
 */
void kube_lease_release(kube_lease *l, void (*done)(void *data), void *data);

#endif
