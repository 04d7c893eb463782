"""The ConfigMap keys that decide per request, end to end (manifests mode,
examples/configmap.yaml): block-cidrs, the global allowlist, the client
address from X-Forwarded-For behind a trusted peer, a proxy default, and a
bad source range failing closed.  Every change is served by the same
nginx workers: no reload."""

import re

import harness as h
import demo_examples as d

HOST = "shop.example.com"
CONFIGMAP = "configmap.yaml"
# a loaded CI machine may take longer than the default to republish
SLOW = h.START_DEADLINE


def start(clusters):
    return d.start_demo(clusters, CONFIGMAP,
                        flags=["--configmap", "demo/shmingress-settings"])


def with_data(**changes):
    """examples/configmap.yaml with keys replaced (None drops one)."""
    text = (d.EXAMPLES / CONFIGMAP).read_text()
    for key, value in changes.items():
        key = key.replace("_", "-")
        line = re.compile(r"^  %s: .*\n" % re.escape(key), re.M)
        text = line.sub("", text)
        if value is not None:
            text += '  %s: "%s"\n' % (key, value)
    return text


def get(cluster, source="127.0.0.1", forwarded=None):
    client = d.Client(cluster, source=source)
    try:
        headers = [("X-Forwarded-For", forwarded)] if forwarded else []
        return client.get(HOST, "/", headers=headers)
    finally:
        client.close()


def test_configmap_source_ranges_and_client_address_change_live(clusters):
    c = start(clusters)
    workers = c.worker_pids()

    # the example: the peer is trusted, so the forwarded address counts
    r = get(c, forwarded="203.0.113.9")
    assert r.status == 200
    assert r.echoed_header("X-Real-IP") == "203.0.113.9"
    assert r.echoed_header("X-Forwarded-For") == "203.0.113.9"
    assert get(c, forwarded="192.0.2.7").status == 403
    assert get(c).echoed_header("X-Real-IP") == "127.0.0.1"

    # block a loopback source directly
    d.write_example(c, CONFIGMAP, with_data(block_cidrs="127.0.0.5/32"))
    h.eventually(lambda: get(c, source="127.0.0.5").status,
                 lambda s: s == 403, "127.0.0.5 blocked",
                 deadline=SLOW)
    assert get(c, source="127.0.0.6").status == 200
    assert get(c, forwarded="192.0.2.7").status == 200

    # a global allowlist; peers no longer trusted: the header is ignored
    d.write_example(c, CONFIGMAP, with_data(
        block_cidrs=None, proxy_real_ip_cidr="10.0.0.0/8",
        whitelist_source_range="127.0.0.7/32"))
    h.eventually(lambda: get(c, source="127.0.0.6").status,
                 lambda s: s == 403, "the allowlist applied",
                 deadline=SLOW)
    assert get(c, source="127.0.0.7").status == 200
    assert get(c, source="127.0.0.6",
               forwarded="127.0.0.7").status == 403

    # an allowlist that does not parse denies everyone, and says why
    d.write_example(c, CONFIGMAP, with_data(
        whitelist_source_range="127.0.0.7/32,not-a-range"))
    h.eventually(lambda: get(c, source="127.0.0.7").status,
                 lambda s: s == 403, "a bad allowlist failing closed",
                 deadline=SLOW)
    h.eventually(c.logs, lambda text: 'msg="configmap value ignored"' in text
                 and "demo/shmingress-settings" in text
                 and "field=data.whitelist-source-range" in text
                 and "using=deny-all" in text,
                 "the bad range logged", deadline=SLOW)

    # back to the example
    d.write_example(c, CONFIGMAP)
    h.eventually(lambda: get(c, forwarded="203.0.113.9"),
                 lambda r: r.status == 200
                 and r.echoed_header("X-Real-IP") == "203.0.113.9",
                 "the example's settings again", deadline=SLOW)
    assert c.worker_pids() == workers


def test_configmap_proxy_timeout_applies_to_every_route(clusters):
    c = start(clusters)
    workers = c.worker_pids()
    slow = [("X-Echo-Sleep", "2.5")]

    d.write_example(c, CONFIGMAP, with_data(proxy_read_timeout="1"))
    h.eventually(lambda: c.request(HOST, "/", headers=slow).status,
                 lambda s: s == 504, "the 1 s read timeout", consecutive=1,
                 deadline=SLOW)
    assert c.worker_pids() == workers
