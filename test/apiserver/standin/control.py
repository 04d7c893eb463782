"""The control API: `/__control/<name>` on the stand-in's own port, without
authentication, calling the StandIn method of the same name.

GET for the read-only ones (query parameters as arguments), POST with a
JSON object of keyword arguments for the rest. The answer is
`{"result": <return value>}`; bad arguments are a 400 Status. A restart is
answered first and carried out just after, since it closes the connection
it came on.
"""

import json
import threading

from .errors import ApiError, bad_request

GET_CALLS = ("state", "requests", "objects")
POST_CALLS = ("fail", "delay", "clear_faults", "cut_watches", "inject_garbage",
              "truncate_watches", "end_watches", "compact", "rotate_token",
              "add_token", "remove_token", "restart", "set", "load", "reset",
              "clear_requests", "wait_for_watches", "create", "update",
              "apply", "delete")


class Control:
    def __init__(self, standin):
        self.standin = standin

    def handle(self, handler, name):
        try:
            kwargs = self._arguments(handler, name)
            if name == "restart":
                handler.send_json(200, {"result": None})
                handler.close_connection = True
                threading.Thread(target=self.standin.restart, kwargs=kwargs,
                                 daemon=True).start()
                return
            result = getattr(self.standin, name)(**kwargs)
        except (TypeError, ValueError, KeyError) as err:
            raise bad_request(f"control {name}: {err}")
        except ApiError:
            raise
        handler.send_json(200, {"result": result})

    @staticmethod
    def _arguments(handler, name):
        if handler.command == "GET" and name in GET_CALLS:
            return {k: v[-1] for k, v in handler.query.items()}
        if handler.command != "POST" or name not in POST_CALLS:
            raise ApiError(404, "NotFound",
                           f"no control call {handler.command} {name}; GET: "
                           f"{', '.join(GET_CALLS)}; POST: "
                           f"{', '.join(POST_CALLS)}")
        if not handler.body.strip():
            return {}
        try:
            kwargs = json.loads(handler.body)
        except ValueError as err:
            raise bad_request(f"control {name}: body is not JSON: {err}")
        if not isinstance(kwargs, dict):
            raise bad_request(f"control {name}: body must be a JSON object "
                              f"of arguments")
        return kwargs
