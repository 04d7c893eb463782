"""External auth from route policies (auth-url): the auth service's answer
decides (2xx through, 401, 403, anything else 500), its listed headers
reach the backend in place of the client's, its cookies reach the client,
a 401 becomes a redirect to the signin URL with rd=, and it composes with
source ranges and CORS preflights."""

import os
import socket
import sys

import pytest

from conftest import REPO, Nginx, endpoint

sys.path.insert(0, os.path.join(REPO, "test", "backends"))
from auth_server import AuthServer  # noqa: E402

HEADERS = "X-Auth-Request-User,X-Auth-Request-Email"
ALICE = {"Authorization": "Bearer s3cret"}


@pytest.fixture
def auth():
    server = AuthServer("127.0.0.1", 0, {
        "s3cret": ("alice", False), "n0pe": ("mallory", True)}).start()
    yield server
    server.stop()


def auth_url(auth, path="/oauth2/auth"):
    return "http://127.0.0.1:%d%s" % (auth.port, path)


def table(backend, policy, extra=""):
    return """
        backend a default/svc-a:80 %s
        policy p %s
        route a.example.com Prefix / a default/ing policy=p
        route b.example.com Prefix / a default/open
        %s
    """ % (endpoint(backend), policy, extra)


def echoed(resp, name):
    return resp.json()["headers"].get(name)


def test_valid_token_reaches_backend_with_user_headers(nginx, backends, auth):
    a = backends("svc-a")
    nginx.publish(table(a, "auth-url=%s auth-response-headers=%s"
                        % (auth_url(auth), HEADERS)))
    resp = nginx.request("/app?x=1", host="a.example.com", headers={
        "Authorization": "Bearer s3cret",
        "X-Auth-Request-User": "spoofed", "X-Other": "kept"})
    assert resp.status == 200
    assert resp.json()["service"] == "svc-a"
    assert echoed(resp, "X-Auth-Request-User") == ["alice"]
    assert echoed(resp, "X-Auth-Request-Email") == ["alice@example.com"]
    assert echoed(resp, "X-Other") == ["kept"]
    # the refreshed session cookie of the answer reaches the client
    assert resp.headers["Set-Cookie"] == "_oauth2_proxy=s3cret; Path=/; " \
                                         "HttpOnly"
    # a session cookie works as well as a bearer token
    resp = nginx.request("/", host="a.example.com",
                         headers={"Cookie": "_oauth2_proxy=s3cret"})
    assert echoed(resp, "X-Auth-Request-User") == ["alice"]


def test_spoofed_user_header_is_dropped_when_answer_lacks_it(nginx, backends,
                                                             auth):
    a = backends("svc-a")
    nginx.publish(table(a, "auth-url=%s auth-response-headers=X-Auth-Group"
                        % auth_url(auth)))
    resp = nginx.request("/", host="a.example.com", headers=dict(
        ALICE, **{"X-Auth-Group": "admins"}))
    assert resp.status == 200
    assert echoed(resp, "X-Auth-Group") is None


def test_headers_the_auth_service_receives(nginx, backends, auth):
    a = backends("svc-a")
    nginx.publish(table(a, "auth-url=%s" % auth_url(auth)))
    resp = nginx.request("/app/page?q=a%20b", host="a.example.com",
                         method="POST", headers=dict(
                             ALICE, **{"Content-Length": "5",
                                       "X-Client": "c"}),
                         body=b"hello")
    assert resp.status == 200
    assert resp.json()["body_length"] == 5
    seen = auth.requests()[-1]
    h = seen["headers"]
    assert seen["method"] == "GET"
    assert seen["path"] == "/oauth2/auth"
    assert h["X-Original-URL"] == "http://a.example.com/app/page?q=a%20b"
    assert h["X-Original-URI"] == "/app/page?q=a%20b"
    assert h["X-Original-Method"] == "POST"
    assert h["X-Sent-From"] == "nginx-ingress-controller"
    assert h["X-Real-IP"] == "127.0.0.1"
    assert h["X-Forwarded-For"] == "127.0.0.1"
    assert h["X-Forwarded-Host"] == "a.example.com"
    assert h["X-Forwarded-Proto"] == "http"
    assert h["X-Auth-Request-Redirect"] == "/app/page?q=a%20b"
    assert h["Host"] == "127.0.0.1:%d" % auth.port
    assert h["X-Client"] == "c"
    assert len(h["X-Request-ID"]) == 32
    # no body: neither bytes nor a length
    assert "Content-Length" not in h


def test_auth_method_and_request_redirect(nginx, backends, auth):
    a = backends("svc-a")
    nginx.publish(table(a, "auth-url=%s auth-method=POST "
                           "auth-request-redirect=https://$host/back"
                        % auth_url(auth)))
    assert nginx.request("/x", host="a.example.com",
                         headers=ALICE).status == 200
    seen = auth.requests()[-1]
    assert seen["method"] == "POST"
    assert seen["headers"]["X-Auth-Request-Redirect"] == \
        "https://a.example.com/back"


def test_missing_token_is_401_with_challenge(nginx, backends, auth):
    a = backends("svc-a")
    nginx.publish(table(a, "auth-url=%s" % auth_url(auth)))
    resp = nginx.request("/", host="a.example.com")
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="test"'
    # cookies of a refusal only with auth-always-set-cookie
    assert "Set-Cookie" not in resp.headers
    assert a.counters["requests"] == 0
    # a route without auth is not affected
    assert nginx.request("/", host="b.example.com").status == 200


def test_always_set_cookie_on_refusal(nginx, backends, auth):
    a = backends("svc-a")
    nginx.publish(table(a, "auth-url=%s auth-always-set-cookie"
                        % auth_url(auth)))
    resp = nginx.request("/", host="a.example.com")
    assert resp.status == 401
    assert resp.headers["Set-Cookie"] == "_oauth2_proxy_csrf=pending; Path=/"


def test_forbidden_user_is_403(nginx, backends, auth):
    a = backends("svc-a")
    nginx.publish(table(a, "auth-url=%s" % auth_url(auth)))
    resp = nginx.request("/", host="a.example.com",
                         headers={"Authorization": "Bearer n0pe"})
    assert resp.status == 403
    assert a.counters["requests"] == 0


@pytest.mark.parametrize("answer", ["500", "404", "302", "400", "503"])
def test_other_answers_are_500(nginx, backends, auth, answer):
    a = backends("svc-a")
    nginx.publish(table(a, "auth-url=%s" % auth_url(auth)))
    resp = nginx.request("/", host="a.example.com",
                         headers=dict(ALICE, **{"X-Auth-Test-Status": answer}))
    assert resp.status == 500
    assert a.counters["requests"] == 0
    assert "external auth of ingress default/ing failed: status %s" \
        % answer in nginx.error_log()


def test_2xx_answers_let_through(nginx, backends, auth):
    a = backends("svc-a")
    nginx.publish(table(a, "auth-url=%s" % auth_url(auth)))
    for answer in ("200", "204"):
        resp = nginx.request("/", host="a.example.com",
                             headers={"X-Auth-Test-Status": answer})
        assert resp.status == 200, answer


def test_unreachable_service_is_500_and_other_routes_serve(nginx, backends):
    a = backends("svc-a")
    # bound without listening: refused, and no other test can take it
    with socket.socket() as refusing:
        refusing.bind(("127.0.0.1", 0))
        nginx.publish(table(a, "auth-url=http://127.0.0.1:%d/oauth2/auth"
                            % refusing.getsockname()[1]))
        assert nginx.request("/", host="a.example.com",
                             headers=ALICE).status == 500
    assert nginx.request("/", host="b.example.com").status == 200
    assert a.counters["requests"] == 1


def test_policy_without_url_denies(nginx, backends):
    a = backends("svc-a")
    nginx.publish(table(a, "auth-external"))
    assert nginx.request("/", host="a.example.com").status == 500
    assert "has external auth without an auth URL: denied" \
        in nginx.error_log()


def test_signin_redirect_with_rd(nginx, backends, auth):
    a = backends("svc-a")
    signin = ("https://login.example/oauth2/start?rd=$pass_access_scheme://"
              "$http_host$escaped_request_uri")
    nginx.publish(table(a, "auth-url=%s auth-signin=%s"
                        % (auth_url(auth), signin)))
    resp = nginx.request("/app/x?y=1&z=2", host="a.example.com")
    assert resp.status == 302
    assert resp.headers["Location"] == (
        "https://login.example/oauth2/start?rd=http://a.example.com"
        "%2Fapp%2Fx%3Fy%3D1%26z%3D2")
    # the answer's cookie goes with the redirect, as in ingress-nginx
    assert resp.headers["Set-Cookie"] == "_oauth2_proxy_csrf=pending; Path=/"
    # signed in: through
    resp = nginx.request("/app/x", host="a.example.com", headers=ALICE)
    assert resp.status == 200
    # refused users are not redirected
    resp = nginx.request("/", host="a.example.com",
                         headers={"Authorization": "Bearer n0pe"})
    assert resp.status == 403


def test_source_ranges_refuse_before_auth(nginx, backends, auth):
    a = backends("svc-a")
    nginx.publish(table(a, "deny=127.0.0.1/32 auth-url=%s"
                        % auth_url(auth)))
    assert nginx.request("/", host="a.example.com",
                         headers=ALICE).status == 403
    assert auth.requests() == []


def test_cors_preflight_is_answered_without_auth(nginx, backends, auth):
    a = backends("svc-a")
    nginx.publish(table(a, "cors cors-origin=* cors-methods=GET "
                           "cors-headers=X-A auth-url=%s" % auth_url(auth)))
    resp = nginx.request("/", host="a.example.com", method="OPTIONS",
                         headers={"Origin": "https://app.example",
                                  "Access-Control-Request-Method": "GET"})
    assert resp.status == 204
    assert auth.requests() == []
    # the actual request needs auth, and carries the CORS headers
    resp = nginx.request("/", host="a.example.com", headers=dict(
        ALICE, **{"Origin": "https://app.example"}))
    assert resp.status == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


def test_auth_location_is_internal(nginx, backends, auth):
    a = backends("svc-a")
    nginx.publish(table(a, "auth-url=%s" % auth_url(auth)))
    assert nginx.request("/_shmingress_auth", host="a.example.com",
                         headers=ALICE).status == 404
    assert auth.requests() == []


class NginxWithoutAuthLocation(Nginx):
    """The shipped template minus its auth location."""

    def render(self):
        path = super().render()
        with open(path) as f:
            text = f.read()
        start = text.index("location = /_shmingress_auth {")
        end = text.index("}", start)
        with open(path, "w") as f:
            f.write(text[:start] + text[end + 1:])
        return path


def test_template_without_auth_location_fails_closed(tmp_path, backends,
                                                     auth):
    nginx = NginxWithoutAuthLocation(tmp_path / "state").start()
    try:
        a = backends("svc-a")
        nginx.publish(table(a, "auth-url=%s" % auth_url(auth)))
        # the subrequest lands in the routing location and the backend
        # answers 200: that is not an answer of the auth service
        assert nginx.request("/", host="a.example.com",
                             headers=ALICE).status == 500
        assert auth.requests() == []
        assert "has no \"location = /_shmingress_auth\"" in nginx.error_log()
        assert nginx.request("/", host="b.example.com").status == 200
    finally:
        nginx.stop()
