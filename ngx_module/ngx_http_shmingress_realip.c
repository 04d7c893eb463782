
/*
 * ngx_http_shmingress_realip.c -- the client address of a request, and
 * the ConfigMap's block-cidrs checked against it before routing.
 *
 * The table's CONFIG decides per request, so a ConfigMap change needs no
 * reload: when the peer is in proxy-real-ip-cidr, the client is the
 * PROXY protocol source address (on listeners with "proxy_protocol"),
 * or, with use-forwarded-headers or enable-real-ip, the forwarded-for
 * header's last address that is not itself a trusted peer (nginx's
 * real_ip_recursive, as ingress-nginx configures it).  Like nginx's
 * realip module, the address replaces c->sockaddr and c->addr_text for
 * the rest of the request -- source ranges, rate limits, $remote_addr
 * in logs, X-Real-IP -- and a pool cleanup puts the peer back.
 * $shmingress_forwarded_for is the X-Forwarded-For sent upstream.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_shmingress_module.h"


/* What the request replaced, for the cleanup to restore. */
typedef struct {
    ngx_connection_t  *connection;
    struct sockaddr   *sockaddr;
    socklen_t          socklen;
    ngx_str_t          addr_text;
} ngx_http_shmingress_realip_t;


static ngx_http_shmingress_realip_t *ngx_http_shmingress_realip_find(
    ngx_http_request_t *r);
static void ngx_http_shmingress_realip_cleanup(void *data);
static ngx_int_t ngx_http_shmingress_realip_trusted(const tbl_view *v,
    struct sockaddr *sa);
static ngx_int_t ngx_http_shmingress_realip_header(ngx_http_request_t *r,
    const tbl_view *v, ngx_addr_t *addr);
static ngx_int_t ngx_http_shmingress_realip_set(ngx_http_request_t *r,
    ngx_addr_t *addr);
static ngx_int_t ngx_http_shmingress_forwarded_for_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_shmingress_realip_vars[] = {

    { ngx_string("shmingress_forwarded_for"), NULL,
      ngx_http_shmingress_forwarded_for_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/* The client's address bytes (network order): 4, 6, or 0 for none. */
ngx_uint_t
ngx_http_shmingress_client_addr(struct sockaddr *sa, const uint8_t **addr)
{
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    switch (sa->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) sa;
        *addr = (const uint8_t *) &sin->sin_addr;
        return 4;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;
        *addr = sin6->sin6_addr.s6_addr;
        return 6;
#endif

    default:
        return 0;
    }
}


/*
 * Called by the route handler before the lookup: sets the client
 * address, then answers 403 for a blocked client (or for everyone when
 * a global source range did not parse).  NGX_DECLINED to go on.
 */
ngx_int_t
ngx_http_shmingress_realip(ngx_http_request_t *r, const tbl_view *v)
{
    ngx_int_t           rc;
    ngx_uint_t          family;
    ngx_addr_t          addr;
    const uint8_t      *bytes;
    ngx_connection_t   *c;
    const tbl_config   *cf;

    c = r->connection;
    cf = tbl_view_config(v);

    /* an internal redirect routes again with the address already set */

    if (ngx_http_shmingress_realip_find(r) == NULL
        && ngx_http_shmingress_realip_trusted(v, c->sockaddr))
    {
        rc = NGX_DECLINED;

        if (c->proxy_protocol) {
            if (ngx_parse_addr(r->pool, &addr,
                               c->proxy_protocol->src_addr.data,
                               c->proxy_protocol->src_addr.len)
                == NGX_OK)
            {
                rc = NGX_OK;
            }

        } else if (cf->flags & (TBL_CFG_USE_FORWARDED_HEADERS
                                |TBL_CFG_ENABLE_REAL_IP))
        {
            rc = ngx_http_shmingress_realip_header(r, v, &addr);
        }

        if (rc == NGX_OK && ngx_http_shmingress_realip_set(r, &addr) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (cf->flags & TBL_CFG_ACCESS_DENIED) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "shmingress: access forbidden: a source range of the "
                      "ConfigMap did not parse");
        return NGX_HTTP_FORBIDDEN;
    }

    family = ngx_http_shmingress_client_addr(c->sockaddr, &bytes);

    if (cf->block_count && family
        && tbl_cidr_match(v, cf->block_first, cf->block_count, bytes,
                          (int) family))
    {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "shmingress: client %V blocked by block-cidrs",
                      &c->addr_text);
        return NGX_HTTP_FORBIDDEN;
    }

    return NGX_DECLINED;
}


static ngx_http_shmingress_realip_t *
ngx_http_shmingress_realip_find(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_shmingress_realip_cleanup) {
            return cln->data;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_shmingress_realip_trusted(const tbl_view *v, struct sockaddr *sa)
{
    ngx_uint_t         family;
    const uint8_t     *bytes;
    const tbl_config  *cf;

    cf = tbl_view_config(v);
    family = ngx_http_shmingress_client_addr(sa, &bytes);

    return family && cf->real_ip_count
           && tbl_cidr_match(v, cf->real_ip_first, cf->real_ip_count, bytes,
                             (int) family);
}


/*
 * The forwarded-for header walked from its end: each address a trusted
 * peer added is followed to the one before it.  The first header of
 * that name counts.  NGX_OK with the client in *addr, or NGX_DECLINED
 * when the last address does not parse or there is no header.
 */
static ngx_int_t
ngx_http_shmingress_realip_header(ngx_http_request_t *r, const tbl_view *v,
    ngx_addr_t *addr)
{
    u_char            *start, *end, *p;
    ngx_addr_t         cand;
    ngx_uint_t         found;
    const char        *name;
    ngx_table_elt_t   *h;
    const tbl_config  *cf;

    cf = tbl_view_config(v);

    if (cf->forwarded_for_header.len) {
        name = tbl_view_str(v, cf->forwarded_for_header);
        h = ngx_http_shmingress_find_header(r, name,
                                            cf->forwarded_for_header.len);

    } else {
        h = ngx_http_shmingress_find_header(r, "X-Forwarded-For",
                                            sizeof("X-Forwarded-For") - 1);
    }

    if (h == NULL) {
        return NGX_DECLINED;
    }

    start = h->value.data;
    end = start + h->value.len;
    found = 0;

    for ( ;; ) {
        while (end > start && (end[-1] == ' ' || end[-1] == ',')) {
            end--;
        }

        if (end == start) {
            break;
        }

        for (p = end; p > start && p[-1] != ' ' && p[-1] != ','; p--) {
            /* void */
        }

        if (ngx_parse_addr_port(r->pool, &cand, p, end - p) != NGX_OK) {
            break;
        }

        *addr = cand;
        found = 1;

        if (!ngx_http_shmingress_realip_trusted(v, cand.sockaddr)) {
            break;
        }

        end = p;
    }

    return found ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_shmingress_realip_set(ngx_http_request_t *r, ngx_addr_t *addr)
{
    size_t                         len;
    u_char                        *p;
    u_char                         text[NGX_SOCKADDR_STRLEN];
    ngx_connection_t              *c;
    ngx_pool_cleanup_t            *cln;
    ngx_http_shmingress_realip_t  *rip;

    c = r->connection;

    len = ngx_sock_ntop(addr->sockaddr, addr->socklen, text,
                        NGX_SOCKADDR_STRLEN, 0);
    if (len == 0) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, text, len);

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_shmingress_realip_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    rip = cln->data;
    rip->connection = c;
    rip->sockaddr = c->sockaddr;
    rip->socklen = c->socklen;
    rip->addr_text = c->addr_text;

    cln->handler = ngx_http_shmingress_realip_cleanup;

    c->sockaddr = addr->sockaddr;
    c->socklen = addr->socklen;
    c->addr_text.len = len;
    c->addr_text.data = p;

    return NGX_OK;
}


static void
ngx_http_shmingress_realip_cleanup(void *data)
{
    ngx_http_shmingress_realip_t  *rip = data;

    rip->connection->sockaddr = rip->sockaddr;
    rip->connection->socklen = rip->socklen;
    rip->connection->addr_text = rip->addr_text;
}


/*
 * $shmingress_forwarded_for: the client address, or with
 * use-forwarded-headers and compute-full-forwarded-for the received
 * X-Forwarded-For with the peer (or PROXY protocol source) appended.
 */
static ngx_int_t
ngx_http_shmingress_forwarded_for_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                        *p;
    ngx_str_t                      peer;
    ngx_table_elt_t               *h;
    ngx_connection_t              *c;
    const tbl_config              *cf;
    ngx_http_shmingress_ctx_t     *ctx;
    ngx_http_shmingress_realip_t  *rip;

    c = r->connection;

    ngx_http_shmingress_variable_set(v, c->addr_text.data,
                                     c->addr_text.len);

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || ctx->table == NULL) {
        return NGX_OK;
    }

    cf = tbl_view_config(&ctx->table->view);

    if ((cf->flags & (TBL_CFG_USE_FORWARDED_HEADERS
                      |TBL_CFG_COMPUTE_FULL_FORWARDED_FOR))
        != (TBL_CFG_USE_FORWARDED_HEADERS|TBL_CFG_COMPUTE_FULL_FORWARDED_FOR))
    {
        return NGX_OK;
    }

    if (c->proxy_protocol) {
        peer = c->proxy_protocol->src_addr;

    } else {
        rip = ngx_http_shmingress_realip_find(r);
        peer = rip ? rip->addr_text : c->addr_text;
    }

    h = ngx_http_shmingress_find_header(r, "X-Forwarded-For",
                                        sizeof("X-Forwarded-For") - 1);

    if (h == NULL || h->value.len == 0) {
        v->len = peer.len;
        v->data = peer.data;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, h->value.len + 2 + peer.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;
    p = ngx_cpymem(p, h->value.data, h->value.len);
    *p++ = ',';
    *p++ = ' ';
    p = ngx_cpymem(p, peer.data, peer.len);
    v->len = p - v->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_shmingress_realip_add_variables(ngx_conf_t *cf)
{
    return ngx_http_shmingress_register_variables(cf,
               ngx_http_shmingress_realip_vars);
}
