"""server-alias over TLS: an alias of a TLS host is served with the
host's certificate when the certificate names it, and with the default
certificate (and a log line) when it does not; HTTPS to an alias reaches
the Ingress's routes."""

import harness as h
import tlsutil as t


def test_alias_gets_the_certificate_that_names_it(clusters):
    c = clusters()
    cert = t.make_cert(c.root, "app", ["app.example.com",
                                       "alias.example.com"])
    ing = t.tls_ingress("app", [("app.example.com", "app")],
                        [{"hosts": ["app.example.com"],
                          "secretName": "app-tls"}])
    ing["metadata"]["annotations"] = {
        "nginx.ingress.kubernetes.io/server-alias":
            "alias.example.com,bare.example.com"}
    objects = [h.ingress_class(), t.cert_secret("app-tls", cert), ing]
    objects += c.backends.add("app").objects()
    h.start_with(c, {"tls.yaml": objects})
    t.expect_https(c, "app.example.com", "service:app",
                   deadline=h.START_DEADLINE)

    t.expect_cert(c.https_port, "alias.example.com", cert.der, "app-tls")
    der, resp, _, _ = t.https_request(c.https_port, "alias.example.com",
                                      "alias.example.com")
    assert resp.outcome() == "service:app"

    # an alias the certificate does not name: the default certificate
    der, resp, _, _ = t.https_request(c.https_port, "bare.example.com",
                                      "bare.example.com")
    assert der != cert.der
    assert t.subject_cn(der) == t.FAKE_CN
    assert resp.outcome() == "service:app"
    h.eventually(c.logs, lambda text: 'msg="tls alias not covered"' in text
                 and 'value="bare.example.com"' in text,
                 "the uncovered alias logged")
