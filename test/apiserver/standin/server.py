"""StandIn: the stand-in's lifecycle and its in-process API.

Tests either embed it (`s = StandIn(tls=True); s.start()`, then seed and
inspect objects, inject faults, restart it) or run kube_standin.py as a
process and use the same calls over `/__control/` (control.py). Objects
seeded in-process skip the HTTP write rules (status kept, no
resourceVersion checks) and are bulk-loaded under one lock, so tens of
thousands of objects load in seconds.
"""

import json
import re
import shutil
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, fields
from http.server import ThreadingHTTPServer

from . import certs, resources
from .auth import Auth
from .control import Control
from .faults import Faults, RequestLog
from .handler import Handler
from .store import Store, full_bytes
from .watch import Registry, shutdown_socket


@dataclass
class Settings:
    """Behaviour that tests may change while the server runs."""
    # Seconds between BOOKMARK events on watches that allow them.
    bookmark_interval: float = 60.0
    # Watches without timeoutSeconds end after a random time in [T, 2T].
    min_request_timeout: float = 1800.0
    # "batch": one chunk per wake-up; "event": one chunk per event;
    # "split": every event cut into 2-4 chunks at random bytes.
    watch_chunking: str = "batch"
    # Answer a watch from a too-old RV with HTTP 410 instead of 200 + an
    # ERROR event.
    expired_as_http: bool = False
    # Serve lists with resourceVersion=0 unpaged, like a watch cache that
    # ignores limit.
    rv0_ignores_limit: bool = False


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, standin, address, ssl_context):
        self.address_family = (socket.AF_INET6 if ":" in address[0]
                               else socket.AF_INET)
        self.standin = standin
        self.ssl_context = ssl_context
        self.closing = False
        self.connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def server_bind(self):
        # HTTPServer.server_bind resolves the host name (getfqdn), which can
        # hang without DNS; the name is never used.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        sock, addr = super().get_request()
        if self.ssl_context:
            # The handshake runs on the connection's thread (Handler.setup),
            # so a slow client cannot stall accept().
            sock = self.ssl_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        if self.standin.verbose:
            super().handle_error(request, client_address)

    def drop_connections(self):
        """Close every open connection (watches included) at the TCP
        level, as a dying apiserver would."""
        self.closing = True
        with self.standin.store.cond:
            self.standin.store.cond.notify_all()
        with self.connections_lock:
            open_now = list(self.connections)
        for sock in open_now:
            shutdown_socket(sock)


class StandIn:
    def __init__(self, port=0, host="127.0.0.1", tls=False, cert_dir=None,
                 token=None, history=10000, continue_ttl=300.0,
                 too_large_wait=3.0, rv_start=1, rv_step=1,
                 request_log=10000, verbose=False, **settings):
        self.host = host
        self.port = port
        self.tls = tls
        self._own_cert_dir = tls and cert_dir is None
        self.cert_dir = cert_dir or (tempfile.mkdtemp(prefix="standin-tls-")
                                     if tls else None)
        self.ca_file = None
        self.verbose = verbose
        self.store = Store(history=history, rv_start=rv_start,
                           rv_step=rv_step, continue_ttl=continue_ttl,
                           too_large_wait=too_large_wait)
        self.settings = Settings()
        self.set(**settings)
        self.auth = Auth(token)
        self.faults = Faults()
        self.log = RequestLog(request_log)
        self.watches = Registry(self.store.cond)
        self.control = Control(self)
        self._httpd = None
        self._thread = None
        self._lifecycle = threading.RLock()

    # Lifecycle.

    def start(self):
        with self._lifecycle:
            if self._httpd is not None:
                return self
            context = self._ssl_context() if self.tls else None
            self._httpd = _HTTPServer(self, (self.host, self.port), context)
            self.port = self._httpd.server_address[1]
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.02},
                name=f"standin-{self.port}", daemon=True)
            self._thread.start()
            return self

    def _ssl_context(self):
        self.ca_file, cert, key = certs.ensure_certificates(self.cert_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.set_alpn_protocols(["http/1.1"])
        return context

    def stop(self):
        """Stop listening and drop every connection; state is kept."""
        with self._lifecycle:
            httpd, self._httpd = self._httpd, None
            if httpd is None:
                return
            httpd.shutdown()
            httpd.drop_connections()
            httpd.server_close()
            self._thread.join()

    def restart(self, keep_state=True, down_seconds=0.0):
        """Stop, stay down for down_seconds, start on the same port; with
        keep_state False the objects and history are gone and every old
        resourceVersion is too old."""
        with self._lifecycle:
            self.stop()
            time.sleep(down_seconds)
            if not keep_state:
                self.store.reset()
            self.start()

    def close(self):
        self.stop()
        if self._own_cert_dir:
            shutil.rmtree(self.cert_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    @property
    def url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def token(self):
        """The token with full access (changes on rotate_token)."""
        return self.auth.admin_token

    @property
    def resource_version(self):
        return str(self.store.current_rv())

    def server_address(self):
        return f"{self.host}:{self.port}"

    @staticmethod
    def version_info():
        return {"major": "1", "minor": "32", "gitVersion": "v1.32.0-standin",
                "gitCommit": "0" * 40, "gitTreeState": "clean",
                "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23.0",
                "compiler": "gc", "platform": "linux/amd64"}

    def write_kubeconfig(self, path, token=None, ca_inline=True,
                         token_file=None, insecure=False, namespace="default"):
        text = certs.kubeconfig_text(
            self.url, token=token or self.token,
            ca_file=self.ca_file if self.tls else None, ca_inline=ca_inline,
            token_file=token_file, insecure=insecure and self.tls,
            namespace=namespace)
        return certs.write_kubeconfig(path, text)

    # Objects. kind: plural, Kind, singular or short name.

    def create(self, obj):
        res = resources.for_object(obj)
        _, data = self.store.create(res, obj, http=False)
        return _decoded(res, data)

    def update(self, obj):
        """Replace an existing object (status included); 409 only when obj
        carries a stale resourceVersion."""
        res = resources.for_object(obj)
        ns, name = _key(res, obj)
        with self.store.cond:
            self.store.get(res, ns, name)
            _, data = self.store.update(res, ns, name, obj, mode="raw")
        return _decoded(res, data)

    def apply(self, obj):
        """Create or replace, ignoring resourceVersion."""
        res = resources.for_object(obj)
        _, data = self.store.load([(res, obj)])[0]
        return _decoded(res, data)

    def delete(self, kind, namespace, name):
        res = resources.find(kind)
        _, data = self.store.delete(res, _namespace(res, namespace), name)
        return _decoded(res, data)

    def get(self, kind, namespace, name):
        res = resources.find(kind)
        _, data = self.store.get(res, _namespace(res, namespace), name)
        return _decoded(res, data)

    def objects(self, kind, namespace=None):
        res = resources.find(kind)
        entries = self.store.sorted_entries(res)
        return [_decoded(res, data) for obj, data in entries
                if namespace is None
                or obj["metadata"].get("namespace") == namespace]

    def load(self, items):
        """Bulk create-or-replace of full objects; returns how many."""
        pairs = [(resources.for_object(obj), obj) for obj in items]
        return len(self.store.load(pairs))

    def reset(self):
        self.store.reset()

    # Faults and control.

    def fail(self, pattern=".*", count=1, status=500, retry_after=None,
             delay=0.0, action="fail", method=None):
        self.faults.add(pattern, count, action, status, retry_after, delay,
                        method)

    def delay(self, seconds, pattern=".*", count=1, method=None):
        self.faults.add(pattern, count, "delay", None, None, seconds, method)

    def clear_faults(self):
        self.faults.clear()

    def cut_watches(self, pattern=None):
        return self.watches.act("cut", _compile(pattern))

    def inject_garbage(self, pattern=None):
        return self.watches.act("garbage", _compile(pattern))

    def truncate_watches(self, pattern=None):
        return self.watches.act("truncate", _compile(pattern))

    def end_watches(self, pattern=None):
        return self.watches.act("end", _compile(pattern))

    def wait_for_watches(self, count=1, pattern=None, timeout=10.0):
        return self.watches.wait_for(int(count), _compile(pattern),
                                     float(timeout))

    def compact(self, resource_version=None):
        return str(self.store.compact(resource_version))

    def rotate_token(self, token, keep_old=False):
        self.auth.rotate(token, keep_old)

    def add_token(self, token, user, rules=(("get,list,watch", "*"),)):
        self.auth.add(token, user, rules)

    def remove_token(self, token):
        self.auth.remove(token)

    def set(self, **changes):
        known = {f.name: f.type for f in fields(Settings)}
        for name, value in changes.items():
            if name not in known:
                raise TypeError(f"unknown setting {name!r}; known: "
                                f"{', '.join(known)}")
            if name == "watch_chunking" and value not in ("batch", "event",
                                                          "split"):
                raise ValueError(f"watch_chunking must be batch, event or "
                                 f"split, not {value!r}")
            setattr(self.settings, name, value)
        return asdict(self.settings)

    def requests(self):
        return self.log.entries()

    def clear_requests(self):
        self.log.clear()

    def state(self):
        store = self.store
        with store.cond:
            return {"resourceVersion": str(store.rv),
                    "oldestResourceVersion": str(store.floor()),
                    "watches": self.watches.count(),
                    "objects": {res.plural: len(store.objects[res])
                                for res in resources.CATALOGUE},
                    "settings": asdict(self.settings)}

    def record_start(self, handler):
        watch = handler.query.get("watch", [""])[-1] in ("1", "true")
        return self.log.start(handler.command, handler.path,
                              handler.headers.get("User-Agent"), watch)

    def record_end(self, handler):
        entry = handler.log_entry
        seconds = round(time.monotonic() - handler.started, 6)
        self.log.update(entry, seconds=seconds)
        if self.verbose:
            print(f"request method={entry['method']} "
                  f"target={json.dumps(entry['target'])} "
                  f"status={entry['status']} "
                  f"watch={str(entry['watch']).lower()} "
                  f"seconds={seconds:.3f}", file=sys.stderr, flush=True)


def _compile(pattern):
    return re.compile(pattern) if pattern else None


def _namespace(res, namespace):
    return (namespace or "default") if res.namespaced else ""


def _key(res, obj):
    meta = obj.get("metadata") or {}
    ns = (meta.get("namespace") or "default") if res.namespaced else ""
    return ns, meta.get("name")


def _decoded(res, data):
    return json.loads(full_bytes(res, data))
