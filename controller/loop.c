/*
 * loop.c -- a small epoll event loop with timerfd timers (see loop.h).
 *
 * Handlers are kept in a table indexed by file descriptor, as Redis's ae.c
 * does: a handler that unwatches another descriptor during a dispatch
 * round clears its slot, and the rest of the round checks the slot before
 * calling, so no handler runs for a descriptor that was just dropped.
 * The loop is not thread safe and never blocks except in epoll_wait.
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define CTL_LOOP_BATCH 64

typedef struct {
    uint32_t     mask; /* 0: slot unused */
    ctl_fd_proc *proc;
    void        *data;
} ctl_fd_slot;

struct ctl_timer {
    ctl_loop       *loop;
    int             fd;
    int             armed;
    uint64_t        interval_ms;
    ctl_timer_proc *proc;
    void           *data;
    ctl_timer      *prev, *next;
};

struct ctl_loop {
    int          epfd;
    int          stop;
    ctl_fd_slot *slots;
    int          nslots;
    ctl_timer   *timers; /* freed with the loop */
};

struct ctl_debounce {
    ctl_timer         *timer;
    uint64_t           quiet_ms;
    uint64_t           max_ms;
    uint64_t           burst_start_ms; /* meaningful while pending */
    int                pending;
    ctl_debounce_proc *proc;
    void              *data;
};

uint64_t
ctl_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
ctl_now_ms(void)
{
    return ctl_now_us() / 1000u;
}

ctl_loop *
ctl_loop_new(void)
{
    ctl_loop *loop = calloc(1, sizeof(*loop));

    if (loop == NULL)
        return NULL;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        free(loop);
        return NULL;
    }
    return loop;
}

void
ctl_loop_free(ctl_loop *loop)
{
    if (loop == NULL)
        return;
    while (loop->timers != NULL)
        ctl_timer_free(loop->timers);
    close(loop->epfd);
    free(loop->slots);
    free(loop);
}

/* Grows the slot table so that fd is a valid index. */
static int
ctl_loop_reserve(ctl_loop *loop, int fd)
{
    int n = loop->nslots ? loop->nslots : 64;
    ctl_fd_slot *slots;

    if (fd < loop->nslots)
        return 0;
    while (n <= fd)
        n *= 2;
    slots = realloc(loop->slots, (size_t)n * sizeof(*slots));
    if (slots == NULL) {
        errno = ENOMEM;
        return -1;
    }
    memset(slots + loop->nslots, 0,
           (size_t)(n - loop->nslots) * sizeof(*slots));
    loop->slots = slots;
    loop->nslots = n;
    return 0;
}

int
ctl_loop_watch(ctl_loop *loop, int fd, uint32_t events, ctl_fd_proc *proc,
               void *data)
{
    struct epoll_event ev;
    int op;

    if (fd < 0 || events == 0) {
        errno = EINVAL;
        return -1;
    }
    if (ctl_loop_reserve(loop, fd) < 0)
        return -1;
    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.fd = fd;
    op = loop->slots[fd].mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    /*
     * A descriptor closed while watched left epoll on its own; its number
     * may come back as a new socket, which must be added, not modified.
     */
    if (epoll_ctl(loop->epfd, op, fd, &ev) < 0 &&
        (op != EPOLL_CTL_MOD || errno != ENOENT ||
         epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0))
        return -1;
    loop->slots[fd].mask = events;
    loop->slots[fd].proc = proc;
    loop->slots[fd].data = data;
    return 0;
}

void
ctl_loop_unwatch(ctl_loop *loop, int fd)
{
    if (fd < 0 || fd >= loop->nslots || loop->slots[fd].mask == 0)
        return;
    /* Fails only when fd was already closed, which removed it anyway. */
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    memset(&loop->slots[fd], 0, sizeof(loop->slots[fd]));
}

static void
ctl_timer_fired(ctl_loop *loop, int fd, uint32_t events, void *data)
{
    ctl_timer *timer = data;
    uint64_t expirations;

    (void)loop;
    (void)events;
    /* EAGAIN: the timer was disarmed or re-armed after it expired. */
    if (read(fd, &expirations, sizeof(expirations)) != sizeof(expirations))
        return;
    if (timer->interval_ms == 0)
        timer->armed = 0;
    timer->proc(timer->loop, timer, timer->data);
}

ctl_timer *
ctl_timer_new(ctl_loop *loop, ctl_timer_proc *proc, void *data)
{
    ctl_timer *timer = calloc(1, sizeof(*timer));

    if (timer == NULL)
        return NULL;
    timer->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timer->fd < 0) {
        free(timer);
        return NULL;
    }
    timer->loop = loop;
    timer->proc = proc;
    timer->data = data;
    if (ctl_loop_watch(loop, timer->fd, EPOLLIN, ctl_timer_fired, timer) < 0) {
        int saved = errno;

        close(timer->fd);
        free(timer);
        errno = saved;
        return NULL;
    }
    timer->next = loop->timers;
    if (loop->timers != NULL)
        loop->timers->prev = timer;
    loop->timers = timer;
    return timer;
}

void
ctl_timer_free(ctl_timer *timer)
{
    ctl_loop *loop;

    if (timer == NULL)
        return;
    loop = timer->loop;
    ctl_loop_unwatch(loop, timer->fd);
    close(timer->fd);
    if (timer->prev != NULL)
        timer->prev->next = timer->next;
    else
        loop->timers = timer->next;
    if (timer->next != NULL)
        timer->next->prev = timer->prev;
    free(timer);
}

static struct timespec
ctl_ms_to_timespec(uint64_t ms)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    return ts;
}

int
ctl_timer_arm(ctl_timer *timer, uint64_t delay_ms, uint64_t interval_ms)
{
    struct itimerspec its;

    its.it_value = ctl_ms_to_timespec(delay_ms);
    /* An all-zero it_value would disarm: "now" is one nanosecond away. */
    if (delay_ms == 0)
        its.it_value.tv_nsec = 1;
    its.it_interval = ctl_ms_to_timespec(interval_ms);
    if (timerfd_settime(timer->fd, 0, &its, NULL) < 0)
        return -1;
    timer->armed = 1;
    timer->interval_ms = interval_ms;
    return 0;
}

void
ctl_timer_disarm(ctl_timer *timer)
{
    struct itimerspec its;

    memset(&its, 0, sizeof(its));
    timerfd_settime(timer->fd, 0, &its, NULL);
    timer->armed = 0;
}

int
ctl_timer_armed(const ctl_timer *timer)
{
    return timer->armed;
}

static void
ctl_debounce_fired(ctl_loop *loop, ctl_timer *timer, void *data)
{
    ctl_debounce *d = data;

    (void)loop;
    (void)timer;
    d->pending = 0;
    d->proc(d->data);
}

ctl_debounce *
ctl_debounce_new(ctl_loop *loop, uint64_t quiet_ms, uint64_t max_ms,
                 ctl_debounce_proc *proc, void *data)
{
    ctl_debounce *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return NULL;
    d->timer = ctl_timer_new(loop, ctl_debounce_fired, d);
    if (d->timer == NULL) {
        free(d);
        return NULL;
    }
    d->quiet_ms = quiet_ms;
    d->max_ms = max_ms < quiet_ms ? quiet_ms : max_ms;
    d->proc = proc;
    d->data = data;
    return d;
}

void
ctl_debounce_free(ctl_debounce *d)
{
    if (d == NULL)
        return;
    ctl_timer_free(d->timer);
    free(d);
}

int
ctl_debounce_poke(ctl_debounce *d)
{
    uint64_t now = ctl_now_ms();
    uint64_t deadline;

    if (!d->pending) {
        d->pending = 1;
        d->burst_start_ms = now;
    }
    deadline = d->burst_start_ms + d->max_ms;
    if (now + d->quiet_ms < deadline)
        deadline = now + d->quiet_ms;
    return ctl_timer_arm(d->timer, deadline > now ? deadline - now : 0, 0);
}

int
ctl_debounce_pending(const ctl_debounce *d)
{
    return d->pending;
}

int
ctl_loop_run(ctl_loop *loop)
{
    struct epoll_event events[CTL_LOOP_BATCH];

    loop->stop = 0;
    while (!loop->stop) {
        int n = epoll_wait(loop->epfd, events, CTL_LOOP_BATCH, -1);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            ctl_fd_slot *slot;

            if (fd >= loop->nslots || loop->slots[fd].mask == 0)
                continue;
            slot = &loop->slots[fd];
            slot->proc(loop, fd, events[i].events, slot->data);
        }
    }
    return 0;
}

void
ctl_loop_stop(ctl_loop *loop)
{
    loop->stop = 1;
}
