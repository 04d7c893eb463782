"""The controller in API mode keeps the published table equal to what the
API server holds: the first list (paged), changes through watches,
namespace scoping, Secrets and ConfigMaps, configuration variants
(in-cluster, TLS), and a burst of changes becoming few publications."""

import time

from kubetest import (App, World, certs_for_other_ca, ingress, read_control,
                      secret, wait_for)


def test_first_list_is_paged_and_published(api, controller):
    world = World.generated(620)
    api.load(world.objects())
    ctl = controller(api)
    ctl.wait_routes(world.expected(), what="first table")
    log = ctl.log()
    assert "kind=Ingress objects=620 pages=2" in log
    assert "kind=EndpointSlice objects=620 pages=2" in log
    lists = [r["target"] for r in api.requests()
             if "/ingresses?" in r["target"] and not r["watch"]]
    assert lists[0].startswith("/apis/networking.k8s.io/v1/ingresses?limit=500")
    assert "continue=" in lists[1]
    agents = {r["user_agent"] for r in api.requests()}
    assert all(a.startswith("shmingress-controller/") for a in agents), agents
    watches = [r["target"] for r in api.requests() if r["watch"]]
    assert all("allowWatchBookmarks=true" in w and "resourceVersion=" in w
               and "timeoutSeconds=" in w for w in watches), watches


def test_nothing_published_before_every_list(api, controller):
    world = World.generated(30)
    api.load(world.objects())
    api.delay(3, pattern=r"endpointslices\?limit", count=1)
    ctl = controller(api)
    wait_for(lambda: 'msg="list done" kind=Ingress' in ctl.log(),
             "Ingress list")
    time.sleep(1)
    ctl_file = read_control(ctl.table_dir)
    assert ctl_file is None or ctl_file["generation"] == 0
    ctl.wait_routes(world.expected())
    first = [line for line in ctl.log().splitlines()
             if 'msg="table published"' in line][0]
    assert "endpoints=60 " in first, first


def test_changes_converge(api, controller):
    world = World.generated(20)
    api.load(world.objects())
    ctl = controller(api)
    ctl.wait_routes(world.expected(), what="first table")

    for obj in world.add(App("shop", "new", ["10.9.9.9"])).objects():
        api.create(obj)
    ctl.wait_routes(world.expected(), what="table after create")

    app = world.apps[("docs", "app-1")]
    app.addresses = ["10.8.0.1", "10.8.0.2", "10.8.0.3"]
    api.update(app.slice())
    ctl.wait_routes(world.expected(), what="table after endpoint update")

    app = world.apps[("shop", "app-2")]
    app.host = "moved.example.com"
    api.update(ingress(app.ns, app.name, app.host, app.name))
    ctl.wait_routes(world.expected(), what="table after host change")

    gone = world.remove("docs", "app-3")
    api.delete("ingresses", gone.ns, gone.name)
    api.delete("services", gone.ns, gone.name)
    api.delete("endpointslices", gone.ns, gone.name + "-a")
    ctl.wait_routes(world.expected(), what="table after delete")


def test_burst_becomes_few_publications(api, controller):
    world = World.generated(50)
    api.load(world.objects())
    ctl = controller(api)
    ctl.wait_routes(world.expected(), what="first table")
    before = ctl.control()["publications"]
    apps = list(world.apps.values())
    for i in range(500):
        app = apps[i % len(apps)]
        app.addresses = [f"10.77.{i // 250}.{i % 250}"]
        api.update(app.slice())
    ctl.wait_routes(world.expected(), what="table after the burst")
    published = ctl.control()["publications"] - before
    print(f"burst: {published} publications for 500 changes")
    assert 1 <= published <= 20, f"{published} publications for 500 changes"


def test_watch_namespace(api, controller):
    world = World.generated(10, namespaces=("shop", "docs"))
    api.load(world.objects())
    ctl = controller(api, "--watch-namespace", "shop")
    ctl.wait_routes(world.expected(namespaces={"shop"}))
    for obj in world.add(App("docs", "late", ["10.5.5.5"])).objects():
        api.create(obj)
    for obj in world.add(App("shop", "late", ["10.5.5.6"])).objects():
        api.create(obj)
    ctl.wait_routes(world.expected(namespaces={"shop"}))
    targets = [r["target"] for r in api.requests()]
    namespaced = [t for t in targets if "ingressclasses" not in t]
    assert all("/namespaces/shop/" in t for t in namespaced), namespaced
    assert any(t.startswith("/apis/networking.k8s.io/v1/ingressclasses?")
               for t in targets)


def secret_gets(api, name):
    return [r for r in api.requests() if r["method"] == "GET"
            and r["target"].endswith(f"/secrets/{name}")]


def test_only_referenced_secrets_are_kept(api, controller):
    world = World.generated(4)
    objs = world.objects()
    objs.append(ingress("shop", "secure", "secure.example.com", "app-0",
                        tls_secret="secure-tls"))
    objs += [secret("shop", "secure-tls"), secret("shop", "unrelated"),
             secret("shop", "later")]
    api.load(objs)
    ctl = controller(api)
    wait_for(lambda: "secrets_referenced=1" in ctl.log(), "first lists")
    log = ctl.log()
    assert 'msg="Secret referenced" object="shop/secure-tls"' in log
    # Referenced from the start: the Secret list brought it, no GET.
    assert secret_gets(api, "secure-tls") == []

    # A Secret that becomes referenced is fetched once, by name...
    api.create(ingress("shop", "later", "later.example.com", "app-0",
                       annotations={"nginx.ingress.kubernetes.io/auth-secret":
                                    "later"}))
    wait_for(lambda: 'msg="Secret fetched" object="shop/later" status=200'
             in ctl.log(), "fetch of shop/later")
    assert len(secret_gets(api, "later")) == 1
    # ... and one that does not exist yet arrives through the watch.
    api.create(ingress("shop", "pending", "pending.example.com", "app-0",
                       tls_secret="not-yet"))
    wait_for(lambda: 'object="shop/not-yet"' in ctl.log(), "reference")
    api.create(secret("shop", "not-yet"))
    api.delete("ingresses", "shop", "later")
    wait_for(lambda: 'msg="Secret no longer referenced" object="shop/later"'
             in ctl.log(), "release of shop/later")
    assert secret_gets(api, "unrelated") == []
    assert secret_gets(api, "not-yet") == []


def test_configmap_flag_watches_one_configmap(api, controller):
    world = World.generated(2)
    api.load(world.objects() + [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "settings", "namespace": "ingress"},
         "data": {"use-http2": "true"}}])
    ctl = controller(api, "--configmap", "ingress/settings")
    ctl.wait_routes(world.expected())
    cm = [r["target"] for r in api.requests() if "configmaps" in r["target"]]
    assert cm and all(t.startswith("/api/v1/namespaces/ingress/configmaps?")
                      and "fieldSelector=metadata.name%3Dsettings" in t
                      for t in cm), cm
    assert "kind=ConfigMap objects=1 " in ctl.log()


def test_no_configmap_flag_no_configmap_requests(api, controller):
    world = World.generated(2)
    api.load(world.objects())
    ctl = controller(api)
    ctl.wait_routes(world.expected())
    assert not [r for r in api.requests() if "configmaps" in r["target"]]


def test_in_cluster_service_account(api, controller, tmp_path):
    world = World.generated(3)
    api.load(world.objects())
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text(api.token + "\n")
    (sa / "ca.crt").write_bytes(open(api.ca_file, "rb").read())
    (sa / "namespace").write_text("ingress")
    ctl = controller(api, kubeconfig=False, env={
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(api.port),
        "SHMINGRESS_SERVICEACCOUNT_DIR": str(sa)})
    ctl.wait_routes(world.expected())
    assert 'config="in-cluster"' in ctl.log()


def write_kubeconfig(path, server, ca_b64=None, sni=None, insecure=False,
                     token_file=None):
    cluster = [f"    server: {server}"]
    if ca_b64:
        cluster.append(f"    certificate-authority-data: {ca_b64}")
    if sni:
        cluster.append(f"    tls-server-name: {sni}")
    if insecure:
        cluster.append("    insecure-skip-tls-verify: true")
    path.write_text("\n".join([
        "apiVersion: v1", "kind: Config", "current-context: t",
        "contexts: [{name: t, context: {cluster: t, user: t}}]",
        "clusters:", "- name: t", "  cluster:", *cluster,
        "users:", "- name: t", "  user:", f"    tokenFile: {token_file}",
        ""]))


def test_tls_server_name_and_verification(api, controller, tmp_path):
    import base64
    world = World.generated(2)
    api.load(world.objects())
    good_ca = base64.b64encode(open(api.ca_file, "rb").read()).decode()
    other_ca = certs_for_other_ca(tmp_path / "other")

    # The certificate is for 127.0.0.1 and localhost, not for this name:
    # verification is on, so nothing is listed or published.
    bad = controller(api, "--kubeconfig", str(tmp_path / "bad-sni"),
                     kubeconfig=False, start=False)
    write_kubeconfig(tmp_path / "bad-sni", f"https://127.0.0.1:{api.port}",
                     good_ca, sni="wrong.example.com",
                     token_file=bad.token_file)
    bad.start()
    untrusted = controller(api, "--kubeconfig", str(tmp_path / "untrusted"),
                           kubeconfig=False, start=False)
    write_kubeconfig(tmp_path / "untrusted", f"https://127.0.0.1:{api.port}",
                     other_ca, token_file=untrusted.token_file)
    untrusted.start()
    for ctl in (bad, untrusted):
        wait_for(lambda: 'msg="API request failed"' in ctl.log(),
                 "TLS failure")
        assert ctl.alive()
        assert (read_control(ctl.table_dir) or {}).get("generation", 0) == 0

    # The right name connects to 127.0.0.1 but verifies "localhost".
    sni = controller(api, "--kubeconfig", str(tmp_path / "sni"),
                     kubeconfig=False, start=False)
    write_kubeconfig(tmp_path / "sni", f"https://127.0.0.1:{api.port}",
                     good_ca, sni="localhost", token_file=sni.token_file)
    sni.start()
    sni.wait_routes(world.expected(), what="table over tls-server-name")

    insecure = controller(api, "--kubeconfig", str(tmp_path / "insecure"),
                          kubeconfig=False, start=False)
    write_kubeconfig(tmp_path / "insecure", f"https://127.0.0.1:{api.port}",
                     insecure=True, token_file=insecure.token_file)
    insecure.start()
    insecure.wait_routes(world.expected(), what="table without verification")
    assert "tls_verify=false" in insecure.log()


def test_default_certificate_outside_the_watched_namespace(api, controller):
    world = World.generated(2, namespaces=("shop",))
    api.load(world.objects() + [secret("ingress", "default-cert"),
                                secret("ingress", "other")])
    ctl = controller(api, "--watch-namespace", "shop",
                     "--default-ssl-certificate", "ingress/default-cert")
    ctl.wait_routes(world.expected())
    own = [r["target"] for r in api.requests()
           if r["target"].startswith("/api/v1/namespaces/ingress/")]
    assert own and all(
        "/secrets?" in t and "fieldSelector=metadata.name%3Ddefault-cert" in t
        for t in own), own
    assert "kind=Secret objects=1 " in ctl.log()
