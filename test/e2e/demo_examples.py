"""demo_examples.py -- runs the files of examples/ in an end-to-end
cluster, so the examples users read are proven to work.

The example EndpointSlices point at the echo ports scripts/demo uses
(18081-18084 on 127.0.0.1-3).  Here the same pods are started on free
ports and only the port numbers are substituted in the text: everything
else is loaded exactly as written.  It holds no test of its own.
"""

import http.client
import re
import time

import pytest

import harness as h

EXAMPLES = h.SOURCE_DIR / "examples"
BASE_FILES = ("00-ingressclass.yaml", "10-services.yaml",
              "20-shop-ingress.yaml")

# demo port -> (Service in namespace demo, pods on 127.0.0.1, .2, ...)
DEMO_PODS = {18081: ("web", 3), 18082: ("api", 1), 18083: ("docs", 1),
             18084: ("fallback", 1)}


def example_text(name, ports):
    """The example file with each demo port replaced by the test's."""
    text = (EXAMPLES / name).read_text()
    return re.sub(r"\b(%s)\b" % "|".join(str(p) for p in ports),
                  lambda m: str(ports[int(m.group(1))]), text)


def without_document(text, name):
    """The multi-document YAML text without the object called name."""
    docs = text.split("\n---\n")
    kept = [d for d in docs
            if not re.search(r"^  name: %s$" % re.escape(name), d, re.M)]
    assert len(kept) == len(docs) - 1, "%s is not in the text" % name
    return "\n---\n".join(kept)


def start_demo(clusters, *files, extra=(), **cluster_args):
    """A cluster serving examples 00, 10, 20 and the given files, and the
    (name, text) pairs of extra (e.g. a ConfigMap the test writes);
    returns it once the demo's shop route answers (the controller
    publishes only after reading every file).  cluster_args go to the
    Cluster (address "::1" serves IPv6 clients; flags)."""
    c = clusters(**cluster_args)
    ports = {}
    for demo_port, (svc, pods) in DEMO_PODS.items():
        ports[demo_port] = c.backends.add(svc, namespace="demo",
                                          pods=pods).port
    c.demo_ports = ports
    for name in BASE_FILES + files:
        c.manifests.write_raw(name, example_text(name, ports))
    for name, text in extra:
        c.manifests.write_raw(name, text)
    c.start()
    c.expect("shop.example.com", "/api/items", "service:api",
             deadline=h.START_DEADLINE)
    return c


def demo_fixture(*files):
    """A module-scoped `cluster` fixture (assign it to `cluster` in a test
    module): start_demo with the given files, shared by the module's
    tests."""
    @pytest.fixture(scope="module")
    def cluster(module_clusters):
        return start_demo(module_clusters, *files)
    return cluster


def write_example(cluster, name, text=None):
    """(Re)writes an example file, or the given text in its place."""
    cluster.manifests.write_raw(
        name, text if text is not None
        else example_text(name, cluster.demo_ports))


class Client:
    """One keep-alive connection to the cluster's HTTP port from a chosen
    loopback source address (run-local listens on 127.0.0.1; the source
    may be any 127/8 address; a cluster on ::1 is reached from ::1)."""

    def __init__(self, cluster, source=None):
        self.conn = http.client.HTTPConnection(
            cluster.address, cluster.http_port, timeout=10,
            source_address=(source or cluster.address, 0))

    def get(self, host, target="/", headers=()):
        self.conn.putrequest("GET", target, skip_host=True,
                             skip_accept_encoding=True)
        self.conn.putheader("Host", host)
        for k, v in headers:
            self.conn.putheader(k, v)
        self.conn.endheaders()
        r = self.conn.getresponse()
        resp = h.Response(r.status, r.getheaders(), r.read())
        if r.will_close:
            self.conn.close()
        return resp

    def close(self):
        self.conn.close()


def log_lines(cluster, *needles):
    return [line for line in cluster.logs().splitlines()
            if all(n in line for n in needles)]


def wait_for_log(cluster, *needles, what=None, deadline=h.DEADLINE):
    """The log lines that hold all needles, once there is one; what, if
    given, names the awaited event in the failure."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        lines = log_lines(cluster, *needles)
        if lines:
            return lines
        time.sleep(0.05)
    raise AssertionError("%sno log line containing %s; log:\n%s"
                         % (what + ": " if what else "", needles,
                            cluster.log_tail()))
