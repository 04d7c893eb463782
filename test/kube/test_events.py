"""Events: the leader records a Warning Event for each problem with an
Ingress of ours (invalid, missing Service, port or Secret, refused
annotation), one Event per problem whose count grows, none for a problem
that goes away at once, and none for Ingresses of other classes."""

import time

from kubetest import App, ingress, service, wait_for
from leadertest import edit, events_for, wait_event, world_objects

COMPONENT = "shmingress-controller"


def test_invalid_ingress(api, controller):
    bad = ingress("shop", "bad", "bad.example.com", "web")
    bad["spec"]["rules"][0]["http"]["paths"][0]["pathType"] = "Sometimes"
    foreign = ingress("shop", "foreign", "foreign.example.com", "web")
    foreign["spec"]["ingressClassName"] = "someone-else"
    foreign["spec"]["rules"][0]["http"]["paths"][0]["pathType"] = "Bogus"
    api.load(world_objects(App("shop", "web", ["10.1.0.1"]),
                           extra=[bad, foreign]))
    ctl = controller(api)
    ev = wait_event(api, "shop", "bad", "InvalidIngress")[0]
    uid = api.get("ingresses", "shop", "bad")["metadata"]["uid"]
    assert ev["type"] == "Warning"
    assert ev["message"] == ('spec.rules[0].http.paths[0].pathType='
                             '"Sometimes": must be Exact, Prefix or '
                             'ImplementationSpecific')
    assert ev["involvedObject"]["kind"] == "Ingress"
    assert ev["involvedObject"]["apiVersion"] == "networking.k8s.io/v1"
    assert ev["involvedObject"]["namespace"] == "shop"
    assert ev["involvedObject"]["uid"] == uid
    assert ev["involvedObject"]["resourceVersion"]
    assert ev["source"]["component"] == COMPONENT
    assert ev["reportingComponent"] == COMPONENT
    assert ev["count"] == 1
    assert ev["firstTimestamp"] and ev["lastTimestamp"]
    # The log says the same, and nothing is said about other classes.
    assert 'pathType value="Sometimes"' in ctl.log()
    time.sleep(2)
    assert not events_for(api, "shop", "foreign")


def test_missing_service_is_one_event_whose_count_grows(api, controller):
    app = App("shop", "web", ["10.1.0.1"])
    orphan = ingress("shop", "orphan", "orphan.example.com", "gone")
    api.load(world_objects(app, extra=[orphan]))
    controller(api)
    ev = wait_event(api, "shop", "orphan", "ServiceNotFound")[0]
    assert ev["message"] == ('spec.rules[0].http.paths[0].backend.service.'
                             'name="gone": Service shop/gone not found')

    # Changes of the Ingress's spec that keep the problem count on the
    # same Event; rebuilds for other reasons (an annotation, endpoints)
    # do not count at all.
    for n in range(2):
        def rehost(obj, n=n):
            obj["spec"]["rules"][0]["host"] = f"orphan{n}.example.com"
        edit(api, "ingresses", "shop", "orphan", rehost)
        wait_event(api, "shop", "orphan", "ServiceNotFound", count=n + 2)

    def annotate(obj):
        obj["metadata"].setdefault("annotations", {})["team"] = "shop"
    edit(api, "ingresses", "shop", "orphan", annotate)
    for i in range(3):
        app.addresses = [f"10.1.0.{i + 5}"]
        api.update(app.slice())
    time.sleep(3)
    evs = events_for(api, "shop", "orphan")
    assert len(evs) == 1, evs
    assert evs[0]["count"] == 3
    assert evs[0]["lastTimestamp"] >= evs[0]["firstTimestamp"]


def test_missing_port_and_secret(api, controller):
    app = App("shop", "web", ["10.1.0.1"])
    wrong_port = ingress("shop", "port", "port.example.com", "web")
    backend = wrong_port["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    backend["service"]["port"] = {"name": "grpc"}
    no_cert = ingress("shop", "cert", "cert.example.com", "web",
                      tls_secret="cert-tls")
    api.load(world_objects(app, extra=[wrong_port, no_cert]))
    controller(api)
    ev = wait_event(api, "shop", "port", "PortNotFound")[0]
    assert ev["message"] == ('spec.rules[0].http.paths[0].backend.service.'
                             'port.name="grpc": Service shop/web has no port '
                             'named "grpc"')
    ev = wait_event(api, "shop", "cert", "SecretNotFound")[0]
    assert ev["message"] == ('spec.tls[0].secretName="cert-tls": Secret '
                             'shop/cert-tls not found')


def test_refused_annotation(api, controller):
    snippet = ingress("shop", "snippet", "snippet.example.com", "web",
                      annotations={"nginx.ingress.kubernetes.io/"
                                   "configuration-snippet": "return 200;"})
    api.load(world_objects(App("shop", "web", ["10.1.0.1"]),
                           extra=[snippet]))
    controller(api)
    ev = wait_event(api, "shop", "snippet", "AnnotationRefused")[0]
    assert "configuration-snippet" in ev["message"]
    assert "return 200" not in ev["message"]


def test_problem_fixed_at_once_gets_no_event(api, controller):
    app = App("shop", "web", ["10.1.0.1"])
    api.load(world_objects(app))
    ctl = controller(api)
    ctl.wait_routes({app.host: {"/": ("shop/web", ("10.1.0.1:8080",))}})
    # An Ingress applied a moment before its Service.
    api.create(ingress("shop", "early", "early.example.com", "late"))
    api.create(service("shop", "late"))
    wait_for(lambda: "early.example.com" in (ctl.routes() or {}),
             "the early Ingress served")
    time.sleep(4)
    assert not events_for(api, "shop", "early")


def test_followers_send_no_events(api, controller):
    bad = ingress("shop", "bad", "bad.example.com", "web")
    bad["spec"]["rules"][0]["host"] = "Bad.Example.com"
    api.load(world_objects(App("shop", "web", ["10.1.0.1"]), extra=[bad]))
    a = controller(api, env={"POD_NAME": "ctl-a"})
    wait_event(api, "shop", "bad", "InvalidIngress")
    b = controller(api, env={"POD_NAME": "ctl-b"})
    wait_for(lambda: 'msg="ingress skipped"' in b.log(), "follower's build")
    time.sleep(3)
    evs = events_for(api, "shop", "bad")
    assert len(evs) == 1, evs
    assert evs[0]["reportingInstance"] == "ctl-a"
    assert a.alive()
