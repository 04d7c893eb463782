"""Object builders and URL paths shared by the stand-in's tests."""

ING = "/apis/networking.k8s.io/v1/namespaces/default/ingresses"
ALL_ING = "/apis/networking.k8s.io/v1/ingresses"
CM = "/api/v1/namespaces/default/configmaps"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/ctl/leases"


def ingress(name, namespace="default", host="shop.example.com",
            labels=None, service="web"):
    meta = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": meta,
            "spec": {"ingressClassName": "shmingress", "rules": [
                {"host": host, "http": {"paths": [
                    {"path": "/", "pathType": "Prefix", "backend": {
                        "service": {"name": service,
                                    "port": {"number": 80}}}}]}}]}}


def configmap(name, namespace="default", data=None, labels=None):
    meta = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
            "data": data or {"k": "v"}}
