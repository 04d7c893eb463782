
/*
 * ngx_http_shmingress_affinity.c -- cookie affinity ("affinity: cookie").
 *
 * The cookie names a session key and the backend it belongs to:
 * "<16 hex key>.<16 hex backend id>", both stable across table swaps.
 * In balanced mode the key is random and the endpoint is the consistent
 * hash of the key (_balancer.c), so a removed endpoint's sessions move
 * to the others and a new endpoint takes a share of every session.  In
 * persistent mode the key is the endpoint id itself: a session stays on
 * its endpoint as long as it exists, and is pinned anew (new cookie)
 * when it is gone.  A request without a cookie for the backend it goes
 * to gets one on its answer.  With change-on-failure, an answer that
 * came from another endpoint than the pinned one (after a failed try)
 * re-pins the session there.
 *
 * Canaries: an affinity cookie naming the primary or the canary backend
 * decides the backend before any canary rule (affinity-canary-behavior
 * "sticky"); with "legacy" the canary rules decide and the cookie only
 * chooses among the endpoints of the backend they chose.
 *
 * This file reads no configuration of its own: everything comes from
 * the route's policy.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_shmingress_module.h"


/* "<16 hex>.<16 hex>" */
#define NGX_HTTP_SHMINGRESS_COOKIE_LEN  33

/* change-on-failure in balanced mode: random keys tried before giving
 * up (each lands on the wanted endpoint with chance 1/n) */
#define NGX_HTTP_SHMINGRESS_REKEY_TRIES  1024


static ngx_int_t ngx_http_shmingress_affinity_read(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, uint64_t *key, uint64_t *backend);
static ngx_int_t ngx_http_shmingress_affinity_hex(u_char *p, uint64_t *out);
static uint64_t ngx_http_shmingress_affinity_random(void);
static ngx_int_t ngx_http_shmingress_affinity_rekey(
    ngx_http_shmingress_ctx_t *ctx, ngx_uint_t k);
static ngx_int_t ngx_http_shmingress_affinity_header_filter(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_shmingress_affinity_set_cookie(
    ngx_http_request_t *r, ngx_http_shmingress_ctx_t *ctx);
static void ngx_http_shmingress_affinity_path(ngx_http_shmingress_ctx_t *ctx,
    ngx_str_t *path);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


static ngx_str_t  ngx_http_shmingress_affinity_default_name =
    ngx_string("INGRESSCOOKIE");


ngx_int_t
ngx_http_shmingress_affinity_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_shmingress_affinity_header_filter;

    return NGX_OK;
}


/*
 * Sticky canaries: 1 when the cookie names the canary's backend, 0 when
 * it names the primary's, NGX_DECLINED when the canary rules decide.
 */
ngx_int_t
ngx_http_shmingress_affinity_canary(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_backend *primary,
    const tbl_backend *canary, const tbl_canary *cn)
{
    uint64_t  key, backend;

    if (ctx->policy == NULL
        || ctx->policy->affinity_mode == TBL_AFFINITY_NONE
        || (cn->flags & TBL_CANARY_AFFINITY_LEGACY))
    {
        return NGX_DECLINED;
    }

    if (ngx_http_shmingress_affinity_read(r, ctx, &key, &backend) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (primary && backend == primary->backend_id) {
        return 0;
    }

    if (canary && backend == canary->backend_id) {
        return 1;
    }

    return NGX_DECLINED;
}


/* The endpoint the session is pinned to; pins a new session. */
ngx_uint_t
ngx_http_shmingress_affinity_pick(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, ngx_uint_t load_balance)
{
    uint64_t    key, backend;
    ngx_uint_t  k, persistent;

    persistent = (ctx->policy->affinity_mode == TBL_AFFINITY_PERSISTENT);

    ctx->affinity = 1;

    if (ngx_http_shmingress_affinity_read(r, ctx, &key, &backend) == NGX_OK
        && backend == ctx->backend_id)
    {
        if (!persistent) {
            k = ngx_http_shmingress_hash_pick(ctx, key);
            goto pinned;
        }

        for (k = 0; k < ctx->nendpoints; k++) {
            if (ngx_http_shmingress_endpoint_id(ctx, k) == key) {
                goto pinned;
            }
        }

        /* the endpoint is gone: pin anew */
    }

    if (persistent) {
        k = ngx_http_shmingress_balance_pick(r, ctx, load_balance);
        key = ngx_http_shmingress_endpoint_id(ctx, k);

    } else {
        key = ngx_http_shmingress_affinity_random();
        k = ngx_http_shmingress_hash_pick(ctx, key);
    }

    ctx->affinity_set_cookie = 1;

pinned:

    ctx->affinity_key = key;
    ctx->affinity_pinned = k;

    return k;
}


/* The request's cookie for this route, if it is one of ours. */
static ngx_int_t
ngx_http_shmingress_affinity_read(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, uint64_t *key, uint64_t *backend)
{
    ngx_str_t          name, value;
    const tbl_policy  *p;

    p = ctx->policy;

    if (p->affinity_cookie_name.len) {
        name.data = (u_char *) tbl_view_str(&ctx->table->view,
                                            p->affinity_cookie_name);
        name.len = p->affinity_cookie_name.len;

    } else {
        name = ngx_http_shmingress_affinity_default_name;
    }

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &name,
                                          &value)
        == NGX_DECLINED)
    {
        return NGX_DECLINED;
    }

    if (value.len != NGX_HTTP_SHMINGRESS_COOKIE_LEN || value.data[16] != '.'
        || ngx_http_shmingress_affinity_hex(value.data, key) != NGX_OK
        || ngx_http_shmingress_affinity_hex(value.data + 17, backend)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* 16 lower-case hex digits. */
static ngx_int_t
ngx_http_shmingress_affinity_hex(u_char *p, uint64_t *out)
{
    u_char      c;
    uint64_t    v;
    ngx_uint_t  i;

    v = 0;

    for (i = 0; i < 16; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            v = (v << 4) | (c - '0');

        } else if (c >= 'a' && c <= 'f') {
            v = (v << 4) | (c - 'a' + 10);

        } else {
            return NGX_ERROR;
        }
    }

    *out = v;

    return NGX_OK;
}


static uint64_t
ngx_http_shmingress_affinity_random(void)
{
    return ((uint64_t) ngx_random() << 33)
           ^ ((uint64_t) ngx_random() << 11)
           ^ (uint64_t) ngx_random();
}


/*
 * change-on-failure: a key that pins endpoint k.  A balanced key is
 * found by trying random keys; NGX_DECLINED keeps the old one.
 */
static ngx_int_t
ngx_http_shmingress_affinity_rekey(ngx_http_shmingress_ctx_t *ctx,
    ngx_uint_t k)
{
    uint64_t    key;
    ngx_uint_t  i;

    if (ctx->policy->affinity_mode == TBL_AFFINITY_PERSISTENT) {
        ctx->affinity_key = ngx_http_shmingress_endpoint_id(ctx, k);
        return NGX_OK;
    }

    for (i = 0; i < NGX_HTTP_SHMINGRESS_REKEY_TRIES; i++) {
        key = ngx_http_shmingress_affinity_random();

        if (ngx_http_shmingress_hash_pick(ctx, key) == k) {
            ctx->affinity_key = key;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_shmingress_affinity_header_filter(ngx_http_request_t *r)
{
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || !ctx->affinity || !ctx->affinity_tried) {
        return ngx_http_next_header_filter(r);
    }

    if ((ctx->policy->flags & TBL_POL_AFFINITY_CHANGE_ON_FAILURE)
        && ctx->affinity_last != ctx->affinity_pinned
        && ngx_http_shmingress_affinity_rekey(ctx, ctx->affinity_last)
           == NGX_OK)
    {
        ctx->affinity_pinned = ctx->affinity_last;
        ctx->affinity_set_cookie = 1;
    }

    if (ctx->affinity_set_cookie) {
        ctx->affinity_set_cookie = 0;

        if (ngx_http_shmingress_affinity_set_cookie(r, ctx) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return ngx_http_next_header_filter(r);
}


/*
 * Set-Cookie: NAME=KEY.BACKEND; Path=..; Domain=..; Expires=..;
 * Max-Age=..; SameSite=..; Secure; HttpOnly.  Every part is either
 * ours or checked by the controller (token name, path and domain
 * without separators, SameSite word).
 */
static ngx_int_t
ngx_http_shmingress_affinity_set_cookie(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx)
{
    u_char            *p;
    size_t             len;
    ngx_str_t          name, path, domain, samesite;
    ngx_uint_t         secure;
    ngx_table_elt_t   *h;
    const tbl_view    *v;
    const tbl_policy  *pol;

    pol = ctx->policy;
    v = &ctx->table->view;

    if (pol->affinity_cookie_name.len) {
        name.data = (u_char *) tbl_view_str(v, pol->affinity_cookie_name);
        name.len = pol->affinity_cookie_name.len;

    } else {
        name = ngx_http_shmingress_affinity_default_name;
    }

    if (pol->affinity_cookie_path.len) {
        path.data = (u_char *) tbl_view_str(v, pol->affinity_cookie_path);
        path.len = pol->affinity_cookie_path.len;

    } else {
        ngx_http_shmingress_affinity_path(ctx, &path);
    }

    domain.data = (u_char *) tbl_view_str(v, pol->affinity_cookie_domain);
    domain.len = pol->affinity_cookie_domain.len;
    samesite.data = (u_char *) tbl_view_str(v, pol->affinity_cookie_samesite);
    samesite.len = pol->affinity_cookie_samesite.len;

    secure = (pol->flags & TBL_POL_AFFINITY_SECURE) ? 1 : 0;
#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        secure = 1;
    }
#endif

    len = name.len + 1 + NGX_HTTP_SHMINGRESS_COOKIE_LEN
          + sizeof("; Path=") - 1 + path.len
          + sizeof("; Domain=") - 1 + domain.len
          + sizeof("; Expires=Thu, 01 Jan 1970 00:00:00 GMT") - 1
          + sizeof("; Max-Age=") - 1 + NGX_TIME_T_LEN
          + sizeof("; SameSite=") - 1 + samesite.len
          + sizeof("; Secure; HttpOnly") - 1;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Set-Cookie");
    h->value.data = p;

    p = ngx_sprintf(p, "%V=%016uxL.%016uxL; Path=%V", &name,
                    ctx->affinity_key, ctx->backend_id, &path);

    if (domain.len) {
        p = ngx_sprintf(p, "; Domain=%V", &domain);
    }

    if (pol->affinity_max_age) {
        p = ngx_cpymem(p, "; Expires=", sizeof("; Expires=") - 1);
        p = ngx_http_time(p, ngx_time() + pol->affinity_max_age);
        p = ngx_sprintf(p, "; Max-Age=%uD", pol->affinity_max_age);
    }

    if (samesite.len) {
        p = ngx_sprintf(p, "; SameSite=%V", &samesite);
    }

    if (secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    p = ngx_cpymem(p, "; HttpOnly", sizeof("; HttpOnly") - 1);

    h->value.len = p - h->value.data;

    return NGX_OK;
}


/*
 * Without session-cookie-path the cookie is scoped to the route's path,
 * as ingress-nginx scopes it to the location; a regex path or a default
 * backend has no such prefix, so the cookie is for "/".
 */
static void
ngx_http_shmingress_affinity_path(ngx_http_shmingress_ctx_t *ctx,
    ngx_str_t *path)
{
    if (ctx->path.len == 0 || ctx->path.data[0] != '/'
        || (ctx->path_type.len == sizeof("Regex") - 1
            && ngx_strncmp(ctx->path_type.data, "Regex", ctx->path_type.len)
               == 0))
    {
        ngx_str_set(path, "/");
        return;
    }

    *path = ctx->path;
}
