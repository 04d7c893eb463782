/*
 * tbl_lookup.c -- routes one request against a validated table: Host
 * header -> vhost -> path -> route, with the Ingress v1 precedence rules.
 *
 * This runs on every request in every nginx worker, so it allocates
 * nothing, makes no system calls and does no bounds checks (tbl_view_init
 * did them once).  Cost: one pass of hashing over the host and one over
 * the path; at most two host probes, one Exact probe and one Prefix probe
 * per '/' in the path -- only for lengths some rule of the vhost has, and
 * with their memory loads issued together; and a walk of the vhost's
 * ImplementationSpecific list that stops at the first route too short to
 * beat the best Prefix.  Regex paths are matched by the caller's callback
 * (the module owns compiled patterns); this file never compiles one.
 */
#include <string.h>

#include "tbl.h"
#include "tbl_internal.h"

/* ---------------------------------------------------------------- hosts */

/*
 * Host name bytes: the lower-case form of every byte a host name may
 * hold ([A-Za-z0-9_.-]), 0 for the rest.
 */
static const unsigned char tbl_host_bytes[256] = {
    ['-'] = '-', ['.'] = '.', ['_'] = '_',
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
    ['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
    ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e',
    ['f'] = 'f', ['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j',
    ['k'] = 'k', ['l'] = 'l', ['m'] = 'm', ['n'] = 'n', ['o'] = 'o',
    ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't',
    ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y',
    ['z'] = 'z',
    ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e',
    ['F'] = 'f', ['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j',
    ['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o',
    ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r', ['S'] = 's', ['T'] = 't',
    ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y',
    ['Z'] = 'z',
};

/* An IPv6 literal's bytes (lower-cased): hex digits, ':' and '.'. */
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
        unsigned char c = (unsigned char)name[i];

        c = v6 && c == ':' ? c : tbl_host_bytes[c];
        if (v6 ? !tbl_ipv6_byte_ok(c)
               : c == 0 || (c == '.' && (i == 0 || buf[i - 1] == '.')))
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

static inline void
tbl_prefetch_slot(const tbl_slot *slots, uint32_t cap, uint64_t h)
{
    if (cap > 0) {
        __builtin_prefetch(&slots[h & (cap - 1)]);
    }
}

/*
 * Exact name, then "*.<rest>" for exactly one extra label.  The rest is
 * hashed only when the exact probe misses: host hashes are small enough
 * to stay cached, so hashing ahead would cost more than it hides.
 */
static uint32_t
tbl_find_named(const tbl_view *v, const tbl_slot *exact, uint32_t exact_cap,
               const tbl_slot *wild, uint32_t wild_cap, const char *name,
               size_t len, uint8_t *kind)
{
    const char *dot;
    size_t      rest_len;
    uint32_t    i;

    i = tbl_slot_find(exact, exact_cap, v->strings, name, len, 0,
                      tbl_slot_hash(name, len, 0));
    if (i != TBL_NONE) {
        *kind = TBL_HOST_EXACT;
        return exact[i].value;
    }
    dot = memchr(name, '.', len);
    if (dot == NULL || wild_cap == 0) {
        return TBL_NONE;
    }
    rest_len = len - (size_t)(dot + 1 - name);
    i = tbl_slot_find(wild, wild_cap, v->strings, dot + 1, rest_len, 0,
                      tbl_slot_hash(dot + 1, rest_len, 0));
    if (i != TBL_NONE) {
        *kind = TBL_HOST_WILDCARD;
        return wild[i].value;
    }
    return TBL_NONE;
}

/* ---------------------------------------------------------------- paths */

/*
 * Hashes of every prefix of the request path from one pass: state[k] is
 * the hash state after the first k 8-byte words (seeded with the vhost,
 * as PATH_EXACT and PATH_PREFIX keys are), and the hash of path[0..b)
 * is the finish of state[b / 8] with the remaining b % 8 bytes.  Rule
 * paths are at most TBL_MAX_PATH_LEN bytes, so longer prefixes are never
 * hashed (or probed).
 */
typedef struct {
    const char *path;
    size_t      len;
    uint64_t    state[TBL_MAX_PATH_LEN / 8 + 1];
} tbl_path_hashes;

static void
tbl_path_hashes_init(tbl_path_hashes *ph, const char *path, size_t len,
                     uint32_t vhost)
{
    size_t words = (len < TBL_MAX_PATH_LEN ? len : TBL_MAX_PATH_LEN) / 8, k;

    ph->path = path;
    ph->len = len;
    ph->state[0] = tbl_hash_start(TBL_HASH_SEED ^ vhost);
    for (k = 0; k < words; k++) {
        ph->state[k + 1] = tbl_hash_round(
            ph->state[k], tbl_hash_load64((const uint8_t *)path + 8 * k));
    }
}

/* The slot hash of path[0..n), n <= TBL_MAX_PATH_LEN. */
static uint64_t
tbl_path_hash(const tbl_path_hashes *ph, size_t n)
{
    return tbl_hash_finish(ph->state[n / 8],
                           (const uint8_t *)ph->path + (n & ~(size_t)7), n & 7,
                           n);
}

/*
 * The Prefix candidates of a request path, longest first: the whole path
 * (unless it ends in '/'), then every prefix ending just before a '/',
 * then "/".  A rule's key has no trailing '/', so "/foo" is found for
 * "/foo", "/foo/" and "/foo/x" but never for "/foobar".
 */
typedef struct {
    const char *key; /* path, or "/" for the last candidate */
    size_t      len;
    uint64_t    hash;
} tbl_candidate;

typedef struct {
    const tbl_path_hashes *ph;
    uint32_t               vhost;
    uint64_t               lengths; /* the vhost's prefix_lengths       */
    size_t                 pos;  /* next '/' to look at is before pos  */
    int                    step; /* 0 whole path, 1 segments, 2 "/", 3 end */
} tbl_candidates;

/*
 * The next candidate whose length some Prefix rule of the vhost has;
 * the others are skipped without hashing.
 */
static int
tbl_candidate_next(tbl_candidates *it, tbl_candidate *c)
{
    const tbl_path_hashes *ph = it->ph;

    if (it->step == 0) {
        it->step = 1;
        it->pos = ph->len;
        if (ph->len > 0 && ph->path[ph->len - 1] != '/'
            && ph->len <= TBL_MAX_PATH_LEN
            && (it->lengths & TBL_LENGTH_BIT(ph->len)))
        {
            c->key = ph->path;
            c->len = ph->len;
            c->hash = tbl_path_hash(ph, ph->len);
            return 1;
        }
    }
    if (it->step == 1) {
        while (it->pos > 1) {
            it->pos--;
            if (ph->path[it->pos] == '/' && it->pos <= TBL_MAX_PATH_LEN
                && (it->lengths & TBL_LENGTH_BIT(it->pos)))
            {
                c->key = ph->path;
                c->len = it->pos;
                c->hash = tbl_path_hash(ph, it->pos);
                return 1;
            }
        }
        it->step = 2;
    }
    if (it->step == 2 && (it->lengths & TBL_LENGTH_BIT(1))) {
        it->step = 3;
        c->key = "/";
        c->len = 1;
        c->hash = ph->len > 0 && ph->path[0] == '/'
                      ? tbl_path_hash(ph, 1)
                      : tbl_slot_hash("/", 1, it->vhost);
        return 1;
    }
    return 0;
}

#define TBL_PREFETCH_MAX 16

/*
 * The longest Prefix rule matching the path.  The first candidates'
 * slots are all requested from memory before any is read, so a request
 * with several segments waits for about one cache miss, not one per
 * segment.
 */
static uint32_t
tbl_match_prefix(const tbl_view *v, uint32_t vhost, tbl_candidates *it,
                 tbl_candidate *first, int nfirst)
{
    tbl_candidate c;
    uint32_t      i;
    int           k;

    for (k = 0; k < nfirst; k++) {
        i = tbl_slot_find(v->path_prefix, v->path_prefix_cap, v->strings,
                          first[k].key, first[k].len, vhost, first[k].hash);
        if (i != TBL_NONE) {
            return v->path_prefix[i].value;
        }
    }
    while (tbl_candidate_next(it, &c)) {
        i = tbl_slot_find(v->path_prefix, v->path_prefix_cap, v->strings,
                          c.key, c.len, vhost, c.hash);
        if (i != TBL_NONE) {
            return v->path_prefix[i].value;
        }
    }
    return TBL_NONE;
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

/*
 * The path-level decision inside one vhost; TBL_NONE when nothing fits.
 * The Exact slot and the first Prefix candidates' slots are all requested
 * from memory before the first is read.
 */
static uint32_t
tbl_match_path(const tbl_view *v, uint32_t vi, const char *path, size_t len,
               tbl_regex_fn regex, void *ctx, uint8_t *kind)
{
    const tbl_vhost *vh = &v->vhosts[vi];
    tbl_path_hashes  ph;
    tbl_candidates   it = {&ph, vi, vh->prefix_lengths, 0, 0};
    tbl_candidate    first[TBL_PREFETCH_MAX];
    int              exact = len <= TBL_MAX_PATH_LEN
                && (vh->exact_lengths & TBL_LENGTH_BIT(len));
    uint64_t         he = 0;
    uint32_t         r = TBL_NONE, i, impl;
    int              n = 0;

    if (exact || vh->prefix_lengths != 0) {
        tbl_path_hashes_init(&ph, path, len, vi);
    }
    if (exact) {
        he = tbl_path_hash(&ph, len);
        tbl_prefetch_slot(v->path_exact, v->path_exact_cap, he);
    }
    if (vh->prefix_lengths != 0) {
        while (n < TBL_PREFETCH_MAX && tbl_candidate_next(&it, &first[n])) {
            tbl_prefetch_slot(v->path_prefix, v->path_prefix_cap,
                              first[n].hash);
            n++;
        }
    }

    if (exact) {
        i = tbl_slot_find(v->path_exact, v->path_exact_cap, v->strings, path,
                          len, vi, he);
        if (i != TBL_NONE) {
            *kind = TBL_MATCH_EXACT;
            return v->path_exact[i].value;
        }
    }
    if (regex != NULL && (vh->flags & TBL_VHOST_REGEX)) {
        r = tbl_match_regex(v, vh, path, len, regex, ctx);
        if (r != TBL_NONE) {
            *kind = TBL_MATCH_REGEX;
            return r;
        }
    }
    if (vh->prefix_lengths != 0) {
        r = tbl_match_prefix(v, vi, &it, first, n);
    }
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
    if (vi != TBL_NONE) {
        __builtin_prefetch(&v->vhosts[vi]);
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

/*
 * A table without CONFIG gets these; tbl_config_spec_defaults starts
 * from the same numbers.  The strings are all empty (offset 0 is "" in
 * every pool).
 */
const tbl_config tbl_config_defaults = {
    .flags = TBL_CFG_HSTS | TBL_CFG_HSTS_INCLUDE_SUBDOMAINS
             | TBL_CFG_SSL_REDIRECT,
    .http_redirect_code = 308,
    .limit_req_status_code = 503,
    .limit_conn_status_code = 503,
    .load_balance = TBL_LB_ROUND_ROBIN,
    .hsts_max_age = 31536000,
    .connect_timeout_ms = 5000,
    .send_timeout_ms = 60000,
    .read_timeout_ms = 60000,
    .next_upstream = TBL_NEXT_ERROR | TBL_NEXT_TIMEOUT,
    .next_upstream_tries = 3,
    .body_size_max = 1024 * 1024,
};

const tbl_config *
tbl_view_config(const tbl_view *v)
{
    return v->config != NULL ? v->config : &tbl_config_defaults;
}
