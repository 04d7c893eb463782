"""Balancing methods and cookie affinity: ewma prefers the faster
endpoint, upstream-hash-by is a consistent hash that survives table
swaps, cookie affinity pins sessions (balanced and persistent modes,
change-on-failure, cookie attributes), and affinity cookies steer
canary routes."""

import re
import time

import pytest

from conftest import EchoServer, endpoint

HOST = "a.example.com"


class SlowEcho(EchoServer):
    """An endpoint that takes 200 ms for every answer."""

    def count_request(self):
        super().count_request()
        time.sleep(0.2)


def publish(nginx, servers, policy="", extra="", route_path="/",
            config=""):
    nginx.publish("""
        %s
        backend x default/svc:80 %s
        %s
        route %s Prefix %s x default/ing%s
        %s
    """ % (config, " ".join(endpoint(s) for s in servers),
           ("policy p " + policy) if policy else "", HOST, route_path,
           " policy=p" if policy else "", extra))


def get(nginx, path="/", cookie=None):
    headers = {"Cookie": cookie} if cookie else None
    r = nginx.request(path, host=HOST, headers=headers)
    assert r.status == 200, r.text
    return r


def set_cookie(r):
    values = r.headers.get_all("Set-Cookie") or []
    assert len(values) <= 1, values
    return values[0] if values else None


def cookie_pair(header):
    return header.split(";", 1)[0]


@pytest.mark.parametrize("where", ["policy", "config"])
def test_ewma_prefers_the_faster_endpoint(nginx, backends, where):
    # A first answer through a cold worker can be slow enough to make the
    # fast endpoint look slow for a while (scores decay over 10 s): warm
    # the worker up on another endpoint first.
    publish(nginx, [backends("warm")])
    for _ in range(5):
        get(nginx)

    fast = backends("svc")
    slow = SlowEcho("127.0.0.1", 0, "svc").start()
    try:
        if where == "policy":
            publish(nginx, [fast, slow], policy="lb=ewma")
        else:
            publish(nginx, [fast, slow], config="config lb=ewma")
        pods = [get(nginx).json()["pod"] for _ in range(40)]
    finally:
        slow.stop()

    # round robin would give each 20; ewma learns that one is slow
    assert pods.count(fast.pod) >= 34, pods


def test_hash_by_is_consistent_and_survives_swaps(nginx, backends):
    servers = [backends("svc") for _ in range(3)]
    publish(nginx, servers, policy="lb=hash hash-by=$request_uri")

    uris = ["/item/%d" % i for i in range(30)]
    first = {u: get(nginx, u).json()["pod"] for u in uris}
    assert len(set(first.values())) == 3
    assert first == {u: get(nginx, u).json()["pod"] for u in uris}

    # a swap that adds an unrelated route changes nothing
    publish(nginx, servers, policy="lb=hash hash-by=$request_uri",
            extra="route other.example.com Prefix / x default/other")
    assert first == {u: get(nginx, u).json()["pod"] for u in uris}

    # removing one endpoint moves only the keys it had
    gone = servers[1]
    publish(nginx, [servers[0], servers[2]],
            policy="lb=hash hash-by=$request_uri")
    after = {u: get(nginx, u).json()["pod"] for u in uris}
    for u in uris:
        if first[u] != gone.pod:
            assert after[u] == first[u], u
        else:
            assert after[u] != gone.pod


def test_hash_by_combines_text_and_variables(nginx, backends):
    servers = [backends("svc") for _ in range(4)]
    publish(nginx, servers, policy="lb=hash hash-by=user-${arg_user}")

    pods = {}
    for user in range(20):
        path = "/page/%d?user=%d" % (user, user % 5)
        pods.setdefault(user % 5, set()).add(get(nginx, path).json()["pod"])
    # the path is not part of the key: one endpoint per user
    assert all(len(p) == 1 for p in pods.values()), pods


def test_hash_by_subset_spreads_a_key_over_three_endpoints(nginx,
                                                           backends):
    servers = [backends("svc") for _ in range(6)]
    policy = "lb=hash-subset hash-by=$arg_u"
    publish(nginx, servers, policy=policy)

    def subsets():
        return {u: {get(nginx, "/?u=%d" % u).json()["pod"]
                    for _ in range(30)} for u in range(5)}

    first = subsets()
    assert all(len(pods) == 3 for pods in first.values()), first

    # an endpoint outside a key's subset goes away: the subset stays
    used = set().union(*first.values())
    unused = [s for s in servers if s.pod not in first[0]]
    publish(nginx, [s for s in servers if s is not unused[0]],
            policy=policy)
    assert subsets()[0] == first[0]
    assert len(used) > 3


def test_balanced_cookie_pins_and_survives_swaps(nginx, backends):
    servers = [backends("svc") for _ in range(3)]
    publish(nginx, servers, policy="affinity=balanced")

    r = get(nginx)
    header = set_cookie(r)
    assert re.fullmatch(r"INGRESSCOOKIE=[0-9a-f]{16}\.[0-9a-f]{16}; "
                        r"Path=/; HttpOnly", header), header
    cookie = cookie_pair(header)
    pod = r.json()["pod"]

    for _ in range(10):
        r = get(nginx, cookie=cookie)
        assert r.json()["pod"] == pod
        assert set_cookie(r) is None

    publish(nginx, servers, policy="affinity=balanced",
            extra="route other.example.com Prefix / x default/other")
    assert get(nginx, cookie=cookie).json()["pod"] == pod

    # the pinned endpoint goes away: the session moves, once, and stays
    rest = [s for s in servers if s.pod != pod]
    publish(nginx, rest, policy="affinity=balanced")
    r = get(nginx, cookie=cookie)
    moved = r.json()["pod"]
    assert moved != pod
    assert set_cookie(r) is None
    for _ in range(5):
        assert get(nginx, cookie=cookie).json()["pod"] == moved


def sessions(nginx, count):
    out = []
    for _ in range(count):
        r = get(nginx)
        out.append((cookie_pair(set_cookie(r)), r.json()["pod"]))
    return out


def test_balanced_scale_up_moves_some_sessions_to_new_endpoints(nginx,
                                                                 backends):
    old = [backends("svc") for _ in range(2)]
    publish(nginx, old, policy="affinity=balanced")
    pinned = sessions(nginx, 40)

    new = [backends("svc") for _ in range(2)]
    publish(nginx, old + new, policy="affinity=balanced")
    now = [(c, get(nginx, cookie=c).json()["pod"]) for c, _ in pinned]

    moved = [(was, is_) for (_, was), (_, is_) in zip(pinned, now)
             if was != is_]
    assert 0 < len(moved) < 40
    assert all(is_ in {s.pod for s in new} for _, is_ in moved)


def test_persistent_cookie_keeps_its_endpoint(nginx, backends):
    old = [backends("svc") for _ in range(2)]
    publish(nginx, old, policy="affinity=persistent")
    pinned = sessions(nginx, 10)

    # scale-up never moves a persistent session
    publish(nginx, old + [backends("svc") for _ in range(2)],
            policy="affinity=persistent")
    for cookie, pod in pinned:
        r = get(nginx, cookie=cookie)
        assert r.json()["pod"] == pod
        assert set_cookie(r) is None

    # its endpoint gone, the session is pinned anew
    cookie, pod = pinned[0]
    survivor = [s for s in old if s.pod != pod]
    publish(nginx, survivor, policy="affinity=persistent")
    r = get(nginx, cookie=cookie)
    assert r.json()["pod"] == survivor[0].pod
    renewed = cookie_pair(set_cookie(r))
    assert renewed != cookie
    assert set_cookie(get(nginx, cookie=renewed)) is None


@pytest.mark.parametrize("mode", ["balanced", "persistent"])
def test_change_on_failure_repins_where_the_answer_came_from(
        nginx, backends, mode):
    servers = [backends("svc") for _ in range(2)]
    publish(nginx, servers,
            policy="affinity=%s change-on-failure" % mode)
    r = get(nginx)
    cookie, pod = cookie_pair(set_cookie(r)), r.json()["pod"]

    dead = next(s for s in servers if s.pod == pod)
    live = next(s for s in servers if s.pod != pod)
    dead.stop()

    r = get(nginx, cookie=cookie)
    assert r.json()["pod"] == live.pod
    renewed = cookie_pair(set_cookie(r))
    assert renewed != cookie

    r = get(nginx, cookie=renewed)
    assert r.json()["pod"] == live.pod
    assert set_cookie(r) is None


def test_without_change_on_failure_the_cookie_stays(nginx, backends):
    servers = [backends("svc") for _ in range(2)]
    publish(nginx, servers, policy="affinity=persistent")
    r = get(nginx)
    cookie, pod = cookie_pair(set_cookie(r)), r.json()["pod"]

    next(s for s in servers if s.pod == pod).stop()
    r = get(nginx, cookie=cookie)
    assert r.json()["pod"] != pod
    assert set_cookie(r) is None


def test_cookie_attributes(nginx, backends):
    one = backends("svc")
    publish(nginx, [one],
            policy="affinity=persistent cookie-name=route cookie-path=/app "
                   "cookie-domain=example.com cookie-samesite=Strict "
                   "cookie-max-age=3600 affinity-secure")
    header = set_cookie(get(nginx))
    assert re.fullmatch(
        r"route=[0-9a-f]{16}\.[0-9a-f]{16}; Path=/app; Domain=example\.com; "
        r"Expires=\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT; "
        r"Max-Age=3600; SameSite=Strict; Secure; HttpOnly", header), header

    # without a cookie path the route's path scopes the cookie
    publish(nginx, [one], policy="affinity=balanced", route_path="/shop")
    header = set_cookie(get(nginx, "/shop/cart"))
    assert "; Path=/shop; HttpOnly" in header

    # a cookie for another name, or malformed, is a new session
    publish(nginx, [one], policy="affinity=balanced")
    assert set_cookie(get(nginx, cookie="OTHER=x")) is not None
    assert set_cookie(get(nginx, cookie="INGRESSCOOKIE=zz.1")) is not None


def publish_canary(nginx, main, canary, rule):
    nginx.publish("""
        backend main default/svc-main:80 %s
        backend canary default/svc-canary:8080 %s
        policy p affinity=balanced
        canary c canary %s
        route a.example.com Prefix / main default/ing policy=p canary=c
    """ % (endpoint(main), endpoint(canary), rule))


def served(nginx, cookie=None):
    r = get(nginx, cookie=cookie)
    return r.json()["service"], set_cookie(r)


def test_canary_sticky_keeps_each_backend_its_sessions(nginx, backends):
    main, canary = backends("svc-main"), backends("svc-canary")
    publish_canary(nginx, main, canary, "weight=50")

    cookies = {}
    for _ in range(200):
        service, header = served(nginx)
        cookies.setdefault(service, cookie_pair(header))
        if len(cookies) == 2:
            break
    assert set(cookies) == {"svc-main", "svc-canary"}

    for service, cookie in cookies.items():
        for _ in range(10):
            assert served(nginx, cookie) == (service, None)

    # the canary rules no longer pick the canary; its sessions stay
    publish_canary(nginx, main, canary, "weight=0")
    assert served(nginx, cookies["svc-canary"]) == ("svc-canary", None)
    # a header rule does not take a pinned session away either
    publish_canary(nginx, main, canary, "weight=100")
    assert served(nginx, cookies["svc-main"]) == ("svc-main", None)


def test_canary_legacy_lets_the_rules_decide(nginx, backends):
    main, canary = backends("svc-main"), backends("svc-canary")
    publish_canary(nginx, main, canary, "weight=100")
    service, header = served(nginx)
    assert service == "svc-canary"

    publish_canary(nginx, main, canary, "weight=0 affinity=legacy")
    service, renewed = served(nginx, cookie_pair(header))
    assert service == "svc-main"
    assert renewed is not None
    assert served(nginx, cookie_pair(renewed)) == ("svc-main", None)
