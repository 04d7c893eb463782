"""harness.py -- drives real shmingress processes for the end-to-end suite.

A Cluster is one temporary world: a manifests directory the test writes
Kubernetes objects into, in-process echo backends standing in for pods
(test/backends/echo.py), and `scripts/run-local` running the real
controller and Debian's nginx with our module on free loopback ports.
Requests go through http.client or raw sockets so Host headers and
request targets are exactly what the test says.

Nothing here knows how routing works: tests state the outcome they expect
and `Cluster.expect` polls until it holds for three consecutive requests
(the publication path is eventually consistent) or a deadline passes.
"""

import base64
import contextlib
import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

SOURCE_DIR = Path(os.environ.get("SHMINGRESS_SOURCE_DIR",
                                 Path(__file__).resolve().parents[2]))
BUILD_DIR = Path(os.environ.get("SHMINGRESS_BUILD_DIR", SOURCE_DIR / "build"))
RUN_LOCAL = SOURCE_DIR / "scripts" / "run-local"
CONTROLLER_BIN = BUILD_DIR / "controller" / "shmingress-controller"
MODULE_SO = BUILD_DIR / "ngx_module" / "ngx_http_shmingress_module.so"

sys.path.insert(0, str(SOURCE_DIR / "test" / "backends"))
import echo  # noqa: E402  (the path above makes it importable)
from ports import free_port  # noqa: E402,F401  (tests call h.free_port)

CONTROLLER_CLASS = "shmingress.io/controller"
INGRESS_CLASS = "shmingress"
DEADLINE = 10.0
CONSECUTIVE = 3
START_DEADLINE = 30.0
NOT_FOUND_BODY = b"default backend - 404"

# Durations worth reporting (name -> seconds), printed by conftest.py at
# the end of the run; never asserted beyond generous deadlines.
TIMINGS = []


def record_timing(name, seconds):
    TIMINGS.append((name, seconds))


# ---------------------------------------------------------------- YAML out

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_PLAIN_VALUE = re.compile(r"^[A-Za-z/][A-Za-z0-9_./-]*$")
_RESERVED = {"y", "n", "yes", "no", "true", "false", "on", "off", "null"}


def _scalar(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    if _PLAIN_VALUE.match(value) and value.lower() not in _RESERVED:
        return value
    # JSON string escapes are valid YAML double-quoted escapes.
    return json.dumps(value)


def _key(key):
    return key if _PLAIN_KEY.match(key) else json.dumps(key)


def _yaml_lines(value, indent):
    pad = " " * indent
    out = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                out.append("%s%s:" % (pad, _key(key)))
                out.extend(_yaml_lines(item, indent + 2))
            else:
                out.append("%s%s: %s" % (pad, _key(key), _scalar(item)))
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                sub = _yaml_lines(item, indent + 2)
                sub[0] = pad + "- " + sub[0][indent + 2:]
                out.extend(sub)
            else:
                out.append("%s- %s" % (pad, _scalar(item)))
    return out


def to_yaml(documents):
    """Block-style YAML, one document per object, as people write
    manifests by hand."""
    return "".join("---\n" + "\n".join(_yaml_lines(doc, 0)) + "\n"
                   for doc in documents)


# ----------------------------------------------------- Kubernetes objects

def meta(name, namespace=None, annotations=None, labels=None, created=None):
    m = {"name": name}
    if namespace is not None:
        m["namespace"] = namespace
    if created is not None:
        m["creationTimestamp"] = created
    if labels:
        m["labels"] = dict(labels)
    if annotations:
        m["annotations"] = dict(annotations)
    return m


def ingress_class(name=INGRESS_CLASS, controller=CONTROLLER_CLASS,
                  default=False):
    annotations = ({"ingressclass.kubernetes.io/is-default-class": "true"}
                   if default else None)
    return {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": meta(name, annotations=annotations),
            "spec": {"controller": controller}}


def backend(service, port=80):
    """port: a number means port.number, a string means port.name."""
    ref = {"number": port} if isinstance(port, int) else {"name": port}
    return {"service": {"name": service, "port": ref}}


def path(p, path_type, service, port=80):
    entry = {"pathType": path_type, "backend": backend(service, port)}
    if p is not None:
        entry = {"path": p, **entry}
    return entry


def rule(host, *paths):
    r = {"http": {"paths": list(paths)}}
    if host is not None:
        r = {"host": host, **r}
    return r


def ingress(name, rules=(), namespace="default", default_backend=None,
            class_name=INGRESS_CLASS, annotations=None, created=None):
    spec = {}
    if class_name is not None:
        spec["ingressClassName"] = class_name
    if default_backend is not None:
        spec["defaultBackend"] = default_backend
    if rules:
        spec["rules"] = list(rules)
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": meta(name, namespace, annotations, created=created),
            "spec": spec}


def service(name, namespace="default", ports=(("http", 80),)):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": meta(name, namespace),
            "spec": {"type": "ClusterIP",
                     "selector": {"app": name},
                     "ports": [{"name": n, "port": p, "protocol": "TCP",
                                "targetPort": n} if n else
                               {"port": p, "protocol": "TCP",
                                "targetPort": p} for n, p in ports]}}


def endpoint_slice(service_name, slice_name, endpoints, port, port_name="http",
                   namespace="default"):
    """endpoints: [(address, conditions dict or None)]."""
    eps = []
    for address, conditions in endpoints:
        ep = {"addresses": [address]}
        if conditions is not None:
            ep["conditions"] = conditions
        eps.append(ep)
    port_entry = {"port": port, "protocol": "TCP"}
    if port_name:
        port_entry = {"name": port_name, **port_entry}
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": meta(slice_name, namespace, labels={
                "kubernetes.io/service-name": service_name}),
            "addressType": "IPv4", "ports": [port_entry], "endpoints": eps}


def tls_secret(name, host, workdir, namespace="default"):
    """A kubernetes.io/tls Secret with a fresh self-signed RSA-2048
    certificate for host (CN "default", SAN host), like the conformance
    suite's conformance-tls."""
    key, crt = Path(workdir) / (name + ".key"), Path(workdir) / (name + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=default",
                    "-addext", "subjectAltName=DNS:" + host,
                    "-keyout", str(key), "-out", str(crt)],
                   check=True, capture_output=True)
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": meta(name, namespace),
            "data": {"tls.crt": base64.b64encode(crt.read_bytes()).decode(),
                     "tls.key": base64.b64encode(key.read_bytes()).decode()}}


READY = {"ready": True, "serving": True, "terminating": False}
NOT_READY = {"ready": False, "serving": False, "terminating": False}
TERMINATING = {"ready": False, "serving": True, "terminating": True}


# ------------------------------------------------------------ manifests

class ManifestDir:
    """The directory given to --manifests.  Writes are atomic (temp file
    + rename), like kubectl-style tooling; a test that wants a torn or
    in-place write uses write_raw."""

    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def write(self, name, objects):
        if name.endswith(".json"):
            text = json.dumps({"apiVersion": "v1", "kind": "List",
                               "items": list(objects)}, indent=1)
        else:
            text = to_yaml(objects)
        self.write_raw(name, text)

    def write_raw(self, name, text):
        tmp = self.root / (".%s.tmp" % name)
        tmp.write_text(text)
        os.rename(tmp, self.root / name)

    def remove(self, name):
        (self.root / name).unlink()


# -------------------------------------------------------------- backends

class BackendService:
    """A Service whose pods are echo listeners.  All pods of one slice
    share a port on different loopback addresses (127.0.0.1, .2, ...),
    the way pods share a targetPort on different IPs."""

    def __init__(self, name, namespace, port_name, service_port, servers,
                 not_ready, port):
        self.name = name
        self.namespace = namespace
        self.port_name = port_name
        self.service_port = service_port
        self.servers = servers
        self.not_ready = not_ready
        self.port = port

    @property
    def ready_servers(self):
        return self.servers[:len(self.servers) - len(self.not_ready)]

    def pods(self):
        return {s.pod for s in self.ready_servers}

    def objects(self):
        eps = [(s.host, READY) for s in self.ready_servers]
        eps += [(s.host, c) for s, c in zip(self.servers[len(eps):],
                                            self.not_ready)]
        return [service(self.name, self.namespace,
                        ((self.port_name, self.service_port),)),
                endpoint_slice(self.name, self.name + "-1", eps, self.port,
                               self.port_name, self.namespace)]

    def connections(self):
        return sum(s.stats()["connections"] for s in self.servers)


class Backends:
    def __init__(self):
        self.servers = []

    def listen(self, service_name, pod, host="127.0.0.1", port=0,
               namespace="default"):
        server = echo.EchoServer(host, port, service_name, pod,
                                 namespace=namespace).start()
        self.servers.append(server)
        return server

    def add(self, name, namespace="default", pods=1, port_name="http",
            service_port=80, not_ready=()):
        """Starts pods + len(not_ready) listeners; not_ready holds the
        EndpointSlice conditions of the extra ones."""
        total = pods + len(not_ready)
        for _ in range(20):
            port = free_port()
            try:
                servers = self._listen_all(name, namespace, total, port)
            except OSError:
                continue
            return BackendService(name, namespace, port_name, service_port,
                                  servers, list(not_ready), port)
        raise RuntimeError("no common free port for %d pods of %s"
                           % (total, name))

    def _listen_all(self, name, namespace, count, port):
        started = []
        try:
            for i in range(count):
                started.append(echo.EchoServer(
                    "127.0.0.%d" % (i + 1), port, name,
                    "%s-%d" % (name, i + 1), namespace=namespace))
        except OSError:
            for s in started:
                s.server_close()
            raise
        for s in started:
            s.start()
        self.servers.extend(started)
        return started

    def connections(self, service_name):
        """TCP connections accepted by all pods of a service so far."""
        return sum(s.stats()["connections"] for s in self.servers
                   if s.service == service_name)

    def stop(self):
        for s in self.servers:
            s.stop()
        self.servers = []


# ------------------------------------------------------------- requests

class Response:
    def __init__(self, status, headers, body, version="HTTP/1.1"):
        self.status = status
        self.version = version
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body[:1] == b"{" else None
        except ValueError:
            self.json = None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def service(self):
        return self.json.get("service") if self.json else None

    @property
    def pod(self):
        return self.json.get("pod") if self.json else None

    def echoed_header(self, name):
        """First value of a header the backend received, or None."""
        if not self.json:
            return None
        for k, values in self.json["headers"].items():
            if k.lower() == name.lower():
                return values[0]
        return None

    def outcome(self):
        """'service:<name>' for a backend answer, else the status code
        ('404', '503', ...): what routing tests compare."""
        if self.status == 200 and self.service:
            return "service:" + self.service
        return str(self.status)

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:200])


def http_request(port, host, target, method="GET", headers=(), body=None,
                 timeout=10.0, address="127.0.0.1"):
    """One request on a fresh connection.  host=None sends no Host header
    at all; the target goes out byte for byte."""
    conn = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_host=True,
                        skip_accept_encoding=True)
        if host is not None:
            conn.putheader("Host", host)
        for k, v in headers:
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read(),
                        "HTTP/1.1" if r.version == 11 else "HTTP/1.0")
    finally:
        conn.close()


def raw_request(port, data, timeout=10.0):
    """Sends raw bytes (e.g. an HTTP/1.0 request without Host) and parses
    the response up to the close of the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    version, status = lines[0].split()[:2]
    headers = [tuple(x.strip() for x in line.split(":", 1))
               for line in lines[1:] if ":" in line]
    return Response(int(status), headers, body, version)


def eventually(fn, check, what, deadline=DEADLINE, consecutive=CONSECUTIVE,
               interval=0.02):
    """Calls fn until check(result) holds for `consecutive` calls in a
    row; returns the last result.  Fails with the last result if the
    deadline passes first."""
    end = time.monotonic() + deadline
    streak, result, error = 0, None, None
    while True:
        try:
            result, error = fn(), None
            streak = streak + 1 if check(result) else 0
        except (OSError, http.client.HTTPException) as e:
            result, error, streak = None, e, 0
        if streak >= consecutive:
            return result
        if time.monotonic() > end:
            raise AssertionError("%s: not true %d times in a row within "
                                 "%.0f s; last result %r%s"
                                 % (what, consecutive, deadline, result,
                                    " (error %s)" % error if error else ""))
        time.sleep(interval)


# ------------------------------------------------------------ websocket

class WebSocket:
    """A minimal RFC 6455 client: enough to hold a connection open through
    the proxy and exchange text frames."""

    def __init__(self, port, host, target="/ws", timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n"
                           % (target, host, key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake: %r"
                                      % self.buf)
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.status = int(head.split()[1])
        self.head = head.decode("latin-1")

    def _send(self, opcode, payload):
        mask = os.urandom(4)
        head = bytearray([0x80 | opcode])
        if len(payload) < 126:
            head.append(0x80 | len(payload))
        else:
            head.append(0x80 | 126)
            head += struct.pack("!H", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes(head) + mask + masked)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _recv_frame(self):
        b0, b1 = self._read(2)
        length = b1 & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read(8))[0]
        return b0 & 0x0F, self._read(length)

    def exchange(self, text):
        """Sends a text frame and returns the text of the reply."""
        self._send(0x1, text.encode())
        opcode, payload = self._recv_frame()
        if opcode != 0x1:
            raise ConnectionError("expected a text frame, got opcode %d"
                                  % opcode)
        return payload.decode()

    def ping(self, data=b"p"):
        self._send(0x9, data)
        return self._recv_frame()

    def close(self):
        try:
            self._send(0x8, struct.pack("!H", 1000))
            self._recv_frame()
        except OSError:
            pass
        self.sock.close()


# -------------------------------------------------------------- process

def proc_stat(pid):
    """(ppid, pgrp, state, start time) of a process, or None when it is
    gone.  The start time tells a process from a later one that reused
    its PID."""
    try:
        stat = Path("/proc", str(pid), "stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces: count fields after the ')'.
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[2]), fields[0], int(fields[19])


def live_pids(predicate):
    """PIDs of non-zombie processes whose proc_stat satisfies predicate."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = proc_stat(int(entry))
            if st and st[2] != "Z" and predicate(st):
                found.append(int(entry))
    return sorted(found)


def children_of(pid):
    """PIDs whose parent is pid (nginx workers of a master)."""
    return live_pids(lambda st: st[0] == pid)


def pid_alive(pid):
    st = proc_stat(pid)
    return st is not None and st[2] != "Z"


class Cluster:
    """One running shmingress (scripts/run-local) with its manifests
    directory and echo backends, in a private temp directory."""

    def __init__(self, root, flags=(), workers=2, build_dir=None,
                 address="127.0.0.1"):
        self.root = Path(root)
        # the HTTP/HTTPS ports' address: 127.0.0.1, or ::1 for IPv6 clients
        self.address = address
        self.manifests = ManifestDir(self.root / "manifests")
        self.state = self.root / "state"
        self.backends = Backends()
        self.flags = list(flags)
        self.workers = workers
        self.build_dir = Path(build_dir or BUILD_DIR)
        self.http_port = free_port()
        self.https_port = free_port()
        self.status_port = free_port()
        self.log_path = self.root / "run-local.log"
        self.proc = None
        self.processes = {}  # pid -> start time, see remember_processes

    # -- lifecycle

    def start(self):
        if not RUN_LOCAL.exists():
            raise AssertionError("%s is missing" % RUN_LOCAL)
        cmd = [str(RUN_LOCAL), "--manifests", str(self.manifests.root),
               "--http-port", str(self.http_port),
               "--https-port", str(self.https_port),
               "--status-port", str(self.status_port),
               "--state-dir", str(self.state),
               "--build-dir", str(self.build_dir),
               "--workers", str(self.workers)]
        if self.address != "127.0.0.1":
            cmd += ["--listen", "[%s]" % self.address
                    if ":" in self.address else self.address]
        if self.flags:
            cmd += ["--"] + self.flags
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True,
                                         cwd=str(self.root))
        finally:
            log.close()
        self.wait_healthy()
        return self

    def wait_healthy(self):
        end = time.monotonic() + START_DEADLINE
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError("run-local exited with %s before it was "
                                     "healthy; log:\n%s"
                                     % (self.proc.returncode,
                                        self.log_tail()))
            try:
                if self.healthz() == 200:
                    self.remember_processes()
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("no healthy /healthz within %.0f s; log:\n%s"
                             % (START_DEADLINE, self.log_tail()))

    def healthz(self):
        return http_request(self.status_port, "127.0.0.1", "/healthz",
                            timeout=2).status

    def remember_processes(self):
        """Notes the controller, the nginx master and its workers (nginx
        runs in a session of its own), so stop() can make sure none of
        them outlives the cluster."""
        pids = [p for p in (self.controller_pid(), self.nginx_pid()) if p]
        pids += self.worker_pids()
        for pid in pids:
            st = proc_stat(pid)
            if st:
                self.processes[pid] = st[3]

    def _left_behind(self):
        """Live processes of ours: run-local's process group, plus the
        remembered ones that are still the same processes."""
        found = set(live_pids(lambda st: st[1] == self.proc.pid))
        for pid, start in self.processes.items():
            st = proc_stat(pid)
            if st and st[2] != "Z" and st[3] == start:
                found.add(pid)
        return sorted(found)

    def stop(self):
        """SIGTERM to run-local's process group; run-local stops nginx and
        the controller.  Whatever is still running 15 s later is killed,
        and reported: stopping must leave nothing behind."""
        if self.proc is None:
            self.backends.stop()
            return
        self.remember_processes()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        end = time.monotonic() + 5
        while self._left_behind() and time.monotonic() < end:
            time.sleep(0.05)
        leftovers = self._left_behind()
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        status, self.proc = self.proc.returncode, None
        self.backends.stop()
        if leftovers:
            raise AssertionError("still running after run-local was stopped "
                                 "(run-local status %s), killed: %s; log:\n%s"
                                 % (status, leftovers, self.log_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # -- state

    def _read_pid(self, name):
        try:
            return int((self.state / name).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def controller_pid(self):
        return self._read_pid("controller.pid")

    def nginx_pid(self):
        return self._read_pid("nginx.pid")

    def worker_pids(self):
        master = self.nginx_pid()
        return children_of(master) if master else []

    @property
    def table_dir(self):
        return self.state / "table"

    def generation(self):
        try:
            with open(self.table_dir / "control", "rb") as f:
                head = f.read(24)
        except OSError:
            return 0
        return struct.unpack_from("<Q", head, 16)[0] if len(head) == 24 else 0

    def wait_generation_above(self, gen, deadline=DEADLINE):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            current = self.generation()
            if current > gen:
                return current
            time.sleep(0.005)
        raise AssertionError("generation stayed at %d for %.0f s; log:\n%s"
                             % (gen, deadline, self.log_tail()))

    def logs(self):
        """run-local's output (controller + nginx stderr) plus every log
        file under the state dir."""
        parts = []
        for p in [self.log_path] + sorted(self.state.rglob("*.log")):
            with contextlib.suppress(OSError):
                parts.append(p.read_text(errors="replace"))
        return "\n".join(parts)

    def log_tail(self, lines=60):
        return "\n".join(self.logs().splitlines()[-lines:])

    # -- requests

    def request(self, host, target, **kw):
        return http_request(self.http_port, host, target,
                            address=self.address, **kw)

    def outcome(self, host, target, **kw):
        return self.request(host, target, **kw).outcome()

    def expect(self, host, target, expected, deadline=DEADLINE, **kw):
        """Polls until host+target gives `expected` ('service:<name>' or a
        status code string) three times in a row; returns the response."""
        return eventually(lambda: self.request(host, target, **kw),
                          lambda r: r.outcome() == expected,
                          "%s%s -> %s" % (host, target, expected),
                          deadline=deadline)


class ClusterFactory:
    """Creates clusters in fresh temp dirs and stops them all at the end
    of the fixture's scope."""

    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory
        self.clusters = []

    def __call__(self, flags=(), **kw):
        cluster = Cluster(self.tmp.mktemp("cluster"), flags, **kw)
        self.clusters.append(cluster)
        return cluster

    def stop_all(self):
        errors = []
        for c in self.clusters:
            try:
                c.stop()
            except AssertionError as e:
                errors.append(str(e))
        self.clusters = []
        if errors:
            raise AssertionError("; ".join(errors))


def start_with(cluster, files, ready=None):
    """Writes {file name: objects}, starts the cluster and, when ready is
    (host, target, expected), waits for that outcome: the controller
    publishes only after it has read every file, so one served route
    means the whole directory is in the table."""
    for name, objects in files.items():
        cluster.manifests.write(name, objects)
    cluster.start()
    if ready:
        cluster.expect(*ready, deadline=START_DEADLINE)
    return cluster


def run_in_thread(fn):
    """Runs fn in a thread; the returned object's .result()/.error hold
    its outcome after .join()."""
    box = {}

    def target():
        try:
            box["result"] = fn()
        except BaseException as e:  # reported to the test, not swallowed
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.box = box
    return t
