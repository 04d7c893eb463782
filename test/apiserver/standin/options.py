"""List and watch query parameters: parsing and the validation rules of
kube-apiserver (which combinations are 400 or 422).

It only reads the query; what the options mean for the data is store.py's
and watch.py's business.
"""

from dataclasses import dataclass

from .errors import bad_request, invalid_options
from .selectors import FieldSelector, LabelSelector


@dataclass
class ListOptions:
    watch: bool = False
    rv: str = None
    rv_match: str = None
    limit: int = 0
    cont: str = None
    timeout: int = 0
    bookmarks: bool = False
    send_initial: bool = None
    labels: LabelSelector = None
    fields: FieldSelector = None
    include_object: str = "Metadata"


def _one(query, name):
    values = query.get(name)
    return values[-1] if values else None


def _bool(query, name):
    value = _one(query, name)
    if value is None:
        return None
    if value.lower() in ("1", "true", "t"):
        return True
    if value.lower() in ("0", "false", "f", ""):
        return False
    raise bad_request(f"invalid boolean value for {name}: {value!r}")


def _int(query, name):
    value = _one(query, name)
    if value is None or value == "":
        return 0
    try:
        number = int(value)
    except ValueError:
        raise bad_request(f"invalid integer value for {name}: {value!r}")
    if number < 0:
        raise invalid_options(name, number, "must be greater than or equal "
                                            "to 0")
    return number


def parse(query, res, watch_forced=False):
    """ListOptions from a parsed query string (dict of lists)."""
    opts = ListOptions()
    opts.watch = watch_forced or bool(_bool(query, "watch"))
    opts.rv = _one(query, "resourceVersion") or None
    opts.rv_match = _one(query, "resourceVersionMatch") or None
    opts.limit = _int(query, "limit")
    opts.cont = _one(query, "continue") or None
    opts.timeout = _int(query, "timeoutSeconds")
    opts.bookmarks = bool(_bool(query, "allowWatchBookmarks"))
    opts.send_initial = _bool(query, "sendInitialEvents")
    opts.labels = LabelSelector(_one(query, "labelSelector"))
    opts.fields = FieldSelector(_one(query, "fieldSelector"), res)
    opts.include_object = _one(query, "includeObject") or "Metadata"
    _validate(opts)
    return opts


def _validate(opts):
    if opts.include_object not in ("None", "Metadata", "Object"):
        raise bad_request(f"includeObject must be one of None, Metadata, "
                          f"Object, not {opts.include_object!r}")
    if opts.rv_match is not None:
        _validate_rv_match(opts)
    if opts.send_initial is not None:
        _validate_send_initial(opts)
    if opts.cont and not opts.watch and opts.rv not in (None, "0"):
        raise bad_request("specifying resource version is not allowed when "
                          "using continue")


def _validate_rv_match(opts):
    if opts.rv_match not in ("NotOlderThan", "Exact"):
        raise invalid_options("resourceVersionMatch", opts.rv_match,
                              'supported values: "Exact", "NotOlderThan"')
    if opts.watch and opts.send_initial is None:
        raise invalid_options("resourceVersionMatch", opts.rv_match,
                              "resourceVersionMatch is forbidden for watch "
                              "unless sendInitialEvents is provided")
    if opts.watch and opts.rv_match != "NotOlderThan":
        raise invalid_options("resourceVersionMatch", opts.rv_match,
                              'supported values: "NotOlderThan"')
    if opts.rv is None and not opts.watch:
        raise invalid_options("resourceVersionMatch", opts.rv_match,
                              "resourceVersionMatch is forbidden unless "
                              "resourceVersion is provided")
    if opts.cont:
        raise invalid_options("resourceVersionMatch", opts.rv_match,
                              "resourceVersionMatch is forbidden when "
                              "continue is provided")
    if opts.rv_match == "Exact" and opts.rv == "0":
        raise invalid_options("resourceVersionMatch", opts.rv_match,
                              'resourceVersionMatch "Exact" is forbidden for '
                              'resourceVersion "0"')


def _validate_send_initial(opts):
    if not opts.watch:
        raise invalid_options("sendInitialEvents", opts.send_initial,
                              "sendInitialEvents is forbidden for list")
    if opts.rv_match != "NotOlderThan":
        raise invalid_options("resourceVersionMatch", opts.rv_match,
                              "sendInitialEvents requires setting "
                              "resourceVersionMatch to NotOlderThan")
    if not opts.bookmarks:
        raise invalid_options("allowWatchBookmarks", opts.bookmarks,
                              "sendInitialEvents requires setting "
                              "allowWatchBookmarks to true")
