"""Redirects, rewrite-target and regex paths from route policies:
status codes and Location, the URI and headers the backend receives,
and how regex routes match."""

from conftest import endpoint


def one_route(nginx, backend, route, policy="", extra=""):
    nginx.publish("""
        backend a default/svc-a:80 %s
        policy p %s
        %s
        %s a default/ing policy=p
    """ % (endpoint(backend), policy, extra, route))


def test_permanent_and_temporal_redirects_answer_with_code_and_location(
        nginx, backends):
    a = backends("svc-a")
    for code in (301, 302, 307, 308):
        one_route(nginx, a, "route a.example.com Prefix /",
                  "redirect=%d,https://new.example.com/landing" % code)
        r = nginx.request("/any/path?x=1", host="a.example.com")
        assert r.status == code
        assert r.headers["Location"] == "https://new.example.com/landing"


def test_redirect_is_answered_even_without_endpoints(nginx):
    nginx.publish("""
        backend a default/svc-a:80 !no-endpoints
        policy p redirect=301,https://elsewhere.example.com/
        route a.example.com Prefix / a default/ing policy=p
    """)
    r = nginx.request("/", host="a.example.com")
    assert r.status == 301
    assert r.headers["Location"] == "https://elsewhere.example.com/"


def test_relative_redirects_keep_the_location_as_written(nginx, backends):
    a = backends("svc-a")
    one_route(nginx, a, "route a.example.com Prefix /",
              "redirect=301,/moved")
    r = nginx.request("/", host="a.example.com")
    assert r.headers["Location"] == ("http://a.example.com:%d/moved"
                                     % nginx.http_port)

    one_route(nginx, a, "route a.example.com Prefix /",
              "redirect=301,/moved relative-redirects")
    r = nginx.request("/", host="a.example.com")
    assert r.status == 301
    assert r.headers["Location"] == "/moved"


def test_app_root_redirects_only_the_root(nginx, backends):
    a = backends("svc-a")
    one_route(nginx, a, "route a.example.com Prefix /", "app-root=/app1")

    r = nginx.request("/", host="a.example.com:8080")
    assert r.status == 302
    assert r.headers["Location"] == "http://a.example.com:8080/app1"

    r = nginx.request("/app1", host="a.example.com")
    assert r.status == 200
    assert r.json()["path"] == "/app1"


def test_from_to_www_redirects_the_counterpart_host(nginx, backends):
    a = backends("svc-a")
    nginx.publish("""
        backend a default/svc-a:80 %s
        policy www from-to-www
        route example.com Prefix / a default/ing
        host-policy www.example.com www
    """ % endpoint(a))

    r = nginx.request("/p/q?x=1", host="www.example.com")
    assert r.status == 308
    assert r.headers["Location"] == "http://example.com/p/q?x=1"
    # the configured host itself is served
    r = nginx.request("/p", host="example.com")
    assert r.status == 200

    nginx.publish("""
        backend a default/svc-a:80 %s
        policy www from-to-www
        config http-redirect-code=301
        route www.other.example Prefix / a default/ing
        host-policy other.example www
    """ % endpoint(a))
    r = nginx.request("/", host="other.example")
    assert r.status == 301
    assert r.headers["Location"] == "http://www.other.example/"


def test_from_to_www_is_only_for_the_counterpart_vhost(nginx, backends):
    a, b = backends("svc-a"), backends("svc-b")
    nginx.publish("""
        backend a default/svc-a:80 %s
        backend b default/svc-b:80 %s
        policy p from-to-www
        route example.com Prefix / a default/ing policy=p
        route www.example.com Prefix / b default/other
    """ % (endpoint(a), endpoint(b)))
    r = nginx.request("/", host="www.example.com")
    assert r.status == 200
    assert r.json()["service"] == "svc-b"
    r = nginx.request("/", host="example.com")
    assert r.status == 200
    assert r.json()["service"] == "svc-a"


def test_rewrite_target_substitutes_regex_captures(nginx, backends):
    a = backends("svc-a")
    one_route(nginx, a, "route a.example.com Regex /something(/|$)(.*)",
              "rewrite=/$2")

    cases = [
        ("/something", "/"),
        ("/something/", "/"),
        ("/something/new/path", "/new/path"),
        ("/something/a%20b?x=1&y=2", "/a%20b?x=1&y=2"),
        ("/SOMETHING/upper", "/upper"),
    ]
    for path, upstream in cases:
        r = nginx.request(path, host="a.example.com")
        assert r.status == 200, (path, r.text)
        assert r.json()["path"] == upstream, path


def test_rewrite_target_with_arguments(nginx, backends):
    a = backends("svc-a")
    one_route(nginx, a, "route a.example.com Regex /api/(.*)",
              "rewrite=/v2/$1?from=api")
    r = nginx.request("/api/users?page=3", host="a.example.com")
    assert r.json()["path"] == "/v2/users?from=api&page=3"

    one_route(nginx, a, "route a.example.com Regex /api/(.*)",
              "rewrite=/v2/$1?")
    r = nginx.request("/api/users?page=3", host="a.example.com")
    assert r.json()["path"] == "/v2/users"


def test_x_forwarded_prefix_goes_with_a_rewrite(nginx, backends):
    a = backends("svc-a")
    one_route(nginx, a, "route a.example.com Regex /(svc)/(.*)",
              "rewrite=/$2 x-forwarded-prefix=/$1")
    r = nginx.request("/svc/x", host="a.example.com",
                      headers={"X-Forwarded-Prefix": "/client"})
    assert r.json()["path"] == "/x"
    assert r.json()["headers"]["X-Forwarded-Prefix"] == ["/svc"]

    # without a rewrite the client's header passes through untouched
    one_route(nginx, a, "route a.example.com Prefix /",
              "x-forwarded-prefix=/ignored")
    r = nginx.request("/svc/x", host="a.example.com",
                      headers={"X-Forwarded-Prefix": "/client"})
    assert r.json()["path"] == "/svc/x"
    assert r.json()["headers"]["X-Forwarded-Prefix"] == ["/client"]
    r = nginx.request("/svc/x", host="a.example.com")
    assert "X-Forwarded-Prefix" not in r.json()["headers"]


def test_regex_paths_are_caseless_start_anchored_and_after_exact(
        nginx, backends):
    a, b, c = backends("svc-a"), backends("svc-b"), backends("svc-c")
    nginx.publish("""
        backend a default/svc-a:80 %s
        backend b default/svc-b:80 %s
        backend c default/svc-c:80 %s
        route a.example.com Regex /users/[0-9]+ a default/ing
        route a.example.com Exact /users/42 b default/ing
        route a.example.com Prefix / c default/ing
    """ % (endpoint(a), endpoint(b), endpoint(c)))

    cases = [
        ("/users/7", "svc-a"),
        ("/USERS/7/profile", "svc-a"),   # caseless, a prefix match
        ("/users/42", "svc-b"),          # Exact wins over the regex
        ("/x/users/7", "svc-c"),         # anchored at the start
        ("/users/abc", "svc-c"),
    ]
    for path, service in cases:
        r = nginx.request(path, host="a.example.com")
        assert r.status == 200, (path, r.text)
        assert r.json()["service"] == service, path
        assert r.json()["path"] == path


def test_a_pattern_that_does_not_compile_never_matches(nginx, backends):
    a, c = backends("svc-a"), backends("svc-c")
    nginx.publish("""
        backend a default/svc-a:80 %s
        backend c default/svc-c:80 %s
        route a.example.com Regex /broken(  a default/ing
        route a.example.com Prefix / c default/ing
    """ % (endpoint(a), endpoint(c)))
    for _ in range(3):
        r = nginx.request("/broken(", host="a.example.com")
        assert r.json()["service"] == "svc-c"
    log = nginx.error_log()
    assert log.count('path of Ingress default/ing: pattern "^/broken(" '
                     'does not compile') == 1
