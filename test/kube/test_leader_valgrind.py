"""The leader's writers under valgrind for a short run against the
stand-in: Lease acquired, status written, a conflict retried, status
cleared, Events created and updated, leadership lost and regained, and
the Lease released at the stop.  Any memory error or definite leak fails
the test (valgrind's exit code)."""

import os
import shutil

import pytest

from kubetest import App, ingress, wait_for
from leadertest import (edit, holder, lb_status, other_class,
                        publish_service, wait_event, wait_lb, world_objects)

pytestmark = [
    pytest.mark.skipif(shutil.which("valgrind") is None,
                       reason="valgrind is not installed"),
    pytest.mark.skipif(os.environ.get("SHMINGRESS_SANITIZE") == "ON",
                       reason="sanitizer builds do not run under valgrind"),
]

VALGRIND_RC = 99
ADDRESS = [{"ip": "10.96.0.10"}]


def test_writers_under_valgrind(api, controller, tmp_path):
    web = App("shop", "web", ["10.1.0.1"])
    orphan = ingress("shop", "orphan", "orphan.example.com", "gone")
    api.load(world_objects(web, extra=[publish_service(), other_class(),
                                       orphan]))
    api.fail(pattern=r"/ingresses/web/status", status=409, method="PUT")
    log = tmp_path / "valgrind.log"
    ctl = controller(api, "--publish-service", "ctl/shmingress",
                     env={"POD_NAME": "ctl-v"}, wrapper=[
                         "valgrind", "--quiet", "--leak-check=full",
                         "--errors-for-leak-kinds=definite",
                         "--show-leak-kinds=definite",
                         f"--error-exitcode={VALGRIND_RC}",
                         f"--log-file={log}"])
    wait_lb(api, "shop", "web", ADDRESS, deadline=120)
    wait_event(api, "shop", "orphan", "ServiceNotFound", deadline=60)

    def rehost(obj):
        obj["spec"]["rules"][0]["host"] = "orphan2.example.com"
    edit(api, "ingresses", "shop", "orphan", rehost)
    wait_event(api, "shop", "orphan", "ServiceNotFound", count=2,
               deadline=60)

    def reclass(obj):
        obj["spec"]["ingressClassName"] = "other"
    edit(api, "ingresses", "shop", "web", reclass)
    wait_for(lambda: lb_status(api, "shop", "web") == {}, "status cleared",
             60)

    api.fail(pattern=r"/leases", count=-1, status=500)
    wait_for(lambda: "leadership lost" in ctl.log(), "leadership lost", 60)
    api.clear_faults()
    wait_for(lambda: ctl.log_count("leadership acquired") == 2,
             "leadership regained", 60)

    rc = ctl.stop(timeout=120)
    report = log.read_text()
    assert rc == 0, f"valgrind exit {rc}:\n{report[-6000:]}"
    assert "definitely lost" not in report, report[-6000:]
    assert holder(api) == ""
