
/*
 * ngx_http_shmingress_limit.c -- limit-rps, limit-rpm, limit-connections.
 *
 * One shared memory zone ("shmingress_limit_zone SIZE;", 10m by default)
 * holds a node per (route, limit kind, client address): a leaky bucket
 * in thousandths of a request, like limit_req's (burst = limit times
 * limit-burst-multiplier, never delayed: ingress-nginx uses "nodelay"),
 * and a count of the client's requests in flight for
 * limit-connections.  Nodes are keyed by the route's stable id, so a
 * table swap neither resets nor strands a client's bucket; idle nodes
 * are expired from the tail of an LRU list, and the oldest are evicted
 * when the zone is full.  One mutex guards the zone.  Limits, the
 * allowlist and the status codes are read from the table when the
 * request is routed (_module.c calls ngx_http_shmingress_limit_prepare);
 * the check itself runs once per request in PREACCESS.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_shmingress_module.h"


#define NGX_HTTP_SHMINGRESS_LIMIT_RPS   1
#define NGX_HTTP_SHMINGRESS_LIMIT_RPM   2
#define NGX_HTTP_SHMINGRESS_LIMIT_CONN  3

/* route id, kind, family, address */
#define NGX_HTTP_SHMINGRESS_LIMIT_KEY   (8 + 1 + 1 + 16)

/*
 * r->main->limit_req_status / limit_conn_status values, as nginx's own
 * modules define them (private there), so $limit_req_status and
 * $limit_conn_status report our decisions too.
 */
#define NGX_HTTP_SHMINGRESS_REQ_PASSED     1
#define NGX_HTTP_SHMINGRESS_REQ_REJECTED   3
#define NGX_HTTP_SHMINGRESS_CONN_PASSED    1
#define NGX_HTTP_SHMINGRESS_CONN_REJECTED  2

/* an idle, drained node is kept this long (as limit_req does) */
#define NGX_HTTP_SHMINGRESS_LIMIT_IDLE  60000


typedef struct {
    ngx_str_node_t                  sn;       /* sn.str is the key */
    ngx_queue_t                     queue;    /* LRU, newest first */
    ngx_msec_t                      last;
    ngx_uint_t                      excess;   /* thousandths */
    ngx_uint_t                      rate;     /* thousandths per second */
    ngx_uint_t                      conns;    /* requests in flight */
    u_char                          key[NGX_HTTP_SHMINGRESS_LIMIT_KEY];
} ngx_http_shmingress_limit_node_t;


typedef struct {
    ngx_rbtree_t                    rbtree;
    ngx_rbtree_node_t               sentinel;
    ngx_queue_t                     queue;
} ngx_http_shmingress_limit_sh_t;


typedef struct {
    ngx_http_shmingress_limit_sh_t *sh;
    ngx_slab_pool_t                *shpool;
} ngx_http_shmingress_limit_zone_t;


typedef struct {
    ngx_http_shmingress_limit_node_t  *node;
    ngx_http_shmingress_limit_zone_t  *zone;
} ngx_http_shmingress_limit_cleanup_t;


static ngx_int_t ngx_http_shmingress_limit_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_shmingress_limit_conn(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, ngx_http_shmingress_limit_zone_t *z);
static ngx_int_t ngx_http_shmingress_limit_req(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, ngx_http_shmingress_limit_zone_t *z);
static ngx_int_t ngx_http_shmingress_limit_leak(
    ngx_http_shmingress_limit_node_t *n, ngx_uint_t burst, ngx_msec_t now);
static ngx_http_shmingress_limit_node_t *ngx_http_shmingress_limit_node(
    ngx_http_shmingress_limit_zone_t *z, ngx_http_shmingress_ctx_t *ctx,
    ngx_uint_t kind, ngx_http_shmingress_limit_node_t *keep);
static void ngx_http_shmingress_limit_expire(
    ngx_http_shmingress_limit_zone_t *z, ngx_uint_t force,
    ngx_http_shmingress_limit_node_t *keep);
static void ngx_http_shmingress_limit_release(void *data);
static ngx_int_t ngx_http_shmingress_limit_init_zone(ngx_shm_zone_t *shm,
    void *data);


static ngx_shm_zone_t  *ngx_http_shmingress_limit_shm;


/*
 * Copies the route's limits into the request when its policy has any
 * and the client is not on the policy's limit allowlist.
 */
void
ngx_http_shmingress_limit_prepare(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v)
{
    const tbl_config          *cf;
    const tbl_policy          *pol;
    struct sockaddr_in        *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6       *sin6;
#endif

    pol = ctx->policy;

    if (pol == NULL
        || (pol->limit_rps == 0 && pol->limit_rpm == 0
            && pol->limit_connections == 0))
    {
        return;
    }

    switch (r->connection->sockaddr->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) r->connection->sockaddr;
        ctx->limit_family = 4;
        ngx_memcpy(ctx->limit_addr, &sin->sin_addr, 4);
        break;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) r->connection->sockaddr;
        ctx->limit_family = 6;
        ngx_memcpy(ctx->limit_addr, &sin6->sin6_addr, 16);
        break;
#endif

    default:
        /* unix sockets: nothing to key on, as limit_req with an empty key */
        return;
    }

    if (pol->limit_allow_count
        && tbl_cidr_match(v, pol->limit_allow_first, pol->limit_allow_count,
                          ctx->limit_addr, ctx->limit_family))
    {
        return;
    }

    cf = tbl_view_config(v);

    ctx->limit = 1;
    ctx->limit_rps = pol->limit_rps;
    ctx->limit_rpm = pol->limit_rpm;
    ctx->limit_burst = ngx_max(pol->limit_burst_multiplier, 1);
    ctx->limit_connections = pol->limit_connections;
    ctx->limit_req_status = cf->limit_req_status_code;
    ctx->limit_conn_status = cf->limit_conn_status_code;
}


static ngx_int_t
ngx_http_shmingress_limit_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_http_shmingress_ctx_t         *ctx;
    ngx_http_shmingress_limit_zone_t  *z;

    /* counted once: an internal redirect does not count again */
    if (r->main->limit_req_status || ngx_http_shmingress_limit_shm == NULL) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_shmingress_get_ctx(r);

    if (ctx == NULL || !ctx->limit) {
        return NGX_DECLINED;
    }

    r->main->limit_req_status = NGX_HTTP_SHMINGRESS_REQ_PASSED;

    z = ngx_http_shmingress_limit_shm->data;

    if (ctx->limit_connections) {
        rc = ngx_http_shmingress_limit_conn(r, ctx, z);
        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    if (ctx->limit_rps || ctx->limit_rpm) {
        return ngx_http_shmingress_limit_req(r, ctx, z);
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_shmingress_limit_conn(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, ngx_http_shmingress_limit_zone_t *z)
{
    ngx_pool_cleanup_t                   *cln;
    ngx_http_shmingress_limit_node_t     *n;
    ngx_http_shmingress_limit_cleanup_t  *lc;

    cln = ngx_pool_cleanup_add(r->pool,
                               sizeof(ngx_http_shmingress_limit_cleanup_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    n = ngx_http_shmingress_limit_node(z, ctx, NGX_HTTP_SHMINGRESS_LIMIT_CONN,
                                       NULL);

    if (n == NULL || n->conns >= ctx->limit_connections) {
        ngx_shmtx_unlock(&z->shpool->mutex);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "shmingress: limiting connections of route %016uxL "
                      "(%V/%V) by %V, limit %ui%s", ctx->route_id,
                      &ctx->ingress_namespace, &ctx->ingress_name,
                      &r->connection->addr_text, ctx->limit_connections,
                      n ? "" : ", zone full");

        r->main->limit_conn_status = NGX_HTTP_SHMINGRESS_CONN_REJECTED;
        return ctx->limit_conn_status;
    }

    n->conns++;

    ngx_shmtx_unlock(&z->shpool->mutex);

    lc = cln->data;
    lc->node = n;
    lc->zone = z;
    cln->handler = ngx_http_shmingress_limit_release;

    r->main->limit_conn_status = NGX_HTTP_SHMINGRESS_CONN_PASSED;

    return NGX_DECLINED;
}


/* The connection count is released when the request's pool goes. */
static void
ngx_http_shmingress_limit_release(void *data)
{
    ngx_http_shmingress_limit_cleanup_t  *lc = data;

    ngx_shmtx_lock(&lc->zone->shpool->mutex);

    lc->node->conns--;
    lc->node->last = ngx_current_msec;

    ngx_shmtx_unlock(&lc->zone->shpool->mutex);
}


/*
 * limit-rps and limit-rpm: both buckets must have room, and only then
 * are both charged, so a rejected request costs nothing.
 */
static ngx_int_t
ngx_http_shmingress_limit_req(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, ngx_http_shmingress_limit_zone_t *z)
{
    ngx_int_t                          e[2];
    ngx_uint_t                         i, limit[2], kind[2];
    ngx_msec_t                         now;
    ngx_http_shmingress_limit_node_t  *n[2];

    limit[0] = ctx->limit_rps;
    kind[0] = NGX_HTTP_SHMINGRESS_LIMIT_RPS;
    limit[1] = ctx->limit_rpm;
    kind[1] = NGX_HTTP_SHMINGRESS_LIMIT_RPM;

    now = ngx_current_msec;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < 2; i++) {
        n[i] = NULL;
        e[i] = 0;

        if (limit[i] == 0) {
            continue;
        }

        n[i] = ngx_http_shmingress_limit_node(z, ctx, kind[i],
                                              i ? n[0] : NULL);

        if (n[i] == NULL) {
            e[i] = -1;
            continue;
        }

        n[i]->rate = (i == 0) ? limit[i] * 1000 : limit[i] * 1000 / 60;
        e[i] = ngx_http_shmingress_limit_leak(n[i],
                                              limit[i] * ctx->limit_burst
                                              * 1000, now);
    }

    if (e[0] < 0 || e[1] < 0) {
        ngx_shmtx_unlock(&z->shpool->mutex);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "shmingress: limiting requests of route %016uxL "
                      "(%V/%V) by %V, %ui r/s, %ui r/m, burst x%ui",
                      ctx->route_id, &ctx->ingress_namespace,
                      &ctx->ingress_name, &r->connection->addr_text,
                      ctx->limit_rps, ctx->limit_rpm, ctx->limit_burst);

        r->main->limit_req_status = NGX_HTTP_SHMINGRESS_REQ_REJECTED;
        return ctx->limit_req_status;
    }

    for (i = 0; i < 2; i++) {
        if (n[i]) {
            n[i]->excess = e[i];
            n[i]->last = now;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return NGX_DECLINED;
}


/*
 * The bucket's level if this request were admitted, or -1 when it would
 * overflow the burst.  A new node starts empty, as in limit_req.
 */
static ngx_int_t
ngx_http_shmingress_limit_leak(ngx_http_shmingress_limit_node_t *n,
    ngx_uint_t burst, ngx_msec_t now)
{
    ngx_int_t       excess;
    ngx_msec_int_t  ms;

    if (n->last == 0) {
        return 0;
    }

    ms = (ngx_msec_int_t) (now - n->last);

    if (ms < 0) {
        ms = 0;
    }

    excess = (ngx_int_t) n->excess - (ngx_int_t) (n->rate * ms / 1000)
             + 1000;

    if (excess < 0) {
        excess = 0;
    }

    return ((ngx_uint_t) excess > burst) ? -1 : excess;
}


/*
 * Finds or creates a node, under the zone mutex; NULL when full.  Making
 * room never frees "keep", a node the caller already holds.
 */
static ngx_http_shmingress_limit_node_t *
ngx_http_shmingress_limit_node(ngx_http_shmingress_limit_zone_t *z,
    ngx_http_shmingress_ctx_t *ctx, ngx_uint_t kind,
    ngx_http_shmingress_limit_node_t *keep)
{
    u_char                             key[NGX_HTTP_SHMINGRESS_LIMIT_KEY];
    uint32_t                           hash;
    ngx_str_t                          k;
    ngx_http_shmingress_limit_node_t  *n;

    ngx_memzero(key, sizeof(key));
    ngx_memcpy(key, &ctx->route_id, 8);
    key[8] = (u_char) kind;
    key[9] = (u_char) ctx->limit_family;
    ngx_memcpy(key + 10, ctx->limit_addr, 16);

    k.data = key;
    k.len = sizeof(key);
    hash = ngx_crc32_short(key, sizeof(key));

    n = (ngx_http_shmingress_limit_node_t *)
            ngx_str_rbtree_lookup(&z->sh->rbtree, &k, hash);

    if (n) {
        ngx_queue_remove(&n->queue);
        ngx_queue_insert_head(&z->sh->queue, &n->queue);
        return n;
    }

    ngx_http_shmingress_limit_expire(z, 0, keep);

    n = ngx_slab_alloc_locked(z->shpool,
                              sizeof(ngx_http_shmingress_limit_node_t));

    if (n == NULL) {
        ngx_http_shmingress_limit_expire(z, 1, keep);

        n = ngx_slab_alloc_locked(z->shpool,
                                  sizeof(ngx_http_shmingress_limit_node_t));
        if (n == NULL) {
            return NULL;
        }
    }

    ngx_memzero(n, sizeof(ngx_http_shmingress_limit_node_t));
    ngx_memcpy(n->key, key, sizeof(key));
    n->sn.str.data = n->key;
    n->sn.str.len = sizeof(key);
    n->sn.node.key = hash;

    ngx_rbtree_insert(&z->sh->rbtree, &n->sn.node);
    ngx_queue_insert_head(&z->sh->queue, &n->queue);

    return n;
}


/*
 * Frees up to two least recently used nodes that are idle and drained;
 * when forced (the zone is full), the oldest node without requests in
 * flight goes regardless.
 */
static void
ngx_http_shmingress_limit_expire(ngx_http_shmingress_limit_zone_t *z,
    ngx_uint_t force, ngx_http_shmingress_limit_node_t *keep)
{
    ngx_uint_t                         i;
    ngx_msec_t                         now;
    ngx_queue_t                       *q;
    ngx_msec_int_t                     ms;
    ngx_http_shmingress_limit_node_t  *n;

    now = ngx_current_msec;
    q = ngx_queue_last(&z->sh->queue);

    for (i = 0; i < 2 && q != ngx_queue_sentinel(&z->sh->queue); /* void */) {

        n = ngx_queue_data(q, ngx_http_shmingress_limit_node_t, queue);
        q = ngx_queue_prev(q);

        if (n->conns || n == keep) {
            continue;
        }

        if (!force) {
            ms = (ngx_msec_int_t) (now - n->last);

            if (ms < NGX_HTTP_SHMINGRESS_LIMIT_IDLE
                || n->excess > n->rate * (ngx_uint_t) ms / 1000)
            {
                return;
            }
        }

        ngx_queue_remove(&n->queue);
        ngx_rbtree_delete(&z->sh->rbtree, &n->sn.node);
        ngx_slab_free_locked(z->shpool, n);

        i++;

        if (force) {
            return;
        }
    }
}


static ngx_int_t
ngx_http_shmingress_limit_init_zone(ngx_shm_zone_t *shm, void *data)
{
    ngx_http_shmingress_limit_zone_t  *oz = data;

    size_t                             len;
    ngx_http_shmingress_limit_zone_t  *z;

    z = shm->data;

    if (oz) {
        z->sh = oz->sh;
        z->shpool = oz->shpool;
        return NGX_OK;
    }

    z->shpool = (ngx_slab_pool_t *) shm->shm.addr;

    if (shm->shm.exists) {
        z->sh = z->shpool->data;
        return NGX_OK;
    }

    z->sh = ngx_slab_alloc(z->shpool, sizeof(ngx_http_shmingress_limit_sh_t));
    if (z->sh == NULL) {
        return NGX_ERROR;
    }

    z->shpool->data = z->sh;

    ngx_rbtree_init(&z->sh->rbtree, &z->sh->sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&z->sh->queue);

    len = sizeof(" in shmingress_limit_zone \"\"") + shm->shm.name.len;

    z->shpool->log_ctx = ngx_slab_alloc(z->shpool, len);
    if (z->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(z->shpool->log_ctx, " in shmingress_limit_zone \"%V\"%Z",
                &shm->shm.name);

    z->shpool->log_nomem = 0;

    return NGX_OK;
}


/* Adds the zone and the PREACCESS handler (postconfiguration). */
ngx_int_t
ngx_http_shmingress_limit_init(ngx_conf_t *cf, size_t size)
{
    ngx_str_t                          name = ngx_string("shmingress_limit");
    ngx_shm_zone_t                    *shm;
    ngx_http_handler_pt               *h;
    ngx_http_core_main_conf_t         *cmcf;
    ngx_http_shmingress_limit_zone_t  *z;

    z = ngx_pcalloc(cf->pool, sizeof(ngx_http_shmingress_limit_zone_t));
    if (z == NULL) {
        return NGX_ERROR;
    }

    shm = ngx_shared_memory_add(cf, &name, size, &ngx_http_shmingress_module);
    if (shm == NULL) {
        return NGX_ERROR;
    }

    shm->init = ngx_http_shmingress_limit_init_zone;
    shm->data = z;
    ngx_http_shmingress_limit_shm = shm;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_shmingress_limit_handler;

    return NGX_OK;
}
