"""Certificates change without a reload: a rotated Secret is presented by
the next handshakes, a deleted one falls back to the default certificate,
and --default-ssl-certificate replaces the generated default.  nginx's
master and workers keep their PIDs throughout.
"""

import harness as h
import tlsutil as t

HOST = "rotate.example.com"


def start(c, objects, flags=()):
    c.flags = list(flags)
    h.start_with(c, {"app.yaml": [h.ingress_class()] +
                     c.backends.add("app").objects()})
    c.manifests.write("tls.yaml", objects)
    t.expect_https(c, HOST, "service:app", deadline=h.START_DEADLINE)
    return c


def app_ingress():
    return t.tls_ingress("app", [(HOST, "app")],
                         [{"hosts": [HOST], "secretName": "app-tls"}])


def test_rotation_and_deletion_without_reload(clusters):
    c = clusters()
    one = t.make_cert(c.root, "one", [HOST])
    two = t.make_cert(c.root, "two", [HOST], kind="rsa")
    start(c, [t.cert_secret("app-tls", one), app_ingress()])
    t.expect_cert(c.https_port, HOST, one.der, "the first certificate")
    master, workers = c.nginx_pid(), sorted(c.worker_pids())

    c.manifests.write("tls.yaml", [t.cert_secret("app-tls", two),
                                   app_ingress()])
    t.expect_cert(c.https_port, HOST, two.der, "the rotated certificate")
    der, r, _, _ = t.https_request(c.https_port, HOST, HOST)
    assert der == two.der and r.service == "app"

    c.manifests.write("tls.yaml", [app_ingress()])
    default = t.peer_der(c.https_port, None)
    t.expect_cert(c.https_port, HOST, default, "the default certificate")
    assert t.subject_cn(default) == t.FAKE_CN

    assert c.nginx_pid() == master
    assert sorted(c.worker_pids()) == workers


def test_default_ssl_certificate_flag(clusters):
    c = clusters()
    mine = t.make_cert(c.root, "mine", ["default.example.com"])
    one = t.make_cert(c.root, "one", [HOST])
    start(c, [t.cert_secret("mine", mine, namespace="infra"),
              t.cert_secret("app-tls", one), app_ingress()],
          flags=["--default-ssl-certificate", "infra/mine"])
    t.expect_cert(c.https_port, None, mine.der, "the flag's certificate")
    assert t.peer_der(c.https_port, "nothing.example.org") == mine.der
    assert t.peer_der(c.https_port, HOST) == one.der


def test_generated_default_is_stable_across_rebuilds(clusters):
    c = clusters()
    start(c, [app_ingress()])
    before = t.peer_der(c.https_port, None)
    gen = c.generation()
    c.manifests.write("more.yaml", c.backends.add("more").objects() + [
        h.ingress("more", [h.rule("more.example.com",
                                  h.path("/", "Prefix", "more"))])])
    c.wait_generation_above(gen)
    c.expect("more.example.com", "/", "service:more")
    assert t.peer_der(c.https_port, None) == before
