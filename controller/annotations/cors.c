/*
 * cors.c -- enable-cors and the cors-* keys: which origins may read an
 * Ingress's answers from a browser, and what the CORS response headers
 * say.  Each list is checked item by item (origins, method tokens,
 * header names) so that nothing but well-formed text reaches a response
 * header; a bad value rejects the Ingress.  Answering preflights and
 * matching the Origin of a request is the module's job.
 */
#include <ctype.h>
#include <string.h>

#include "registry.h"

#define DEFAULT_ORIGIN "*"
#define DEFAULT_METHODS "GET, PUT, POST, DELETE, PATCH, OPTIONS"
#define DEFAULT_HEADERS                                                      \
    "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,"          \
    "Cache-Control,Content-Type,Range,Authorization"
#define DEFAULT_MAX_AGE 1728000

enum { K_ENABLE, K_ORIGIN, K_METHODS, K_HEADERS, K_EXPOSE, K_CREDENTIALS,
       K_MAX_AGE };

static const ctl_ann_key cors_keys[] = {
    [K_ENABLE] = {"enable-cors", CTL_ANN_BOOL, 0, 0,
                  offsetof(ctl_ann_cors, enabled), 0},
    [K_ORIGIN] = {"cors-allow-origin", CTL_ANN_STRING, 0, 0,
                  offsetof(ctl_ann_cors, allow_origin), 0},
    [K_METHODS] = {"cors-allow-methods", CTL_ANN_STRING, 0, 0,
                   offsetof(ctl_ann_cors, allow_methods), 0},
    [K_HEADERS] = {"cors-allow-headers", CTL_ANN_STRING, 0, 0,
                   offsetof(ctl_ann_cors, allow_headers), 0},
    [K_EXPOSE] = {"cors-expose-headers", CTL_ANN_STRING, 0, 0,
                  offsetof(ctl_ann_cors, expose_headers), 0},
    [K_CREDENTIALS] = {"cors-allow-credentials", CTL_ANN_BOOL, 0, 0,
                       offsetof(ctl_ann_cors, credentials), 0},
    [K_MAX_AGE] = {"cors-max-age", CTL_ANN_INT, 0, INT32_MAX,
                   offsetof(ctl_ann_cors, max_age), 0},
};

typedef bool (*item_check)(const char *item);

static bool
is_host_char(int c)
{
    return isalnum(c) || c == '-' || c == '.';
}

/* "*", or http(s)://host[:port] where host may start with "*." (one
 * level of subdomains, as ingress-nginx). */
static bool
valid_origin(const char *s)
{
    const char *p;

    if (strcmp(s, "*") == 0)
        return true;
    if (strncmp(s, "https://", 8) == 0)
        p = s + 8;
    else if (strncmp(s, "http://", 7) == 0)
        p = s + 7;
    else
        return false;
    if (strncmp(p, "*.", 2) == 0)
        p += 2;
    if (!is_host_char((unsigned char)*p))
        return false;
    while (is_host_char((unsigned char)*p))
        p++;
    if (*p == ':') {
        const char *digits = ++p;

        while (isdigit((unsigned char)*p))
            p++;
        if (p == digits || p - digits > 5)
            return false;
    }
    return *p == '\0';
}

static bool
valid_method(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (!isalpha((unsigned char)*s))
            return false;
    }
    return true;
}

static bool
valid_header(const char *s)
{
    const char *why;

    return ctl_ann_check_text(CTL_ANN_HEADER, s, &why) == 0;
}

static bool
valid_expose(const char *s)
{
    return strcmp(s, "*") == 0 || valid_header(s);
}

/* Checks every item of a comma-separated list, spaces around items
 * allowed, no empty item; an empty list passes only when empty_ok. */
static bool
valid_list(const char *s, item_check check, bool empty_ok)
{
    char item[256];

    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0')
        return empty_ok;
    for (;;) {
        const char *start;
        size_t n;

        s = ctl_ann_list_item(s, &start, &n);
        if (n == 0 || n >= sizeof(item))
            return false;
        memcpy(item, start, n);
        item[n] = '\0';
        if (!check(item))
            return false;
        if (*s != ',')
            return true;
        s++;
    }
}

static void
cors_defaults(void *p)
{
    ctl_ann_cors *c = p;

    c->credentials = true;
    c->max_age = DEFAULT_MAX_AGE;
}

/* ctl_ann_set_error, as the -1 this family's checks return */
static int
reject(ctl_ann_error *e, const char *key, const char *value,
       const char *reason)
{
    ctl_ann_set_error(e, key, value, reason);
    return -1;
}

static int
cors_finish(void *p, bool fail_closed, ctl_ann_warn_fn warn, void *ctx,
            ctl_ann_error *e)
{
    ctl_ann_cors *c = p;

    (void)fail_closed;
    (void)warn;
    (void)ctx;
    if (c->allow_origin != NULL &&
        !valid_list(c->allow_origin, valid_origin, false))
        return reject(e, "cors-allow-origin", c->allow_origin,
                      "not a comma-separated list of origins "
                      "(\"*\" or http(s)://[*.]host[:port])");
    if (c->allow_methods != NULL &&
        !valid_list(c->allow_methods, valid_method, false))
        return reject(e, "cors-allow-methods", c->allow_methods,
                      "not a comma-separated list of HTTP methods");
    if (c->allow_headers != NULL &&
        !valid_list(c->allow_headers, valid_header, false))
        return reject(e, "cors-allow-headers", c->allow_headers,
                      "not a comma-separated list of header names");
    if (c->expose_headers != NULL &&
        !valid_list(c->expose_headers, valid_expose, true))
        return reject(e, "cors-expose-headers", c->expose_headers,
                      "not a comma-separated list of header names");
    c->origin = c->allow_origin ? c->allow_origin : DEFAULT_ORIGIN;
    c->methods = c->allow_methods ? c->allow_methods : DEFAULT_METHODS;
    c->headers = c->allow_headers ? c->allow_headers : DEFAULT_HEADERS;
    c->expose = c->expose_headers ? c->expose_headers : "";
    return 0;
}

const ctl_ann_family ctl_ann_cors_family = {
    "cors",
    cors_keys,
    sizeof(cors_keys) / sizeof(cors_keys[0]),
    offsetof(ctl_annotations, cors),
    sizeof(ctl_ann_cors),
    cors_defaults,
    cors_finish,
};
