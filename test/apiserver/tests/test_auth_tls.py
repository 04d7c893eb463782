"""Bearer tokens, RBAC answers, token rotation, TLS with the generated CA,
and the kubeconfig the stand-in writes."""

import base64
import ssl

import pytest
import yaml

from manifests import CM, ING, configmap, ingress
from standin_client import Client


def test_missing_or_unknown_token_is_401_status(standin, client):
    for token in ("", "wrong"):
        resp = client.get(CM, token=token)
        assert resp.status == 401
        assert resp.json == {"kind": "Status", "apiVersion": "v1",
                             "metadata": {}, "status": "Failure",
                             "message": "Unauthorized",
                             "reason": "Unauthorized", "code": 401}
    assert client.get("/apis", token="").status == 401


def test_read_only_token_gets_403_on_writes(standin, client):
    standin.add_token("ro", "system:serviceaccount:ctl:viewer")
    assert client.get(ING, token="ro").status == 200
    resp = client.post(ING, ingress("web"), token="ro")
    assert resp.status == 403
    assert resp.json["reason"] == "Forbidden"
    assert resp.json["message"] == (
        'ingresses.networking.k8s.io is forbidden: User '
        '"system:serviceaccount:ctl:viewer" cannot create resource '
        '"ingresses" in API group "networking.k8s.io" in the namespace '
        '"default"')
    all_ns = client.get("/apis/networking.k8s.io/v1/ingresses", token="ro")
    assert all_ns.status == 200


def test_rules_separate_the_status_subresource(standin, client):
    client.post(ING, ingress("web"))
    standin.add_token("ctl", "controller", [
        ("get,list,watch", "ingresses"), ("update", "ingresses/status")])
    body = client.get(f"{ING}/web").json
    body["status"] = {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}
    assert client.put(f"{ING}/web/status", body, token="ctl").status == 200
    denied = client.put(f"{ING}/web", body, token="ctl")
    assert denied.status == 403
    assert 'cannot update resource "ingresses"' in denied.json["message"]
    assert '"web" is forbidden' in denied.json["message"]
    patch = client.patch(f"{ING}/web/status", {"status": {}}, token="ctl")
    assert patch.status == 403
    assert client.get(CM, token="ctl").status == 403


def test_token_rotation(standin, client):
    old = standin.token
    standin.rotate_token("fresh")
    assert client.get(CM, token=old).status == 401
    assert client.get(CM, token="fresh").status == 200
    standin.rotate_token("fresher", keep_old=True)
    assert client.get(CM, token="fresh").status == 200
    assert client.get(CM, token="fresher").status == 200


def test_running_watch_survives_rotation(standin, client):
    with client.watch(CM) as w:
        standin.rotate_token("fresh")
        Client(standin.url, "fresh").post(CM, configmap("a"))
        assert w.next()["object"]["metadata"]["name"] == "a"


def test_tls_with_generated_ca(tls_standin):
    assert tls_standin.url.startswith("https://127.0.0.1:")
    client = Client(tls_standin.url, tls_standin.token,
                    ca_file=tls_standin.ca_file)
    assert client.get(CM).status == 200
    by_name = Client(tls_standin.url.replace("127.0.0.1", "localhost"),
                     tls_standin.token, ca_file=tls_standin.ca_file)
    assert by_name.get("/version").status == 200
    untrusting = Client(tls_standin.url, tls_standin.token)
    with pytest.raises(ssl.SSLCertVerificationError):
        untrusting.get("/version")


def test_tls_restart_keeps_the_certificate(tls_standin):
    with open(tls_standin.ca_file, "rb") as f:
        before = f.read()
    tls_standin.restart()
    with open(tls_standin.ca_file, "rb") as f:
        assert f.read() == before
    client = Client(tls_standin.url, tls_standin.token,
                    ca_file=tls_standin.ca_file)
    assert client.get(CM).status == 200


def test_kubeconfig(tls_standin, tmp_path):
    path = tls_standin.write_kubeconfig(str(tmp_path / "kc"))
    with open(path) as f:
        doc = yaml.safe_load(f)
    assert doc["current-context"] == "standin"
    cluster = doc["clusters"][0]["cluster"]
    assert cluster["server"] == tls_standin.url
    with open(tls_standin.ca_file, "rb") as f:
        assert base64.b64decode(cluster["certificate-authority-data"]) == \
            f.read()
    assert doc["users"][0]["user"] == {"token": tls_standin.token}
    files = tls_standin.write_kubeconfig(str(tmp_path / "kc2"),
                                         ca_inline=False,
                                         token_file="/run/token")
    with open(files) as f:
        doc = yaml.safe_load(f)
    assert doc["clusters"][0]["cluster"]["certificate-authority"] == \
        tls_standin.ca_file
    assert doc["users"][0]["user"] == {"tokenFile": "/run/token"}
