/*
 * kube_backoff.h -- how long to wait before trying the API server again.
 *
 * Exponential backoff with jitter, as client-go's reflector does it: the
 * step starts at 800 ms and doubles per failure; each wait is the step
 * plus up to one step of jitter, never more than 30 s.  A failure more
 * than two minutes after the previous one starts again from the first
 * step, so a watch that was healthy for a while reconnects quickly.  A
 * server's Retry-After (429, 503) is honoured instead, bounded.  The
 * arithmetic takes the clock and the jitter as arguments so it can be
 * tested; kube_jitter() supplies real randomness.
 */
#ifndef SHMINGRESS_KUBE_BACKOFF_H
#define SHMINGRESS_KUBE_BACKOFF_H

#include <stdint.h>

#define KUBE_BACKOFF_INITIAL_MS     800u
#define KUBE_BACKOFF_MAX_MS         30000u
#define KUBE_BACKOFF_RESET_MS       120000u
#define KUBE_BACKOFF_RETRY_AFTER_MAX_S 600u

typedef struct {
    unsigned step;            /* failures in the current run        */
    uint64_t last_failure_ms; /* 0: none yet                        */
} kube_backoff;

void kube_backoff_init(kube_backoff *b);

/*
 * Records a failure at now_ms and returns the wait before the next try;
 * jitter is in [0, 1).
 */
uint64_t kube_backoff_next(kube_backoff *b, uint64_t now_ms, double jitter);

/*
 * The same, for a response that carried Retry-After (seconds, 0 when it
 * had none): that many seconds (at most KUBE_BACKOFF_RETRY_AFTER_MAX_S)
 * when given, the backoff otherwise.  The failure counts either way.
 */
uint64_t kube_backoff_after(kube_backoff *b, uint64_t now_ms, double jitter,
                            uint32_t retry_after_s);

/* Uniform in [0, 1), from a generator seeded once from the kernel. */
double kube_jitter(void);

#endif
