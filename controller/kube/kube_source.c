/*
 * kube_source.c -- the reflectors of API mode and their readiness (see
 * kube_source.h).  Every reflector's hooks get the source as their data;
 * the few that matter for Secrets pass on to the Secret tracker.
 */
#include "kube_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_secrets.h"
#include "log.h"

#define KUBE_MAX_REFLECTORS 8
#define KUBE_SECRET_PAGE    50u /* Secrets reach 1 MiB: bound a page */

struct kube_source {
    ctl_pipeline_source *link;
    kube_secrets        *secrets;
    kube_reflector      *reflectors[KUBE_MAX_REFLECTORS];
    size_t               count;
    kube_reflector      *ingresses;
    kube_reflector      *secret_reflector;
    bool                 ready;
};

/* "ns/name" -> ns and "metadata.name=name"; the flag parser checked it. */
static int
kube_split_ref(const char *ref, char *ns, size_t nslen, char *sel,
               size_t sellen)
{
    const char *slash = strchr(ref, '/');

    if (slash == NULL || (size_t)(slash - ref) >= nslen)
        return -1;
    memcpy(ns, ref, (size_t)(slash - ref));
    ns[slash - ref] = '\0';
    return snprintf(sel, sellen, "metadata.name=%s", slash + 1) <
                   (int)sellen
               ? 0
               : -1;
}

/* ------------------------------------------------------------- hooks */

static void
kube_source_synced(void *data, kube_reflector *r)
{
    kube_source *s = data;

    if (r == s->ingresses && s->secret_reflector != NULL &&
        kube_reflector_start(s->secret_reflector) < 0)
        ctl_log(CTL_LOG_ERROR, "cannot start a reflector", "kind=Secret");
    for (size_t i = 0; i < s->count; i++) {
        if (!kube_reflector_synced(s->reflectors[i]))
            return;
    }
    if (s->ready)
        return;
    s->ready = true;
    ctl_log(CTL_LOG_INFO, "API objects listed",
            "reflectors=%zu secrets_referenced=%zu", s->count,
            kube_secrets_referenced(s->secrets));
    if (s->link != NULL)
        ctl_pipeline_source_ready(s->link);
}

static void
kube_source_ingress_observed(void *data, const char *ns, const char *name,
                             const cJSON *json)
{
    kube_source *s = data;

    kube_secrets_ingress_observed(s->secrets, ns, name, json);
}

static bool
kube_source_secret_wanted(void *data, const char *ns, const char *name)
{
    kube_source *s = data;

    return kube_secrets_wanted(s->secrets, ns, name);
}

static void
kube_source_secret_observed(void *data, const char *ns, const char *name,
                            const cJSON *json)
{
    kube_source *s = data;

    (void)json;
    kube_secrets_secret_observed(s->secrets, ns, name);
}

/* ----------------------------------------------------------- wiring */

static kube_reflector *
kube_source_add(kube_source *s, ctl_loop *loop, kube_client *client,
                ctl_store *store, ctl_kind kind, const char *ns,
                const char *selector, kube_reflector_hooks *hooks)
{
    kube_reflector_config rc;
    kube_reflector *r;

    if (s->count == KUBE_MAX_REFLECTORS)
        return NULL;
    memset(&rc, 0, sizeof(rc));
    rc.kind = kind;
    rc.namespace_ = ns;
    rc.field_selector = selector;
    if (kind == CTL_KIND_SECRET)
        rc.page_limit = KUBE_SECRET_PAGE;
    hooks->synced = kube_source_synced;
    hooks->data = s;
    r = kube_reflector_new(client, loop, store, s->link, &rc, hooks);
    if (r != NULL)
        s->reflectors[s->count++] = r;
    return r;
}

static int
kube_source_secrets(kube_source *s, ctl_loop *loop, kube_client *client,
                    ctl_store *store, const kube_source_config *cfg)
{
    const char *watch_ns = cfg->watch_namespace;
    kube_reflector_hooks h;
    char ns[256], sel[512];

    memset(&h, 0, sizeof(h));
    h.wanted = kube_source_secret_wanted;
    h.observed = kube_source_secret_observed;
    s->secret_reflector = kube_source_add(s, loop, client, store,
                                          CTL_KIND_SECRET, watch_ns, NULL, &h);
    if (s->secret_reflector == NULL)
        return -1;
    kube_secrets_set_reflector(s->secrets, s->secret_reflector);
    if (cfg->default_ssl_certificate == NULL)
        return 0;
    if (kube_split_ref(cfg->default_ssl_certificate, ns, sizeof(ns), sel,
                       sizeof(sel)) < 0)
        return -1;
    if (watch_ns == NULL || *watch_ns == '\0' || strcmp(watch_ns, ns) == 0)
        return kube_secrets_pin(s->secrets, ns, strchr(sel, '=') + 1);
    /* Outside the watched namespace: a reflector for that one name. */
    memset(&h, 0, sizeof(h));
    return kube_source_add(s, loop, client, store, CTL_KIND_SECRET, ns, sel,
                           &h) != NULL
               ? 0
               : -1;
}

kube_source *
kube_source_new(ctl_loop *loop, kube_client *client, ctl_store *store,
                ctl_pipeline_source *link, const kube_source_config *cfg,
                char *err, size_t errlen)
{
    static const ctl_kind plain[] = {CTL_KIND_INGRESS_CLASS, CTL_KIND_SERVICE,
                                     CTL_KIND_ENDPOINT_SLICE};
    kube_source *s = calloc(1, sizeof(*s));
    kube_reflector_hooks h;
    char ns[256], sel[512];

    if (s == NULL)
        goto fail;
    s->link = link;
    s->secrets = kube_secrets_new(client, loop, store, link,
                                  cfg->annotations_prefix);
    if (s->secrets == NULL)
        goto fail;
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        memset(&h, 0, sizeof(h));
        if (kube_source_add(s, loop, client, store, plain[i],
                            cfg->watch_namespace, NULL, &h) == NULL)
            goto fail;
    }
    memset(&h, 0, sizeof(h));
    h.observed = kube_source_ingress_observed;
    s->ingresses = kube_source_add(s, loop, client, store, CTL_KIND_INGRESS,
                                   cfg->watch_namespace, NULL, &h);
    if (s->ingresses == NULL ||
        kube_source_secrets(s, loop, client, store, cfg) < 0)
        goto fail;
    if (cfg->configmap != NULL) {
        memset(&h, 0, sizeof(h));
        if (kube_split_ref(cfg->configmap, ns, sizeof(ns), sel,
                           sizeof(sel)) < 0 ||
            kube_source_add(s, loop, client, store, CTL_KIND_CONFIG_MAP, ns,
                            sel, &h) == NULL)
            goto fail;
    }
    return s;
fail:
    snprintf(err, errlen, "cannot set up the API reflectors: out of memory "
             "or a bad NAMESPACE/NAME flag");
    kube_source_free(s);
    return NULL;
}

void
kube_source_free(kube_source *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->count; i++)
        kube_reflector_free(s->reflectors[i]);
    kube_secrets_free(s->secrets);
    free(s);
}

int
kube_source_start(kube_source *s, char *err, size_t errlen)
{
    for (size_t i = 0; i < s->count; i++) {
        if (s->reflectors[i] == s->secret_reflector)
            continue; /* after the Ingresses: kube_source_synced */
        if (kube_reflector_start(s->reflectors[i]) < 0) {
            snprintf(err, errlen, "cannot start the %s reflector",
                     kube_reflector_kind(s->reflectors[i]));
            return -1;
        }
    }
    return 0;
}
