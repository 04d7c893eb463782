"""HTTP to HTTPS redirects and HSTS through the real controller: a host
with a tls[] entry redirects plain HTTP with 308 unless its Ingress says
ssl-redirect: "false", force-ssl-redirect redirects a host without TLS,
the ACME challenge stays on HTTP, and HTTPS answers carry
Strict-Transport-Security while HTTP answers do not.
"""

import pytest

import harness as h
import tlsutil as t

NG = "nginx.ingress.kubernetes.io/"


def tls_ingress(name, host, annotations=None, tls=True):
    ing = h.ingress(name, [h.rule(host, h.path("/", "Prefix", name))],
                    annotations=annotations)
    if tls:
        ing["spec"]["tls"] = [{"hosts": [host], "secretName": name + "-tls"}]
    return ing


@pytest.fixture(scope="module")
def world(module_clusters):
    c = module_clusters()
    objects = [h.ingress_class()]
    for name, host in (("secure", "secure.example.com"),
                       ("optout", "optout.example.com")):
        objects += c.backends.add(name).objects()
        objects.append(t.cert_secret(name + "-tls",
                                     t.make_cert(c.root, name, [host])))
    objects += c.backends.add("forced").objects()
    objects += [
        tls_ingress("secure", "secure.example.com"),
        tls_ingress("optout", "optout.example.com",
                    annotations={NG + "ssl-redirect": "false"}),
        tls_ingress("forced", "forced.example.com", tls=False,
                    annotations={NG + "force-ssl-redirect": "true",
                                 NG + "preserve-trailing-slash": "true"}),
    ]
    h.start_with(c, {"redirect.yaml": objects},
                 ready=("optout.example.com", "/", "service:optout"))
    t.expect_https(c, "secure.example.com", "service:secure",
                   deadline=h.START_DEADLINE)
    return c


def test_tls_host_redirects_to_https(world):
    r = world.request("secure.example.com", "/a/b/?x=1")
    assert r.status == 308
    assert r.header("Location") == "https://secure.example.com/a/b/?x=1"
    r = world.request("secure.example.com", "/a/b/")
    assert r.header("Location") == "https://secure.example.com/a/b"
    assert r.header("Strict-Transport-Security") is None


def test_https_answer_carries_hsts(world):
    _, r, _, _ = t.https_request(world.https_port, "secure.example.com",
                                 "secure.example.com", "/a")
    assert r.outcome() == "service:secure"
    assert (r.header("Strict-Transport-Security")
            == "max-age=31536000; includeSubDomains")


def test_acme_challenge_is_not_redirected(world):
    r = world.request("secure.example.com",
                      "/.well-known/acme-challenge/token")
    assert r.outcome() == "service:secure"


def test_ssl_redirect_false_serves_http(world):
    r = world.request("optout.example.com", "/a")
    assert r.outcome() == "service:optout"
    assert r.header("Strict-Transport-Security") is None


def test_force_ssl_redirect_without_tls(world):
    r = world.request("forced.example.com", "/a/")
    assert r.status == 308
    assert r.header("Location") == "https://forced.example.com/a/"


def test_configmap_ssl_redirect_false_is_the_default(clusters):
    """ssl-redirect: "false" in the ConfigMap covers Ingresses whose
    other annotations give their routes a policy; an Ingress that writes
    ssl-redirect: "true" still redirects."""
    c = clusters(flags=["--configmap", "ingress/settings"])
    objects = [h.ingress_class()]
    for name in ("cors", "strict"):
        host = name + ".example.com"
        objects += c.backends.add(name).objects()
        objects.append(t.cert_secret(name + "-tls",
                                     t.make_cert(c.root, name, [host])))
    objects += [
        tls_ingress("cors", "cors.example.com",
                    annotations={NG + "enable-cors": "true"}),
        tls_ingress("strict", "strict.example.com",
                    annotations={NG + "ssl-redirect": "true"}),
    ]
    c.manifests.write_raw("settings.yaml",
                          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                          "  name: settings\n  namespace: ingress\n"
                          "data:\n  ssl-redirect: \"false\"\n")
    h.start_with(c, {"redirect.yaml": objects},
                 ready=("cors.example.com", "/", "service:cors"))
    assert c.request("strict.example.com", "/a").status == 308
