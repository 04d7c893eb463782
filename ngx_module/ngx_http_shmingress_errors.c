
/*
 * ngx_http_shmingress_errors.c -- custom-http-errors and default-backend.
 *
 * A route whose upstream answers one of its custom-http-errors codes (the
 * policy's list, else the ConfigMap's) is served by its default backend:
 * the default-backend annotation's Service, else
 * --default-backend-service, else nginx's own error page for that code.
 * error_page is location configuration, so the request gets a copy of
 * its location's configuration whose core conf has an error_page for
 * exactly the route's codes pointing at the named location
 * @shmingress_custom_error, and proxy_intercept_errors on in its upstream
 * conf copy: answers with any other code pass through untouched, body
 * included.  nginx reads the core conf after the request pool is gone
 * (keepalive), so these copies live in the worker, one per location and
 * list of codes, shared by every request that needs the same.  The named
 * location ("shmingress_custom_error") sends the request to the default
 * backend with "/" as URI and ingress-nginx's X-Code, X-Format,
 * X-Original-URI, X-Namespace, X-Ingress-Name, X-Service-Name,
 * X-Service-Port and X-Request-ID headers; its answer, status included,
 * goes to the client.
 *
 * A default-backend annotation also serves a route whose Service has no
 * ready endpoints, as a plain proxied request.  gRPC routes are never
 * intercepted: their errors travel in trailers.
 */


#include "ngx_http_shmingress_module.h"


#define NGX_HTTP_SHMINGRESS_ERROR_MAX     599
#define NGX_HTTP_SHMINGRESS_ERROR_CONFS   1024


/* A location's configuration with the error_page list of some codes. */
typedef struct {
    void                          **loc_conf;   /* the location's */
    uint64_t                        codes[TBL_CUSTOM_ERRORS_WORDS];
    void                          **copy;
} ngx_http_shmingress_error_conf_t;


static ngx_int_t ngx_http_shmingress_error_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_shmingress_error_code_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static const tbl_backend *ngx_http_shmingress_usable(const tbl_view *v,
    uint32_t backend);
static void **ngx_http_shmingress_error_conf(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx);
static void **ngx_http_shmingress_error_conf_make(ngx_http_request_t *r,
    const uint64_t *codes);


/* per worker, in the cycle pool; never freed while the worker runs */
static ngx_array_t  *ngx_http_shmingress_error_confs;


static ngx_http_variable_t  ngx_http_shmingress_errors_vars[] = {

    { ngx_string("shmingress_error_code"), NULL,
      ngx_http_shmingress_error_code_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};

static ngx_http_complex_value_t  ngx_http_shmingress_error_location = {
    ngx_string("@shmingress_custom_error"), NULL, NULL, NULL, { 0 }
};


char *
ngx_http_shmingress_custom_error(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_shmingress_loc_conf_t  *slcf = conf;

    if (slcf->custom_error != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    slcf->custom_error = 1;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_shmingress_errors_add_variables(ngx_conf_t *cf)
{
    return ngx_http_shmingress_register_variables(cf,
               ngx_http_shmingress_errors_vars);
}


ngx_int_t
ngx_http_shmingress_errors_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_shmingress_error_handler;

    return NGX_OK;
}


/* A backend of the table with ready endpoints, or NULL. */
static const tbl_backend *
ngx_http_shmingress_usable(const tbl_view *v, uint32_t backend)
{
    const tbl_backend  *be;

    be = tbl_view_backend(v, backend);

    if (be == NULL || be->endpoint_count == 0
        || (be->flags & (TBL_BACKEND_SERVICE_MISSING
                         |TBL_BACKEND_PORT_MISSING
                         |TBL_BACKEND_NO_ENDPOINTS)))
    {
        return NULL;
    }

    return be;
}


static ngx_uint_t
ngx_http_shmingress_any_bit(const uint64_t *bits)
{
    ngx_uint_t  i;

    for (i = 0; i < TBL_CUSTOM_ERRORS_WORDS; i++) {
        if (bits[i]) {
            return 1;
        }
    }

    return 0;
}


/*
 * From the REWRITE handler, after the canary choice: *be becomes the
 * default-backend annotation's backend when the route's own has no
 * ready endpoint, and the request remembers its custom errors and a
 * copy of the default backend's endpoints.
 */
ngx_int_t
ngx_http_shmingress_errors_prepare(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v,
    const tbl_backend **be)
{
    const uint64_t     *bits;
    const tbl_route    *dr;
    const tbl_backend  *own, *fallback;

    own = ctx->policy
          ? ngx_http_shmingress_usable(v, ctx->policy->default_backend)
          : NULL;

    if (own
        && (*be == NULL
            || ngx_http_shmingress_usable(v, (uint32_t) (*be - v->backends))
               == NULL))
    {
        *be = own;
    }

    if (ctx->protocol == TBL_PROTO_GRPC || ctx->protocol == TBL_PROTO_GRPCS) {
        return NGX_OK;
    }

    bits = NULL;

    if (ctx->policy
        && ngx_http_shmingress_any_bit(ctx->policy->custom_errors))
    {
        bits = ctx->policy->custom_errors;

    } else if (ngx_http_shmingress_any_bit(tbl_view_config(v)->custom_errors))
    {
        bits = tbl_view_config(v)->custom_errors;
    }

    if (bits == NULL) {
        return NGX_OK;
    }

    ctx->custom_errors = bits;

    fallback = own;

    if (fallback == NULL && v->hdr->default_route != TBL_NONE) {
        dr = &v->routes[v->hdr->default_route];
        fallback = ngx_http_shmingress_usable(v, dr->backend);
    }

    if (fallback == NULL) {
        return NGX_OK;
    }

    ctx->error_backend_id = fallback->backend_id;
    ctx->nerror_endpoints = fallback->endpoint_count;

    ctx->error_endpoints = ngx_palloc(r->pool, ctx->nerror_endpoints
                                               * sizeof(tbl_endpoint));
    if (ctx->error_endpoints == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->error_endpoints, &v->endpoints[fallback->endpoint_first],
               ctx->nerror_endpoints * sizeof(tbl_endpoint));

    return NGX_OK;
}


/*
 * Called from peer.init: the request's location conf becomes the copy
 * with error_page entries for exactly the route's codes.
 */
ngx_int_t
ngx_http_shmingress_errors_apply(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, ngx_http_upstream_conf_t *conf)
{
    void  **loc_conf;

    if (ctx->custom_errors == NULL) {
        return NGX_OK;
    }

    loc_conf = ngx_http_shmingress_error_conf(r, ctx);

    if (loc_conf == NULL) {
        return NGX_ERROR;
    }

    r->loc_conf = loc_conf;
    conf->intercept_errors = 1;

    return NGX_OK;
}


/*
 * The worker's copy for this location and these codes.  Past
 * NGX_HTTP_SHMINGRESS_ERROR_CONFS distinct copies (lists change rarely)
 * new lists are not applied, with a log line, rather than growing
 * without bound.
 */
static void **
ngx_http_shmingress_error_conf(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx)
{
    ngx_uint_t                         i;
    const uint64_t                    *codes;
    ngx_http_shmingress_error_conf_t  *ec;

    codes = ctx->custom_errors;

    if (ngx_http_shmingress_error_confs == NULL) {
        ngx_http_shmingress_error_confs = ngx_array_create(ngx_cycle->pool, 8,
                                     sizeof(ngx_http_shmingress_error_conf_t));
        if (ngx_http_shmingress_error_confs == NULL) {
            return NULL;
        }
    }

    ec = ngx_http_shmingress_error_confs->elts;

    for (i = 0; i < ngx_http_shmingress_error_confs->nelts; i++) {
        if (ec[i].loc_conf == r->loc_conf
            && ngx_memcmp(ec[i].codes, codes, sizeof(ec[i].codes)) == 0)
        {
            return ec[i].copy;
        }
    }

    if (i == NGX_HTTP_SHMINGRESS_ERROR_CONFS) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "shmingress: %ui distinct custom-http-errors lists in "
                      "this worker; the list of ingress %V/%V is not "
                      "applied", i, &ctx->ingress_namespace,
                      &ctx->ingress_name);
        return r->loc_conf;
    }

    return ngx_http_shmingress_error_conf_make(r, codes);
}


static void **
ngx_http_shmingress_error_conf_make(ngx_http_request_t *r,
    const uint64_t *codes)
{
    ngx_uint_t                         code, bit;
    ngx_pool_t                        *pool;
    ngx_array_t                       *pages;
    ngx_http_err_page_t               *page;
    ngx_http_core_loc_conf_t          *copy;
    ngx_http_shmingress_error_conf_t  *ec;

    pool = ngx_cycle->pool;

    ec = ngx_array_push(ngx_http_shmingress_error_confs);
    pages = ngx_array_create(pool, 4, sizeof(ngx_http_err_page_t));
    copy = ngx_palloc(pool, sizeof(ngx_http_core_loc_conf_t));

    if (ec == NULL || pages == NULL || copy == NULL) {
        return NULL;
    }

    ec->copy = ngx_palloc(pool, ngx_http_max_module * sizeof(void *));
    if (ec->copy == NULL) {
        ngx_http_shmingress_error_confs->nelts--;
        return NULL;
    }

    for (code = TBL_CUSTOM_ERRORS_BASE;
         code <= NGX_HTTP_SHMINGRESS_ERROR_MAX;
         code++)
    {
        bit = code - TBL_CUSTOM_ERRORS_BASE;

        if (!((codes[bit / 64] >> (bit % 64)) & 1)) {
            continue;
        }

        page = ngx_array_push(pages);
        if (page == NULL) {
            ngx_http_shmingress_error_confs->nelts--;
            return NULL;
        }

        page->status = code;
        page->overwrite = -1;
        page->value = ngx_http_shmingress_error_location;
        ngx_str_null(&page->args);
    }

    *copy = *(ngx_http_core_loc_conf_t *)
                 r->loc_conf[ngx_http_core_module.ctx_index];
    copy->error_pages = pages;

    ngx_memcpy(ec->copy, r->loc_conf, ngx_http_max_module * sizeof(void *));
    ec->copy[ngx_http_core_module.ctx_index] = copy;

    ec->loc_conf = r->loc_conf;
    ngx_memcpy(ec->codes, codes, sizeof(ec->codes));

    return ec->copy;
}


/*
 * REWRITE handler of "shmingress_custom_error" locations: the request
 * continues to the default backend, or ends with nginx's page for the
 * code when there is none.
 */
static ngx_int_t
ngx_http_shmingress_error_handler(ngx_http_request_t *r)
{
    ngx_http_shmingress_ctx_t       *ctx;
    ngx_http_shmingress_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_shmingress_module);

    if (!slcf->custom_error) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || !ctx->routed || r->err_status == 0) {
        return NGX_HTTP_NOT_FOUND;
    }

    if (ctx->custom_errors == NULL) {
        /* a later pass of the same request (the default backend failed) */
        return NGX_DECLINED;
    }

    ctx->error_code = r->err_status;
    ctx->custom_errors = NULL;

    if (ctx->nerror_endpoints == 0) {
        return ctx->error_code;
    }

    /* the default backend's answer, with its own status, is the answer */

    r->err_status = 0;

    ctx->endpoints = ctx->error_endpoints;
    ctx->nendpoints = ctx->nerror_endpoints;
    ctx->backend_id = ctx->error_backend_id;
    ctx->upstream = 0;
    ctx->protocol = TBL_PROTO_HTTP;

    /* the route's balancing, affinity and access rules were for its own
     * backend, and the request passed them already */
    ctx->policy = NULL;

    ngx_str_set(&r->uri, "/");
    r->valid_unparsed_uri = 0;

    return NGX_DECLINED;
}


/* $shmingress_error_code: the code the default backend is serving. */
static ngx_int_t
ngx_http_shmingress_error_code_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                     *p;
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || ctx->error_code == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_http_shmingress_variable_set(v, p,
                                     ngx_sprintf(p, "%ui", ctx->error_code)
                                     - p);

    return NGX_OK;
}
