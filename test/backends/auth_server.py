#!/usr/bin/python3
"""auth_server.py -- an external auth service in the style of oauth2-proxy,
for shmingress tests and the demo.

  GET|POST|... /oauth2/auth   202 with X-Auth-Request-User and
                              X-Auth-Request-Email when the request has a
                              valid session cookie (_oauth2_proxy=TOKEN) or
                              "Authorization: Bearer TOKEN"; 403 when that
                              token's user is forbidden; 401 otherwise
                              (with WWW-Authenticate).  A 202 refreshes the
                              session cookie (Set-Cookie), a 401 sets a
                              "_oauth2_proxy_csrf" cookie, as oauth2-proxy
                              does with cookie refresh and its sign-in flow.
  GET /oauth2/start?rd=URL    302 to URL with the session cookie of the
                              first user set: a sign-in that always works.
  GET /__requests             JSON list of the requests /oauth2/auth got
                              (method, path, headers), oldest first.

A request header steers the answer for tests (nginx passes the client's
headers on to the auth service): "X-Auth-Test-Status: N" answers N with no
other check.  Tokens and users come from --user TOKEN=USER[:forbidden].
It is a test tool: no TLS, no real sign-in, standard library only.

    auth_server.py --listen 127.0.0.1:18085 --user s3cret=alice \\
                   --user n0pe=mallory:forbidden
"""

import argparse
import http.server
import json
import sys
import threading
import urllib.parse

COOKIE = "_oauth2_proxy"


class AuthHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("auth %s\n" % (fmt % args))

    def answer(self, status, headers=(), body=b""):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def token(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[len("Bearer "):].strip()
        for part in self.headers.get("Cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE:
                return value
        return None

    def check(self):
        self.server.record(self)
        forced = self.headers.get("X-Auth-Test-Status")
        if forced:
            self.answer(int(forced))
            return
        user = self.server.users.get(self.token())
        if user is None:
            self.answer(401, [("WWW-Authenticate", 'Bearer realm="test"'),
                              ("Set-Cookie", "%s_csrf=pending; Path=/"
                               % COOKIE)], b"unauthorized\n")
        elif user[1]:
            self.answer(403, body=b"forbidden\n")
        else:
            self.answer(202, [
                ("X-Auth-Request-User", user[0]),
                ("X-Auth-Request-Email", "%s@example.com" % user[0]),
                ("Set-Cookie", "%s=%s; Path=/; HttpOnly"
                 % (COOKIE, self.token()))])

    def start(self, query):
        rd = urllib.parse.parse_qs(query).get("rd", ["/"])[0]
        token = next(iter(self.server.users))
        self.answer(302, [("Location", rd),
                          ("Set-Cookie", "%s=%s; Path=/; HttpOnly"
                           % (COOKIE, token))])

    def route(self):
        path, _, query = self.path.partition("?")
        if path == "/oauth2/auth":
            self.check()
        elif path == "/oauth2/start" and self.command == "GET":
            self.start(query)
        elif path == "/__requests" and self.command == "GET":
            self.answer(200, [("Content-Type", "application/json")],
                        json.dumps(self.server.requests()).encode())
        else:
            self.answer(404, body=b"not found\n")

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = route
    do_OPTIONS = route


class AuthServer(http.server.ThreadingHTTPServer):
    """Usable in-process by tests (start/stop/requests) or from the command
    line below."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, host, port, users, verbose=False):
        self.users = users            # token -> (user, forbidden)
        self.verbose = verbose
        self.lock = threading.Lock()
        self.seen = []
        self.thread = None
        super().__init__((host, port), AuthHandler)

    @property
    def port(self):
        return self.server_address[1]

    def record(self, handler):
        with self.lock:
            self.seen.append({"method": handler.command,
                              "path": handler.path,
                              "headers": dict(handler.headers.items())})

    def requests(self):
        with self.lock:
            return list(self.seen)

    def start(self):
        self.thread = threading.Thread(target=self.serve_forever,
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()


def parse_user(text):
    token, sep, rest = text.partition("=")
    user, _, flag = rest.partition(":")
    if not sep or not token or not user or flag not in ("", "forbidden"):
        raise argparse.ArgumentTypeError(
            "want TOKEN=USER or TOKEN=USER:forbidden, not %r" % text)
    return token, (user, flag == "forbidden")


def main():
    parser = argparse.ArgumentParser(
        description="oauth2-proxy style auth service for tests")
    parser.add_argument("--listen", required=True, help="ADDR:PORT")
    parser.add_argument("--user", type=parse_user, action="append",
                        required=True)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    host, _, port = args.listen.rpartition(":")
    server = AuthServer(host, int(port), dict(args.user), args.verbose)
    print("ready", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
