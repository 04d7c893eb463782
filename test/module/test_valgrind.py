"""The module under valgrind: one nginx process (master_process off)
serving a few hundred requests across table swaps, rejected tables, 404s,
503s, retries and a request pinning a superseded table, then a graceful
exit.  No invalid access anywhere, and no leak through the module."""

import contextlib
import re
import shutil
import ssl
import subprocess
import sys
import threading

import grpc
import pytest

from conftest import REPO, Nginx, dead_endpoint, endpoint, wait_for

sys.path.insert(0, REPO + "/test/backends")
from echo import EchoServer  # noqa: E402
from grpc_echo import GrpcEcho  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("valgrind") is None,
                                reason="valgrind is not installed")


@contextlib.contextmanager
def valgrind_nginx(tmp_path):
    """nginx (one process) under valgrind for the with block; then a
    graceful exit, and a valgrind report in which nothing involves the
    module or the table library and no access is invalid.  nginx itself
    leaves pools and its environment copy behind at exit ("possibly
    lost", 8 bytes "definitely lost" in ngx_set_environment), so leaks
    count only through the module."""
    log = str(tmp_path / "valgrind.log")
    nginx = Nginx(tmp_path / "state", valgrind=[
        "valgrind", "--quiet", "--leak-check=full",
        "--errors-for-leak-kinds=definite", "--log-file=" + log])
    nginx.start()
    try:
        yield nginx
    finally:
        assert nginx.stop() == 0
    with open(log) as f:
        report = f.read()
    assert not re.search(r"ngx_http_shmingress|\btbl_", report), report
    assert not re.search(r"Invalid (read|write|free)|uninitialised|"
                         r"Mismatched free|Syscall param", report), report


def spec(live, dead, service):
    return """
        backend x default/%s:80 %s %s
        backend e default/empty:80 !no-endpoints
        route a.example.com Prefix / x default/ing
        route a.example.com Prefix /empty e default/ing
    """ % (service, dead, endpoint(live))


def test_no_memory_errors_or_leaks(tmp_path, backends):
    with valgrind_nginx(tmp_path) as nginx:
        a, b = backends("svc-a"), backends("svc-b")
        dead = dead_endpoint()
        nginx.publish(spec(a, dead, "svc-a"))

        slow = threading.Thread(target=nginx.request, args=("/slow",),
                                kwargs={"host": "a.example.com",
                                        "headers": {"X-Echo-Sleep": "2"}})
        slow.start()
        wait_for(lambda: a.stats()["requests"] >= 1, what="slow request")

        statuses = []
        for i in range(300):
            if i % 25 == 0:
                nginx.publish(spec(b if i % 50 else a, dead,
                                   "svc-b" if i % 50 else "svc-a"))
            if i % 100 == 10:
                nginx.publish(spec(a, dead, "svc-a"), mode="publish-corrupt")
            path = ("/", "/empty", "/x")[i % 3]
            host = "a.example.com" if i % 7 else "nowhere.example.com"
            statuses.append(nginx.request(path, host=host).status)
        slow.join()
        assert set(statuses) == {200, 404, 503}


def test_policies_canaries_and_limits_under_valgrind(tmp_path, backends):
    with valgrind_nginx(tmp_path) as nginx:
        a, b = backends("svc-a"), backends("svc-b")
        table = """
            backend a default/svc-a:80 %s
            backend b default/svc-b:80 %s
            policy rw rewrite=/$2?v=1 x-forwarded-prefix=/$1
            policy lim limit-rps=1 burst-multiplier=2 limit-connections=5
            policy www from-to-www
            policy home app-root=/home
            policy bad rewrite=/x
            canary c b header=X-Canary header-pattern=^on cookie=k weight=50
            route a.example.com Regex /(api)(/|$)(.*) a default/ing policy=rw
            route a.example.com Regex /broken( a default/ing policy=bad
            route a.example.com Prefix /lim a default/ing policy=lim
            route a.example.com Prefix / a default/ing canary=c
            route example.com Prefix / a default/ing policy=home
            host-policy www.example.com www
        """ % (endpoint(a), endpoint(b))
        statuses = set()
        for i in range(200):
            if i % 50 == 0:
                nginx.publish(table)
            path, host, headers = [
                ("/api/x?q=1", "a.example.com", {}),
                ("/API", "a.example.com", {}),
                ("/lim", "a.example.com", {}),
                ("/", "a.example.com", {"X-Canary": "on"}),
                ("/", "a.example.com", {"Cookie": "k=never"}),
                ("/", "www.example.com", {}),
                ("/", "example.com", {}),
            ][i % 7]
            statuses.add(nginx.request(path, host=host,
                                       headers=headers).status)
        assert statuses == {200, 302, 308, 503}


def test_basic_auth_under_valgrind(tmp_path, backends):
    from test_auth_basic import HASHES, basic

    with valgrind_nginx(tmp_path) as nginx:
        a = backends("svc-a")
        users = sorted(HASHES)
        secret = tmp_path / "htpasswd"
        secret.write_text("".join(HASHES[u](u, "pw-" + u) + "\n"
                                  for u in users))
        nginx.publish("""
            backend a default/svc-a:80 %s
            policy p auth-basic=%s auth-realm=R"x
            route a.example.com Prefix / a default/ing policy=p
        """ % (endpoint(a), secret))
        statuses = set()
        for i in range(60):
            user = users[i % len(users)]
            headers = [basic(user, "pw-" + user), basic(user, "bad"),
                       {"Authorization": "Basic %%%"}, {}][i % 4]
            statuses.add(nginx.request("/", host="a.example.com",
                                       headers=headers).status)
        assert statuses == {200, 401}


def test_balancing_and_affinity_under_valgrind(tmp_path, backends):
    with valgrind_nginx(tmp_path) as nginx:
        a, b = backends("svc-a"), backends("svc-b")
        dead = dead_endpoint()
        table = """
            backend a default/svc-a:80 %s %s %s
            backend b default/svc-b:80 %s
            policy ewma lb=ewma
            policy hash lb=hash hash-by=$request_uri-${arg_u}
            policy bad lb=hash hash-by=${broken
            policy sub lb=hash-subset hash-by=$arg_u
            policy bal affinity=balanced change-on-failure cookie-max-age=60
            policy per affinity=persistent change-on-failure cookie-path=/p
            canary c b weight=50
            route a.example.com Prefix /ewma a default/ing policy=ewma
            route a.example.com Prefix /hash a default/ing policy=hash
            route a.example.com Prefix /bad a default/ing policy=bad
            route a.example.com Prefix /sub a default/ing policy=sub
            route a.example.com Prefix /bal a default/ing policy=bal canary=c
            route a.example.com Prefix /per a default/ing policy=per
        """ % (dead, endpoint(a), dead_endpoint(), endpoint(b))
        cookies = {}
        statuses = set()
        for i in range(200):
            if i % 50 == 0:
                nginx.publish(table)
            path = ("/ewma", "/hash?u=%d" % i, "/bad", "/bal", "/per",
                    "/sub?u=%d" % (i % 4))[i % 6]
            headers = {}
            if path in cookies and i % 3:
                headers["Cookie"] = cookies[path]
            r = nginx.request(path, host="a.example.com", headers=headers)
            statuses.add(r.status)
            cookie = r.headers.get("Set-Cookie")
            if cookie:
                cookies[path] = cookie.split(";", 1)[0]
        assert statuses == {200}
        assert set(cookies) == {"/bal", "/per"}


def test_external_auth_under_valgrind(tmp_path, backends):
    from auth_server import AuthServer

    with valgrind_nginx(tmp_path) as nginx:
        auth = AuthServer("127.0.0.1", 0, {"t": ("u", False),
                                           "f": ("v", True)}).start()
        try:
            a = backends("svc-a")
            url = "http://127.0.0.1:%d/oauth2/auth" % auth.port
            signin = ("auth-signin=https://$host/s?rd=$escaped_request_uri "
                      "auth-request-redirect=$scheme://$host$request_uri "
                      "auth-always-set-cookie")
            nginx.publish("""
                backend a default/svc-a:80 %s
                policy p auth-url=%s auth-response-headers=X-Auth-Request-User
                policy s auth-url=%s %s
                policy d auth-url=http://%s/
                route a.example.com Prefix / a default/ing policy=p
                route a.example.com Prefix /s a default/ing policy=s
                route a.example.com Prefix /d a default/ing policy=d
            """ % (endpoint(a), url, url, signin, dead_endpoint()))
            statuses = set()
            for i in range(60):
                path, headers = [
                    ("/", {"Authorization": "Bearer t",
                           "X-Auth-Request-User": "spoofed"}),
                    ("/", {}),
                    ("/", {"Authorization": "Bearer f"}),
                    ("/s/x?y=1", {}),
                    ("/", {"X-Auth-Test-Status": "500"}),
                    ("/d", {}),
                ][i % 6]
                statuses.add(nginx.request(path, host="a.example.com",
                                           headers=headers).status)
            assert statuses == {200, 302, 401, 403, 500}
        finally:
            auth.stop()


def test_protocols_and_custom_errors_under_valgrind(tmp_path, backends):
    crt, key = str(tmp_path / "b.crt"), str(tmp_path / "b.key")
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-days", "2",
                    "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-subj", "/CN=b",
                    "-keyout", key, "-out", crt],
                   check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    secure = EchoServer("127.0.0.1", 0, "secure", tls=ctx).start()
    g = GrpcEcho("127.0.0.1", 0, "grpc").start()
    try:
        with valgrind_nginx(tmp_path) as nginx:
            a, e = backends("app"), backends("errors")
            nginx.publish("""
                backend a default/app:80 %s
                backend e default/errors:80 %s
                backend s default/secure:443 %s
                backend g default/grpc:50051 127.0.0.1:%d
                backend n default/none:80 !no-endpoints
                policy ce custom-errors=404,503 default-backend=e
                policy bare custom-errors=503
                policy fb default-backend=e
                policy tls protocol=HTTPS
                policy grpc protocol=GRPC
                route a.example.com Prefix / a default/ing policy=ce
                route b.example.com Prefix / a default/ing policy=bare
                route n.example.com Prefix / n default/ing policy=fb
                route s.example.com Prefix / s default/ing policy=tls
                route g.example.com Prefix / g default/ing policy=grpc
            """ % (endpoint(a), endpoint(e), endpoint(secure), g.port))
            statuses = set()
            for i in range(60):
                path, host = [("/__status/404", "a.example.com"),
                              ("/__status/500", "a.example.com"),
                              ("/__status/503", "b.example.com"),
                              ("/", "n.example.com"),
                              ("/", "s.example.com")][i % 5]
                statuses.add(nginx.request(path, host=host).status)
            assert statuses == {200, 500, 503}
            ca = (tmp_path / "state" / "tls" / "default.crt").read_bytes()
            creds = grpc.ssl_channel_credentials(root_certificates=ca)
            with grpc.secure_channel(
                    "127.0.0.1:%d" % nginx.https_port, creds,
                    options=[("grpc.ssl_target_name_override",
                              "shmingress test"),
                             ("grpc.default_authority",
                              "g.example.com")]) as ch:
                for _ in range(5):
                    assert ch.unary_unary("/echo.Echo/Unary")(b"v", timeout=60)
    finally:
        secure.stop()
        g.stop()


def test_client_address_under_valgrind(tmp_path, backends):
    import http.client

    with valgrind_nginx(tmp_path) as nginx:
        a = backends("svc-a")
        nginx.publish("""
            backend a default/svc-a:80 %s
            policy p allow=203.0.113.0/24 limit-rps=100
            route a.example.com Prefix / a default/ing policy=p
            config flags=0x3b real-ip=127.0.0.0/8,10.0.0.0/8
                   block=192.0.2.0/24
        """.replace("\n                   ", " ") % endpoint(a))
        statuses = set()
        conn = http.client.HTTPConnection("127.0.0.1", nginx.http_port,
                                          timeout=60)
        try:
            for i in range(40):
                headers = [{"X-Forwarded-For": "203.0.113.9, 10.1.1.1"},
                           {"X-Forwarded-For": "192.0.2.1"},
                           {"X-Forwarded-For": "junk, 2001:db8::1"},
                           {}][i % 4]
                statuses.add(nginx.request("/", host="a.example.com",
                                           headers=headers,
                                           conn=conn).status)
        finally:
            conn.close()
        assert statuses == {200, 403}
