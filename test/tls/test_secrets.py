"""How Secrets and tls[] entries are read: stringData, Opaque and other
types, a chain in the wrong order, two Ingresses claiming one TLS host,
a tls[] entry without secretName, and --default-ssl-certificate naming a
Secret that is missing or unusable.
"""

import base64
import subprocess

import pytest

import harness as h
import tlsutil as t


def traditional_ec_cert(workdir):
    """A certificate whose key file is what `openssl ecparam -genkey`
    writes: an "EC PARAMETERS" block, then a SEC1 "EC PRIVATE KEY"."""
    d = workdir / "traditional"
    d.mkdir()
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey",
                    "-out", "key.pem"], cwd=d, check=True,
                   capture_output=True)
    subprocess.run(["openssl", "req", "-x509", "-new", "-key", "key.pem",
                    "-days", "2", "-subj", "/CN=sec1.example.com",
                    "-addext", "subjectAltName=DNS:sec1.example.com",
                    "-out", "crt.pem"], cwd=d, check=True,
                   capture_output=True)
    return t.Cert((d / "crt.pem").read_bytes(), (d / "key.pem").read_bytes())


@pytest.fixture(scope="module")
def world(module_clusters):
    c = module_clusters()
    w = c.root
    ca = t.make_ca(w, "issuer")
    certs = {
        "string": t.make_cert(w, "string", ["string.example.com"]),
        "typed": t.make_cert(w, "typed", ["typed.example.com"]),
        "chain": t.make_cert(w, "chain", ["order.example.com"], issuer=ca),
        "old": t.make_cert(w, "old", ["shared.example.com"]),
        "new": t.make_cert(w, "new", ["shared.example.com"]),
    }
    certs["traditional"] = traditional_ec_cert(w)
    leaf, _, issuer = certs["chain"].crt_pem.partition(b"-----END "
                                                         b"CERTIFICATE-----\n")
    reversed_chain = issuer + leaf + b"-----END CERTIFICATE-----\n"
    string_secret = {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": h.meta("string-tls"),
        "data": {"tls.crt": base64.b64encode(b"replaced").decode()},
        "stringData": {"tls.crt": certs["string"].crt_pem.decode(),
                       "tls.key": certs["string"].key_pem.decode()}}
    objects = [h.ingress_class()]
    for name in ("string", "typed", "order", "shared", "nosecret", "sec1"):
        objects += c.backends.add(name).objects()
    objects += [
        string_secret,
        t.cert_secret("typed-tls", certs["typed"],
                      type_="kubernetes.io/dockerconfigjson"),
        t.secret("order-tls", reversed_chain, certs["chain"].key_pem),
        t.cert_secret("old-tls", certs["old"]),
        t.cert_secret("sec1-tls", certs["traditional"]),
        t.tls_ingress("sec1", [("sec1.example.com", "sec1")],
                      [{"hosts": ["sec1.example.com"],
                        "secretName": "sec1-tls"}]),
        t.cert_secret("new-tls", certs["new"]),
        t.tls_ingress("string", [("string.example.com", "string")],
                      [{"hosts": ["string.example.com"],
                        "secretName": "string-tls"}]),
        t.tls_ingress("typed", [("typed.example.com", "typed")],
                      [{"hosts": ["typed.example.com"],
                        "secretName": "typed-tls"}]),
        t.tls_ingress("order", [("order.example.com", "order")],
                      [{"hosts": ["order.example.com"],
                        "secretName": "order-tls"}]),
        t.tls_ingress("nosecret", [("nosecret.example.com", "nosecret")],
                      [{"hosts": ["nosecret.example.com"]}]),
    ]
    older = t.tls_ingress("older", [("shared.example.com", "shared")],
                          [{"hosts": ["shared.example.com"],
                            "secretName": "old-tls"}])
    older["metadata"]["creationTimestamp"] = "2024-01-01T00:00:00Z"
    newer = t.tls_ingress("newer", [("shared.example.com", "shared")],
                          [{"hosts": ["shared.example.com"],
                            "secretName": "new-tls"}])
    newer["metadata"]["creationTimestamp"] = "2025-01-01T00:00:00Z"
    objects += [newer, older]  # file order must not decide
    c.flags = ["--default-ssl-certificate", "infra/missing"]
    h.start_with(c, {"tls.yaml": objects})
    t.expect_https(c, "string.example.com", "service:string",
                   deadline=h.START_DEADLINE)
    t.expect_cert(c.https_port, "string.example.com", certs["string"].der,
                  "the stringData certificate", deadline=h.START_DEADLINE)
    c.certs = certs
    return c


def default_der(c):
    der = t.peer_der(c.https_port, None)
    assert t.subject_cn(der) == t.FAKE_CN
    return der


def log_lines(c, *needles):
    return [x for x in c.logs().splitlines() if all(n in x for n in needles)]


def test_string_data_wins_over_data(world):
    der, r, _, _ = t.https_request(world.https_port, "string.example.com",
                                   "string.example.com")
    assert der == world.certs["string"].der and r.service == "string"


def test_a_secret_of_another_type_is_not_used(world):
    assert t.peer_der(world.https_port, "typed.example.com") == \
        default_der(world)
    assert log_lines(world, "object=default/typed-tls",
                     "kubernetes.io/dockerconfigjson")


def test_a_chain_in_the_wrong_order_is_refused(world):
    assert t.peer_der(world.https_port, "order.example.com") == \
        default_der(world)
    assert log_lines(world, "object=default/order-tls", "leaf first")


def test_the_oldest_ingress_keeps_a_tls_host(world):
    assert t.peer_der(world.https_port, "shared.example.com") == \
        world.certs["old"].der
    assert log_lines(world, "tls host not added", "object=default/newer")


def test_tls_entry_without_secret_serves_the_default(world):
    der, r, _, _ = t.https_request(world.https_port, "nosecret.example.com",
                                   "nosecret.example.com")
    assert der == default_der(world) and r.service == "nosecret"


def test_missing_default_secret_falls_back_to_the_generated_one(world):
    default_der(world)
    assert log_lines(world, "default certificate not found",
                     "infra/missing")


def test_a_sec1_key_after_ec_parameters_is_served(world):
    assert b"EC PARAMETERS" in world.certs["traditional"].key_pem
    der, r, _, _ = t.https_request(world.https_port, "sec1.example.com",
                                   "sec1.example.com")
    assert der == world.certs["traditional"].der and r.service == "sec1"
