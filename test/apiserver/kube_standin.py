#!/usr/bin/python3
"""Kubernetes API stand-in for shmingress tests: importable and runnable.

    from kube_standin import StandIn
    with StandIn(tls=True) as api:
        api.write_kubeconfig("/tmp/kc")
        api.create({...})

    /usr/bin/python3 test/apiserver/kube_standin.py --port 0 --tls \\
        --kubeconfig-out /tmp/kc

Run as a program it prints one JSON line on stdout once it listens
({"event":"ready","url":...,"port":...,"kubeconfig":...,"ca":...}) and runs
until SIGTERM or SIGINT. Control calls are on the same port under
/__control/ (see standin/control.py and docs/testing.md). Only the
standard library and Debian python3-* packages are used.
"""

import argparse
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from standin import ApiError, StandIn  # noqa: E402
from standin.resources import for_object  # noqa: E402

__all__ = ["ApiError", "StandIn", "main"]


def _parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0,
                   help="0 picks a free port (reported on the ready line)")
    p.add_argument("--tls", action="store_true")
    p.add_argument("--cert-dir", help="CA and server certificate; reused "
                   "when present, created otherwise")
    p.add_argument("--token", help="token with full access (default: "
                   "random, written to the kubeconfig)")
    p.add_argument("--grant", action="append", default=[],
                   metavar="USER:TOKEN:VERBS:RESOURCES",
                   help="extra token, e.g. "
                   "reader:ro-token:get,list,watch:* (repeatable)")
    p.add_argument("--kubeconfig-out", metavar="FILE")
    p.add_argument("--history", type=int, default=10000,
                   help="events kept for watches")
    p.add_argument("--bookmark-interval", type=float, default=60.0)
    p.add_argument("--min-request-timeout", type=float, default=1800.0,
                   help="watches without timeoutSeconds last [T, 2T]")
    p.add_argument("--continue-ttl", type=float, default=300.0)
    p.add_argument("--rv-step", type=int, default=1,
                   help="resourceVersion increment per write")
    p.add_argument("--watch-chunking", default="batch",
                   choices=("batch", "event", "split"))
    p.add_argument("--expired-as-http", action="store_true",
                   help="answer too-old watches with HTTP 410")
    p.add_argument("--load", action="append", default=[], metavar="PATH",
                   help="JSON or YAML manifest file or directory to seed")
    p.add_argument("--verbose", action="store_true")
    return p.parse_args(argv)


def _grant(standin, spec):
    parts = spec.split(":")
    if len(parts) != 4:
        raise SystemExit(f"--grant {parts[0]}:...: expected "
                         f"USER:TOKEN:VERBS:RESOURCES")
    user, token, verbs, res = parts
    standin.add_token(token, user, [(verbs, res)])


def _manifest_files(path):
    if not os.path.isdir(path):
        return [path]
    return sorted(os.path.join(root, name)
                  for root, _, names in os.walk(path) for name in names
                  if name.endswith((".yaml", ".yml", ".json")))


def _documents(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".json"):
        doc = json.loads(text)
        docs = [doc]
    else:
        import yaml
        docs = list(yaml.safe_load_all(text))
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind", "").endswith("List") \
                and isinstance(doc.get("items"), list):
            yield from doc["items"]
        elif doc:
            yield doc


def _seed(standin, paths):
    items = []
    for path in paths:
        for file in _manifest_files(path):
            for doc in _documents(file):
                try:
                    for_object(doc)
                except KeyError as err:
                    raise SystemExit(f"{file}: {err.args[0]}")
                items.append(doc)
    return standin.load(items)


def main(argv=None):
    args = _parse_args(argv)
    standin = StandIn(
        port=args.port, host=args.host, tls=args.tls, cert_dir=args.cert_dir,
        token=args.token, history=args.history,
        continue_ttl=args.continue_ttl, rv_step=args.rv_step,
        verbose=args.verbose, bookmark_interval=args.bookmark_interval,
        min_request_timeout=args.min_request_timeout,
        watch_chunking=args.watch_chunking,
        expired_as_http=args.expired_as_http)
    for spec in args.grant:
        _grant(standin, spec)
    loaded = _seed(standin, args.load)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    standin.start()
    if args.kubeconfig_out:
        standin.write_kubeconfig(args.kubeconfig_out)
    print(json.dumps({"event": "ready", "url": standin.url,
                      "port": standin.port,
                      "kubeconfig": args.kubeconfig_out, "ca": standin.ca_file,
                      "objects": loaded}), flush=True)
    done.wait()
    standin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
