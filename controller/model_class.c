/*
 * model_class.c -- which Ingresses this controller serves.
 *
 * Ownership follows the Ingress API's own order: the legacy annotation
 * kubernetes.io/ingress.class decides when present; otherwise
 * spec.ingressClassName must name an IngressClass whose spec.controller
 * is ours; an Ingress with neither is ours only when we take class-less
 * Ingresses (--watch-ingress-without-class, or one of our IngressClasses
 * is the cluster default).  Among our Ingresses, those carrying snippet
 * annotations are refused for good.  Validation of the rest is
 * model_ingress.c's, their annotations model_annotations.c's.
 */
#include <stdio.h>
#include <string.h>

#include "model_internal.h"

#define DEFAULT_CONTROLLER_CLASS   "shmingress.io/controller"
#define DEFAULT_INGRESS_CLASS      "shmingress"
#define DEFAULT_ANNOTATIONS_PREFIX "nginx.ingress.kubernetes.io"
#define OUR_ANNOTATIONS_PREFIX     "shmingress.io"
#define LEGACY_CLASS_ANNOTATION    "kubernetes.io/ingress.class"
#define DEFAULT_CLASS_ANNOTATION   "ingressclass.kubernetes.io/is-default-class"

static bool
class_is_ours(const ctl_class_rules *r, const ctl_object *cls)
{
    const char *controller = ctl_json_string(ctl_json_object(cls->json,
                                                             "spec"),
                                             "controller");

    return controller != NULL && strcmp(controller, r->controller_class) == 0;
}

/* Only the exact string "true" marks a default class, as in the API
 * server's admission plugin. */
static bool
class_is_default(const ctl_object *cls)
{
    const char *v = ctl_annotation(cls->json, DEFAULT_CLASS_ANNOTATION);

    return v != NULL && strcmp(v, "true") == 0;
}

void
ctl_class_rules_init(ctl_class_rules *r, const ctl_store *store,
                     const ctl_model_config *cfg)
{
    const char *prefix;
    size_t n;

    r->controller_class = cfg->controller_class ? cfg->controller_class
                                                : DEFAULT_CONTROLLER_CLASS;
    r->ingress_class = cfg->ingress_class ? cfg->ingress_class
                                          : DEFAULT_INGRESS_CLASS;
    prefix = cfg->annotations_prefix ? cfg->annotations_prefix
                                     : DEFAULT_ANNOTATIONS_PREFIX;
    r->annotations_prefix = prefix;
    r->annotations_prefix_len = strlen(prefix);
    while (r->annotations_prefix_len > 0 &&
           prefix[r->annotations_prefix_len - 1] == '/')
        r->annotations_prefix_len--;

    r->take_classless = cfg->watch_without_class;
    n = ctl_store_count(store, CTL_KIND_INGRESS_CLASS);
    for (size_t i = 0; i < n && !r->take_classless; i++) {
        const ctl_object *cls = ctl_store_at(store, CTL_KIND_INGRESS_CLASS, i);

        if (class_is_ours(r, cls) && class_is_default(cls))
            r->take_classless = true;
    }
}

/* Does key sit under one of our two prefixes ("prefix/...")?  Returns
 * the part after the '/', or NULL; *ours tells which prefix. */
static const char *
annotation_suffix(const ctl_class_rules *r, const char *key, bool *ours)
{
    size_t n = sizeof(OUR_ANNOTATIONS_PREFIX) - 1;

    *ours = strncmp(key, OUR_ANNOTATIONS_PREFIX "/", n + 1) == 0;
    if (*ours)
        return key + n + 1;
    n = r->annotations_prefix_len;
    if (n > 0 && strncmp(key, r->annotations_prefix, n) == 0 && key[n] == '/')
        return key + n + 1;
    return NULL;
}

/* One pass over the annotations: Ingresses often carry many, kubectl's
 * last-applied copy among them. */
void
ctl_read_annotations(const ctl_class_rules *r, const cJSON *json,
                     ctl_ingress_annotations *a)
{
    const cJSON *ann = ctl_json_object(ctl_json_object(json, "metadata"),
                                       "annotations");
    const cJSON *m;

    memset(a, 0, sizeof(*a));
    cJSON_ArrayForEach(m, ann)
    {
        const char *suffix, *value = cJSON_GetStringValue(m);
        size_t n;
        bool ours;

        if (strcmp(m->string, LEGACY_CLASS_ANNOTATION) == 0) {
            a->legacy_class = value ? value : "";
            continue;
        }
        suffix = annotation_suffix(r, m->string, &ours);
        if (suffix == NULL)
            continue;
        n = strlen(suffix);
        if (a->snippet == NULL && n >= 8 &&
            strcmp(suffix + n - 8, "-snippet") == 0)
            a->snippet = m->string;
    }
}

static bool
ingress_has_our_class(const ctl_class_rules *r, const ctl_store *store,
                      const ctl_ingress_info *info)
{
    const ctl_object *cls;

    if (info->ann.legacy_class != NULL)
        return strcmp(info->ann.legacy_class, r->ingress_class) == 0;
    if (info->class_name != NULL) {
        cls = ctl_store_get(store, CTL_KIND_INGRESS_CLASS, "",
                            info->class_name);
        return cls != NULL && class_is_ours(r, cls);
    }
    return r->take_classless;
}

ctl_ownership
ctl_ingress_ownership(const ctl_class_rules *r, const ctl_store *store,
                      const ctl_object *ing, ctl_ingress_info *info,
                      char *why, size_t whylen)
{
    const ctl_ingress_annotations *a = &info->ann;
    bool log = !info->refusal_logged;

    if (!ingress_has_our_class(r, store, info))
        return CTL_NOT_OURS;
    if (a->snippet != NULL) {
        char q[300];

        snprintf(why, whylen, "metadata.annotations[\"%s\"]: snippet "
                 "annotations are never supported; the ingress is not "
                 "served", a->snippet);
        info->refusal_logged = true;
        if (log)
            ctl_log_object(CTL_LOG_WARN, "ingress refused", ing,
                           "field=metadata.annotations value=\"%s\" "
                           "reason=\"snippet annotations are never "
                           "supported\"",
                           ctl_log_quote(a->snippet, q, sizeof(q)));
        return CTL_REFUSED;
    }
    return CTL_OWNED;
}
