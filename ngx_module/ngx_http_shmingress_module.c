
/*
 * ngx_http_shmingress_module.c -- directives and request handlers.
 *
 * "shmingress_route" locations look every request up in the current
 * route table (REWRITE phase): no match answers 404 like ingress-nginx's
 * default backend, a route without ready endpoints answers 503, and a
 * match stores a copy of the decision in the request for the balancer
 * and the variables.  "shmingress_health" answers whether a table is
 * loaded.  Mapping tables is _table.c's job, picking an endpoint is
 * _balancer.c's; this file decides nothing about either.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_shmingress_module.h"


static ngx_int_t ngx_http_shmingress_route_handler(ngx_http_request_t *r);
static ngx_http_shmingress_ctx_t *ngx_http_shmingress_create_ctx(
    ngx_http_request_t *r);
static void ngx_http_shmingress_cleanup(void *data);
static ngx_int_t ngx_http_shmingress_decide(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v, const tbl_match *m);
static ngx_int_t ngx_http_shmingress_copy_names(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v, const tbl_route *route,
    const tbl_backend *be);
static ngx_int_t ngx_http_shmingress_unavailable(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v,
    const tbl_backend *be);
static ngx_int_t ngx_http_shmingress_health_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_shmingress_respond(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *body);

static ngx_int_t ngx_http_shmingress_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_shmingress_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_shmingress_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_shmingress_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_shmingress_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_shmingress_table(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_shmingress_route(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_shmingress_health(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_shmingress_limit_zone(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_shmingress_init_process(ngx_cycle_t *cycle);
static void ngx_http_shmingress_exit_process(ngx_cycle_t *cycle);


static ngx_conf_num_bounds_t  ngx_http_shmingress_ssl_cache_bounds = {
    ngx_conf_check_num_bounds, 1, 1048576
};


static ngx_command_t  ngx_http_shmingress_commands[] = {

    { ngx_string("shmingress_table"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_shmingress_table,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("shmingress_route"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_shmingress_route,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("shmingress_limit_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_shmingress_limit_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("shmingress_balancer"),
      NGX_HTTP_UPS_CONF|NGX_CONF_NOARGS,
      ngx_http_shmingress_balancer,
      0,
      0,
      NULL },

    { ngx_string("shmingress_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_shmingress_health,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("shmingress_custom_error"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_shmingress_custom_error,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("shmingress_ssl_cache_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_shmingress_main_conf_t, ssl_cache_size),
      &ngx_http_shmingress_ssl_cache_bounds },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_shmingress_module_ctx = {
    ngx_http_shmingress_preconfiguration,  /* preconfiguration */
    ngx_http_shmingress_postconfiguration, /* postconfiguration */

    ngx_http_shmingress_create_main_conf,  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_shmingress_create_loc_conf,   /* create location configuration */
    ngx_http_shmingress_merge_loc_conf     /* merge location configuration */
};


ngx_module_t  ngx_http_shmingress_module = {
    NGX_MODULE_V1,
    &ngx_http_shmingress_module_ctx,       /* module context */
    ngx_http_shmingress_commands,          /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_shmingress_init_process,      /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_shmingress_exit_process,      /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_shmingress_no_table =
    ngx_string("shmingress: no route table published yet");
static ngx_str_t  ngx_http_shmingress_not_found =
    ngx_string("default backend - 404");
static ngx_str_t  ngx_http_shmingress_no_backend =
    ngx_string("no backend for this route");
static ngx_str_t  ngx_http_shmingress_healthy = ngx_string("ok");
static ngx_str_t  ngx_http_shmingress_unhealthy =
    ngx_string("no route table yet");



static ngx_int_t
ngx_http_shmingress_route_handler(ngx_http_request_t *r)
{
    tbl_match                        m;
    ngx_int_t                        rc;
    ngx_str_t                       *host;
    ngx_http_shmingress_ctx_t       *ctx;
    ngx_http_shmingress_table_t     *t;
    ngx_http_shmingress_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_shmingress_module);

    if (!slcf->route) {
        return NGX_DECLINED;
    }

    t = ngx_http_shmingress_table_current(r->connection->log);

    if (t == NULL) {
        return ngx_http_shmingress_respond(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           &ngx_http_shmingress_no_table);
    }

    /*
     * After an internal redirect the ctx is found again through its pool
     * cleanup: the request keeps exactly one pin, moved to the table
     * this pass routes with.
     */

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL) {
        ctx = ngx_http_shmingress_create_ctx(r);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else {
        if (ctx->table) {
            ngx_http_shmingress_table_unpin(ctx->table);
        }

        ngx_memzero(ctx, sizeof(ngx_http_shmingress_ctx_t));
        ctx->request = r;
    }

    ngx_http_shmingress_table_pin(t);
    ctx->table = t;

    rc = ngx_http_shmingress_realip(r, &t->view);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    /* nginx's validated Host: lower-case, port and trailing dot removed */

    host = &r->headers_in.server;

    tbl_lookup(&t->view, host->len ? (const char *) host->data : "",
               host->len, (const char *) r->uri.data, r->uri.len,
               ngx_http_shmingress_regex_route, ctx, &m);

    rc = ngx_http_shmingress_redirect_www(r, &t->view, &m);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (m.kind == TBL_MATCH_NONE) {
        return ngx_http_shmingress_respond(r, NGX_HTTP_NOT_FOUND,
                                           &ngx_http_shmingress_not_found);
    }

    return ngx_http_shmingress_decide(r, ctx, &t->view, &m);
}


ngx_http_shmingress_ctx_t *
ngx_http_shmingress_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t         *cln;
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_shmingress_module);

    if (ctx || !(r->internal || r->filter_finalize)) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler != ngx_http_shmingress_cleanup) {
            continue;
        }

        ctx = cln->data;

        if (ctx->request == r) {
            ngx_http_set_ctx(r, ctx, ngx_http_shmingress_module);
            return ctx;
        }
    }

    return NULL;
}


static ngx_http_shmingress_ctx_t *
ngx_http_shmingress_create_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t         *cln;
    ngx_http_shmingress_ctx_t  *ctx;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_shmingress_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_shmingress_ctx_t));
    ctx->request = r;

    cln->handler = ngx_http_shmingress_cleanup;

    ngx_http_set_ctx(r, ctx, ngx_http_shmingress_module);

    return ctx;
}


static void
ngx_http_shmingress_cleanup(void *data)
{
    ngx_http_shmingress_ctx_t  *ctx = data;

    if (ctx->table) {
        ngx_http_shmingress_table_unpin(ctx->table);
        ctx->table = NULL;
    }
}


/* Turns a match into the request's copy of the decision, or a 503. */
static ngx_int_t
ngx_http_shmingress_decide(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v, const tbl_match *m)
{
    ngx_int_t           rc;
    const tbl_route    *route;
    const tbl_canary   *cn;
    const tbl_backend  *be;

    route = &v->routes[m->route];
    be = (route->backend == TBL_NONE) ? NULL : &v->backends[route->backend];

    ctx->routed = 1;
    ctx->generation = v->hdr->generation;
    ctx->route_id = route->route_id;

    ctx->path_type.data = (u_char *) tbl_path_type_name(route->path_type);
    ctx->path_type.len = ngx_strlen(ctx->path_type.data);

    if (ngx_http_shmingress_copy_names(r, ctx, v, route, be) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_shmingress_rewrite(r, ctx, v, route);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_shmingress_ssl_redirect(r, v, route);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    ctx->policy = tbl_view_policy(v, route->policy);

    rc = ngx_http_shmingress_cors_preflight(r, ctx);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    ngx_http_shmingress_limit_prepare(r, ctx, v, route);

    rc = ngx_http_shmingress_upstream_prepare(r, ctx, v, route);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    cn = tbl_view_canary(v, route->canary);

    if (cn && ngx_http_shmingress_canary_choose(r, ctx, v, be, cn)) {
        be = tbl_view_backend(v, cn->backend);

        if (be && ngx_http_shmingress_canary_names(r, ctx, v, be) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_shmingress_errors_prepare(r, ctx, v, &be) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (be == NULL) {
        return ngx_http_shmingress_respond(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           &ngx_http_shmingress_no_backend);
    }

    if (be->endpoint_count == 0
        || (be->flags & (TBL_BACKEND_SERVICE_MISSING
                         |TBL_BACKEND_PORT_MISSING
                         |TBL_BACKEND_NO_ENDPOINTS)))
    {
        return ngx_http_shmingress_unavailable(r, ctx, v, be);
    }

    ctx->backend_id = be->backend_id;
    ctx->nendpoints = be->endpoint_count;

    ctx->endpoints = ngx_palloc(r->pool,
                                ctx->nendpoints * sizeof(tbl_endpoint));
    if (ctx->endpoints == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(ctx->endpoints, &v->endpoints[be->endpoint_first],
               ctx->nendpoints * sizeof(tbl_endpoint));

    return ngx_http_shmingress_protocol_pass(r, ctx);
}


static u_char *
ngx_http_shmingress_set_str(u_char *p, ngx_str_t *dst, const tbl_view *v,
    tbl_str s)
{
    dst->data = p;
    dst->len = s.len;

    return ngx_cpymem(p, tbl_view_str(v, s), s.len);
}


/*
 * Copies the names the variables expose into one r->pool block; the
 * upstream name is "<namespace>-<service>-<port>" like ingress-nginx's
 * $proxy_upstream_name, with the port number, or its name if the
 * number is unresolved.
 */
static ngx_int_t
ngx_http_shmingress_copy_names(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v, const tbl_route *route,
    const tbl_backend *be)
{
    u_char           *p;
    size_t            len;
    const tbl_vhost  *vh;
    tbl_str           none = { 0, 0 };

    vh = (route->vhost == TBL_NONE) ? NULL : &v->vhosts[route->vhost];

    len = route->ingress_namespace.len + route->ingress_name.len
          + route->path.len + (vh ? vh->host.len : 0);

    if (be) {
        len += ngx_http_shmingress_service_names_len(be);
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p = ngx_http_shmingress_set_str(p, &ctx->ingress_namespace, v,
                                    route->ingress_namespace);
    p = ngx_http_shmingress_set_str(p, &ctx->ingress_name, v,
                                    route->ingress_name);
    p = ngx_http_shmingress_set_str(p, &ctx->path, v, route->path);
    p = ngx_http_shmingress_set_str(p, &ctx->host_rule, v,
                                    vh ? vh->host : none);

    if (be == NULL) {
        return NGX_OK;
    }

    ngx_http_shmingress_service_names(p, ctx, v, be, &ctx->upstream_name);

    return NGX_OK;
}


/*
 * Writes the backend's Service, its port and "<ns>-<service>-<port>"
 * (into *upstream) at p, which has ngx_http_shmingress_service_names_len()
 * bytes.
 */
void
ngx_http_shmingress_service_names(u_char *p, ngx_http_shmingress_ctx_t *ctx,
    const tbl_view *v, const tbl_backend *be, ngx_str_t *upstream)
{
    p = ngx_http_shmingress_set_str(p, &ctx->service, v, be->service_name);

    ctx->service_port.data = p;

    if (be->port) {
        p = ngx_sprintf(p, "%uD", be->port);

    } else {
        p = ngx_cpymem(p, tbl_view_str(v, be->port_name), be->port_name.len);
    }

    ctx->service_port.len = p - ctx->service_port.data;

    upstream->data = p;
    p = ngx_cpymem(p, tbl_view_str(v, be->service_namespace),
                   be->service_namespace.len);
    *p++ = '-';
    p = ngx_cpymem(p, ctx->service.data, ctx->service.len);
    *p++ = '-';
    p = ngx_cpymem(p, ctx->service_port.data, ctx->service_port.len);
    upstream->len = p - upstream->data;
}


/* 503 naming the Service; nothing else about the cluster is revealed. */
static ngx_int_t
ngx_http_shmingress_unavailable(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v, const tbl_backend *be)
{
    u_char     *p;
    ngx_str_t   body;

    body.len = sizeof("no ready endpoints for /:") - 1
               + be->service_namespace.len + ctx->service.len
               + ctx->service_port.len;

    body.data = ngx_pnalloc(r->pool, body.len);
    if (body.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(body.data, "no ready endpoints for ",
                   sizeof("no ready endpoints for ") - 1);
    p = ngx_cpymem(p, tbl_view_str(v, be->service_namespace),
                   be->service_namespace.len);
    p = ngx_sprintf(p, "/%V:%V", &ctx->service, &ctx->service_port);

    body.len = p - body.data;

    return ngx_http_shmingress_respond(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       &body);
}


static ngx_int_t
ngx_http_shmingress_health_handler(ngx_http_request_t *r)
{
    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ngx_http_shmingress_table_current(r->connection->log) == NULL) {
        return ngx_http_shmingress_respond(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           &ngx_http_shmingress_unhealthy);
    }

    return ngx_http_shmingress_respond(r, NGX_HTTP_OK,
                                       &ngx_http_shmingress_healthy);
}


/* Sends a short text/plain answer; works from REWRITE and CONTENT. */
static ngx_int_t
ngx_http_shmingress_respond(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body)
{
    ngx_int_t    rc;
    ngx_buf_t   *b;
    ngx_chain_t  out;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = body->len;
    ngx_str_set(&r->headers_out.content_type, "text/plain; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_shmingress_preconfiguration(ngx_conf_t *cf)
{
#if (NGX_HTTP_SSL)
    if (ngx_http_shmingress_ssl_add_variables(cf) != NGX_OK) {
        return NGX_ERROR;
    }
#endif

    if (ngx_http_shmingress_upstream_add_variables(cf) != NGX_OK
        || ngx_http_shmingress_realip_add_variables(cf) != NGX_OK
        || ngx_http_shmingress_protocol_add_variables(cf) != NGX_OK
        || ngx_http_shmingress_errors_add_variables(cf) != NGX_OK
        || ngx_http_shmingress_extauth_add_variables(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_shmingress_auth_add_variables(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_shmingress_add_variables(cf);
}


static ngx_int_t
ngx_http_shmingress_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt              *h;
    ngx_http_core_main_conf_t        *cmcf;
    ngx_http_shmingress_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_shmingress_module);

    if (smcf->used && smcf->table_dir.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"shmingress_route\" and \"shmingress_health\" "
                           "need \"shmingress_table\" in the http block");
        return NGX_ERROR;
    }

    if (ngx_http_shmingress_upstream_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_shmingress_route_handler;

    /* external auth before the source ranges: they run first */

    if (ngx_http_shmingress_extauth_init(cf) != NGX_OK
        || ngx_http_shmingress_access_init(cf) != NGX_OK
        || ngx_http_shmingress_cors_init(cf) != NGX_OK
        || ngx_http_shmingress_ssl_redirect_init(cf) != NGX_OK
        || ngx_http_shmingress_errors_init(cf) != NGX_OK
        || ngx_http_shmingress_affinity_init(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (smcf->table_dir.len
        && ngx_http_shmingress_limit_init(cf, smcf->limit_zone_size
                                              ? smcf->limit_zone_size
                                              : 10 * 1024 * 1024)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (smcf->ssl_cache_size == NGX_CONF_UNSET) {
        smcf->ssl_cache_size = 1024;
    }

#if (NGX_HTTP_SSL)
    if (smcf->table_dir.len
        && ngx_http_shmingress_ssl_init(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }
#endif

    return NGX_OK;
}


static void *
ngx_http_shmingress_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_shmingress_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_shmingress_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     smcf->table_dir = { 0, NULL };
     *     smcf->used = 0;
     */

    smcf->ssl_cache_size = NGX_CONF_UNSET;

    return smcf;
}


static void *
ngx_http_shmingress_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_shmingress_loc_conf_t  *slcf;

    slcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_shmingress_loc_conf_t));
    if (slcf == NULL) {
        return NULL;
    }

    slcf->route = NGX_CONF_UNSET;
    slcf->custom_error = NGX_CONF_UNSET;

    return slcf;
}


static char *
ngx_http_shmingress_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_shmingress_loc_conf_t  *prev = parent;
    ngx_http_shmingress_loc_conf_t  *conf = child;

    ngx_conf_merge_value(conf->route, prev->route, 0);
    ngx_conf_merge_value(conf->custom_error, prev->custom_error, 0);

    return NGX_CONF_OK;
}


static char *
ngx_http_shmingress_table(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_shmingress_main_conf_t  *smcf = conf;

    ngx_str_t  *value, dir;

    if (smcf->table_dir.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    dir = value[1];

    if (ngx_conf_full_name(cf->cycle, &dir, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* the table library takes C strings */

    smcf->table_dir.data = ngx_pnalloc(cf->pool, dir.len + 1);
    if (smcf->table_dir.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_cpystrn(smcf->table_dir.data, dir.data, dir.len + 1);
    smcf->table_dir.len = dir.len;

    return NGX_CONF_OK;
}


static char *
ngx_http_shmingress_route(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_shmingress_loc_conf_t  *slcf = conf;

    ngx_http_shmingress_main_conf_t  *smcf;

    if (slcf->route != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    slcf->route = 1;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_shmingress_module);
    smcf->used = 1;

    return NGX_CONF_OK;
}


/* The size of the rate-limit zone; without it the zone has 10m. */
static char *
ngx_http_shmingress_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_shmingress_main_conf_t  *smcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (smcf->limit_zone_size) {
        return "is duplicate";
    }

    value = cf->args->elts;
    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shmingress_limit_zone \"%V\" is invalid or "
                           "smaller than %uz", &value[1], 8 * ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    smcf->limit_zone_size = size;

    return NGX_CONF_OK;
}


static char *
ngx_http_shmingress_health(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t         *clcf;
    ngx_http_shmingress_main_conf_t  *smcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_shmingress_health_handler;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_shmingress_module);
    smcf->used = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_shmingress_init_process(ngx_cycle_t *cycle)
{
    ngx_http_shmingress_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_shmingress_module);

    if (smcf == NULL || smcf->table_dir.len == 0) {
        return NGX_OK;
    }

#if (NGX_HTTP_SSL)
    ngx_http_shmingress_ssl_init_process(smcf->ssl_cache_size);
#endif

    return ngx_http_shmingress_table_init_process(cycle, &smcf->table_dir);
}


static void
ngx_http_shmingress_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_shmingress_table_exit_process(cycle);
    ngx_http_shmingress_balancer_exit_process(cycle);
    ngx_http_shmingress_regex_exit_process(cycle);
#if (NGX_HTTP_SSL)
    ngx_http_shmingress_ssl_exit_process();
#endif
}


/* The first request header of that name (names compare caseless). */
ngx_table_elt_t *
ngx_http_shmingress_find_header(ngx_http_request_t *r, const char *name,
    size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}
