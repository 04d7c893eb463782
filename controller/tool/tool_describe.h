/*
 * tool_describe.h -- turns table records into words and JSON for
 * shmingress-table: names of path types and flags, "ip:port" endpoints,
 * and the JSON objects dump and explain share for routes and backends.
 * Everything here reads an already validated view; nothing is checked.
 */
#ifndef SHMINGRESS_TOOL_DESCRIBE_H
#define SHMINGRESS_TOOL_DESCRIBE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "tbl.h"

/* "exact", "wildcard", "catch-all" from a vhost's flags. */
const char *tool_vhost_kind_name(const tbl_vhost *vh);

/* "1.2.3.4:80" or "[::1]:80" into buf; returns buf. */
const char *tool_endpoint_address(const tbl_endpoint *ep, char *buf,
                                  size_t buflen);

/* "ready,serving" (or "none") into buf; returns buf. */
const char *tool_endpoint_flags(const tbl_endpoint *ep, char *buf,
                                size_t buflen);

/*
 * "namespace/name" of the Ingress a route came from into buf, or NULL
 * for the controller's own routes (--default-backend-service).
 */
const char *tool_route_ingress(const tbl_view *v, const tbl_route *r,
                               char *buf, size_t buflen);

/*
 * Why requests for this backend get 503, or NULL when they do not:
 * "no Service", "Service has no such port", "no ready endpoints".
 * backend may be TBL_NONE ("route has no backend").
 */
const char *tool_backend_503_reason(const tbl_view *v, uint32_t backend);

/* A pool string into a JSON object (cJSON does the escaping). */
void tool_json_add_str(cJSON *obj, const char *key, const tbl_view *v,
                       tbl_str s);

/* 0x%016llx, since a u64 does not survive a JSON number. */
void tool_json_add_hex(cJSON *obj, const char *key, uint64_t value);

cJSON *tool_backend_json(const tbl_view *v, uint32_t backend);

/* A route with its backend inlined; NULL-safe for TBL_NONE (-> null). */
cJSON *tool_route_json(const tbl_view *v, uint32_t route);

#endif
