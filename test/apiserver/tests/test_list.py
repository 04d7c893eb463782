"""Lists: shape, resourceVersion semantics, paging with continue, and label
and field selectors."""

import gzip
import json

from manifests import ALL_ING, CM, ING, configmap, ingress


def names(resp):
    return [i["metadata"]["name"] for i in resp.json["items"]]


def test_list_shape_and_resource_version(standin, client):
    client.post(ING, ingress("b"))
    client.post("/apis/networking.k8s.io/v1/namespaces/shop/ingresses",
                ingress("a", namespace="shop"))
    resp = client.get(ALL_ING)
    doc = resp.json
    assert doc["kind"] == "IngressList"
    assert doc["apiVersion"] == "networking.k8s.io/v1"
    assert doc["metadata"]["resourceVersion"] == standin.resource_version
    # Items are in key order (namespace, name) and, like the real server's,
    # carry no kind/apiVersion.
    assert [(i["metadata"]["namespace"], i["metadata"]["name"])
            for i in doc["items"]] == [("default", "b"), ("shop", "a")]
    assert "kind" not in doc["items"][0]
    assert names(client.get(ING)) == ["b"]


def test_resource_version_is_global_across_kinds(client):
    a = client.post(ING, ingress("a")).json["metadata"]["resourceVersion"]
    b = client.post(CM, configmap("b")).json["metadata"]["resourceVersion"]
    assert int(b) == int(a) + 1
    assert client.get(CM).json["metadata"]["resourceVersion"] == b


def test_paging_is_a_consistent_snapshot(standin, client):
    for i in range(25):
        client.post(CM, configmap(f"cm-{i:02d}"))
    first = client.get(CM, query={"limit": 10}).json
    rv = first["metadata"]["resourceVersion"]
    assert len(first["items"]) == 10
    assert first["metadata"]["remainingItemCount"] == 15
    client.delete(f"{CM}/cm-20")
    client.post(CM, configmap("cm-99"))
    seen = [i["metadata"]["name"] for i in first["items"]]
    token = first["metadata"]["continue"]
    while token:
        page = client.get(CM, query={"limit": 10, "continue": token}).json
        assert page["metadata"]["resourceVersion"] == rv
        seen += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue")
    assert seen == [f"cm-{i:02d}" for i in range(25)]


def test_expired_continue_is_410_and_garbage_is_400(standin, client):
    for i in range(5):
        client.post(CM, configmap(f"cm-{i}"))
    first = client.get(CM, query={"limit": 2}).json
    client.post(CM, configmap("later"))
    standin.compact()
    resp = client.get(CM, query={"limit": 2,
                                 "continue": first["metadata"]["continue"]})
    assert resp.status == 410
    assert resp.json["reason"] == "Expired"
    assert client.get(CM, query={"continue": "nonsense"}).status == 400


def test_continue_with_resource_version_is_400(client):
    for i in range(3):
        client.post(CM, configmap(f"cm-{i}"))
    first = client.get(CM, query={"limit": 1}).json
    resp = client.get(CM, query={"limit": 1, "resourceVersion": "1",
                                 "continue": first["metadata"]["continue"]})
    assert resp.status == 400


def test_resource_version_match_rules(client):
    made = client.post(CM, configmap("a")).json
    rv = made["metadata"]["resourceVersion"]
    client.patch(f"{CM}/a", {"data": {"k": "new"}})
    exact = client.get(CM, query={"resourceVersion": rv,
                                  "resourceVersionMatch": "Exact"}).json
    assert exact["metadata"]["resourceVersion"] == rv
    assert exact["items"][0]["data"] == {"k": "v"}
    newer = client.get(CM, query={"resourceVersion": rv,
                                  "resourceVersionMatch": "NotOlderThan"})
    assert newer.json["items"][0]["data"] == {"k": "new"}
    assert client.get(CM, query={"resourceVersionMatch": "Exact"}
                      ).status == 422
    assert client.get(CM, query={"resourceVersion": "0",
                                 "resourceVersionMatch": "Exact"}
                      ).status == 422
    assert client.get(CM, query={"sendInitialEvents": "true"}).status == 422


def test_exact_list_of_compacted_version_is_410(standin, client):
    rv = client.post(CM, configmap("a")).json["metadata"]["resourceVersion"]
    client.post(CM, configmap("b"))
    standin.compact()
    resp = client.get(CM, query={"resourceVersion": rv,
                                 "resourceVersionMatch": "Exact"})
    assert resp.status == 410 and resp.json["reason"] == "Expired"


def test_too_large_resource_version_is_504(standin, client):
    standin.store.too_large_wait = 0.2
    resp = client.get(CM, query={"resourceVersion": "999999"})
    assert resp.status == 504
    assert resp.json["details"]["causes"][0]["reason"] == \
        "ResourceVersionTooLarge"
    assert resp.headers["Retry-After"] == "1"


def test_resource_version_zero_may_ignore_limit(standin, client):
    for i in range(4):
        client.post(CM, configmap(f"cm-{i}"))
    assert len(client.get(CM, query={"resourceVersion": "0", "limit": 2}
                          ).json["items"]) == 2
    standin.set(rv0_ignores_limit=True)
    assert len(client.get(CM, query={"resourceVersion": "0", "limit": 2}
                          ).json["items"]) == 4


def test_label_selectors(client):
    client.post(CM, configmap("a", labels={"app": "web", "tier": "front"}))
    client.post(CM, configmap("b", labels={"app": "api"}))
    client.post(CM, configmap("c"))
    cases = {
        "app=web": ["a"], "app==api": ["b"], "app!=web": ["b", "c"],
        "app": ["a", "b"], "!app": ["c"], "app in (web,api)": ["a", "b"],
        "app notin (web)": ["b", "c"], "app,tier=front": ["a"],
    }
    for selector, want in cases.items():
        got = names(client.get(CM, query={"labelSelector": selector}))
        assert got == want, selector
    bad = client.get(CM, query={"labelSelector": "app in ()"})
    assert bad.status == 400 and bad.json["reason"] == "BadRequest"


def test_field_selectors(client):
    client.post(CM, configmap("a"))
    client.post(CM, configmap("b"))
    client.post("/api/v1/namespaces/shop/configmaps",
                configmap("a", namespace="shop"))
    assert names(client.get(CM, query={"fieldSelector": "metadata.name=a"})
                 ) == ["a"]
    got = client.get("/api/v1/configmaps",
                     query={"fieldSelector": "metadata.namespace!=default"})
    assert [i["metadata"]["namespace"] for i in got.json["items"]] == ["shop"]
    bad = client.get(CM, query={"fieldSelector": "spec.nothing=x"})
    assert bad.status == 400
    assert "spec.nothing" in bad.json["message"]


def test_secret_type_field_selector(client):
    path = "/api/v1/namespaces/default/secrets"
    for name, type_ in (("tls", "kubernetes.io/tls"), ("auth", "Opaque")):
        client.post(path, {"apiVersion": "v1", "kind": "Secret",
                           "metadata": {"name": name}, "type": type_,
                           "data": {}})
    got = client.get(path, query={"fieldSelector": "type=kubernetes.io/tls"})
    assert names(got) == ["tls"]


def test_large_lists_are_gzipped_for_clients_that_accept_it(standin, client):
    standin.load([configmap(f"cm-{i:05d}", data={"pad": "x" * 200})
                  for i in range(1000)])
    resp = client.get(CM, headers={"Accept-Encoding": "gzip"})
    assert resp.headers.get("Content-Encoding") == "gzip"
    assert len(json.loads(gzip.decompress(resp.body))["items"]) == 1000
    assert "Content-Encoding" not in client.get(CM).headers
