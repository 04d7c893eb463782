/*
 * model_fixture.h -- helpers for tests that build a store from inline
 * JSON, run the model into a real table and route requests through it.
 * JSON in tests is written with single quotes, which the helpers turn
 * into double quotes, so fixtures stay readable C string literals.
 */
#ifndef SHMINGRESS_TEST_MODEL_FIXTURE_H
#define SHMINGRESS_TEST_MODEL_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "model.h"
#include "store.h"
#include "tbl.h"

/* Joins string literals with "," (JSON list members), up to eight. */
#define FX_J1(a) a
#define FX_J2(a, ...) a "," FX_J1(__VA_ARGS__)
#define FX_J3(a, ...) a "," FX_J2(__VA_ARGS__)
#define FX_J4(a, ...) a "," FX_J3(__VA_ARGS__)
#define FX_J5(a, ...) a "," FX_J4(__VA_ARGS__)
#define FX_J6(a, ...) a "," FX_J5(__VA_ARGS__)
#define FX_J7(a, ...) a "," FX_J6(__VA_ARGS__)
#define FX_J8(a, ...) a "," FX_J7(__VA_ARGS__)
#define FX_JN(_1, _2, _3, _4, _5, _6, _7, _8, N, ...) N
#define FX_JOIN(...)                                                        \
    FX_JN(__VA_ARGS__, FX_J8, FX_J7, FX_J6, FX_J5, FX_J4, FX_J3, FX_J2,     \
          FX_J1, )(__VA_ARGS__)

/* Spec fragments, single-quoted JSON. */
#define FX_BACKEND(svc, port)                                               \
    "{'service':{'name':'" svc "','port':{'number':" #port "}}}"
#define FX_PATH(path, type, svc, port)                                      \
    "{'path':'" path "','pathType':'" type "','backend':"                   \
    FX_BACKEND(svc, port) "}"
#define FX_RULE(host, ...)                                                  \
    "{'host':'" host "','http':{'paths':[" FX_JOIN(__VA_ARGS__) "]}}"
#define FX_RULES(...) "'rules':[" FX_JOIN(__VA_ARGS__) "]"
#define FX_DEFAULT(svc, port) "'defaultBackend':" FX_BACKEND(svc, port)

typedef struct {
    ctl_store       *store;
    ctl_model_config cfg;
    ctl_model_stats  stats;
    uint8_t         *table;
    size_t           table_len;
    tbl_view         view;
    char             answer[256];
} fixture;

/* A fresh store and the flag defaults (class shmingress, controller
 * shmingress.io/controller, prefix nginx.ingress.kubernetes.io). */
void fx_init(fixture *f);
void fx_free(fixture *f);

/* fx_init, our IngressClass (the default) and Service default/a port 80
 * with one endpoint 10.0.0.1:8080: what a one-service test starts from. */
void fx_init_service_a(fixture *f);

/* Puts one object given as single-quoted JSON (printf format). */
void fx_put(fixture *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * An Ingress in namespace ns with the given creationTimestamp (NULL for
 * none), extra metadata members (e.g. "'annotations':{...}" or ""), and
 * spec members.
 */
void fx_ingress(fixture *f, const char *ns, const char *name,
                const char *created, const char *meta, const char *spec);

/* Ingress default/name: host, Prefix "/" to Service a:80, with the
 * annotations members ann (single-quoted JSON, may be ""). */
void fx_annotated_ingress(fixture *f, const char *name, const char *host,
                          const char *ann);

/* Our IngressClass "shmingress" (controller shmingress.io/controller). */
void fx_our_class(fixture *f, const char *name, int is_default);

/*
 * A Service with one port (name may be "") and one EndpointSlice with
 * one ready IPv4 endpoint ip:target.
 */
void fx_service(fixture *f, const char *ns, const char *name,
                const char *port_name, int port, int target, const char *ip);

/* Runs the model, serializes, validates and opens the table. */
void fx_build(fixture *f);

/* Routes host+path.  Returns "404", or "<service>:<port>" of the route's
 * backend, with "!missing", "!port", "!noep" appended for flags. */
const char *fx_route(fixture *f, const char *host, const char *path);

/* The backend a request reaches (asserts that there is one). */
const tbl_backend *fx_backend(fixture *f, const char *host, const char *path);

/* The Ingress ("ns/name") whose route answers, or "" for none. */
const char *fx_route_owner(fixture *f, const char *host, const char *path);

/* The policy of the route answering host "/" (asserts a route; NULL for
 * a route without a policy). */
const tbl_policy *fx_policy(fixture *f, const char *host);

/* The first route (not a default backend) of Ingress name (asserts that
 * there is one). */
const tbl_route *fx_route_of(fixture *f, const char *name);

/* Captures stderr (log lines) into a buffer between start and stop. */
void fx_capture_start(void);
const char *fx_capture_stop(void);

#endif
