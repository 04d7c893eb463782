
/*
 * ngx_http_shmingress_ssl.c -- TLS certificates from the route table.
 *
 * Every "ssl" server's SSL_CTX gets two OpenSSL callbacks.  The
 * client-hello callback runs before OpenSSL decides on resumption: it
 * binds sessions to the requested server name (session id context = a
 * hash of the lower-cased SNI), so a session made for one host is never
 * resumed under another, which would skip that host's certificate
 * choice.  The certificate callback runs after nginx's own servername
 * callback has picked the server block: it looks the SNI up in the
 * current table (exact, wildcard, default certificate) and puts that
 * chain and key on the connection.  With no table, or no certificate in
 * it, the statically configured certificate stays.
 *
 * Parsed chains and keys are cached per worker by the certificate's
 * content hash, so table swaps keep the cache and a warm handshake
 * parses nothing; the cache is a bounded LRU.  Nothing here reads
 * files or allocates on a cache hit.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_shmingress_module.h"


typedef struct {
    ngx_rbtree_node_t               node;      /* key: content hash */
    ngx_queue_t                     lru;       /* most recent first */
    X509                           *leaf;
    STACK_OF(X509)                 *chain;     /* without the leaf */
    EVP_PKEY                       *key;
} ngx_http_shmingress_ssl_cert_t;


static int ngx_http_shmingress_ssl_client_hello(ngx_ssl_conn_t *ssl_conn,
    int *al, void *arg);
static int ngx_http_shmingress_ssl_cert(ngx_ssl_conn_t *ssl_conn, void *arg);
static ngx_http_shmingress_ssl_cert_t *ngx_http_shmingress_ssl_get(
    const tbl_view *v, const tbl_cert *c, ngx_log_t *log);
static ngx_http_shmingress_ssl_cert_t *ngx_http_shmingress_ssl_parse(
    const tbl_view *v, const tbl_cert *c, ngx_log_t *log);
static void ngx_http_shmingress_ssl_free(ngx_http_shmingress_ssl_cert_t *e);
static ngx_int_t ngx_http_shmingress_ssl_cache_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_rbtree_t         ngx_http_shmingress_ssl_tree;
static ngx_rbtree_node_t    ngx_http_shmingress_ssl_sentinel;
static ngx_queue_t          ngx_http_shmingress_ssl_lru;
static ngx_uint_t           ngx_http_shmingress_ssl_max;
static ngx_uint_t           ngx_http_shmingress_ssl_size;
static ngx_uint_t           ngx_http_shmingress_ssl_hits;
static ngx_uint_t           ngx_http_shmingress_ssl_misses;


static ngx_http_variable_t  ngx_http_shmingress_ssl_vars[] = {

    { ngx_string("shmingress_ssl_cache"), NULL,
      ngx_http_shmingress_ssl_cache_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_shmingress_ssl_add_variables(ngx_conf_t *cf)
{
    return ngx_http_shmingress_register_variables(cf,
               ngx_http_shmingress_ssl_vars);
}


/*
 * Called from postconfiguration, after ngx_http_ssl_module has created
 * the SSL_CTX of every server with an ssl listener.  A server whose
 * ssl_certificate has variables already has nginx's certificate
 * callback (OpenSSL keeps one per SSL_CTX): it is left alone.
 */
ngx_int_t
ngx_http_shmingress_ssl_init(ngx_conf_t *cf)
{
    ngx_uint_t                   s;
    ngx_http_ssl_srv_conf_t     *sscf;
    ngx_http_core_srv_conf_t   **cscfp;
    ngx_http_core_main_conf_t   *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    cscfp = cmcf->servers.elts;

    for (s = 0; s < cmcf->servers.nelts; s++) {
        sscf = cscfp[s]->ctx->srv_conf[ngx_http_ssl_module.ctx_index];

        if (sscf == NULL || sscf->ssl.ctx == NULL
            || sscf->certificate_values != NULL)
        {
            continue;
        }

        SSL_CTX_set_client_hello_cb(sscf->ssl.ctx,
                                    ngx_http_shmingress_ssl_client_hello,
                                    NULL);
        SSL_CTX_set_cert_cb(sscf->ssl.ctx, ngx_http_shmingress_ssl_cert,
                            NULL);
    }

    return NGX_OK;
}


void
ngx_http_shmingress_ssl_init_process(ngx_uint_t cache_size)
{
    ngx_rbtree_init(&ngx_http_shmingress_ssl_tree,
                    &ngx_http_shmingress_ssl_sentinel,
                    ngx_rbtree_insert_value);
    ngx_queue_init(&ngx_http_shmingress_ssl_lru);

    ngx_http_shmingress_ssl_max = cache_size;
    ngx_http_shmingress_ssl_size = 0;
    ngx_http_shmingress_ssl_hits = 0;
    ngx_http_shmingress_ssl_misses = 0;
}


void
ngx_http_shmingress_ssl_exit_process(void)
{
    ngx_queue_t                     *q;
    ngx_http_shmingress_ssl_cert_t  *e;

    if (ngx_http_shmingress_ssl_lru.next == NULL) {
        return;
    }

    while (!ngx_queue_empty(&ngx_http_shmingress_ssl_lru)) {
        q = ngx_queue_head(&ngx_http_shmingress_ssl_lru);
        e = ngx_queue_data(q, ngx_http_shmingress_ssl_cert_t, lru);
        ngx_queue_remove(q);
        ngx_rbtree_delete(&ngx_http_shmingress_ssl_tree, &e->node);
        ngx_http_shmingress_ssl_free(e);
    }

    ngx_http_shmingress_ssl_size = 0;
}


/*
 * Reads the first host_name of the server_name extension (RFC 6066
 * 3) into a session id context.  A malformed extension gets the same
 * context as no SNI; OpenSSL itself rejects it later.
 */
static int
ngx_http_shmingress_ssl_client_hello(ngx_ssl_conn_t *ssl_conn, int *al,
    void *arg)
{
    u_char                meta[8];
    size_t                len, list, n, i;
    uint64_t              h;
    const unsigned char  *p;
    u_char                name[256];

    n = 0;

    if (SSL_client_hello_get0_ext(ssl_conn, TLSEXT_TYPE_server_name, &p, &len)
        && len >= 5)
    {
        list = ((size_t) p[0] << 8) | p[1];

        if (list + 2 == len && p[2] == TLSEXT_NAMETYPE_host_name) {
            n = ((size_t) p[3] << 8) | p[4];

            if (n + 5 > len || n >= sizeof(name)) {
                n = 0;
            }
        }
    }

    for (i = 0; i < n; i++) {
        name[i] = ngx_tolower(p[5 + i]);
    }

    h = tbl_hash64(name, n, 0x73686d696e677373);

    for (i = 0; i < sizeof(meta); i++) {
        meta[i] = (u_char) (h >> (8 * i));
    }

    if (SSL_set_session_id_context(ssl_conn, meta, sizeof(meta)) == 0) {
        *al = SSL_AD_INTERNAL_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
    }

    return SSL_CLIENT_HELLO_SUCCESS;
}


static int
ngx_http_shmingress_ssl_cert(ngx_ssl_conn_t *ssl_conn, void *arg)
{
    size_t                           len;
    uint32_t                         idx;
    ngx_log_t                       *log;
    const char                      *sni;
    const tbl_cert                  *c;
    ngx_connection_t                *conn;
    ngx_http_shmingress_table_t     *t;
    ngx_http_shmingress_ssl_cert_t  *e;

    conn = ngx_ssl_get_connection(ssl_conn);
    log = conn->log;

    t = ngx_http_shmingress_table_current(log);
    if (t == NULL) {
        return 1;
    }

    sni = SSL_get_servername(ssl_conn, TLSEXT_NAMETYPE_host_name);
    len = sni ? ngx_strlen(sni) : 0;

    idx = tbl_lookup_cert(&t->view, sni, len);
    if (idx == TBL_NONE) {
        return 1;
    }

    c = &t->view.certs[idx];

    e = ngx_http_shmingress_ssl_get(&t->view, c, log);
    if (e == NULL) {
        return 1;
    }

    SSL_certs_clear(ssl_conn);

    if (SSL_use_certificate(ssl_conn, e->leaf) != 1
        || SSL_use_PrivateKey(ssl_conn, e->key) != 1
        || SSL_set1_chain(ssl_conn, e->chain) != 1)
    {
        ngx_ssl_error(NGX_LOG_ERR, log, 0,
                      "shmingress: certificate of secret \"%s/%s\" "
                      "could not be set", tbl_view_str(&t->view,
                                                       c->secret_namespace),
                      tbl_view_str(&t->view, c->secret_name));
        return 0;
    }

    return 1;
}


static ngx_http_shmingress_ssl_cert_t *
ngx_http_shmingress_ssl_get(const tbl_view *v, const tbl_cert *c,
    ngx_log_t *log)
{
    ngx_queue_t                     *q;
    ngx_rbtree_key_t                 key;
    ngx_rbtree_node_t               *node, *sentinel;
    ngx_http_shmingress_ssl_cert_t  *e;

    key = (ngx_rbtree_key_t) c->content_hash;
    node = ngx_http_shmingress_ssl_tree.root;
    sentinel = ngx_http_shmingress_ssl_tree.sentinel;

    while (node != sentinel) {
        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        e = (ngx_http_shmingress_ssl_cert_t *) node;
        ngx_queue_remove(&e->lru);
        ngx_queue_insert_head(&ngx_http_shmingress_ssl_lru, &e->lru);
        ngx_http_shmingress_ssl_hits++;

        return e;
    }

    ngx_http_shmingress_ssl_misses++;

    e = ngx_http_shmingress_ssl_parse(v, c, log);
    if (e == NULL) {
        return NULL;
    }

    if (ngx_http_shmingress_ssl_size >= ngx_http_shmingress_ssl_max) {
        q = ngx_queue_last(&ngx_http_shmingress_ssl_lru);

        if (q != ngx_queue_sentinel(&ngx_http_shmingress_ssl_lru)) {
            ngx_http_shmingress_ssl_cert_t  *old;

            old = ngx_queue_data(q, ngx_http_shmingress_ssl_cert_t, lru);
            ngx_queue_remove(q);
            ngx_rbtree_delete(&ngx_http_shmingress_ssl_tree, &old->node);
            ngx_http_shmingress_ssl_free(old);
            ngx_http_shmingress_ssl_size--;
        }
    }

    e->node.key = key;
    ngx_rbtree_insert(&ngx_http_shmingress_ssl_tree, &e->node);
    ngx_queue_insert_head(&ngx_http_shmingress_ssl_lru, &e->lru);
    ngx_http_shmingress_ssl_size++;

    return e;
}


/*
 * The controller validated the pair before publishing it; a failure
 * here means a corrupt or foreign table, so it is logged and the
 * static certificate stays.  The key type comes from the leaf's public
 * key, so d2i_PrivateKey does not have to probe every format.
 */
static ngx_http_shmingress_ssl_cert_t *
ngx_http_shmingress_ssl_parse(const tbl_view *v, const tbl_cert *c,
    ngx_log_t *log)
{
    X509                            *x;
    EVP_PKEY                        *pub;
    const u_char                    *p, *end;
    ngx_http_shmingress_ssl_cert_t  *e;

    e = ngx_alloc(sizeof(ngx_http_shmingress_ssl_cert_t), log);
    if (e == NULL) {
        return NULL;
    }

    ngx_memzero(e, sizeof(ngx_http_shmingress_ssl_cert_t));

    e->chain = sk_X509_new_null();
    if (e->chain == NULL) {
        goto failed;
    }

    p = tbl_view_blob(v, c->chain);
    end = p + c->chain.len;

    while (p < end) {
        x = d2i_X509(NULL, &p, end - p);
        if (x == NULL) {
            goto failed;
        }

        if (e->leaf == NULL) {
            e->leaf = x;

        } else if (sk_X509_push(e->chain, x) == 0) {
            X509_free(x);
            goto failed;
        }
    }

    if (e->leaf == NULL) {
        goto failed;
    }

    pub = X509_get0_pubkey(e->leaf);
    if (pub == NULL) {
        goto failed;
    }

    p = tbl_view_blob(v, c->key);
    e->key = d2i_PrivateKey(EVP_PKEY_get_base_id(pub), NULL, &p, c->key.len);
    if (e->key == NULL) {
        goto failed;
    }

    return e;

failed:

    ngx_ssl_error(NGX_LOG_ERR, log, 0,
                  "shmingress: certificate of secret \"%s/%s\" in the "
                  "table does not parse",
                  tbl_view_str(v, c->secret_namespace),
                  tbl_view_str(v, c->secret_name));

    ngx_http_shmingress_ssl_free(e);

    return NULL;
}


static void
ngx_http_shmingress_ssl_free(ngx_http_shmingress_ssl_cert_t *e)
{
    X509_free(e->leaf);
    EVP_PKEY_free(e->key);

    if (e->chain) {
        sk_X509_pop_free(e->chain, X509_free);
    }

    ngx_free(e);
}


/* "hits=N misses=N size=N" of this worker's certificate cache. */
static ngx_int_t
ngx_http_shmingress_ssl_cache_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, 3 * NGX_ATOMIC_T_LEN + sizeof("hits= misses= "
                                                           "size="));
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_http_shmingress_variable_set(v, p,
                          ngx_sprintf(p, "hits=%ui misses=%ui size=%ui",
                                      ngx_http_shmingress_ssl_hits,
                                      ngx_http_shmingress_ssl_misses,
                                      ngx_http_shmingress_ssl_size)
                          - p);

    return NGX_OK;
}
