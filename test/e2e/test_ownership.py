"""Which Ingresses shmingress serves (ingress-semantics §3): the legacy
kubernetes.io/ingress.class annotation decides when present; otherwise
spec.ingressClassName must name an IngressClass whose spec.controller is
ours; class-less Ingresses only with --watch-ingress-without-class or when
one of our IngressClasses is the default class.  The same objects are
loaded into four differently configured controllers.
"""

import pytest

import harness as h

LEGACY = "kubernetes.io/ingress.class"

# name -> (legacy annotation, ingressClassName)
INGRESSES = {
    "by-class": (None, "shmingress"),
    "by-annotation": ("shmingress", None),
    "other-class": (None, "other"),
    "other-annotation": ("other", None),
    "unknown-class": (None, "no-such-class"),
    "class-less": (None, None),
    "annotation-wins": ("shmingress", "other"),
    "annotation-loses": ("other", "shmingress"),
    "blue-class": (None, "blue"),
    "blue-annotation": ("blue", None),
}

OURS = {"by-class", "by-annotation", "annotation-wins"}

# world -> (controller flags, which class is the cluster default,
#           the class our sentinel Ingress uses, names served)
WORLDS = {
    "defaults": ([], "other", "shmingress", OURS),
    "watch-without-class": (["--watch-ingress-without-class"], None,
                            "shmingress", OURS | {"class-less"}),
    "our-class-is-default": ([], "shmingress", "shmingress",
                             OURS | {"class-less"}),
    "custom-class": (["--ingress-class", "blue",
                      "--controller-class", "example.com/blue"], None,
                     "blue", {"blue-class", "blue-annotation"}),
}


def world_objects(backends, default_class, sentinel_class):
    objects = [
        h.ingress_class("shmingress", default=default_class == "shmingress"),
        h.ingress_class("other", "example.com/other",
                        default=default_class == "other"),
        h.ingress_class("blue", "example.com/blue")]
    for name, (annotation, class_name) in INGRESSES.items():
        objects += backends.add(name).objects()
        objects.append(h.ingress(
            name, [h.rule(name + ".owner.test",
                          h.path("/", "Prefix", name))],
            class_name=class_name,
            annotations={LEGACY: annotation} if annotation else None))
    objects += backends.add("sentinel").objects()
    objects.append(h.ingress("sentinel", [h.rule(
        "ready.test", h.path("/", "Prefix", "sentinel"))],
        class_name=sentinel_class))
    return objects


@pytest.fixture(scope="module", params=list(WORLDS))
def world(request, module_clusters):
    flags, default_class, sentinel_class, served = WORLDS[request.param]
    c = module_clusters(flags)
    h.start_with(c, {"objects.yaml": world_objects(c.backends, default_class,
                                                   sentinel_class)},
                 ready=("ready.test", "/", "service:sentinel"))
    return c, served


@pytest.mark.parametrize("name", list(INGRESSES))
def test_ownership(world, name):
    cluster, served = world
    expected = "service:" + name if name in served else "404"
    cluster.expect(name + ".owner.test", "/", expected)


def test_changing_class_removes_and_restores_routes(clusters):
    c = clusters()
    objects = [h.ingress_class(), h.ingress_class("other",
                                                  "example.com/other")]
    objects += c.backends.add("app").objects()
    h.start_with(c, {"base.yaml": objects,
                     "app.yaml": [h.ingress("app", [h.rule(
                         "app.test", h.path("/", "Prefix", "app"))])]},
                 ready=("app.test", "/", "service:app"))
    moved = h.ingress("app", [h.rule("app.test",
                                     h.path("/", "Prefix", "app"))],
                      class_name="other")
    c.manifests.write("app.yaml", [moved])
    c.expect("app.test", "/", "404")
    moved["spec"]["ingressClassName"] = "shmingress"
    c.manifests.write("app.yaml", [moved])
    c.expect("app.test", "/", "service:app")
