"""Changes are served without reloading nginx: new, edited and deleted
Ingresses and endpoints take effect within the deadline while the nginx
master and workers keep their PIDs; traffic to routes that stay is never
disturbed by table swaps -- not plain requests, not an open WebSocket,
not a request in flight.
"""

import http.client
import itertools
import threading
import time

import harness as h

P = "Prefix"


def app_ingress(name, host, *paths):
    return h.ingress(name, [h.rule(host, *[h.path(p, P, svc)
                                           for p, svc in paths])])


def started(clusters, extra_services=(), files=None, **kw):
    c = clusters(**kw)
    base = [h.ingress_class()]
    for name in ("stable",) + tuple(extra_services):
        base += c.backends.add(name).objects()
    manifests = {"base.yaml": base,
                 "stable.yaml": [app_ingress("stable", "stable.test",
                                             ("/", "stable"))]}
    manifests.update(files or {})
    return h.start_with(c, manifests,
                        ready=("stable.test", "/", "service:stable"))


def test_add_edit_delete_without_reload(clusters):
    c = started(clusters, ["new-app", "other-app"])
    master, workers = c.nginx_pid(), c.worker_pids()
    assert workers, "nginx has workers"

    t0 = time.monotonic()
    c.manifests.write("new.yaml", [app_ingress("new", "new.test",
                                               ("/v1", "new-app"))])
    h.eventually(lambda: c.outcome("new.test", "/v1"),
                 lambda o: o == "service:new-app", "new Ingress served",
                 consecutive=1)
    h.record_timing("new Ingress file -> first request served",
                    time.monotonic() - t0)
    c.expect("new.test", "/v1", "service:new-app")

    t0 = time.monotonic()
    c.manifests.write("new.yaml", [app_ingress("new", "new.test",
                                               ("/v2", "other-app"))])
    c.expect("new.test", "/v2", "service:other-app")
    h.record_timing("edited Ingress -> served three times in a row",
                    time.monotonic() - t0)
    c.expect("new.test", "/v1", "404")

    t0 = time.monotonic()
    c.manifests.remove("new.yaml")
    c.expect("new.test", "/v2", "404")
    h.record_timing("deleted Ingress -> 404 three times in a row",
                    time.monotonic() - t0)
    c.expect("stable.test", "/", "service:stable")

    assert c.nginx_pid() == master
    assert c.worker_pids() == workers, "nginx workers were replaced"


def test_service_and_endpoints_appear_and_move(clusters):
    c = clusters()
    late = c.backends.add("late", pods=2)
    svc, eps = late.objects()
    h.start_with(c, {"base.yaml": [h.ingress_class()],
                     "ingress.yaml": [app_ingress("late", "late.test",
                                                  ("/", "late"))]})
    c.expect("late.test", "/", "503")
    c.manifests.write("service.yaml", [svc])
    c.expect("late.test", "/", "503")
    first_only = h.endpoint_slice("late", "late-1",
                                  [(late.servers[0].host, h.READY)],
                                  late.port)
    c.manifests.write("endpoints.yaml", [first_only])
    r = c.expect("late.test", "/", "service:late")
    assert r.pod == "late-1"
    second_only = h.endpoint_slice("late", "late-1",
                                   [(late.servers[0].host, h.NOT_READY),
                                    (late.servers[1].host, h.READY)],
                                   late.port)
    c.manifests.write("endpoints.yaml", [second_only])
    h.eventually(lambda: c.request("late.test", "/").pod,
                 lambda pod: pod == "late-2", "traffic moved to late-2",
                 consecutive=10)
    c.manifests.write("endpoints.yaml", [eps])
    h.eventually(lambda: {c.request("late.test", "/").pod
                          for _ in range(10)},
                 lambda pods: pods == {"late-1", "late-2"},
                 "both pods serve again", consecutive=1)


class Looper:
    """Requests one route in a loop on a background thread, alternating a
    kept-alive connection and fresh ones, and records every outcome that
    is not the expected one."""

    def __init__(self, cluster, host, target, expected):
        self.cluster, self.host, self.target = cluster, host, target
        self.expected = expected
        self.count, self.failures = 0, []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        conn = None
        while not self.stopping.is_set():
            try:
                if self.count % 2:
                    outcome = self.cluster.outcome(self.host, self.target)
                else:
                    if conn is None:
                        conn = http.client.HTTPConnection(
                            "127.0.0.1", self.cluster.http_port, timeout=10)
                    conn.request("GET", self.target,
                                 headers={"Host": self.host})
                    resp = conn.getresponse()
                    outcome = h.Response(resp.status, resp.getheaders(),
                                         resp.read()).outcome()
                    if resp.will_close:
                        conn.close()
                        conn = None
            except (OSError, http.client.HTTPException) as e:
                outcome = "error: %r" % e
                conn = None
            self.count += 1
            if outcome != self.expected:
                self.failures.append((self.count, outcome))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(timeout=15)


CHURN_PATHS = itertools.count()


def churn(cluster, n):
    """n publications, each changing the table (a path never used before)
    and each waited for, so every one is a real table swap; returns the
    last path."""
    for _ in range(n):
        i = next(CHURN_PATHS)
        gen = cluster.generation()
        cluster.manifests.write("churn.yaml", [app_ingress(
            "churn", "churn.test", ("/churn-%d" % i, "stable"))])
        cluster.wait_generation_above(gen)
    return "/churn-%d" % i


def test_no_errors_during_rapid_changes(clusters):
    c = started(clusters)
    workers = c.worker_pids()
    gen0 = c.generation()
    t0 = time.monotonic()
    with Looper(c, "stable.test", "/loop", "service:stable") as loop:
        last = churn(c, 50)
        time.sleep(0.2)
    h.record_timing("50 manifest changes, each published (total)",
                    time.monotonic() - t0)
    assert c.generation() >= gen0 + 50
    assert loop.count > 50, "the client loop made progress"
    assert loop.failures == [], "%d of %d requests failed: %s" % (
        len(loop.failures), loop.count, loop.failures[:5])
    assert c.worker_pids() == workers
    c.expect("churn.test", last, "service:stable")


def test_websocket_survives_table_swaps(clusters):
    c = started(clusters, ["ws"], files={"ws.yaml": [app_ingress(
        "ws", "ws.test", ("/ws", "ws"))]})
    c.expect("ws.test", "/ws", "service:ws")
    ws = h.WebSocket(c.http_port, "ws.test", "/ws")
    try:
        assert ws.status == 101, ws.head
        assert ws.exchange("hello") == "ws-1: hello"
        gen0 = c.generation()
        for i in range(25):
            churn(c, 1)
            assert ws.exchange("after swap %d" % i) == \
                "ws-1: after swap %d" % i
        assert ws.ping(b"still-there") == (0xA, b"still-there")
        assert c.generation() >= gen0 + 25
    finally:
        ws.close()


def test_request_in_flight_survives_swap_that_removes_its_route(clusters):
    c = started(clusters, ["slow"], files={"slow.yaml": [app_ingress(
        "slow", "slow.test", ("/", "slow"))]})
    c.expect("slow.test", "/", "service:slow")
    pod = next(s for s in c.backends.servers if s.service == "slow")
    before = pod.stats()["requests"]
    t0 = time.monotonic()
    pending = h.run_in_thread(lambda: c.request(
        "slow.test", "/long", headers=[("X-Echo-Sleep", "2")]))
    h.eventually(lambda: pod.stats()["requests"], lambda n: n > before,
                 "the long request reached the backend", consecutive=1)
    gen = c.generation()
    c.manifests.remove("slow.yaml")
    c.wait_generation_above(gen)
    c.expect("slow.test", "/", "404")
    pending.join(timeout=15)
    assert "error" not in pending.box, pending.box.get("error")
    r = pending.box["result"]
    assert r.outcome() == "service:slow" and r.json["path"] == "/long"
    assert time.monotonic() - t0 >= 2.0
