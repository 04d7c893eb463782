"""Upstream settings end to end, from examples/proxy-settings.yaml: a
read timeout answers 504 on one route while another route to the same
backend waits; proxy-body-size answers 413 above its limit, by
Content-Length and for chunked bodies, and 0 is unlimited; retries to
the next endpoint with proxy-next-upstream, -tries and -timeout, and
none with "off" or one try; upstream-vhost sets the Host the backend
sees; proxy-buffering "on" holds an answer until the backend has sent all
of it, while the default passes each part on.
"""

import http.client
import socket

import pytest

import harness as h
import demo_examples as d

FILE = "proxy-settings.yaml"
SLEEP = [("X-Echo-Sleep", "2.5")]


cluster = d.demo_fixture(FILE)


def post_chunked(cluster, host, target, body):
    conn = http.client.HTTPConnection("127.0.0.1", cluster.http_port,
                                      timeout=30)
    try:
        conn.putrequest("POST", target, skip_host=True,
                        skip_accept_encoding=True)
        conn.putheader("Host", host)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for i in range(0, len(body), 256):
            part = body[i:i + 256]
            conn.send(b"%x\r\n%s\r\n" % (len(part), part))
        conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        return h.Response(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


def post_sized(cluster, host, target, size):
    return cluster.request(host, target, method="POST", body=b"x" * size,
                           timeout=30).outcome()


def test_read_timeout_is_per_route(cluster):
    box = h.run_in_thread(lambda: cluster.request(
        "shop.example.com", "/api/items", headers=SLEEP))
    slow = cluster.request("slow.example.com", "/", headers=SLEEP)
    box.join()
    assert slow.status == 504
    assert "result" in box.box, box.box
    assert box.box["result"].outcome() == "service:api"
    assert d.log_lines(cluster, "upstream timed out")
    # a backend quicker than the timeout is served
    assert cluster.request("slow.example.com", "/").outcome() == \
        "service:api"


def test_body_size_by_content_length(cluster):
    assert post_sized(cluster, "upload.example.com", "/", 1024) == \
        "service:api"
    assert post_sized(cluster, "upload.example.com", "/", 1025) == "413"
    assert d.log_lines(cluster, "larger than the 1024 of route demo/upload")


def test_body_size_of_chunked_bodies(cluster):
    ok = post_chunked(cluster, "upload.example.com", "/", b"x" * 1024)
    assert ok.outcome() == "service:api"
    assert ok.json["body_length"] == 1024
    assert post_chunked(cluster, "upload.example.com", "/",
                        b"x" * 4096).status == 413


def test_body_size_zero_is_unlimited(cluster):
    two_mb = 2 << 20
    assert post_sized(cluster, "upload.example.com", "/bulk", two_mb) == \
        "service:api"
    # the default elsewhere is 1m
    assert post_sized(cluster, "shop.example.com", "/api/items",
                      two_mb) == "413"


def test_refused_endpoint_is_retried(cluster):
    outcomes = {cluster.outcome("retry.example.com", "/")
                for _ in range(10)}
    assert outcomes == {"service:api"}


@pytest.mark.parametrize("host", ["no-retry.example.com",
                                  "one-try.example.com"])
def test_without_retries_the_refused_endpoint_answers_502(cluster, host):
    # round robin over two endpoints: every worker alternates, so ten
    # requests meet both
    outcomes = [cluster.outcome(host, "/") for _ in range(10)]
    assert set(outcomes) == {"service:api", "502"}, outcomes


def test_upstream_vhost(cluster):
    r = cluster.request("vhost.example.com", "/")
    assert r.outcome() == "service:api"
    assert r.json["host"] == "internal.api.local:8080"
    assert r.echoed_header("X-Forwarded-Host") == "vhost.example.com"
    # other routes send the client's Host
    r = cluster.request("shop.example.com", "/api/items")
    assert r.json["host"] == "shop.example.com"


def held_answer(cluster, host, token):
    """The body of a request the api pod holds after its first line: the
    pod is released as soon as that line reaches the client, so an
    unbuffered route ends "released" and a buffered one, which passes
    nothing on before the pod has finished, "timedout"."""
    pod = next(s for s in cluster.backends.servers if s.service == "api")
    with socket.create_connection(("127.0.0.1", cluster.http_port),
                                  timeout=10) as sock:
        sock.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nX-Echo-Hold: %s\r\n"
                      "Connection: close\r\n\r\n" % (host, token)).encode())
        data = b""
        while b"\r\n\r\nfirst\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        pod.release(token)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return body


def test_proxy_buffering(cluster):
    # upload.example.com has proxy-buffering "on"; the default is off
    assert held_answer(cluster, "vhost.example.com", "unbuffered") == \
        b"first\nreleased\n"
    assert held_answer(cluster, "upload.example.com", "buffered") == \
        b"first\ntimedout\n"
