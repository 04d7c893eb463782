/*
 * tbl_lookup.c -- routes one request against a validated table: Host
 * header -> vhost -> path -> route, with the Ingress v1 precedence rules.
 *
 * This runs on every request in every nginx worker, so it allocates
 * nothing, makes no system calls and does no bounds checks (tbl_view_init
 * did them once).  Cost: at most two host probes, one Exact probe, one
 * Prefix probe per '/' in the path, and a walk of the vhost's
 * ImplementationSpecific list that stops at the first route too short to
 * beat the best Prefix.  Regex paths are matched by the caller's callback
 * (the module owns compiled patterns); this file never compiles one.
 */
#include <string.h>

#include "tbl.h"
#include "tbl_internal.h"

/* ---------------------------------------------------------------- hosts */

static unsigned char
tbl_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

static int
tbl_host_byte_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
           || c == '_' || c == '.';
}

/* An IPv6 literal's bytes: hex digits, ':' and '.' (embedded IPv4). */
static int
tbl_ipv6_byte_ok(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':'
           || c == '.';
}

static int
tbl_digits_ok(const char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/*
 * Finds the part of a Host header that names the host: "[v6]" or
 * "[v6]:port" -> "v6"; a bare IPv6 literal (two or more ':') stays whole;
 * otherwise an optional ":port" (digits only) is dropped and then one
 * trailing dot.  Sets *name, *n and *v6; -1 for a malformed header.
 */
static int
tbl_host_split(const char *host, size_t len, const char **name, size_t *n,
               int *v6)
{
    const char *colon, *end;

    *name = host;
    *n = len;
    *v6 = 0;
    if (host[0] == '[') {
        end = memchr(host, ']', len);
        if (end == NULL) {
            return -1;
        }
        *name = host + 1;
        *n = (size_t)(end - *name);
        *v6 = 1;
        len -= *n + 2;
        return len == 0 || (end[1] == ':' && tbl_digits_ok(end + 2, len - 1))
                   ? 0
                   : -1;
    }
    colon = memchr(host, ':', len);
    if (colon != NULL) {
        size_t rest = len - (size_t)(colon - host) - 1;

        if (memchr(colon + 1, ':', rest) != NULL) {
            *v6 = 1;
            return 0;
        }
        if (!tbl_digits_ok(colon + 1, rest)) {
            return -1;
        }
        *n = (size_t)(colon - host);
    }
    if (*n > 0 && host[*n - 1] == '.') {
        (*n)--;
    }
    return 0;
}

/*
 * Lower-cases the host part of a Host header into buf (NUL-terminated).
 * Host names are labels of [a-z0-9_-] separated by single dots, at most
 * 253 bytes; IPv6 literals are hex digits, ':' and '.'.  Anything else
 * cannot be a rule's host, and -1 makes the caller treat the request as
 * having no host (catch-all).
 */
int
tbl_normalize_host(const char *host, size_t len, char *buf, size_t buflen)
{
    const char *name;
    size_t      n, i;
    int         v6;

    if (host == NULL || len == 0
        || tbl_host_split(host, len, &name, &n, &v6) != 0 || n == 0
        || n > TBL_MAX_HOST_LEN || n >= buflen)
    {
        return -1;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = tbl_lower((unsigned char)name[i]);

        if (v6 ? !tbl_ipv6_byte_ok(c)
               : !tbl_host_byte_ok(c)
                     || (c == '.' && (i == 0 || buf[i - 1] == '.')))
        {
            return -1;
        }
        buf[i] = (char)c;
    }
    if (!v6 && buf[n - 1] == '.') {
        return -1;
    }
    buf[n] = '\0';
    return (int)n;
}

static uint32_t
tbl_hash_get(const tbl_slot *slots, uint32_t cap, const tbl_view *v,
             const char *key, size_t len, uint32_t scope)
{
    uint32_t i;

    if (cap == 0) {
        return TBL_NONE;
    }
    i = tbl_slot_find(slots, cap, v->strings, key, len, scope,
                      tbl_slot_hash(key, len, scope));
    return i == TBL_NONE ? TBL_NONE : slots[i].value;
}

/* Exact name, then "*.<rest>" for exactly one extra label. */
static uint32_t
tbl_find_named(const tbl_view *v, const tbl_slot *exact, uint32_t exact_cap,
               const tbl_slot *wild, uint32_t wild_cap, const char *name,
               size_t len, uint8_t *kind)
{
    const char *dot;
    uint32_t    idx;

    idx = tbl_hash_get(exact, exact_cap, v, name, len, 0);
    if (idx != TBL_NONE) {
        *kind = TBL_HOST_EXACT;
        return idx;
    }
    dot = memchr(name, '.', len);
    if (dot != NULL && dot + 1 < name + len) {
        idx = tbl_hash_get(wild, wild_cap, v, dot + 1,
                           len - (size_t)(dot + 1 - name), 0);
        if (idx != TBL_NONE) {
            *kind = TBL_HOST_WILDCARD;
            return idx;
        }
    }
    return TBL_NONE;
}

/* ---------------------------------------------------------------- paths */

/*
 * The longest Prefix rule matching path: probe the whole path (unless it
 * ends in '/'), then every prefix ending just before a '/', longest
 * first, then "/".  A rule's key has no trailing '/', so "/foo" is found
 * for "/foo", "/foo/" and "/foo/x" but never for "/foobar".
 */
static uint32_t
tbl_match_prefix(const tbl_view *v, uint32_t vhost, const char *path,
                 size_t len)
{
    uint32_t r;
    size_t   n = len;

    if (v->path_prefix_cap == 0) {
        return TBL_NONE;
    }
    if (n > 0 && path[n - 1] != '/') {
        r = tbl_hash_get(v->path_prefix, v->path_prefix_cap, v, path, n,
                         vhost);
        if (r != TBL_NONE) {
            return r;
        }
    }
    while (n > 1) {
        n--;
        if (path[n] == '/') {
            r = tbl_hash_get(v->path_prefix, v->path_prefix_cap, v, path, n,
                             vhost);
            if (r != TBL_NONE) {
                return r;
            }
        }
    }
    return tbl_hash_get(v->path_prefix, v->path_prefix_cap, v, "/", 1, vhost);
}

/*
 * The longest ImplementationSpecific rule that is a plain string prefix
 * of path and, when a Prefix rule matched, strictly longer than that
 * rule's path as written (beat_len).  The list is sorted longest first,
 * so the walk stops at the first rule that is too short.
 */
static uint32_t
tbl_match_impl(const tbl_view *v, const tbl_vhost *vh, const char *path,
               size_t len, int have_prefix, size_t beat_len)
{
    const uint32_t *list = v->route_lists + vh->impl_first;
    uint32_t        k;

    for (k = 0; k < vh->impl_count; k++) {
        const tbl_route *r = &v->routes[list[k]];

        if (have_prefix && r->path.len <= beat_len) {
            break;
        }
        if (r->path.len <= len
            && memcmp(tbl_view_str(v, r->path), path, r->path.len) == 0)
        {
            return list[k];
        }
    }
    return TBL_NONE;
}

static uint32_t
tbl_match_regex(const tbl_view *v, const tbl_vhost *vh, const char *path,
                size_t len, tbl_regex_fn regex, void *ctx)
{
    const uint32_t *list = v->route_lists + vh->regex_first;
    uint32_t        k;

    for (k = 0; k < vh->regex_count; k++) {
        if (regex(ctx, v, &v->routes[list[k]], path, len)) {
            return list[k];
        }
    }
    return TBL_NONE;
}

/* The path-level decision inside one vhost; TBL_NONE when nothing fits. */
static uint32_t
tbl_match_path(const tbl_view *v, uint32_t vi, const char *path, size_t len,
               tbl_regex_fn regex, void *ctx, uint8_t *kind)
{
    const tbl_vhost *vh = &v->vhosts[vi];
    uint32_t         r, impl;

    r = tbl_hash_get(v->path_exact, v->path_exact_cap, v, path, len, vi);
    if (r != TBL_NONE) {
        *kind = TBL_MATCH_EXACT;
        return r;
    }
    if (regex != NULL && (vh->flags & TBL_VHOST_REGEX)) {
        r = tbl_match_regex(v, vh, path, len, regex, ctx);
        if (r != TBL_NONE) {
            *kind = TBL_MATCH_REGEX;
            return r;
        }
    }
    r = tbl_match_prefix(v, vi, path, len);
    if (vh->impl_count > 0) {
        impl = tbl_match_impl(v, vh, path, len, r != TBL_NONE,
                              r != TBL_NONE ? v->routes[r].path.len : 0);
        if (impl != TBL_NONE) {
            *kind = TBL_MATCH_IMPL;
            return impl;
        }
    }
    if (r != TBL_NONE) {
        *kind = TBL_MATCH_PREFIX;
    }
    return r;
}

void
tbl_lookup(const tbl_view *v, const char *host, size_t host_len,
           const char *path, size_t path_len, tbl_regex_fn regex,
           void *regex_ctx, tbl_match *out)
{
    char     name[TBL_MAX_HOST_LEN + 1];
    int      n;
    uint32_t vi = TBL_NONE, r;
    uint8_t  host_kind = TBL_HOST_NONE, kind = TBL_MATCH_NONE;

    n = tbl_normalize_host(host, host_len, name, sizeof(name));
    if (n > 0) {
        vi = tbl_find_named(v, v->host_exact, v->host_exact_cap,
                            v->host_wildcard, v->host_wildcard_cap, name,
                            (size_t)n, &host_kind);
    }
    if (vi == TBL_NONE && v->hdr->catchall_vhost != TBL_NONE) {
        vi = v->hdr->catchall_vhost;
        host_kind = TBL_HOST_CATCHALL;
    }

    r = TBL_NONE;
    if (vi != TBL_NONE) {
        r = tbl_match_path(v, vi, path, path_len, regex, regex_ctx, &kind);
        if (r == TBL_NONE && v->vhosts[vi].default_route != TBL_NONE) {
            r = v->vhosts[vi].default_route;
            kind = TBL_MATCH_HOST_DEFAULT;
        }
    }
    if (r == TBL_NONE && v->hdr->default_route != TBL_NONE) {
        r = v->hdr->default_route;
        kind = TBL_MATCH_DEFAULT;
    }

    out->vhost = vi;
    out->route = r;
    out->kind = r == TBL_NONE ? TBL_MATCH_NONE : kind;
    out->host_kind = host_kind;
}

uint32_t
tbl_lookup_cert(const tbl_view *v, const char *sni, size_t len)
{
    char     name[TBL_MAX_HOST_LEN + 1];
    int      n;
    uint32_t c = TBL_NONE;
    uint8_t  kind;

    n = tbl_normalize_host(sni, len, name, sizeof(name));
    if (n > 0) {
        c = tbl_find_named(v, v->sni_exact, v->sni_exact_cap,
                           v->sni_wildcard, v->sni_wildcard_cap, name,
                           (size_t)n, &kind);
    }
    return c != TBL_NONE ? c : v->hdr->default_cert;
}
