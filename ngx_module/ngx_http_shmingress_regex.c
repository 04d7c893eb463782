
/*
 * ngx_http_shmingress_regex.c -- regex paths and other table patterns.
 *
 * Regex routes (use-regex, rewrite-target) are matched the way
 * ingress-nginx's "location ~* ^<path>" matches them: case-insensitive
 * and anchored at the start of the path only.  Patterns come from the
 * table, so each worker compiles a pattern the first time a request needs
 * it (PCRE2, JIT when available) and keeps it in a bounded,
 * set-associative cache keyed by the pattern's hash: a table swap that
 * keeps a pattern keeps its compiled form, and a pattern that fails to
 * compile is remembered as "never matches" and logged once.  This file
 * only matches; what the captures are used for is _rewrite.c's business.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "ngx_http_shmingress_module.h"


/*
 * 1024 sets of 4: a pattern is compiled again only when five in use
 * share a set, or more than 4096 are in use.
 */
#define NGX_HTTP_SHMINGRESS_REGEX_SLOTS  4096
#define NGX_HTTP_SHMINGRESS_REGEX_WAYS   4


typedef struct {
    uint64_t                        key;
    u_char                         *pattern;   /* malloc'd, NUL-ended */
    size_t                          len;
    uint32_t                        options;
    ngx_uint_t                      used;      /* LRU stamp in the set */
    pcre2_code                     *code;      /* NULL: failed */
} ngx_http_shmingress_regex_slot_t;


/* Whose pattern it is, for the log line when it does not compile. */
typedef struct {
    const tbl_view                 *view;
    tbl_str                         ns;
    tbl_str                         name;
    const char                     *field;
} ngx_http_shmingress_regex_owner_t;


static ngx_http_shmingress_regex_slot_t  *ngx_http_shmingress_regex_cache;
static pcre2_match_data                  *ngx_http_shmingress_match_data;
static ngx_uint_t                         ngx_http_shmingress_regex_clock;


static ngx_http_shmingress_regex_slot_t *ngx_http_shmingress_regex_get(
    ngx_log_t *log, const u_char *pattern, size_t len, uint32_t options,
    ngx_http_shmingress_regex_owner_t *owner);
static void ngx_http_shmingress_regex_fill(ngx_log_t *log,
    ngx_http_shmingress_regex_slot_t *slot, uint64_t key,
    const u_char *pattern, size_t len, uint32_t options,
    ngx_http_shmingress_regex_owner_t *owner);
static void ngx_http_shmingress_regex_clear(
    ngx_http_shmingress_regex_slot_t *slot);


/*
 * The tbl_regex_fn of tbl_lookup(): "^" is prepended rather than
 * PCRE2_ANCHORED used, so "a|b" behaves as nginx's "~* ^a|b" does.
 * A match keeps its captures in the ctx for rewrite-target.
 */
int
ngx_http_shmingress_regex_route(void *data, const tbl_view *v,
    const tbl_route *route, const char *path, size_t path_len)
{
    ngx_http_shmingress_ctx_t  *ctx = data;

    int                                rc;
    u_char                             p[TBL_MAX_PATH_LEN + 1];
    ngx_uint_t                         i, n;
    PCRE2_SIZE                        *ov;
    ngx_http_request_t                *r;
    ngx_http_shmingress_regex_slot_t  *slot;
    ngx_http_shmingress_regex_owner_t  owner;

    r = ctx->request;

    if (route->path.len > TBL_MAX_PATH_LEN) {
        return 0;
    }

    p[0] = '^';
    ngx_memcpy(p + 1, tbl_view_str(v, route->path), route->path.len);

    owner.view = v;
    owner.ns = route->ingress_namespace;
    owner.name = route->ingress_name;
    owner.field = "path";

    slot = ngx_http_shmingress_regex_get(r->connection->log, p,
                                         route->path.len + 1, PCRE2_CASELESS,
                                         &owner);
    if (slot == NULL || slot->code == NULL) {
        return 0;
    }

    rc = pcre2_match(slot->code, (PCRE2_SPTR) path, path_len, 0, 0,
                     ngx_http_shmingress_match_data, NULL);
    if (rc < 0) {
        return 0;
    }

    ov = pcre2_get_ovector_pointer(ngx_http_shmingress_match_data);
    n = pcre2_get_ovector_count(ngx_http_shmingress_match_data);
    n = ngx_min(n, NGX_HTTP_SHMINGRESS_CAPTURES);

    ctx->capture_route = route;
    ctx->capture_subject = (u_char *) path;
    ctx->ncaptures = (rc == 0) ? n : ngx_min((ngx_uint_t) rc, n);

    for (i = 0; i < ctx->ncaptures; i++) {
        ctx->captures[2 * i] = ov[2 * i];
        ctx->captures[2 * i + 1] = ov[2 * i + 1];
    }

    return 1;
}


/*
 * Unanchored, case-sensitive search, as ingress-nginx's Lua uses for
 * canary-by-header-pattern.  A pattern that does not compile never
 * matches.
 */
ngx_int_t
ngx_http_shmingress_regex_search(ngx_http_request_t *r, const tbl_view *v,
    const tbl_canary *cn, ngx_str_t *subject)
{
    ngx_http_shmingress_regex_slot_t   *slot;
    ngx_http_shmingress_regex_owner_t   owner;

    owner.view = v;
    owner.ns = cn->ingress_namespace;
    owner.name = cn->ingress_name;
    owner.field = "canary-by-header-pattern";

    slot = ngx_http_shmingress_regex_get(r->connection->log,
               (const u_char *) tbl_view_str(v, cn->header_pattern),
               cn->header_pattern.len, 0, &owner);
    if (slot == NULL || slot->code == NULL) {
        return 0;
    }

    return pcre2_match(slot->code, subject->data, subject->len, 0, 0,
                       ngx_http_shmingress_match_data, NULL) >= 0;
}


static ngx_http_shmingress_regex_slot_t *
ngx_http_shmingress_regex_get(ngx_log_t *log, const u_char *pattern,
    size_t len, uint32_t options, ngx_http_shmingress_regex_owner_t *owner)
{
    uint64_t                           key;
    ngx_uint_t                         i;
    ngx_http_shmingress_regex_slot_t  *set, *slot;

    if (ngx_http_shmingress_regex_cache == NULL) {
        ngx_http_shmingress_regex_cache = ngx_calloc(
            NGX_HTTP_SHMINGRESS_REGEX_SLOTS
            * sizeof(ngx_http_shmingress_regex_slot_t), log);
        ngx_http_shmingress_match_data = pcre2_match_data_create(
            NGX_HTTP_SHMINGRESS_CAPTURES, NULL);

        if (ngx_http_shmingress_regex_cache == NULL
            || ngx_http_shmingress_match_data == NULL)
        {
            ngx_http_shmingress_regex_exit_process(NULL);
            return NULL;
        }
    }

    key = tbl_hash64(pattern, len, options);
    set = &ngx_http_shmingress_regex_cache[
              (key & (NGX_HTTP_SHMINGRESS_REGEX_SLOTS - 1))
              & ~(ngx_uint_t) (NGX_HTTP_SHMINGRESS_REGEX_WAYS - 1)];
    slot = set;

    for (i = 0; i < NGX_HTTP_SHMINGRESS_REGEX_WAYS; i++) {

        if (set[i].pattern && set[i].key == key && set[i].len == len
            && set[i].options == options
            && ngx_memcmp(set[i].pattern, pattern, len) == 0)
        {
            set[i].used = ++ngx_http_shmingress_regex_clock;
            return &set[i];
        }

        if (set[i].used < slot->used) {
            slot = &set[i];
        }
    }

    ngx_http_shmingress_regex_clear(slot);
    ngx_http_shmingress_regex_fill(log, slot, key, pattern, len, options,
                                   owner);
    slot->used = ++ngx_http_shmingress_regex_clock;

    return slot->pattern ? slot : NULL;
}


static void
ngx_http_shmingress_regex_fill(ngx_log_t *log,
    ngx_http_shmingress_regex_slot_t *slot, uint64_t key,
    const u_char *pattern, size_t len, uint32_t options,
    ngx_http_shmingress_regex_owner_t *owner)
{
    int         err;
    u_char      msg[128];
    PCRE2_SIZE  off;

    slot->pattern = ngx_alloc(len + 1, log);
    if (slot->pattern == NULL) {
        return;
    }

    ngx_memcpy(slot->pattern, pattern, len);
    slot->pattern[len] = '\0';
    slot->len = len;
    slot->key = key;
    slot->options = options;

    slot->code = pcre2_compile((PCRE2_SPTR) pattern, len, options, &err,
                               &off, NULL);

    if (slot->code == NULL) {
        pcre2_get_error_message(err, msg, sizeof(msg));
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "shmingress: %s of Ingress %*s/%*s: pattern \"%s\" "
                      "does not compile at offset %uz: %s; it never matches",
                      owner->field, (size_t) owner->ns.len,
                      tbl_view_str(owner->view, owner->ns),
                      (size_t) owner->name.len,
                      tbl_view_str(owner->view, owner->name), slot->pattern,
                      (size_t) off, msg);
        return;
    }

    /* without JIT the interpreter matches the same way, only slower */
    (void) pcre2_jit_compile(slot->code, PCRE2_JIT_COMPLETE);
}


static void
ngx_http_shmingress_regex_clear(ngx_http_shmingress_regex_slot_t *slot)
{
    if (slot->code) {
        pcre2_code_free(slot->code);
    }

    if (slot->pattern) {
        ngx_free(slot->pattern);
    }

    ngx_memzero(slot, sizeof(ngx_http_shmingress_regex_slot_t));
}


void
ngx_http_shmingress_regex_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t  i;

    if (ngx_http_shmingress_regex_cache) {
        for (i = 0; i < NGX_HTTP_SHMINGRESS_REGEX_SLOTS; i++) {
            ngx_http_shmingress_regex_clear(
                &ngx_http_shmingress_regex_cache[i]);
        }

        ngx_free(ngx_http_shmingress_regex_cache);
        ngx_http_shmingress_regex_cache = NULL;
    }

    if (ngx_http_shmingress_match_data) {
        pcre2_match_data_free(ngx_http_shmingress_match_data);
        ngx_http_shmingress_match_data = NULL;
    }
}
