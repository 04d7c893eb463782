"""Fault injection as a client sees it: cut and broken watch streams,
failing, throttled and slow requests, compaction, restarts."""

import http.client
import socket
import threading
import time

import pytest

from manifests import CM, configmap
from standin_client import Client


def open_watch(standin, client, **query):
    w = client.watch(CM, **query)
    assert standin.wait_for_watches(1, timeout=5)
    return w


def test_cut_watches_closes_mid_chunk(standin, client):
    with open_watch(standin, client) as w:
        assert standin.cut_watches() == 1
        with pytest.raises((http.client.IncompleteRead, ConnectionError)):
            w.body()


def test_cut_watches_by_path(standin, client):
    with open_watch(standin, client) as w:
        assert standin.cut_watches(pattern="ingresses") == 0
        assert standin.end_watches(pattern="configmaps") == 1
        assert w.next() is None


def test_garbage_line_then_stream_continues(standin, client):
    with open_watch(standin, client) as w:
        standin.inject_garbage()
        assert w.next_line() == b"this is not a JSON watch event\n"
        client.post(CM, configmap("a"))
        assert w.next()["type"] == "ADDED"


def test_truncated_event_then_clean_end(standin, client):
    with open_watch(standin, client) as w:
        standin.truncate_watches()
        partial = w.next_line()
        assert partial.startswith(b'{"type":"BOOKMARK"')
        assert not partial.endswith(b"\n")
        assert w.next_line() == b""


def test_fail_next_requests_with_500(standin, client):
    standin.fail(pattern="/configmaps", count=2, status=500)
    first = client.get(CM)
    assert first.status == 500
    assert first.json["reason"] == "InternalError"
    assert client.get(CM).status == 500
    assert client.get(CM).status == 200


def test_throttle_with_retry_after(standin, client):
    standin.fail(pattern="configmaps", status=429, retry_after=3)
    resp = client.get(CM)
    assert resp.status == 429
    assert resp.headers["Retry-After"] == "3"
    assert resp.json["reason"] == "TooManyRequests"
    assert resp.json["details"]["retryAfterSeconds"] == 3


def test_fault_matches_method_and_query(standin, client):
    standin.fail(pattern="watch=1", status=503, method="GET")
    assert client.get(CM).status == 200
    assert client.post(CM, configmap("a")).status == 201
    resp = client.get(CM, query={"watch": "1"})
    assert resp.status == 503


def test_delay(standin, client):
    standin.delay(0.5, pattern="configmaps")
    started = time.monotonic()
    assert client.get(CM).status == 200
    assert time.monotonic() - started >= 0.5
    started = time.monotonic()
    client.get(CM)
    assert time.monotonic() - started < 0.5


def test_empty_watch(standin, client):
    standin.fail(pattern="watch", action="empty")
    with client.watch(CM, timeoutSeconds="30") as w:
        assert w.status == 200 and w.next() is None


def test_reset_connection(standin, client):
    standin.fail(pattern="configmaps", action="reset", count=-1)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        client.get(CM)
    standin.clear_faults()
    assert client.get(CM).status == 200


def test_fault_arguments_are_checked(standin):
    with pytest.raises(ValueError):
        standin.fail(action="explode")
    with pytest.raises(ValueError):
        standin.fail(count=0)


def test_restart_keeping_state(standin, client):
    made = client.post(CM, configmap("a")).json
    rv = standin.resource_version
    w = open_watch(standin, client)
    standin.restart()
    with pytest.raises((http.client.IncompleteRead, ConnectionError)):
        w.body()
    w.close()
    assert client.get(f"{CM}/a").json == made
    with client.watch(CM, resourceVersion=rv) as again:
        client.post(CM, configmap("b"))
        assert again.next()["object"]["metadata"]["name"] == "b"


def test_restart_dropping_state_makes_old_versions_too_old(standin, client):
    rv = client.post(CM, configmap("a")).json["metadata"]["resourceVersion"]
    standin.restart(keep_state=False)
    assert client.get(f"{CM}/a").status == 404
    assert int(standin.resource_version) > int(rv)
    with client.watch(CM, resourceVersion=rv) as w:
        assert w.next()["object"]["code"] == 410


def test_restart_with_downtime_refuses_connections(standin, client):
    down = threading.Thread(target=standin.restart,
                            kwargs={"down_seconds": 1.0})
    down.start()
    assert wait_until_down(standin.port)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", standin.port), timeout=1)
    down.join()
    assert client.get(CM).status == 200


def test_request_log_records_what_clients_did(standin, client):
    standin.clear_requests()
    client.get(CM, query={"limit": "5"})
    with client.watch(CM, timeoutSeconds="1", allowWatchBookmarks="true") as w:
        assert w.next() is None
    log = standin.requests()
    assert [(r["method"], r["target"], r["status"], r["watch"])
            for r in log] == [
        ("GET", f"{CM}?limit=5", 200, False),
        ("GET", f"{CM}?timeoutSeconds=1&allowWatchBookmarks=true&watch=1",
         200, True)]


def test_control_api_over_http(standin, client):
    control = Client(standin.url)
    resp = control.post("/__control/fail", {"pattern": "configmaps",
                                            "status": 500})
    assert resp.status == 200
    assert client.get(CM).status == 500
    state = control.get("/__control/state").json["result"]
    assert state["resourceVersion"] == standin.resource_version
    control.post("/__control/load", {"items": [configmap("x")]})
    got = control.get("/__control/objects",
                      query={"kind": "configmaps"}).json["result"]
    assert [o["metadata"]["name"] for o in got] == ["x"]
    bad = control.post("/__control/fail", {"nonsense": 1})
    assert bad.status == 400 and bad.json["kind"] == "Status"
    assert control.post("/__control/nothing", {}).status == 404
    control.post("/__control/rotate_token", {"token": "t2"})
    assert Client(standin.url, "t2").get(CM).status == 200
    assert control.post("/__control/restart",
                        {"down_seconds": 0.5}).status == 200
    assert wait_until_down(standin.port)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if Client(standin.url, "t2").get(f"{CM}/x").status == 200:
                break
        except OSError:
            time.sleep(0.05)
    assert Client(standin.url, "t2").get(f"{CM}/x").status == 200


def wait_until_down(port, timeout=5):
    """True once connecting fails: refused, or reset by a listener that is
    closing with the connection still in its backlog."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except (ConnectionRefusedError, ConnectionResetError):
            return True
        time.sleep(0.02)
    return False
