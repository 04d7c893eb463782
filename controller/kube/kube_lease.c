/*
 * kube_lease.c -- leader election on a Lease (see kube_lease.h).
 *
 * One attempt (client-go's tryAcquireOrRenew) is at most two requests: a
 * GET, then a PUT (or a POST when the Lease does not exist).  A leader
 * whose last observation is still fresh skips the GET and renews with the
 * resourceVersion it wrote last; a 409 sends it back to reading.  At most
 * one request is in flight, and one timer paces the attempts: every
 * retry period while leading, with client-go's jitter (up to 1.2 periods
 * more) while trying to acquire.  The timer also notices a renewal stuck
 * past the renew deadline while a request hangs.
 *
 * What this file does not do: decide anything about Ingresses.  It tells
 * its owner when leadership changes and nothing else.
 */
#include "kube_lease.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "kube_backoff.h"
#include "log.h"

#define KUBE_LEASE_GROUP   "/apis/coordination.k8s.io/v1"
#define KUBE_LEASE_JITTER  1.2 /* client-go's JitterFactor for acquiring */

struct kube_lease {
    ctl_loop      *loop;
    kube_client   *client;
    char          *ns;
    char          *name;
    char          *identity;
    char          *ref;            /* "ns/name", for log lines             */
    char          *collection;     /* .../namespaces/NS/leases             */
    char          *item;           /* .../namespaces/NS/leases/NAME        */
    uint32_t       duration_ms;
    uint32_t       renew_ms;
    uint32_t       retry_ms;
    kube_lease_fn *on_change;
    void          *data;
    ctl_timer     *timer;
    kube_request  *req;
    bool           leading;
    bool           stopped;        /* released or releasing                */
    bool           stale;          /* a write met 409: read before writing */
    bool           failing;        /* the last request failed (logged)     */
    uint64_t       renewed_ms;     /* last successful write as leader      */
    cJSON         *observed;       /* the Lease as last read or written    */
    char          *observed_spec;  /* its spec printed, to see changes     */
    uint64_t       observed_ms;    /* local time the spec last changed     */
    void         (*released)(void *data);
    void          *released_data;
};

/* --------------------------------------------------------- the record */

/* MicroTime: RFC 3339, UTC, six fractional digits. */
static void
kube_lease_now(char *buf, size_t buflen)
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(buf, buflen, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, buflen - n, ".%06uZ",
             (unsigned)(ts.tv_nsec / 1000) % 1000000u);
}

static const cJSON *
kube_lease_spec(const cJSON *lease)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(lease, "spec");

    return cJSON_IsObject(spec) ? spec : NULL;
}

static const char *
kube_lease_holder(const cJSON *lease)
{
    const char *h = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        kube_lease_spec(lease), "holderIdentity"));

    return h ? h : "";
}

static bool
kube_lease_mine(const kube_lease *l)
{
    return l->observed != NULL &&
           strcmp(kube_lease_holder(l->observed), l->identity) == 0;
}

/* The observed record's own duration: that is what its holder promised. */
static uint64_t
kube_lease_observed_duration_ms(const kube_lease *l)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(
        kube_lease_spec(l->observed), "leaseDurationSeconds");

    if (cJSON_IsNumber(d) && d->valuedouble >= 1 && d->valuedouble <= 86400)
        return (uint64_t)d->valuedouble * 1000;
    return l->duration_ms;
}

static bool
kube_lease_observation_fresh(const kube_lease *l, uint64_t now)
{
    return l->observed != NULL &&
           l->observed_ms + kube_lease_observed_duration_ms(l) > now;
}

static double
kube_lease_transitions(const cJSON *lease)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(kube_lease_spec(lease),
                                                      "leaseTransitions");

    return cJSON_IsNumber(t) && t->valuedouble >= 0 ? t->valuedouble : 0;
}

/*
 * Takes lease over as the last observation.  Only a change of the spec
 * restarts the expiry clock; an unchanged record read again does not.
 */
static void
kube_lease_observe(kube_lease *l, cJSON *lease)
{
    char *spec = cJSON_PrintUnformatted(kube_lease_spec(lease));
    const char *before, *after;
    char q1[300], q2[300];

    if (spec == NULL) {
        cJSON_Delete(lease);
        return;
    }
    if (l->observed_spec != NULL && strcmp(spec, l->observed_spec) == 0) {
        free(spec);
        cJSON_Delete(l->observed);
        l->observed = lease;
        return;
    }
    before = l->observed ? kube_lease_holder(l->observed) : "";
    after = kube_lease_holder(lease);
    if (strcmp(before, after) != 0 && strcmp(after, l->identity) != 0)
        ctl_log(CTL_LOG_INFO, "lease holder changed",
                "lease=%s holder=\"%s\" previous=\"%s\"", l->ref,
                ctl_log_quote(after, q1, sizeof(q1)),
                ctl_log_quote(before, q2, sizeof(q2)));
    free(l->observed_spec);
    cJSON_Delete(l->observed);
    l->observed_spec = spec;
    l->observed = lease;
    l->observed_ms = ctl_now_ms();
}

/*
 * The Lease to write: the observed object (keeping its metadata and
 * resourceVersion) or a new one, with the record set.  holder NULL
 * writes a release.
 */
static char *
kube_lease_body(const kube_lease *l, const char *holder)
{
    cJSON *obj, *meta, *spec;
    bool mine = kube_lease_mine(l);
    double transitions = l->observed ? kube_lease_transitions(l->observed) : 0;
    const char *acquired = NULL;
    char now[40], *out = NULL;

    kube_lease_now(now, sizeof(now));
    if (l->observed != NULL) {
        obj = cJSON_Duplicate(l->observed, 1);
        acquired = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            kube_lease_spec(l->observed), "acquireTime"));
    } else {
        obj = cJSON_CreateObject();
        meta = cJSON_AddObjectToObject(obj, "metadata");
        if (meta == NULL || !cJSON_AddStringToObject(meta, "name", l->name) ||
            !cJSON_AddStringToObject(meta, "namespace", l->ns))
            goto out;
    }
    if (obj == NULL)
        goto out;
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "apiVersion");
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "kind");
    if (!cJSON_AddStringToObject(obj, "apiVersion", "coordination.k8s.io/v1") ||
        !cJSON_AddStringToObject(obj, "kind", "Lease"))
        goto out;
    if (holder != NULL && !mine && l->observed != NULL)
        transitions++; /* a takeover, as client-go counts them */
    if (holder == NULL || !mine || acquired == NULL)
        acquired = now;
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "spec");
    spec = cJSON_AddObjectToObject(obj, "spec");
    if (spec == NULL ||
        !cJSON_AddStringToObject(spec, "holderIdentity", holder ? holder : "") ||
        !cJSON_AddNumberToObject(spec, "leaseDurationSeconds",
                                 holder ? (l->duration_ms + 999) / 1000 : 1) ||
        !cJSON_AddStringToObject(spec, "acquireTime", acquired) ||
        !cJSON_AddStringToObject(spec, "renewTime", now) ||
        !cJSON_AddNumberToObject(spec, "leaseTransitions", transitions))
        goto out;
    out = cJSON_PrintUnformatted(obj);
out:
    cJSON_Delete(obj);
    return out;
}

/* ------------------------------------------------------------ rounds */

static void kube_lease_get(kube_lease *l);
static void kube_lease_write(kube_lease *l);

static void
kube_lease_set_leading(kube_lease *l, bool leading, const char *why)
{
    char q[300];

    if (l->leading == leading)
        return;
    l->leading = leading;
    if (leading)
        ctl_log(CTL_LOG_INFO, "leadership acquired",
                "lease=%s identity=\"%s\" transitions=%.0f", l->ref,
                ctl_log_quote(l->identity, q, sizeof(q)),
                kube_lease_transitions(l->observed));
    else
        ctl_log(CTL_LOG_WARN, "leadership lost",
                "lease=%s identity=\"%s\" reason=\"%s\"", l->ref,
                ctl_log_quote(l->identity, q, sizeof(q)), why);
    l->on_change(l->data, leading);
}

static void
kube_lease_schedule(kube_lease *l)
{
    uint64_t wait = l->retry_ms;

    if (!l->leading)
        wait += (uint64_t)(kube_jitter() * KUBE_LEASE_JITTER * l->retry_ms);
    if (ctl_timer_arm(l->timer, wait, 0) < 0)
        ctl_log(CTL_LOG_ERROR, "cannot arm the lease timer", "lease=%s",
                l->ref);
}

/* A leader that could not renew within the deadline steps down before
 * any follower may take the Lease (the deadline is shorter). */
static void
kube_lease_check_deadline(kube_lease *l)
{
    if (l->leading && ctl_now_ms() - l->renewed_ms >= l->renew_ms)
        kube_lease_set_leading(l, false, "not renewed within the renew "
                                         "deadline");
}

static void
kube_lease_round_failed(kube_lease *l)
{
    kube_lease_check_deadline(l);
    kube_lease_schedule(l);
}

static void
kube_lease_log_failure(kube_lease *l, const char *what,
                       const kube_response *resp)
{
    char desc[600], q[700];

    ctl_log(l->failing ? CTL_LOG_DEBUG : CTL_LOG_WARN, "lease request failed",
            "lease=%s request=%s error=\"%s\" leading=%s", l->ref, what,
            ctl_log_quote(kube_response_describe(resp, desc, sizeof(desc)), q,
                          sizeof(q)),
            l->leading ? "true" : "false");
    l->failing = true;
}

static cJSON *
kube_lease_parse(const kube_response *resp)
{
    cJSON *obj = cJSON_ParseWithLength(resp->body, resp->body_len);

    if (obj != NULL && !cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    return obj;
}

static void
kube_lease_write_done(kube_request *req, const kube_response *resp,
                      void *data)
{
    kube_lease *l = data;
    cJSON *lease;

    (void)req;
    l->req = NULL;
    if (resp->failed || (resp->status != 200 && resp->status != 201)) {
        if (!resp->failed && resp->status == 409) {
            l->stale = true; /* someone else wrote: read again */
            ctl_log(CTL_LOG_DEBUG, "lease write conflict", "lease=%s",
                    l->ref);
        } else {
            kube_lease_log_failure(l, "write", resp);
        }
        kube_lease_round_failed(l);
        return;
    }
    l->failing = false;
    l->stale = false;
    lease = kube_lease_parse(resp);
    if (lease != NULL)
        kube_lease_observe(l, lease);
    else
        l->stale = true;
    l->renewed_ms = ctl_now_ms();
    kube_lease_set_leading(l, true, NULL);
    kube_lease_schedule(l);
}

static void
kube_lease_get_done(kube_request *req, const kube_response *resp, void *data)
{
    kube_lease *l = data;
    cJSON *lease;
    const char *holder;

    (void)req;
    l->req = NULL;
    if (!resp->failed && resp->status == 404) {
        cJSON_Delete(l->observed);
        l->observed = NULL;
        free(l->observed_spec);
        l->observed_spec = NULL;
        kube_lease_write(l); /* create it */
        return;
    }
    if (resp->failed || resp->status != 200 ||
        (lease = kube_lease_parse(resp)) == NULL) {
        kube_lease_log_failure(l, "get", resp);
        kube_lease_round_failed(l);
        return;
    }
    l->failing = false;
    kube_lease_observe(l, lease);
    holder = kube_lease_holder(l->observed);
    if (holder[0] != '\0' && strcmp(holder, l->identity) != 0 &&
        kube_lease_observation_fresh(l, ctl_now_ms())) {
        kube_lease_set_leading(l, false, "another replica holds the lease");
        kube_lease_schedule(l);
        return;
    }
    kube_lease_write(l);
}

/* Takes body (NULL: none).  Returns -1 when the request cannot start. */
static int
kube_lease_request(kube_lease *l, const char *method, const char *path,
                   char *body, kube_done_fn *done, uint32_t timeout_ms)
{
    kube_request_opts o;

    memset(&o, 0, sizeof(o));
    o.method = method;
    o.path = path;
    o.body = body;
    o.body_len = body ? strlen(body) : 0;
    o.timeout_ms = timeout_ms;
    o.max_body = 1u << 20;
    o.on_done = done;
    o.data = l;
    l->req = kube_request_start(l->client, &o);
    free(body);
    return l->req != NULL ? 0 : -1;
}

/* A request of an attempt; one that cannot start fails the round. */
static void
kube_lease_start_request(kube_lease *l, const char *method, const char *path,
                         char *body, kube_done_fn *done, uint32_t timeout_ms)
{
    if (kube_lease_request(l, method, path, body, done, timeout_ms) < 0) {
        ctl_log(CTL_LOG_ERROR, "lease request not started",
                "lease=%s error=\"out of memory\"", l->ref);
        kube_lease_round_failed(l);
    }
}

/* A request may hang up to half the renew deadline: the next one still
 * fits before it passes. */
static uint32_t
kube_lease_timeout_ms(const kube_lease *l)
{
    return l->renew_ms / 2;
}

static void
kube_lease_get(kube_lease *l)
{
    kube_lease_start_request(l, "GET", l->item, NULL, kube_lease_get_done,
                             kube_lease_timeout_ms(l));
}

/* Creates the Lease when none was read, else updates what was read. */
static void
kube_lease_write(kube_lease *l)
{
    char *body = kube_lease_body(l, l->identity);

    if (body == NULL) {
        ctl_log(CTL_LOG_ERROR, "lease not written",
                "lease=%s error=\"out of memory\"", l->ref);
        kube_lease_round_failed(l);
        return;
    }
    if (l->observed == NULL)
        kube_lease_start_request(l, "POST", l->collection, body,
                                 kube_lease_write_done,
                                 kube_lease_timeout_ms(l));
    else
        kube_lease_start_request(l, "PUT", l->item, body,
                                 kube_lease_write_done,
                                 kube_lease_timeout_ms(l));
}

static void
kube_lease_tick(ctl_loop *loop, ctl_timer *timer, void *data)
{
    kube_lease *l = data;

    (void)loop;
    (void)timer;
    if (l->stopped)
        return;
    if (l->req != NULL) {
        kube_lease_round_failed(l); /* still waiting for the last one */
        return;
    }
    /* client-go's fast path: a leader with a fresh record renews blind. */
    if (l->leading && !l->stale && kube_lease_mine(l) &&
        kube_lease_observation_fresh(l, ctl_now_ms()))
        kube_lease_write(l);
    else
        kube_lease_get(l);
}

/* ------------------------------------------------------------ public */

static char *
kube_lease_paths(kube_lease *l, char **item)
{
    char ens[256], ename[800], buf[1200];

    if (kube_escape(l->ns, ens, sizeof(ens)) == NULL ||
        kube_escape(l->name, ename, sizeof(ename)) == NULL)
        return NULL;
    snprintf(buf, sizeof(buf), KUBE_LEASE_GROUP "/namespaces/%s/leases/%s",
             ens, ename);
    *item = strdup(buf);
    snprintf(buf, sizeof(buf), KUBE_LEASE_GROUP "/namespaces/%s/leases", ens);
    return strdup(buf);
}

kube_lease *
kube_lease_new(ctl_loop *loop, kube_client *client,
               const kube_lease_config *cfg, kube_lease_fn *on_change,
               void *data, char *err, size_t errlen)
{
    kube_lease *l;
    char ref[600];

    l = calloc(1, sizeof(*l));
    if (l == NULL)
        goto oom;
    l->loop = loop;
    l->client = client;
    l->on_change = on_change;
    l->data = data;
    l->duration_ms = cfg->lease_duration_ms ? cfg->lease_duration_ms
                                            : KUBE_LEASE_DURATION_MS;
    l->renew_ms = cfg->renew_deadline_ms ? cfg->renew_deadline_ms
                                         : KUBE_LEASE_RENEW_MS;
    l->retry_ms = cfg->retry_period_ms ? cfg->retry_period_ms
                                       : KUBE_LEASE_RETRY_MS;
    if (l->duration_ms <= l->renew_ms ||
        (double)l->renew_ms <= KUBE_LEASE_JITTER * l->retry_ms) {
        snprintf(err, errlen, "lease timings: duration %u ms must exceed the "
                 "renew deadline %u ms, which must exceed 1.2 x the retry "
                 "period %u ms", l->duration_ms, l->renew_ms, l->retry_ms);
        free(l);
        return NULL;
    }
    snprintf(ref, sizeof(ref), "%s/%s", cfg->namespace_, cfg->name);
    l->ns = strdup(cfg->namespace_);
    l->name = strdup(cfg->name);
    l->identity = strdup(cfg->identity);
    l->ref = strdup(ref);
    l->timer = ctl_timer_new(loop, kube_lease_tick, l);
    if (l->ns == NULL || l->name == NULL || l->identity == NULL ||
        l->ref == NULL || l->timer == NULL)
        goto oom;
    l->collection = kube_lease_paths(l, &l->item);
    if (l->collection == NULL || l->item == NULL) {
        snprintf(err, errlen, "lease %s: name too long", ref);
        kube_lease_free(l);
        return NULL;
    }
    return l;
oom:
    snprintf(err, errlen, "out of memory");
    kube_lease_free(l);
    return NULL;
}

void
kube_lease_free(kube_lease *l)
{
    if (l == NULL)
        return;
    kube_request_cancel(l->req);
    ctl_timer_free(l->timer);
    cJSON_Delete(l->observed);
    free(l->observed_spec);
    free(l->ns);
    free(l->name);
    free(l->identity);
    free(l->ref);
    free(l->collection);
    free(l->item);
    free(l);
}

int
kube_lease_start(kube_lease *l)
{
    char q[300];

    ctl_log(CTL_LOG_INFO, "leader election started",
            "lease=%s identity=\"%s\" lease_duration_ms=%u "
            "renew_deadline_ms=%u retry_period_ms=%u",
            l->ref, ctl_log_quote(l->identity, q, sizeof(q)), l->duration_ms,
            l->renew_ms, l->retry_ms);
    return ctl_timer_arm(l->timer, 0, 0);
}

static void
kube_lease_released(kube_request *req, const kube_response *resp, void *data)
{
    kube_lease *l = data;
    char desc[600], q[700];

    (void)req;
    l->req = NULL;
    if (!resp->failed && resp->status == 200)
        ctl_log(CTL_LOG_INFO, "leadership released", "lease=%s", l->ref);
    else
        ctl_log(CTL_LOG_WARN, "lease not released",
                "lease=%s error=\"%s\" effect=\"another replica takes over "
                "when the lease expires\"",
                l->ref,
                ctl_log_quote(kube_response_describe(resp, desc, sizeof(desc)),
                              q, sizeof(q)));
    l->released(l->released_data);
}

void
kube_lease_release(kube_lease *l, void (*done)(void *data), void *data)
{
    char *body;

    l->stopped = true;
    ctl_timer_disarm(l->timer);
    kube_request_cancel(l->req);
    l->req = NULL;
    if (!l->leading || l->observed == NULL) {
        done(data);
        return;
    }
    l->leading = false;
    l->on_change(l->data, false);
    body = kube_lease_body(l, NULL);
    if (body == NULL) {
        done(data);
        return;
    }
    l->released = done;
    l->released_data = data;
    if (kube_lease_request(l, "PUT", l->item, body, kube_lease_released,
                           KUBE_LEASE_RELEASE_MS) < 0)
        done(data);
}
