#!/usr/bin/python3
"""Basic-auth benchmark: what checking credentials costs per request,
against a plain route of the same shmingress in the same run.

One shmingress (scripts/run-local, one worker on CPU 1) serves one host
per variant, each its own Ingress backed by the same stock-nginx backend
(wrk and the backend on CPU 0); every request of an auth variant carries
the same credentials:
  plain         no annotations (the baseline)
  sha           basic auth, {SHA} hash (checked on every request)
  apr1          basic auth, apr1 hash (1000 MD5 rounds; cached)
  bcrypt        basic auth, bcrypt cost 10 (cached: one check per worker
                per minute)
  bcrypt-wrong  the same Secret with a wrong password: 401, a full bcrypt
                check on every request (failures are never cached), i.e.
                the cost without the cache
Each repetition measures every variant in turn (order rotated) after a
short warm-up, bcrypt-wrong last and over one connection: at tens of ms
a request, a backlog from 32 connections would still occupy the worker
during the next variant.  Reported: medians of req/s, p99 and worker CPU per
request, and per-repetition ratios variant / plain.  It measures and
prints; it asserts nothing.  Needs htpasswd (apache2-utils).
"""
import base64
import copy
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import benchlib as bl  # noqa: E402

PROXY_CPU = 1
GENERATOR_CPU = 0
PREFIX = "nginx.ingress.kubernetes.io/"
USER, PASSWORD = "bench", "correct horse"

# variant -> (htpasswd flags or None, password sent, expected status)
VARIANTS = {
    "plain": (None, None, 200),
    "sha": (["-s"], PASSWORD, 200),
    "apr1": (["-m"], PASSWORD, 200),
    "bcrypt": (["-B", "-C", "10"], PASSWORD, 200),
    "bcrypt-wrong": (["-B", "-C", "10"], "wrong horse", 401),
}


SLOW = "bcrypt-wrong"


def host(variant):
    return "%s.bench.test" % variant


def htpasswd_line(flags):
    out = subprocess.run(["htpasswd", "-nb"] + flags + [USER, PASSWORD],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip() + "\n"


def variant_objects(variant, flags):
    ing = bl.ingress(variant, host(variant), "main",
                     paths=[("/api", "Prefix")])
    if flags is None:
        return [ing]
    secret = "users-" + variant
    ing["metadata"]["annotations"] = {PREFIX + "auth-type": "basic",
                                      PREFIX + "auth-secret": secret,
                                      PREFIX + "auth-realm": "bench"}
    return [ing, {"apiVersion": "v1", "kind": "Secret",
                  "metadata": {"name": secret, "namespace": bl.NAMESPACE},
                  "stringData": {"auth": htpasswd_line(flags)}}]


def write_manifests(dir_, backend_port):
    dir_.mkdir(parents=True, exist_ok=True)
    docs = [bl.ingress_class(), bl.service("main"),
            bl.endpoint_slice("main", backend_port)]
    for variant, (flags, _, _) in VARIANTS.items():
        docs += variant_objects(variant, flags)
    bl.write_documents(dir_ / "bench.yaml", docs)


def request_line(variant, password):
    line = "%s /api/v1/items" % host(variant)
    if password is not None:
        token = base64.b64encode(("%s:%s" % (USER, password)).encode())
        line += " Authorization: Basic " + token.decode()
    return line + "\n"


def run(state, args):
    backend_port = bl.free_port()
    with bl.shmingress_over_backend(
            state, args.build_dir, backend_port,
            lambda d: write_manifests(d, backend_port), PROXY_CPU,
            GENERATOR_CPU) as (ports, shm):
        bl.wait_serving(ports["http"], host("plain"), shm, path="/api")
        lists = {}
        for variant, (_, password, status) in VARIANTS.items():
            lists[variant] = state / ("requests-%s.txt" % variant)
            lists[variant].write_text(request_line(variant, password))
            got = bl.http_status(ports["http"], host(variant), "/api")
            want = 200 if variant == "plain" else 401
            if got != want:
                raise RuntimeError("%s answered %d without credentials, "
                                   "not %d" % (host(variant), got, want))
        worker = bl.only_worker(shm)
        one = copy.copy(args)
        one.connections = 1

        def measure(v):
            r = bl.measure_worker(ports["http"], worker, bl.REQUESTS_LUA,
                                  lists[v], one if v == SLOW else args,
                                  str(GENERATOR_CPU))
            bl.log("  %-12s %8.0f req/s  p99 %7.3f ms  cpu %7.1f us/req"
                   "  busy %3.0f%%  non-2xx %d"
                   % (v, r["rps"], r["p99"], r["cpu_us_per_req"],
                      r["worker_busy"] * 100, r["non_2xx"]))
            return r

        runs = bl.measure_rotated([v for v in VARIANTS if v != SLOW],
                                  args.reps, measure, last=[SLOW])
    return runs


def print_summary(runs, args):
    print("auth: wrk -t1 -c%d -d%ds --latency (%s: -c1), %d repetitions, "
          "medians; ratio = variant / plain, per repetition (min..max)"
          % (args.connections, args.duration, SLOW, args.reps))
    print("%-12s %9s %9s %11s %6s   %s" % ("variant", "req/s", "p99 ms",
                                          "cpu us/req", "busy",
                                          "cpu/req ratio"))
    ratio = bl.ratios(runs, "plain", "cpu_us_per_req")
    for v, rs in runs.items():
        print("%-12s %9.0f %9.3f %11.2f %5.0f%%   %s"
              % ((v,) + bl.medians(rs) + (bl.spread(ratio[v]),)))
    errors = sum(r["socket_errors"] for rs in runs.values() for r in rs)
    if errors:
        print("socket errors: %d" % errors)


def main():
    bl.variant_bench_main(__doc__, "shmingress-bench-auth-", run, print_summary)


if __name__ == "__main__":
    main()
