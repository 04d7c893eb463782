"""The client address and the ConfigMap's source ranges, read from the
table's CONFIG per request: block-cidrs before routing, the global
allowlist and denylist for routes without a policy, a fail-closed CONFIG,
and the forwarded client address (use-forwarded-headers, enable-real-ip,
proxy-real-ip-cidr, forwarded-for-header, compute-full-forwarded-for)
seen by source ranges, X-Real-IP, X-Forwarded-For and the access log."""

import http.client
import json
import re
import socket

from conftest import Nginx, endpoint

DEFAULT_FLAGS = 0x23      # hsts, includeSubDomains, ssl-redirect
USE_FORWARDED = 0x08
COMPUTE_FULL = 0x10
ENABLE_REAL_IP = 0x100
ACCESS_DENIED = 0x200


def table(backend, config="", policy="allow=0.0.0.0/0"):
    return """
        backend a default/svc-a:80 %s
        policy p %s
        route a.example.com Prefix / a default/plain
        route b.example.com Prefix / a default/ranged policy=p
        config %s
    """ % (endpoint(backend), policy, config)


def status(nginx, host="a.example.com", headers=None):
    return nginx.request("/", host=host, headers=headers).status


def echoed(nginx, headers=None, host="a.example.com"):
    r = nginx.request("/", host=host, headers=headers)
    assert r.status == 200, r.text
    return r.json()["headers"]


def test_block_cidrs_answer_403_before_routing(nginx, backends):
    a = backends("svc-a")
    nginx.publish(table(a, "block=127.0.0.0/8"))
    assert status(nginx) == 403
    assert status(nginx, host="b.example.com") == 403
    assert status(nginx, host="unknown.example.com") == 403
    assert "client 127.0.0.1 blocked by block-cidrs" in nginx.error_log()

    nginx.publish(table(a, "block=10.0.0.0/8,::1"))
    assert status(nginx) == 200


def test_global_ranges_for_routes_without_a_policy(nginx, backends):
    a = backends("svc-a")
    nginx.publish(table(a, "allow=10.0.0.0/8"))
    assert status(nginx) == 403
    # a policy carries its own (resolved) ranges
    assert status(nginx, host="b.example.com") == 200

    nginx.publish(table(a, "allow=127.0.0.0/8 deny=127.0.0.1"))
    assert status(nginx) == 403
    nginx.publish(table(a, "deny=127.0.0.2"))
    assert status(nginx) == 200


def test_unparsable_global_ranges_deny_everyone(nginx, backends):
    a = backends("svc-a")
    nginx.publish(table(a, "flags=%#x" % (DEFAULT_FLAGS | ACCESS_DENIED)))
    assert status(nginx) == 403
    assert status(nginx, host="b.example.com") == 403
    assert "a source range of the ConfigMap did not parse" \
        in nginx.error_log()


def test_forwarded_client_from_a_trusted_peer(nginx, backends):
    a = backends("svc-a")
    flags = "flags=%#x" % (DEFAULT_FLAGS | USE_FORWARDED)
    nginx.publish(table(a, flags + " real-ip=127.0.0.0/8"))
    h = echoed(nginx, {"X-Forwarded-For": "203.0.113.9"})
    assert h["X-Real-Ip"] == ["203.0.113.9"]
    assert h["X-Forwarded-For"] == ["203.0.113.9"]
    assert nginx.access_log()[-1].startswith("203.0.113.9 - ")

    # the forwarded address is what block-cidrs and the ranges see
    nginx.publish(table(a, flags + " real-ip=127.0.0.0/8 "
                        "block=203.0.113.0/24"))
    assert status(nginx, headers={"X-Forwarded-For": "203.0.113.9"}) == 403
    assert status(nginx, headers={"X-Forwarded-For": "198.51.100.1"}) == 200
    assert status(nginx) == 200
    nginx.publish(table(a, flags + " real-ip=127.0.0.0/8 "
                        "allow=198.51.100.0/24"))
    assert status(nginx, headers={"X-Forwarded-For": "198.51.100.1"}) == 200
    assert status(nginx, headers={"X-Forwarded-For": "203.0.113.9"}) == 403


def test_trusted_hops_are_skipped_from_the_end(nginx, backends):
    a = backends("svc-a")
    flags = "flags=%#x" % (DEFAULT_FLAGS | USE_FORWARDED)
    chain = {"X-Forwarded-For": "192.0.2.1, 198.51.100.7, 10.0.0.5"}

    nginx.publish(table(a, flags + " real-ip=127.0.0.0/8,10.0.0.0/8"))
    assert echoed(nginx, chain)["X-Real-Ip"] == ["198.51.100.7"]

    nginx.publish(table(a, flags + " real-ip=127.0.0.0/8"))
    assert echoed(nginx, chain)["X-Real-Ip"] == ["10.0.0.5"]

    # garbage before a trusted hop: the last address that parsed
    nginx.publish(table(a, flags + " real-ip=127.0.0.0/8,10.0.0.0/8"))
    h = echoed(nginx, {"X-Forwarded-For": "not-an-ip, 10.0.0.5"})
    assert h["X-Real-Ip"] == ["10.0.0.5"]


def test_untrusted_peer_or_option_off_keeps_the_peer(nginx, backends):
    a = backends("svc-a")
    spoof = {"X-Forwarded-For": "203.0.113.9"}

    nginx.publish(table(a, "flags=%#x real-ip=10.0.0.0/8"
                        % (DEFAULT_FLAGS | USE_FORWARDED)))
    assert echoed(nginx, spoof)["X-Real-Ip"] == ["127.0.0.1"]

    nginx.publish(table(a, "real-ip=127.0.0.0/8"))
    h = echoed(nginx, spoof)
    assert h["X-Real-Ip"] == ["127.0.0.1"]
    assert h["X-Forwarded-For"] == ["127.0.0.1"]


def test_enable_real_ip_with_its_own_header(nginx, backends):
    a = backends("svc-a")
    nginx.publish(table(a, "flags=%#x real-ip=127.0.0.1 "
                        "forwarded-for-header=X-Client-IP"
                        % (DEFAULT_FLAGS | ENABLE_REAL_IP)))
    h = echoed(nginx, {"X-Client-IP": "2001:db8::7",
                       "X-Forwarded-For": "203.0.113.9"})
    assert h["X-Real-Ip"] == ["2001:db8::7"]


def test_compute_full_forwarded_for(nginx, backends):
    a = backends("svc-a")
    nginx.publish(table(a, "flags=%#x real-ip=127.0.0.0/8"
                        % (DEFAULT_FLAGS | USE_FORWARDED | COMPUTE_FULL)))
    h = echoed(nginx, {"X-Forwarded-For": "192.0.2.1, 203.0.113.9"})
    assert h["X-Forwarded-For"] == ["192.0.2.1, 203.0.113.9, 127.0.0.1"]
    assert h["X-Real-Ip"] == ["203.0.113.9"]
    assert echoed(nginx)["X-Forwarded-For"] == ["127.0.0.1"]


def test_the_peer_is_restored_between_keepalive_requests(nginx, backends):
    a = backends("svc-a")
    nginx.publish(table(a, "flags=%#x real-ip=127.0.0.0/8"
                        % (DEFAULT_FLAGS | USE_FORWARDED)))
    conn = http.client.HTTPConnection("127.0.0.1", nginx.http_port,
                                      timeout=30)
    try:
        first = nginx.request("/", host="a.example.com", conn=conn,
                              headers={"X-Forwarded-For": "203.0.113.9"})
        second = nginx.request("/", host="a.example.com", conn=conn)
    finally:
        conn.close()
    assert first.json()["headers"]["X-Real-Ip"] == ["203.0.113.9"]
    assert second.json()["headers"]["X-Real-Ip"] == ["127.0.0.1"]


def test_config_proxy_settings_for_routes_without_a_policy(nginx, backends):
    a = backends("svc-a")
    nginx.publish(table(a, "read-timeout=500"))
    slow = {"X-Echo-Sleep": "1.5"}
    assert status(nginx, headers=slow) == 504
    assert "upstream timed out" in nginx.error_log()


class ProxyProtocolNginx(Nginx):
    """The template's traffic listeners with "proxy_protocol", as
    scripts/run-local --proxy-protocol renders them."""

    def render(self):
        path = super().render()
        with open(path) as f:
            conf = f.read()
        conf = re.sub(r"(?m)^(\s*listen .* default_server[^;]*);",
                      r"\1 proxy_protocol;", conf)
        with open(path, "w") as f:
            f.write(conf)
        return path


def proxied_get(server, source, headers=""):
    with socket.create_connection(("127.0.0.1", server.http_port),
                                  timeout=30) as s:
        s.sendall(("PROXY TCP4 %s 127.0.0.1 40000 80\r\n"
                   "GET / HTTP/1.1\r\nHost: a.example.com\r\n%s"
                   "Connection: close\r\n\r\n" % (source, headers)).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_proxy_protocol_source_is_the_client(tmp_path, backends):
    a = backends("svc-a")
    server = ProxyProtocolNginx(tmp_path / "state").start()
    try:
        server.publish(table(a, "real-ip=127.0.0.0/8"))
        code, body = proxied_get(server, "203.0.113.9",
                                 "X-Forwarded-For: 198.51.100.1\r\n")
        assert code == 200
        h = json.loads(body)["headers"]
        assert h["X-Real-Ip"] == ["203.0.113.9"]
        assert h["X-Forwarded-For"] == ["203.0.113.9"]

        server.publish(table(a, "real-ip=127.0.0.0/8 block=203.0.113.0/24"))
        assert proxied_get(server, "203.0.113.9")[0] == 403
        assert proxied_get(server, "192.0.2.1")[0] == 200

        # an untrusted peer's PROXY header names no one
        server.publish(table(a, "real-ip=10.0.0.0/8 block=203.0.113.0/24"))
        code, body = proxied_get(server, "203.0.113.9")
        assert code == 200
        assert json.loads(body)["headers"]["X-Real-Ip"] == ["127.0.0.1"]
    finally:
        server.stop()


def test_rate_limits_count_the_forwarded_client(nginx, backends):
    a = backends("svc-a")
    # 1 r/min with burst 1 x 1: two requests per client, then 503
    nginx.publish(table(a, "flags=%#x real-ip=127.0.0.0/8"
                        % (DEFAULT_FLAGS | USE_FORWARDED),
                        policy="limit-rpm=1 burst-multiplier=1"))
    first = {"X-Forwarded-For": "198.51.100.1"}
    second = {"X-Forwarded-For": "198.51.100.2"}
    assert [status(nginx, host="b.example.com", headers=first)
            for _ in range(3)] == [200, 200, 503]
    assert status(nginx, host="b.example.com", headers=second) == 200
