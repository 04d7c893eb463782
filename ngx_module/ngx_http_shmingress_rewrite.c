
/*
 * ngx_http_shmingress_rewrite.c -- redirects and rewrite-target.
 *
 * After the route is chosen, its policy may answer the request itself
 * (permanent/temporal-redirect, app-root) or change the URI sent
 * upstream (rewrite-target, with the regex path's $0..$9, and
 * x-forwarded-prefix alongside it), as ingress-nginx's generated
 * "return" and "rewrite ... break" lines do.  from-to-www-redirect sends
 * a request for a host's www/non-www counterpart to the configured host.
 * The rewritten URI goes upstream through nginx's own mechanics: r->uri
 * and r->args replace the original request line of "proxy_pass" without
 * a URI part.  Nothing here chooses routes or backends.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "ngx_http_shmingress_module.h"


static ngx_int_t ngx_http_shmingress_app_root(ngx_http_request_t *r,
    const tbl_view *v, const tbl_policy *pol);
static ngx_int_t ngx_http_shmingress_rewrite_uri(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v,
    const tbl_route *route, const tbl_policy *pol);
static ngx_int_t ngx_http_shmingress_substitute(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_route *route,
    const u_char *tmpl, size_t len, ngx_str_t *out);
static ngx_str_t *ngx_http_shmingress_capture(ngx_http_shmingress_ctx_t *ctx,
    const tbl_route *route, ngx_uint_t n, ngx_str_t *s);
static void ngx_http_shmingress_scheme(ngx_http_request_t *r, ngx_str_t *s);


/*
 * Applies the route's policy: returns NGX_DECLINED to go on proxying
 * (possibly with a rewritten URI), or the status that answers it.
 */
ngx_int_t
ngx_http_shmingress_rewrite(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v, const tbl_route *route)
{
    ngx_str_t          url;
    const tbl_policy  *pol;

    pol = tbl_view_policy(v, route->policy);

    if (pol == NULL) {
        return NGX_DECLINED;
    }

    if (pol->redirect_url.len) {
        url.len = pol->redirect_url.len;
        url.data = ngx_pnalloc(r->pool, url.len);
        if (url.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(url.data, tbl_view_str(v, pol->redirect_url), url.len);

        return ngx_http_shmingress_redirect(r, pol->redirect_code, &url,
                                 pol->flags & TBL_POL_RELATIVE_REDIRECTS);
    }

    if (pol->app_root.len && r->uri.len == 1 && r->uri.data[0] == '/') {
        return ngx_http_shmingress_app_root(r, v, pol);
    }

    if (pol->rewrite_target.len
        && !(pol->rewrite_target.len == route->path.len
             && ngx_memcmp(tbl_view_str(v, pol->rewrite_target),
                           tbl_view_str(v, route->path), route->path.len)
                == 0))
    {
        return ngx_http_shmingress_rewrite_uri(r, ctx, v, route, pol);
    }

    return NGX_DECLINED;
}


/*
 * from-to-www-redirect: the controller gives the counterpart host ("www."
 * added or removed) a vhost of its own whose server policy asks for the
 * redirect, unless an Ingress serves that host; every request to it goes
 * to the same URI on the configured host.
 */
ngx_int_t
ngx_http_shmingress_redirect_www(ngx_http_request_t *r, const tbl_view *v,
    const tbl_match *m)
{
    u_char            *p;
    ngx_str_t         *host, other, scheme, url;
    const tbl_policy  *pol;

    host = &r->headers_in.server;

    if (m->host_kind != TBL_HOST_EXACT || host->len == 0) {
        return NGX_DECLINED;
    }

    pol = tbl_view_policy(v, v->vhosts[m->vhost].policy);

    if (pol == NULL || !(pol->flags & TBL_POL_FROM_TO_WWW)) {
        return NGX_DECLINED;
    }

    other.data = ngx_pnalloc(r->pool, host->len + 4);
    if (other.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (host->len > 4 && ngx_strncmp(host->data, "www.", 4) == 0) {
        other.len = host->len - 4;
        ngx_memcpy(other.data, host->data + 4, other.len);

    } else {
        other.len = host->len + 4;
        ngx_memcpy(ngx_cpymem(other.data, "www.", 4), host->data, host->len);
    }

    ngx_http_shmingress_scheme(r, &scheme);

    url.len = scheme.len + sizeof("://") - 1 + other.len
              + r->unparsed_uri.len;
    url.data = ngx_pnalloc(r->pool, url.len);
    if (url.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(url.data, "%V://%V%V", &scheme, &other,
                    &r->unparsed_uri);
    url.len = p - url.data;

    return ngx_http_shmingress_redirect(r,
               tbl_view_config(v)->http_redirect_code, &url, 0);
}


/*
 * Answers with a redirect (rewrite's, ssl-redirect's, external auth's
 * signin).  nginx makes a Location starting with "/" absolute only
 * through r->headers_out.location, so relative-redirects (ingress-nginx's
 * "absolute_redirect off") leaves that pointer unset.
 */
ngx_int_t
ngx_http_shmingress_redirect(ngx_http_request_t *r, ngx_uint_t code,
    ngx_str_t *url, ngx_uint_t relative)
{
    ngx_table_elt_t  *h;

    ngx_http_clear_location(r);

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Location");
    h->value = *url;
    h->lowcase_key = NULL;

    if (!relative) {
        r->headers_out.location = h;
    }

    return code;
}


/* app-root: "/" answers 302 to $scheme://$http_host<app-root>. */
static ngx_int_t
ngx_http_shmingress_app_root(ngx_http_request_t *r, const tbl_view *v,
    const tbl_policy *pol)
{
    u_char           *p;
    ngx_str_t         scheme, host, url;
    ngx_table_elt_t  *h;

    ngx_http_shmingress_scheme(r, &scheme);

    h = r->headers_in.host;
    host = h ? h->value : r->headers_in.server;

    url.len = scheme.len + sizeof("://") - 1 + host.len + pol->app_root.len;
    url.data = ngx_pnalloc(r->pool, url.len);
    if (url.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(url.data, "%V://%V", &scheme, &host);
    p = ngx_cpymem(p, tbl_view_str(v, pol->app_root), pol->app_root.len);
    url.len = p - url.data;

    return ngx_http_shmingress_redirect(r, NGX_HTTP_MOVED_TEMPORARILY, &url,
                                        0);
}


/*
 * rewrite-target as nginx's "rewrite <path> <target> break": the whole
 * URI is replaced; a "?" in the target starts new arguments, followed
 * by the original ones unless the target ends with "?".
 */
static ngx_int_t
ngx_http_shmingress_rewrite_uri(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v,
    const tbl_route *route, const tbl_policy *pol)
{
    u_char     *q, *p;
    ngx_str_t   target, args;

    if (ngx_http_shmingress_substitute(r, ctx, route,
            (const u_char *) tbl_view_str(v, pol->rewrite_target),
            pol->rewrite_target.len, &target)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (pol->x_forwarded_prefix.len
        && ngx_http_shmingress_substitute(r, ctx, route,
               (const u_char *) tbl_view_str(v, pol->x_forwarded_prefix),
               pol->x_forwarded_prefix.len, &ctx->x_forwarded_prefix)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q = ngx_strlchr(target.data, target.data + target.len, '?');

    if (q) {
        args.data = q + 1;
        args.len = target.data + target.len - args.data;
        target.len = q - target.data;

        if (args.len == 0 || args.data[args.len - 1] == '?') {
            args.len -= (args.len != 0);

        } else if (r->args.len) {
            p = ngx_pnalloc(r->pool, args.len + 1 + r->args.len);
            if (p == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_memcpy(p, args.data, args.len);
            if (args.len) {
                p[args.len++] = '&';
            }

            ngx_memcpy(p + args.len, r->args.data, r->args.len);
            args.len += r->args.len;
            args.data = p;
        }

        r->args = args;
    }

    r->uri = target;
    r->valid_unparsed_uri = 0;
    ctx->rewritten = 1;

    return NGX_DECLINED;
}


/* Replaces $0..$9 with the route's captures; a missing one is empty. */
static ngx_int_t
ngx_http_shmingress_substitute(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_route *route,
    const u_char *tmpl, size_t len, ngx_str_t *out)
{
    u_char     *p;
    size_t      i, n;
    ngx_str_t   cap;

    n = 0;

    for (i = 0; i < len; i++) {
        if (tmpl[i] == '$' && i + 1 < len && tmpl[i + 1] >= '0'
            && tmpl[i + 1] <= '9')
        {
            n += ngx_http_shmingress_capture(ctx, route, tmpl[++i] - '0',
                                             &cap)->len;
        } else {
            n++;
        }
    }

    out->data = ngx_pnalloc(r->pool, n ? n : 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = out->data;

    for (i = 0; i < len; i++) {
        if (tmpl[i] == '$' && i + 1 < len && tmpl[i + 1] >= '0'
            && tmpl[i + 1] <= '9')
        {
            ngx_http_shmingress_capture(ctx, route, tmpl[++i] - '0', &cap);
            p = ngx_cpymem(p, cap.data, cap.len);

        } else {
            *p++ = tmpl[i];
        }
    }

    out->len = p - out->data;

    return NGX_OK;
}


static ngx_str_t *
ngx_http_shmingress_capture(ngx_http_shmingress_ctx_t *ctx,
    const tbl_route *route, ngx_uint_t n, ngx_str_t *s)
{
    s->len = 0;
    s->data = NULL;

    if (ctx->capture_route != route || n >= ctx->ncaptures
        || ctx->captures[2 * n] == PCRE2_UNSET)
    {
        return s;
    }

    s->data = ctx->capture_subject + ctx->captures[2 * n];
    s->len = ctx->captures[2 * n + 1] - ctx->captures[2 * n];

    return s;
}


static void
ngx_http_shmingress_scheme(ngx_http_request_t *r, ngx_str_t *s)
{
#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(s, "https");
        return;
    }
#endif

    ngx_str_set(s, "http");
}
