"""The API server misbehaves while objects change; the controller recovers
and the published table converges to what the stand-in holds (compared
route by route: host, path, pathType, Service, endpoints), and nginx
serves the changes.  Faults: the stand-in restarted, history expired
(410 as an in-stream ERROR and as HTTP), watches cut mid-event, garbage
in a watch stream, and 401s until the token file is rewritten."""

import time

import pytest

import harness
from apie2e import Client
from harness import endpoint_slice, ingress, path, rule

NS = "shop"


def start_apps(cluster, chunking="batch"):
    """Two apps created with kubectl, served through nginx; a client on
    the first one that must never fail.  Returns (apps, client)."""
    cluster.api.set(watch_chunking=chunking)
    apps = {name: cluster.backends.add(name, NS, pods=2)
            for name in ("stable", "web")}
    objects = [harness.ingress_class()]
    for name, svc in apps.items():
        objects += svc.objects()
        objects.append(ingress(name, [rule(name + ".example.com",
                                           path("/", "Prefix", name))], NS))
    cluster.kubectl("create", "-f", "-", objects=objects)
    cluster.start()
    for name in apps:
        cluster.expect(name + ".example.com", "/", "service:" + name,
                       deadline=harness.START_DEADLINE)
    cluster.wait_converged("first table")
    client = Client(cluster, "stable.example.com", "/", "service:stable")
    return apps, client.start()


def change(cluster, apps, tag):
    """Through the stand-in: a new app, web's endpoints cut to one pod,
    and the previous new app (if any) deleted."""
    api = cluster.api
    new = cluster.backends.add("new-" + tag, NS, pods=1)
    for obj in new.objects() + [ingress(new.name, [rule(
            new.name + ".example.com", path("/", "Prefix", new.name))], NS)]:
        api.apply(obj)
    web = apps["web"]
    api.apply(endpoint_slice("web", "web-1", [(web.servers[0].host,
                                               harness.READY)],
                             web.port, namespace=NS))
    for old in [n for n in apps if n.startswith("new-")]:
        api.delete("ingresses", NS, old)
        apps.pop(old)
    apps[new.name] = new


def check_served(cluster, apps, what):
    cluster.wait_converged(what)
    for name in apps:
        cluster.expect(name + ".example.com", "/", "service:" + name)
    web_pods = {cluster.request("web.example.com", "/").pod
                for _ in range(20)}
    assert web_pods == {"web-1"}, web_pods


def finish(cluster, client):
    requests, failures = client.stop()
    assert requests > 0
    assert failures == [], "%d of %d requests to the stable route failed: " \
        "%s" % (len(failures), requests, failures[:10])
    assert cluster.alive()


def inflict(cluster, fault, symptom, tries=20):
    """Injects a watch fault until the controller logs its symptom once
    more: a fault only hits the watches open at that moment."""
    seen = cluster.logs().count(symptom)
    for _ in range(tries):
        fault()
        end = time.monotonic() + 2
        while time.monotonic() < end:
            if cluster.logs().count(symptom) > seen:
                return
            time.sleep(0.05)
    raise AssertionError("%s never logged:\n%s"
                         % (symptom, cluster.log_tail()))


def test_standin_restarted(cluster):
    apps, client = start_apps(cluster)
    try:
        cluster.api.restart(keep_state=True, down_seconds=2)
        change(cluster, apps, "a")
        check_served(cluster, apps, "after a restart")
        cluster.api.restart(keep_state=True)
        change(cluster, apps, "b")
        check_served(cluster, apps, "after a second restart")
    finally:
        finish(cluster, client)


@pytest.mark.parametrize("as_http", [False, True],
                         ids=["error-event", "http-410"])
def test_history_expired(cluster, as_http):
    apps, client = start_apps(cluster)
    api = cluster.api
    try:
        api.set(expired_as_http=as_http)
        # No watch may run while history moves on and is compacted.
        api.fail(pattern="watch=1", count=-1, action="reset")
        api.end_watches()
        harness.eventually(lambda: api.state()["watches"], lambda n: n == 0,
                           "watches closed", deadline=30, consecutive=1)
        change(cluster, apps, "c")
        api.compact()
        api.clear_faults()
        check_served(cluster, apps, "after expired history")
        assert 'msg="watch expired, listing again"' in cluster.logs()
    finally:
        finish(cluster, client)


def test_watches_cut_mid_event(cluster):
    apps, client = start_apps(cluster, chunking="split")
    try:
        for tag in ("d1", "d22"):
            change(cluster, apps, tag)
            inflict(cluster, cluster.api.cut_watches,
                    "transfer closed with outstanding")
            check_served(cluster, apps, "after cut watches " + tag)
    finally:
        finish(cluster, client)


def test_garbage_in_the_stream(cluster):
    apps, client = start_apps(cluster)
    try:
        inflict(cluster, cluster.api.inject_garbage,
                'msg="watch stream broken"')
        change(cluster, apps, "e")
        check_served(cluster, apps, "after garbage")
    finally:
        finish(cluster, client)


def test_unauthorized_until_token_file_rewritten(cluster):
    apps, client = start_apps(cluster)
    api = cluster.api
    try:
        api.rotate_token("rotated-token")
        api.end_watches()
        harness.eventually(
            lambda: {r["target"].split("?")[0] for r in api.requests()
                     if r["status"] == 401},
            lambda kinds: len(kinds) >= 5, "401s for every watched kind",
            deadline=30, consecutive=1)
        change(cluster, apps, "f")
        # Refused, the controller keeps serving its last table.
        cluster.expect("web.example.com", "/", "service:web")
        cluster.write_token("rotated-token")
        check_served(cluster, apps, "after the token file was rewritten")
        assert 'msg="API token re-read"' in cluster.logs()
        assert "rotated-token" not in cluster.logs()
    finally:
        finish(cluster, client)
