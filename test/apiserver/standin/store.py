"""In-memory object storage with one global resourceVersion, an event
history for watches, and consistent paged lists.

Objects are kept per resource as (obj, data): obj is the item dict without
kind/apiVersion (never mutated once stored), data its JSON encoding, made
once per write so lists and watches only splice bytes. Every create, update
and delete takes the next resourceVersion and appends one Event to the
history; watchers read the history after their RV. The history holds the
last `history` events (older ones are compacted away: watching from before
them is 410). Lists with `limit` keep a snapshot of the matching items so
every page shows the state of the first page's RV.

The write rules are those of the real server's generic registry and the
kind strategies that matter to an ingress controller (status subresource,
generation, immutable fields, conflicts on stale resourceVersion). It does
not do admission, finalizers, garbage collection or defaulting of specs.
"""

import base64
import bisect
import itertools
import json
import random
import re
import threading
import time
import uuid

from .errors import (ApiError, already_exists, bad_request, conflict,
                     expired, invalid, not_found, too_large, too_old)
from .resources import CATALOGUE

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?"
                        r"(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_NAME_RULES = {
    "subdomain": (_SUBDOMAIN, 253, "a lowercase RFC 1123 subdomain"),
    "label": (_LABEL, 63, "a lowercase RFC 1123 label"),
    "label1035": (_LABEL1035, 63, "a DNS-1035 label"),
}
_GENERATE_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def encode(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def full_bytes(res, data):
    """Stored item bytes -> the object with kind and apiVersion first."""
    return res.prefix + data[1:]


def full_object(res, obj):
    return {"kind": res.kind, "apiVersion": res.api_version, **obj}


def now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _dig(obj, dotted):
    for part in dotted.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


class Event:
    """One change: the object after it and, for selectors, the one before."""

    __slots__ = ("rv", "res", "type", "obj", "data", "prev")

    def __init__(self, rv, res, type_, obj, data, prev):
        self.rv = rv
        self.res = res
        self.type = type_
        self.obj = obj
        self.data = data
        self.prev = prev


class Snapshot:
    __slots__ = ("rv", "res", "items", "created")

    def __init__(self, rv, res, items):
        self.rv = rv
        self.res = res
        self.items = items
        self.created = time.monotonic()


class Store:
    def __init__(self, history=10000, rv_start=1, rv_step=1,
                 continue_ttl=300.0, too_large_wait=3.0, max_snapshots=1000):
        # One lock for all state; watchers wait on it for new events.
        self.cond = threading.Condition(threading.RLock())
        self.history = history
        self.rv_step = rv_step
        self.continue_ttl = continue_ttl
        self.too_large_wait = too_large_wait
        self.max_snapshots = max_snapshots
        self.rv = rv_start
        # New watches and continue tokens need RV >= compacted; events at or
        # before trimmed are gone from the log, so a watch still reading
        # them has to end.
        self.compacted = rv_start
        self.trimmed = rv_start
        self.objects = {res: {} for res in CATALOGUE}
        self._sorted = {}
        self.log = []
        self.log_rvs = []
        self.snapshots = {}
        self._snapshot_ids = itertools.count(1)

    # Reading.

    def current_rv(self):
        with self.cond:
            return self.rv

    def floor(self):
        """Oldest RV a watch can start from: every later event is kept."""
        n = len(self.log_rvs)
        oldest = self.compacted
        if n > self.history:
            oldest = max(oldest, self.log_rvs[n - self.history - 1])
        return max(oldest, self.trimmed)

    def get(self, res, ns, name):
        with self.cond:
            entry = self.objects[res].get((ns, name))
            if entry is None:
                raise not_found(res, name)
            return entry

    def sorted_entries(self, res, flt=None):
        """Entries in etcd key order (namespace, name), filtered."""
        with self.cond:
            keys = self._sorted.get(res)
            table = self.objects[res]
            if keys is None:
                keys = sorted(table)
                self._sorted[res] = keys
            entries = [table[k] for k in keys]
        if flt is None:
            return entries
        if not flt.labels and not flt.fields:
            if flt.namespace is None:
                return entries
            return [e for e in entries
                    if e[0]["metadata"].get("namespace") == flt.namespace]
        return [e for e in entries if flt.matches(e[0])]

    def events_after(self, rv):
        """Events with RV > rv, all kinds (caller filters)."""
        start = bisect.bisect_right(self.log_rvs, rv)
        return self.log[start:]

    # Writing. Callers outside this file use create/update/delete/modify;
    # the _locked variants assume the lock is held.

    def create(self, res, obj, namespace=None, http=True, dry_run=False):
        with self.cond:
            entry = self._create_locked(res, obj, namespace, http, dry_run)
            self.cond.notify_all()
            return entry

    def update(self, res, ns, name, obj, mode="main", dry_run=False):
        """mode: "main" (PUT object), "status" (PUT /status) or "raw"
        (in-process: store exactly this object, status included)."""
        with self.cond:
            entry = self._update_locked(res, ns, name, obj, mode, dry_run)
            self.cond.notify_all()
            return entry

    def modify(self, res, ns, name, change, mode="main", dry_run=False):
        """Read-modify-write under the lock: change(full_obj) -> new full
        object (patches)."""
        with self.cond:
            obj, _ = self.get(res, ns, name)
            new = change(full_object(res, json.loads(encode(obj))))
            entry = self._update_locked(res, ns, name, new, mode, dry_run)
            self.cond.notify_all()
            return entry

    def delete(self, res, ns, name, preconditions=None, dry_run=False):
        with self.cond:
            entry = self._delete_locked(res, ns, name, preconditions or {},
                                        dry_run)
            self.cond.notify_all()
            return entry

    def load(self, pairs):
        """Bulk upsert of (res, obj) without HTTP rules; one wake-up."""
        with self.cond:
            out = []
            for res, obj in pairs:
                meta = {k: v for k, v in (obj.get("metadata") or {}).items()
                        if k != "resourceVersion"}
                obj = dict(obj, metadata=meta)
                ns = meta.get("namespace", "default") if res.namespaced else ""
                if (ns, meta.get("name")) in self.objects[res]:
                    out.append(self._update_locked(res, ns, meta["name"],
                                                   obj, "raw", False))
                else:
                    out.append(self._create_locked(res, obj, None, False,
                                                   False))
            self.cond.notify_all()
            return out

    def compact(self, rv=None):
        """Forget history up to rv (default: now): new watches and continue
        tokens from before it get 410. Open watches keep reading, as the
        real watch cache does across an etcd compaction."""
        with self.cond:
            target = self.rv if rv is None else min(int(rv), self.rv)
            self.compacted = max(self.compacted, target)
            self.cond.notify_all()
            return self.compacted

    def reset(self):
        """Drop every object and all history; RVs keep increasing so every
        old RV is too old."""
        with self.cond:
            for table in self.objects.values():
                table.clear()
            self._sorted.clear()
            self.log.clear()
            self.log_rvs.clear()
            self.snapshots.clear()
            self.rv += self.rv_step
            self.compacted = self.trimmed = self.rv
            self.cond.notify_all()

    def _next_rv(self):
        self.rv += self.rv_step
        return self.rv

    def _record(self, res, type_, obj, data, prev):
        ev = Event(self.rv, res, type_, obj, data, prev)
        self.log.append(ev)
        self.log_rvs.append(ev.rv)
        if len(self.log) > 2 * self.history:
            cut = len(self.log) - self.history
            self.trimmed = self.log_rvs[cut - 1]
            del self.log[:cut]
            del self.log_rvs[:cut]

    def _create_locked(self, res, obj, namespace, http, dry_run):
        item, meta = _split(res, obj)
        name = meta.get("name") or _generate_name(res, meta)
        _check_name(res, name)
        meta["name"] = name
        ns = _namespace_for(res, meta, namespace)
        if http and meta.pop("resourceVersion", None):
            raise ApiError(500, "InternalError", "resourceVersion should not "
                           "be set on objects to be created")
        if (ns, name) in self.objects[res]:
            raise already_exists(res, name)
        if http or not meta.get("uid"):
            meta["uid"] = str(uuid.uuid4())
        if http or not meta.get("creationTimestamp"):
            meta["creationTimestamp"] = now_rfc3339()
        if res.generation_fields:
            meta["generation"] = 1
        if http and res.status_subresource:
            item.pop("status", None)
            if res.kind == "Namespace":
                item["status"] = {"phase": "Active"}
        if dry_run:
            meta.pop("resourceVersion", None)
            new = _assemble(meta, item)
            return new, encode(new)
        meta["resourceVersion"] = str(self._next_rv())
        new = _assemble(meta, item)
        data = encode(new)
        self.objects[res][(ns, name)] = (new, data)
        self._sorted.pop(res, None)
        self._record(res, ADDED, new, data, None)
        return new, data

    def _update_locked(self, res, ns, name, obj, mode, dry_run):
        item, meta = _split(res, obj)
        if meta.get("name", name) != name:
            raise bad_request(f"the name of the object ({meta['name']}) does "
                              f"not match the name on the URL ({name})")
        if res.namespaced and meta.get("namespace", ns) != ns:
            raise bad_request("the namespace of the provided object does not "
                              "match the namespace sent on the request")
        entry = self.objects[res].get((ns, name))
        if entry is None:
            if mode == "raw" or (mode == "main" and res.create_on_update):
                meta.pop("resourceVersion", None)
                meta["name"] = name
                return self._create_locked(res, _assemble(meta, item),
                                           ns or None, mode != "raw", dry_run)
            raise not_found(res, name)
        old = entry[0]
        given = meta.get("resourceVersion")
        if given and given != old["metadata"]["resourceVersion"]:
            raise conflict(res, name)
        new = _merge_update(res, old, item, meta, mode)
        _check_immutable(res, old, new)
        if new == old:
            return entry
        if dry_run:
            return new, encode(new)
        new["metadata"]["resourceVersion"] = str(self._next_rv())
        data = encode(new)
        self.objects[res][(ns, name)] = (new, data)
        self._record(res, MODIFIED, new, data, old)
        return new, data

    def _delete_locked(self, res, ns, name, preconditions, dry_run):
        entry = self.objects[res].get((ns, name))
        if entry is None:
            raise not_found(res, name)
        old = entry[0]
        meta = old["metadata"]
        for field, key in (("uid", "uid"),
                           ("resourceVersion", "resourceVersion")):
            want = preconditions.get(field)
            if want and want != meta.get(key):
                raise conflict(res, name, f"Precondition failed: {field} in "
                               f"precondition: {want}, {field} in object "
                               f"meta: {meta.get(key)}")
        if dry_run:
            return entry
        final = dict(old)
        final["metadata"] = dict(meta, resourceVersion=str(self._next_rv()))
        data = encode(final)
        del self.objects[res][(ns, name)]
        self._sorted.pop(res, None)
        self._record(res, DELETED, final, data, old)
        return final, data

    # Lists.

    def list(self, res, flt, opts):
        """(list RV, item bytes of this page, continue token, remaining)."""
        if opts.cont:
            return self._continue(res, opts)
        rv, entries = self._state_for_list(res, flt, opts)
        items = [data for _, data in entries]
        if not opts.limit or len(items) <= opts.limit:
            return rv, items, "", None
        with self.cond:
            self._drop_old_snapshots()
            sid = next(self._snapshot_ids)
            self.snapshots[sid] = Snapshot(rv, res, items)
        return self._page(sid, rv, items, 0, opts.limit)

    def _state_for_list(self, res, flt, opts):
        if opts.rv in (None, "0"):
            with self.cond:
                return self.rv, self.sorted_entries(res, flt)
        want = parse_rv(opts.rv)
        if opts.rv_match == "Exact":
            return want, self._state_at(res, flt, want)
        self.wait_for_rv(want)
        with self.cond:
            return self.rv, self.sorted_entries(res, flt)

    def wait_for_rv(self, want):
        """Block until the store reached RV want, else 504 too large."""
        deadline = time.monotonic() + self.too_large_wait
        with self.cond:
            while self.rv < want:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise too_large(want, self.rv)
                self.cond.wait(left)

    def _state_at(self, res, flt, want):
        """Entries as they were at RV want, rebuilt by undoing later
        events."""
        with self.cond:
            if want > self.rv:
                raise too_large(want, self.rv)
            if want < self.floor():
                raise too_old(want, self.floor())
            state = dict(self.objects[res])
            for ev in reversed(self.events_after(want)):
                if ev.res is not res:
                    continue
                key = (ev.obj["metadata"].get("namespace", ""),
                       ev.obj["metadata"]["name"])
                if ev.type == ADDED:
                    del state[key]
                else:
                    state[key] = (ev.prev, encode(ev.prev))
        entries = [state[k] for k in sorted(state)]
        return [e for e in entries if flt is None or flt.matches(e[0])]

    def _continue(self, res, opts):
        sid, rv, start = _decode_continue(opts.cont)
        with self.cond:
            self._drop_old_snapshots()
            snap = self.snapshots.get(sid)
            if snap is None or snap.rv != rv or snap.res is not res:
                raise expired("The provided continue parameter is too old to "
                              "display a consistent list result. Start a new "
                              "list without the continue parameter.")
        limit = opts.limit or len(snap.items)
        return self._page(sid, rv, snap.items, start, limit)

    def _page(self, sid, rv, items, start, limit):
        end = start + limit
        page = items[start:end]
        if end >= len(items):
            with self.cond:
                self.snapshots.pop(sid, None)
            return rv, page, "", None
        return rv, page, _encode_continue(sid, rv, end), len(items) - end

    def _drop_old_snapshots(self):
        oldest = time.monotonic() - self.continue_ttl
        for sid in [sid for sid, s in self.snapshots.items()
                    if s.created < oldest or s.rv < self.floor()]:
            del self.snapshots[sid]
        while len(self.snapshots) > self.max_snapshots:
            del self.snapshots[min(self.snapshots)]


def parse_rv(text):
    if not text.isdigit():
        raise bad_request(f"invalid resource version: {text!r}")
    return int(text)


def _encode_continue(sid, rv, start):
    raw = json.dumps({"v": "standin/1", "s": sid, "rv": rv, "start": start})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_continue(token):
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        doc = json.loads(raw)
        if doc["v"] != "standin/1":
            raise ValueError(doc["v"])
        return int(doc["s"]), int(doc["rv"]), int(doc["start"])
    except (ValueError, KeyError, TypeError):
        raise bad_request(f"continue key is not valid: {token!r}")


def _split(res, obj):
    """Validate the envelope; return (item without kind/apiVersion, copy of
    metadata)."""
    if not isinstance(obj, dict):
        raise bad_request(f"{res.kind} body must be a JSON object")
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if kind not in (None, res.kind) or api_version not in (None,
                                                            res.api_version):
        raise bad_request(f"the body is {api_version}/{kind}, the URL is "
                          f"{res.api_version}/{res.kind}")
    meta = obj.get("metadata") or {}
    if not isinstance(meta, dict):
        raise bad_request(f"{res.kind} metadata must be a JSON object")
    item = {k: v for k, v in obj.items()
            if k not in ("kind", "apiVersion", "metadata")}
    return item, dict(meta)


def _assemble(meta, item):
    return {"metadata": meta, **item}


def _generate_name(res, meta):
    prefix = meta.get("generateName")
    if not prefix:
        raise invalid(res, "", "metadata.name", "",
                      "name or generateName is required")
    return prefix + "".join(random.choice(_GENERATE_CHARS) for _ in range(5))


def _check_name(res, name):
    pattern, limit, what = _NAME_RULES[res.name_format]
    if not isinstance(name, str) or len(name) > limit \
            or not pattern.match(name):
        raise invalid(res, name, "metadata.name", name,
                      f"must be {what} of at most {limit} characters")


def _namespace_for(res, meta, url_ns):
    if not res.namespaced:
        meta.pop("namespace", None)
        return ""
    ns = meta.get("namespace") or url_ns or "default"
    if url_ns and ns != url_ns:
        raise bad_request("the namespace of the provided object does not "
                          "match the namespace sent on the request")
    meta["namespace"] = ns
    return ns


_SYSTEM_FIELDS = ("name", "namespace", "uid", "creationTimestamp",
                  "generation", "resourceVersion", "deletionTimestamp")


def _merge_update(res, old, item, meta, mode):
    """The object an update stores, before its new RV."""
    if mode == "status":
        new = dict(old)
        if "status" in item:
            new["status"] = item["status"]
        else:
            new.pop("status", None)
        return new
    new_meta = {k: v for k, v in meta.items() if k not in _SYSTEM_FIELDS}
    for key in _SYSTEM_FIELDS:
        if key in old["metadata"]:
            new_meta[key] = old["metadata"][key]
    new = _assemble(new_meta, item)
    if mode == "main" and res.status_subresource:
        new.pop("status", None)
        if "status" in old:
            new["status"] = old["status"]
    if any(new.get(f) != old.get(f) for f in res.generation_fields):
        new_meta["generation"] = old["metadata"].get("generation", 0) + 1
    return new


def _check_immutable(res, old, new):
    for path in res.immutable:
        if _dig(old, path) != _dig(new, path):
            raise invalid(res, old["metadata"]["name"], path, _dig(new, path),
                          "field is immutable")
