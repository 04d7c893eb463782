/*
 * model_ingress.c -- parses an Ingress, checking it the way the API
 * server does (networking.k8s.io/v1 validation), and keeps the parse on
 * the store object until the Ingress changes.
 *
 * Objects can reach us without passing the API server (a manifests
 * directory) or from servers with other versions, so every field is
 * type-checked and checked again.  The first problem found rejects the
 * whole Ingress, as ingress-nginx >= 1.12 does: serving half an Ingress
 * is harder to debug than serving none of it.  The log line, written
 * once per version of the object, names the object, where it came from,
 * the field path and the bad value.  Merging with other Ingresses is
 * model.c's business.
 */
#define _GNU_SOURCE /* timegm */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model_internal.h"

typedef struct {
    char        field[256]; /* spec.rules[0].http.paths[1].pathType */
    char        value[160]; /* the bad value as text                */
    const char *reason;
} ing_error;

/* Records the first problem; always returns -1. */
static int
ing_fail(ing_error *e, const cJSON *value, const char *reason,
         const char *field_fmt, ...) __attribute__((format(printf, 4, 5)));

static int
ing_fail(ing_error *e, const cJSON *value, const char *reason,
         const char *field_fmt, ...)
{
    va_list ap;

    va_start(ap, field_fmt);
    vsnprintf(e->field, sizeof(e->field), field_fmt, ap);
    va_end(ap);
    e->reason = reason;
    if (value == NULL)
        e->value[0] = '\0';
    else if (cJSON_IsString(value))
        snprintf(e->value, sizeof(e->value), "%s", value->valuestring);
    else if (cJSON_IsNumber(value))
        snprintf(e->value, sizeof(e->value), "%.17g", value->valuedouble);
    else if (cJSON_IsBool(value))
        snprintf(e->value, sizeof(e->value), "%s",
                 cJSON_IsTrue(value) ? "true" : "false");
    else if (cJSON_IsNull(value))
        snprintf(e->value, sizeof(e->value), "null");
    else
        snprintf(e->value, sizeof(e->value), "<%s>",
                 cJSON_IsArray(value) ? "array" : "object");
    return -1;
}

/* ------------------------------------------------------ name syntax */

static bool
is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n) */
static bool
dns1123_label_ok(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++) {
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    }
    return true;
}

/* A DNS-1123 subdomain: dot-separated labels, at most 253 bytes. */
static bool
dns1123_subdomain_ok(const char *s)
{
    size_t n = strlen(s);
    const char *label = s;

    if (n == 0 || n > TBL_MAX_HOST_LEN)
        return false;
    for (const char *p = s;; p++) {
        if (*p == '.' || *p == '\0') {
            if (!dns1123_label_ok(label, (size_t)(p - label)))
                return false;
            if (*p == '\0')
                return true;
            label = p + 1;
        }
    }
}

/* rules[].host: a subdomain or "*." + subdomain, never an IP.  Returns
 * the reason it is not, or NULL. */
static const char *
host_problem(const char *host)
{
    struct in_addr a4;

    if (strchr(host, '*') != NULL) {
        if (strncmp(host, "*.", 2) != 0 || strlen(host) > TBL_MAX_HOST_LEN ||
            !dns1123_subdomain_ok(host + 2))
            return "a wildcard host must be '*.' followed by a DNS-1123 "
                   "subdomain";
        return NULL;
    }
    if (inet_pton(AF_INET, host, &a4) == 1)
        return "must be a DNS name, not an IP address";
    if (!dns1123_subdomain_ok(host))
        return "must be a lower-case DNS-1123 subdomain";
    return NULL;
}

/*
 * Service names: a DNS-1123 label (at most 63).  The API server asks for
 * the stricter DNS-1035 label unless RelaxedServiceNameValidation is on;
 * accepting the relaxed form keeps us from dropping Ingresses a newer
 * cluster admits.
 */
static bool
service_name_ok(const char *s)
{
    size_t n = strlen(s);

    return n <= 63 && dns1123_label_ok(s, n);
}

/* IANA service name: <= 15, [-a-z0-9], a letter somewhere, no leading,
 * trailing or doubled '-'. */
static bool
port_name_ok(const char *s)
{
    size_t n = strlen(s);
    bool letter = false;

    if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= 'a' && s[i] <= 'z')
            letter = true;
        else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
            return false;
        if (s[i] == '-' && s[i + 1] == '-')
            return false;
    }
    return letter;
}

/* ------------------------------------------------------------ paths */

static int
path_type_from_string(const char *s)
{
    if (s == NULL)
        return -1;
    if (strcmp(s, "Exact") == 0)
        return TBL_PATH_EXACT;
    if (strcmp(s, "Prefix") == 0)
        return TBL_PATH_PREFIX;
    if (strcmp(s, "ImplementationSpecific") == 0)
        return TBL_PATH_IMPL;
    return -1;
}

static bool
ends_with(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);

    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* The API server's checks on Exact and Prefix paths; ImplementationSpecific
 * paths only need the leading '/'.  Returns the reason or NULL. */
static const char *
path_problem(int type, const char *path)
{
    size_t n = strlen(path);

    if (n > TBL_MAX_PATH_LEN)
        return "longer than 4096 bytes";
    if (type == TBL_PATH_IMPL)
        return n == 0 || path[0] == '/' ? NULL : "must be an absolute path";
    if (n == 0 || path[0] != '/')
        return "must be an absolute path";
    if (strstr(path, "//") != NULL)
        return "must not contain '//'";
    if (strstr(path, "/./") != NULL || strstr(path, "/../") != NULL)
        return "must not contain '/./' or '/../'";
    if (strstr(path, "%2f") != NULL || strstr(path, "%2F") != NULL)
        return "must not contain '%2f'";
    if (ends_with(path, n, "/..") || ends_with(path, n, "/."))
        return "must not end with '/..' or '/.'";
    return NULL;
}

/* --------------------------------------------------------- backends */

/* Where a backend sits; field paths are only formatted for errors. */
typedef struct {
    int      is_default; /* spec.defaultBackend                       */
    uint32_t rule;       /* otherwise spec.rules[rule].http.paths[index] */
    uint32_t index;
} backend_at;

static int
backend_fail(ing_error *e, const cJSON *value, const char *reason,
             const backend_at *at, const char *suffix)
{
    if (at->is_default)
        return ing_fail(e, value, reason, "spec.defaultBackend%s", suffix);
    return ing_fail(e, value, reason,
                    "spec.rules[%u].http.paths[%u].backend%s", at->rule,
                    at->index, suffix);
}

static int
read_service_port(const cJSON *port, ctl_backend_ref *ref, ing_error *e,
                  const backend_at *at)
{
    const cJSON *num, *name;

    if (!cJSON_IsObject(port))
        return backend_fail(e, port, "required", at, ".service.port");
    num = cJSON_GetObjectItemCaseSensitive(port, "number");
    name = cJSON_GetObjectItemCaseSensitive(port, "name");
    if ((num != NULL) == (name != NULL))
        return backend_fail(e, port,
                            "exactly one of name or number is required", at,
                            ".service.port");
    if (num != NULL) {
        double d = num->valuedouble;

        if (!cJSON_IsNumber(num) || d < 1 || d > 65535 ||
            d != (double)(int)d)
            return backend_fail(e, num, "must be an integer from 1 to 65535",
                                at, ".service.port.number");
        ref->port_number = (uint32_t)d;
        return 0;
    }
    if (!cJSON_IsString(name) || !port_name_ok(name->valuestring))
        return backend_fail(e, name,
                            "must be an IANA service name (at most 15 of "
                            "a-z, 0-9 and '-', with a letter)",
                            at, ".service.port.name");
    ref->port_name = name->valuestring;
    return 0;
}

/* A resource backend is valid but not served: ref->service stays NULL. */
static int
read_resource(const cJSON *res, ing_error *e, const backend_at *at)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(res, "kind");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(res, "name");

    if (!cJSON_IsObject(res))
        return backend_fail(e, res, "must be an object", at, ".resource");
    if (!cJSON_IsString(kind) || kind->valuestring[0] == '\0')
        return backend_fail(e, kind, "required", at, ".resource.kind");
    if (!cJSON_IsString(name) || name->valuestring[0] == '\0')
        return backend_fail(e, name, "required", at, ".resource.name");
    return 0;
}

static int
read_backend(const cJSON *backend, ctl_backend_ref *ref, ing_error *e,
             const backend_at *at)
{
    const cJSON *svc, *res, *name;

    memset(ref, 0, sizeof(*ref));
    if (!cJSON_IsObject(backend))
        return backend_fail(e, backend, "required", at, "");
    svc = cJSON_GetObjectItemCaseSensitive(backend, "service");
    res = cJSON_GetObjectItemCaseSensitive(backend, "resource");
    if ((svc != NULL) == (res != NULL))
        return backend_fail(e, backend,
                            "exactly one of service or resource is required",
                            at, "");
    if (res != NULL)
        return read_resource(res, e, at);
    if (!cJSON_IsObject(svc))
        return backend_fail(e, svc, "must be an object", at, ".service");
    name = cJSON_GetObjectItemCaseSensitive(svc, "name");
    if (!cJSON_IsString(name) || !service_name_ok(name->valuestring))
        return backend_fail(e, name,
                            "must be a DNS-1123 label (at most 63 of a-z, "
                            "0-9 and '-')",
                            at, ".service.name");
    ref->service = name->valuestring;
    return read_service_port(cJSON_GetObjectItemCaseSensitive(svc, "port"),
                             ref, e, at);
}

/* ------------------------------------------------------------ rules */

/* The length of the path as the table matches it: a Prefix path
 * without one trailing '/' ("/" stays "/"). */
static size_t
match_len(const ctl_path *p)
{
    size_t n = strlen(p->path);

    if (p->type == TBL_PATH_PREFIX && n > 1 && p->path[n - 1] == '/')
        n--;
    return n;
}

uint64_t
ctl_path_key_hash(const ctl_path *p)
{
    uint64_t h = ctl_hash(p->host, strlen(p->host), 0);

    h = ctl_hash(&p->type, 1, h);
    return ctl_hash(p->path, match_len(p), h);
}

bool
ctl_path_same_key(const ctl_path *a, const ctl_path *b)
{
    size_t n = match_len(a);

    return a->type == b->type && strcmp(a->host, b->host) == 0 &&
           n == match_len(b) && memcmp(a->path, b->path, n) == 0;
}

/* Returns 0, -1 when invalid (e filled), -2 when out of memory. */
static int
read_path(ctl_ingress_info *info, const ctl_object *ing, const char *host,
          uint32_t rule, uint32_t index, const cJSON *p, ing_error *e)
{
    const cJSON *type_item, *path_item;
    const char *path, *problem;
    backend_at at = {0, rule, index};
    ctl_backend_ref ref;
    ctl_path *out;
    int type;

    if (!cJSON_IsObject(p))
        return ing_fail(e, p, "must be an object",
                        "spec.rules[%u].http.paths[%u]", rule, index);
    type_item = cJSON_GetObjectItemCaseSensitive(p, "pathType");
    type = path_type_from_string(cJSON_GetStringValue(type_item));
    if (type < 0)
        return ing_fail(e, type_item,
                        type_item ? "must be Exact, Prefix or "
                                    "ImplementationSpecific"
                                  : "pathType must be specified",
                        "spec.rules[%u].http.paths[%u].pathType", rule,
                        index);
    path_item = cJSON_GetObjectItemCaseSensitive(p, "path");
    if (path_item != NULL && !cJSON_IsString(path_item))
        return ing_fail(e, path_item, "must be a string",
                        "spec.rules[%u].http.paths[%u].path", rule, index);
    path = path_item ? path_item->valuestring : "";
    problem = path_problem(type, path);
    if (problem != NULL)
        return ing_fail(e, path_item, problem,
                        "spec.rules[%u].http.paths[%u].path", rule, index);

    if (read_backend(cJSON_GetObjectItemCaseSensitive(p, "backend"), &ref, e,
                     &at) != 0)
        return -1;
    if (ref.service == NULL) {
        ctl_log_object(CTL_LOG_WARN, "path skipped", ing,
                       "field=spec.rules[%u].http.paths[%u].backend.resource "
                       "reason=\"resource backends are not supported\"",
                       rule, index);
        return 0;
    }

    out = ctl_vec_push(&info->paths);
    if (out == NULL)
        return -2;
    out->host = host;
    out->path = path[0] ? path : "/"; /* empty ImplementationSpecific */
    out->type = (uint8_t)type;
    out->rule = rule;
    out->index = index;
    out->backend = ref;
    ctl_backend_ref_hash(&out->backend, ing->namespace_);
    out->key_hash = ctl_path_key_hash(out);
    return 0;
}

static int
read_rule(ctl_ingress_info *info, const ctl_object *ing, uint32_t rule,
          const cJSON *r, ing_error *e)
{
    const cJSON *host_item, *http, *paths, *p;
    const char *host = "", *problem;
    uint32_t index = 0;

    if (!cJSON_IsObject(r))
        return ing_fail(e, r, "must be an object", "spec.rules[%u]", rule);
    host_item = cJSON_GetObjectItemCaseSensitive(r, "host");
    if (host_item != NULL && !cJSON_IsString(host_item))
        return ing_fail(e, host_item, "must be a string",
                        "spec.rules[%u].host", rule);
    if (host_item != NULL)
        host = host_item->valuestring;
    if (host[0] != '\0') {
        const char **slot;

        problem = host_problem(host);
        if (problem != NULL)
            return ing_fail(e, host_item, problem, "spec.rules[%u].host",
                            rule);
        slot = ctl_vec_push(&info->hosts);
        if (slot == NULL)
            return -2;
        *slot = host;
    } else {
        info->has_hostless = true;
    }

    /* A rule without http still creates its host (answered by the
     * Ingress's defaultBackend or the global default). */
    http = cJSON_GetObjectItemCaseSensitive(r, "http");
    if (http == NULL || cJSON_IsNull(http))
        return 0;
    if (!cJSON_IsObject(http))
        return ing_fail(e, http, "must be an object", "spec.rules[%u].http",
                        rule);
    paths = cJSON_GetObjectItemCaseSensitive(http, "paths");
    if (!cJSON_IsArray(paths) || paths->child == NULL)
        return ing_fail(e, paths, "at least one path is required",
                        "spec.rules[%u].http.paths", rule);
    cJSON_ArrayForEach(p, paths)
    {
        int rc = read_path(info, ing, host, rule, index++, p, e);

        if (rc != 0)
            return rc;
    }
    return 0;
}

static int
read_spec(ctl_ingress_info *info, const ctl_object *ing, ing_error *e)
{
    const cJSON *spec, *rules, *def, *r;
    uint32_t rule = 0;

    spec = cJSON_GetObjectItemCaseSensitive(ing->json, "spec");
    if (!cJSON_IsObject(spec))
        return ing_fail(e, spec, "either defaultBackend or rules must be "
                        "specified", "spec");
    def = cJSON_GetObjectItemCaseSensitive(spec, "defaultBackend");
    if (def != NULL && !cJSON_IsNull(def)) {
        backend_at at = {1, 0, 0};

        if (read_backend(def, &info->default_backend, e, &at) != 0)
            return -1;
        info->has_default = info->default_backend.service != NULL;
        if (info->has_default)
            ctl_backend_ref_hash(&info->default_backend, ing->namespace_);
        if (!info->has_default)
            ctl_log_object(CTL_LOG_WARN, "default backend skipped", ing,
                           "field=spec.defaultBackend.resource "
                           "reason=\"resource backends are not supported\"");
    }
    rules = cJSON_GetObjectItemCaseSensitive(spec, "rules");
    if (rules != NULL && !cJSON_IsNull(rules) && !cJSON_IsArray(rules))
        return ing_fail(e, rules, "must be a list", "spec.rules");
    info->has_rules = cJSON_IsArray(rules) && rules->child != NULL;
    if (!info->has_rules && (def == NULL || cJSON_IsNull(def)))
        return ing_fail(e, NULL, "either defaultBackend or rules must be "
                        "specified", "spec");
    if (info->has_rules) {
        cJSON_ArrayForEach(r, rules)
        {
            int rc = read_rule(info, ing, rule++, r, e);

            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* "spec.rules[0].host=\"Bad\": must be ...", kept for the sink. */
static int
invalid_message(ctl_ingress_info *info, const ing_error *e)
{
    int n;

    if (e->value[0] != '\0')
        n = asprintf(&info->invalid, "%s=\"%s\": %s", e->field, e->value,
                     e->reason);
    else
        n = asprintf(&info->invalid, "%s: %s", e->field, e->reason);
    if (n < 0) {
        info->invalid = NULL;
        return -1;
    }
    return 0;
}

/* Parses the spec once per object version; an invalid one is logged
 * then and keeps no paths.  Returns -1 only when out of memory. */
static int
parse_spec(ctl_ingress_info *info, const ctl_object *ing)
{
    ing_error e;
    char qv[400];
    int rc = read_spec(info, ing, &e);

    if (rc == 0) {
        info->spec = CTL_SPEC_VALID;
        return 0;
    }
    ctl_vec_free(&info->paths);
    ctl_vec_free(&info->hosts);
    info->has_default = false;
    if (rc == -2)
        return -1;
    info->spec = CTL_SPEC_INVALID;
    ctl_log_object(CTL_LOG_WARN, "ingress skipped", ing,
                   "field=%s value=\"%s\" reason=\"%s\"", e.field,
                   ctl_log_quote(e.value, qv, sizeof(qv)), e.reason);
    return invalid_message(info, &e);
}

int
ctl_ingress_spec_read(ctl_build *bd, const ctl_object *ing,
                      ctl_ingress_info *info)
{
    if (info->spec == CTL_SPEC_UNREAD && parse_spec(info, ing) != 0)
        return -1;
    if (info->spec != CTL_SPEC_VALID) {
        ctl_model_problem(bd, ing, "InvalidIngress", "%s",
                          info->invalid ? info->invalid : "invalid spec");
        return 0;
    }
    return 1;
}

void
ctl_ingress_service_upstream(ctl_ingress_info *info)
{
    bool on = info->values.upstream.service_upstream;

    info->default_backend.cluster_ip = on;
    for (size_t i = 0; i < info->paths.len; i++)
        CTL_VEC_AT(&info->paths, ctl_path, i)->backend.cluster_ip = on;
}

int
ctl_ingress_add(ctl_build *bd, const ctl_object *ing, ctl_ingress_info *info)
{
    ctl_ingress *slot;
    uint32_t first = (uint32_t)bd->paths.len;
    int valid = ctl_ingress_spec_read(bd, ing, info);

    if (valid != 1)
        return valid;
    ctl_ingress_service_upstream(info);
    for (size_t i = 0; i < info->paths.len; i++) {
        ctl_path *p = ctl_vec_push(&bd->paths);

        if (p == NULL)
            return -1;
        *p = *CTL_VEC_AT(&info->paths, ctl_path, i);
        p->ingress = (uint32_t)bd->ingresses.len;
    }
    slot = ctl_vec_push(&bd->ingresses);
    if (slot == NULL)
        return -1;
    slot->obj = ing;
    slot->info = info;
    slot->path_first = first;
    return 1;
}

/* ---------------------------------------------------------------- TLS */

/*
 * Its hosts get the default certificate (model_tls.c); the Ingress's
 * owner should hear why, on the Ingress.
 */
void
ctl_tls_secrets_check(ctl_build *bd, const ctl_object *ing)
{
    const cJSON *tls = ctl_json_array(ctl_json_object(ing->json, "spec"),
                                      "tls");
    const cJSON *t;
    unsigned i = 0;

    cJSON_ArrayForEach(t, tls)
    {
        const char *name = ctl_json_string(t, "secretName");
        char q[300];

        if (name != NULL && name[0] != '\0' &&
            ctl_store_get(bd->store, CTL_KIND_SECRET, ing->namespace_,
                          name) == NULL) {
            ctl_log_object(CTL_LOG_WARN, "tls secret not found", ing,
                           "field=spec.tls[%u].secretName value=\"%s\"", i,
                           ctl_log_quote(name, q, sizeof(q)));
            ctl_model_problem(bd, ing, "SecretNotFound",
                              "spec.tls[%u].secretName=\"%s\": Secret %s/%s "
                              "not found",
                              i, name, ing->namespace_, name);
        }
        i++;
    }
}

/* ---------------------------------------------------------------- age */

static bool
read_digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        char c = (*p)[i];

        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool
expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

/* RFC 3339 ("2024-05-01T10:00:00Z", fraction and offset allowed) to
 * nanoseconds since the epoch. */
static bool
parse_rfc3339(const char *s, int64_t *out)
{
    struct tm tm;
    int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0;
    int64_t nanos = 0, scale = 100000000;
    time_t t;

    if (!read_digits(&s, 4, &Y) || !expect(&s, '-') ||
        !read_digits(&s, 2, &M) || !expect(&s, '-') ||
        !read_digits(&s, 2, &D) || !(expect(&s, 'T') || expect(&s, 't')) ||
        !read_digits(&s, 2, &h) || !expect(&s, ':') ||
        !read_digits(&s, 2, &m) || !expect(&s, ':') ||
        !read_digits(&s, 2, &sec))
        return false;
    if (expect(&s, '.')) {
        if (*s < '0' || *s > '9')
            return false;
        for (; *s >= '0' && *s <= '9'; s++, scale /= 10)
            nanos += (*s - '0') * scale;
    }
    if (expect(&s, 'Z') || expect(&s, 'z')) {
        sign = 0;
    } else if (*s == '+' || *s == '-') {
        sign = *s++ == '+' ? 1 : -1;
        if (!read_digits(&s, 2, &oh) || !expect(&s, ':') ||
            !read_digits(&s, 2, &om))
            return false;
    } else {
        return false;
    }
    if (*s != '\0' || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 ||
        m > 59 || sec > 60)
        return false;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    t = timegm(&tm);
    t -= sign * (oh * 3600 + om * 60);
    *out = (int64_t)t * 1000000000 + nanos;
    return true;
}

int64_t
ctl_ingress_created(const ctl_object *ing, ctl_ingress_info *info)
{
    const cJSON *ts;

    if (info->created_read)
        return info->created;
    info->created_read = true;
    info->created = INT64_MAX;
    ts = cJSON_GetObjectItemCaseSensitive(
        ctl_json_object(ing->json, "metadata"), "creationTimestamp");
    if (ts == NULL || cJSON_IsNull(ts))
        return info->created;
    if (!cJSON_IsString(ts) || !parse_rfc3339(ts->valuestring,
                                              &info->created)) {
        info->created = INT64_MAX;
        ctl_log_object(CTL_LOG_WARN, "creationTimestamp ignored", ing,
                       "field=metadata.creationTimestamp reason=\"not an "
                       "RFC 3339 time; the ingress sorts as the newest\"");
    }
    return info->created;
}

static void
ingress_info_free(void *p)
{
    ctl_ingress_info *info = p;

    ctl_vec_free(&info->paths);
    ctl_vec_free(&info->hosts);
    free(info->ann_prefix);
    free(info->invalid);
    ctl_ingress_annotations_reset(info);
    free(info);
}

ctl_ingress_info *
ctl_ingress_info_of(const ctl_class_rules *r, const ctl_object *ing)
{
    ctl_ingress_info *info = ing->derived;

    if (info == NULL || ing->derived_free != ingress_info_free) {
        info = calloc(1, sizeof(*info));
        if (info == NULL)
            return NULL;
        ctl_vec_init(&info->paths, sizeof(ctl_path));
        ctl_vec_init(&info->hosts, sizeof(const char *));
        info->class_name = ctl_json_string(ctl_json_object(ing->json, "spec"),
                                           "ingressClassName");
        ctl_object_set_derived(ing, info, ingress_info_free);
    }
    /* The annotations worth reading depend on --annotations-prefix. */
    if (info->ann_prefix == NULL ||
        strlen(info->ann_prefix) != r->annotations_prefix_len ||
        strncmp(info->ann_prefix, r->annotations_prefix,
                r->annotations_prefix_len) != 0) {
        free(info->ann_prefix);
        info->ann_prefix = strndup(r->annotations_prefix,
                                   r->annotations_prefix_len);
        if (info->ann_prefix == NULL)
            return NULL;
        ctl_read_annotations(r, ing->json, &info->ann);
        ctl_ingress_annotations_reset(info);
    }
    return info;
}

/* Compares "ns/name" of two objects as one string. */
static int
compare_full_names(const ctl_object *a, const ctl_object *b)
{
    int c = strcmp(a->namespace_, b->namespace_);
    size_t la = strlen(a->namespace_), lb = strlen(b->namespace_);

    if (c == 0)
        return strcmp(a->name, b->name);
    /* One namespace is a prefix of the other: "/" meets the longer
     * namespace's next character. */
    if (la < lb && strncmp(a->namespace_, b->namespace_, la) == 0)
        return '/' - (unsigned char)b->namespace_[la];
    if (lb < la && strncmp(a->namespace_, b->namespace_, lb) == 0)
        return (unsigned char)a->namespace_[lb] - '/';
    return c;
}

/*
 * Oldest first; missing timestamps last.  Equal timestamps (common:
 * they have one-second resolution) order by "namespace/name" descending,
 * exactly as ingress-nginx sorts, so the same Ingress wins a conflict
 * after migrating.
 */
int
ctl_ingress_compare_age(const ctl_object *a, int64_t a_created,
                        const ctl_object *b, int64_t b_created)
{
    if (a_created != b_created)
        return a_created < b_created ? -1 : 1;
    return -compare_full_names(a, b);
}
