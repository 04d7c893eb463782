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

/*
 * What a serialized table says, as one number: the same for two tables
 * that differ only in generation and built_at_ms, so a publisher can
 * skip a rebuild that changed nothing.  Reads only the header (the
 * checksum there covers every section), so the table must come from
 * tbl_builder_finish or have passed tbl_view_init.
 */
uint64_t tbl_content_hash(const void *table);

/* ---------------------------------------------------------------- builder */

typedef struct tbl_builder tbl_builder;

tbl_builder *tbl_builder_new(void);
void tbl_builder_free(tbl_builder *b);

/*
 * Forgets everything added so far (and a fixed built_at) but keeps the
 * memory, so a long-lived builder rebuilds without allocating again.
 * Secret bytes (keys, auth secrets) are wiped.
 */
void tbl_builder_reset(tbl_builder *b);

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
 * server-alias: host (lower-case; "a.b" exact or "*.b" wildcard) becomes
 * another name of an existing vhost: one more HOST_EXACT or
 * HOST_WILDCARD slot naming it.  A host a rule names always wins: -1
 * with a message when host is already a vhost's host or an alias, is not
 * a host name, or vhost is unknown or the catch-all; and an alias whose
 * host gets a vhost later is left out of the table.
 */
int tbl_builder_add_alias(tbl_builder *b, uint32_t vhost, const char *host,
                          char *err, size_t errlen);

/* The vhost an alias added with tbl_builder_add_alias names, or NONE. */
uint32_t tbl_builder_alias_vhost(const tbl_builder *b, const char *host);

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
    uint32_t    canary;            /* from add_canary, or NONE      */
    uint32_t    policy;            /* from add_policy, or NONE      */
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

/* ------------------------------------------------------ certificates, SNI */

typedef struct {
    const uint8_t *chain;     /* DER certificates, leaf first, simply
                                 concatenated (d2i reads them in turn) */
    size_t         chain_len; /* > 0                                   */
    const uint8_t *key;       /* DER private key (secret)              */
    size_t         key_len;   /* > 0                                   */
    uint64_t       not_after; /* leaf expiry, unix seconds             */
    uint32_t       flags;     /* TBL_CERT_*                            */
    const char    *secret_namespace; /* for logs; NULL -> ""           */
    const char    *secret_name;
} tbl_cert_spec;

/*
 * Adds a certificate to CERTS, or returns the index of the one already
 * added with the same chain and key bytes (its content hash): the first
 * spec's secret names stay, flags are ORed.  The builder computes
 * content_hash itself (docs/table-format.md).  TBL_NONE with a message
 * for an empty chain or key, unknown flags, or no memory.
 */
uint32_t tbl_builder_add_cert(tbl_builder *b, const tbl_cert_spec *spec,
                              char *err, size_t errlen);

/*
 * Maps a TLS server name to a certificate: "a.b" into SNI_EXACT,
 * "*.b" into SNI_WILDCARD.  The name must be lower-case (SNI is
 * matched lower-cased).  Adding the same name with the same cert again
 * is a no-op; with a different cert it fails, naming both: the caller
 * resolves conflicts (the builder never picks a winner).
 */
int tbl_builder_add_sni(tbl_builder *b, const char *host, uint32_t cert,
                        char *err, size_t errlen);

/*
 * header.default_cert (served when no SNI name matches) and
 * TBL_CERT_DEFAULT on that record.  -1 for an unknown index.  A later
 * call replaces the earlier choice.
 */
int tbl_builder_set_default_cert(tbl_builder *b, uint32_t cert);

/*
 * vhost.cert, and TBL_VHOST_TLS on the vhost.  -1 for an unknown vhost
 * or cert, or when the vhost already has a different cert.  (A tls[]
 * entry without a secret marks the vhost with tbl_builder_set_vhost_flags
 * and leaves cert NONE: the default certificate serves it.)
 */
int tbl_builder_set_vhost_cert(tbl_builder *b, uint32_t vhost, uint32_t cert);

/* ------------------------------------------------------------- policies */

/*
 * A POLICIES record with C strings, byte arrays and CIDR arrays instead
 * of offsets.  Fields mean what they mean in tbl_policy (tbl_format.h);
 * NULL strings are "".  Start from tbl_policy_spec_init(): a zeroed
 * spec would name backend 0 as default_backend.
 */
typedef struct {
    uint32_t        flags;            /* TBL_POL_*                       */
    uint16_t        redirect_code;    /* 300..308 iff redirect_url set   */
    uint8_t         auth_type;        /* tbl_auth_type                   */
    uint8_t         backend_protocol; /* tbl_backend_protocol            */
    const char     *redirect_url;
    const char     *app_root;
    const char     *rewrite_target;
    const char     *x_forwarded_prefix;
    uint32_t        limit_rps;
    uint32_t        limit_rpm;
    uint32_t        limit_burst_multiplier;
    uint32_t        limit_connections;
    const tbl_cidr *limit_allow;      /* limit-whitelist               */
    size_t          limit_allow_count;
    const tbl_cidr *allow;            /* whitelist-source-range        */
    size_t          allow_count;
    const tbl_cidr *deny;             /* denylist-source-range         */
    size_t          deny_count;
    const char     *auth_realm;
    const uint8_t  *auth_secret;      /* htpasswd / htdigest (secret)  */
    size_t          auth_secret_len;
    const char     *auth_url;
    const char     *auth_method;
    const char     *auth_signin;
    const char     *auth_response_headers;
    uint32_t        connect_timeout_ms;
    uint32_t        send_timeout_ms;
    uint32_t        read_timeout_ms;
    uint32_t        next_upstream;    /* TBL_NEXT_*                      */
    uint32_t        next_upstream_tries;
    uint32_t        next_upstream_timeout_ms;
    uint64_t        body_size_max;
    const char     *upstream_vhost;
    uint8_t         load_balance;     /* tbl_load_balance                */
    uint8_t         affinity_mode;    /* tbl_affinity_mode               */
    uint32_t        affinity_max_age;
    const char     *hash_by;
    const char     *affinity_cookie_name;
    const char     *affinity_cookie_path;
    const char     *cors_allow_origin;
    const char     *cors_allow_methods;
    const char     *cors_allow_headers;
    const char     *cors_expose_headers;
    uint32_t        cors_max_age;
    uint32_t        default_backend;  /* from add_backend, or NONE       */
    uint64_t        custom_errors[TBL_CUSTOM_ERRORS_WORDS];
    const char     *auth_request_redirect;
    const char     *affinity_cookie_domain;
    const char     *affinity_cookie_samesite;
} tbl_policy_spec;

/* All zero, default_backend NONE. */
void tbl_policy_spec_init(tbl_policy_spec *spec);

/*
 * Adds a policy, or returns the index of an identical one (identical
 * content, CIDR lists compared as sets): many routes share one record.
 * CIDRs may be in any order and overlap and may carry host bits (they
 * are cleared); the builder stores each list sorted and minimal, which
 * is what tbl_cidr_match relies on.  policy_id is a hash of the content,
 * with default_backend hashed by its stable backend_id.  TBL_NONE with a
 * message naming the field when a value is out of range (what
 * tbl_view_init would refuse) or on no memory.
 */
uint32_t tbl_builder_add_policy(tbl_builder *b, const tbl_policy_spec *spec,
                                char *err, size_t errlen);

/* vhost.policy (server-level annotations).  -1 for an unknown index.   */
int tbl_builder_set_vhost_policy(tbl_builder *b, uint32_t vhost,
                                 uint32_t policy);

/* ------------------------------------------------------------- canaries */

typedef struct {
    uint32_t    backend;      /* from add_backend, or NONE (503)       */
    uint32_t    weight;       /* <= weight_total                       */
    uint32_t    weight_total; /* >= 1, already resolved                */
    uint32_t    flags;        /* TBL_CANARY_*                          */
    const char *header;       /* NULL or "" when unset                 */
    const char *header_value;
    const char *header_pattern;
    const char *cookie;
    const char *ingress_namespace; /* the canary Ingress               */
    const char *ingress_name;
    const char *host;         /* the rule it serves: with the Ingress  */
    const char *path;         /* the key of the stable canary_id       */
} tbl_canary_spec;

/*
 * Adds a canary (tbl_route_spec.canary refers to it), or returns the
 * index of an identical one.  canary_id = hash of ingress namespace,
 * name, host and path.  TBL_NONE with a message for bad flags, weights
 * or backend index, or no memory.
 */
uint32_t tbl_builder_add_canary(tbl_builder *b, const tbl_canary_spec *spec,
                                char *err, size_t errlen);

/* --------------------------------------------------------------- config */

/* The CONFIG record with C strings and CIDR arrays instead of offsets. */
typedef struct {
    uint32_t        flags;                  /* TBL_CFG_*               */
    uint16_t        http_redirect_code;     /* 300..308                */
    uint16_t        limit_req_status_code;  /* 400..599                */
    uint16_t        limit_conn_status_code; /* 400..599                */
    uint8_t         load_balance;           /* tbl_load_balance        */
    uint32_t        hsts_max_age;
    uint32_t        connect_timeout_ms;
    uint32_t        send_timeout_ms;
    uint32_t        read_timeout_ms;
    uint32_t        next_upstream;          /* TBL_NEXT_*              */
    uint32_t        next_upstream_tries;
    uint32_t        next_upstream_timeout_ms;
    uint64_t        body_size_max;
    const char     *forwarded_for_header;
    const char     *no_tls_redirect_locations;
    const char     *global_auth_url;
    const tbl_cidr *allow;                  /* whitelist-source-range  */
    size_t          allow_count;
    const tbl_cidr *deny;                   /* denylist-source-range   */
    size_t          deny_count;
    const tbl_cidr *block;                  /* block-cidrs             */
    size_t          block_count;
    uint64_t        custom_errors[TBL_CUSTOM_ERRORS_WORDS];
    const tbl_cidr *real_ip;                /* proxy-real-ip-cidr      */
    size_t          real_ip_count;
} tbl_config_spec;

/*
 * ingress-nginx's ConfigMap defaults: HSTS on (max-age 31536000,
 * includeSubDomains, no preload), ssl-redirect on, force-ssl-redirect
 * and proxy-buffering off, redirect code 308, limit status codes 503,
 * round_robin, timeouts 5s/60s/60s, next upstream "error timeout" with
 * 3 tries and no time limit, body size 1m, X-Forwarded-For,
 * no-tls-redirect-locations "/.well-known/acme-challenge", no lists
 * (no peer is trusted to name the client: the controller writes
 * proxy-real-ip-cidr's default 0.0.0.0/0 itself).
 */
void tbl_config_spec_defaults(tbl_config_spec *spec);

/*
 * Sets the CONFIG record.  Without a call the table carries the
 * defaults above.  -1 with a message naming the field for a value
 * tbl_view_init would refuse, or on no memory.
 */
int tbl_builder_set_config(tbl_builder *b, const tbl_config_spec *spec,
                           char *err, size_t errlen);

/*
 * Parses "a.b.c.d", "a.b.c.d/n", "v6" or "v6/n" (no spaces; a bare
 * address is a /32 or /128) into *out with host bits cleared.  0, or -1
 * when s is not a CIDR.
 */
int tbl_cidr_parse(const char *s, size_t len, tbl_cidr *out);

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

/*
 * Bytes of a BLOBS reference (certificate chains, keys, htpasswd).  An
 * empty reference gives an empty byte string even in a table without
 * BLOBS.
 */
static inline const uint8_t *
tbl_view_blob(const tbl_view *v, tbl_str s)
{
    return s.len > 0 ? v->blobs + s.off : (const uint8_t *)"";
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

/*
 * Records by index; NULL for TBL_NONE (or any index the table lacks),
 * so route->policy and route->canary can be passed as they are.
 */
static inline const tbl_policy *
tbl_view_policy(const tbl_view *v, uint32_t i)
{
    return i < v->policy_count ? &v->policies[i] : NULL;
}

static inline const tbl_canary *
tbl_view_canary(const tbl_view *v, uint32_t i)
{
    return i < v->canary_count ? &v->canaries[i] : NULL;
}

static inline const tbl_cert *
tbl_view_cert(const tbl_view *v, uint32_t i)
{
    return i < v->cert_count ? &v->certs[i] : NULL;
}

static inline const tbl_backend *
tbl_view_backend(const tbl_view *v, uint32_t i)
{
    return i < v->backend_count ? &v->backends[i] : NULL;
}

/*
 * The global settings: the table's CONFIG record, or for a table without
 * one the built-in defaults (tbl_config_spec_defaults) with every string
 * empty.  An empty forwarded_for_header means X-Forwarded-For.
 */
const tbl_config *tbl_view_config(const tbl_view *v);

/*
 * Whether addr (4 bytes for family 4, 16 for family 6, network order)
 * lies in one of the CIDRS [first, first + count) -- a range from a
 * policy or the config, which the builder stores sorted and minimal and
 * the validator checks, so this is one binary search.  An IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) is matched as IPv4, like nginx's allow
 * and deny.  Returns 1 or 0.
 */
int tbl_cidr_match(const tbl_view *v, uint32_t first, uint32_t count,
                   const uint8_t *addr, int family);

#endif
