/*
 * registry.h -- the Ingress annotations this controller understands,
 * parsed into typed values.
 *
 * Each family (canary.c, ratelimit.c, rewrite.c, redirect.c, upstream.c,
 * access.c, cors.c, balance.c, auth.c, extauth.c, custom_errors.c)
 * declares a table of keys: name, type, range.  The registry (registry.c) runs every family's
 * table over one Ingress's annotations, under both prefixes
 * (shmingress.io/<key> wins over <annotations prefix>/<key>), checks
 * each value with the validators of values.c, then lets each family
 * apply the rules that involve several keys.  Nothing here becomes nginx
 * configuration: values end up as fields of table records, which is why
 * snippets are refused rather than parsed.  The model (model*.c) decides
 * what a result means for routes; this code does not see other objects.
 */
#ifndef SHMINGRESS_CTL_ANN_REGISTRY_H
#define SHMINGRESS_CTL_ANN_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "tbl_format.h"

#define CTL_ANN_OUR_PREFIX "shmingress.io"

/* ------------------------------------------------------------- values */

typedef enum {
    CTL_ANN_BOOL = 1,  /* Go strconv.ParseBool spellings           -> bool */
    CTL_ANN_INT,       /* decimal, in [min, max]                -> int64_t */
    CTL_ANN_SECONDS,   /* "30", "30s", "5m", "1h", in [min, max] -> int64_t */
    CTL_ANN_SIZE,      /* nginx size "512", "10k", "1m", "1g"   -> int64_t */
    CTL_ANN_URL,       /* absolute http:// or https:// URL       -> char * */
    CTL_ANN_PATH,      /* starts with '/'                        -> char * */
    CTL_ANN_REGEX,     /* compiles as PCRE2                      -> char * */
    CTL_ANN_HEADER,    /* HTTP header field name (token)         -> char * */
    CTL_ANN_COOKIE,    /* cookie name (token)                    -> char * */
    CTL_ANN_STRING,    /* any text without control characters    -> char * */
    CTL_ANN_CIDRS      /* comma-separated IPv4/IPv6 CIDRs  -> ctl_ann_cidrs */
} ctl_ann_type;

typedef struct {
    tbl_cidr *v;
    uint32_t  n;
} ctl_ann_cidrs;

/*
 * Validators, one per type.  Each returns 0 and stores the value, or -1
 * with a short reason in why (a static string); strings and lists are
 * malloc'd copies (-2 when out of memory).
 */
int ctl_ann_parse_bool(const char *s, bool *out, const char **why);
int ctl_ann_parse_int(const char *s, int64_t min, int64_t max, int64_t *out,
                      const char **why);
int ctl_ann_parse_seconds(const char *s, int64_t min, int64_t max,
                          int64_t *out, const char **why);
int ctl_ann_parse_size(const char *s, int64_t *out, const char **why);
int ctl_ann_parse_cidrs(const char *s, ctl_ann_cidrs *out, const char **why);

/*
 * The item of a comma-separated list at s, blanks around it trimmed, as
 * *item and *len (0 for an empty item): returns the ',' after it or the
 * terminating '\0'.
 */
const char *ctl_ann_list_item(const char *s, const char **item, size_t *len);
/* URL, path, regex, header, cookie, string: checks without copying. */
int ctl_ann_check_text(ctl_ann_type type, const char *s, const char **why);

/* The number of capture groups of a PCRE2 pattern, or -1 when it does not
 * compile (why then names the problem, in a static buffer). */
int ctl_ann_regex_groups(const char *pattern, const char **why);

/* --------------------------------------------------------- families */

/* canary.c */
typedef struct {
    uint32_t set;            /* bit per key present (canary_keys order) */
    bool     enabled;        /* canary: "true"                          */
    int64_t  weight;         /* 0..weight_total                         */
    int64_t  weight_total;   /* resolved: 100 unless the key says more  */
    char    *header;         /* canary-by-header or NULL                */
    char    *header_value;
    char    *header_pattern; /* NULL when header_value is set          */
    char    *cookie;
} ctl_ann_canary;

/* ratelimit.c */
typedef struct {
    uint32_t      set;
    int64_t       rps;              /* 0 = off                          */
    int64_t       rpm;
    int64_t       burst_multiplier; /* default 5                        */
    int64_t       connections;
    ctl_ann_cidrs allow;            /* limit-allowlist / limit-whitelist */
    bool          deny;             /* an allowlist did not parse: the
                                       routes answer 503 (fail closed)  */
} ctl_ann_ratelimit;

/* rewrite.c */
typedef struct {
    uint32_t set;
    char    *rewrite_target;
    int      rewrite_max_group;  /* highest $N in rewrite_target, 0..9  */
    bool     use_regex;
    char    *x_forwarded_prefix;
    char    *app_root;
} ctl_ann_rewrite;

/* redirect.c */
typedef struct {
    uint32_t set;
    char    *permanent;          /* permanent-redirect                  */
    int64_t  permanent_code;
    char    *temporal;           /* temporal-redirect                   */
    int64_t  temporal_code;
    const char *url;             /* resolved: temporal wins, or NULL    */
    uint16_t code;               /* resolved code for url               */
    bool     from_to_www;
    bool     relative;
} ctl_ann_redirect;

/* ssl_redirect.c; the model gives a key the Ingress does not write
 * (set bit 0 ssl-redirect, bit 1 force-ssl-redirect) the ConfigMap's
 * value */
enum { CTL_ANN_SSL_REDIRECT_BIT = 0, CTL_ANN_FORCE_SSL_REDIRECT_BIT = 1 };

typedef struct {
    uint32_t set;
    bool     ssl_redirect;            /* default true                   */
    bool     force;                   /* force-ssl-redirect             */
    bool     preserve_trailing_slash;
} ctl_ann_ssl_redirect;

/* upstream.c: seconds, bytes and TBL_* values, resolved to defaults;
 * the model gives a key the Ingress does not write (set bit
 * CTL_ANN_UP_*) the ConfigMap's value */
enum {
    CTL_ANN_UP_CONNECT,
    CTL_ANN_UP_SEND,
    CTL_ANN_UP_READ,
    CTL_ANN_UP_BODY,
    CTL_ANN_UP_NEXT,
    CTL_ANN_UP_TRIES,
    CTL_ANN_UP_NEXT_TIMEOUT,
    CTL_ANN_UP_BUFFERING,
    CTL_ANN_UP_VHOST,
    CTL_ANN_UP_PROTOCOL,
    CTL_ANN_UP_SERVICE_UPSTREAM
};

/* proxy-next-upstream's value into TBL_NEXT_*; -1 when it is not one. */
int ctl_ann_parse_next_upstream(const char *s, uint32_t *out);

typedef struct {
    uint32_t set;
    int64_t  connect_timeout;       /* proxy-connect-timeout, seconds   */
    int64_t  send_timeout;
    int64_t  read_timeout;
    int64_t  body_size;             /* proxy-body-size, 0 = unlimited   */
    char    *next_upstream_text;    /* proxy-next-upstream as written   */
    uint32_t next_upstream;         /* resolved TBL_NEXT_* mask         */
    int64_t  next_upstream_tries;   /* 0 = unlimited                    */
    int64_t  next_upstream_timeout; /* seconds, 0 = none                */
    char    *buffering_text;        /* proxy-buffering as written       */
    bool     buffering;
    char    *upstream_vhost;        /* Host sent upstream, or NULL      */
    char    *protocol_text;         /* backend-protocol as written      */
    uint8_t  protocol;              /* resolved tbl_backend_protocol    */
    bool     service_upstream;      /* the Service's clusterIP as the
                                       one endpoint                     */
} ctl_ann_upstream;

/* custom_errors.c */
typedef struct {
    uint32_t set;
    char    *codes_text;            /* custom-http-errors as written    */
    uint64_t codes[TBL_CUSTOM_ERRORS_WORDS]; /* resolved bitmap         */
    char    *default_backend;       /* "svc" or "ns/svc", or NULL       */
} ctl_ann_custom_errors;

/* access.c */
typedef struct {
    uint32_t      set;
    ctl_ann_cidrs allow;         /* allowlist-/whitelist-source-range   */
    ctl_ann_cidrs deny;          /* denylist-source-range               */
    bool          denied;        /* a range did not parse: the routes
                                    answer 503 (fail closed)            */
} ctl_ann_access;

/* cors.c */
typedef struct {
    uint32_t    set;
    bool        enabled;         /* enable-cors                         */
    char       *allow_origin;    /* as written, or NULL                 */
    char       *allow_methods;
    char       *allow_headers;
    char       *expose_headers;
    bool        credentials;     /* default true                        */
    int64_t     max_age;         /* default 1728000                     */
    const char *origin;          /* resolved: the value or the default  */
    const char *methods;
    const char *headers;
    const char *expose;
} ctl_ann_cors;

/* auth.c: basic authentication; the model reads the Secret */
typedef struct {
    uint32_t set;
    char    *type_text;        /* auth-type as written                 */
    char    *secret;           /* auth-secret: "name" or "ns/name"     */
    char    *secret_type_text; /* auth-secret-type as written          */
    char    *realm;            /* auth-realm, or NULL ("")             */
    uint8_t  type;             /* resolved tbl_auth_type               */
    bool     map;              /* auth-map: each Secret key is a user  */
    bool     denied;           /* unusable auth config: the routes
                                  answer 503 (fail closed)             */
} ctl_ann_auth;

/* Splits an auth-secret value: true when it is "name" or "ns/name" with
 * DNS names; name points into ref, ns_len is 0 without a namespace. */
bool ctl_ann_auth_secret_ref(const char *ref, const char **name,
                             size_t *ns_len);

/* balance.c: TBL_* values resolved; the model applies the precedence
 * (affinity, then hash-by, then load-balance, then the ConfigMap) */
typedef struct {
    uint32_t    set;
    char       *load_balance_text;    /* load-balance as written         */
    uint8_t     load_balance;         /* TBL_LB_ROUND_ROBIN or _EWMA     */
    char       *hash_by;              /* upstream-hash-by or NULL        */
    bool        hash_subset;          /* upstream-hash-by-subset         */
    int64_t     hash_subset_size;     /* only 3 is accepted              */
    char       *affinity_text;        /* affinity: "cookie" or NULL      */
    char       *mode_text;
    uint8_t     affinity_mode;        /* TBL_AFFINITY_*, NONE without
                                         affinity                        */
    char       *canary_behavior_text;
    bool        canary_legacy;        /* affinity-canary-behavior legacy */
    char       *cookie_name;
    const char *cookie_name_resolved; /* default INGRESSCOOKIE           */
    char       *cookie_path;          /* NULL: the route's path          */
    char       *cookie_domain;
    int64_t     max_age;              /* session-cookie-max-age          */
    int64_t     expires;              /* session-cookie-expires          */
    int64_t     lifetime;             /* resolved seconds, 0 = session   */
    char       *samesite_text;
    const char *samesite;             /* None, Lax, Strict or NULL       */
    bool        conditional_samesite_none;
    bool        secure;
    bool        change_on_failure;
} ctl_ann_balance;
/* extauth.c: auth-url and the keys around it, checked and resolved; the
 * URLs may use the variables the module expands (extauth.c lists them) */
typedef struct {
    uint32_t set;
    char    *url;                /* auth-url, or NULL: no external auth */
    char    *method;             /* auth-method as written              */
    char    *signin;             /* auth-signin, resolved: with the
                                    redirect parameter added            */
    char    *redirect_param;     /* auth-signin-redirect-param          */
    char    *response_headers;   /* auth-response-headers, resolved:
                                    "A,B" without spaces                */
    char    *request_redirect;   /* auth-request-redirect               */
    bool     always_set_cookie;  /* auth-always-set-cookie              */
    char    *unsupported;        /* auth-cache-*, auth-keepalive*,
                                    auth-proxy-set-headers: warned      */
} ctl_ann_extauth;

/* alias.c: server-alias, lower-cased, without spaces */
typedef struct {
    uint32_t set;
    char    *list;               /* "a.example.com,*.example.org"       */
} ctl_ann_alias;

/*
 * The next name of a server-alias list into out: returns where the rest
 * starts, or NULL after the last.  for (p = list; (p =
 * ctl_ann_alias_next(p, buf, sizeof buf)) != NULL;) visits every name.
 */
const char *ctl_ann_alias_next(const char *list, char *out, size_t outlen);

/* Everything the annotations of one Ingress say. */
typedef struct {
    ctl_ann_canary    canary;
    ctl_ann_rewrite   rewrite;
    ctl_ann_ratelimit ratelimit;
    ctl_ann_redirect  redirect;
    ctl_ann_ssl_redirect ssl_redirect;
    ctl_ann_access    access;
    ctl_ann_cors      cors;
    ctl_ann_upstream  upstream;
    ctl_ann_custom_errors custom_errors;
    ctl_ann_auth      auth;
    ctl_ann_balance   balance;
    ctl_ann_extauth   extauth;
    ctl_ann_alias     alias;
} ctl_annotations;

/* ------------------------------------------------------------ tables */

enum {
    CTL_ANN_FAIL_CLOSED = 1u << 0 /* security: a bad value denies the
                                     routes instead of rejecting the
                                     Ingress (family sets the flag)    */
};

/* One key of a family: where its value goes in the family struct. */
typedef struct {
    const char  *name;   /* after the prefix, e.g. "canary-weight"      */
    ctl_ann_type type;
    int64_t      min;    /* INT and SECONDS                             */
    int64_t      max;
    size_t       offset; /* of the value in the family struct           */
    unsigned     flags;  /* CTL_ANN_*                                   */
} ctl_ann_key;

/* What went wrong with one Ingress's annotations. */
typedef struct {
    char key[160];    /* the full key as written                       */
    char value[256];  /* truncated                                     */
    char reason[200];
} ctl_ann_error;

/* Fills e: key (as the family names it), value (NULL as ""), reason. */
void ctl_ann_set_error(ctl_ann_error *e, const char *key, const char *value,
                       const char *reason);

/* How a family reports a problem that is not worth a rejection. */
typedef void (*ctl_ann_warn_fn)(void *ctx, const char *key,
                                const char *reason);

typedef struct {
    const char        *name;
    const ctl_ann_key *keys;
    size_t             nkeys;  /* <= 32, one bit each in .set          */
    size_t             offset; /* of the family in ctl_annotations      */
    size_t             size;   /* of the family struct, which starts
                                  with its uint32_t set mask            */
    void (*defaults)(void *family);
    /* Rules across keys, after every key parsed; -1 rejects (e filled;
     * a key without prefix is completed to the key as written).
     * fail_closed tells that a CTL_ANN_FAIL_CLOSED key did not parse. */
    int (*finish)(void *family, bool fail_closed, ctl_ann_warn_fn warn,
                  void *warn_ctx, ctl_ann_error *e);
} ctl_ann_family;

extern const ctl_ann_family ctl_ann_canary_family;
extern const ctl_ann_family ctl_ann_ratelimit_family;
extern const ctl_ann_family ctl_ann_rewrite_family;
extern const ctl_ann_family ctl_ann_redirect_family;
extern const ctl_ann_family ctl_ann_ssl_redirect_family;
extern const ctl_ann_family ctl_ann_access_family;
extern const ctl_ann_family ctl_ann_cors_family;
extern const ctl_ann_family ctl_ann_upstream_family;
extern const ctl_ann_family ctl_ann_custom_errors_family;
extern const ctl_ann_family ctl_ann_auth_family;
extern const ctl_ann_family ctl_ann_balance_family;
extern const ctl_ann_family ctl_ann_extauth_family;
extern const ctl_ann_family ctl_ann_alias_family;

/* Is bit i of a family's set mask on? */
#define CTL_ANN_IS_SET(fam, i) (((fam)->set >> (i)) & 1u)

/* ---------------------------------------------------------- registry */

typedef enum {
    CTL_ANN_OK = 0,
    CTL_ANN_INVALID = -1, /* e says which key, value and why            */
    CTL_ANN_NOMEM = -2
} ctl_ann_result;

/*
 * Parses the annotations object (metadata.annotations; NULL for none)
 * into out, defaults first.  compat_prefix is --annotations-prefix
 * without its trailing '/'.  Warnings (unknown shmingress.io/ keys,
 * canary-* without canary, fail-closed values) go to warn; unknown keys
 * under the compatibility prefix go to debug_unknown when not NULL.
 * A *-snippet key is CTL_ANN_INVALID.  out must be freed with
 * ctl_annotations_free whatever the result.
 */
ctl_ann_result ctl_annotations_parse(const cJSON *annotations,
                                     const char *compat_prefix,
                                     size_t compat_prefix_len,
                                     ctl_annotations *out,
                                     ctl_ann_warn_fn warn,
                                     ctl_ann_warn_fn debug_unknown,
                                     void *ctx, ctl_ann_error *e);

void ctl_annotations_free(ctl_annotations *a);

#endif
