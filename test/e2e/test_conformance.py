"""The plain-HTTP scenarios of kubernetes-sigs/ingress-controller-conformance
(ingress-semantics §5.4), with the suite's own objects: default_backend
DB1-DB6, host_rules HR2-HR6, ingress_class IC1, load_balancing LB1 and
path_rules PR1-PR16.  HR1 needs TLS termination and is not part of this
suite; HR2's host has a tls[] entry, so its plain-HTTP request is
redirected to HTTPS and followed there, as the conformance client does.  Like the conformance client, every request uses a fresh
connection and the Go client's User-Agent; backends are identified by the
echo's `service` and `pod` fields.
"""

import http.client
import socket
import ssl

import pytest

import harness as h

UA = "Go-http-client/1.1"
P, E = "Prefix", "Exact"


def conformance_rules_objects(backends, workdir):
    objects = [h.ingress_class(),
               h.tls_secret("conformance-tls", "foo.bar.com", workdir)]
    # Numbered backends get an unnamed Service port 8080; the one reached
    # by port.name gets a Service port named "http" (as the suite does).
    for name in ("wildcard-foo-com", "ingress-class-prefix", "foo-exact",
                 "foo-prefix", "aaa-slash-bbb-prefix", "aaa-prefix",
                 "aaa-slash-bbb-slash-prefix", "foo-slash-exact"):
        objects += backends.add(name, port_name="", service_port=8080) \
            .objects()
    objects += backends.add("foo-bar-com", port_name="http",
                            service_port=8080).objects()
    host_rules = h.ingress("host-rules", [
        h.rule("*.foo.com", h.path("/", P, "wildcard-foo-com", 8080)),
        h.rule("foo.bar.com", h.path("/", P, "foo-bar-com", "http"))])
    host_rules["spec"]["tls"] = [{"hosts": ["foo.bar.com"],
                                  "secretName": "conformance-tls"}]
    objects.append(host_rules)
    objects.append(h.ingress("test-ingress-class", [
        h.rule("ingress-class",
               h.path("/", P, "ingress-class-prefix", 8080))],
        class_name="some-invalid-class-name"))
    objects.append(h.ingress("path-rules", [
        h.rule("exact-path-rules", h.path("/foo", E, "foo-exact", 8080)),
        h.rule("prefix-path-rules",
               h.path("/foo", P, "foo-prefix", 8080),
               h.path("/aaa/bbb", P, "aaa-slash-bbb-prefix", 8080),
               h.path("/aaa", P, "aaa-prefix", 8080)),
        h.rule("mixed-path-rules",
               h.path("/foo", P, "foo-prefix", 8080),
               h.path("/foo", E, "foo-exact", 8080)),
        h.rule("trailing-slash-path-rules",
               h.path("/aaa/bbb/", P, "aaa-slash-bbb-slash-prefix", 8080),
               h.path("/foo/", E, "foo-slash-exact", 8080))]))
    return objects


@pytest.fixture(scope="module")
def rules_cluster(module_clusters):
    c = module_clusters()
    return h.start_with(
        c, {"conformance.yaml": conformance_rules_objects(c.backends,
                                                          c.root)},
        ready=("exact-path-rules", "/foo", "service:foo-exact"))


# Hosts of the host-rules Ingress's tls[]: plain HTTP redirects to HTTPS.
TLS_HOSTS = ("foo.bar.com",)

HOST_RULE_CASES = [
    ("HR2", "foo.bar.com", "foo-bar-com"),
    ("HR3", "subdomain.bar.com", None),
    ("HR4", "bar.foo.com", "wildcard-foo-com"),
    ("HR5", "baz.bar.foo.com", None),
    ("HR6", "foo.com", None),
]


@pytest.mark.parametrize("case,host,svc", HOST_RULE_CASES,
                         ids=[c[0] for c in HOST_RULE_CASES])
def test_host_rules(rules_cluster, case, host, svc):
    if host in TLS_HOSTS:
        r = follow_to_https(rules_cluster, host)
        assert r.outcome() == "service:" + svc
    else:
        r = rules_cluster.expect(host, "/",
                                 "service:" + svc if svc else "404",
                                 headers=[("User-Agent", UA)])
    if svc:
        assert r.json["host"] == host


def follow_to_https(cluster, host):
    """As the conformance client: plain HTTP to a host with a tls[] entry
    answers 308 to https://host/, followed on the same ingress address
    over TLS (SNI and Host the redirect's host)."""
    r = cluster.expect(host, "/", "308", headers=[("User-Agent", UA)])
    assert r.header("Location") == "https://%s/" % host
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", cluster.https_port,
                                       timeout=10, context=ctx)
    try:
        conn.sock = ctx.wrap_socket(
            socket.create_connection(("127.0.0.1", cluster.https_port),
                                     timeout=10),
            server_hostname=host)
        conn.putrequest("GET", "/", skip_host=True,
                        skip_accept_encoding=True)
        conn.putheader("Host", host)
        conn.putheader("User-Agent", UA)
        conn.endheaders()
        resp = conn.getresponse()
        return h.Response(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


PATH_RULE_CASES = [
    ("PR1", "exact-path-rules", "/foo", "foo-exact"),
    ("PR2", "exact-path-rules", "/foo/", None),
    ("PR3", "exact-path-rules", "/FOO", None),
    ("PR4", "exact-path-rules", "/bar", None),
    ("PR5", "prefix-path-rules", "/foo", "foo-prefix"),
    ("PR6", "prefix-path-rules", "/foo/", "foo-prefix"),
    ("PR7", "prefix-path-rules", "/FOO", None),
    ("PR8", "prefix-path-rules", "/aaa/bbb", "aaa-slash-bbb-prefix"),
    ("PR9", "prefix-path-rules", "/aaa/bbb/ccc", "aaa-slash-bbb-prefix"),
    ("PR10", "prefix-path-rules", "/aaa/ccc", "aaa-prefix"),
    ("PR11", "prefix-path-rules", "/aaaccc", None),
    ("PR12", "prefix-path-rules", "/foo/", "foo-prefix"),
    ("PR13", "mixed-path-rules", "/foo", "foo-exact"),
    ("PR14", "trailing-slash-path-rules", "/aaa/bbb",
     "aaa-slash-bbb-slash-prefix"),
    ("PR15", "trailing-slash-path-rules", "/aaa/bbb/",
     "aaa-slash-bbb-slash-prefix"),
    ("PR16", "trailing-slash-path-rules", "/foo", None),
]


@pytest.mark.parametrize("case,host,target,svc", PATH_RULE_CASES,
                         ids=[c[0] for c in PATH_RULE_CASES])
def test_path_rules(rules_cluster, case, host, target, svc):
    rules_cluster.expect(host, target, "service:" + svc if svc else "404",
                         headers=[("User-Agent", UA)])


def test_IC1_unknown_ingress_class_is_not_served(rules_cluster):
    rules_cluster.expect("ingress-class", "/", "404")
    assert rules_cluster.backends.connections("ingress-class-prefix") == 0


# ------------------------------------------------ default backend + LB1

PODS = 10


@pytest.fixture(scope="module")
def default_backend_cluster(module_clusters):
    c = module_clusters()
    echo_service = c.backends.add("echo-service", pods=PODS, port_name="",
                                  service_port=8080)
    svc, _ = echo_service.objects()
    first_pod_only = h.endpoint_slice(
        "echo-service", "echo-service-1",
        [(echo_service.servers[0].host, h.READY)], echo_service.port,
        port_name="")
    c.echo_service = echo_service
    return h.start_with(c, {
        "class.yaml": [h.ingress_class()],
        "default-backend.yaml": [
            svc, h.ingress("default-backend",
                           default_backend=h.backend("echo-service", 8080))],
        "echo-service-endpoints.yaml": [first_pod_only],
    }, ready=("my-host", "/", "service:echo-service"))


DEFAULT_BACKEND_CASES = [
    ("DB1", "GET", "my-host", "/"),
    ("DB2", "GET", "my-host", "/sub-path"),
    ("DB3", "POST", "some-host", "/"),
    ("DB4", "PUT", "127.0.0.1", "/resource"),
    ("DB5", "DELETE", "some-host", "/resource"),
    ("DB6", "PATCH", "my-host", "/resource"),
]


@pytest.mark.parametrize("case,method,host,target", DEFAULT_BACKEND_CASES,
                         ids=[c[0] for c in DEFAULT_BACKEND_CASES])
def test_default_backend(default_backend_cluster, case, method, host,
                         target):
    r = default_backend_cluster.expect(host, target, "service:echo-service",
                                       method=method,
                                       headers=[("User-Agent", UA)])
    assert r.version == "HTTP/1.1"
    for name in ("Content-Length", "Content-Type", "Date", "Server"):
        assert r.header(name), "response header %s missing" % name
    assert r.json["method"] == method
    assert r.json["path"] == target
    assert r.json["proto"] == "HTTP/1.1"
    assert r.echoed_header("User-Agent") == UA
    assert r.json["host"] == host


def test_LB1_requests_spread_over_all_ready_endpoints(
        default_backend_cluster):
    c = default_backend_cluster
    echo_service = c.echo_service
    # Scale 1 -> 10 by publishing the full EndpointSlice, like the
    # conformance scenario scales its Deployment after the Ingress exists.
    c.manifests.write("echo-service-endpoints.yaml",
                      [echo_service.objects()[1]])

    def pods_seen():
        pods, other = set(), []
        for _ in range(100):
            r = c.request("load-balancing", "/",
                          headers=[("User-Agent", UA)])
            if r.status == 200:
                pods.add(r.pod)
            else:
                other.append(r.status)
        return pods, other

    pods, other = h.eventually(pods_seen, lambda x: len(x[0]) == PODS,
                               "100 requests reach all %d pods" % PODS,
                               consecutive=1, deadline=20)
    assert pods == echo_service.pods()
    assert other == []
