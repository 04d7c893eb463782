
/*
 * ngx_http_shmingress_upstream.c -- a route's upstream settings from its
 * policy: proxy timeouts, next-upstream conditions, tries and deadline,
 * response buffering, the Host sent upstream, and the request body size
 * limit.
 *
 * The location's proxy configuration is shared by every route, so the
 * settings are applied per request: when the upstream starts (peer.init)
 * the request gets a pool copy of its upstream conf with this route's
 * values; nothing else changes.  The body size is checked from
 * Content-Length when routing, and counted by a request body filter for
 * chunked bodies, so the location's client_max_body_size must be 0.
 * A route without a policy (or with one that carries no upstream
 * settings) takes the CONFIG values, so the ConfigMap's proxy settings
 * apply without a reload.
 */


#include "ngx_http_shmingress_module.h"


static ngx_int_t ngx_http_shmingress_upstream_vhost_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_shmingress_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_request_body_filter_pt  ngx_http_next_request_body_filter;


static ngx_http_variable_t  ngx_http_shmingress_upstream_vars[] = {

    { ngx_string("shmingress_upstream_vhost"), NULL,
      ngx_http_shmingress_upstream_vhost_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static const struct {
    uint32_t    tbl;
    ngx_uint_t  ngx;
} ngx_http_shmingress_next_upstream_map[] = {
    { TBL_NEXT_ERROR, NGX_HTTP_UPSTREAM_FT_ERROR },
    { TBL_NEXT_TIMEOUT, NGX_HTTP_UPSTREAM_FT_TIMEOUT },
    { TBL_NEXT_INVALID_HEADER, NGX_HTTP_UPSTREAM_FT_INVALID_HEADER },
    { TBL_NEXT_HTTP_500, NGX_HTTP_UPSTREAM_FT_HTTP_500 },
    { TBL_NEXT_HTTP_502, NGX_HTTP_UPSTREAM_FT_HTTP_502 },
    { TBL_NEXT_HTTP_503, NGX_HTTP_UPSTREAM_FT_HTTP_503 },
    { TBL_NEXT_HTTP_504, NGX_HTTP_UPSTREAM_FT_HTTP_504 },
    { TBL_NEXT_HTTP_403, NGX_HTTP_UPSTREAM_FT_HTTP_403 },
    { TBL_NEXT_HTTP_404, NGX_HTTP_UPSTREAM_FT_HTTP_404 },
    { TBL_NEXT_HTTP_429, NGX_HTTP_UPSTREAM_FT_HTTP_429 },
    { TBL_NEXT_NON_IDEMPOTENT, NGX_HTTP_UPSTREAM_FT_NON_IDEMPOTENT },
    { TBL_NEXT_OFF, NGX_HTTP_UPSTREAM_FT_OFF }
};


/* nginx's bitmask for proxy_next_upstream, as its merge would leave it. */
static ngx_uint_t
ngx_http_shmingress_next_upstream(uint32_t mask)
{
    ngx_uint_t  i, ngx;

    if (mask & TBL_NEXT_OFF) {
        return NGX_CONF_BITMASK_SET|NGX_HTTP_UPSTREAM_FT_OFF;
    }

    ngx = NGX_CONF_BITMASK_SET;

    for (i = 0; i < sizeof(ngx_http_shmingress_next_upstream_map)
                    / sizeof(ngx_http_shmingress_next_upstream_map[0]); i++)
    {
        if (mask & ngx_http_shmingress_next_upstream_map[i].tbl) {
            ngx |= ngx_http_shmingress_next_upstream_map[i].ngx;
        }
    }

    return ngx;
}


/*
 * Copies the route's settings into the request (the policy lives in the
 * table, which may be replaced before the upstream starts) and answers
 * 413 when Content-Length is over the route's limit.
 */
ngx_int_t
ngx_http_shmingress_upstream_prepare(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v)
{
    const char        *vhost;
    const tbl_config  *cf;
    const tbl_policy  *pol;

    pol = ctx->policy;
    cf = tbl_view_config(v);

    ctx->upstream = 1;
    ctx->upstream_vhost.len = 0;
    ctx->protocol = pol ? pol->backend_protocol : TBL_PROTO_HTTP;

    /* a policy with upstream settings has every timeout set */
    if (pol == NULL || pol->connect_timeout_ms == 0) {
        ctx->upstream_buffering = (cf->flags & TBL_CFG_PROXY_BUFFERING)
                                  ? 1 : 0;
        ctx->connect_timeout = cf->connect_timeout_ms;
        ctx->send_timeout = cf->send_timeout_ms;
        ctx->read_timeout = cf->read_timeout_ms;
        ctx->next_upstream =
                        ngx_http_shmingress_next_upstream(cf->next_upstream);
        ctx->next_upstream_tries = cf->next_upstream_tries;
        ctx->next_upstream_timeout = cf->next_upstream_timeout_ms;
        ctx->body_max = (off_t) cf->body_size_max;

    } else {
        ctx->upstream_buffering = (pol->flags & TBL_POL_PROXY_BUFFERING)
                                  ? 1 : 0;
        ctx->connect_timeout = pol->connect_timeout_ms;
        ctx->send_timeout = pol->send_timeout_ms;
        ctx->read_timeout = pol->read_timeout_ms;
        ctx->next_upstream =
                        ngx_http_shmingress_next_upstream(pol->next_upstream);
        ctx->next_upstream_tries = pol->next_upstream_tries;
        ctx->next_upstream_timeout = pol->next_upstream_timeout_ms;
        ctx->body_max = (off_t) pol->body_size_max;

        vhost = tbl_view_str(v, pol->upstream_vhost);
        ctx->upstream_vhost.len = ngx_strlen(vhost);

        if (ctx->upstream_vhost.len) {
            ctx->upstream_vhost.data = ngx_pnalloc(r->pool,
                                                   ctx->upstream_vhost.len);
            if (ctx->upstream_vhost.data == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_memcpy(ctx->upstream_vhost.data, vhost,
                       ctx->upstream_vhost.len);
        }
    }

    if (ctx->body_max && r->headers_in.content_length_n > ctx->body_max) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "shmingress: request body of %O bytes is larger than "
                      "the %O of route %V/%V (proxy-body-size)",
                      r->headers_in.content_length_n, ctx->body_max,
                      &ctx->ingress_namespace, &ctx->ingress_name);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    return NGX_DECLINED;
}


/* Called from peer.init: nginx reads u->conf for everything after it. */
ngx_int_t
ngx_http_shmingress_upstream_apply(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx)
{
    ngx_uint_t                 grpc;
    ngx_http_upstream_t       *u;
    ngx_http_upstream_conf_t  *conf;

    ngx_http_shmingress_protocol_apply(r);

    if (!ctx->upstream && ctx->custom_errors == NULL) {
        return NGX_OK;
    }

    u = r->upstream;

    conf = ngx_palloc(r->pool, sizeof(ngx_http_upstream_conf_t));
    if (conf == NULL) {
        return NGX_ERROR;
    }

    *conf = *u->conf;

    /* the grpc module's conf has the same type; gRPC is never buffered */

    grpc = (ctx->protocol == TBL_PROTO_GRPC
            || ctx->protocol == TBL_PROTO_GRPCS);

    if (ctx->upstream) {
        conf->connect_timeout = ctx->connect_timeout;
        conf->send_timeout = ctx->send_timeout;
        conf->read_timeout = ctx->read_timeout;
        conf->next_upstream = ctx->next_upstream;
        conf->next_upstream_tries = ctx->next_upstream_tries;
        conf->next_upstream_timeout = ctx->next_upstream_timeout;

        if (!grpc) {
            conf->buffering = ctx->upstream_buffering;
            u->buffering = ctx->upstream_buffering;
        }
    }

    if (ngx_http_shmingress_errors_apply(r, ctx, conf) != NGX_OK) {
        return NGX_ERROR;
    }

    u->conf = conf;

    return NGX_OK;
}


/* $shmingress_upstream_vhost: the route's upstream-vhost, or empty. */
static ngx_int_t
ngx_http_shmingress_upstream_vhost_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || !ctx->routed || !ctx->upstream
        || ctx->upstream_vhost.len == 0)
    {
        ngx_http_shmingress_variable_set(v, (u_char *) "", 0);
        return NGX_OK;
    }

    ngx_http_shmingress_variable_set(v, ctx->upstream_vhost.data,
                                     ctx->upstream_vhost.len);

    return NGX_OK;
}


ngx_int_t
ngx_http_shmingress_upstream_add_variables(ngx_conf_t *cf)
{
    return ngx_http_shmingress_register_variables(cf,
               ngx_http_shmingress_upstream_vars);
}


ngx_int_t
ngx_http_shmingress_upstream_init(ngx_conf_t *cf)
{
    ngx_http_next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = ngx_http_shmingress_body_filter;

    return NGX_OK;
}


/* Counts the decoded body (chunked bodies have no Content-Length). */
static ngx_int_t
ngx_http_shmingress_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t                *cl;
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || ctx->body_max == 0) {
        return ngx_http_next_request_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {
        ctx->body_received += ngx_buf_size(cl->buf);
    }

    if (ctx->body_received > ctx->body_max) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "shmingress: request body is larger than the %O of "
                      "route %V/%V (proxy-body-size)",
                      ctx->body_max, &ctx->ingress_namespace,
                      &ctx->ingress_name);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    return ngx_http_next_request_body_filter(r, in);
}
