"""CORS from route policies: preflights answered by the module, headers
on proxied answers, origin lists with wildcards, credentials, and no
CORS headers for origins not on the list."""

import http.server
import threading

from conftest import endpoint

DEFAULT_METHODS = "GET, PUT, POST, DELETE, PATCH, OPTIONS"


def cors(backend, policy):
    return """
        backend a default/svc-a:80 %s
        policy p cors %s
        route a.example.com Prefix / a default/ing policy=p
        route b.example.com Prefix / a default/other
    """ % (endpoint(backend), policy)


def preflight(nginx, origin, host="a.example.com"):
    return nginx.request("/api", host=host, method="OPTIONS", headers={
        "Origin": origin,
        "Access-Control-Request-Method": "PUT"})


def test_preflight_is_answered_with_204(nginx, backends):
    a = backends("svc-a")
    nginx.publish(cors(a, "cors-credentials cors-origin=* "
                          "cors-methods=GET,PUT cors-headers=X-A,X-B "
                          "cors-max-age=600"))
    resp = preflight(nginx, "https://app.example.org")
    assert resp.status == 204
    assert resp.body == b""
    h = resp.headers
    assert h["Access-Control-Allow-Origin"] == "*"
    assert h["Access-Control-Allow-Credentials"] == "true"
    assert h["Access-Control-Allow-Methods"] == "GET,PUT"
    assert h["Access-Control-Allow-Headers"] == "X-A,X-B"
    assert h["Access-Control-Max-Age"] == "600"
    assert h["Content-Type"] == "text/plain charset=UTF-8"
    assert h["Content-Length"] == "0"
    assert "Access-Control-Expose-Headers" not in h


def test_simple_request_gets_headers_and_reaches_backend(nginx, backends):
    a = backends("svc-a")
    nginx.publish(cors(a, "cors-origin=* cors-methods=GET "
                          "cors-headers=X-A cors-expose=X-Total,X-Page "
                          "cors-max-age=1728000"))
    resp = nginx.request("/api", host="a.example.com",
                         headers={"Origin": "https://x.example"})
    assert resp.status == 200
    assert resp.json()["service"] == "svc-a"
    h = resp.headers
    assert h["Access-Control-Allow-Origin"] == "*"
    assert h["Access-Control-Expose-Headers"] == "X-Total,X-Page"
    assert h["Access-Control-Max-Age"] == "1728000"
    assert "Access-Control-Allow-Credentials" not in h

    # a route without CORS gets none
    resp = nginx.request("/api", host="b.example.com",
                         headers={"Origin": "https://x.example"})
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_origin_list_echoes_matching_origin(nginx, backends):
    a = backends("svc-a")
    nginx.publish(cors(a, "cors-credentials "
                          "cors-origin=https://app.example.org,"
                          "https://*.example.com:8443 "
                          "cors-methods=GET cors-headers=X-A"))
    for origin in ("https://app.example.org", "https://a.example.com:8443"):
        resp = nginx.request("/", host="a.example.com",
                             headers={"Origin": origin})
        assert resp.status == 200
        assert resp.headers["Access-Control-Allow-Origin"] == origin
        assert resp.headers["Access-Control-Allow-Credentials"] == "true"
        assert preflight(nginx, origin).status == 204

    for origin in ("https://evil.example", "http://app.example.org",
                   "https://a.b.example.com:8443",
                   "https://example.com:8443", "https://a.example.com"):
        resp = nginx.request("/", host="a.example.com",
                             headers={"Origin": origin})
        assert resp.status == 200
        assert "Access-Control-Allow-Origin" not in resp.headers, origin
        assert "Access-Control-Allow-Credentials" not in resp.headers

    # no Origin at all: not a CORS request
    resp = nginx.request("/", host="a.example.com")
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_preflight_from_unlisted_origin_goes_to_backend(nginx, backends):
    a = backends("svc-a")
    nginx.publish(cors(a, "cors-origin=https://app.example.org "
                          "cors-methods=GET cors-headers=X-A"))
    resp = preflight(nginx, "https://evil.example")
    assert resp.status != 204
    assert "Access-Control-Allow-Origin" not in resp.headers
    assert resp.json()["method"] == "OPTIONS"


def test_options_without_preflight_headers_is_proxied(nginx, backends):
    a = backends("svc-a")
    nginx.publish(cors(a, "cors-origin=* cors-methods=GET cors-headers=X-A"))
    resp = nginx.request("/", host="a.example.com", method="OPTIONS")
    assert resp.json()["method"] == "OPTIONS"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


class CorsBackend(http.server.ThreadingHTTPServer):
    """A backend that sends CORS headers of its own."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Access-Control-Allow-Origin",
                             "https://backend.example")
            self.send_header("Access-Control-Max-Age", "5")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    def __init__(self):
        super().__init__(("127.0.0.1", 0), self.Handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_route_headers_replace_the_backends(nginx):
    backend = CorsBackend()
    try:
        nginx.publish(cors(backend, "cors-origin=https://app.example.org "
                                    "cors-methods=GET cors-headers=X-A "
                                    "cors-max-age=60"))
        resp = nginx.request("/", host="a.example.com",
                             headers={"Origin": "https://app.example.org"})
        assert resp.headers.get_all("Access-Control-Allow-Origin") == \
            ["https://app.example.org"]
        assert resp.headers.get_all("Access-Control-Max-Age") == ["60"]

        # an origin not on the list: the backend's own headers pass
        resp = nginx.request("/", host="a.example.com",
                             headers={"Origin": "https://evil.example"})
        assert resp.headers["Access-Control-Allow-Origin"] == \
            "https://backend.example"
    finally:
        backend.shutdown()
        backend.server_close()


def test_preflight_is_answered_before_source_ranges(nginx, backends):
    a = backends("svc-a")
    nginx.publish(cors(a, "cors-origin=* cors-methods=GET cors-headers=X-A "
                          "allow=10.0.0.0/8"))
    assert preflight(nginx, "https://app.example.org").status == 204
    resp = nginx.request("/", host="a.example.com",
                         headers={"Origin": "https://app.example.org"})
    assert resp.status == 403
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
