
/*
 * ngx_http_shmingress_variables.c -- $shmingress_* variables.
 *
 * They expose the request's routing decision to logs and headers: the
 * Ingress, Service and port, the upstream name in ingress-nginx's
 * "<namespace>-<service>-<port>" form, the matched rule and the table
 * generation.  They read the request's copy of the decision only, and
 * are empty when the request was not routed (no match, no table, or a
 * location without shmingress_route).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_shmingress_module.h"


static ngx_int_t ngx_http_shmingress_variable_str(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_shmingress_variable_generation(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_shmingress_variable_route_id(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_shmingress_variable_forwarded_prefix(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


/*
 * Not cacheable: an internal redirect routes the request again, and the
 * decision (so every value) may change.
 */
static ngx_http_variable_t  ngx_http_shmingress_vars[] = {

    { ngx_string("shmingress_namespace"), NULL,
      ngx_http_shmingress_variable_str,
      offsetof(ngx_http_shmingress_ctx_t, ingress_namespace),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("shmingress_ingress"), NULL,
      ngx_http_shmingress_variable_str,
      offsetof(ngx_http_shmingress_ctx_t, ingress_name),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("shmingress_service"), NULL,
      ngx_http_shmingress_variable_str,
      offsetof(ngx_http_shmingress_ctx_t, service),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("shmingress_service_port"), NULL,
      ngx_http_shmingress_variable_str,
      offsetof(ngx_http_shmingress_ctx_t, service_port),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("shmingress_upstream_name"), NULL,
      ngx_http_shmingress_variable_str,
      offsetof(ngx_http_shmingress_ctx_t, upstream_name),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    /* the canary backend's name when the canary serves, else empty */
    { ngx_string("shmingress_alternative_upstream_name"), NULL,
      ngx_http_shmingress_variable_str,
      offsetof(ngx_http_shmingress_ctx_t, alternative_upstream_name),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("shmingress_path"), NULL,
      ngx_http_shmingress_variable_str,
      offsetof(ngx_http_shmingress_ctx_t, path),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("shmingress_path_type"), NULL,
      ngx_http_shmingress_variable_str,
      offsetof(ngx_http_shmingress_ctx_t, path_type),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("shmingress_host_rule"), NULL,
      ngx_http_shmingress_variable_str,
      offsetof(ngx_http_shmingress_ctx_t, host_rule),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("shmingress_x_forwarded_prefix"), NULL,
      ngx_http_shmingress_variable_forwarded_prefix, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("shmingress_generation"), NULL,
      ngx_http_shmingress_variable_generation, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("shmingress_route_id"), NULL,
      ngx_http_shmingress_variable_route_id, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_shmingress_add_variables(ngx_conf_t *cf)
{
    return ngx_http_shmingress_register_variables(cf, ngx_http_shmingress_vars);
}


/* Every file with variables keeps a table ending in
 * ngx_http_null_variable and registers it here. */
ngx_int_t
ngx_http_shmingress_register_variables(ngx_conf_t *cf,
    ngx_http_variable_t *vars)
{
    ngx_http_variable_t  *var, *v;

    for (v = vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * A found value.  no_cacheable stays 0: our variables are registered
 * NGX_HTTP_VAR_NOCACHEABLE, and nginx marks their values so itself.
 */
void
ngx_http_shmingress_variable_set(ngx_http_variable_value_t *v,
    u_char *data, size_t len)
{
    v->len = len;
    v->data = data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
}


static ngx_int_t
ngx_http_shmingress_variable_str(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                  *s;
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || !ctx->routed) {
        ngx_http_shmingress_variable_set(v, (u_char *) "", 0);
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) ctx + data);

    ngx_http_shmingress_variable_set(v, s->len ? s->data : (u_char *) "",
                                     s->len);

    return NGX_OK;
}


/*
 * x-forwarded-prefix of a rewritten request, otherwise the client's own
 * X-Forwarded-Prefix, which ingress-nginx passes through untouched.
 */
static ngx_int_t
ngx_http_shmingress_variable_forwarded_prefix(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                   name = ngx_string("http_x_forwarded_prefix");
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || !ctx->rewritten || ctx->x_forwarded_prefix.len == 0) {
        return ngx_http_variable_unknown_header(v, &name,
                                                &r->headers_in.headers.part,
                                                sizeof("http_") - 1);
    }

    ngx_http_shmingress_variable_set(v, ctx->x_forwarded_prefix.data,
                                     ctx->x_forwarded_prefix.len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_shmingress_variable_generation(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                     *p;
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || !ctx->routed) {
        ngx_http_shmingress_variable_set(v, (u_char *) "", 0);
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_http_shmingress_variable_set(v, p,
                                     ngx_sprintf(p, "%uL", ctx->generation)
                                     - p);

    return NGX_OK;
}


/* 16 hex digits: the id is a hash, and hex is how hashes are compared */
static ngx_int_t
ngx_http_shmingress_variable_route_id(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                     *p;
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || !ctx->routed) {
        ngx_http_shmingress_variable_set(v, (u_char *) "", 0);
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, 16);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_http_shmingress_variable_set(v, p,
                                     ngx_sprintf(p, "%016xL", ctx->route_id)
                                     - p);

    return NGX_OK;
}
