"""A small HTTP client for the stand-in's tests: plain requests returning
(status, headers, decoded JSON) and watch streams read line by line, with
the chunk-level failures (clean end, cut mid-chunk) visible to the test."""

import http.client
import json
import ssl
from urllib.parse import urlencode, urlsplit


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body)


class Client:
    def __init__(self, url, token=None, ca_file=None, timeout=10.0):
        parts = urlsplit(url)
        self.host = parts.hostname
        self.port = parts.port
        self.tls = parts.scheme == "https"
        self.token = token
        self.timeout = timeout
        self.context = None
        if self.tls:
            self.context = ssl.create_default_context(cafile=ca_file)

    def connection(self):
        if self.tls:
            return http.client.HTTPSConnection(self.host, self.port,
                                               timeout=self.timeout,
                                               context=self.context)
        return http.client.HTTPConnection(self.host, self.port,
                                          timeout=self.timeout)

    def _headers(self, extra, token):
        headers = {"Accept": "application/json"}
        token = self.token if token is None else token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        headers.update(extra or {})
        return headers

    def request(self, method, path, body=None, query=None, headers=None,
                token=None, content_type="application/json"):
        if query:
            path = f"{path}?{urlencode(query)}"
        headers = self._headers(headers, token)
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else \
                json.dumps(body).encode()
            headers["Content-Type"] = content_type
        conn = self.connection()
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            return Response(resp.status, dict(resp.getheaders()),
                            resp.read())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body, content_type="application/merge-patch+json",
              **kw):
        return self.request("PATCH", path, body, content_type=content_type,
                            **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body, **kw)

    def watch(self, path, headers=None, token=None, **query):
        query.setdefault("watch", "1")
        conn = self.connection()
        conn.request("GET", f"{path}?{urlencode(query)}",
                     headers=self._headers(headers, token))
        return Watch(conn, conn.getresponse())


class Watch:
    """An open watch response. next() returns the next event (dict), None
    at a clean end of the stream; a broken stream raises
    http.client.IncompleteRead or an OSError."""

    def __init__(self, conn, resp):
        self.conn = conn
        self.resp = resp
        self.status = resp.status

    def next_line(self):
        return self.resp.readline()

    def next(self):
        line = self.next_line()
        if not line:
            return None
        return json.loads(line)

    def events(self, count):
        return [self.next() for _ in range(count)]

    def body(self):
        return self.resp.read()

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
