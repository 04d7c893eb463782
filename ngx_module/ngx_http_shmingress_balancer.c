
/*
 * ngx_http_shmingress_balancer.c -- "shmingress_balancer": endpoint choice.
 *
 * An upstream block with shmingress_balancer takes its peers from the
 * request's routing decision (copied out of the table by the REWRITE
 * handler) instead of "server" lines.  The first endpoint of a request
 * is chosen by the route's method: cookie affinity (_affinity.c), a
 * consistent hash of upstream-hash-by, ewma, or round robin (the
 * default, and the ConfigMap's load-balance for routes without a
 * policy).  Later tries take the endpoints after it in table order; an
 * endpoint is tried at most once per request, and nginx's
 * proxy_next_upstream decides whether to try the next.  "keepalive"
 * placed after this directive wraps it like any balancer.
 *
 * Balancer state is per worker and keyed by stable ids, never by table
 * index, so table swaps keep it: round-robin positions by backend id,
 * ewma scores by endpoint id (a hash of backend id, address and port),
 * parsed upstream-hash-by texts by their hash.  Consistent hashing is
 * rendezvous hashing over endpoint ids: no ring to rebuild when
 * endpoints change, and removing an endpoint moves only its keys; the
 * subset variant picks at random among a key's three best endpoints.
 * Passive health and endpoint weights are not handled here.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_shmingress_module.h"


#define NGX_HTTP_SHMINGRESS_SLOTS_MIN  256
#define NGX_HTTP_SHMINGRESS_SLOTS_MAX  65536


/* ewma: scores decay towards 0 with this time constant, in ms */
#define NGX_HTTP_SHMINGRESS_EWMA_DECAY  10000

/* upstream-hash-by-subset: endpoints per key (ingress-nginx's default) */
#define NGX_HTTP_SHMINGRESS_SUBSET  3

/* upstream-hash-by: at most this many variables and texts */
#define NGX_HTTP_SHMINGRESS_EXPR_PARTS  32


/* One entry of a per-worker state map; each map uses its own fields. */
typedef struct {
    uint64_t                        id;
    ngx_uint_t                      used;
    uint32_t                        next;      /* round robin position */
    ngx_msec_t                      touched;   /* ewma: last update */
    double                          score;     /* ewma: decayed ms */
    void                           *data;      /* parsed hash-by text */
} ngx_http_shmingress_slot_t;


typedef struct {
    ngx_http_shmingress_slot_t     *slots;
    ngx_uint_t                      cap;
    ngx_uint_t                      count;
} ngx_http_shmingress_slots_t;


/* One literal text or variable of an upstream-hash-by text. */
typedef struct {
    ngx_str_t                       text;      /* variable name: lower */
    ngx_uint_t                      key;       /* name hash */
    ngx_uint_t                      variable;
} ngx_http_shmingress_expr_part_t;


typedef struct {
    ngx_str_t                       source;
    ngx_uint_t                      nparts;    /* 0: does not parse */
    ngx_http_shmingress_expr_part_t parts[NGX_HTTP_SHMINGRESS_EXPR_PARTS];
} ngx_http_shmingress_expr_t;


typedef struct {
    ngx_http_shmingress_ctx_t      *ctx;
    ngx_http_request_t             *request;
    ngx_pool_t                     *pool;
    ngx_uint_t                      start;
    ngx_uint_t                      current;
    ngx_uint_t                      ewma;      /* scores are updated */
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
static ngx_uint_t ngx_http_shmingress_first_peer(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, ngx_http_shmingress_peer_data_t *pd);
static ngx_uint_t ngx_http_shmingress_rr_next(uint64_t id, ngx_log_t *log);
static ngx_uint_t ngx_http_shmingress_ewma_pick(
    ngx_http_shmingress_ctx_t *ctx);
static double ngx_http_shmingress_ewma_score(uint64_t id);
static void ngx_http_shmingress_ewma_update(ngx_http_shmingress_ctx_t *ctx,
    ngx_uint_t k, ngx_msec_t rtt, ngx_log_t *log);
static ngx_msec_t ngx_http_shmingress_rtt(
    ngx_http_shmingress_peer_data_t *pd, ngx_uint_t state);
static double ngx_http_shmingress_decay(ngx_msec_t elapsed);
static ngx_int_t ngx_http_shmingress_hash_key(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, uint64_t *key);
static ngx_http_shmingress_expr_t *ngx_http_shmingress_expr_get(
    const char *text, size_t len, ngx_log_t *log);
static ngx_uint_t ngx_http_shmingress_expr_parse(
    ngx_http_shmingress_expr_t *expr);
static ngx_uint_t ngx_http_shmingress_subset_pick(
    ngx_http_shmingress_ctx_t *ctx, uint64_t key);
static uint64_t ngx_http_shmingress_mix(uint64_t x);
static ngx_http_shmingress_slot_t *ngx_http_shmingress_slot(
    ngx_http_shmingress_slots_t *map, uint64_t id, ngx_uint_t add,
    ngx_uint_t *created, ngx_log_t *log);
static ngx_http_shmingress_slot_t *ngx_http_shmingress_slot_find(
    ngx_http_shmingress_slot_t *slots, ngx_uint_t cap, uint64_t id);
static ngx_int_t ngx_http_shmingress_slots_grow(
    ngx_http_shmingress_slots_t *map, ngx_log_t *log);
static void ngx_http_shmingress_slots_free(ngx_http_shmingress_slots_t *map);


/* marks the placeholder "server" that nginx requires in every upstream */
static ngx_str_t  ngx_http_shmingress_placeholder =
    ngx_string("shmingress_balancer");

/* per-worker state: round-robin positions by backend id, ewma scores
 * by endpoint id, parsed upstream-hash-by texts by text hash */
static ngx_http_shmingress_slots_t  ngx_http_shmingress_rr;
static ngx_http_shmingress_slots_t  ngx_http_shmingress_ewma;
static ngx_http_shmingress_slots_t  ngx_http_shmingress_exprs;


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
    pd->request = r;
    pd->pool = r->pool;
    pd->current = n;
    pd->data = 0;
    pd->start = ngx_http_shmingress_first_peer(r, ctx, pd);

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

    /* the answer's endpoint, for change-on-failure */

    pd->ctx->affinity_tried = 1;
    pd->ctx->affinity_last = k;

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

        if (pd->ewma) {
            ngx_http_shmingress_ewma_update(pd->ctx, k,
                                            ngx_http_shmingress_rtt(pd,
                                                                    state),
                                            pc->log);
        }
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
 * The route's method picks the first endpoint; routes without a policy
 * use the ConfigMap's load-balance (CONFIG).
 */
static ngx_uint_t
ngx_http_shmingress_first_peer(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, ngx_http_shmingress_peer_data_t *pd)
{
    ngx_uint_t         lb;
    const tbl_policy  *p;

    p = ctx->policy;
    lb = p ? p->load_balance
           : tbl_view_config(&ctx->table->view)->load_balance;

    pd->ewma = (lb == TBL_LB_EWMA);

    if (p && p->affinity_mode != TBL_AFFINITY_NONE) {
        return ngx_http_shmingress_affinity_pick(r, ctx, lb);
    }

    return ngx_http_shmingress_balance_pick(r, ctx, lb);
}


/* An endpoint index by load-balance, without affinity. */
ngx_uint_t
ngx_http_shmingress_balance_pick(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, ngx_uint_t load_balance)
{
    uint64_t  key;

    switch (load_balance) {

    case TBL_LB_EWMA:
        return ngx_http_shmingress_ewma_pick(ctx);

    case TBL_LB_HASH:
        if (ngx_http_shmingress_hash_key(r, ctx, &key) == NGX_OK) {
            return ngx_http_shmingress_hash_pick(ctx, key);
        }

        /* a text that does not parse was logged; balance anyway */

        break;

    case TBL_LB_HASH_SUBSET:
        if (ngx_http_shmingress_hash_key(r, ctx, &key) == NGX_OK) {
            return ngx_http_shmingress_subset_pick(ctx, key);
        }

        /* a text that does not parse was logged; balance anyway */

        break;
    }

    return ngx_http_shmingress_rr_next(ctx->backend_id, r->connection->log)
           % ctx->nendpoints;
}


/* Stable across tables: the backend, the address and the port. */
uint64_t
ngx_http_shmingress_endpoint_id(ngx_http_shmingress_ctx_t *ctx, ngx_uint_t k)
{
    u_char         buf[19];
    tbl_endpoint  *ep;

    ep = &ctx->endpoints[k];

    ngx_memcpy(buf, ep->addr, 16);
    buf[16] = (u_char) (ep->port & 0xff);
    buf[17] = (u_char) (ep->port >> 8);
    buf[18] = ep->family;

    return tbl_hash64(buf, sizeof(buf), ctx->backend_id);
}


/*
 * Rendezvous hashing: the endpoint whose id mixed with the key scores
 * highest.  Only the keys of a removed endpoint move, and an added one
 * takes about 1/n of the keys from each of the others.
 */
ngx_uint_t
ngx_http_shmingress_hash_pick(ngx_http_shmingress_ctx_t *ctx, uint64_t key)
{
    uint64_t    score, best;
    ngx_uint_t  i, pick;

    pick = 0;
    best = 0;

    for (i = 0; i < ctx->nendpoints; i++) {
        score = ngx_http_shmingress_mix(key
                                   ^ ngx_http_shmingress_endpoint_id(ctx, i));

        if (i == 0 || score > best) {
            best = score;
            pick = i;
        }
    }

    return pick;
}


/*
 * upstream-hash-by-subset: a random one of the SUBSET endpoints that
 * score highest for the key, so a key is spread over a few endpoints
 * and keeps them while they exist.
 */
static ngx_uint_t
ngx_http_shmingress_subset_pick(ngx_http_shmingress_ctx_t *ctx, uint64_t key)
{
    uint64_t    score, best[NGX_HTTP_SHMINGRESS_SUBSET];
    ngx_uint_t  i, j, size, pick[NGX_HTTP_SHMINGRESS_SUBSET];

    size = 0;

    for (i = 0; i < ctx->nendpoints; i++) {
        score = ngx_http_shmingress_mix(key
                                   ^ ngx_http_shmingress_endpoint_id(ctx, i));

        /* insertion into the best scores so far, highest first */

        for (j = size; j > 0 && best[j - 1] < score; j--) {
            if (j < NGX_HTTP_SHMINGRESS_SUBSET) {
                best[j] = best[j - 1];
                pick[j] = pick[j - 1];
            }
        }

        if (j < NGX_HTTP_SHMINGRESS_SUBSET) {
            best[j] = score;
            pick[j] = i;

            if (size < NGX_HTTP_SHMINGRESS_SUBSET) {
                size++;
            }
        }
    }

    return pick[(ngx_uint_t) ngx_random() % size];
}


/* splitmix64's finalizer: every input bit affects every output bit. */
static uint64_t
ngx_http_shmingress_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;

    return x;
}


/* The hash of the route's upstream-hash-by text evaluated for r. */
static ngx_int_t
ngx_http_shmingress_hash_key(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, uint64_t *key)
{
    uint64_t                          h;
    ngx_uint_t                        i;
    const tbl_policy                 *p;
    ngx_http_variable_value_t        *vv;
    ngx_http_shmingress_expr_t       *expr;
    ngx_http_shmingress_expr_part_t  *part;

    p = ctx->policy;

    if (p == NULL || p->hash_by.len == 0) {
        return NGX_DECLINED;
    }

    expr = ngx_http_shmingress_expr_get(tbl_view_str(&ctx->table->view,
                                                     p->hash_by),
                                        p->hash_by.len, r->connection->log);

    if (expr == NULL || expr->nparts == 0) {
        return NGX_DECLINED;
    }

    h = 0;

    for (i = 0; i < expr->nparts; i++) {
        part = &expr->parts[i];

        if (!part->variable) {
            h = tbl_hash64(part->text.data, part->text.len, h);
            continue;
        }

        vv = ngx_http_get_variable(r, &part->text, part->key);

        if (vv == NULL) {
            return NGX_ERROR;
        }

        h = tbl_hash64(vv->not_found ? (u_char *) "" : vv->data,
                       vv->not_found ? 0 : vv->len, h ^ (i + 1));
    }

    *key = h;

    return NGX_OK;
}


/*
 * The parsed form of an upstream-hash-by text, parsed once per worker
 * and kept by the text's hash; a text that does not parse is logged
 * once and kept with no parts.
 */
static ngx_http_shmingress_expr_t *
ngx_http_shmingress_expr_get(const char *text, size_t len, ngx_log_t *log)
{
    uint64_t                     id;
    ngx_uint_t                   created;
    ngx_http_shmingress_expr_t  *expr;
    ngx_http_shmingress_slot_t  *slot;

    id = tbl_hash64(text, len, 0);

    slot = ngx_http_shmingress_slot(&ngx_http_shmingress_exprs, id, 1,
                                    &created, log);
    if (slot == NULL) {
        return NULL;
    }

    expr = slot->data;

    if (expr
        && expr->source.len == len
        && ngx_memcmp(expr->source.data, text, len) == 0)
    {
        return expr;
    }

    if (expr) {
        ngx_free(expr);
        slot->data = NULL;
    }

    /* room for the source and a lower-case copy of every name */

    expr = ngx_alloc(sizeof(ngx_http_shmingress_expr_t) + 2 * len, log);
    if (expr == NULL) {
        return NULL;
    }

    expr->source.data = (u_char *) (expr + 1);
    expr->source.len = len;
    ngx_memcpy(expr->source.data, text, len);

    expr->nparts = ngx_http_shmingress_expr_parse(expr);

    if (expr->nparts == 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "shmingress: upstream-hash-by \"%V\" is not text "
                      "with $variables; round robin is used instead",
                      &expr->source);
    }

    slot->data = expr;

    return expr;
}


/* Splits "text$var${var}" into parts; 0 when it does not parse. */
static ngx_uint_t
ngx_http_shmingress_expr_parse(ngx_http_shmingress_expr_t *expr)
{
    u_char                           *p, *end, *start, *names;
    ngx_uint_t                        n, brace;
    ngx_http_shmingress_expr_part_t  *part;

    p = expr->source.data;
    end = p + expr->source.len;
    names = end;
    n = 0;

    while (p < end) {

        if (n == NGX_HTTP_SHMINGRESS_EXPR_PARTS) {
            return 0;
        }

        part = &expr->parts[n++];

        if (*p != '$') {
            start = p;

            while (p < end && *p != '$') {
                p++;
            }

            part->text.data = start;
            part->text.len = p - start;
            part->key = 0;
            part->variable = 0;
            continue;
        }

        p++;
        brace = (p < end && *p == '{');
        p += brace;
        start = p;

        while (p < end
               && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                   || (*p >= '0' && *p <= '9') || *p == '_'))
        {
            p++;
        }

        if (p == start || (brace && (p == end || *p != '}'))) {
            return 0;
        }

        part->text.data = names;
        part->text.len = p - start;
        part->key = ngx_hash_strlow(names, start, p - start);
        part->variable = 1;

        names += p - start;
        p += brace;
    }

    return n;
}


/*
 * Power of two choices: the lower decayed score of two distinct random
 * endpoints.  An endpoint never measured scores 0, so it gets tried.
 */
static ngx_uint_t
ngx_http_shmingress_ewma_pick(ngx_http_shmingress_ctx_t *ctx)
{
    ngx_uint_t  a, b, n;

    n = ctx->nendpoints;

    if (n == 1) {
        return 0;
    }

    a = (ngx_uint_t) ngx_random() % n;
    b = (ngx_uint_t) ngx_random() % (n - 1);

    if (b >= a) {
        b++;
    }

    if (ngx_http_shmingress_ewma_score(ngx_http_shmingress_endpoint_id(ctx, b))
        < ngx_http_shmingress_ewma_score(ngx_http_shmingress_endpoint_id(ctx,
                                                                         a)))
    {
        return b;
    }

    return a;
}


static double
ngx_http_shmingress_ewma_score(uint64_t id)
{
    ngx_http_shmingress_slot_t  *slot;

    slot = ngx_http_shmingress_slot(&ngx_http_shmingress_ewma, id, 0, NULL,
                                    NULL);

    if (slot == NULL) {
        return 0;
    }

    return slot->score
           * ngx_http_shmingress_decay(ngx_current_msec - slot->touched);
}


/*
 * The time this try took, from connecting to the end of the answer; a
 * failed try counts as the connect timeout at least, so that an
 * endpoint refusing connections quickly does not look fast.
 */
static ngx_msec_t
ngx_http_shmingress_rtt(ngx_http_shmingress_peer_data_t *pd,
    ngx_uint_t state)
{
    ngx_msec_t            rtt;
    ngx_http_upstream_t  *u;

    u = pd->request->upstream;
    rtt = ngx_current_msec - u->start_time;

    if ((state & NGX_PEER_FAILED) && rtt < u->conf->connect_timeout) {
        rtt = u->conf->connect_timeout;
    }

    return rtt;
}


static void
ngx_http_shmingress_ewma_update(ngx_http_shmingress_ctx_t *ctx, ngx_uint_t k,
    ngx_msec_t rtt, ngx_log_t *log)
{
    double                       w;
    ngx_uint_t                   created;
    ngx_http_shmingress_slot_t  *slot;

    slot = ngx_http_shmingress_slot(&ngx_http_shmingress_ewma,
                                    ngx_http_shmingress_endpoint_id(ctx, k),
                                    1, &created, log);
    if (slot == NULL) {
        return;
    }

    if (created) {
        slot->score = (double) rtt;

    } else {
        w = ngx_http_shmingress_decay(ngx_current_msec - slot->touched);
        slot->score = slot->score * w + (double) rtt * (1.0 - w);
    }

    slot->touched = ngx_current_msec;
}


/*
 * exp(-elapsed / DECAY) without libm: exp(-x) = exp(-x/16)^16, with
 * exp(-y) for y <= 1.25 from its series, plenty for a decay weight.
 */
static double
ngx_http_shmingress_decay(ngx_msec_t elapsed)
{
    double      x, y, e;
    ngx_uint_t  i;

    x = (double) elapsed / NGX_HTTP_SHMINGRESS_EWMA_DECAY;

    if (x > 20.0) {
        return 0.0;
    }

    y = x / 16;
    e = 1.0 - y + y * y / 2 - y * y * y / 6 + y * y * y * y / 24;

    for (i = 0; i < 4; i++) {
        e *= e;
    }

    return e;
}


/*
 * Returns and advances a backend's round-robin position.  New backends
 * start at a random position so that workers do not all begin with the
 * same endpoint.
 */
static ngx_uint_t
ngx_http_shmingress_rr_next(uint64_t id, ngx_log_t *log)
{
    ngx_uint_t                   created;
    ngx_http_shmingress_slot_t  *slot;

    slot = ngx_http_shmingress_slot(&ngx_http_shmingress_rr, id, 1, &created,
                                    log);
    if (slot == NULL) {
        return (ngx_uint_t) ngx_random();
    }

    if (created) {
        slot->next = (uint32_t) ngx_random();
    }

    return slot->next++;
}


/*
 * The slot of id in a state map, added (zeroed, *created set) when add
 * is set; NULL when it is not there or memory ran out.
 */
static ngx_http_shmingress_slot_t *
ngx_http_shmingress_slot(ngx_http_shmingress_slots_t *map, uint64_t id,
    ngx_uint_t add, ngx_uint_t *created, ngx_log_t *log)
{
    ngx_http_shmingress_slot_t  *slot;

    if (add
        && map->count >= map->cap / 2
        && ngx_http_shmingress_slots_grow(map, log) != NGX_OK)
    {
        return NULL;
    }

    if (map->cap == 0) {
        return NULL;
    }

    slot = ngx_http_shmingress_slot_find(map->slots, map->cap, id);

    if (slot->used) {
        if (created) {
            *created = 0;
        }

        return slot;
    }

    if (!add) {
        return NULL;
    }

    ngx_memzero(slot, sizeof(ngx_http_shmingress_slot_t));
    slot->used = 1;
    slot->id = id;
    map->count++;

    *created = 1;

    return slot;
}


/* The slot holding id, or the empty slot where it belongs. */
static ngx_http_shmingress_slot_t *
ngx_http_shmingress_slot_find(ngx_http_shmingress_slot_t *slots,
    ngx_uint_t cap, uint64_t id)
{
    ngx_uint_t  i;

    /* ids are already hashes */

    for (i = id & (cap - 1); /* void */; i = (i + 1) & (cap - 1)) {
        if (!slots[i].used || slots[i].id == id) {
            return &slots[i];
        }
    }
}


/*
 * Doubles a state map; at its maximum size it starts over instead,
 * which only resets the state of backends and endpoints that are mostly
 * long gone.
 */
static ngx_int_t
ngx_http_shmingress_slots_grow(ngx_http_shmingress_slots_t *map,
    ngx_log_t *log)
{
    ngx_uint_t                   i, cap;
    ngx_http_shmingress_slot_t  *slots, *slot;

    if (map->cap == NGX_HTTP_SHMINGRESS_SLOTS_MAX) {
        ngx_http_shmingress_slots_free(map);
    }

    cap = map->cap ? 2 * map->cap : NGX_HTTP_SHMINGRESS_SLOTS_MIN;

    slots = ngx_calloc(cap * sizeof(ngx_http_shmingress_slot_t), log);
    if (slots == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < map->cap; i++) {
        if (map->slots[i].used) {
            slot = ngx_http_shmingress_slot_find(slots, cap,
                                                 map->slots[i].id);
            *slot = map->slots[i];
        }
    }

    if (map->slots) {
        ngx_free(map->slots);
    }

    map->slots = slots;
    map->cap = cap;

    return NGX_OK;
}


static void
ngx_http_shmingress_slots_free(ngx_http_shmingress_slots_t *map)
{
    ngx_uint_t  i;

    for (i = 0; i < map->cap; i++) {
        if (map->slots[i].used && map->slots[i].data) {
            ngx_free(map->slots[i].data);
        }
    }

    if (map->slots) {
        ngx_free(map->slots);
    }

    map->slots = NULL;
    map->cap = 0;
    map->count = 0;
}


void
ngx_http_shmingress_balancer_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_shmingress_slots_free(&ngx_http_shmingress_rr);
    ngx_http_shmingress_slots_free(&ngx_http_shmingress_ewma);
    ngx_http_shmingress_slots_free(&ngx_http_shmingress_exprs);
}
