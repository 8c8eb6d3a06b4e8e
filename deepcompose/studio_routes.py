"""The studio's HTTP routes, called from ``server.Handler`` (``deepcompose studio`` / ``serve``).

- ``GET /`` the page, ``GET /studio/<file>`` its static files (the script is ES modules,
  ``main.mjs`` importing the others, all served as JavaScript), from the package folder
  ``deepcompose/studio/`` only (a fixed file-name pattern; no path from a client is ever
  joined to a folder, so no traversal).
- ``GET /examples``: the bundled example melodies (``deepcompose.melodies``), each with its
  song in the JSON notes schema.
- ``POST /render``: a song in the JSON notes schema -> ``audio/wav`` (16-bit stereo 48 kHz).
- ``POST /convert?name=FILE.ext``: the bytes of a MIDI, MusicXML, ABC or JSON file -> the
  song as JSON notes (the server parses uploads with the same readers as the CLI).
- ``POST /export?format=midi|musicxml``: a song in JSON -> the file's bytes.

Every POST (``/compose`` included) first passes ``cross_origin_refusal``: any web page the
user visits can send requests to localhost, so a browser's write whose ``Origin`` (or
``Referer``) is not this server's own origin, whose ``Sec-Fetch-Site`` says cross-site, or
whose ``Host`` is not a loopback name (or the address the server was told to bind: DNS
rebinding) is refused with 403 and a JSON error. Requests with none of those browser headers
(curl, DAW scripts) are not a browser acting for another site and are served.

Errors follow the server's contract: bad input 400 JSON, same body limit (1 MiB), same
note and beat caps as ``/compose``.
"""

from __future__ import annotations

import ipaddress
import re
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from .errors import DeepcomposeError

STATIC_DIR = Path(__file__).resolve().parent / "studio"
STATIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}\.(html|js|mjs|css|svg|png|ico)$")
# Browsers run a module script (<script type="module">, import) only when it is served with
# a JavaScript MIME type; the page's modules end in .mjs so that node imports them as well.
CONTENT_TYPES = {"html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8",
                 "mjs": "text/javascript; charset=utf-8",
                 "css": "text/css; charset=utf-8", "svg": "image/svg+xml", "png": "image/png",
                 "ico": "image/x-icon"}
# Nothing from outside: the page may only talk to and load from this server.
CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
       "connect-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
POSTS = ("/render", "/convert", "/export")
UPLOAD_EXTENSIONS = (".mid", ".midi", ".musicxml", ".xml", ".mxl", ".abc", ".json")
EXPORTS = {"midi": (".mid", "audio/midi"),
           "musicxml": (".musicxml", "application/vnd.recordare.musicxml+xml")}
# A song's keys and the caps of one request when no server passes its own (server.py does).
DEFAULT_CAPS = (frozenset({"tempo", "time_signature", "tempos", "time_signatures", "key",
                           "pickup", "tracks", "notes"}), 20_000, 4096.0)
MAX_RENDER_SECONDS = 900.0  # 15 minutes of audio (about 170 MB of WAV)
LOOPBACK_NAMES = ("localhost", "localhost.")


# ---------------------------------------------------------------- cross-origin refusal


def _split_host(value: str) -> tuple[str, int | None]:
    """``host:port`` / ``[::1]:port`` / ``host`` -> (lower-case host, port or None)."""
    value = value.strip()
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::([0-9]{1,5}))?", value) or \
        re.fullmatch(r"([^:\[\]]+)(?::([0-9]{1,5}))?", value)
    if not m:
        return "", None
    return m.group(1).lower(), int(m.group(2)) if m.group(2) else None


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cross_origin_refusal(headers, server_address) -> str | None:
    """Why a POST with these headers must be refused, or None to let it through.

    Browsers send ``Origin`` with every POST (``Referer`` too, unless told not to, and
    ``Sec-Fetch-Site``); such a request must come from this server's own origin, and its
    ``Host`` must be a loopback name or the bound address, so that a page whose name was
    rebound to 127.0.0.1 (DNS rebinding) is refused too. A request with none of these
    headers is not a browser acting for a web page (curl, a DAW script) and is served.
    """
    bound, port = str(server_address[0]).lower(), int(server_address[1])
    browser = [h for h in ("Origin", "Referer", "Sec-Fetch-Site") if headers.get(h) is not None]
    if not browser:
        return None
    if (headers.get("Sec-Fetch-Site") or "").lower() in ("cross-site", "same-site"):
        return "cross-origin request refused (Sec-Fetch-Site)"
    host_header = headers.get("Host") or ""
    host, host_port = _split_host(host_header)
    # Bound to every address (--host 0.0.0.0) any Host names this server; otherwise only
    # loopback names or the bound address do.
    if bound not in ("0.0.0.0", "::") and not (_is_loopback(host) or host == bound):
        return f"cross-origin request refused: Host {host_header[:80]!r} is not this server"
    if host_port not in (None, port):
        return f"cross-origin request refused: Host {host_header[:80]!r} is not this server"
    for name in ("Origin", "Referer"):
        value = headers.get(name)
        if value is None:
            continue
        parts = urlsplit(value.strip())
        o_host, o_port = _split_host(parts.netloc)
        o_port = o_port or {"http": 80, "https": 443}.get(parts.scheme)
        if parts.scheme != "http" or o_port != port or not (
                o_host == host or (_is_loopback(o_host) and _is_loopback(host))):
            return f"cross-origin request refused: {name} {value[:80]!r} is not this server"
        return None  # Origin decides when present; Referer only when Origin is absent
    return None


# ---------------------------------------------------------------- replies


def send_bytes(handler, status: int, data: bytes, content_type: str, headers=()) -> None:
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Connection", "close")
        handler.send_header("X-Content-Type-Options", "nosniff")
        handler.send_header("Cache-Control", "no-store")
        for k, v in headers:
            handler.send_header(k, v)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)
    except OSError:
        pass  # the client went away
    handler.close_connection = True


def handle_get(handler) -> bool:
    """Serve ``/`` and ``/studio/<file>``; True when this request was one of them."""
    path = urlsplit(handler.path).path
    if path == "/examples":
        handler._guarded(examples)
        return True
    if path == "/":
        name = "index.html"
    elif path.startswith("/studio/"):
        name = path[len("/studio/"):]
    else:
        return False
    file = STATIC_DIR / name
    if not STATIC_NAME.fullmatch(name) or not file.is_file() or file.parent != STATIC_DIR:
        handler.send_json(404, {"error": f"no such studio file {name[:100]!r}"})
        return True
    ctype = CONTENT_TYPES[name.rsplit(".", 1)[1]]
    send_bytes(handler, 200, file.read_bytes(), ctype,
               headers=[("Content-Security-Policy", CSP), ("Referrer-Policy", "same-origin")])
    return True


def refuse_cross_origin(handler) -> bool:
    """Reply 403 and return True when this POST must be refused (see the module docstring)."""
    why = cross_origin_refusal(handler.headers, handler.server.server_address)
    if why is None:
        return False
    handler.send_json(403, {"error": why})
    return True


def handle_post(handler, path: str, body: bytes, caps=None) -> None:
    """``/render``, ``/convert``, ``/export``: DeepcomposeError -> 400, a bug -> 500.

    ``caps``: the server's ``(song keys, most notes, most beats)`` of a request (server.py
    passes its own, so that one number rules both; this module does not import the server).
    """
    query = parse_qs(urlsplit(handler.path).query)
    caps = caps or DEFAULT_CAPS

    def work():
        if path == "/render":
            return render(body, caps), "audio/wav", "song.wav"
        if path == "/convert":
            return convert(body, (query.get("name") or [""])[0]), "application/json", None
        fmt = (query.get("format") or ["midi"])[0]
        data, ext, ctype = export(body, fmt, caps)
        return data, ctype, f"song{ext}"

    try:
        data, ctype, filename = work()
    except DeepcomposeError as exc:
        text = (str(exc).splitlines() or ["bad input"])[0]
        handler.send_json(400, {"error": text if len(text) <= 300 else text[:297] + "..."})
        return
    except Exception as exc:  # a bug: report, keep serving
        import sys
        import traceback

        traceback.print_exc(file=sys.stderr)
        handler.send_json(500, {"error": f"internal error: {type(exc).__name__}"})
        return
    headers = [("Content-Disposition", f'attachment; filename="{filename}"')] if filename else []
    send_bytes(handler, 200, data, ctype, headers=headers)


# ---------------------------------------------------------------- the work


def song_from_body(body: bytes, caps=None):
    """A JSON song (the notes schema; request keys such as ``model`` are ignored) -> Song,
    within ``caps`` = (song keys, most notes, most beats)."""
    import json

    from .song import Song

    song_keys, max_notes, max_beats = caps or DEFAULT_CAPS

    try:
        obj = json.loads(body)
    except RecursionError:
        raise DeepcomposeError("request JSON is nested too deeply") from None
    except ValueError as exc:
        raise DeepcomposeError(f"request body is not valid JSON: {exc}"[:200]) from None
    if not isinstance(obj, dict):
        raise DeepcomposeError("request body must be a JSON object with 'tracks' or 'notes'")
    obj = {k: v for k, v in obj.items() if k in set(song_keys) | {"chords", "title"}}
    if ("tracks" in obj) == ("notes" in obj):
        raise DeepcomposeError("give exactly one of 'tracks' or 'notes'")
    if _count_notes(obj) > max_notes:
        raise DeepcomposeError(f"too many notes: a request takes at most {max_notes:,}")
    try:
        song = Song.from_notes(obj)
    except OverflowError:
        raise DeepcomposeError("a number in the request is out of range") from None
    if song.length_beats > max_beats:
        raise DeepcomposeError(f"the song is {song.length_beats:.0f} beats long; the server "
                               f"takes at most {max_beats:.0f}")
    return song


def _count_notes(obj: dict) -> int:
    tracks = obj.get("tracks")
    if isinstance(tracks, list):
        return sum(len(t["notes"]) for t in tracks
                   if isinstance(t, dict) and isinstance(t.get("notes"), list))
    return len(obj["notes"]) if isinstance(obj.get("notes"), list) else 0


def examples() -> dict:
    """``GET /examples``: ``{"examples": [{name, title, meter, bars, source, ..., song}]}``."""
    from . import melodies

    rows = melodies.describe()
    for row in rows:
        row["song"] = melodies.load(row["name"]).to_notes()
    return {"examples": rows}


def render(body: bytes, caps=None) -> bytes:
    """``POST /render``: JSON song -> WAV bytes."""
    from .io import audio

    song = song_from_body(body, caps)
    if song.note_count == 0:
        raise DeepcomposeError("the song has no notes to play")
    if song.length_seconds > MAX_RENDER_SECONDS:
        raise DeepcomposeError(f"the song is {song.length_seconds:.0f} s long; /render takes "
                               f"at most {MAX_RENDER_SECONDS:.0f} s")
    return audio.wav_bytes(song)


def convert(body: bytes, name: str) -> bytes:
    """``POST /convert?name=tune.mid``: an uploaded file's bytes -> JSON notes (bytes)."""
    import json

    from . import io as dio
    from .io.midi import parse_midi

    ext = Path(name).suffix.lower()
    if ext not in UPLOAD_EXTENSIONS:
        raise DeepcomposeError(f"cannot read {Path(name).name[:80]!r}: upload a file ending "
                               f"in {', '.join(UPLOAD_EXTENSIONS)}")
    if not body:
        raise DeepcomposeError("the uploaded file is empty")
    if ext in (".mid", ".midi"):
        song = parse_midi(body, "the uploaded file")
    else:
        with tempfile.TemporaryDirectory(prefix="deepcompose-upload-") as tmp:
            path = Path(tmp) / f"upload{ext}"  # never the client's name: no path from outside
            path.write_bytes(body)
            song = dio.read(path)
    if song.note_count == 0:
        raise DeepcomposeError("the uploaded file has no notes")
    return (json.dumps(song.to_notes(), allow_nan=False) + "\n").encode()


def export(body: bytes, fmt: str, caps=None) -> tuple[bytes, str, str]:
    """``POST /export?format=midi|musicxml``: JSON song -> (bytes, extension, content type)."""
    from . import io as dio
    from .io.midi import midi_bytes

    if fmt not in EXPORTS:
        raise DeepcomposeError(f"unknown export format {fmt[:40]!r}; use {', '.join(EXPORTS)}")
    song = song_from_body(body, caps)
    ext, ctype = EXPORTS[fmt]
    if fmt == "midi":
        return midi_bytes(song), ext, ctype
    with tempfile.TemporaryDirectory(prefix="deepcompose-export-") as tmp:
        path = Path(tmp) / f"song{ext}"
        dio.write(song, path)
        return path.read_bytes(), ext, ctype
