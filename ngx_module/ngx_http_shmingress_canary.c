
/*
 * ngx_http_shmingress_canary.c -- the canary (alternative backend) choice.
 *
 * A route with a canary record sends a request to the canary backend as
 * ingress-nginx's balancer does: an affinity cookie naming either
 * backend first (_affinity.c), then the header rule (value, pattern,
 * or "always"/"never"), then the cookie rule ("always"/"never"), then the
 * weight, drawn per request from the worker's own random sequence (no
 * lock, no shared state).  A rule that does not decide falls through to
 * the next.  This file only decides and names the choice; _module.c
 * copies the chosen backend's endpoints.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_shmingress_module.h"


static ngx_int_t ngx_http_shmingress_canary_header(ngx_http_request_t *r,
    const tbl_view *v, const tbl_canary *cn);
static ngx_int_t ngx_http_shmingress_canary_cookie(ngx_http_request_t *r,
    const tbl_view *v, const tbl_canary *cn);


#define NGX_HTTP_SHMINGRESS_UNDECIDED  -1


/* 1: the canary serves the request, 0: the primary backend does. */
ngx_int_t
ngx_http_shmingress_canary_choose(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v,
    const tbl_backend *primary, const tbl_canary *cn)
{
    ngx_int_t  rc;

    rc = ngx_http_shmingress_affinity_canary(r, ctx, primary,
                                             tbl_view_backend(v, cn->backend),
                                             cn);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_shmingress_canary_header(r, v, cn);

    if (rc == NGX_HTTP_SHMINGRESS_UNDECIDED) {
        rc = ngx_http_shmingress_canary_cookie(r, v, cn);
    }

    if (rc != NGX_HTTP_SHMINGRESS_UNDECIDED) {
        return rc;
    }

    return cn->weight > 0
           && (uint32_t) (ngx_random() % cn->weight_total) < cn->weight;
}


static ngx_int_t
ngx_http_shmingress_canary_header(ngx_http_request_t *r, const tbl_view *v,
    const tbl_canary *cn)
{
    ngx_table_elt_t  *h;

    if (!(cn->flags & TBL_CANARY_BY_HEADER) || cn->header.len == 0) {
        return NGX_HTTP_SHMINGRESS_UNDECIDED;
    }

    h = ngx_http_shmingress_find_header(r, tbl_view_str(v, cn->header),
                                        cn->header.len);

    if (h == NULL) {
        return NGX_HTTP_SHMINGRESS_UNDECIDED;
    }

    if ((cn->flags & TBL_CANARY_BY_HEADER_VALUE) && cn->header_value.len) {
        if (h->value.len == cn->header_value.len
            && ngx_memcmp(h->value.data, tbl_view_str(v, cn->header_value),
                          h->value.len)
               == 0)
        {
            return 1;
        }

        return NGX_HTTP_SHMINGRESS_UNDECIDED;
    }

    if ((cn->flags & TBL_CANARY_BY_HEADER_PATTERN)
        && cn->header_pattern.len)
    {
        if (ngx_http_shmingress_regex_search(r, v, cn, &h->value))
        {
            return 1;
        }

        return NGX_HTTP_SHMINGRESS_UNDECIDED;
    }

    if (h->value.len == sizeof("always") - 1
        && ngx_strncmp(h->value.data, "always", h->value.len) == 0)
    {
        return 1;
    }

    if (h->value.len == sizeof("never") - 1
        && ngx_strncmp(h->value.data, "never", h->value.len) == 0)
    {
        return 0;
    }

    return NGX_HTTP_SHMINGRESS_UNDECIDED;
}


static ngx_int_t
ngx_http_shmingress_canary_cookie(ngx_http_request_t *r, const tbl_view *v,
    const tbl_canary *cn)
{
    ngx_str_t  name, value;

    if (!(cn->flags & TBL_CANARY_BY_COOKIE) || cn->cookie.len == 0) {
        return NGX_HTTP_SHMINGRESS_UNDECIDED;
    }

    name.data = (u_char *) tbl_view_str(v, cn->cookie);
    name.len = cn->cookie.len;

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &name,
                                          &value)
        == NGX_DECLINED)
    {
        return NGX_HTTP_SHMINGRESS_UNDECIDED;
    }

    if (value.len == sizeof("always") - 1
        && ngx_strncmp(value.data, "always", value.len) == 0)
    {
        return 1;
    }

    if (value.len == sizeof("never") - 1
        && ngx_strncmp(value.data, "never", value.len) == 0)
    {
        return 0;
    }

    return NGX_HTTP_SHMINGRESS_UNDECIDED;
}




/*
 * Names the choice like ingress-nginx: $shmingress_upstream_name stays
 * the primary's, $shmingress_alternative_upstream_name is the canary's,
 * and the service variables name the canary Service that serves.
 */
ngx_int_t
ngx_http_shmingress_canary_names(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v, const tbl_backend *be)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, ngx_http_shmingress_service_names_len(be));
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_http_shmingress_service_names(p, ctx, v, be,
                                      &ctx->alternative_upstream_name);

    return NGX_OK;
}
