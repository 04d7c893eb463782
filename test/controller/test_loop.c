/*
 * test_loop.c -- the controller's event loop: descriptors, timers,
 * handlers that drop other handlers, and the debounce.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"

typedef struct {
    int      fires;
    int      stop_after;
    uint64_t first_ms;
    uint64_t last_ms;
} counter;

static void
count_timer(ctl_loop *loop, ctl_timer *timer, void *data)
{
    counter *c = data;

    (void)timer;
    if (c->fires++ == 0)
        c->first_ms = ctl_now_ms();
    c->last_ms = ctl_now_ms();
    if (c->fires == c->stop_after)
        ctl_loop_stop(loop);
}

static void
test_timers_fire_once_or_periodically(void **state)
{
    ctl_loop *loop = ctl_loop_new();
    counter once = {0}, periodic = {0, 3, 0, 0};
    ctl_timer *a = ctl_timer_new(loop, count_timer, &once);
    ctl_timer *b = ctl_timer_new(loop, count_timer, &periodic);
    uint64_t t0 = ctl_now_ms();

    (void)state;
    assert_int_equal(ctl_timer_arm(a, 0, 0), 0);
    assert_int_equal(ctl_timer_arm(b, 10, 10), 0);
    assert_true(ctl_timer_armed(a));
    assert_int_equal(ctl_loop_run(loop), 0);
    assert_int_equal(once.fires, 1);
    assert_false(ctl_timer_armed(a));
    assert_int_equal(periodic.fires, 3);
    assert_true(periodic.last_ms - t0 >= 30);
    assert_true(ctl_timer_armed(b));
    ctl_timer_disarm(b);
    assert_false(ctl_timer_armed(b));
    ctl_timer_free(a);
    /* b is left for ctl_loop_free to release. */
    ctl_loop_free(loop);
}

typedef struct {
    ctl_loop *loop;
    int       fds[2][2];
    int       calls[2];
} pipes;

/* Whichever pipe is served first drops the other one. */
static void
on_readable(ctl_loop *loop, int fd, uint32_t events, void *data)
{
    pipes *p = data;
    int me = fd == p->fds[0][0] ? 0 : 1;

    assert_true(events & EPOLLIN);
    p->calls[me]++;
    ctl_loop_unwatch(loop, p->fds[!me][0]);
    ctl_loop_stop(loop);
}

static void
test_unwatched_descriptor_is_not_served(void **state)
{
    pipes p;

    (void)state;
    memset(&p, 0, sizeof(p));
    p.loop = ctl_loop_new();
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pipe(p.fds[i]), 0);
        assert_int_equal(ctl_loop_watch(p.loop, p.fds[i][0], EPOLLIN,
                                        on_readable, &p),
                         0);
        assert_int_equal(write(p.fds[i][1], "x", 1), 1);
    }
    assert_int_equal(ctl_loop_run(p.loop), 0);
    assert_int_equal(p.calls[0] + p.calls[1], 1);
    ctl_loop_unwatch(p.loop, p.fds[0][0]);
    ctl_loop_unwatch(p.loop, p.fds[1][0]);
    assert_int_equal(ctl_loop_watch(p.loop, -1, EPOLLIN, on_readable, &p), -1);
    for (int i = 0; i < 2; i++) {
        close(p.fds[i][0]);
        close(p.fds[i][1]);
    }
    ctl_loop_free(p.loop);
}

static void
on_readable_stop(ctl_loop *loop, int fd, uint32_t events, void *data)
{
    int *calls = data;

    (void)fd;
    (void)events;
    (*calls)++;
    ctl_loop_stop(loop);
}

/* A socket closed while watched, whose number comes back (curl does it). */
static void
test_closed_descriptor_number_can_be_watched_again(void **state)
{
    ctl_loop *loop = ctl_loop_new();
    int first[2], second[2], calls = 0;

    (void)state;
    assert_int_equal(pipe(first), 0);
    assert_int_equal(ctl_loop_watch(loop, first[0], EPOLLIN, on_readable_stop,
                                    &calls),
                     0);
    close(first[0]);
    close(first[1]);
    assert_int_equal(pipe(second), 0);
    assert_int_equal(second[0], first[0]);
    assert_int_equal(ctl_loop_watch(loop, second[0], EPOLLIN, on_readable_stop,
                                    &calls),
                     0);
    assert_int_equal(write(second[1], "x", 1), 1);
    assert_int_equal(ctl_loop_run(loop), 0);
    assert_int_equal(calls, 1);
    ctl_loop_unwatch(loop, second[0]);
    close(second[0]);
    close(second[1]);
    ctl_loop_free(loop);
}

typedef struct {
    ctl_loop     *loop;
    ctl_debounce *d;
    int           fires;
    uint64_t      fire_ms;
} bounce;

static void
on_debounced(void *data)
{
    bounce *b = data;

    if (b->fires++ == 0)
        b->fire_ms = ctl_now_ms();
}

static void
stop_loop(ctl_loop *loop, ctl_timer *timer, void *data)
{
    (void)timer;
    (void)data;
    ctl_loop_stop(loop);
}

static void
poke(ctl_loop *loop, ctl_timer *timer, void *data)
{
    bounce *b = data;

    (void)loop;
    (void)timer;
    assert_int_equal(ctl_debounce_poke(b->d), 0);
}

static void
test_debounce_waits_for_quiet(void **state)
{
    bounce b = {0};
    ctl_timer *end;
    uint64_t t0;

    (void)state;
    b.loop = ctl_loop_new();
    b.d = ctl_debounce_new(b.loop, 30, 300, on_debounced, &b);
    end = ctl_timer_new(b.loop, stop_loop, NULL);
    t0 = ctl_now_ms();
    for (int i = 0; i < 5; i++)
        assert_int_equal(ctl_debounce_poke(b.d), 0);
    assert_true(ctl_debounce_pending(b.d));
    ctl_timer_arm(end, 150, 0);
    assert_int_equal(ctl_loop_run(b.loop), 0);
    assert_int_equal(b.fires, 1);
    assert_true(b.fire_ms - t0 >= 30);
    assert_false(ctl_debounce_pending(b.d));
    ctl_debounce_free(b.d);
    ctl_loop_free(b.loop);
}

static void
test_debounce_fires_under_a_steady_stream(void **state)
{
    bounce b = {0};
    ctl_timer *poker, *end;
    uint64_t t0;

    (void)state;
    b.loop = ctl_loop_new();
    b.d = ctl_debounce_new(b.loop, 40, 100, on_debounced, &b);
    poker = ctl_timer_new(b.loop, poke, &b);
    end = ctl_timer_new(b.loop, stop_loop, NULL);
    t0 = ctl_now_ms();
    assert_int_equal(ctl_debounce_poke(b.d), 0);
    ctl_timer_arm(poker, 5, 5); /* always busier than the quiet time */
    ctl_timer_arm(end, 400, 0);
    assert_int_equal(ctl_loop_run(b.loop), 0);
    /* Without the cap nothing would fire while the pokes go on. */
    assert_true(b.fires >= 2);
    assert_true(b.fire_ms - t0 >= 40);
    assert_true(b.fire_ms - t0 <= 100 + 60);
    ctl_debounce_free(b.d);
    ctl_loop_free(b.loop);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers_fire_once_or_periodically),
        cmocka_unit_test(test_unwatched_descriptor_is_not_served),
        cmocka_unit_test(test_closed_descriptor_number_can_be_watched_again),
        cmocka_unit_test(test_debounce_waits_for_quiet),
        cmocka_unit_test(test_debounce_fires_under_a_steady_stream),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
