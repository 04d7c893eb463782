/*
 * test_table.c -- publishes route tables for the module tests.
 *
 * The module tests drive real nginx; this fixture gives them tables
 * without the controller, built with the real builder and published
 * with the real tbl_publish(), from a small line-based description:
 *
 *   backend ID NS/SVC:PORT [!missing-service] [!missing-port]
 *           [!no-endpoints] [IPV4:PORT | [IPV6]:PORT]...
 *   policy ID [KEY=VALUE]...
 *   canary ID BACKEND_ID|- [KEY=VALUE]...
 *   route HOST TYPE PATH ID|- INGRESS_NS/INGRESS_NAME [policy=ID]
 *         [canary=ID]
 *   host-default HOST ID INGRESS_NS/INGRESS_NAME
 *   host-policy HOST ID
 *   host-tls HOST
 *   default ID
 *   config [KEY=VALUE]...
 *
 * HOST "*" is the catch-all; TYPE is Exact, Prefix, ImplementationSpecific
 * or Regex; PORT that is not a number is a port name.  Policy keys:
 * redirect=CODE,URL app-root=PATH rewrite=TARGET x-forwarded-prefix=P
 * limit-rps=N limit-rpm=N burst-multiplier=N limit-connections=N
 * limit-allow=CIDR[,CIDR...] allow=CIDR[,CIDR...] deny=CIDR[,CIDR...]
 * cors-origin=LIST cors-methods=LIST cors-headers=LIST cors-expose=LIST
 * cors-max-age=N, connect-timeout=MS send-timeout=MS read-timeout=MS
 * body-size=BYTES next-upstream=COND[,COND...]|off tries=N
 * next-upstream-timeout=MS buffering=on|off vhost=HOST (any of these
 * gives the others their defaults), lb=round_robin|ewma|hash|hash-subset
 * hash-by=TEXT affinity=balanced|persistent cookie-name=N cookie-path=P
 * cookie-domain=D cookie-samesite=S cookie-max-age=N,
 * protocol=HTTP|HTTPS|GRPC|GRPCS, custom-errors=CODE[,CODE...],
 * default-backend=BACKEND_ID, and the flags
 * from-to-www, relative-redirects, denied, cors, cors-credentials,
 * ssl-redirect, force-ssl-redirect, preserve-trailing-slash,
 * affinity-secure, change-on-failure; basic auth with
 * auth-basic=FILE (the auth secret: FILE's bytes; auth-digest=FILE the
 * same with the digest type) and auth-realm=TEXT (a %20 in TEXT is a
 * space).  External auth: auth-url=URL (sets auth type external)
 * auth-method=M auth-signin=URL auth-response-headers=A,B
 * auth-request-redirect=V, and the flags auth-external (the type without
 * a URL) and auth-always-set-cookie.  Canary keys:
 * weight=N total=N header=NAME header-value=V header-pattern=RE
 * cookie=NAME affinity=legacy.  Config keys: http-redirect-code=N
 * limit-req-status=N limit-conn-status=N body-size=BYTES hsts-max-age=N
 * lb=round_robin|ewma custom-errors=CODE[,CODE...] read-timeout=MS
 * forwarded-for-header=NAME allow=CIDRS deny=CIDRS block=CIDRS
 * real-ip=CIDRS flags=TBL_CFG_BITS
 * (0x.. replaces the default hsts, includeSubDomains and ssl-redirect).
 *
 *   shmingress-test-table publish DIR SPEC            prints the generation
 *   shmingress-test-table publish-corrupt DIR SPEC    one byte flipped
 *   shmingress-test-table publish-truncated DIR SPEC  second half missing
 *
 * It checks its input only as far as a test needs; it is not a tool for
 * operators (shmingress-table is).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tbl.h"
#include "tbl_publish.h"

#define MAX_BACKENDS  64
#define MAX_ENDPOINTS 64
#define MAX_CIDRS     16
#define MAX_TOKENS    (MAX_ENDPOINTS + 8)
#define UNKNOWN       (TBL_NONE - 1)

typedef struct {
    char     id[64];
    uint32_t index;
} backend_name;

typedef struct {
    tbl_builder *b;
    backend_name backends[MAX_BACKENDS];
    size_t       nbackends;
    backend_name policies[MAX_BACKENDS];
    size_t       npolicies;
    backend_name canaries[MAX_BACKENDS];
    size_t       ncanaries;
    char         err[256];
} spec_state;

static int
fail(spec_state *s, int line, const char *what, const char *arg)
{
    snprintf(s->err, sizeof(s->err), "line %d: %s \"%s\"", line, what, arg);
    return -1;
}

/* Splits "a/b" or "a/b:c" in place; missing parts come back NULL. */
static void
split_name(char *text, char **ns, char **name, char **port)
{
    char *slash = strchr(text, '/');
    char *colon;

    *ns = text;
    *name = NULL;
    *port = NULL;
    if (slash == NULL) {
        return;
    }
    *slash = '\0';
    *name = slash + 1;
    colon = strrchr(*name, ':');
    if (colon) {
        *colon = '\0';
        *port = colon + 1;
    }
}

static int
parse_endpoint(const char *text, tbl_endpoint *ep)
{
    const char *colon = strrchr(text, ':');
    char        addr[64];
    size_t      len;
    long        port;

    if (colon == NULL) {
        return -1;
    }
    len = (size_t)(colon - text);
    if (text[0] == '[') {
        if (len < 3 || text[len - 1] != ']') {
            return -1;
        }
        text++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof(addr)) {
        return -1;
    }
    memcpy(addr, text, len);
    addr[len] = '\0';
    port = strtol(colon + 1, NULL, 10);
    if (port <= 0 || port > 65535) {
        return -1;
    }

    memset(ep, 0, sizeof(*ep));
    ep->port = (uint16_t)port;
    ep->flags = TBL_EP_READY | TBL_EP_SERVING;
    if (inet_pton(AF_INET, addr, ep->addr) == 1) {
        ep->family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, addr, ep->addr) == 1) {
        ep->family = 6;
        return 0;
    }
    return -1;
}

/* The builder index for an ID among names; TBL_NONE for "-". */
static uint32_t
find_name(const backend_name *names, size_t n, const char *id)
{
    size_t i;

    if (strcmp(id, "-") == 0) {
        return TBL_NONE;
    }
    for (i = 0; i < n; i++) {
        if (strcmp(names[i].id, id) == 0) {
            return names[i].index;
        }
    }
    return UNKNOWN;
}

static uint32_t
find_backend(const spec_state *s, const char *id)
{
    return find_name(s->backends, s->nbackends, id);
}

static int
remember(spec_state *s, backend_name *names, size_t *n, int line,
         const char *id, uint32_t index)
{
    if (index == TBL_NONE) {
        return -1;
    }
    if (*n == MAX_BACKENDS) {
        return fail(s, line, "too many", id);
    }
    snprintf(names[*n].id, sizeof(names[0].id), "%s", id);
    names[*n].index = index;
    (*n)++;
    return 0;
}

/* "KEY=VALUE": *value points after '=' (NULL for a bare flag). */
static const char *
key_value(char *tok, const char **value)
{
    char *eq = strchr(tok, '=');

    *value = NULL;
    if (eq) {
        *eq = '\0';
        *value = eq + 1;
    }
    return tok;
}

static int
parse_cidrs(const char *list, tbl_cidr *out, size_t *n)
{
    const char *p = list, *comma;

    *n = 0;
    while (*p && *n < MAX_CIDRS) {
        comma = strchr(p, ',');
        if (tbl_cidr_parse(p, comma ? (size_t)(comma - p) : strlen(p),
                           &out[*n]) != 0) {
            return -1;
        }
        (*n)++;
        p = comma ? comma + 1 : p + strlen(p);
    }
    return 0;
}

/* "error,timeout,http_502" or "off" as TBL_NEXT_* bits; 0 if unknown. */
static uint32_t
next_upstream_mask(const char *value)
{
    static const char *const names[] = {
        "error", "timeout", "invalid_header", "http_500", "http_502",
        "http_503", "http_504", "http_403", "http_404", "http_429",
        "non_idempotent", "off"};
    uint32_t mask = 0;
    const char *p = value;

    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        uint32_t bit = 0;

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (strlen(names[i]) == n && strncmp(names[i], p, n) == 0)
                bit = 1u << i;
        }
        if (bit == 0)
            return 0;
        mask |= bit;
        p += n + (p[n] == ',');
    }
    return mask;
}

/* "404,503" into a custom-http-errors bitmap; -1 for a code out of
 * range. */
static int
custom_errors_bits(const char *value, uint64_t bits[TBL_CUSTOM_ERRORS_WORDS])
{
    const char *p = value;

    while (*p != '\0') {
        char *end;
        unsigned long code = strtoul(p, &end, 10);

        if (end == p || code < TBL_CUSTOM_ERRORS_BASE ||
            code >= TBL_CUSTOM_ERRORS_BASE + 64 * TBL_CUSTOM_ERRORS_WORDS)
            return -1;
        code -= TBL_CUSTOM_ERRORS_BASE;
        bits[code / 64] |= 1ull << (code % 64);
        p = end + (*end == ',');
    }
    return 0;
}

static int
protocol_value(const char *value, uint8_t *out)
{
    static const char *const names[] = {"HTTP", "HTTPS", "AUTO_HTTP",
                                        "GRPC", "GRPCS", "FCGI"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(names[i], value) == 0) {
            *out = (uint8_t)i;
            return 0;
        }
    }
    return -1;
}

/* The upstream keys; a policy with any of them carries every upstream
 * setting, as the controller's do, so the others take the defaults. */
static int
set_upstream_key(tbl_policy_spec *p, const char *key, const char *value)
{
    if (p->connect_timeout_ms == 0) {
        p->connect_timeout_ms = 5000;
        p->send_timeout_ms = 60000;
        p->read_timeout_ms = 60000;
        p->next_upstream = TBL_NEXT_ERROR | TBL_NEXT_TIMEOUT;
        p->next_upstream_tries = 3;
        p->body_size_max = 1024 * 1024;
    }
    if (strcmp(key, "connect-timeout") == 0) {
        p->connect_timeout_ms = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "send-timeout") == 0) {
        p->send_timeout_ms = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "read-timeout") == 0) {
        p->read_timeout_ms = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "body-size") == 0) {
        p->body_size_max = strtoull(value, NULL, 10);
    } else if (strcmp(key, "next-upstream") == 0) {
        p->next_upstream = next_upstream_mask(value);
        return p->next_upstream == 0 ? -1 : 0;
    } else if (strcmp(key, "tries") == 0) {
        p->next_upstream_tries = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "next-upstream-timeout") == 0) {
        p->next_upstream_timeout_ms = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "buffering") == 0) {
        if (strcmp(value, "on") == 0)
            p->flags |= TBL_POL_PROXY_BUFFERING;
    } else if (strcmp(key, "vhost") == 0) {
        p->upstream_vhost = value;
    } else {
        return -1;
    }
    return 0;
}

/* The whole of a file, for an auth secret; NULL when unreadable. */
static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE    *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long     n;

    if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
        *len = fread(buf, 1, (size_t)n, f);
    }
    if (f != NULL)
        fclose(f);
    return buf;
}

/* Replaces each "%20" of s with a space, in place. */
static char *
decode_spaces(char *s)
{
    char *r = s, *w = s;

    while (*r != '\0') {
        if (strncmp(r, "%20", 3) == 0) {
            *w++ = ' ';
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return s;
}

static int
set_auth_key(tbl_policy_spec *p, const char *key, char *value)
{
    if (strcmp(key, "auth-basic") == 0 || strcmp(key, "auth-digest") == 0) {
        p->auth_type = key[5] == 'b' ? TBL_AUTH_BASIC : TBL_AUTH_DIGEST;
        free((void *)p->auth_secret);
        p->auth_secret = read_file(value, &p->auth_secret_len);
        return p->auth_secret == NULL ? -1 : 0;
    }
    if (strcmp(key, "auth-realm") == 0) {
        p->auth_realm = decode_spaces(value);
        return 0;
    }
    return 1;
}

static int
load_balance_of(const char *value)
{
    if (strcmp(value, "round_robin") == 0)
        return TBL_LB_ROUND_ROBIN;
    if (strcmp(value, "ewma") == 0)
        return TBL_LB_EWMA;
    if (strcmp(value, "hash") == 0)
        return TBL_LB_HASH;
    if (strcmp(value, "hash-subset") == 0)
        return TBL_LB_HASH_SUBSET;
    return -1;
}

/* The balancing keys; 1 when key is not one of them. */
static int
set_balance_key(tbl_policy_spec *p, const char *key, const char *value)
{
    int lb;

    if (strcmp(key, "lb") == 0) {
        lb = load_balance_of(value);
        if (lb < 0)
            return -1;
        p->load_balance = (uint8_t)lb;
    } else if (strcmp(key, "hash-by") == 0) {
        p->hash_by = value;
    } else if (strcmp(key, "affinity") == 0) {
        if (strcmp(value, "balanced") == 0)
            p->affinity_mode = TBL_AFFINITY_BALANCED;
        else if (strcmp(value, "persistent") == 0)
            p->affinity_mode = TBL_AFFINITY_PERSISTENT;
        else
            return -1;
    } else if (strcmp(key, "cookie-name") == 0) {
        p->affinity_cookie_name = value;
    } else if (strcmp(key, "cookie-path") == 0) {
        p->affinity_cookie_path = value;
    } else if (strcmp(key, "cookie-domain") == 0) {
        p->affinity_cookie_domain = value;
    } else if (strcmp(key, "cookie-samesite") == 0) {
        p->affinity_cookie_samesite = value;
    } else if (strcmp(key, "cookie-max-age") == 0) {
        p->affinity_max_age = (uint32_t)strtoul(value, NULL, 10);
    } else {
        return 1;
    }
    return 0;
}

static int
set_policy_key(tbl_policy_spec *p, tbl_cidr cidrs[][MAX_CIDRS],
               const char *key, const char *value)
{
    int rc;

    if (value == NULL) {
        if (strcmp(key, "from-to-www") == 0) {
            p->flags |= TBL_POL_FROM_TO_WWW;
        } else if (strcmp(key, "relative-redirects") == 0) {
            p->flags |= TBL_POL_RELATIVE_REDIRECTS;
        } else if (strcmp(key, "denied") == 0) {
            p->flags |= TBL_POL_DENIED;
        } else if (strcmp(key, "cors") == 0) {
            p->flags |= TBL_POL_CORS;
        } else if (strcmp(key, "cors-credentials") == 0) {
            p->flags |= TBL_POL_CORS_CREDENTIALS;
        } else if (strcmp(key, "ssl-redirect") == 0) {
            p->flags |= TBL_POL_SSL_REDIRECT;
        } else if (strcmp(key, "force-ssl-redirect") == 0) {
            p->flags |= TBL_POL_FORCE_SSL_REDIRECT;
        } else if (strcmp(key, "preserve-trailing-slash") == 0) {
            p->flags |= TBL_POL_PRESERVE_TRAILING_SLASH;
        } else if (strcmp(key, "affinity-secure") == 0) {
            p->flags |= TBL_POL_AFFINITY_SECURE;
        } else if (strcmp(key, "change-on-failure") == 0) {
            p->flags |= TBL_POL_AFFINITY_CHANGE_ON_FAILURE;
        } else if (strcmp(key, "auth-external") == 0) {
            p->auth_type = TBL_AUTH_EXTERNAL;
        } else if (strcmp(key, "auth-always-set-cookie") == 0) {
            p->flags |= TBL_POL_AUTH_ALWAYS_SET_COOKIE;
        } else {
            return -1;
        }
        return 0;
    }
    rc = set_balance_key(p, key, value);
    if (rc <= 0)
        return rc;
    if (strcmp(key, "redirect") == 0 && strchr(value, ',')) {
        p->redirect_code = (uint16_t)strtoul(value, NULL, 10);
        p->redirect_url = strchr(value, ',') + 1;
    } else if (strcmp(key, "app-root") == 0) {
        p->app_root = value;
    } else if (strcmp(key, "rewrite") == 0) {
        p->rewrite_target = value;
    } else if (strcmp(key, "x-forwarded-prefix") == 0) {
        p->x_forwarded_prefix = value;
    } else if (strcmp(key, "limit-rps") == 0) {
        p->limit_rps = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "limit-rpm") == 0) {
        p->limit_rpm = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "burst-multiplier") == 0) {
        p->limit_burst_multiplier = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "limit-connections") == 0) {
        p->limit_connections = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "limit-allow") == 0) {
        p->limit_allow = cidrs[0];
        return parse_cidrs(value, cidrs[0], &p->limit_allow_count);
    } else if (strcmp(key, "allow") == 0) {
        p->allow = cidrs[1];
        return parse_cidrs(value, cidrs[1], &p->allow_count);
    } else if (strcmp(key, "deny") == 0) {
        p->deny = cidrs[2];
        return parse_cidrs(value, cidrs[2], &p->deny_count);
    } else if (strcmp(key, "cors-origin") == 0) {
        p->cors_allow_origin = value;
    } else if (strcmp(key, "cors-methods") == 0) {
        p->cors_allow_methods = value;
    } else if (strcmp(key, "cors-headers") == 0) {
        p->cors_allow_headers = value;
    } else if (strcmp(key, "cors-expose") == 0) {
        p->cors_expose_headers = value;
    } else if (strcmp(key, "cors-max-age") == 0) {
        p->cors_max_age = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "protocol") == 0) {
        return protocol_value(value, &p->backend_protocol);
    } else if (strcmp(key, "custom-errors") == 0) {
        return custom_errors_bits(value, p->custom_errors);
    } else if (strcmp(key, "auth-url") == 0) {
        p->auth_type = TBL_AUTH_EXTERNAL;
        p->auth_url = value;
    } else if (strcmp(key, "auth-method") == 0) {
        p->auth_method = value;
    } else if (strcmp(key, "auth-signin") == 0) {
        p->auth_signin = value;
    } else if (strcmp(key, "auth-response-headers") == 0) {
        p->auth_response_headers = value;
    } else if (strcmp(key, "auth-request-redirect") == 0) {
        p->auth_request_redirect = value;
    } else {
        return set_upstream_key(p, key, value);
    }
    return 0;
}

static int
add_policy(spec_state *s, int line, char **tok, int ntok)
{
    tbl_policy_spec spec;
    tbl_cidr        cidrs[3][MAX_CIDRS]; /* limit-allow, allow, deny */
    const char     *key, *value;
    uint32_t        idx;
    int             i, rc;

    if (ntok < 2) {
        return fail(s, line, "cannot add policy", tok[0]);
    }
    tbl_policy_spec_init(&spec);
    spec.limit_burst_multiplier = 5;
    for (i = 2; i < ntok; i++) {
        key = key_value(tok[i], &value);
        if (value && strcmp(key, "default-backend") == 0) {
            spec.default_backend = find_backend(s, value);
            rc = spec.default_backend == UNKNOWN ||
                 spec.default_backend == TBL_NONE;
        } else {
            rc = value ? set_auth_key(&spec, key, (char *)value) : 1;
            if (rc == 1)
                rc = set_policy_key(&spec, cidrs, key, value);
        }
        if (rc != 0) {
            free((void *)spec.auth_secret);
            return fail(s, line, "bad policy key", key);
        }
    }
    idx = tbl_builder_add_policy(s->b, &spec, s->err, sizeof(s->err));
    free((void *)spec.auth_secret);
    return remember(s, s->policies, &s->npolicies, line, tok[1], idx);
}

static int
set_canary_key(tbl_canary_spec *c, const char *key, const char *value)
{
    if (value == NULL) {
        return -1;
    }
    if (strcmp(key, "weight") == 0) {
        c->weight = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "total") == 0) {
        c->weight_total = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "header") == 0) {
        c->header = value;
        c->flags |= TBL_CANARY_BY_HEADER;
    } else if (strcmp(key, "header-value") == 0) {
        c->header_value = value;
        c->flags |= TBL_CANARY_BY_HEADER_VALUE;
    } else if (strcmp(key, "header-pattern") == 0) {
        c->header_pattern = value;
        c->flags |= TBL_CANARY_BY_HEADER_PATTERN;
    } else if (strcmp(key, "cookie") == 0) {
        c->cookie = value;
        c->flags |= TBL_CANARY_BY_COOKIE;
    } else if (strcmp(key, "affinity") == 0 && strcmp(value, "legacy") == 0) {
        c->flags |= TBL_CANARY_AFFINITY_LEGACY;
    } else {
        return -1;
    }
    return 0;
}

static int
add_canary(spec_state *s, int line, char **tok, int ntok)
{
    tbl_canary_spec spec = {0};
    const char     *key, *value;
    int             i;

    if (ntok < 3) {
        return fail(s, line, "cannot add canary", tok[0]);
    }
    spec.backend = find_backend(s, tok[2]);
    if (spec.backend == UNKNOWN) {
        return fail(s, line, "unknown backend", tok[2]);
    }
    spec.weight_total = 100;
    spec.ingress_namespace = "default";
    spec.ingress_name = tok[1];
    spec.host = "";
    spec.path = tok[1];
    for (i = 3; i < ntok; i++) {
        key = key_value(tok[i], &value);
        if (set_canary_key(&spec, key, value) != 0) {
            return fail(s, line, "bad canary key", key);
        }
    }
    return remember(s, s->canaries, &s->ncanaries, line, tok[1],
                    tbl_builder_add_canary(s->b, &spec, s->err,
                                           sizeof(s->err)));
}

static int
set_config_key(tbl_config_spec *g, tbl_cidr cidrs[][MAX_CIDRS],
               const char *key, const char *value)
{
    if (strcmp(key, "http-redirect-code") == 0) {
        g->http_redirect_code = (uint16_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "limit-req-status") == 0) {
        g->limit_req_status_code = (uint16_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "limit-conn-status") == 0) {
        g->limit_conn_status_code = (uint16_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "body-size") == 0) {
        g->body_size_max = strtoull(value, NULL, 10);
    } else if (strcmp(key, "hsts-max-age") == 0) {
        g->hsts_max_age = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "lb") == 0 && load_balance_of(value) >= 0) {
        g->load_balance = (uint8_t)load_balance_of(value);
    } else if (strcmp(key, "custom-errors") == 0) {
        return custom_errors_bits(value, g->custom_errors);
    } else if (strcmp(key, "flags") == 0) {
        g->flags = (uint32_t)strtoul(value, NULL, 0);
    } else if (strcmp(key, "read-timeout") == 0) {
        g->read_timeout_ms = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(key, "forwarded-for-header") == 0) {
        g->forwarded_for_header = value;
    } else if (strcmp(key, "allow") == 0) {
        g->allow = cidrs[0];
        return parse_cidrs(value, cidrs[0], &g->allow_count);
    } else if (strcmp(key, "deny") == 0) {
        g->deny = cidrs[1];
        return parse_cidrs(value, cidrs[1], &g->deny_count);
    } else if (strcmp(key, "block") == 0) {
        g->block = cidrs[2];
        return parse_cidrs(value, cidrs[2], &g->block_count);
    } else if (strcmp(key, "real-ip") == 0) {
        g->real_ip = cidrs[3];
        return parse_cidrs(value, cidrs[3], &g->real_ip_count);
    } else {
        return -1;
    }
    return 0;
}

static int
set_config(spec_state *s, int line, char **tok, int ntok)
{
    tbl_config_spec spec;
    tbl_cidr        cidrs[4][MAX_CIDRS]; /* allow, deny, block, real-ip */
    const char     *key, *value;
    int             i;

    tbl_config_spec_defaults(&spec);
    for (i = 1; i < ntok; i++) {
        key = key_value(tok[i], &value);
        if (value == NULL || set_config_key(&spec, cidrs, key, value) != 0) {
            return fail(s, line, "bad config key", key);
        }
    }
    return tbl_builder_set_config(s->b, &spec, s->err, sizeof(s->err));
}

static int
set_host_policy(spec_state *s, int line, char **tok, int ntok)
{
    uint32_t vhost, policy;

    if (ntok != 3) {
        return fail(s, line, "cannot parse line", tok[0]);
    }
    vhost = tbl_builder_vhost(s->b, tok[1]);
    policy = find_name(s->policies, s->npolicies, tok[2]);
    if (vhost == TBL_NONE || policy == UNKNOWN ||
        tbl_builder_set_vhost_policy(s->b, vhost, policy) != 0) {
        return fail(s, line, "bad host policy", tok[2]);
    }
    return 0;
}

/* A tls[] entry for HOST: TBL_VHOST_TLS without a certificate of its
 * own (the default certificate serves it). */
static int
set_host_tls(spec_state *s, int line, char **tok, int ntok)
{
    uint32_t vhost;

    if (ntok != 2) {
        return fail(s, line, "cannot parse line", tok[0]);
    }
    vhost = tbl_builder_vhost(s->b, tok[1]);
    if (vhost == TBL_NONE ||
        tbl_builder_set_vhost_flags(s->b, vhost, TBL_VHOST_TLS) != 0) {
        return fail(s, line, "bad host", tok[1]);
    }
    return 0;
}

/* The optional policy=ID and canary=ID at the end of a route line. */
static int
route_refs(spec_state *s, int line, char **tok, int ntok,
           tbl_route_spec *spec)
{
    const char *key, *value;
    int         i;

    for (i = 0; i < ntok; i++) {
        key = key_value(tok[i], &value);
        if (value && strcmp(key, "policy") == 0) {
            spec->policy = find_name(s->policies, s->npolicies, value);
        } else if (value && strcmp(key, "canary") == 0) {
            spec->canary = find_name(s->canaries, s->ncanaries, value);
        } else {
            return fail(s, line, "bad route option", key);
        }
        if (spec->policy == UNKNOWN || spec->canary == UNKNOWN) {
            return fail(s, line, "unknown reference", value);
        }
    }
    return 0;
}

static int
add_backend_flag_or_endpoint(tbl_backend_spec *spec, tbl_endpoint *eps,
                             const char *tok)
{
    if (strcmp(tok, "!missing-service") == 0) {
        spec->flags |= TBL_BACKEND_SERVICE_MISSING;
    } else if (strcmp(tok, "!missing-port") == 0) {
        spec->flags |= TBL_BACKEND_PORT_MISSING;
    } else if (strcmp(tok, "!no-endpoints") == 0) {
        spec->flags |= TBL_BACKEND_NO_ENDPOINTS;
    } else if (spec->endpoint_count < MAX_ENDPOINTS &&
               parse_endpoint(tok, &eps[spec->endpoint_count]) == 0) {
        spec->endpoint_count++;
    } else {
        return -1;
    }
    return 0;
}

static int
add_backend(spec_state *s, int line, char **tok, int ntok)
{
    tbl_endpoint     eps[MAX_ENDPOINTS];
    tbl_backend_spec spec = {0};
    char            *ns, *name, *port;
    int              i;

    if (ntok < 3 || s->nbackends == MAX_BACKENDS) {
        return fail(s, line, "cannot add backend", tok[0]);
    }
    split_name(tok[2], &ns, &name, &port);
    if (name == NULL || port == NULL) {
        return fail(s, line, "bad service", tok[2]);
    }
    spec.service_namespace = ns;
    spec.service_name = name;
    spec.port = (uint32_t)strtoul(port, NULL, 10);
    spec.port_name = spec.port ? NULL : port;
    spec.endpoints = eps;
    for (i = 3; i < ntok; i++) {
        if (add_backend_flag_or_endpoint(&spec, eps, tok[i]) != 0) {
            return fail(s, line, "bad endpoint", tok[i]);
        }
    }

    snprintf(s->backends[s->nbackends].id, sizeof(s->backends[0].id), "%s",
             tok[1]);
    s->backends[s->nbackends].index = tbl_builder_add_backend(s->b, &spec);
    if (s->backends[s->nbackends].index == TBL_NONE) {
        return fail(s, line, "builder refused backend", tok[1]);
    }
    s->nbackends++;
    return 0;
}

static int
path_type(const char *name)
{
    if (strcmp(name, "Exact") == 0) {
        return TBL_PATH_EXACT;
    }
    if (strcmp(name, "Prefix") == 0) {
        return TBL_PATH_PREFIX;
    }
    if (strcmp(name, "ImplementationSpecific") == 0) {
        return TBL_PATH_IMPL;
    }
    if (strcmp(name, "Regex") == 0) {
        return TBL_PATH_REGEX;
    }
    return -1;
}

/*
 * Fills spec from a route, host-default or default line; *host is NULL
 * for the global default.
 */
static int
parse_route(spec_state *s, int line, char **tok, int ntok,
            tbl_route_spec *spec, const char **host)
{
    char       *owner = NULL, *ns, *name, *port;
    const char *backend;
    int         type;

    *host = NULL;
    if (strcmp(tok[0], "route") == 0 && ntok >= 6) {
        if (route_refs(s, line, tok + 6, ntok - 6, spec) != 0) {
            return -1;
        }
        type = path_type(tok[2]);
        if (type < 0) {
            return fail(s, line, "bad path type", tok[2]);
        }
        *host = tok[1];
        spec->path_type = (uint8_t)type;
        spec->path = tok[3];
        backend = tok[4];
        owner = tok[5];
    } else if (strcmp(tok[0], "host-default") == 0 && ntok == 4) {
        *host = tok[1];
        spec->path_type = TBL_PATH_DEFAULT;
        backend = tok[2];
        owner = tok[3];
    } else if (strcmp(tok[0], "default") == 0 && ntok == 2) {
        spec->path_type = TBL_PATH_DEFAULT;
        backend = tok[1];
    } else {
        return fail(s, line, "cannot parse line", tok[0]);
    }

    spec->backend = find_backend(s, backend);
    if (spec->backend == UNKNOWN) {
        return fail(s, line, "unknown backend", backend);
    }
    if (owner) {
        split_name(owner, &ns, &name, &port);
        if (name == NULL) {
            return fail(s, line, "bad ingress", owner);
        }
        spec->ingress_namespace = ns;
        spec->ingress_name = name;
    }
    return 0;
}

static int
add_route(spec_state *s, int line, char **tok, int ntok)
{
    tbl_route_spec spec = {0};
    const char    *host;
    uint32_t       vhost;

    spec.canary = TBL_NONE;
    spec.policy = TBL_NONE;
    spec.ingress_namespace = "";
    spec.ingress_name = "";
    if (parse_route(s, line, tok, ntok, &spec, &host) != 0) {
        return -1;
    }
    if (host == NULL) {
        return tbl_builder_set_default(s->b, &spec, s->err, sizeof(s->err));
    }

    vhost = tbl_builder_vhost(s->b, strcmp(host, "*") == 0 ? "" : host);
    if (vhost == TBL_NONE) {
        return fail(s, line, "bad host", host);
    }
    if (spec.path_type == TBL_PATH_DEFAULT) {
        return tbl_builder_set_vhost_default(s->b, vhost, &spec, s->err,
                                             sizeof(s->err));
    }
    return tbl_builder_add_route(s->b, vhost, &spec, s->err, sizeof(s->err));
}

static int
parse_line(spec_state *s, int line, char *text)
{
    char *tok[MAX_TOKENS], *save = NULL, *t;
    int   ntok = 0;

    for (t = strtok_r(text, " \t\r\n", &save); t && ntok < MAX_TOKENS;
         t = strtok_r(NULL, " \t\r\n", &save)) {
        if (t[0] == '#') {
            break;
        }
        tok[ntok++] = t;
    }
    if (ntok == 0) {
        return 0;
    }
    if (strcmp(tok[0], "backend") == 0) {
        return add_backend(s, line, tok, ntok);
    }
    if (strcmp(tok[0], "policy") == 0) {
        return add_policy(s, line, tok, ntok);
    }
    if (strcmp(tok[0], "canary") == 0) {
        return add_canary(s, line, tok, ntok);
    }
    if (strcmp(tok[0], "host-tls") == 0) {
        return set_host_tls(s, line, tok, ntok);
    }
    if (strcmp(tok[0], "host-policy") == 0) {
        return set_host_policy(s, line, tok, ntok);
    }
    if (strcmp(tok[0], "config") == 0) {
        return set_config(s, line, tok, ntok);
    }
    return add_route(s, line, tok, ntok);
}

static int
build_from_spec(const char *path, uint64_t gen, uint8_t **buf, size_t *len,
                char *err, size_t errlen)
{
    spec_state s = {0};
    char       text[4096];
    FILE      *f;
    int        line = 0, rc = 0;

    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    s.b = tbl_builder_new();
    if (s.b == NULL) {
        fclose(f);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    while (rc == 0 && fgets(text, sizeof(text), f)) {
        rc = parse_line(&s, ++line, text);
    }
    fclose(f);
    if (rc == 0) {
        rc = tbl_builder_finish(s.b, gen, buf, len, s.err, sizeof(s.err));
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path, s.err);
    }
    tbl_builder_free(s.b);
    return rc;
}

/*
 * Damages a valid table the way a broken writer or a disk error would,
 * keeping the header's generation so that tbl_publish() accepts it.
 */
static void
damage(const char *how, uint8_t *buf, size_t *len)
{
    if (strcmp(how, "publish-corrupt") == 0) {
        buf[*len - 1] ^= 0x5a;
    } else if (strcmp(how, "publish-truncated") == 0) {
        *len = sizeof(tbl_header) + (*len - sizeof(tbl_header)) / 2;
    }
}

int
main(int argc, char **argv)
{
    tbl_control *ctl;
    uint8_t     *buf = NULL;
    size_t       len = 0;
    uint64_t     gen;
    char         err[512];
    int          rc;

    if (argc != 4 || (strcmp(argv[1], "publish") != 0 &&
                      strcmp(argv[1], "publish-corrupt") != 0 &&
                      strcmp(argv[1], "publish-truncated") != 0)) {
        fprintf(stderr,
                "usage: %s publish|publish-corrupt|publish-truncated "
                "DIR SPEC\n", argv[0]);
        return 2;
    }
    if (tbl_control_open(argv[2], 1, &ctl, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    gen = tbl_next_generation(argv[2], ctl);
    rc = build_from_spec(argv[3], gen, &buf, &len, err, sizeof(err));
    if (rc == 0) {
        damage(argv[1], buf, &len);
        rc = tbl_publish(argv[2], ctl, buf, len, gen, TBL_KEEP_DEFAULT, err,
                         sizeof(err));
    }
    if (rc == 0) {
        printf("%llu\n", (unsigned long long)gen);
    } else {
        fprintf(stderr, "%s\n", err);
    }
    free(buf);
    tbl_control_close(ctl);
    return rc == 0 ? 0 : 1;
}
