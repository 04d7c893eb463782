"""The smallest OpenAPI v3 documents kubectl needs.

kubectl create/replace/apply validate by default: they ask /openapi/v3
whether the kind's PATCH operation takes the `fieldValidation` query
parameter and, if so, leave validation to the server (which here accepts
unknown fields). The PATCH operations carry no request-body schema, so
`kubectl apply` builds its strategic patches from its compiled-in types
instead of from OpenAPI. No schemas are served: `kubectl explain` does not
work against the stand-in.
"""

from .resources import CATALOGUE, group_versions

_HASH = "standin"
_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "force")


def _gv_path(group, version):
    return f"apis/{group}/{version}" if group else f"api/{version}"


def root():
    return {"paths": {
        _gv_path(g, v): {"serverRelativeURL":
                         f"/openapi/v3/{_gv_path(g, v)}?hash={_HASH}"}
        for g, v in group_versions()}}


def group_version(path):
    """Document for `apis/<group>/<version>` or `api/v1`, or None."""
    for group, version in group_versions():
        if _gv_path(group, version) == path:
            return _document(group, version)
    return None


def _document(group, version):
    paths = {}
    for res in CATALOGUE:
        if (res.group, res.version) != (group, version):
            continue
        base = f"/{_gv_path(group, version)}"
        scope = "/namespaces/{namespace}" if res.namespaced else ""
        paths[f"{base}{scope}/{res.plural}/{{name}}"] = {"patch": {
            "operationId": f"patch{res.kind}",
            "parameters": [{"name": name, "in": "query",
                            "schema": {"type": "string"}}
                           for name in _PARAMS],
            "responses": {"200": {"description": "OK"}},
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": {
                "group": group, "version": version, "kind": res.kind}}}
    return {"openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "paths": paths, "components": {"schemas": {}}}
