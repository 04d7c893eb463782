"""Server-side printing: meta.k8s.io/v1 Table responses, which `kubectl get`
asks for (`Accept: application/json;as=Table;...`) and prints row by row,
also for each watch event of `kubectl get -w`.

Columns follow what kube-apiserver prints for these kinds, closely enough to
read; the formatting is written here, not ported.
"""

import calendar
import time

from .store import full_object


def _col(name, type_="string", fmt="", description="", priority=0):
    return {"name": name, "type": type_, "format": fmt,
            "description": description or name, "priority": priority}


NAME = _col("Name", fmt="name",
            description="Name must be unique within a namespace.")
AGE = _col("Age", description="CreationTimestamp is a timestamp "
           "representing the server time when this object was created.")


def human_duration(seconds):
    seconds = int(seconds)
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"


def age(stamp):
    if not stamp:
        return "<unknown>"
    try:
        then = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return "<unknown>"
    return human_duration(time.time() - then)


def _join_more(values, most):
    values = [v for v in values if v]
    if not values:
        return ""
    text = ",".join(values[:most])
    if len(values) > most:
        text += f" + {len(values) - most} more..."
    return text


def _lb_addresses(obj):
    lb = (obj.get("status") or {}).get("loadBalancer") or {}
    return [i.get("ip") or i.get("hostname") or ""
            for i in lb.get("ingress") or []]


def _ingress(obj):
    spec = obj.get("spec") or {}
    hosts = [r.get("host") or "*" for r in spec.get("rules") or []]
    return [spec.get("ingressClassName") or "<none>",
            _join_more(hosts, 4) or "*",
            ",".join(a for a in _lb_addresses(obj) if a),
            "80, 443" if spec.get("tls") else "80"]


def _service(obj):
    spec = obj.get("spec") or {}
    stype = spec.get("type") or "ClusterIP"
    external = spec.get("externalIPs") or []
    if stype == "LoadBalancer":
        external = external + _lb_addresses(obj) or ["<pending>"]
    elif stype == "ExternalName":
        external = [spec.get("externalName") or ""]
    ports = [_service_port(p) for p in spec.get("ports") or []]
    selector = ",".join(f"{k}={v}" for k, v in
                        sorted((spec.get("selector") or {}).items()))
    return [stype, spec.get("clusterIP") or "<none>",
            ",".join(external) or "<none>", ",".join(ports) or "<none>",
            selector or "<none>"]


def _service_port(port):
    node = f"/{port['nodePort']}" if port.get("nodePort") else ""
    return f"{port.get('port')}{node}/{port.get('protocol') or 'TCP'}"


def _ingressclass(obj):
    spec = obj.get("spec") or {}
    params = spec.get("parameters") or {}
    shown = (f"{params.get('kind', '')}.{params.get('apiGroup', '')}/"
             f"{params.get('name', '')}") if params else "<none>"
    return [spec.get("controller") or "", shown]


def _endpointslice(obj):
    ports = [str(p.get("port", "")) for p in obj.get("ports") or []]
    addresses = [a for e in obj.get("endpoints") or []
                 for a in (e.get("addresses") or [])[:1]]
    return [obj.get("addressType") or "", ",".join(ports) or "<unset>",
            _join_more(addresses, 3) or "<unset>"]


def _lease(obj):
    return [(obj.get("spec") or {}).get("holderIdentity") or "<none>"]


def _secret(obj):
    return [obj.get("type") or "Opaque", len(obj.get("data") or {})]


def _configmap(obj):
    return [len(obj.get("data") or {}) + len(obj.get("binaryData") or {})]


def _namespace(obj):
    return [(obj.get("status") or {}).get("phase") or "Active"]


def _event(obj):
    involved = obj.get("involvedObject") or {}
    last = obj.get("lastTimestamp") or obj.get("eventTime") or \
        obj["metadata"].get("creationTimestamp")
    return [age(last), obj.get("type") or "", obj.get("reason") or "",
            f"{(involved.get('kind') or '').lower()}/"
            f"{involved.get('name') or ''}", obj.get("message") or ""]


# Kind -> (columns between Name and Age, cell function, trailing columns
# after Age with priority 1). Events print their own first column instead
# of Name and no Age, as the real server does.
_PRINTERS = {
    "Ingress": ([_col("Class"), _col("Hosts"), _col("Address"),
                 _col("Ports")], _ingress, []),
    "Service": ([_col("Type"), _col("Cluster-IP"), _col("External-IP"),
                 _col("Port(s)")], _service, [_col("Selector", priority=1)]),
    "IngressClass": ([_col("Controller"), _col("Parameters")],
                     _ingressclass, []),
    "EndpointSlice": ([_col("AddressType"), _col("Ports"), _col("Endpoints")],
                      _endpointslice, []),
    "Lease": ([_col("Holder")], _lease, []),
    "Secret": ([_col("Type"), _col("Data", "integer")], _secret, []),
    "ConfigMap": ([_col("Data", "integer")], _configmap, []),
    "Namespace": ([_col("Status")], _namespace, []),
}
_EVENT_COLUMNS = [_col("Last Seen"), _col("Type"), _col("Reason"),
                  _col("Object"), _col("Message")]


def columns(res):
    if res.kind == "Event":
        return _EVENT_COLUMNS
    middle, _, trailing = _PRINTERS.get(res.kind, ([], None, []))
    return [NAME, *middle, AGE, *trailing]


def cells(res, obj):
    if res.kind == "Event":
        return _event(obj)
    middle, fn, trailing = _PRINTERS.get(res.kind, ([], None, []))
    values = fn(obj) if fn else []
    ordered = values[:len(middle)]
    created = age(obj["metadata"].get("creationTimestamp"))
    return [obj["metadata"]["name"], *ordered, created,
            *values[len(middle):len(middle) + len(trailing)]]


def row(res, obj, include_object):
    out = {"cells": cells(res, obj)}
    if include_object == "Object":
        out["object"] = full_object(res, obj)
    elif include_object == "Metadata":
        out["object"] = {"kind": "PartialObjectMetadata",
                         "apiVersion": "meta.k8s.io/v1",
                         "metadata": obj["metadata"]}
    return out


def table(res, objs, include_object, rv=None, cont="", remaining=None):
    meta = {}
    if rv is not None:
        meta["resourceVersion"] = str(rv)
    if cont:
        meta["continue"] = cont
    if remaining is not None:
        meta["remainingItemCount"] = remaining
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": meta, "columnDefinitions": columns(res),
            "rows": [row(res, o, include_object) for o in objs]}


def wants_table(accept):
    """True when the Accept header asks for meta.k8s.io Table."""
    for part in (accept or "").split(","):
        params = [p.strip() for p in part.split(";")]
        if "as=Table" in params and any(p.startswith("g=meta.k8s.io")
                                        for p in params):
            return True
    return False
