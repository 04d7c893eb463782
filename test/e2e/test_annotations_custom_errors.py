"""custom-http-errors and default-backend end to end, from
examples/custom-errors.yaml: listed codes served by the default backend
with ingress-nginx's headers, other codes untouched, a Service without
pods covered by the default backend; the failure paths: invalid codes
rejected (the previous version keeps being served), a default backend in
another namespace ignored with a warning; and the ConfigMap's
custom-http-errors served by --default-backend-service.
"""

import time

import harness as h
import demo_examples as d

FILE = "custom-errors.yaml"
PREFIX = "nginx.ingress.kubernetes.io/"


def test_listed_codes_go_to_the_default_backend(clusters):
    c = d.start_demo(clusters, FILE)
    host = "errors.example.com"
    r = c.expect(host, "/__status/404?x=1", "service:fallback",
                 headers=[("Accept", "text/html")])
    assert r.json["path"] == "/?x=1"
    want = {"X-Code": "404", "X-Format": "text/html",
            "X-Original-Uri": "/__status/404?x=1", "X-Namespace": "demo",
            "X-Ingress-Name": "errors", "X-Service-Name": "web",
            "X-Service-Port": "80"}
    for name, value in want.items():
        assert r.echoed_header(name) == value, name
    assert r.echoed_header("X-Request-Id")
    assert c.expect(host, "/__status/503", "service:fallback") \
        .echoed_header("X-Code") == "503"

    # not listed: the backend's own answer
    r = c.request(host, "/__status/500")
    assert r.status == 500 and r.service == "web"
    c.expect(host, "/", "service:web")


def test_service_without_pods_goes_to_the_default_backend(clusters):
    c = d.start_demo(clusters, FILE)
    r = c.expect("empty.example.com", "/page", "service:fallback")
    assert r.json["path"] == "/page"


def test_failure_paths(clusters):
    c = d.start_demo(clusters, FILE)
    c.expect("errors.example.com", "/__status/404", "service:fallback")

    # an invalid list: rejected, the last good version stays
    text = d.example_text(FILE, c.demo_ports).replace('"404,503"',
                                                      '"404,abc"')
    d.write_example(c, FILE, text)
    lines = []
    for _ in range(200):
        lines = d.log_lines(c, "ingress rejected", "demo/errors",
                            "custom-http-errors")
        if lines:
            break
        time.sleep(0.05)
    assert lines and "404,abc" in lines[0]
    c.expect("errors.example.com", "/__status/404", "service:fallback")

    # a default backend in another namespace is not used
    other = h.ingress("elsewhere", [h.rule("elsewhere.example.com",
                                           h.path("/", "Prefix", "web",
                                                  "http"))],
                      namespace="demo",
                      annotations={PREFIX + "custom-http-errors": "404",
                                   PREFIX + "default-backend":
                                   "default/fallback"})
    c.manifests.write("elsewhere.yaml", [other])
    r = c.expect("elsewhere.example.com", "/__status/404", "404")
    assert r.service is None  # nginx's own page: no default backend
    assert d.log_lines(c, "annotation ignored", "demo/elsewhere",
                       "default-backend")


def configmap(codes):
    return ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
            "  name: settings\n  namespace: ingress\ndata:\n"
            '  custom-http-errors: "%s"\n' % codes)


def test_configmap_codes_and_global_default_backend(clusters):
    """The ConfigMap's custom-http-errors apply to Ingresses without their
    own list, served by --default-backend-service; a ConfigMap change is
    served without a reload."""
    c = d.start_demo(clusters, FILE,
                     extra=[("settings.yaml", configmap("502,404"))],
                     flags=["--configmap", "ingress/settings",
                            "--default-backend-service", "demo/fallback"])

    # shop.example.com has no list of its own: the ConfigMap's
    r = c.expect("shop.example.com", "/__status/404", "service:fallback")
    assert r.echoed_header("X-Code") == "404"
    assert r.echoed_header("X-Service-Name") == "web"
    r = c.request("shop.example.com", "/__status/500")
    assert r.status == 500 and r.service == "web"
    # errors.example.com lists its own codes (404,503): 502 is not one
    r = c.request("errors.example.com", "/__status/502")
    assert r.status == 502 and r.service == "web"

    workers = c.worker_pids()
    c.manifests.write_raw("settings.yaml", configmap("500"))
    r = c.expect("shop.example.com", "/__status/500", "service:fallback")
    assert r.echoed_header("X-Code") == "500"
    r = c.expect("shop.example.com", "/__status/404", "404")
    assert r.service == "web"
    assert c.worker_pids() == workers
