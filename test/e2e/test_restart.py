"""A controller restart is invisible to clients: the restarted controller
reads every manifest before its first publication, continues the
generation sequence, and the routes stay exactly as they were -- no
window of 404 or 503 while it starts.

run-local treats its controller exiting as fatal, so here the controller
runs under a tiny supervisor (as a kubelet restarts a container): a build
directory whose controller is a script that starts the real binary again
whenever it exits, and records the real PID for the test.
"""

import os
import signal
import time

import pytest

import harness as h

SUPERVISOR = """#!/bin/bash
# Restarts the real controller whenever it exits, like a kubelet.
pidfile=%(pidfile)s
child=
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0' TERM INT
while true; do
    %(real)s "$@" &
    child=$!
    echo "$child" > "$pidfile"
    wait "$child"
done
"""

FILES = 40


def supervised_build_dir(root):
    build = root / "supervised-build"
    (build / "controller").mkdir(parents=True)
    (build / "ngx_module").mkdir()
    (build / "ngx_module" / h.MODULE_SO.name).symlink_to(h.MODULE_SO)
    script = build / "controller" / h.CONTROLLER_BIN.name
    script.write_text(SUPERVISOR % {"pidfile": root / "real-controller.pid",
                                    "real": h.CONTROLLER_BIN})
    script.chmod(0o755)
    return build


def real_controller_pid(root):
    try:
        return int((root / "real-controller.pid").read_text())
    except (OSError, ValueError):
        return None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL],
                         ids=["graceful", "crash"])
def test_restart_keeps_routes_and_continues_generations(tmp_path, clusters,
                                                        sig):
    c = clusters(build_dir=supervised_build_dir(tmp_path))
    base = [h.ingress_class()]
    for i in range(FILES):
        base += c.backends.add("app-%d" % i).objects()
    files = {"base.yaml": base}
    # Many files, so that a publication made before all of them were read
    # would miss routes the client below is using.
    for i in range(FILES):
        files["app-%02d.yaml" % i] = [h.ingress("app-%d" % i, [h.rule(
            "app-%d.test" % i, h.path("/", "Prefix", "app-%d" % i))])]
    h.start_with(c, files, ready=("app-%d.test" % (FILES - 1), "/",
                                  "service:app-%d" % (FILES - 1)))
    gen0 = c.generation()
    first = real_controller_pid(tmp_path)
    assert first and h.pid_alive(first)
    workers = c.worker_pids()

    failures, count = [], 0
    os.kill(first, sig)
    end = time.monotonic() + h.DEADLINE
    t0 = time.monotonic()
    while c.generation() <= gen0:
        i = count % FILES
        o = c.outcome("app-%d.test" % i, "/")
        count += 1
        if o != "service:app-%d" % i:
            failures.append(("app-%d.test" % i, o))
        assert time.monotonic() < end, \
            "no publication after the restart; log:\n" + c.log_tail()
    h.record_timing("controller restart (%s) -> next publication"
                    % sig.name, time.monotonic() - t0)
    for i in range(FILES):
        o = c.outcome("app-%d.test" % i, "/")
        if o != "service:app-%d" % i:
            failures.append(("app-%d.test" % i, o))

    second = real_controller_pid(tmp_path)
    assert second != first and h.pid_alive(second)
    assert failures == [], "%d of %d requests failed: %s" % (
        len(failures), count + FILES, failures[:5])
    assert c.generation() > gen0
    assert c.worker_pids() == workers
