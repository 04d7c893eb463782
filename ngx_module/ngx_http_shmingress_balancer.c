
/*
 * ngx_http_shmingress_balancer.c -- "shmingress_balancer": endpoint choice.
 *
 * An upstream block with shmingress_balancer takes its peers from the
 * request's routing decision (copied out of the table by the REWRITE
 * handler) instead of "server" lines.  Selection is round robin over the
 * backend's ready endpoints, starting from a per-worker position kept by
 * backend id, so it survives table swaps; an endpoint is tried at most
 * once per request, and nginx's proxy_next_upstream decides whether to
 * try the next.  "keepalive" placed after this directive wraps it like
 * any balancer.  Passive health and weights are not handled here.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_shmingress_module.h"


#define NGX_HTTP_SHMINGRESS_RR_MIN  256
#define NGX_HTTP_SHMINGRESS_RR_MAX  65536


typedef struct {
    uint64_t                        id;
    uint32_t                        next;
    uint32_t                        used;
} ngx_http_shmingress_rr_slot_t;


typedef struct {
    ngx_http_shmingress_ctx_t      *ctx;
    ngx_pool_t                     *pool;
    ngx_uint_t                      start;
    ngx_uint_t                      current;
    uintptr_t                      *tried;
    uintptr_t                       data;
} ngx_http_shmingress_peer_data_t;


typedef struct {
    ngx_sockaddr_t                  sockaddr;
    socklen_t                       socklen;
    ngx_str_t                       name;
    u_char                          text[NGX_SOCKADDR_STRLEN];
} ngx_http_shmingress_peer_t;


static ngx_int_t ngx_http_shmingress_init_upstream(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_http_shmingress_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_http_shmingress_get_peer(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_shmingress_free_peer(ngx_peer_connection_t *pc,
    void *data, ngx_uint_t state);
static ngx_http_shmingress_peer_t *ngx_http_shmingress_make_peer(
    ngx_pool_t *pool, const tbl_endpoint *ep);
static ngx_uint_t ngx_http_shmingress_rr_next(uint64_t id, ngx_log_t *log);
static ngx_http_shmingress_rr_slot_t *ngx_http_shmingress_rr_find(
    ngx_http_shmingress_rr_slot_t *slots, ngx_uint_t cap, uint64_t id);
static ngx_int_t ngx_http_shmingress_rr_grow(ngx_log_t *log);


/* marks the placeholder "server" that nginx requires in every upstream */
static ngx_str_t  ngx_http_shmingress_placeholder =
    ngx_string("shmingress_balancer");

/* per-worker round-robin positions, keyed by backend id */
static ngx_http_shmingress_rr_slot_t  *ngx_http_shmingress_rr;
static ngx_uint_t                      ngx_http_shmingress_rr_cap;
static ngx_uint_t                      ngx_http_shmingress_rr_count;


#define ngx_http_shmingress_tried(pd, k)                                      \
    ((pd)->tried[(k) / (8 * sizeof(uintptr_t))]                               \
     & ((uintptr_t) 1 << ((k) % (8 * sizeof(uintptr_t)))))


char *
ngx_http_shmingress_balancer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_upstream_server_t    *us;
    ngx_http_upstream_srv_conf_t  *uscf;

    uscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_upstream_module);

    if (uscf->peer.init_upstream) {
        return "must come first in the upstream block, before \"keepalive\" "
               "and instead of any other balancing method";
    }

    uscf->flags = NGX_HTTP_UPSTREAM_CREATE;
    uscf->peer.init_upstream = ngx_http_shmingress_init_upstream;

    /* nginx refuses an upstream without servers; this one is never used */

    us = ngx_array_push(uscf->servers);
    if (us == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(us, sizeof(ngx_http_upstream_server_t));
    us->name = ngx_http_shmingress_placeholder;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_shmingress_init_upstream(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_uint_t                   i;
    ngx_http_upstream_server_t  *server;

    server = us->servers->elts;

    for (i = 0; i < us->servers->nelts; i++) {
        if (server[i].name.data != ngx_http_shmingress_placeholder.data) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "upstream \"%V\" has \"shmingress_balancer\", "
                          "which takes endpoints from the route table: "
                          "remove \"server %V\"", &us->host, &server[i].name);
            return NGX_ERROR;
        }
    }

    us->peer.init = ngx_http_shmingress_init_peer;

    return NGX_OK;
}


static ngx_int_t
ngx_http_shmingress_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_uint_t                        n, words;
    ngx_http_shmingress_ctx_t        *ctx;
    ngx_http_shmingress_peer_data_t  *pd;

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || ctx->nendpoints == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "shmingress: upstream \"%V\" used by a request that "
                      "was not routed; the location needs "
                      "\"shmingress_route\"", &us->host);
        return NGX_ERROR;
    }

    pd = ngx_palloc(r->pool, sizeof(ngx_http_shmingress_peer_data_t));
    if (pd == NULL) {
        return NGX_ERROR;
    }

    n = ctx->nendpoints;

    pd->ctx = ctx;
    pd->pool = r->pool;
    pd->start = ngx_http_shmingress_rr_next(ctx->backend_id,
                                            r->connection->log) % n;
    pd->current = n;
    pd->data = 0;

    if (n <= 8 * sizeof(uintptr_t)) {
        pd->tried = &pd->data;

    } else {
        words = (n + 8 * sizeof(uintptr_t) - 1) / (8 * sizeof(uintptr_t));

        pd->tried = ngx_pcalloc(r->pool, words * sizeof(uintptr_t));
        if (pd->tried == NULL) {
            return NGX_ERROR;
        }
    }

    r->upstream->peer.data = pd;
    r->upstream->peer.get = ngx_http_shmingress_get_peer;
    r->upstream->peer.free = ngx_http_shmingress_free_peer;
    r->upstream->peer.tries = n;

    return ngx_http_shmingress_upstream_apply(r, ctx);
}


/* The first endpoint not tried yet, from this request's start position. */
static ngx_int_t
ngx_http_shmingress_get_peer(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_shmingress_peer_data_t  *pd = data;

    ngx_uint_t                   i, k, n;
    ngx_http_shmingress_peer_t  *peer;

    pc->cached = 0;
    pc->connection = NULL;

    n = pd->ctx->nendpoints;

    for (i = 0; i < n; i++) {
        k = (pd->start + i) % n;

        if (!ngx_http_shmingress_tried(pd, k)) {
            goto found;
        }
    }

    pc->name = &pd->ctx->upstream_name;

    return NGX_BUSY;

found:

    peer = ngx_http_shmingress_make_peer(pd->pool, &pd->ctx->endpoints[k]);
    if (peer == NULL) {
        return NGX_ERROR;
    }

    pc->sockaddr = &peer->sockaddr.sockaddr;
    pc->socklen = peer->socklen;
    pc->name = &peer->name;

    pd->current = k;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                   "shmingress peer %ui: %V", k, pc->name);

    return NGX_OK;
}


static void
ngx_http_shmingress_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_http_shmingress_peer_data_t  *pd = data;

    ngx_uint_t  k;

    k = pd->current;

    if (k == pd->ctx->nendpoints) {
        return;
    }

    pd->current = pd->ctx->nendpoints;

    /*
     * A failed idle keepalive connection says nothing about the endpoint:
     * nginx gives the try back and a fresh connection should reach it.
     */

    if (!(pc->cached && (state & NGX_PEER_FAILED))) {
        pd->tried[k / (8 * sizeof(uintptr_t))]
            |= (uintptr_t) 1 << (k % (8 * sizeof(uintptr_t)));
    }

    if (pc->tries) {
        pc->tries--;
    }
}


/*
 * A fresh sockaddr and name per attempt: $upstream_addr keeps pointing
 * at every attempt's name, and keepalive compares sockaddrs bytewise, so
 * the padding must be zero.
 */
static ngx_http_shmingress_peer_t *
ngx_http_shmingress_make_peer(ngx_pool_t *pool, const tbl_endpoint *ep)
{
    struct sockaddr_in          *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6         *sin6;
#endif
    ngx_http_shmingress_peer_t  *peer;

    peer = ngx_pcalloc(pool, sizeof(ngx_http_shmingress_peer_t));
    if (peer == NULL) {
        return NULL;
    }

#if (NGX_HAVE_INET6)
    if (ep->family == 6) {
        sin6 = &peer->sockaddr.sockaddr_in6;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(ep->port);
        ngx_memcpy(&sin6->sin6_addr, ep->addr, 16);
        peer->socklen = sizeof(struct sockaddr_in6);

    } else
#endif
    {
        sin = &peer->sockaddr.sockaddr_in;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(ep->port);
        ngx_memcpy(&sin->sin_addr, ep->addr, 4);
        peer->socklen = sizeof(struct sockaddr_in);
    }

    peer->name.data = peer->text;
    peer->name.len = ngx_sock_ntop(&peer->sockaddr.sockaddr, peer->socklen,
                                   peer->text, NGX_SOCKADDR_STRLEN, 1);

    return peer;
}


/*
 * Returns and advances a backend's round-robin position.  New backends
 * start at a random position so that workers do not all begin with the
 * same endpoint.
 */
static ngx_uint_t
ngx_http_shmingress_rr_next(uint64_t id, ngx_log_t *log)
{
    ngx_http_shmingress_rr_slot_t  *slot;

    if (ngx_http_shmingress_rr_count >= ngx_http_shmingress_rr_cap / 2
        && ngx_http_shmingress_rr_grow(log) != NGX_OK)
    {
        return (ngx_uint_t) ngx_random();
    }

    slot = ngx_http_shmingress_rr_find(ngx_http_shmingress_rr,
                                       ngx_http_shmingress_rr_cap, id);

    if (!slot->used) {
        slot->used = 1;
        slot->id = id;
        slot->next = (uint32_t) ngx_random();
        ngx_http_shmingress_rr_count++;
    }

    return slot->next++;
}


/* The slot holding id, or the empty slot where it belongs. */
static ngx_http_shmingress_rr_slot_t *
ngx_http_shmingress_rr_find(ngx_http_shmingress_rr_slot_t *slots,
    ngx_uint_t cap, uint64_t id)
{
    ngx_uint_t  i;

    /* backend ids are already hashes */

    for (i = id & (cap - 1); /* void */; i = (i + 1) & (cap - 1)) {
        if (!slots[i].used || slots[i].id == id) {
            return &slots[i];
        }
    }
}


/*
 * Doubles the position map; at its maximum size it starts over instead,
 * which only resets positions of backends that are mostly long gone.
 */
static ngx_int_t
ngx_http_shmingress_rr_grow(ngx_log_t *log)
{
    ngx_uint_t                      i, cap;
    ngx_http_shmingress_rr_slot_t  *slots, *slot;

    if (ngx_http_shmingress_rr_cap == NGX_HTTP_SHMINGRESS_RR_MAX) {
        ngx_memzero(ngx_http_shmingress_rr,
                    ngx_http_shmingress_rr_cap
                    * sizeof(ngx_http_shmingress_rr_slot_t));
        ngx_http_shmingress_rr_count = 0;
        return NGX_OK;
    }

    cap = ngx_http_shmingress_rr_cap ? 2 * ngx_http_shmingress_rr_cap
                                     : NGX_HTTP_SHMINGRESS_RR_MIN;

    slots = ngx_calloc(cap * sizeof(ngx_http_shmingress_rr_slot_t), log);
    if (slots == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < ngx_http_shmingress_rr_cap; i++) {
        if (ngx_http_shmingress_rr[i].used) {
            slot = ngx_http_shmingress_rr_find(slots, cap,
                                               ngx_http_shmingress_rr[i].id);
            *slot = ngx_http_shmingress_rr[i];
        }
    }

    if (ngx_http_shmingress_rr) {
        ngx_free(ngx_http_shmingress_rr);
    }

    ngx_http_shmingress_rr = slots;
    ngx_http_shmingress_rr_cap = cap;

    return NGX_OK;
}


void
ngx_http_shmingress_balancer_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_shmingress_rr) {
        ngx_free(ngx_http_shmingress_rr);
        ngx_http_shmingress_rr = NULL;
    }

    ngx_http_shmingress_rr_cap = 0;
    ngx_http_shmingress_rr_count = 0;
}
