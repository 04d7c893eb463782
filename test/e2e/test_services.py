"""From an Ingress backend to endpoints: Service port by name and by
number, several EndpointSlices joined, only ready endpoints used, 503 for
a missing Service, a missing port or no ready endpoint, upstream
keep-alive, and --default-backend-service for everything unmatched.
"""

import pytest

import harness as h

P, E = "Prefix", "Exact"


def two_port_objects(backends):
    """Service "multi": port http/80 and admin/81 on one pod, i.e. one
    endpoint address with two ports in one EndpointSlice."""
    http = backends.listen("multi", "multi-http-port")
    admin = backends.listen("multi", "multi-admin-port")
    svc = h.service("multi", ports=(("http", 80), ("admin", 81)))
    eps = h.endpoint_slice("multi", "multi-1", [("127.0.0.1", h.READY)],
                           http.port, "http")
    eps["ports"].append({"name": "admin", "port": admin.port,
                         "protocol": "TCP"})
    return [svc, eps]


def joined_objects(backends):
    """Service "joined": two EndpointSlices with one pod each."""
    a = backends.listen("joined", "joined-a")
    b = backends.listen("joined", "joined-b")
    return [h.service("joined"),
            h.endpoint_slice("joined", "joined-a", [("127.0.0.1", h.READY)],
                             a.port),
            h.endpoint_slice("joined", "joined-b", [("127.0.0.1", h.READY)],
                             b.port)]


def services_objects(c):
    b = c.backends
    c.partly = b.add("partly-ready", pods=1,
                     not_ready=[h.NOT_READY, h.TERMINATING])
    c.keepalive = b.add("keepalive")
    no_conditions = b.add("no-conditions")
    nc_svc, nc_slice = no_conditions.objects()
    del nc_slice["endpoints"][0]["conditions"]
    all_down = b.add("all-down", pods=0, not_ready=[h.NOT_READY])
    objects = [h.ingress_class(), nc_svc, nc_slice]
    objects += b.add("named").objects() + b.add("numbered").objects()
    objects += c.partly.objects() + c.keepalive.objects()
    objects += all_down.objects()
    objects += two_port_objects(b) + joined_objects(b)
    objects.append(h.service("empty"))
    routes = [
        ("/named", "named", "http"),
        ("/numbered", "numbered", 80),
        ("/multi-http", "multi", 80),
        ("/multi-admin-by-name", "multi", "admin"),
        ("/multi-admin-by-number", "multi", 81),
        ("/joined", "joined", 80),
        ("/partly-ready", "partly-ready", 80),
        ("/no-conditions", "no-conditions", 80),
        ("/keepalive", "keepalive", 80),
        ("/ghost", "ghost", 80),
        ("/empty", "empty", 80),
        ("/all-down", "all-down", 80),
        ("/missing-port-name", "named", "nope"),
        ("/missing-port-number", "named", 8080),
    ]
    objects.append(h.ingress("services", [h.rule("svc.test", *[
        h.path(p, P, svc, port) for p, svc, port in routes])]))
    return objects


@pytest.fixture(scope="module")
def cluster(module_clusters):
    c = module_clusters()
    return h.start_with(c, {"services.yaml": services_objects(c)},
                        ready=("svc.test", "/named", "service:named"))


@pytest.mark.parametrize("target,pod", [
    ("/named", "named-1"),
    ("/numbered", "numbered-1"),
    ("/multi-http", "multi-http-port"),
    ("/multi-admin-by-name", "multi-admin-port"),
    ("/multi-admin-by-number", "multi-admin-port"),
    ("/no-conditions", "no-conditions-1"),
])
def test_service_port_resolution(cluster, target, pod):
    r = h.eventually(lambda: cluster.request("svc.test", target),
                     lambda r: r.status == 200 and r.pod == pod,
                     "svc.test%s answered by pod %s" % (target, pod))
    assert r.json["path"] == target


@pytest.mark.parametrize("target", ["/ghost", "/empty", "/all-down",
                                    "/missing-port-name",
                                    "/missing-port-number"])
def test_unavailable_backend_is_503(cluster, target):
    cluster.expect("svc.test", target, "503")


def test_endpoint_slices_are_joined(cluster):
    seen = h.eventually(
        lambda: {cluster.request("svc.test", "/joined").pod
                 for _ in range(20)},
        lambda pods: pods == {"joined-a", "joined-b"},
        "both slices' pods answer", consecutive=1)
    assert seen == {"joined-a", "joined-b"}


def test_not_ready_endpoints_never_get_traffic(cluster):
    cluster.expect("svc.test", "/partly-ready", "service:partly-ready")
    pods = {cluster.request("svc.test", "/partly-ready").pod
            for _ in range(60)}
    assert pods == {"partly-ready-1"}
    for server in cluster.partly.servers[1:]:
        assert server.stats()["connections"] == 0, server.pod


def test_upstream_connections_are_kept_alive(cluster):
    cluster.expect("svc.test", "/keepalive", "service:keepalive")
    before = cluster.keepalive.connections()
    for _ in range(100):
        assert cluster.outcome("svc.test", "/keepalive") == \
            "service:keepalive"
    opened = cluster.keepalive.connections() - before
    assert opened <= 10, "100 requests opened %d upstream connections" \
        % opened


def test_default_backend_service_flag(clusters):
    c = clusters(["--default-backend-service", "fallback-ns/fallback"])
    objects = [h.ingress_class()]
    objects += c.backends.add("fallback", namespace="fallback-ns").objects()
    objects += c.backends.add("known").objects()
    objects.append(h.ingress("known", [h.rule(
        "known.test", h.path("/x", E, "known"))]))
    h.start_with(c, {"objects.yaml": objects},
                 ready=("known.test", "/x", "service:known"))
    r = c.expect("unknown.test", "/anything", "service:fallback")
    assert r.json["namespace"] == "fallback-ns"
    c.expect("known.test", "/y", "service:fallback")
