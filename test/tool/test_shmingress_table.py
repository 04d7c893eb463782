"""shmingress-table (dump / check / explain) against tables built by the
real controller from small manifest directories.

Run by ctest with SHMINGRESS_TABLE and SHMINGRESS_CONTROLLER pointing at
the built binaries; each test writes its own manifests, runs
`shmingress-controller --once`, then runs the tool as a subprocess and
checks what it prints and how it exits.
"""
import json
import os
import re
import subprocess

import pytest

TOOL = os.environ.get("SHMINGRESS_TABLE", "shmingress-table")
CONTROLLER = os.environ.get("SHMINGRESS_CONTROLLER", "shmingress-controller")

CLASS = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "IngressClass",
    "metadata": {"name": "shmingress"},
    "spec": {"controller": "shmingress.io/controller"},
}


def service(name, port=80, port_name="http", ns="default"):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"ports": [{"name": port_name, "port": port,
                            "targetPort": 8080, "protocol": "TCP"}]},
    }


def endpoints(service_name, addrs, port=8080, port_name="http",
              ns="default", ready=True):
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": service_name + "-abc", "namespace": ns,
                     "labels": {"kubernetes.io/service-name": service_name}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [a],
                       "conditions": {"ready": ready, "serving": True,
                                      "terminating": False}}
                      for a in addrs],
        "ports": [{"name": port_name, "port": port, "protocol": "TCP"}],
    }


def path(p, svc, ptype="Prefix", port="http"):
    port_ref = {"name": port} if isinstance(port, str) else {"number": port}
    return {"path": p, "pathType": ptype,
            "backend": {"service": {"name": svc, "port": port_ref}}}


def ingress(name, rules, ns="default", default_backend=None):
    spec = {"ingressClassName": "shmingress", "rules": rules}
    if default_backend is not None:
        spec["defaultBackend"] = {"service": {
            "name": default_backend, "port": {"name": "http"}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": ns,
                     "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": spec,
    }


def rule(host, paths):
    r = {"http": {"paths": paths}}
    if host is not None:
        r["host"] = host
    return r


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=60,
                          **kw)


def build_table(tmp_path, objects, extra_args=()):
    """Writes objects as one manifest file per object and runs the
    controller once; returns the table directory."""
    manifests = tmp_path / "manifests"
    tables = tmp_path / "tables"
    manifests.mkdir()
    tables.mkdir()
    for i, obj in enumerate([CLASS] + list(objects)):
        (manifests / ("%03d-%s.json" % (i, obj["kind"].lower()))).write_text(
            json.dumps(obj, indent=1))
    res = run([CONTROLLER, "--manifests", str(manifests), "--table-dir",
               str(tables), "--once", *extra_args])
    assert res.returncode == 0, res.stderr
    return tables


def current_table(tables):
    files = [f for f in os.listdir(tables) if re.fullmatch(r"table\.\d+", f)]
    assert files, os.listdir(tables)
    return tables / max(files, key=lambda f: int(f.split(".")[1]))


def explain(tables, host, req_path, *extra):
    res = run([TOOL, "explain", "--table-dir", str(tables), "--host", host,
               "--path", req_path, "--json", *extra])
    assert res.returncode == 0, (res.returncode, res.stdout, res.stderr)
    return json.loads(res.stdout)


# A small site used by most tests:
#   shop.example.com  Exact /cart -> cart, Prefix /cart -> web,
#                     Prefix /api -> api, Prefix /api/v2/ -> api-v2,
#                     Prefix / -> web
#   *.example.com     Prefix / -> wild
#   (no host)         Prefix /static -> static
#   broken.example.com Prefix / -> missing (no such Service)
SITE = [
    service("web"), endpoints("web", ["10.0.0.1", "10.0.0.2"]),
    service("cart"), endpoints("cart", ["10.0.1.1"]),
    service("api"), endpoints("api", ["10.0.2.1"]),
    service("api-v2"), endpoints("api-v2", ["10.0.2.2"]),
    service("wild"), endpoints("wild", ["10.0.3.1"]),
    service("static"), endpoints("static", ["10.0.4.1"]),
    ingress("shop", [rule("shop.example.com", [
        path("/cart", "cart", "Exact"),
        path("/cart", "web"),
        path("/api", "api"),
        path("/api/v2/", "api-v2"),
        path("/", "web"),
    ])]),
    ingress("wild", [rule("*.example.com", [path("/", "wild")])]),
    ingress("static", [rule(None, [path("/static", "static")])]),
    ingress("broken", [rule("broken.example.com", [path("/", "missing")])],
            ns="other"),
]


@pytest.fixture
def site(tmp_path):
    return build_table(tmp_path, SITE)


# ------------------------------------------------------------------ dump

def test_dump_lists_vhosts_routes_backends_and_endpoints(site):
    res = run([TOOL, "dump", str(current_table(site))])
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)

    vhosts = {v["host"]: v for v in doc["vhosts"]}
    assert set(vhosts) == {"shop.example.com", "*.example.com", "",
                           "broken.example.com"}
    assert vhosts["*.example.com"]["kind"] == "wildcard"
    assert vhosts[""]["kind"] == "catch-all"
    assert vhosts["shop.example.com"]["kind"] == "exact"

    shop = {(r["type"], r["path"]): r
            for r in vhosts["shop.example.com"]["routes"]}
    assert set(shop) == {("Exact", "/cart"), ("Prefix", "/cart"),
                         ("Prefix", "/api"), ("Prefix", "/api/v2/"),
                         ("Prefix", "/")}
    cart = shop[("Exact", "/cart")]
    assert cart["ingress"] == "default/shop"
    assert cart["backend"]["service"] == "default/cart"
    assert cart["backend"]["port"] == 80
    assert [e["address"] for e in cart["backend"]["endpoints"]] == \
        ["10.0.1.1:8080"]
    assert "ready" in cart["backend"]["endpoints"][0]["flags"]
    web = shop[("Prefix", "/")]["backend"]
    assert sorted(e["address"] for e in web["endpoints"]) == \
        ["10.0.0.1:8080", "10.0.0.2:8080"]

    broken = vhosts["broken.example.com"]["routes"][0]["backend"]
    assert broken["service"] == "other/missing"
    assert "service-missing" in broken["flags"]
    assert broken["endpoints"] == []

    assert doc["default_route"] is None
    # no tls[] here: only the controller's generated default certificate
    assert [c["default"] for c in doc["certs"]] == [True]
    assert doc["counts"]["certs"] == 1
    assert doc["counts"]["vhosts"] == 4
    assert doc["counts"]["routes"] == sum(len(v["routes"])
                                          for v in doc["vhosts"])
    assert doc["header"]["generation"] >= 1
    assert doc["header"]["file_size"] == os.path.getsize(current_table(site))


def test_dump_table_dir_reads_the_current_generation(site):
    by_dir = run([TOOL, "dump", "--table-dir", str(site)])
    by_file = run([TOOL, "dump", str(current_table(site))])
    assert by_dir.returncode == 0, by_dir.stderr
    a, b = json.loads(by_dir.stdout), json.loads(by_file.stdout)
    assert a["header"] == b["header"]
    assert a["vhosts"] == b["vhosts"]


def test_dump_refuses_an_invalid_table(site, tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(current_table(site).read_bytes()[:100])
    res = run([TOOL, "dump", str(bad)])
    assert res.returncode == 1
    assert res.stdout == ""
    assert "invalid" in res.stderr


def test_dump_of_an_empty_table_dir_says_nothing_was_published(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run([TOOL, "dump", "--table-dir", str(empty)])
    assert res.returncode == 1
    assert res.stderr != ""


# ----------------------------------------------------------------- check

def test_check_accepts_a_good_table(site):
    table = current_table(site)
    res = run([TOOL, "check", str(table)])
    assert res.returncode == 0, res.stderr
    m = re.fullmatch(r"ok generation=(\d+) bytes=(\d+) vhosts=(\d+) "
                     r"routes=(\d+) backends=(\d+) endpoints=(\d+)\n",
                     res.stdout)
    assert m, res.stdout
    assert int(m.group(1)) == int(table.name.split(".")[1])
    assert int(m.group(2)) == os.path.getsize(table)
    assert int(m.group(3)) == 4
    assert int(m.group(4)) >= 8       # 5 + 1 + 1 + 1 path routes
    assert int(m.group(5)) == 7       # six Services and the missing one
    assert int(m.group(6)) == 7


def test_check_refuses_a_truncated_table(site, tmp_path):
    data = current_table(site).read_bytes()
    for cut in (0, 8, 87, len(data) // 2, len(data) - 1):
        bad = tmp_path / ("cut%d" % cut)
        bad.write_bytes(data[:cut])
        res = run([TOOL, "check", str(bad)])
        assert res.returncode == 1, (cut, res.stdout)
        assert res.stdout.startswith("invalid: "), (cut, res.stdout)
        assert len(res.stdout.strip()) > len("invalid:"), cut


def test_check_refuses_a_flipped_byte(site, tmp_path):
    data = bytearray(current_table(site).read_bytes())
    # Header fields (magic, file size, checksum), the section directory,
    # and deep in the sections: each must be caught, by a field check or
    # by the checksum.  (generation and built_at_ms are informational
    # header fields that no check can tell from a valid value.)
    for pos in (0, 16, 32, 100, len(data) // 2, len(data) - 2):
        flipped = bytearray(data)
        flipped[pos] ^= 0x40
        bad = tmp_path / ("flip%d" % pos)
        bad.write_bytes(bytes(flipped))
        res = run([TOOL, "check", str(bad)])
        assert res.returncode == 1, (pos, res.stdout)
        assert res.stdout.startswith("invalid: "), (pos, res.stdout)


def test_check_of_a_missing_file_exits_1(tmp_path):
    res = run([TOOL, "check", str(tmp_path / "nope")])
    assert res.returncode == 1
    assert "nope" in res.stderr


@pytest.mark.parametrize("args", [
    [],
    ["frobnicate", "x"],
    ["check"],
    ["explain", "--table", "x", "--path", "/"],
    ["dump", "a", "b"],
    ["dump", "--host", "h", "x"],
    ["dump", "--table-dir", "d", "x"],
])
def test_usage_errors_exit_2(args):
    res = run([TOOL, *args])
    assert res.returncode == 2, res
    assert "usage" in res.stderr


# --------------------------------------------------------------- explain

def steps(doc, ptype):
    return [(s["candidate"], s["result"]) for s in doc["paths"]
            if s["type"] == ptype]


def test_explain_exact_beats_prefix(site):
    doc = explain(site, "shop.example.com", "/cart")
    assert doc["agrees"] is True
    assert doc["answer"]["match"] == "exact"
    assert doc["answer"]["route"]["path"] == "/cart"
    assert doc["answer"]["route"]["type"] == "Exact"
    assert doc["answer"]["route"]["backend"]["service"] == "default/cart"
    assert doc["reason"] == "Exact beats Prefix"
    assert steps(doc, "Exact") == [("/cart", "hit")]
    assert ("/cart", "hit, shadowed") in steps(doc, "Prefix")
    assert doc["status"] == 200


def test_explain_longest_prefix_probes_every_boundary(site):
    doc = explain(site, "shop.example.com", "/api/v2/users/7?x=/y")
    assert doc["answer"]["match"] == "prefix"
    assert doc["answer"]["route"]["path"] == "/api/v2/"
    assert doc["reason"] == "longest Prefix"
    assert steps(doc, "Exact") == [("/api/v2/users/7", "miss")]
    assert steps(doc, "Prefix") == [
        ("/api/v2/users/7", "miss"),
        ("/api/v2/users", "miss"),
        ("/api/v2", "hit"),
        ("/api", "hit, shadowed"),
        ("/", "hit, shadowed"),
    ]


def test_explain_prefix_is_element_wise(site):
    doc = explain(site, "shop.example.com", "/apiary")
    assert doc["answer"]["route"]["path"] == "/"
    assert steps(doc, "Prefix") == [("/apiary", "miss"), ("/", "hit")]


def test_explain_host_is_normalized_and_exact_bucket_stops_the_search(site):
    doc = explain(site, "SHOP.Example.COM:8443", "/")
    assert doc["host"]["normalized"] == "shop.example.com"
    buckets = {b["bucket"]: b["result"] for b in doc["host"]["buckets"]}
    assert buckets == {"exact": "hit", "wildcard": "not consulted",
                       "catch-all": "not consulted"}
    assert doc["answer"]["host_kind"] == "exact"


def test_explain_wildcard_covers_exactly_one_label(site):
    doc = explain(site, "blog.example.com", "/anything")
    buckets = {b["bucket"]: (b.get("key"), b["result"])
               for b in doc["host"]["buckets"]}
    assert buckets["exact"] == ("blog.example.com", "miss")
    assert buckets["wildcard"] == ("*.example.com", "hit")
    assert buckets["catch-all"][1] == "not consulted"
    assert doc["answer"]["host_kind"] == "wildcard"
    assert doc["answer"]["route"]["backend"]["service"] == "default/wild"

    deeper = explain(site, "a.blog.example.com", "/static/x")
    assert deeper["answer"]["host_kind"] == "catch-all"
    assert deeper["answer"]["route"]["path"] == "/static"


def test_explain_catch_all_serves_unknown_hosts_and_ips(site):
    doc = explain(site, "10.1.2.3", "/static/app.js")
    assert doc["answer"]["host_kind"] == "catch-all"
    assert doc["answer"]["route"]["backend"]["service"] == "default/static"
    assert doc["reason"] == "longest Prefix"


def test_explain_matched_host_does_not_fall_through(site):
    # shop.example.com has no /static route; its "/" wins, not the
    # catch-all's /static.
    doc = explain(site, "shop.example.com", "/static/app.js")
    assert doc["answer"]["route"]["backend"]["service"] == "default/web"


def test_explain_no_match_is_404(site):
    doc = explain(site, "unknown.test", "/nothing")
    assert doc["answer"]["host_kind"] == "catch-all"
    assert doc["answer"]["match"] == "none"
    assert doc["answer"]["route"] is None
    assert doc["reason"] == "no match -> 404"
    assert doc["status"] == 404


def test_explain_missing_service_is_503_with_the_reason(site):
    doc = explain(site, "broken.example.com", "/")
    assert doc["status"] == 503
    assert doc["status_reason"] == "no such Service"
    assert doc["answer"]["route"]["backend"]["service"] == "other/missing"


def test_explain_ingress_default_backend(tmp_path):
    # An Ingress's spec.defaultBackend serves its own hosts' unmatched
    # paths and requests no host rule matches.
    tables = build_table(tmp_path, [
        service("app"), endpoints("app", ["10.0.0.1"]),
        service("fallback"), endpoints("fallback", ["10.0.0.9"]),
        ingress("app", [rule("app.test", [path("/app", "app")])],
                default_backend="fallback"),
    ])
    doc = explain(tables, "app.test", "/other")
    assert doc["answer"]["host_kind"] == "exact"
    assert doc["answer"]["match"] == "vhost-default"
    assert doc["answer"]["route"]["type"] == "DefaultBackend"
    assert doc["answer"]["route"]["backend"]["service"] == "default/fallback"
    assert doc["reason"] == "no path matched: vhost default backend"

    doc = explain(tables, "elsewhere.test", "/app")
    assert doc["answer"]["host_kind"] == "catch-all"
    assert doc["answer"]["match"] == "vhost-default"
    assert doc["answer"]["route"]["backend"]["service"] == "default/fallback"


def test_explain_global_default_backend(tmp_path):
    tables = build_table(tmp_path, [
        service("app"), endpoints("app", ["10.0.0.1"]),
        service("fallback"), endpoints("fallback", ["10.0.0.9"]),
        ingress("app", [rule("app.test", [path("/app", "app")])]),
    ], extra_args=["--default-backend-service", "default/fallback"])
    doc = explain(tables, "elsewhere.test", "/")
    assert doc["answer"]["match"] == "global-default"
    assert doc["answer"]["host_kind"] == "none"
    assert doc["reason"] == "no host matched: global default"
    assert doc["answer"]["route"]["backend"]["service"] == "default/fallback"


def test_explain_plain_text_names_the_steps_and_the_answer(site):
    res = run([TOOL, "explain", "--table", str(current_table(site)),
               "--host", "shop.example.com", "--path", "/cart"])
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert 'host: normalized "shop.example.com"' in out
    assert re.search(r'exact\s+"shop.example.com": hit -> vhost \d+', out)
    assert re.search(r'wildcard\s+"\*.example.com": not consulted', out)
    assert re.search(r'Exact\s+"/cart": hit', out)
    assert re.search(r'Prefix\s+"/cart": hit, shadowed', out)
    assert "answer (tbl_lookup): host exact" in out
    assert "reason: Exact beats Prefix" in out
    assert "backend: service default/cart port 80 (http)" in out
    assert "10.0.1.1:8080 ready" in out
    assert "status: 200" in out


def test_explain_rejects_a_relative_path(site):
    res = run([TOOL, "explain", "--table-dir", str(site), "--host", "a",
               "--path", "relative"])
    assert res.returncode == 2


# ------------------------------------------- tables made by the builder

MAKE_TABLE = os.environ.get("MAKE_TABLE", "make_table")


def made_table(tmp_path, *routes):
    out = tmp_path / "table.1"
    res = run([MAKE_TABLE, str(out), *routes])
    assert res.returncode == 0, res.stderr
    return out


def explain_file(table, host, req_path):
    res = run([TOOL, "explain", "--table", str(table), "--host", host,
               "--path", req_path, "--json"])
    assert res.returncode == 0, (res.returncode, res.stdout, res.stderr)
    return json.loads(res.stdout)


def test_explain_longer_implementation_specific_beats_prefix(tmp_path):
    table = made_table(tmp_path,
                       "a.test,Prefix,/api,ns/prefix",
                       "a.test,Impl,/api/v,ns/impl",
                       "a.test,Prefix,/tie/,ns/tie-prefix",
                       "a.test,Impl,/tie/,ns/tie-impl")
    doc = explain_file(table, "a.test", "/api/v2")
    assert doc["answer"]["match"] == "implementation-specific"
    assert doc["answer"]["route"]["backend"]["service"] == "ns/impl"
    assert doc["reason"] == \
        "ImplementationSpecific longer than the longest Prefix"
    assert ("/api", "hit, shadowed") in steps(doc, "Prefix")
    assert ("/api/v", "hit") in steps(doc, "ImplementationSpecific")

    doc = explain_file(table, "a.test", "/api/x")
    assert doc["answer"]["route"]["backend"]["service"] == "ns/prefix"
    assert doc["reason"] == "longest Prefix"

    # Equal length as written: the Prefix rule keeps the request.
    doc = explain_file(table, "a.test", "/tie/x")
    assert doc["answer"]["route"]["backend"]["service"] == "ns/tie-prefix"
    assert doc["reason"] == \
        "longest Prefix (no longer ImplementationSpecific match)"


def test_explain_lists_regex_routes_as_not_evaluated(tmp_path):
    table = made_table(tmp_path,
                       "r.test,Regex,^/r/[0-9]+$,ns/regex",
                       "r.test,Prefix,/,ns/web")
    doc = explain_file(table, "r.test", "/r/1")
    assert doc["agrees"] is True
    assert steps(doc, "Regex") == [("^/r/[0-9]+$",
                                    "not evaluated by the tool")]
    assert doc["regex_not_evaluated"] == 1
    assert doc["answer"]["route"]["backend"]["service"] == "ns/web"

    res = run([TOOL, "explain", "--table", str(table), "--host", "r.test",
               "--path", "/r/1"])
    assert res.returncode == 0
    assert "1 regex route was not evaluated" in res.stdout


def test_explain_global_default_and_a_route_without_backend(tmp_path):
    table = made_table(tmp_path,
                       "a.test,Prefix,/,-",
                       ",Default,,ns/fallback")
    doc = explain_file(table, "b.test", "/")
    assert doc["answer"]["host_kind"] == "none"
    assert doc["answer"]["match"] == "global-default"
    assert doc["answer"]["route"]["ingress"] == "tests/fixture"
    assert doc["answer"]["route"]["backend"]["service"] == "ns/fallback"
    buckets = [b["result"] for b in doc["host"]["buckets"]]
    assert buckets == ["miss", "miss", "miss"]

    doc = explain_file(table, "a.test", "/x")
    assert doc["status"] == 503
    assert doc["status_reason"] == "route has no backend"
    assert doc["answer"]["route"]["backend"] is None


def test_explain_a_host_that_cannot_be_a_name_goes_to_the_catch_all(
        tmp_path):
    table = made_table(tmp_path, ",Prefix,/,ns/any", "a.test,Prefix,/,ns/a")
    doc = explain_file(table, "bad host!", "/")
    assert doc["host"]["normalized"] is None
    assert doc["answer"]["host_kind"] == "catch-all"
    assert doc["answer"]["route"]["backend"]["service"] == "ns/any"
