/*
 * tbl.h -- build, validate and read shmingress route tables.
 *
 * The builder is used by the controller: it collects vhosts, routes,
 * backends and endpoints that the caller has already resolved (conflicts
 * between Ingresses are the caller's business; the builder refuses a
 * duplicate key instead of picking a winner) and serializes them into
 * one self-contained buffer.  The view is used by nginx workers and the
 * tools: tbl_view_init() validates a whole buffer once, after which every
 * lookup is bounds-check free.  Nothing here allocates on the lookup
 * path or depends on nginx, curl or the controller.
 */
#ifndef SHMINGRESS_TBL_H
#define SHMINGRESS_TBL_H

#include <stddef.h>
#include <stdint.h>

#include "tbl_format.h"

/* A stable 64-bit hash, used for hash slots, ids and the checksum. */
uint64_t tbl_hash64(const void *data, size_t len, uint64_t seed);

/* ---------------------------------------------------------------- builder */

typedef struct tbl_builder tbl_builder;

tbl_builder *tbl_builder_new(void);
void tbl_builder_free(tbl_builder *b);

typedef struct {
    const char         *service_namespace;
    const char         *service_name;
    const char         *port_name;   /* NULL or "" when unnamed       */
    uint32_t            port;        /* 0 when unresolved             */
    uint32_t            flags;       /* TBL_BACKEND_*                 */
    const tbl_endpoint *endpoints;   /* ready endpoints, copied       */
    size_t              endpoint_count;
} tbl_backend_spec;

/*
 * Adds a backend, or returns the index of the backend already added for
 * the same namespace/name/port (the first spec wins).  TBL_NONE on
 * allocation failure, or when the spec has a NULL namespace or name or an
 * endpoint whose family is not 4 or 6.
 */
uint32_t tbl_builder_add_backend(tbl_builder *b, const tbl_backend_spec *spec);

/*
 * Returns the vhost for a host, creating it on first use: "" is the
 * catch-all, "*.suffix" a wildcard, anything else an exact host.  The
 * host must already be lower-case and valid.  TBL_NONE on failure.
 */
uint32_t tbl_builder_vhost(tbl_builder *b, const char *host);

/*
 * ORs TBL_VHOST_TLS and/or TBL_VHOST_REGEX into a vhost's flags (the
 * builder sets the other flags itself; adding a TBL_PATH_REGEX route sets
 * TBL_VHOST_REGEX too).  Returns -1 for an unknown vhost or other bits.
 */
int tbl_builder_set_vhost_flags(tbl_builder *b, uint32_t vhost,
                                uint32_t flags);

/*
 * Fixes header.built_at_ms (otherwise the wall clock at finish), so that
 * identical input gives byte-identical tables.
 */
void tbl_builder_set_built_at(tbl_builder *b, uint64_t ms);

/* "Exact", "Prefix", "ImplementationSpecific", ... for messages. */
const char *tbl_path_type_name(unsigned type);

typedef struct {
    const char *path;              /* NULL for TBL_PATH_DEFAULT     */
    uint8_t     path_type;         /* tbl_path_type                 */
    uint32_t    backend;           /* from add_backend, or NONE     */
    uint32_t    canary;            /* NONE until canaries exist     */
    uint32_t    policy;            /* NONE until policies exist     */
    const char *ingress_namespace;
    const char *ingress_name;
} tbl_route_spec;

/*
 * Adds a path route to a vhost.  Fails (returns -1 with a message in err)
 * when the vhost already has a route with the same match key: the same
 * Exact path, the same Prefix path once one trailing '/' is dropped, or
 * the same ImplementationSpecific or regex path.
 */
int tbl_builder_add_route(tbl_builder *b, uint32_t vhost,
                          const tbl_route_spec *spec, char *err,
                          size_t errlen);

/* A vhost's fallback when no path matches (an Ingress defaultBackend). */
int tbl_builder_set_vhost_default(tbl_builder *b, uint32_t vhost,
                                  const tbl_route_spec *spec, char *err,
                                  size_t errlen);

/* The global fallback (--default-backend-service); unset -> 404.   */
int tbl_builder_set_default(tbl_builder *b, const tbl_route_spec *spec,
                            char *err, size_t errlen);

/*
 * Serializes everything into a new malloc'd buffer (*out, *out_len) with
 * the given generation.  The builder may be reused or freed afterwards.
 * After any out-of-memory failure of an earlier call, finish fails too.
 */
int tbl_builder_finish(tbl_builder *b, uint64_t generation, uint8_t **out,
                       size_t *out_len, char *err, size_t errlen);

/* ------------------------------------------------------------------- view */

typedef struct {
    const uint8_t      *base;
    size_t              size;
    const tbl_header   *hdr;
    const char         *strings;
    size_t              strings_len;
    const uint8_t      *blobs;
    size_t              blobs_len;
    const tbl_vhost    *vhosts;
    uint32_t            vhost_count;
    const tbl_slot     *host_exact;
    uint32_t            host_exact_cap;
    const tbl_slot     *host_wildcard;
    uint32_t            host_wildcard_cap;
    const tbl_route    *routes;
    uint32_t            route_count;
    const tbl_slot     *path_exact;
    uint32_t            path_exact_cap;
    const tbl_slot     *path_prefix;
    uint32_t            path_prefix_cap;
    const uint32_t     *route_lists;
    uint32_t            route_list_len;
    const tbl_backend  *backends;
    uint32_t            backend_count;
    const tbl_endpoint *endpoints;
    uint32_t            endpoint_count;
    /* Optional sections: NULL and 0 when the table does not carry them. */
    const tbl_canary   *canaries;
    uint32_t            canary_count;
    const tbl_policy   *policies;
    uint32_t            policy_count;
    const tbl_cert     *certs;
    uint32_t            cert_count;
    const tbl_slot     *sni_exact;
    uint32_t            sni_exact_cap;
    const tbl_slot     *sni_wildcard;
    uint32_t            sni_wildcard_cap;
    const tbl_cidr     *cidrs;
    uint32_t            cidr_count;
    const tbl_config   *config; /* NULL: built-in defaults            */
} tbl_view;

/*
 * Validates the whole buffer (magic, version, sizes, checksum, every
 * offset, count, index and string) and fills the view.  Returns 0, or -1
 * with the first problem found in err.  The buffer must stay mapped for
 * as long as the view is used.
 */
int tbl_view_init(tbl_view *v, const void *data, size_t size, char *err,
                  size_t errlen);

static inline const char *
tbl_view_str(const tbl_view *v, tbl_str s)
{
    return v->strings + s.off;
}

/* Bytes of a BLOBS reference (certificate chains, keys, htpasswd). */
static inline const uint8_t *
tbl_view_blob(const tbl_view *v, tbl_str s)
{
    return v->blobs + s.off;
}

typedef enum {
    TBL_MATCH_NONE = 0,     /* nothing: answer 404                    */
    TBL_MATCH_EXACT,        /* an Exact path                          */
    TBL_MATCH_PREFIX,       /* a Prefix path                          */
    TBL_MATCH_IMPL,         /* an ImplementationSpecific prefix       */
    TBL_MATCH_REGEX,        /* a regex path                           */
    TBL_MATCH_HOST_DEFAULT, /* the vhost's defaultBackend             */
    TBL_MATCH_DEFAULT       /* the global default route               */
} tbl_match_kind;

typedef enum {
    TBL_HOST_NONE = 0, /* no vhost at all (not even a catch-all)       */
    TBL_HOST_EXACT,
    TBL_HOST_WILDCARD,
    TBL_HOST_CATCHALL
} tbl_host_kind;

typedef struct {
    uint32_t vhost;     /* NONE when host_kind is TBL_HOST_NONE       */
    uint32_t route;     /* NONE when kind is TBL_MATCH_NONE           */
    uint8_t  kind;      /* tbl_match_kind                              */
    uint8_t  host_kind; /* tbl_host_kind                               */
} tbl_match;

/*
 * Regex paths are matched by the caller (the module caches compiled
 * patterns per worker); NULL skips regex routes.  Returns nonzero on a
 * match.
 */
typedef int (*tbl_regex_fn)(void *ctx, const tbl_view *v,
                            const tbl_route *route, const char *path,
                            size_t path_len);

/*
 * Routes one request.  host is the raw Host header (any case, may carry
 * ":port" or a trailing dot, may be an IP or "[v6]:port"); path is the
 * normalized request path without the query string.
 */
void tbl_lookup(const tbl_view *v, const char *host, size_t host_len,
                const char *path, size_t path_len, tbl_regex_fn regex,
                void *regex_ctx, tbl_match *out);

/*
 * Normalizes a Host header into buf (lower-case, port and trailing dot
 * removed).  Returns the length, or -1 when it cannot be a host name.
 */
int tbl_normalize_host(const char *host, size_t len, char *buf,
                       size_t buflen);

/*
 * The certificate for a TLS server name: SNI_EXACT, then SNI_WILDCARD
 * (one label), then header.default_cert.  sni is raw (normalized here
 * like a Host header); NULL or "" selects the default.  Returns a CERTS
 * index or TBL_NONE.
 */
uint32_t tbl_lookup_cert(const tbl_view *v, const char *sni, size_t len);

#endif
