
/*
 * ngx_http_shmingress_module.h -- what the module's files share.
 *
 * The module routes requests from a route table that another process
 * publishes (see shared/tbl_publish.h).  _table.c maps and swaps tables
 * per worker, _module.c holds the directives and the request handlers,
 * _balancer.c picks endpoints, _variables.c exposes the decision.  This
 * header declares the per-request decision (the ctx) and the functions
 * the files call in each other; it has no logic of its own.
 */


#ifndef _NGX_HTTP_SHMINGRESS_MODULE_H_INCLUDED_
#define _NGX_HTTP_SHMINGRESS_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "tbl.h"


/* $0..$9 of a regex path, for rewrite-target */
#define NGX_HTTP_SHMINGRESS_CAPTURES  10


/* One mapped table.<generation> file in one worker. */
typedef struct {
    tbl_view                        view;
    void                           *addr;
    size_t                          size;
    uint64_t                        generation;
    ngx_uint_t                      refs;      /* requests pinning it */
    ngx_queue_t                     queue;     /* in the retired list */
} ngx_http_shmingress_table_t;


/* The state of one request's external auth (_extauth.c). */
typedef struct ngx_http_shmingress_extauth_s  ngx_http_shmingress_extauth_t;


/*
 * The routing decision for one request.  It lives in the payload of an
 * r->pool cleanup (which unpins the table), so it survives the module
 * ctx being cleared by an internal redirect.  The endpoints are copied
 * into r->pool; what later phases read of the route's policy stays in
 * the table, which the request pins until its pool is destroyed.
 */
typedef struct {
    ngx_http_request_t             *request;
    ngx_http_shmingress_table_t    *table;     /* pinned, or NULL */

    unsigned                        routed:1;  /* a route matched */

    uint64_t                        generation;
    uint64_t                        route_id;
    uint64_t                        backend_id;

    ngx_str_t                       ingress_namespace;
    ngx_str_t                       ingress_name;
    ngx_str_t                       service;
    ngx_str_t                       service_port;
    ngx_str_t                       upstream_name;
    ngx_str_t                       alternative_upstream_name; /* canary */
    ngx_str_t                       path;
    ngx_str_t                       path_type;
    ngx_str_t                       host_rule;

    tbl_endpoint                   *endpoints; /* r->pool copy */
    ngx_uint_t                      nendpoints;

    /* the last regex match of this pass (the route lookup chose) */
    const tbl_route                *capture_route;
    u_char                         *capture_subject;
    ngx_uint_t                      ncaptures;
    size_t                          captures[2 * NGX_HTTP_SHMINGRESS_CAPTURES];

    ngx_str_t                       x_forwarded_prefix;
    unsigned                        rewritten:1;

    /* the route's rate limits, unless the client is allowlisted */
    unsigned                        limit:1;
    ngx_uint_t                      limit_family;      /* 4 or 6 */
    u_char                          limit_addr[16];
    ngx_uint_t                      limit_rps;
    ngx_uint_t                      limit_rpm;
    ngx_uint_t                      limit_burst;       /* multiplier */
    ngx_uint_t                      limit_connections;
    ngx_uint_t                      limit_req_status;
    ngx_uint_t                      limit_conn_status;

    /* the route's upstream settings, applied when the upstream starts */
    unsigned                        upstream:1;
    unsigned                        upstream_buffering:1;
    ngx_msec_t                      connect_timeout;
    ngx_msec_t                      send_timeout;
    ngx_msec_t                      read_timeout;
    ngx_uint_t                      next_upstream;   /* NGX_HTTP_UPSTREAM_FT_* */
    ngx_uint_t                      next_upstream_tries;
    ngx_msec_t                      next_upstream_timeout;
    ngx_str_t                       upstream_vhost;  /* "": the client's */
    off_t                           body_max;        /* 0: unlimited */
    off_t                           body_received;

    /* the route's policy in the pinned table, for the ACCESS phase,
     * the CORS header filter and the balancer; NULL when the route has
     * none */
    const tbl_policy               *policy;

    /* cookie affinity (_affinity.c): the session key the cookie carries
     * for this backend, and the endpoints it pinned and last tried */
    unsigned                        affinity:1;
    unsigned                        affinity_set_cookie:1;
    unsigned                        affinity_tried:1;
    uint64_t                        affinity_key;
    ngx_uint_t                      affinity_pinned;
    ngx_uint_t                      affinity_last;

    /* the auth subrequest and its answer, once asked */
    ngx_http_shmingress_extauth_t  *extauth;

    /* backend-protocol (tbl_backend_protocol) */
    ngx_uint_t                      protocol;

    /* custom-http-errors: the bitmap in the pinned table (NULL: none),
     * the default backend's endpoints (r->pool copy; none: nginx's own
     * error page), and the intercepted code once serving the error */
    const uint64_t                 *custom_errors;
    tbl_endpoint                   *error_endpoints;
    ngx_uint_t                      nerror_endpoints;
    uint64_t                        error_backend_id;
    ngx_uint_t                      error_code;
} ngx_http_shmingress_ctx_t;


typedef struct {
    ngx_str_t                       table_dir; /* NUL-terminated */
    ngx_uint_t                      used;      /* a directive needs it */
    ngx_int_t                       ssl_cache_size;
    size_t                          limit_zone_size;
} ngx_http_shmingress_main_conf_t;


typedef struct {
    ngx_flag_t                      route;
    ngx_flag_t                      custom_error;
} ngx_http_shmingress_loc_conf_t;


ngx_http_shmingress_ctx_t *ngx_http_shmingress_get_ctx(
    ngx_http_request_t *r);

ngx_int_t ngx_http_shmingress_table_init_process(ngx_cycle_t *cycle,
    ngx_str_t *dir);
void ngx_http_shmingress_table_exit_process(ngx_cycle_t *cycle);
ngx_http_shmingress_table_t *ngx_http_shmingress_table_current(
    ngx_log_t *log);
void ngx_http_shmingress_table_pin(ngx_http_shmingress_table_t *t);
void ngx_http_shmingress_table_unpin(ngx_http_shmingress_table_t *t);

char *ngx_http_shmingress_balancer(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_shmingress_balancer_exit_process(ngx_cycle_t *cycle);
ngx_uint_t ngx_http_shmingress_balance_pick(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, ngx_uint_t load_balance);
uint64_t ngx_http_shmingress_endpoint_id(ngx_http_shmingress_ctx_t *ctx,
    ngx_uint_t k);
ngx_uint_t ngx_http_shmingress_hash_pick(ngx_http_shmingress_ctx_t *ctx,
    uint64_t key);

ngx_int_t ngx_http_shmingress_affinity_init(ngx_conf_t *cf);
ngx_int_t ngx_http_shmingress_affinity_canary(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_backend *primary,
    const tbl_backend *canary, const tbl_canary *cn);
ngx_uint_t ngx_http_shmingress_affinity_pick(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, ngx_uint_t load_balance);

ngx_int_t ngx_http_shmingress_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_shmingress_register_variables(ngx_conf_t *cf,
    ngx_http_variable_t *vars);
void ngx_http_shmingress_variable_set(ngx_http_variable_value_t *v,
    u_char *data, size_t len);

int ngx_http_shmingress_regex_route(void *data, const tbl_view *v,
    const tbl_route *route, const char *path, size_t path_len);
ngx_int_t ngx_http_shmingress_regex_search(ngx_http_request_t *r,
    const tbl_view *v, const tbl_canary *cn, ngx_str_t *subject);
void ngx_http_shmingress_regex_exit_process(ngx_cycle_t *cycle);

ngx_int_t ngx_http_shmingress_canary_choose(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v,
    const tbl_backend *primary, const tbl_canary *cn);
ngx_int_t ngx_http_shmingress_canary_names(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v, const tbl_backend *be);

/* room for a backend's service, port and upstream name */
#define ngx_http_shmingress_service_names_len(be)                            \
    ((be)->service_namespace.len + 2 * (be)->service_name.len                \
     + 2 * ngx_max((be)->port_name.len, NGX_INT32_LEN) + 2)

void ngx_http_shmingress_service_names(u_char *p,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v, const tbl_backend *be,
    ngx_str_t *upstream);

void ngx_http_shmingress_limit_prepare(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v,
    const tbl_route *route);
ngx_int_t ngx_http_shmingress_limit_init(ngx_conf_t *cf, size_t size);

ngx_int_t ngx_http_shmingress_access_init(ngx_conf_t *cf);

ngx_uint_t ngx_http_shmingress_client_addr(struct sockaddr *sa,
    const uint8_t **addr);
ngx_int_t ngx_http_shmingress_realip(ngx_http_request_t *r,
    const tbl_view *v);
ngx_int_t ngx_http_shmingress_realip_add_variables(ngx_conf_t *cf);

ngx_int_t ngx_http_shmingress_auth_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_shmingress_auth_basic(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx);

ngx_int_t ngx_http_shmingress_cors_init(ngx_conf_t *cf);

ngx_int_t ngx_http_shmingress_extauth_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_shmingress_extauth_init(ngx_conf_t *cf);
ngx_int_t ngx_http_shmingress_cors_preflight(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx);

ngx_int_t ngx_http_shmingress_upstream_prepare(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v,
    const tbl_route *route);
ngx_int_t ngx_http_shmingress_upstream_apply(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx);
ngx_int_t ngx_http_shmingress_upstream_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_shmingress_upstream_init(ngx_conf_t *cf);

ngx_int_t ngx_http_shmingress_protocol_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_shmingress_protocol_pass(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx);
void ngx_http_shmingress_protocol_apply(ngx_http_request_t *r);

char *ngx_http_shmingress_custom_error(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_shmingress_errors_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_shmingress_errors_init(ngx_conf_t *cf);
ngx_int_t ngx_http_shmingress_errors_prepare(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v,
    const tbl_backend **be);
ngx_int_t ngx_http_shmingress_errors_apply(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, ngx_http_upstream_conf_t *conf);

ngx_int_t ngx_http_shmingress_ssl_redirect_init(ngx_conf_t *cf);
ngx_int_t ngx_http_shmingress_ssl_redirect(ngx_http_request_t *r,
    const tbl_view *v, const tbl_route *route);

ngx_table_elt_t *ngx_http_shmingress_find_header(ngx_http_request_t *r,
    const char *name, size_t len);

ngx_int_t ngx_http_shmingress_redirect_www(ngx_http_request_t *r,
    const tbl_view *v, const tbl_match *m);
ngx_int_t ngx_http_shmingress_rewrite(ngx_http_request_t *r,
    ngx_http_shmingress_ctx_t *ctx, const tbl_view *v,
    const tbl_route *route);
ngx_int_t ngx_http_shmingress_redirect(ngx_http_request_t *r, ngx_uint_t code,
    ngx_str_t *url, ngx_uint_t relative);

#if (NGX_HTTP_SSL)
ngx_int_t ngx_http_shmingress_ssl_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_shmingress_ssl_init(ngx_conf_t *cf);
void ngx_http_shmingress_ssl_init_process(ngx_uint_t cache_size);
void ngx_http_shmingress_ssl_exit_process(void);
#endif


extern ngx_module_t  ngx_http_shmingress_module;


#endif /* _NGX_HTTP_SHMINGRESS_MODULE_H_INCLUDED_ */
