
/*
 * ngx_http_shmingress_cors.c -- CORS from a route policy.
 *
 * A preflight (OPTIONS with Origin and Access-Control-Request-Method)
 * from an allowed origin is answered here with 204, in the REWRITE phase
 * as ingress-nginx does, without reaching the backend.  Every other
 * answer of such a route gets the CORS headers from a header filter,
 * replacing any Access-Control-* headers of the backend: the Origin is
 * echoed when it is on the allowed list, "*" is sent only when the list
 * is "*", and an Origin not on the list gets no CORS headers at all.
 * The lists were validated and their defaults filled in by the
 * controller; this file only matches and copies.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_shmingress_module.h"


static ngx_int_t ngx_http_shmingress_cors_header_filter(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_shmingress_cors_origin(ngx_http_request_t *r,
    const tbl_view *v, const tbl_policy *pol, ngx_str_t *value);
static ngx_int_t ngx_http_shmingress_cors_item(ngx_str_t *item,
    ngx_str_t *origin);
static ngx_int_t ngx_http_shmingress_cors_add(ngx_http_request_t *r,
    const char *name, u_char *value, size_t len);
static ngx_int_t ngx_http_shmingress_cors_headers(ngx_http_request_t *r,
    const tbl_view *v, const tbl_policy *pol, ngx_str_t *origin);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


ngx_int_t
ngx_http_shmingress_cors_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_shmingress_cors_header_filter;

    return NGX_OK;
}


ngx_int_t
ngx_http_shmingress_cors_preflight(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx)
{
    ngx_int_t          rc;
    ngx_str_t          origin;
    const tbl_policy  *pol;

    pol = ctx->policy;

    if (pol == NULL
        || !(pol->flags & TBL_POL_CORS)
        || r->method != NGX_HTTP_OPTIONS
        || ngx_http_shmingress_find_header(r, "Origin",
                                         sizeof("Origin") - 1) == NULL
        || ngx_http_shmingress_find_header(r, "Access-Control-Request-Method",
               sizeof("Access-Control-Request-Method") - 1) == NULL
        || !ngx_http_shmingress_cors_origin(r, &ctx->table->view, pol,
                                            &origin))
    {
        return NGX_DECLINED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    /*
     * nginx drops Content-Type and Content-Length from a 204; ingress-nginx
     * sends both, so they go out as plain headers.
     */

    if (ngx_http_shmingress_cors_add(r, "Content-Type",
                                     (u_char *) "text/plain charset=UTF-8",
                                     sizeof("text/plain charset=UTF-8") - 1)
        != NGX_OK
        || ngx_http_shmingress_cors_add(r, "Content-Length",
                                        (u_char *) "0", 1)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->header_only = 1;

    return ngx_http_send_header(r);
}


static ngx_int_t
ngx_http_shmingress_cors_header_filter(ngx_http_request_t *r)
{
    ngx_str_t                   origin;
    const tbl_policy           *pol;
    ngx_http_shmingress_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || ctx->policy == NULL || ctx->table == NULL) {
        return ngx_http_next_header_filter(r);
    }

    pol = ctx->policy;

    if ((pol->flags & TBL_POL_CORS)
        && ngx_http_shmingress_cors_origin(r, &ctx->table->view, pol,
                                           &origin)
        && ngx_http_shmingress_cors_headers(r, &ctx->table->view, pol,
                                            &origin)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}




/*
 * The Access-Control-Allow-Origin value for this request, or 0 when the
 * request's Origin is not allowed.
 */
static ngx_int_t
ngx_http_shmingress_cors_origin(ngx_http_request_t *r, const tbl_view *v,
    const tbl_policy *pol, ngx_str_t *value)
{
    u_char           *p, *last, *comma;
    ngx_str_t         item;
    ngx_table_elt_t  *origin;

    p = (u_char *) tbl_view_str(v, pol->cors_allow_origin);
    last = p + pol->cors_allow_origin.len;

    if (pol->cors_allow_origin.len == 1 && *p == '*') {
        ngx_str_set(value, "*");
        return 1;
    }

    origin = ngx_http_shmingress_find_header(r, "Origin", sizeof("Origin") - 1);

    if (origin == NULL) {
        return 0;
    }

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        item.data = p;
        item.len = comma - p;

        while (item.len && item.data[0] == ' ') {
            item.data++;
            item.len--;
        }

        while (item.len && item.data[item.len - 1] == ' ') {
            item.len--;
        }

        if (ngx_http_shmingress_cors_item(&item, &origin->value)) {
            *value = origin->value;
            return 1;
        }

        p = comma + 1;
    }

    return 0;
}


/* "*", an exact origin, or a wildcard item: its "*" stands for one
 * DNS label. */
static ngx_int_t
ngx_http_shmingress_cors_item(ngx_str_t *item, ngx_str_t *origin)
{
    u_char  *star, *o, *dot;
    size_t   scheme, rest;

    if (item->len == 1 && item->data[0] == '*') {
        return 1;
    }

    star = ngx_strlchr(item->data, item->data + item->len, '*');

    if (star == NULL) {
        return item->len == origin->len
               && ngx_strncasecmp(item->data, origin->data, item->len) == 0;
    }

    scheme = star - item->data;
    rest = item->len - scheme - 1;

    if (origin->len <= scheme + rest
        || ngx_strncasecmp(item->data, origin->data, scheme) != 0
        || ngx_strncasecmp(star + 1, origin->data + origin->len - rest, rest)
           != 0)
    {
        return 0;
    }

    o = origin->data + scheme;
    dot = origin->data + origin->len - rest;

    for ( /* void */ ; o < dot; o++) {
        if (!((*o >= 'a' && *o <= 'z') || (*o >= 'A' && *o <= 'Z')
              || (*o >= '0' && *o <= '9') || *o == '-'))
        {
            return 0;
        }
    }

    return 1;
}


static ngx_int_t
ngx_http_shmingress_cors_add(ngx_http_request_t *r, const char *name,
    u_char *value, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = value;
    h->value.len = len;
    h->lowcase_key = NULL;

    return NGX_OK;
}


static ngx_int_t
ngx_http_shmingress_cors_headers(ngx_http_request_t *r, const tbl_view *v,
    const tbl_policy *pol, ngx_str_t *origin)
{
    u_char           *age;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    /* ours replace the backend's */

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len > sizeof("Access-Control-") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Access-Control-",
                               sizeof("Access-Control-") - 1) == 0)
        {
            h[i].hash = 0;
        }
    }

    age = ngx_pnalloc(r->pool, NGX_INT32_LEN);
    if (age == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_shmingress_cors_add(r, "Access-Control-Allow-Origin",
                                     origin->data, origin->len) != NGX_OK
        || ((pol->flags & TBL_POL_CORS_CREDENTIALS)
            && ngx_http_shmingress_cors_add(r,
                   "Access-Control-Allow-Credentials", (u_char *) "true",
                   sizeof("true") - 1) != NGX_OK)
        || ngx_http_shmingress_cors_add(r, "Access-Control-Allow-Methods",
               (u_char *) tbl_view_str(v, pol->cors_allow_methods),
               pol->cors_allow_methods.len) != NGX_OK
        || ngx_http_shmingress_cors_add(r, "Access-Control-Allow-Headers",
               (u_char *) tbl_view_str(v, pol->cors_allow_headers),
               pol->cors_allow_headers.len) != NGX_OK
        || (pol->cors_expose_headers.len
            && ngx_http_shmingress_cors_add(r,
                   "Access-Control-Expose-Headers",
                   (u_char *) tbl_view_str(v, pol->cors_expose_headers),
                   pol->cors_expose_headers.len) != NGX_OK)
        || ngx_http_shmingress_cors_add(r, "Access-Control-Max-Age", age,
               ngx_sprintf(age, "%uD", pol->cors_max_age) - age) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
