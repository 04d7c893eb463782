"""kubetest.py -- the real shmingress-controller against the real API
stand-in (test/apiserver/kube_standin.py), for the API client's
end-to-end tests.

A World is a set of small apps: each app is one Ingress (one host, path
"/"), its Service and one EndpointSlice. `World.objects()` gives the
Kubernetes objects to put into the stand-in; `World.expected()` gives
what the published table must route, in the shape `table_routes()`
reads back from `shmingress-table dump`. Tests change the world, apply
the change to the stand-in (or break the stand-in first) and wait until
the published table matches: the path is eventually consistent, so
nothing here asserts timing beyond generous deadlines.
"""

import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE_DIR = HERE.parents[1]
BUILD_DIR = Path(os.environ.get("SHMINGRESS_BUILD_DIR",
                                SOURCE_DIR / "build"))
CONTROLLER = BUILD_DIR / "controller" / "shmingress-controller"
TABLE_TOOL = BUILD_DIR / "controller" / "tool" / "shmingress-table"

sys.path.insert(0, str(SOURCE_DIR / "test" / "apiserver"))
from kube_standin import ApiError, StandIn  # noqa: E402,F401

DEADLINE = 30.0
CLASS = "shmingress"
CONTROLLER_CLASS = "shmingress.io/controller"


def wait_for(predicate, what, deadline=DEADLINE, interval=0.05):
    """Polls until predicate() is truthy; returns its value."""
    end = time.monotonic() + deadline
    last = None
    while time.monotonic() < end:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"no {what} within {deadline:.0f}s (last: "
                         f"{last!r})")


# ------------------------------------------------------------- objects

def ingress_class():
    return {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": CLASS},
            "spec": {"controller": CONTROLLER_CLASS}}


def ingress(ns, name, host, service, tls_secret=None, annotations=None):
    obj = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
           "metadata": {"name": name, "namespace": ns},
           "spec": {"ingressClassName": CLASS, "rules": [{
               "host": host, "http": {"paths": [{
                   "path": "/", "pathType": "Prefix",
                   "backend": {"service": {"name": service,
                                           "port": {"number": 80}}}}]}}]}}
    if tls_secret:
        obj["spec"]["tls"] = [{"hosts": [host], "secretName": tls_secret}]
    if annotations:
        obj["metadata"]["annotations"] = dict(annotations)
    return obj


def service(ns, name):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"type": "ClusterIP", "selector": {"app": name},
                     "ports": [{"name": "http", "port": 80,
                                "targetPort": "http", "protocol": "TCP"}]}}


def endpoint_slice(ns, service_name, name, addresses, port=8080):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name, "namespace": ns, "labels": {
                "kubernetes.io/service-name": service_name}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
            "endpoints": [{"addresses": [a], "conditions": {"ready": True}}
                          for a in addresses]}


def secret(ns, name, data=None):
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": ns}, "type": "Opaque",
            "data": data or {"k": "dg=="}}


class App:
    def __init__(self, ns, name, addresses, host=None):
        self.ns = ns
        self.name = name
        self.host = host or f"{name}.{ns}.example.com"
        self.addresses = list(addresses)

    def objects(self):
        return [ingress(self.ns, self.name, self.host, self.name),
                service(self.ns, self.name),
                endpoint_slice(self.ns, self.name, self.name + "-a",
                               self.addresses)]

    def slice(self):
        return endpoint_slice(self.ns, self.name, self.name + "-a",
                              self.addresses)


class World:
    def __init__(self, apps=()):
        self.apps = {(a.ns, a.name): a for a in apps}

    @classmethod
    def generated(cls, count, namespaces=("shop", "docs"), prefix="app"):
        apps = []
        for i in range(count):
            ns = namespaces[i % len(namespaces)]
            apps.append(App(ns, f"{prefix}-{i}",
                            [f"10.{i // 250}.{i % 250}.{n + 1}"
                             for n in range(2)]))
        return cls(apps)

    def add(self, app):
        self.apps[(app.ns, app.name)] = app
        return app

    def remove(self, ns, name):
        return self.apps.pop((ns, name))

    def objects(self):
        objs = [ingress_class()]
        for app in self.apps.values():
            objs.extend(app.objects())
        return objs

    def expected(self, namespaces=None):
        return {a.host: {"/": (f"{a.ns}/{a.name}",
                               tuple(sorted(f"{ip}:8080"
                                            for ip in a.addresses)))}
                for a in self.apps.values()
                if namespaces is None or a.ns in namespaces}


# ---------------------------------------------------------- the table

def read_control(table_dir):
    """The control file's header fields, or None before it exists."""
    try:
        with open(Path(table_dir) / "control", "rb") as f:
            raw = f.read(64)
    except FileNotFoundError:
        return None
    if len(raw) < 64:
        return None
    (magic, version, size, generation, heartbeat, published_at, pid,
     publications, rejected) = struct.unpack("<QIIQQQQQQ", raw)
    return {"generation": generation, "heartbeat_ms": heartbeat,
            "publications": publications, "pid": pid}


def table_routes(table_dir):
    """{host: {path: (service, (endpoint, ...))}} of the published table,
    or None when nothing is published."""
    ctl = read_control(table_dir)
    if ctl is None or ctl["generation"] == 0:
        return None
    out = subprocess.run([str(TABLE_TOOL), "dump", "--table-dir",
                          str(table_dir)], capture_output=True, text=True)
    if out.returncode != 0:
        return None
    dump = json.loads(out.stdout)
    routes = {}
    for vhost in dump["vhosts"]:
        for route in vhost["routes"]:
            backend = route["backend"] or {}
            eps = tuple(sorted(e["address"]
                               for e in backend.get("endpoints", [])))
            routes.setdefault(vhost["host"], {})[route["path"]] = (
                backend.get("service"), eps)
    return routes


# ------------------------------------------------------- the controller

class Controller:
    """One shmingress-controller process in API mode, reading a kubeconfig
    with a tokenFile (so token rotation can be tested) and the stand-in's
    CA inline, logging at debug level into a file."""

    def __init__(self, api, workdir, args=(), env=None, kubeconfig=True,
                 wrapper=()):
        self.api = api
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.table_dir = self.dir / "tables"
        self.token_file = self.dir / "token"
        self.kubeconfig = self.dir / "kubeconfig"
        self.log_path = self.dir / "controller.log"
        self.args = list(args)
        self.env = dict(env or {})
        self.use_kubeconfig = kubeconfig
        self.wrapper = list(wrapper)
        self.proc = None
        self.write_token(api.token)
        api.write_kubeconfig(str(self.kubeconfig),
                             token_file=str(self.token_file))

    def write_token(self, token):
        tmp = self.token_file.with_suffix(".tmp")
        tmp.write_text(token + "\n")
        os.replace(tmp, self.token_file)

    def command(self):
        cmd = self.wrapper + [str(CONTROLLER), "--table-dir",
                              str(self.table_dir), "--log-level", "debug"]
        if self.use_kubeconfig:
            cmd += ["--kubeconfig", str(self.kubeconfig)]
        return cmd + self.args

    def start(self):
        env = {k: v for k, v in os.environ.items()
               if k not in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST",
                            "KUBERNETES_SERVICE_PORT")}
        env.update(self.env)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=self._log,
                                     stderr=subprocess.STDOUT, env=env)
        return self

    def stop(self, timeout=60):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self._log.close()
        self.proc = None
        return rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        return self.log_path.read_text(errors="replace")

    def log_count(self, needle):
        return self.log().count(needle)

    def control(self):
        return read_control(self.table_dir)

    def routes(self):
        return table_routes(self.table_dir)

    def wait_routes(self, expected, deadline=DEADLINE, what="table"):
        """Waits until the published table routes exactly `expected`."""
        def matches():
            assert self.alive(), "controller exited:\n" + self.log()[-3000:]
            got = self.routes()
            return got == expected or None

        try:
            wait_for(matches, what, deadline)
        except AssertionError:
            got = self.routes() or {}
            missing = sorted(set(expected) - set(got))[:5]
            extra = sorted(set(got) - set(expected))[:5]
            wrong = sorted(h for h in set(expected) & set(got)
                           if expected[h] != got[h])[:5]
            raise AssertionError(
                f"{what}: table does not converge: missing={missing} "
                f"extra={extra} wrong={[(h, got[h], expected[h]) for h in wrong]}"
                f"\nlog tail:\n{self.log()[-4000:]}")


def certs_for_other_ca(directory):
    """A second, unrelated CA (base64 PEM) for verification failures."""
    import base64

    from standin import certs

    ca, _, _ = certs.ensure_certificates(str(directory))
    with open(ca, "rb") as f:
        return base64.b64encode(f.read()).decode()
