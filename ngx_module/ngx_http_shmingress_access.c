
/*
 * ngx_http_shmingress_access.c -- a route's source ranges: its policy's,
 * or for a route without a policy the ConfigMap's global ones.
 *
 * In the ACCESS phase, after _realip.c has put the client address into
 * r->connection->sockaddr, the client's address is checked against the
 * denylist first and then the allowlist: either refusal answers 403,
 * like ingress-nginx's "deny ...; allow ...; deny all;".  A policy the
 * controller marked DENIED (a range that did not parse, or another
 * fail-closed value) answers 503 whatever the address.  Which routes carry which ranges is
 * the controller's decision; this file only matches addresses.  Basic
 * authentication (_auth.c) follows the ranges.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_shmingress_module.h"


/* The allowlist and denylist that apply to a route. */
typedef struct {
    uint32_t  allow_first;
    uint32_t  allow_count;
    uint32_t  deny_first;
    uint32_t  deny_count;
} ngx_http_shmingress_ranges_t;


static ngx_int_t ngx_http_shmingress_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_shmingress_access_allowed(ngx_http_request_t *r,
    const tbl_view *v, const ngx_http_shmingress_ranges_t *ranges);


ngx_int_t
ngx_http_shmingress_access_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_shmingress_access_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_shmingress_access_handler(ngx_http_request_t *r)
{
    const tbl_policy           *pol;
    const tbl_config           *cf;
    ngx_http_shmingress_ctx_t  *ctx;
    ngx_http_shmingress_ranges_t  ranges;

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || !ctx->routed || ctx->table == NULL) {
        return NGX_DECLINED;
    }

    pol = ctx->policy;

    if (pol && (pol->flags & TBL_POL_DENIED)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "route of ingress %V/%V denied: its annotations "
                      "or the Secret they name were unusable",
                      &ctx->ingress_namespace, &ctx->ingress_name);
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    if (pol) {
        ranges.allow_first = pol->allow_first;
        ranges.allow_count = pol->allow_count;
        ranges.deny_first = pol->deny_first;
        ranges.deny_count = pol->deny_count;

    } else {
        cf = tbl_view_config(&ctx->table->view);
        ranges.allow_first = cf->allow_first;
        ranges.allow_count = cf->allow_count;
        ranges.deny_first = cf->deny_first;
        ranges.deny_count = cf->deny_count;
    }

    if ((ranges.deny_count || ranges.allow_count)
        && !ngx_http_shmingress_access_allowed(r, &ctx->table->view,
                                               &ranges))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "access forbidden by the source ranges of "
                      "ingress %V/%V", &ctx->ingress_namespace,
                      &ctx->ingress_name);
        return NGX_HTTP_FORBIDDEN;
    }

    /* credentials only from clients the ranges admit */

    return pol ? ngx_http_shmingress_auth_basic(r, ctx) : NGX_DECLINED;
}


/* Deny wins over allow; a client that is not an IP (a unix socket) is
 * on no list, so only a route without an allowlist lets it in. */
static ngx_int_t
ngx_http_shmingress_access_allowed(ngx_http_request_t *r, const tbl_view *v,
    const ngx_http_shmingress_ranges_t *ranges)
{
    ngx_uint_t      family;
    const uint8_t  *addr;

    family = ngx_http_shmingress_client_addr(r->connection->sockaddr, &addr);

    if (family == 0) {
        return ranges->allow_count == 0;
    }

    if (ranges->deny_count
        && tbl_cidr_match(v, ranges->deny_first, ranges->deny_count, addr,
                          (int) family))
    {
        return 0;
    }

    if (ranges->allow_count
        && !tbl_cidr_match(v, ranges->allow_first, ranges->allow_count, addr,
                           (int) family))
    {
        return 0;
    }

    return 1;
}
