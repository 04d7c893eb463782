"""Two Ingresses claiming the same host + path: the older creationTimestamp
wins (on equal timestamps the greater namespace/name wins, as ingress-nginx
sorts them; a missing timestamp counts as newest), the
loser's other paths are still served, the conflict is logged, and
deleting the winner hands the path to the loser.  File names are chosen so
that directory order disagrees with age.
"""

import re

import harness as h

P, E = "Prefix", "Exact"
OLD, NEW = "2024-01-01T00:00:00Z", "2024-06-01T00:00:00Z"


def claim(name, host, paths, created, namespace="default"):
    return h.ingress(name, [h.rule(host, *[h.path(p, t, svc)
                                           for p, t, svc in paths])],
                     namespace=namespace, created=created)


def test_older_ingress_wins_and_deleting_it_hands_over(clusters):
    c = clusters()
    base = [h.ingress_class()]
    for name in ("older", "newer", "newer-only"):
        base += c.backends.add(name).objects()
    h.start_with(c, {
        "base.yaml": base,
        "a-newer.yaml": [claim("newer", "conflict.test",
                               [("/", P, "newer"),
                                ("/only-newer", P, "newer-only")], NEW)],
        "b-older.yaml": [claim("older", "conflict.test",
                               [("/", P, "older")], OLD)],
    }, ready=("conflict.test", "/only-newer", "service:newer-only"))

    c.expect("conflict.test", "/", "service:older")
    c.expect("conflict.test", "/deep/path", "service:older")
    assert any("default/older" in line and "default/newer" in line
               for line in c.logs().splitlines()), \
        "a log line names both sides of the conflict"

    c.manifests.remove("b-older.yaml")
    c.expect("conflict.test", "/", "service:newer")
    c.expect("conflict.test", "/only-newer", "service:newer-only")


def test_tie_breaks_and_path_types(clusters):
    c = clusters()
    base = [h.ingress_class()]
    for name in ("tie-a", "tie-b", "stamped", "unstamped", "exact-old",
                 "prefix-new"):
        base += c.backends.add(name).objects()
    for ns in ("team-a", "team-b"):
        base += c.backends.add("web", namespace=ns).objects()
    h.start_with(c, {
        "base.yaml": base,
        "ingresses.yaml": [
            # Same timestamp: like ingress-nginx, the greater
            # "namespace/name" sorts first and wins.
            claim("tie-b", "tie.test", [("/", P, "tie-b")], OLD),
            claim("tie-a", "tie.test", [("/", P, "tie-a")], OLD),
            # No timestamp sorts after any timestamp.
            claim("unstamped", "stamp.test", [("/", P, "unstamped")], None),
            claim("stamped", "stamp.test", [("/", P, "stamped")], NEW),
            # Same path, different pathType: both kept.
            claim("exact-old", "types.test", [("/x", E, "exact-old")], OLD),
            claim("prefix-new", "types.test", [("/x", P, "prefix-new")],
                  NEW),
            # Across namespaces; each backend resolves in its own one.
            claim("web", "ns.test", [("/", P, "web")], NEW, "team-b"),
            claim("web", "ns.test", [("/", P, "web")], OLD, "team-a"),
        ]}, ready=("types.test", "/x/y", "service:prefix-new"))

    c.expect("tie.test", "/", "service:tie-b")
    c.expect("stamp.test", "/", "service:stamped")
    c.expect("types.test", "/x", "service:exact-old")
    r = c.expect("ns.test", "/", "service:web")
    assert r.json["namespace"] == "team-a"
    assert re.search(r"team-a/web.*team-b/web|team-b/web.*team-a/web",
                     c.logs()), "the namespace conflict is logged"
