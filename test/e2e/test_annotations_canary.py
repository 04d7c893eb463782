"""Canary annotations end to end, from examples/canary.yaml: the weight
splits traffic within a binomial bound, header and cookie overrides
decide before the weight, an exact header value opts in, and removing
the canary Ingress sends everything back to the primary.
"""

import math

import demo_examples as d

FILE = "canary.yaml"
HOST = "canary.example.com"
PRIMARY, CANARY = "service:web", "service:api"


def outcomes(client, host, n, headers=()):
    return [client.get(host, "/", headers).outcome() for _ in range(n)]


def test_weight_splits_ten_thousand_requests(clusters):
    c = d.start_demo(clusters, FILE)
    client = d.Client(c)
    n, p = 10000, 0.20
    got = outcomes(client, HOST, n)
    client.close()
    assert set(got) == {PRIMARY, CANARY}, set(got)
    canary = got.count(CANARY)
    bound = 5 * math.sqrt(n * p * (1 - p))
    assert abs(canary - n * p) <= bound, \
        "%d of %d requests went to the canary, want %d +- %.0f" \
        % (canary, n, n * p, bound)


def test_header_and_cookie_overrides(clusters):
    c = d.start_demo(clusters, FILE)
    client = d.Client(c)
    cases = [
        ([("X-Canary", "always")], CANARY),
        ([("X-Canary", "never")], PRIMARY),
        ([("Cookie", "canary=always")], CANARY),
        ([("Cookie", "a=1; canary=always; b=2")], CANARY),
        ([("Cookie", "canary=never")], PRIMARY),
        # the header decides before the cookie ...
        ([("X-Canary", "never"), ("Cookie", "canary=always")], PRIMARY),
        ([("X-Canary", "always"), ("Cookie", "canary=never")], CANARY),
        # ... and a value that is neither falls through to the cookie
        ([("X-Canary", "maybe"), ("Cookie", "canary=always")], CANARY),
        ([("X-Canary", "maybe"), ("Cookie", "canary=never")], PRIMARY),
    ]
    for headers, want in cases:
        got = set(outcomes(client, HOST, 50, headers))
        assert got == {want}, "%s: %s" % (headers, got)
    client.close()


def test_header_value_opts_in(clusters):
    c = d.start_demo(clusters, FILE)
    client = d.Client(c)
    host = "beta.example.com"
    assert set(outcomes(client, host, 50, [("X-Beta", "opt-in")])) == \
        {CANARY}
    # no weight: nothing else reaches the canary, not even "always"
    for headers in ([], [("X-Beta", "yes")], [("X-Beta", "always")],
                    [("X-Beta", "opt-in-2")]):
        got = set(outcomes(client, host, 50, headers))
        assert got == {PRIMARY}, "%s: %s" % (headers, got)
    client.close()


def test_removing_the_canary_sends_all_to_primary(clusters):
    c = d.start_demo(clusters, FILE)
    c.expect(HOST, "/", CANARY, headers=[("X-Canary", "always")])
    text = d.example_text(FILE, c.demo_ports)
    d.write_example(c, FILE, d.without_document(text, "storefront-canary"))
    c.expect(HOST, "/", PRIMARY, headers=[("X-Canary", "always")])
    client = d.Client(c)
    assert set(outcomes(client, HOST, 500)) == {PRIMARY}
    assert set(outcomes(client, HOST, 20, [("Cookie", "canary=always")])) \
        == {PRIMARY}
    # the other canary of the file is untouched
    assert set(outcomes(client, "beta.example.com", 20,
                        [("X-Beta", "opt-in")])) == {CANARY}
    client.close()
