/*
 * kube_secrets.c -- reference counting of Secrets and fetching the ones
 * that become referenced (see kube_secrets.h).
 *
 * Three maps: refs (Secret -> number of references), ingresses (Ingress
 * -> the Secrets its current version names, to undo them when it changes)
 * and fetches (Secret -> its GET in flight, or NULL while queued).
 */
#include "kube_secrets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_backoff.h"
#include "kube_keymap.h"
#include "log.h"

#define KUBE_OUR_PREFIX    "shmingress.io"
#define KUBE_COMPAT_PREFIX "nginx.ingress.kubernetes.io"

/* Annotations whose value names a Secret ("name" or "namespace/name"). */
static const char *const kube_secret_annotations[] = {
    "auth-secret",
    "auth-tls-secret",
    "proxy-ssl-secret",
};

typedef struct {
    size_t  n;
    char  **ns;
    char  **name;
} kube_reflist;

typedef struct {
    kube_secrets *s;
    kube_keyent  *entry; /* in s->fetches */
    kube_request *req;
} kube_fetch;

struct kube_secrets {
    kube_client         *client;
    ctl_store           *store;
    ctl_pipeline_source *link;
    char                *prefix;
    kube_reflector      *reflector;
    kube_keymap          refs;
    kube_keymap          ingresses;
    kube_keymap          fetches;
    unsigned             inflight;
    ctl_timer           *retry;
    kube_backoff         backoff;
    unsigned long        fetched;
};

static void kube_secrets_pump(kube_secrets *s);

/* ---------------------------------------------------------- references */

static void
kube_reflist_free(kube_reflist *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->ns[i]);
        free(l->name[i]);
    }
    free(l->ns);
    free(l->name);
    free(l);
}

static bool
kube_ref_name_ok(const char *s, size_t n, size_t max)
{
    return n > 0 && n <= max && memchr(s, '/', n) == NULL;
}

/* Adds ns/name once; -1 when out of memory. */
static int
kube_reflist_add(kube_reflist *l, const char *ns, size_t nslen,
                 const char *name, size_t namelen)
{
    char **a, **b;

    for (size_t i = 0; i < l->n; i++) {
        if (strlen(l->ns[i]) == nslen && !strncmp(l->ns[i], ns, nslen) &&
            strlen(l->name[i]) == namelen && !strncmp(l->name[i], name, namelen))
            return 0;
    }
    a = realloc(l->ns, (l->n + 1) * sizeof(*a));
    if (a == NULL)
        return -1;
    l->ns = a;
    b = realloc(l->name, (l->n + 1) * sizeof(*b));
    if (b == NULL)
        return -1;
    l->name = b;
    l->ns[l->n] = strndup(ns, nslen);
    l->name[l->n] = strndup(name, namelen);
    if (l->ns[l->n] == NULL || l->name[l->n] == NULL) {
        free(l->ns[l->n]);
        free(l->name[l->n]);
        return -1;
    }
    l->n++;
    return 0;
}

/* An annotation value: "name" in the Ingress's namespace, or "ns/name". */
static int
kube_reflist_add_ref(kube_reflist *l, const char *ing_ns, const char *v)
{
    const char *slash = strchr(v, '/');

    if (slash == NULL)
        return kube_ref_name_ok(v, strlen(v), 253)
                   ? kube_reflist_add(l, ing_ns, strlen(ing_ns), v, strlen(v))
                   : 0;
    if (!kube_ref_name_ok(v, (size_t)(slash - v), 63) ||
        !kube_ref_name_ok(slash + 1, strlen(slash + 1), 253))
        return 0;
    return kube_reflist_add(l, v, (size_t)(slash - v), slash + 1,
                            strlen(slash + 1));
}

static int
kube_reflist_annotations(kube_secrets *s, kube_reflist *l, const char *ns,
                         const cJSON *annotations)
{
    const char *prefixes[2] = {KUBE_OUR_PREFIX, s->prefix};
    char key[512];

    for (size_t p = 0; p < 2; p++) {
        for (size_t i = 0; i < sizeof(kube_secret_annotations) /
                                   sizeof(kube_secret_annotations[0]);
             i++) {
            const cJSON *v;

            snprintf(key, sizeof(key), "%s/%s", prefixes[p],
                     kube_secret_annotations[i]);
            v = cJSON_GetObjectItemCaseSensitive(annotations, key);
            if (cJSON_IsString(v) &&
                kube_reflist_add_ref(l, ns, v->valuestring) < 0)
                return -1;
        }
    }
    return 0;
}

/* The Secrets one Ingress names; NULL when out of memory. */
static kube_reflist *
kube_reflist_of(kube_secrets *s, const char *ns, const cJSON *ing)
{
    kube_reflist *l = calloc(1, sizeof(*l));
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(ing, "spec");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(ing, "metadata");
    const cJSON *tls, *t;

    if (l == NULL)
        return NULL;
    tls = cJSON_GetObjectItemCaseSensitive(spec, "tls");
    if (!cJSON_IsArray(tls))
        tls = NULL;
    cJSON_ArrayForEach(t, tls) {
        const cJSON *sn = cJSON_GetObjectItemCaseSensitive(t, "secretName");

        if (cJSON_IsString(sn) &&
            kube_ref_name_ok(sn->valuestring, strlen(sn->valuestring), 253) &&
            kube_reflist_add(l, ns, strlen(ns), sn->valuestring,
                             strlen(sn->valuestring)) < 0)
            goto fail;
    }
    if (kube_reflist_annotations(
            s, l, ns, cJSON_GetObjectItemCaseSensitive(meta, "annotations")) < 0)
        goto fail;
    return l;
fail:
    kube_reflist_free(l);
    return NULL;
}

static void
kube_secrets_poke(kube_secrets *s)
{
    if (s->link != NULL)
        ctl_pipeline_source_changed(s->link);
}

static void
kube_fetch_drop(kube_secrets *s, const char *ns, const char *name)
{
    kube_keyent *e = kube_keymap_get(&s->fetches, ns, name);
    kube_fetch *f;

    if (e == NULL)
        return;
    if ((f = e->ptr) != NULL) {
        kube_request_cancel(f->req);
        free(f);
        s->inflight--;
    }
    kube_keymap_del(&s->fetches, ns, name);
}

/* Debug lines: which Secrets are held, by name only. */
static void
kube_secrets_log(const char *msg, const char *ns, const char *name)
{
    char ref[600], q[700];

    snprintf(ref, sizeof(ref), "%s/%s", ns, name);
    ctl_log(CTL_LOG_DEBUG, msg, "object=\"%s\"",
            ctl_log_quote(ref, q, sizeof(q)));
}

static void
kube_secrets_became_referenced(kube_secrets *s, const char *ns,
                               const char *name)
{
    kube_secrets_log("Secret referenced", ns, name);
    if (s->reflector == NULL || !kube_reflector_synced(s->reflector) ||
        !kube_reflector_knows(s->reflector, ns, name) ||
        ctl_store_get(s->store, CTL_KIND_SECRET, ns, name) != NULL)
        return;
    if (kube_keymap_put(&s->fetches, ns, name, NULL) == NULL) {
        ctl_log(CTL_LOG_ERROR, "out of memory", "kind=Secret");
        return;
    }
    kube_secrets_pump(s);
}

static void
kube_secrets_became_unreferenced(kube_secrets *s, const char *ns,
                                 const char *name)
{
    kube_secrets_log("Secret no longer referenced", ns, name);
    kube_fetch_drop(s, ns, name);
    if (ctl_store_delete(s->store, CTL_KIND_SECRET, ns, name))
        kube_secrets_poke(s);
}

static void
kube_ref_inc(kube_secrets *s, const char *ns, const char *name)
{
    kube_keyent *e = kube_keymap_put(&s->refs, ns, name, NULL);

    if (e == NULL) {
        ctl_log(CTL_LOG_ERROR, "out of memory", "kind=Secret");
        return;
    }
    if (e->count++ == 0)
        kube_secrets_became_referenced(s, ns, name);
}

static void
kube_ref_dec(kube_secrets *s, const char *ns, const char *name)
{
    kube_keyent *e = kube_keymap_get(&s->refs, ns, name);

    if (e == NULL || --e->count > 0)
        return;
    kube_keymap_del(&s->refs, ns, name);
    kube_secrets_became_unreferenced(s, ns, name);
}

void
kube_secrets_ingress_observed(kube_secrets *s, const char *ns,
                              const char *name, const cJSON *ingress)
{
    kube_keyent *e = kube_keymap_get(&s->ingresses, ns, name);
    kube_reflist *old = e ? e->ptr : NULL, *now = NULL;

    if (ingress != NULL && (now = kube_reflist_of(s, ns, ingress)) == NULL) {
        ctl_log(CTL_LOG_ERROR, "out of memory", "kind=Ingress");
        return;
    }
    /* Count the new references first so a Secret kept by both versions
     * never drops to zero in between. */
    for (size_t i = 0; now != NULL && i < now->n; i++)
        kube_ref_inc(s, now->ns[i], now->name[i]);
    for (size_t i = 0; old != NULL && i < old->n; i++)
        kube_ref_dec(s, old->ns[i], old->name[i]);
    kube_reflist_free(old);
    if (now != NULL && now->n > 0) {
        if (e == NULL)
            e = kube_keymap_put(&s->ingresses, ns, name, NULL);
        if (e == NULL) {
            ctl_log(CTL_LOG_ERROR, "out of memory", "kind=Ingress");
            kube_reflist_free(now);
            return;
        }
        e->ptr = now;
    } else {
        kube_reflist_free(now);
        if (e != NULL)
            kube_keymap_del(&s->ingresses, ns, name);
    }
}

bool
kube_secrets_wanted(const kube_secrets *s, const char *ns, const char *name)
{
    const kube_keyent *e = kube_keymap_get(&s->refs, ns, name);

    return e != NULL && e->count > 0;
}

/* Whatever the reflector saw is newer than any GET still on its way. */
void
kube_secrets_secret_observed(kube_secrets *s, const char *ns, const char *name)
{
    kube_fetch_drop(s, ns, name);
}

/* ------------------------------------------------------------- fetching */

static void
kube_fetch_store(kube_secrets *s, const kube_response *resp, const char *ns,
                 const char *name)
{
    cJSON *obj = cJSON_ParseWithLength(resp->body, resp->body_len);
    const char *ons, *oname;

    if (obj == NULL ||
        kube_object_prepare(CTL_KIND_SECRET, obj, &ons, &oname) < 0 ||
        strcmp(ons, ns) != 0 || strcmp(oname, name) != 0) {
        char qo[600];
        char ref[600];

        snprintf(ref, sizeof(ref), "%s/%s", ns, name);
        ctl_log(CTL_LOG_WARN, "fetched Secret skipped",
                "object=\"%s\" problem=\"response is not that Secret\"",
                ctl_log_quote(ref, qo, sizeof(qo)));
        cJSON_Delete(obj);
        return;
    }
    if (ctl_store_put(s->store, CTL_KIND_SECRET, ons, oname, obj, "api") < 0) {
        ctl_log(CTL_LOG_ERROR, "out of memory", "kind=Secret");
        return;
    }
    kube_secrets_poke(s);
}

static void
kube_fetch_done(kube_request *req, const kube_response *resp, void *data)
{
    kube_fetch *f = data;
    kube_secrets *s = f->s;
    kube_keyent *e = f->entry;
    char ref[600], qo[700], desc[600], qd[700];

    (void)req;
    s->inflight--;
    e->ptr = NULL;
    free(f);
    snprintf(ref, sizeof(ref), "%s/%s", e->ns, e->name);
    if (!resp->failed && resp->status == 200) {
        kube_fetch_store(s, resp, e->ns, e->name);
    } else if (resp->failed || resp->status != 404) {
        uint64_t wait = kube_backoff_after(&s->backoff, ctl_now_ms(),
                                           kube_jitter(), resp->retry_after_s);

        ctl_log(CTL_LOG_WARN, "Secret fetch failed",
                "object=\"%s\" error=\"%s\" retry_in_ms=%llu",
                ctl_log_quote(ref, qo, sizeof(qo)),
                ctl_log_quote(kube_response_describe(resp, desc, sizeof(desc)),
                              qd, sizeof(qd)),
                (unsigned long long)wait);
        ctl_timer_arm(s->retry, resp->token_renewed ? 0 : wait, 0);
        return; /* stays queued */
    }
    ctl_log(CTL_LOG_DEBUG, "Secret fetched", "object=\"%s\" status=%ld",
            ctl_log_quote(ref, qo, sizeof(qo)), resp->status);
    kube_keymap_del(&s->fetches, e->ns, e->name);
    kube_secrets_pump(s);
}

static int
kube_fetch_start(kube_secrets *s, kube_keyent *e)
{
    kube_request_opts o;
    kube_fetch *f;
    char coll[512], esc[800], path[1400];

    if (kube_collection_path(CTL_KIND_SECRET, e->ns, coll, sizeof(coll)) ==
            NULL ||
        kube_escape(e->name, esc, sizeof(esc)) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/%s", coll, esc);
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    f->s = s;
    f->entry = e;
    memset(&o, 0, sizeof(o));
    o.path = path;
    o.on_done = kube_fetch_done;
    o.data = f;
    f->req = kube_request_start(s->client, &o);
    if (f->req == NULL) {
        free(f);
        return -1;
    }
    e->ptr = f;
    s->inflight++;
    s->fetched++;
    return 0;
}

static void
kube_secrets_pump(kube_secrets *s)
{
    kube_keyiter it;
    kube_keyent *e;

    if (ctl_timer_armed(s->retry))
        return;
    kube_keyiter_init(&it, &s->fetches);
    while (s->inflight < KUBE_SECRET_FETCHES &&
           (e = kube_keyiter_next(&it, &s->fetches)) != NULL) {
        if (e->ptr == NULL && kube_fetch_start(s, e) < 0) {
            ctl_timer_arm(s->retry, KUBE_BACKOFF_INITIAL_MS, 0);
            return;
        }
    }
}

static void
kube_secrets_on_retry(ctl_loop *loop, ctl_timer *timer, void *data)
{
    (void)loop;
    (void)timer;
    kube_secrets_pump(data);
}

/* ---------------------------------------------------------------- api */

kube_secrets *
kube_secrets_new(kube_client *client, ctl_loop *loop, ctl_store *store,
                 ctl_pipeline_source *link, const char *annotations_prefix)
{
    kube_secrets *s = calloc(1, sizeof(*s));
    size_t n;

    if (s == NULL)
        return NULL;
    s->client = client;
    s->store = store;
    s->link = link;
    kube_keymap_init(&s->refs);
    kube_keymap_init(&s->ingresses);
    kube_keymap_init(&s->fetches);
    kube_backoff_init(&s->backoff);
    s->prefix = strdup(annotations_prefix ? annotations_prefix
                                          : KUBE_COMPAT_PREFIX);
    s->retry = ctl_timer_new(loop, kube_secrets_on_retry, s);
    if (s->prefix == NULL || s->retry == NULL) {
        kube_secrets_free(s);
        return NULL;
    }
    /* "prefix/" and "prefix" mean the same. */
    n = strlen(s->prefix);
    while (n > 0 && s->prefix[n - 1] == '/')
        s->prefix[--n] = '\0';
    return s;
}

void
kube_secrets_free(kube_secrets *s)
{
    kube_keyiter it;
    kube_keyent *e;

    if (s == NULL)
        return;
    kube_keyiter_init(&it, &s->fetches);
    while ((e = kube_keyiter_next(&it, &s->fetches)) != NULL) {
        kube_fetch *f = e->ptr;

        if (f != NULL) {
            kube_request_cancel(f->req);
            free(f);
        }
    }
    kube_keyiter_init(&it, &s->ingresses);
    while ((e = kube_keyiter_next(&it, &s->ingresses)) != NULL)
        kube_reflist_free(e->ptr);
    kube_keymap_clear(&s->refs);
    kube_keymap_clear(&s->ingresses);
    kube_keymap_clear(&s->fetches);
    ctl_timer_free(s->retry);
    free(s->prefix);
    free(s);
}

int
kube_secrets_pin(kube_secrets *s, const char *ns, const char *name)
{
    kube_ref_inc(s, ns, name);
    return kube_keymap_get(&s->refs, ns, name) != NULL ? 0 : -1;
}

void
kube_secrets_set_reflector(kube_secrets *s, kube_reflector *r)
{
    s->reflector = r;
}

size_t
kube_secrets_referenced(const kube_secrets *s)
{
    return s->refs.count;
}

unsigned long
kube_secrets_fetches(const kube_secrets *s)
{
    return s->fetched;
}
