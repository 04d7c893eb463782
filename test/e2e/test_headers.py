"""What the backend receives: the request line and Host exactly as the
client sent them, ingress-nginx's forwarding headers (X-Request-ID,
X-Real-IP, X-Forwarded-*, X-Scheme), HTTP/1.1 upstream, request bodies;
and what the client gets back (Server, Date, Content-Length).
"""

import re

import pytest

import harness as h

HOST = "headers.test"


@pytest.fixture(scope="module")
def cluster(module_clusters):
    c = module_clusters()
    objects = [h.ingress_class()] + c.backends.add("headers").objects()
    objects.append(h.ingress("headers", [
        h.rule(HOST, h.path("/", "Prefix", "headers"))]))
    return h.start_with(c, {"headers.yaml": objects},
                        ready=(HOST, "/", "service:headers"))


def get(cluster, target="/", host=HOST, **kw):
    r = cluster.request(host, target, **kw)
    assert r.outcome() == "service:headers", r
    return r


@pytest.mark.parametrize("host", [HOST, HOST + ":8080", "HEADERS.Test",
                                  HOST + ":80"])
def test_host_header_is_forwarded_unchanged(cluster, host):
    r = get(cluster, host=host)
    assert r.json["host"] == host
    assert r.echoed_header("X-Forwarded-Host").lower().startswith(HOST)


def test_forwarding_headers(cluster):
    r = get(cluster, "/fwd")
    assert r.echoed_header("X-Real-IP") == "127.0.0.1"
    assert r.echoed_header("X-Forwarded-For") == "127.0.0.1"
    assert r.echoed_header("X-Forwarded-Proto") == "http"
    assert r.echoed_header("X-Forwarded-Port") == str(cluster.http_port)
    assert r.echoed_header("X-Scheme") == "http"
    assert r.echoed_header("X-Forwarded-Host") == HOST
    assert r.json["proto"] == "HTTP/1.1"


def test_client_supplied_forwarded_for_is_not_trusted(cluster):
    r = get(cluster, headers=[("X-Forwarded-For", "203.0.113.9"),
                              ("X-Real-IP", "203.0.113.9")])
    assert r.echoed_header("X-Forwarded-For") == "127.0.0.1"
    assert r.echoed_header("X-Real-IP") == "127.0.0.1"


def test_request_id_is_present_and_unique(cluster):
    ids = [get(cluster).echoed_header("X-Request-ID") for _ in range(20)]
    assert all(i and re.fullmatch(r"[0-9a-f]{32}", i) for i in ids), ids
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("target", [
    "/q?a=1&b=2",
    "/q?x=/bar&empty=&flag",
    "/q?enc=%2F%20%3F",
    "/enc/a%20b/%7Euser",
    "/trailing/",
])
def test_request_target_is_forwarded_unchanged(cluster, target):
    assert get(cluster, target).json["path"] == target


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH",
                                    "OPTIONS"])
def test_methods_and_bodies(cluster, method):
    body = b"x" * 1000 if method in ("POST", "PUT", "PATCH") else None
    r = get(cluster, "/m", method=method, body=body)
    assert r.json["method"] == method
    assert r.json["body_length"] == (len(body) if body else 0)


def test_head_request(cluster):
    r = cluster.request(HOST, "/head", method="HEAD")
    assert r.status == 200 and r.body == b""


def test_user_agent_and_custom_headers(cluster):
    r = get(cluster, headers=[("User-Agent", "e2e-agent/1.0"),
                              ("X-Custom", "kept")])
    assert r.echoed_header("User-Agent") == "e2e-agent/1.0"
    assert r.echoed_header("X-Custom") == "kept"


def test_response_headers(cluster):
    r = get(cluster)
    assert r.version == "HTTP/1.1"
    for name in ("Server", "Date", "Content-Type", "Content-Length"):
        assert r.header(name), "response header %s missing" % name
    assert int(r.header("Content-Length")) == len(r.body)
    assert r.header("X-Content-Type-Options") == "nosniff"
