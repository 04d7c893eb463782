"""Certificate choice by SNI in one shmingress with many TLS Ingresses:
the conformance suite's HR1, wildcards, SNI/Host mismatch, no SNI, ten
hosts with ten certificates, and Secrets that must not be served as
they are (garbage, a key that does not match, a certificate that does
not name the host) next to one that is served with a warning (expired).
HTTP/2 over TLS and session resumption across hosts are checked here
too, since both depend on the certificate choice staying per host.
"""

import shutil
import ssl
import subprocess

import pytest

import harness as h
import tlsutil as t

TEN = ["ten-%d.example.com" % i for i in range(10)]


@pytest.fixture(scope="module")
def world(module_clusters):
    c = module_clusters()
    w = c.root
    certs = {
        "foo": t.make_cert(w, "foo", ["foo.bar.com"], kind="rsa"),
        "wild": t.make_cert(w, "wild", ["*.wild.example.com"]),
        "expired": t.make_cert(w, "expired", ["expired.example.com"],
                               expired=True),
        "other": t.make_cert(w, "other", ["other.example.com"]),
        "mismatch": t.make_cert(w, "mismatch", ["mismatch.example.com"]),
    }
    ca = t.make_ca(w, "issuer")
    certs["chained"] = t.make_cert(w, "chained", ["chained.example.com"],
                                   issuer=ca)
    for i, host in enumerate(TEN):
        certs[host] = t.make_cert(w, "ten%d" % i, [host],
                                  kind="rsa" if i % 2 else "ec")
    objects = [h.ingress_class()]
    for name in ("foo-bar-com", "wild", "plain", "expired", "garbage",
                 "mismatch", "uncovered", "chained", "ten"):
        objects += c.backends.add(name).objects()
    objects += [
        t.cert_secret("foo-tls", certs["foo"]),
        t.cert_secret("wild-tls", certs["wild"]),
        t.cert_secret("expired-tls", certs["expired"]),
        t.cert_secret("chained-tls", certs["chained"]),
        # a valid certificate for another name than the host it serves
        t.cert_secret("other-tls", certs["other"]),
        t.secret("garbage-tls", b"-----BEGIN CERTIFICATE-----\nnot pem\n",
                 b"junk"),
        # the certificate of one pair with the key of another
        t.secret("mismatch-tls", certs["mismatch"].crt_pem,
                 certs["other"].key_pem, type_="Opaque"),
        t.tls_ingress("hr1", [("foo.bar.com", "foo-bar-com")],
                      [{"hosts": ["foo.bar.com"],
                        "secretName": "foo-tls"}]),
        t.tls_ingress("wild", [("*.wild.example.com", "wild"),
                               ("plain.example.com", "plain")],
                      [{"hosts": ["*.wild.example.com"],
                        "secretName": "wild-tls"}]),
        t.tls_ingress("bad", [("expired.example.com", "expired"),
                              ("garbage.example.com", "garbage"),
                              ("mismatch.example.com", "mismatch"),
                              ("uncovered.example.com", "uncovered"),
                              ("chained.example.com", "chained")],
                      [{"hosts": ["expired.example.com"],
                        "secretName": "expired-tls"},
                       {"hosts": ["garbage.example.com"],
                        "secretName": "garbage-tls"},
                       {"hosts": ["mismatch.example.com"],
                        "secretName": "mismatch-tls"},
                       {"hosts": ["uncovered.example.com"],
                        "secretName": "other-tls"},
                       {"hosts": ["chained.example.com"],
                        "secretName": "chained-tls"}]),
    ]
    for i, host in enumerate(TEN):
        objects.append(t.cert_secret("ten-%d-tls" % i, certs[host]))
    objects.append(t.tls_ingress(
        "ten", [(host, "ten") for host in TEN],
        [{"hosts": [host], "secretName": "ten-%d-tls" % i}
         for i, host in enumerate(TEN)]))
    h.start_with(c, {"tls.yaml": objects})
    t.expect_https(c, "foo.bar.com", "service:foo-bar-com",
                   deadline=h.START_DEADLINE)
    t.expect_cert(c.https_port, "foo.bar.com", certs["foo"].der, "foo-tls",
                  deadline=h.START_DEADLINE)
    c.certs = certs
    c.static_default = ssl.PEM_cert_to_DER_cert(
        (c.state / "tls" / "default.crt").read_text())
    return c


def default_der(c):
    """The table's default certificate: what a handshake without SNI
    gets.  It is the controller's generated one, not run-local's static
    file (which only serves before any table exists)."""
    der = t.peer_der(c.https_port, None)
    assert t.subject_cn(der) == t.FAKE_CN
    assert der != c.static_default
    return der


def test_hr1_host_with_tls_secret(world):
    der, r, _, _ = t.https_request(world.https_port, "foo.bar.com",
                                   "foo.bar.com")
    assert der == world.certs["foo"].der
    assert r.status == 200 and r.service == "foo-bar-com"
    assert r.echoed_header("X-Forwarded-Proto") == "https"


def test_no_sni_gets_the_generated_default(world):
    der = default_der(world)
    assert t.peer_der(world.https_port, "unknown.example.org") == der


def test_wildcard_certificate_covers_one_label(world):
    port, wild = world.https_port, world.certs["wild"].der
    der, r, _, _ = t.https_request(port, "a.wild.example.com",
                                   "a.wild.example.com")
    assert der == wild and r.service == "wild"
    assert t.peer_der(port, "B.Wild.Example.COM") == wild
    assert t.peer_der(port, "a.b.wild.example.com") == default_der(world)
    assert t.peer_der(port, "wild.example.com") == default_der(world)


def test_sni_picks_the_certificate_host_picks_the_route(world):
    der, r, _, _ = t.https_request(world.https_port, "foo.bar.com",
                                   "plain.example.com")
    assert der == world.certs["foo"].der
    assert r.service == "plain"


def test_ten_hosts_ten_certificates(world):
    for host in TEN:
        der, r, _, _ = t.https_request(world.https_port, host, host)
        assert der == world.certs[host].der, host
        assert r.service == "ten"


def test_chain_is_sent_leaf_first(world):
    cmd = ["openssl", "s_client", "-connect",
           "127.0.0.1:%d" % world.https_port, "-servername",
           "chained.example.com", "-showcerts"]
    out = subprocess.run(cmd, input=b"", capture_output=True,
                         timeout=20).stdout.decode()
    assert out.count("-----BEGIN CERTIFICATE-----") == 2
    assert "1 s:CN = issuer" in out


def test_garbage_pem_gets_the_default_and_a_log(world):
    assert t.peer_der(world.https_port, "garbage.example.com") == \
        default_der(world)
    r = t.https_request(world.https_port, "garbage.example.com",
                        "garbage.example.com")[1]
    assert r.service == "garbage"
    assert 'tls secret not used' in world.logs()
    assert 'object=default/garbage-tls' in world.logs()


def test_mismatched_key_is_never_served(world):
    port = world.https_port
    assert t.peer_der(port, "mismatch.example.com") == default_der(world)
    logs = world.logs()
    line = [x for x in logs.splitlines()
            if "object=default/mismatch-tls" in x]
    assert line and "does not match" in line[0], logs[-2000:]
    assert "PRIVATE KEY" not in logs


def test_uncovered_host_gets_the_default_and_a_log(world):
    assert t.peer_der(world.https_port, "uncovered.example.com") == \
        default_der(world)
    assert any("tls host not covered" in x and "uncovered.example.com" in x
               for x in world.logs().splitlines())


def test_expired_certificate_is_served_with_a_warning(world):
    assert t.peer_der(world.https_port, "expired.example.com") == \
        world.certs["expired"].der
    assert any("expired" in x and "object=default/expired-tls" in x
               for x in world.logs().splitlines())


def test_http2_over_tls(world):
    ctx = t.client_context(alpn=["h2", "http/1.1"])
    with t.handshake(world.https_port, "foo.bar.com", ctx=ctx) as s:
        assert s.selected_alpn_protocol() == "h2"
        assert s.getpeercert(binary_form=True) == world.certs["foo"].der
    if shutil.which("curl") is None:
        return
    out = subprocess.run(
        ["curl", "-sk", "--http2", "-o", "/dev/null", "-w",
         "%{http_version} %{http_code}", "--resolve",
         "foo.bar.com:%d:127.0.0.1" % world.https_port,
         "https://foo.bar.com:%d/" % world.https_port],
        capture_output=True, timeout=20).stdout.decode()
    assert out == "2 200"


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2,
                                     ssl.TLSVersion.TLSv1_3])
def test_session_resumption_does_not_cross_hosts(world, version):
    port = world.https_port
    ctx = t.client_context(max_version=version)
    _, _, session, _ = t.https_request(port, "foo.bar.com", "foo.bar.com",
                                       ctx=ctx)
    # the same host resumes: the check below is about hosts, not about
    # resumption being off
    _, _, _, reused = t.https_request(port, "foo.bar.com", "foo.bar.com",
                                      ctx=ctx, session=session)
    assert reused
    der, r, _, reused = t.https_request(port, TEN[0], TEN[0], ctx=ctx,
                                        session=session)
    assert not reused
    assert der == world.certs[TEN[0]].der
    assert r.service == "ten"
