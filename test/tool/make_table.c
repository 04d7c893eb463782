/*
 * make_table.c -- writes a route table straight through the table
 * builder, for shmingress-table tests that need routes the controller
 * does not produce from manifests (regex paths, any mix of
 * ImplementationSpecific and Prefix, a global default without flags).
 *
 *   make_table OUT ROUTE...
 *   ROUTE = HOST,TYPE,PATH,SERVICE
 *     HOST     a host, "*.suffix", or "" for the catch-all
 *     TYPE     Exact | Prefix | Impl | Regex | HostDefault | Default
 *     PATH     ignored for HostDefault and Default
 *     SERVICE  "ns/name"; "-" for a route without backend
 *
 * Every Service gets port 80 and one ready endpoint 10.0.0.<n>:8080, in
 * order of first use.  It writes the file with generation 1 and does no
 * matching of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tbl.h"

static uint32_t add_service(tbl_builder *b, const char *service,
                            uint8_t *next_ip)
{
    char ns[128], name[128];
    const char *slash = strchr(service, '/');
    if (strcmp(service, "-") == 0)
        return TBL_NONE;
    if (slash == NULL || (size_t)(slash - service) >= sizeof(ns)) {
        fprintf(stderr, "make_table: service \"%s\" is not ns/name\n",
                service);
        exit(2);
    }
    snprintf(ns, sizeof(ns), "%.*s", (int)(slash - service), service);
    snprintf(name, sizeof(name), "%s", slash + 1);
    tbl_endpoint ep = {.addr = {10, 0, 0, *next_ip},
                       .port = 8080,
                       .family = 4,
                       .flags = TBL_EP_READY | TBL_EP_SERVING};
    tbl_backend_spec spec = {ns, name, "http", 80, 0, &ep, 1};
    uint32_t be = tbl_builder_add_backend(b, &spec);
    if (be == TBL_NONE) {
        fprintf(stderr, "make_table: cannot add backend %s\n", service);
        exit(1);
    }
    (*next_ip)++;
    return be;
}

static int add_route(tbl_builder *b, char *arg, uint8_t *next_ip, char *err,
                     size_t errlen)
{
    char *host = strsep(&arg, ","), *type = strsep(&arg, ",");
    char *path = strsep(&arg, ","), *service = arg;
    static const struct {
        const char *name;
        uint8_t     type;
    } types[] = {{"Exact", TBL_PATH_EXACT},     {"Prefix", TBL_PATH_PREFIX},
                 {"Impl", TBL_PATH_IMPL},       {"Regex", TBL_PATH_REGEX},
                 {"HostDefault", TBL_PATH_DEFAULT},
                 {"Default", TBL_PATH_DEFAULT}};
    if (type == NULL || path == NULL || service == NULL) {
        snprintf(err, errlen, "route needs HOST,TYPE,PATH,SERVICE");
        return -1;
    }
    tbl_route_spec spec = {NULL, 0, TBL_NONE, TBL_NONE, TBL_NONE, "tests",
                           "fixture"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(type, types[i].name) == 0)
            spec.path_type = types[i].type;
    if (spec.path_type == 0) {
        snprintf(err, errlen, "unknown route type \"%s\"", type);
        return -1;
    }
    spec.backend = add_service(b, service, next_ip);
    if (strcmp(type, "Default") == 0)
        return tbl_builder_set_default(b, &spec, err, errlen);
    uint32_t vhost = tbl_builder_vhost(b, host);
    if (vhost == TBL_NONE) {
        snprintf(err, errlen, "cannot add vhost \"%s\"", host);
        return -1;
    }
    if (strcmp(type, "HostDefault") == 0)
        return tbl_builder_set_vhost_default(b, vhost, &spec, err, errlen);
    spec.path = path;
    return tbl_builder_add_route(b, vhost, &spec, err, errlen);
}

int main(int argc, char **argv)
{
    char err[512];
    uint8_t next_ip = 1;
    uint8_t *buf;
    size_t len;

    if (argc < 2) {
        fprintf(stderr, "usage: make_table OUT HOST,TYPE,PATH,SERVICE...\n");
        return 2;
    }
    tbl_builder *b = tbl_builder_new();
    if (b == NULL)
        return 1;
    tbl_builder_set_built_at(b, 0);
    for (int i = 2; i < argc; i++) {
        if (add_route(b, argv[i], &next_ip, err, sizeof(err)) != 0) {
            fprintf(stderr, "make_table: %s\n", err);
            return 1;
        }
    }
    if (tbl_builder_finish(b, 1, &buf, &len, err, sizeof(err)) != 0) {
        fprintf(stderr, "make_table: %s\n", err);
        return 1;
    }
    tbl_builder_free(b);
    FILE *f = fopen(argv[1], "wb");
    if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        perror(argv[1]);
        return 1;
    }
    free(buf);
    return 0;
}
