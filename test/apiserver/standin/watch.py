"""Watch streams: `?watch=1` on a collection, answered as HTTP/1.1 chunked
JSON, one event per line.

A watch starts from the request's resourceVersion (unset/0: synthetic ADDED
for the current state first; N: only changes after N; older than the
history: 200 then one ERROR event with a 410 Expired Status), then follows
the store's event log. Selector transitions turn MODIFIED into ADDED or
DELETED as the real server does. BOOKMARKs carry only the RV. The stream
ends cleanly at timeoutSeconds (or the server default), or on a control
action: cut (TCP close in the middle of a chunk), garbage (a non-JSON line,
stream continues), truncate (half an event, then a clean end), end (clean
end now).
"""

import json
import random
import select
import socket
import time
from collections import deque

from . import tables
from .errors import ApiError, too_old
from .store import ADDED, DELETED, MODIFIED, full_bytes, parse_rv

ACTIONS = ("cut", "garbage", "truncate", "end")
_INITIAL_END = "k8s.io/initial-events-end"


class Watch:
    """One open watch stream, as the registry and control actions see it."""

    def __init__(self, path):
        self.path = path
        self.actions = deque()


class Registry:
    """Open watches, so control actions and tests can reach them."""

    def __init__(self, cond):
        self.cond = cond
        self.watches = set()

    def add(self, watch):
        with self.cond:
            self.watches.add(watch)
            self.cond.notify_all()

    def remove(self, watch):
        with self.cond:
            self.watches.discard(watch)
            self.cond.notify_all()

    def count(self, pattern=None):
        with self.cond:
            return sum(1 for w in self.watches
                       if pattern is None or pattern.search(w.path))

    def act(self, action, pattern=None):
        """Queue action on every open watch whose path matches; how many."""
        if action not in ACTIONS:
            raise ValueError(f"unknown watch action {action!r}")
        with self.cond:
            hit = [w for w in self.watches
                   if pattern is None or pattern.search(w.path)]
            for w in hit:
                w.actions.append(action)
            self.cond.notify_all()
            return len(hit)

    def wait_for(self, count, pattern, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.count(pattern) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True


def start_point(store, res, flt, opts):
    """(RV to follow from, entries for synthetic ADDED events)."""
    with store.cond:
        if opts.send_initial is False and opts.rv in (None, "0"):
            return store.rv, []
        if opts.rv in (None, "0") or opts.send_initial:
            if opts.rv not in (None, "0"):
                store.wait_for_rv(parse_rv(opts.rv))
            return store.rv, store.sorted_entries(res, flt)
        want = parse_rv(opts.rv)
        if want < store.floor():
            raise too_old(want, store.floor())
        store.wait_for_rv(want)
        return want, []


class Stream:
    """Writes one watch response. Runs on the request's handler thread."""

    def __init__(self, handler, res, flt, opts, as_table):
        self.handler = handler
        self.server = handler.server
        self.standin = handler.server.standin
        self.store = self.standin.store
        self.settings = self.standin.settings
        self.res = res
        self.flt = flt if (flt.labels or flt.fields or flt.namespace) else None
        self.opts = opts
        self.as_table = as_table
        self.watch = Watch(handler.path)

    def serve(self):
        try:
            pos, initial = start_point(self.store, self.res, self.flt,
                                       self.opts)
        except ApiError as err:
            if err.code != 410 or self.settings.expired_as_http:
                raise
            self._headers()
            self._chunk(self._error_line(err))
            self._end()
            return
        self._headers()
        registry = self.standin.watches
        registry.add(self.watch)
        try:
            self._follow(pos, initial)
        except (OSError, ValueError):
            self.handler.close_connection = True
        finally:
            registry.remove(self.watch)

    def _follow(self, pos, initial):
        lines = [self._line(ADDED, obj, data) for obj, data in initial]
        if self.opts.send_initial:
            lines.append(self._bookmark(pos, initial_end=True))
        self._write(lines)
        timeout = self.opts.timeout or random.uniform(
            self.settings.min_request_timeout,
            2 * self.settings.min_request_timeout)
        deadline = time.monotonic() + timeout
        bookmark_at = (time.monotonic() + self.settings.bookmark_interval
                       if self.opts.bookmarks else float("inf"))
        while True:
            events, pos, action, stop = self._wait(pos, deadline, bookmark_at)
            if stop == "closing" or stop == "gone":
                self._drop()
                return
            if stop == "behind":
                self._end()
                return
            lines = [ln for ev in events for ln in self._translate(ev)]
            now = time.monotonic()
            if now >= bookmark_at:
                lines.append(self._bookmark(pos))
                bookmark_at = now + self.settings.bookmark_interval
            self._write(lines)
            if action and self._act(action, pos):
                return
            if now >= deadline:
                self._end()
                return

    def _wait(self, pos, deadline, bookmark_at):
        """Block until events for this resource, an action, a bookmark or
        the deadline. Returns (events, new pos, action, stop) where stop is
        None, "closing" (server stops), "behind" (needed events were
        trimmed) or "gone" (the client hung up)."""
        store = self.store
        with store.cond:
            while True:
                if self.server.closing:
                    return [], pos, None, "closing"
                if pos < store.trimmed:
                    return [], pos, None, "behind"
                if self._client_gone():
                    return [], pos, None, "gone"
                events = store.events_after(pos)
                mine = [ev for ev in events if ev.res is self.res]
                if events:
                    pos = events[-1].rv
                action = (self.watch.actions.popleft()
                          if self.watch.actions else None)
                now = time.monotonic()
                if mine or action or now >= min(deadline, bookmark_at):
                    return mine, pos, action, None
                store.cond.wait(min(deadline, bookmark_at, now + 1.0) - now)

    def _client_gone(self):
        """A watch client sends nothing while the stream is open, so a
        readable socket means EOF or a reset: it is gone."""
        try:
            readable, _, _ = select.select([self.handler.connection], [], [],
                                           0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def _act(self, action, pos):
        """Carry out a control action; True when the stream is over."""
        if action == "garbage":
            self._chunk(b"this is not a JSON watch event\n")
            return False
        if action == "end":
            self._end()
        elif action == "truncate":
            line = self._bookmark(pos)
            self._chunk(line[:len(line) // 2])
            self._end()
        else:
            self._cut()
        return True

    # Event encoding.

    def _translate(self, ev):
        """Zero or one line for this watcher, after selector transitions."""
        if self.flt is None:
            return [self._line(ev.type, ev.obj, ev.data)]
        now_in = self.flt.matches(ev.obj)
        if ev.type != MODIFIED:
            return [self._line(ev.type, ev.obj, ev.data)] if now_in else []
        was_in = self.flt.matches(ev.prev)
        if now_in:
            return [self._line(MODIFIED if was_in else ADDED, ev.obj,
                               ev.data)]
        return [self._line(DELETED, ev.obj, ev.data)] if was_in else []

    def _line(self, type_, obj, data):
        if self.as_table:
            body = json.dumps(tables.table(self.res, [obj],
                                           self.opts.include_object),
                              separators=(",", ":")).encode()
        else:
            body = full_bytes(self.res, data)
        return b'{"type":"' + type_.encode() + b'","object":' + body + b"}\n"

    def _bookmark(self, rv, initial_end=False):
        meta = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {_INITIAL_END: "true"}
        obj = {"kind": self.res.kind, "apiVersion": self.res.api_version,
               "metadata": meta}
        return _event_line("BOOKMARK", obj)

    @staticmethod
    def _error_line(err):
        return _event_line("ERROR", err.status())

    # Wire.

    def _headers(self):
        h = self.handler
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.send_header("Cache-Control", "no-cache, private")
        h.send_header("Audit-Id", h.audit_id)
        h.end_headers()

    def _chunk(self, data):
        if data:
            self.handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _write(self, lines):
        mode = self.settings.watch_chunking
        if mode == "batch":
            self._chunk(b"".join(lines))
        elif mode == "event":
            for line in lines:
                self._chunk(line)
        else:
            for line in lines:
                self._write_split(line)

    def _write_split(self, line):
        """One event as 2-4 chunks cut at random bytes, sent apart."""
        cuts = sorted(random.sample(range(1, len(line)),
                                    min(len(line) - 1, random.randint(1, 3))))
        start = 0
        for cut in cuts + [len(line)]:
            self._chunk(line[start:cut])
            start = cut
            time.sleep(0.002)

    def _end(self):
        self.handler.wfile.write(b"0\r\n\r\n")

    def _cut(self):
        """Announce a chunk, send part of it, then drop the connection."""
        part = b'{"type":"MODIFIED","object":{"kind":"' + \
            self.res.kind.encode()
        self.handler.wfile.write(b"%x\r\n%s" % (len(part) + 200, part))
        self._drop()

    def _drop(self):
        shutdown_socket(self.handler.connection)
        self.handler.close_connection = True


def _event_line(type_, obj):
    return json.dumps({"type": type_, "object": obj},
                      separators=(",", ":")).encode() + b"\n"


def shutdown_socket(sock):
    """TCP shutdown through a dup of the fd: works for TLS sockets too
    without a close_notify, and from any thread."""
    try:
        fd = sock.fileno()
        if fd < 0:
            return
        dup = socket.socket(fileno=socket.dup(fd))
        try:
            dup.shutdown(socket.SHUT_RDWR)
        finally:
            dup.close()
    except OSError:
        pass


