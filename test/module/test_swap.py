"""Table swaps: new generations are served by the next request with no
reload, bad files are logged once and skipped, and a table stays mapped
while a request that routed with it is still running."""

import os
import threading

from conftest import Nginx, endpoint, mapped_tables, wait_for


def spec_to(server, service="svc"):
    return """
        backend x default/%s:80 %s
        route a.example.com Prefix / x default/ing
    """ % (service, endpoint(server))


def service_of(nginx):
    r = nginx.request("/", host="a.example.com")
    assert r.status == 200, r.text
    return r.json()["service"]


def test_swap_is_served_by_the_next_request_without_reload(tmp_path,
                                                           backends):
    nginx = Nginx(tmp_path / "state", workers=2).start()
    try:
        a, b = backends("svc-a"), backends("svc-b")
        master, workers = nginx.proc.pid, nginx.worker_pids()
        assert len(workers) == 2

        nginx.publish(spec_to(a, "svc-a"))
        assert {service_of(nginx) for _ in range(10)} == {"svc-a"}

        nginx.publish(spec_to(b, "svc-b"))
        assert {service_of(nginx) for _ in range(10)} == {"svc-b"}

        assert nginx.proc.pid == master
        assert nginx.worker_pids() == workers
        assert "reconfiguring" not in nginx.error_log()
    finally:
        nginx.stop()


def test_requests_succeed_while_tables_churn(nginx, backends):
    a, b = backends("svc-a"), backends("svc-b")
    nginx.publish(spec_to(a, "svc-a"))
    stop = threading.Event()
    failures, seen, done = [], [], []

    def load():
        while not stop.is_set():
            r = nginx.request("/", host="a.example.com")
            if r.status != 200:
                failures.append((r.status, r.text))
            else:
                seen.append(r.json()["service"])
            done.append(1)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(60):
            nginx.publish(spec_to(b if i % 2 else a,
                                  "svc-b" if i % 2 else "svc-a"))
            # interleave: some requests complete between publications
            count = len(done)
            wait_for(lambda: len(done) >= count + 2, what="requests")
    finally:
        stop.set()
        for t in threads:
            t.join()

    assert failures == []
    assert set(seen) == {"svc-a", "svc-b"}
    assert "rejected" not in nginx.error_log()


def test_bad_table_is_logged_once_and_the_old_one_kept(nginx, backends):
    a, b = backends("svc-a"), backends("svc-b")
    nginx.publish(spec_to(a, "svc-a"))
    assert service_of(nginx) == "svc-a"

    bad = nginx.publish(spec_to(b, "svc-b"), mode="publish-corrupt")
    for _ in range(20):
        assert service_of(nginx) == "svc-a"

    truncated = nginx.publish(spec_to(b, "svc-b"), mode="publish-truncated")
    for _ in range(20):
        assert service_of(nginx) == "svc-a"

    errors = [line for line in nginx.error_log().splitlines()
              if "rejected table" in line]
    assert len(errors) == 2, errors
    assert "[error]" in errors[0]
    assert "table.%d" % bad in errors[0] and "checksum" in errors[0]
    assert "table.%d" % truncated in errors[1]
    assert "truncated" in errors[1]

    nginx.publish(spec_to(b, "svc-b"))
    assert service_of(nginx) == "svc-b"
    assert nginx.health().text == "ok"


def test_worker_that_missed_the_good_table_serves_it_after_a_bad_one(
        nginx, backends):
    a, b = backends("svc-a"), backends("svc-b")
    good = nginx.publish(spec_to(a, "svc-a"))
    # no request yet: the worker has never mapped the good table
    bad = nginx.publish(spec_to(b, "svc-b"), mode="publish-corrupt")

    for _ in range(10):
        assert service_of(nginx) == "svc-a"

    log = nginx.error_log()
    assert "table.%d" % bad in log and "rejected table" in log
    assert "serving generation %d instead of the rejected %d" % (good, bad) \
        in log


def test_table_stays_mapped_until_its_last_request_ends(nginx, backends):
    a, b = backends("svc-a"), backends("svc-b")
    first = nginx.publish(spec_to(a, "svc-a"))
    worker = nginx.worker_pids()[0]
    slow = {}

    def slow_request():
        slow["r"] = nginx.request("/slow", host="a.example.com",
                                  headers={"X-Echo-Sleep": "1.5"})

    t = threading.Thread(target=slow_request)
    t.start()
    wait_for(lambda: a.stats()["requests"] >= 1, what="the slow request")

    # enough generations that the controller side unlinks the first file
    for _ in range(5):
        last = nginx.publish(spec_to(b, "svc-b"))
    assert not os.path.exists(os.path.join(nginx.table_dir,
                                           "table.%d" % first))
    assert service_of(nginx) == "svc-b"
    assert set(mapped_tables(worker)) == {"table.%d" % last,
                                          "table.%d (deleted)" % first}

    t.join()
    assert slow["r"].status == 200
    assert slow["r"].json()["service"] == "svc-a"
    wait_for(lambda: mapped_tables(worker) == ["table.%d" % last],
             what="the old table to be unmapped")
