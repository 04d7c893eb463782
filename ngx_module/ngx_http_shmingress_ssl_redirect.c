
/*
 * ngx_http_shmingress_ssl_redirect.c -- HTTP to HTTPS redirects and HSTS.
 *
 * A routed request that arrived over plain HTTP is sent to
 * https://$host$request_uri when its route's host has a tls[] entry and
 * ssl-redirect is on, or whenever force-ssl-redirect is on, as
 * ingress-nginx's Lua rewrite phase does: after the route's own
 * redirects (permanent/temporal-redirect and app-root answer first, as
 * their "return" lines run before the Lua), before any limit or
 * proxying, with the ConfigMap's http-redirect-code, the trailing slash
 * removed unless preserve-trailing-slash, and no-tls-redirect-locations
 * (the ACME challenge) exempt.  A route without a policy takes the
 * ConfigMap defaults.  A header filter adds Strict-Transport-Security to
 * routed answers over HTTPS.  With use-forwarded-headers the client's
 * scheme is X-Forwarded-Proto.  Nothing here chooses routes or backends.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_shmingress_module.h"


static ngx_uint_t ngx_http_shmingress_https(ngx_http_request_t *r,
    const tbl_config *cfg);
static ngx_uint_t ngx_http_shmingress_exempt(ngx_http_request_t *r,
    const tbl_view *v, const tbl_config *cfg);
static ngx_int_t ngx_http_shmingress_hsts_filter(ngx_http_request_t *r);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


ngx_int_t
ngx_http_shmingress_ssl_redirect_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_shmingress_hsts_filter;

    return NGX_OK;
}


ngx_int_t
ngx_http_shmingress_ssl_redirect(ngx_http_request_t *r, const tbl_view *v,
    const tbl_route *route)
{
    size_t              len;
    u_char             *p;
    uint32_t            flags;
    ngx_str_t           url;
    ngx_uint_t          tls;
    const tbl_policy   *pol;
    const tbl_config   *cfg;

    cfg = tbl_view_config(v);
    pol = tbl_view_policy(v, route->policy);

    /* no policy: the ConfigMap's values, which use the same bits */

    if (pol) {
        flags = pol->flags & (TBL_POL_SSL_REDIRECT|TBL_POL_FORCE_SSL_REDIRECT
                              |TBL_POL_PRESERVE_TRAILING_SLASH);
    } else {
        flags = ((cfg->flags & TBL_CFG_SSL_REDIRECT) ? TBL_POL_SSL_REDIRECT
                                                      : 0)
                | ((cfg->flags & TBL_CFG_FORCE_SSL_REDIRECT)
                   ? TBL_POL_FORCE_SSL_REDIRECT : 0);
    }

    tls = route->vhost != TBL_NONE
          && (v->vhosts[route->vhost].flags & TBL_VHOST_TLS);

    if (!(flags & TBL_POL_FORCE_SSL_REDIRECT)
        && !((flags & TBL_POL_SSL_REDIRECT) && tls))
    {
        return NGX_DECLINED;
    }

    if (ngx_http_shmingress_https(r, cfg)
        || ngx_http_shmingress_exempt(r, v, cfg))
    {
        return NGX_DECLINED;
    }

    len = r->unparsed_uri.len;

    /* as ingress-nginx: "/" stays, any other trailing '/' goes */

    if (!(flags & TBL_POL_PRESERVE_TRAILING_SLASH) && len > 1
        && r->unparsed_uri.data[len - 1] == '/')
    {
        len--;
    }

    p = ngx_pnalloc(r->pool, sizeof("https://") - 1
                             + r->headers_in.server.len + len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    url.data = p;
    p = ngx_cpymem(p, "https://", sizeof("https://") - 1);
    p = ngx_cpymem(p, r->headers_in.server.data, r->headers_in.server.len);
    p = ngx_cpymem(p, r->unparsed_uri.data, len);
    url.len = p - url.data;

    return ngx_http_shmingress_redirect(r, cfg->http_redirect_code, &url, 0);
}


/* The client's scheme: the connection's, or X-Forwarded-Proto when the
 * ConfigMap trusts forwarded headers. */
static ngx_uint_t
ngx_http_shmingress_https(ngx_http_request_t *r, const tbl_config *cfg)
{
    ngx_table_elt_t  *h;

    if (!(cfg->flags & TBL_CFG_USE_FORWARDED_HEADERS)) {
#if (NGX_HTTP_SSL)
        return r->connection->ssl != NULL;
#else
        return 0;
#endif
    }

    h = ngx_http_shmingress_find_header(r, "X-Forwarded-Proto",
                                        sizeof("X-Forwarded-Proto") - 1);

    return h != NULL
           && h->value.len == sizeof("https") - 1
           && ngx_strncasecmp(h->value.data, (u_char *) "https",
                              sizeof("https") - 1) == 0;
}


/* Is the request's path (as sent: rewrite-target may have changed r->uri)
 * under one of no-tls-redirect-locations? */
static ngx_uint_t
ngx_http_shmingress_exempt(ngx_http_request_t *r, const tbl_view *v,
    const tbl_config *cfg)
{
    size_t       n;
    const char  *s, *end, *comma;

    s = tbl_view_str(v, cfg->no_tls_redirect_locations);
    end = s + cfg->no_tls_redirect_locations.len;

    while (s < end) {
        comma = memchr(s, ',', end - s);
        n = (comma ? comma : end) - s;

        while (n && *s == ' ') {
            s++;
            n--;
        }

        if (n && r->unparsed_uri.len >= n
            && ngx_strncmp(r->unparsed_uri.data, (u_char *) s, n) == 0)
        {
            return 1;
        }

        s = comma ? comma + 1 : end;
    }

    return 0;
}


static ngx_int_t
ngx_http_shmingress_hsts_filter(ngx_http_request_t *r)
{
    u_char                     *p;
    ngx_table_elt_t            *h;
    const tbl_config           *cfg;
    ngx_http_shmingress_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || !ctx->routed || ctx->table == NULL) {
        return ngx_http_next_header_filter(r);
    }

    cfg = tbl_view_config(&ctx->table->view);

    if (!(cfg->flags & TBL_CFG_HSTS) || !ngx_http_shmingress_https(r, cfg)) {
        return ngx_http_next_header_filter(r);
    }

    p = ngx_pnalloc(r->pool, sizeof("max-age=; includeSubDomains; preload")
                             - 1 + NGX_INT32_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Strict-Transport-Security");
    h->lowcase_key = NULL;
    h->value.data = p;
    p = ngx_sprintf(p, "max-age=%uD", cfg->hsts_max_age);

    if (cfg->flags & TBL_CFG_HSTS_INCLUDE_SUBDOMAINS) {
        p = ngx_cpymem(p, "; includeSubDomains",
                       sizeof("; includeSubDomains") - 1);
    }

    if (cfg->flags & TBL_CFG_HSTS_PRELOAD) {
        p = ngx_cpymem(p, "; preload", sizeof("; preload") - 1);
    }

    h->value.len = p - h->value.data;

    return ngx_http_next_header_filter(r);
}
