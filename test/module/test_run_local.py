"""scripts/run-local: state directory, both processes, routing from a
manifests folder, edits served without an nginx reload, and how it stops
(0 on SIGTERM, non-zero and nothing left running when a process dies)."""

import http.client
import os
import signal
import subprocess
import time

import pytest

from conftest import BUILD, REPO, Response, free_port, wait_for

RUN_LOCAL = os.path.join(REPO, "scripts", "run-local")
CONTROLLER = os.path.join(BUILD, "controller", "shmingress-controller")

pytestmark = pytest.mark.skipif(not os.access(CONTROLLER, os.X_OK),
                                reason="shmingress-controller is not built")

MANIFESTS = """
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: shmingress}
spec: {controller: shmingress.io/controller}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: demo}
spec:
  ports: [{name: http, port: 80, targetPort: %(port)d}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: demo
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{name: http, port: %(port)d, protocol: TCP}]
endpoints:
- addresses: ["127.0.0.1"]
  conditions: {ready: true}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: demo}
spec:
  ingressClassName: shmingress
  rules:
  - host: %(host)s
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: 80}}}
"""


class RunLocal:
    def __init__(self, tmp_path):
        self.manifests = tmp_path / "manifests"
        self.manifests.mkdir()
        self.state = tmp_path / "state"
        self.http_port, self.https_port, self.status_port = (
            free_port(), free_port(), free_port())
        self.proc = None

    def write(self, backend_port, host):
        path = self.manifests / "all.yaml"
        path.write_text(MANIFESTS % {"port": backend_port, "host": host})

    def start(self):
        self.proc = subprocess.Popen(
            [RUN_LOCAL, "--manifests", str(self.manifests),
             "--http-port", str(self.http_port),
             "--https-port", str(self.https_port),
             "--status-port", str(self.status_port),
             "--state-dir", str(self.state), "--build-dir", BUILD,
             "--workers", "2"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.banner = []
        for line in self.proc.stdout:
            self.banner.append(line)
            if line.startswith("  state:"):
                break
        wait_for(lambda: self.status("/healthz").status == 200,
                 what="a table to be served")
        return self

    def pid(self, name):
        try:
            with open(self.state / (name + ".pid")) as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def status(self, path):
        return self.get(path, "127.0.0.1", self.status_port)

    def get(self, path, host, port=None):
        conn = http.client.HTTPConnection("127.0.0.1", port or self.http_port,
                                          timeout=10)
        try:
            conn.request("GET", path, headers={"Host": host})
            resp = conn.getresponse()
            return Response(resp.status, resp.headers, resp.read())
        except OSError:
            return Response(0, {}, b"")
        finally:
            conn.close()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(30)


def running(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_serves_manifests_and_stops_on_sigterm(tmp_path, backends):
    web = backends("web")
    rl = RunLocal(tmp_path)
    rl.write(web.port, "web.example.com")
    rl.start()
    try:
        for name in ("table", "logs", "tls", "tmp/proxy"):
            assert (rl.state / name).is_dir()
        assert (rl.state / "nginx.conf").is_file()
        assert (rl.state / "tls" / "default.crt").is_file()
        master, controller = rl.pid("nginx"), rl.pid("controller")
        workers = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)],
                                 capture_output=True, text=True).stdout.split()
        assert len(workers) == 2

        r = rl.get("/x", "web.example.com")
        assert r.status == 200 and r.json()["pod"] == web.pod

        # an edit is served by the same nginx processes
        rl.write(web.port, "www.example.com")
        wait_for(lambda: rl.get("/", "www.example.com").status == 200,
                 what="the edited Ingress")
        assert rl.get("/", "web.example.com").status == 404
        assert subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)],
                              capture_output=True,
                              text=True).stdout.split() == workers
    finally:
        code = rl.stop()
    out = "".join(rl.banner) + rl.proc.stdout.read()
    assert code == 0, out
    assert "  http:    http://127.0.0.1:%d/\n" % rl.http_port in out
    assert "  health:  http://127.0.0.1:%d/healthz\n" % rl.status_port in out
    assert not running(master) and not running(controller)
    assert not (rl.state / "controller.pid").exists()


@pytest.mark.parametrize("victim", ["nginx", "controller"])
def test_a_dying_process_stops_the_other(tmp_path, backends, victim):
    web = backends("web")
    rl = RunLocal(tmp_path)
    rl.write(web.port, "web.example.com")
    rl.start()
    master, controller = rl.pid("nginx"), rl.pid("controller")
    workers = [int(p) for p in subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)],
        capture_output=True, text=True).stdout.split()]

    os.kill(master if victim == "nginx" else controller, signal.SIGKILL)
    code = rl.proc.wait(30)

    assert code != 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
            running(p) for p in [master, controller] + workers):
        time.sleep(0.05)
    assert not any(running(p) for p in [master, controller] + workers)
