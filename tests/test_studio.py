"""The studio's server routes: page and static files, /render, /convert, /export, /examples,
and the refusal of cross-origin writes on every POST (``deepcompose/studio_routes.py``)."""

from __future__ import annotations

import io
import json
import re
import wave

import pytest
from http_client import call, running_server

from deepcompose import server as srv
from deepcompose import studio_routes

MELODY = [{"pitch": p, "start": i * 0.5, "duration": 0.45, "velocity": 90}
          for i, p in enumerate([67, 69, 71, 72, 74, 72, 71, 69])]
SONG = {"tempo": 120, "time_signature": [4, 4],
        "tracks": [{"name": "Melody", "program": 0, "is_drum": False, "notes": MELODY},
                   {"name": "Drums", "program": 0, "is_drum": True,
                    "notes": [{"pitch": 36, "start": b, "duration": 0.1, "velocity": 110}
                              for b in range(4)]}]}


@pytest.fixture(scope="module")
def server():
    with running_server() as s:
        yield s


def origin(server):
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_page_and_static_files(server):
    status, headers, body = call(server, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"deepcompose" in body
    assert b'<script type="module" src="/studio/main.mjs">' in body
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    for name, ctype in (("studio.css", "text/css"), ("icon.svg", "image/svg+xml")):
        status, headers, body = call(server, "GET", f"/studio/{name}")
        assert status == 200 and headers["Content-Type"].startswith(ctype) and body


def test_every_module_the_page_imports_is_served_as_javascript(server):
    """A browser runs a module script only with a JavaScript MIME type; and every module
    main.mjs reaches by import is a file the server serves (none missing, none outside)."""
    seen, todo = set(), ["main.mjs"]
    while todo:
        name = todo.pop()
        seen.add(name)
        status, headers, body = call(server, "GET", f"/studio/{name}")
        assert status == 200, name
        assert headers["Content-Type"] == "text/javascript; charset=utf-8", name
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        for dep in re.findall(rb'^\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"', body,
                              re.M | re.S):
            dep = dep.decode()
            assert dep.startswith("./") and "/" not in dep[2:], (name, dep)
            if dep[2:] not in seen:
                todo.append(dep[2:])
    on_disk = {f.name for f in studio_routes.STATIC_DIR.glob("*.mjs")}
    assert seen == on_disk  # no module left unused, none missing
    assert len(seen) >= 6


def test_page_loads_nothing_from_outside():
    for f in studio_routes.STATIC_DIR.iterdir():
        if f.suffix in (".html", ".js", ".mjs", ".css"):
            text = f.read_text()
            assert "http://" not in text and "https://" not in text.replace(
                "http://www.w3.org", ""), f.name


@pytest.mark.parametrize("path", [
    "/studio/../server.py", "/studio/..%2fserver.py", "/studio/%2e%2e/server.py",
    "/studio/../../../etc/passwd", "/studio//etc/passwd", "/studio/", "/studio/nope.js",
    "/studio/main.mjs/..", "/studio/.hidden.js", "/studio/__init__.py", "/studio/x.mjs",
])
def test_static_traversal_is_refused(server, path):
    status, _, body = call(server, "GET", path)
    assert status == 404 and "error" in json.loads(body)
    assert b"import" not in body and b"root:" not in body


def test_render_gives_a_valid_wav(server):
    status, headers, body = call(server, "POST", "/render", SONG)
    assert status == 200 and headers["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(body)) as w:
        assert w.getnchannels() == 2 and w.getsampwidth() == 2
        seconds = w.getnframes() / w.getframerate()
    assert 2.0 <= seconds <= 5.0  # 4 beats at 120 bpm + release


@pytest.mark.parametrize("body, words", [
    (b"not json", "not valid JSON"),
    ([1, 2], "JSON object"),
    ({"tempo": 120}, "tracks"),
    ({"notes": [{"pitch": 300, "start": 0, "duration": 1}]}, "pitch"),
    ({"notes": []}, "no notes"),
    ({"notes": [{"pitch": 60, "start": 0, "duration": 1}] * 20_001}, "too many notes"),
])
def test_render_bad_song_is_400_json(server, body, words):
    status, headers, raw = call(server, "POST", "/render", body)
    assert status in (400, 413) and headers["Content-Type"] == "application/json"
    assert words.lower() in json.loads(raw)["error"].lower() or status == 413


def test_render_too_large_body_is_413(server):
    status, _, raw = call(server, "POST", "/render", b"x" * (2 << 20))
    assert status == 413 and "limit" in json.loads(raw)["error"]


@pytest.mark.parametrize("path", ["/render", "/compose", "/convert?name=a.mid",
                                  "/export?format=midi"])
@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:1"},  # another port is another origin
    {"Referer": "http://evil.example/page.html"},
    # DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1
    {"Host": "evil.example:{port}", "Origin": "http://evil.example:{port}"},
    {"Sec-Fetch-Site": "cross-site"},
])
def test_cross_origin_posts_are_refused(server, path, headers):
    port = str(server.server_address[1])
    headers = {k: v.replace("{port}", port) for k, v in headers.items()}
    status, hdrs, raw = call(server, "POST", path, SONG, headers=headers)
    assert status == 403 and hdrs["Content-Type"] == "application/json"
    assert "cross-origin" in json.loads(raw)["error"]


def test_same_origin_and_plain_clients_are_served(server):
    for headers in ({}, {"Origin": origin(server)},
                    {"Origin": f"http://localhost:{server.server_address[1]}"},
                    {"Referer": origin(server) + "/"}, {"Sec-Fetch-Site": "same-origin"}):
        status, _, _ = call(server, "POST", "/render", SONG, headers=headers)
        assert status == 200, headers


def test_cross_origin_rules():
    ok = {"Host": "127.0.0.1:8765"}
    assert studio_routes.cross_origin_refusal(ok, ("127.0.0.1", 8765)) is None
    assert studio_routes.cross_origin_refusal({"Host": "[::1]:8765"}, ("::1", 8765)) is None
    # not a browser (no Origin, Referer or Sec-Fetch-Site): served, whatever its Host
    assert studio_routes.cross_origin_refusal({}, ("127.0.0.1", 8765)) is None
    assert studio_routes.cross_origin_refusal({"Host": "x"}, ("127.0.0.1", 8765)) is None
    assert studio_routes.cross_origin_refusal({"Origin": "http://127.0.0.1:8765"},
                                              ("127.0.0.1", 8765))  # a browser without Host
    # bound to every address on purpose: any Host, but still no foreign Origin
    assert studio_routes.cross_origin_refusal({"Host": "10.0.0.5:8765"},
                                              ("0.0.0.0", 8765)) is None
    assert studio_routes.cross_origin_refusal(
        {"Host": "10.0.0.5:8765", "Origin": "http://evil.example"}, ("0.0.0.0", 8765))


def test_convert_upload_formats(server, tmp_path):
    from deepcompose.io.midi import midi_bytes
    from deepcompose.song import Song

    song = Song.from_notes(SONG)
    status, _, raw = call(server, "POST", "/convert?name=tune.mid", midi_bytes(song))
    assert status == 200
    got = json.loads(raw)
    assert sum(len(t["notes"]) for t in got["tracks"]) == song.note_count
    abc = b"X:1\nT:t\nM:3/4\nL:1/4\nK:G\nG A B | c2 d |]\n"
    status, _, raw = call(server, "POST", "/convert?name=tune.abc", abc)
    assert status == 200 and json.loads(raw)["time_signature"] == [3, 4]
    status, _, raw = call(server, "POST", "/convert?name=x.json", json.dumps(SONG).encode())
    assert status == 200
    status, _, raw = call(server, "POST", "/convert?name=../../x.exe", b"MZ")
    assert status == 400 and "upload a file" in json.loads(raw)["error"]
    status, _, raw = call(server, "POST", "/convert?name=x.mid", b"garbage")
    assert status == 400 and "MIDI" in json.loads(raw)["error"]


def test_export_midi_and_musicxml(server):
    status, headers, raw = call(server, "POST", "/export?format=midi", SONG)
    assert status == 200 and raw[:4] == b"MThd" and headers["Content-Type"] == "audio/midi"
    status, _, raw = call(server, "POST", "/export?format=musicxml", SONG)
    assert status == 200 and b"<score-partwise" in raw
    status, _, raw = call(server, "POST", "/export?format=exe", SONG)
    assert status == 400


def test_examples_endpoint(server):
    status, _, raw = call(server, "GET", "/examples")
    rows = json.loads(raw)["examples"]
    assert status == 200 and len(rows) >= 4
    assert all(r["song"]["tracks"][0]["notes"] for r in rows)


def test_default_caps_match_the_server():
    keys, notes, beats = studio_routes.DEFAULT_CAPS
    assert keys <= srv.SONG_KEYS and (notes, beats) == (srv.MAX_REQUEST_NOTES,
                                                        srv.MAX_REQUEST_BEATS)
