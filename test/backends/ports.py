"""ports.py -- picks loopback ports for listeners the tests and benches
start later (nginx, run-local, backends) and for "dead" endpoints where
nothing may listen.

Binding port 0 would hand out a port from the kernel's ephemeral range,
the same range outgoing connections of concurrently running tests draw
their source ports from: between choosing the port and nginx binding it,
a client connection could take it ("address already in use"), and a
"dead" endpoint could come alive.  So ports are drawn at random from
outside /proc/sys/net/ipv4/ip_local_port_range, and each candidate is
checked by binding it once.  This does not reserve the port: two callers
can still, rarely, draw the same one.
"""

import random
import socket

EPHEMERAL_RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range"
# Linux's default, used where the file cannot be read.
DEFAULT_EPHEMERAL = (32768, 60999)
LOWEST = 1024       # below this binding needs privileges
HIGHEST = 65535
ATTEMPTS = 200


def ephemeral_range():
    try:
        with open(EPHEMERAL_RANGE_FILE) as f:
            low, high = (int(v) for v in f.read().split())
        return low, high
    except (OSError, ValueError):
        return DEFAULT_EPHEMERAL


def _candidate(low, high):
    """A random port in [LOWEST, HIGHEST] outside [low, high]."""
    below = max(0, low - LOWEST)
    above = max(0, HIGHEST - high)
    if below + above == 0:
        raise RuntimeError("no ports outside the ephemeral range %d-%d"
                           % (low, high))
    n = random.randrange(below + above)
    return LOWEST + n if n < below else high + 1 + (n - below)


def _bindable(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host="127.0.0.1"):
    """A port outside the ephemeral range that host could bind now."""
    low, high = ephemeral_range()
    for _ in range(ATTEMPTS):
        port = _candidate(low, high)
        if _bindable(host, port):
            return port
    raise RuntimeError("no free port outside the ephemeral range %d-%d on %s"
                       % (low, high, host))
