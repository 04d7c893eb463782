"""Redirect annotations end to end, from examples/redirects.yaml: each
code of permanent-redirect and temporal-redirect, temporal winning over
permanent, and from-to-www-redirect.  Redirects are answered by nginx,
never by the backend.
"""

import pytest

import demo_examples as d

FILE = "redirects.yaml"
HOST = "redirect.example.com"

CASES = [
    ("/old", 301, "https://www.example.org/new"),
    ("/old/deeper?q=1", 301, "https://www.example.org/new"),
    ("/gone", 308, "https://www.example.org/gone"),
    ("/sale", 302, "https://shop.example.org/sale"),
    ("/maint", 307, "https://status.example.org/"),
    ("/both", 302, "https://b.example.org/"),
]


cluster = d.demo_fixture(FILE)


@pytest.mark.parametrize("target,code,location", CASES)
def test_redirect_codes(cluster, target, code, location):
    r = cluster.expect(HOST, target, str(code))
    assert r.header("Location") == location, r.headers


def test_paths_without_redirect_are_not_routed(cluster):
    cluster.expect(HOST, "/elsewhere", "404")


def test_from_to_www(cluster):
    r = cluster.expect("www.example.net", "/any/path?q=1", "308")
    assert r.header("Location") == "http://example.net/any/path?q=1", \
        r.headers
    r = cluster.expect("www.example.net", "/", "308")
    assert r.header("Location") == "http://example.net/", r.headers
    # the Ingress's own host is served as usual
    cluster.expect("example.net", "/any/path", "service:web")
