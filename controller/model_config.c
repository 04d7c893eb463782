/*
 * model_config.c -- the global settings ConfigMap (--configmap ns/name)
 * into the table's CONFIG record.
 *
 * Only keys that change per-request behaviour the module reads from the
 * table are taken here: redirect and HSTS settings, forwarded headers,
 * and the status codes of the rate limits.  A value that does not parse
 * is logged (ConfigMap, key, value, why) and that key keeps its default,
 * as ingress-nginx does; the rest of the ConfigMap still applies.  Keys
 * this file does not know are logged at debug level only: many of
 * ingress-nginx's keys configure nginx itself (docs/operations.md).
 */
#include <string.h>

#include "annotations/registry.h"
#include "model_internal.h"

typedef enum {
    CFG_FLAG,   /* bool into one TBL_CFG_* bit                        */
    CFG_STATUS, /* int into a uint16_t status code                    */
    CFG_SECONDS, /* int seconds into a uint32_t                       */
    CFG_BALANCE  /* round_robin or ewma into load_balance             */
} cfg_type;

typedef struct {
    const char *key;
    cfg_type    type;
    uint32_t    flag;   /* CFG_FLAG                                    */
    size_t      offset; /* CFG_STATUS, CFG_SECONDS: into the spec      */
    int64_t     min, max;
} cfg_key;

#define SPEC_AT(field) offsetof(tbl_config_spec, field)

static const cfg_key cfg_keys[] = {
    {"ssl-redirect", CFG_FLAG, TBL_CFG_SSL_REDIRECT, 0, 0, 0},
    {"force-ssl-redirect", CFG_FLAG, TBL_CFG_FORCE_SSL_REDIRECT, 0, 0, 0},
    {"hsts", CFG_FLAG, TBL_CFG_HSTS, 0, 0, 0},
    {"hsts-include-subdomains", CFG_FLAG, TBL_CFG_HSTS_INCLUDE_SUBDOMAINS, 0,
     0, 0},
    {"hsts-preload", CFG_FLAG, TBL_CFG_HSTS_PRELOAD, 0, 0, 0},
    {"use-forwarded-headers", CFG_FLAG, TBL_CFG_USE_FORWARDED_HEADERS, 0, 0,
     0},
    {"compute-full-forwarded-for", CFG_FLAG,
     TBL_CFG_COMPUTE_FULL_FORWARDED_FOR, 0, 0, 0},
    {"http-redirect-code", CFG_STATUS, 0, SPEC_AT(http_redirect_code), 300,
     308},
    {"limit-req-status-code", CFG_STATUS, 0, SPEC_AT(limit_req_status_code),
     400, 599},
    {"limit-conn-status-code", CFG_STATUS, 0, SPEC_AT(limit_conn_status_code),
     400, 599},
    {"hsts-max-age", CFG_SECONDS, 0, SPEC_AT(hsts_max_age), 0, UINT32_MAX},
    {"load-balance", CFG_BALANCE, 0, 0, 0, 0},
};

static const cfg_key *
cfg_key_find(const char *key)
{
    for (size_t i = 0; i < sizeof(cfg_keys) / sizeof(cfg_keys[0]); i++) {
        if (strcmp(cfg_keys[i].key, key) == 0)
            return &cfg_keys[i];
    }
    return NULL;
}

/* Applies one key to spec; returns why it could not, or NULL. */
static const char *
cfg_apply(const cfg_key *k, const char *value, tbl_config_spec *spec)
{
    const char *why = NULL;
    bool on;
    int64_t n;

    switch (k->type) {
    case CFG_FLAG:
        if (ctl_ann_parse_bool(value, &on, &why) != 0)
            return why;
        spec->flags = on ? spec->flags | k->flag : spec->flags & ~k->flag;
        return NULL;
    case CFG_STATUS:
        if (ctl_ann_parse_int(value, k->min, k->max, &n, &why) != 0)
            return why;
        *(uint16_t *)((char *)spec + k->offset) = (uint16_t)n;
        return NULL;
    case CFG_SECONDS:
        if (ctl_ann_parse_int(value, k->min, k->max, &n, &why) != 0)
            return why;
        *(uint32_t *)((char *)spec + k->offset) = (uint32_t)n;
        return NULL;
    case CFG_BALANCE:
        if (strcmp(value, "round_robin") == 0)
            spec->load_balance = TBL_LB_ROUND_ROBIN;
        else if (strcmp(value, "ewma") == 0)
            spec->load_balance = TBL_LB_EWMA;
        else
            return "must be round_robin or ewma";
        return NULL;
    }
    return "unknown key type";
}

static const ctl_object *
cfg_find_configmap(const ctl_build *bd, const char *ref)
{
    const char *slash = strchr(ref, '/');
    char ns[254], q[600];

    if (slash == NULL || slash == ref || slash[1] == '\0' ||
        (size_t)(slash - ref) >= sizeof(ns)) {
        ctl_log(CTL_LOG_ERROR, "configmap ignored",
                "flag=--configmap value=\"%s\" reason=\"must be "
                "namespace/name\"",
                ctl_log_quote(ref, q, sizeof(q)));
        return NULL;
    }
    memcpy(ns, ref, (size_t)(slash - ref));
    ns[slash - ref] = '\0';
    return ctl_store_get(bd->store, CTL_KIND_CONFIG_MAP, ns, slash + 1);
}

int
ctl_config_build(ctl_build *bd)
{
    const char *ref = bd->cfg->configmap;
    const ctl_object *cm;
    const cJSON *data, *item;
    tbl_config_spec spec;
    char err[256], qk[300], qv[600];

    tbl_config_spec_defaults(&spec);
    cm = (ref != NULL && ref[0] != '\0') ? cfg_find_configmap(bd, ref) : NULL;
    data = cm != NULL ? ctl_json_object(cm->json, "data") : NULL;

    cJSON_ArrayForEach(item, data) {
        const cfg_key *k = cfg_key_find(item->string);
        const char *why;

        if (k == NULL) {
            ctl_log_object(CTL_LOG_DEBUG, "configmap key not used", cm,
                           "field=data.%s",
                           ctl_log_quote(item->string, qk, sizeof(qk)));
            continue;
        }
        why = cJSON_IsString(item)
                  ? cfg_apply(k, item->valuestring, &spec)
                  : "not a string";
        if (why != NULL)
            ctl_log_object(CTL_LOG_WARN, "configmap value ignored", cm,
                           "field=data.%s value=\"%s\" reason=\"%s\" "
                           "using=default",
                           k->key,
                           ctl_log_quote(cJSON_IsString(item)
                                             ? item->valuestring
                                             : "",
                                         qv, sizeof(qv)),
                           why);
    }
    bd->config_flags = spec.flags;
    bd->config_load_balance = spec.load_balance;
    if (tbl_builder_set_config(bd->b, &spec, err, sizeof(err)) != 0) {
        ctl_log(CTL_LOG_ERROR, "configmap not applied", "reason=\"%s\"",
                ctl_log_quote(err, qv, sizeof(qv)));
        return -1;
    }
    return 0;
}
