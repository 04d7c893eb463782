/*
 * fuzz_tbl_seeds.c -- writes the seed corpora of the table fuzzers, so
 * the seeds always match the current format: real tables for
 * fuzz_tbl_view (empty, small, every record kind, every optional
 * section by hand and by the builder, a few hundred routes) and
 * operation streams for
 * fuzz_tbl_build.  Usage: fuzz_tbl_seeds VIEW_DIR BUILD_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tbl.h"
#include "tbl_sample.h"

static int
write_seed(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
    char  path[4096];
    FILE *f;
    int   ok;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    ok = fwrite(buf, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int
finish_and_write(tbl_builder *b, const char *dir, const char *name)
{
    uint8_t *buf;
    size_t   len;
    char     err[256];
    int      rc;

    tbl_builder_set_built_at(b, 1);
    if (tbl_builder_finish(b, 1, &buf, &len, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", name, err);
        tbl_builder_free(b);
        return -1;
    }
    tbl_builder_free(b);
    rc = write_seed(dir, name, buf, len);
    free(buf);
    return rc;
}

/* 40 hosts (exact and wildcard) x 8 paths of every kind. */
static int
write_many(const char *dir)
{
    tbl_builder   *b = tbl_builder_new();
    tbl_route_spec s = {NULL, 0, TBL_NONE, TBL_NONE, TBL_NONE, "ns", "many"};
    char           host[64], path[64], err[256];
    int            h, p;

    for (h = 0; h < 40; h++) {
        uint32_t vh;

        snprintf(host, sizeof(host), h % 4 ? "h%d.example.com" : "*.w%d.io",
                 h);
        vh = tbl_builder_vhost(b, host);
        for (p = 0; p < 8; p++) {
            snprintf(path, sizeof(path), "/s%d/p%d%s", p % 3, p,
                     p % 2 ? "/" : "");
            s.path = path;
            s.path_type = (uint8_t)(TBL_PATH_EXACT + p % 4);
            if (tbl_builder_add_route(b, vh, &s, err, sizeof(err)) != 0) {
                fprintf(stderr, "many: %s\n", err);
                return -1;
            }
        }
    }
    return finish_and_write(b, dir, "many.tbl");
}

/* Every optional section, written by the builder. */
static int
write_sections(const char *dir)
{
    static const uint8_t chain[] = "leaf-der", key[] = "key-der",
                         secret[] = "user:hash\n";
    tbl_builder    *b = tbl_builder_new();
    tbl_cert_spec   cs = {chain, sizeof(chain), key, sizeof(key), 1, 0,
                          "ns", "tls"};
    tbl_policy_spec ps;
    tbl_canary_spec canary = {0};
    tbl_config_spec cfg;
    tbl_cidr        cidrs[3];
    tbl_route_spec  s = {"/", TBL_PATH_PREFIX, TBL_NONE, TBL_NONE, TBL_NONE,
                         "ns", "sections"};
    uint32_t        cert, vh;
    char            err[256];

    tbl_cidr_parse("10.0.0.0/8", 10, &cidrs[0]);
    tbl_cidr_parse("192.0.2.7", 9, &cidrs[1]);
    tbl_cidr_parse("2001:db8::/32", 13, &cidrs[2]);
    cert = tbl_builder_add_cert(b, &cs, err, sizeof(err));
    vh = tbl_builder_vhost(b, "shop.example.com");
    tbl_builder_add_sni(b, "shop.example.com", cert, err, sizeof(err));
    tbl_builder_add_sni(b, "*.example.com", cert, err, sizeof(err));
    tbl_builder_set_default_cert(b, cert);
    tbl_builder_set_vhost_cert(b, vh, cert);
    tbl_policy_spec_init(&ps);
    ps.allow = cidrs;
    ps.allow_count = 3;
    ps.deny = cidrs + 1;
    ps.deny_count = 1;
    ps.auth_type = TBL_AUTH_BASIC;
    ps.auth_secret = secret;
    ps.auth_secret_len = sizeof(secret) - 1;
    ps.rewrite_target = "/$1";
    s.policy = tbl_builder_add_policy(b, &ps, err, sizeof(err));
    canary.backend = TBL_NONE;
    canary.weight = 10;
    canary.weight_total = 100;
    canary.cookie = "canary";
    s.canary = tbl_builder_add_canary(b, &canary, err, sizeof(err));
    tbl_config_spec_defaults(&cfg);
    cfg.block = cidrs;
    cfg.block_count = 2;
    tbl_builder_set_config(b, &cfg, err, sizeof(err));
    if (s.policy == TBL_NONE || s.canary == TBL_NONE
        || tbl_builder_add_route(b, vh, &s, err, sizeof(err)) != 0)
    {
        fprintf(stderr, "sections: %s\n", err);
        tbl_builder_free(b);
        return -1;
    }
    return finish_and_write(b, dir, "sections.tbl");
}

static int
write_tables(const char *dir)
{
    tbl_builder   *b;
    tbl_route_spec s = {"/", TBL_PATH_PREFIX, TBL_NONE, TBL_NONE, TBL_NONE,
                        "ns", "tiny"};
    uint8_t       *buf;
    size_t         len;
    char           err[256];

    b = tbl_builder_new();
    if (finish_and_write(b, dir, "empty.tbl") != 0) {
        return -1;
    }
    b = tbl_builder_new();
    tbl_builder_add_route(b, tbl_builder_vhost(b, ""), &s, err, sizeof(err));
    if (finish_and_write(b, dir, "catchall.tbl") != 0) {
        return -1;
    }
    if (tbl_sample_rich(&buf, &len, err, sizeof(err)) != 0) {
        fprintf(stderr, "rich: %s\n", err);
        return -1;
    }
    if (write_seed(dir, "rich.tbl", buf, len) != 0) {
        free(buf);
        return -1;
    }
    buf = tbl_sample_add_optional(buf, &len);
    if (buf == NULL || write_seed(dir, "optional.tbl", buf, len) != 0) {
        free(buf);
        return -1;
    }
    free(buf);
    return write_many(dir) == 0 && write_sections(dir) == 0 ? 0 : -1;
}

/* Operation streams; see fuzz_tbl_build.c for the encoding. */
static int
write_ops(const char *dir)
{
    static const uint8_t simple[] = {0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2,
                                     0, 3, 4, 0, 1, 1, 2, 0, 0, 2, 1,
                                     1, 3, 2, 1, 3, 7, 2, 0, 9, 5};
    static const uint8_t hosts[] = {1, 0,  1, 1, 1, 2, 1, 3, 1, 4, 1,
                                    5, 2,  0, 0, 4, 2, 2, 1, 1, 2, 0,
                                    3, 17, 1, 2, 4, 2, 3, 1, 2, 0, 1};
    uint8_t              random[256];
    uint64_t             x = 0x9e3779b97f4a7c15ull;
    char                 name[32];
    int                  i, k;

    if (write_seed(dir, "simple.ops", simple, sizeof(simple)) != 0
        || write_seed(dir, "hosts.ops", hosts, sizeof(hosts)) != 0)
    {
        return -1;
    }
    for (k = 0; k < 4; k++) {
        for (i = 0; i < (int)sizeof(random); i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            random[i] = (uint8_t)x;
        }
        snprintf(name, sizeof(name), "random%d.ops", k);
        if (write_seed(dir, name, random, sizeof(random)) != 0) {
            return -1;
        }
    }
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s VIEW_DIR BUILD_DIR\n", argv[0]);
        return 2;
    }
    return write_tables(argv[1]) == 0 && write_ops(argv[2]) == 0 ? 0 : 1;
}
