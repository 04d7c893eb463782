/*
 * test_table.c -- publishes route tables for the module tests.
 *
 * The module tests drive real nginx; this fixture gives them tables
 * without the controller, built with the real builder and published
 * with the real tbl_publish(), from a small line-based description:
 *
 *   backend ID NS/SVC:PORT [!missing-service] [!missing-port]
 *           [!no-endpoints] [IPV4:PORT | [IPV6]:PORT]...
 *   route HOST TYPE PATH ID|- INGRESS_NS/INGRESS_NAME
 *   host-default HOST ID INGRESS_NS/INGRESS_NAME
 *   default ID
 *
 * HOST "*" is the catch-all; TYPE is Exact, Prefix or
 * ImplementationSpecific; PORT that is not a number is a port name.
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

/* The builder index for a backend ID; TBL_NONE for "-". */
static uint32_t
find_backend(const spec_state *s, const char *id)
{
    size_t i;

    if (strcmp(id, "-") == 0) {
        return TBL_NONE;
    }
    for (i = 0; i < s->nbackends; i++) {
        if (strcmp(s->backends[i].id, id) == 0) {
            return s->backends[i].index;
        }
    }
    return UNKNOWN;
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
    if (strcmp(tok[0], "route") == 0 && ntok == 6) {
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
