"""backend-protocol through real nginx: HTTPS towards a TLS echo backend
(with the upstream host as SNI), gRPC over h2c and over TLS towards a
grpcio backend, called by a grpcio client on nginx's HTTP/2 TLS port:
unary and server-streaming calls, the backend's grpc-status passed
through, and UNAVAILABLE when the backend is down."""

import json
import os
import ssl
import subprocess
import sys

import grpc
import pytest

from conftest import REPO, dead_endpoint, endpoint

sys.path.insert(0, os.path.join(REPO, "test", "backends"))
from echo import EchoServer  # noqa: E402
from grpc_echo import GrpcEcho  # noqa: E402


@pytest.fixture
def backend_cert(tmp_path):
    cert, key = str(tmp_path / "backend.crt"), str(tmp_path / "backend.key")
    subprocess.run(
        ["openssl", "req", "-x509", "-nodes", "-days", "2", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-subj",
         "/CN=backend.internal", "-keyout", key, "-out", cert],
        check=True, capture_output=True)
    return cert, key


@pytest.fixture
def tls_echo(backend_cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*backend_cert)
    server = EchoServer("127.0.0.1", 0, "secure", tls=ctx).start()
    yield server
    server.stop()


@pytest.fixture
def grpc_backends(backend_cert):
    started = []

    def start(service, tls=False):
        server = GrpcEcho("127.0.0.1", 0, service,
                          backend_cert if tls else None).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def grpc_channel(nginx, host):
    """A client channel to nginx's TLS port, HTTP/2 as gRPC needs, with
    host as :authority (the route's host)."""
    with open(os.path.join(nginx.state, "tls", "default.crt"), "rb") as f:
        root = f.read()
    creds = grpc.ssl_channel_credentials(root_certificates=root)
    return grpc.secure_channel(
        "127.0.0.1:%d" % nginx.https_port, creds,
        options=[("grpc.ssl_target_name_override", "shmingress test"),
                 ("grpc.default_authority", host)])


def call(channel, method, payload, stream=False):
    path = "/echo.Echo/" + method
    if stream:
        return list(channel.unary_stream(path)(payload, timeout=10))
    return channel.unary_unary(path)(payload, timeout=10)


def test_https_backend_gets_tls_with_the_host_as_sni(nginx, tls_echo,
                                                     backends):
    plain = backends("plain")
    nginx.publish(
        "backend s default/secure:443 %s\n"
        "backend p default/plain:80 %s\n"
        "policy tls protocol=HTTPS\n"
        "policy auto protocol=AUTO_HTTP\n"
        "route secure.test Prefix / s default/secure policy=tls\n"
        "route plain.test Prefix / p default/plain policy=auto\n"
        % (endpoint(tls_echo), endpoint(plain)))

    r = nginx.request("/x?y=1", host="secure.test")
    assert r.status == 200
    body = r.json()
    assert body["service"] == "secure" and body["tls"] is True
    assert body["sni"] == "secure.test"
    assert body["path"] == "/x?y=1"
    assert body["headers"]["X-Forwarded-Host"] == ["secure.test"]

    r = nginx.request("/", host="plain.test")
    assert r.status == 200 and r.json()["tls"] is False


def test_https_backend_that_speaks_plain_http_is_a_502(nginx, backends):
    plain = backends("plain")
    nginx.publish(
        "backend p default/plain:80 %s\n"
        "policy tls protocol=HTTPS\n"
        "route wrong.test Prefix / p default/plain policy=tls\n"
        % endpoint(plain))

    assert nginx.request("/", host="wrong.test").status == 502


def test_grpc_h2c_and_grpcs_unary_and_streaming(nginx, grpc_backends):
    h2c = grpc_backends("grpc-plain")
    tls = grpc_backends("grpc-tls", tls=True)
    nginx.publish(
        "backend g default/grpc-plain:50051 127.0.0.1:%d\n"
        "backend t default/grpc-tls:50051 127.0.0.1:%d\n"
        "policy grpc protocol=GRPC read-timeout=5000\n"
        "policy grpcs protocol=GRPCS\n"
        "route grpc.test Prefix / g default/grpc policy=grpc\n"
        "route grpcs.test Prefix / t default/grpcs policy=grpcs\n"
        % (h2c.port, tls.port))

    with grpc_channel(nginx, "grpc.test") as ch:
        reply = json.loads(call(ch, "Unary", b"hello"))
        assert reply["message"] == "hello"
        assert reply["service"] == "grpc-plain" and reply["tls"] is False
        assert reply["metadata"]["x-forwarded-proto"] == "https"
        assert reply["metadata"].get("x-request-id")
        assert call(ch, "Stream", b"n", stream=True) == [b"n 0", b"n 1",
                                                         b"n 2"]

    with grpc_channel(nginx, "grpcs.test") as ch:
        reply = json.loads(call(ch, "Unary", b"secret"))
        assert reply["service"] == "grpc-tls" and reply["tls"] is True
        assert call(ch, "Stream", b"s", stream=True) == [b"s 0", b"s 1",
                                                         b"s 2"]


def test_grpc_status_passes_through_and_a_dead_backend_is_unavailable(
        nginx, grpc_backends):
    h2c = grpc_backends("grpc-plain")
    nginx.publish(
        "backend g default/grpc-plain:50051 127.0.0.1:%d\n"
        "backend d default/grpc-dead:50051 %s\n"
        "policy grpc protocol=GRPC\n"
        "route grpc.test Prefix / g default/grpc policy=grpc\n"
        "route dead.test Prefix / d default/dead policy=grpc\n"
        % (h2c.port, dead_endpoint()))

    with grpc_channel(nginx, "grpc.test") as ch:
        with pytest.raises(grpc.RpcError) as err:
            call(ch, "Fail", b"no such thing")
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
        assert err.value.details() == "no such thing"

    with grpc_channel(nginx, "dead.test") as ch:
        with pytest.raises(grpc.RpcError) as err:
            call(ch, "Unary", b"anyone?")
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
