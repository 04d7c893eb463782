/*
 * kube_events.c -- Events about problems with Ingresses (see
 * kube_events.h).
 *
 * A record per (Ingress, reason, message) counts occurrences and
 * remembers the Event object that stands for them.  Records with
 * occurrences to send sit on a list; pump() walks it, sends what is due
 * as far as the rate limits and the request slots allow, and arms one
 * timer for the earliest record still waiting.  The list is short in
 * practice (only problems are on it) and walking it keeps the order of
 * due times out of the data structure.
 */
#include "kube_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "kube_backoff.h"
#include "kube_keymap.h"
#include "log.h"

#define KUBE_EVENT_NAME_MAX 253u
#define KUBE_EVENT_RETRY_MS 1000u

/* A token bucket: tokens refill one per refill_ms up to burst. */
typedef struct {
    double   tokens;
    uint64_t at_ms;
} kube_bucket;

typedef struct kube_event_rec kube_event_rec;

struct kube_event_rec {
    kube_keyent    *key;      /* ns, "name\x1freason\x1fmessage"      */
    kube_keyent    *object;   /* its Ingress's bucket entry          */
    kube_event_rec *next;     /* on the send list                    */
    char           *name;     /* the Ingress                         */
    char           *reason;
    char           *message;
    char           *uid;      /* of the Ingress version last seen    */
    char           *rv;
    char           *generation; /* its metadata.generation           */
    uint64_t        seen;     /* report that last named it           */
    bool            present;  /* in the last complete report         */
    bool            listed;   /* on the send list                    */
    bool            busy;     /* a request is in flight              */
    unsigned        pending;  /* occurrences not sent yet            */
    unsigned        sending;  /* occurrences in the request          */
    unsigned        count;    /* occurrences the Event holds         */
    unsigned        tries;
    uint64_t        due_ms;   /* not sent before                     */
    uint64_t        gone_ms;  /* when it was last seen               */
    char           *event;    /* name of its Event, once created     */
};

typedef struct {
    kube_events    *ev;
    kube_event_rec *rec;      /* NULL: free                          */
    kube_request   *req;
} kube_event_slot;

struct kube_events {
    ctl_loop        *loop;
    kube_client     *client;
    char            *component;
    char            *instance;
    uint64_t         settle_ms;
    ctl_model_sink   sink;
    bool             leading;
    uint64_t         report;
    kube_keymap      records;  /* ptr: kube_event_rec                */
    kube_keymap      objects;  /* ptr: kube_bucket, count: records   */
    kube_event_rec  *list;
    kube_bucket      global;
    kube_event_slot  slots[KUBE_EVENT_REQUESTS];
    ctl_timer       *timer;
};

/* ----------------------------------------------------------- helpers */

/* metav1.Time: RFC 3339 in whole seconds, UTC. */
static void
kube_events_now(char *buf, size_t buflen)
{
    time_t t = time(NULL);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, buflen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool
kube_bucket_take(kube_bucket *b, unsigned burst, uint64_t refill_ms,
                 uint64_t now)
{
    b->tokens += (double)(now - b->at_ms) / (double)refill_ms;
    if (b->tokens > burst)
        b->tokens = burst;
    b->at_ms = now;
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

/* When the bucket has a token again. */
static uint64_t
kube_bucket_next(const kube_bucket *b, uint64_t refill_ms)
{
    return b->at_ms + (uint64_t)((1.0 - b->tokens) * (double)refill_ms) + 1;
}

static int
kube_events_replace(char **field, const char *value)
{
    char *copy;

    if (*field != NULL && strcmp(*field, value) == 0)
        return 0;
    copy = strdup(value);
    if (copy == NULL)
        return -1;
    free(*field);
    *field = copy;
    return 0;
}

static const char *
kube_events_meta(const ctl_object *obj, const char *key)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj->json, "metadata"), key));

    return v ? v : "";
}

/* ----------------------------------------------------------- records */

static void kube_events_pump(kube_events *ev);

static void
kube_events_list(kube_events *ev, kube_event_rec *rec)
{
    if (rec->listed)
        return;
    rec->listed = true;
    rec->next = ev->list;
    ev->list = rec;
}

static void
kube_event_rec_free(kube_event_rec *rec)
{
    free(rec->name);
    free(rec->reason);
    free(rec->message);
    free(rec->uid);
    free(rec->rv);
    free(rec->generation);
    free(rec->event);
    free(rec);
}

/* Only records neither listed nor busy may go. */
static void
kube_events_remove(kube_events *ev, kube_event_rec *rec)
{
    kube_keyent *obj = rec->object, *key = rec->key;

    if (--obj->count == 0) {
        free(obj->ptr);
        kube_keymap_del(&ev->objects, obj->ns, obj->name);
    }
    kube_event_rec_free(rec);
    kube_keymap_del(&ev->records, key->ns, key->name);
}

static kube_event_rec *
kube_events_record(kube_events *ev, const ctl_object *ing, const char *reason,
                   const char *message, const char *key)
{
    kube_keyent *e, *obj;
    kube_event_rec *rec;
    int created = 0;

    e = kube_keymap_put(&ev->records, ing->namespace_, key, &created);
    if (e == NULL || !created)
        return e ? e->ptr : NULL;
    obj = kube_keymap_put(&ev->objects, ing->namespace_, ing->name, &created);
    rec = calloc(1, sizeof(*rec));
    if (obj != NULL && created) {
        kube_bucket *b = calloc(1, sizeof(*b));

        if (b != NULL) {
            b->tokens = KUBE_EVENT_BURST;
            b->at_ms = ctl_now_ms();
        }
        obj->ptr = b;
    }
    if (obj == NULL || obj->ptr == NULL || rec == NULL ||
        (rec->name = strdup(ing->name)) == NULL ||
        (rec->reason = strdup(reason)) == NULL ||
        (rec->message = strdup(message)) == NULL) {
        if (obj != NULL && obj->count == 0) {
            free(obj->ptr);
            kube_keymap_del(&ev->objects, ing->namespace_, ing->name);
        }
        if (rec != NULL)
            kube_event_rec_free(rec);
        kube_keymap_del(&ev->records, ing->namespace_, key);
        return NULL;
    }
    obj->count++;
    rec->key = e;
    rec->object = obj;
    e->ptr = rec;
    return rec;
}

/* ------------------------------------------------------------- sink */

static void
kube_events_begin(void *data)
{
    kube_events *ev = data;

    ev->report++;
}

/*
 * Counts an occurrence when the problem is new to the last complete
 * report, or the Ingress's spec changed since (metadata.generation: a
 * status write, ours included, is no new occurrence).
 */
static void
kube_events_problem(void *data, const ctl_object *ing, const char *reason,
                    const char *message)
{
    kube_events *ev = data;
    const char *rv = kube_events_meta(ing, "resourceVersion");
    const cJSON *gen = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ing->json, "metadata"), "generation");
    char generation[32];
    kube_event_rec *rec;
    char key[2048];
    bool occurred;

    snprintf(key, sizeof(key), "%s\x1f%s\x1f%s", ing->name, reason, message);
    rec = kube_events_record(ev, ing, reason, message, key);
    if (rec == NULL) {
        ctl_log(CTL_LOG_ERROR, "event not recorded",
                "object=%s/%s reason=%s error=\"out of memory\"",
                ing->namespace_, ing->name, reason);
        return;
    }
    if (rec->seen == ev->report)
        return;
    rec->seen = ev->report;
    snprintf(generation, sizeof(generation), "%.0f",
             cJSON_IsNumber(gen) ? gen->valuedouble : 0.0);
    occurred = !rec->present || rec->generation == NULL ||
               strcmp(rec->generation, generation) != 0;
    if (kube_events_replace(&rec->rv, rv) < 0 ||
        kube_events_replace(&rec->generation, generation) < 0 ||
        kube_events_replace(&rec->uid, kube_events_meta(ing, "uid")) < 0)
        return;
    if (!occurred)
        return;
    if (!rec->present && rec->pending == 0)
        rec->due_ms = ctl_now_ms() + ev->settle_ms;
    rec->pending++;
    kube_events_list(ev, rec);
}

static void
kube_events_end(void *data, bool complete)
{
    kube_events *ev = data;
    uint64_t now = ctl_now_ms();
    kube_keyiter iter;
    kube_keyent *e;

    if (!complete)
        return;
    kube_keyiter_init(&iter, &ev->records);
    while ((e = kube_keyiter_next(&iter, &ev->records)) != NULL) {
        kube_event_rec *rec = e->ptr;

        if (rec->seen == ev->report) {
            rec->present = true;
            continue;
        }
        if (rec->present) {
            rec->present = false;
            rec->gone_ms = now;
            rec->pending = 0; /* it went away before it was sent */
        }
        if (!rec->listed && !rec->busy &&
            (rec->event == NULL || now - rec->gone_ms > KUBE_EVENT_KEEP_MS))
            kube_events_remove(ev, rec);
    }
    kube_events_pump(ev);
}

/* ------------------------------------------------------------ sending */

static char *
kube_events_new_name(const kube_event_rec *rec)
{
    struct timespec ts;
    char name[KUBE_EVENT_NAME_MAX + 1];
    size_t n = strlen(rec->name);

    /* client-go's "<object>.<hex nanoseconds>", cut to fit a name. */
    if (n > KUBE_EVENT_NAME_MAX - 17)
        n = KUBE_EVENT_NAME_MAX - 17;
    while (n > 1 && (rec->name[n - 1] == '.' || rec->name[n - 1] == '-'))
        n--;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(name, sizeof(name), "%.*s.%llx", (int)n, rec->name,
             (unsigned long long)ts.tv_sec * 1000000000ull +
                 (unsigned long long)ts.tv_nsec);
    return strdup(name);
}

static char *
kube_events_create_body(const kube_events *ev, const kube_event_rec *rec,
                        const char *name, const char *now)
{
    cJSON *o = cJSON_CreateObject(), *meta, *inv, *src;
    const char *ns = rec->key->ns;
    char *out = NULL;

    if (o == NULL || !cJSON_AddStringToObject(o, "apiVersion", "v1") ||
        !cJSON_AddStringToObject(o, "kind", "Event") ||
        (meta = cJSON_AddObjectToObject(o, "metadata")) == NULL ||
        !cJSON_AddStringToObject(meta, "name", name) ||
        !cJSON_AddStringToObject(meta, "namespace", ns) ||
        (inv = cJSON_AddObjectToObject(o, "involvedObject")) == NULL ||
        !cJSON_AddStringToObject(inv, "apiVersion", "networking.k8s.io/v1") ||
        !cJSON_AddStringToObject(inv, "kind", "Ingress") ||
        !cJSON_AddStringToObject(inv, "namespace", ns) ||
        !cJSON_AddStringToObject(inv, "name", rec->name) ||
        !cJSON_AddStringToObject(inv, "uid", rec->uid) ||
        !cJSON_AddStringToObject(inv, "resourceVersion", rec->rv) ||
        !cJSON_AddStringToObject(o, "type", "Warning") ||
        !cJSON_AddStringToObject(o, "reason", rec->reason) ||
        !cJSON_AddStringToObject(o, "message", rec->message) ||
        (src = cJSON_AddObjectToObject(o, "source")) == NULL ||
        !cJSON_AddStringToObject(src, "component", ev->component) ||
        !cJSON_AddStringToObject(o, "firstTimestamp", now) ||
        !cJSON_AddStringToObject(o, "lastTimestamp", now) ||
        !cJSON_AddNumberToObject(o, "count", rec->sending) ||
        !cJSON_AddStringToObject(o, "reportingComponent", ev->component) ||
        !cJSON_AddStringToObject(o, "reportingInstance", ev->instance))
        goto out;
    out = cJSON_PrintUnformatted(o);
out:
    cJSON_Delete(o);
    return out;
}

static char *
kube_events_patch_body(const kube_event_rec *rec, const char *now)
{
    cJSON *o = cJSON_CreateObject();
    char *out = NULL;

    if (o != NULL &&
        cJSON_AddNumberToObject(o, "count", rec->count + rec->sending) &&
        cJSON_AddStringToObject(o, "lastTimestamp", now) &&
        cJSON_AddStringToObject(o, "message", rec->message))
        out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}

static void
kube_events_slot_done(kube_event_slot *slot)
{
    kube_event_rec *rec = slot->rec;

    slot->rec = NULL;
    slot->req = NULL;
    rec->busy = false;
    if (rec->pending > 0)
        kube_events_list(slot->ev, rec);
}

/* A failed send keeps its occurrences for a later try, a few times. */
static void
kube_events_failed(kube_event_slot *slot, const kube_response *resp)
{
    kube_event_rec *rec = slot->rec;
    char desc[600], q[700];

    if (++rec->tries < KUBE_EVENT_TRIES) {
        rec->pending += rec->sending;
        rec->due_ms = ctl_now_ms() + ((uint64_t)KUBE_EVENT_RETRY_MS
                                      << rec->tries);
    } else {
        ctl_log(CTL_LOG_WARN, "event not recorded",
                "object=%s/%s reason=%s error=\"%s\"", rec->key->ns,
                rec->name, rec->reason,
                ctl_log_quote(kube_response_describe(resp, desc, sizeof(desc)),
                              q, sizeof(q)));
        rec->tries = 0;
    }
    rec->sending = 0;
}

static void
kube_events_sent(kube_request *req, const kube_response *resp, void *data)
{
    kube_event_slot *slot = data;
    kube_event_rec *rec = slot->rec;
    kube_events *ev = slot->ev;
    bool create = rec->event == NULL || rec->count == 0;

    (void)req;
    if (!resp->failed && (resp->status == 200 || resp->status == 201)) {
        rec->count += rec->sending;
        rec->sending = 0;
        rec->tries = 0;
        ctl_log(CTL_LOG_DEBUG, create ? "event created" : "event updated",
                "object=%s/%s reason=%s event=%s count=%u", rec->key->ns,
                rec->name, rec->reason, rec->event, rec->count);
    } else if (!create && !resp->failed && resp->status == 404) {
        /* The Event expired (or was deleted): start a new one. */
        rec->count = 0;
        rec->pending += rec->sending;
        rec->sending = 0;
        rec->due_ms = 0;
    } else {
        if (create) {
            free(rec->event);
            rec->event = NULL;
        }
        kube_events_failed(slot, resp);
    }
    kube_events_slot_done(slot);
    kube_events_pump(ev);
}

static int
kube_events_send(kube_events *ev, kube_event_slot *slot, kube_event_rec *rec)
{
    char now[32], ens[256], ename[800], path[1200], *body;
    kube_request_opts o;
    bool create = rec->event == NULL || rec->count == 0;

    if (kube_escape(rec->key->ns, ens, sizeof(ens)) == NULL)
        return -1;
    kube_events_now(now, sizeof(now));
    memset(&o, 0, sizeof(o));
    rec->sending = rec->pending;
    rec->pending = 0;
    if (create) {
        free(rec->event);
        rec->event = kube_events_new_name(rec);
        if (rec->event == NULL)
            return -1;
        body = kube_events_create_body(ev, rec, rec->event, now);
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events", ens);
        o.method = "POST";
    } else {
        if (kube_escape(rec->event, ename, sizeof(ename)) == NULL)
            return -1;
        body = kube_events_patch_body(rec, now);
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events/%s", ens,
                 ename);
        o.method = "PATCH";
        o.content_type = "application/merge-patch+json";
    }
    if (body == NULL)
        return -1;
    o.path = path;
    o.body = body;
    o.body_len = strlen(body);
    o.max_body = 1u << 20;
    o.on_done = kube_events_sent;
    o.data = slot;
    slot->rec = rec;
    rec->busy = true;
    slot->req = kube_request_start(ev->client, &o);
    free(body);
    if (slot->req == NULL) {
        slot->rec = NULL;
        rec->busy = false;
        return -1;
    }
    return 0;
}

static kube_event_slot *
kube_events_free_slot(kube_events *ev)
{
    for (size_t i = 0; i < KUBE_EVENT_REQUESTS; i++) {
        if (ev->slots[i].rec == NULL)
            return &ev->slots[i];
    }
    return NULL;
}

/*
 * Is rec ready to go now?  Returns 1 to send, 0 to wait until *wake, -1
 * when its occurrences are dropped.
 */
static int
kube_events_ready(kube_event_rec *rec, uint64_t now, uint64_t *wake)
{
    if (rec->due_ms > now) {
        if (rec->due_ms < *wake)
            *wake = rec->due_ms;
        return 0;
    }
    if (!kube_bucket_take(rec->object->ptr, KUBE_EVENT_BURST,
                          KUBE_EVENT_REFILL_MS, now)) {
        ctl_log(CTL_LOG_DEBUG, "event dropped",
                "object=%s/%s reason=%s why=\"more than %u events for the "
                "ingress\"",
                rec->key->ns, rec->name, rec->reason, KUBE_EVENT_BURST);
        return -1;
    }
    return 1;
}

/* Takes finished records off the list; sends what is due. */
static void
kube_events_pump(kube_events *ev)
{
    uint64_t now = ctl_now_ms(), wake = UINT64_MAX;
    kube_event_rec **link = &ev->list;
    kube_event_slot *slot;

    while (*link != NULL) {
        kube_event_rec *rec = *link;
        int ready;

        if (rec->busy || rec->pending == 0 || !rec->present) {
            *link = rec->next;
            rec->listed = false;
            continue;
        }
        if (!ev->leading || (slot = kube_events_free_slot(ev)) == NULL)
            break;
        ready = kube_events_ready(rec, now, &wake);
        if (ready == 0) {
            link = &rec->next;
            continue;
        }
        if (ready > 0 && !kube_bucket_take(&ev->global,
                                           KUBE_EVENT_GLOBAL_BURST,
                                           KUBE_EVENT_GLOBAL_REFILL_MS, now)) {
            /* Over the global rate: give the token back and wait. */
            ((kube_bucket *)rec->object->ptr)->tokens += 1.0;
            wake = kube_bucket_next(&ev->global, KUBE_EVENT_GLOBAL_REFILL_MS);
            break;
        }
        *link = rec->next;
        rec->listed = false;
        if (ready < 0) {
            rec->pending = 0;
            continue;
        }
        if (kube_events_send(ev, slot, rec) < 0) {
            ctl_log(CTL_LOG_ERROR, "event not recorded",
                    "object=%s/%s reason=%s error=\"out of memory\"",
                    rec->key->ns, rec->name, rec->reason);
            rec->pending = 0;
        }
    }
    if (ev->leading && wake != UINT64_MAX)
        ctl_timer_arm(ev->timer, wake > now ? wake - now : 0, 0);
}

static void
kube_events_tick(ctl_loop *loop, ctl_timer *timer, void *data)
{
    (void)loop;
    (void)timer;
    kube_events_pump(data);
}

/* ------------------------------------------------------------ public */

kube_events *
kube_events_new(ctl_loop *loop, kube_client *client,
                const kube_events_config *cfg, char *err, size_t errlen)
{
    kube_events *ev = calloc(1, sizeof(*ev));

    if (ev == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ev->loop = loop;
    ev->client = client;
    ev->settle_ms = cfg->settle_ms ? cfg->settle_ms : KUBE_EVENT_SETTLE_MS;
    ev->component = strdup(cfg->component);
    ev->instance = strdup(cfg->instance);
    ev->timer = ctl_timer_new(loop, kube_events_tick, ev);
    ev->global.tokens = KUBE_EVENT_GLOBAL_BURST;
    ev->global.at_ms = ctl_now_ms();
    ev->sink.begin = kube_events_begin;
    ev->sink.problem = kube_events_problem;
    ev->sink.end = kube_events_end;
    ev->sink.data = ev;
    kube_keymap_init(&ev->records);
    kube_keymap_init(&ev->objects);
    for (size_t i = 0; i < KUBE_EVENT_REQUESTS; i++)
        ev->slots[i].ev = ev;
    if (ev->component == NULL || ev->instance == NULL || ev->timer == NULL) {
        snprintf(err, errlen, "out of memory");
        kube_events_free(ev);
        return NULL;
    }
    return ev;
}

void
kube_events_free(kube_events *ev)
{
    kube_keyiter iter;
    kube_keyent *e;

    if (ev == NULL)
        return;
    for (size_t i = 0; i < KUBE_EVENT_REQUESTS; i++)
        kube_request_cancel(ev->slots[i].req);
    ctl_timer_free(ev->timer);
    kube_keyiter_init(&iter, &ev->records);
    while ((e = kube_keyiter_next(&iter, &ev->records)) != NULL)
        kube_event_rec_free(e->ptr);
    kube_keymap_clear(&ev->records);
    kube_keyiter_init(&iter, &ev->objects);
    while ((e = kube_keyiter_next(&iter, &ev->objects)) != NULL)
        free(e->ptr);
    kube_keymap_clear(&ev->objects);
    free(ev->component);
    free(ev->instance);
    free(ev);
}

const ctl_model_sink *
kube_events_sink(kube_events *ev)
{
    return &ev->sink;
}

void
kube_events_set_leader(kube_events *ev, bool leading)
{
    if (ev->leading == leading)
        return;
    ev->leading = leading;
    if (leading) {
        kube_events_pump(ev);
        return;
    }
    ctl_timer_disarm(ev->timer);
    for (size_t i = 0; i < KUBE_EVENT_REQUESTS; i++) {
        kube_event_slot *slot = &ev->slots[i];

        if (slot->rec == NULL)
            continue;
        kube_request_cancel(slot->req);
        slot->rec->pending += slot->rec->sending;
        slot->rec->sending = 0;
        if (slot->rec->count == 0) {
            free(slot->rec->event);
            slot->rec->event = NULL;
        }
        kube_events_slot_done(slot);
    }
}
