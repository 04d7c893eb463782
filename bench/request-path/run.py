#!/usr/bin/python3
"""Request-path benchmark: shmingress against stock nginx with the same
routes written as static configuration.

The baseline's nginx.conf is derived from the one scripts/run-local
renders from the shipped template (see baseline_conf), so the two differ
only in how a request is routed.  For each rule count, both proxies run
side by side on CPU 1 with one
worker each (taskset), and wrk plus the shared backend (stock nginx,
return 200, keep-alive) run on CPU 0.  Each repetition measures both
proxies back to back, alternating which goes first, after a short
warm-up; every request cycles through all hosts and paths of the rule
set.  Reported: median over repetitions of the per-repetition ratios
shmingress/baseline for throughput, p50 and p99 latency, and worker CPU
time per request.  wrk is closed-loop, so its percentiles are good for
comparing the two proxies, not as absolute latencies.
"""
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import benchlib as bl  # noqa: E402

LUA = bl.REQUESTS_LUA
PROXY_CPU = 1      # both proxies
GENERATOR_CPU = 0  # wrk and the backend


def matching_brace(text, open_at):
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced braces in the rendered nginx.conf")


def baseline_conf(shm_state, ports, base_state, base_ports, backend_port,
                  n_rules):
    """The baseline, derived from the nginx.conf run-local rendered from
    ngx_module/conf/nginx.conf.in, so that both proxies share every
    setting (access log format and file on tmpfs, client and upstream
    keep-alive, proxy headers, buffering, timeouts) and differ only in
    routing:
      - the module lines go; the upstream gets the backend as a static
        server (the same keepalive settings stay);
      - the body of the routing location becomes proxy.conf, included by
        every location of the generated per-rule server blocks: one
        server per host, "location =" for Exact, "location = /p" plus
        "location /p/" for each Prefix (element-wise, like Ingress);
      - the catch-all server answers 404 for unknown hosts and paths,
        as shmingress does with no route;
      - $shmingress_* log variables become $proxy_host, the status
        server's shmingress_health becomes "return 200".
    Every Service of the bench resolves to the same endpoint, so one
    shared upstream is what stock nginx would use for these routes."""
    base_state = Path(base_state)
    for sub in ("logs", "tls", "tmp/client_body", "tmp/proxy",
                "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
        (base_state / sub).mkdir(parents=True, exist_ok=True)
    for f in ("default.crt", "default.key"):
        shutil.copy(Path(shm_state) / "tls" / f, base_state / "tls" / f)

    text = (Path(shm_state) / "nginx.conf").read_text()
    text = text.replace(str(shm_state), str(base_state))
    text = "".join(line + "\n" for line in text.splitlines()
                   if not re.match(r"\s*(load_module|shmingress_table|"
                                   r"shmingress_limit_zone)\b", line))
    # the Host sent upstream is the client's when no upstream-vhost is set
    text = re.sub(r"map \$shmingress_upstream_vhost [^{]*\{[^}]*\}\n", "",
                  text)
    text = text.replace("$shmingress_upstream_host", "$best_http_host")
    # empty unless a rewrite is active, and nginx sends no empty header
    text = "".join(line + "\n" for line in text.splitlines()
                   if "X-Forwarded-Prefix" not in line)
    text = text.replace("shmingress_balancer;",
                        "server 127.0.0.1:%d;" % backend_port)
    # every bench route speaks HTTP; the custom-error location keeps its
    # proxy_pass and loses only the module directive
    text = text.replace("$shmingress_proxy_scheme", "http")
    text = text.replace("$shmingress_grpc_scheme", "grpc")
    text = "".join(line + "\n" for line in text.splitlines()
                   if "shmingress_custom_error;" not in line)
    text = re.sub(r"\$shmingress_\w+", "$proxy_host", text)
    text = text.replace("shmingress_health;", "return 200;")

    # the external-auth location serves no route of the benchmark
    auth = text.find("location = /_shmingress_auth {")
    if auth >= 0:
        close = matching_brace(text, text.index("{", auth))
        text = text[:auth] + text[close + 1:]

    route = re.search(r"location / \{\s*shmingress_route;\n", text)
    if route is None:
        raise RuntimeError("no shmingress_route location in nginx.conf")
    close = matching_brace(text, text.index("{", route.start()))
    (base_state / "proxy.conf").write_text(text[route.end():close])
    text = (text[:route.start()] + "location / { return 404; }"
            + text[close + 1:])

    text = re.sub(r"\n\s*listen \S+:%d [^\n]*ssl[^\n]*;" % ports["https"],
                  "", text)
    text = text.replace(":%d " % ports["http"], ":%d " % base_ports["http"])
    text = text.replace(":%d;" % ports["status"],
                        ":%d;" % base_ports["status"])

    servers = ["    server_names_hash_max_size 262144;",
               "    server_names_hash_bucket_size 128;"]
    inc = "{ include %s/proxy.conf; }" % base_state
    for i in range(n_rules):
        locs = []
        for path, ptype in bl.PATHS:
            if ptype == "Exact":
                locs.append("location = %s %s" % (path, inc))
            else:
                key = path.rstrip("/")
                locs.append("location = %s %s" % (key, inc))
                locs.append("location %s/ %s" % (key, inc))
        servers.append("    server { listen 127.0.0.1:%d; server_name %s;"
                       " %s location / { return 404; } }"
                       % (base_ports["http"], bl.host_of(i), " ".join(locs)))
    end = text.rstrip().rindex("}")
    text = text[:end] + "\n".join(servers) + "\n}\n"
    conf = base_state / "nginx.conf"
    conf.write_text(text)
    return conf


def sanity_check(name, port, n_rules):
    """Both proxies must route, not answer errors fast."""
    for i in (0, n_rules // 2, n_rules - 1):
        for path in bl.REQUEST_PATHS:
            st = bl.http_status(port, bl.host_of(i), path)
            if st != 200:
                raise RuntimeError("%s: %s%s answered %d" %
                                   (name, bl.host_of(i), path, st))
    st = bl.http_status(port, "nope.bench.test", "/exact")
    if st != 404:
        raise RuntimeError("%s: unknown host answered %d, not 404"
                           % (name, st))


def measure(name, port, worker, request_list, args):
    res = bl.measure_worker(port, worker, LUA, request_list, args,
                            str(GENERATOR_CPU), proxy_cpu=PROXY_CPU)
    bl.log("  %-10s %8.0f req/s  p50 %6.3f ms  p99 %6.3f ms  "
           "cpu %5.1f us/req  worker busy %3.0f%%  other %3.0f%%  "
           "generator cpu %3.0f%%  non-2xx %d  socket errors %d"
           % (name, res["rps"], res["p50"], res["p99"],
              res["cpu_us_per_req"], res["worker_busy"] * 100,
              res["cpu_other"] * 100, res["cpu_generator"] * 100,
              res["non_2xx"], res["socket_errors"]))
    return res


def bench_rule_count(state, n_rules, backend_port, args):
    bl.log("== %d rules" % n_rules)
    manifests = bl.write_cluster(state / ("manifests-%d" % n_rules),
                                 n_rules, backend_port)
    request_list = state / ("requests-%d.txt" % n_rules)
    bl.write_request_list(request_list, n_rules)

    shm_state = state / ("shmingress-%d" % n_rules)
    base_state = state / ("baseline-%d" % n_rules)
    shm_ports, base_ports = bl.proxy_ports(), bl.proxy_ports()
    base = shm = None
    try:
        shm = bl.start_shmingress(shm_state, manifests, shm_ports,
                                  args.build_dir, workers=1,
                                  cpus=str(PROXY_CPU))
        bl.wait_serving(shm_ports["http"], bl.host_of(n_rules - 1), shm)
        conf = baseline_conf(shm_state, shm_ports, base_state, base_ports,
                             backend_port, n_rules)
        base = bl.spawn([bl.NGINX, "-p", "%s/" % base_state, "-c", str(conf),
                         "-g", "daemon off;"], base_state / "nginx.out",
                        cpus=str(PROXY_CPU))
        bl.wait_serving(base_ports["http"], bl.host_of(n_rules - 1), base)
        sanity_check("baseline", base_ports["http"], n_rules)
        sanity_check("shmingress", shm_ports["http"], n_rules)
        targets = {"baseline": (base_ports["http"], bl.only_worker(base)),
                   "shmingress": (shm_ports["http"], bl.only_worker(shm))}

        runs = {"baseline": [], "shmingress": []}
        for rep in range(args.reps):
            order = ["baseline", "shmingress"]
            if rep % 2:
                order.reverse()
            bl.log(" repetition %d" % (rep + 1))
            for name in order:
                port, worker = targets[name]
                runs[name].append(measure(name, port, worker, request_list,
                                          args))
    finally:
        bl.stop(shm)
        bl.stop(base)
    return summarize(n_rules, runs)


def summarize(n_rules, runs):
    def ratios(key):
        return [s[key] / b[key] for s, b in zip(runs["shmingress"],
                                                runs["baseline"])]
    out = {"rules": n_rules, "runs": runs}
    for name in runs:
        for key in ("worker_busy", "cpu_other", "cpu_generator"):
            out.setdefault(name, {})[key] = bl.median(
                [x[key] for x in runs[name]])
    for key in ("rps", "p50", "p99", "cpu_us_per_req"):
        r = ratios(key)
        out[key + "_ratio"] = {"median": bl.median(r), "min": min(r),
                               "max": max(r)}
        for name in runs:
            out.setdefault(name, {})[key] = bl.median(
                [x[key] for x in runs[name]])
    out["errors"] = sum(x["non_2xx"] + x["socket_errors"]
                        for name in runs for x in runs[name])
    return out


def print_summary(results, args):
    print("request path: wrk -t1 -c%d -d%ds --latency, %d repetitions, "
          "medians; ratio = shmingress / baseline (spread min..max);\n"
          "busy = proxy worker CPU / wall time, other = CPU %d time taken "
          "by other processes,\ngen = CPU %d (wrk + backend) busy"
          % (args.connections, args.duration, args.reps, PROXY_CPU,
             GENERATOR_CPU))
    print("%-7s %-10s %10s %9s %9s %11s %6s %6s %6s"
          % ("rules", "proxy", "req/s", "p50 ms", "p99 ms", "cpu us/req",
             "busy", "other", "gen"))
    for r in results:
        for name in ("baseline", "shmingress"):
            m = r[name]
            print("%-7d %-10s %10.0f %9.3f %9.3f %11.2f %5.0f%% %5.0f%% "
                  "%5.0f%%" % (r["rules"], name, m["rps"], m["p50"],
                               m["p99"], m["cpu_us_per_req"],
                               m["worker_busy"] * 100, m["cpu_other"] * 100,
                               m["cpu_generator"] * 100))
        parts = []
        for key, label in (("rps", "throughput"), ("p50", "p50"),
                           ("p99", "p99"), ("cpu_us_per_req", "cpu/req")):
            q = r[key + "_ratio"]
            parts.append("%s %.3fx (%.3f..%.3f)" % (label, q["median"],
                                                    q["min"], q["max"]))
        print("%-7d ratio      %s" % (r["rules"], ", ".join(parts)))
        verdict = []
        verdict.append("throughput target >= 0.95x: %s" % (
            "met" if r["rps_ratio"]["median"] >= 0.95 else "MISSED"))
        verdict.append("p99 target <= 1.1x: %s" % (
            "met" if r["p99_ratio"]["median"] <= 1.1 else "MISSED"))
        if r["errors"]:
            verdict.append("%d non-2xx/socket errors" % r["errors"])
        busy = min(r[name]["worker_busy"] for name in ("baseline",
                                                         "shmingress"))
        if busy < 0.85:
            verdict.append("WARNING: a proxy worker was only %.0f%% busy "
                           "(other load on the machine, or the generator "
                           "was the bottleneck): ratios are unreliable"
                           % (busy * 100))
        print("%-7d           %s" % (r["rules"], "; ".join(verdict)))


def main():
    ap = bl.wrk_arguments(__doc__.splitlines()[0], duration=10, warmup=2)
    ap.add_argument("--rules", default="1000,10000",
                    help="comma-separated rule counts (default 1000,10000)")
    ap.add_argument("--json", help="also write the results here")
    args = bl.parse_wrk_arguments(ap)

    state = Path(tempfile.mkdtemp(prefix="shmingress-bench-rp-",
                                  dir="/dev/shm"))
    backend_port = bl.free_port()
    backend = bl.start_backend(state / "backend", backend_port,
                               state / "backend.log", str(GENERATOR_CPU))
    results = []
    try:
        for n in [int(x) for x in args.rules.split(",")]:
            results.append(bench_rule_count(state, n, backend_port, args))
    finally:
        bl.stop(backend)
    print_summary(results, args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    bl.remove_state(state)


if __name__ == "__main__":
    main()
