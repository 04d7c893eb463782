#!/usr/bin/python3
"""Memory benchmark.

1. Table size: the controller builds the table once (--once) for 1k, 10k
   and 100k rules; reported as bytes per rule (one host, three paths,
   one Service with one endpoint) and per route, with the controller's
   wall time and peak RSS for that build.
2. Worker memory under churn: shmingress (one worker) serves N rules;
   after a warm-up pass over every route, the worker's RSS is read from
   /proc; then PUBLICATIONS tables are published one after another, each
   one replacing the host in a churn manifest, and each waited for
   until the worker serves it (so the worker maps every generation).
   After the same warm-up pass the RSS is read again.  Anonymous memory
   (RssAnon) is what would show a leak; file-backed RSS includes the
   mapped table itself.  The number of table files the worker still maps
   is read from /proc/<pid>/maps before and after.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import benchlib as bl  # noqa: E402



def table_size(state, n_rules, build_dir):
    manifests = bl.write_cluster(state / ("manifests-%d" % n_rules), n_rules,
                                 8080)
    tables = state / ("tables-%d" % n_rules)
    log_path = state / ("controller-%d.log" % n_rules)
    t0 = time.monotonic()
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([str(bl.controller_binary(build_dir)),
                                 "--manifests", str(manifests),
                                 "--table-dir", str(tables), "--once"],
                                stdout=out, stderr=out)
        # wait4 gives this child's own peak RSS.
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("controller --once failed, see %s" % log_path)
    check = subprocess.run([str(bl.table_tool_binary(build_dir)), "check",
                            "--table-dir", str(tables)], capture_output=True,
                           text=True, check=True).stdout.strip()
    counts = dict(kv.split("=") for kv in check.split()[1:])
    size = int(counts["bytes"])
    subprocess.run(["rm", "-rf", str(manifests), str(tables)], check=True)
    return {"rules": n_rules, "bytes": size, "routes": int(counts["routes"]),
            "bytes_per_rule": size / n_rules,
            "bytes_per_route": size / int(counts["routes"]),
            "controller_s": wall,
            "controller_peak_mib": usage.ru_maxrss / 1024.0}


def table_mappings(pid):
    """Distinct table.<gen> files mapped by pid."""
    names = set()
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and "/table." in parts[5]:
                names.add(parts[5].strip())
    return len(names)


def snapshot(worker):
    m = bl.memory_status(worker)
    m["table_mappings"] = table_mappings(worker)
    return m


def churn(state, n_rules, publications, build_dir, warm_s):
    backend_port, ports = bl.free_port(), bl.proxy_ports()
    port = ports["http"]
    backend = shm = None
    try:
        backend = bl.start_backend(state / "backend", backend_port,
                                   state / "backend.log", None)
        manifests = bl.write_cluster(state / "manifests", n_rules,
                                     backend_port)
        requests = state / "requests.txt"
        bl.write_request_list(requests, n_rules)
        shm = bl.start_shmingress(state / "shmingress", manifests, ports,
                                  build_dir, workers=1)
        bl.wait_serving(port, bl.host_of(n_rules - 1), shm)
        worker = bl.nginx_workers(shm.pid)
        if len(worker) != 1:
            raise RuntimeError("expected one worker, found %s" % worker)
        worker = worker[0]

        bl.run_wrk(port, bl.REQUESTS_LUA, requests, warm_s, cpus="0,1")
        before = snapshot(worker)
        staged = state / "churn.yaml"
        t0 = time.monotonic()
        for k in range(publications):
            host = "churn%d.bench.test" % k
            bl.write_documents(staged, [bl.ingress(
                "churn", host, "s0", paths=[("/", "Prefix")])])
            os.rename(staged, manifests / "churn.yaml")
            bl.wait_serving(port, host, shm, timeout=30, path="/")
        churn_s = time.monotonic() - t0
        bl.run_wrk(port, bl.REQUESTS_LUA, requests, warm_s, cpus="0,1")
        after = snapshot(worker)
        if bl.nginx_workers(shm.pid) != [worker]:
            raise RuntimeError("the worker was replaced during the run")
        table_dir = bl.find_table_dir(state / "shmingress")
        generations = bl.read_control(table_dir)["generation"]
    finally:
        bl.stop(shm)
        bl.stop(backend)
    return {"rules": n_rules, "publications": publications,
            "churn_s": churn_s, "generation_after": generations,
            "before": before, "after": after}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--churn-rules", type=int, default=1000)
    ap.add_argument("--publications", type=int, default=1000)
    ap.add_argument("--warm", type=int, default=3,
                    help="seconds of wrk over every route before each "
                         "reading")
    ap.add_argument("--build-dir", default=str(bl.REPO / "build-bench"))
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    args.build_dir = Path(args.build_dir).resolve()
    if not args.no_build:
        bl.build(args.build_dir)
    state = Path(tempfile.mkdtemp(prefix="shmingress-bench-mem-",
                                  dir="/dev/shm"))

    sizes = [table_size(state, int(n), args.build_dir)
             for n in args.sizes.split(",")]
    print("table size (controller --once; rule = 1 host, 3 paths, "
          "1 Service, 1 endpoint)")
    print("%8s %12s %10s %11s %13s %12s" % ("rules", "bytes", "B/rule",
                                            "B/route", "controller s",
                                            "peak MiB"))
    for s in sizes:
        print("%8d %12d %10.1f %11.1f %13.2f %12.1f"
              % (s["rules"], s["bytes"], s["bytes_per_rule"],
                 s["bytes_per_route"], s["controller_s"],
                 s["controller_peak_mib"]))

    c = churn(state / "churn", args.churn_rules, args.publications,
              args.build_dir, args.warm)
    print("worker memory, %d rules, %d publications (%.1f s, now at "
          "generation %d)" % (c["rules"], c["publications"], c["churn_s"],
                              c["generation_after"]))
    print("%-16s %10s %10s %8s" % ("KiB", "before", "after", "growth"))
    for key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
        b, a = c["before"][key], c["after"][key]
        print("%-16s %10d %10d %7.1f%%" % (key, b, a,
                                           (a - b) * 100.0 / b if b else 0))
    print("%-16s %10d %10d" % ("tables mapped", c["before"]["table_mappings"],
                               c["after"]["table_mappings"]))
    growth = ((c["after"]["VmRSS"] - c["before"]["VmRSS"]) * 100.0
              / c["before"]["VmRSS"])
    print("worker RSS growth %.1f%%, target <= 5%%: %s"
          % (growth, "met" if growth <= 5 else "MISSED"))
    if args.json:
        Path(args.json).write_text(json.dumps({"sizes": sizes, "churn": c},
                                              indent=1))
    bl.remove_state(state)


if __name__ == "__main__":
    main()
