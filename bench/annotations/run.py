#!/usr/bin/python3
"""Annotations benchmark: what a route's policy or canary costs per
request, against a plain route of the same shmingress in the same run.

One shmingress (scripts/run-local, one worker on CPU 1) serves one host
per variant, each its own Ingress backed by the same stock-nginx backend
(wrk and the backend on CPU 0):
  plain      no annotations (the baseline)
  canary     a canary Ingress with canary-weight 20 and canary-by-header
  rewrite    rewrite-target /$2 on the regex path /api(/|$)(.*)
  limit      limit-rps 1000000 (a leaky bucket per client, never refused)
  redirect   permanent-redirect (answered by nginx, no upstream)
  allow10    allowlist-source-range with 10 CIDRs, the client's last
  allow1000  allowlist-source-range with 1,000 CIDRs, IPv4 and IPv6
             mixed, the client's last (what a per-request scan would pay
             for)
Each repetition measures every variant in turn (order rotated per
repetition) after a short warm-up.  Reported: medians of req/s, p99 and
worker CPU per request, and per-repetition ratios variant / plain.  It
measures and prints; it asserts nothing.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import benchlib as bl  # noqa: E402

PROXY_CPU = 1
GENERATOR_CPU = 0
PREFIX = "nginx.ingress.kubernetes.io/"


def allowlist(n):
    """n disjoint ranges, half IPv4 /24s and half IPv6 /48s, none holding
    127.0.0.1 (wrk's address) except the last entry, which admits it."""
    ranges = []
    for i in range(n - 1):
        if i % 2:
            ranges.append("2001:db8:%x::/48" % i)
        else:
            ranges.append("10.%d.%d.0/24" % (i // 256, i % 256))
    return ", ".join(ranges + ["127.0.0.1/32"])


# variant -> (annotations, path, pathType, request path, expected status)
VARIANTS = {
    "plain": ({}, "/api", "Prefix", "/api/v1/items", 200),
    "canary": ({}, "/api", "Prefix", "/api/v1/items", 200),
    "rewrite": ({"rewrite-target": "/$2"}, "/api(/|$)(.*)",
                "ImplementationSpecific", "/api/v1/items", 200),
    "limit": ({"limit-rps": "1000000"}, "/api", "Prefix", "/api/v1/items",
              200),
    "redirect": ({"permanent-redirect": "https://example.org/"}, "/api",
                 "Prefix", "/api/v1/items", 301),
    "allow10": ({"allowlist-source-range": allowlist(10)}, "/api", "Prefix",
                "/api/v1/items", 200),
    "allow1000": ({"allowlist-source-range": allowlist(1000)}, "/api",
                  "Prefix", "/api/v1/items", 200),
}


def host(variant):
    return "%s.bench.test" % variant


def variant_ingress(name, variant, annotations, path, path_type, svc):
    ing = bl.ingress(name, host(variant), svc, paths=[(path, path_type)])
    if annotations:
        ing["metadata"]["annotations"] = {PREFIX + k: v
                                          for k, v in annotations.items()}
    return ing


def write_manifests(dir_, backend_port):
    dir_.mkdir(parents=True, exist_ok=True)
    docs = [bl.ingress_class()]
    for svc in ("main", "next"):
        docs += [bl.service(svc), bl.endpoint_slice(svc, backend_port)]
    for variant, (ann, path, ptype, _, _) in VARIANTS.items():
        docs.append(variant_ingress(variant, variant, ann, path, ptype,
                                    "main"))
    docs.append(variant_ingress("canary-next", "canary", {
        "canary": "true", "canary-weight": "20",
        "canary-by-header": "X-Canary"}, "/api", "Prefix", "next"))
    bl.write_documents(dir_ / "bench.yaml", docs)


def run(state, args):
    backend_port = bl.free_port()
    with bl.shmingress_over_backend(
            state, args.build_dir, backend_port,
            lambda d: write_manifests(d, backend_port), PROXY_CPU,
            GENERATOR_CPU) as (ports, shm):
        bl.wait_serving(ports["http"], host("plain"), shm, path="/api")
        lists = {}
        for variant, (_, _, _, target, status) in VARIANTS.items():
            got = bl.http_status(ports["http"], host(variant), target)
            if got != status:
                raise RuntimeError("%s%s answered %d, not %d"
                                   % (host(variant), target, got, status))
            lists[variant] = state / ("requests-%s.txt" % variant)
            lists[variant].write_text("%s %s\n" % (host(variant), target))
        worker = bl.only_worker(shm)

        return bl.measure_variants(ports["http"], worker, lists, args,
                                   str(GENERATOR_CPU), width=9)


def print_summary(runs, args):
    print("annotations: wrk -t1 -c%d -d%ds --latency, %d repetitions, "
          "medians; ratios = variant / plain, per repetition (min..max)"
          % (args.connections, args.duration, args.reps))
    print("%-9s %9s %9s %11s %6s   %-22s %s"
          % ("variant", "req/s", "p99 ms", "cpu us/req", "busy",
             "req/s ratio", "cpu/req ratio"))
    cpu = bl.ratios(runs, "plain", "cpu_us_per_req")
    rps = bl.ratios(runs, "plain", "rps")
    for v, rs in runs.items():
        print("%-9s %9.0f %9.3f %11.2f %5.0f%%   %-22s %s"
              % ((v,) + bl.medians(rs)
                 + (bl.spread(rps[v]), bl.spread(cpu[v]))))
    errors = sum(r["socket_errors"] for rs in runs.values() for r in rs)
    if errors:
        print("socket errors: %d" % errors)


def main():
    bl.variant_bench_main(__doc__, "shmingress-bench-ann-", run, print_summary)


if __name__ == "__main__":
    main()
