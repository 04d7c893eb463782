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
import argparse
import http.client
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import benchlib as bl  # noqa: E402

LUA = Path(__file__).resolve().parent / "requests.lua"
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


def write_backend(state, ports):
    """bench/lib's stock backend, listening on every port."""
    conf = bl.write_backend_conf(state, ports[0])
    text = conf.read_text()
    first = "listen 127.0.0.1:%d reuseport backlog=4096;" % ports[0]
    text = text.replace(first, "\n        ".join(
        "listen 127.0.0.1:%d reuseport backlog=4096;" % p for p in ports))
    conf.write_text(text)
    return conf


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


def measure(port, worker, request_list, args):
    bl.run_wrk(port, LUA, request_list, args.warmup, args.connections,
               cpus=str(GENERATOR_CPU))
    t0, wall0 = bl.cpu_ticks(worker), time.monotonic()
    res = bl.run_wrk(port, LUA, request_list, args.duration,
                     args.connections, cpus=str(GENERATOR_CPU))
    cpu_s = (bl.cpu_ticks(worker) - t0) / bl.CLK_TCK
    res["cpu_us_per_req"] = cpu_s * 1e6 / max(1, res["requests"])
    res["worker_busy"] = cpu_s / (time.monotonic() - wall0)
    return res


def only_worker(proc):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        workers = bl.nginx_workers(proc.pid)
        if len(workers) == 1:
            return workers[0]
        time.sleep(0.1)
    raise RuntimeError("expected one nginx worker, found %s"
                       % bl.nginx_workers(proc.pid))


def request_lists(state, port):
    lists = {}
    for variant, (_, with_cookie) in VARIANTS.items():
        got = bl.http_status(port, host(variant), TARGET)
        if got != 200:
            raise RuntimeError("%s%s answered %d" % (host(variant), TARGET,
                                                     got))
        cookie = session_cookie(port, variant) if with_cookie else ""
        lists[variant] = state / ("requests-%s.txt" % variant)
        lists[variant].write_text("%s %s %s\n" % (host(variant), TARGET,
                                                  cookie))
    return lists


def run(state, args):
    backend_ports = [bl.free_port() for _ in range(ENDPOINTS)]
    backend = bl.start_nginx(write_backend(state / "backend", backend_ports),
                             state / "backend.out",
                             cpus=str(GENERATOR_CPU))
    shm = None
    try:
        for port in backend_ports:
            bl.wait_port(port, proc=backend)
        write_manifests(state / "manifests", backend_ports)
        ports = bl.proxy_ports()
        shm = bl.start_shmingress(state / "shmingress", state / "manifests",
                                  ports, args.build_dir, workers=1,
                                  cpus=str(PROXY_CPU))
        bl.wait_serving(ports["http"], host("plain"), shm, path=TARGET)
        lists = request_lists(state, ports["http"])
        worker = only_worker(shm)
        runs = {v: [] for v in VARIANTS}
        names = list(VARIANTS)
        for rep in range(args.reps):
            order = names[rep % len(names):] + names[:rep % len(names)]
            bl.log(" repetition %d" % (rep + 1))
            for v in order:
                r = measure(ports["http"], worker, lists[v], args)
                bl.log("  %-12s %8.0f req/s  p99 %6.3f ms  cpu %5.1f us/req"
                       "  busy %3.0f%%" % (v, r["rps"], r["p99"],
                                          r["cpu_us_per_req"],
                                          r["worker_busy"] * 100))
                runs[v].append(r)
    finally:
        bl.stop(shm)
        bl.stop(backend)
    return runs


def print_summary(runs, args):
    print("balance: %d endpoints, wrk -t1 -c%d -d%ds --latency, "
          "%d repetitions, medians; ratio = variant / plain, per "
          "repetition (min..max)"
          % (ENDPOINTS, args.connections, args.duration, args.reps))
    print("%-12s %9s %9s %11s %6s   %-22s %s"
          % ("variant", "req/s", "p99 ms", "cpu us/req", "busy",
             "cpu/req ratio", "req/s ratio"))
    plain = runs["plain"]
    for v, rs in runs.items():
        cpu = [r["cpu_us_per_req"] / p["cpu_us_per_req"]
               for r, p in zip(rs, plain)]
        rps = [r["rps"] / p["rps"] for r, p in zip(rs, plain)]
        print("%-12s %9.0f %9.3f %11.2f %5.0f%%   %.3fx (%.3f..%.3f)  %.3fx"
              % (v, bl.median([r["rps"] for r in rs]),
                 bl.median([r["p99"] for r in rs]),
                 bl.median([r["cpu_us_per_req"] for r in rs]),
                 bl.median([r["worker_busy"] for r in rs]) * 100,
                 bl.median(cpu), min(cpu), max(cpu), bl.median(rps)))
    errors = sum(r["socket_errors"] + r["non_2xx"]
                 for rs in runs.values() for r in rs)
    if errors:
        print("errors (socket or non-2xx): %d" % errors)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--duration", type=int, default=5,
                    help="seconds per measured wrk run (default 5)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--build-dir", default=str(bl.REPO / "build-bench"))
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if args.reps < 1:
        ap.error("--reps must be at least 1")
    args.build_dir = Path(args.build_dir).resolve()
    if not args.no_build:
        bl.build(args.build_dir)
    state = Path(tempfile.mkdtemp(prefix="shmingress-bench-balance-",
                                  dir="/dev/shm"))
    try:
        print_summary(run(state, args), args)
    finally:
        bl.remove_state(state)


if __name__ == "__main__":
    main()
