/*
 * bench_cidr.c -- how long one source-range check (tbl_cidr_match, what
 * the module runs per request for allowlist-source-range,
 * denylist-source-range and limit-allowlist) takes on lists of 10, 100,
 * 1,000 and 10,000 ranges, next to a baseline measured in the same run
 * on the same stored list: a scan that tests every entry in turn (what a
 * matcher without the sorted, disjoint storage would have to do).
 *
 * Lists mix IPv4 /24s and IPv6 /48s, as the annotation allows, and end
 * with 127.0.0.1/32 (the client of bench/annotations).  Two request
 * mixes: "client", always 127.0.0.1 (a hit the scan finds last), and
 * "mixed", 4,096 addresses of which half fall inside a random entry
 * (IPv4 or IPv6) and half inside none.  The tables are built with the
 * real builder, so the lists are stored as the module reads them.
 * Prints the median of several runs.  Not part of the test suite.
 * Usage: bench_cidr [runs]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "microbench.h"
#include "tbl.h"
#include "tbl_internal.h"

#define MIXED       4096
#define CALLS       (1u << 20)
#define MAX_RUNS    31
#define MAX_RANGES  10000

typedef struct {
    uint8_t addr[16];
    int     family;
} address;

static const size_t sizes[] = {10, 100, 1000, 10000};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* Range i of a list: even i an IPv4 /24 in 10/8, odd i an IPv6 /48 in
 * 2001:db8::/32; none of them holds 127.0.0.1. */
static void
make_range(size_t i, tbl_cidr *c)
{
    char text[64];

    if (i % 2 == 0) {
        snprintf(text, sizeof(text), "10.%zu.%zu.0/24", (i / 2) / 256,
                 (i / 2) % 256);
    } else {
        snprintf(text, sizeof(text), "2001:db8:%zx::/48", i / 2);
    }
    if (tbl_cidr_parse(text, strlen(text), c) != 0) {
        fprintf(stderr, "bench_cidr: cannot parse %s\n", text);
        exit(1);
    }
}

/* An address inside range i (hit) or inside none of them (miss). */
static void
make_address(size_t n, int hit, address *a)
{
    tbl_cidr c;

    make_range(mb_rng() % (n - 1), &c);
    memcpy(a->addr, c.addr, sizeof(a->addr));
    a->family = c.family;
    if (c.family == 4) {
        a->addr[3] = (uint8_t)(1 + mb_rng() % 254);
        if (!hit) {
            a->addr[0] = 192; /* 192.x.y.z: outside 10/8 */
        }
    } else {
        a->addr[15] = (uint8_t)(1 + mb_rng() % 254);
        if (!hit) {
            a->addr[3] = 0xb9; /* 2001:db9::/32: outside 2001:db8::/32 */
        }
    }
}

static int
scan(const tbl_cidr *list, uint32_t count, const address *a)
{
    uint32_t i;

    for (i = 0; i < count; i++) {
        if (tbl_cidr_holds(&list[i], a->addr, (unsigned)a->family)) {
            return 1;
        }
    }
    return 0;
}

/* ns per check over calls checks cycling through the addresses. */
static double
time_checks(const tbl_view *v, const tbl_policy *p, const address *addrs,
            size_t naddrs, int use_scan, unsigned *hits)
{
    const tbl_cidr *list = v->cidrs + p->allow_first;
    unsigned        found = 0;
    uint32_t        calls = use_scan && p->allow_count > 100
                                ? CALLS / 64 : CALLS;
    uint32_t        i;
    double          t0 = mb_now_ns();

    for (i = 0; i < calls; i++) {
        const address *a = &addrs[i % naddrs];

        found += use_scan
                     ? (unsigned)scan(list, p->allow_count, a)
                     : (unsigned)tbl_cidr_match(v, p->allow_first,
                                                p->allow_count, a->addr,
                                                a->family);
    }
    *hits += found;
    return (mb_now_ns() - t0) / calls;
}

static uint32_t
add_list(tbl_builder *b, size_t n, tbl_cidr *ranges)
{
    tbl_policy_spec spec;
    char            err[256];
    uint32_t        policy;
    size_t          i;

    for (i = 0; i + 1 < n; i++) {
        make_range(i, &ranges[i]);
    }
    tbl_cidr_parse("127.0.0.1/32", 12, &ranges[n - 1]);
    tbl_policy_spec_init(&spec);
    spec.allow = ranges;
    spec.allow_count = n;
    policy = tbl_builder_add_policy(b, &spec, err, sizeof(err));
    if (policy == TBL_NONE) {
        fprintf(stderr, "bench_cidr: %s\n", err);
        exit(1);
    }
    return policy;
}

int
main(int argc, char **argv)
{
    static tbl_cidr ranges[MAX_RANGES];
    static address  mixed[NSIZES][MIXED];
    static double   samples[4][MAX_RUNS];
    address         client;
    tbl_builder    *b = tbl_builder_new();
    uint32_t        policies[NSIZES];
    uint8_t        *buf;
    size_t          len, s;
    tbl_view        v;
    char            err[256];
    unsigned        hits = 0;
    int             runs = argc > 1 ? atoi(argv[1]) : 7, r, k;

    mb_rng_state = 0x9e3779b97f4a7c15ull;
    if (runs < 1 || runs > MAX_RUNS || b == NULL) {
        fprintf(stderr, "usage: bench_cidr [runs 1..%d]\n", MAX_RUNS);
        return 2;
    }
    for (s = 0; s < NSIZES; s++) {
        policies[s] = add_list(b, sizes[s], ranges);
        for (k = 0; k < MIXED; k++) {
            make_address(sizes[s], k % 2 == 0, &mixed[s][k]);
        }
    }
    if (tbl_builder_finish(b, 1, &buf, &len, err, sizeof(err)) != 0
        || tbl_view_init(&v, buf, len, err, sizeof(err)) != 0)
    {
        fprintf(stderr, "bench_cidr: %s\n", err);
        return 1;
    }
    memset(&client, 0, sizeof(client));
    inet_pton(AF_INET, "127.0.0.1", client.addr);
    client.family = 4;

    printf("bench_cidr: ns per check, median of %d runs; scan = every "
           "entry in turn over the same list\n", runs);
    printf("%8s %9s %9s %9s %9s %12s\n", "ranges", "client", "scan",
           "mixed", "scan", "scan/match");
    for (s = 0; s < NSIZES; s++) {
        const tbl_policy *p = tbl_view_policy(&v, policies[s]);

        if (p->allow_count != sizes[s]) {
            fprintf(stderr, "bench_cidr: %zu ranges stored as %u\n",
                    sizes[s], p->allow_count);
            return 1;
        }
        for (r = 0; r < runs; r++) {
            samples[0][r] = time_checks(&v, p, &client, 1, 0, &hits);
            samples[1][r] = time_checks(&v, p, &client, 1, 1, &hits);
            samples[2][r] = time_checks(&v, p, mixed[s], MIXED, 0, &hits);
            samples[3][r] = time_checks(&v, p, mixed[s], MIXED, 1, &hits);
        }
        {
            double match = mb_median(samples[0], runs);
            double scanned = mb_median(samples[1], runs);
            double mix = mb_median(samples[2], runs);
            double mix_scan = mb_median(samples[3], runs);

            printf("%8zu %9.1f %9.1f %9.1f %9.1f %11.1fx\n", sizes[s],
                   match, scanned, mix, mix_scan, scanned / match);
        }
    }
    /* the hit count keeps the checks from being optimised away */
    printf("(%u hits)\n", hits);
    free(buf);
    tbl_builder_free(b);
    return 0;
}
