/*
 * tool_dump.c -- "shmingress-table dump" and "check": the whole table as
 * JSON, or one summary line.  Routes are grouped under the vhost they
 * belong to, in table order; the dump shows what the file says and does
 * not re-derive matching order (explain does that).  Private keys,
 * certificate bytes and auth secrets are never printed: certificates
 * appear as their Secret's name, expiry and content hash.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tool.h"
#include "tool_describe.h"

static const char *section_kind_name(uint32_t kind)
{
    static const char *names[] = {
        [TBL_SEC_STRINGS] = "strings",
        [TBL_SEC_BLOBS] = "blobs",
        [TBL_SEC_VHOSTS] = "vhosts",
        [TBL_SEC_HOST_EXACT] = "host_exact",
        [TBL_SEC_HOST_WILDCARD] = "host_wildcard",
        [TBL_SEC_ROUTES] = "routes",
        [TBL_SEC_PATH_EXACT] = "path_exact",
        [TBL_SEC_PATH_PREFIX] = "path_prefix",
        [TBL_SEC_ROUTE_LISTS] = "route_lists",
        [TBL_SEC_BACKENDS] = "backends",
        [TBL_SEC_ENDPOINTS] = "endpoints",
        [TBL_SEC_CANARIES] = "canaries",
        [TBL_SEC_POLICIES] = "policies",
        [TBL_SEC_CERTS] = "certs",
        [TBL_SEC_SNI_EXACT] = "sni_exact",
        [TBL_SEC_SNI_WILDCARD] = "sni_wildcard",
        [TBL_SEC_CIDRS] = "cidrs",
        [TBL_SEC_CONFIG] = "config",
    };
    if (kind < sizeof(names) / sizeof(names[0]) && names[kind] != NULL)
        return names[kind];
    return "unknown";
}

static cJSON *header_json(const tbl_view *v)
{
    const tbl_header *h = v->hdr;
    cJSON *obj = cJSON_CreateObject();
    tool_json_add_hex(obj, "magic", h->magic);
    cJSON_AddNumberToObject(obj, "format_version", h->format_version);
    cJSON_AddNumberToObject(obj, "header_size", h->header_size);
    cJSON_AddNumberToObject(obj, "file_size", (double)h->file_size);
    cJSON_AddNumberToObject(obj, "generation", (double)h->generation);
    tool_json_add_hex(obj, "checksum", h->checksum);
    cJSON_AddNumberToObject(obj, "built_at_ms", (double)h->built_at_ms);
    cJSON_AddNumberToObject(obj, "flags", h->flags);
    cJSON_AddNumberToObject(obj, "section_count", h->section_count);
    return obj;
}

/* The validator has checked the directory, so it can be read as is. */
static cJSON *sections_json(const tbl_view *v)
{
    const tbl_section *dir =
        (const tbl_section *)(v->base + v->hdr->header_size);
    cJSON *arr = cJSON_CreateArray();
    for (uint32_t i = 0; i < v->hdr->section_count; i++) {
        cJSON *obj = cJSON_CreateObject();
        cJSON_AddStringToObject(obj, "kind", section_kind_name(dir[i].kind));
        cJSON_AddNumberToObject(obj, "entry_size", dir[i].entry_size);
        cJSON_AddNumberToObject(obj, "offset", (double)dir[i].offset);
        cJSON_AddNumberToObject(obj, "count", (double)dir[i].count);
        cJSON_AddItemToArray(arr, obj);
    }
    return arr;
}

static cJSON *vhost_json(const tbl_view *v, uint32_t i)
{
    const tbl_vhost *vh = &v->vhosts[i];
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddNumberToObject(obj, "index", i);
    tool_json_add_str(obj, "host", v, vh->host);
    cJSON_AddStringToObject(obj, "kind", tool_vhost_kind_name(vh));
    cJSON_AddBoolToObject(obj, "tls", (vh->flags & TBL_VHOST_TLS) != 0);
    cJSON_AddBoolToObject(obj, "regex", (vh->flags & TBL_VHOST_REGEX) != 0);
    if (vh->cert != TBL_NONE)
        cJSON_AddNumberToObject(obj, "cert", vh->cert);
    if (vh->policy != TBL_NONE)
        cJSON_AddNumberToObject(obj, "policy", vh->policy);
    cJSON_AddItemToObject(obj, "default_route",
                          tool_route_json(v, vh->default_route));
    cJSON_AddArrayToObject(obj, "routes");
    return obj;
}

/*
 * One pass over the routes, appending each to its vhost's array, keeps
 * the dump linear at 100k routes.
 */
static cJSON *vhosts_json(const tbl_view *v)
{
    cJSON **routes = calloc(v->vhost_count ? v->vhost_count : 1,
                            sizeof(*routes));
    if (routes == NULL)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    for (uint32_t i = 0; i < v->vhost_count; i++) {
        cJSON *vh = vhost_json(v, i);
        routes[i] = cJSON_GetObjectItemCaseSensitive(vh, "routes");
        cJSON_AddItemToArray(arr, vh);
    }
    for (uint32_t r = 0; r < v->route_count; r++) {
        const tbl_route *rt = &v->routes[r];
        if (rt->path_type == TBL_PATH_DEFAULT || rt->vhost == TBL_NONE)
            continue;
        cJSON_AddItemToArray(routes[rt->vhost], tool_route_json(v, r));
    }
    free(routes);
    return arr;
}

/* Where each certificate came from and when it expires; never its bytes. */
static cJSON *certs_json(const tbl_view *v)
{
    cJSON *arr = cJSON_CreateArray();
    for (uint32_t i = 0; i < v->cert_count; i++) {
        const tbl_cert *c = &v->certs[i];
        char secret[1024];
        cJSON *obj = cJSON_CreateObject();
        snprintf(secret, sizeof(secret), "%s/%s",
                 tbl_view_str(v, c->secret_namespace),
                 tbl_view_str(v, c->secret_name));
        cJSON_AddNumberToObject(obj, "index", i);
        cJSON_AddStringToObject(obj, "secret", secret);
        cJSON_AddNumberToObject(obj, "not_after", (double)c->not_after);
        cJSON_AddBoolToObject(obj, "default",
                              (c->flags & TBL_CERT_DEFAULT) != 0);
        cJSON_AddNumberToObject(obj, "chain_bytes", c->chain.len);
        tool_json_add_hex(obj, "content_hash", c->content_hash);
        cJSON_AddItemToArray(arr, obj);
    }
    return arr;
}

static cJSON *counts_json(const tbl_view *v)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddNumberToObject(obj, "vhosts", v->vhost_count);
    cJSON_AddNumberToObject(obj, "routes", v->route_count);
    cJSON_AddNumberToObject(obj, "backends", v->backend_count);
    cJSON_AddNumberToObject(obj, "endpoints", v->endpoint_count);
    cJSON_AddNumberToObject(obj, "host_exact_slots", v->host_exact_cap);
    cJSON_AddNumberToObject(obj, "host_wildcard_slots", v->host_wildcard_cap);
    cJSON_AddNumberToObject(obj, "path_exact_slots", v->path_exact_cap);
    cJSON_AddNumberToObject(obj, "path_prefix_slots", v->path_prefix_cap);
    cJSON_AddNumberToObject(obj, "canaries", v->canary_count);
    cJSON_AddNumberToObject(obj, "policies", v->policy_count);
    cJSON_AddNumberToObject(obj, "certs", v->cert_count);
    cJSON_AddNumberToObject(obj, "cidrs", v->cidr_count);
    cJSON_AddNumberToObject(obj, "string_bytes", (double)v->strings_len);
    cJSON_AddNumberToObject(obj, "blob_bytes", (double)v->blobs_len);
    return obj;
}

int tool_dump(const tool_table *t, FILE *out)
{
    const tbl_view *v = &t->view;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "file", t->path);
    cJSON_AddItemToObject(root, "header", header_json(v));
    cJSON_AddItemToObject(root, "sections", sections_json(v));
    cJSON *vhosts = vhosts_json(v);
    if (vhosts == NULL) {
        cJSON_Delete(root);
        fprintf(stderr, "shmingress-table: out of memory\n");
        return TOOL_EXIT_INVALID;
    }
    cJSON_AddItemToObject(root, "vhosts", vhosts);
    cJSON_AddItemToObject(root, "catchall_vhost",
                          v->hdr->catchall_vhost == TBL_NONE
                              ? cJSON_CreateNull()
                              : cJSON_CreateNumber(v->hdr->catchall_vhost));
    cJSON_AddItemToObject(root, "default_route",
                          tool_route_json(v, v->hdr->default_route));
    cJSON_AddItemToObject(root, "certs", certs_json(v));
    cJSON_AddItemToObject(root, "counts", counts_json(v));

    int rc = tool_print_json(root, out);
    cJSON_Delete(root);
    return rc;
}

int tool_check(const tool_table *t, FILE *out)
{
    const tbl_view *v = &t->view;
    fprintf(out,
            "ok generation=%llu bytes=%zu vhosts=%u routes=%u backends=%u "
            "endpoints=%u\n",
            (unsigned long long)v->hdr->generation, t->size, v->vhost_count,
            v->route_count, v->backend_count, v->endpoint_count);
    return TOOL_EXIT_OK;
}
