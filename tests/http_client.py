"""One HTTP request to a test server over a fresh connection (server and studio tests)."""

import http.client
import json


def call(server, method, path, body=None, headers=None, timeout=60):
    """(status, headers, raw body); a ``body`` that is not bytes is sent as JSON."""
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()
