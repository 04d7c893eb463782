"""Per-route upstream settings from route policies: proxy timeouts,
proxy-body-size (Content-Length and chunked), proxy-next-upstream with
its tries, and upstream-vhost; routes without them keep the template's
values."""

import http.client
import time

from conftest import dead_endpoint, endpoint


def spec(backend_eps, policy, extra=""):
    return """
        backend a default/svc-a:80 %s
        policy p %s
        %s
        route a.example.com Prefix / a default/tuned policy=p
        route b.example.com Prefix / a default/plain
    """ % (" ".join(backend_eps), policy, extra)


def post(nginx, host, body, chunked=False):
    conn = http.client.HTTPConnection("127.0.0.1", nginx.http_port,
                                      timeout=30)
    try:
        conn.putrequest("POST", "/", skip_host=True,
                        skip_accept_encoding=True)
        conn.putheader("Host", host)
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for i in range(0, len(body), 64):
                part = body[i:i + 64]
                conn.send(b"%x\r\n%s\r\n" % (len(part), part))
            conn.send(b"0\r\n\r\n")
        else:
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders()
            conn.send(body)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def test_read_timeout_is_per_route(nginx, backends):
    a = backends("svc-a")
    nginx.publish(spec([endpoint(a)], "read-timeout=500"))
    slow = {"X-Echo-Sleep": "1.5"}

    start = time.monotonic()
    r = nginx.request("/", host="a.example.com", headers=slow)
    took = time.monotonic() - start
    assert r.status == 504
    assert took < 1.4, took
    assert "upstream timed out" in nginx.error_log()

    # the route without a policy keeps the template's 60 s
    assert nginx.request("/", host="b.example.com",
                         headers=slow).status == 200


def test_policy_without_timeouts_keeps_the_defaults(nginx, backends):
    a = backends("svc-a")
    nginx.publish(spec([endpoint(a)], "x-forwarded-prefix=/x"))

    r = nginx.request("/", host="a.example.com",
                      headers={"X-Echo-Sleep": "1"})
    assert r.status == 200


def test_body_size_by_content_length(nginx, backends):
    a = backends("svc-a")
    nginx.publish(spec([endpoint(a)], "body-size=100",
                       "config body-size=1000"))

    assert post(nginx, "a.example.com", b"x" * 100) == 200
    assert post(nginx, "a.example.com", b"x" * 101) == 413
    assert "larger than the 100 of route default/tuned" in nginx.error_log()

    # a route without a policy has the CONFIG limit
    assert post(nginx, "b.example.com", b"x" * 1000) == 200
    assert post(nginx, "b.example.com", b"x" * 1001) == 413


def test_body_size_of_chunked_bodies(nginx, backends):
    a = backends("svc-a")
    nginx.publish(spec([endpoint(a)], "body-size=100"))

    assert post(nginx, "a.example.com", b"x" * 100, chunked=True) == 200
    assert post(nginx, "a.example.com", b"x" * 300, chunked=True) == 413


def test_body_size_zero_is_unlimited(nginx, backends):
    a = backends("svc-a")
    nginx.publish(spec([endpoint(a)], "body-size=0"))

    assert post(nginx, "a.example.com", b"x" * (2 << 20)) == 200
    # the template's default elsewhere: 1m
    assert post(nginx, "b.example.com", b"x" * (2 << 20)) == 413


def test_next_upstream_off_is_not_retried(nginx, backends):
    a = backends("svc-a")
    eps = [dead_endpoint(), endpoint(a)]
    nginx.publish(spec(eps, "next-upstream=off"))

    tuned = [nginx.request("/", host="a.example.com").status
             for _ in range(6)]
    assert sorted(set(tuned)) == [200, 502], tuned

    # the default (error timeout) retries the refusing endpoint
    plain = [nginx.request("/", host="b.example.com").status
             for _ in range(6)]
    assert plain == [200] * 6, plain


def test_next_upstream_tries(nginx, backends):
    a = backends("svc-a")
    eps = [dead_endpoint(), dead_endpoint(), endpoint(a)]
    nginx.publish(spec(eps, "tries=1"))

    tuned = [nginx.request("/", host="a.example.com").status
             for _ in range(6)]
    assert tuned.count(502) == 4, tuned
    plain = [nginx.request("/", host="b.example.com").status
             for _ in range(6)]
    assert plain == [200] * 6, plain


def test_upstream_vhost(nginx, backends):
    a = backends("svc-a")
    nginx.publish(spec([endpoint(a)], "vhost=internal.example:8080"))

    r = nginx.request("/", host="a.example.com")
    assert r.json()["host"] == "internal.example:8080"
    assert r.json()["headers"]["X-Forwarded-Host"] == ["a.example.com"]
    assert nginx.request("/", host="b.example.com").json()["host"] == \
        "b.example.com"
