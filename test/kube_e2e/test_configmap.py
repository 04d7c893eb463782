"""The --configmap settings in API mode: a ConfigMap created, replaced
and deleted with kubectl changes block-cidrs and the client address from
X-Forwarded-For on the next request, with no nginx reload."""

import harness
from apie2e import ApiCluster
from harness import ingress, path, rule

NS = "demo"
HOST = "web.example.com"


def settings(**data):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "ingress"},
            "data": data}


def real_ip(c):
    r = c.request(HOST, "/", headers=[("X-Forwarded-For", "198.51.100.7")])
    return r.echoed_header("X-Real-IP") if r.status == 200 else r.status


def test_configmap_changes_through_the_api(api, tmp_path_factory):
    c = ApiCluster(tmp_path_factory.mktemp("cluster"), api,
                   flags=("--configmap", "ingress/settings"))
    try:
        web = c.backends.add("web", NS, pods=1)
        c.kubectl("create", "-f", "-", objects=[
            harness.ingress_class(), *web.objects(),
            ingress("web", [rule(HOST, path("/", "Prefix", "web"))], NS),
            settings(**{"block-cidrs": "127.0.0.0/8"})])
        c.start()
        c.expect(HOST, "/", "403", deadline=harness.START_DEADLINE)
        master, workers = c.nginx_pid(), c.worker_pids()

        c.kubectl("replace", "-f", "-", objects=[settings(**{
            "use-forwarded-headers": "true",
            "proxy-real-ip-cidr": "127.0.0.1/32"})])
        harness.eventually(lambda: real_ip(c),
                           lambda got: got == "198.51.100.7",
                           "the forwarded client address")

        c.kubectl("delete", "configmap", "settings", "-n", "ingress")
        harness.eventually(lambda: real_ip(c), lambda got: got == "127.0.0.1",
                           "the defaults again")
        assert c.nginx_pid() == master and c.worker_pids() == workers
    finally:
        c.stop()
