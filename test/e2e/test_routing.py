"""Host and path matching through the whole stack (controller -> table ->
nginx), case by case from ingress-semantics §2.6 and §2.7, plus our
documented choices: ImplementationSpecific is a string prefix (as in
ingress-nginx), a matched host never falls through to another bucket, and
the request path is nginx's normalized URI.

Every case lives on its own host in its own Ingress, so one broken case
cannot hide or cause another.  There is no catch-all rule and no default
backend here: "no match" is the controller's 404.
"""

import pytest

import harness as h

E, P, I = "Exact", "Prefix", "ImplementationSpecific"

# (case, [(pathType, rule path)], request target, winner or None for 404)
PATH_CASES = [
    ("1a", [(P, "/")], "/", (P, "/")),
    ("1b", [(P, "/")], "/anything/deep?q=1", (P, "/")),
    ("2", [(E, "/foo")], "/foo", (E, "/foo")),
    ("3", [(E, "/foo")], "/bar", None),
    ("4", [(E, "/foo")], "/foo/", None),
    ("5", [(E, "/foo/")], "/foo", None),
    ("6a", [(P, "/foo")], "/foo", (P, "/foo")),
    ("6b", [(P, "/foo")], "/foo/", (P, "/foo")),
    ("7a", [(P, "/foo/")], "/foo", (P, "/foo/")),
    ("7b", [(P, "/foo/")], "/foo/", (P, "/foo/")),
    ("8", [(P, "/aaa/bb")], "/aaa/bbb", None),
    ("9", [(P, "/aaa/bbb")], "/aaa/bbb", (P, "/aaa/bbb")),
    ("10", [(P, "/aaa/bbb/")], "/aaa/bbb", (P, "/aaa/bbb/")),
    ("11", [(P, "/aaa/bbb")], "/aaa/bbb/", (P, "/aaa/bbb")),
    ("12", [(P, "/aaa/bbb")], "/aaa/bbb/ccc", (P, "/aaa/bbb")),
    ("13", [(P, "/aaa/bbb")], "/aaa/bbbxyz", None),
    ("14", [(P, "/"), (P, "/aaa")], "/aaa/ccc", (P, "/aaa")),
    ("15", [(P, "/"), (P, "/aaa"), (P, "/aaa/bbb")], "/aaa/bbb",
     (P, "/aaa/bbb")),
    ("16", [(P, "/"), (P, "/aaa"), (P, "/aaa/bbb")], "/ccc", (P, "/")),
    ("17", [(P, "/aaa")], "/ccc", None),
    ("18", [(P, "/foo"), (E, "/foo")], "/foo", (E, "/foo")),
    ("19", [(P, "/foo/bar")], "/foo/barbaz", None),
    ("20", [(P, "/foo/bar")], "/foo/bar/baz", (P, "/foo/bar")),
    ("21a", [(P, "/foo"), (P, "/foo/")], "/foo", (P, "/foo/")),
    ("21b", [(P, "/foo"), (P, "/foo/")], "/foo/", (P, "/foo/")),
    ("22", [(P, "/foo"), (E, "/foo")], "/foo/", (P, "/foo")),
    ("23", [(E, "/foo")], "/FOO", None),
    ("24", [(P, "/foo")], "/foo?x=/bar", (P, "/foo")),
    # Deliberate choice (ingress-semantics §2.5): Exact beats a longer
    # Prefix, as the KEP says, although the docs' length rule differs.
    ("25", [(E, "/foo"), (P, "/foo/")], "/foo", (E, "/foo")),
    # ImplementationSpecific: a plain string prefix like ingress-nginx.
    ("impl-1", [(I, "/foo")], "/foo", (I, "/foo")),
    ("impl-2", [(I, "/foo")], "/foobar", (I, "/foo")),
    ("impl-3", [(I, "/foo")], "/fo", None),
    ("impl-4", [(I, "/foo"), (I, "/foo/bar")], "/foo/barx", (I, "/foo/bar")),
    ("impl-5", [(E, "/foo"), (I, "/foo")], "/foo", (E, "/foo")),
    ("impl-6", [(P, "/foo"), (I, "/foo/b")], "/foo/bar", (I, "/foo/b")),
    ("impl-7", [(P, "/foo/bar"), (I, "/foo")], "/foo/bar/x", (P, "/foo/bar")),
    ("impl-8", [(I, None)], "/any/thing", (I, None)),
    # The request path is nginx's normalized URI (merged slashes, dot
    # segments resolved, percent-decoded) -- docs/routing.md.
    ("norm-1", [(P, "/aaa/bbb")], "/aaa//bbb", (P, "/aaa/bbb")),
    ("norm-2", [(P, "/aaa/bbb")], "/aaa/./bbb/ccc", (P, "/aaa/bbb")),
    ("norm-3", [(P, "/aaa/bbb")], "/zzz/../aaa/bbb", (P, "/aaa/bbb")),
    ("norm-4", [(E, "/foo")], "/f%6Fo", (E, "/foo")),
]

# Host rules (no catch-all anywhere in this cluster).
HOST_RULES = [
    ("foo.bar.com", "host-exact"),
    ("*.foo.com", "host-wildcard-foo"),
    ("*.bar.com", "host-wildcard-bar"),
]

# (case, Host header, expected service or None for 404)
HOST_CASES = [
    ("wildcard-one-label", "bar.foo.com", "host-wildcard-foo"),
    ("wildcard-two-labels", "baz.bar.foo.com", None),
    ("wildcard-zero-labels", "foo.com", None),
    ("exact-beats-wildcard", "foo.bar.com", "host-exact"),
    ("wildcard-sibling", "other.bar.com", "host-wildcard-bar"),
    ("case-insensitive", "FOO.Bar.COM", "host-exact"),
    ("port-ignored", "foo.bar.com:8080", "host-exact"),
    ("port-ignored-wildcard", "bar.foo.com:80", "host-wildcard-foo"),
    ("trailing-dot", "foo.bar.com.", "host-exact"),
    ("unknown-host", "unknown.example", None),
    ("bare-ip", "127.0.0.1", None),
]


def service_name(path_type, rule_path):
    kind = {E: "exact", P: "prefix", I: "impl"}[path_type]
    if rule_path is None:
        return kind + "-empty"
    slug = rule_path.strip("/").replace("/", "-") or "root"
    if rule_path != "/" and rule_path.endswith("/"):
        slug += "-slash"
    return "%s-%s" % (kind, slug)


def case_host(case):
    return "case-%s.paths.test" % case


def routing_objects(backends):
    objects = [h.ingress_class()]
    names = {service_name(t, p) for _, paths, _, _ in PATH_CASES
             for t, p in paths}
    names |= {svc for _, svc in HOST_RULES} | {"only-exact", "sentinel"}
    for name in sorted(names):
        objects += backends.add(name).objects()
    for case, paths, _, _ in PATH_CASES:
        objects.append(h.ingress("case-" + case, [h.rule(
            case_host(case),
            *[h.path(p, t, service_name(t, p)) for t, p in paths])]))
    objects.append(h.ingress("hosts", [
        h.rule(host, h.path("/", P, svc)) for host, svc in HOST_RULES]))
    # A host with one Exact path: misses must not fall through to the
    # *.bar.com wildcard bucket.
    objects.append(h.ingress("only-exact", [h.rule(
        "only.bar.com", h.path("/only", E, "only-exact"))]))
    objects.append(h.ingress("sentinel", [h.rule(
        "ready.test", h.path("/", P, "sentinel"))]))
    return objects


@pytest.fixture(scope="module")
def cluster(module_clusters):
    c = module_clusters()
    return h.start_with(c, {"routing.yaml": routing_objects(c.backends)},
                        ready=("ready.test", "/", "service:sentinel"))


def expected_outcome(winner):
    return "service:" + service_name(*winner) if winner else "404"


@pytest.mark.parametrize("case,paths,target,winner", PATH_CASES,
                         ids=[c[0] for c in PATH_CASES])
def test_path_matching(cluster, case, paths, target, winner):
    r = cluster.expect(case_host(case), target, expected_outcome(winner))
    if winner:
        assert r.json["path"] == target, "request target forwarded unchanged"
    else:
        assert r.body.startswith(h.NOT_FOUND_BODY)


@pytest.mark.parametrize("case,host,svc", HOST_CASES,
                         ids=[c[0] for c in HOST_CASES])
def test_host_matching(cluster, case, host, svc):
    r = cluster.expect(host, "/", "service:" + svc if svc else "404")
    if svc:
        assert r.json["host"] == host, "Host header forwarded unchanged"


def test_matched_host_does_not_fall_through_to_wildcard(cluster):
    cluster.expect("only.bar.com", "/only", "service:only-exact")
    cluster.expect("only.bar.com", "/other", "404")


def test_unknown_host_gets_default_backend_page(cluster):
    r = cluster.expect("nothing-here.test", "/", "404")
    assert r.body.startswith(h.NOT_FOUND_BODY)
