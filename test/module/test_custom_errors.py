"""custom-http-errors and default-backend through real nginx: only the
listed codes are intercepted (other errors reach the client with their
own body), the default backend gets ingress-nginx's X-* headers and its
answer is the answer, the ConfigMap's list applies to routes without
their own, a default-backend annotation serves a route whose Service
has no ready endpoint, and HTTP/2 streams get the same error pages."""

import re
import subprocess

from conftest import endpoint


def spec(app, errors, extra=""):
    return ("backend app shop/app:8080 %s\n"
            "backend errors shop/error-pages:80 %s\n"
            "%s"
            "route shop.test Prefix / app shop/web%s\n"
            % (endpoint(app), endpoint(errors), extra,
               " policy=p" if "policy p" in extra else ""))


def test_listed_codes_go_to_the_default_backend_with_its_headers(
        nginx, backends):
    app, errors = backends("app"), backends("error-pages")
    nginx.publish(spec(app, errors,
                       "policy p custom-errors=404,503 "
                       "default-backend=errors\n"))

    r = nginx.request("/__status/503?q=1", host="shop.test",
                      headers={"Accept": "application/json"})
    assert r.status == 200
    body = r.json()
    assert body["service"] == "error-pages"
    assert body["path"] == "/?q=1"  # "/" with the query, as ingress-nginx
    h = body["headers"]
    assert h["X-Code"] == ["503"]
    assert h["X-Format"] == ["application/json"]
    assert h["X-Original-Uri"] == ["/__status/503?q=1"]
    assert h["X-Namespace"] == ["shop"]
    assert h["X-Ingress-Name"] == ["web"]
    assert h["X-Service-Name"] == ["app"]
    assert h["X-Service-Port"] == ["8080"]
    assert h["X-Request-Id"][0]

    # a code that is not listed passes through with the app's own body
    r = nginx.request("/__status/500", host="shop.test")
    assert r.status == 500 and r.json()["service"] == "app"

    # and so do answers that are not errors
    r = nginx.request("/ok", host="shop.test")
    assert r.status == 200 and r.json()["service"] == "app"


def test_the_default_backends_status_is_the_answer(nginx, backends):
    app, errors = backends("app"), backends("error-pages")
    nginx.publish(spec(app, errors,
                       "policy p custom-errors=404 default-backend=errors\n"))

    # the default backend answers "/" with 200: that is what the client
    # gets, as with ingress-nginx's error_page "=" form
    r = nginx.request("/__status/404", host="shop.test")
    assert r.status == 200 and r.json()["headers"]["X-Code"] == ["404"]


def test_without_a_default_backend_nginx_answers_the_code_itself(
        nginx, backends):
    app, errors = backends("app"), backends("error-pages")
    nginx.publish(spec(app, errors, "policy p custom-errors=503\n"))

    r = nginx.request("/__status/503", host="shop.test")
    assert r.status == 503
    assert b"503 Service Temporarily Unavailable" in r.body
    assert b"\"service\"" not in r.body


def test_global_default_backend_and_configmap_codes(nginx, backends):
    app, errors = backends("app"), backends("error-pages")
    other = backends("other")
    nginx.publish(
        "backend app shop/app:8080 %s\n"
        "backend errors ingress/default-http-backend:80 %s\n"
        "backend other shop/other:80 %s\n"
        "policy p custom-errors=502\n"
        "config custom-errors=404\n"
        "route shop.test Prefix / app shop/web\n"
        "route own.test Prefix / other shop/own policy=p\n"
        "default errors\n"
        % (endpoint(app), endpoint(errors), endpoint(other)))

    r = nginx.request("/__status/404", host="shop.test")
    assert r.status == 200
    assert r.json()["service"] == "error-pages"
    assert r.json()["headers"]["X-Code"] == ["404"]

    # a route with its own list uses only that list
    r = nginx.request("/__status/404", host="own.test")
    assert r.status == 404 and r.json()["service"] == "other"
    r = nginx.request("/__status/502", host="own.test")
    assert r.status == 200 and r.json()["headers"]["X-Code"] == ["502"]

    # a new table changes the codes without a reload
    nginx.publish(
        "backend app shop/app:8080 %s\n"
        "backend errors ingress/default-http-backend:80 %s\n"
        "route shop.test Prefix / app shop/web\n"
        "default errors\n" % (endpoint(app), endpoint(errors)))
    r = nginx.request("/__status/404", host="shop.test")
    assert r.status == 404 and r.json()["service"] == "app"


def test_default_backend_serves_a_service_without_endpoints(nginx, backends):
    errors = backends("error-pages")
    nginx.publish(
        "backend app shop/app:8080 !no-endpoints\n"
        "backend errors shop/error-pages:80 %s\n"
        "policy p default-backend=errors\n"
        "route shop.test Prefix / app shop/web policy=p\n"
        "route bare.test Prefix / app shop/bare\n"
        % endpoint(errors))

    r = nginx.request("/some/page", host="shop.test")
    assert r.status == 200
    assert r.json()["service"] == "error-pages"
    assert r.json()["path"] == "/some/page"

    r = nginx.request("/", host="bare.test")
    assert r.status == 503 and b"no ready endpoints" in r.body


def test_http2_requests_use_the_same_error_pages(nginx, backends):
    app, errors = backends("app"), backends("error-pages")
    nginx.publish(spec(app, errors,
                       "policy p custom-errors=404 default-backend=errors\n"))
    out = subprocess.run(
        ["nghttp", "-n", "-s", "-H", ":authority: shop.test",
         "https://127.0.0.1:%d/__status/404" % nginx.https_port,
         "https://127.0.0.1:%d/__status/500" % nginx.https_port],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    # -s prints one line per stream: id, three timings, code, size, path
    statuses = re.findall(r"^\s*\d+\s+\S+\s+\S+\s+\S+\s+(\d{3})\s",
                          out.stdout, re.M)
    assert sorted(statuses) == ["200", "500"], out.stdout
    assert errors.stats()["requests"] == 1
