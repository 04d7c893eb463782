"""server-alias end to end, from examples/server-alias.yaml: alias hosts
(exact and wildcard) reach the Ingress's routes, a host a rule names is
never taken (and the refusal is logged), and editing the annotation
changes the aliases live, with the same nginx workers."""

import harness as h
import demo_examples as d

FILE = "server-alias.yaml"


def test_aliases_serve_the_ingress_routes(clusters):
    c = d.start_demo(clusters, FILE)
    workers = c.worker_pids()
    c.expect("alias.example.com", "/", "service:web")
    c.expect("www.alias.example.com", "/", "service:web")
    c.expect("eu.alias.example.org", "/x", "service:web")
    # one extra label only, as any wildcard host
    assert c.outcome("a.b.alias.example.org", "/") == "404"
    # shop.example.com stays 20-shop-ingress.yaml's
    c.expect("shop.example.com", "/api/items", "service:api")
    h.eventually(c.logs, lambda text: 'msg="server-alias ignored"' in text
                 and "object=demo/aliased" in text
                 and 'value="shop.example.com"' in text,
                 "the refused alias logged")

    text = d.example_text(FILE, c.demo_ports).replace(
        '"www.alias.example.com, *.alias.example.org, shop.example.com"',
        '"other.example.net"')
    d.write_example(c, FILE, text)
    c.expect("other.example.net", "/", "service:web")
    c.expect("www.alias.example.com", "/", "404")
    assert c.worker_pids() == workers
