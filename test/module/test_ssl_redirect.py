"""HTTP to HTTPS redirects and HSTS: a host with a tls[] entry redirects
plain HTTP with the ConfigMap's code (308 by default), the ACME challenge
stays on HTTP, force-ssl-redirect redirects without TLS, the trailing
slash goes unless preserved, X-Forwarded-Proto decides with
use-forwarded-headers, and HTTPS answers carry Strict-Transport-Security
while HTTP answers do not."""

from conftest import endpoint

HSTS = 0x1
INCLUDE_SUBDOMAINS = 0x2
PRELOAD = 0x4
USE_FORWARDED_HEADERS = 0x8
SSL_REDIRECT = 0x20


def spec(backend, policy="", config="", tls="a.example.com"):
    """a.example.com routes to svc-a, with policy p when given; b has no
    TLS and policy p too."""
    ref = " policy=p" if policy else ""
    return """
        backend a default/svc-a:80 %s
        %s
        route a.example.com Prefix / a default/ing%s
        route b.example.com Prefix / a default/other%s
        %s
        %s
    """ % (endpoint(backend), "policy p " + policy if policy else "", ref,
           ref, "host-tls " + tls if tls else "", config)


def test_tls_host_redirects_http_with_308(nginx, backends):
    nginx.publish(spec(backends("svc-a")))
    resp = nginx.request("/app/page?x=1", host="a.example.com")
    assert resp.status == 308
    assert resp.headers["Location"] == "https://a.example.com/app/page?x=1"
    assert resp.headers["Strict-Transport-Security"] is None


def test_tls_host_answers_https(nginx, backends):
    nginx.publish(spec(backends("svc-a")))
    resp = nginx.https_request("/app", host="a.example.com")
    assert resp.status == 200
    assert resp.json()["service"] == "svc-a"


def test_host_without_tls_is_not_redirected(nginx, backends):
    nginx.publish(spec(backends("svc-a")))
    resp = nginx.request("/app", host="b.example.com")
    assert resp.status == 200
    assert resp.headers["Strict-Transport-Security"] is None


def test_acme_challenge_stays_on_http(nginx, backends):
    nginx.publish(spec(backends("svc-a")))
    resp = nginx.request("/.well-known/acme-challenge/token",
                         host="a.example.com")
    assert resp.status == 200
    assert resp.json()["service"] == "svc-a"


def test_trailing_slash_is_stripped_except_the_root(nginx, backends):
    nginx.publish(spec(backends("svc-a")))
    resp = nginx.request("/app/", host="a.example.com")
    assert resp.headers["Location"] == "https://a.example.com/app"
    resp = nginx.request("/", host="a.example.com")
    assert resp.headers["Location"] == "https://a.example.com/"


def test_preserve_trailing_slash(nginx, backends):
    nginx.publish(spec(backends("svc-a"),
                       policy="ssl-redirect preserve-trailing-slash"))
    resp = nginx.request("/app/", host="a.example.com")
    assert resp.status == 308
    assert resp.headers["Location"] == "https://a.example.com/app/"


def test_policy_without_ssl_redirect_stays_on_http(nginx, backends):
    nginx.publish(spec(backends("svc-a"), policy="cors"))
    resp = nginx.request("/app", host="a.example.com")
    assert resp.status == 200


def test_force_ssl_redirect_without_tls(nginx, backends):
    nginx.publish(spec(backends("svc-a"), policy="force-ssl-redirect",
                       tls=""))
    resp = nginx.request("/x", host="b.example.com")
    assert resp.status == 308
    assert resp.headers["Location"] == "https://b.example.com/x"


def test_redirect_code_from_config(nginx, backends):
    nginx.publish(spec(backends("svc-a"),
                       config="config http-redirect-code=301"))
    resp = nginx.request("/app", host="a.example.com")
    assert resp.status == 301
    assert resp.headers["Location"] == "https://a.example.com/app"


def test_hsts_on_https_only(nginx, backends):
    nginx.publish(spec(backends("svc-a")))
    resp = nginx.https_request("/app", host="b.example.com")
    assert resp.status == 200
    assert (resp.headers["Strict-Transport-Security"]
            == "max-age=31536000; includeSubDomains")
    resp = nginx.request("/app", host="b.example.com")
    assert resp.headers["Strict-Transport-Security"] is None


def test_hsts_from_config(nginx, backends):
    nginx.publish(spec(backends("svc-a"),
                       config="config hsts-max-age=600 flags=%d"
                              % (HSTS | PRELOAD | SSL_REDIRECT)))
    resp = nginx.https_request("/app", host="a.example.com")
    assert resp.headers["Strict-Transport-Security"] == "max-age=600; preload"
    nginx.publish(spec(backends("svc-a"),
                       config="config flags=%d" % SSL_REDIRECT))
    resp = nginx.https_request("/app", host="a.example.com")
    assert resp.status == 200
    assert resp.headers["Strict-Transport-Security"] is None


def test_forwarded_proto_decides_with_use_forwarded_headers(nginx, backends):
    flags = HSTS | INCLUDE_SUBDOMAINS | SSL_REDIRECT | USE_FORWARDED_HEADERS
    nginx.publish(spec(backends("svc-a"), config="config flags=%d" % flags))
    resp = nginx.request("/app", host="a.example.com",
                         headers={"X-Forwarded-Proto": "https"})
    assert resp.status == 200
    assert (resp.headers["Strict-Transport-Security"]
            == "max-age=31536000; includeSubDomains")
    resp = nginx.request("/app", host="a.example.com",
                         headers={"X-Forwarded-Proto": "http"})
    assert resp.status == 308
    resp = nginx.https_request("/app", host="a.example.com")
    assert resp.status == 308


def test_forwarded_proto_ignored_by_default(nginx, backends):
    nginx.publish(spec(backends("svc-a")))
    resp = nginx.request("/app", host="a.example.com",
                         headers={"X-Forwarded-Proto": "https"})
    assert resp.status == 308


def test_permanent_redirect_answers_before_ssl_redirect(nginx, backends):
    nginx.publish(spec(backends("svc-a"),
                       policy="ssl-redirect redirect=301,https://x.example/"))
    resp = nginx.request("/app", host="a.example.com")
    assert resp.status == 301
    assert resp.headers["Location"] == "https://x.example/"
