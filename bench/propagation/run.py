#!/usr/bin/python3
"""Propagation benchmark: how long a new route takes from the manifest
change to the first request it serves, with N rules already loaded.

shmingress (scripts/run-local) starts with N rules.  Then, CHANGES times:
a new Ingress for a new host is written next to the manifests and
renamed into the directory (t0), and a raw-socket client asks for that
host every POLL_US until it gets 200 (t1).  t1 - t0 is the end-to-end
propagation time: inotify, debounce, reading the changed file, model
build, serialization, publication, and the worker noticing the new
generation and mapping it.  The control file's published_at_ms splits it
into "controller" (t0 -> published) and "nginx" (published -> served).
The controller's own build and publish times come from its publication
log lines.  Changes are spaced by a random quiet gap so that each one is
built on its own.
"""
import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import benchlib as bl  # noqa: E402


def poll_until_served(port, host, interval_s, timeout_s):
    """Returns the monotonic time of the first 200, or None on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        if bl.http_status(port, host, "/") == 200:
            return time.monotonic()
        if time.monotonic() > deadline:
            return None
        if interval_s:
            time.sleep(interval_s)


def one_change(k, n_rules, manifests, staging, port, table_dir, args):
    host = "new%d.bench.test" % k
    doc = bl.ingress("new%d" % k, host, "s%d" % (k % n_rules),
                     paths=[("/", "Prefix")])
    staged = staging / ("new-%04d.yaml" % k)
    bl.write_documents(staged, [doc])
    time.sleep(random.uniform(args.gap_ms[0], args.gap_ms[1]) / 1000.0)

    wall0 = time.time()
    t0 = time.monotonic()
    staged.rename(manifests / staged.name)
    t1 = poll_until_served(port, host, args.poll_us / 1e6, args.timeout)
    if t1 is None:
        return {"host": host, "timeout": True}
    ctl = bl.read_control(table_dir)
    e2e_ms = (t1 - t0) * 1000.0
    controller_ms = ctl["published_at_ms"] - wall0 * 1000.0
    return {"host": host, "e2e_ms": e2e_ms, "generation": ctl["generation"],
            "controller_ms": controller_ms,
            "nginx_ms": e2e_ms - controller_ms}


def publication_times(log_path, first_generation):
    """(build_ms, publish_ms) of every publication after the initial one,
    from the controller's "table published" log lines."""
    out = []
    for line in Path(log_path).read_text(errors="replace").splitlines():
        kv = bl.parse_kv_line(line)
        if "publish" not in kv.get("msg", "") or "generation" not in kv:
            continue
        if int(kv["generation"]) <= first_generation:
            continue
        try:
            out.append((float(kv["build_ms"]), float(kv["publish_ms"])))
        except (KeyError, ValueError):
            continue
    return out


def stats_line(label, values):
    if not values:
        return "%-36s n/a" % label
    return ("%-36s median %7.2f ms  p90 %7.2f  p99 %7.2f  max %7.2f  (n=%d)"
            % (label, bl.median(values), bl.percentile(values, 90),
               bl.percentile(values, 99), max(values), len(values)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=int, default=10000)
    ap.add_argument("--changes", type=int, default=100)
    ap.add_argument("--poll-us", type=int, default=200,
                    help="pause between polls (default 200 us)")
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="seconds before a change counts as lost")
    ap.add_argument("--gap-ms", default="100,300",
                    help="random quiet time before each change, MIN,MAX")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--build-dir", default=str(bl.REPO / "build-bench"))
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    args.gap_ms = [float(x) for x in args.gap_ms.split(",")]
    args.build_dir = Path(args.build_dir).resolve()
    if not args.no_build:
        bl.build(args.build_dir)

    state = Path(tempfile.mkdtemp(prefix="shmingress-bench-prop-",
                                  dir="/dev/shm"))
    backend_port, ports = bl.free_port(), bl.proxy_ports()
    port = ports["http"]
    backend = shm = None
    changes = []
    try:
        backend = bl.start_backend(state / "backend", backend_port,
                                   state / "backend.log", None)
        manifests = bl.write_cluster(state / "manifests", args.rules,
                                     backend_port)
        staging = state / "staging"
        staging.mkdir()
        started = time.monotonic()
        shm = bl.start_shmingress(state / "shmingress", manifests, ports,
                                  args.build_dir, workers=args.workers)
        bl.wait_serving(port, bl.host_of(args.rules - 1), shm)
        startup_s = time.monotonic() - started
        table_dir = bl.find_table_dir(state / "shmingress")
        first_gen = bl.read_control(table_dir)["generation"]
        bl.log("%d rules served %.2f s after start (generation %d)"
               % (args.rules, startup_s, first_gen))
        for k in range(args.changes):
            c = one_change(k, args.rules, manifests, staging, port,
                           table_dir, args)
            changes.append(c)
            if c.get("timeout"):
                bl.log("change %d: %s not served within %.0f s"
                       % (k, c["host"], args.timeout))
    finally:
        bl.stop(shm)
        bl.stop(backend)

    pubs = publication_times(state / "shmingress" / "run-local.log",
                             first_gen)
    ok = [c for c in changes if not c.get("timeout")]
    e2e = [c["e2e_ms"] for c in ok]
    print("propagation: %d rules, %d changes (new host each), poll every "
          "%d us, %d workers" % (args.rules, args.changes, args.poll_us,
                                 args.workers))
    print("startup: first request served %.2f s after start" % startup_s)
    print(stats_line("end to end (write -> first 200)", e2e))
    print(stats_line("  controller (write -> published)",
                     [c["controller_ms"] for c in ok]))
    print(stats_line("  nginx (published -> first 200)",
                     [c["nginx_ms"] for c in ok]))
    print(stats_line("controller build (log)", [b for b, _ in pubs]))
    print(stats_line("controller publish (log)", [p for _, p in pubs]))
    print(stats_line("controller build+publish (log)",
                     [b + p for b, p in pubs]))
    lost = len(changes) - len(ok)
    verdict = ["lost changes: %d" % lost]
    if e2e:
        p99 = bl.percentile(e2e, 99)
        verdict.append("p99 end to end %.1f ms, target <= 50 ms: %s"
                       % (p99, "met" if p99 <= 50 else "MISSED"))
    if pubs:
        bp = bl.median([b + p for b, p in pubs])
        verdict.append("build+publish median %.1f ms, target <= 20 ms: %s"
                       % (bp, "met" if bp <= 20 else "MISSED"))
    print("; ".join(verdict))
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"rules": args.rules, "startup_s": startup_s, "changes": changes,
             "publications": pubs}, indent=1))
    bl.remove_state(state)


if __name__ == "__main__":
    main()
