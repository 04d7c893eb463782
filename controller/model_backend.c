/*
 * model_backend.c -- turns "Service X, port Y" into a table backend with
 * its ready endpoints.
 *
 * The Ingress names a Service port (by number or by name); the Service
 * gives that port's name; every EndpointSlice labelled with the Service's
 * name carries a port of the same name whose number is the target port
 * for that slice's endpoints (it may differ per slice when a named
 * targetPort resolves differently per pod).  Slices are indexed by
 * Service once per build, and each distinct reference is resolved once
 * per build, so problems (no Service, no such port, no ready endpoint)
 * are logged once per build and cost O(endpoints) in total.  A backend
 * that cannot be resolved is still added, flagged, so that its routes
 * answer 503 instead of disappearing.  ExternalName Services are not
 * resolved yet (their routes answer 503).  A reference with service-
 * upstream gets the Service's clusterIP and port as its one endpoint; a
 * headless Service (clusterIP None) has none, so it keeps its
 * EndpointSlices, with a warning, as ingress-nginx does.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

#define SERVICE_NAME_LABEL "kubernetes.io/service-name"

typedef struct {
    const char     *ns;      /* the reference, for equality          */
    ctl_backend_ref ref;
    uint32_t        backend; /* builder index                        */
    uint32_t        flags;   /* TBL_BACKEND_*                        */
} resolved_backend;

/* A missing Service or port already handed to the sink in this build. */
typedef struct {
    const ctl_object      *obj;
    const char            *ns;
    const ctl_backend_ref *ref;
} reported_ref;

void
ctl_backend_ref_hash(ctl_backend_ref *ref, const char *ns)
{
    uint64_t h = ctl_hash(ns, strlen(ns), 0);

    ref->service_hash = ctl_hash(ref->service, strlen(ref->service), h);
    if (ref->port_name != NULL)
        ref->hash = ctl_hash(ref->port_name, strlen(ref->port_name),
                             ref->service_hash);
    else
        ref->hash = ctl_hash(&ref->port_number, sizeof(ref->port_number),
                             ~ref->service_hash);
}

/* --------------------------------------------------- EndpointSlices */

typedef struct {
    const char *name; /* "" when unnamed                              */
    uint16_t    port; /* 0 when missing or out of range               */
} slice_port;

/*
 * An EndpointSlice as parsed, cached on its store object until the
 * slice changes: slices hold most of a cluster's objects, and a rebuild
 * then reads only the few that changed.
 */
typedef struct {
    const char   *service;        /* kubernetes.io/service-name or NULL */
    uint64_t      service_hash;   /* of namespace and service           */
    uint8_t       family;         /* 4 or 6; 0 when unusable (logged)  */
    uint32_t      port_count;
    uint32_t      endpoint_count; /* ready ones, sorted, deduplicated   */
    slice_port   *ports;
    tbl_endpoint *endpoints;      /* port 0: set per Service port       */
} slice_info;

/* The slice index: per Service, a chain through this array. */
typedef struct {
    const char       *ns;
    const slice_info *info;
    uint32_t          next; /* TBL_NONE ends the chain */
} slice_link;

/* A JSON integer in [lo, hi], or -1. */
static long
json_int(const cJSON *v, long lo, long hi)
{
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi ||
        v->valuedouble != (double)(long)v->valuedouble)
        return -1;
    return (long)v->valuedouble;
}

/* A port's name; absent and null both mean "". */
static const char *
port_name_or_empty(const cJSON *p)
{
    const char *name = ctl_json_string(p, "name");

    return name ? name : "";
}

/* Conditions are optional: ready and serving default to true,
 * terminating to false (discovery.k8s.io/v1 API docs). */
static uint8_t
condition_flags(const cJSON *conditions)
{
    uint8_t flags = TBL_EP_READY | TBL_EP_SERVING;
    const cJSON *c;

    cJSON_ArrayForEach(c, conditions)
    {
        if (strcmp(c->string, "ready") == 0 && cJSON_IsFalse(c))
            flags &= (uint8_t)~TBL_EP_READY;
        else if (strcmp(c->string, "serving") == 0 && cJSON_IsFalse(c))
            flags &= (uint8_t)~TBL_EP_SERVING;
        else if (strcmp(c->string, "terminating") == 0 && cJSON_IsTrue(c))
            flags |= TBL_EP_TERMINATING;
    }
    return flags;
}

/* An endpoint's first address (the only one with defined semantics)
 * and its flags, in one pass over its members. */
static const char *
endpoint_fields(const cJSON *ep, uint8_t *flags)
{
    const char *addr = NULL;
    const cJSON *m;

    *flags = TBL_EP_READY | TBL_EP_SERVING;
    if (!cJSON_IsObject(ep))
        return NULL;
    cJSON_ArrayForEach(m, ep)
    {
        if (strcmp(m->string, "addresses") == 0) {
            if (cJSON_IsArray(m))
                addr = cJSON_GetStringValue(m->child);
        } else if (strcmp(m->string, "conditions") == 0 &&
                   cJSON_IsObject(m)) {
            *flags = condition_flags(m);
        }
    }
    return addr;
}

/* Dotted-quad IPv4 without leading zeros, as Kubernetes writes it. */
static bool
parse_ipv4(const char *s, uint8_t out[4])
{
    for (int i = 0; i < 4; i++) {
        unsigned v = 0;
        int digits = 0;

        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (unsigned)(*s++ - '0');
            if (++digits > 3)
                return false;
        }
        if (digits == 0 || v > 255 || (digits > 1 && s[-digits] == '0'))
            return false;
        out[i] = (uint8_t)v;
        if (i < 3 && *s++ != '.')
            return false;
    }
    return *s == '\0';
}

static bool
parse_address(int family, const char *addr, uint8_t out[16])
{
    if (family == 4)
        return parse_ipv4(addr, out);
    return inet_pton(AF_INET6, addr, out) == 1;
}

static int
endpoint_compare(const void *a, const void *b)
{
    const tbl_endpoint *x = a, *y = b;
    int c;

    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    c = memcmp(x->addr, y->addr, sizeof(x->addr));
    if (c != 0)
        return c;
    return x->port < y->port ? -1 : x->port > y->port;
}

/* Sorts endpoints (so tables do not depend on slice order) and merges
 * addr:port pairs listed more than once; returns the new count. */
static size_t
sort_unique_endpoints(tbl_endpoint *e, size_t n)
{
    size_t out = 0;

    if (n == 0)
        return 0;
    qsort(e, n, sizeof(*e), endpoint_compare);
    for (size_t i = 1; i < n; i++) {
        if (endpoint_compare(&e[out], &e[i]) == 0)
            e[out].flags |= e[i].flags;
        else
            e[++out] = e[i];
    }
    return out + 1;
}

static uint8_t
slice_family(const ctl_object *slice)
{
    const char *type = ctl_json_string(slice->json, "addressType");
    char q[64];

    if (type != NULL && strcmp(type, "IPv4") == 0)
        return 4;
    if (type != NULL && strcmp(type, "IPv6") == 0)
        return 6;
    ctl_log_object(CTL_LOG_WARN, "endpointslice skipped", slice,
                   "field=addressType value=\"%s\" reason=\"only IPv4 and "
                   "IPv6 addresses are used\"",
                   ctl_log_quote(type ? type : "", q, sizeof(q)));
    return 0;
}

static void
read_slice_ports(slice_info *si, const cJSON *ports)
{
    const cJSON *p;

    cJSON_ArrayForEach(p, ports)
    {
        long port = json_int(cJSON_GetObjectItemCaseSensitive(p, "port"), 1,
                             65535);

        si->ports[si->port_count].name = port_name_or_empty(p);
        si->ports[si->port_count].port = port > 0 ? (uint16_t)port : 0;
        si->port_count++;
    }
}

/* Keeps the ready endpoints with a valid address; logs the others'
 * bad addresses. */
static void
read_slice_endpoints(slice_info *si, const ctl_object *slice,
                     const cJSON *eps)
{
    const cJSON *ep;

    cJSON_ArrayForEach(ep, eps)
    {
        uint8_t flags;
        const char *addr = endpoint_fields(ep, &flags);
        tbl_endpoint *out = &si->endpoints[si->endpoint_count];

        if (addr == NULL || !(flags & TBL_EP_READY))
            continue;
        memset(out, 0, sizeof(*out));
        if (!parse_address(si->family, addr, out->addr)) {
            char q[80];

            ctl_log_object(CTL_LOG_WARN, "endpoint skipped", slice,
                           "field=endpoints.addresses value=\"%s\" "
                           "reason=\"not an IPv%u address\"",
                           ctl_log_quote(addr, q, sizeof(q)), si->family);
            continue;
        }
        out->family = si->family;
        out->flags = flags;
        si->endpoint_count++;
    }
    si->endpoint_count = (uint32_t)sort_unique_endpoints(si->endpoints,
                                                         si->endpoint_count);
}

/* One allocation: the info, then its ports, then its endpoints. */
static slice_info *
parse_slice(const ctl_object *slice)
{
    const cJSON *ports = ctl_json_array(slice->json, "ports");
    const cJSON *eps = ctl_json_array(slice->json, "endpoints");
    size_t np = (size_t)cJSON_GetArraySize(ports);
    size_t ne = (size_t)cJSON_GetArraySize(eps);
    size_t ports_off = (sizeof(slice_info) + 7) & ~(size_t)7;
    size_t eps_off = (ports_off + np * sizeof(slice_port) + 7) & ~(size_t)7;
    slice_info *si = calloc(1, eps_off + ne * sizeof(tbl_endpoint));

    if (si == NULL)
        return NULL;
    si->ports = (slice_port *)((char *)si + ports_off);
    si->endpoints = (tbl_endpoint *)((char *)si + eps_off);
    si->service = ctl_json_string(
        ctl_json_object(ctl_json_object(slice->json, "metadata"), "labels"),
        SERVICE_NAME_LABEL);
    if (si->service != NULL)
        si->service_hash = ctl_hash(
            si->service, strlen(si->service),
            ctl_hash(slice->namespace_, strlen(slice->namespace_), 0));
    si->family = slice_family(slice);
    if (si->family == 0)
        return si;
    read_slice_ports(si, ports);
    read_slice_endpoints(si, slice, eps);
    return si;
}

static void
slice_info_free(void *si)
{
    free(si);
}

static const slice_info *
slice_info_of(const ctl_object *slice)
{
    slice_info *si;

    if (slice->derived != NULL && slice->derived_free == slice_info_free)
        return slice->derived;
    si = parse_slice(slice);
    if (si != NULL)
        ctl_object_set_derived(slice, si, slice_info_free);
    return si;
}

typedef struct {
    const ctl_vec *chain;
    const char    *ns;
    const char    *service;
} service_query;

static bool
chain_is_service(const void *ctx, uint32_t head)
{
    const service_query *q = ctx;
    const slice_link *l = CTL_VEC_AT(q->chain, slice_link, head);

    return strcmp(l->info->service, q->service) == 0 &&
           strcmp(l->ns, q->ns) == 0;
}

int
ctl_backends_init(ctl_build *bd)
{
    size_t n = ctl_store_count(bd->store, CTL_KIND_ENDPOINT_SLICE);

    ctl_hmap_init(&bd->slices_by_service);
    ctl_hmap_init(&bd->backend_cache);
    ctl_vec_init(&bd->slice_chain, sizeof(slice_link));
    ctl_vec_init(&bd->endpoints, sizeof(tbl_endpoint));
    ctl_vec_init(&bd->resolved, sizeof(resolved_backend));
    ctl_hmap_init(&bd->reported);
    ctl_vec_init(&bd->reported_refs, sizeof(reported_ref));

    /* The map holds each Service's newest chain head. */
    for (size_t i = 0; i < n; i++) {
        const ctl_object *slice =
            ctl_store_at(bd->store, CTL_KIND_ENDPOINT_SLICE, i);
        const slice_info *si = slice_info_of(slice);
        service_query q = {&bd->slice_chain, slice->namespace_, NULL};
        uint32_t *head, idx;
        slice_link *link;

        if (si == NULL)
            return -1;
        if (si->service == NULL || si->family == 0)
            continue;
        q.service = si->service;
        idx = (uint32_t)bd->slice_chain.len;
        link = ctl_vec_push(&bd->slice_chain);
        if (link == NULL)
            return -1;
        link->ns = slice->namespace_;
        link->info = si;
        head = ctl_hmap_find(&bd->slices_by_service, si->service_hash,
                             chain_is_service, &q);
        if (head != NULL) {
            link->next = *head;
            *head = idx;
        } else {
            link->next = TBL_NONE;
            if (ctl_hmap_add(&bd->slices_by_service, si->service_hash, idx) !=
                0)
                return -1;
        }
    }
    return 0;
}

void
ctl_backends_free(ctl_build *bd)
{
    ctl_hmap_free(&bd->slices_by_service);
    ctl_hmap_free(&bd->backend_cache);
    ctl_vec_free(&bd->slice_chain);
    ctl_vec_free(&bd->endpoints);
    ctl_vec_free(&bd->resolved);
    ctl_hmap_free(&bd->reported);
    ctl_vec_free(&bd->reported_refs);
}

/* ------------------------------------------------------------ Services */

typedef struct {
    const char *name;   /* "" when unnamed                             */
    uint16_t    port;   /* 0 when missing or out of range              */
    long        target; /* numeric targetPort (port when absent), or -1
                           when named                                  */
} service_port;

/* A Service as parsed, cached on its store object until it changes. */
typedef struct {
    bool         external_name;
    uint8_t      cluster_family; /* 4 or 6; 0: headless or unusable */
    uint8_t      cluster_addr[16];
    uint32_t     port_count;
    service_port ports[];
} service_info;

static void
service_info_free(void *si)
{
    free(si);
}

/* spec.clusterIP: an IPv4 or IPv6 address, or "None" (headless). */
static void
read_cluster_ip(service_info *si, const char *ip)
{
    if (ip == NULL)
        return;
    if (parse_address(4, ip, si->cluster_addr))
        si->cluster_family = 4;
    else if (parse_address(6, ip, si->cluster_addr))
        si->cluster_family = 6;
}

static service_info *
parse_service(const ctl_object *svc)
{
    const cJSON *spec = ctl_json_object(svc->json, "spec");
    const cJSON *ports = ctl_json_array(spec, "ports");
    const char *type = ctl_json_string(spec, "type");
    size_t n = (size_t)cJSON_GetArraySize(ports);
    service_info *si = calloc(1, sizeof(*si) + n * sizeof(service_port));
    const cJSON *p;

    if (si == NULL)
        return NULL;
    si->external_name = type != NULL && strcmp(type, "ExternalName") == 0;
    read_cluster_ip(si, ctl_json_string(spec, "clusterIP"));
    cJSON_ArrayForEach(p, ports)
    {
        service_port *sp = &si->ports[si->port_count++];
        const cJSON *target = cJSON_GetObjectItemCaseSensitive(p,
                                                               "targetPort");
        long port = json_int(cJSON_GetObjectItemCaseSensitive(p, "port"), 1,
                             65535);

        sp->name = port_name_or_empty(p);
        sp->port = port > 0 ? (uint16_t)port : 0;
        sp->target = target == NULL ? port : json_int(target, 1, 65535);
    }
    return si;
}

static const service_info *
service_info_of(const ctl_object *svc)
{
    service_info *si;

    if (svc->derived != NULL && svc->derived_free == service_info_free)
        return svc->derived;
    si = parse_service(svc);
    if (si != NULL)
        ctl_object_set_derived(svc, si, service_info_free);
    return si;
}

/* The Service's port the reference names, or NULL. */
static const service_port *
find_service_port(const service_info *si, const ctl_backend_ref *ref)
{
    for (uint32_t i = 0; i < si->port_count; i++) {
        const service_port *sp = &si->ports[i];

        if (ref->port_name != NULL ? strcmp(sp->name, ref->port_name) == 0
                                   : sp->port == ref->port_number)
            return sp;
    }
    return NULL;
}

/*
 * The target port in one slice: its port named like the Service port.
 * A slice that lists no ports at all falls back to a numeric targetPort.
 * Returns 0 when the slice has nothing for this port.
 */
static uint16_t
slice_target_port(const slice_info *si, const char *port_name,
                  long numeric_target)
{
    if (si->port_count == 0)
        return numeric_target > 0 ? (uint16_t)numeric_target : 0;
    for (uint32_t i = 0; i < si->port_count; i++) {
        if (strcmp(si->ports[i].name, port_name) == 0)
            return si->ports[i].port;
    }
    return 0;
}

/* Joins the ready endpoints of every slice of the Service for the
 * Service port named port_name into bd->endpoints. */
static int
collect_endpoints(ctl_build *bd, const char *ns, const ctl_backend_ref *ref,
                  const char *port_name, long numeric_target)
{
    service_query q = {&bd->slice_chain, ns, ref->service};
    const uint32_t *head = ctl_hmap_find(&bd->slices_by_service,
                                         ref->service_hash, chain_is_service,
                                         &q);
    unsigned slices = 0;

    bd->endpoints.len = 0;
    for (uint32_t i = head ? *head : TBL_NONE; i != TBL_NONE;
         i = CTL_VEC_AT(&bd->slice_chain, slice_link, i)->next) {
        const slice_info *si = CTL_VEC_AT(&bd->slice_chain, slice_link, i)
                                   ->info;
        uint16_t port = slice_target_port(si, port_name, numeric_target);
        tbl_endpoint *out;

        if (port == 0 || si->endpoint_count == 0)
            continue;
        out = ctl_vec_push_n(&bd->endpoints, si->endpoint_count);
        if (out == NULL)
            return -1;
        memcpy(out, si->endpoints, si->endpoint_count * sizeof(*out));
        for (uint32_t e = 0; e < si->endpoint_count; e++)
            out[e].port = port;
        slices++;
    }
    /* Each slice is sorted already; only a join needs sorting again. */
    if (slices > 1)
        bd->endpoints.len = sort_unique_endpoints(bd->endpoints.data,
                                                  bd->endpoints.len);
    return 0;
}

static void
format_port_ref(const ctl_backend_ref *ref, char *buf, size_t buflen)
{
    if (ref->port_name != NULL)
        snprintf(buf, buflen, "%s", ref->port_name);
    else
        snprintf(buf, buflen, "%u", ref->port_number);
}

/* service-upstream: the clusterIP and the Service port as the only
 * endpoint, in bd->endpoints; false for a Service without a clusterIP
 * (logged: its EndpointSlices are used instead). */
static bool
cluster_ip_endpoint(ctl_build *bd, const char *ns, const ctl_backend_ref *ref,
                    const service_info *si, const service_port *port,
                    const ctl_object *obj)
{
    tbl_endpoint *ep;

    if (si->cluster_family == 0) {
        ctl_log_object(CTL_LOG_WARN, "service-upstream ignored", obj,
                       "service=%s/%s reason=\"the Service has no "
                       "clusterIP (headless); its endpoints are used\"",
                       ns, ref->service);
        return false;
    }
    bd->endpoints.len = 0;
    ep = ctl_vec_push(&bd->endpoints);
    if (ep == NULL)
        return false;
    memcpy(ep->addr, si->cluster_addr, sizeof(ep->addr));
    ep->family = si->cluster_family;
    ep->port = port->port;
    ep->flags = TBL_EP_READY | TBL_EP_SERVING;
    return true;
}

/* Builds the spec for one reference; problems are logged against obj,
 * the first object that referenced it.  Returns -1 when out of memory;
 * endpoints stay in bd->endpoints until the next call. */
static int
resolve_spec(ctl_build *bd, const char *ns, const ctl_backend_ref *ref,
             const ctl_object *obj, tbl_backend_spec *spec)
{
    const ctl_object *svc;
    const service_info *si = NULL;
    const service_port *port = NULL;
    const char *problem = NULL;
    char pref[32];

    memset(spec, 0, sizeof(*spec));
    spec->service_namespace = ns;
    spec->service_name = ref->service;
    spec->port_name = ref->port_name;
    spec->port = ref->port_number;

    svc = ctl_store_get(bd->store, CTL_KIND_SERVICE, ns, ref->service);
    if (svc != NULL && (si = service_info_of(svc)) == NULL)
        return -1;
    if (si != NULL && !si->external_name)
        port = find_service_port(si, ref);
    if (svc == NULL) {
        spec->flags = TBL_BACKEND_SERVICE_MISSING;
        problem = "service not found";
    } else if (si->external_name) {
        spec->flags = TBL_BACKEND_NO_ENDPOINTS;
        problem = "ExternalName service not yet supported";
    } else if (port == NULL || port->port == 0) {
        spec->flags = TBL_BACKEND_PORT_MISSING;
        problem = "service port not found";
    } else {
        spec->port = port->port;
        spec->port_name = port->name;
        if ((!ref->cluster_ip ||
             !cluster_ip_endpoint(bd, ns, ref, si, port, obj)) &&
            collect_endpoints(bd, ns, ref, port->name, port->target) != 0)
            return -1;
        spec->endpoints = bd->endpoints.data;
        spec->endpoint_count = bd->endpoints.len;
        if (spec->endpoint_count == 0) {
            spec->flags = TBL_BACKEND_NO_ENDPOINTS;
            problem = "service has no ready endpoints";
        }
    }
    if (problem != NULL) {
        format_port_ref(ref, pref, sizeof(pref));
        ctl_log_object(CTL_LOG_WARN, problem, obj,
                       "service=%s/%s port=%s reason=\"requests answer 503\"",
                       ns, ref->service, pref);
    }
    return 0;
}

typedef struct {
    const ctl_vec         *resolved;
    const char            *ns;
    const ctl_backend_ref *ref;
} backend_query;

static bool
refs_equal(const char *a_ns, const ctl_backend_ref *a, const char *b_ns,
           const ctl_backend_ref *b)
{
    return strcmp(a->service, b->service) == 0 && strcmp(a_ns, b_ns) == 0 &&
           a->port_number == b->port_number &&
           a->cluster_ip == b->cluster_ip &&
           (a->port_name == NULL
                ? b->port_name == NULL
                : b->port_name != NULL &&
                      strcmp(a->port_name, b->port_name) == 0);
}

static bool
same_reference(const void *ctx, uint32_t i)
{
    const backend_query *q = ctx;
    const resolved_backend *r = CTL_VEC_AT(q->resolved, resolved_backend, i);

    return refs_equal(r->ns, &r->ref, q->ns, q->ref);
}

/* Resolves and adds one backend, through the per-build cache.  Returns
 * the cache entry, or NULL when out of memory. */
static const resolved_backend *
resolve_cached(ctl_build *bd, const char *ns, const ctl_backend_ref *ref,
               const ctl_object *obj)
{
    backend_query q = {&bd->resolved, ns, ref};
    const uint32_t *hit;
    resolved_backend *r;
    tbl_backend_spec spec;

    hit = ctl_hmap_find(&bd->backend_cache, ref->hash, same_reference, &q);
    if (hit != NULL)
        return CTL_VEC_AT(&bd->resolved, resolved_backend, *hit);

    if (resolve_spec(bd, ns, ref, obj, &spec) != 0)
        return NULL;
    r = ctl_vec_push(&bd->resolved);
    if (r == NULL)
        return NULL;
    r->ns = ns;
    r->ref = *ref;
    r->flags = spec.flags;
    r->backend = tbl_builder_add_backend(bd->b, &spec);
    if (r->backend == TBL_NONE ||
        ctl_hmap_add(&bd->backend_cache, ref->hash,
                     (uint32_t)(bd->resolved.len - 1)) != 0)
        return NULL;
    return r;
}

/* ------------------------------------------------------- problems */

typedef struct {
    const ctl_vec         *refs;
    const ctl_object      *obj;
    const char            *ns;
    const ctl_backend_ref *ref;
} report_query;

static bool
same_report(const void *ctx, uint32_t i)
{
    const report_query *q = ctx;
    const reported_ref *r = CTL_VEC_AT(q->refs, reported_ref, i);

    return r->obj == q->obj && refs_equal(r->ns, r->ref, q->ns, q->ref);
}

static void
report_missing(const ctl_build *bd, const ctl_object *obj, const char *ns,
               const ctl_backend_ref *ref, uint32_t flags,
               const ctl_path *path)
{
    char field[64];

    if (path != NULL)
        snprintf(field, sizeof(field), "spec.rules[%u].http.paths[%u].backend",
                 path->rule, path->index);
    else
        snprintf(field, sizeof(field), "spec.defaultBackend");
    if (flags & TBL_BACKEND_SERVICE_MISSING)
        ctl_model_problem(bd, obj, "ServiceNotFound",
                          "%s.service.name=\"%s\": Service %s/%s not found",
                          field, ref->service, ns, ref->service);
    else if (ref->port_name != NULL)
        ctl_model_problem(bd, obj, "PortNotFound",
                          "%s.service.port.name=\"%s\": Service %s/%s has "
                          "no port named \"%s\"",
                          field, ref->port_name, ns, ref->service,
                          ref->port_name);
    else
        ctl_model_problem(bd, obj, "PortNotFound",
                          "%s.service.port.number=%u: Service %s/%s has no "
                          "port %u",
                          field, ref->port_number, ns, ref->service,
                          ref->port_number);
}

/* Tells the sink about a missing Service or port once per Ingress and
 * reference: an Ingress often routes many paths to one Service.
 * Returns -1 when out of memory. */
static int
report_backend(ctl_build *bd, const ctl_object *obj, const char *ns,
               const ctl_backend_ref *ref, uint32_t flags,
               const ctl_path *path)
{
    report_query q = {&bd->reported_refs, obj, ns, ref};
    uint64_t hash;
    reported_ref *r;

    if (bd->cfg->sink == NULL ||
        !(flags & (TBL_BACKEND_SERVICE_MISSING | TBL_BACKEND_PORT_MISSING)))
        return 0;
    hash = ctl_hash(&obj, sizeof(obj), ref->hash);
    if (ctl_hmap_find(&bd->reported, hash, same_report, &q) != NULL)
        return 0;
    r = ctl_vec_push(&bd->reported_refs);
    if (r == NULL ||
        ctl_hmap_add(&bd->reported, hash,
                     (uint32_t)(bd->reported_refs.len - 1)) != 0)
        return -1;
    r->obj = obj;
    r->ns = ns;
    r->ref = ref;
    report_missing(bd, obj, ns, ref, flags, path);
    return 0;
}

uint32_t
ctl_backend_resolve(ctl_build *bd, const char *ns, const ctl_backend_ref *ref,
                    const ctl_object *obj, const ctl_path *path)
{
    const resolved_backend *r = resolve_cached(bd, ns, ref, obj);

    if (r == NULL || report_backend(bd, obj, ns, ref, r->flags, path) < 0)
        return TBL_NONE;
    return r->backend;
}

uint32_t
ctl_backend_resolve_annotated(ctl_build *bd, const char *ns,
                              const ctl_backend_ref *ref,
                              const ctl_object *obj)
{
    const resolved_backend *r = resolve_cached(bd, ns, ref, obj);

    if (r == NULL)
        return TBL_NONE;
    if (r->flags & TBL_BACKEND_SERVICE_MISSING)
        ctl_model_problem(bd, obj, "ServiceNotFound",
                          "metadata.annotations[default-backend]=\"%s\": "
                          "Service %s/%s not found",
                          ref->service, ns, ref->service);
    else if (r->flags & TBL_BACKEND_PORT_MISSING)
        ctl_model_problem(bd, obj, "PortNotFound",
                          "metadata.annotations[default-backend]=\"%s\": "
                          "Service %s/%s has no port 80",
                          ref->service, ns, ref->service);
    return r->backend;
}

/*
 * --default-backend-service ns/name, on the Service's first port, like
 * ingress-nginx.  When that Service is missing or has no ready endpoint,
 * no global default is set, so unmatched requests get the plain 404 a
 * user would get without the flag (ingress-nginx does the same).
 */
int
ctl_backend_set_global_default(ctl_build *bd)
{
    const char *flag = bd->cfg->default_backend_service, *slash;
    char ns[254], err[256], qflag[600];
    const ctl_object *svc;
    const service_info *si;
    const resolved_backend *r;
    ctl_backend_ref ref;
    tbl_route_spec route;
    long number;

    if (flag == NULL || flag[0] == '\0')
        return 0;
    slash = strchr(flag, '/');
    if (slash == NULL || slash == flag || slash[1] == '\0' ||
        (size_t)(slash - flag) >= sizeof(ns)) {
        ctl_log(CTL_LOG_ERROR, "default backend service ignored",
                "flag=--default-backend-service value=\"%s\" "
                "reason=\"must be namespace/name\"",
                ctl_log_quote(flag, qflag, sizeof(qflag)));
        return 0;
    }
    memcpy(ns, flag, (size_t)(slash - flag));
    ns[slash - flag] = '\0';
    svc = ctl_store_get(bd->store, CTL_KIND_SERVICE, ns, slash + 1);
    si = svc ? service_info_of(svc) : NULL;
    if (svc != NULL && si == NULL)
        return -1;
    number = si && si->port_count > 0 && si->ports[0].port > 0
                 ? si->ports[0].port
                 : -1;
    if (number < 0) {
        ctl_log(CTL_LOG_WARN, "default backend service not usable",
                "service=\"%s\" reason=\"%s; unmatched requests answer "
                "404\"",
                ctl_log_quote(flag, qflag, sizeof(qflag)),
                svc ? "it has no port" : "it does not exist");
        return 0;
    }

    memset(&ref, 0, sizeof(ref));
    ref.service = svc->name;
    ref.port_number = (uint32_t)number;
    ctl_backend_ref_hash(&ref, svc->namespace_);
    r = resolve_cached(bd, svc->namespace_, &ref, svc);
    if (r == NULL)
        return -1;
    if (r->flags != 0) {
        ctl_log(CTL_LOG_WARN, "default backend service not usable",
                "service=\"%s\" reason=\"no ready endpoints; unmatched "
                "requests answer 404\"",
                ctl_log_quote(flag, qflag, sizeof(qflag)));
        return 0;
    }
    memset(&route, 0, sizeof(route));
    route.path = NULL;
    route.path_type = TBL_PATH_DEFAULT;
    route.backend = r->backend;
    route.canary = TBL_NONE;
    route.policy = TBL_NONE;
    route.ingress_namespace = "";
    route.ingress_name = "";
    if (tbl_builder_set_default(bd->b, &route, err, sizeof(err)) != 0) {
        ctl_log(CTL_LOG_ERROR, "default backend service not set",
                "service=\"%s\" reason=\"%s\"",
                ctl_log_quote(flag, qflag, sizeof(qflag)), err);
        return -1;
    }
    return 0;
}
