"""Rate limiting end to end, from examples/rate-limit.yaml (limit-rps 2,
burst multiplier 3, allowlist 127.0.0.2/32): a burst is served, then 503
until the bucket drains; the allowlisted client is never limited; a
table swap caused by an unrelated manifest does not reset the buckets.
"""

import time

import harness as h
import demo_examples as d

FILE = "rate-limit.yaml"
HOST = "limits.example.com"
RATE, BURST = 2, 6


def statuses(client, n):
    return [client.get(HOST).status for _ in range(n)]


def exhaust(client):
    """Sends until the first 503; returns how many were served."""
    served = 0
    for _ in range(BURST + 20):
        status = client.get(HOST).status
        if status == 503:
            return served
        assert status == 200, status
        served += 1
    raise AssertionError("no 503 after %d requests" % served)


def test_burst_then_503_then_recovery(clusters):
    c = d.start_demo(clusters, FILE)
    client = d.Client(c)
    start = time.monotonic()
    served = exhaust(client)
    elapsed = time.monotonic() - start
    # nodelay bucket: the first request plus the burst, and whatever
    # drained while the requests were sent
    assert BURST + 1 <= served <= BURST + 1 + int(RATE * elapsed) + 1, \
        (served, elapsed)
    assert set(statuses(client, 5)) == {503}
    time.sleep(1.0 / RATE + 0.3)
    assert client.get(HOST).outcome() == "service:api"
    client.close()


def test_allowlisted_client_is_not_limited(clusters):
    c = d.start_demo(clusters, FILE)
    allowed = d.Client(c, source="127.0.0.2")
    assert set(statuses(allowed, 5 * (BURST + 1))) == {200}
    limited = d.Client(c, source="127.0.0.3")
    assert exhaust(limited) <= BURST + 2
    # the limited client does not use up the allowlisted one
    assert set(statuses(allowed, 10)) == {200}
    allowed.close()
    limited.close()


def test_buckets_survive_a_table_swap(clusters):
    c = d.start_demo(clusters, FILE)
    client = d.Client(c)
    exhaust(client)
    emptied = time.monotonic()
    gen = c.generation()
    c.manifests.write("unrelated.yaml", [h.ingress(
        "unrelated", [h.rule("unrelated.example.com",
                             h.path("/", "Prefix", "docs"))],
        namespace="demo")])
    c.wait_generation_above(gen)
    c.expect("unrelated.example.com", "/", "service:docs")
    served = sum(s == 200 for s in statuses(client, BURST + 1))
    drained = RATE * (time.monotonic() - emptied)
    # a fresh bucket would serve all BURST + 1 at once
    assert served <= int(drained) + 1 < BURST + 1, (served, drained)
    client.close()
