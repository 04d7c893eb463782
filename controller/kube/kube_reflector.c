/*
 * kube_reflector.c -- list + watch of one kind into the store (see
 * kube_reflector.h).
 *
 * A reflector is always in exactly one of three places: a request in
 * flight (a list page or the watch), or the retry timer armed with what
 * to do next.  Every path out of a request ends in kube_reflector_then,
 * which arms the timer, so there is one place that decides "what next"
 * and no path can leave a reflector idle by accident.
 *
 * Two key sets make deletes visible without trusting the store: `known`
 * is what the API had as of the last list plus the events since, and
 * `listing` collects the keys of the list in progress.  When a list
 * completes, whatever is in known but not in listing was deleted while
 * we were not watching.  Both hold every object seen, also those the
 * owner chose not to store (unreferenced Secrets), so the owner can ask
 * whether an object exists before fetching it.
 */
#include "kube_reflector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_backoff.h"
#include "kube_keymap.h"
#include "kube_lines.h"
#include "log.h"

#define KUBE_MAX_RV 256u /* bytes; real ones are decimal numbers */

typedef struct {
    const char *prefix;      /* API group path                        */
    const char *resource;    /* plural                                */
    const char *api_version; /* for list items, which lack it        */
    const char *kind;
    bool        namespaced;
} kube_kind_info;

static const kube_kind_info kube_kinds[CTL_KIND_COUNT] = {
    [CTL_KIND_INGRESS_CLASS] = {"/apis/networking.k8s.io/v1", "ingressclasses",
                                "networking.k8s.io/v1", "IngressClass", false},
    [CTL_KIND_INGRESS] = {"/apis/networking.k8s.io/v1", "ingresses",
                          "networking.k8s.io/v1", "Ingress", true},
    [CTL_KIND_SERVICE] = {"/api/v1", "services", "v1", "Service", true},
    [CTL_KIND_ENDPOINT_SLICE] = {"/apis/discovery.k8s.io/v1",
                                 "endpointslices", "discovery.k8s.io/v1",
                                 "EndpointSlice", true},
    [CTL_KIND_SECRET] = {"/api/v1", "secrets", "v1", "Secret", true},
    [CTL_KIND_CONFIG_MAP] = {"/api/v1", "configmaps", "v1", "ConfigMap", true},
};

typedef enum { KUBE_NEXT_LIST, KUBE_NEXT_WATCH } kube_next;

/* What a watch's events decided before the stream ended. */
typedef enum {
    KUBE_VERDICT_NONE,
    KUBE_VERDICT_RELIST, /* ERROR 410                            */
    KUBE_VERDICT_ERROR,  /* another ERROR event                  */
    KUBE_VERDICT_BROKEN  /* garbage, an oversized line, no memory */
} kube_verdict;

struct kube_reflector {
    kube_client          *client;
    ctl_store            *store;
    ctl_pipeline_source  *link;
    ctl_kind              kind;
    const kube_kind_info *info;
    char                 *namespace_;
    char                 *selector;   /* "&fieldSelector=..." or ""   */
    unsigned              limit;
    kube_reflector_hooks  hooks;

    kube_keymap           known;
    kube_keymap           listing;
    char                 *rv;         /* where the next watch starts  */
    char                 *cont;       /* continue token of the list   */
    unsigned              pages;
    size_t                list_items;
    uint64_t              list_started_ms;
    uint64_t              list_done_ms;

    kube_request         *req;
    ctl_timer            *retry;
    kube_next             next;
    kube_backoff          backoff;

    kube_lines            lines;
    uint64_t              watch_started_ms;
    uint64_t              watch_events;
    kube_verdict          verdict;

    bool                  synced;
    bool                  changed;   /* the store changed: poke      */
    kube_reflector_stats  stats;
};

static int kube_reflector_then(kube_reflector *r, kube_next next,
                               uint64_t wait_ms);

/* ----------------------------------------------------------- objects */

char *
kube_collection_path(ctl_kind kind, const char *ns, char *buf, size_t buflen)
{
    const kube_kind_info *k = &kube_kinds[kind];
    char esc[256];
    int n;

    if (k->namespaced && ns != NULL && *ns != '\0') {
        if (kube_escape(ns, esc, sizeof(esc)) == NULL)
            return NULL;
        n = snprintf(buf, buflen, "%s/namespaces/%s/%s", k->prefix, esc,
                     k->resource);
    } else {
        n = snprintf(buf, buflen, "%s/%s", k->prefix, k->resource);
    }
    return n < 0 || (size_t)n >= buflen ? NULL : buf;
}

/*
 * An object's resourceVersion, or NULL.  Opaque, but it goes into URLs
 * and log lines, so only short runs of visible ASCII other than quotes
 * and backslashes are taken (real ones are decimal numbers).
 */
static const char *
kube_rv_of(const cJSON *obj)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
    size_t n;

    if (!cJSON_IsString(rv))
        return NULL;
    n = strlen(rv->valuestring);
    if (n == 0 || n > KUBE_MAX_RV)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)rv->valuestring[i];

        if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\')
            return NULL;
    }
    return rv->valuestring;
}

static int
kube_object_skip(ctl_kind kind, const char *ns, const char *name,
                 const char *field, const char *value, const char *problem)
{
    char qo[600], qv[300], ref[600];

    snprintf(ref, sizeof(ref), "%s%s%s", ns ? ns : "", ns && *ns ? "/" : "",
             name ? name : "");
    ctl_log(CTL_LOG_WARN, "API object skipped",
            "kind=%s object=\"%s\" field=%s value=\"%s\" problem=\"%s\"",
            kube_kinds[kind].kind, ctl_log_quote(ref, qo, sizeof(qo)), field,
            ctl_log_quote(value, qv, sizeof(qv)), problem);
    return -1;
}

/* A name or namespace the API server could have produced. */
static bool
kube_name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);

    return n > 0 && n <= max && strchr(s, '/') == NULL;
}

int
kube_object_prepare(ctl_kind kind, cJSON *obj, const char **ns,
                    const char **name)
{
    const kube_kind_info *k = &kube_kinds[kind];
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(meta, "name");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
    const cJSON *av = cJSON_GetObjectItemCaseSensitive(obj, "apiVersion");
    const cJSON *kd = cJSON_GetObjectItemCaseSensitive(obj, "kind");

    if (!cJSON_IsObject(obj) || !cJSON_IsObject(meta))
        return kube_object_skip(kind, NULL, NULL, "metadata", "",
                                "missing or not an object");
    if (!cJSON_IsString(n) || !kube_name_ok(n->valuestring, 253))
        return kube_object_skip(kind, NULL, NULL, "metadata.name",
                                cJSON_IsString(n) ? n->valuestring : "",
                                "missing or not a name");
    *name = n->valuestring;
    *ns = "";
    if (k->namespaced) {
        if (!cJSON_IsString(s) || !kube_name_ok(s->valuestring, 63))
            return kube_object_skip(kind, NULL, *name, "metadata.namespace",
                                    cJSON_IsString(s) ? s->valuestring : "",
                                    "missing or not a namespace");
        *ns = s->valuestring;
    }
    if ((av != NULL && (!cJSON_IsString(av) ||
                        strcmp(av->valuestring, k->api_version) != 0)) ||
        (kd != NULL && (!cJSON_IsString(kd) ||
                        strcmp(kd->valuestring, k->kind) != 0)))
        return kube_object_skip(kind, *ns, *name, "kind",
                                cJSON_IsString(kd) ? kd->valuestring : "",
                                "not the kind that was asked for");
    if ((av == NULL &&
         cJSON_AddStringToObject(obj, "apiVersion", k->api_version) == NULL) ||
        (kd == NULL && cJSON_AddStringToObject(obj, "kind", k->kind) == NULL))
        return kube_object_skip(kind, *ns, *name, "-", "", "out of memory");
    return 0;
}

/*
 * Records obj (owned) as present in keys and puts it in the store when it
 * is wanted and differs from what the store has.
 */
static void
kube_reflector_apply(kube_reflector *r, kube_keymap *keys, cJSON *obj)
{
    const char *ns, *name, *rv;
    const ctl_object *old;

    if (kube_object_prepare(r->kind, obj, &ns, &name) < 0) {
        cJSON_Delete(obj);
        return;
    }
    if (kube_keymap_put(keys, ns, name, NULL) == NULL)
        ctl_log(CTL_LOG_ERROR, "out of memory", "kind=%s", r->info->kind);
    if (r->hooks.observed != NULL)
        r->hooks.observed(r->hooks.data, ns, name, obj);
    if (r->hooks.wanted != NULL && !r->hooks.wanted(r->hooks.data, ns, name)) {
        if (ctl_store_delete(r->store, r->kind, ns, name))
            r->changed = true;
        cJSON_Delete(obj);
        return;
    }
    old = ctl_store_get(r->store, r->kind, ns, name);
    rv = kube_rv_of(obj);
    if (old != NULL && rv != NULL && kube_rv_of(old->json) != NULL &&
        strcmp(rv, kube_rv_of(old->json)) == 0) {
        cJSON_Delete(obj);
        return;
    }
    /* ns and name live in obj, which the store may free on failure. */
    if (ctl_store_put(r->store, r->kind, ns, name, obj, "api") < 0)
        ctl_log(CTL_LOG_ERROR, "out of memory", "kind=%s", r->info->kind);
    else
        r->changed = true;
}

static void
kube_reflector_remove(kube_reflector *r, const char *ns, const char *name)
{
    kube_keymap_del(&r->known, ns, name);
    if (r->hooks.observed != NULL)
        r->hooks.observed(r->hooks.data, ns, name, NULL);
    if (ctl_store_delete(r->store, r->kind, ns, name))
        r->changed = true;
}

static void
kube_reflector_notify(kube_reflector *r)
{
    if (!r->changed)
        return;
    r->changed = false;
    if (r->link != NULL)
        ctl_pipeline_source_changed(r->link);
}

static int
kube_set_string(char **dst, const char *s)
{
    char *copy = s ? strdup(s) : NULL;

    if (s != NULL && copy == NULL)
        return -1;
    free(*dst);
    *dst = copy;
    return 0;
}

/* ------------------------------------------------------------ failures */

static void
kube_reflector_log_failure(kube_reflector *r, const char *action,
                           const kube_response *resp, uint64_t wait_ms)
{
    char desc[600], q[700];
    ctl_log_level level = resp->status == 403 ? CTL_LOG_ERROR : CTL_LOG_WARN;

    ctl_log(level, "API request failed",
            "kind=%s action=%s namespace=\"%s\" error=\"%s\" retry_in_ms=%llu",
            r->info->kind, action, r->namespace_ ? r->namespace_ : "",
            ctl_log_quote(kube_response_describe(resp, desc, sizeof(desc)), q,
                          sizeof(q)),
            (unsigned long long)wait_ms);
}

/* A request that did not work out: decide when to do what. */
static void
kube_reflector_failed(kube_reflector *r, const kube_response *resp,
                      kube_next next)
{
    const char *action = next == KUBE_NEXT_LIST ? "list" : "watch";
    uint64_t now = ctl_now_ms(), wait;

    if (!resp->failed && resp->status == 401 && resp->token_renewed) {
        ctl_log(CTL_LOG_INFO, "retrying with the new token", "kind=%s action=%s",
                r->info->kind, action);
        kube_reflector_then(r, next, 0);
        return;
    }
    if (!resp->failed && resp->status == 410 && next == KUBE_NEXT_WATCH) {
        r->stats.expired++;
        ctl_log(CTL_LOG_INFO, "watch expired, listing again",
                "kind=%s resource_version=%s", r->info->kind,
                r->rv ? r->rv : "");
        wait = now - r->list_done_ms < KUBE_SHORT_WATCH_MS
                   ? kube_backoff_next(&r->backoff, now, kube_jitter())
                   : 0;
        kube_reflector_then(r, KUBE_NEXT_LIST, wait);
        return;
    }
    r->stats.failures++;
    wait = kube_backoff_after(&r->backoff, now, kube_jitter(),
                              resp->status == 429 || resp->status == 503
                                  ? resp->retry_after_s
                                  : 0);
    /* A watch the server refuses as malformed will not get better. */
    if (!resp->failed && (resp->status == 400 || resp->status == 422))
        next = KUBE_NEXT_LIST;
    kube_reflector_log_failure(r, action, resp, wait);
    kube_reflector_then(r, next, wait);
}

/* A failure of our own making, with a message instead of a response. */
static void
kube_reflector_failed_msg(kube_reflector *r, kube_next next, const char *why)
{
    kube_response resp;

    memset(&resp, 0, sizeof(resp));
    resp.failed = true;
    resp.error = why;
    kube_reflector_failed(r, &resp, next);
}

/* --------------------------------------------------------------- list */

static void kube_reflector_list_page(kube_reflector *r);

static void
kube_reflector_list_finish(kube_reflector *r, const char *rv)
{
    kube_keyiter it;
    kube_keyent *e;
    size_t deleted = 0;
    char q[600];

    /* What we knew and the list no longer has is gone. */
    kube_keyiter_init(&it, &r->known);
    while ((e = kube_keyiter_next(&it, &r->known)) != NULL) {
        if (kube_keymap_get(&r->listing, e->ns, e->name) == NULL) {
            if (r->hooks.observed != NULL)
                r->hooks.observed(r->hooks.data, e->ns, e->name, NULL);
            if (ctl_store_delete(r->store, r->kind, e->ns, e->name)) {
                r->changed = true;
                deleted++;
            }
        }
    }
    kube_keymap_swap(&r->known, &r->listing);
    kube_keymap_clear(&r->listing);
    kube_set_string(&r->rv, rv);
    r->list_done_ms = ctl_now_ms();
    r->stats.lists++;
    ctl_log(CTL_LOG_INFO, "list done",
            "kind=%s objects=%zu pages=%u deleted=%zu resource_version=\"%s\" "
            "ms=%llu", r->info->kind, r->known.count, r->pages, deleted,
            ctl_log_quote(rv, q, sizeof(q)),
            (unsigned long long)(r->list_done_ms - r->list_started_ms));
    kube_reflector_notify(r);
    if (!r->synced) {
        r->synced = true;
        if (r->hooks.synced != NULL)
            r->hooks.synced(r->hooks.data, r);
    }
    kube_reflector_then(r, KUBE_NEXT_WATCH, 0);
}

static void
kube_reflector_list_done(kube_request *req, const kube_response *resp,
                         void *data)
{
    kube_reflector *r = data;
    cJSON *list, *items, *item, *next;
    const cJSON *meta, *cont;
    const char *rv;

    (void)req;
    r->req = NULL;
    if (resp->failed || resp->status != 200) {
        kube_reflector_failed(r, resp, KUBE_NEXT_LIST);
        return;
    }
    list = cJSON_ParseWithLength(resp->body, resp->body_len);
    items = cJSON_GetObjectItemCaseSensitive(list, "items");
    meta = cJSON_GetObjectItemCaseSensitive(list, "metadata");
    rv = kube_rv_of(list);
    cont = cJSON_GetObjectItemCaseSensitive(meta, "continue");
    if (list == NULL || (items != NULL && !cJSON_IsArray(items) &&
                         !cJSON_IsNull(items)) || rv == NULL ||
        (cont != NULL && !cJSON_IsString(cont))) {
        cJSON_Delete(list);
        kube_reflector_failed_msg(r, KUBE_NEXT_LIST,
                                  "list response is not a List with a "
                                  "resourceVersion");
        return;
    }
    r->pages++;
    for (item = items ? items->child : NULL; item != NULL; item = next) {
        next = item->next;
        cJSON_DetachItemViaPointer(items, item);
        kube_reflector_apply(r, &r->listing, item);
        r->list_items++;
    }
    if (cont != NULL && cont->valuestring[0] != '\0') {
        int rc = kube_set_string(&r->cont, cont->valuestring);

        cJSON_Delete(list);
        if (rc < 0)
            kube_reflector_failed_msg(r, KUBE_NEXT_LIST, "out of memory");
        else
            kube_reflector_list_page(r);
        return;
    }
    kube_reflector_list_finish(r, rv);
    cJSON_Delete(list);
}

static void
kube_reflector_list_page(kube_reflector *r)
{
    kube_request_opts o;
    char path[4096], coll[512], esc[2048];
    int n;

    if (kube_collection_path(r->kind, r->namespace_, coll, sizeof(coll)) ==
        NULL)
        goto fail;
    n = snprintf(path, sizeof(path), "%s?limit=%u%s", coll, r->limit,
                 r->selector);
    if (n < 0 || (size_t)n >= sizeof(path))
        goto fail;
    if (r->cont != NULL) {
        if (kube_escape(r->cont, esc, sizeof(esc)) == NULL ||
            (size_t)n + strlen(esc) + sizeof("&continue=") > sizeof(path))
            goto fail;
        strcat(path, "&continue=");
        strcat(path, esc);
    }
    memset(&o, 0, sizeof(o));
    o.path = path;
    o.on_done = kube_reflector_list_done;
    o.data = r;
    r->req = kube_request_start(r->client, &o);
    if (r->req != NULL)
        return;
fail:
    kube_reflector_failed_msg(r, KUBE_NEXT_LIST, "cannot make the request");
}

static void
kube_reflector_list_start(kube_reflector *r)
{
    kube_keymap_clear(&r->listing);
    free(r->cont);
    r->cont = NULL;
    r->pages = 0;
    r->list_items = 0;
    r->list_started_ms = ctl_now_ms();
    kube_reflector_list_page(r);
}

/* -------------------------------------------------------------- watch */

static void
kube_reflector_watch_rv(kube_reflector *r, const cJSON *obj)
{
    const char *rv = kube_rv_of(obj);

    if (rv != NULL && (r->rv == NULL || strcmp(rv, r->rv) != 0))
        kube_set_string(&r->rv, rv);
}

static int
kube_reflector_broken(kube_reflector *r, const char *why, size_t len)
{
    ctl_log(CTL_LOG_WARN, "watch stream broken",
            "kind=%s problem=\"%s\" line_bytes=%zu resource_version=%s",
            r->info->kind, why, len, r->rv ? r->rv : "");
    r->verdict = KUBE_VERDICT_BROKEN;
    return 1;
}

static int
kube_reflector_error_event(kube_reflector *r, const cJSON *status)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(status, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(status, "message");
    char q[600];

    if (cJSON_IsNumber(code) && code->valueint == 410) {
        r->stats.expired++;
        r->verdict = KUBE_VERDICT_RELIST;
        ctl_log(CTL_LOG_INFO, "watch expired, listing again",
                "kind=%s resource_version=%s message=\"%s\"", r->info->kind,
                r->rv ? r->rv : "",
                ctl_log_quote(cJSON_IsString(msg) ? msg->valuestring : "", q,
                              sizeof(q)));
        return 1;
    }
    r->verdict = KUBE_VERDICT_ERROR;
    ctl_log(CTL_LOG_WARN, "watch error event",
            "kind=%s code=%d message=\"%s\"", r->info->kind,
            cJSON_IsNumber(code) ? code->valueint : 0,
            ctl_log_quote(cJSON_IsString(msg) ? msg->valuestring : "", q,
                          sizeof(q)));
    return 1;
}

static int
kube_reflector_on_line(const char *line, size_t len, void *data)
{
    kube_reflector *r = data;
    cJSON *ev = cJSON_ParseWithLength(line, len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
    cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");
    const char *t, *ns, *name;
    int rc = 0;

    if (!cJSON_IsString(type) || !cJSON_IsObject(obj)) {
        cJSON_Delete(ev);
        return kube_reflector_broken(r, "not a watch event", len);
    }
    t = type->valuestring;
    r->watch_events++;
    r->stats.events++;
    if (!strcmp(t, "ADDED") || !strcmp(t, "MODIFIED")) {
        kube_reflector_watch_rv(r, obj);
        cJSON_DetachItemViaPointer(ev, obj);
        kube_reflector_apply(r, &r->known, obj);
    } else if (!strcmp(t, "DELETED")) {
        kube_reflector_watch_rv(r, obj);
        if (kube_object_prepare(r->kind, obj, &ns, &name) == 0)
            kube_reflector_remove(r, ns, name);
    } else if (!strcmp(t, "BOOKMARK")) {
        kube_reflector_watch_rv(r, obj);
    } else if (!strcmp(t, "ERROR")) {
        rc = kube_reflector_error_event(r, obj);
    } else {
        rc = kube_reflector_broken(r, "unknown event type", len);
    }
    if (rc == 0 && r->verdict == KUBE_VERDICT_NONE)
        ctl_log(CTL_LOG_DEBUG, "watch event", "kind=%s type=%s rv=%s",
                r->info->kind, t, r->rv ? r->rv : "");
    cJSON_Delete(ev);
    return rc;
}

static int
kube_reflector_watch_data(kube_request *req, const char *buf, size_t len,
                          void *data)
{
    kube_reflector *r = data;
    int rc;

    (void)req;
    rc = kube_lines_feed(&r->lines, buf, len, kube_reflector_on_line, r);
    if (rc == KUBE_LINES_TOO_LONG)
        kube_reflector_broken(r, "event longer than the line limit",
                              kube_lines_pending(&r->lines));
    else if (rc == KUBE_LINES_NOMEM)
        kube_reflector_broken(r, "out of memory", len);
    kube_reflector_notify(r);
    return rc == 0 ? 0 : -1;
}

static void
kube_reflector_watch_done(kube_request *req, const kube_response *resp,
                          void *data)
{
    kube_reflector *r = data;
    uint64_t now = ctl_now_ms();
    kube_verdict verdict = r->verdict;
    /* The ERROR event itself is the one event of a hopeless watch. */
    bool short_watch = r->watch_events <= 1 &&
                       now - r->watch_started_ms < KUBE_SHORT_WATCH_MS;

    (void)req;
    r->req = NULL;
    r->verdict = KUBE_VERDICT_NONE;
    switch (verdict) {
    case KUBE_VERDICT_RELIST:
        kube_reflector_then(r, KUBE_NEXT_LIST,
                            short_watch ? kube_backoff_next(&r->backoff, now,
                                                            kube_jitter())
                                        : 0);
        return;
    case KUBE_VERDICT_ERROR:
    case KUBE_VERDICT_BROKEN:
        r->stats.failures++;
        kube_reflector_then(r, KUBE_NEXT_WATCH,
                            kube_backoff_next(&r->backoff, now, kube_jitter()));
        return;
    case KUBE_VERDICT_NONE:
        break;
    }
    if (resp->failed || resp->status != 200) {
        kube_reflector_failed(r, resp, KUBE_NEXT_WATCH);
        return;
    }
    if (kube_lines_pending(&r->lines) > 0)
        ctl_log(CTL_LOG_WARN, "watch ended inside an event",
                "kind=%s bytes_dropped=%zu resource_version=%s", r->info->kind,
                kube_lines_pending(&r->lines), r->rv ? r->rv : "");
    if (r->watch_events == 0 && now - r->watch_started_ms < KUBE_SHORT_WATCH_MS) {
        r->stats.failures++;
        kube_reflector_then(r, KUBE_NEXT_WATCH,
                            kube_backoff_next(&r->backoff, now, kube_jitter()));
        return;
    }
    ctl_log(CTL_LOG_DEBUG, "watch ended", "kind=%s events=%llu seconds=%llu",
            r->info->kind, (unsigned long long)r->watch_events,
            (unsigned long long)((now - r->watch_started_ms) / 1000));
    kube_reflector_then(r, KUBE_NEXT_WATCH, 0);
}

static void
kube_reflector_watch_start(kube_reflector *r)
{
    kube_request_opts o;
    char path[4096], coll[512], rv[3 * KUBE_MAX_RV + 1];
    unsigned timeout = KUBE_WATCH_MIN_S +
                       (unsigned)(kube_jitter() *
                                  (KUBE_WATCH_MAX_S - KUBE_WATCH_MIN_S));
    int n;

    if (r->rv == NULL) {
        kube_reflector_then(r, KUBE_NEXT_LIST, 0);
        return;
    }
    if (kube_collection_path(r->kind, r->namespace_, coll, sizeof(coll)) ==
            NULL ||
        kube_escape(r->rv, rv, sizeof(rv)) == NULL)
        goto fail;
    n = snprintf(path, sizeof(path),
                 "%s?watch=1&allowWatchBookmarks=true&resourceVersion=%s"
                 "&timeoutSeconds=%u%s", coll, rv, timeout, r->selector);
    if (n < 0 || (size_t)n >= sizeof(path))
        goto fail;
    memset(&o, 0, sizeof(o));
    o.path = path;
    o.timeout_ms = (timeout + KUBE_WATCH_GRACE_S) * 1000u;
    o.on_data = kube_reflector_watch_data;
    o.on_done = kube_reflector_watch_done;
    o.data = r;
    kube_lines_reset(&r->lines);
    r->verdict = KUBE_VERDICT_NONE;
    r->watch_events = 0;
    r->watch_started_ms = ctl_now_ms();
    r->req = kube_request_start(r->client, &o);
    if (r->req != NULL) {
        r->stats.watches++;
        ctl_log(CTL_LOG_DEBUG, "watch started",
                "kind=%s resource_version=%s timeout_s=%u", r->info->kind,
                r->rv, timeout);
        return;
    }
fail:
    kube_reflector_failed_msg(r, KUBE_NEXT_WATCH, "cannot make the request");
}

/* ---------------------------------------------------------- what next */

static void
kube_reflector_on_retry(ctl_loop *loop, ctl_timer *timer, void *data)
{
    kube_reflector *r = data;

    (void)loop;
    (void)timer;
    if (r->next == KUBE_NEXT_LIST)
        kube_reflector_list_start(r);
    else
        kube_reflector_watch_start(r);
}

static int
kube_reflector_then(kube_reflector *r, kube_next next, uint64_t wait_ms)
{
    r->next = next;
    if (ctl_timer_arm(r->retry, wait_ms, 0) < 0) {
        ctl_log(CTL_LOG_ERROR, "cannot arm a timer", "kind=%s", r->info->kind);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- api */

kube_reflector *
kube_reflector_new(kube_client *client, ctl_loop *loop, ctl_store *store,
                   ctl_pipeline_source *link, const kube_reflector_config *cfg,
                   const kube_reflector_hooks *hooks)
{
    kube_reflector *r = calloc(1, sizeof(*r));
    char esc[1024];

    if (r == NULL)
        return NULL;
    r->client = client;
    r->store = store;
    r->link = link;
    r->kind = cfg->kind;
    r->info = &kube_kinds[cfg->kind];
    r->limit = cfg->page_limit ? cfg->page_limit : KUBE_LIST_LIMIT;
    if (hooks != NULL)
        r->hooks = *hooks;
    kube_keymap_init(&r->known);
    kube_keymap_init(&r->listing);
    kube_backoff_init(&r->backoff);
    kube_lines_init(&r->lines, KUBE_LINE_MAX);
    if (r->info->namespaced && cfg->namespace_ != NULL &&
        *cfg->namespace_ != '\0' &&
        (r->namespace_ = strdup(cfg->namespace_)) == NULL)
        goto fail;
    if (cfg->field_selector != NULL) {
        size_t n;

        if (kube_escape(cfg->field_selector, esc, sizeof(esc)) == NULL)
            goto fail;
        n = strlen(esc) + sizeof("&fieldSelector=");
        if ((r->selector = malloc(n)) == NULL)
            goto fail;
        snprintf(r->selector, n, "&fieldSelector=%s", esc);
    } else if ((r->selector = strdup("")) == NULL) {
        goto fail;
    }
    r->retry = ctl_timer_new(loop, kube_reflector_on_retry, r);
    if (r->retry == NULL)
        goto fail;
    return r;
fail:
    kube_reflector_free(r);
    return NULL;
}

void
kube_reflector_free(kube_reflector *r)
{
    if (r == NULL)
        return;
    kube_request_cancel(r->req);
    ctl_timer_free(r->retry);
    kube_keymap_clear(&r->known);
    kube_keymap_clear(&r->listing);
    kube_lines_free(&r->lines);
    free(r->rv);
    free(r->cont);
    free(r->namespace_);
    free(r->selector);
    free(r);
}

int
kube_reflector_start(kube_reflector *r)
{
    ctl_log(CTL_LOG_INFO, "reflector started",
            "kind=%s namespace=\"%s\" field_selector=%s", r->info->kind,
            r->namespace_ ? r->namespace_ : "", *r->selector ? "yes" : "no");
    return kube_reflector_then(r, KUBE_NEXT_LIST, 0);
}

bool
kube_reflector_synced(const kube_reflector *r)
{
    return r->synced;
}

bool
kube_reflector_knows(const kube_reflector *r, const char *ns, const char *name)
{
    return kube_keymap_get(&r->known, ns, name) != NULL;
}

const char *
kube_reflector_kind(const kube_reflector *r)
{
    return r->info->kind;
}

void
kube_reflector_get_stats(const kube_reflector *r, kube_reflector_stats *st)
{
    *st = r->stats;
    st->objects = r->known.count;
}
