#!/usr/bin/python3
"""echo.py -- HTTP/WebSocket echo backends for shmingress tests and demos.

Each listener plays one pod of one Service: it answers every request
(except /health and /__stats) with a JSON description of what it received,
in the shape of the Ingress conformance echoserver (path with query, host,
method, proto, headers, namespace, ingress, service, pod), so a test can
tell which backend a request reached and what the proxy forwarded.  It
speaks HTTP/1.1 with keep-alive and always sends Content-Length, upgrades
to WebSocket on request (text frames are echoed back prefixed with the pod
name), and counts the TCP connections it accepted so tests can see whether
the proxy reuses upstream connections.

Request headers that steer the reply (test hooks, never set by nginx):
  X-Echo-Sleep: seconds   delay the reply (long requests across swaps)
  X-Echo-Hold: token      send "first\n", then wait until the server's
                          release(token) is called (at most 3 s) and end
                          with "released\n" or "timedout\n": shows
                          whether a proxy passes a part of an answer on
                          before the backend has finished (buffering)
A path /__status/NNN answers with status NNN (and the same JSON body).

With a TLS context (tests of backend-protocol HTTPS) it speaks HTTPS and
reports the SNI name it was offered.  It is a test tool: no HTTP/2, no
persistence.  Standard library only, so it runs under Debian's
/usr/bin/python3 on a fresh machine.

    echo.py --listen 127.0.0.1:18081=web,web-1 --listen 127.0.0.2:18081=web,web-2
"""

import argparse
import base64
import hashlib
import http.server
import json
import signal
import socket
import ssl
import struct
import sys
import threading
import time

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WS_MAX_PAYLOAD = 1 << 20
MAX_SLEEP_SECONDS = 30.0
MAX_BODY = 16 << 20
HOLD_SECONDS = 3.0

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


def canonical_header(name):
    """Go's canonical MIME header form, as the conformance echoserver
    reports it: x-request-id -> X-Request-Id."""
    return "-".join(part[:1].upper() + part[1:].lower()
                    for part in name.split("-"))


class EchoHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm
    # the body would wait for the peer's delayed ACK (~40 ms) on every
    # reused connection.
    disable_nagle_algorithm = True
    # Idle keep-alive connections are closed after this long; longer than
    # nginx's upstream keepalive_timeout so nginx always closes first.
    timeout = 120

    def setup(self):
        super().setup()
        self.server.track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("echo %s %s\n" % (self.server.label(),
                                               fmt % args))

    def handle_one_request(self):
        """Dispatches every method to one handler, so the echo answers
        PATCH, OPTIONS or anything else exactly like GET."""
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except (ConnectionError, socket.timeout):
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        self.server.count_request()
        self.serve()
        self.wfile.flush()

    def serve(self):
        body = self.read_body()
        if body is None:
            return
        if self.wants_websocket():
            self.serve_websocket()
            return
        sleep = self.headers.get("X-Echo-Sleep")
        if sleep:
            try:
                time.sleep(min(max(float(sleep), 0.0), MAX_SLEEP_SECONDS))
            except ValueError:
                pass
        hold = self.headers.get("X-Echo-Hold")
        if hold:
            self.serve_held(hold)
            return
        if self.path == "/health":
            self.reply(200, "text/plain", b"ok\n")
        elif self.path == "/__stats":
            self.reply(200, "application/json",
                       json.dumps(self.server.stats()).encode())
        elif self.path.startswith("/__status/"):
            try:
                code = int(self.path[len("/__status/"):][:3])
            except ValueError:
                code = 400
            self.reply(code, "application/json",
                       json.dumps(self.describe(body)).encode())
        else:
            self.reply(200, "application/json",
                       json.dumps(self.describe(body)).encode())

    def read_body(self):
        """Reads a Content-Length or chunked body; None after answering
        400 for a malformed one."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            n = int(length)
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            self.close_connection = True
            self.reply(400, "text/plain", b"bad Content-Length\n")
            return None
        return self.rfile.read(n)

    def read_chunked(self):
        data = bytearray()
        while True:
            line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                size = -1
            if size < 0 or len(data) + size > MAX_BODY:
                self.close_connection = True
                self.reply(400, "text/plain", b"bad chunk\n")
                return None
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass
                return bytes(data)
            data += self.rfile.read(size)
            self.rfile.readline(1024)

    def describe(self, body):
        headers = {}
        for name, value in self.headers.items():
            headers.setdefault(canonical_header(name), []).append(value)
        return {
            "path": self.path,
            "host": self.headers.get("Host", ""),
            "method": self.command,
            "proto": self.request_version,
            "headers": headers,
            "namespace": self.server.namespace,
            "ingress": self.server.ingress,
            "service": self.server.service,
            "pod": self.server.pod,
            "body_length": len(body),
            "tls": self.server.tls is not None,
            "sni": getattr(self.connection, "sni", None),
        }

    def reply(self, code, content_type, payload):
        # No Server header, like the conformance echoserver: the proxy is
        # expected to add its own.
        self.send_response_only(code)
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", content_type)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def serve_held(self, token):
        first = b"first\n"
        ends = {True: b"released\n", False: b"timedout\n"}
        self.send_response_only(200)
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(first) + len(ends[True])))
        self.end_headers()
        self.wfile.write(first)
        self.wfile.flush()
        released = self.server.hold(token).wait(HOLD_SECONDS)
        self.wfile.write(ends[released])

    def wants_websocket(self):
        upgrade = self.headers.get("Upgrade", "").lower()
        connection = self.headers.get("Connection", "").lower()
        return (upgrade == "websocket" and "upgrade" in connection
                and self.headers.get("Sec-WebSocket-Key"))

    def serve_websocket(self):
        key = self.headers["Sec-WebSocket-Key"].strip()
        accept = base64.b64encode(
            hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response_only(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.connection.settimeout(None)
        self.close_connection = True
        self.server.count_websocket()
        WebSocketSession(self.rfile, self.connection,
                         self.server.pod).run()


class WebSocketSession:
    """The server half of RFC 6455 after the handshake: unmasks client
    frames, reassembles fragments, answers pings, echoes data frames and
    completes the closing handshake."""

    def __init__(self, rfile, sock, pod):
        self.rfile = rfile
        self.sock = sock
        self.pod = pod

    def run(self):
        message, message_op = bytearray(), None
        while True:
            frame = self.read_frame()
            if frame is None:
                return
            fin, op, payload = frame
            if op == OP_PING:
                self.send(OP_PONG, payload)
            elif op == OP_PONG:
                continue
            elif op == OP_CLOSE:
                self.send(OP_CLOSE, payload[:2])
                return
            elif op in (OP_TEXT, OP_BINARY, OP_CONT):
                if op != OP_CONT:
                    message, message_op = bytearray(), op
                if message_op is None:
                    return
                message += payload
                if len(message) > WS_MAX_PAYLOAD:
                    self.send(OP_CLOSE, struct.pack("!H", 1009))
                    return
                if fin:
                    self.echo(message_op, bytes(message))
                    message_op = None
            else:
                self.send(OP_CLOSE, struct.pack("!H", 1002))
                return

    def echo(self, op, data):
        if op == OP_TEXT:
            data = ("%s: " % self.pod).encode() + data
        self.send(op, data)

    def read_exact(self, n):
        data = self.rfile.read(n)
        return data if data is not None and len(data) == n else None

    def read_frame(self):
        head = self.read_exact(2)
        if head is None:
            return None
        fin, op = head[0] & 0x80, head[0] & 0x0F
        masked, length = head[1] & 0x80, head[1] & 0x7F
        if length == 126:
            ext = self.read_exact(2)
            length = struct.unpack("!H", ext)[0] if ext else None
        elif length == 127:
            ext = self.read_exact(8)
            length = struct.unpack("!Q", ext)[0] if ext else None
        if length is None or length > WS_MAX_PAYLOAD or not masked:
            return None
        mask = self.read_exact(4)
        payload = self.read_exact(length) if length else b""
        if mask is None or payload is None:
            return None
        return bool(fin), op, bytes(b ^ mask[i % 4]
                                    for i, b in enumerate(payload))

    def send(self, op, payload):
        head = bytearray([0x80 | op])
        if len(payload) < 126:
            head.append(len(payload))
        elif len(payload) < 1 << 16:
            head.append(126)
            head += struct.pack("!H", len(payload))
        else:
            head.append(127)
            head += struct.pack("!Q", len(payload))
        try:
            self.sock.sendall(bytes(head) + payload)
        except OSError:
            pass


class EchoServer(http.server.ThreadingHTTPServer):
    """One listener = one pod of one Service.  Usable in-process by tests
    (start/stop/stats) or from the command line below."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, host, port, service, pod=None, namespace="",
                 ingress="", verbose=False, tls=None):
        self.tls = tls
        if tls is not None:
            tls.sni_callback = self.remember_sni
        self.service = service
        self.pod = pod or "%s-%s" % (service, port)
        self.namespace = namespace
        self.ingress = ingress
        self.verbose = verbose
        self.lock = threading.Lock()
        self.open_sockets = set()
        self.counters = {"connections": 0, "requests": 0, "websockets": 0}
        self.holds = {}  # X-Echo-Hold token -> threading.Event
        self.thread = None
        super().__init__((host, port), EchoHandler)
        if port == 0:
            self.pod = pod or "%s-%s" % (service, self.port)

    @staticmethod
    def remember_sni(sock, name, context):
        sock.sni = name

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls is None:
            return sock, addr
        # The handshake happens in the handler's thread, on first read.
        return self.tls.wrap_socket(sock, server_side=True,
                                    do_handshake_on_connect=False), addr

    @property
    def host(self):
        return self.server_address[0]

    @property
    def port(self):
        return self.server_address[1]

    def label(self):
        return "%s:%d service=%s pod=%s" % (self.host, self.port,
                                            self.service, self.pod)

    def track(self, sock, opened):
        with self.lock:
            if opened:
                self.counters["connections"] += 1
                self.open_sockets.add(sock)
            else:
                self.open_sockets.discard(sock)

    def hold(self, token):
        with self.lock:
            return self.holds.setdefault(token, threading.Event())

    def release(self, token):
        """Lets the answer held under token finish."""
        self.hold(token).set()

    def count_request(self):
        with self.lock:
            self.counters["requests"] += 1

    def count_websocket(self):
        with self.lock:
            self.counters["websockets"] += 1

    def stats(self):
        with self.lock:
            return dict(self.counters, open=len(self.open_sockets),
                        service=self.service, pod=self.pod)

    def start(self):
        self.thread = threading.Thread(target=self.serve_forever,
                                       name="echo " + self.label(),
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        """Stops accepting and drops open connections, like a pod that
        went away."""
        if self.thread is not None:
            self.shutdown()
            self.thread.join()
            self.thread = None
        self.server_close()
        with self.lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def parse_listen(spec):
    """ADDR:PORT=service[,pod[,namespace[,ingress]]]"""
    address, sep, names = spec.partition("=")
    host, colon, port = address.rpartition(":")
    fields = names.split(",") if names else []
    if not sep or not colon or not fields or not fields[0]:
        raise argparse.ArgumentTypeError(
            "--listen %r: want ADDR:PORT=service[,pod[,namespace[,ingress]]]"
            % spec)
    try:
        port = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "--listen %r: port %r is not a number" % (spec, port))
    fields += [""] * (4 - len(fields))
    return host.strip("[]"), port, fields[0], fields[1] or None, fields[2], \
        fields[3]


def main():
    parser = argparse.ArgumentParser(
        description="HTTP/WebSocket echo backends (one per --listen)")
    parser.add_argument("--listen", action="append", type=parse_listen,
                        required=True,
                        metavar="ADDR:PORT=service[,pod[,ns[,ingress]]]")
    parser.add_argument("--verbose", action="store_true",
                        help="log every request to stderr")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"),
                        help="speak HTTPS with this certificate and key")
    args = parser.parse_args()

    servers = []
    for host, port, service, pod, namespace, ingress in args.listen:
        tls = None
        if args.tls:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(*args.tls)
        try:
            server = EchoServer(host, port, service, pod, namespace, ingress,
                                args.verbose, tls)
        except OSError as e:
            sys.exit("echo: cannot listen on %s:%d: %s" % (host, port, e))
        servers.append(server.start())
        print("listening %s" % server.label(), flush=True)
    print("ready", flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    for server in servers:
        server.stop()


if __name__ == "__main__":
    main()
