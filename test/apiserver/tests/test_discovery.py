"""Discovery documents kubectl and client-go read before anything else."""


def test_version_and_health_need_no_token(standin, client):
    version = client.get("/version", token="")
    assert version.status == 200
    assert version.json["major"] == "1"
    assert client.get("/healthz", token="").body == b"ok"
    assert client.get("/readyz", token="").status == 200


def test_core_and_group_lists(client):
    api = client.get("/api").json
    assert api["kind"] == "APIVersions" and api["versions"] == ["v1"]
    groups = {g["name"]: g for g in client.get("/apis").json["groups"]}
    assert set(groups) == {"networking.k8s.io", "discovery.k8s.io",
                           "coordination.k8s.io"}
    assert groups["networking.k8s.io"]["preferredVersion"] == {
        "groupVersion": "networking.k8s.io/v1", "version": "v1"}
    group = client.get("/apis/networking.k8s.io").json
    assert group["kind"] == "APIGroup"


def test_resource_lists_describe_kinds_scope_and_verbs(client):
    net = client.get("/apis/networking.k8s.io/v1").json
    by_name = {r["name"]: r for r in net["resources"]}
    ing = by_name["ingresses"]
    assert ing["kind"] == "Ingress" and ing["namespaced"] is True
    assert ing["shortNames"] == ["ing"]
    assert {"create", "delete", "get", "list", "patch", "update",
            "watch"} <= set(ing["verbs"])
    assert by_name["ingresses/status"]["verbs"] == ["get", "patch", "update"]
    assert by_name["ingressclasses"]["namespaced"] is False
    core = {r["name"]: r for r in client.get("/api/v1").json["resources"]}
    assert {"namespaces", "services", "secrets", "configmaps", "events",
            "endpoints", "pods"} <= set(core)
    assert core["namespaces"]["namespaced"] is False
    slices = client.get("/apis/discovery.k8s.io/v1").json["resources"]
    assert slices[0]["kind"] == "EndpointSlice"
    leases = client.get("/apis/coordination.k8s.io/v1").json["resources"]
    assert leases[0]["kind"] == "Lease"


def test_unknown_paths_are_404_status(client):
    for path in ("/apis/example.com/v1", "/apis/networking.k8s.io/v2",
                 "/api/v1/namespaces/default/widgets", "/nothing"):
        resp = client.get(path)
        assert resp.status == 404, path
        assert resp.json["kind"] == "Status"
        assert resp.json["reason"] == "NotFound"


def test_openapi_v3_declares_field_validation_on_patch(client):
    root = client.get("/openapi/v3").json
    url = root["paths"]["apis/networking.k8s.io/v1"]["serverRelativeURL"]
    doc = client.get(url).json
    patch = doc["paths"][
        "/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/{name}"
    ]["patch"]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "Ingress"
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
