"""A test server in a thread, and one HTTP request to it over a fresh connection
(server and studio tests)."""

import contextlib
import http.client
import json
import threading

from deepcompose import server as srv


@contextlib.contextmanager
def running_server():
    """A deepcompose server on a free loopback port, serving in a thread until exit."""
    s = srv.make_server("127.0.0.1", 0, quiet=True)
    threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    try:
        yield s
    finally:
        s.shutdown()
        s.server_close()


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
