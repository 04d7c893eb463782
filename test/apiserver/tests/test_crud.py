"""Single-object verbs through HTTP: create, get, update, patch, status,
delete, and the write rules of the real server."""

import copy

from manifests import CM, ING, LEASES, configmap, ingress


def test_create_sets_server_fields_and_get_returns_it(client):
    resp = client.post(ING, ingress("web"))
    assert resp.status == 201
    made = resp.json
    meta = made["metadata"]
    assert made["kind"] == "Ingress"
    assert made["apiVersion"] == "networking.k8s.io/v1"
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert meta["generation"] == 1
    assert isinstance(meta["resourceVersion"], str)
    got = client.get(f"{ING}/web")
    assert got.status == 200 and got.json == made


def test_create_twice_is_409_already_exists(client):
    assert client.post(ING, ingress("web")).status == 201
    again = client.post(ING, ingress("web"))
    assert again.status == 409
    assert again.json["reason"] == "AlreadyExists"
    assert again.json["message"] == \
        'ingresses.networking.k8s.io "web" already exists'
    assert again.json["details"] == {"group": "networking.k8s.io",
                                     "kind": "ingresses", "name": "web"}


def test_create_rejects_bad_names_namespaces_and_resource_version(client):
    bad = client.post(ING, ingress("Web_1"))
    assert bad.status == 422 and bad.json["reason"] == "Invalid"
    assert "metadata.name" in bad.json["message"]
    assert "Web_1" in bad.json["message"]
    other_ns = client.post(ING, ingress("web", namespace="shop"))
    assert other_ns.status == 400
    with_rv = ingress("web")
    with_rv["metadata"]["resourceVersion"] = "5"
    assert client.post(ING, with_rv).status == 500
    wrong_kind = configmap("web")
    assert client.post(ING, wrong_kind).status == 400
    garbage = client.post(ING, b"{not json")
    assert garbage.status == 400 and garbage.json["kind"] == "Status"


def test_generate_name(client):
    obj = ingress("x")
    del obj["metadata"]["name"]
    obj["metadata"]["generateName"] = "web-"
    made = client.post(ING, obj).json
    assert made["metadata"]["name"].startswith("web-")
    assert len(made["metadata"]["name"]) == len("web-") + 5


def test_create_clears_status_of_kinds_with_status_subresource(client):
    obj = ingress("web")
    obj["status"] = {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}
    assert "status" not in client.post(ING, obj).json


def test_update_conflicts_on_stale_resource_version(client):
    made = client.post(ING, ingress("web")).json
    first = copy.deepcopy(made)
    first["spec"]["rules"][0]["host"] = "a.example.com"
    updated = client.put(f"{ING}/web", first)
    assert updated.status == 200
    assert updated.json["metadata"]["resourceVersion"] != \
        made["metadata"]["resourceVersion"]
    stale = copy.deepcopy(made)
    stale["spec"]["rules"][0]["host"] = "b.example.com"
    resp = client.put(f"{ING}/web", stale)
    assert resp.status == 409
    assert resp.json["reason"] == "Conflict"
    assert "the object has been modified" in resp.json["message"]
    assert client.get(f"{ING}/web").json["spec"]["rules"][0]["host"] == \
        "a.example.com"


def test_update_without_resource_version_is_unconditional(client):
    client.post(ING, ingress("web"))
    resp = client.put(f"{ING}/web", ingress("web", host="c.example.com"))
    assert resp.status == 200
    assert resp.json["spec"]["rules"][0]["host"] == "c.example.com"


def test_update_of_missing_object_is_404_except_create_on_update_kinds(
        client):
    assert client.put(f"{ING}/nope", ingress("nope")).status == 404
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "leader", "namespace": "ctl"},
             "spec": {"holderIdentity": "a"}}
    assert client.put(f"{LEASES}/other", lease).status == 400
    assert client.put(f"{LEASES}/leader", lease).status == 201


def test_update_name_mismatch_is_400(client):
    client.post(ING, ingress("web"))
    assert client.put(f"{ING}/web", ingress("other")).status == 400


def test_generation_bumps_on_spec_change_only(client):
    made = client.post(ING, ingress("web")).json
    labelled = copy.deepcopy(made)
    labelled["metadata"]["labels"] = {"a": "b"}
    after_label = client.put(f"{ING}/web", labelled).json
    assert after_label["metadata"]["generation"] == 1
    changed = copy.deepcopy(after_label)
    changed["spec"]["ingressClassName"] = "other"
    assert client.put(f"{ING}/web", changed).json["metadata"][
        "generation"] == 2


def test_identical_update_keeps_resource_version(client):
    made = client.post(ING, ingress("web")).json
    same = client.put(f"{ING}/web", made).json
    assert same["metadata"]["resourceVersion"] == \
        made["metadata"]["resourceVersion"]


def test_merge_patch_adds_and_removes_fields(client):
    client.post(CM, configmap("cfg", data={"a": "1", "b": "2"}))
    resp = client.patch(f"{CM}/cfg", {"data": {"a": None, "c": "3"},
                                      "metadata": {"labels": {"x": "y"}}})
    assert resp.status == 200
    assert resp.json["data"] == {"b": "2", "c": "3"}
    assert resp.json["metadata"]["labels"] == {"x": "y"}


def test_merge_patch_with_stale_resource_version_conflicts(client):
    made = client.post(CM, configmap("cfg")).json
    client.patch(f"{CM}/cfg", {"data": {"k": "2"}})
    stale = {"metadata": {"resourceVersion":
                          made["metadata"]["resourceVersion"]},
             "data": {"k": "3"}}
    assert client.patch(f"{CM}/cfg", stale).status == 409


def test_strategic_merge_patch_merges_service_ports_by_port(client):
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "api", "namespace": "default"},
           "spec": {"ports": [{"name": "http", "port": 80},
                              {"name": "grpc", "port": 9090}]}}
    path = "/api/v1/namespaces/default/services"
    client.post(path, svc)
    patch = {"spec": {"$setElementOrder/ports": [{"port": 80},
                                                 {"port": 9090}],
                      "ports": [{"port": 80, "targetPort": 8080},
                                {"port": 9090, "$patch": "delete"}]}}
    resp = client.patch(f"{path}/api", patch,
                        content_type="application/strategic-merge-patch+json")
    assert resp.status == 200
    assert resp.json["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": 8080}]


def test_json_patch(client):
    client.post(CM, configmap("cfg", data={"a": "1"}))
    ops = [{"op": "add", "path": "/data/b", "value": "2"},
           {"op": "remove", "path": "/data/a"},
           {"op": "test", "path": "/data/b", "value": "2"}]
    resp = client.patch(f"{CM}/cfg", ops,
                        content_type="application/json-patch+json")
    assert resp.status == 200 and resp.json["data"] == {"b": "2"}
    failing = [{"op": "test", "path": "/data/b", "value": "9"}]
    assert client.patch(f"{CM}/cfg", failing,
                        content_type="application/json-patch+json"
                        ).status == 422


def test_unknown_patch_type_is_415(client):
    client.post(CM, configmap("cfg"))
    resp = client.patch(f"{CM}/cfg", {"data": {}},
                        content_type="application/apply-patch+yaml")
    assert resp.status == 415
    assert resp.json["reason"] == "UnsupportedMediaType"


def test_patch_of_missing_object_is_404(client):
    assert client.patch(f"{CM}/nope", {"data": {}}).status == 404


def test_status_subresource_changes_only_status(client):
    made = client.post(ING, ingress("web")).json
    body = copy.deepcopy(made)
    body["spec"]["ingressClassName"] = "ignored"
    body["metadata"]["labels"] = {"ignored": "yes"}
    body["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}
    resp = client.put(f"{ING}/web/status", body)
    assert resp.status == 200
    got = resp.json
    assert got["status"] == body["status"]
    assert got["spec"]["ingressClassName"] == "shmingress"
    assert "labels" not in got["metadata"]
    assert got["metadata"]["generation"] == 1
    patched = client.patch(f"{ING}/web/status", {"status": {"loadBalancer": {
        "ingress": [{"hostname": "lb.example.com"}]}}}).json
    assert patched["status"]["loadBalancer"]["ingress"] == [
        {"hostname": "lb.example.com"}]
    assert client.get(f"{ING}/web/status").json["status"] == \
        patched["status"]


def test_main_resource_update_ignores_status(client):
    made = client.post(ING, ingress("web")).json
    client.patch(f"{ING}/web/status", {"status": {"loadBalancer": {
        "ingress": [{"ip": "203.0.113.10"}]}}})
    body = ingress("web", host="new.example.com")
    body["status"] = {"loadBalancer": {"ingress": [{"ip": "198.51.100.1"}]}}
    got = client.put(f"{ING}/web", body).json
    assert got["status"]["loadBalancer"]["ingress"] == [
        {"ip": "203.0.113.10"}]
    assert got["metadata"]["uid"] == made["metadata"]["uid"]


def test_status_stale_resource_version_conflicts(client):
    made = client.post(ING, ingress("web")).json
    client.patch(f"{ING}/web", {"metadata": {"labels": {"a": "b"}}})
    made["status"] = {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}
    assert client.put(f"{ING}/web/status", made).status == 409


def test_status_subresource_only_where_the_kind_has_one(client):
    client.post(CM, configmap("cfg"))
    assert client.get(f"{CM}/cfg/status").status == 404


def test_immutable_fields(client):
    path = "/apis/networking.k8s.io/v1/ingressclasses"
    client.post(path, {"apiVersion": "networking.k8s.io/v1",
                       "kind": "IngressClass", "metadata": {"name": "c"},
                       "spec": {"controller": "shmingress.io/controller"}})
    resp = client.patch(f"{path}/c", {"spec": {"controller": "x.io/y"}})
    assert resp.status == 422
    assert "spec.controller" in resp.json["message"]


def test_delete_returns_status_and_object_is_gone(client):
    made = client.post(ING, ingress("web")).json
    resp = client.delete(f"{ING}/web")
    assert resp.status == 200
    assert resp.json["status"] == "Success"
    assert resp.json["details"]["uid"] == made["metadata"]["uid"]
    gone = client.get(f"{ING}/web")
    assert gone.status == 404
    assert gone.json["message"] == \
        'ingresses.networking.k8s.io "web" not found'
    assert client.delete(f"{ING}/web").status == 404


def test_delete_preconditions(client):
    client.post(ING, ingress("web"))
    resp = client.delete(f"{ING}/web", {"kind": "DeleteOptions",
                                        "apiVersion": "v1",
                                        "preconditions": {"uid": "other"}})
    assert resp.status == 409
    assert client.get(f"{ING}/web").status == 200


def test_dry_run_changes_nothing(client):
    resp = client.post(ING, ingress("web"), query={"dryRun": "All"})
    assert resp.status == 201
    assert client.get(f"{ING}/web").status == 404


def test_delete_collection_with_selector(client):
    client.post(CM, configmap("a", labels={"app": "x"}))
    client.post(CM, configmap("b", labels={"app": "y"}))
    resp = client.delete(CM, query={"labelSelector": "app=x"})
    assert [i["metadata"]["name"] for i in resp.json["items"]] == ["a"]
    names = [i["metadata"]["name"] for i in client.get(CM).json["items"]]
    assert names == ["b"]


def test_cluster_scoped_kinds_and_all_namespace_paths(client):
    ns = client.post("/api/v1/namespaces", {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "shop"}}).json
    assert "namespace" not in ns["metadata"]
    assert ns["status"] == {"phase": "Active"}
    assert client.get("/api/v1/namespaces/shop").status == 200
    client.post("/api/v1/namespaces/shop/configmaps",
                configmap("a", namespace="shop"))
    assert client.get("/api/v1/namespaces/shop/configmaps/a").status == 200
    assert client.post("/api/v1/configmaps", configmap("b")).status == 405


def test_yaml_bodies_are_accepted(client):
    body = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\n" \
           b"data: {a: b}\n"
    resp = client.post(CM, body, content_type="application/yaml")
    assert resp.status == 201 and resp.json["data"] == {"a": "b"}


def test_events_can_be_created_and_listed(client):
    path = "/api/v1/namespaces/shop/events"
    event = {"apiVersion": "v1", "kind": "Event",
             "metadata": {"name": "web.1", "namespace": "shop"},
             "involvedObject": {"kind": "Ingress", "name": "web",
                                "namespace": "shop"},
             "reason": "Sync", "message": "synced", "type": "Normal"}
    assert client.post(path, event).status == 201
    listed = client.get(path, query={
        "fieldSelector": "involvedObject.name=web,reason=Sync"}).json
    assert [e["metadata"]["name"] for e in listed["items"]] == ["web.1"]


def test_lease_election_round_trip(client):
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "leader", "namespace": "ctl"},
             "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15,
                      "renewTime": "2025-01-01T10:00:00.000000Z"}}
    assert client.get(f"{LEASES}/leader").status == 404
    made = client.post(LEASES, lease).json
    assert client.post(LEASES, lease).status == 409
    renew = copy.deepcopy(made)
    renew["spec"]["renewTime"] = "2025-01-01T10:00:02.000000Z"
    renewed = client.put(f"{LEASES}/leader", renew)
    assert renewed.status == 200
    steal = copy.deepcopy(made)
    steal["spec"]["holderIdentity"] = "b"
    assert client.put(f"{LEASES}/leader", steal).status == 409
    assert client.get(f"{LEASES}/leader").json["spec"]["holderIdentity"] == "a"
