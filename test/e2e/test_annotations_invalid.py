"""Invalid annotation values end to end, with every annotation example
of examples/ loaded: an Ingress with a value that does not parse is
rejected (a log line names namespace/name, key and value), the other
Ingresses keep being served, an invalid edit of a served Ingress keeps
its previous version, snippets are refused and a bad allowlist fails
closed.
"""

import time

import pytest

import harness as h
import demo_examples as d

PREFIX = "nginx.ingress.kubernetes.io/"
EXAMPLE_FILES = ("canary.yaml", "rate-limit.yaml", "rewrite.yaml",
                 "redirects.yaml", "access-control.yaml", "cors.yaml",
                 "proxy-settings.yaml", "affinity.yaml", "auth-basic.yaml",
                 "backend-protocols.yaml", "custom-errors.yaml")
P, IS = "Prefix", "ImplementationSpecific"

# name -> (annotations, path, pathType); the rejected key comes first
INVALID = {
    "bad-canary-bool": ({"canary": "maybe"}, "/", P),
    "bad-limit-rps": ({"limit-rps": "fast"}, "/", P),
    "bad-limit-negative": ({"limit-rpm": "-5"}, "/", P),
    "bad-rewrite-group": ({"rewrite-target": "/$3"}, "/a(/|$)(.*)", IS),
    "bad-regex": ({"use-regex": "true"}, "/(unclosed", IS),
    "bad-use-regex-bool": ({"use-regex": "sure"}, "/", P),
    "bad-redirect-url": ({"permanent-redirect": "not-a-url"}, "/", P),
    "bad-redirect-code": ({"permanent-redirect-code": "abc",
                           "permanent-redirect": "https://x.example.org/"},
                          "/", P),
    "bad-temporal-code": ({"temporal-redirect-code": "soon",
                           "temporal-redirect": "https://x.example.org/"},
                          "/", P),
    "bad-app-root": ({"app-root": "http://example.org/abs"}, "/", P),
    "bad-load-balance": ({"load-balance": "least_conn"}, "/", P),
    "bad-affinity-mode": ({"affinity-mode": "sometimes",
                           "affinity": "cookie"}, "/", P),
    "bad-cookie-samesite": ({"session-cookie-samesite": "Always",
                             "affinity": "cookie"}, "/", P),
}


def bad_ingress(name, annotations, path="/", path_type=P):
    return h.ingress(name, [h.rule(name + ".example.com",
                                   h.path(path, path_type, "web", "http"))],
                     namespace="demo",
                     annotations={PREFIX + k: v
                                  for k, v in annotations.items()})


def wait_rejected(cluster, name, key):
    """The rejection line of demo/name for key.  Checks of the paths
    against the annotations (rewrite-target groups, use-regex patterns)
    name the key without its prefix."""
    needles = ('msg="ingress rejected"', "object=demo/%s " % name)
    end = time.monotonic() + h.DEADLINE
    while time.monotonic() < end:
        for line in d.log_lines(cluster, *needles):
            if ('key="%s%s"' % (PREFIX, key) in line
                    or 'key="%s"' % key in line):
                return line
        time.sleep(0.05)
    raise AssertionError("no rejection of demo/%s for %s; log:\n%s"
                         % (name, key, cluster.log_tail()))


def assert_examples_served(c):
    c.expect("canary.example.com", "/", "service:api",
             headers=[("X-Canary", "always")])
    r = c.expect("rewrite.example.com", "/something/new", "service:api")
    assert r.json["path"] == "/new"
    c.expect("redirect.example.com", "/old", "301")
    c.expect("regex.example.com", "/v2/items", "service:api")
    c.expect("shop.example.com", "/api/items", "service:api")
    c.expect("allow.example.com", "/", "service:web")
    c.expect("cors.example.com", "/", "service:api")
    c.expect("vhost.example.com", "/", "service:api")
    c.expect("hash.example.com", "/", "service:web")
    c.expect("private.example.com", "/", "401")


cluster = d.demo_fixture(*EXAMPLE_FILES)


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_value_rejects_the_ingress(cluster, name):
    annotations, path, path_type = INVALID[name]
    key, value = next(iter(annotations.items()))
    cluster.manifests.write(name + ".yaml", [
        bad_ingress(name, annotations, path, path_type)])
    line = wait_rejected(cluster, name, key)
    # a path that is not a valid regex is itself the bad value
    bad = path if key == "use-regex" and value == "true" else value
    assert 'value="%s"' % bad in line, line
    cluster.expect(name + ".example.com", "/", "404")
    assert_examples_served(cluster)


def test_invalid_canary_weight_leaves_primary_alone(cluster):
    primary = h.ingress("weighted", [h.rule(
        "weighted.example.com", h.path("/", P, "web", "http"))],
        namespace="demo")
    canary = bad_ingress("weighted-canary", {
        "canary": "true", "canary-weight": "lots",
        "canary-by-header": "X-Canary"})
    canary["spec"]["rules"][0]["host"] = "weighted.example.com"
    canary["spec"]["rules"][0]["http"]["paths"][0]["backend"] = \
        h.backend("api", 8080)
    cluster.manifests.write("weighted.yaml", [primary, canary])
    d.wait_for_log(cluster, 'msg="ingress rejected"',
                   "object=demo/weighted-canary ",
                   'key="%scanary-weight"' % PREFIX, 'value="lots"')
    cluster.expect("weighted.example.com", "/", "service:web",
                   headers=[("X-Canary", "always")])


def test_invalid_edit_keeps_the_previous_version(cluster):
    text = d.example_text("rewrite.yaml", cluster.demo_ports)
    edited = text.replace("rewrite-target: /$2", "rewrite-target: /$7")
    edited = edited.replace("host: rewrite.example.com",
                            "host: rewritten.example.com")
    assert edited.count("/$7") == 1 and "rewritten" in edited
    d.write_example(cluster, "rewrite.yaml", edited)
    line = wait_rejected(cluster, "rewrite", "rewrite-target")
    assert 'value="/$7"' in line, line
    # the last good version: old host, old rewrite; the new host is not
    r = cluster.expect("rewrite.example.com", "/something/x?y=1",
                       "service:api")
    assert r.json["path"] == "/x?y=1"
    assert r.echoed_header("X-Forwarded-Prefix") == "/something"
    cluster.expect("rewritten.example.com", "/something/x", "404")
    # the other Ingresses of the same file are read as usual
    cluster.expect("app.example.com", "/", "302")
    d.write_example(cluster, "rewrite.yaml")
    assert_examples_served(cluster)


@pytest.mark.parametrize("prefix", [PREFIX, "shmingress.io/"])
def test_snippet_is_refused(cluster, prefix):
    name = "snippet-" + prefix.split(".")[0]
    ing = bad_ingress(name, {})
    ing["metadata"]["annotations"] = {
        prefix + "configuration-snippet": "return 200 hi;"}
    cluster.manifests.write(name + ".yaml", [ing])
    d.wait_for_log(cluster, 'msg="ingress refused"',
                   "object=demo/%s " % name,
                   '"%sconfiguration-snippet"' % prefix, "snippet")
    cluster.expect(name + ".example.com", "/", "404")
    assert_examples_served(cluster)


def test_bad_allowlist_fails_closed(cluster):
    name = "bad-allowlist"
    cluster.manifests.write(name + ".yaml", [bad_ingress(name, {
        "limit-rps": "100", "limit-allowlist": "10.0.0.0/33"})])
    cluster.expect(name + ".example.com", "/", "503")
    d.wait_for_log(cluster, "limit-allowlist", "demo/" + name)
    assert_examples_served(cluster)


@pytest.mark.parametrize("name,annotations,reason", [
    ("bad-auth-digest", {"auth-type": "digest",
                         "auth-secret": "private-users"},
     "digest authentication is not supported"),
    ("bad-auth-no-secret", {"auth-type": "basic"},
     "missing: basic auth needs a Secret"),
    ("bad-auth-secret-type", {"auth-type": "basic",
                              "auth-secret": "private-users",
                              "auth-secret-type": "htpasswd"},
     "must be auth-file or auth-map"),
    ("bad-auth-gone", {"auth-type": "basic",
                       "auth-secret": "nobody-has-this"}, "not found"),
])
def test_bad_auth_fails_closed(cluster, name, annotations, reason):
    cluster.manifests.write(name + ".yaml", [bad_ingress(name, annotations)])
    cluster.expect(name + ".example.com", "/", "503")
    d.wait_for_log(cluster, "object=demo/%s " % name, reason)
    assert_examples_served(cluster)
