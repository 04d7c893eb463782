"""Label and field selectors, parsed from query strings and matched against
stored objects.

Label selectors: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`,
`k notin (a,b)`, `k>N`, `k<N`, comma = AND. Field selectors: `path=v`,
`path==v`, `path!=v` over metadata.name, metadata.namespace and the fields a
kind declares selectable. Parse errors are 400s naming the bad term, as the
real server answers.
"""

import re

from .errors import bad_request

_NAME = r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"
_KEY = rf"(?:[a-z0-9A-Z](?:[-a-z0-9A-Z.]*[a-z0-9A-Z])?/)?{_NAME}"
_VALUE = rf"(?:{_NAME})?"
_SET_RE = re.compile(rf"^({_KEY})\s+(in|notin)\s+\(([^()]*)\)$")
_CMP_RE = re.compile(rf"^({_KEY})\s*(==|!=|=|>|<)\s*({_VALUE})$")
_EXISTS_RE = re.compile(rf"^(!?)\s*({_KEY})$")


def split_terms(text):
    """Split on commas that are not inside parentheses."""
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return [t.strip() for t in terms if t.strip()]


class LabelSelector:
    def __init__(self, text):
        self.text = text or ""
        self.requirements = [self._parse(t) for t in split_terms(self.text)]

    @staticmethod
    def _parse(term):
        m = _SET_RE.match(term)
        if m:
            values = {v.strip() for v in m.group(3).split(",") if v.strip()}
            if not values:
                raise bad_request(f"unable to parse requirement: {term!r}: "
                                  f"for 'in', 'notin' operators, values set "
                                  f"can't be empty")
            return (m.group(1), m.group(2), values)
        m = _CMP_RE.match(term)
        if m:
            key, op, value = m.groups()
            if op in (">", "<") and not value.isdigit():
                raise bad_request(f"unable to parse requirement: {term!r}: "
                                  f"for 'Gt', 'Lt' operators, the value must "
                                  f"be an integer")
            return (key, "=" if op == "==" else op, value)
        m = _EXISTS_RE.match(term)
        if m:
            return (m.group(2), "!" if m.group(1) else "exists", None)
        raise bad_request(f"unable to parse requirement: {term!r}")

    def __bool__(self):
        return bool(self.requirements)

    def matches(self, labels):
        labels = labels or {}
        return all(_label_ok(labels, key, op, arg)
                   for key, op, arg in self.requirements)


def _label_ok(labels, key, op, arg):
    present = key in labels
    value = labels.get(key)
    if op == "exists":
        return present
    if op == "!":
        return not present
    if op == "=":
        return present and value == arg
    if op == "!=":
        return not present or value != arg
    if op == "in":
        return present and value in arg
    if op == "notin":
        return not present or value not in arg
    if not present or not value.lstrip("-").isdigit():
        return False
    return int(value) > int(arg) if op == ">" else int(value) < int(arg)


_FIELD_RE = re.compile(r"^([A-Za-z0-9_.]+)\s*(==|!=|=)(.*)$", re.S)


def _unescape(value):
    """Field selector values escape `\\`, `,` and `=` with a backslash."""
    return re.sub(r"\\(.)", r"\1", value)


class FieldSelector:
    def __init__(self, text, res):
        self.text = text or ""
        allowed = ("metadata.name", "metadata.namespace") + res.field_selectors
        self.requirements = []
        for term in _split_unescaped(self.text):
            m = _FIELD_RE.match(term)
            if not m:
                raise bad_request(f"invalid selector: {term!r}; can't "
                                  f"understand {term!r}")
            path, op, value = m.group(1), m.group(2), _unescape(m.group(3))
            if path not in allowed:
                raise bad_request(f'"{path}" is not a known field selector: '
                                  f'only {", ".join(map(repr, allowed))}')
            self.requirements.append((path.split("."), op != "!=", value))

    def __bool__(self):
        return bool(self.requirements)

    def matches(self, obj):
        return all((_field_value(obj, path) == value) == equal
                   for path, equal, value in self.requirements)


def _split_unescaped(text):
    terms, cur, escaped = [], [], False
    for ch in text:
        if escaped:
            cur.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            terms.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    terms.append("".join(cur))
    return [t.strip() for t in terms if t.strip()]


def _field_value(obj, path):
    cur = obj
    for part in path:
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


class Filter:
    """Namespace + label + field selection over stored items."""

    def __init__(self, namespace=None, labels=None, fields=None):
        self.namespace = namespace
        self.labels = labels
        self.fields = fields

    def matches(self, obj):
        meta = obj.get("metadata", {})
        if self.namespace is not None \
                and meta.get("namespace") != self.namespace:
            return False
        if self.labels and not self.labels.matches(meta.get("labels")):
            return False
        if self.fields and not self.fields.matches(obj):
            return False
        return True
