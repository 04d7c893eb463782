/*
 * kube_events.h -- Warning Events (core/v1) on Ingresses the controller
 * cannot serve as written, so `kubectl describe ingress` shows why.
 *
 * The model reports problems on every build (ctl_model_sink): invalid
 * Ingresses, refused annotations, missing Services, ports and Secrets,
 * conflicts.  An occurrence is a problem that appears, reappears, or is
 * still there after a change of its Ingress's spec (a new
 * metadata.generation); a problem merely seen again by a rebuild for
 * some other reason, a status write among them, is no new occurrence.
 *
 * Like client-go's event correlator, one Event object stands for one
 * (Ingress, reason, message): the first occurrence creates it, later ones
 * PATCH its count and lastTimestamp.  A problem must still be there
 * settle_ms after it appeared before anything is sent, so an Ingress
 * applied a moment before its Service gets no Event.  Sending is
 * rate-limited like client-go's spam filter (per Ingress a burst of
 * KUBE_EVENT_BURST, then one per KUBE_EVENT_REFILL_MS; what exceeds it is
 * dropped) and globally (a burst of KUBE_EVENT_GLOBAL_BURST, then one per
 * KUBE_EVENT_GLOBAL_REFILL_MS; what exceeds that waits), with at most
 * KUBE_EVENT_REQUESTS requests in flight.
 *
 * Only the leader sends.  A replica that becomes leader sends the
 * problems present then as new Events: Event objects of the previous
 * leader are not looked up.  The log says the same as the Events, in
 * every mode and on every replica.
 */
#ifndef SHMINGRESS_KUBE_EVENTS_H
#define SHMINGRESS_KUBE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kube_client.h"
#include "loop.h"
#include "model.h"

#define KUBE_EVENT_SETTLE_MS        2000u
#define KUBE_EVENT_BURST            25u
#define KUBE_EVENT_REFILL_MS        300000u  /* client-go: 1 per 5 min */
#define KUBE_EVENT_GLOBAL_BURST     50u
#define KUBE_EVENT_GLOBAL_REFILL_MS 1000u
#define KUBE_EVENT_REQUESTS         2u
#define KUBE_EVENT_TRIES            3u
#define KUBE_EVENT_KEEP_MS          3600000u /* the API server's Event TTL */

typedef struct {
    const char *component; /* source.component, reportingComponent   */
    const char *instance;  /* reportingInstance: the elector identity */
    uint64_t    settle_ms; /* 0: KUBE_EVENT_SETTLE_MS                 */
} kube_events_config;

typedef struct kube_events kube_events;

/* Strings are copied.  Returns NULL with a message in err. */
kube_events *kube_events_new(ctl_loop *loop, kube_client *client,
                             const kube_events_config *cfg, char *err,
                             size_t errlen);

/* Cancels requests in flight without calling back. */
void kube_events_free(kube_events *ev);

/* Registered with the pipeline: learns the problems per build. */
const ctl_model_sink *kube_events_sink(kube_events *ev);

/* Only a leader sends; occurrences are counted either way. */
void kube_events_set_leader(kube_events *ev, bool leading);

#endif
