/*
 * bench_lookup.c -- how long one routing decision (tbl_lookup) takes on
 * tables of 100, 10k and 100k rules, next to baselines measured in the
 * same run on the same requests: hashing the request's host and path
 * with tbl_hash64 (the least any hash-based router must do) and a
 * strcmp scan over a 10-entry path list (the naive per-host router).
 *
 * Two more references put the numbers in context: mem_ns is one
 * dependent memory access into a random place of a buffer as large as the
 * table (what a single cache miss costs at that size on this machine),
 * and hot_ns is the lookup over 256 distinct requests, whose part of the
 * table stays in the cache, as with real traffic dominated by a few hosts.
 *
 * Tables look like a real cluster: a tenth as many hosts as rules, 80%
 * exact ("api-17.team-3.example.com") and 20% wildcard
 * ("*.apps-4.example.net"), ten paths each, 70% Prefix and 30% Exact,
 * with realistic path lengths.  Requests hit rules uniformly over the
 * whole table (sub-paths for Prefix rules, the exact path for Exact
 * ones, 5% unknown hosts), so large tables pay their cache misses.
 * Prints the median of several runs.  Not part of the test suite.
 * Usage: bench_lookup [runs]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "microbench.h"
#include "tbl.h"

#define QUERIES        65536
#define HOT_QUERIES    256
#define PATHS_PER_HOST 10
#define MAX_RUNS       31

typedef struct {
    char   host[64];
    char   path[128];
    size_t host_len;
    size_t path_len;
} query;

static const char *const words[] = {"api",    "static", "users",  "orders",
                                    "v1",     "v2",     "assets", "graphql",
                                    "health", "login",  "cart",   "search"};

static void
host_name(size_t h, char *buf, size_t len)
{
    if (h % 5 == 4) {
        snprintf(buf, len, "*.apps-%zu.example.net", h);
    } else {
        snprintf(buf, len, "svc-%zu.team-%zu.example.com", h, h % 97);
    }
}

/* Path p of host h: "/", then 1-3 segments of realistic words. */
static void
rule_path(size_t h, size_t p, char *buf, size_t len)
{
    if (p == 0) {
        snprintf(buf, len, "/");
        return;
    }
    snprintf(buf, len, "/%s/%s%zu/%s", words[(h + p) % 12],
             words[(h * 7 + p) % 12], p, p % 3 ? "" : "items");
}

static uint8_t
rule_type(size_t p)
{
    return p % 10 < 7 ? TBL_PATH_PREFIX : TBL_PATH_EXACT;
}

static int
build_table(size_t rules, uint8_t **buf, size_t *len, double *build_ms)
{
    tbl_builder *b = tbl_builder_new();
    size_t       hosts = rules / PATHS_PER_HOST, h, p;
    char         host[64], path[96], svc[32], err[256];
    double       t0 = mb_now_ns();

    for (h = 0; h < hosts; h++) {
        tbl_endpoint     ep = {{10, (uint8_t)(h >> 16), (uint8_t)(h >> 8),
                                (uint8_t)h},
                               8080, 4, TBL_EP_READY, 0};
        tbl_backend_spec bs = {"bench", svc, "http", 80, 0, &ep, 1};
        uint32_t         vh, be;

        snprintf(svc, sizeof(svc), "svc-%zu", h);
        be = tbl_builder_add_backend(b, &bs);
        host_name(h, host, sizeof(host));
        vh = tbl_builder_vhost(b, host);
        for (p = 0; p < PATHS_PER_HOST; p++) {
            tbl_route_spec rs = {path,     rule_type(p), be,   TBL_NONE,
                                 TBL_NONE, "bench",      svc};

            rule_path(h, p, path, sizeof(path));
            if (tbl_builder_add_route(b, vh, &rs, err, sizeof(err)) != 0) {
                fprintf(stderr, "add_route: %s\n", err);
                return -1;
            }
        }
    }
    if (tbl_builder_finish(b, 1, buf, len, err, sizeof(err)) != 0) {
        fprintf(stderr, "finish: %s\n", err);
        return -1;
    }
    tbl_builder_free(b);
    *build_ms = (mb_now_ns() - t0) / 1e6;
    return 0;
}

static void
make_queries(size_t rules, query *q)
{
    size_t hosts = rules / PATHS_PER_HOST, i;

    for (i = 0; i < QUERIES; i++) {
        size_t h = mb_rng() % hosts, p = mb_rng() % PATHS_PER_HOST;
        char   rule[64];

        host_name(h, q[i].host, sizeof(q[i].host));
        if (q[i].host[0] == '*') {
            q[i].host[0] = 'w';
        }
        if (mb_rng() % 20 == 0) {
            snprintf(q[i].host, sizeof(q[i].host), "unknown-%zu.example.org",
                     i);
        }
        rule_path(h, p, rule, sizeof(rule));
        if (rule_type(p) == TBL_PATH_EXACT) {
            snprintf(q[i].path, sizeof(q[i].path), "%s", rule);
        } else {
            snprintf(q[i].path, sizeof(q[i].path), "%s%sid/%u", rule,
                     rule[strlen(rule) - 1] == '/' ? "" : "/",
                     mb_rng() % 1000);
        }
        q[i].host_len = strlen(q[i].host);
        q[i].path_len = strlen(q[i].path);
    }
}

static volatile uint64_t sink;

/* n lookups cycling over the first `distinct` requests. */
static double
time_lookup(const tbl_view *v, const query *q, size_t distinct, size_t n)
{
    uint64_t  acc = 0;
    double    t0 = mb_now_ns();
    tbl_match m;
    size_t    i;

    for (i = 0; i < n; i++) {
        const query *x = &q[i % distinct];

        tbl_lookup(v, x->host, x->host_len, x->path, x->path_len, NULL, NULL,
                   &m);
        acc += m.route;
    }
    sink = acc;
    return (mb_now_ns() - t0) / (double)n;
}

static double
time_hash(const query *q, size_t n)
{
    uint64_t acc = 0;
    double   t0 = mb_now_ns();
    size_t   i;

    for (i = 0; i < n; i++) {
        const query *x = &q[i % QUERIES];

        acc += tbl_hash64(x->host, x->host_len, TBL_HASH_SEED)
               ^ tbl_hash64(x->path, x->path_len, TBL_HASH_SEED);
    }
    sink = acc;
    return (mb_now_ns() - t0) / (double)n;
}

/* strcmp over the request's host's ten rule paths, as written. */
static double
time_scan(const query *q, size_t n)
{
    static char list[PATHS_PER_HOST][96];
    uint64_t    acc = 0;
    double      t0;
    size_t      i, k;

    for (k = 0; k < PATHS_PER_HOST; k++) {
        rule_path(3, k, list[k], sizeof(list[k]));
    }
    t0 = mb_now_ns();
    for (i = 0; i < n; i++) {
        const query *x = &q[i % QUERIES];

        for (k = 0; k < PATHS_PER_HOST; k++) {
            if (strcmp(list[k], x->path) == 0) {
                acc += k;
                break;
            }
        }
        acc += k;
    }
    sink = acc;
    return (mb_now_ns() - t0) / (double)n;
}

/*
 * One dependent load at a random place of a buffer of `bytes`: a random
 * cyclic permutation of its cache lines, followed pointer by pointer.
 */
static double
time_memory(size_t bytes, size_t n)
{
    size_t  lines = bytes / 64, i, p = 0;
    size_t *buf = malloc(lines * 64), *perm = malloc(lines * sizeof(size_t));
    double  t0, ns;

    if (buf == NULL || perm == NULL || lines < 2) {
        free(buf);
        free(perm);
        return 0;
    }
    for (i = 0; i < lines; i++) {
        perm[i] = i;
    }
    for (i = lines - 1; i > 0; i--) {
        size_t j = mb_rng() % (i + 1), t = perm[i];

        perm[i] = perm[j];
        perm[j] = t;
    }
    for (i = 0; i < lines; i++) {
        buf[perm[i] * 8] = perm[(i + 1) % lines] * 8;
    }
    t0 = mb_now_ns();
    for (i = 0; i < n; i++) {
        p = buf[p];
    }
    ns = (mb_now_ns() - t0) / (double)n;
    sink = p;
    free(buf);
    free(perm);
    return ns;
}

static int
bench(size_t rules, int runs, query *q)
{
    uint8_t *buf;
    size_t   len, n = 2000000;
    tbl_view v;
    char     err[256];
    double   build_ms, t0, validate_ms, lk[MAX_RUNS], hot[MAX_RUNS],
        hs[MAX_RUNS], sc[MAX_RUNS], mem[MAX_RUNS], l, h;
    int      r;

    if (build_table(rules, &buf, &len, &build_ms) != 0) {
        return -1;
    }
    t0 = mb_now_ns();
    if (tbl_view_init(&v, buf, len, err, sizeof(err)) != 0) {
        fprintf(stderr, "view: %s\n", err);
        return -1;
    }
    validate_ms = (mb_now_ns() - t0) / 1e6;
    make_queries(rules, q);
    time_lookup(&v, q, QUERIES, QUERIES);
    for (r = 0; r < runs; r++) {
        lk[r] = time_lookup(&v, q, QUERIES, n);
        hot[r] = time_lookup(&v, q, HOT_QUERIES, n);
        hs[r] = time_hash(q, n);
        sc[r] = time_scan(q, n);
        mem[r] = time_memory(len, n / 4);
    }
    l = mb_median(lk, runs);
    h = mb_median(hs, runs);
    printf("%7zu %10zu %6.1f %7.1f %8.2f | %7.1f %7.1f | %6.1f %6.1f %6.1f "
           "| %5.1fx %5.2fx\n",
           rules, len, (double)len / (double)rules, build_ms, validate_ms, l,
           mb_median(hot, runs), h, mb_median(sc, runs), mb_median(mem, runs),
           l / h, l / mb_median(mem, runs));
    free(buf);
    return 0;
}

int
main(int argc, char **argv)
{
    static const size_t sizes[] = {100, 10000, 100000};
    int                 runs = argc > 1 ? atoi(argv[1]) : 7;
    query              *q = malloc(QUERIES * sizeof(query));
    size_t              i;

    mb_rng_state = 0x2545f4914f6cdd1dull;
    if (q == NULL || runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: %s [runs 1..%d]\n", argv[0], MAX_RUNS);
        return 2;
    }
    printf("median of %d runs, %d distinct requests, ns per operation\n",
           runs, QUERIES);
    printf("%7s %10s %6s %7s %8s | %7s %7s | %6s %6s %6s | %6s %6s\n",
           "rules", "bytes", "B/rule", "build", "validate", "lookup",
           "hot", "hash", "scan10", "mem", "/hash", "/mem");
    printf("%7s %10s %6s %7s %8s | %7s %7s | %6s %6s %6s |\n", "", "", "",
           "ms", "ms", "ns", "ns", "ns", "ns", "ns");
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        if (bench(sizes[i], runs, q) != 0) {
            return 1;
        }
    }
    free(q);
    return 0;
}
