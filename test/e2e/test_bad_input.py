"""Bad input never takes the service down: a malformed manifest file is
reported by name and its previously read objects stay served; an invalid
Ingress is skipped with a log line naming namespace/name and the field
while everything else is routed; a corrupt table file published behind
the controller's back is refused by nginx, which keeps the last good
table and says so once per worker.  The controller never exits.
"""

import os
import re
import struct

import pytest

import harness as h
import demo_examples as d

P, E = "Prefix", "Exact"


def app_ingress(name, host, target="/", path_type=P, svc=None):
    return h.ingress(name, [h.rule(host, h.path(target, path_type,
                                                svc or name))])


def assert_controller_alive(cluster):
    assert cluster.alive(), "run-local exited:\n" + cluster.log_tail()
    pid = cluster.controller_pid()
    assert pid and h.pid_alive(pid), "controller is gone"


BROKEN = {
    "mixed.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: [oops\n",
    "mixed.json": '{"apiVersion": "v1", "kind": "List", "items": [',
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_malformed_file_keeps_its_last_good_objects(clusters, name):
    c = clusters()
    objects = [h.ingress_class()]
    for svc in ("good", "kept", "later", "fixed"):
        objects += c.backends.add(svc).objects()
    h.start_with(c, {"base.yaml": objects,
                     "good.yaml": [app_ingress("good", "good.test")],
                     name: [app_ingress("kept", "kept.test")]},
                 ready=("kept.test", "/", "service:kept"))

    c.manifests.write_raw(name, BROKEN[name])
    lines = d.wait_for_log(c, name, what="malformed file reported")
    assert any(re.search(r"level=(warn|error)", line) for line in lines), \
        lines

    c.expect("kept.test", "/", "service:kept")
    c.expect("good.test", "/", "service:good")
    c.manifests.write("later.yaml", [app_ingress("later", "later.test")])
    c.expect("later.test", "/", "service:later")
    c.expect("kept.test", "/", "service:kept")

    c.manifests.write(name, [app_ingress("fixed", "fixed.test")])
    c.expect("fixed.test", "/", "service:fixed")
    c.expect("kept.test", "/", "404")
    assert_controller_alive(c)


def bad_path(path_type, target):
    return [h.rule(None, h.path(target, path_type, "victim"))]


def with_host(host):
    return [h.rule(host, h.path("/", P, "victim"))]


def without_path_type():
    r = h.rule(None, h.path("/x", P, "victim"))
    del r["http"]["paths"][0]["pathType"]
    return [r]


def with_both_ports():
    r = h.rule(None, h.path("/x", P, "victim"))
    r["http"]["paths"][0]["backend"]["service"]["port"]["name"] = "http"
    return [r]


def without_backend_service():
    r = h.rule(None, h.path("/x", P, "victim"))
    r["http"]["paths"][0]["backend"] = {}
    return [r]


# variant -> (rules whose single host rule is broken, field named in the log)
INVALID = {
    "exact-no-slash": (bad_path(E, "foo"), "path"),
    "prefix-dot-dot": (bad_path(P, "/a/../b"), "path"),
    "prefix-double-slash": (bad_path(P, "/a//b"), "path"),
    "unknown-path-type": (bad_path("Fuzzy", "/x"), "pathType"),
    "missing-path-type": (without_path_type(), "pathType"),
    "upper-case-host": (with_host("Bad.Example.com"), "host"),
    "bad-wildcard-host": (with_host("foo.*.example.com"), "host"),
    "ip-host": (with_host("10.0.0.1"), "host"),
    "both-port-name-and-number": (with_both_ports(), "port"),
    "empty-backend": (without_backend_service(), "backend"),
}


@pytest.fixture(scope="module")
def invalid_cluster(module_clusters):
    c = module_clusters()
    objects = [h.ingress_class()]
    objects += c.backends.add("victim").objects()
    objects += c.backends.add("fine").objects()
    for variant, (rules, _) in INVALID.items():
        host = variant + ".invalid.test"
        # Each invalid Ingress also has one valid rule: the whole Ingress
        # is skipped, so that rule must not be served either.
        rules = [dict(r, host=r.get("host", host)) for r in rules]
        rules.append(h.rule("valid-" + host, h.path("/", P, "victim")))
        objects.append(h.ingress("invalid-" + variant, rules))
    objects.append(app_ingress("fine", "fine.test"))
    return h.start_with(c, {"objects.yaml": objects},
                        ready=("fine.test", "/", "service:fine"))


@pytest.mark.parametrize("variant", list(INVALID))
def test_invalid_ingress_is_skipped_and_named(invalid_cluster, variant):
    c = invalid_cluster
    host = variant + ".invalid.test"
    c.expect(host, "/x", "404")
    c.expect("valid-" + host, "/", "404")
    c.expect("fine.test", "/", "service:fine")
    obj, field = "default/invalid-" + variant, INVALID[variant][1]
    lines = d.log_lines(c, obj)
    # The object's own name may contain the field's name: look past it.
    assert any(field in line.replace(obj, "") for line in lines), \
        "no log line names %s and the field %s: %s" % (obj, field, lines)
    assert_controller_alive(c)


def corrupt(kind, good):
    if kind == "flipped-byte":
        bad = bytearray(good)
        bad[len(bad) // 2] ^= 0x40
        return bytes(bad)
    if kind == "truncated":
        return good[:len(good) // 2]
    return os.urandom(len(good))


@pytest.mark.parametrize("kind", ["flipped-byte", "truncated", "garbage"])
def test_corrupt_table_is_refused_and_old_routes_kept(clusters, kind):
    c = clusters()
    objects = [h.ingress_class()]
    objects += c.backends.add("app").objects()
    objects += c.backends.add("after").objects()
    h.start_with(c, {"base.yaml": objects,
                     "app.yaml": [app_ingress("app", "app.test")]},
                 ready=("app.test", "/", "service:app"))
    workers = c.worker_pids()
    gen = c.generation()
    good = (c.table_dir / ("table.%d" % gen)).read_bytes()
    bad_name = "table.%d" % (gen + 1)
    (c.table_dir / bad_name).write_bytes(corrupt(kind, good))
    with open(c.table_dir / "control", "r+b") as f:
        f.seek(16)
        f.write(struct.pack("<Q", gen + 1))

    # Fresh connections, so that every worker sees the bad generation,
    # including one that has not mapped any table yet.
    responses = [c.request("app.test", "/") for _ in range(100)]
    failed = [r for r in responses if r.outcome() != "service:app"]
    lines = d.wait_for_log(c, bad_name, what="nginx reports the bad table")
    for _ in range(100):
        c.outcome("app.test", "/")
    lines = d.log_lines(c, bad_name)
    assert 1 <= len(lines) <= len(workers), \
        "logged once per worker at most: %s" % lines
    assert c.worker_pids() == workers

    # The controller carries on above the bad generation.
    c.manifests.write("after.yaml", [app_ingress("after", "after.test")])
    c.expect("after.test", "/", "service:after")
    assert c.generation() > gen + 1
    c.expect("app.test", "/", "service:app")
    assert_controller_alive(c)
    assert failed == [], "%d of 100 requests failed while %s was " \
        "announced, e.g. %r" % (len(failed), bad_name, failed[0])
