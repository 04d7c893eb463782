/*
 * microbench.h -- what the C microbenchmarks (bench/lookup, bench/access)
 * share: a small deterministic random generator, a monotonic clock in
 * nanoseconds and the median of a run's samples.  Header-only, so each
 * benchmark stays one program built from one file; it measures nothing
 * by itself.
 */
#ifndef SHMINGRESS_BENCH_MICROBENCH_H
#define SHMINGRESS_BENCH_MICROBENCH_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* The generator's state: a benchmark seeds it once, first thing. */
static uint64_t mb_rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: the same sequence on every run for a given seed, so runs
 * and machines compare on identical inputs. */
static inline uint32_t
mb_rng(void)
{
    mb_rng_state ^= mb_rng_state >> 12;
    mb_rng_state ^= mb_rng_state << 25;
    mb_rng_state ^= mb_rng_state >> 27;
    return (uint32_t)((mb_rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static inline double
mb_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline int
mb_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Sorts v in place; the upper median for even n. */
static inline double
mb_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), mb_cmp_double);
    return v[n / 2];
}

#endif
