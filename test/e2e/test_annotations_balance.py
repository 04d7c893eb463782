"""Balancing and affinity end to end, from examples/affinity.yaml: the
affinity cookie and its attributes, sessions that stay on their pod
across table changes, a sticky canary, persistent affinity re-pinned
after its pod fails, and upstream-hash-by sending a URI to one pod.
"""

import re

import demo_examples as d

FILE = "affinity.yaml"


def cookie_of(resp):
    header = resp.header("Set-Cookie")
    return header.split(";", 1)[0] if header else None


def test_cookie_pins_a_session_across_table_changes(clusters):
    c = d.start_demo(clusters, FILE)
    c.expect("hash.example.com", "/", "service:web")
    client = d.Client(c)

    sessions = {}
    for _ in range(40):
        r = client.get("sticky.example.com")
        assert r.status == 200
        header = r.header("Set-Cookie")
        assert re.fullmatch(
            r"SHOPSESSION=[0-9a-f]{16}\.[0-9a-f]{16}; Path=/; Expires=[^;]+; "
            r"Max-Age=3600; SameSite=Lax; HttpOnly", header), header
        sessions[cookie_of(r)] = r.pod
    assert len(set(sessions.values())) >= 2

    def pods_now():
        return {k: client.get("sticky.example.com", "/",
                              [("Cookie", k)]).pod for k in sessions}

    assert pods_now() == sessions

    # another Ingress of the file goes away: a new table, same pins
    text = d.example_text(FILE, c.demo_ports)
    d.write_example(c, FILE, d.without_document(text, "hashed"))
    c.expect("hash.example.com", "/", "404")
    assert pods_now() == sessions
    client.close()


def test_canary_sessions_stay_on_their_backend(clusters):
    c = d.start_demo(clusters, FILE)
    client = d.Client(c)
    first = {}
    for _ in range(300):
        r = client.get("sticky.example.com")
        first.setdefault(r.service, []).append(cookie_of(r))
    assert set(first) == {"web", "api"}

    for service, cookies in first.items():
        for cookie in cookies[:10]:
            r = client.get("sticky.example.com", "/", [("Cookie", cookie)])
            assert (r.service, r.header("Set-Cookie")) == (service, None)
    client.close()


def test_persistent_session_moves_when_its_pod_fails(clusters):
    c = d.start_demo(clusters, FILE)
    client = d.Client(c)
    r = client.get("pinned.example.com")
    cookie, pod = cookie_of(r), r.pod
    for _ in range(10):
        assert client.get("pinned.example.com", "/",
                          [("Cookie", cookie)]).pod == pod

    next(s for s in c.backends.servers if s.pod == pod).stop()
    r = client.get("pinned.example.com", "/", [("Cookie", cookie)])
    assert r.status == 200 and r.pod != pod
    moved, renewed = r.pod, cookie_of(r)
    assert renewed and renewed != cookie
    for _ in range(10):
        r = client.get("pinned.example.com", "/", [("Cookie", renewed)])
        assert (r.pod, r.header("Set-Cookie")) == (moved, None)
    client.close()


def test_hash_by_request_uri(clusters):
    c = d.start_demo(clusters, FILE)
    c.expect("hash.example.com", "/", "service:web")
    client = d.Client(c)
    pods = {}
    for i in range(20):
        uri = "/item/%d" % i
        seen = {client.get("hash.example.com", uri).pod for _ in range(5)}
        assert len(seen) == 1, (uri, seen)
        pods[uri] = seen.pop()
    assert len(set(pods.values())) == 2
    client.close()
