"""External auth end to end, from examples/auth-external.yaml, with the
oauth2-proxy style service of test/backends/auth_server.py: a valid token
or session cookie reaches the backend with the user headers of the auth
answer, no session is a redirect to the signin URL with rd= (or a 401
where there is no signin), a forbidden user is a 403, auth-method is
used, an auth service that does not answer is a 500 for its routes
only, and basic auth with auth-url denies (503).
"""

import base64
import hashlib
import os
import sys
import urllib.parse

import pytest

import demo_examples as d
import harness as h

sys.path.insert(0, os.path.join(str(h.SOURCE_DIR), "test", "backends"))
from auth_server import AuthServer  # noqa: E402

FILE = "auth-external.yaml"
AUTH_DEMO_PORT = 18085
HOST, API_HOST = "secure.example.com", "secure-api.example.com"
TOKEN = (("Authorization", "Bearer demo-token"),)


def example(cluster, auth_port):
    text = d.example_text(FILE, cluster.demo_ports)
    return text.replace(str(AUTH_DEMO_PORT), str(auth_port))


@pytest.fixture(scope="module")
def auth():
    server = AuthServer("127.0.0.1", 0, {
        "demo-token": ("demo", False),
        "blocked-token": ("blocked", True)}).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cluster(module_clusters, auth):
    c = d.start_demo(module_clusters)
    d.write_example(c, FILE, example(c, auth.port))
    c.expect(HOST, "/", "302", deadline=h.START_DEADLINE)
    return c


def test_token_reaches_backend_with_user_headers(cluster):
    r = cluster.expect(HOST, "/orders", "service:api", headers=TOKEN + (
        ("X-Auth-Request-User", "spoofed"),))
    assert r.echoed_header("X-Auth-Request-User") == "demo"
    assert r.echoed_header("X-Auth-Request-Email") == "demo@example.com"
    r = cluster.request(HOST, "/orders",
                        headers=(("Cookie", "_oauth2_proxy=demo-token"),))
    assert r.outcome() == "service:api"


def test_no_session_redirects_to_signin_with_rd(cluster, auth):
    r = cluster.request(HOST, "/orders?id=7")
    assert r.status == 302
    location = r.header("Location")
    base, _, query = location.partition("?")
    assert base == "http://127.0.0.1:%d/oauth2/start" % auth.port
    assert urllib.parse.parse_qs(query)["rd"] == [
        "http://secure.example.com/orders?id=7"]
    # following the signin flow sets the session, which then works
    start = h.http_request(auth.port, "127.0.0.1:%d" % auth.port,
                           location[len("http://127.0.0.1:%d" % auth.port):])
    assert start.status == 302
    assert start.header("Location") == "http://secure.example.com/orders?id=7"
    cookie = start.header("Set-Cookie").split(";")[0]
    assert cluster.outcome(HOST, "/orders?id=7",
                           headers=(("Cookie", cookie),)) == "service:api"


def test_headers_and_method_the_auth_service_gets(cluster, auth):
    r = cluster.request(API_HOST, "/items?x=1", headers=TOKEN)
    assert r.outcome() == "service:api"
    seen = [s for s in auth.requests()
            if s["headers"].get("X-Original-URL") ==
            "http://secure-api.example.com/items?x=1"][-1]
    assert seen["method"] == "POST"
    assert seen["headers"]["X-Original-Method"] == "GET"
    assert seen["headers"]["X-Sent-From"] == "nginx-ingress-controller"
    assert seen["headers"]["X-Auth-Request-Redirect"] == "/items?x=1"
    # without auth-response-headers nothing of the answer is copied
    assert r.echoed_header("X-Auth-Request-User") is None


def test_refusals(cluster):
    r = cluster.request(API_HOST, "/")
    assert r.status == 401
    assert r.header("WWW-Authenticate") == 'Bearer realm="test"'
    assert cluster.request(API_HOST, "/", headers=(
        ("Authorization", "Bearer blocked-token"),)).status == 403
    assert cluster.request(HOST, "/", headers=(
        ("Authorization", "Bearer blocked-token"),)).status == 403


def test_auth_service_down_is_500_for_its_routes_only(cluster, auth):
    gen = cluster.generation()
    d.write_example(cluster, FILE, example(cluster, h.free_port()))
    cluster.wait_generation_above(gen)
    try:
        cluster.expect(HOST, "/", "500", headers=TOKEN)
        cluster.expect(API_HOST, "/", "500", headers=TOKEN)
        cluster.expect("shop.example.com", "/api/items", "service:api")
        assert d.log_lines(cluster, "external auth of ingress demo/secure "
                                    "failed")
    finally:
        gen = cluster.generation()
        d.write_example(cluster, FILE, example(cluster, auth.port))
        cluster.wait_generation_above(gen)
    cluster.expect(HOST, "/", "service:api", headers=TOKEN)


def test_invalid_auth_url_rejects_the_ingress(cluster, auth):
    text = example(cluster, auth.port).replace(
        "http://127.0.0.1:%d/oauth2/auth" % auth.port,
        "http://127.0.0.1:%d/oauth2/$remote_user" % auth.port, 1)
    d.write_example(cluster, FILE, text)
    try:
        h.eventually(lambda: d.log_lines(cluster, "ingress rejected",
                                         "auth-url"),
                     bool, "the rejection in the log")
        # the previous good version keeps being served, auth included
        assert cluster.request(HOST, "/").status == 302
    finally:
        d.write_example(cluster, FILE, example(cluster, auth.port))


def test_basic_and_external_auth_together_deny(cluster, auth):
    htpasswd = "user:{SHA}" + base64.b64encode(
        hashlib.sha1(b"pw").digest()).decode()
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "both-users", "namespace": "demo"},
              "data": {"auth": base64.b64encode(htpasswd.encode()).decode()}}
    basic = {"nginx.ingress.kubernetes.io/auth-type": "basic",
             "nginx.ingress.kubernetes.io/auth-secret": "both-users"}

    def write(annotations):
        cluster.manifests.write("both.yaml", [secret, h.ingress(
            "both", [h.rule("both.example.com",
                            h.path("/", "Prefix", "api", 8080))],
            namespace="demo", annotations=annotations)])

    write(basic)
    cluster.expect("both.example.com", "/", "401")
    cluster.expect("both.example.com", "/", "service:api", headers=(
        ("Authorization", "Basic " + base64.b64encode(b"user:pw").decode()),))
    write(dict(basic, **{"nginx.ingress.kubernetes.io/auth-url":
                         "http://127.0.0.1:%d/oauth2/auth" % auth.port}))
    # one of the two would be dropped: the routes deny instead
    cluster.expect("both.example.com", "/", "503", headers=(
        ("Authorization", "Basic " + base64.b64encode(b"user:pw").decode()),))
    assert d.log_lines(cluster, "routes denied", "demo/both")
    cluster.manifests.remove("both.yaml")
