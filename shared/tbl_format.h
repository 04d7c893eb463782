/*
 * tbl_format.h -- the on-disk layout of a shmingress route table.
 *
 * A table file is written once by the controller and mapped read-only by
 * every nginx worker.  Everything here is fixed-width, little-endian, and
 * free of struct padding (checked by static asserts); references between
 * records are 32-bit indexes into sections, and strings are (offset,length)
 * pairs into the string pool.  This header describes bytes only: building
 * a table lives in tbl_builder*.c, checking one (tbl_view_init) in
 * tbl_validate.c, and reading one in tbl_lookup.c.  docs/table-format.md
 * is the prose version.
 */
#ifndef SHMINGRESS_TBL_FORMAT_H
#define SHMINGRESS_TBL_FORMAT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* <assert.h> defines static_assert only for C11; the module may be gnu99. */
#ifndef static_assert
#define static_assert _Static_assert
#endif

/* Records are mapped in place: the host must be little-endian. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "shmingress route tables are little-endian"
#endif

#define TBL_MAGIC          0x4c42544953474e49ull /* "INGSTBL" + 'L' LE  */
#define TBL_FORMAT_VERSION 1u
#define TBL_NONE           0xffffffffu /* "no index" in any u32 reference */
#define TBL_ALIGN          8u          /* every section starts 8-aligned   */
#define TBL_MAX_HOST_LEN   253u
#define TBL_MAX_PATH_LEN   4096u

/*
 * A reference into the STRINGS section (or, for binary data, the BLOBS
 * section).  Every string in the pool is followed by one NUL byte that
 * the validator checks, so readers may pass pool pointers to C APIs.
 */
typedef struct {
    uint32_t off;
    uint32_t len;
} tbl_str;

typedef enum {
    TBL_SEC_STRINGS = 1,       /* char pool, NUL after each string     */
    TBL_SEC_BLOBS = 2,         /* binary pool (DER certificates, keys) */
    TBL_SEC_VHOSTS = 3,        /* tbl_vhost[]                          */
    TBL_SEC_HOST_EXACT = 4,    /* tbl_slot[] hash: host -> vhost       */
    TBL_SEC_HOST_WILDCARD = 5, /* tbl_slot[] hash: suffix -> vhost     */
    TBL_SEC_ROUTES = 6,        /* tbl_route[]                          */
    TBL_SEC_PATH_EXACT = 7,    /* tbl_slot[] hash: (vhost,path)->route */
    TBL_SEC_PATH_PREFIX = 8,   /* tbl_slot[] hash: (vhost,norm path)   */
    TBL_SEC_ROUTE_LISTS = 9,   /* uint32_t[] route indexes (ordered)   */
    TBL_SEC_BACKENDS = 10,     /* tbl_backend[]                        */
    TBL_SEC_ENDPOINTS = 11,    /* tbl_endpoint[]                       */
    TBL_SEC_CANARIES = 12,     /* canary rules          (issue: annotations I) */
    TBL_SEC_POLICIES = 13,     /* per-route policies    (annotations I/II)     */
    TBL_SEC_CERTS = 14,        /* certificates          (issue: TLS)           */
    TBL_SEC_SNI_EXACT = 15,    /* tbl_slot[] hash: SNI -> cert         */
    TBL_SEC_SNI_WILDCARD = 16, /* tbl_slot[] hash: suffix -> cert      */
    TBL_SEC_CIDRS = 17,        /* address ranges for allow/deny lists  */
    TBL_SEC_CONFIG = 18,       /* exactly one global settings record   */
    TBL_SEC_KIND_MAX = 18
} tbl_section_kind;

/*
 * File header, at offset 0.  The checksum covers bytes
 * [header_size, file_size): the section directory and every section.
 * Header fields are validated one by one.
 */
typedef struct {
    uint64_t magic;
    uint32_t format_version;
    uint32_t header_size;     /* sizeof(tbl_header)                   */
    uint64_t file_size;
    uint64_t generation;      /* equals the N of table.N              */
    uint64_t checksum;        /* tbl_hash64(bytes, TBL_CHECKSUM_SEED) */
    uint64_t built_at_ms;     /* wall clock, for operators only        */
    uint32_t section_count;   /* directory follows the header          */
    uint32_t flags;
    uint32_t catchall_vhost;  /* vhost for rules without host, or NONE */
    uint32_t default_route;   /* --default-backend-service, or NONE    */
    uint32_t default_cert;    /* CERTS index, or NONE                  */
    uint32_t reserved0;
    uint64_t reserved[2];
} tbl_header;

#define TBL_CHECKSUM_SEED 0x73686d696e677265ull

typedef struct {
    uint32_t kind;       /* tbl_section_kind                        */
    uint32_t entry_size; /* sizeof one record; 1 for byte pools     */
    uint64_t offset;     /* from file start, TBL_ALIGN aligned      */
    uint64_t count;      /* records (bytes for pools)               */
} tbl_section;

/*
 * Open-addressing hash slot, used by every hash section.  The section's
 * count is the capacity, a power of two; probing is linear from
 * hash & (count - 1).  An empty slot has value == TBL_NONE.  A hash
 * section of count 0 is an empty set.
 *   HOST_EXACT:    key = lower-case host, scope 0, value = vhost
 *   HOST_WILDCARD: key = the part after "*." , scope 0, value = vhost
 *   PATH_EXACT:    key = path as written, scope = vhost, value = route
 *   PATH_PREFIX:   key = path without its trailing '/' ("/" stays "/"),
 *                  scope = vhost, value = route
 *   SNI_*:         like HOST_*, value = cert
 * hash = tbl_hash64(key, TBL_HASH_SEED ^ scope).
 */
typedef struct {
    uint64_t hash;
    tbl_str  key;
    uint32_t value;
    uint32_t scope;
} tbl_slot;

#define TBL_HASH_SEED 0x9e3779b97f4a7c15ull

enum {
    TBL_VHOST_WILDCARD = 1u << 0, /* host was "*.suffix"               */
    TBL_VHOST_CATCHALL = 1u << 1, /* rules without host                */
    TBL_VHOST_TLS = 1u << 2,      /* a tls[] entry names this host     */
    TBL_VHOST_REGEX = 1u << 3     /* paths are matched as regexes      */
};

typedef struct {
    tbl_str  host;          /* as written: "a.b", "*.b", or ""          */
    uint32_t flags;         /* TBL_VHOST_*                              */
    uint32_t default_route; /* an owning Ingress's spec.defaultBackend  */
    uint32_t impl_first;    /* ROUTE_LISTS: ImplementationSpecific      */
    uint32_t impl_count;    /*   string-prefix routes, longest first    */
    uint32_t regex_first;   /* ROUTE_LISTS: regex routes, in match      */
    uint32_t regex_count;   /*   order                                  */
    uint32_t cert;          /* CERTS index or NONE                      */
    uint32_t policy;        /* server-level POLICIES index or NONE      */
    /*
     * Lookup filters: bit min(len, 63) is set for the length of every
     * Exact path / Prefix key of this vhost, so a lookup hashes and
     * probes only the request-path prefixes whose length some rule has.
     */
    uint64_t exact_lengths;
    uint64_t prefix_lengths;
} tbl_vhost;

/* The bit of a key length in tbl_vhost.exact_lengths/prefix_lengths. */
#define TBL_LENGTH_BIT(len) (1ull << ((len) < 63 ? (len) : 63))

typedef enum {
    TBL_PATH_EXACT = 1,
    TBL_PATH_PREFIX = 2,
    TBL_PATH_IMPL = 3,    /* ImplementationSpecific: string prefix      */
    TBL_PATH_REGEX = 4,   /* use-regex / regex ImplementationSpecific   */
    TBL_PATH_DEFAULT = 5  /* a defaultBackend, not reached through a path */
} tbl_path_type;

typedef struct {
    tbl_str  path;              /* as written in the Ingress             */
    uint8_t  path_type;         /* tbl_path_type                         */
    uint8_t  flags;
    uint16_t reserved0;
    uint32_t vhost;             /* NONE for the global default route     */
    uint32_t backend;           /* BACKENDS index; NONE -> 503           */
    uint32_t canary;            /* CANARIES index or NONE                */
    uint32_t policy;            /* POLICIES index or NONE                */
    tbl_str  ingress_namespace; /* "" for the controller's own defaults  */
    tbl_str  ingress_name;
    uint32_t reserved1;
    uint64_t route_id;          /* stable across tables: hash of
                                   ns/name/host/path/type               */
} tbl_route;

enum {
    TBL_BACKEND_SERVICE_MISSING = 1u << 0, /* no such Service           */
    TBL_BACKEND_PORT_MISSING = 1u << 1,    /* Service lacks the port    */
    TBL_BACKEND_NO_ENDPOINTS = 1u << 2     /* no ready endpoint         */
};

typedef struct {
    tbl_str  service_namespace;
    tbl_str  service_name;
    tbl_str  port_name;       /* Service port name, "" if unnamed      */
    uint32_t port;            /* Service port number, 0 if unresolved  */
    uint32_t flags;           /* TBL_BACKEND_*                         */
    uint32_t endpoint_first;  /* ENDPOINTS index                       */
    uint32_t endpoint_count;  /* ready endpoints only                  */
    uint64_t backend_id;      /* stable: hash of ns/name/port          */
} tbl_backend;

enum {
    TBL_EP_READY = 1u << 0,
    TBL_EP_SERVING = 1u << 1,
    TBL_EP_TERMINATING = 1u << 2
};

typedef struct {
    uint8_t  addr[16];  /* IPv4 in addr[0..3], IPv6 in all 16         */
    uint16_t port;      /* host byte order, little-endian on disk     */
    uint8_t  family;    /* 4 or 6                                     */
    uint8_t  flags;     /* TBL_EP_*                                   */
    uint32_t reserved;
} tbl_endpoint;

/*
 * ------------------------------------------------------------------------
 * Sections for canaries, policies, TLS and global settings.  Their
 * layouts are fixed now so the format changes once; the validator checks
 * them whenever a table carries them, and readers treat a missing section
 * as "none" (CONFIG: built-in defaults).  Every index is TBL_NONE or in
 * range, every tbl_str points into STRINGS except the fields marked BLOBS,
 * and every "first, count" pair is a range of CIDRS.
 * ------------------------------------------------------------------------
 */

/* An address range; host bits beyond prefix_len are zero. */
typedef struct {
    uint8_t addr[16];   /* IPv4 in addr[0..3], IPv6 in all 16         */
    uint8_t family;     /* 4 or 6                                     */
    uint8_t prefix_len; /* <= 32 for IPv4, <= 128 for IPv6            */
    uint8_t reserved[6];
} tbl_cidr;

enum {
    TBL_CANARY_BY_HEADER = 1u << 0,         /* header "always"/"never"   */
    TBL_CANARY_BY_HEADER_VALUE = 1u << 1,   /* header == header_value    */
    TBL_CANARY_BY_HEADER_PATTERN = 1u << 2, /* header =~ header_pattern  */
    TBL_CANARY_BY_COOKIE = 1u << 3,         /* cookie "always"/"never"   */
    TBL_CANARY_AFFINITY_LEGACY = 1u << 4    /* affinity-canary-behavior  */
};

/*
 * The alternative backend of a route (tbl_route.canary): header rule,
 * then cookie rule, then weight, as ingress-nginx evaluates them.
 */
typedef struct {
    uint32_t backend;           /* BACKENDS index or NONE (-> 503)     */
    uint32_t weight;            /* <= weight_total                     */
    uint32_t weight_total;      /* >= 1, already resolved (100 when
                                   the annotation says less)            */
    uint32_t flags;             /* TBL_CANARY_*                        */
    tbl_str  header;            /* canary-by-header, "" if unset       */
    tbl_str  header_value;      /* canary-by-header-value              */
    tbl_str  header_pattern;    /* canary-by-header-pattern (PCRE)     */
    tbl_str  cookie;            /* canary-by-cookie                    */
    tbl_str  ingress_namespace; /* the canary Ingress                  */
    tbl_str  ingress_name;
    uint64_t canary_id;         /* stable: hash of ns/name/host/path   */
    uint32_t reserved[4];
} tbl_canary;

enum {
    TBL_POL_SSL_REDIRECT = 1u << 0,
    TBL_POL_FORCE_SSL_REDIRECT = 1u << 1,
    TBL_POL_PRESERVE_TRAILING_SLASH = 1u << 2,
    TBL_POL_FROM_TO_WWW = 1u << 3,
    TBL_POL_DENIED = 1u << 4,            /* fail closed: answer 503     */
    TBL_POL_PROXY_BUFFERING = 1u << 5,
    TBL_POL_REQUEST_BUFFERING = 1u << 6,
    TBL_POL_CORS = 1u << 7,
    TBL_POL_CORS_CREDENTIALS = 1u << 8,
    TBL_POL_AFFINITY_SECURE = 1u << 9,   /* Secure attribute on cookie  */
    TBL_POL_RELATIVE_REDIRECTS = 1u << 10,
    TBL_POL_AFFINITY_CHANGE_ON_FAILURE = 1u << 11, /* re-pin on failure */
    TBL_POL_AUTH_ALWAYS_SET_COOKIE = 1u << 12,     /* auth cookies on
                                                      every answer     */
    TBL_POL_FLAGS_ALL = (1u << 13) - 1
};

typedef enum {
    TBL_AUTH_NONE = 0,
    TBL_AUTH_BASIC = 1,    /* auth_secret holds htpasswd lines        */
    TBL_AUTH_DIGEST = 2,   /* auth_secret holds htdigest lines        */
    TBL_AUTH_EXTERNAL = 3, /* auth-url subrequest                     */
    TBL_AUTH_MAX = 3
} tbl_auth_type;

typedef enum {
    TBL_PROTO_HTTP = 0,
    TBL_PROTO_HTTPS = 1,
    TBL_PROTO_AUTO_HTTP = 2,
    TBL_PROTO_GRPC = 3,
    TBL_PROTO_GRPCS = 4,
    TBL_PROTO_FCGI = 5,
    TBL_PROTO_MAX = 5
} tbl_backend_protocol;

typedef enum {
    TBL_LB_ROUND_ROBIN = 0,
    TBL_LB_EWMA = 1,
    TBL_LB_HASH = 2,        /* consistent hash on hash_by              */
    TBL_LB_HASH_SUBSET = 3, /* upstream-hash-by-subset                 */
    TBL_LB_MAX = 3
} tbl_load_balance;

typedef enum {
    TBL_AFFINITY_NONE = 0,
    TBL_AFFINITY_BALANCED = 1,
    TBL_AFFINITY_PERSISTENT = 2,
    TBL_AFFINITY_MAX = 2
} tbl_affinity_mode;

enum { /* proxy-next-upstream conditions */
    TBL_NEXT_ERROR = 1u << 0,
    TBL_NEXT_TIMEOUT = 1u << 1,
    TBL_NEXT_INVALID_HEADER = 1u << 2,
    TBL_NEXT_HTTP_500 = 1u << 3,
    TBL_NEXT_HTTP_502 = 1u << 4,
    TBL_NEXT_HTTP_503 = 1u << 5,
    TBL_NEXT_HTTP_504 = 1u << 6,
    TBL_NEXT_HTTP_403 = 1u << 7,
    TBL_NEXT_HTTP_404 = 1u << 8,
    TBL_NEXT_HTTP_429 = 1u << 9,
    TBL_NEXT_NON_IDEMPOTENT = 1u << 10,
    TBL_NEXT_OFF = 1u << 11,
    TBL_NEXT_ALL = (1u << 12) - 1
};

/* custom-http-errors as a bitmap: bit (code - 300) for 300..619.       */
#define TBL_CUSTOM_ERRORS_BASE  300u
#define TBL_CUSTOM_ERRORS_WORDS 5u

/*
 * Everything the annotations decide for a route (tbl_route.policy) or a
 * server (tbl_vhost.policy), fully resolved against the ConfigMap by the
 * controller: readers never merge defaults.  One record per distinct
 * content; policy_id is the content hash, so worker state keyed by it
 * (rate-limit buckets) survives table swaps.
 */
typedef struct {
    uint64_t policy_id;
    uint32_t flags;                  /* TBL_POL_*                       */
    uint16_t redirect_code;          /* 300..308 iff redirect_url != "" */
    uint8_t  auth_type;              /* tbl_auth_type                   */
    uint8_t  backend_protocol;       /* tbl_backend_protocol            */
    tbl_str  redirect_url;           /* permanent/temporal-redirect     */
    tbl_str  app_root;
    tbl_str  rewrite_target;         /* may use $1..$9 of a regex path  */
    tbl_str  x_forwarded_prefix;
    uint32_t limit_rps;              /* 0 = off                         */
    uint32_t limit_rpm;
    uint32_t limit_burst_multiplier;
    uint32_t limit_connections;
    uint32_t limit_allow_first;      /* CIDRS not rate limited          */
    uint32_t limit_allow_count;
    uint32_t allow_first;            /* CIDRS allowed (others: 403)     */
    uint32_t allow_count;
    uint32_t deny_first;             /* CIDRS denied, checked first     */
    uint32_t deny_count;
    tbl_str  auth_realm;
    tbl_str  auth_secret;            /* BLOBS: secret, never printed    */
    tbl_str  auth_url;
    tbl_str  auth_method;
    tbl_str  auth_signin;
    tbl_str  auth_response_headers;  /* comma-separated names           */
    uint32_t connect_timeout_ms;
    uint32_t send_timeout_ms;
    uint32_t read_timeout_ms;
    uint32_t next_upstream;          /* TBL_NEXT_*                      */
    uint32_t next_upstream_tries;
    uint32_t next_upstream_timeout_ms;
    uint64_t body_size_max;          /* bytes, 0 = unlimited            */
    tbl_str  upstream_vhost;         /* "" = the request's Host         */
    uint8_t  load_balance;           /* tbl_load_balance                */
    uint8_t  affinity_mode;          /* tbl_affinity_mode               */
    uint16_t reserved0;
    uint32_t affinity_max_age;       /* seconds, 0 = session cookie     */
    tbl_str  hash_by;                /* upstream-hash-by                */
    tbl_str  affinity_cookie_name;
    tbl_str  affinity_cookie_path;
    tbl_str  cors_allow_origin;      /* comma-separated                 */
    tbl_str  cors_allow_methods;
    tbl_str  cors_allow_headers;
    tbl_str  cors_expose_headers;
    uint32_t cors_max_age;           /* seconds                         */
    uint32_t default_backend;        /* default-backend annotation:
                                        BACKENDS index or NONE          */
    uint64_t custom_errors[TBL_CUSTOM_ERRORS_WORDS];
    tbl_str  auth_request_redirect;  /* X-Auth-Request-Redirect value   */
    tbl_str  affinity_cookie_domain;
    tbl_str  affinity_cookie_samesite; /* "", "None", "Lax", "Strict"   */
    uint64_t reserved[1];
} tbl_policy;

enum {
    TBL_CERT_DEFAULT = 1u << 0 /* the default (or generated) cert      */
};

/*
 * A certificate and its key, chosen by SNI (SNI_EXACT, SNI_WILDCARD,
 * then header.default_cert).  Workers cache the parsed objects by
 * content_hash, so a reparse happens only when the bytes change.
 */
typedef struct {
    tbl_str  chain;            /* BLOBS: DER certificates, leaf first,
                                  concatenated                          */
    tbl_str  key;              /* BLOBS: DER private key (secret)      */
    uint64_t content_hash;     /* hash of chain bytes then key bytes    */
    uint64_t not_after;        /* leaf expiry, unix seconds             */
    uint32_t flags;            /* TBL_CERT_*                            */
    uint32_t reserved0;
    tbl_str  secret_namespace; /* for logs: where it came from          */
    tbl_str  secret_name;
    uint64_t reserved[2];
} tbl_cert;

enum {
    TBL_CFG_HSTS = 1u << 0,
    TBL_CFG_HSTS_INCLUDE_SUBDOMAINS = 1u << 1,
    TBL_CFG_HSTS_PRELOAD = 1u << 2,
    TBL_CFG_USE_FORWARDED_HEADERS = 1u << 3,
    TBL_CFG_COMPUTE_FULL_FORWARDED_FOR = 1u << 4,
    TBL_CFG_SSL_REDIRECT = 1u << 5,
    TBL_CFG_FORCE_SSL_REDIRECT = 1u << 6,
    TBL_CFG_PROXY_BUFFERING = 1u << 7,
    TBL_CFG_ENABLE_REAL_IP = 1u << 8,   /* client from the forwarded-for
                                           header without the other
                                           forwarded headers             */
    TBL_CFG_ACCESS_DENIED = 1u << 9,    /* a global CIDR list did not
                                           parse: every request gets 403 */
    TBL_CFG_FLAGS_ALL = (1u << 10) - 1
};

/*
 * Global settings from the ConfigMap (CONFIG holds exactly one).  They
 * apply to routes without a policy and to answers no route gives (404,
 * redirects of the ssl-redirect kind, limit status codes); a route's
 * policy already carries them where its annotations left a field unset.
 * The client address (block, allow and deny lists, rate limits, logs,
 * X-Forwarded-For and X-Real-IP) is the forwarded-for header's last
 * address not in real_ip when the peer is in real_ip and
 * USE_FORWARDED_HEADERS or ENABLE_REAL_IP is set, or the PROXY protocol
 * source address on listeners that read it.
 */
typedef struct {
    uint32_t flags;                     /* TBL_CFG_*                    */
    uint16_t http_redirect_code;        /* 300..308 (default 308)       */
    uint16_t limit_req_status_code;     /* 400..599 (default 503)       */
    uint16_t limit_conn_status_code;    /* 400..599 (default 503)       */
    uint8_t  load_balance;              /* tbl_load_balance             */
    uint8_t  reserved0;
    uint32_t hsts_max_age;              /* seconds                      */
    uint32_t connect_timeout_ms;        /* proxy defaults                */
    uint32_t send_timeout_ms;
    uint32_t read_timeout_ms;
    uint32_t next_upstream;             /* TBL_NEXT_*                   */
    uint32_t next_upstream_tries;
    uint32_t next_upstream_timeout_ms;
    uint64_t body_size_max;             /* bytes, 0 = unlimited          */
    tbl_str  forwarded_for_header;      /* default "X-Forwarded-For"    */
    tbl_str  no_tls_redirect_locations; /* comma-separated prefixes     */
    tbl_str  global_auth_url;
    uint32_t allow_first;               /* whitelist-source-range       */
    uint32_t allow_count;
    uint32_t deny_first;                /* denylist-source-range        */
    uint32_t deny_count;
    uint32_t block_first;               /* block-cidrs                  */
    uint32_t block_count;
    uint64_t custom_errors[TBL_CUSTOM_ERRORS_WORDS];
    uint32_t real_ip_first;             /* proxy-real-ip-cidr: peers
                                           trusted to name the client   */
    uint32_t real_ip_count;
    uint64_t reserved[3];
} tbl_config;

static_assert(sizeof(tbl_str) == 8, "tbl_str layout");
static_assert(sizeof(tbl_header) == 88, "tbl_header layout");
static_assert(sizeof(tbl_section) == 24, "tbl_section layout");
static_assert(sizeof(tbl_slot) == 24, "tbl_slot layout");
static_assert(sizeof(tbl_vhost) == 56, "tbl_vhost layout");
static_assert(offsetof(tbl_vhost, exact_lengths) == 40, "tbl_vhost layout");
static_assert(sizeof(tbl_route) == 56, "tbl_route layout");
static_assert(offsetof(tbl_route, route_id) == 48, "tbl_route layout");
static_assert(sizeof(tbl_backend) == 48, "tbl_backend layout");
static_assert(sizeof(tbl_endpoint) == 24, "tbl_endpoint layout");
static_assert(sizeof(tbl_cidr) == 24, "tbl_cidr layout");
static_assert(sizeof(tbl_canary) == 88, "tbl_canary layout");
static_assert(offsetof(tbl_canary, canary_id) == 64, "tbl_canary layout");
static_assert(sizeof(tbl_policy) == 320, "tbl_policy layout");
static_assert(offsetof(tbl_policy, body_size_max) == 160, "tbl_policy layout");
static_assert(offsetof(tbl_policy, custom_errors) == 248, "tbl_policy layout");
static_assert(sizeof(tbl_cert) == 72, "tbl_cert layout");
static_assert(offsetof(tbl_cert, content_hash) == 16, "tbl_cert layout");
static_assert(sizeof(tbl_config) == 168, "tbl_config layout");
static_assert(offsetof(tbl_config, body_size_max) == 40, "tbl_config layout");
static_assert(offsetof(tbl_config, custom_errors) == 96, "tbl_config layout");
static_assert(offsetof(tbl_config, real_ip_first) == 136, "tbl_config layout");

#endif
