"""Routing by the module: host and path to a backend, 404, 503, health,
what is forwarded upstream, and the $shmingress_* variables."""

import subprocess

from conftest import Nginx, dead_endpoint, endpoint, mapped_tables


def test_no_table_yet_answers_503_and_health_is_not_ready(nginx):
    r = nginx.request("/", host="a.example.com")
    assert r.status == 503
    assert r.text == "shmingress: no route table published yet"

    h = nginx.health()
    assert (h.status, h.text) == (503, "no route table yet")


def test_first_table_is_served_without_reload(nginx, backends):
    a = backends("svc-a")
    workers = nginx.worker_pids()
    assert nginx.request("/", host="a.example.com").status == 503

    nginx.publish("""
        backend a default/svc-a:80 %s
        route a.example.com Prefix / a default/ing-a
    """ % endpoint(a))

    r = nginx.request("/", host="a.example.com")
    assert r.status == 200
    assert r.json()["service"] == "svc-a"
    assert nginx.health().text == "ok"
    assert nginx.worker_pids() == workers


def test_hosts_and_paths_select_backends(nginx, backends):
    a, b, c, d = (backends(s) for s in ("svc-a", "svc-b", "svc-c", "svc-d"))
    nginx.publish("""
        backend a default/svc-a:80 %s
        backend b default/svc-b:80 %s
        backend c default/svc-c:80 %s
        backend d default/svc-d:80 %s
        route foo.example.com Prefix / a default/ing-1
        route foo.example.com Exact /exact b default/ing-1
        route foo.example.com Prefix /api c default/ing-1
        route *.wild.example.com Prefix / d default/ing-2
        route * Prefix /any b default/ing-3
    """ % tuple(endpoint(s) for s in (a, b, c, d)))

    cases = [
        ("foo.example.com", "/", "svc-a"),
        ("FOO.example.com:8080", "/x", "svc-a"),
        ("foo.example.com", "/exact", "svc-b"),
        ("foo.example.com", "/exact/", "svc-a"),
        ("foo.example.com", "/api", "svc-c"),
        ("foo.example.com", "/api/v1", "svc-c"),
        ("foo.example.com", "/apix", "svc-a"),
        ("x.wild.example.com", "/", "svc-d"),
        ("other.example.com", "/any/thing", "svc-b"),
    ]
    for host, path, service in cases:
        r = nginx.request(path, host=host)
        assert r.status == 200, (host, path, r.text)
        assert r.json()["service"] == service, (host, path)
        assert r.json()["path"] == path

    # a matched host does not fall through to the catch-all's paths
    r = nginx.request("/any", host="x.wild.example.com")
    assert r.json()["service"] == "svc-d"
    # a wildcard covers exactly one label
    r = nginx.request("/any", host="a.b.wild.example.com")
    assert r.json()["service"] == "svc-b"
    r = nginx.request("/", host="a.b.wild.example.com")
    assert (r.status, r.text) == (404, "default backend - 404")


def test_no_match_is_404_from_the_default_backend(nginx, backends):
    a = backends("svc-a")
    nginx.publish("""
        backend a default/svc-a:80 %s
        route a.example.com Exact /only a default/ing
    """ % endpoint(a))

    r = nginx.request("/other", host="a.example.com")
    assert r.status == 404
    assert r.text == "default backend - 404"
    assert r.headers["Content-Type"].startswith("text/plain")
    assert nginx.request("/only", host="unknown.example.com").status == 404


def test_global_default_backend_takes_unmatched_requests(nginx, backends):
    a, dflt = backends("svc-a"), backends("default-http-backend")
    nginx.publish("""
        backend a default/svc-a:80 %s
        backend d kube-system/default-http-backend:80 %s
        route a.example.com Exact /only a default/ing
        default d
    """ % (endpoint(a), endpoint(dflt)))

    r = nginx.request("/nothing", host="nowhere.example.com")
    assert r.status == 200
    assert r.json()["service"] == "default-http-backend"


def test_backend_without_endpoints_is_503_naming_the_service(nginx):
    nginx.publish("""
        backend e shop/cart:8080 !no-endpoints
        backend m shop/gone:80 !missing-service
        backend p shop/web:http !missing-port
        route shop.example.com Prefix /cart e shop/ing
        route shop.example.com Prefix /gone m shop/ing
        route shop.example.com Prefix /web p shop/ing
        route shop.example.com Prefix /none - shop/ing
    """)

    r = nginx.request("/cart", host="shop.example.com")
    assert (r.status, r.text) == (503, "no ready endpoints for shop/cart:8080")
    r = nginx.request("/gone", host="shop.example.com")
    assert (r.status, r.text) == (503, "no ready endpoints for shop/gone:80")
    r = nginx.request("/web", host="shop.example.com")
    assert (r.status, r.text) == (503, "no ready endpoints for shop/web:http")
    r = nginx.request("/none", host="shop.example.com")
    assert (r.status, r.text) == (503, "no backend for this route")

    line = [x for x in nginx.access_log() if '"GET /cart ' in x][0]
    assert "[shop-cart-8080] []" in line


def test_request_without_host_uses_the_catch_all(nginx, backends):
    a, b = backends("svc-a"), backends("svc-b")
    nginx.publish("""
        backend a default/svc-a:80 %s
        backend b default/svc-b:80 %s
        route a.example.com Prefix / a default/ing
        route * Prefix / b default/ing
    """ % (endpoint(a), endpoint(b)))

    r = nginx.request("/", version="1.0")
    assert r.status == 200
    assert r.json()["service"] == "svc-b"


def test_headers_sent_upstream_match_ingress_nginx(nginx, backends):
    a = backends("svc-a")
    nginx.publish("""
        backend a default/svc-a:80 %s
        route a.example.com Prefix / a default/ing
    """ % endpoint(a))

    r = nginx.request("/h?x=1", host="a.example.com:8000",
                      headers={"X-Forwarded-For": "203.0.113.9",
                               "Proxy": "http://evil"})
    sent = r.json()
    h = sent["headers"]
    assert sent["host"] == "a.example.com:8000"
    assert sent["path"] == "/h?x=1"
    assert sent["proto"] == "HTTP/1.1"
    assert h["X-Real-Ip"] == ["127.0.0.1"]
    assert h["X-Forwarded-For"] == ["127.0.0.1"]
    assert h["X-Original-Forwarded-For"] == ["203.0.113.9"]
    assert h["X-Forwarded-Host"] == ["a.example.com:8000"]
    assert h["X-Forwarded-Port"] == [str(nginx.http_port)]
    assert h["X-Forwarded-Proto"] == ["http"]
    assert h["X-Forwarded-Scheme"] == ["http"]
    assert h["X-Scheme"] == ["http"]
    assert len(h["X-Request-Id"][0]) == 32
    assert "Proxy" not in h
    assert "Connection" not in h
    assert "X-Request-Id" not in r.headers


def test_content_length_is_kept_and_server_header_present(nginx, backends):
    a = backends("svc-a")
    nginx.publish("""
        backend a default/svc-a:80 %s
        route a.example.com Prefix / a default/ing
    """ % endpoint(a))

    r = nginx.request("/", host="a.example.com")
    assert r.status == 200
    assert r.headers["Content-Length"] == str(len(r.body))
    assert "Transfer-Encoding" not in r.headers
    assert r.headers["Server"] == "nginx"


def test_https_and_http2_are_routed(nginx, backends):
    a = backends("svc-a")
    nginx.publish("""
        backend a default/svc-a:80 %s
        route a.example.com Prefix / a default/ing
    """ % endpoint(a))

    r = nginx.https_request("/tls", host="a.example.com")
    assert r.status == 200
    assert r.json()["headers"]["X-Forwarded-Proto"] == ["https"]

    out = subprocess.run(
        ["curl", "-sk", "--http2", "-o", "-", "-w", "\\n%{http_version}",
         "--resolve", "a.example.com:%d:127.0.0.1" % nginx.https_port,
         "https://a.example.com:%d/h2" % nginx.https_port],
        capture_output=True, text=True, check=True).stdout
    body, version = out.rsplit("\n", 1)
    assert version == "2"
    assert '"service": "svc-a"' in body


def test_variables_describe_the_decision(tmp_path, backends):
    names = ["namespace", "ingress", "service", "service_port",
             "upstream_name", "alternative_upstream_name", "path",
             "path_type", "host_rule", "generation", "route_id"]
    extra = "".join("add_header X-V-%s \"[$shmingress_%s]\" always;\n"
                    % (n, n) for n in names)
    server = Nginx(tmp_path / "state", extra_location=extra).start()
    try:
        a = backends("svc-a")
        gen = server.publish("""
            backend a shop/web:8080 %s
            route *.example.com Prefix /app/ a team/storefront
        """ % endpoint(a))

        r = server.request("/app/x", host="www.example.com")
        assert r.status == 200
        v = {n: r.headers["X-V-" + n][1:-1] for n in names}
        assert v["namespace"] == "team"
        assert v["ingress"] == "storefront"
        assert v["service"] == "web"
        assert v["service_port"] == "8080"
        assert v["upstream_name"] == "shop-web-8080"
        assert v["alternative_upstream_name"] == ""
        assert v["path"] == "/app/"
        assert v["path_type"] == "Prefix"
        assert v["host_rule"] == "*.example.com"
        assert v["generation"] == str(gen)
        assert len(v["route_id"]) == 16
        int(v["route_id"], 16)

        r = server.request("/nothing", host="other.org")
        assert r.status == 404
        assert all(r.headers["X-V-" + n] == "[]" for n in names)
    finally:
        server.stop()


def test_internal_redirect_routes_again_and_keeps_one_pin(tmp_path,
                                                          backends):
    server = Nginx(tmp_path / "state",
                   extra_location="error_page 502 = /fallback;").start()
    try:
        live = backends("svc-live")
        server.publish("""
            backend d default/svc-dead:80 %s
            backend l default/svc-live:80 %s
            route a.example.com Prefix /broken d default/ing
            route a.example.com Prefix /fallback l default/ing
        """ % (dead_endpoint(), endpoint(live)))

        r = server.request("/broken", host="a.example.com")
        assert r.status == 200
        assert (r.json()["service"], r.json()["path"]) == ("svc-live",
                                                          "/fallback")
        assert "[default-svc-live-80]" in server.access_log()[-1]

        # every pin was released: the superseded table gets unmapped
        last = server.publish("""
            backend l default/svc-live:80 %s
            route a.example.com Prefix / l default/ing
        """ % endpoint(live))
        assert server.request("/", host="a.example.com").status == 200
        assert mapped_tables(server.worker_pids()[0]) == ["table.%d" % last]
    finally:
        server.stop()
