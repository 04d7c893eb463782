"""HTTP request handling: routing, authentication, verbs, responses.

One BaseHTTPRequestHandler per connection (HTTP/1.1 keep-alive). A request
goes: request log -> control endpoints (no auth) -> injected faults ->
unauthenticated health/version -> bearer auth -> discovery or a resource
verb -> RBAC -> store. Every error is a Status JSON body. Responses over
128 KiB are gzipped when the client accepts it, as kube-apiserver does.
"""

import gzip
import json
import re
import ssl
import socket
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import yaml

from . import openapi, options, patch, resources, tables
from .auth import authorize
from .errors import (ApiError, bad_request, method_not_allowed,
                     path_not_found, unsupported_media)
from .selectors import Filter
from .store import full_bytes
from .watch import Stream, shutdown_socket

GZIP_THRESHOLD = 128 * 1024
_RESOURCE_PATH = re.compile(r"^/(?:api/(v1)|apis/([^/]+)/([^/]+))(?:/(.*))?$")
_UNAUTHENTICATED = ("/version", "/healthz", "/livez", "/readyz")
_GROUP_PATH = re.compile(r"^/api/(v1)$|^/apis/([^/]+)(?:/([^/]+))?$")


class Target:
    """A parsed resource URL: resource, namespace, name, subresource."""

    def __init__(self, res, namespace, name, sub):
        self.res = res
        self.namespace = namespace
        self.name = name
        self.sub = sub


def parse_target(group, version, rest):
    segs = [s for s in (rest or "").split("/") if s]
    if not segs:
        return None
    if segs[0] == "namespaces" and len(segs) >= 3:
        res = resources.by_path(group, version, segs[2])
        if res is not None and res.namespaced and len(segs) <= 5:
            return Target(res, segs[1], *(segs[3:] + [None, None])[:2])
    res = resources.by_path(group, version, segs[0])
    if res is None or res.namespaced or len(segs) > 3:
        if res is not None and res.namespaced and len(segs) == 1:
            return Target(res, None, None, None)
        return None
    return Target(res, None, *(segs[1:] + [None, None])[:2])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "shmingress-standin"

    def version_string(self):
        return self.server_version

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
            self.request.settimeout(None)
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def log_message(self, fmt, *args):
        """Requests are logged by StandIn.record_end, without secrets."""

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # Entry.

    def _dispatch(self):
        self.audit_id = str(uuid.uuid4())
        self.status_sent = None
        self.started = time.monotonic()
        url = urlsplit(self.path)
        self.url_path = url.path
        self.query = parse_qs(url.query, keep_blank_values=True)
        standin = self.server.standin
        self.log_entry = standin.record_start(self)
        try:
            # Read the body first, so an early error cannot leave it in the
            # connection to be parsed as the next request.
            self.body = self._read_body()
            if url.path.startswith("/__control/"):
                standin.control.handle(self, url.path[len("/__control/"):])
                return
            if not self._faults(standin):
                self._route(standin)
        except ApiError as err:
            self._send_error(err)
        except (OSError, ValueError) as err:
            if self.status_sent is None:
                self._send_error(ApiError(500, "InternalError", str(err)))
            else:
                self.close_connection = True
        finally:
            standin.record_end(self)

    def send_response(self, code, message=None):
        super().send_response(code, message)
        self.status_sent = code
        entry = getattr(self, "log_entry", None)
        if entry is not None:
            self.server.standin.log.update(entry, status=code)

    def _faults(self, standin):
        """Apply an injected fault; True when the request is answered."""
        rule = standin.faults.take(self.command, self.path)
        if rule is None:
            return False
        if rule.delay:
            time.sleep(rule.delay)
        if rule.action == "reset":
            shutdown_socket(self.connection)
            self.close_connection = True
            return True
        if rule.action == "empty":
            self._send_empty_watch()
            return True
        if rule.action == "fail":
            raise rule.error()
        return False

    def _route(self, standin):
        path = self.url_path.rstrip("/") or "/"
        if path in _UNAUTHENTICATED:
            if path == "/version":
                self.send_json(200, standin.version_info())
            else:
                self.send_body(200, b"ok", "text/plain; charset=utf-8")
            return
        self.principal = standin.auth.authenticate(
            self.headers.get("Authorization"))
        if path in ("/api", "/apis") or _GROUP_PATH.match(path):
            self.send_json(200, self._discovery(path, standin))
            return
        if path.startswith("/openapi/v3"):
            self._openapi(path[len("/openapi/v3"):].strip("/"))
            return
        m = _RESOURCE_PATH.match(path)
        target = m and parse_target(m.group(2) or "", m.group(1) or
                                    m.group(3), m.group(4))
        if not target:
            raise path_not_found(path)
        self._resource(standin, target)

    @staticmethod
    def _discovery(path, standin):
        if path == "/api":
            return resources.api_versions(standin.server_address())
        if path == "/apis":
            return resources.api_group_list()
        m = _GROUP_PATH.match(path)
        if m.group(1):
            doc = resources.resource_list("", "v1")
        elif m.group(3) is None:
            doc = resources.api_group(m.group(2))
        else:
            doc = resources.resource_list(m.group(2), m.group(3))
        if doc is None:
            raise path_not_found(path)
        return doc

    def _openapi(self, rest):
        doc = openapi.root() if not rest else openapi.group_version(rest)
        if doc is None:
            raise path_not_found(self.url_path)
        self.send_json(200, doc)

    # Verbs.

    def _resource(self, standin, t):
        method = self.command
        collection = t.name is None
        if t.sub not in (None, "status") or (t.sub and not
                                             t.res.status_subresource):
            raise path_not_found(self.url_path)
        if method == "GET" and collection:
            opts = options.parse(self.query, t.res)
            verb = "watch" if opts.watch else "list"
            self._authorize(verb, t)
            if opts.watch:
                self._watch(t, opts)
            else:
                self._list(standin, t, opts)
            return
        verb = {("GET", False): "get", ("POST", True): "create",
                ("PUT", False): "update", ("PATCH", False): "patch",
                ("DELETE", False): "delete",
                ("DELETE", True): "deletecollection"}.get((method, collection))
        if verb is None or (t.sub and verb in ("create", "delete")) or \
                (t.res.namespaced and t.namespace is None):
            raise method_not_allowed(method)
        self._authorize(verb, t)
        getattr(self, "_" + verb)(standin.store, t)

    def _authorize(self, verb, t):
        authorize(self.principal, verb, t.res, t.sub, t.namespace, t.name)

    def _get(self, store, t):
        obj, data = store.get(t.res, t.namespace or "", t.name)
        if tables.wants_table(self.headers.get("Accept")):
            include = options.parse(self.query, t.res).include_object
            self.send_json(200, tables.table(t.res, [obj], include))
        else:
            self.send_body(200, full_bytes(t.res, data))

    def _list(self, standin, t, opts):
        flt = Filter(t.namespace, opts.labels, opts.fields)
        if opts.rv == "0" and standin.settings.rv0_ignores_limit:
            opts.limit = 0
        rv, items, cont, remaining = standin.store.list(t.res, flt, opts)
        if tables.wants_table(self.headers.get("Accept")):
            objs = [json.loads(item) for item in items]
            self.send_json(200, tables.table(t.res, objs, opts.include_object,
                                             rv, cont, remaining))
            return
        meta = {"resourceVersion": str(rv)}
        if cont:
            meta["continue"] = cont
            meta["remainingItemCount"] = remaining
        head = json.dumps({"kind": t.res.list_kind,
                           "apiVersion": t.res.api_version,
                           "metadata": meta}, separators=(",", ":"))
        body = b"".join((head[:-1].encode(), b',"items":[',
                         b",".join(items), b"]}"))
        self.send_body(200, body)

    def _watch(self, t, opts):
        flt = Filter(t.namespace, opts.labels, opts.fields)
        as_table = tables.wants_table(self.headers.get("Accept"))
        Stream(self, t.res, flt, opts, as_table).serve()

    def _create(self, store, t):
        obj = self._decoded_body()
        _, data = store.create(t.res, obj, t.namespace or "",
                               dry_run=self._dry_run())
        self.send_body(201, full_bytes(t.res, data))

    def _update(self, store, t):
        obj = self._decoded_body()
        mode = "status" if t.sub else "main"
        existed = self._exists(store, t)
        _, data = store.update(t.res, t.namespace or "", t.name, obj, mode,
                               dry_run=self._dry_run())
        self.send_body(200 if existed else 201, full_bytes(t.res, data))

    def _patch(self, store, t):
        ctype = self.headers.get("Content-Type", "")
        if ctype.split(";")[0].strip() not in (patch.MERGE, patch.STRATEGIC,
                                               patch.JSON_PATCH):
            raise unsupported_media(ctype)
        doc = _decode_json(self.body)
        mode = "status" if t.sub else "main"
        _, data = store.modify(t.res, t.namespace or "", t.name,
                               lambda cur: patch.apply(ctype, cur, doc),
                               mode, dry_run=self._dry_run())
        self.send_body(200, full_bytes(t.res, data))

    def _delete(self, store, t):
        opts = self._delete_options()
        final, _ = store.delete(t.res, t.namespace or "", t.name,
                                opts.get("preconditions"),
                                dry_run=self._dry_run(opts))
        self.send_json(200, {
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Success",
            "details": {"name": t.name, "group": t.res.group,
                        "kind": t.res.plural,
                        "uid": final["metadata"].get("uid")}})

    def _deletecollection(self, store, t):
        opts = options.parse(self.query, t.res)
        flt = Filter(t.namespace, opts.labels, opts.fields)
        dry_run = self._dry_run(self._delete_options())
        deleted = []
        for obj, _ in store.sorted_entries(t.res, flt):
            meta = obj["metadata"]
            try:
                final, _ = store.delete(t.res, meta.get("namespace", ""),
                                        meta["name"], dry_run=dry_run)
            except ApiError as err:
                if err.code != 404:
                    raise
                continue
            deleted.append(final)
        self.send_json(200, {"kind": t.res.list_kind,
                             "apiVersion": t.res.api_version,
                             "metadata": {"resourceVersion":
                                          str(store.current_rv())},
                             "items": deleted})

    @staticmethod
    def _exists(store, t):
        try:
            store.get(t.res, t.namespace or "", t.name)
            return True
        except ApiError:
            return False

    def _dry_run(self, delete_opts=None):
        values = self.query.get("dryRun", [])
        if delete_opts and delete_opts.get("dryRun"):
            values = values + list(delete_opts["dryRun"])
        if any(v not in ("All", "") for v in values):
            raise bad_request(f"unsupported dryRun value: {values!r}; only "
                              f"'All' is supported")
        return "All" in values

    def _delete_options(self):
        raw = self.body
        if not raw.strip():
            return {}
        doc = _decode_json(raw)
        if not isinstance(doc, dict):
            raise bad_request("DeleteOptions must be a JSON object")
        return doc

    # Bodies.

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _read_chunked(self):
        parts = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0",
                       16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _decoded_body(self):
        ctype = (self.headers.get("Content-Type") or "application/json")
        ctype = ctype.split(";")[0].strip()
        if ctype == "application/json":
            return _decode_json(self.body)
        if ctype == "application/yaml":
            try:
                return yaml.safe_load(self.body)
            except yaml.YAMLError as err:
                raise bad_request(f"error decoding YAML body: {err}")
        raise unsupported_media(ctype)

    # Responses.

    def send_json(self, code, doc, headers=None):
        self.send_body(code, json.dumps(doc, separators=(",", ":")).encode(),
                       headers=headers)

    def send_body(self, code, body, ctype="application/json", headers=None):
        accept = self.headers.get("Accept-Encoding", "")
        gzipped = len(body) > GZIP_THRESHOLD and "gzip" in accept
        if gzipped:
            body = gzip.compress(body, compresslevel=1)
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", self.audit_id)
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_error(self, err):
        if self.status_sent is not None:
            self.close_connection = True
            return
        self.send_json(err.code, err.status(), err.headers)

    def _send_empty_watch(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Audit-Id", self.audit_id)
        self.end_headers()
        self.wfile.write(b"0\r\n\r\n")


def _decode_json(raw):
    if not raw.strip():
        raise bad_request("the request body is empty")
    try:
        return json.loads(raw)
    except ValueError as err:
        raise bad_request(f"error decoding JSON body: {err}")
