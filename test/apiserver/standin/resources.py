"""The resource catalogue: which kinds the stand-in serves and how.

One Resource per served collection, with what discovery reports (kind,
scope, verbs, short names) and the per-kind storage rules the real server's
strategies apply (status subresource, generation, selectable fields,
immutable fields). It does not store or validate objects; store.py does.
"""

from dataclasses import dataclass

VERBS = ("create", "delete", "deletecollection", "get", "list", "patch",
         "update", "watch")
STATUS_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple = ()
    categories: tuple = ()
    # Kinds with a /status subresource: main writes keep the old status,
    # /status writes change nothing else, create clears status.
    status_subresource: bool = False
    # Top-level fields whose change bumps metadata.generation; none = the
    # kind has no generation.
    generation_fields: tuple = ()
    # Field selectors beyond metadata.name and metadata.namespace.
    field_selectors: tuple = ()
    # PUT on a missing object creates it (leases, events, endpoints).
    create_on_update: bool = False
    # Dotted paths that may not change after create.
    immutable: tuple = ()
    # Name rule: "subdomain" (RFC 1123 subdomain), "label" (RFC 1123
    # label) or "label1035" (RFC 1035 label, Services).
    name_format: str = "subdomain"

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self):
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def singular(self):
        return self.kind.lower()

    @property
    def list_kind(self):
        return self.kind + "List"

    @property
    def prefix(self):
        """Bytes that turn a stored item into a full object (see store.py)."""
        return (f'{{"kind":"{self.kind}","apiVersion":"{self.api_version}",'
                .encode())


EVENT_FIELDS = ("involvedObject.kind", "involvedObject.namespace",
                "involvedObject.name", "involvedObject.uid",
                "involvedObject.apiVersion", "involvedObject.resourceVersion",
                "involvedObject.fieldPath", "reason", "reportingComponent",
                "source", "type")

CATALOGUE = (
    Resource("", "v1", "namespaces", "Namespace", False, ("ns",),
             status_subresource=True, field_selectors=("status.phase",),
             name_format="label"),
    Resource("", "v1", "services", "Service", True, ("svc",), ("all",),
             status_subresource=True, generation_fields=("spec",),
             name_format="label1035"),
    Resource("", "v1", "endpoints", "Endpoints", True, ("ep",),
             create_on_update=True),
    Resource("", "v1", "secrets", "Secret", True,
             field_selectors=("type",), immutable=("type",)),
    Resource("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    Resource("", "v1", "events", "Event", True, ("ev",),
             field_selectors=EVENT_FIELDS, create_on_update=True),
    Resource("", "v1", "pods", "Pod", True, ("po",), ("all",),
             status_subresource=True, generation_fields=("spec",),
             field_selectors=("spec.nodeName", "status.phase")),
    Resource("networking.k8s.io", "v1", "ingresses", "Ingress", True,
             ("ing",), status_subresource=True, generation_fields=("spec",)),
    Resource("networking.k8s.io", "v1", "ingressclasses", "IngressClass",
             False, generation_fields=("spec",),
             immutable=("spec.controller",)),
    Resource("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice",
             True, generation_fields=("addressType", "endpoints", "ports"),
             immutable=("addressType",)),
    Resource("coordination.k8s.io", "v1", "leases", "Lease", True,
             create_on_update=True),
)

_BY_NAME = {}
for _res in CATALOGUE:
    for _name in (_res.plural, _res.kind, _res.kind.lower(), _res.singular,
                  _res.qualified, *_res.short_names):
        _BY_NAME[_name] = _res
_BY_GVR = {(r.group, r.version, r.plural): r for r in CATALOGUE}


def find(name):
    """Resource for a plural, Kind, singular, short name or plural.group."""
    res = _BY_NAME.get(name)
    if res is None:
        raise KeyError(f"unknown resource {name!r}")
    return res


def by_path(group, version, plural):
    return _BY_GVR.get((group, version, plural))


def for_object(obj):
    """Resource of a full object, from its apiVersion and kind."""
    kind = obj.get("kind")
    api_version = obj.get("apiVersion")
    res = _BY_NAME.get(kind) if isinstance(kind, str) else None
    if res is None or res.kind != kind or res.api_version != api_version:
        raise KeyError(f"unknown kind {api_version}/{kind}")
    return res


def group_versions():
    """(group, version) pairs in catalogue order, core first."""
    seen = []
    for res in CATALOGUE:
        if (res.group, res.version) not in seen:
            seen.append((res.group, res.version))
    return seen


# Discovery documents.

def api_versions(server_address):
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_group(group):
    versions = [{"groupVersion": f"{g}/{v}", "version": v}
                for g, v in group_versions() if g == group]
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group,
            "versions": versions, "preferredVersion": versions[0]}


def api_group_list():
    groups = []
    for group, _ in group_versions():
        if group and all(g["name"] != group for g in groups):
            doc = api_group(group)
            del doc["kind"], doc["apiVersion"]
            groups.append(doc)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def resource_list(group, version):
    entries = []
    for res in CATALOGUE:
        if (res.group, res.version) != (group, version):
            continue
        entry = {"name": res.plural, "singularName": res.singular,
                 "namespaced": res.namespaced, "kind": res.kind,
                 "verbs": list(VERBS)}
        if res.short_names:
            entry["shortNames"] = list(res.short_names)
        if res.categories:
            entry["categories"] = list(res.categories)
        entries.append(entry)
        if res.status_subresource:
            entries.append({"name": res.plural + "/status", "singularName": "",
                            "namespaced": res.namespaced, "kind": res.kind,
                            "verbs": list(STATUS_VERBS)})
    if not entries:
        return None
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": gv, "resources": entries}
