"""kubectl against the stand-in over TLS: create, replace, apply, label,
status patch, delete, get (tables and JSON) and get -w."""

import json
import os
import shutil
import subprocess
import time

import pytest
import yaml

from manifests import ingress

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl is not installed (Debian 12 images "
    "here ship /usr/bin/kubectl); the kubectl tests need it")


@pytest.fixture
def kube(tls_standin, tmp_path):
    kubeconfig = tls_standin.write_kubeconfig(str(tmp_path / "kubeconfig"))
    env = dict(os.environ, KUBECONFIG=kubeconfig, HOME=str(tmp_path))

    def run(*args, check=True):
        proc = subprocess.run(
            [KUBECTL, "--cache-dir", str(tmp_path / "cache"), *args],
            env=env, capture_output=True, text=True, timeout=30)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: "
                                 f"{proc.stderr}")
        return proc

    run.env = env
    run.tmp = tmp_path
    return run


def manifest(tmp_path, name, obj):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(obj))
    return str(path)


def test_create_replace_get_delete(tls_standin, kube):
    first = manifest(kube.tmp, "web.yaml", ingress("web"))
    assert kube("create", "-f", first).stdout.strip() == \
        "ingress.networking.k8s.io/web created"
    assert tls_standin.get("ingresses", "default", "web")["spec"]["rules"][
        0]["host"] == "shop.example.com"
    changed = manifest(kube.tmp, "web2.yaml",
                       ingress("web", host="new.example.com"))
    assert kube("replace", "-f", changed).stdout.strip() == \
        "ingress.networking.k8s.io/web replaced"
    assert tls_standin.get("ingresses", "default", "web")["spec"]["rules"][
        0]["host"] == "new.example.com"
    table = kube("get", "ingress").stdout.splitlines()
    assert table[0].split() == ["NAME", "CLASS", "HOSTS", "ADDRESS",
                                "PORTS", "AGE"]
    assert table[1].split()[:4] == ["web", "shmingress", "new.example.com",
                                    "80"]
    listed = json.loads(kube("get", "ingress", "-o", "json").stdout)
    assert listed["kind"] == "List"
    assert [(i["kind"], i["metadata"]["name"]) for i in listed["items"]] == \
        [("Ingress", "web")]
    one = json.loads(kube("get", "ingress", "web", "-o", "json").stdout)
    assert one["metadata"]["generation"] == 2
    assert kube("delete", "ingress", "web").stdout.strip() == \
        'ingress.networking.k8s.io "web" deleted'
    assert tls_standin.objects("ingresses") == []
    missing = kube("get", "ingress", "web", check=False)
    assert missing.returncode != 0
    assert 'ingresses.networking.k8s.io "web" not found' in missing.stderr


def test_apply_label_annotate_and_status_patch(tls_standin, kube):
    path = manifest(kube.tmp, "web.yaml", ingress("web"))
    assert "created" in kube("apply", "-f", path).stdout
    changed = manifest(kube.tmp, "web.yaml",
                       ingress("web", host="applied.example.com"))
    assert "configured" in kube("apply", "-f", changed).stdout
    kube("label", "ingress", "web", "tier=front")
    kube("annotate", "ingress", "web", "example.com/note=x")
    kube("patch", "ingress", "web", "--subresource=status", "--type=merge",
         "-p", '{"status":{"loadBalancer":{"ingress":'
               '[{"ip":"203.0.113.10"}]}}}')
    obj = tls_standin.get("ingresses", "default", "web")
    assert obj["spec"]["rules"][0]["host"] == "applied.example.com"
    assert obj["metadata"]["labels"] == {"tier": "front"}
    assert obj["metadata"]["annotations"]["example.com/note"] == "x"
    assert obj["status"]["loadBalancer"]["ingress"] == [{"ip": "203.0.113.10"}]
    row = kube("get", "ingress", "web", "--no-headers").stdout.split()
    assert row[:4] == ["web", "shmingress", "applied.example.com",
                       "203.0.113.10"]


def test_get_watch_prints_rows_for_changes(tls_standin, kube):
    tls_standin.create(ingress("web"))
    watcher = subprocess.Popen(
        [KUBECTL, "--cache-dir", str(kube.tmp / "cache"), "get", "ingress",
         "-w", "--request-timeout=0"], env=kube.env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert tls_standin.wait_for_watches(1, "ingresses", timeout=20)
        tls_standin.update(ingress("web", host="changed.example.com"))
        tls_standin.create(ingress("api", host="api.example.com"))
        tls_standin.delete("ingresses", "default", "web")
        rows = []
        deadline = time.monotonic() + 20
        while len(rows) < 5 and time.monotonic() < deadline:
            line = watcher.stdout.readline()
            if line:
                rows.append(line.split())
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)
    assert rows[0][:2] == ["NAME", "CLASS"]
    assert [r[:3] for r in rows[1:]] == [
        ["web", "shmingress", "shop.example.com"],
        ["web", "shmingress", "changed.example.com"],
        ["api", "shmingress", "api.example.com"],
        ["web", "shmingress", "changed.example.com"]]


def test_other_kinds_print_tables(tls_standin, kube):
    objs = [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": "shop"}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "api", "namespace": "shop"},
         "spec": {"clusterIP": "10.96.0.10",
                  "ports": [{"port": 80, "protocol": "TCP"}]}},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": {"name": "api-1", "namespace": "shop"},
         "addressType": "IPv4",
         "endpoints": [{"addresses": ["10.244.1.7"]}],
         "ports": [{"port": 8080}]},
        {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
         "metadata": {"name": "shmingress"},
         "spec": {"controller": "shmingress.io/controller"}},
    ]
    path = kube.tmp / "all.yaml"
    path.write_text(yaml.safe_dump_all(objs))
    assert kube("create", "-f", str(path)).stdout.count("created") == 4
    out = kube("get", "svc,endpointslices,ingressclass", "-n", "shop",
               "--no-headers").stdout.splitlines()
    assert out[0].split()[:5] == ["service/api", "ClusterIP", "10.96.0.10",
                                  "<none>", "80/TCP"]
    assert out[1].split()[:4] == ["endpointslice.discovery.k8s.io/api-1",
                                  "IPv4", "8080", "10.244.1.7"]
    assert out[2].split()[:2] == ["ingressclass.networking.k8s.io/shmingress",
                                  "shmingress.io/controller"]


def test_rotated_token_is_refused(tls_standin, kube):
    tls_standin.rotate_token("new-token")
    proc = kube("get", "ingress", check=False)
    assert proc.returncode != 0
    assert "You must be logged in to the server" in proc.stderr


def test_generator_commands_send_protobuf_and_are_refused(kube):
    proc = kube("create", "configmap", "cfg", "--from-literal=a=b",
                check=False)
    assert proc.returncode != 0
    assert "application/vnd.kubernetes.protobuf" in proc.stderr
