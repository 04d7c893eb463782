"""apie2e.py -- shmingress in API mode, end to end: the API stand-in
(test/apiserver/kube_standin.py), kubectl against it, and
`scripts/run-local --kubeconfig` running the real controller and Debian's
nginx with our module in front of echo backends.

It builds on the manifests-mode suite (test/e2e/harness.py: clusters,
backends, requests, eventual consistency) and on the API client tests
(test/kube/kubetest.py: stand-in, table dump); only what API mode adds is
here: a cluster started with a kubeconfig, kubectl, a client that counts
failures while a test changes the world, and the routes the stand-in's
objects call for, to compare with the published table.
"""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))
sys.path.insert(0, str(HERE.parent / "kube"))

import harness  # noqa: E402
import kubetest  # noqa: E402

KUBECTL = Path("/usr/bin/kubectl")
CLASS = harness.INGRESS_CLASS
OTHER_CLASS = "other"
DEADLINE = 30.0


class ApiCluster(harness.Cluster):
    """A harness.Cluster whose controller reads the stand-in: run-local
    gets --kubeconfig instead of --manifests.  The controller's kubeconfig
    reads its token from a file (so a test can rotate it); kubectl gets a
    kubeconfig of its own with the token inline."""

    def __init__(self, root, api, flags=(), workers=2):
        super().__init__(root, ("--log-level", "debug") + tuple(flags),
                         workers)
        self.api = api
        self.token_file = self.root / "token"
        self.kubeconfig = self.root / "controller.kubeconfig"
        self.kubectl_config = self.root / "kubectl.kubeconfig"
        self.write_token(api.token)
        api.write_kubeconfig(str(self.kubeconfig),
                             token_file=str(self.token_file))
        self.write_kubectl_config()

    def write_token(self, token):
        tmp = self.token_file.with_suffix(".tmp")
        tmp.write_text(token + "\n")
        os.replace(tmp, self.token_file)

    def write_kubectl_config(self):
        self.api.write_kubeconfig(str(self.kubectl_config))

    def start(self):
        cmd = [str(harness.RUN_LOCAL), "--kubeconfig", str(self.kubeconfig),
               "--http-port", str(self.http_port),
               "--https-port", str(self.https_port),
               "--status-port", str(self.status_port),
               "--state-dir", str(self.state),
               "--build-dir", str(self.build_dir),
               "--workers", str(self.workers), "--"] + self.flags
        env = {k: v for k, v in os.environ.items()
               if k not in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST",
                            "KUBERNETES_SERVICE_PORT")}
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, env=env,
                                         cwd=str(self.root))
        self.wait_healthy()
        return self

    # -- kubectl

    def kubectl(self, *args, objects=None):
        """Runs kubectl against the stand-in; objects, when given, go to
        its standard input as YAML (for `create -f -`, `replace -f -`)."""
        stdin = harness.to_yaml(objects) if objects is not None else None
        out = subprocess.run([str(KUBECTL), "--kubeconfig",
                              str(self.kubectl_config)] + list(args),
                             input=stdin, capture_output=True, text=True,
                             timeout=60)
        if out.returncode != 0:
            raise AssertionError("kubectl %s failed (%d): %s"
                                 % (" ".join(args), out.returncode,
                                    out.stderr))
        return out.stdout

    # -- the table against the API

    def table_routes(self):
        return table_routes(self.table_dir)

    def wait_converged(self, what, deadline=DEADLINE):
        """Waits until the published table holds exactly the routes the
        stand-in's objects call for; fails with the difference."""
        end = time.monotonic() + deadline
        while True:
            assert self.alive(), "run-local exited:\n" + self.log_tail()
            want, got = api_routes(self.api), self.table_routes()
            if got == want:
                return want
            if time.monotonic() > end:
                raise AssertionError(
                    "%s: the table does not converge to the API's state\n"
                    "  only in the API:   %s\n  only in the table: %s\n%s"
                    % (what, sorted(want - (got or set())),
                       sorted((got or set()) - want), self.log_tail()))
            time.sleep(0.1)


def table_routes(table_dir):
    """{(host, path, pathType, service, (endpoint, ...))} of the published
    table (default backends left out), or None before the first one."""
    ctl = kubetest.read_control(table_dir)
    if ctl is None or ctl["generation"] == 0:
        return None
    out = subprocess.run([str(kubetest.TABLE_TOOL), "dump", "--table-dir",
                          str(table_dir)], capture_output=True, text=True)
    if out.returncode != 0:
        return None
    routes = set()
    for vhost in json.loads(out.stdout)["vhosts"]:
        for route in vhost["routes"]:
            if route["type"] == "DefaultBackend":
                continue
            backend = route["backend"] or {}
            eps = tuple(sorted(e["address"]
                               for e in backend.get("endpoints", [])))
            routes.add((vhost["host"], route["path"], route["type"],
                        backend.get("service"), eps))
    return routes


def api_routes(api, class_name=CLASS,
               controller=harness.CONTROLLER_CLASS):
    """The routes the stand-in's objects call for, in table_routes' shape,
    for the worlds these tests build: every Ingress names its class, has
    hosts, and refers to a Service port by number; Services name their
    ports and target them by name; EndpointSlices carry that port name.
    Only ready endpoints count; a missing Service has no endpoints."""
    ours = {c["metadata"]["name"] for c in api.objects("ingressclasses")
            if c["spec"]["controller"] == controller}
    services = {(s["metadata"]["namespace"], s["metadata"]["name"]): s
                for s in api.objects("services")}
    slices = {}
    for es in api.objects("endpointslices"):
        ns = es["metadata"]["namespace"]
        svc = es["metadata"]["labels"]["kubernetes.io/service-name"]
        slices.setdefault((ns, svc), []).append(es)
    routes = set()
    for ing in api.objects("ingresses"):
        if class_name not in ours or \
                ing["spec"].get("ingressClassName") != class_name:
            continue
        ns = ing["metadata"]["namespace"]
        for rule in ing["spec"].get("rules", []):
            for p in rule["http"]["paths"]:
                ref = p["backend"]["service"]
                eps = _endpoints(services.get((ns, ref["name"])),
                                 slices.get((ns, ref["name"]), []),
                                 ref["port"]["number"])
                routes.add((rule["host"], p["path"], p["pathType"],
                            "%s/%s" % (ns, ref["name"]), eps))
    return routes


def _endpoints(svc, slices, number):
    if svc is None:
        return ()
    port = next((p for p in svc["spec"]["ports"] if p["port"] == number),
                None)
    if port is None:
        return ()
    eps = set()
    for es in slices:
        target = next((p["port"] for p in es["ports"]
                       if p.get("name") == port["targetPort"]), None)
        if target is None:
            continue
        for ep in es["endpoints"]:
            if ep.get("conditions", {}).get("ready", True):
                eps.update("%s:%d" % (a, target) for a in ep["addresses"])
    return tuple(sorted(eps))


class Client:
    """Requests host+target over and over in a thread until stop(),
    counting answers that are not `expected` ('service:<name>')."""

    def __init__(self, cluster, host, target, expected):
        self.cluster = cluster
        self.host, self.target, self.expected = host, target, expected
        self.requests = 0
        self.failures = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            try:
                got = self.cluster.outcome(self.host, self.target)
            except OSError as e:
                got = "error: %s" % e
            self.requests += 1
            if got != self.expected:
                self.failures.append(got)
            time.sleep(0.002)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=30)
        return self.requests, self.failures
