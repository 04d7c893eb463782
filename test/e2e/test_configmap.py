"""The global settings ConfigMap (--configmap ns/name) in manifests mode:
its keys reach the module through the table, a value that does not parse
is logged and keeps its default, and a change to the ConfigMap is served
without a reload."""

import harness as h
import demo_examples as d

HOST = "limits.example.com"


def configmap(data):
    lines = "\n".join('  %s: "%s"' % kv for kv in sorted(data.items()))
    return ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
            "  name: settings\n  namespace: ingress\ndata:\n%s\n" % lines)


def first_refusal(client):
    for _ in range(40):
        status = client.get(HOST).status
        if status != 200:
            return status
    raise AssertionError("the rate limit never refused")


def test_configmap_sets_the_rate_limit_status_and_changes_live(clusters):
    settings = configmap({
        "limit-req-status-code": "429",
        "http-redirect-code": "not-a-number",
    })
    c = d.start_demo(clusters, "rate-limit.yaml",
                     extra=[("settings.yaml", settings)],
                     flags=["--configmap", "ingress/settings"])

    client = d.Client(c, source="127.0.0.3")
    assert first_refusal(client) == 429
    client.close()

    h.eventually(c.logs, lambda text: 'msg="configmap value ignored"' in text
                 and "field=data.http-redirect-code" in text
                 and 'value="not-a-number"' in text,
                 "the bad value logged")

    workers = c.worker_pids()
    c.manifests.write_raw("settings.yaml", configmap({
        "limit-req-status-code": "503",
    }))
    client = d.Client(c, source="127.0.0.4")
    h.eventually(lambda: first_refusal(client), lambda s: s == 503,
                 "the new status code served")
    client.close()
    assert c.worker_pids() == workers
