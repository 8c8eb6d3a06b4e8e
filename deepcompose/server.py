"""Localhost JSON server for DAW bridges: ``deepcompose serve``.

Endpoints (JSON in and out, beats throughout):

- ``GET /health`` -> ``{"status": "ok", "models_loaded": [...]}``
- ``GET /models`` -> ``{"models": [...], "families": [...]}``: one row per ``--model``
  (``name``, ``tasks``, ``styles``, ``controls``, ``loaded``) and one per family of the
  family table (``family``, ``model``, ``styles``, ``tasks``, ``weights``, ``card``,
  ``trained``, ``loaded``; ``deepcompose models --json`` prints the same rows)
- ``POST /compose`` -> the composed song in the JSON notes schema of docs/DESIGN.md.
  The body is that schema (``tracks`` or ``notes``, plus ``tempo``, ``time_signature``, ...)
  and the request fields ``model``, ``task``, ``track``, ``pickup``, ``use_chords`` and the
  controls of ``controls.py`` (``seed``, ``temperature``, ``candidates``, ``bars``,
  ``ensemble`` and each model's own), checked by the same contract as the CLI with the
  same messages.

Chords: an answer's ``chords`` (``[[start_beat, end_beat, label], ...]``, the chords the
result played; ``[]`` for a chorale) is part of the song, so any answer posts back as it
is, to any model and task: a ``chords`` list is the song's record, kept in ``Song.chords``
and played by no model unless asked. ``"use_chords": true`` asks: the band (``"model":
"gan", "style": "pop"``) then plays the posted song's ``chords`` (the CLI's ``--chords``);
it is a 400 for a model or style without a chords control, or a song without chords.
Chord text (``"chords": "Am | F | C | G"``, bars split by ``|``) is never a record: it is
the band's chords control itself, as ``--chords`` text in the CLI.

Errors are JSON ``{"error": "..."}``: bad input 400, unknown path 404, wrong method 405,
no ``Content-Length`` (or a chunked body) 411, body too large 413. A request that
fails inside a model is a 500 and the server keeps serving.

Safety: the server binds 127.0.0.1 unless told otherwise; a melody is only ever
inline notes (never a path), so nothing a client sends makes it read or write a
file. Caps (on top of ``deepcompose.limits``):

==========================  ========  ==========================================
cap                         value     why
==========================  ========  ==========================================
``MAX_REQUEST_BYTES``       1 MiB     body size; checked from Content-Length first
``MAX_REQUEST_NOTES``       20,000    notes in one request (all tracks)
``MAX_REQUEST_BEATS``       4,096     end of the last note (1,024 bars of 4/4)
``SOCKET_TIMEOUT_S``        10 s      any single read or write on a connection
``REQUEST_DEADLINE_S``      30 s      to receive a whole request (slow clients)
``MAX_CONNECTIONS``         64        connections handled at once; more wait
==========================  ========  ==========================================

Concurrency: one thread per connection (at most ``MAX_CONNECTIONS``), and one
lock per model, so requests for different models run side by side while calls
into one model are serialized (each call seeds its own generator, so results do
not depend on what else is running).
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import sys
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .errors import DeepcomposeError
from .limits import MAX_REQUEST_BYTES
from .server_request import MAX_REQUEST_BEATS, MAX_REQUEST_NOTES, SONG_KEYS, parse_request

SOCKET_TIMEOUT_S = 10.0
REQUEST_DEADLINE_S = 30.0
MAX_CONNECTIONS = 64

ROUTES = {"/health": "GET", "/models": "GET", "/compose": "POST"}
# the studio page's writes (GET / and /studio/<file> are served by studio_routes)
ROUTES.update({"/render": "POST", "/convert": "POST", "/export": "POST"})


# ---------------------------------------------------------------- the app


class App:
    """What the handlers call: model listing and composing, with one lock per model."""

    def __init__(self):
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, model: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(model, threading.Lock())

    @staticmethod
    def loaded() -> list[str]:
        """The families loaded in this process."""
        from .models.common.weights import loaded

        return sorted(loaded())

    def models(self) -> dict:
        """``GET /models``: one row per ``--model`` (tasks, styles, controls) and one per
        family (its weights, card, styles, whether it is loaded)."""
        from .models import registry

        loaded = frozenset(self.loaded())

        def no_paths(row: dict) -> dict:  # say whether files ship; never where they are
            return {**row, **{k: row[k] is not None for k in ("weights", "card") if k in row}}

        return {"models": [no_paths(r) for r in registry.describe_models(loaded)],
                "families": [no_paths(r) for r in registry.describe(loaded)]}

    def compose(self, body: bytes) -> dict:
        """Body bytes -> the composed song as JSON notes (DeepcomposeError for bad input)."""
        from .pipeline import compose

        song, kw = parse_request(body)
        with self._lock(kw["model"]):
            out = compose(song, **kw)
        return out.to_notes()

    def preload(self, names) -> None:
        """Load the families ``names`` play now (a model, ``MODEL:STYLE`` or a family, see
        ``registry.families_named``); a family without weights is a warning, not a failure."""
        from .models.common.weights import get_model
        from .models.registry import families_named

        for name in names:
            try:
                families = families_named(name)
            except DeepcomposeError as exc:
                raise DeepcomposeError(f"cannot preload {name!r}: {exc}") from None
            for fam in families:
                try:
                    get_model(fam.name)
                except DeepcomposeError as exc:
                    print(f"warning: not preloading {fam.name}: {exc}", file=sys.stderr)


class Handler(BaseHTTPRequestHandler):
    """One connection, one request (HTTP/1.0: the connection closes after the reply)."""

    server_version = "deepcompose"
    timeout = SOCKET_TIMEOUT_S
    app: App  # set by make_server on a subclass
    quiet = False

    # -- connection lifetime: a hard deadline for receiving the request

    def setup(self):
        super().setup()
        self._deadline = threading.Timer(REQUEST_DEADLINE_S, self._expire)
        self._deadline.daemon = True
        self._deadline.start()

    def _expire(self):
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _received(self):
        self._deadline.cancel()

    def finish(self):
        self._deadline.cancel()
        try:
            super().finish()
        except OSError:
            pass

    # -- replies

    def send_json(self, status: int, obj, headers=()) -> None:
        from .studio_routes import send_bytes

        data = (json.dumps(obj, allow_nan=False) + "\n").encode()
        send_bytes(self, status, data, "application/json", headers)

    def send_error(self, code, message=None, explain=None):
        """http.server's own errors (bad request line, headers too long, ...) as JSON."""
        try:
            text = message or HTTPStatus(code).phrase
        except ValueError:
            text = "error"
        self.send_json(code, {"error": text})

    def log_message(self, format, *args):
        if not self.quiet:
            super().log_message(format, *args)

    # -- routing

    def _route(self, method: str) -> str | None:
        """The path if ``method`` is allowed on it; otherwise replies 404/405 and returns None."""
        path = urlsplit(self.path).path
        if path not in ROUTES:
            self.send_json(404, {"error": f"no such endpoint {path[:100]!r}; try "
                                          f"{', '.join(ROUTES)}"})
            return None
        if ROUTES[path] != method:
            self.send_json(405, {"error": f"{path} takes {ROUTES[path]}, not {method}"},
                           headers=[("Allow", ROUTES[path])])
            return None
        return path

    def do_GET(self):
        self._received()
        if self._studio_get():
            return
        path = self._route("GET")
        if path == "/health":
            self.send_json(200, {"status": "ok", "models_loaded": self.app.loaded()})
        elif path == "/models":
            self._guarded(self.app.models)

    def do_POST(self):
        path = self._route("POST")
        if path is None or self._cross_origin():
            self._received()
            return
        body = self._read_body()
        self._received()
        if body is not None and path in ("/render", "/convert", "/export"):
            from . import studio_routes

            studio_routes.handle_post(self, path, body, caps=(SONG_KEYS, MAX_REQUEST_NOTES,
                                                              MAX_REQUEST_BEATS))
        elif body is not None:
            self._guarded(lambda: self.app.compose(body))

    def _studio_get(self) -> bool:
        """``GET /`` (the studio page) and ``/studio/<file>``; see studio_routes.py."""
        from . import studio_routes

        return studio_routes.handle_get(self)

    def _cross_origin(self) -> bool:
        """Refuse (403) a POST from another site's page; see studio_routes.py."""
        from . import studio_routes

        return studio_routes.refuse_cross_origin(self)

    def _wrong_method(self):
        self._received()
        self._route(self.command)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _wrong_method

    def _guarded(self, work) -> None:
        """Run ``work``; DeepcomposeError -> 400, anything else -> 500, the server lives on."""
        t0 = time.perf_counter()
        try:
            result = work()
        except DeepcomposeError as exc:
            text = (str(exc).splitlines() or ["bad input"])[0]
            self.send_json(400, {"error": text if len(text) <= 300 else text[:297] + "..."})
            return
        except Exception as exc:  # a bug or a model failure: report, keep serving
            traceback.print_exc(file=sys.stderr)
            self.send_json(500, {"error": f"internal error: {type(exc).__name__}"})
            return
        self.send_json(200, result,
                       headers=[("X-Seconds", f"{time.perf_counter() - t0:.3f}")])

    def _read_body(self) -> bytes | None:
        """The request body, or None after replying 400/411/413."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.send_json(411, {"error": "chunked bodies are not accepted; send Content-Length"})
            return None
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            self.send_json(411, {"error": "POST /compose needs a Content-Length header"})
            return None
        if len(set(lengths)) != 1 or not re.fullmatch(r"[0-9]{1,20}", lengths[0].strip()):
            self.send_json(400, {"error": "invalid Content-Length header"})
            return None
        length = int(lengths[0])
        if length > MAX_REQUEST_BYTES:
            self.send_json(413, {"error": f"request body is {length:,} bytes; the limit is "
                                          f"{MAX_REQUEST_BYTES:,} (1 MiB)"})
            self._drain(length)
            return None
        try:
            body = self.rfile.read(length)
        except OSError:  # timeout or deadline
            body = b""
        if len(body) != length:
            self.send_json(400, {"error": "request body shorter than its Content-Length "
                                          "(or too slow to arrive)"})
            return None
        return body

    def _drain(self, length: int) -> None:
        """Read and drop a refused body for a moment, so the client sees the reply, not a reset."""
        end = time.monotonic() + 1.0
        left = min(length, 4 * MAX_REQUEST_BYTES)
        try:
            self.connection.settimeout(0.2)
            while left > 0 and time.monotonic() < end:
                chunk = self.connection.recv(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:
            pass


class Server(ThreadingHTTPServer):
    """ThreadingHTTPServer with at most ``MAX_CONNECTIONS`` handler threads at once."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address, handler, max_connections: int = MAX_CONNECTIONS):
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        self._slots.acquire()  # further connections wait in the listen backlog
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request, client_address):
        print(f"warning: connection from {client_address[0]} failed: "
              f"{sys.exc_info()[1]!r}"[:300], file=sys.stderr)

    @property
    def url(self) -> str:
        """Where a browser on this machine reaches the server (a wildcard bind -> loopback)."""
        host, port = self.server_address[:2]
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def make_server(host: str = "127.0.0.1", port: int = 8765, preload=(), quiet: bool = False):
    """A ready (not yet serving) server; ``port=0`` picks a free port (see ``server.url``).

    Call ``server.serve_forever()`` (e.g. in a thread) and ``server.shutdown()``.
    """
    app = App()
    app.preload(preload)
    handler = type("DeepcomposeHandler", (Handler,), {"app": app, "quiet": quiet})
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    cls = type("DeepcomposeServer", (Server,), {"address_family": family})
    try:
        return cls((host, port), handler)
    except OSError as exc:
        raise DeepcomposeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve(host: str = "127.0.0.1", port: int = 8765, preload=("gan",), on_ready=None,
          what: str = "serving") -> None:
    """Serve until Ctrl-C. Binds loopback unless ``host`` says otherwise.

    ``on_ready(url)`` runs once the socket listens (the studio opens the browser there).
    """
    server = make_server(host, port, preload)
    if not _is_loopback(host):
        print(f"warning: listening on {host}, reachable from other machines; the server has "
              "no authentication", file=sys.stderr)
    print(f"deepcompose {what} on {server.url}/ (models loaded: "
          f"{', '.join(App.loaded()) or 'none'}); Ctrl-C stops", file=sys.stderr)
    if on_ready is not None:
        on_ready(server.url + "/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
