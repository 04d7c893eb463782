
/*
 * ngx_http_shmingress_extauth.c -- external authentication (auth-url).
 *
 * In the ACCESS phase, after the source ranges, a route whose policy has
 * auth_type EXTERNAL sends a subrequest without body to the internal
 * location /_shmingress_auth of the configuration template, which
 * proxies it to $shmingress_auth_url with the headers ingress-nginx
 * sends (as nginx's auth_request module does).  The answer decides:
 * 2xx lets the request through, with the policy's auth-response-headers
 * copied from the answer into the request sent upstream (a client's own
 * headers of those names are dropped); 401 answers 401 (WWW-Authenticate
 * copied), or 302 to the auth-signin URL when there is one; 403 answers
 * 403; anything else, the service unreachable, or a template without
 * the auth location, answers 500.  Set-Cookie headers of the answer are
 * added to the response the client gets when its status is one nginx's
 * add_header uses (2xx, 3xx), or to every response with
 * auth-always-set-cookie.
 *
 * The URLs may hold a few variables ($host, $escaped_request_uri, ...:
 * the controller allows exactly those of ngx_http_shmingress_extauth_vars
 * and nothing else is evaluated).  Which routes need auth is the
 * controller's decision; this file asks and obeys.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_shmingress_module.h"


struct ngx_http_shmingress_extauth_s {
    ngx_uint_t                  done;
    ngx_uint_t                  status;
    ngx_int_t                   rc;          /* the subrequest's finalize */
    unsigned                    asked:1;     /* the auth location ran */
    ngx_http_request_t         *subrequest;
    ngx_array_t                *cookies;     /* ngx_table_elt_t copies */
};


typedef struct {
    ngx_str_t                   name;        /* as written in the table */
    ngx_str_t                   variable;    /* nginx variable it reads */
    ngx_str_t                   fallback;    /* when that one is empty */
    ngx_uint_t                  escape;
} ngx_http_shmingress_extauth_var_t;


static ngx_int_t ngx_http_shmingress_extauth_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_shmingress_extauth_start(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx);
static ngx_int_t ngx_http_shmingress_extauth_done(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static ngx_int_t ngx_http_shmingress_extauth_result(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, ngx_http_shmingress_extauth_t *a);
static ngx_int_t ngx_http_shmingress_extauth_copy_headers(
    ngx_http_request_t *r, ngx_http_request_t *sr, ngx_str_t *names);
static ngx_int_t ngx_http_shmingress_extauth_keep_cookies(
    ngx_http_request_t *r, ngx_http_shmingress_extauth_t *a);
static ngx_int_t ngx_http_shmingress_extauth_unauthorized(
    ngx_http_request_t *r, ngx_http_shmingress_ctx_t *ctx,
    ngx_http_shmingress_extauth_t *a);
static ngx_int_t ngx_http_shmingress_extauth_header_filter(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_shmingress_extauth_expand(ngx_http_request_t *r,
    ngx_str_t *tmpl, ngx_str_t *out);
static ngx_int_t ngx_http_shmingress_extauth_value(ngx_http_request_t *r,
    ngx_http_shmingress_extauth_var_t *var, ngx_str_t *value);
static ngx_http_shmingress_ctx_t *ngx_http_shmingress_extauth_main_ctx(
    ngx_http_request_t *r);
static ngx_uint_t ngx_http_shmingress_extauth_wanted(
    ngx_http_shmingress_ctx_t *ctx);
static ngx_int_t ngx_http_shmingress_extauth_policy_value(
    ngx_http_request_t *r, ngx_http_shmingress_ctx_t *ctx, tbl_str s,
    ngx_str_t *value);
static ngx_int_t ngx_http_shmingress_extauth_url_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_shmingress_extauth_method_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_shmingress_extauth_redirect_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_shmingress_extauth_request_id_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


static ngx_str_t  ngx_http_shmingress_extauth_uri =
    ngx_string("/_shmingress_auth");


static ngx_http_shmingress_extauth_var_t  ngx_http_shmingress_extauth_vars[] = {
    { ngx_string("$escaped_request_uri"), ngx_string("request_uri"),
      ngx_null_string, 1 },
    { ngx_string("$request_uri"), ngx_string("request_uri"),
      ngx_null_string, 0 },
    { ngx_string("$best_http_host"), ngx_string("http_host"),
      ngx_string("host"), 0 },
    { ngx_string("$http_host"), ngx_string("http_host"),
      ngx_string("host"), 0 },
    { ngx_string("$host"), ngx_string("host"), ngx_null_string, 0 },
    { ngx_string("$pass_access_scheme"), ngx_string("scheme"),
      ngx_null_string, 0 },
    { ngx_string("$scheme"), ngx_string("scheme"), ngx_null_string, 0 },
    { ngx_null_string, ngx_null_string, ngx_null_string, 0 }
};


static ngx_http_variable_t  ngx_http_shmingress_extauth_variables[] = {

    { ngx_string("shmingress_auth_url"), NULL,
      ngx_http_shmingress_extauth_url_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("shmingress_auth_method"), NULL,
      ngx_http_shmingress_extauth_method_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("shmingress_auth_request_redirect"), NULL,
      ngx_http_shmingress_extauth_redirect_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("shmingress_main_request_id"), NULL,
      ngx_http_shmingress_extauth_request_id_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


ngx_int_t
ngx_http_shmingress_extauth_add_variables(ngx_conf_t *cf)
{
    return ngx_http_shmingress_register_variables(cf,
                                     ngx_http_shmingress_extauth_variables);
}


/* Call before the source ranges' init: the phase runs its handlers in
 * the reverse order of registration, and auth comes after the ranges. */
ngx_int_t
ngx_http_shmingress_extauth_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_shmingress_extauth_handler;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_shmingress_extauth_header_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_shmingress_extauth_handler(ngx_http_request_t *r)
{
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_shmingress_get_ctx(r);

    if (!ngx_http_shmingress_extauth_wanted(ctx)) {
        return NGX_DECLINED;
    }

    if (ctx->extauth == NULL) {
        return ngx_http_shmingress_extauth_start(r, ctx);
    }

    if (!ctx->extauth->done) {
        return NGX_AGAIN;
    }

    return ngx_http_shmingress_extauth_result(r, ctx, ctx->extauth);
}


static ngx_int_t
ngx_http_shmingress_extauth_start(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx)
{
    ngx_http_request_t           *sr;
    ngx_http_post_subrequest_t   *ps;
    ngx_http_shmingress_extauth_t   *a;

    if (ctx->policy->auth_url.len == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "route of ingress %V/%V has external auth without "
                      "an auth URL: denied", &ctx->ingress_namespace,
                      &ctx->ingress_name);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    a = ngx_pcalloc(r->pool, sizeof(ngx_http_shmingress_extauth_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_http_shmingress_extauth_done;
    ps->data = a;

    if (ngx_http_subrequest(r, &ngx_http_shmingress_extauth_uri, NULL, &sr,
                            ps, NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * a fake request body: the subrequest never reads the client's, and
     * a body file already read stays open for the main request
     */

    sr->request_body = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    if (sr->request_body == NULL) {
        return NGX_ERROR;
    }

    sr->header_only = 1;

    a->subrequest = sr;
    ctx->extauth = a;

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_shmingress_extauth_done(ngx_http_request_t *r, void *data,
    ngx_int_t rc)
{
    ngx_http_shmingress_extauth_t  *a = data;

    a->done = 1;
    a->status = r->headers_out.status;
    a->rc = rc;

    return rc;
}


static ngx_int_t
ngx_http_shmingress_extauth_result(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, ngx_http_shmingress_extauth_t *a)
{
    ngx_str_t          names;
    const tbl_policy  *pol;

    pol = ctx->policy;

    if (!a->asked) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "external auth of ingress %V/%V: the configuration "
                      "has no \"location = %V\" proxying to "
                      "$shmingress_auth_url: denied",
                      &ctx->ingress_namespace, &ctx->ingress_name,
                      &ngx_http_shmingress_extauth_uri);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_shmingress_extauth_keep_cookies(r, a) != NGX_OK) {
        return NGX_ERROR;
    }

    if (a->status >= NGX_HTTP_OK && a->status < NGX_HTTP_SPECIAL_RESPONSE) {
        names.data = (u_char *) tbl_view_str(&ctx->table->view,
                                             pol->auth_response_headers);
        names.len = pol->auth_response_headers.len;

        if (names.len
            && ngx_http_shmingress_extauth_copy_headers(r, a->subrequest,
                                                        &names)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (a->status == NGX_HTTP_UNAUTHORIZED) {
        return ngx_http_shmingress_extauth_unauthorized(r, ctx, a);
    }

    if (a->status == NGX_HTTP_FORBIDDEN) {
        return NGX_HTTP_FORBIDDEN;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "external auth of ingress %V/%V failed: status %ui "
                  "(subrequest %i): denied with 500",
                  &ctx->ingress_namespace, &ctx->ingress_name, a->status,
                  a->rc);

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/* Is h's name one of the comma-separated names? */
static ngx_uint_t
ngx_http_shmingress_extauth_listed(ngx_table_elt_t *h, ngx_str_t *names)
{
    u_char  *p, *last, *comma;

    p = names->data;
    last = names->data + names->len;

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        if ((size_t) (comma - p) == h->key.len
            && ngx_strncasecmp(p, h->key.data, h->key.len) == 0)
        {
            return 1;
        }

        p = comma + 1;
    }

    return 0;
}


/*
 * The request headers become: the client's, minus every header the
 * policy lists, plus those the auth answer has.  nginx lists cannot drop
 * an element, so the list is rebuilt; pointers in r->headers_in still
 * point at the old elements, which stay in the pool.
 */
static ngx_int_t
ngx_http_shmingress_extauth_copy_headers(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_str_t *names)
{
    ngx_uint_t        i, pass;
    ngx_list_t        list;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *nh;

    if (ngx_list_init(&list, r->pool, 20, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (pass = 0; pass < 2; pass++) {
        part = pass ? &sr->headers_out.headers.part
                    : &r->headers_in.headers.part;
        h = part->elts;

        for (i = 0; /* void */ ; i++) {

            if (i >= part->nelts) {
                if (part->next == NULL) {
                    break;
                }

                part = part->next;
                h = part->elts;
                i = 0;
            }

            /* the client's unlisted headers, the answer's listed ones */

            if (h[i].hash == 0
                || ngx_http_shmingress_extauth_listed(&h[i], names) != pass)
            {
                continue;
            }

            nh = ngx_list_push(&list);
            if (nh == NULL) {
                return NGX_ERROR;
            }

            *nh = h[i];

            if (pass == 1) {
                nh->lowcase_key = ngx_pnalloc(r->pool, h[i].key.len);
                if (nh->lowcase_key == NULL) {
                    return NGX_ERROR;
                }

                nh->hash = ngx_hash_strlow(nh->lowcase_key, h[i].key.data,
                                           h[i].key.len);
            }
        }
    }

    r->headers_in.headers = list;

    /* a list of one part points at its own first part */

    if (list.last == &list.part) {
        r->headers_in.headers.last = &r->headers_in.headers.part;
    }

    return NGX_OK;
}


/* The answer's Set-Cookie headers, for the header filter. */
static ngx_int_t
ngx_http_shmingress_extauth_keep_cookies(ngx_http_request_t *r,
    ngx_http_shmingress_extauth_t *a)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *c;

    part = &a->subrequest->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NGX_OK;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0
            || h[i].key.len != sizeof("Set-Cookie") - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) "Set-Cookie",
                               sizeof("Set-Cookie") - 1) != 0)
        {
            continue;
        }

        if (a->cookies == NULL) {
            a->cookies = ngx_array_create(r->pool, 2,
                                          sizeof(ngx_table_elt_t));
            if (a->cookies == NULL) {
                return NGX_ERROR;
            }
        }

        c = ngx_array_push(a->cookies);
        if (c == NULL) {
            return NGX_ERROR;
        }

        *c = h[i];
    }
}


/* 401: a redirect to the signin URL, or the answer's challenge. */
static ngx_int_t
ngx_http_shmingress_extauth_unauthorized(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, ngx_http_shmingress_extauth_t *a)
{
    ngx_str_t          url;
    ngx_table_elt_t   *h, *from;
    const tbl_policy  *pol;

    pol = ctx->policy;

    if (pol->auth_signin.len == 0) {
        from = a->subrequest->headers_out.www_authenticate;

        if (from == NULL && a->subrequest->upstream) {
            from = a->subrequest->upstream->headers_in.www_authenticate;
        }

        if (from) {
            h = ngx_list_push(&r->headers_out.headers);
            if (h == NULL) {
                return NGX_ERROR;
            }

            *h = *from;
            r->headers_out.www_authenticate = h;
        }

        return NGX_HTTP_UNAUTHORIZED;
    }

    if (ngx_http_shmingress_extauth_policy_value(r, ctx, pol->auth_signin,
                                                 &url)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_shmingress_redirect(r, NGX_HTTP_MOVED_TEMPORARILY, &url,
                                        0);
}


static ngx_int_t
ngx_http_shmingress_extauth_header_filter(ngx_http_request_t *r)
{
    ngx_uint_t                   i;
    ngx_table_elt_t             *c, *h;
    ngx_http_shmingress_ctx_t   *ctx;
    ngx_http_shmingress_extauth_t  *a;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || ctx->extauth == NULL || ctx->extauth->cookies == NULL
        || ctx->policy == NULL)
    {
        return ngx_http_next_header_filter(r);
    }

    a = ctx->extauth;

    if (!(ctx->policy->flags & TBL_POL_AUTH_ALWAYS_SET_COOKIE)) {

        switch (r->headers_out.status) {

        case NGX_HTTP_OK:
        case NGX_HTTP_CREATED:
        case NGX_HTTP_NO_CONTENT:
        case NGX_HTTP_PARTIAL_CONTENT:
        case NGX_HTTP_MOVED_PERMANENTLY:
        case NGX_HTTP_MOVED_TEMPORARILY:
        case NGX_HTTP_SEE_OTHER:
        case NGX_HTTP_NOT_MODIFIED:
        case NGX_HTTP_TEMPORARY_REDIRECT:
        case NGX_HTTP_PERMANENT_REDIRECT:
            break;

        default:
            return ngx_http_next_header_filter(r);
        }
    }

    c = a->cookies->elts;

    for (i = 0; i < a->cookies->nelts; i++) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        *h = c[i];
    }

    /* once: an error page after this pass must not add them again */
    a->cookies = NULL;

    return ngx_http_next_header_filter(r);
}


/* The template with its variables replaced, read from the main request. */
static ngx_int_t
ngx_http_shmingress_extauth_expand(ngx_http_request_t *r, ngx_str_t *tmpl,
    ngx_str_t *out)
{
    u_char                             *p, *last, *dst;
    size_t                              len;
    ngx_str_t                           value;
    ngx_uint_t                          pass;
    ngx_http_shmingress_extauth_var_t  *var;

    r = r->main;
    len = 0;
    dst = NULL;

    for (pass = 0; pass < 2; pass++) {
        p = tmpl->data;
        last = tmpl->data + tmpl->len;

        while (p < last) {
            if (*p != '$') {
                if (pass) {
                    *dst++ = *p;
                } else {
                    len++;
                }

                p++;
                continue;
            }

            for (var = ngx_http_shmingress_extauth_vars; var->name.len; var++)
            {
                if ((size_t) (last - p) >= var->name.len
                    && ngx_strncmp(p, var->name.data, var->name.len) == 0)
                {
                    break;
                }
            }

            if (var->name.len == 0) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "external auth: unknown variable in \"%V\"",
                              tmpl);
                return NGX_ERROR;
            }

            if (ngx_http_shmingress_extauth_value(r, var, &value) != NGX_OK) {
                return NGX_ERROR;
            }

            if (pass == 0) {
                len += value.len;

                if (var->escape) {
                    len += 2 * ngx_escape_uri(NULL, value.data, value.len,
                                              NGX_ESCAPE_URI_COMPONENT);
                }

            } else if (var->escape) {
                dst = (u_char *) ngx_escape_uri(dst, value.data, value.len,
                                                NGX_ESCAPE_URI_COMPONENT);

            } else {
                dst = ngx_cpymem(dst, value.data, value.len);
            }

            p += var->name.len;
        }

        if (pass == 0) {
            out->data = ngx_pnalloc(r->pool, len);
            if (out->data == NULL) {
                return NGX_ERROR;
            }

            dst = out->data;
        }
    }

    out->len = dst - out->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_shmingress_extauth_value(ngx_http_request_t *r,
    ngx_http_shmingress_extauth_var_t *var, ngx_str_t *value)
{
    ngx_str_t                  *name;
    ngx_http_variable_value_t  *vv;

    name = &var->variable;

    vv = ngx_http_get_variable(r, name, ngx_hash_key(name->data, name->len));

    if ((vv == NULL || vv->not_found || vv->len == 0) && var->fallback.len) {
        name = &var->fallback;
        vv = ngx_http_get_variable(r, name,
                                   ngx_hash_key(name->data, name->len));
    }

    if (vv == NULL) {
        return NGX_ERROR;
    }

    value->data = vv->data;
    value->len = vv->not_found ? 0 : vv->len;

    return NGX_OK;
}


/* The main request's decision when its route has external auth, or
 * NULL (the variables are then empty). */
static ngx_http_shmingress_ctx_t *
ngx_http_shmingress_extauth_main_ctx(ngx_http_request_t *r)
{
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_shmingress_get_ctx(r->main);

    return ngx_http_shmingress_extauth_wanted(ctx) ? ctx : NULL;
}


/* Whether the decision's route has external auth. */
static ngx_uint_t
ngx_http_shmingress_extauth_wanted(ngx_http_shmingress_ctx_t *ctx)
{
    return ctx != NULL && ctx->policy != NULL && ctx->table != NULL
           && ctx->policy->auth_type == TBL_AUTH_EXTERNAL;
}


/* A policy string with its variables expanded; "" when it is empty. */
static ngx_int_t
ngx_http_shmingress_extauth_policy_value(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, tbl_str s, ngx_str_t *value)
{
    ngx_str_t  tmpl;

    tmpl.data = (u_char *) tbl_view_str(&ctx->table->view, s);
    tmpl.len = s.len;

    return ngx_http_shmingress_extauth_expand(r, &tmpl, value);
}


static ngx_int_t
ngx_http_shmingress_extauth_url_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                   url;
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_shmingress_extauth_main_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (ngx_http_shmingress_extauth_policy_value(r, ctx,
                                                 ctx->policy->auth_url, &url)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* proof that the subrequest reached the auth location */

    if (ctx->extauth && r == ctx->extauth->subrequest) {
        ctx->extauth->asked = 1;
    }

    ngx_http_shmingress_variable_set(v, url.data, url.len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_shmingress_extauth_method_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                   method;
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_shmingress_extauth_main_ctx(r);

    if (ctx == NULL || ctx->policy->auth_method.len == 0) {
        ngx_str_set(&method, "GET");

    } else {
        method.data = (u_char *) tbl_view_str(&ctx->table->view,
                                              ctx->policy->auth_method);
        method.len = ctx->policy->auth_method.len;
    }

    ngx_http_shmingress_variable_set(v, method.data, method.len);

    return NGX_OK;
}


/* X-Auth-Request-Redirect: auth-request-redirect, or the request URI. */
static ngx_int_t
ngx_http_shmingress_extauth_redirect_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                   value;
    ngx_http_shmingress_ctx_t  *ctx;

    ctx = ngx_http_shmingress_extauth_main_ctx(r);

    if (ctx == NULL || ctx->policy->auth_request_redirect.len == 0) {
        value = r->main->unparsed_uri;

    } else if (ngx_http_shmingress_extauth_policy_value(r, ctx,
                   ctx->policy->auth_request_redirect, &value)
               != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_shmingress_variable_set(v, value.data, value.len);

    return NGX_OK;
}


/* $request_id of the main request: the auth service logs the id the
 * backend gets (a subrequest would have an id of its own). */
static ngx_int_t
ngx_http_shmingress_extauth_request_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                   name = ngx_string("request_id");
    ngx_http_variable_value_t  *id;

    id = ngx_http_get_variable(r->main, &name,
                               ngx_hash_key(name.data, name.len));
    if (id == NULL) {
        return NGX_ERROR;
    }

    *v = *id;

    return NGX_OK;
}
