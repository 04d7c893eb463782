"""CORS end to end, from examples/cors.yaml: enable-cors alone gives
ingress-nginx's defaults; every cors-* key is honoured on the other
Ingress.  Preflights are answered with 204 without reaching the backend,
normal answers carry the headers, and origins not on the list get none
(their preflights go to the backend).
"""

import pytest

import demo_examples as d

FILE = "cors.yaml"
DEFAULTS, CUSTOM = "cors.example.com", "app-cors.example.com"
DEFAULT_METHODS = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
DEFAULT_HEADERS = ("DNT,Keep-Alive,User-Agent,X-Requested-With,"
                   "If-Modified-Since,Cache-Control,Content-Type,Range,"
                   "Authorization")
CORS_HEADERS = ("Access-Control-Allow-Origin",
                "Access-Control-Allow-Credentials",
                "Access-Control-Allow-Methods",
                "Access-Control-Allow-Headers",
                "Access-Control-Expose-Headers", "Access-Control-Max-Age")


cluster = d.demo_fixture(FILE)


def preflight(cluster, host, origin):
    return cluster.request(host, "/items", method="OPTIONS", headers=[
        ("Origin", origin), ("Access-Control-Request-Method", "POST"),
        ("Access-Control-Request-Headers", "Content-Type")])


def get(cluster, host, origin=None):
    headers = [("Origin", origin)] if origin else []
    return cluster.request(host, "/items", headers=headers)


def cors_headers(resp):
    return {k: resp.header(k) for k in CORS_HEADERS
            if resp.header(k) is not None}


def test_defaults_on_preflight(cluster):
    r = preflight(cluster, DEFAULTS, "https://any.example")
    assert r.status == 204
    assert r.body == b"" and r.json is None  # the backend was not asked
    assert r.header("Content-Length") == "0"
    assert r.header("Content-Type") == "text/plain charset=UTF-8"
    assert cors_headers(r) == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": DEFAULT_METHODS,
        "Access-Control-Allow-Headers": DEFAULT_HEADERS,
        "Access-Control-Max-Age": "1728000"}


def test_defaults_on_normal_answers(cluster):
    r = get(cluster, DEFAULTS, "https://any.example")
    assert r.outcome() == "service:api"
    assert r.header("Access-Control-Allow-Origin") == "*"
    assert r.header("Access-Control-Allow-Credentials") == "true"
    assert r.header("Access-Control-Expose-Headers") is None
    # "*" answers without an Origin as well
    assert get(cluster, DEFAULTS).header("Access-Control-Allow-Origin") \
        == "*"


@pytest.mark.parametrize("origin", ["https://app.example.com",
                                    "https://eu.example.org"])
def test_every_key_on_a_listed_origin(cluster, origin):
    r = preflight(cluster, CUSTOM, origin)
    assert r.status == 204 and r.body == b""
    expected = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET, POST",
        "Access-Control-Allow-Headers": "X-Api-Key, Content-Type",
        "Access-Control-Expose-Headers": "X-Request-Id, X-Total",
        "Access-Control-Max-Age": "600"}
    # cors-allow-credentials "false": no Allow-Credentials header
    assert cors_headers(r) == expected
    r = get(cluster, CUSTOM, origin)
    assert r.outcome() == "service:api"
    assert cors_headers(r) == expected


@pytest.mark.parametrize("origin", ["https://evil.example",
                                    "http://app.example.com",
                                    "https://a.eu.example.org",
                                    "https://example.org"])
def test_unlisted_origin_gets_no_cors_headers(cluster, origin):
    r = get(cluster, CUSTOM, origin)
    assert r.outcome() == "service:api"
    assert cors_headers(r) == {}
    # its preflight is an ordinary OPTIONS request for the backend
    r = preflight(cluster, CUSTOM, origin)
    assert r.outcome() == "service:api" and r.json["method"] == "OPTIONS"
    assert cors_headers(r) == {}


def test_no_origin_is_not_a_cors_request(cluster):
    assert cors_headers(get(cluster, CUSTOM)) == {}


def test_routes_without_cors_get_none(cluster):
    r = cluster.request("shop.example.com", "/api/items",
                        headers=[("Origin", "https://app.example.com")])
    assert r.outcome() == "service:api"
    assert cors_headers(r) == {}
    r = preflight(cluster, "shop.example.com", "https://app.example.com")
    assert r.json["method"] == "OPTIONS"
