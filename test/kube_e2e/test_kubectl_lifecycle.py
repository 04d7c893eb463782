"""Objects created and changed with kubectl are served: the whole life of
a small application, with a client hammering one route that never
changes.  Every step is served correctly, nginx never reloads (same
master and worker PIDs) and the stable route never fails a request."""

import harness
from apie2e import CLASS, OTHER_CLASS, Client
from harness import endpoint_slice, ingress, path, rule

NS = "demo"


def web_slice(web, count):
    """The web Service's slice listing its first `count` pods."""
    return endpoint_slice("web", "web-1",
                          [(s.host, harness.READY) for s in web.servers[:count]],
                          web.port, namespace=NS)


def web_ingress(host="web.example.com"):
    return ingress("web", [rule(host, path("/", "Prefix", "web"))], NS)


def api_ingress(class_name=CLASS):
    return ingress("api", [rule("api.example.com",
                                path("/v1", "Prefix", "api"))], NS,
                   class_name=class_name)


def certificate(cluster, tag):
    """A fresh kubernetes.io/tls Secret "web-tls" for www.example.com."""
    workdir = cluster.root / ("cert-" + tag)
    workdir.mkdir()
    return harness.tls_secret("web-tls", "www.example.com", workdir, NS)


def pods_seen(cluster, host, count):
    return {cluster.request(host, "/").pod for _ in range(count)}


def test_kubectl_lifecycle(cluster):
    b = cluster.backends
    stable = b.add("stable", NS, pods=2)
    web = b.add("web", NS, pods=3)
    api = b.add("api", NS, pods=1)
    stable_ing = ingress("stable", [rule("stable.example.com",
                                         path("/", "Prefix", "stable"))], NS)
    cluster.kubectl("create", "-f", "-", objects=[
        harness.ingress_class(),
        harness.ingress_class(OTHER_CLASS, "other.example.com/controller"),
        *stable.objects(), web.objects()[0], web_slice(web, 2),
        *api.objects(), stable_ing, web_ingress(), api_ingress(),
        certificate(cluster, "first")])
    cluster.start()
    cluster.expect("stable.example.com", "/", "service:stable",
                   deadline=harness.START_DEADLINE)
    cluster.expect("web.example.com", "/", "service:web")
    cluster.expect("api.example.com", "/v1/users", "service:api")
    assert harness.eventually(lambda: pods_seen(cluster, "web.example.com",
                                                 20),
                              lambda pods: pods == {"web-1", "web-2"},
                              "web served by its two listed pods")

    master, workers = cluster.nginx_pid(), cluster.worker_pids()
    client = Client(cluster, "stable.example.com", "/anything",
                    "service:stable").start()
    try:
        # Scale up: the new pod answers.
        cluster.kubectl("replace", "-f", "-", objects=[web_slice(web, 3)])
        harness.eventually(lambda: cluster.request("web.example.com", "/"),
                           lambda r: r.pod == "web-3", "web-3 answers",
                           consecutive=1)
        # Scale down: the removed pods get nothing.
        cluster.kubectl("replace", "-f", "-", objects=[web_slice(web, 1)])
        harness.eventually(lambda: pods_seen(cluster, "web.example.com", 20),
                           lambda pods: pods == {"web-1"},
                           "only web-1 answers")

        # An Ingress edited, then deleted.
        cluster.kubectl("replace", "-f", "-",
                        objects=[web_ingress("www.example.com")])
        cluster.expect("www.example.com", "/", "service:web")
        cluster.expect("web.example.com", "/", "404")
        cluster.kubectl("delete", "ingress", "web", "-n", NS)
        cluster.expect("www.example.com", "/", "404")

        # A Service deleted (its route answers 503) and recreated.
        cluster.kubectl("delete", "service", "api", "-n", NS)
        cluster.expect("api.example.com", "/v1/users", "503")
        cluster.kubectl("create", "-f", "-", objects=[api.objects()[0]])
        cluster.expect("api.example.com", "/v1/users", "service:api")

        # The Ingress moved to another controller's class, and back.
        cluster.kubectl("replace", "-f", "-",
                        objects=[api_ingress(OTHER_CLASS)])
        cluster.expect("api.example.com", "/v1/users", "404")
        cluster.kubectl("replace", "-f", "-", objects=[api_ingress()])
        cluster.expect("api.example.com", "/v1/users", "service:api")

        # A certificate rotated (TLS is not served yet): the controller
        # stays healthy and routes are unaffected.
        cluster.kubectl("replace", "-f", "-",
                        objects=[certificate(cluster, "second")])
        cluster.kubectl("delete", "secret", "web-tls", "-n", NS)
        for event in ("MODIFIED", "DELETED"):
            line = 'msg="watch event" kind=Secret type=' + event
            harness.eventually(cluster.logs, lambda text, line=line:
                               line in text, "the Secret's %s event" % event,
                               consecutive=1)
        assert cluster.healthz() == 200
        cluster.expect("api.example.com", "/v1/users", "service:api")
        cluster.expect("www.example.com", "/", "404")
        cluster.wait_converged("after the whole sequence")
    finally:
        requests, failures = client.stop()

    assert requests > 100, requests
    assert failures == [], "%d of %d requests to the stable route failed: " \
        "%s" % (len(failures), requests, failures[:10])
    assert cluster.nginx_pid() == master
    assert cluster.worker_pids() == workers, "nginx workers changed"
    assert cluster.alive()
