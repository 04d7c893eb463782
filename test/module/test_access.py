"""Source ranges from route policies: allowlist, denylist (checked
first), IPv4 and IPv6 clients, and fail-closed policies that deny every
request."""

from conftest import endpoint
from test_limit import LimitNginx


def ranged(backend, policy):
    return """
        backend a default/svc-a:80 %s
        policy p %s
        route a.example.com Prefix / a default/ing policy=p
        route b.example.com Prefix / a default/other
    """ % (endpoint(backend), policy)


def status(nginx, host="a.example.com", path="/"):
    return nginx.request(path, host=host).status


def test_allowlist_admits_only_its_ranges(nginx, backends):
    a = backends("svc-a")
    nginx.publish(ranged(a, "allow=10.0.0.0/8,127.0.0.0/24"))
    assert status(nginx) == 200

    nginx.publish(ranged(a, "allow=10.0.0.0/8,::1/128"))
    resp = nginx.request("/", host="a.example.com")
    assert resp.status == 403
    assert "access forbidden by the source ranges of ingress default/ing" \
        in nginx.error_log()
    # the restriction is the route's only
    assert status(nginx, host="b.example.com") == 200


def test_denylist_refuses_its_ranges(nginx, backends):
    a = backends("svc-a")
    nginx.publish(ranged(a, "deny=127.0.0.1/32"))
    assert status(nginx) == 403
    nginx.publish(ranged(a, "deny=192.168.0.0/16,::1"))
    assert status(nginx) == 200


def test_deny_wins_over_allow(nginx, backends):
    a = backends("svc-a")
    nginx.publish(ranged(a, "allow=127.0.0.0/8 deny=127.0.0.1"))
    assert status(nginx) == 403
    nginx.publish(ranged(a, "allow=127.0.0.0/8 deny=127.0.0.2"))
    assert status(nginx) == 200


def test_denied_policy_answers_503(nginx, backends):
    a = backends("svc-a")
    nginx.publish(ranged(a, "denied allow=127.0.0.0/8"))
    assert status(nginx) == 503
    assert "route of ingress default/ing denied" in nginx.error_log()
    assert status(nginx, host="b.example.com") == 200


def test_ipv6_clients(tmp_path, backends):
    a = backends("svc-a")
    server = LimitNginx(tmp_path / "state").start()
    try:
        server.publish(ranged(a, "allow=::1/128"))
        assert server.request6("/", "a.example.com").status == 200
        assert status(server) == 403

        server.publish(ranged(a, "allow=::/0 deny=::1"))
        assert server.request6("/", "a.example.com").status == 403

        # an IPv4 range does not admit an IPv6 client
        server.publish(ranged(a, "allow=0.0.0.0/0"))
        assert server.request6("/", "a.example.com").status == 403
        assert status(server) == 200
    finally:
        server.stop()
