/*
 * upstream.c -- how a route talks to its backend: proxy-connect-timeout,
 * proxy-send-timeout, proxy-read-timeout, proxy-body-size,
 * proxy-next-upstream (and its -tries and -timeout), proxy-buffering,
 * upstream-vhost, backend-protocol and service-upstream.
 *
 * Values not set take the defaults of ingress-nginx's shipped template
 * and ConfigMap (5 s / 60 s / 60 s, 1m, "error timeout", 3 tries, no
 * retry deadline, buffering off, HTTP), so a policy carries resolved
 * values.  backend-protocol is HTTP, HTTPS, GRPC or GRPCS (AUTO_HTTP is
 * HTTP, as in ingress-nginx); FCGI is refused: it needs FastCGI
 * parameters from a ConfigMap, which this controller does not read.
 * What service-upstream means for endpoints is the model's business.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "registry.h"

#define DAY_SECONDS (24 * 60 * 60)

static const ctl_ann_key upstream_keys[] = {
    [CTL_ANN_UP_CONNECT] = {"proxy-connect-timeout", CTL_ANN_SECONDS, 1, DAY_SECONDS,
                   offsetof(ctl_ann_upstream, connect_timeout), 0},
    [CTL_ANN_UP_SEND] = {"proxy-send-timeout", CTL_ANN_SECONDS, 1, DAY_SECONDS,
                offsetof(ctl_ann_upstream, send_timeout), 0},
    [CTL_ANN_UP_READ] = {"proxy-read-timeout", CTL_ANN_SECONDS, 1, DAY_SECONDS,
                offsetof(ctl_ann_upstream, read_timeout), 0},
    [CTL_ANN_UP_BODY] = {"proxy-body-size", CTL_ANN_SIZE, 0, 0,
                offsetof(ctl_ann_upstream, body_size), 0},
    [CTL_ANN_UP_NEXT] = {"proxy-next-upstream", CTL_ANN_STRING, 0, 0,
                offsetof(ctl_ann_upstream, next_upstream_text), 0},
    [CTL_ANN_UP_TRIES] = {"proxy-next-upstream-tries", CTL_ANN_INT, 0, 1000,
                 offsetof(ctl_ann_upstream, next_upstream_tries), 0},
    [CTL_ANN_UP_NEXT_TIMEOUT] = {"proxy-next-upstream-timeout", CTL_ANN_SECONDS, 0,
                        DAY_SECONDS,
                        offsetof(ctl_ann_upstream, next_upstream_timeout),
                        0},
    [CTL_ANN_UP_BUFFERING] = {"proxy-buffering", CTL_ANN_STRING, 0, 0,
                     offsetof(ctl_ann_upstream, buffering_text), 0},
    [CTL_ANN_UP_VHOST] = {"upstream-vhost", CTL_ANN_STRING, 0, 0,
                 offsetof(ctl_ann_upstream, upstream_vhost), 0},
    [CTL_ANN_UP_PROTOCOL] = {"backend-protocol", CTL_ANN_STRING, 0, 0,
                    offsetof(ctl_ann_upstream, protocol_text), 0},
    [CTL_ANN_UP_SERVICE_UPSTREAM] = {"service-upstream", CTL_ANN_BOOL, 0, 0,
                            offsetof(ctl_ann_upstream, service_upstream), 0},
};

static const struct {
    const char *name;
    uint32_t    bit;
} next_conditions[] = {
    {"error", TBL_NEXT_ERROR},
    {"timeout", TBL_NEXT_TIMEOUT},
    {"invalid_header", TBL_NEXT_INVALID_HEADER},
    {"http_500", TBL_NEXT_HTTP_500},
    {"http_502", TBL_NEXT_HTTP_502},
    {"http_503", TBL_NEXT_HTTP_503},
    {"http_504", TBL_NEXT_HTTP_504},
    {"http_403", TBL_NEXT_HTTP_403},
    {"http_404", TBL_NEXT_HTTP_404},
    {"http_429", TBL_NEXT_HTTP_429},
    {"non_idempotent", TBL_NEXT_NON_IDEMPOTENT},
    {"off", TBL_NEXT_OFF},
};

static void
upstream_defaults(void *p)
{
    ctl_ann_upstream *u = p;

    u->connect_timeout = 5;
    u->send_timeout = 60;
    u->read_timeout = 60;
    u->body_size = 1024 * 1024;
    u->next_upstream = TBL_NEXT_ERROR | TBL_NEXT_TIMEOUT;
    u->next_upstream_tries = 3;
    u->protocol = TBL_PROTO_HTTP;
}

static uint32_t
next_condition(const char *word, size_t n)
{
    for (size_t i = 0; i < sizeof(next_conditions) / sizeof(next_conditions[0]);
         i++) {
        if (strlen(next_conditions[i].name) == n &&
            strncmp(next_conditions[i].name, word, n) == 0)
            return next_conditions[i].bit;
    }
    return 0;
}

/* "error timeout http_502": space-separated, as nginx's directive; "off"
 * only alone.  -1 on an unknown word or an empty list. */
int
ctl_ann_parse_next_upstream(const char *s, uint32_t *out)
{
    uint32_t mask = 0;

    while (*s != '\0') {
        size_t n = strcspn(s, " \t");

        if (n > 0) {
            uint32_t bit = next_condition(s, n);

            if (bit == 0)
                return -1;
            mask |= bit;
        }
        s += n;
        s += strspn(s, " \t");
    }
    if (mask == 0 || ((mask & TBL_NEXT_OFF) && mask != TBL_NEXT_OFF))
        return -1;
    *out = mask;
    return 0;
}

/* AUTO_HTTP is HTTP, as in ingress-nginx. */
static int
parse_protocol(const char *s, uint8_t *out, const char **why)
{
    static const struct {
        const char *name;
        uint8_t     proto;
    } protocols[] = {
        {"HTTP", TBL_PROTO_HTTP},   {"AUTO_HTTP", TBL_PROTO_HTTP},
        {"HTTPS", TBL_PROTO_HTTPS}, {"GRPC", TBL_PROTO_GRPC},
        {"GRPCS", TBL_PROTO_GRPCS},
    };

    for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++) {
        if (strcasecmp(s, protocols[i].name) == 0) {
            *out = protocols[i].proto;
            return 0;
        }
    }
    if (strcasecmp(s, "FCGI") == 0)
        *why = "not supported: FastCGI backends need fastcgi parameters "
               "from a ConfigMap, which shmingress does not read";
    else
        *why = "must be HTTP, AUTO_HTTP, HTTPS, GRPC or GRPCS";
    return -1;
}

static int
upstream_finish(void *p, bool fail_closed, ctl_ann_warn_fn warn, void *ctx,
                ctl_ann_error *e)
{
    ctl_ann_upstream *u = p;
    const char *why;

    (void)fail_closed;
    (void)warn;
    (void)ctx;
    if (u->next_upstream_text != NULL &&
        ctl_ann_parse_next_upstream(u->next_upstream_text, &u->next_upstream) != 0) {
        ctl_ann_set_error(e, "proxy-next-upstream", u->next_upstream_text,
                  "must be space-separated conditions among error, timeout, "
                  "invalid_header, http_500, http_502, http_503, http_504, "
                  "http_403, http_404, http_429, non_idempotent; or off");
        return -1;
    }
    if (u->buffering_text != NULL) {
        if (strcmp(u->buffering_text, "on") != 0 &&
            strcmp(u->buffering_text, "off") != 0) {
            ctl_ann_set_error(e, "proxy-buffering", u->buffering_text,
                      "must be on or off");
            return -1;
        }
        u->buffering = strcmp(u->buffering_text, "on") == 0;
    }
    if (u->upstream_vhost != NULL &&
        (u->upstream_vhost[0] == '\0' ||
         strpbrk(u->upstream_vhost, " \t/\\@") != NULL)) {
        ctl_ann_set_error(e, "upstream-vhost", u->upstream_vhost,
                  "must be a host name, optionally with :port");
        return -1;
    }
    if (u->protocol_text != NULL &&
        parse_protocol(u->protocol_text, &u->protocol, &why) != 0) {
        ctl_ann_set_error(e, "backend-protocol", u->protocol_text, why);
        return -1;
    }
    return 0;
}

const ctl_ann_family ctl_ann_upstream_family = {
    "upstream",
    upstream_keys,
    sizeof(upstream_keys) / sizeof(upstream_keys[0]),
    offsetof(ctl_annotations, upstream),
    sizeof(ctl_ann_upstream),
    upstream_defaults,
    upstream_finish,
};
