"""tlsutil.py -- certificates made with the openssl CLI, Secrets holding
them, and TLS requests whose SNI and Host header are chosen separately.

A certificate is identified by its DER bytes (each one made here has its
own serial and key), so "which certificate did the server present" is a
byte comparison, not a parse.
"""

import base64
import http.client
import socket
import ssl
import subprocess
from pathlib import Path

import harness as h

FAKE_CN = "Kubernetes Ingress Controller Fake Certificate"
_serial = [1000]

_CA_CONF = """[ca]
default_ca = ca_default
[ca_default]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = policy
unique_subject = no
copy_extensions = copy
[policy]
commonName = supplied
"""


class Cert:
    def __init__(self, crt_pem, key_pem):
        self.crt_pem = crt_pem
        self.key_pem = key_pem
        self.der = ssl.PEM_cert_to_DER_cert(
            crt_pem.decode().split("-----END CERTIFICATE-----")[0] +
            "-----END CERTIFICATE-----\n")


def _run(args, cwd):
    subprocess.run(args, check=True, capture_output=True, cwd=str(cwd))


def _newkey(kind):
    if kind == "rsa":
        return ["-newkey", "rsa:2048"]
    return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]


def make_cert(workdir, name, sans, kind="ec", issuer=None, expired=False):
    """A certificate for sans (DNS names): self-signed, or signed by
    issuer (a Cert made with ca=True); crt_pem is the leaf followed by
    the issuer when there is one.  expired gives one that ended in
    2020."""
    d = Path(workdir) / ("cert-" + name)
    d.mkdir(parents=True, exist_ok=True)
    _serial[0] += 1
    san = "subjectAltName=" + ",".join("DNS:" + s for s in sans)
    subj = "/CN=" + (sans[0] if sans else name)
    if expired:
        (d / "index.txt").write_text("")
        (d / "serial").write_text("%04X\n" % _serial[0])
        (d / "ca.cnf").write_text(_CA_CONF)
        _run(["openssl", "req", "-new", "-nodes"] + _newkey(kind) +
             ["-subj", subj, "-addext", san, "-keyout", "key.pem",
              "-out", "req.csr"], d)
        _run(["openssl", "ca", "-batch", "-selfsign", "-notext",
              "-config", "ca.cnf", "-keyfile", "key.pem", "-in", "req.csr",
              "-startdate", "20200101000000Z", "-enddate", "20200102000000Z",
              "-out", "crt.pem"], d)
    elif issuer is None:
        _run(["openssl", "req", "-x509", "-nodes", "-days", "2"] +
             _newkey(kind) + ["-subj", subj, "-addext", san,
                              "-set_serial", str(_serial[0]),
                              "-keyout", "key.pem", "-out", "crt.pem"], d)
    else:
        (d / "issuer.crt").write_bytes(issuer.crt_pem)
        (d / "issuer.key").write_bytes(issuer.key_pem)
        (d / "ext.cnf").write_text(san + "\n")
        _run(["openssl", "req", "-new", "-nodes"] + _newkey(kind) +
             ["-subj", subj, "-keyout", "key.pem", "-out", "req.csr"], d)
        _run(["openssl", "x509", "-req", "-in", "req.csr", "-days", "2",
              "-CA", "issuer.crt", "-CAkey", "issuer.key",
              "-set_serial", str(_serial[0]), "-extfile", "ext.cnf",
              "-out", "leaf.pem"], d)
        (d / "crt.pem").write_bytes((d / "leaf.pem").read_bytes() +
                                    issuer.crt_pem)
    return Cert((d / "crt.pem").read_bytes(), (d / "key.pem").read_bytes())


def make_ca(workdir, name):
    d = Path(workdir) / ("ca-" + name)
    d.mkdir(parents=True, exist_ok=True)
    _serial[0] += 1
    _run(["openssl", "req", "-x509", "-nodes", "-days", "2"] +
         _newkey("ec") + ["-subj", "/CN=" + name,
                          "-addext", "basicConstraints=critical,CA:TRUE",
                          "-addext", "keyUsage=keyCertSign,cRLSign",
                          "-set_serial", str(_serial[0]),
                          "-keyout", "key.pem", "-out", "crt.pem"], d)
    return Cert((d / "crt.pem").read_bytes(), (d / "key.pem").read_bytes())


def secret(name, crt_pem, key_pem, namespace="default",
           type_="kubernetes.io/tls"):
    return {"apiVersion": "v1", "kind": "Secret", "type": type_,
            "metadata": h.meta(name, namespace),
            "data": {"tls.crt": base64.b64encode(crt_pem).decode(),
                     "tls.key": base64.b64encode(key_pem).decode()}}


def cert_secret(name, cert, **kw):
    return secret(name, cert.crt_pem, cert.key_pem, **kw)


def tls_ingress(name, hosts_services, tls, namespace="default"):
    """An Ingress with one Prefix "/" rule per (host, service) and the
    given spec.tls entries."""
    ing = h.ingress(name, [h.rule(host, h.path("/", "Prefix", svc))
                           for host, svc in hosts_services],
                    namespace=namespace)
    ing["spec"]["tls"] = tls
    return ing


def client_context(alpn=None, max_version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if max_version:
        ctx.maximum_version = max_version
    return ctx


def handshake(port, sni, ctx=None, session=None):
    """Connects with SNI sni (None: no SNI); returns the TLS socket."""
    ctx = ctx or client_context()
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        return ctx.wrap_socket(raw, server_hostname=sni, session=session)
    except Exception:
        raw.close()
        raise


def peer_der(port, sni, **kw):
    with handshake(port, sni, **kw) as s:
        return s.getpeercert(binary_form=True)


def https_request(port, sni, host, target="/", ctx=None, session=None):
    """GET target with Host host over a TLS connection with SNI sni.
    Returns (leaf DER, harness Response, TLS socket's session, reused)."""
    s = handshake(port, sni, ctx=ctx, session=session)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.sock = s
        conn.putrequest("GET", target, skip_host=True,
                        skip_accept_encoding=True)
        conn.putheader("Host", host)
        conn.endheaders()
        r = conn.getresponse()
        resp = h.Response(r.status, r.getheaders(), r.read())
        return s.getpeercert(binary_form=True), resp, s.session, \
            s.session_reused
    finally:
        s.close()


def expect_https(cluster, host, expected, target="/", deadline=h.DEADLINE):
    """Polls until host+target over HTTPS (SNI and Host host) gives
    `expected`, as cluster.expect does over HTTP, which a host with a
    tls[] entry answers with a redirect to HTTPS."""
    return h.eventually(
        lambda: https_request(cluster.https_port, host, host, target)[1],
        lambda r: r.outcome() == expected,
        "https://%s%s -> %s" % (host, target, expected), deadline=deadline)


def expect_cert(port, sni, der, what, deadline=h.DEADLINE):
    """Polls until a handshake with SNI sni presents der."""
    return h.eventually(lambda: peer_der(port, sni), lambda got: got == der,
                        "SNI %s presents %s" % (sni, what),
                        deadline=deadline)


def subject_cn(der):
    """The subject's commonName, read by the openssl CLI."""
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout",
                          "-subject", "-nameopt", "multiline"],
                         input=der, check=True, capture_output=True).stdout
    for line in out.decode().splitlines():
        if line.strip().startswith("commonName"):
            return line.split("=", 1)[1].strip()
    return None
