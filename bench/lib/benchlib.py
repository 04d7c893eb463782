"""Shared pieces of the shmingress benchmarks: building the tree, writing
a synthetic cluster as manifests, starting stock nginx (backend and the
static-config baseline) and shmingress (scripts/run-local), finding
worker processes, and a little statistics.

A "rule" here is one Ingress rule: one host with three paths (Exact
/exact, Prefix /api, Prefix /static/), owned by its own Ingress and
backed by its own Service and EndpointSlice.  Every Service resolves to
the same local backend, so the route lookup, not the backend, is what
varies between runs.  Benchmarks are not tests: nothing here asserts
performance, it measures and prints.
"""
import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NGINX = "/usr/sbin/nginx"
RULES_PER_FILE = 100
PATHS = [("/exact", "Exact"), ("/api", "Prefix"), ("/static/", "Prefix")]
# One request per path of a rule, chosen to exercise each match kind.
REQUEST_PATHS = ["/exact", "/api/v1/items", "/static/app.js"]
# The wrk script of every bench (request lists: "host path [Header: v]").
REQUESTS_LUA = REPO / "bench" / "lib" / "requests.lua"

sys.path.insert(0, str(REPO / "test" / "backends"))
from ports import free_port  # noqa: E402,F401  (benches call bl.free_port)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ build

def build(build_dir):
    """Configures (Release) and builds everything the benches run."""
    build_dir = Path(build_dir)
    if not (build_dir / "CMakeCache.txt").exists():
        subprocess.run(["cmake", "-S", str(REPO), "-B", str(build_dir),
                        "-DCMAKE_BUILD_TYPE=Release"], check=True,
                       stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(build_dir), "-j2"], check=True,
                   stdout=subprocess.DEVNULL)
    return build_dir


def controller_binary(build_dir):
    return Path(build_dir) / "controller" / "shmingress-controller"


def table_tool_binary(build_dir):
    return Path(build_dir) / "controller" / "tool" / "shmingress-table"


# -------------------------------------------------------------- manifests

NAMESPACE = "bench"


def host_of(i):
    return "h%d.bench.test" % i


def ingress_class():
    return {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": "shmingress"},
            "spec": {"controller": "shmingress.io/controller"}}


def service(name):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"ports": [{"name": "http", "port": 80,
                                "targetPort": "http", "protocol": "TCP"}]}}


def endpoint_slice(service_name, backend_port):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": service_name + "-1", "namespace": NAMESPACE,
                         "labels": {"kubernetes.io/service-name":
                                    service_name}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["127.0.0.1"],
                           "conditions": {"ready": True, "serving": True,
                                          "terminating": False}}],
            "ports": [{"name": "http", "port": backend_port,
                       "protocol": "TCP"}]}


def ingress(name, host, service_name, paths=PATHS):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": NAMESPACE,
                         "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"ingressClassName": "shmingress", "rules": [{
                "host": host,
                "http": {"paths": [
                    {"path": p, "pathType": t,
                     "backend": {"service": {"name": service_name,
                                             "port": {"name": "http"}}}}
                    for p, t in paths]}}]}}


def rule_objects(i, backend_port):
    svc = "s%d" % i
    return [service(svc), endpoint_slice(svc, backend_port),
            ingress("r%d" % i, host_of(i), svc)]


def write_documents(path, docs):
    """Multi-document YAML; each document is JSON, which is valid YAML."""
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "w") as f:
        for d in docs:
            f.write("---\n")
            f.write(json.dumps(d, separators=(",", ":")))
            f.write("\n")
    os.rename(tmp, path)


def write_cluster(manifest_dir, n_rules, backend_port):
    """n_rules Ingresses (+ Services, EndpointSlices) in files of
    RULES_PER_FILE rules each."""
    manifest_dir = Path(manifest_dir)
    if manifest_dir.exists():
        shutil.rmtree(manifest_dir)
    manifest_dir.mkdir(parents=True)
    write_documents(manifest_dir / "00-class.yaml", [ingress_class()])
    for start in range(0, n_rules, RULES_PER_FILE):
        docs = []
        for i in range(start, min(n_rules, start + RULES_PER_FILE)):
            docs.extend(rule_objects(i, backend_port))
        write_documents(manifest_dir / ("rules-%06d.yaml" % start), docs)
    return manifest_dir


def write_request_list(path, n_rules):
    """"host path" lines for the wrk script, rules interleaved so that
    consecutive requests go to different hosts."""
    with open(path, "w") as f:
        for p in REQUEST_PATHS:
            for i in range(n_rules):
                f.write("%s %s\n" % (host_of(i), p))


# ------------------------------------------------------------ processes

def wait_port(port, timeout=30.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s before port %d "
                               "opened" % (proc.returncode, port))
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("port %d did not open in %.0fs" % (port, timeout))


def http_status(port, host, path, timeout=2.0):
    """One HTTP/1.1 request on a raw socket; returns the status code
    (0 when the connection failed)."""
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
           % (path, host)).encode()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout) as s:
            s.sendall(req)
            head = s.recv(64)
    except OSError:
        return 0
    m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return int(m.group(1)) if m else 0


def stop(proc, timeout=10.0):
    """Ends a process group we started (SIGTERM, then SIGKILL)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def spawn(args, log_path, cpus=None, env=None):
    """Starts args in its own process group, pinned to cpus if given."""
    if cpus is not None:
        args = ["taskset", "-c", cpus] + list(args)
    out = open(log_path, "ab")
    return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True, env=env)


def descendants(pid):
    """All processes whose parent chain leads to pid."""
    parents = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        parents.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in parents.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def nginx_workers(root_pid):
    return sorted(p for p in descendants(root_pid)
                  if cmdline(p).startswith("nginx: worker process"))


def cpu_ticks(pid):
    """utime + stime of one process, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_times(cpu):
    """(busy, total) jiffies of one CPU from /proc/stat."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu%d " % cpu):
                v = [int(x) for x in line.split()[1:]]
                idle = v[3] + v[4]  # idle + iowait
                return sum(v) - idle, sum(v)
    raise RuntimeError("cpu%d not in /proc/stat" % cpu)


def memory_status(pid):
    """VmRSS and its parts, in KiB, from /proc/<pid>/status."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmSize"):
                out[key] = int(rest.split()[0])
    return out


# --------------------------------------------------------------- nginx

def nginx_common(state):
    """The main-level lines every stock nginx we start needs, so that it
    runs as root-owned foreground process confined to state."""
    return """daemon off;
master_process on;
user root;
pid %(s)s/nginx.pid;
error_log %(s)s/error.log warn;
""" % {"s": state}


def http_temp_paths(state):
    return "\n".join("    %s_temp_path %s/%s;" % (k, state, k)
                     for k in ("client_body", "proxy", "fastcgi", "uwsgi",
                               "scgi"))


def _port_list(ports):
    return [ports] if isinstance(ports, int) else list(ports)


def write_backend_conf(state, ports):
    """Stock nginx answering 200 "ok" to everything, keep-alive forever,
    on one port or on each of a list of ports."""
    listen = "\n        ".join(
        "listen 127.0.0.1:%d reuseport backlog=4096;" % p
        for p in _port_list(ports))
    state = Path(state)
    state.mkdir(parents=True, exist_ok=True)
    conf = nginx_common(state) + """worker_processes 1;
events { worker_connections 4096; }
http {
    access_log off;
%(temp)s
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    server {
        %(listen)s
        location / { return 200 "ok\\n"; }
    }
}
""" % {"temp": http_temp_paths(state), "listen": listen}
    (state / "nginx.conf").write_text(conf)
    return state / "nginx.conf"


def start_nginx(conf, log_path, cpus=None):
    return spawn([NGINX, "-c", str(conf)], log_path, cpus=cpus)


# ------------------------------------------------------------- statistics

def percentile(values, p):
    """Nearest-rank percentile, p in [0, 100]."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def median(values):
    return statistics.median(values) if values else float("nan")


# ------------------------------------------------------------------- wrk

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _latency_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(out):
    """Requests/s, request count, p50/p90/p99 (ms) and error counts."""
    res = {"non_2xx": 0, "socket_errors": 0}
    for line in out.splitlines():
        line = line.strip()
        m = re.match(r"Requests/sec:\s+([\d.]+)", line)
        if m:
            res["rps"] = float(m.group(1))
        m = re.match(r"(\d+) requests in ([\d.]+)(\w+)", line)
        if m:
            res["requests"] = int(m.group(1))
        m = re.match(r"(50|75|90|99)%\s+(\S+)$", line)
        if m:
            res["p%s" % m.group(1)] = _latency_ms(m.group(2))
        m = re.match(r"Non-2xx or 3xx responses:\s+(\d+)", line)
        if m:
            res["non_2xx"] = int(m.group(1))
        m = re.match(r"Socket errors: connect (\d+), read (\d+), "
                     r"write (\d+), timeout (\d+)", line)
        if m:
            res["socket_errors"] = sum(int(g) for g in m.groups())
    missing = [k for k in ("rps", "requests", "p50", "p99") if k not in res]
    if missing:
        raise RuntimeError("could not parse wrk output (%s):\n%s"
                           % (", ".join(missing), out))
    return res


def run_wrk(port, script, request_list, duration_s, connections=32,
            cpus="0"):
    args = ["taskset", "-c", cpus, "wrk", "-t1", "-c%d" % connections,
            "-d%ds" % duration_s, "--latency", "-s", str(script),
            "http://127.0.0.1:%d/" % port, "--", str(request_list)]
    res = subprocess.run(args, capture_output=True, text=True,
                         timeout=duration_s + 60)
    if res.returncode != 0:
        raise RuntimeError("wrk failed: %s %s" % (res.stdout, res.stderr))
    return parse_wrk(res.stdout)


def only_worker(proc):
    """The pid of the single nginx worker under proc (run-local with
    --workers 1)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        workers = nginx_workers(proc.pid)
        if len(workers) == 1:
            return workers[0]
        time.sleep(0.1)
    raise RuntimeError("expected one nginx worker, found %s"
                       % nginx_workers(proc.pid))


def measure_worker(port, worker, script, request_list, args, cpus,
                   proxy_cpu=None):
    """A warm-up wrk run, then a measured one; adds the worker's CPU per
    request and busy share to wrk's results.  args has warmup, duration
    and connections.  With proxy_cpu (the one CPU the proxy runs on, cpus
    the one wrk runs on) it also adds how busy wrk's CPU was
    (cpu_generator) and the share of the proxy's CPU that other processes
    took (cpu_other)."""
    run_wrk(port, script, request_list, args.warmup, args.connections,
            cpus=cpus)
    t0, wall0 = cpu_ticks(worker), time.monotonic()
    if proxy_cpu is not None:
        gen0, (busy0, total0) = cpu_times(int(cpus)), cpu_times(proxy_cpu)
    res = run_wrk(port, script, request_list, args.duration,
                  args.connections, cpus=cpus)
    t1, wall1 = cpu_ticks(worker), time.monotonic()
    cpu_s = (t1 - t0) / CLK_TCK
    res["cpu_us_per_req"] = cpu_s * 1e6 / max(1, res["requests"])
    res["worker_busy"] = cpu_s / (wall1 - wall0)
    if proxy_cpu is not None:
        busy1, total1 = cpu_times(proxy_cpu)
        gen1 = cpu_times(int(cpus))
        res["cpu_generator"] = ((gen1[0] - gen0[0])
                                / max(1, gen1[1] - gen0[1]))
        # Below ~90% the worker was not the bottleneck: either the
        # generator was, or other processes took the proxy's CPU.
        res["cpu_other"] = max(0.0, (busy1 - busy0)
                               / max(1, total1 - total0)
                               - res["worker_busy"])
    return res


def measure_rotated(names, reps, measure, last=()):
    """reps repetitions of measure(name) for every name; the order rotates
    by one each repetition so that no name always runs first (or after
    the same neighbour).  Names in last run at the end of every
    repetition, in their order.  Returns name -> list of results."""
    names = list(names)
    runs = {name: [] for name in names + list(last)}
    for rep in range(reps):
        k = rep % len(names)
        log(" repetition %d" % (rep + 1))
        for name in names[k:] + names[:k] + list(last):
            runs[name].append(measure(name))
    return runs


def measure_variants(port, worker, lists, args, cpus, width=12):
    """measure_rotated over the variants of lists (variant -> request
    list, in order): each a measure_worker run with wrk on cpus, logged
    on one line with the variant name padded to width."""
    def measure(v):
        r = measure_worker(port, worker, REQUESTS_LUA, lists[v], args, cpus)
        log("  %-*s %8.0f req/s  p99 %6.3f ms  cpu %5.1f us/req"
            "  busy %3.0f%%" % (width, v, r["rps"], r["p99"],
                                r["cpu_us_per_req"], r["worker_busy"] * 100))
        return r

    return measure_rotated(list(lists), args.reps, measure)


def ratios(runs, base, key):
    """Per-repetition ratios of key, each variant's run / base's run."""
    return {v: [r[key] / b[key] for r, b in zip(rs, runs[base])]
            for v, rs in runs.items()}


def medians(rs):
    """Medians over a variant's runs: req/s, p99 ms, worker CPU us per
    request and worker busy %."""
    return (median([r["rps"] for r in rs]), median([r["p99"] for r in rs]),
            median([r["cpu_us_per_req"] for r in rs]),
            median([r["worker_busy"] for r in rs]) * 100)


def spread(values):
    """'median (min..max)' of ratios."""
    return "%.3fx (%.3f..%.3f)" % (median(values), min(values), max(values))


def start_backend(state, ports, log_path, cpus):
    """The stock-nginx backend of the benches on a port (or each of a list
    of ports), once it listens."""
    proc = start_nginx(write_backend_conf(state, ports), log_path, cpus=cpus)
    try:
        for port in _port_list(ports):
            wait_port(port, proc=proc)
    except BaseException:
        stop(proc)
        raise
    return proc


def wrk_arguments(description, duration=5, warmup=1):
    """A parser with the options every wrk bench takes; add the bench's
    own, then call parse_wrk_arguments."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--duration", type=int, default=duration,
                    help="seconds per measured wrk run (default %d)"
                    % duration)
    ap.add_argument("--warmup", type=int, default=warmup)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--build-dir", default=str(REPO / "build-bench"))
    ap.add_argument("--no-build", action="store_true")
    return ap


def parse_wrk_arguments(ap):
    """Parses and checks the options, and builds the tree unless
    --no-build."""
    args = ap.parse_args()
    if args.reps < 1:
        ap.error("--reps must be at least 1")
    args.build_dir = Path(args.build_dir).resolve()
    if not args.no_build:
        build(args.build_dir)
    return args


def variant_bench_main(doc, prefix, run, print_summary):
    """The main of a variant bench: the wrk options (described by doc's
    first line), a fresh state directory named prefix..., run(state,
    args) in it, then print_summary(runs, args)."""
    args = parse_wrk_arguments(wrk_arguments(doc.splitlines()[0]))
    print_summary(in_state(prefix, lambda state: run(state, args)), args)


def in_state(prefix, fn):
    """fn(state) with a fresh state directory in /dev/shm, removed after
    (see remove_state); returns what fn returned."""
    state = Path(tempfile.mkdtemp(prefix=prefix, dir="/dev/shm"))
    try:
        return fn(state)
    finally:
        remove_state(state)


def remove_state(state):
    """Deletes a bench's state directory unless SHMINGRESS_BENCH_KEEP is
    set (then it says where the logs are)."""
    if os.environ.get("SHMINGRESS_BENCH_KEEP"):
        log("state kept in %s" % state)
        return
    shutil.rmtree(state, ignore_errors=True)


# ------------------------------------------------------------ shmingress

def proxy_ports():
    return {"http": free_port(), "https": free_port(),
            "status": free_port()}


def start_shmingress(state, manifests, ports, build_dir, workers=1,
                     cpus=None):
    """scripts/run-local (controller + nginx with the module) in its own
    process group; its output goes to state/run-local.log.  ports is
    proxy_ports()."""
    state = Path(state)
    state.mkdir(parents=True, exist_ok=True)
    args = [str(REPO / "scripts" / "run-local"), "--manifests",
            str(manifests), "--http-port", str(ports["http"]),
            "--https-port", str(ports["https"]), "--status-port",
            str(ports["status"]), "--state-dir", str(state), "--build-dir",
            str(build_dir), "--workers", str(workers)]
    return spawn(args, state / "run-local.log", cpus=cpus)


@contextlib.contextmanager
def shmingress_over_backend(state, build_dir, backend_ports,
                            write_manifests, proxy_cpu, generator_cpu):
    """The stock backend on backend_ports (on generator_cpu) and one
    shmingress with one worker on proxy_cpu, serving what
    write_manifests(directory) writes; yields (proxy ports, shmingress
    process) and stops both after."""
    state = Path(state)
    backend = start_backend(state / "backend", backend_ports,
                            state / "backend.out", str(generator_cpu))
    shm = None
    try:
        write_manifests(state / "manifests")
        ports = proxy_ports()
        shm = start_shmingress(state / "shmingress", state / "manifests",
                               ports, build_dir, workers=1,
                               cpus=str(proxy_cpu))
        yield ports, shm
    finally:
        stop(shm)
        stop(backend)


def wait_serving(port, host, proc, timeout=120.0, path="/exact"):
    """Waits until host answers 200 through the proxy proc runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("proxy exited with %s" % proc.returncode)
        if http_status(port, host, path) == 200:
            return
        time.sleep(0.05)
    raise RuntimeError("%s not served on port %d within %.0fs"
                       % (host, port, timeout))


def find_table_dir(state):
    """The table directory run-local uses: the one holding "control"."""
    for dirpath, _, files in os.walk(state):
        if "control" in files and any(f.startswith("table.") for f in files):
            return Path(dirpath)
    raise RuntimeError("no table directory under %s" % state)


def read_control(table_dir):
    """generation and published_at_ms from the control file (layout of
    shared/tbl_publish.h: magic u64, version u32, size u32, generation
    u64, heartbeat_ms u64, published_at_ms u64, ...)."""
    import struct
    with open(Path(table_dir) / "control", "rb") as f:
        head = f.read(48)
    _, _, _, gen, heartbeat, published = struct.unpack("<QIIQQQ", head[:40])
    return {"generation": gen, "heartbeat_ms": heartbeat,
            "published_at_ms": published}


def parse_kv_line(line):
    """key=value pairs of one controller log line (values may be
    double-quoted with backslash escapes)."""
    out = {}
    for m in re.finditer(r'(\w[\w.-]*)=("(?:[^"\\]|\\.)*"|\S*)', line):
        v = m.group(2)
        if v.startswith('"'):
            v = re.sub(r"\\(.)", r"\1", v[1:-1])
        out[m.group(1)] = v
    return out
