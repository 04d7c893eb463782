"""Bearer-token authentication and a small RBAC table.

Each accepted token maps to a user and a list of rules (verbs x resources,
`*` wildcards, resources as `plural` or `plural/subresource`). Unknown or
missing tokens are 401; a known token without a matching rule is 403 with
the real server's message shape. Tokens can be replaced at runtime to
simulate service-account token rotation. Tokens never appear in logs or
error messages.
"""

import secrets
import threading

from .errors import ApiError

ALL = (("*", "*"),)
READ_ONLY = (("get,list,watch", "*"),)


class Principal:
    def __init__(self, user, rules):
        self.user = user
        self.rules = [(_set(verbs), _set(resources)) for verbs, resources
                      in rules]

    def allows(self, verb, resource):
        return any(("*" in verbs or verb in verbs)
                   and ("*" in resources or resource in resources)
                   for verbs, resources in self.rules)


def _set(spec):
    if isinstance(spec, str):
        spec = spec.split(",")
    return frozenset(s.strip() for s in spec if s.strip())


class Auth:
    def __init__(self, token=None):
        self._lock = threading.Lock()
        self._tokens = {}
        self.admin_token = token or secrets.token_urlsafe(24)
        self.add(self.admin_token, "standin-admin", ALL)

    def add(self, token, user, rules):
        with self._lock:
            self._tokens[token] = Principal(user, rules)

    def remove(self, token):
        with self._lock:
            self._tokens.pop(token, None)

    def rotate(self, new_token, keep_old=False):
        """Replace the admin token; the old one stops working unless
        keep_old."""
        with self._lock:
            principal = self._tokens.get(self.admin_token) or \
                Principal("standin-admin", ALL)
            if not keep_old:
                self._tokens.pop(self.admin_token, None)
            self._tokens[new_token] = principal
            self.admin_token = new_token

    def authenticate(self, header):
        scheme, _, token = (header or "").partition(" ")
        with self._lock:
            principal = self._tokens.get(token.strip()) \
                if scheme.lower() == "bearer" else None
        if principal is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        return principal


def authorize(principal, verb, res, subresource, namespace, name):
    resource = f"{res.plural}/{subresource}" if subresource else res.plural
    if principal.allows(verb, resource):
        return
    subject = f'{res.qualified} "{name}"' if name else res.qualified
    where = (f'in the namespace "{namespace}"' if namespace
             else "at the cluster scope")
    details = {"group": res.group, "kind": res.plural}
    if name:
        details["name"] = name
    raise ApiError(403, "Forbidden",
                   f'{subject} is forbidden: User "{principal.user}" cannot '
                   f'{verb} resource "{resource}" in API group '
                   f'"{res.group}" {where}', details)
