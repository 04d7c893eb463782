"""Injected faults and the request log.

A fault rule matches requests by a regular expression searched in the
request target (path and query, e.g. `ingresses.*watch=1`) and optionally
the method, and applies to the next `count` matches (-1: until cleared).
Actions: fail (answer `status`, with `Retry-After` when retry_after is
set), delay (sleep `delay` seconds, then serve normally; fail also honours
delay first), empty (a 200 watch response that ends at once with no
events), reset (drop the TCP connection without answering).

The request log keeps the last N requests (method, target, status,
user agent, whether it was a watch) so tests can assert what a client did;
it never records headers that carry credentials.
"""

import re
import threading
import time
from collections import deque

from .errors import injected

FAULT_ACTIONS = ("fail", "delay", "empty", "reset")


class Rule:
    def __init__(self, pattern, count, action, status, retry_after, delay,
                 method):
        if action not in FAULT_ACTIONS:
            raise ValueError(f"unknown fault action {action!r}; one of "
                             f"{', '.join(FAULT_ACTIONS)}")
        if count == 0 or count < -1:
            raise ValueError(f"fault count must be positive or -1, not "
                             f"{count}")
        self.pattern = re.compile(pattern)
        self.count = count
        self.action = action
        self.status = status
        self.retry_after = retry_after
        self.delay = delay
        self.method = method.upper() if method else None

    def matches(self, method, target):
        return ((self.method is None or self.method == method)
                and self.pattern.search(target) is not None)

    def error(self):
        return injected(self.status, self.retry_after)


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self._rules = []

    def add(self, pattern=".*", count=1, action="fail", status=500,
            retry_after=None, delay=0.0, method=None):
        rule = Rule(pattern, count, action, status, retry_after, delay,
                    method)
        with self._lock:
            self._rules.append(rule)

    def clear(self):
        with self._lock:
            self._rules.clear()

    def take(self, method, target):
        """The first rule matching this request, counted as used."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, target):
                    if rule.count > 0:
                        rule.count -= 1
                        if rule.count == 0:
                            self._rules.remove(rule)
                    return rule
        return None


class RequestLog:
    """Entries are added when a request arrives (so open watches show up),
    get their status when the response head is sent and their duration
    when the request is done."""

    def __init__(self, size):
        self._lock = threading.Lock()
        self._entries = deque(maxlen=size)

    def start(self, method, target, user_agent, watch):
        entry = {"time": time.time(), "method": method, "target": target,
                 "status": None, "user_agent": user_agent, "watch": watch,
                 "seconds": None}
        with self._lock:
            self._entries.append(entry)
        return entry

    def update(self, entry, **changes):
        with self._lock:
            entry.update(changes)

    def entries(self):
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self):
        with self._lock:
            self._entries.clear()
