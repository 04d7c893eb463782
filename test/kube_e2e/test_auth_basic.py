"""Basic auth in API mode: the Secret an Ingress's auth-secret names
reaches nginx through the API (the controller keeps only referenced
Secrets).  Created with kubectl: 401 without credentials, 200 with them;
the Secret deleted: 503 while the other routes serve; created again: 200,
with no nginx reload.  A Secret in another namespace is used only with
--allow-cross-namespace-resources (given here)."""

import base64

import harness
from apie2e import ApiCluster
from harness import ingress, path, rule

NS = "demo"
PREFIX = "nginx.ingress.kubernetes.io/"
# htpasswd -nbs alice wonderland
LINE = "alice:{SHA}tiY7sUhYKUwI5L3866kDY+ENcrQ=\n"


def creds(password):
    token = base64.b64encode(("alice:" + password).encode()).decode()
    return [("Authorization", "Basic " + token)]


def users(namespace):
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "users", "namespace": namespace},
            "type": "Opaque",
            "data": {"auth": base64.b64encode(LINE.encode()).decode()}}


def protected(name, host, secret):
    return ingress(name, [rule(host, path("/", "Prefix", "web"))], NS,
                   annotations={PREFIX + "auth-type": "basic",
                                PREFIX + "auth-secret": secret})


def test_auth_secret_through_the_api(api, tmp_path_factory):
    c = ApiCluster(tmp_path_factory.mktemp("cluster"), api,
                   flags=("--allow-cross-namespace-resources",))
    try:
        web = c.backends.add("web", NS, pods=1)
        c.kubectl("create", "-f", "-", objects=[
            harness.ingress_class(), *web.objects(), users(NS),
            users("shared"),
            protected("private", "private.example.com", "users"),
            protected("team", "team.example.com", "shared/users"),
            ingress("open", [rule("open.example.com",
                                  path("/", "Prefix", "web"))], NS)])
        c.start()
        good = creds("wonderland")
        c.expect("private.example.com", "/", "service:web", headers=good,
                 deadline=harness.START_DEADLINE)
        c.expect("private.example.com", "/", "401")
        c.expect("private.example.com", "/", "401", headers=creds("x"))
        c.expect("team.example.com", "/", "service:web", headers=good)
        master, workers = c.nginx_pid(), c.worker_pids()

        c.kubectl("delete", "secret", "users", "-n", NS)
        c.expect("private.example.com", "/", "503", headers=good)
        c.expect("open.example.com", "/", "service:web")
        c.expect("team.example.com", "/", "service:web", headers=good)

        c.kubectl("create", "-f", "-", objects=[users(NS)])
        c.expect("private.example.com", "/", "service:web", headers=good)
        assert c.nginx_pid() == master and c.worker_pids() == workers
    finally:
        c.stop()
