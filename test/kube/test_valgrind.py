"""The controller in API mode under valgrind for a short run against the
stand-in: first list, watch events, a garbled stream, a relist after
compaction, a token re-read and a clean stop.  Any memory error or
definite leak fails the test (valgrind's exit code)."""

import os
import shutil

import pytest

from kubetest import App, World, wait_for

pytestmark = [
    pytest.mark.skipif(shutil.which("valgrind") is None,
                       reason="valgrind is not installed"),
    pytest.mark.skipif(os.environ.get("SHMINGRESS_SANITIZE") == "ON",
                       reason="sanitizer builds do not run under valgrind"),
]

VALGRIND_RC = 99


def test_api_mode_under_valgrind(api, controller, tmp_path):
    world = World.generated(20)
    api.load(world.objects())
    log = tmp_path / "valgrind.log"
    ctl = controller(api, wrapper=[
        "valgrind", "--quiet", "--leak-check=full",
        "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
        f"--error-exitcode={VALGRIND_RC}", f"--log-file={log}"])
    ctl.wait_routes(world.expected(), deadline=120, what="first table")

    for obj in world.add(App("shop", "extra", ["10.1.2.3"])).objects():
        api.create(obj)
    ctl.wait_routes(world.expected(), deadline=60, what="after a create")

    api.inject_garbage()
    api.fail(pattern="watch=1", count=-1, action="reset")
    api.end_watches()
    wait_for(lambda: api.state()["watches"] == 0, "watches to close", 60)
    gone = world.remove("docs", "app-1")
    api.delete("ingresses", gone.ns, gone.name)
    api.compact()
    api.clear_faults()
    ctl.wait_routes(world.expected(), deadline=90, what="after a relist")

    api.rotate_token("valgrind-token")
    ctl.write_token("valgrind-token")
    api.end_watches()
    app = world.apps[("shop", "app-0")]
    app.addresses = ["10.3.3.3"]
    api.update(app.slice())
    ctl.wait_routes(world.expected(), deadline=90, what="after a new token")

    rc = ctl.stop(timeout=120)
    report = log.read_text()
    assert rc == 0, f"valgrind exit {rc}:\n{report[-6000:]}"
    assert "definitely lost" not in report, report[-6000:]
