"""leadertest.py -- helpers for the tests of what the elected leader
writes: Ingress status, Events and the Lease itself. Objects come from
kubetest; these helpers read them back from the stand-in."""

import time

from kubetest import ApiError, ingress_class, wait_for

LEASE_NS = "default"          # the kubeconfig's namespace
LEASE_NAME = "shmingress-leader"


def publish_service(ns="ctl", name="shmingress", cluster_ip="10.96.0.10",
                    lb=None, type_="ClusterIP"):
    """The controller's own Service, whose address --publish-service
    copies into Ingress status; lb is its status.loadBalancer.ingress."""
    obj = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": name, "namespace": ns},
           "spec": {"type": type_, "clusterIP": cluster_ip,
                    "selector": {"app": "shmingress"},
                    "ports": [{"name": "http", "port": 80,
                               "targetPort": 80, "protocol": "TCP"}]}}
    if lb is not None:
        obj["status"] = {"loadBalancer": {"ingress": lb}}
    return obj


def other_class(name="other", controller="example.com/other"):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": name}, "spec": {"controller": controller}}


def world_objects(*apps, extra=()):
    objs = [ingress_class()]
    for app in apps:
        objs.extend(app.objects())
    return objs + list(extra)


def lb_status(api, ns, name):
    """status.loadBalancer of an Ingress ({} when empty), or None when
    the Ingress has no status at all."""
    obj = api.get("ingresses", ns, name)
    status = obj.get("status")
    if status is None:
        return None
    return status.get("loadBalancer") or {}


def lb_ingress(api, ns, name):
    return (lb_status(api, ns, name) or {}).get("ingress") or []


def wait_lb(api, ns, name, expected, deadline=30.0):
    def matches():
        got = lb_ingress(api, ns, name)
        return got == expected or None
    try:
        wait_for(matches, f"status of {ns}/{name}", deadline)
    except AssertionError:
        raise AssertionError(f"{ns}/{name} status "
                             f"{lb_status(api, ns, name)!r}, want "
                             f"{expected!r}")


def status_puts(api, ns=None, name=None):
    """PUTs to the status subresource the stand-in has seen."""
    suffix = "/status" if name is None else f"/{name}/status"
    return [r for r in api.requests() if r["method"] == "PUT"
            and r["target"].startswith("/apis/networking.k8s.io/v1/")
            and r["target"].endswith(suffix)
            and (ns is None or f"/namespaces/{ns}/" in r["target"])]


def edit(api, kind, ns, name, change):
    """Read-modify-write of an object, keeping its status; retried on
    conflicts with the controller's own writes."""
    for _ in range(20):
        obj = api.get(kind, ns, name)
        change(obj)
        try:
            return api.update(obj)
        except ApiError as e:
            if e.code != 409:
                raise
            time.sleep(0.05)
    raise AssertionError(f"cannot update {kind} {ns}/{name}")


def events_for(api, ns, name, reason=None):
    return [e for e in api.objects("events", namespace=ns)
            if e.get("involvedObject", {}).get("name") == name
            and (reason is None or e.get("reason") == reason)]


def wait_event(api, ns, name, reason, deadline=30.0, count=1):
    def found():
        evs = events_for(api, ns, name, reason)
        return evs if evs and evs[0].get("count", 0) >= count else None
    return wait_for(found, f"{reason} event on {ns}/{name} with count "
                    f">= {count}", deadline)


def lease(api, ns=LEASE_NS, name=LEASE_NAME):
    try:
        return api.get("leases", ns, name)
    except ApiError as e:
        if e.code == 404:
            return None
        raise


def holder(api, ns=LEASE_NS, name=LEASE_NAME):
    obj = lease(api, ns, name)
    return (obj or {}).get("spec", {}).get("holderIdentity") or ""

