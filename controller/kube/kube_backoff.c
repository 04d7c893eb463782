/*
 * kube_backoff.c -- retry delays for API requests (see kube_backoff.h).
 */
#include "kube_backoff.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void
kube_backoff_init(kube_backoff *b)
{
    b->step = 0;
    b->last_failure_ms = 0;
}

uint64_t
kube_backoff_next(kube_backoff *b, uint64_t now_ms, double jitter)
{
    uint64_t base = KUBE_BACKOFF_INITIAL_MS, wait;

    if (b->last_failure_ms != 0 &&
        now_ms - b->last_failure_ms > KUBE_BACKOFF_RESET_MS)
        b->step = 0;
    for (unsigned i = 0; i < b->step && base < KUBE_BACKOFF_MAX_MS; i++)
        base *= 2;
    if (base > KUBE_BACKOFF_MAX_MS)
        base = KUBE_BACKOFF_MAX_MS;
    if (jitter < 0.0 || jitter >= 1.0)
        jitter = 0.0;
    wait = base + (uint64_t)((double)base * jitter);
    if (wait > KUBE_BACKOFF_MAX_MS)
        wait = KUBE_BACKOFF_MAX_MS;
    if (b->step < 64)
        b->step++;
    b->last_failure_ms = now_ms ? now_ms : 1;
    return wait;
}

uint64_t
kube_backoff_after(kube_backoff *b, uint64_t now_ms, double jitter,
                   uint32_t retry_after_s)
{
    uint64_t wait = kube_backoff_next(b, now_ms, jitter);

    if (retry_after_s == 0)
        return wait;
    if (retry_after_s > KUBE_BACKOFF_RETRY_AFTER_MAX_S)
        retry_after_s = KUBE_BACKOFF_RETRY_AFTER_MAX_S;
    return (uint64_t)retry_after_s * 1000u;
}

/* xorshift64*: plenty for spreading retries, not for secrets. */
double
kube_jitter(void)
{
    static uint64_t state;

    if (state == 0) {
        if (getrandom(&state, sizeof(state), GRND_NONBLOCK) !=
            (ssize_t)sizeof(state))
            state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        state |= 1;
    }
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return (double)((state * 2685821657736338717ull) >> 11) /
           9007199254740992.0;
}
