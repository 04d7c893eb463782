"""Fixtures for the nginx module tests.

Each test gets Debian's stock nginx running the shipped configuration
template (rendered the way scripts/run-local renders it) with the built
module, a state directory of its own, and echo backends from
test/backends.  Tables are published with shmingress-test-table (the real
builder and tbl_publish, no controller).  Paths come from the environment
that ctest sets; the defaults fit a build in <repo>/build.
"""

import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("SHMINGRESS_BUILD_DIR", os.path.join(REPO, "build"))
MODULE_SO = os.environ.get(
    "SHMINGRESS_MODULE_SO",
    os.path.join(BUILD, "ngx_module", "ngx_http_shmingress_module.so"))
TEST_TABLE = os.environ.get(
    "SHMINGRESS_TEST_TABLE",
    os.path.join(BUILD, "test", "module", "shmingress-test-table"))
NGINX = os.environ.get("SHMINGRESS_NGINX", "/usr/sbin/nginx")
TEMPLATE = os.path.join(REPO, "ngx_module", "conf", "nginx.conf.in")
RENDER = os.path.join(REPO, "ngx_module", "conf", "render-nginx-conf")

sys.path.insert(0, os.path.join(REPO, "test", "backends"))
from echo import EchoServer  # noqa: E402
from ports import free_port  # noqa: E402  (tests import it from here)


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class Nginx:
    """nginx with the module, rendered from the shipped template."""

    def __init__(self, state, workers=1, extra_location="", valgrind=None):
        self.state = str(state)
        self.table_dir = os.path.join(self.state, "table")
        self.http_port = free_port()
        self.https_port = free_port()
        self.status_port = free_port()
        self.workers = workers
        self.extra_location = extra_location
        self.valgrind = valgrind
        self.proc = None
        self.spec_count = 0

    def render(self):
        for sub in ("table", "logs", "tls", "tmp/client_body", "tmp/proxy",
                    "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
            os.makedirs(os.path.join(self.state, sub), exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-nodes", "-days", "2",
             "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-subj", "/CN=shmingress test",
             "-keyout", os.path.join(self.state, "tls", "default.key"),
             "-out", os.path.join(self.state, "tls", "default.crt")],
            check=True, capture_output=True)
        conf = subprocess.run(
            [RENDER, TEMPLATE, "MODULE=" + MODULE_SO,
             "STATE_DIR=" + self.state, "LISTEN=127.0.0.1",
             "HTTP_PORT=%d" % self.http_port,
             "HTTPS_PORT=%d" % self.https_port,
             "STATUS_PORT=%d" % self.status_port,
             "WORKERS=%d" % self.workers, "MAX_OPEN_FILES=4096",
             "WORKER_CONNECTIONS=1024",
             "USER=" + ("root" if os.geteuid() == 0 else "")],
            check=True, capture_output=True, text=True).stdout
        if self.extra_location:
            conf = conf.replace("shmingress_route;",
                                "shmingress_route;\n" + self.extra_location, 1)
        path = os.path.join(self.state, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        return path

    def start(self):
        conf = self.render()
        cmd = [NGINX, "-p", self.state + "/", "-c", conf]
        directives = "daemon off;"
        if self.valgrind:
            directives += " master_process off;"
            cmd = self.valgrind + cmd
        self.proc = subprocess.Popen(cmd + ["-g", directives],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        wait_for(self.ready, timeout=60 if self.valgrind else 10,
                 what="nginx to listen")
        return self

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("nginx exited: " +
                                 self.proc.stderr.read().decode())
        try:
            with socket.create_connection(("127.0.0.1", self.status_port),
                                          timeout=1):
                return True
        except OSError:
            return False

    def stop(self, sig=signal.SIGQUIT, timeout=60):
        """Signals nginx until it exits.  The signal is repeated because a
        process under valgrind can miss the wakeup of its first one and
        sleep until its next timer (60 s for upstream keepalive)."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode

    def worker_pids(self):
        out = subprocess.run(["ps", "-o", "pid=", "--ppid",
                              str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        return sorted(int(p) for p in out.split())

    def error_log(self):
        with open(os.path.join(self.state, "logs", "error.log")) as f:
            return f.read()

    def access_log(self):
        """The access log once it has stopped growing: nginx writes a
        request's line after the client has its response."""
        path = os.path.join(self.state, "logs", "access.log")
        previous = None
        deadline = time.monotonic() + 5
        while True:
            with open(path) as f:
                lines = f.read().splitlines()
            if lines and (lines == previous or time.monotonic() > deadline):
                return lines
            previous = lines
            time.sleep(0.1)

    def publish(self, spec, mode="publish"):
        """Publishes a table described in shmingress-test-table's
        language; returns its generation."""
        self.spec_count += 1
        path = os.path.join(self.state, "spec.%d" % self.spec_count)
        with open(path, "w") as f:
            f.write(spec)
        out = subprocess.run([TEST_TABLE, mode, self.table_dir, path],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return int(out.stdout)

    def request(self, path="/", host=None, port=None, headers=None,
                method="GET", version=None, conn=None, body=None):
        """One request on a fresh connection (or on conn)."""
        own = conn is None
        if own:
            conn = http.client.HTTPConnection("127.0.0.1",
                                              port or self.http_port,
                                              timeout=30)
        if version == "1.0":
            conn._http_vsn, conn._http_vsn_str = 10, "HTTP/1.0"
        conn.putrequest(method, path, skip_host=True,
                        skip_accept_encoding=True)
        if host is not None:
            conn.putheader("Host", host)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders(body)
        resp = conn.getresponse()
        body = resp.read()
        result = Response(resp.status, resp.headers, body)
        if own:
            conn.close()
        return result

    def health(self):
        return self.request("/healthz", host="127.0.0.1",
                            port=self.status_port)

    def https_request(self, path="/", host=None):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", self.https_port,
                                           timeout=30, context=ctx)
        try:
            return self.request(path, host=host, conn=conn)
        finally:
            conn.close()


@pytest.fixture
def nginx(tmp_path):
    server = Nginx(tmp_path / "state").start()
    yield server
    server.stop()


@pytest.fixture
def backends():
    """Starts echo backends on demand: backends("svc-a") -> EchoServer."""
    started = []

    def start(service, port=0):
        server = EchoServer("127.0.0.1", port, service).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def endpoint(server):
    return "127.0.0.1:%d" % server.port


def mapped_tables(pid):
    """table.N files a process maps, with " (deleted)" once unlinked."""
    with open("/proc/%d/maps" % pid) as f:
        return sorted({m.group(1) for m in
                       re.finditer(r"/(table\.\d+(?: \(deleted\))?)$",
                                   f.read(), re.M)})


def dead_endpoint():
    """An address where nothing listens: connections are refused."""
    return "127.0.0.1:%d" % free_port()
