"""The in-process API controller tests use for seeding and inspection, at
benchmark scale, and the command-line program."""

import json
import os
import subprocess
import sys
import time

import pytest

from kube_standin import ApiError
from manifests import CM, ING, configmap, ingress
from standin_client import Client

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.join(os.path.dirname(HERE), "kube_standin.py")


def service(i):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": f"svc-{i}", "namespace": f"ns-{i % 100}"},
            "spec": {"ports": [{"name": "http", "port": 80,
                                "targetPort": 8080}]}}


def slice_of(i, endpoints):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"svc-{i}-abc", "namespace": f"ns-{i % 100}",
                         "labels": {"kubernetes.io/service-name":
                                    f"svc-{i}"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [f"10.{i // 250}.{i % 250}.{j}"],
                           "conditions": {"ready": True}}
                          for j in range(endpoints)],
            "ports": [{"name": "http", "port": 8080}]}


def test_object_api(standin, client):
    made = standin.create(ingress("web"))
    assert made["kind"] == "Ingress"
    assert made["metadata"]["resourceVersion"] == standin.resource_version
    assert client.get(f"{ING}/web").json == made
    with_status = dict(made, status={"loadBalancer": {"ingress": [
        {"ip": "192.0.2.1"}]}})
    updated = standin.update(with_status)
    assert updated["status"] == with_status["status"]
    with pytest.raises(ApiError) as stale:
        standin.update(made)
    assert stale.value.code == 409
    with pytest.raises(ApiError) as missing:
        standin.update(ingress("nope"))
    assert missing.value.code == 404
    assert standin.apply(ingress("web", host="x.example.com"))["spec"][
        "rules"][0]["host"] == "x.example.com"
    assert standin.get("ing", "default", "web")["metadata"]["uid"] == \
        made["metadata"]["uid"]
    assert [o["metadata"]["name"] for o in standin.objects("Ingress")] == \
        ["web"]
    standin.delete("ingresses", "default", "web")
    assert standin.objects("ingresses") == []


def test_in_process_writes_reach_watchers(standin, client):
    with client.watch(CM, resourceVersion=standin.resource_version) as w:
        standin.load([configmap("a"), configmap("b")])
        standin.delete("configmaps", "default", "a")
        assert [(e["type"], e["object"]["metadata"]["name"])
                for e in w.events(3)] == [
            ("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a")]


def test_benchmark_scale_seeding_and_listing(standin, client):
    started = time.monotonic()
    count = standin.load(
        [ingress(f"ing-{i}", namespace=f"ns-{i % 100}",
                 host=f"h{i}.example.com", service=f"svc-{i}")
         for i in range(10000)]
        + [service(i) for i in range(10000)]
        + [slice_of(i, 100) for i in range(1000)])
    assert count == 21000
    loaded = time.monotonic() - started
    started = time.monotonic()
    total, token, pages = 0, None, 0
    while True:
        query = {"limit": 500}
        if token:
            query["continue"] = token
        page = client.get("/apis/networking.k8s.io/v1/ingresses",
                          query=query).json
        total += len(page["items"])
        pages += 1
        token = page["metadata"].get("continue")
        if not token:
            break
    slices = client.get("/apis/discovery.k8s.io/v1/endpointslices").json
    listed = time.monotonic() - started
    assert (total, pages) == (10000, 20)
    assert sum(len(s["endpoints"]) for s in slices["items"]) == 100000
    # Generous bounds: the point is "seconds, not minutes" on 2 cores.
    assert loaded < 15 and listed < 15


def test_command_line_program(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("apiVersion: v1\nkind: ConfigMap\n"
                    "metadata: {name: seeded, namespace: default}\n"
                    "data: {a: b}\n---\n"
                    "apiVersion: v1\nkind: List\nitems:\n"
                    "- {apiVersion: v1, kind: ConfigMap, "
                    "metadata: {name: listed}}\n")
    kubeconfig = tmp_path / "kc"
    proc = subprocess.Popen(
        [sys.executable, PROGRAM, "--port", "0", "--tls",
         "--cert-dir", str(tmp_path / "tls"), "--token", "t0",
         "--grant", "viewer:ro:get,list,watch:*",
         "--kubeconfig-out", str(kubeconfig), "--load", str(seed),
         "--bookmark-interval", "0.2"],
        stdout=subprocess.PIPE, text=True)
    try:
        ready = json.loads(proc.stdout.readline())
        assert ready["event"] == "ready" and ready["objects"] == 2
        assert ready["url"] == f"https://127.0.0.1:{ready['port']}"
        assert kubeconfig.exists()
        client = Client(ready["url"], "t0", ca_file=ready["ca"])
        names = [i["metadata"]["name"] for i in client.get(CM).json["items"]]
        assert names == ["listed", "seeded"]
        assert client.post(CM, configmap("x"), token="ro").status == 403
        with client.watch(CM, resourceVersion=client.get(CM).json[
                "metadata"]["resourceVersion"],
                allowWatchBookmarks="true") as w:
            assert w.next()["type"] == "BOOKMARK"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
