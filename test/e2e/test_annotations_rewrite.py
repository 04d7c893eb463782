"""Rewrites and regex paths end to end, from examples/rewrite.yaml:
rewrite-target with captures, x-forwarded-prefix, use-regex, app-root.
The echo backend reports the URI and headers it received.
"""

import demo_examples as d

FILE = "rewrite.yaml"


def backend_saw(cluster, host, target, service):
    r = cluster.expect(host, target, "service:" + service)
    return r.json["path"], r.echoed_header("X-Forwarded-Prefix")


def test_rewrite_target_with_captures(clusters):
    c = d.start_demo(clusters, FILE)
    host = "rewrite.example.com"
    for target, want in [("/something/new?x=1", "/new?x=1"),
                         ("/something/a/b/c", "/a/b/c"),
                         ("/something/", "/"),
                         ("/something", "/"),
                         ("/SOMETHING/case", "/case")]:
        path, prefix = backend_saw(c, host, target, "api")
        assert (path, prefix) == (want, "/something"), target
    # the regex is anchored at the start, not at the end: /somethingelse
    # does not match (/|$), and /x/something is not under it
    c.expect(host, "/somethingelse", "404")
    c.expect(host, "/x/something", "404")


def test_use_regex(clusters):
    c = d.start_demo(clusters, FILE)
    host = "regex.example.com"
    for target, service in [("/v2/items/7", "api"), ("/v12/items", "api"),
                            ("/V3/ITEMS", "api"), ("/vx/items", "web"),
                            ("/v2/item", "web"), ("/", "web")]:
        path, prefix = backend_saw(c, host, target, service)
        # no rewrite-target: the URI goes upstream unchanged and no
        # X-Forwarded-Prefix is added
        assert (path, prefix) == (target, None), target


def test_app_root(clusters):
    c = d.start_demo(clusters, FILE)
    host = "app.example.com"
    r = c.expect(host, "/", "302")
    assert r.header("Location") == "http://app.example.com/app1", r.headers
    assert backend_saw(c, host, "/app1", "web")[0] == "/app1"
    assert backend_saw(c, host, "/other", "web")[0] == "/other"


def test_other_routes_unaffected(clusters):
    c = d.start_demo(clusters, FILE)
    # hosts without annotations keep their Prefix semantics
    c.expect("shop.example.com", "/apix", "service:web")
    c.expect("shop.example.com", "/api/items", "service:api")
    path, prefix = backend_saw(c, "shop.example.com", "/api/items", "api")
    assert (path, prefix) == ("/api/items", None)
