"""The localhost JSON server: endpoints, bad input, limits, concurrency, fuzzing.

The test-only ChordComposer (tests/fakes.py, registered by the ``chord_model`` fixture)
stands in for a trained model so that these tests check the server, not a model: they
run in seconds without weights.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fakes import ChordComposer
from http_client import call, running_server
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepcompose import server as srv
from deepcompose import server_request
from deepcompose.errors import DeepcomposeError
from deepcompose.models import registry


@pytest.fixture
def fake_model(chord_model):
    """The test-only ChordComposer (tests/fakes.py) registered as a model."""
    return chord_model


@pytest.fixture
def server(fake_model):
    with running_server() as s:
        yield s


MELODY = [{"pitch": p, "start": i * 1.0, "duration": 0.9, "velocity": 90}
          for i, p in enumerate([67, 69, 71, 72, 74, 72, 71, 69])]


def request(server, method, path, body=None, headers=None):
    """(status, parsed JSON) for one request over a fresh connection."""
    status, _, data = call(server, method, path, body, headers, timeout=30)
    return status, (json.loads(data) if data else None)


def raw(server, data: bytes) -> bytes:
    """Send raw bytes, return the raw reply."""
    with socket.create_connection(server.server_address[:2], timeout=30) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def healthy(server) -> bool:
    status, body = request(server, "GET", "/health")
    return status == 200 and body["status"] == "ok"


# ---------------------------------------------------------------- endpoints


def test_health_lists_loaded_models(server):
    status, body = request(server, "GET", "/health")
    assert status == 200
    assert body["status"] == "ok" and "chord" in body["models_loaded"]


def test_models_lists_registry_tasks_and_weights(server):
    status, body = request(server, "GET", "/models")
    assert status == 200
    rows = {m["name"]: m for m in body["models"]}
    assert {"gan", "arcnn", "transformer", "chord"} <= set(rows)
    assert rows["chord"]["loaded"] is True and rows["chord"]["weights"] is False
    assert "accompany" in rows["chord"]["tasks"]
    assert all(isinstance(m["weights"], bool) for m in body["models"])  # no file paths leak


def test_compose_round_trip_keeps_the_melody(server):
    status, song = request(server, "POST", "/compose",
                           {"tempo": 96, "time_signature": [3, 4], "notes": MELODY,
                            "model": "chord", "seed": 1})
    assert status == 200
    assert song["tempo"] == 96 and song["time_signature"] == [3, 4]
    assert len(song["tracks"]) == 4
    assert song["tracks"][0]["notes"] == MELODY  # the user's notes, unchanged
    assert all(t["notes"] for t in song["tracks"][1:])
    alto = song["tracks"][1]["notes"]
    assert alto[0]["pitch"] < MELODY[0]["pitch"] + 12  # shifted back to the user's octave


def test_compose_accepts_tracks_controls_and_is_seeded(server):
    req = {"tracks": [{"name": "Lead", "program": 73, "notes": MELODY},
                      {"name": "Drums", "is_drum": True, "notes": [[36, 0, 0.5, 100]]}],
           "model": "chord", "task": "continue", "bars": 2, "seed": 5, "temperature": 0.5,
           "candidates": 1, "ensemble": "strings", "track": "Lead", "iterations": 10}
    s1, a = request(server, "POST", "/compose", req)
    s2, b = request(server, "POST", "/compose", req)
    others = [request(server, "POST", "/compose", {**req, "seed": k})[1] for k in range(6, 10)]
    assert (s1, s2) == (200, 200)
    assert a == b and any(c != a for c in others)
    assert a["tracks"][0]["name"] == "Lead" and a["tracks"][0]["program"] == 73
    assert [t["program"] for t in a["tracks"][1:]] == [41, 42, 43]  # strings ensemble
    assert max(n["start"] for n in a["tracks"][1]["notes"]) >= 8  # continued past the melody
    s3, err = request(server, "POST", "/compose", {**req, "top_k": 5})  # not a chord control
    assert s3 == 400 and err["error"].startswith("model 'chord' has no control top_k")


# ---------------------------------------------------------------- bad input


BAD_BODIES = {
    "not json": b"{not json",
    "not an object": b"[1, 2, 3]",
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "not utf-8": b'{"notes": "\xff\xfe"}',
    "huge integer": b'{"notes": [], "seed": ' + b"9" * 5000 + b"}",
    "no notes key": {"model": "chord"},
    "both notes and tracks": {"notes": MELODY, "tracks": [], "model": "chord"},
    "unknown key": {"notes": MELODY, "model": "chord", "melody": "/etc/passwd"},
    "unknown model": {"notes": MELODY, "model": "gpt"},
    "unknown task": {"notes": MELODY, "model": "chord", "task": "remix"},
    "pitch 128": {"notes": [{"pitch": 128, "start": 0, "duration": 1}], "model": "chord"},
    "pitch -1": {"notes": [[-1, 0, 1]], "model": "chord"},
    "negative start": {"notes": [{"pitch": 60, "start": -1, "duration": 1}], "model": "chord"},
    "zero duration": {"notes": [{"pitch": 60, "start": 0, "duration": 0}], "model": "chord"},
    "string pitch": {"notes": [{"pitch": "C4", "start": 0, "duration": 1}], "model": "chord"},
    "too many notes": {"notes": [[60, i / 8, 0.1] for i in range(srv.MAX_REQUEST_NOTES + 1)],
                       "model": "chord"},
    "too long": {"notes": [[60, 0, 1], [62, srv.MAX_REQUEST_BEATS, 1]], "model": "chord"},
    "empty melody": {"notes": [], "model": "chord"},
    "seed a string": {"notes": MELODY, "model": "chord", "seed": "1"},
    "temperature NaN": b'{"notes": [[60, 0, 1]], "model": "chord", "temperature": NaN}',
    "temperature huge": {"notes": MELODY, "model": "chord", "temperature": 1e308},
    "too many candidates": {"notes": MELODY, "model": "chord", "candidates": 1000},
    "bad bars": {"notes": MELODY, "model": "chord", "task": "infill", "bars": "x:y"},
    "bars out of piece": {"notes": MELODY, "model": "chord", "task": "infill", "bars": "50:60"},
    "unknown ensemble": {"notes": MELODY, "model": "chord", "ensemble": "kazoo"},
    "no such track": {"notes": MELODY, "model": "chord", "track": 3},
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_input_is_400_and_the_next_request_works(server, case):
    body = BAD_BODIES[case]
    status, reply = request(server, "POST", "/compose", body)
    assert status == 400, reply
    assert isinstance(reply["error"], str) and 0 < len(reply["error"]) < 400
    assert healthy(server)


def test_task_the_model_lacks_is_400(server, monkeypatch):
    from dataclasses import replace

    chord = registry.family("chord")
    monkeypatch.setitem(registry.FAMILIES, "chord", replace(chord, tasks=("accompany",)))
    status, reply = request(server, "POST", "/compose",
                            {"notes": MELODY, "model": "chord", "task": "enhance"})
    assert status == 400 and "enhance" in reply["error"]


def test_body_over_one_mib_is_413_without_reading_it(server):
    big = json.dumps({"notes": MELODY, "model": "chord", "pad": "x" * (1 << 20)}).encode()
    status, reply = request(server, "POST", "/compose", big)
    assert status == 413 and "limit" in reply["error"]
    # headers alone announcing a huge body: refused before any body arrives
    reply = raw(server, b"POST /compose HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n")
    assert reply.startswith(b"HTTP/1.0 413")
    assert healthy(server)


@pytest.mark.parametrize("headers, status", [
    (b"", 411),  # no Content-Length
    (b"Content-Length: -5\r\n", 400),
    (b"Content-Length: abc\r\n", 400),
    (b"Content-Length: \xb2\r\n", 400),  # a latin-1 superscript two: isdigit() but not int()
    (b"Content-Length: 5\r\nContent-Length: 6\r\n", 400),
    (b"Transfer-Encoding: chunked\r\n", 411),
])
def test_missing_invalid_or_chunked_length(server, headers, status):
    head = b"POST /compose HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
    reply = raw(server, head + b"5\r\nhello\r\n0\r\n\r\n")
    assert reply.startswith(f"HTTP/1.0 {status}".encode()), reply[:80]
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["error"]
    assert healthy(server)


def test_short_body_and_garbage_request_lines(server):
    reply = raw(server, b"POST /compose HTTP/1.1\r\nContent-Length: 100\r\n\r\n{}")
    assert reply.startswith(b"HTTP/1.0 400")
    for junk in (b"\x00\xff\x10garbage\r\n\r\n", b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",
                 b"GET /health HTTP/9.9\r\n\r\n", b"\r\n", b""):
        raw(server, junk)
    assert healthy(server)


def test_wrong_path_is_404_and_wrong_method_405(server):
    assert request(server, "GET", "/nope")[0] == 404
    assert request(server, "POST", "/health", b"{}")[0] == 405
    assert request(server, "GET", "/compose")[0] == 405
    assert request(server, "DELETE", "/models")[0] == 405
    assert request(server, "GET", "/health?x=1")[0] == 200
    assert request(server, "GET", "/../../etc/passwd")[0] == 404


def test_slow_client_is_cut_off(server, monkeypatch):
    """A client that sends headers and then nothing does not hold a thread forever."""
    monkeypatch.setattr(srv, "REQUEST_DEADLINE_S", 0.5)
    with socket.create_connection(server.server_address[:2], timeout=10) as sock:
        sock.sendall(b"POST /compose HTTP/1.1\r\nContent-Length: 50\r\n\r\n{")
        reply = sock.recv(65536)  # the server gives up after the deadline
    assert reply.startswith(b"HTTP/1.0 400") or reply == b""
    assert healthy(server)


def test_model_failure_is_500_and_the_server_lives(server, monkeypatch):
    def broken(self, *a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(ChordComposer, "generate", broken)
    status, reply = request(server, "POST", "/compose", {"notes": MELODY, "model": "chord"})
    assert status == 500 and "RuntimeError" in reply["error"]
    assert healthy(server)


def test_default_bind_is_loopback(fake_model):
    import inspect

    assert inspect.signature(srv.serve).parameters["host"].default == "127.0.0.1"
    assert inspect.signature(srv.make_server).parameters["host"].default == "127.0.0.1"
    s = srv.make_server(port=0, quiet=True)
    try:
        assert s.server_address[0] == "127.0.0.1"
    finally:
        s.server_close()


def test_server_and_plot_modules_do_not_import_torch_or_matplotlib():
    import subprocess

    code = ("import sys, deepcompose.server, deepcompose.plot; "
            "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_preload_unknown_model_is_a_clear_error():
    with pytest.raises(DeepcomposeError, match="unknown model"):
        srv.make_server(port=0, preload=["nope"])


def test_twenty_parallel_requests(server, monkeypatch):
    calls = []
    generate = ChordComposer.generate

    def counted(self, *a, **k):
        calls.append(k["seed"])
        return generate(self, *a, **k)

    monkeypatch.setattr(ChordComposer, "generate", counted)

    def one(seed):
        return request(server, "POST", "/compose", {"notes": MELODY, "model": "chord",
                                                    "seed": seed})

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(one, range(20)))
    assert [s for s, _ in results] == [200] * 20
    assert sorted(calls) == list(range(20))
    assert all(song["tracks"][0]["notes"] == MELODY for _, song in results)
    assert results[3][1] == one(3)[1]  # each answer belongs to its own request


# ---------------------------------------------------------------- fuzzing

VALID = {"tempo": 100, "time_signature": [4, 4], "model": "chord", "task": "accompany",
         "seed": 3, "temperature": 1.0, "candidates": 1,
         "tracks": [{"name": "Lead", "program": 0, "is_drum": False,
                     "notes": [{"pitch": 60 + i, "start": i * 0.5, "duration": 0.5,
                                "velocity": 80} for i in range(8)]}]}
VALID_BYTES = json.dumps(VALID).encode()

json_leaf = (st.none() | st.booleans() | st.integers() | st.sampled_from([10**400, -(10**400)])
             | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20)
             | st.sampled_from(["gan", "chord", "accompany", "infill", "3:4", "/etc/passwd"]))
json_value = st.recursive(json_leaf, lambda kids: st.lists(kids, max_size=5)
                          | st.dictionaries(st.text(max_size=10), kids, max_size=5),
                          max_leaves=20)
KEYS = sorted(server_request.SONG_KEYS | server_request.REQUEST_KEYS)

counter = {"direct": 0, "http": 0}


def paths(obj, prefix=()):
    """Every (path, value) inside a JSON value."""
    yield prefix, obj
    items = (obj.items() if isinstance(obj, dict)
             else enumerate(obj) if isinstance(obj, list) else ())
    for k, v in items:
        yield from paths(v, prefix + (k,))


def replace_at(obj, path, value):
    if not path:
        return value
    obj = json.loads(json.dumps(obj))
    node = obj
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return obj


@st.composite
def mutated_request(draw):
    """The valid request with one value replaced, a key added or dropped, then maybe bytes hit."""
    obj = VALID
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["replace", "add", "drop", "inflate"]))
        if kind == "replace":
            where = draw(st.sampled_from([p for p, _ in paths(obj)]))
            obj = replace_at(obj, where, draw(json_value))
        elif kind == "add" and isinstance(obj, dict):
            obj = {**obj, draw(st.sampled_from(KEYS) | st.text(max_size=8)): draw(json_value)}
        elif kind == "drop" and isinstance(obj, dict) and obj:
            obj = {k: v for k, v in obj.items() if k != draw(st.sampled_from(sorted(obj)))}
        elif kind == "inflate" and isinstance(obj, dict):
            n = draw(st.sampled_from([0, 1, 64, 2000]))  # the cap itself: see BAD_BODIES
            obj = {**obj, "notes": [[60, 0.25 * i, 0.25] for i in range(n)]}
            obj.pop("tracks", None)
    try:
        data = json.dumps(obj).encode()
    except ValueError:
        data = VALID_BYTES
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        i = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data = data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1:]
        elif op == "cut":
            data = data[:i]
        else:
            data = data[:i] + draw(st.binary(max_size=8)) + data[i:]
    return data


def check_direct(body: bytes) -> None:
    counter["direct"] += 1
    try:
        song, kw = srv.parse_request(body)
    except DeepcomposeError as exc:
        assert str(exc)
        return
    assert 0 < song.note_count <= srv.MAX_REQUEST_NOTES
    assert kw["model"] in registry.models()


FUZZ = settings(max_examples=1200, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


@FUZZ
@given(mutated_request())
def test_fuzz_parse_request_mutated(body):
    check_direct(body)


@settings(FUZZ, max_examples=800)
@given(json_value)
def test_fuzz_parse_request_random_json(value):
    check_direct(json.dumps(value).encode())


@settings(FUZZ, max_examples=1000)
@given(st.binary(max_size=200) | st.from_regex(rb"\A[\[\]{}\",:0-9a-z\- .eE]{0,80}\Z"))
def test_fuzz_parse_request_random_bytes(body):
    check_direct(body)


def test_fuzz_over_http(server):
    """Mutated bodies over real HTTP: 200 or 400 only (never 500), and the server lives."""
    statuses = {}

    @settings(FUZZ, max_examples=150)
    @given(mutated_request())
    def one(body):
        counter["http"] += 1
        status, reply = request(server, "POST", "/compose", body)
        assert status in (200, 400, 413), (status, reply)
        statuses[status] = statuses.get(status, 0) + 1

    one()
    assert statuses.get(200, 0) > 0 and statuses.get(400, 0) > 0

    head = b"POST /compose HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
    valid_raw = head % len(VALID_BYTES) + VALID_BYTES

    @settings(FUZZ, max_examples=100)
    @given(st.integers(0, len(valid_raw) - 1), st.binary(min_size=1, max_size=4),
           st.sampled_from(["flip", "cut", "insert"]))
    def one_raw(i, junk, op):
        """Mutated request lines and headers: a reply or a closed connection, nothing else."""
        counter["http"] += 1
        data = (valid_raw[:i] if op == "cut" else valid_raw[:i] + junk + valid_raw[i + 1:]
                if op == "flip" else valid_raw[:i] + junk + valid_raw[i:])
        reply = raw(server, data)
        assert reply == b"" or reply.startswith(b"HTTP/1.0 ") or not reply.startswith(b"HTTP")
        assert not reply.startswith(b"HTTP/1.0 500")

    one_raw()
    assert healthy(server)
    print(f"\nserver fuzz: {counter['direct']} bodies into parse_request, "
          f"{counter['http']} over HTTP; statuses {statuses}")


# ---------------------------------------------------------------- shipped models

SHIPPED = [r["name"] for r in registry.describe_models() if r["weights"]]
ODD_BUT_VALID = {
    "one note, pitch 127": {"notes": [[127, 0, 1]]},
    "one note, pitch 0": {"notes": [[0, 0, 4]]},
    "off-grid times": {"notes": [[60 + i % 7, i / 3, 0.3] for i in range(24)]},
    "chords in the melody": {"notes": [[p, b, 1] for b in range(8) for p in (60, 64, 67)]},
    "6/8 with a pickup": {"time_signature": [6, 8], "pickup": 1,
                          "notes": [[67, 0, 1]] + [[69 + i % 3, 1 + i, 1] for i in range(12)]},
    "melody after a long rest": {"notes": [[72, 0, 1], [74, 60, 2]]},
    "melody beside drums": {"tracks": [{"name": "Drums", "is_drum": True,
                                        "notes": [[36, b / 2, 0.25] for b in range(16)]},
                                       {"name": "Lead", "notes": MELODY}]},
}


@pytest.mark.skipif(not SHIPPED, reason="no shipped weights yet")
@pytest.mark.parametrize("model", SHIPPED)
def test_shipped_models_answer_odd_but_valid_requests(model):
    """Every odd-but-valid melody gets a 200 from each shipped model, melody kept."""
    s = srv.make_server(port=0, preload=[model], quiet=True)
    threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        for i, (case, req) in enumerate(ODD_BUT_VALID.items()):
            status, song = request(s, "POST", "/compose", {**req, "model": model, "seed": 1,
                                                            "candidates": 2 if i == 0 else 1})
            assert status == 200, (case, song)
            sent = req.get("notes") or req["tracks"][1]["notes"]
            name = "Melody" if "notes" in req else "Lead"
            melody = next(t for t in song["tracks"] if t["name"] == name)
            assert [n["pitch"] if isinstance(n, dict) else n[0] for n in sent] == \
                [n["pitch"] for n in melody["notes"]], case
    finally:
        s.shutdown()
        s.server_close()


# ---------------------------------------------------------------- chords: record or control

RECORD = [[0, 4, "A:min"], [4, 8, "F:maj"]]


def parse(obj):
    return srv.parse_request(json.dumps(obj).encode())


def test_a_chords_list_is_the_songs_record_not_a_control(fake_model):
    for model, extra in (("chord", {}), ("gan", {}), ("gan", {"style": "pop"})):
        for record in (RECORD, []):
            song, kw = parse({"notes": MELODY, "chords": record, "model": model, **extra})
            assert "chords" not in kw
            assert [list(c) for c in song.chords] == record


def test_chord_text_is_the_band_control(fake_model):
    song, kw = parse({"notes": MELODY, "chords": "Am | F", "model": "gan", "style": "pop"})
    assert kw["chords"] == "Am | F" and song.chords == []
    with pytest.raises(DeepcomposeError, match="model 'chord' has no control chords"):
        parse({"notes": MELODY, "chords": "Am | F", "model": "chord"})


def test_use_chords_plays_the_record(fake_model):
    body = {"notes": MELODY, "chords": RECORD, "model": "gan", "style": "pop", "use_chords": True}
    song, kw = parse(body)
    assert kw["chords"] == [(0.0, 4.0, "A:min"), (4.0, 8.0, "F:maj")] == song.chords
    assert "chords" not in parse({**body, "use_chords": False})[1]
    cases = {"no chords": ({"chords": []}, "use_chords plays the song's 'chords' and it has "
                                           "none: give them as [[start_beat, end_beat, label], "
                                           "...]"),
             "chorale": ({"style": "chorale"}, "use_chords: chords applies to --style pop only, "
                                               "not chorale"),
             "arcnn": ({"model": "chord", "style": None},
                       "use_chords: model 'chord' has no control chords; models with it: gan, "
                       "transformer"),
             "not a bool": ({"use_chords": "yes"}, "use_chords must be true or false, not 'yes'")}
    for case, (change, message) in cases.items():
        with pytest.raises(DeepcomposeError) as err:
            parse({**body, **change})
        assert str(err.value) == message, case


SHIPPED_TRIO = {"gan", "arcnn", "transformer"} <= set(SHIPPED)
POST_BACK = [("arcnn", "accompany", {"iterations": 2}),
             ("arcnn", "infill", {"iterations": 2, "bars": "2:3"}),
             ("arcnn", "continue", {"iterations": 2, "bars": 1}),
             ("arcnn", "enhance", {"iterations": 2}),
             ("transformer", "accompany", {}), ("transformer", "continue", {"bars": 1}),
             ("gan", "accompany", {}), ("gan", "accompany", {"style": "pop"})]


@pytest.mark.skipif(not SHIPPED_TRIO, reason="needs the shipped gan, arcnn and transformer")
def test_every_answer_posts_back_to_every_model_and_task():
    """A chorale answer (chords []) and a band answer (its Harte chords) post back as they
    are: 200 from every model and task; use_chords makes the band play the posted chords."""
    hook = json.loads((Path(srv.__file__).parent / "melodies" / "pop-hook.json").read_text())
    with running_server() as s:
        answers = {}
        for style in ("chorale", "pop"):
            status, answers[style] = request(s, "POST", "/compose",
                                             {**hook, "model": "gan", "style": style, "seed": 1})
            assert status == 200
        assert answers["chorale"]["chords"] == [] and answers["pop"]["chords"]
        for style, answer in answers.items():
            for model, task, extra in POST_BACK:
                status, song = request(s, "POST", "/compose", {**answer, "model": model,
                                                               "task": task, **extra})
                assert status == 200, (style, model, task, song)
                assert song["tracks"][0]["notes"]
        band = answers["pop"]
        status, again = request(s, "POST", "/compose", {**band, "model": "gan", "style": "pop",
                                                        "seed": 9, "use_chords": True})
        assert status == 200 and again["chords"] == band["chords"]
        status, err = request(s, "POST", "/compose", {**band, "model": "arcnn",
                                                      "use_chords": True})
        assert status == 400 and err["error"].startswith("use_chords: model 'arcnn' has no "
                                                         "control chords")
