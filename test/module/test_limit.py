"""Rate limiting from route policies: limit-rps/rpm with the burst,
recovery, the allowlist, limit-connections, the status codes, and
buckets that survive table swaps."""

import http.client
import http.server
import threading
import time

from conftest import Nginx, endpoint


class LimitNginx(Nginx):
    """The shipped configuration with a given limit zone size, also
    listening on [::1]."""

    def __init__(self, state, zone="10m"):
        super().__init__(state)
        self.zone = zone

    def render(self):
        path = super().render()
        with open(path) as f:
            conf = f.read()
        conf = conf.replace("shmingress_limit_zone 10m;",
                            "shmingress_limit_zone %s;" % self.zone)
        conf = conf.replace(
            "listen 127.0.0.1:%d default_server;" % self.http_port,
            "listen 127.0.0.1:%d default_server;\n"
            "        listen [::1]:%d default_server;"
            % (self.http_port, self.http_port))
        with open(path, "w") as f:
            f.write(conf)
        return path

    def request6(self, path, host):
        conn = http.client.HTTPConnection("::1", self.http_port, timeout=30)
        try:
            return self.request(path, host=host, conn=conn)
        finally:
            conn.close()


def limited(backend, policy, extra=""):
    return """
        backend a default/svc-a:80 %s
        policy p %s
        %s
        route a.example.com Prefix / a default/ing policy=p
        route b.example.com Prefix / a default/other
    """ % (endpoint(backend), policy, extra)


def statuses(nginx, n, host="a.example.com", path="/"):
    return [nginx.request(path, host=host).status for _ in range(n)]


def test_burst_then_503_then_recovery(nginx, backends):
    a = backends("svc-a")
    # 1 r/s, burst 1 x 3: the first request and three more pass at once
    nginx.publish(limited(a, "limit-rps=1 burst-multiplier=3"))

    got = statuses(nginx, 6)
    assert got[:4] == [200] * 4, got
    assert got[4:] == [503, 503], got
    assert "limiting requests of route" in nginx.error_log()

    # other routes are not limited by this one's bucket
    assert statuses(nginx, 6, host="b.example.com") == [200] * 6

    time.sleep(2.2)
    got = statuses(nginx, 3)
    assert got[:2] == [200, 200] and got[2] == 503, got


def test_rpm_and_configured_status_code(nginx, backends):
    a = backends("svc-a")
    # 2 r/m, burst 2 x 1: the first request and two more
    nginx.publish(limited(a, "limit-rpm=2 burst-multiplier=1",
                          "config limit-req-status=429"))
    got = statuses(nginx, 5)
    assert got == [200, 200, 200, 429, 429], got


def test_allowlisted_clients_are_not_limited(nginx, backends):
    a = backends("svc-a")
    nginx.publish(limited(a, "limit-rps=1 burst-multiplier=1 "
                             "limit-allow=10.0.0.0/8,127.0.0.0/24"))
    assert statuses(nginx, 10) == [200] * 10

    nginx.publish(limited(a, "limit-rps=1 burst-multiplier=1 "
                             "limit-allow=10.0.0.0/8,::1/128"))
    assert 503 in statuses(nginx, 5)


def test_limits_survive_a_table_swap(nginx, backends):
    a = backends("svc-a")
    spec = limited(a, "limit-rps=1 burst-multiplier=2")
    nginx.publish(spec)
    assert statuses(nginx, 3) == [200] * 3
    # the same route in a new table keeps the client's bucket
    nginx.publish(spec + "route c.example.com Prefix / a default/third\n")
    assert statuses(nginx, 2) == [503, 503]


def test_limit_connections_counts_requests_in_flight(nginx, backends):
    a = backends("svc-a")
    nginx.publish(limited(a, "limit-connections=2",
                          "config limit-conn-status=429"))

    results = []

    def slow():
        r = nginx.request("/", host="a.example.com",
                          headers={"X-Echo-Sleep": "1.5"})
        results.append(r.status)

    threads = [threading.Thread(target=slow) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    assert nginx.request("/", host="a.example.com").status == 429
    for t in threads:
        t.join()
    assert results == [200, 200]
    # released when the requests ended
    assert statuses(nginx, 3) == [200] * 3


def test_ipv6_clients_have_buckets_of_their_own(tmp_path, backends):
    a = backends("svc-a")
    server = LimitNginx(tmp_path / "state").start()
    try:
        server.publish(limited(a, "limit-rps=1 burst-multiplier=1"))
        assert statuses(server, 3) == [200, 200, 503]
        got = [server.request6("/", "a.example.com").status
               for _ in range(3)]
        assert got == [200, 200, 503]

        server.publish(limited(a, "limit-rps=1 burst-multiplier=1 "
                                  "limit-allow=::1"))
        got = [server.request6("/", "a.example.com").status
               for _ in range(5)]
        assert got == [200] * 5
        assert statuses(server, 1) == [503]
    finally:
        server.stop()


def test_a_full_zone_evicts_old_clients_instead_of_refusing(tmp_path,
                                                            backends):
    a = backends("svc-a")
    server = LimitNginx(tmp_path / "state", zone="32k").start()
    try:
        routes = "".join(
            "route a.example.com Exact /r%d a default/ing policy=p\n" % i
            for i in range(600))
        server.publish("""
            backend a default/svc-a:80 %s
            policy p limit-rps=1 burst-multiplier=1
        """ % endpoint(a) + routes)
        # every route is a bucket of its own: far more than 32k holds
        for i in range(600):
            assert server.request("/r%d" % i,
                                  host="a.example.com").status == 200, i
        assert "zone full" not in server.error_log()
    finally:
        server.stop()


class JumpBackend:
    """A backend answering /jump with X-Accel-Redirect: /landed, so nginx
    routes the request again internally."""

    def __init__(self):
        handler = self.handler()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    @staticmethod
    def handler():
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                if self.path == "/jump":
                    self.send_header("X-Accel-Redirect", "/landed")
                body = self.path.encode()
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass
        return Handler

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_internal_redirects_are_not_counted_again(nginx):
    jump = JumpBackend()
    try:
        nginx.publish("""
            backend j default/jump:80 127.0.0.1:%d
            policy p limit-rps=1 burst-multiplier=1
            route a.example.com Prefix / j default/ing policy=p
        """ % jump.port)
        # burst 1: two requests pass, each routed twice
        for _ in range(2):
            r = nginx.request("/jump", host="a.example.com")
            assert (r.status, r.text) == (200, "/landed")
        assert nginx.request("/jump", host="a.example.com").status == 503
    finally:
        jump.stop()
