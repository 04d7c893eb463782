/*
 * tool_describe.c -- words and JSON for table records, shared by the
 * dump and explain commands so both describe a route the same way.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "tool_describe.h"

const char *tool_vhost_kind_name(const tbl_vhost *vh)
{
    if (vh->flags & TBL_VHOST_CATCHALL)
        return "catch-all";
    if (vh->flags & TBL_VHOST_WILDCARD)
        return "wildcard";
    return "exact";
}

const char *tool_endpoint_address(const tbl_endpoint *ep, char *buf,
                                  size_t buflen)
{
    char ip[INET6_ADDRSTRLEN];
    if (ep->family == 6) {
        inet_ntop(AF_INET6, ep->addr, ip, sizeof(ip));
        snprintf(buf, buflen, "[%s]:%u", ip, (unsigned)ep->port);
    } else {
        inet_ntop(AF_INET, ep->addr, ip, sizeof(ip));
        snprintf(buf, buflen, "%s:%u", ip, (unsigned)ep->port);
    }
    return buf;
}

const char *tool_endpoint_flags(const tbl_endpoint *ep, char *buf,
                                size_t buflen)
{
    static const struct {
        unsigned    bit;
        const char *name;
    } names[] = {
        {TBL_EP_READY, "ready"},
        {TBL_EP_SERVING, "serving"},
        {TBL_EP_TERMINATING, "terminating"},
    };
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(ep->flags & names[i].bit))
            continue;
        int n = snprintf(buf + used, buflen - used, "%s%s",
                         used ? "," : "", names[i].name);
        if (n < 0 || (size_t)n >= buflen - used)
            break;
        used += (size_t)n;
    }
    if (used == 0)
        snprintf(buf, buflen, "none");
    return buf;
}

const char *tool_route_ingress(const tbl_view *v, const tbl_route *r,
                               char *buf, size_t buflen)
{
    if (r->ingress_name.len == 0)
        return NULL;
    snprintf(buf, buflen, "%s/%s", tbl_view_str(v, r->ingress_namespace),
             tbl_view_str(v, r->ingress_name));
    return buf;
}

const char *tool_backend_503_reason(const tbl_view *v, uint32_t backend)
{
    if (backend == TBL_NONE)
        return "route has no backend";
    const tbl_backend *be = &v->backends[backend];
    if (be->flags & TBL_BACKEND_SERVICE_MISSING)
        return "no such Service";
    if (be->flags & TBL_BACKEND_PORT_MISSING)
        return "the Service has no such port";
    if ((be->flags & TBL_BACKEND_NO_ENDPOINTS) || be->endpoint_count == 0)
        return "no ready endpoints";
    return NULL;
}

void tool_json_add_str(cJSON *obj, const char *key, const tbl_view *v,
                       tbl_str s)
{
    cJSON_AddStringToObject(obj, key, tbl_view_str(v, s));
}

void tool_json_add_hex(cJSON *obj, const char *key, uint64_t value)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "0x%016llx", (unsigned long long)value);
    cJSON_AddStringToObject(obj, key, buf);
}

static cJSON *backend_flags_json(uint32_t flags)
{
    cJSON *arr = cJSON_CreateArray();
    if (flags & TBL_BACKEND_SERVICE_MISSING)
        cJSON_AddItemToArray(arr, cJSON_CreateString("service-missing"));
    if (flags & TBL_BACKEND_PORT_MISSING)
        cJSON_AddItemToArray(arr, cJSON_CreateString("port-missing"));
    if (flags & TBL_BACKEND_NO_ENDPOINTS)
        cJSON_AddItemToArray(arr, cJSON_CreateString("no-endpoints"));
    return arr;
}

static cJSON *endpoint_json(const tbl_endpoint *ep)
{
    char addr[64], flags[64];
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "address",
                            tool_endpoint_address(ep, addr, sizeof(addr)));
    cJSON_AddStringToObject(obj, "flags",
                            tool_endpoint_flags(ep, flags, sizeof(flags)));
    return obj;
}

cJSON *tool_backend_json(const tbl_view *v, uint32_t backend)
{
    if (backend == TBL_NONE)
        return cJSON_CreateNull();
    const tbl_backend *be = &v->backends[backend];
    cJSON *obj = cJSON_CreateObject();
    char service[1024];
    snprintf(service, sizeof(service), "%s/%s",
             tbl_view_str(v, be->service_namespace),
             tbl_view_str(v, be->service_name));
    cJSON_AddNumberToObject(obj, "index", backend);
    cJSON_AddStringToObject(obj, "service", service);
    cJSON_AddNumberToObject(obj, "port", be->port);
    tool_json_add_str(obj, "port_name", v, be->port_name);
    cJSON_AddItemToObject(obj, "flags", backend_flags_json(be->flags));
    tool_json_add_hex(obj, "backend_id", be->backend_id);
    const char *reason = tool_backend_503_reason(v, backend);
    if (reason != NULL)
        cJSON_AddStringToObject(obj, "status_503", reason);
    cJSON *eps = cJSON_AddArrayToObject(obj, "endpoints");
    for (uint32_t i = 0; i < be->endpoint_count; i++)
        cJSON_AddItemToArray(eps,
                             endpoint_json(&v->endpoints[be->endpoint_first + i]));
    return obj;
}

cJSON *tool_route_json(const tbl_view *v, uint32_t route)
{
    if (route == TBL_NONE)
        return cJSON_CreateNull();
    const tbl_route *r = &v->routes[route];
    cJSON *obj = cJSON_CreateObject();
    char ingress[1024];
    cJSON_AddNumberToObject(obj, "index", route);
    if (r->path_type == TBL_PATH_DEFAULT)
        cJSON_AddNullToObject(obj, "path");
    else
        tool_json_add_str(obj, "path", v, r->path);
    cJSON_AddStringToObject(obj, "type", tbl_path_type_name(r->path_type));
    if (tool_route_ingress(v, r, ingress, sizeof(ingress)) == NULL)
        cJSON_AddNullToObject(obj, "ingress");
    else
        cJSON_AddStringToObject(obj, "ingress", ingress);
    tool_json_add_hex(obj, "route_id", r->route_id);
    if (r->canary != TBL_NONE)
        cJSON_AddNumberToObject(obj, "canary", r->canary);
    if (r->policy != TBL_NONE)
        cJSON_AddNumberToObject(obj, "policy", r->policy);
    cJSON_AddItemToObject(obj, "backend", tool_backend_json(v, r->backend));
    return obj;
}
