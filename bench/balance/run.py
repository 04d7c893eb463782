#!/usr/bin/python3
"""Balancing benchmark: what each endpoint-choice method costs per
request, against plain round robin on the same shmingress in the same run.

One shmingress (scripts/run-local, one worker on CPU 1) serves one host
per variant, each its own Ingress backed by the same Service of eight
endpoints (one stock nginx listening on eight ports; wrk and that backend
on CPU 0):
  plain         no annotations: round robin (the baseline)
  ewma          load-balance: ewma
  hash          upstream-hash-by: $request_uri
  affinity      affinity: cookie, requests carrying a valid cookie
  affinity-new  affinity: cookie, no cookie: a new session (Set-Cookie)
                on every answer
Each repetition measures every variant in turn (order rotated per
repetition) after a short warm-up.  Reported: medians of req/s, p99 and
worker CPU per request, and per-repetition ratios variant / plain.  It
measures and prints; it asserts nothing.
"""
import http.client
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import benchlib as bl  # noqa: E402

PROXY_CPU = 1
GENERATOR_CPU = 0
PREFIX = "nginx.ingress.kubernetes.io/"
ENDPOINTS = 8
TARGET = "/api/v1/items"

# variant -> (annotations, the request carries a session cookie)
VARIANTS = {
    "plain": ({}, False),
    "ewma": ({"load-balance": "ewma"}, False),
    "hash": ({"upstream-hash-by": "$request_uri"}, False),
    "affinity": ({"affinity": "cookie"}, True),
    "affinity-new": ({"affinity": "cookie"}, False),
}


def host(variant):
    return "%s.bench.test" % variant


def endpoint_slices(svc, ports):
    slices = []
    for i, port in enumerate(ports):
        s = bl.endpoint_slice(svc, port)
        s["metadata"]["name"] = "%s-%d" % (svc, i)
        slices.append(s)
    return slices


def write_manifests(dir_, backend_ports):
    dir_.mkdir(parents=True, exist_ok=True)
    docs = [bl.ingress_class(), bl.service("main")]
    docs += endpoint_slices("main", backend_ports)
    for variant, (ann, _) in VARIANTS.items():
        ing = bl.ingress(variant, host(variant), "main",
                         paths=[("/api", "Prefix")])
        if ann:
            ing["metadata"]["annotations"] = {PREFIX + k: v
                                              for k, v in ann.items()}
        docs.append(ing)
    bl.write_documents(dir_ / "bench.yaml", docs)


def session_cookie(port, variant):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", TARGET, headers={"Host": host(variant)})
        resp = conn.getresponse()
        resp.read()
        header = resp.getheader("Set-Cookie")
    finally:
        conn.close()
    if resp.status != 200 or not header:
        raise RuntimeError("%s%s answered %d without a cookie"
                           % (host(variant), TARGET, resp.status))
    return header.split(";", 1)[0]


def request_lists(state, port):
    lists = {}
    for variant, (_, with_cookie) in VARIANTS.items():
        got = bl.http_status(port, host(variant), TARGET)
        if got != 200:
            raise RuntimeError("%s%s answered %d" % (host(variant), TARGET,
                                                     got))
        cookie = ("Cookie: " + session_cookie(port, variant)
                  if with_cookie else "")
        lists[variant] = state / ("requests-%s.txt" % variant)
        lists[variant].write_text("%s %s %s\n" % (host(variant), TARGET,
                                                  cookie))
    return lists


def run(state, args):
    backend_ports = [bl.free_port() for _ in range(ENDPOINTS)]
    with bl.shmingress_over_backend(
            state, args.build_dir, backend_ports,
            lambda d: write_manifests(d, backend_ports), PROXY_CPU,
            GENERATOR_CPU) as (ports, shm):
        bl.wait_serving(ports["http"], host("plain"), shm, path=TARGET)
        lists = request_lists(state, ports["http"])
        worker = bl.only_worker(shm)

        return bl.measure_variants(ports["http"], worker, lists, args,
                                   str(GENERATOR_CPU))


def print_summary(runs, args):
    print("balance: %d endpoints, wrk -t1 -c%d -d%ds --latency, "
          "%d repetitions, medians; ratio = variant / plain, per "
          "repetition (min..max)"
          % (ENDPOINTS, args.connections, args.duration, args.reps))
    print("%-12s %9s %9s %11s %6s   %-22s %s"
          % ("variant", "req/s", "p99 ms", "cpu us/req", "busy",
             "cpu/req ratio", "req/s ratio"))
    cpu = bl.ratios(runs, "plain", "cpu_us_per_req")
    rps = bl.ratios(runs, "plain", "rps")
    for v, rs in runs.items():
        print("%-12s %9.0f %9.3f %11.2f %5.0f%%   %s  %.3fx"
              % ((v,) + bl.medians(rs)
                 + (bl.spread(cpu[v]), bl.median(rps[v]))))
    errors = sum(r["socket_errors"] + r["non_2xx"]
                 for rs in runs.values() for r in rs)
    if errors:
        print("errors (socket or non-2xx): %d" % errors)


def main():
    bl.variant_bench_main(__doc__, "shmingress-bench-balance-", run, print_summary)


if __name__ == "__main__":
    main()
