#!/usr/bin/python3
"""API-mode benchmark: shmingress reading a large cluster from the
Kubernetes API stand-in (test/apiserver/kube_standin.py, TLS, in this
process) through `scripts/run-local --kubeconfig`.

The stand-in is seeded with N Ingresses (one host, path "/" each), N
Services and EndpointSlices of at most 100 endpoints (ENDPOINTS per
Service in total), plus one "probe" app whose single endpoint is an echo
backend (test/backends/echo.py, its own process, PODS listeners on
127.0.0.1..PODS sharing a port, each a different pod).  It measures:

- first table: run-local started -> control file shows generation 1 (the
  controller publishes only after every list is complete), and the
  controller's CPU time up to then;
- controller memory: VmHWM and VmRSS after the first table and at the end;
- event to served: CHANGES times, the probe's EndpointSlice is replaced
  so that it lists the next pod (t0, just before the write reaches the
  stand-in) and a client asks for the probe host until that pod answers
  (t1), polling every millisecond; median and p99 of t1 - t0, split
  at the control file's published_at_ms into controller and nginx;
- controller CPU per event: utime+stime spent over the changes / CHANGES.

Not a test: it prints numbers and asserts nothing.
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE.parent / "lib"))
sys.path.insert(0, str(REPO / "test" / "apiserver"))
sys.path.insert(0, str(REPO / "test" / "e2e"))
import benchlib as bl  # noqa: E402
import harness  # noqa: E402
from kube_standin import StandIn  # noqa: E402

NS = "bench"
PROBE_HOST = "probe.bench.test"
POLL_S = 0.001


def cluster_objects(n, per_service):
    """N apps: Ingress, Service, and EndpointSlices of <= 100 endpoints."""
    objs = [bl.ingress_class()]
    for i in range(n):
        name = "s%d" % i
        objs.append(harness.ingress(name, [harness.rule(
            bl.host_of(i), harness.path("/", "Prefix", name))], NS))
        objs.append(harness.service(name, NS))
        for k, first in enumerate(range(0, per_service, 100)):
            count = min(100, per_service - first)
            eps = [("10.%d.%d.%d" % (i // 250 % 250, i % 250, 1 + first + j),
                    harness.READY) for j in range(count)]
            objs.append(harness.endpoint_slice(name, "%s-%d" % (name, k),
                                               eps, 8080, namespace=NS))
    return objs


def probe_slice(address, port):
    return harness.endpoint_slice("probe", "probe-1",
                                  [(address, harness.READY)], port,
                                  namespace=NS)


def probe_objects(port):
    return [harness.ingress("probe", [harness.rule(
                PROBE_HOST, harness.path("/", "Prefix", "probe"))], NS),
            harness.service("probe", NS), probe_slice("127.0.0.1", port)]


def start_echo(pods, state):
    port = bl.free_port()
    args = [sys.executable, str(REPO / "test" / "backends" / "echo.py")]
    for p in range(1, pods + 1):
        args += ["--listen", "127.0.0.%d:%d=probe,probe-%d" % (p, port, p)]
    proc = bl.spawn(args, state / "echo.log")
    bl.wait_port(port, proc=proc)
    return proc, port


def pod_of(port):
    try:
        r = harness.http_request(port, PROBE_HOST, "/", timeout=2)
    except OSError:
        return None
    return r.pod if r.status == 200 else None


def vm_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(rest.split()[0]) // 1024
    return out


def wait_first_table(table_dir, proc, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("run-local exited with %s" % proc.returncode)
        try:
            if bl.read_control(table_dir)["generation"] >= 1:
                return time.monotonic()
        except (OSError, ValueError):
            pass
        time.sleep(0.005)
    raise RuntimeError("no table within %.0f s" % timeout)


def controller_pid(state, proc):
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            return int((state / "controller.pid").read_text())
        except (OSError, ValueError):
            time.sleep(0.01)
    raise RuntimeError("run-local wrote no controller.pid")


def measure_changes(api, proxy_port, echo_port, pods, changes, timeout,
                    table_dir):
    """Returns ([(served_ms, published_ms)], timeouts): published_ms is
    when the control file says the table was published, so served_ms -
    published_ms is nginx's share."""
    latencies, timeouts = [], 0
    for k in range(changes):
        pod = 1 + (k + 1) % pods
        time.sleep(0.02)
        wall0 = time.time()
        t0 = time.monotonic()
        api.apply(probe_slice("127.0.0.%d" % pod, echo_port))
        want = "probe-%d" % pod
        end = t0 + timeout
        while pod_of(proxy_port) != want:
            if time.monotonic() > end:
                timeouts += 1
                break
            # Leave the CPUs to the controller and nginx between polls.
            time.sleep(POLL_S)
        else:
            served = (time.monotonic() - t0) * 1000.0
            published = (bl.read_control(table_dir)["published_at_ms"]
                         - wall0 * 1000.0)
            latencies.append((served, published))
    return latencies, timeouts


def summary(values):
    return {"median": round(bl.median(values), 2),
            "p99": round(bl.percentile(values, 99), 2),
            "max": round(max(values), 2) if values else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ingresses", type=int, default=10000)
    ap.add_argument("--endpoints-per-service", type=int, default=10)
    ap.add_argument("--changes", type=int, default=200)
    ap.add_argument("--pods", type=int, default=8)
    ap.add_argument("--build-dir", default=str(REPO / "build"))
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args()

    state = Path(tempfile.mkdtemp(prefix="shmingress-bench-api-"))
    echo = run = None
    try:
        echo, echo_port = start_echo(args.pods, state)
        objs = cluster_objects(args.ingresses, args.endpoints_per_service)
        objs += probe_objects(echo_port)
        with StandIn(tls=True, cert_dir=str(state / "tls")) as api:
            t = time.monotonic()
            api.load(objs)
            bl.log("stand-in seeded: %d objects in %.1f s"
                   % (len(objs), time.monotonic() - t))
            kubeconfig = state / "kubeconfig"
            api.write_kubeconfig(str(kubeconfig))
            ports = bl.proxy_ports()
            t0 = time.monotonic()
            run = bl.spawn([str(REPO / "scripts" / "run-local"),
                            "--kubeconfig", str(kubeconfig),
                            "--http-port", str(ports["http"]),
                            "--https-port", str(ports["https"]),
                            "--status-port", str(ports["status"]),
                            "--state-dir", str(state / "run"),
                            "--build-dir", args.build_dir,
                            "--workers", str(args.workers)],
                           state / "run-local.log")
            t1 = wait_first_table(state / "run" / "table", run, 120)
            pid = controller_pid(state / "run", run)
            first_cpu = bl.cpu_ticks(pid) / bl.CLK_TCK
            mem_first = vm_status(pid)
            end = time.monotonic() + 30
            while pod_of(ports["http"]) is None and time.monotonic() < end:
                time.sleep(0.01)

            cpu0 = bl.cpu_ticks(pid)
            lat, timeouts = measure_changes(api, ports["http"], echo_port,
                                            args.pods, args.changes,
                                            args.timeout,
                                            state / "run" / "table")
            cpu1 = bl.cpu_ticks(pid)
            mem_end = vm_status(pid)
            bl.stop(run)
            run = None

        result = {
            "ingresses": args.ingresses,
            "services": args.ingresses + 1,
            "endpoints": args.ingresses * args.endpoints_per_service + 1,
            "first_table_s": round(t1 - t0, 3),
            "controller_cpu_to_first_table_s": round(first_cpu, 2),
            "rss_after_first_table_mb": mem_first,
            "rss_at_end_mb": mem_end,
            "changes": args.changes, "timeouts": timeouts,
            "event_to_served_ms": summary([t for t, _ in lat]),
            "event_to_published_ms": summary([p for _, p in lat]),
            "published_to_served_ms": summary([t - p for t, p in lat]),
            "controller_cpu_per_event_ms": round(
                (cpu1 - cpu0) / bl.CLK_TCK * 1000.0 / args.changes, 2),
        }
        print(json.dumps(result, indent=1))
    finally:
        bl.stop(run)
        bl.stop(echo)
        bl.remove_state(state)


if __name__ == "__main__":
    os.environ.pop("KUBECONFIG", None)
    main()
