"""Basic authentication end to end, from examples/auth-basic.yaml: 401
with the realm without credentials or with wrong ones, 200 with each
user's password and no Authorization header at the backend; the Secret
deleted -> 503 on those routes only, while the others keep serving; the
Secret back -> 200 again, all without an nginx reload; auth-map users.
"""

import base64

import demo_examples as d

FILE = "auth-basic.yaml"
PRIVATE = "private.example.com"
TEAM = "team.example.com"


def basic(user, password):
    token = base64.b64encode(("%s:%s" % (user, password)).encode())
    return [("Authorization", "Basic " + token.decode())]


def test_credentials_are_checked(clusters):
    c = d.start_demo(clusters, FILE)
    client = d.Client(c)

    resp = client.get(PRIVATE)
    assert resp.status == 401
    assert resp.header("WWW-Authenticate") == 'Basic realm="Private area"'
    assert client.get(PRIVATE, headers=basic("alice", "alice")).status == 401
    assert client.get(PRIVATE, headers=basic("mallory",
                                             "wonderland")).status == 401

    for user, password in (("alice", "wonderland"), ("bob", "builder")):
        resp = client.get(PRIVATE, headers=basic(user, password))
        assert resp.outcome() == "service:api"
        assert resp.echoed_header("Authorization") is None

    # the other Ingresses are not asked for credentials
    assert client.get("shop.example.com", "/api/items").outcome() == \
        "service:api"
    client.close()


def test_auth_map(clusters):
    c = d.start_demo(clusters, FILE)
    client = d.Client(c)
    resp = client.get(TEAM)
    assert resp.status == 401
    assert resp.header("WWW-Authenticate") == 'Basic realm=""'
    assert client.get(TEAM, headers=basic("carol", "tea-party")).outcome() \
        == "service:docs"
    assert client.get(TEAM, headers=basic("alice", "wonderland")).status \
        == 401
    client.close()


def test_missing_secret_fails_closed_without_reload(clusters):
    c = d.start_demo(clusters, FILE)
    nginx, workers = c.nginx_pid(), c.worker_pids()
    good = basic("alice", "wonderland")
    c.expect(PRIVATE, "/", "service:api", headers=good)

    d.write_example(c, FILE, d.without_document(
        d.example_text(FILE, c.demo_ports), "private-users"))
    c.expect(PRIVATE, "/", "503", headers=good)
    c.expect(PRIVATE, "/", "503")
    c.expect(TEAM, "/", "service:docs", headers=basic("carol", "tea-party"))
    c.expect("shop.example.com", "/api/items", "service:api")
    lines = d.log_lines(c, "object=demo/private", "basic auth",
                        'secret="demo/private-users"', "not found")
    assert lines, c.log_tail()
    assert "weea0" not in c.logs()

    d.write_example(c, FILE)
    c.expect(PRIVATE, "/", "service:api", headers=good)
    c.expect(PRIVATE, "/", "401")
    assert c.nginx_pid() == nginx and c.worker_pids() == workers
