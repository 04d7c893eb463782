/*
 * model_internal.h -- what the model's files share with each other and
 * nobody else: small containers, the cached parse of objects, and the
 * steps of ctl_model_build.
 *
 *   model_map.c      growable arrays, hash map, JSON accessors
 *   model_class.c    which Ingresses are ours; refused annotations
 *   model_ingress.c  reading and validating one Ingress (API rules)
 *   model_backend.c  Service + EndpointSlices -> table backend
 *   model_tls.c      spec.tls[] + Secrets -> certificates, SNI names
 *   model.c          ctl_model_build: order, merge, defaults, emit
 *
 * Each object is parsed once per version: the parse hangs on its store
 * object (ctl_object.derived) until the object changes, so a rebuild
 * after one change reads only that object.  Strings in a parse point
 * into the object's cJSON tree, which lives exactly as long.
 */
#ifndef SHMINGRESS_CTL_MODEL_INTERNAL_H
#define SHMINGRESS_CTL_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "model.h"
#include "registry.h"

/* ---------------------------------------------------------- containers */

/* A growable array of fixed-size elements. */
typedef struct {
    void  *data;
    size_t len;
    size_t cap;
    size_t elem;
} ctl_vec;

void ctl_vec_init(ctl_vec *v, size_t elem);
void *ctl_vec_push(ctl_vec *v);             /* zeroed, or NULL      */
void *ctl_vec_push_n(ctl_vec *v, size_t n); /* n zeroed, or NULL    */
void ctl_vec_free(ctl_vec *v);

#define CTL_VEC_AT(v, type, i) (&((type *)(v)->data)[i])

/*
 * A hash map of u32 values under 64-bit hashes the caller computed (most
 * of them once per object version).  Values say where the key lives;
 * the caller's eq decides whether a value with a matching hash is the
 * key, so lookups touch key strings only on a hash match.
 */
typedef bool (*ctl_hmap_eq)(const void *ctx, uint32_t value);

typedef struct {
    struct ctl_hslot *slots;
    size_t            cap;
    size_t            count;
} ctl_hmap;

void ctl_hmap_init(ctl_hmap *m);
void ctl_hmap_free(ctl_hmap *m);

/* The value slot of the entry eq accepts, or NULL.  Valid until the next
 * ctl_hmap_add. */
uint32_t *ctl_hmap_find(const ctl_hmap *m, uint64_t hash, ctl_hmap_eq eq,
                        const void *ctx);

/* Adds an entry without looking for an equal one; -1 when out of
 * memory.  value must not be UINT32_MAX. */
int ctl_hmap_add(ctl_hmap *m, uint64_t hash, uint32_t value);

/* Hashes byte strings in sequence: ctl_hash(s, n, ctl_hash(t, m, 0)). */
uint64_t ctl_hash(const void *s, size_t n, uint64_t prev);

/* ------------------------------------------------------------- objects */

/* JSON accessors that return NULL for a missing or mistyped member. */
const cJSON *ctl_json_object(const cJSON *obj, const char *key);
const cJSON *ctl_json_array(const cJSON *obj, const char *key);
const char *ctl_json_string(const cJSON *obj, const char *key);
const char *ctl_annotation(const cJSON *obj, const char *key);

/*
 * Logs one line about an object: msg, then object=<ns/name> and
 * origin=..., then the caller's pairs.
 */
void ctl_log_object(ctl_log_level level, const char *msg,
                    const ctl_object *obj, const char *kv_fmt, ...)
    __attribute__((format(printf, 4, 5)));

struct ctl_build;

/* Hands a problem with an Ingress to the build's sink, if it has one;
 * the message is only formatted then. */
void ctl_model_problem(const struct ctl_build *bd, const ctl_object *obj,
                       const char *reason, const char *msg_fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ------------------------------------------------------------ ingresses */

/* A backend as an Ingress writes it. */
typedef struct {
    const char *service;      /* NULL: a resource backend (not served) */
    const char *port_name;    /* NULL when the port is by number      */
    uint32_t    port_number;  /* 0 when the port is by name           */
    bool        cluster_ip;   /* service-upstream: the Service's
                                 clusterIP is the one endpoint        */
    uint64_t    service_hash; /* of namespace and service             */
    uint64_t    hash;         /* of namespace, service and port       */
} ctl_backend_ref;

/* Fills ref's hashes for a reference from namespace ns. */
void ctl_backend_ref_hash(ctl_backend_ref *ref, const char *ns);

/* One path of one rule, validated. */
typedef struct {
    uint64_t        key_hash; /* of host, type and match key (model.c) */
    const char     *host;    /* "" for a rule without host           */
    const char     *path;    /* as written; "/" for an empty
                                ImplementationSpecific path          */
    uint8_t         type;    /* tbl_path_type                         */
    uint32_t        ingress; /* index in ctl_build.ingresses          */
    uint32_t        rule;    /* positions, for log lines             */
    uint32_t        index;
    ctl_backend_ref backend;
} ctl_path;

/* What ownership reads from an Ingress's annotations. */
typedef struct {
    const char *legacy_class;  /* kubernetes.io/ingress.class          */
    const char *snippet;       /* the first *-snippet key, either prefix */
} ctl_ingress_annotations;

/*
 * An Ingress as parsed from its json, cached on its store object until
 * the object changes, so that a rebuild parses only what changed.
 * Strings point into the json.  The spec is parsed (and, if invalid,
 * logged) the first time the Ingress is ours.
 */
typedef struct {
    bool                    created_read;
    int64_t                 created;    /* ns since the epoch; INT64_MAX
                                           when missing or invalid      */
    bool                    refusal_logged;
    char                   *invalid;    /* why the spec is invalid, for
                                           the sink: "field=value: why" */
    const char             *class_name; /* spec.ingressClassName        */
    ctl_ingress_annotations ann;
    char                   *ann_prefix; /* the prefix ann was read with */
    enum {
        CTL_SPEC_UNREAD = 0,
        CTL_SPEC_VALID,
        CTL_SPEC_INVALID
    } spec;
    bool                    has_default;  /* a defaultBackend Service  */
    ctl_backend_ref         default_backend;
    bool                    has_rules;
    bool                    has_hostless; /* a rule without host       */
    ctl_vec                 paths;        /* ctl_path, .ingress unset  */
    ctl_vec                 hosts;        /* const char *: hosts of its
                                             rules, "" excluded,
                                             repeats possible          */
    /* model_annotations.c: the typed annotations of this version. */
    enum {
        CTL_VALUES_UNREAD = 0,
        CTL_VALUES_GOOD,
        CTL_VALUES_BAD
    } values_state;
    ctl_annotations         values;
    char                   *values_invalid;  /* why BAD, for the sink  */
    char                   *values_warnings; /* "key: reason; ..."     */
    bool                    kept;            /* copied as last good    */
} ctl_ingress_info;

/* One owned, valid, non-canary Ingress in a build. */
typedef struct {
    const ctl_object       *obj;
    const ctl_ingress_info *info;
    uint32_t                path_first; /* into ctl_build.paths        */
} ctl_ingress;

/* The state of one ctl_model_build call. */
typedef struct ctl_build {
    const ctl_store        *store;
    const ctl_model_config *cfg;
    tbl_builder            *b;
    ctl_model_stats        *stats;
    ctl_vec                 ingresses; /* ctl_ingress, oldest first   */
    ctl_vec                 paths;     /* ctl_path of all ingresses   */

    /* model_backend.c */
    ctl_hmap                slices_by_service; /* -> slice_chain    */
    ctl_vec                 slice_chain;       /* slices per Service */
    ctl_hmap                backend_cache;     /* ref -> resolved    */
    ctl_vec                 resolved;          /* backend + flags    */
    ctl_vec                 endpoints;         /* scratch            */
    ctl_hmap                reported;          /* backend problems   */
    ctl_vec                 reported_refs;     /* handed to the sink */

    /* model_annotations.c: canaries, regex hosts, policies */
    struct ctl_ann_build   *ann;

    /* model_config.c: the ConfigMap's TBL_CFG_* flags and settings, set
     * before the routes so that policies resolve what their annotations
     * leave unset (ssl-redirect, proxy settings, source ranges) against
     * them */
    uint32_t                config_flags;
    const tbl_config_spec  *config;
    /* and its load-balance (TBL_LB_*), which policies carry when the
     * Ingress does not say */
    uint8_t                 config_load_balance;
} ctl_build;

/* The build's i-th path (paths hold every owned Ingress's paths). */
static inline const ctl_path *
ctl_build_path(const ctl_build *bd, uint32_t i)
{
    return CTL_VEC_AT(&bd->paths, ctl_path, i);
}

/* model_class.c */
typedef enum {
    CTL_OWNED = 0,
    CTL_NOT_OURS,
    CTL_REFUSED /* ours, but refused or not yet supported (logged) */
} ctl_ownership;

/* Reads the IngressClasses once per build; then ctl_ingress_ownership
 * decides per Ingress. */
typedef struct {
    const char *controller_class;
    const char *ingress_class;
    const char *annotations_prefix; /* without a trailing '/'         */
    size_t      annotations_prefix_len;
    bool        take_classless;
} ctl_class_rules;

void ctl_class_rules_init(ctl_class_rules *r, const ctl_store *store,
                          const ctl_model_config *cfg);
void ctl_read_annotations(const ctl_class_rules *r, const cJSON *json,
                          ctl_ingress_annotations *a);
/* Decides ownership; a refusal is logged once per object version, and
 * its reason put into why (for the sink) every time. */
ctl_ownership ctl_ingress_ownership(const ctl_class_rules *r,
                                    const ctl_store *store,
                                    const ctl_object *ing,
                                    ctl_ingress_info *info, char *why,
                                    size_t whylen);

/* model_ingress.c */

/* The hash under which two paths collide: host, pathType and the path
 * as the table matches it (Prefix without one trailing '/'). */
uint64_t ctl_path_key_hash(const ctl_path *p);
bool ctl_path_same_key(const ctl_path *a, const ctl_path *b);

struct ctl_build;

/* The entry of keys (a claim: an index into claims, which holds path
 * indexes) whose path has p's match key, or NULL. */
const uint32_t *ctl_claim_find(const struct ctl_build *bd,
                               const ctl_hmap *keys, const ctl_vec *claims,
                               const ctl_path *p);

/* The cached parse of an Ingress (annotations read for r's prefix);
 * NULL when out of memory. */
ctl_ingress_info *ctl_ingress_info_of(const ctl_class_rules *r,
                                      const ctl_object *ing);

/* Adds an owned Ingress to the build, parsing its spec if needed (an
 * invalid one is logged once, when parsed, and reported to the sink on
 * every build).  Returns 1 added, 0 invalid, -1 out of memory. */
/* Parses the spec once per version (an invalid one is logged then and
 * reported every build).  Returns 1 valid, 0 invalid, -1 out of memory. */
int ctl_ingress_spec_read(ctl_build *bd, const ctl_object *ing,
                          ctl_ingress_info *info);

int ctl_ingress_add(ctl_build *bd, const ctl_object *ing,
                    ctl_ingress_info *info);
/* Marks the backends of a served version with its service-upstream. */
void ctl_ingress_service_upstream(ctl_ingress_info *info);

/* Logs and reports each spec.tls[].secretName of an Ingress that names
 * a Secret the store does not have. */
void ctl_tls_secrets_check(ctl_build *bd, const ctl_object *ing);

/* creationTimestamp in ns since the epoch, INT64_MAX when missing or
 * invalid (logged once, for our Ingresses only). */
int64_t ctl_ingress_created(const ctl_object *ing, ctl_ingress_info *info);

/* Orders Ingresses for merging: oldest creationTimestamp first. */
int ctl_ingress_compare_age(const ctl_object *a, int64_t a_created,
                            const ctl_object *b, int64_t b_created);

/* model_annotations.c */

/* Starts a build: forgets last good versions of deleted Ingresses.  -1
 * when out of memory. */
int ctl_annotations_begin(ctl_build *bd);

/*
 * Which version of an owned Ingress to serve: *ing itself when its
 * annotations are valid; otherwise (logged once, reported every build)
 * the last good version, replacing *ing and *info.  Returns 1 serve,
 * 0 not served (never had a good version), -1 out of memory.
 */
int ctl_ingress_served_version(ctl_build *bd, const ctl_class_rules *r,
                               const ctl_object **ing,
                               ctl_ingress_info **info);

/* Frees what ctl_annotations_begin and later steps allocated. */
void ctl_annotations_end(ctl_build *bd);

/* Holds back a canary Ingress (oldest first) until the primaries are
 * merged.  -1 when out of memory. */
int ctl_canary_add(ctl_build *bd, const ctl_object *ing,
                   ctl_ingress_info *info);

/*
 * After merging: pairs canaries with the claimed routes they match
 * (host, path, pathType), marks regex hosts and reorders claims so that
 * regex routes come last, longest path first.  -1 when out of memory.
 */
int ctl_annotations_prepare(ctl_build *bd, ctl_vec *claims);

/* Fills a route's type, policy and canary from the annotations of its
 * Ingress (path_index into bd->paths).  -1 when out of memory. */
int ctl_route_annotate(ctl_build *bd, uint32_t path_index,
                       tbl_route_spec *r);

/* server-alias: each alias names the vhost of its Ingress's first rule
 * host; an alias a rule host or an older Ingress already has is logged
 * and skipped.  Before TLS, which gives aliases their SNI names.  -1
 * when out of memory. */
int ctl_annotations_add_aliases(ctl_build *bd);

/* from-to-www-redirect: a vhost for each counterpart host no Ingress
 * serves, with a server-level FROM_TO_WWW policy.  -1 when out of
 * memory. */
int ctl_annotations_add_servers(ctl_build *bd);

/* Records a served version as the last good one (once per version);
 * ctl_annotations_keep copies them when the build is done.  -1 when out
 * of memory. */
int ctl_ingress_keep_good(ctl_build *bd, const ctl_object *ing,
                          ctl_ingress_info *info);
int ctl_annotations_keep(ctl_build *bd);

/* Frees the typed annotations of an Ingress version (its cache reset). */
void ctl_ingress_annotations_reset(ctl_ingress_info *info);

/* model_backend.c */
int ctl_backends_init(ctl_build *bd);
void ctl_backends_free(ctl_build *bd);

/*
 * The table backend for a Service reference in namespace ns, resolved
 * once per build (problems are logged then, naming obj).  A missing
 * Service or port is also reported to the sink, once per build for each
 * Ingress obj and reference, naming the backend at path (NULL: the
 * Ingress's spec.defaultBackend).  TBL_NONE only when out of memory.
 */
uint32_t ctl_backend_resolve(ctl_build *bd, const char *ns,
                             const ctl_backend_ref *ref,
                             const ctl_object *obj, const ctl_path *path);

/* The backend of a default-backend annotation (port 80 of Service
 * ref->service in ns): like ctl_backend_resolve, but a missing Service
 * is reported against the annotation.  TBL_NONE only when out of
 * memory. */
uint32_t ctl_backend_resolve_annotated(ctl_build *bd, const char *ns,
                                       const ctl_backend_ref *ref,
                                       const ctl_object *obj);
/* --default-backend-service: the global fallback, or none (404). */
int ctl_backend_set_global_default(ctl_build *bd);

/* model_tls.c */

/*
 * The default certificate, then each tls[] host of the build's Ingresses
 * (oldest first) as an SNI name and, where a rule names the host, its
 * vhost's certificate.  Bad Secrets and hosts are logged and skipped.
 * -1 only when out of memory.
 */
int ctl_tls_build(ctl_build *bd);

/*
 * The bytes of one key of a Secret's JSON: stringData wins over data
 * (base64).  A malloc'd NUL-terminated copy (*len bytes before the NUL),
 * or NULL with why "missing", "not valid base64", "larger than 1 MiB"
 * or "out of memory".
 */
char *ctl_secret_value(const cJSON *json, const char *key, size_t *len,
                       const char **why);

/* model_auth.c */

/*
 * Basic auth of an Ingress's policy: s gets the auth type, realm and
 * htpasswd lines from the Secret a names, or TBL_POL_DENIED (warned and
 * reported).  *secret is the malloc'd lines s points to, for the caller
 * to wipe and free once the policy is added.  -1 when out of memory.
 */
int ctl_auth_spec(ctl_build *bd, const ctl_object *ing, const ctl_ann_auth *a,
                  tbl_policy_spec *s, uint8_t **secret, size_t *secret_len);

/* model_config.c: the --configmap settings into the CONFIG record. */
int ctl_config_build(ctl_build *bd);

#endif
