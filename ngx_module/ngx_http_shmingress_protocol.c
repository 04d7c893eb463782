
/*
 * ngx_http_shmingress_protocol.c -- backend-protocol: how a route talks
 * to its endpoints.
 *
 * HTTP and HTTPS share the routing location: its proxy_pass names the
 * scheme with $shmingress_proxy_scheme, and nginx finds the
 * shmingress_backend upstream group by name, so both reach the same
 * balancer.  gRPC needs grpc_pass, which cannot share a location with
 * proxy_pass: a GRPC or GRPCS route continues in the named location
 * @shmingress_grpc, whose grpc_pass takes its scheme from
 * $shmingress_grpc_scheme.  Upstream certificates are not verified (the
 * default of ingress-nginx's proxy-ssl-verify), and TLS sessions are not
 * reused across requests: endpoints change with every table.  FCGI is
 * refused by the controller and never reaches this file.
 */


#include "ngx_http_shmingress_module.h"


static ngx_int_t ngx_http_shmingress_scheme_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
#if (NGX_HTTP_SSL)
static ngx_int_t ngx_http_shmingress_set_session(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_shmingress_save_session(ngx_peer_connection_t *pc,
    void *data);
#endif


static ngx_str_t  ngx_http_shmingress_grpc_location =
    ngx_string("@shmingress_grpc");


static ngx_http_variable_t  ngx_http_shmingress_protocol_vars[] = {

    { ngx_string("shmingress_proxy_scheme"), NULL,
      ngx_http_shmingress_scheme_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("shmingress_grpc_scheme"), NULL,
      ngx_http_shmingress_scheme_variable, 1,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_shmingress_protocol_add_variables(ngx_conf_t *cf)
{
    return ngx_http_shmingress_register_variables(cf,
                                         ngx_http_shmingress_protocol_vars);
}


/*
 * $shmingress_proxy_scheme (data 0): "https" for HTTPS routes, else
 * "http"; $shmingress_grpc_scheme (data 1): "grpcs" for GRPCS routes,
 * else "grpc".
 */
static ngx_int_t
ngx_http_shmingress_scheme_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                     *scheme;
    ngx_uint_t                  tls;
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_shmingress_get_ctx(r);

    tls = (ctx && ctx->routed
           && ctx->protocol == (data ? TBL_PROTO_GRPCS : TBL_PROTO_HTTPS));

    if (data) {
        scheme = (u_char *) (tls ? "grpcs" : "grpc");

    } else {
        scheme = (u_char *) (tls ? "https" : "http");
    }

    ngx_http_shmingress_variable_set(v, scheme, ngx_strlen(scheme));

    return NGX_OK;
}


/* From the REWRITE handler, once the route has endpoints. */
ngx_int_t
ngx_http_shmingress_protocol_pass(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx)
{
    if (ctx->protocol != TBL_PROTO_GRPC && ctx->protocol != TBL_PROTO_GRPCS) {
        return NGX_DECLINED;
    }

    (void) ngx_http_named_location(r, &ngx_http_shmingress_grpc_location);

    ngx_http_finalize_request(r, NGX_DONE);

    return NGX_DONE;
}


/*
 * Called from peer.init: nginx asks the balancer for a TLS session to
 * reuse whenever proxy_ssl_session_reuse is on (the default).
 */
void
ngx_http_shmingress_protocol_apply(ngx_http_request_t *r)
{
#if (NGX_HTTP_SSL)
    r->upstream->peer.set_session = ngx_http_shmingress_set_session;
    r->upstream->peer.save_session = ngx_http_shmingress_save_session;
#endif
}


#if (NGX_HTTP_SSL)

static ngx_int_t
ngx_http_shmingress_set_session(ngx_peer_connection_t *pc, void *data)
{
    return NGX_OK;
}


static void
ngx_http_shmingress_save_session(ngx_peer_connection_t *pc, void *data)
{
    return;
}

#endif
