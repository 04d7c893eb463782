"""Name-based virtual hosting with a host-less rule (ingress-semantics
§2.6): rules without a host serve every request whose Host matches no
host rule -- other names, a bare IP, no Host header at all -- while a
host that has rules never falls through to them.  An Ingress's
defaultBackend catches the paths its own hosts do not match.
"""

import pytest

import harness as h

P, E = "Prefix", "Exact"


@pytest.fixture(scope="module")
def cluster(module_clusters):
    c = module_clusters()
    objects = [h.ingress_class()]
    for name in ("service1", "service2", "service3", "only-exact",
                 "dflt-x", "dflt-default"):
        objects += c.backends.add(name).objects()
    objects.append(h.ingress("virtual-hosting", [
        h.rule("first.bar.com", h.path("/", P, "service1")),
        h.rule("second.bar.com", h.path("/", P, "service2")),
        h.rule(None, h.path("/", P, "service3"))],
        created="2024-01-01T00:00:00Z"))
    objects.append(h.ingress("only-exact", [
        h.rule("nofall.bar.com", h.path("/only", E, "only-exact"))]))
    # with-default is newer than virtual-hosting; its defaultBackend
    # serves its own host's unmatched paths, while the catch-all bucket
    # keeps virtual-hosting's "/" rule.
    objects.append(h.ingress("with-default", [
        h.rule("dflt.bar.com", h.path("/x", E, "dflt-x"))],
        default_backend=h.backend("dflt-default"),
        created="2024-06-01T00:00:00Z"))
    return h.start_with(c, {"vhosts.yaml": objects},
                        ready=("first.bar.com", "/", "service:service1"))


VHOST_CASES = [
    ("first", "first.bar.com", "/", "service1"),
    ("second", "second.bar.com", "/x/y", "service2"),
    ("other-name", "third.bar.com", "/", "service3"),
    ("unrelated", "www.example.org", "/deep/path", "service3"),
    ("bare-ip", "127.0.0.1", "/", "service3"),
    ("bare-ip-port", "127.0.0.1:8080", "/", "service3"),
    ("no-fall-through", "nofall.bar.com", "/other", None),
    ("exact-on-host", "nofall.bar.com", "/only", "only-exact"),
    ("ingress-default-backend", "dflt.bar.com", "/y", "dflt-default"),
    ("ingress-path", "dflt.bar.com", "/x", "dflt-x"),
]


@pytest.mark.parametrize("case,host,target,svc", VHOST_CASES,
                         ids=[c[0] for c in VHOST_CASES])
def test_virtual_hosts(cluster, case, host, target, svc):
    cluster.expect(host, target, "service:" + svc if svc else "404")


def test_request_without_host_header_goes_to_host_less_rules(cluster):
    r = h.eventually(
        lambda: h.raw_request(cluster.http_port,
                              b"GET /no-host HTTP/1.0\r\n\r\n"),
        lambda r: r.outcome() == "service:service3",
        "HTTP/1.0 without Host -> service3")
    assert r.json["path"] == "/no-host"
