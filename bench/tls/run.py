#!/usr/bin/python3
"""TLS handshake benchmark: shmingress choosing the certificate per
handshake from a table of many certificates, against stock nginx with
one static certificate.  The baseline logs and sets proxy headers like
the shipped configuration, so the two differ in the certificate choice
and the routing, not in per-request work around them.

The table holds --certs certificates (one Secret and one tls[] host
each, all EC P-256); the measured host, "localhost" (h2load sends the
URI's host as SNI and must resolve it), gets an ECDSA or an RSA-2048
certificate of its own, and the baseline serves that same certificate
from ssl_certificate.  Both proxies run one worker on CPU 1 and proxy to
the same stock-nginx backend; h2load and the backend run on CPU 0.
h2load runs with as many clients as requests, so every request pays
one full handshake (h2load does not resume sessions); the rate is
requests per second of each round.  Reported: median handshakes/s over
repetitions, alternating which proxy goes first, and the ratio.

Memory per cached certificate: the worker's RSS before and after
handshakes with --distinct different SNI names (each one a cache miss
that parses a chain and a key), divided by that number.
"""
import argparse
import concurrent.futures
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import benchlib as bl  # noqa: E402

PROXY_CPU = "1"
GENERATOR_CPU = "0"


def openssl(args, cwd):
    subprocess.run(["openssl"] + args, cwd=str(cwd), check=True,
                   capture_output=True)


def make_certs(work, n):
    """n-1 filler certificates sharing one EC key, plus an ECDSA and an
    RSA certificate for localhost.  Returns {name: (crt, key)} as
    bytes."""
    work.mkdir(parents=True, exist_ok=True)
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout",
             "-out", "filler.key"], work)

    def filler(i):
        crt = "f%d.crt" % i
        openssl(["req", "-x509", "-new", "-key", "filler.key", "-days", "2",
                 "-subj", "/CN=" + bl.host_of(i), "-set_serial", str(i + 1),
                 "-addext", "subjectAltName=DNS:" + bl.host_of(i),
                 "-out", crt], work)
        return i

    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        list(ex.map(filler, range(n - 1)))
    out = {}
    for kind, newkey in (("ec", ["-newkey", "ec", "-pkeyopt",
                                 "ec_paramgen_curve:prime256v1"]),
                         ("rsa", ["-newkey", "rsa:2048"])):
        openssl(["req", "-x509", "-nodes", "-days", "2"] + newkey +
                ["-subj", "/CN=localhost", "-addext",
                 "subjectAltName=DNS:localhost", "-keyout", kind + ".key",
                 "-out", kind + ".crt"], work)
        out[kind] = ((work / (kind + ".crt")).read_bytes(),
                     (work / (kind + ".key")).read_bytes())
    filler_key = (work / "filler.key").read_bytes()
    for i in range(n - 1):
        out["f%d" % i] = ((work / ("f%d.crt" % i)).read_bytes(), filler_key)
    return out


def secret(name, crt, key):
    import base64
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": bl.NAMESPACE},
            "data": {"tls.crt": base64.b64encode(crt).decode(),
                     "tls.key": base64.b64encode(key).decode()}}


def write_manifests(mdir, certs, kind, n, backend_port):
    mdir.mkdir(parents=True, exist_ok=True)
    tls = [{"hosts": ["localhost"], "secretName": "localhost-tls"}]
    docs = [bl.ingress_class(), bl.service("app"),
            bl.endpoint_slice("app", backend_port),
            secret("localhost-tls", *certs[kind])]
    for i in range(n - 1):
        docs.append(secret("f%d" % i, *certs["f%d" % i]))
        tls.append({"hosts": [bl.host_of(i)], "secretName": "f%d" % i})
    ing = bl.ingress("tls", "localhost", "app", paths=[("/", "Prefix")])
    ing["spec"]["tls"] = tls
    docs.append(ing)
    bl.write_documents(mdir / "tls.yaml", docs)


def write_baseline_conf(state, port, crt, key, backend_port):
    state.mkdir(parents=True, exist_ok=True)
    (state / "tls.crt").write_bytes(crt)
    (state / "tls.key").write_bytes(key)
    conf = bl.nginx_common(state) + """worker_processes 1;
events { worker_connections 16384; multi_accept on; }
http {
%(temp)s
    log_format upstreaminfo '$remote_addr - $remote_user [$time_local] '
                            '"$request" $status $body_bytes_sent '
                            '"$http_referer" "$http_user_agent" '
                            '$request_length $request_time [] [] '
                            '$upstream_addr $upstream_response_length '
                            '$upstream_response_time $upstream_status '
                            '$request_id';
    access_log %(s)s/access.log upstreaminfo;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 10m;
    upstream backend { server 127.0.0.1:%(bport)d; keepalive 320; }
    server {
        listen 127.0.0.1:%(port)d ssl http2 backlog=4096;
        ssl_certificate %(s)s/tls.crt;
        ssl_certificate_key %(s)s/tls.key;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Request-ID $request_id;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-Port $server_port;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Scheme $scheme;
        }
    }
}
""" % {"temp": bl.http_temp_paths(state), "port": port, "s": state,
       "bport": backend_port}
    (state / "nginx.conf").write_text(conf)
    return state / "nginx.conf"


def presented(port, sni):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=sni) as s:
            return s.getpeercert(binary_form=True)


def wait_cert(port, crt, proc, timeout=600.0):
    want = ssl.PEM_cert_to_DER_cert(crt.decode())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("proxy exited with %s" % proc.returncode)
        try:
            if presented(port, "localhost") == want:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("localhost's certificate not served on %d" % port)


def handshakes_per_s(port, clients):
    res = subprocess.run(["taskset", "-c", GENERATOR_CPU, "h2load", "-n",
                          str(clients), "-c", str(clients), "-m", "1",
                          "https://localhost:%d/" % port],
                         capture_output=True, text=True, timeout=300)
    m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", res.stdout)
    ok = re.search(r"(\d+) succeeded", res.stdout)
    if not m or not ok or int(ok.group(1)) != clients:
        raise RuntimeError("h2load: %s %s" % (res.stdout, res.stderr))
    return float(m.group(1))


def memory_per_cert(port, worker, distinct):
    before = bl.memory_status(worker)["VmRSS"]
    for i in range(distinct):
        presented(port, bl.host_of(i))
    after = bl.memory_status(worker)["VmRSS"]
    return (after - before) * 1024.0 / distinct


def measure(args, certs, kind, work, backend_port):
    ports = bl.proxy_ports()
    mdir = work / ("manifests-" + kind)
    write_manifests(mdir, certs, kind, args.certs, backend_port)
    shm = bl.start_shmingress(work / ("shm-" + kind), mdir, ports,
                              args.build_dir, workers=1, cpus=PROXY_CPU)
    base_port = bl.free_port()
    base = bl.start_nginx(write_baseline_conf(work / ("base-" + kind),
                                              base_port, *certs[kind],
                                              backend_port),
                          work / ("base-" + kind + ".log"), cpus=PROXY_CPU)
    try:
        wait_cert(ports["https"], certs[kind][0], shm)
        wait_cert(base_port, certs[kind][0], base)
        rates = {"shmingress": [], "baseline": []}
        order = [("shmingress", ports["https"]), ("baseline", base_port)]
        handshakes_per_s(ports["https"], args.clients)
        handshakes_per_s(base_port, args.clients)
        for rep in range(args.reps):
            for name, port in (order if rep % 2 == 0 else order[::-1]):
                rates[name].append(handshakes_per_s(port, args.clients))
        workers = bl.nginx_workers(shm.pid)
        mem = memory_per_cert(ports["https"], workers[0],
                              min(args.distinct, args.certs - 1))
    finally:
        bl.stop(shm)
        bl.stop(base)
    s, b = bl.median(rates["shmingress"]), bl.median(rates["baseline"])
    return {"kind": kind, "shmingress_hs": s, "baseline_hs": b,
            "ratio": s / b, "bytes_per_cached_cert": mem}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--certs", type=int, default=10000)
    ap.add_argument("--clients", type=int, default=500,
                    help="h2load clients (= requests) per round")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--distinct", type=int, default=2000,
                    help="SNI names for the memory measurement")
    ap.add_argument("--keys", default="ec,rsa",
                    help="key types of the measured certificate")
    ap.add_argument("--build-dir", default=str(bl.REPO / "build-bench"))
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    args.build_dir = Path(args.build_dir).resolve()
    if not args.no_build:
        bl.build(args.build_dir)
    work = Path(tempfile.mkdtemp(prefix="shmingress-bench-tls-"))
    backend_port = bl.free_port()
    backend = bl.start_backend(work / "backend", backend_port,
                               work / "backend.log", GENERATOR_CPU)
    try:
        bl.log("generating %d certificates" % args.certs)
        certs = make_certs(work / "certs", args.certs)
        print("%-6s %14s %14s %7s %16s" % ("key", "shmingress hs/s",
                                           "baseline hs/s", "ratio",
                                           "bytes/cached cert"))
        for kind in args.keys.split(","):
            r = measure(args, certs, kind, work, backend_port)
            print("%-6s %14.0f %14.0f %7.2f %16.0f"
                  % (kind, r["shmingress_hs"], r["baseline_hs"],
                     r["ratio"], r["bytes_per_cached_cert"]), flush=True)
    finally:
        bl.stop(backend)
        bl.remove_state(work)


if __name__ == "__main__":
    main()
