"""Leader election on a Lease: of two controllers exactly one leads and
writes status; a killed leader is replaced once its Lease expires; a
leader stopped with SIGTERM hands over at once."""

import signal
import time

from kubetest import App, ingress, wait_for
from leadertest import (LEASE_NAME, holder, lease, publish_service,
                        status_puts, wait_lb, world_objects)

PUBLISH = ("--publish-service", "ctl/shmingress")
LEASE_DURATION = 15.0
RETRY_PERIOD = 2.0


def two_controllers(api, controller, *args):
    a = controller(api, *PUBLISH, *args, env={"POD_NAME": "ctl-a"})
    wait_for(lambda: holder(api) == "ctl-a", "ctl-a leading")
    b = controller(api, *PUBLISH, *args, env={"POD_NAME": "ctl-b"})
    wait_for(lambda: 'msg="lease holder changed"' in b.log(),
             "ctl-b seeing the holder")
    return a, b


def test_exactly_one_leader_writes_status(api, controller):
    web = App("shop", "web", ["10.1.0.1"])
    api.load(world_objects(web, extra=[publish_service()]))
    a, b = two_controllers(api, controller)
    wait_lb(api, "shop", "web", [{"ip": "10.96.0.10"}])

    api.create(ingress("shop", "more", "more.example.com", "web"))
    wait_lb(api, "shop", "more", [{"ip": "10.96.0.10"}])
    time.sleep(3)
    assert holder(api) == "ctl-a"
    assert a.log_count("leadership acquired") == 1
    assert b.log_count("leadership acquired") == 0
    assert a.log_count("ingress status updated") == 2
    assert b.log_count("ingress status updated") == 0
    assert len(status_puts(api)) == 2
    spec = lease(api)["spec"]
    assert spec["leaseDurationSeconds"] == 15
    assert spec["renewTime"].endswith("Z") and "." in spec["renewTime"]


def test_killed_leader_is_replaced_after_the_lease_expires(api, controller):
    web = App("shop", "web", ["10.1.0.1"])
    api.load(world_objects(web, extra=[publish_service()]))
    a, b = two_controllers(api, controller)
    transitions = lease(api)["spec"]["leaseTransitions"]
    a.proc.kill()
    a.proc.wait()
    a.stop()
    killed = time.monotonic()
    wait_for(lambda: holder(api) == "ctl-b", "ctl-b leading",
             deadline=LEASE_DURATION + 4 * RETRY_PERIOD + 20)
    took = time.monotonic() - killed
    print(f"takeover after SIGKILL: {took:.1f}s")
    # b saw the record change at most a couple of retry periods before
    # the kill; it must wait out the rest of the Lease.
    assert took > LEASE_DURATION - 5 * RETRY_PERIOD, "took over a live Lease"
    assert lease(api)["spec"]["leaseTransitions"] == transitions + 1
    assert "leadership acquired" in b.log()

    # The new leader writes status.
    api.create(ingress("shop", "after", "after.example.com", "web"))
    wait_lb(api, "shop", "after", [{"ip": "10.96.0.10"}])
    assert "ingress status updated" in b.log()


def test_sigterm_hands_over_at_once(api, controller):
    api.load(world_objects(App("shop", "web", ["10.1.0.1"]),
                           extra=[publish_service()]))
    a, b = two_controllers(api, controller)
    a.proc.send_signal(signal.SIGTERM)
    assert a.proc.wait(timeout=10) == 0
    stopped = time.monotonic()
    assert "leadership released" in a.log()
    wait_for(lambda: holder(api) == "ctl-b", "ctl-b leading",
             deadline=LEASE_DURATION)
    took = time.monotonic() - stopped
    print(f"takeover after SIGTERM: {took:.1f}s")
    assert took < LEASE_DURATION / 2
    a.stop()


def test_lease_namespace_and_name(api, controller):
    api.load(world_objects())
    controller(api, "--election-id", "my-ingress-leader",
               env={"POD_NAME": "ctl-a", "POD_NAMESPACE": "ctl"})
    wait_for(lambda: holder(api, "ctl", "my-ingress-leader") == "ctl-a",
             "the Lease ctl/my-ingress-leader")
    assert lease(api, "default", LEASE_NAME) is None


def test_renewal_failures_end_leadership(api, controller):
    web = App("shop", "web", ["10.1.0.1"])
    api.load(world_objects(web, extra=[publish_service()]))
    a = controller(api, *PUBLISH, env={"POD_NAME": "ctl-a"})
    wait_lb(api, "shop", "web", [{"ip": "10.96.0.10"}])
    # Every Lease request fails: the leader steps down within the renew
    # deadline and writes no more status.
    api.fail(pattern=r"/leases", count=-1, status=500)
    wait_for(lambda: "leadership lost" in a.log(), "leadership lost",
             deadline=30)
    puts = len(status_puts(api))
    api.create(ingress("shop", "late", "late.example.com", "web"))
    time.sleep(3)
    assert len(status_puts(api)) == puts
    api.clear_faults()
    wait_lb(api, "shop", "late", [{"ip": "10.96.0.10"}],
            deadline=LEASE_DURATION + 4 * RETRY_PERIOD + 20)
