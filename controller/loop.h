/*
 * loop.h -- the controller's one event loop: epoll over file descriptors
 * plus timers, on a single thread.
 *
 * Everything the controller waits for goes through here: inotify on the
 * manifests directory, signalfd, the heartbeat and debounce timers, and
 * later the sockets and the timer of a curl multi handle.  A handler
 * registers a file descriptor with the events it wants; a timer is a
 * timerfd registered like any other descriptor, so arming and disarming
 * it is a single system call and no timer list has to be kept sorted.
 * The loop does not own the descriptors it watches (except the timerfds
 * it creates) and knows nothing about what they mean.
 */
#ifndef SHMINGRESS_CTL_LOOP_H
#define SHMINGRESS_CTL_LOOP_H

#include <stdint.h>

typedef struct ctl_loop ctl_loop;
typedef struct ctl_timer ctl_timer;

/* events is a mask of EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP. */
typedef void ctl_fd_proc(ctl_loop *loop, int fd, uint32_t events, void *data);
typedef void ctl_timer_proc(ctl_loop *loop, ctl_timer *timer, void *data);

ctl_loop *ctl_loop_new(void);

/* Frees the loop and the timers still attached to it. */
void ctl_loop_free(ctl_loop *loop);

/*
 * Starts (or changes) watching fd for events.  Registering a descriptor
 * again replaces its handler and mask.  Returns 0, or -1 with errno set.
 */
int ctl_loop_watch(ctl_loop *loop, int fd, uint32_t events, ctl_fd_proc *proc,
                   void *data);

/* Stops watching fd; events already collected for it are dropped. */
void ctl_loop_unwatch(ctl_loop *loop, int fd);

/* A disarmed timer; NULL with errno set on failure. */
ctl_timer *ctl_timer_new(ctl_loop *loop, ctl_timer_proc *proc, void *data);
void ctl_timer_free(ctl_timer *timer);

/*
 * Fires once after delay_ms (0 means on the next loop iteration), then
 * every interval_ms when that is not 0.  Arming an armed timer restarts
 * it.
 */
int ctl_timer_arm(ctl_timer *timer, uint64_t delay_ms, uint64_t interval_ms);
void ctl_timer_disarm(ctl_timer *timer);
int ctl_timer_armed(const ctl_timer *timer);

/*
 * Debounce: coalesces a burst of pokes into one call of proc, made once
 * quiet_ms have passed without a poke, but no later than max_ms after the
 * first poke of the burst so a steady stream of changes still gets through.
 */
typedef struct ctl_debounce ctl_debounce;
typedef void ctl_debounce_proc(void *data);

ctl_debounce *ctl_debounce_new(ctl_loop *loop, uint64_t quiet_ms,
                               uint64_t max_ms, ctl_debounce_proc *proc,
                               void *data);
void ctl_debounce_free(ctl_debounce *d);
int ctl_debounce_poke(ctl_debounce *d);
int ctl_debounce_pending(const ctl_debounce *d);

/*
 * Runs until ctl_loop_stop() is called from a handler.  Returns 0, or -1
 * when epoll itself fails.
 */
int ctl_loop_run(ctl_loop *loop);
void ctl_loop_stop(ctl_loop *loop);

/* CLOCK_MONOTONIC, for deadlines and durations. */
uint64_t ctl_now_ms(void);
uint64_t ctl_now_us(void);

#endif
