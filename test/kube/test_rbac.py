"""The RBAC rules in docs/operations.md are exactly what the controller
uses: run it with a token holding only those rules through a scenario
that touches every feature (status, Events, leader election, a Secret
fetched by name, --configmap, a --publish-service outside
--watch-namespace); no request may be refused, and every rule must have
been needed."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from kubetest import App, ingress, secret, wait_for
from leadertest import (edit, holder, publish_service, wait_event, wait_lb,
                        world_objects)

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch",
         "DELETE": "delete"}


def documented_rules():
    """{(verb, resource)} granted by the ClusterRole and Role in the doc."""
    granted = set()
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    for block in blocks:
        for doc in yaml.safe_load_all(block):
            if doc and doc.get("kind") in ("ClusterRole", "Role"):
                for rule in doc["rules"]:
                    granted |= {(v, r) for v in rule["verbs"]
                                for r in rule["resources"]}
    return granted


def verb_and_resource(request):
    parts = urlsplit(request["target"]).path.strip("/").split("/")
    rest = parts[2:] if parts[0] == "api" else parts[3:]
    if rest[:1] == ["namespaces"] and len(rest) > 2:
        rest = rest[2:]
    resource = "/".join([rest[0]] + rest[2:3])
    if request["method"] != "GET":
        return VERBS[request["method"]], resource
    if request["watch"]:
        return "watch", resource
    return ("get" if len(rest) > 1 else "list"), resource


def test_documented_rules_are_exactly_what_is_used(api, controller):
    granted = documented_rules()
    assert ("update", "ingresses/status") in granted
    api.add_token("rbac-token", "system:serviceaccount:ctl:shmingress",
                  [(",".join(sorted({v for v, r in granted if r == res})),
                    res) for res in {r for _, r in granted}])

    web = App("shop", "web", ["10.1.0.1"])
    orphan = ingress("shop", "orphan", "orphan.example.com", "gone")
    settings = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": "shop"},
                "data": {"proxy-body-size": "8m"}}
    api.load(world_objects(web, extra=[
        orphan, settings, publish_service(), secret("shop", "later-tls")]))
    ctl = controller(api, "--watch-namespace", "shop", "--configmap",
                     "shop/settings", "--publish-service", "ctl/shmingress",
                     env={"POD_NAME": "ctl-a"}, start=False)
    ctl.write_token("rbac-token")
    ctl.start()

    wait_lb(api, "shop", "web", [{"ip": "10.96.0.10"}])
    wait_event(api, "shop", "orphan", "ServiceNotFound")

    def rehost(obj):
        obj["spec"]["rules"][0]["host"] = "orphan2.example.com"
    edit(api, "ingresses", "shop", "orphan", rehost)
    wait_event(api, "shop", "orphan", "ServiceNotFound", count=2)
    api.create(ingress("shop", "secure", "secure.example.com", "web",
                       tls_secret="later-tls"))
    wait_for(lambda: 'msg="Secret fetched"' in ctl.log(), "Secret fetched")
    assert holder(api, "shop") == "ctl-a"
    wait_for(lambda: any(r["method"] == "PUT" and "/leases/" in r["target"]
                         for r in api.requests()), "a Lease renewal")

    requests = [r for r in api.requests() if r["status"] is not None]
    refused = [r for r in requests if r["status"] in (401, 403)]
    assert not refused, refused
    used = {verb_and_resource(r) for r in requests}
    assert used == granted, (f"used, not granted: {used - granted}; "
                             f"granted, not used: {granted - used}")
