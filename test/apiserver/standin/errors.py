"""API errors as the real server reports them: a Status object with code,
reason and message.

Every failure the stand-in answers goes through ApiError, so response bodies
are always `kind: Status` JSON. Message texts follow kube-apiserver's shape
(clients and humans grep for them) but are written here, not copied.
"""


class ApiError(Exception):
    """A failed request: HTTP code, Status reason, message, details."""

    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self):
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details:
            body["details"] = self.details
        body["code"] = self.code
        return body


def details_for(res, name=None, **extra):
    details = {"group": res.group, "kind": res.plural}
    if name:
        details["name"] = name
    details.update(extra)
    return details


def not_found(res, name):
    return ApiError(404, "NotFound", f'{res.qualified} "{name}" not found',
                    details_for(res, name))


def already_exists(res, name):
    return ApiError(409, "AlreadyExists",
                    f'{res.qualified} "{name}" already exists',
                    details_for(res, name))


def conflict(res, name, why=None):
    why = why or ("the object has been modified; please apply your changes "
                  "to the latest version and try again")
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {res.qualified} '
                    f'"{name}": {why}', details_for(res, name))


def invalid(res, name, field, value, why):
    """422 naming the object, the field and the bad value."""
    cause = {"reason": "FieldValueInvalid",
             "message": f"Invalid value: {value!r}: {why}", "field": field}
    return ApiError(422, "Invalid",
                    f'{res.kind}.{res.group or "core"} "{name}" is invalid: '
                    f'{field}: Invalid value: {value!r}: {why}',
                    details_for(res, name, causes=[cause]))


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def invalid_options(field, value, why):
    """422 for list/watch query parameters (kind ListOptions, as upstream)."""
    return ApiError(422, "Invalid",
                    f'ListOptions.meta.k8s.io "" is invalid: {field}: '
                    f'Invalid value: {value!r}: {why}',
                    {"group": "meta.k8s.io", "kind": "ListOptions",
                     "causes": [{"reason": "FieldValueInvalid",
                                 "message": why, "field": field}]})


def expired(message):
    return ApiError(410, "Expired", message)


def too_old(rv, oldest):
    return expired(f"too old resource version: {rv} ({oldest})")


def too_large(rv, current):
    return ApiError(504, "Timeout",
                    f"Too large resource version: {rv}, current: {current}",
                    {"causes": [{"reason": "ResourceVersionTooLarge",
                                 "message": "Too large resource version"}],
                     "retryAfterSeconds": 1},
                    {"Retry-After": "1"})


def unsupported_media(ctype):
    return ApiError(415, "UnsupportedMediaType",
                    f'the body of the request was in an unknown format - '
                    f'accepted media types include: application/json, '
                    f'application/yaml, application/merge-patch+json, '
                    f'application/strategic-merge-patch+json, '
                    f'application/json-patch+json (got "{ctype}")')


def method_not_allowed(method):
    return ApiError(405, "MethodNotAllowed",
                    f"the server does not allow this method on the requested "
                    f"resource ({method})")


def path_not_found(path):
    return ApiError(404, "NotFound",
                    "the server could not find the requested resource",
                    {"causes": [{"reason": "UnexpectedServerResponse",
                                 "message": f"404 page not found: {path}"}]})


# Codes the fault injector can answer with, and the reason the real server
# uses for each.
REASONS = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden",
    404: "NotFound", 409: "Conflict", 410: "Expired", 422: "Invalid",
    429: "TooManyRequests", 500: "InternalError",
    503: "ServiceUnavailable", 504: "Timeout",
}


def injected(code, retry_after=None):
    reason = REASONS.get(code, "InternalError")
    headers = {}
    details = None
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
        details = {"retryAfterSeconds": int(retry_after)}
    return ApiError(code, reason, f"injected fault: {reason} ({code})",
                    details, headers)
