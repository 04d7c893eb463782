
/*
 * ngx_http_shmingress_access.c -- a route policy's source ranges.
 *
 * In the ACCESS phase, after the realip module (when configured) has put
 * the forwarded client address into r->connection->sockaddr, the
 * client's address is checked against the policy's denylist first and
 * then its allowlist: either refusal answers 403, like ingress-nginx's
 * "deny ...; allow ...; deny all;".  A policy the controller marked
 * DENIED (a range that did not parse, or another fail-closed value)
 * answers 503 whatever the address.  Which routes carry which ranges is
 * the controller's decision; this file only matches addresses.  Basic
 * authentication (_auth.c) follows the ranges.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_shmingress_module.h"


static ngx_int_t ngx_http_shmingress_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_shmingress_access_allowed(ngx_http_request_t *r,
    const tbl_view *v, const tbl_policy *pol);


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
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || ctx->policy == NULL || ctx->table == NULL) {
        return NGX_DECLINED;
    }

    pol = ctx->policy;

    if (pol->flags & TBL_POL_DENIED) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "route of ingress %V/%V denied: its annotations "
                      "or the Secret they name were unusable", &ctx->ingress_namespace,
                      &ctx->ingress_name);
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    if ((pol->deny_count || pol->allow_count)
        && !ngx_http_shmingress_access_allowed(r, &ctx->table->view, pol))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "access forbidden by the source ranges of "
                      "ingress %V/%V", &ctx->ingress_namespace,
                      &ctx->ingress_name);
        return NGX_HTTP_FORBIDDEN;
    }

    /* credentials only from clients the ranges admit */

    return ngx_http_shmingress_auth_basic(r, ctx);
}


/* Deny wins over allow; a client that is not an IP (a unix socket) is
 * on no list, so only a policy without an allowlist lets it in. */
static ngx_int_t
ngx_http_shmingress_access_allowed(ngx_http_request_t *r, const tbl_view *v,
    const tbl_policy *pol)
{
    int                   family;
    const uint8_t        *addr;
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    switch (r->connection->sockaddr->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) r->connection->sockaddr;
        addr = (const uint8_t *) &sin->sin_addr;
        family = 4;
        break;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) r->connection->sockaddr;
        addr = sin6->sin6_addr.s6_addr;
        family = 6;
        break;
#endif

    default:
        return pol->allow_count == 0;
    }

    if (pol->deny_count
        && tbl_cidr_match(v, pol->deny_first, pol->deny_count, addr, family))
    {
        return 0;
    }

    if (pol->allow_count
        && !tbl_cidr_match(v, pol->allow_first, pol->allow_count, addr,
                           family))
    {
        return 0;
    }

    return 1;
}
