/*
 * kube_status.c -- Ingress status writer (see kube_status.h).
 *
 * Every Ingress the model has called ours has an item, keyed by
 * namespace/name.  An item waits in a FIFO queue until one of the
 * KUBE_STATUS_WRITES slots takes it; a slot compares, reads, writes and
 * retries conflicts for one Ingress at a time, with its own timer for
 * the backoff.  An item changed while a slot works on it is queued again
 * when the slot is done, so a change is never lost and no Ingress is
 * written twice at once.
 *
 * Address lists are compared in a canonical form (entries sorted, "ip"
 * and "hostname" only), so the order in which a Service or a user lists
 * addresses never causes a write.
 */
#include "kube_status.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "kube_backoff.h"
#include "kube_keymap.h"
#include "log.h"

#define KUBE_INGRESS_PATH "/apis/networking.k8s.io/v1/namespaces/%s/ingresses/%s"
#define KUBE_CONFLICT_WAIT_MS 10u /* client-go DefaultBackoff: 10 ms x 5^n */

typedef struct kube_status_item kube_status_item;

struct kube_status_item {
    kube_keyent      *key;        /* ns, name                           */
    kube_status_item *next;       /* in the queue                       */
    uint64_t          seen;       /* the last report that named it      */
    bool              owned;
    bool              queued;
    bool              busy;       /* a slot works on it                 */
    bool              again;      /* changed while busy                 */
    char             *checked_rv; /* store version found right, or NULL */
};

typedef struct {
    kube_status      *s;
    kube_status_item *item;       /* NULL: free                         */
    kube_request     *req;
    ctl_timer        *timer;      /* conflict backoff                   */
    unsigned          tries;
} kube_status_slot;

struct kube_status {
    ctl_loop         *loop;
    kube_client      *client;
    const ctl_store  *store;
    ctl_model_sink    sink;
    uint64_t          resync_ms;
    char             *svc_ns;     /* --publish-service, or NULL         */
    char             *svc_name;
    bool              svc_in_store;
    kube_request     *svc_req;
    bool              fixed;      /* --publish-status-address           */
    cJSON            *addresses;  /* sorted; NULL: not known            */
    char             *canon;      /* of addresses                       */
    bool              leading;
    uint64_t          report;     /* builds seen                        */
    kube_keymap       items;      /* ptr: kube_status_item              */
    kube_status_item *head, *tail;
    kube_status_slot  slots[KUBE_STATUS_WRITES];
    ctl_timer        *resync;
};

/* ---------------------------------------------------------- addresses */

static const char *
kube_lb_field(const cJSON *entry, const char *key)
{
    const char *v = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(entry, key));

    return v ? v : "";
}

static int
kube_lb_compare(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    int c = strcmp(kube_lb_field(x, "ip"), kube_lb_field(y, "ip"));

    return c != 0 ? c
                  : strcmp(kube_lb_field(x, "hostname"),
                           kube_lb_field(y, "hostname"));
}

/* Sorts the entries of an array in place; -1 when out of memory. */
static int
kube_lb_sort(cJSON *list)
{
    int n = cJSON_GetArraySize(list);
    cJSON **items;

    if (n < 2)
        return 0;
    items = malloc((size_t)n * sizeof(*items));
    if (items == NULL)
        return -1;
    for (int i = 0; i < n; i++)
        items[i] = cJSON_DetachItemFromArray(list, 0);
    qsort(items, (size_t)n, sizeof(*items), kube_lb_compare);
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(list, items[i]);
    free(items);
    return 0;
}

/*
 * The canonical text of a status.loadBalancer.ingress list ("" for none
 * or a missing list): what two lists must share to count as the same.
 * NULL when out of memory.
 */
static char *
kube_lb_canon(const cJSON *list)
{
    cJSON *sorted = cJSON_IsArray(list) ? cJSON_Duplicate(list, 1)
                                        : cJSON_CreateArray();
    const cJSON *e;
    size_t len = 1, off = 0;
    char *out;

    if (sorted == NULL || kube_lb_sort(sorted) < 0) {
        cJSON_Delete(sorted);
        return NULL;
    }
    cJSON_ArrayForEach(e, sorted)
        len += strlen(kube_lb_field(e, "ip")) +
               strlen(kube_lb_field(e, "hostname")) + 2;
    out = malloc(len);
    if (out != NULL) {
        cJSON_ArrayForEach(e, sorted)
            off += (size_t)sprintf(out + off, "%s\x1f%s\x1e",
                                   kube_lb_field(e, "ip"),
                                   kube_lb_field(e, "hostname"));
        out[off] = '\0';
    }
    cJSON_Delete(sorted);
    return out;
}

/* "203.0.113.10,lb.example.com", for log lines. */
static const char *
kube_lb_describe(const cJSON *list, char *buf, size_t buflen)
{
    const cJSON *e;
    size_t off = 0;

    buf[0] = '\0';
    cJSON_ArrayForEach(e, list)
    {
        const char *v = kube_lb_field(e, "ip");
        int n;

        if (v[0] == '\0')
            v = kube_lb_field(e, "hostname");
        n = snprintf(buf + off, buflen - off, "%s%s", off ? "," : "", v);
        if (n < 0 || (size_t)n >= buflen - off)
            break;
        off += (size_t)n;
    }
    return buf;
}

static int
kube_lb_add(cJSON *list, const char *key, const char *value)
{
    cJSON *e = cJSON_CreateObject();

    if (e == NULL || !cJSON_AddStringToObject(e, key, value)) {
        cJSON_Delete(e);
        return -1;
    }
    cJSON_AddItemToArray(list, e);
    return 0;
}

static bool
kube_is_ip(const char *s)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* What the API server accepts as a hostname here: a lower-case DNS-1123
 * subdomain. */
static bool
kube_is_dns_name(const char *s)
{
    size_t n = strlen(s), label = 0;

    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i <= n; i++) {
        char c = s[i];

        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || s[i - 1] == '-')
                return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   (c == '-' && label > 0)) {
            label++;
        } else {
            return false;
        }
    }
    return true;
}

/* --publish-status-address "a, b": IPs and DNS names, in any order. */
static cJSON *
kube_lb_from_flag(const char *flag, char *err, size_t errlen)
{
    cJSON *list = cJSON_CreateArray();
    char *copy = strdup(flag), *save = NULL, *tok;

    if (list == NULL || copy == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (tok = strtok_r(copy, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        char *end = tok + strlen(tok);

        while (*tok == ' ')
            tok++;
        while (end > tok && end[-1] == ' ')
            *--end = '\0';
        if (*tok == '\0')
            continue;
        if (!kube_is_ip(tok) && !kube_is_dns_name(tok)) {
            snprintf(err, errlen, "--publish-status-address: \"%.200s\" is "
                     "neither an IP address nor a lower-case DNS name", tok);
            goto fail;
        }
        if (kube_lb_add(list, kube_is_ip(tok) ? "ip" : "hostname", tok) < 0) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    if (cJSON_GetArraySize(list) == 0) {
        snprintf(err, errlen, "--publish-status-address: no address in "
                 "\"%.200s\"", flag);
        goto fail;
    }
    free(copy);
    return list;
fail:
    free(copy);
    cJSON_Delete(list);
    return NULL;
}

int
kube_status_check_addresses(const char *flag, char *err, size_t errlen)
{
    cJSON *list = kube_lb_from_flag(flag, err, errlen);

    cJSON_Delete(list);
    return list != NULL ? 0 : -1;
}

/*
 * The addresses a Service publishes: its load balancer's, else its
 * ClusterIP; an ExternalName Service its DNS name.  NULL when it has
 * none (or when out of memory).
 */
static cJSON *
kube_lb_from_service(const cJSON *svc)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(svc, "spec");
    const cJSON *lb = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(svc, "status"), "loadBalancer"),
        "ingress");
    const char *type = kube_lb_field(spec, "type");
    const char *cluster_ip = kube_lb_field(spec, "clusterIP");
    cJSON *list = cJSON_CreateArray();
    const cJSON *e;
    int rc = 0;

    if (list == NULL)
        return NULL;
    if (strcmp(type, "ExternalName") == 0) {
        if (kube_lb_field(spec, "externalName")[0] != '\0')
            rc = kube_lb_add(list, "hostname",
                             kube_lb_field(spec, "externalName"));
    } else {
        cJSON_ArrayForEach(e, lb)
        {
            if (kube_lb_field(e, "ip")[0] != '\0')
                rc |= kube_lb_add(list, "ip", kube_lb_field(e, "ip"));
            else if (kube_lb_field(e, "hostname")[0] != '\0')
                rc |= kube_lb_add(list, "hostname",
                                  kube_lb_field(e, "hostname"));
        }
        if (cJSON_GetArraySize(list) == 0 && cluster_ip[0] != '\0' &&
            strcmp(cluster_ip, "None") != 0)
            rc = kube_lb_add(list, "ip", cluster_ip);
    }
    if (rc != 0 || cJSON_GetArraySize(list) == 0) {
        cJSON_Delete(list);
        return NULL;
    }
    return list;
}

/* ------------------------------------------------------------- items */

static void kube_status_pump(kube_status *s);

static const cJSON *
kube_status_lb_of(const cJSON *ingress)
{
    return cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(ingress, "status"),
            "loadBalancer"),
        "ingress");
}

static const char *
kube_status_rv_of(const cJSON *obj)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "resourceVersion"));
}

static void
kube_status_enqueue(kube_status *s, kube_status_item *it)
{
    if (!s->leading)
        return;
    if (it->busy) {
        it->again = true;
        return;
    }
    if (it->queued)
        return;
    it->queued = true;
    it->next = NULL;
    if (s->tail != NULL)
        s->tail->next = it;
    else
        s->head = it;
    s->tail = it;
}

static kube_status_item *
kube_status_dequeue(kube_status *s)
{
    kube_status_item *it = s->head;

    if (it == NULL)
        return NULL;
    s->head = it->next;
    if (s->head == NULL)
        s->tail = NULL;
    it->queued = false;
    it->next = NULL;
    return it;
}

/* Only items neither queued nor busy may go. */
static void
kube_status_remove(kube_status *s, kube_status_item *it)
{
    kube_keyent *e = it->key;

    free(it->checked_rv);
    free(it);
    kube_keymap_del(&s->items, e->ns, e->name);
}

static void
kube_status_enqueue_all(kube_status *s)
{
    kube_keyiter iter;
    kube_keyent *e;

    kube_keyiter_init(&iter, &s->items);
    while ((e = kube_keyiter_next(&iter, &s->items)) != NULL)
        kube_status_enqueue(s, e->ptr);
    kube_status_pump(s);
}

/*
 * Takes a new address list (owned; NULL: none known).  A change makes
 * every Ingress due for a check.
 */
static void
kube_status_set_addresses(kube_status *s, cJSON *list, const char *source)
{
    char *canon = list ? kube_lb_canon(list) : NULL;
    char desc[512], q[600];

    if (list != NULL && (canon == NULL || kube_lb_sort(list) < 0)) {
        ctl_log(CTL_LOG_ERROR, "status address not updated",
                "error=\"out of memory\"");
        free(canon);
        cJSON_Delete(list);
        return;
    }
    if ((canon == NULL && s->canon == NULL) ||
        (canon != NULL && s->canon != NULL && strcmp(canon, s->canon) == 0)) {
        free(canon);
        cJSON_Delete(list);
        return;
    }
    cJSON_Delete(s->addresses);
    free(s->canon);
    s->addresses = list;
    s->canon = canon;
    if (list != NULL)
        ctl_log(CTL_LOG_INFO, "status address", "address=\"%s\" source=%s",
                ctl_log_quote(kube_lb_describe(list, desc, sizeof(desc)), q,
                              sizeof(q)),
                source);
    else
        ctl_log(CTL_LOG_WARN, "no status address",
                "source=%s effect=\"Ingress status is left as it is\"",
                source);
    kube_status_enqueue_all(s);
}

static void
kube_status_address_from_store(kube_status *s)
{
    const ctl_object *svc = ctl_store_get(s->store, CTL_KIND_SERVICE,
                                          s->svc_ns, s->svc_name);
    char source[600];

    snprintf(source, sizeof(source), "service:%s/%s", s->svc_ns, s->svc_name);
    kube_status_set_addresses(s, svc ? kube_lb_from_service(svc->json) : NULL,
                              source);
}

static void
kube_status_service_done(kube_request *req, const kube_response *resp,
                         void *data)
{
    kube_status *s = data;
    char source[600], desc[600], q[700];
    cJSON *svc;

    (void)req;
    s->svc_req = NULL;
    snprintf(source, sizeof(source), "service:%s/%s", s->svc_ns, s->svc_name);
    if (!resp->failed && resp->status == 200 &&
        (svc = cJSON_ParseWithLength(resp->body, resp->body_len)) != NULL) {
        kube_status_set_addresses(s, kube_lb_from_service(svc), source);
        cJSON_Delete(svc);
    } else if (!resp->failed && resp->status == 404) {
        kube_status_set_addresses(s, NULL, source);
    } else {
        ctl_log(CTL_LOG_WARN, "publish service not read",
                "service=%s/%s error=\"%s\" retry=next_resync", s->svc_ns,
                s->svc_name,
                ctl_log_quote(kube_response_describe(resp, desc, sizeof(desc)),
                              q, sizeof(q)));
    }
}

/* A Service outside the watched namespaces is read with a GET. */
static void
kube_status_fetch_service(kube_status *s)
{
    kube_request_opts o;
    char ens[256], ename[800], path[1200];

    if (s->svc_req != NULL || kube_escape(s->svc_ns, ens, sizeof(ens)) == NULL ||
        kube_escape(s->svc_name, ename, sizeof(ename)) == NULL)
        return;
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/services/%s", ens,
             ename);
    memset(&o, 0, sizeof(o));
    o.path = path;
    o.max_body = 1u << 20;
    o.on_done = kube_status_service_done;
    o.data = s;
    s->svc_req = kube_request_start(s->client, &o);
}

static void
kube_status_refresh_address(kube_status *s)
{
    if (s->svc_ns == NULL || s->fixed)
        return;
    if (s->svc_in_store)
        kube_status_address_from_store(s);
    else if (s->leading)
        kube_status_fetch_service(s);
}

/* ------------------------------------------------------------- slots */

/*
 * Does this Ingress need a write?  Ours: when its list is not exactly our
 * addresses.  No longer ours: when it still holds exactly our addresses
 * (then it is cleared); *done says the item has nothing more to do.
 */
static bool
kube_status_needs_write(const kube_status *s, const kube_status_item *it,
                        const cJSON *ingress, bool *done)
{
    char *cur = kube_lb_canon(kube_status_lb_of(ingress));
    bool write;

    *done = !it->owned;
    if (cur == NULL || s->canon == NULL)
        write = false;
    else if (it->owned)
        write = strcmp(cur, s->canon) != 0;
    else
        write = cur[0] != '\0' && strcmp(cur, s->canon) == 0;
    free(cur);
    return write;
}

static void
kube_status_slot_finish(kube_status_slot *slot, bool done)
{
    kube_status *s = slot->s;
    kube_status_item *it = slot->item;

    slot->item = NULL;
    slot->req = NULL;
    it->busy = false;
    if (it->again) {
        it->again = false;
        kube_status_enqueue(s, it);
    } else if (done) {
        kube_status_remove(s, it);
    }
    kube_status_pump(s);
}

static void
kube_status_slot_log(const kube_status_slot *slot, ctl_log_level level,
                     const char *msg, const kube_response *resp)
{
    const kube_keyent *e = slot->item->key;
    char desc[600], q[700];

    ctl_log(level, msg, "object=%s/%s error=\"%s\" tries=%u", e->ns, e->name,
            ctl_log_quote(kube_response_describe(resp, desc, sizeof(desc)), q,
                          sizeof(q)),
            slot->tries);
}

static int kube_status_slot_get(kube_status_slot *slot);

static void
kube_status_put_done(kube_request *req, const kube_response *resp, void *data)
{
    kube_status_slot *slot = data;
    kube_status_item *it = slot->item;
    char desc[512], q[600];

    (void)req;
    slot->req = NULL;
    if (!resp->failed && resp->status == 200) {
        ctl_log(CTL_LOG_INFO,
                it->owned ? "ingress status updated" : "ingress status cleared",
                "object=%s/%s address=\"%s\"", it->key->ns, it->key->name,
                it->owned ? ctl_log_quote(kube_lb_describe(slot->s->addresses,
                                                           desc, sizeof(desc)),
                                          q, sizeof(q))
                          : "");
        kube_status_slot_finish(slot, !it->owned);
        return;
    }
    if (!resp->failed && resp->status == 404) {
        kube_status_slot_finish(slot, true);
        return;
    }
    if (++slot->tries < KUBE_STATUS_TRIES &&
        (resp->token_renewed || (!resp->failed && resp->status == 409))) {
        uint64_t wait = KUBE_CONFLICT_WAIT_MS;

        for (unsigned i = 1; i < slot->tries; i++)
            wait *= 5;
        wait += (uint64_t)(kube_jitter() * (double)wait * 0.1);
        kube_status_slot_log(slot, CTL_LOG_DEBUG, "ingress status conflict",
                             resp);
        if (ctl_timer_arm(slot->timer, resp->token_renewed ? 0 : wait, 0) == 0)
            return;
    }
    kube_status_slot_log(slot, CTL_LOG_WARN, "ingress status not written",
                         resp);
    kube_status_slot_finish(slot, false);
}

static int
kube_status_ingress_path(const kube_keyent *e, const char *suffix, char *buf,
                         size_t buflen)
{
    char ens[256], ename[800];
    int n;

    if (kube_escape(e->ns, ens, sizeof(ens)) == NULL ||
        kube_escape(e->name, ename, sizeof(ename)) == NULL)
        return -1;
    n = snprintf(buf, buflen, KUBE_INGRESS_PATH "%s", ens, ename, suffix);
    return n < 0 || (size_t)n >= buflen ? -1 : 0;
}

/* The fetched Ingress with our status, as the body of the PUT. */
static char *
kube_status_body(const kube_status *s, const kube_status_item *it,
                 cJSON *ingress)
{
    cJSON *status, *lb;

    cJSON_DeleteItemFromObjectCaseSensitive(ingress, "status");
    status = cJSON_AddObjectToObject(ingress, "status");
    lb = status ? cJSON_AddObjectToObject(status, "loadBalancer") : NULL;
    if (lb == NULL)
        return NULL;
    if (it->owned) {
        cJSON *list = cJSON_Duplicate(s->addresses, 1);

        if (list == NULL)
            return NULL;
        cJSON_AddItemToObject(lb, "ingress", list);
    }
    return cJSON_PrintUnformatted(ingress);
}

static void
kube_status_get_done(kube_request *req, const kube_response *resp, void *data)
{
    kube_status_slot *slot = data;
    kube_status *s = slot->s;
    kube_request_opts o;
    cJSON *ingress = NULL;
    char path[1200], *body = NULL;
    bool done;

    (void)req;
    slot->req = NULL;
    if (!resp->failed && resp->status == 404) {
        kube_status_slot_finish(slot, true);
        return;
    }
    if (resp->failed || resp->status != 200 ||
        (ingress = cJSON_ParseWithLength(resp->body, resp->body_len)) ==
            NULL) {
        kube_status_slot_log(slot, CTL_LOG_WARN, "ingress not read", resp);
        kube_status_slot_finish(slot, false);
        return;
    }
    if (!kube_status_needs_write(s, slot->item, ingress, &done)) {
        cJSON_Delete(ingress);
        kube_status_slot_finish(slot, done);
        return;
    }
    body = kube_status_body(s, slot->item, ingress);
    cJSON_Delete(ingress);
    if (body == NULL ||
        kube_status_ingress_path(slot->item->key, "/status", path,
                                 sizeof(path)) < 0) {
        free(body);
        kube_status_slot_finish(slot, false);
        return;
    }
    memset(&o, 0, sizeof(o));
    o.method = "PUT";
    o.path = path;
    o.body = body;
    o.body_len = strlen(body);
    o.on_done = kube_status_put_done;
    o.data = slot;
    slot->req = kube_request_start(s->client, &o);
    free(body);
    if (slot->req == NULL)
        kube_status_slot_finish(slot, false);
}

static int
kube_status_slot_get(kube_status_slot *slot)
{
    kube_request_opts o;
    char path[1200];

    if (kube_status_ingress_path(slot->item->key, "", path, sizeof(path)) < 0)
        return -1;
    memset(&o, 0, sizeof(o));
    o.path = path;
    o.max_body = 4u << 20;
    o.on_done = kube_status_get_done;
    o.data = slot;
    slot->req = kube_request_start(slot->s->client, &o);
    return slot->req != NULL ? 0 : -1;
}

static void
kube_status_slot_retry(ctl_loop *loop, ctl_timer *timer, void *data)
{
    kube_status_slot *slot = data;

    (void)loop;
    (void)timer;
    if (slot->item != NULL && kube_status_slot_get(slot) < 0)
        kube_status_slot_finish(slot, false);
}

static kube_status_slot *
kube_status_free_slot(kube_status *s)
{
    for (size_t i = 0; i < KUBE_STATUS_WRITES; i++) {
        if (s->slots[i].item == NULL)
            return &s->slots[i];
    }
    return NULL;
}

/*
 * Hands queued items to free slots.  Most items need no request: the
 * store already shows the right status.
 */
static void
kube_status_pump(kube_status *s)
{
    kube_status_slot *slot;
    kube_status_item *it;

    while (s->leading && s->head != NULL &&
           (slot = kube_status_free_slot(s)) != NULL) {
        const ctl_object *ing;
        bool done;

        it = kube_status_dequeue(s);
        ing = ctl_store_get(s->store, CTL_KIND_INGRESS, it->key->ns,
                            it->key->name);
        if (ing == NULL) {
            kube_status_remove(s, it);
            continue;
        }
        if (!kube_status_needs_write(s, it, ing->json, &done)) {
            const char *rv = kube_status_rv_of(ing->json);

            free(it->checked_rv);
            it->checked_rv = rv && it->owned ? strdup(rv) : NULL;
            if (done)
                kube_status_remove(s, it);
            continue;
        }
        slot->item = it;
        slot->tries = 0;
        it->busy = true;
        if (kube_status_slot_get(slot) < 0) {
            slot->item = NULL;
            it->busy = false;
            ctl_log(CTL_LOG_ERROR, "ingress status not written",
                    "object=%s/%s error=\"cannot start a request\"",
                    it->key->ns, it->key->name);
        }
    }
}

/* -------------------------------------------------------------- sink */

static void
kube_status_begin(void *data)
{
    kube_status *s = data;

    s->report++;
}

static void
kube_status_owned(void *data, const ctl_object *ingress)
{
    kube_status *s = data;
    kube_keyent *e;
    int created = 0;

    e = kube_keymap_put(&s->items, ingress->namespace_, ingress->name,
                        &created);
    if (e == NULL) {
        ctl_log(CTL_LOG_ERROR, "ingress status not tracked",
                "object=%s/%s error=\"out of memory\"", ingress->namespace_,
                ingress->name);
        return;
    }
    if (created) {
        kube_status_item *it = calloc(1, sizeof(*it));

        if (it == NULL) {
            kube_keymap_del(&s->items, ingress->namespace_, ingress->name);
            return;
        }
        it->key = e;
        e->ptr = it;
    }
    ((kube_status_item *)e->ptr)->seen = s->report;
}

/* Is the store's version of an owned Ingress one we have not checked? */
static bool
kube_status_changed(const kube_status *s, const kube_status_item *it)
{
    const ctl_object *ing = ctl_store_get(s->store, CTL_KIND_INGRESS,
                                          it->key->ns, it->key->name);
    const char *rv = ing ? kube_status_rv_of(ing->json) : NULL;

    return it->checked_rv == NULL || rv == NULL ||
           strcmp(it->checked_rv, rv) != 0;
}

static void
kube_status_end(void *data, bool complete)
{
    kube_status *s = data;
    kube_keyiter iter;
    kube_keyent *e;

    if (!complete)
        return;
    kube_keyiter_init(&iter, &s->items);
    while ((e = kube_keyiter_next(&iter, &s->items)) != NULL) {
        kube_status_item *it = e->ptr;

        if (it->seen == s->report) {
            if (!it->owned || kube_status_changed(s, it)) {
                it->owned = true;
                kube_status_enqueue(s, it);
            }
        } else if (it->owned) {
            it->owned = false;
            free(it->checked_rv);
            it->checked_rv = NULL;
            kube_status_enqueue(s, it);
        } else if (!it->queued && !it->busy &&
                   ctl_store_get(s->store, CTL_KIND_INGRESS, e->ns,
                                 e->name) == NULL) {
            kube_status_remove(s, it);
        }
    }
    kube_status_refresh_address(s);
    kube_status_pump(s);
}

/* ------------------------------------------------------------ public */

static void
kube_status_resync(ctl_loop *loop, ctl_timer *timer, void *data)
{
    kube_status *s = data;

    (void)loop;
    (void)timer;
    kube_status_refresh_address(s);
    kube_status_enqueue_all(s);
}

static int
kube_status_split_service(kube_status *s, const char *ref, char *err,
                          size_t errlen)
{
    const char *slash = strchr(ref, '/');

    if (slash == NULL || slash == ref || slash[1] == '\0') {
        snprintf(err, errlen, "--publish-service: \"%.200s\" is not "
                 "NAMESPACE/NAME", ref);
        return -1;
    }
    s->svc_ns = strndup(ref, (size_t)(slash - ref));
    s->svc_name = strdup(slash + 1);
    if (s->svc_ns == NULL || s->svc_name == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

kube_status *
kube_status_new(ctl_loop *loop, kube_client *client, const ctl_store *store,
                const kube_status_config *cfg, char *err, size_t errlen)
{
    kube_status *s = calloc(1, sizeof(*s));
    const char *wns = cfg->watch_namespace;

    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->loop = loop;
    s->client = client;
    s->store = store;
    s->resync_ms = cfg->resync_ms ? cfg->resync_ms : KUBE_STATUS_RESYNC_MS;
    s->sink.begin = kube_status_begin;
    s->sink.owned = kube_status_owned;
    s->sink.end = kube_status_end;
    s->sink.data = s;
    kube_keymap_init(&s->items);
    s->resync = ctl_timer_new(loop, kube_status_resync, s);
    for (size_t i = 0; i < KUBE_STATUS_WRITES && s->resync != NULL; i++) {
        s->slots[i].s = s;
        s->slots[i].timer = ctl_timer_new(loop, kube_status_slot_retry,
                                          &s->slots[i]);
        if (s->slots[i].timer == NULL)
            goto oom;
    }
    if (s->resync == NULL)
        goto oom;
    if (cfg->publish_status_address != NULL) {
        cJSON *list = kube_lb_from_flag(cfg->publish_status_address, err,
                                        errlen);

        if (list == NULL)
            goto fail;
        s->fixed = true;
        kube_status_set_addresses(s, list, "flag:--publish-status-address");
        if (s->addresses == NULL)
            goto oom;
    } else if (cfg->publish_service != NULL) {
        if (kube_status_split_service(s, cfg->publish_service, err,
                                      errlen) < 0)
            goto fail;
        s->svc_in_store = wns == NULL || wns[0] == '\0' ||
                          strcmp(wns, s->svc_ns) == 0;
    }
    return s;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    kube_status_free(s);
    return NULL;
}

void
kube_status_free(kube_status *s)
{
    kube_keyiter iter;
    kube_keyent *e;

    if (s == NULL)
        return;
    for (size_t i = 0; i < KUBE_STATUS_WRITES; i++) {
        kube_request_cancel(s->slots[i].req);
        ctl_timer_free(s->slots[i].timer);
    }
    kube_request_cancel(s->svc_req);
    ctl_timer_free(s->resync);
    kube_keyiter_init(&iter, &s->items);
    while ((e = kube_keyiter_next(&iter, &s->items)) != NULL) {
        kube_status_item *it = e->ptr;

        free(it->checked_rv);
        free(it);
    }
    kube_keymap_clear(&s->items);
    cJSON_Delete(s->addresses);
    free(s->canon);
    free(s->svc_ns);
    free(s->svc_name);
    free(s);
}

const ctl_model_sink *
kube_status_sink(kube_status *s)
{
    return &s->sink;
}

static void
kube_status_stop(kube_status *s)
{
    kube_keyiter iter;
    kube_keyent *e;

    for (size_t i = 0; i < KUBE_STATUS_WRITES; i++) {
        kube_status_slot *slot = &s->slots[i];

        kube_request_cancel(slot->req);
        slot->req = NULL;
        ctl_timer_disarm(slot->timer);
        if (slot->item != NULL)
            slot->item->busy = false;
        slot->item = NULL;
    }
    kube_request_cancel(s->svc_req);
    s->svc_req = NULL;
    ctl_timer_disarm(s->resync);
    while (kube_status_dequeue(s) != NULL)
        ;
    kube_keyiter_init(&iter, &s->items);
    while ((e = kube_keyiter_next(&iter, &s->items)) != NULL)
        ((kube_status_item *)e->ptr)->again = false;
}

void
kube_status_set_leader(kube_status *s, bool leading)
{
    if (s->leading == leading)
        return;
    s->leading = leading;
    if (!leading) {
        kube_status_stop(s);
        return;
    }
    if (s->addresses == NULL && s->svc_ns == NULL)
        ctl_log(CTL_LOG_WARN, "ingress status not written",
                "reason=\"neither --publish-service nor "
                "--publish-status-address is set\"");
    if (ctl_timer_arm(s->resync, s->resync_ms, s->resync_ms) < 0)
        ctl_log(CTL_LOG_ERROR, "cannot arm the status resync timer",
                "interval_ms=%llu", (unsigned long long)s->resync_ms);
    kube_status_refresh_address(s);
    kube_status_enqueue_all(s);
}
