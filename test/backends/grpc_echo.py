#!/usr/bin/python3
"""grpc_echo.py -- a gRPC backend for shmingress tests of backend-protocol
GRPC (h2c) and GRPCS (TLS).

It serves the service echo.Echo with generic handlers and raw-bytes
messages (no generated code, no .proto file):
  Unary(bytes)  -> JSON: the request as text, the service name, and the
                   request metadata (so a test sees what nginx forwarded)
  Stream(bytes) -> three messages "<request> 0", "<request> 1", ...
  Fail(bytes)   -> status NOT_FOUND with the request as details
It is a test tool built on Debian's python3-grpcio.

    grpc_echo.py --listen 127.0.0.1:50051=grpc-svc [--tls CERT KEY]
"""

import argparse
import json
import signal
import threading
from concurrent import futures

import grpc

SERVICE = "echo.Echo"


class GrpcEcho:
    """One listener playing one pod of a gRPC Service."""

    def __init__(self, host, port, service, tls=None):
        self.service = service
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        handlers = {
            "Unary": grpc.unary_unary_rpc_method_handler(self.unary),
            "Stream": grpc.unary_stream_rpc_method_handler(self.stream),
            "Fail": grpc.unary_unary_rpc_method_handler(self.fail),
        }
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(SERVICE, handlers),))
        address = "%s:%d" % (host, port)
        if tls is None:
            self.port = self.server.add_insecure_port(address)
        else:
            cert, key = tls
            with open(cert, "rb") as c, open(key, "rb") as k:
                creds = grpc.ssl_server_credentials([(k.read(), c.read())])
            self.port = self.server.add_secure_port(address, creds)
        self.host = host
        self.tls = tls is not None

    def unary(self, request, context):
        return json.dumps({
            "message": request.decode("utf-8", "replace"),
            "service": self.service,
            "tls": self.tls,
            "metadata": {k: v for k, v in context.invocation_metadata()
                         if isinstance(v, str)},
        }).encode()

    def stream(self, request, context):
        for i in range(3):
            yield b"%s %d" % (request, i)

    def fail(self, request, context):
        context.abort(grpc.StatusCode.NOT_FOUND,
                      request.decode("utf-8", "replace"))

    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.server.stop(grace=None)


def main():
    parser = argparse.ArgumentParser(description="gRPC echo backend")
    parser.add_argument("--listen", required=True,
                        metavar="ADDR:PORT=service")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()
    address, _, service = args.listen.partition("=")
    host, _, port = address.rpartition(":")
    server = GrpcEcho(host, int(port), service or "grpc",
                      tuple(args.tls) if args.tls else None).start()
    print("listening %s:%d service=%s" % (host, server.port, server.service),
          flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    server.stop()


if __name__ == "__main__":
    main()
