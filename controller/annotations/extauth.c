/*
 * extauth.c -- auth-url and its companions: which service decides, per
 * request, whether a client may use an Ingress's routes, and what the
 * module does with the answer (auth-signin, auth-response-headers,
 * auth-request-redirect, auth-method, auth-always-set-cookie).
 *
 * Values are checked strictly, because they end up in request lines and
 * headers: URLs are absolute http(s) URLs with a plain host, and the
 * only "$" allowed is one of the variables the module expands (list
 * below); nothing else is ever evaluated.  A bad value rejects the
 * Ingress like any other annotation.  The signin URL is resolved here
 * with its redirect parameter (auth-signin-redirect-param, "rd"), as
 * ingress-nginx builds it.  Sending the subrequest and mapping its
 * status is the module's job (ngx_http_shmingress_extauth.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

#define MAX_HEADERS            32
#define DEFAULT_REDIRECT_PARAM "rd"
#define REDIRECT_VALUE         "$pass_access_scheme://$http_host$escaped_request_uri"

enum {
    K_URL,
    K_METHOD,
    K_SIGNIN,
    K_REDIRECT_PARAM,
    K_RESPONSE_HEADERS,
    K_REQUEST_REDIRECT,
    K_ALWAYS_SET_COOKIE,
    K_CACHE_KEY,
    K_CACHE_DURATION,
    K_KEEPALIVE,
    K_KEEPALIVE_REQUESTS,
    K_KEEPALIVE_TIMEOUT,
    K_KEEPALIVE_SHARE_VARS,
    K_PROXY_SET_HEADERS,
    K_COUNT
};

#define UNSUPPORTED(name)                                                     \
    {                                                                         \
        name, CTL_ANN_STRING, 0, 0, offsetof(ctl_ann_extauth, unsupported), 0 \
    }

static const ctl_ann_key extauth_keys[] = {
    [K_URL] = {"auth-url", CTL_ANN_STRING, 0, 0,
               offsetof(ctl_ann_extauth, url), 0},
    [K_METHOD] = {"auth-method", CTL_ANN_STRING, 0, 0,
                  offsetof(ctl_ann_extauth, method), 0},
    [K_SIGNIN] = {"auth-signin", CTL_ANN_STRING, 0, 0,
                  offsetof(ctl_ann_extauth, signin), 0},
    [K_REDIRECT_PARAM] = {"auth-signin-redirect-param", CTL_ANN_STRING, 0, 0,
                          offsetof(ctl_ann_extauth, redirect_param), 0},
    [K_RESPONSE_HEADERS] = {"auth-response-headers", CTL_ANN_STRING, 0, 0,
                            offsetof(ctl_ann_extauth, response_headers), 0},
    [K_REQUEST_REDIRECT] = {"auth-request-redirect", CTL_ANN_STRING, 0, 0,
                            offsetof(ctl_ann_extauth, request_redirect), 0},
    [K_ALWAYS_SET_COOKIE] = {"auth-always-set-cookie", CTL_ANN_BOOL, 0, 0,
                             offsetof(ctl_ann_extauth, always_set_cookie), 0},
    [K_CACHE_KEY] = UNSUPPORTED("auth-cache-key"),
    [K_CACHE_DURATION] = UNSUPPORTED("auth-cache-duration"),
    [K_KEEPALIVE] = UNSUPPORTED("auth-keepalive"),
    [K_KEEPALIVE_REQUESTS] = UNSUPPORTED("auth-keepalive-requests"),
    [K_KEEPALIVE_TIMEOUT] = UNSUPPORTED("auth-keepalive-timeout"),
    [K_KEEPALIVE_SHARE_VARS] = UNSUPPORTED("auth-keepalive-share-vars"),
    [K_PROXY_SET_HEADERS] = UNSUPPORTED("auth-proxy-set-headers"),
};

/*
 * The variables the module expands in auth-url, auth-signin and
 * auth-request-redirect (the ones ingress-nginx users write there); any
 * other "$" is refused.
 */
static const char *const variables[] = {
    "$escaped_request_uri",
    "$request_uri",
    "$best_http_host",
    "$http_host",
    "$host",
    "$pass_access_scheme",
    "$scheme",
};

static const char *const methods[] = {
    "GET",    "HEAD",    "POST",    "PUT",   "PATCH",
    "DELETE", "CONNECT", "OPTIONS", "TRACE",
};

/* ctl_ann_set_error, as the -1 this family's checks return */
static int
reject(ctl_ann_error *e, const char *key, const char *value,
       const char *reason)
{
    ctl_ann_set_error(e, key, value, reason);
    return -1;
}

/* The length of the known variable at s, or 0. */
static size_t
variable_at(const char *s)
{
    for (size_t i = 0; i < sizeof(variables) / sizeof(variables[0]); i++) {
        size_t n = strlen(variables[i]);

        if (strncmp(s, variables[i], n) == 0 && !isalnum((unsigned char)s[n])
            && s[n] != '_')
            return n;
    }
    return 0;
}

/* Printable, no spaces, quotes, backslashes or braces, and every "$" a
 * known variable. */
static bool
valid_text(const char *s)
{
    while (*s) {
        unsigned char c = (unsigned char)*s;

        if (c <= ' ' || c >= 0x7f || strchr("\"'\\{}<>", c) != NULL)
            return false;
        if (c == '$') {
            size_t n = variable_at(s);

            if (n == 0)
                return false;
            s += n;
            continue;
        }
        s++;
    }
    return true;
}

/* A DNS name, an IPv4 address, [IPv6], or a host variable; an optional
 * port.  No "_" (so no nginx upstream block name), no user info. */
static bool
valid_host(const char *h, size_t n)
{
    size_t i = 0;

    if (n > 0 && h[0] == '$') {
        i = variable_at(h);
        if (i == 0
            || (strncmp(h, "$host", 5) != 0
                && strncmp(h, "$http_host", 10) != 0
                && strncmp(h, "$best_http_host", 15) != 0))
            return false;
        return i == n;
    }
    if (n > 0 && h[0] == '[') {
        while (i < n && h[i] != ']') {
            if (!isxdigit((unsigned char)h[i]) && h[i] != ':' && h[i] != '['
                && h[i] != '.')
                return false;
            i++;
        }
        if (i == n || i < 3)
            return false;
        i++;
    } else {
        while (i < n
               && (isalnum((unsigned char)h[i]) || h[i] == '-' || h[i] == '.'))
            i++;
        if (i == 0)
            return false;
    }
    if (i == n)
        return true;
    if (h[i] != ':' || i + 1 == n || n - i - 1 > 5)
        return false;
    for (i++; i < n; i++) {
        if (!isdigit((unsigned char)h[i]))
            return false;
    }
    return true;
}

/* http(s)://host[:port][/path][?query], no fragment. */
static bool
valid_url(const char *s)
{
    const char *host, *end;

    if (strncmp(s, "http://", 7) == 0)
        host = s + 7;
    else if (strncmp(s, "https://", 8) == 0)
        host = s + 8;
    else
        return false;
    end = host + strcspn(host, "/?");
    return valid_host(host, (size_t)(end - host)) && valid_text(end)
           && strchr(s, '#') == NULL;
}

static bool
valid_method(const char *s)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (strcmp(s, methods[i]) == 0)
            return true;
    }
    return false;
}

/* Copies a comma-separated list of header names as "A,B"; false when
 * an item is not a header name or there are too many. */
static bool
normalize_headers(const char *s, char *out)
{
    char   name[256];
    size_t count = 0;

    *out = '\0';
    for (;;) {
        const char *start, *why;
        size_t      n;

        s = ctl_ann_list_item(s, &start, &n);
        if (n == 0 || n >= sizeof(name) || ++count > MAX_HEADERS)
            return false;
        memcpy(name, start, n);
        name[n] = '\0';
        if (ctl_ann_check_text(CTL_ANN_HEADER, name, &why) != 0)
            return false;
        if (count > 1)
            *out++ = ',';
        out = (char *)memcpy(out, name, n + 1) + n;
        if (*s != ',')
            return true;
        s++;
    }
}

/* auth-response-headers as "A,B"; -1 invalid, -2 out of memory. */
static int
resolve_headers(ctl_ann_extauth *a)
{
    char *out = malloc(strlen(a->response_headers) + 1);

    if (out == NULL)
        return -2;
    if (!normalize_headers(a->response_headers, out)) {
        free(out);
        return -1;
    }
    free(a->response_headers);
    a->response_headers = out;
    return 0;
}

/* Does the query of url already carry param=...? */
static bool
has_param(const char *url, const char *param)
{
    const char *q = strchr(url, '?');
    size_t      n = strlen(param);

    while (q != NULL) {
        q++;
        if (strncmp(q, param, n) == 0 && q[n] == '=')
            return true;
        q = strchr(q, '&');
    }
    return false;
}

/* auth-signin with "<param>=<the original URL>" appended unless the
 * Ingress put that parameter there itself; -2 when out of memory. */
static int
resolve_signin(ctl_ann_extauth *a)
{
    const char *param =
        a->redirect_param ? a->redirect_param : DEFAULT_REDIRECT_PARAM;
    size_t n;
    char  *url;

    if (has_param(a->signin, param))
        return 0;
    n = strlen(a->signin) + strlen(param) + sizeof(REDIRECT_VALUE) + 2;
    url = malloc(n);
    if (url == NULL)
        return -2;
    snprintf(url, n, "%s%c%s=%s", a->signin,
             strchr(a->signin, '?') ? '&' : '?', param, REDIRECT_VALUE);
    free(a->signin);
    a->signin = url;
    return 0;
}

static void
warn_unsupported(const ctl_ann_extauth *a, ctl_ann_warn_fn warn, void *ctx)
{
    for (int k = K_CACHE_KEY; k < K_COUNT; k++) {
        if (CTL_ANN_IS_SET(a, k))
            warn(ctx, extauth_keys[k].name,
                 "not supported: every request asks the auth service on a "
                 "new connection, with the headers listed in "
                 "docs/annotations.md");
    }
}

static int
extauth_finish(void *p, bool fail_closed, ctl_ann_warn_fn warn, void *ctx,
               ctl_ann_error *e)
{
    ctl_ann_extauth *a = p;
    const char      *why;

    (void)fail_closed;
    warn_unsupported(a, warn, ctx);
    if (a->url == NULL)
        return 0;
    if (!valid_url(a->url))
        return reject(e, "auth-url", a->url,
                      "not an absolute http:// or https:// URL with a host "
                      "name or address (variables: $host, $request_uri, "
                      "$escaped_request_uri, $scheme and their kin only)");
    if (a->method != NULL && !valid_method(a->method))
        return reject(e, "auth-method", a->method,
                      "not an HTTP method (GET, HEAD, POST, PUT, PATCH, "
                      "DELETE, CONNECT, OPTIONS, TRACE)");
    if (a->redirect_param != NULL
        && ctl_ann_check_text(CTL_ANN_COOKIE, a->redirect_param, &why) != 0)
        return reject(e, "auth-signin-redirect-param", a->redirect_param,
                      "not a query parameter name");
    if (a->signin != NULL && !valid_url(a->signin))
        return reject(e, "auth-signin", a->signin,
                      "not an absolute http:// or https:// URL with a host "
                      "name or address (variables: $host, $request_uri, "
                      "$escaped_request_uri, $scheme and their kin only)");
    if (a->response_headers != NULL && resolve_headers(a) != 0)
        return reject(e, "auth-response-headers", a->response_headers,
                      "not a comma-separated list of at most 32 header "
                      "names");
    if (a->request_redirect != NULL && !valid_text(a->request_redirect))
        return reject(e, "auth-request-redirect", a->request_redirect,
                      "not a URL or path without spaces, quotes or unknown "
                      "variables");
    if (a->signin != NULL && resolve_signin(a) != 0)
        return reject(e, "auth-signin", a->signin, "out of memory");
    return 0;
}

const ctl_ann_family ctl_ann_extauth_family = {
    "extauth",
    extauth_keys,
    sizeof(extauth_keys) / sizeof(extauth_keys[0]),
    offsetof(ctl_annotations, extauth),
    sizeof(ctl_ann_extauth),
    NULL,
    extauth_finish,
};
