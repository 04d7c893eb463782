/*
 * model_annotations.c -- what the model does with an Ingress's
 * annotations: parse them once per object version (the registry in
 * annotations/ does the parsing), reject the version when a value is
 * invalid, and then keep serving the last good version of that Ingress.
 *
 * The last good version of every owned Ingress is a copy of its JSON in
 * a private store, kept across builds and object versions: ingress-nginx
 * keeps its previous parse the same way.  An Ingress that never had a
 * good version is simply not served.  This file does not turn values
 * into table records (model.c's emit step does).
 */
#define _GNU_SOURCE /* asprintf */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/*
 * The last good versions.  The model has no state of its own between
 * builds, so this lives here; it follows one store at a time and starts
 * over when it sees another (or the same address reused: a store's
 * version never goes down).
 */
static struct {
    ctl_store       *good;
    const ctl_store *of;
    uint64_t         version;
} kept;

typedef struct {
    const ctl_object *ing;
    char             *joined; /* warnings, "key: reason; ..."          */
    bool              nomem;
} warn_ctx;

static void
append_warning(warn_ctx *w, const char *key, const char *reason)
{
    char *next = NULL;

    if (asprintf(&next, "%s%s%s: %s", w->joined ? w->joined : "",
                 w->joined ? "; " : "", key, reason) < 0) {
        w->nomem = true;
        return;
    }
    free(w->joined);
    w->joined = next;
}

static void
on_warning(void *ctx, const char *key, const char *reason)
{
    warn_ctx *w = ctx;
    char qk[200], qr[300];

    ctl_log_object(CTL_LOG_WARN, "annotation ignored", w->ing,
                   "key=\"%s\" reason=\"%s\"",
                   ctl_log_quote(key, qk, sizeof(qk)),
                   ctl_log_quote(reason, qr, sizeof(qr)));
    append_warning(w, key, reason);
}

static void
on_unknown_compat(void *ctx, const char *key, const char *reason)
{
    warn_ctx *w = ctx;
    char qk[200];

    ctl_log_object(CTL_LOG_DEBUG, "annotation ignored", w->ing,
                   "key=\"%s\" reason=\"%s\"",
                   ctl_log_quote(key, qk, sizeof(qk)), reason);
}

void
ctl_ingress_annotations_reset(ctl_ingress_info *info)
{
    ctl_annotations_free(&info->values);
    free(info->values_invalid);
    free(info->values_warnings);
    info->values_invalid = NULL;
    info->values_warnings = NULL;
    info->values_state = CTL_VALUES_UNREAD;
}

/* Parses once per version; -1 only when out of memory. */
static int
read_values(const ctl_class_rules *r, const ctl_object *ing,
            ctl_ingress_info *info)
{
    const cJSON *ann = ctl_json_object(ctl_json_object(ing->json,
                                                       "metadata"),
                                       "annotations");
    warn_ctx w = {ing, NULL, false};
    ctl_ann_error e;
    ctl_ann_result rc;
    char qk[200], qv[300], qr[300];

    if (info->values_state != CTL_VALUES_UNREAD)
        return 0;
    rc = ctl_annotations_parse(ann, r->annotations_prefix,
                               r->annotations_prefix_len, &info->values,
                               on_warning, on_unknown_compat, &w, &e);
    info->values_warnings = w.joined;
    if (rc == CTL_ANN_NOMEM || w.nomem)
        return -1;
    if (rc == CTL_ANN_OK) {
        info->values_state = CTL_VALUES_GOOD;
        return 0;
    }
    info->values_state = CTL_VALUES_BAD;
    ctl_annotations_free(&info->values);
    ctl_log_object(CTL_LOG_WARN, "ingress rejected", ing,
                   "field=metadata.annotations key=\"%s\" value=\"%s\" "
                   "reason=\"%s\"",
                   ctl_log_quote(e.key, qk, sizeof(qk)),
                   ctl_log_quote(e.value, qv, sizeof(qv)),
                   ctl_log_quote(e.reason, qr, sizeof(qr)));
    if (asprintf(&info->values_invalid, "metadata.annotations[%s]=\"%s\": %s",
                 e.key, e.value, e.reason) < 0) {
        info->values_invalid = NULL;
        return -1;
    }
    return 0;
}

static bool
is_kept_copy(const ctl_object *ing)
{
    return kept.good != NULL &&
           ctl_store_get(kept.good, CTL_KIND_INGRESS, ing->namespace_,
                         ing->name) == ing;
}

/* Drops last good versions of Ingresses that are gone, or all of them
 * when the store is not the one they were kept for. */
static int
forget_gone(const ctl_store *store)
{
    size_t i = 0;

    if (kept.good != NULL &&
        (kept.of != store || ctl_store_version(store) < kept.version)) {
        ctl_store_free(kept.good);
        kept.good = NULL;
    }
    if (kept.good == NULL) {
        kept.good = ctl_store_new();
        if (kept.good == NULL)
            return -1;
    }
    kept.of = store;
    kept.version = ctl_store_version(store);
    while (i < ctl_store_count(kept.good, CTL_KIND_INGRESS)) {
        const ctl_object *k = ctl_store_at(kept.good, CTL_KIND_INGRESS, i);

        if (ctl_store_get(store, CTL_KIND_INGRESS, k->namespace_, k->name) ==
            NULL)
            ctl_store_delete(kept.good, CTL_KIND_INGRESS, k->namespace_,
                             k->name);
        else
            i++;
    }
    return 0;
}

int
ctl_annotations_begin(ctl_build *bd)
{
    return forget_gone(bd->store);
}

int
ctl_ingress_served_version(ctl_build *bd, const ctl_class_rules *r,
                           const ctl_object **ing, ctl_ingress_info **info)
{
    const ctl_object *prev;
    ctl_ingress_info *pinfo;

    if (read_values(r, *ing, *info) != 0)
        return -1;
    if ((*info)->values_warnings != NULL)
        ctl_model_problem(bd, *ing, "AnnotationWarning", "%s",
                          (*info)->values_warnings);
    if ((*info)->values_state == CTL_VALUES_GOOD)
        return 1;
    prev = ctl_store_get(kept.good, CTL_KIND_INGRESS, (*ing)->namespace_,
                         (*ing)->name);
    ctl_model_problem(bd, *ing, "InvalidIngress", "%s%s",
                      (*info)->values_invalid,
                      prev ? "; the previous version is served"
                           : "; not served");
    if (prev == NULL)
        return 0;
    pinfo = ctl_ingress_info_of(r, prev);
    if (pinfo == NULL || read_values(r, prev, pinfo) != 0)
        return -1;
    if (pinfo->values_state != CTL_VALUES_GOOD)
        return 0;
    *ing = prev;
    *info = pinfo;
    return 1;
}

int
ctl_ingress_keep_good(const ctl_object *ing, ctl_ingress_info *info)
{
    cJSON *copy;

    if (info->kept || is_kept_copy(ing))
        return 0;
    copy = cJSON_Duplicate(ing->json, 1);
    if (copy == NULL ||
        ctl_store_put(kept.good, CTL_KIND_INGRESS, ing->namespace_,
                      ing->name, copy, ing->origin) != 0)
        return -1;
    info->kept = true;
    return 0;
}
