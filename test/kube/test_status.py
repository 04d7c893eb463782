"""Ingress status: the leader writes status.loadBalancer.ingress on the
Ingresses of our class from --publish-service or --publish-status-address,
only when it differs, retries conflicts, clears it when an Ingress stops
being ours, and never touches Ingresses of unknown classes."""

import subprocess
import time

from kubetest import App, ingress, wait_for
from leadertest import (edit, lb_ingress, lb_status, other_class,
                        publish_service, status_puts, wait_lb, world_objects)

PUBLISH = ("--publish-service", "ctl/shmingress")


def test_cluster_ip_of_publish_service(api, controller):
    web = App("shop", "web", ["10.1.0.1"])
    stray = ingress("shop", "stray", "stray.example.com", "web")
    stray["spec"]["ingressClassName"] = "some-invalid-class-name"
    api.load(world_objects(web, extra=[publish_service(), stray]))
    ctl = controller(api, *PUBLISH)
    wait_lb(api, "shop", "web", [{"ip": "10.96.0.10"}])
    assert "ingress status updated" in ctl.log()
    # IC1: an Ingress naming an unknown class never gets an address.
    time.sleep(3)
    assert lb_status(api, "shop", "stray") is None
    assert not status_puts(api, "shop", "stray")


def test_load_balancer_addresses_and_their_changes(api, controller):
    web = App("shop", "web", ["10.1.0.1"])
    svc = publish_service(type_="LoadBalancer", lb=[
        {"hostname": "lb.example.com"}, {"ip": "203.0.113.10"}])
    api.load(world_objects(web, extra=[svc]))
    controller(api, *PUBLISH)
    # Sorted as ingress-nginx sorts: by IP, so names (no IP) first.
    wait_lb(api, "shop", "web", [{"hostname": "lb.example.com"},
                                 {"ip": "203.0.113.10"}])

    def move(obj):
        obj["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.99"}]}}
    edit(api, "services", "ctl", "shmingress", move)
    wait_lb(api, "shop", "web", [{"ip": "203.0.113.99"}])


def test_publish_status_address(api, controller):
    web = App("shop", "web", ["10.1.0.1"])
    docs = App("docs", "guide", ["10.1.0.2"])
    api.load(world_objects(web, docs, extra=[publish_service()]))
    # The flag wins over --publish-service.
    controller(api, "--publish-status-address", "lb.example.net, 192.0.2.7",
               *PUBLISH)
    expected = [{"hostname": "lb.example.net"}, {"ip": "192.0.2.7"}]
    wait_lb(api, "shop", "web", expected)
    wait_lb(api, "docs", "guide", expected)


def test_bad_publish_status_address_is_a_usage_error(api, controller):
    ctl = controller(api, "--publish-status-address", "192.0.2.1,Not_A_Name",
                     start=False)
    out = subprocess.run(ctl.command(), capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 2
    assert '"Not_A_Name" is neither an IP address nor' in out.stderr


def test_not_written_when_unchanged(api, controller):
    web = App("shop", "web", ["10.1.0.1"])
    api.load(world_objects(web, extra=[publish_service()]))
    ctl = controller(api, *PUBLISH)
    wait_lb(api, "shop", "web", [{"ip": "10.96.0.10"}])
    assert len(status_puts(api)) == 1

    # Rebuilds for other reasons, and a change of the Ingress itself,
    # find the status right and write nothing.
    for i in range(5):
        web.addresses = [f"10.1.0.{i + 10}"]
        api.update(web.slice())

    def annotate(obj):
        obj["metadata"].setdefault("annotations", {})["team"] = "shop"
    edit(api, "ingresses", "shop", "web", annotate)
    ctl.wait_routes({web.host: {"/": ("shop/web", ("10.1.0.14:8080",))}})
    time.sleep(2)
    assert len(status_puts(api)) == 1

    # Nor does a restarted controller.
    assert ctl.stop() == 0
    ctl.start()
    wait_for(lambda: ctl.log_count("leadership acquired") == 2,
             "leadership after the restart")
    time.sleep(3)
    assert len(status_puts(api)) == 1


def test_conflict_is_read_again_and_retried(api, controller):
    web = App("shop", "web", ["10.1.0.1"])
    api.load(world_objects(web, extra=[publish_service()]))
    # The first status write waits; meanwhile the Ingress changes, so the
    # write carries a stale resourceVersion and gets a real 409.
    api.delay(2, pattern=r"/ingresses/web/status", method="PUT")
    ctl = controller(api, *PUBLISH)

    def fetched():
        return any(r["method"] == "GET" and r["status"] == 200 and
                   r["target"].endswith("/namespaces/shop/ingresses/web")
                   for r in api.requests())
    wait_for(fetched, "the status writer's GET")

    def annotate(obj):
        obj["metadata"].setdefault("annotations", {})["edited"] = "yes"
    edit(api, "ingresses", "shop", "web", annotate)
    wait_lb(api, "shop", "web", [{"ip": "10.96.0.10"}])
    codes = [r["status"] for r in status_puts(api, "shop", "web")]
    assert codes[0] == 409 and codes[-1] == 200, codes
    assert "ingress status conflict" in ctl.log()
    assert api.get("ingresses", "shop", "web")["metadata"]["annotations"][
        "edited"] == "yes"


def test_cleared_when_the_class_changes(api, controller):
    web = App("shop", "web", ["10.1.0.1"])
    api.load(world_objects(web, extra=[publish_service(), other_class()]))
    ctl = controller(api, *PUBLISH)
    wait_lb(api, "shop", "web", [{"ip": "10.96.0.10"}])

    def reclass(obj):
        obj["spec"]["ingressClassName"] = "other"
    edit(api, "ingresses", "shop", "web", reclass)
    wait_for(lambda: lb_status(api, "shop", "web") == {},
             "status cleared")
    assert "ingress status cleared" in ctl.log()


def test_status_of_another_controller_is_left_alone(api, controller):
    web = App("shop", "web", ["10.1.0.1"])
    api.load(world_objects(web, extra=[publish_service(), other_class()]))
    controller(api, *PUBLISH)
    wait_lb(api, "shop", "web", [{"ip": "10.96.0.10"}])
    puts = len(status_puts(api))

    # The other controller takes the Ingress and writes its address in
    # the same update: ours is no longer there to clear.
    def handover(obj):
        obj["spec"]["ingressClassName"] = "other"
        obj["status"] = {"loadBalancer": {"ingress": [{"ip": "198.51.100.1"}]}}
    edit(api, "ingresses", "shop", "web", handover)
    time.sleep(3)
    assert lb_ingress(api, "shop", "web") == [{"ip": "198.51.100.1"}]
    assert len(status_puts(api)) == puts


def test_service_outside_the_watched_namespace_is_fetched(api, controller):
    web = App("shop", "web", ["10.1.0.1"])
    api.load(world_objects(web, extra=[publish_service()]))
    controller(api, "--watch-namespace", "shop", *PUBLISH)
    wait_lb(api, "shop", "web", [{"ip": "10.96.0.10"}])
    gets = [r for r in api.requests() if r["method"] == "GET" and
            r["target"] == "/api/v1/namespaces/ctl/services/shmingress"]
    assert gets


def test_update_status_false_writes_nothing(api, controller):
    web = App("shop", "web", ["10.1.0.1"])
    api.load(world_objects(web, extra=[publish_service()]))
    ctl = controller(api, "--update-status=false", *PUBLISH)
    ctl.wait_routes({web.host: {"/": ("shop/web", ("10.1.0.1:8080",))}})
    wait_for(lambda: "leadership acquired" in ctl.log(), "leadership")
    time.sleep(2)
    assert not status_puts(api)
    assert lb_status(api, "shop", "web") is None
