/*
 * model_config.c -- the global settings ConfigMap (--configmap ns/name)
 * into the table's CONFIG record, and the same values for the model to
 * resolve route policies against (ctl_build.config).
 *
 * Only keys that change per-request behaviour the module reads from the
 * table are taken here: redirect and HSTS settings, forwarded headers and
 * the real client address, proxy defaults, custom error codes, the
 * global source ranges, the status codes of the rate limits and the
 * load-balance algorithm.  Every
 * ConfigMap change is a rebuild and a republish: nothing here needs an
 * nginx reload.
 *
 * A value that does not parse is logged (ConfigMap, key, value, why) and
 * that key keeps its last good value (its default when it never had
 * one); the rest of the ConfigMap still applies.  The source ranges fail
 * closed instead: a whitelist-source-range, denylist-source-range or
 * block-cidrs that does not parse makes every request answer 403, and a
 * proxy-real-ip-cidr that does not parse trusts no peer.  Keys this file
 * does not know are logged at debug level only: many of ingress-nginx's
 * keys configure nginx itself (docs/operations.md).
 */
#include <stdlib.h>
#include <string.h>

#include "annotations/registry.h"
#include "model_internal.h"

typedef enum {
    CFG_FLAG,    /* bool into one TBL_CFG_* bit                       */
    CFG_ON_OFF,  /* "on"/"off" into one TBL_CFG_* bit                 */
    CFG_STATUS,  /* int into a uint16_t status code                   */
    CFG_SECONDS, /* seconds into a uint32_t                           */
    CFG_MS,      /* seconds ("5", "5s", "1m") into uint32_t ms        */
    CFG_COUNT,   /* int into a uint32_t                               */
    CFG_SIZE,    /* nginx size into a uint64_t                        */
    CFG_NEXT,    /* proxy-next-upstream conditions into TBL_NEXT_*    */
    CFG_HEADER,  /* header name into a const char *                   */
    CFG_ERRORS,  /* comma-separated codes into the custom_errors map  */
    CFG_CIDRS,   /* CIDR list into a CFG_LIST_* slot                  */
    CFG_BALANCE  /* round_robin or ewma into load_balance             */
} cfg_type;

enum {
    CFG_LIST_ALLOW,
    CFG_LIST_DENY,
    CFG_LIST_BLOCK,
    CFG_LIST_REAL_IP,
    CFG_LISTS
};

typedef struct {
    const char *key;
    cfg_type    type;
    uint32_t    flag;   /* CFG_FLAG, CFG_ON_OFF; CFG_CIDRS: the list  */
    size_t      offset; /* the others: into the spec                   */
    int64_t     min, max;
} cfg_key;

#define SPEC_AT(field) offsetof(tbl_config_spec, field)
#define DAY_SECONDS    (24 * 60 * 60)

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
    {"enable-real-ip", CFG_FLAG, TBL_CFG_ENABLE_REAL_IP, 0, 0, 0},
    {"proxy-buffering", CFG_ON_OFF, TBL_CFG_PROXY_BUFFERING, 0, 0, 0},
    {"http-redirect-code", CFG_STATUS, 0, SPEC_AT(http_redirect_code), 300,
     308},
    {"limit-req-status-code", CFG_STATUS, 0, SPEC_AT(limit_req_status_code),
     400, 599},
    {"limit-conn-status-code", CFG_STATUS, 0, SPEC_AT(limit_conn_status_code),
     400, 599},
    {"hsts-max-age", CFG_SECONDS, 0, SPEC_AT(hsts_max_age), 0, UINT32_MAX},
    {"proxy-connect-timeout", CFG_MS, 0, SPEC_AT(connect_timeout_ms), 1,
     DAY_SECONDS},
    {"proxy-send-timeout", CFG_MS, 0, SPEC_AT(send_timeout_ms), 1,
     DAY_SECONDS},
    {"proxy-read-timeout", CFG_MS, 0, SPEC_AT(read_timeout_ms), 1,
     DAY_SECONDS},
    {"proxy-next-upstream-timeout", CFG_MS, 0,
     SPEC_AT(next_upstream_timeout_ms), 0, DAY_SECONDS},
    {"proxy-next-upstream-tries", CFG_COUNT, 0, SPEC_AT(next_upstream_tries),
     0, 1000},
    {"proxy-next-upstream", CFG_NEXT, 0, SPEC_AT(next_upstream), 0, 0},
    {"proxy-body-size", CFG_SIZE, 0, SPEC_AT(body_size_max), 0, 0},
    {"forwarded-for-header", CFG_HEADER, 0, SPEC_AT(forwarded_for_header), 0,
     0},
    {"custom-http-errors", CFG_ERRORS, 0, 0, 300, 599},
    {"whitelist-source-range", CFG_CIDRS, CFG_LIST_ALLOW, 0, 0, 0},
    {"denylist-source-range", CFG_CIDRS, CFG_LIST_DENY, 0, 0, 0},
    {"block-cidrs", CFG_CIDRS, CFG_LIST_BLOCK, 0, 0, 0},
    {"proxy-real-ip-cidr", CFG_CIDRS, CFG_LIST_REAL_IP, 0, 0, 0},
    {"load-balance", CFG_BALANCE, 0, 0, 0, 0},
};

#define CFG_NKEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

/*
 * What outlives one build: the spec the model resolves policies against
 * (its CIDR arrays and strings are owned here), and the last value of
 * every key that parsed, so a bad edit keeps serving the previous one.
 * The last good values follow one store and start over when a build
 * runs against another (or the same address reused: a store's version
 * never goes down), as the last good Ingresses do.
 */
static struct {
    const ctl_store *of;
    uint64_t         version;
    char            *good[CFG_NKEYS];
    ctl_ann_cidrs    lists[CFG_LISTS];
    tbl_config_spec  spec;
} cfg_state;

/* proxy-real-ip-cidr's default, as ingress-nginx: every IPv4 peer. */
static const tbl_cidr cfg_real_ip_default = {.family = 4, .prefix_len = 0};

static const cfg_key *
cfg_key_find(const char *key)
{
    for (size_t i = 0; i < CFG_NKEYS; i++) {
        if (strcmp(cfg_keys[i].key, key) == 0)
            return &cfg_keys[i];
    }
    return NULL;
}

/* "502,503, 504": each code in [min, max] into the bitmap. */
static const char *
cfg_parse_errors(const cfg_key *k, const char *value, uint64_t *map)
{
    uint64_t    bits[TBL_CUSTOM_ERRORS_WORDS] = {0};
    char        word[16];
    const char *p = value, *why = NULL;
    int64_t     code;

    while (*p != '\0') {
        size_t n;

        p += strspn(p, " \t,");
        n = strcspn(p, " \t,");
        if (n == 0)
            break;
        if (n >= sizeof(word))
            return "not a comma-separated list of HTTP status codes";
        memcpy(word, p, n);
        word[n] = '\0';
        if (ctl_ann_parse_int(word, k->min, k->max, &code, &why) != 0)
            return "each code must be an HTTP status code in 300..599";
        code -= TBL_CUSTOM_ERRORS_BASE;
        bits[code / 64] |= 1ull << (code % 64);
        p += n;
    }
    memcpy(map, bits, sizeof(bits));
    return NULL;
}

/* An empty value is no list; anything else must parse whole. */
static const char *
cfg_parse_list(const cfg_key *k, const char *value, tbl_config_spec *spec)
{
    ctl_ann_cidrs *l = &cfg_state.lists[k->flag];
    const char    *why = NULL;
    int            rc;

    free(l->v);
    l->v = NULL;
    l->n = 0;
    if (value[strspn(value, " \t")] != '\0') {
        rc = ctl_ann_parse_cidrs(value, l, &why);
        if (rc == -2)
            return "out of memory";
        if (rc != 0) {
            free(l->v);
            l->v = NULL;
            l->n = 0;
            return why;
        }
    }
    switch (k->flag) {
    case CFG_LIST_ALLOW:
        spec->allow = l->v;
        spec->allow_count = l->n;
        break;
    case CFG_LIST_DENY:
        spec->deny = l->v;
        spec->deny_count = l->n;
        break;
    case CFG_LIST_BLOCK:
        spec->block = l->v;
        spec->block_count = l->n;
        break;
    default:
        spec->real_ip = l->v;
        spec->real_ip_count = l->n;
        break;
    }
    return NULL;
}

/* Applies one key to spec; returns why it could not, or NULL. */
static const char *
cfg_apply(const cfg_key *k, const char *value, tbl_config_spec *spec)
{
    char       *at = (char *)spec + k->offset;
    const char *why = NULL;
    uint32_t    mask;
    bool        on;
    int64_t     n;

    switch (k->type) {
    case CFG_FLAG:
        if (ctl_ann_parse_bool(value, &on, &why) != 0)
            return why;
        spec->flags = on ? spec->flags | k->flag : spec->flags & ~k->flag;
        return NULL;
    case CFG_ON_OFF:
        if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0)
            return "must be on or off";
        on = strcmp(value, "on") == 0;
        spec->flags = on ? spec->flags | k->flag : spec->flags & ~k->flag;
        return NULL;
    case CFG_STATUS:
        if (ctl_ann_parse_int(value, k->min, k->max, &n, &why) != 0)
            return why;
        *(uint16_t *)at = (uint16_t)n;
        return NULL;
    case CFG_SECONDS:
    case CFG_COUNT:
        if (ctl_ann_parse_int(value, k->min, k->max, &n, &why) != 0)
            return why;
        *(uint32_t *)at = (uint32_t)n;
        return NULL;
    case CFG_MS:
        if (ctl_ann_parse_seconds(value, k->min, k->max, &n, &why) != 0)
            return why;
        *(uint32_t *)at = (uint32_t)(n * 1000);
        return NULL;
    case CFG_SIZE:
        if (ctl_ann_parse_size(value, &n, &why) != 0)
            return why;
        *(uint64_t *)at = (uint64_t)n;
        return NULL;
    case CFG_NEXT:
        if (ctl_ann_parse_next_upstream(value, &mask) != 0)
            return "must be space-separated conditions among error, "
                   "timeout, invalid_header, http_500, http_502, "
                   "http_503, http_504, http_403, http_404, http_429, "
                   "non_idempotent; or off";
        *(uint32_t *)at = mask;
        return NULL;
    case CFG_HEADER:
        if (ctl_ann_check_text(CTL_ANN_HEADER, value, &why) != 0)
            return why;
        *(const char **)at = value;
        return NULL;
    case CFG_ERRORS:
        return cfg_parse_errors(k, value, spec->custom_errors);
    case CFG_CIDRS:
        return cfg_parse_list(k, value, spec);
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
    char        ns[254], q[600];

    if (slash == NULL || slash == ref || slash[1] == '\0'
        || (size_t)(slash - ref) >= sizeof(ns))
    {
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

/* Starts a build's spec from the defaults, forgetting what belonged to
 * another store. */
static void
cfg_state_reset(const ctl_store *store)
{
    if (cfg_state.of != store || ctl_store_version(store) < cfg_state.version)
    {
        for (size_t i = 0; i < CFG_NKEYS; i++) {
            free(cfg_state.good[i]);
            cfg_state.good[i] = NULL;
        }
    }
    cfg_state.of = store;
    cfg_state.version = ctl_store_version(store);
    for (size_t i = 0; i < CFG_LISTS; i++) {
        free(cfg_state.lists[i].v);
        cfg_state.lists[i].v = NULL;
        cfg_state.lists[i].n = 0;
    }
    tbl_config_spec_defaults(&cfg_state.spec);
    cfg_state.spec.real_ip = &cfg_real_ip_default;
    cfg_state.spec.real_ip_count = 1;
}

/*
 * One key of the ConfigMap: its value, or on a bad value the last good
 * one (lists: fail closed).  The good copy is what the spec points to,
 * so strings stay valid after the ConfigMap object changes.
 */
static void
cfg_take(const ctl_object *cm, const cfg_key *k, const cJSON *item)
{
    size_t      i = (size_t)(k - cfg_keys);
    const char *value = cJSON_IsString(item) ? item->valuestring : NULL;
    const char *why = "not a string";
    char       *copy = value != NULL ? strdup(value) : NULL;
    char        qv[600];

    if (value != NULL)
        why = copy == NULL ? "out of memory"
                           : cfg_apply(k, copy, &cfg_state.spec);
    if (why == NULL) {
        free(cfg_state.good[i]);
        cfg_state.good[i] = copy;
        return;
    }
    free(copy);
    ctl_log_object(
        CTL_LOG_ERROR, "configmap value ignored", cm,
        "field=data.%s value=\"%s\" reason=\"%s\" using=%s", k->key,
        ctl_log_quote(value != NULL ? value : "", qv, sizeof(qv)), why,
        k->type == CFG_CIDRS
            ? (k->flag == CFG_LIST_REAL_IP ? "no-trusted-peer" : "deny-all")
        : cfg_state.good[i] != NULL ? "last-good"
                                    : "default");
    if (k->type == CFG_CIDRS) {
        if (k->flag != CFG_LIST_REAL_IP) {
            cfg_state.spec.flags |= TBL_CFG_ACCESS_DENIED;
        } else {
            cfg_state.spec.real_ip = NULL;
            cfg_state.spec.real_ip_count = 0;
        }
        return;
    }
    if (cfg_state.good[i] != NULL)
        cfg_apply(k, cfg_state.good[i], &cfg_state.spec);
}

/* Keys that are gone from the ConfigMap lose their last good value. */
static void
cfg_forget_absent(const cJSON *data)
{
    for (size_t i = 0; i < CFG_NKEYS; i++) {
        if (cfg_state.good[i] != NULL
            && !cJSON_HasObjectItem(data, cfg_keys[i].key)) {
            free(cfg_state.good[i]);
            cfg_state.good[i] = NULL;
        }
    }
}

int
ctl_config_build(ctl_build *bd)
{
    const char       *ref = bd->cfg->configmap;
    const ctl_object *cm;
    const cJSON      *data, *item;
    char              err[256], qk[300], qv[600];

    cfg_state_reset(bd->store);
    cm = (ref != NULL && ref[0] != '\0') ? cfg_find_configmap(bd, ref) : NULL;
    data = cm != NULL ? ctl_json_object(cm->json, "data") : NULL;
    cfg_forget_absent(data);

    cJSON_ArrayForEach(item, data)
    {
        const cfg_key *k = cfg_key_find(item->string);

        if (k == NULL) {
            ctl_log_object(CTL_LOG_DEBUG, "configmap key not used", cm,
                           "field=data.%s",
                           ctl_log_quote(item->string, qk, sizeof(qk)));
            continue;
        }
        cfg_take(cm, k, item);
    }
    bd->config_flags = cfg_state.spec.flags;
    bd->config_load_balance = cfg_state.spec.load_balance;
    bd->config = &cfg_state.spec;
    if (tbl_builder_set_config(bd->b, &cfg_state.spec, err, sizeof(err)) != 0)
    {
        ctl_log(CTL_LOG_ERROR, "configmap not applied", "reason=\"%s\"",
                ctl_log_quote(err, qv, sizeof(qv)));
        return -1;
    }
    return 0;
}
