"""Source ranges end to end, from examples/access-control.yaml:
allowlist-source-range and its alias whitelist-source-range admit only
their ranges (403 otherwise), denylist-source-range refuses its ranges
and wins over the allowlist, IPv4 and IPv6 clients (a second cluster
listens on ::1), and a range that does not parse fails closed (503)
while the other routes keep being served.
"""

import pytest

import demo_examples as d

FILE = "access-control.yaml"
ALLOW, LEGACY, DENY, STAFF = ("allow.example.com", "legacy.example.com",
                              "deny.example.com", "staff.example.com")


cluster = d.demo_fixture(FILE)


def outcome_from(cluster, source, host):
    client = d.Client(cluster, source=source)
    try:
        return client.get(host).outcome()
    finally:
        client.close()


# (source address, host) -> outcome for IPv4 clients
IPV4 = {
    ("127.0.0.1", ALLOW): "service:web",
    ("127.0.0.2", ALLOW): "403",
    ("127.0.0.1", LEGACY): "403",
    ("127.0.0.2", LEGACY): "service:web",
    ("127.0.0.1", DENY): "service:web",
    ("127.0.0.3", DENY): "403",
    ("127.0.0.1", STAFF): "service:web",
    ("127.0.0.2", STAFF): "403",
    ("127.0.0.3", STAFF): "service:web",
}


@pytest.mark.parametrize("source,host", list(IPV4))
def test_ipv4_clients(cluster, source, host):
    assert outcome_from(cluster, source, host) == IPV4[(source, host)]


def test_ranges_are_the_routes_own(cluster):
    for source in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
        assert outcome_from(cluster, source, "shop.example.com") == \
            "service:web"


def test_refusal_is_logged_with_the_ingress(cluster):
    assert outcome_from(cluster, "127.0.0.2", ALLOW) == "403"
    assert d.log_lines(cluster, "access forbidden by the source ranges "
                                "of ingress demo/allow")


def test_ipv6_client(clusters):
    c = d.start_demo(clusters, FILE, address="::1")
    # ::1/128 is on the allowlist; the whitelist has only an IPv4 address
    c.expect(ALLOW, "/", "service:web")
    c.expect(LEGACY, "/", "403")
    # ::1 is on the denylist; an IPv4 allowlist never admits IPv6
    c.expect(DENY, "/", "403")
    c.expect(STAFF, "/", "403")
    c.expect("shop.example.com", "/", "service:web")


def test_unparsable_range_fails_closed(cluster):
    text = d.example_text(FILE, cluster.demo_ports)
    broken = text.replace("allowlist-source-range: 127.0.0.1/32, ::1/128",
                          "allowlist-source-range: 127.0.0.1/33, ::1/128")
    assert broken != text
    d.write_example(cluster, FILE, broken)
    cluster.expect(ALLOW, "/", "503")
    assert d.log_lines(cluster, "allowlist-source-range", "demo/allow")
    # the other Ingresses of the file keep their ranges
    assert outcome_from(cluster, "127.0.0.2", LEGACY) == "service:web"
    assert outcome_from(cluster, "127.0.0.3", DENY) == "403"
    d.write_example(cluster, FILE)
    cluster.expect(ALLOW, "/", "service:web")
