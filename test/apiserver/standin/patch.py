"""PATCH bodies: JSON merge patch (RFC 7386), strategic merge patch for the
built-in kinds served here, and JSON patch (RFC 6902).

Strategic merge knows the merge keys of the lists an ingress controller and
kubectl touch (Service ports by port, ownerReferences by uid, finalizers as
a set) and the `$patch`, `$retainKeys` and `$deleteFromPrimitiveList`
directives; every other list is replaced whole, as for merge patch.
`$setElementOrder` is accepted and ignored (order of merged lists follows
the stored object, new items appended). Server-side apply is not
implemented (415).
"""

import copy

from .errors import ApiError, bad_request, unsupported_media

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"

# (kind or None for every kind, dotted path) -> merge key; "" = set of
# primitives.
_MERGE_KEYS = {
    ("Service", "spec.ports"): "port",
    (None, "metadata.ownerReferences"): "uid",
    (None, "metadata.finalizers"): "",
}


def apply(content_type, target, patch):
    """New full object from the stored full object and a decoded patch."""
    ctype = (content_type or "").split(";")[0].strip()
    if ctype == MERGE:
        _expect(isinstance(patch, dict), "a merge patch must be a JSON object")
        return merge_patch(target, patch)
    if ctype == STRATEGIC:
        _expect(isinstance(patch, dict),
                "a strategic merge patch must be a JSON object")
        return strategic_patch(target, patch, target.get("kind"), "")
    if ctype == JSON_PATCH:
        _expect(isinstance(patch, list), "a JSON patch must be a JSON array")
        return json_patch(target, patch)
    raise unsupported_media(ctype)


def _expect(ok, message):
    if not ok:
        raise bad_request(message)


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_patch(target, patch, kind, path):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items()
                if k != "$patch"}
    if directive == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [x for x in result.get(field) or []
                             if x not in value]
        elif key.startswith("$"):
            continue
        elif value is None:
            result.pop(key, None)
        else:
            merged = _strategic_field(result.get(key), value, kind,
                                      f"{path}.{key}" if path else key)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _strategic_field(old, value, kind, path):
    merge_key = _MERGE_KEYS.get((kind, path), _MERGE_KEYS.get((None, path)))
    if merge_key is None or not isinstance(value, list):
        return strategic_patch(old, value, kind, path)
    old = old if isinstance(old, list) else []
    if merge_key == "":
        return old + [v for v in value if v not in old]
    return _merge_list(old, value, merge_key, kind, path)


def _merge_list(old, items, merge_key, kind, path):
    result = list(old)
    for item in items:
        if not isinstance(item, dict):
            raise bad_request(f"{path}: list items must be objects with "
                              f"{merge_key!r}")
        at = next((i for i, o in enumerate(result)
                   if isinstance(o, dict)
                   and o.get(merge_key) == item.get(merge_key)), None)
        if item.get("$patch") == "delete":
            if at is not None:
                del result[at]
        elif at is None:
            result.append(strategic_patch({}, item, kind, path))
        else:
            result[at] = strategic_patch(result[at], item, kind, path)
    return result


def json_patch(target, ops):
    doc = copy.deepcopy(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise bad_request(f"invalid JSON patch operation: {op!r}")
        doc = _json_patch_op(doc, op)
    return doc


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer: {path!r}")
    return [p.replace("~1", "/").replace("~0", "~")
            for p in path[1:].split("/")]


def _failed(op, why):
    return ApiError(422, "Invalid",
                    f"the JSON patch operation {op['op']} {op['path']} "
                    f"failed: {why}")


def _parent(doc, parts, op):
    cur = doc
    for part in parts[:-1]:
        try:
            cur = cur[int(part)] if isinstance(cur, list) else cur[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise _failed(op, f"path element {part!r} does not exist")
    return cur


def _get(doc, path, op):
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, op)
    try:
        last = parts[-1]
        return parent[int(last)] if isinstance(parent, list) else parent[last]
    except (KeyError, IndexError, ValueError, TypeError):
        raise _failed(op, f"{path} does not exist")


def _remove(doc, path, op):
    parts = _pointer(path)
    parent = _parent(doc, parts, op)
    try:
        if isinstance(parent, list):
            return parent.pop(int(parts[-1]))
        return parent.pop(parts[-1])
    except (KeyError, IndexError, ValueError, TypeError):
        raise _failed(op, f"{path} does not exist")


def _add(doc, path, value, op, replace=False):
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, op)
    last = parts[-1]
    if isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(value)
            return doc
        try:
            index = int(last)
            if replace:
                parent[index] = value
            elif 0 <= index <= len(parent):
                parent.insert(index, value)
            else:
                raise IndexError(index)
        except (ValueError, IndexError):
            raise _failed(op, f"index {last!r} is out of range")
    elif isinstance(parent, dict):
        if replace and last not in parent:
            raise _failed(op, f"{path} does not exist")
        parent[last] = value
    else:
        raise _failed(op, f"parent of {path} is not an object or array")
    return doc


def _json_patch_op(doc, op):
    kind = op["op"]
    if kind == "add":
        return _add(doc, op["path"], copy.deepcopy(op.get("value")), op)
    if kind == "replace":
        return _add(doc, op["path"], copy.deepcopy(op.get("value")), op,
                    replace=True)
    if kind == "remove":
        _remove(doc, op["path"], op)
        return doc
    if kind in ("move", "copy"):
        value = _get(doc, op.get("from", ""), op)
        if kind == "move":
            _remove(doc, op["from"], op)
        return _add(doc, op["path"], copy.deepcopy(value), op)
    if kind == "test":
        if _get(doc, op["path"], op) != op.get("value"):
            raise _failed(op, "test value does not match")
        return doc
    raise bad_request(f"unknown JSON patch operation {kind!r}")
