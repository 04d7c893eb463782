"""Watch streams: framing, event order and resourceVersions, initial state,
bookmarks, 410 after compaction, timeouts, selectors, Table output."""

import time

from manifests import CM, ING, configmap, ingress


def rv_of(obj):
    return obj["metadata"]["resourceVersion"]


def test_watch_from_rv_sees_changes_in_order(standin, client):
    start = client.get(CM).json["metadata"]["resourceVersion"]
    with client.watch(CM, resourceVersion=start) as w:
        assert w.status == 200
        assert w.resp.getheader("Transfer-Encoding") == "chunked"
        assert w.resp.getheader("Content-Type") == "application/json"
        made = client.post(CM, configmap("a")).json
        changed = client.patch(f"{CM}/a", {"data": {"k": "2"}}).json
        client.delete(f"{CM}/a")
        added, modified, deleted = w.events(3)
    assert added["type"] == "ADDED" and added["object"] == made
    assert modified["type"] == "MODIFIED" and modified["object"] == changed
    assert deleted["type"] == "DELETED"
    assert deleted["object"]["kind"] == "ConfigMap"
    assert deleted["object"]["data"] == {"k": "2"}
    # DELETED carries the last state with the deletion's resourceVersion.
    assert int(rv_of(deleted["object"])) > int(rv_of(changed))
    assert rv_of(deleted["object"]) == standin.resource_version


def test_watch_replays_history_after_rv(client):
    start = client.get(CM).json["metadata"]["resourceVersion"]
    client.post(CM, configmap("a"))
    client.post(CM, configmap("b"))
    with client.watch(CM, resourceVersion=start) as w:
        assert [e["object"]["metadata"]["name"] for e in w.events(2)] == \
            ["a", "b"]


def test_watch_without_rv_starts_with_synthetic_added(client):
    client.post(CM, configmap("a"))
    client.post(CM, configmap("b"))
    with client.watch(CM) as w:
        first = w.events(2)
        client.post(CM, configmap("c"))
        third = w.next()
    assert [e["type"] for e in first] == ["ADDED", "ADDED"]
    assert [e["object"]["metadata"]["name"] for e in first + [third]] == \
        ["a", "b", "c"]


def test_watch_only_sees_its_kind_and_namespace(client):
    start = client.get(CM).json["metadata"]["resourceVersion"]
    with client.watch(CM, resourceVersion=start) as w:
        client.post(ING, ingress("web"))
        client.post("/api/v1/namespaces/shop/configmaps",
                    configmap("other", namespace="shop"))
        client.post(CM, configmap("mine"))
        event = w.next()
    assert event["object"]["metadata"]["name"] == "mine"


def test_bookmarks_carry_only_the_resource_version(standin, client):
    standin.set(bookmark_interval=0.2)
    start = client.get(CM).json["metadata"]["resourceVersion"]
    with client.watch(CM, resourceVersion=start,
                      allowWatchBookmarks="true") as w:
        made = client.post(CM, configmap("a")).json
        assert w.next()["type"] == "ADDED"
        client.post(ING, ingress("web"))
        bookmark = w.next()
    assert bookmark == {"type": "BOOKMARK", "object": {
        "kind": "ConfigMap", "apiVersion": "v1",
        "metadata": {"resourceVersion": standin.resource_version}}}
    assert int(standin.resource_version) > int(rv_of(made))


def test_no_bookmarks_unless_asked(standin, client):
    standin.set(bookmark_interval=0.1)
    with client.watch(CM, timeoutSeconds="1") as w:
        assert w.next() is None


def test_watch_from_compacted_rv_gets_410_error_event(standin, client):
    old = rv_of(client.post(CM, configmap("a")).json)
    client.post(CM, configmap("b"))
    standin.compact()
    with client.watch(CM, resourceVersion=old) as w:
        assert w.status == 200
        error = w.next()
        assert w.next() is None
    assert error["type"] == "ERROR"
    status = error["object"]
    assert status["kind"] == "Status" and status["code"] == 410
    assert status["reason"] == "Expired"
    assert status["message"] == \
        f"too old resource version: {old} ({standin.resource_version})"


def test_history_window_is_bounded(client):
    from kube_standin import StandIn
    from standin_client import Client
    with StandIn(history=5) as small:
        c = Client(small.url, small.token)
        first = rv_of(c.post(CM, configmap("a")).json)
        for i in range(6):
            c.post(CM, configmap(f"n{i}"))
        with c.watch(CM, resourceVersion=first) as w:
            assert w.next()["object"]["code"] == 410
        recent = str(int(small.resource_version) - 5)
        with c.watch(CM, resourceVersion=recent, timeoutSeconds="1") as w:
            assert len(w.events(5)) == 5


def test_expired_watch_can_be_http_410(standin, client):
    old = rv_of(client.post(CM, configmap("a")).json)
    client.post(CM, configmap("b"))
    standin.compact()
    standin.set(expired_as_http=True)
    resp = client.get(CM, query={"watch": "1", "resourceVersion": old})
    assert resp.status == 410 and resp.json["reason"] == "Expired"


def test_timeout_seconds_ends_the_stream_cleanly(client):
    started = time.monotonic()
    with client.watch(CM, timeoutSeconds="1") as w:
        assert w.next() is None
    assert 0.9 <= time.monotonic() - started < 3


def test_selector_transitions_become_added_and_deleted(client):
    client.post(CM, configmap("a", labels={"app": "web"}))
    start = client.get(CM).json["metadata"]["resourceVersion"]
    with client.watch(CM, resourceVersion=start,
                      labelSelector="app=web") as w:
        client.patch(f"{CM}/a", {"metadata": {"labels": {"app": "api"}}})
        client.post(CM, configmap("b", labels={"app": "api"}))
        client.patch(f"{CM}/b", {"metadata": {"labels": {"app": "web"}}})
        client.patch(f"{CM}/b", {"data": {"k": "2"}})
        events = w.events(3)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == \
        [("DELETED", "a"), ("ADDED", "b"), ("MODIFIED", "b")]


def test_field_selector_watch_on_one_object(client):
    start = client.get(CM).json["metadata"]["resourceVersion"]
    with client.watch(CM, resourceVersion=start,
                      fieldSelector="metadata.name=b") as w:
        client.post(CM, configmap("a"))
        client.post(CM, configmap("b"))
        assert w.next()["object"]["metadata"]["name"] == "b"


def test_send_initial_events_ends_with_annotated_bookmark(standin, client):
    client.post(CM, configmap("a"))
    with client.watch(CM, sendInitialEvents="true",
                      resourceVersionMatch="NotOlderThan",
                      allowWatchBookmarks="true") as w:
        added, bookmark = w.events(2)
    assert added["type"] == "ADDED"
    assert bookmark["type"] == "BOOKMARK"
    assert bookmark["object"]["metadata"] == {
        "resourceVersion": standin.resource_version,
        "annotations": {"k8s.io/initial-events-end": "true"}}
    bad = client.get(CM, query={"watch": "1", "sendInitialEvents": "true"})
    assert bad.status == 422


def test_watch_in_table_form(client):
    client.post(ING, ingress("web"))
    accept = ("application/json;as=Table;v=v1;g=meta.k8s.io,"
              "application/json")
    with client.watch(ING, headers={"Accept": accept}) as w:
        event = w.next()
    table = event["object"]
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == \
        ["Name", "Class", "Hosts", "Address", "Ports", "Age"]
    assert table["rows"][0]["cells"][:5] == \
        ["web", "shmingress", "shop.example.com", "", "80"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_watch_chunking_modes_keep_events_intact(standin, client):
    for mode in ("event", "split"):
        standin.set(watch_chunking=mode)
        start = client.get(CM).json["metadata"]["resourceVersion"]
        with client.watch(CM, resourceVersion=start) as w:
            client.post(CM, configmap(f"c-{mode}"))
            assert w.next()["object"]["metadata"]["name"] == f"c-{mode}"


def test_closed_client_leaves_no_watch_behind(standin, client):
    w = client.watch(CM)
    assert standin.wait_for_watches(1, timeout=5)
    w.close()
    deadline = time.monotonic() + 5
    while standin.state()["watches"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert standin.state()["watches"] == 0
