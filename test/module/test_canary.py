"""Canary routes: header, cookie and weight rules in ingress-nginx's
order, and the variables that name the choice."""

import http.client
import math
import re

from conftest import endpoint


def publish_canary(nginx, primary, canary, rule):
    nginx.publish("""
        backend main default/svc-main:80 %s
        backend canary default/svc-canary:8080 %s
        canary c canary %s
        route a.example.com Prefix / main default/ing canary=c
    """ % (endpoint(primary), endpoint(canary), rule))


def served_by(nginx, headers=None):
    r = nginx.request("/", host="a.example.com", headers=headers)
    assert r.status == 200, r.text
    return r.json()["service"]


def test_header_always_and_never(nginx, backends):
    main, canary = backends("svc-main"), backends("svc-canary")
    publish_canary(nginx, main, canary, "header=X-Canary weight=100")

    assert served_by(nginx, {"X-Canary": "always"}) == "svc-canary"
    assert served_by(nginx, {"x-canary": "always"}) == "svc-canary"
    # "never" wins over a weight of 100; anything else falls through
    assert served_by(nginx, {"X-Canary": "never"}) == "svc-main"
    assert served_by(nginx, {"X-Canary": "maybe"}) == "svc-canary"

    publish_canary(nginx, main, canary, "header=X-Canary")
    assert served_by(nginx) == "svc-main"
    assert served_by(nginx, {"X-Canary": "always"}) == "svc-canary"


def test_header_value_and_pattern(nginx, backends):
    main, canary = backends("svc-main"), backends("svc-canary")
    publish_canary(nginx, main, canary,
                   "header=X-Region header-value=eu-west")
    assert served_by(nginx, {"X-Region": "eu-west"}) == "svc-canary"
    assert served_by(nginx, {"X-Region": "eu-west-2"}) == "svc-main"
    # with a value set, "always" is no longer special
    assert served_by(nginx, {"X-Region": "always"}) == "svc-main"

    publish_canary(nginx, main, canary,
                   "header=X-Region header-pattern=^eu-.*")
    assert served_by(nginx, {"X-Region": "eu-north"}) == "svc-canary"
    assert served_by(nginx, {"X-Region": "us-east"}) == "svc-main"


def test_header_mismatch_falls_through_to_the_cookie(nginx, backends):
    main, canary = backends("svc-main"), backends("svc-canary")
    publish_canary(nginx, main, canary,
                   "header=X-Region header-value=eu cookie=canary weight=100")

    cookie = {"Cookie": "a=1; canary=never; b=2"}
    assert served_by(nginx, cookie) == "svc-main"
    assert served_by(nginx, dict(cookie, **{"X-Region": "eu"})) == \
        "svc-canary"
    assert served_by(nginx, {"Cookie": "canary=always"}) == "svc-canary"
    # an undecided cookie falls through to the weight
    assert served_by(nginx, {"Cookie": "canary=other"}) == "svc-canary"

    publish_canary(nginx, main, canary, "cookie=canary")
    assert served_by(nginx, {"Cookie": "canary=always"}) == "svc-canary"
    assert served_by(nginx, {"Cookie": "canary=other"}) == "svc-main"
    assert served_by(nginx) == "svc-main"


def test_weight_share_is_within_five_sigma(nginx, backends):
    main, canary = backends("svc-main"), backends("svc-canary")
    publish_canary(nginx, main, canary, "weight=30 total=100")

    n, p = 10000, 0.3
    hits = 0
    conn = http.client.HTTPConnection("127.0.0.1", nginx.http_port,
                                      timeout=30)
    for _ in range(n):
        r = nginx.request("/", host="a.example.com", conn=conn)
        hits += r.json()["service"] == "svc-canary"
    conn.close()

    sigma = math.sqrt(n * p * (1 - p))
    assert abs(hits - n * p) < 5 * sigma, hits


def test_weight_zero_and_total(nginx, backends):
    main, canary = backends("svc-main"), backends("svc-canary")
    publish_canary(nginx, main, canary, "weight=0")
    assert {served_by(nginx) for _ in range(50)} == {"svc-main"}

    publish_canary(nginx, main, canary, "weight=1000 total=1000")
    assert {served_by(nginx) for _ in range(50)} == {"svc-canary"}


def test_variables_name_the_choice(nginx, backends):
    main, canary = backends("svc-main"), backends("svc-canary")
    publish_canary(nginx, main, canary, "header=X-Canary")

    served_by(nginx, {"X-Canary": "always"})
    served_by(nginx, {"X-Canary": "never"})
    lines = nginx.access_log()[-2:]
    assert re.search(r"\[default-svc-main-80\] \[default-svc-canary-8080\]",
                     lines[0]), lines[0]
    assert re.search(r"\[default-svc-main-80\] \[\]", lines[1]), lines[1]


def test_canary_without_endpoints_answers_503(nginx, backends):
    main = backends("svc-main")
    nginx.publish("""
        backend main default/svc-main:80 %s
        backend canary default/svc-canary:80 !no-endpoints
        canary c canary header=X-Canary
        route a.example.com Prefix / main default/ing canary=c
    """ % endpoint(main))
    r = nginx.request("/", host="a.example.com",
                      headers={"X-Canary": "always"})
    assert r.status == 503
    assert r.text == "no ready endpoints for default/svc-canary:80"
    assert served_by(nginx) == "svc-main"
