/*
 * tbl_format.h -- the on-disk layout of a shmingress route table.
 *
 * A table file is written once by the controller and mapped read-only by
 * every nginx worker.  Everything here is fixed-width, little-endian, and
 * free of struct padding (checked by static asserts); references between
 * records are 32-bit indexes into sections, and strings are (offset,length)
 * pairs into the string pool.  This header describes bytes only: building
 * a table lives in tbl_builder.c, checking one in tbl_validate.c, and
 * reading one in tbl_view.c.  docs/table-format.md is the prose version.
 */
#ifndef SHMINGRESS_TBL_FORMAT_H
#define SHMINGRESS_TBL_FORMAT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

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
} tbl_vhost;

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

static_assert(sizeof(tbl_str) == 8, "tbl_str layout");
static_assert(sizeof(tbl_header) == 88, "tbl_header layout");
static_assert(sizeof(tbl_section) == 24, "tbl_section layout");
static_assert(sizeof(tbl_slot) == 24, "tbl_slot layout");
static_assert(sizeof(tbl_vhost) == 40, "tbl_vhost layout");
static_assert(sizeof(tbl_route) == 56, "tbl_route layout");
static_assert(offsetof(tbl_route, route_id) == 48, "tbl_route layout");
static_assert(sizeof(tbl_backend) == 48, "tbl_backend layout");
static_assert(sizeof(tbl_endpoint) == 24, "tbl_endpoint layout");

#endif
