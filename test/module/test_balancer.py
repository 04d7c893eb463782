"""shmingress_balancer: round robin over a backend's endpoints, positions
that survive table swaps, upstream keepalive, and retries on endpoints
that refuse connections."""

import socket

from conftest import EchoServer, dead_endpoint, endpoint


class EchoServer6(EchoServer):
    address_family = socket.AF_INET6


def spec(endpoints, service="svc"):
    return """
        backend x default/%s:80 %s
        route a.example.com Prefix / x default/ing
    """ % (service, " ".join(endpoints))


def pod_of(nginx):
    r = nginx.request("/", host="a.example.com")
    assert r.status == 200, r.text
    return r.json()["pod"]


def upstream_vars(line):
    """$upstream_addr and $upstream_status of an upstreaminfo log line,
    as lists (one item per try)."""
    groups, current = [], []
    for token in line.rsplit("] ", 1)[1].split(" "):
        current.append(token.rstrip(","))
        if not token.endswith(","):
            groups.append(current)
            current = []
    addrs, _length, _time, statuses, _request_id = groups
    return addrs, statuses


def test_round_robin_alternates_between_endpoints(nginx, backends):
    one, two = backends("svc"), backends("svc")
    nginx.publish(spec([endpoint(one), endpoint(two)]))

    pods = [pod_of(nginx) for _ in range(40)]
    assert pods.count(one.pod) == pods.count(two.pod) == 20
    assert all(x != y for x, y in zip(pods, pods[1:]))


def test_round_robin_position_survives_table_swaps(nginx, backends):
    one, two, three = backends("svc"), backends("svc"), backends("svc")
    eps = [endpoint(one), endpoint(two), endpoint(three)]
    pods = []
    for _ in range(9):
        nginx.publish(spec(eps))
        pods.append(pod_of(nginx))

    assert pods[:3] * 3 == pods
    assert set(pods[:3]) == {one.pod, two.pod, three.pod}


def test_upstream_connections_are_kept_alive(nginx, backends):
    one = backends("svc")
    nginx.publish(spec([endpoint(one)]))

    for _ in range(100):
        assert pod_of(nginx) == one.pod

    stats = one.stats()
    assert stats["requests"] == 100
    assert stats["connections"] <= 2, stats


def test_refused_endpoint_is_skipped_by_retrying(nginx, backends):
    live = backends("svc")
    dead = dead_endpoint()
    nginx.publish(spec([dead, endpoint(live)]))

    for _ in range(10):
        assert pod_of(nginx) == live.pod

    tries = [upstream_vars(x) for x in nginx.access_log()]
    assert all(addrs[-1] == endpoint(live) for addrs, _ in tries)
    retried = [t for t in tries if len(t[0]) == 2]
    assert retried
    assert all(t == ([dead, endpoint(live)], ["502", "200"]) for t in retried)


def test_every_endpoint_refusing_is_502_after_each_tried_once(nginx):
    dead = [dead_endpoint() for _ in range(2)]
    nginx.publish(spec(dead))

    r = nginx.request("/", host="a.example.com")
    assert r.status == 502

    addrs, statuses = upstream_vars(nginx.access_log()[-1])
    assert sorted(addrs) == sorted(dead)
    assert statuses == ["502", "502"]


def test_tries_are_capped_by_proxy_next_upstream_tries(nginx):
    dead = [dead_endpoint() for _ in range(6)]
    nginx.publish(spec(dead))

    r = nginx.request("/", host="a.example.com")
    assert r.status == 502
    addrs, statuses = upstream_vars(nginx.access_log()[-1])
    assert len(set(addrs)) == 3
    assert statuses == ["502"] * 3


def test_ipv6_endpoints(nginx, backends):
    six = EchoServer6("::1", 0, "svc").start()
    try:
        nginx.publish(spec(["[::1]:%d" % six.port]))
        assert pod_of(nginx) == six.pod
        addrs, _ = upstream_vars(nginx.access_log()[-1])
        assert addrs == ["[::1]:%d" % six.port]
    finally:
        six.stop()
