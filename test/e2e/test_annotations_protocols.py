"""backend-protocol and service-upstream end to end, from
examples/backend-protocols.yaml: HTTPS towards a TLS echo pod, gRPC over
h2c and over TLS called by a grpcio client on nginx's TLS port (unary,
streaming, grpc-status), service-upstream reaching the clusterIP; and
the failure paths: FCGI refused, a gRPC backend down is UNAVAILABLE,
HTTPS towards a pod that speaks plain HTTP is a 502.
"""

import base64
import json
import ssl
import subprocess
import sys

import grpc
import pytest

import harness as h
import demo_examples as d

sys.path.insert(0, str(h.SOURCE_DIR / "test" / "backends"))
from echo import EchoServer  # noqa: E402
from grpc_echo import GrpcEcho  # noqa: E402

FILE = "backend-protocols.yaml"
PREFIX = "nginx.ingress.kubernetes.io/"


def certificate(workdir, name, *hosts):
    key, crt = workdir / (name + ".key"), workdir / (name + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-days", "2",
                    "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=" +
                    ",".join("DNS:" + x for x in hosts),
                    "-keyout", str(key), "-out", str(crt)],
                   check=True, capture_output=True)
    return str(crt), str(key)


@pytest.fixture
def pods(tmp_path):
    """The TLS echo pod and the two gRPC pods of the example."""
    crt, key = certificate(tmp_path, "pod", "pod.internal")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    started = {
        18091: EchoServer("127.0.0.1", 0, "tls-echo", "tls-echo-1", "demo",
                          tls=ctx).start(),
        18092: GrpcEcho("127.0.0.1", 0, "grpc-echo").start(),
        18093: GrpcEcho("127.0.0.1", 0, "grpcs-echo", (crt, key)).start(),
    }
    yield started
    for server in started.values():
        server.stop()


def start(clusters, pods, tmp_path, extra=()):
    """The demo plus the example, its pods on free ports, and the Secret
    the example's gRPC Ingress names."""
    c = clusters()
    ports = {}
    for demo_port, (svc, n) in d.DEMO_PODS.items():
        ports[demo_port] = c.backends.add(svc, namespace="demo",
                                          pods=n).port
    for demo_port, server in pods.items():
        ports[demo_port] = server.port
    c.demo_ports = ports
    for name in d.BASE_FILES + (FILE,):
        c.manifests.write_raw(name, d.example_text(name, ports))
    crt, key = certificate(tmp_path, "grpc-example", "grpc.example.com",
                           "grpcs.example.com")
    c.grpc_root = open(crt, "rb").read()
    c.manifests.write("secret.yaml", [{
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": h.meta("grpc-example-tls", "demo"),
        "data": {"tls.crt": base64.b64encode(c.grpc_root).decode(),
                 "tls.key": base64.b64encode(open(key, "rb").read())
                 .decode()}}] + list(extra))
    c.start()
    c.expect("shop.example.com", "/api/items", "service:api",
             deadline=h.START_DEADLINE)
    return c


def channel(cluster, host):
    creds = grpc.ssl_channel_credentials(root_certificates=cluster.grpc_root)
    return grpc.secure_channel(
        "127.0.0.1:%d" % cluster.https_port, creds,
        options=[("grpc.ssl_target_name_override", host),
                 ("grpc.default_authority", host)])


def unary(cluster, host, payload, method="Unary"):
    with channel(cluster, host) as ch:
        return ch.unary_unary("/echo.Echo/" + method)(payload, timeout=10)


def test_https_backend(clusters, pods, tmp_path):
    c = start(clusters, pods, tmp_path)
    r = c.expect("tls-backend.example.com", "/hello", "service:tls-echo")
    assert r.json["tls"] is True and r.json["sni"] == "tls-backend.example.com"
    assert r.json["path"] == "/hello"


def test_grpc_and_grpcs(clusters, pods, tmp_path):
    c = start(clusters, pods, tmp_path)
    c.expect("tls-backend.example.com", "/", "service:tls-echo")
    reply = json.loads(unary(c, "grpc.example.com", b"hi"))
    assert reply["service"] == "grpc-echo" and reply["tls"] is False
    assert reply["message"] == "hi"
    reply = json.loads(unary(c, "grpcs.example.com", b"hi"))
    assert reply["service"] == "grpcs-echo" and reply["tls"] is True

    with channel(c, "grpc.example.com") as ch:
        got = list(ch.unary_stream("/echo.Echo/Stream")(b"x", timeout=10))
    assert got == [b"x 0", b"x 1", b"x 2"]

    with pytest.raises(grpc.RpcError) as err:
        unary(c, "grpcs.example.com", b"gone", method="Fail")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert err.value.details() == "gone"

    # the pod goes away: UNAVAILABLE, not a hang or a garbled stream
    pods[18092].stop()
    with pytest.raises(grpc.RpcError) as err:
        unary(c, "grpc.example.com", b"anyone?")
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_service_upstream_reaches_the_cluster_ip(clusters, pods, tmp_path):
    c = start(clusters, pods, tmp_path)
    # the slice's pod 127.0.0.9 does not exist; the clusterIP is api-1
    r = c.expect("vip.example.com", "/", "service:api")
    assert r.json["pod"] == "api-1"


def test_failure_paths(clusters, pods, tmp_path):
    fcgi = h.ingress("php", [h.rule("php.example.com",
                                    h.path("/", "Prefix", "web", "http"))],
                     namespace="demo",
                     annotations={PREFIX + "backend-protocol": "FCGI"})
    wrong = h.ingress("wrong", [h.rule("wrong.example.com",
                                       h.path("/", "Prefix", "web", "http"))],
                      namespace="demo",
                      annotations={PREFIX + "backend-protocol": "HTTPS"})
    c = start(clusters, pods, tmp_path, extra=(fcgi, wrong))
    c.expect("tls-backend.example.com", "/", "service:tls-echo")
    # FCGI is refused: the Ingress is not served, the log says why
    c.expect("php.example.com", "/", "404")
    lines = d.log_lines(c, "ingress rejected", "demo/php", "backend-protocol")
    assert lines and "FastCGI" in lines[0]
    # HTTPS towards pods that speak plain HTTP
    c.expect("wrong.example.com", "/", "502")
