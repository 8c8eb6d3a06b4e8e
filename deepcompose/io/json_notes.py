"""JSON notes: the schema of docs/DESIGN.md (beats throughout), as dicts and as files.

``song_from_dict`` validates everything a user or a client can send (the server and the
CLI's ``--notes-json`` come through here): a bad value is one DeepcomposeError naming the
field and its range. Optional keys beyond docs/DESIGN.md, all written by ``song_to_dict``:
``tempos`` ([[beat, bpm], ...]), ``time_signatures`` ([[beat, num, den], ...]), ``key``
(``"G major"``), ``pickup`` (beats before the first full bar), ``title`` and ``chords``
(``[[start_beat, end_beat, label], ...]``, Harte labels such as ``"A:min7"``): the song's
record of its chords, read into ``Song.chords``; no model plays them unless asked (the
CLI's ``--chords FILE``, the server's ``use_chords``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import keys, limits
from ..atomic import atomic_write_bytes
from ..errors import DeepcomposeError
from ..song import Note, Song, Track


def read(path, pickup: float | None = None) -> Song:
    """A ``.json`` notes file -> Song, validated; DeepcomposeError on bad input.

    ``pickup`` (beats) overrides the file's own ``pickup`` key.
    """
    path = Path(path)
    limits.check_file_size(path.stat().st_size, path.name)
    try:
        obj = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DeepcomposeError(f"{path.name} is not valid JSON: {e}") from None
    except OSError as e:
        raise DeepcomposeError(f"cannot read {path}: {e.strerror or e}") from None
    if pickup is not None and isinstance(obj, dict):
        obj = {**obj, "pickup": pickup}
    return Song.from_notes(obj)


def dumps(song: Song) -> str:
    """The song as JSON notes text (one space indent, trailing newline)."""
    return json.dumps(song.to_notes(), indent=1) + "\n"


def write(song: Song, path) -> None:
    """Song -> ``.json`` notes file, written atomically."""
    atomic_write_bytes(path, dumps(song).encode())


# ---------------------------------------------------------------------- dicts


def song_from_dict(obj) -> Song:
    """The JSON schema of docs/DESIGN.md (``"tracks"`` or ``"notes"``), validated.

    Optional keys: see the module docstring. A note is ``{"pitch", "start", "duration",
    "velocity"?}`` or a list ``[pitch, start, duration, velocity?]``.
    """
    if not isinstance(obj, dict):
        raise DeepcomposeError("notes JSON must be an object with 'tracks' or 'notes'")
    tempo = _number(obj.get("tempo", 120.0), "tempo", 1.0, 1000.0)
    ts = obj.get("time_signature", [4, 4])
    if not isinstance(ts, (list, tuple)) or len(ts) != 2:
        raise DeepcomposeError("time_signature must be [numerator, denominator]")
    num, den = _time_signature(ts[0], ts[1])
    tempos = [(0.0, tempo)]
    if obj.get("tempos") is not None:
        tempos = [
            (_number(_pair(t, 2, "tempos")[0], "tempo beat", 0.0, limits.MAX_BEATS),
             _number(t[1], "tempo", 1.0, 1000.0))
            for t in _list(obj["tempos"], "tempos", 10_000)
        ]
    signatures = [(0.0, num, den)]
    if obj.get("time_signatures") is not None:
        signatures = []
        for t in _list(obj["time_signatures"], "time_signatures", 10_000):
            _pair(t, 3, "time_signatures")
            beat = _number(t[0], "time signature beat", 0.0, limits.MAX_BEATS)
            signatures.append((beat, *_time_signature(t[1], t[2])))
    key = obj.get("key")
    if key is not None:
        if not isinstance(key, str):
            raise DeepcomposeError("key must be a string like 'G major' or null")
        try:
            key = keys.key_name(*keys.parse_key_name(key))
        except (ValueError, KeyError):
            raise DeepcomposeError(
                f"key must look like 'G major' or 'e minor', not {key!r}") from None
    pickup = _number(obj.get("pickup", 0.0), "pickup", 0.0, 64.0)
    title = obj.get("title")
    if title is not None and (not isinstance(title, str) or len(title) > 200):
        raise DeepcomposeError("title must be a string (<= 200 characters) or null")
    chords = [_parse_chord(c, f"chords[{i}]")
              for i, c in enumerate(_list(obj.get("chords") or [], "chords", limits.MAX_NOTES))]

    if "tracks" in obj:
        raw_tracks = _list(obj["tracks"], "tracks", limits.MAX_TRACKS)
    elif "notes" in obj:
        raw_tracks = [{"name": "Melody", "notes": obj["notes"]}]
    else:
        raise DeepcomposeError("notes JSON needs 'tracks' or 'notes'")
    tracks, total = [], 0
    for i, rt in enumerate(raw_tracks):
        if not isinstance(rt, dict):
            raise DeepcomposeError(f"tracks[{i}] must be an object")
        name = rt.get("name", "")
        if not isinstance(name, str) or len(name) > 200:
            raise DeepcomposeError(f"tracks[{i}].name must be a string (<= 200 characters)")
        program = _integer(rt.get("program", 0), f"tracks[{i}].program", 0, 127)
        is_drum = rt.get("is_drum", False)
        if not isinstance(is_drum, bool):
            raise DeepcomposeError(f"tracks[{i}].is_drum must be true or false")
        raw_notes = _list(rt.get("notes", []), f"tracks[{i}].notes", limits.MAX_NOTES)
        total += len(raw_notes)
        limits.check_notes(total, "the notes JSON")
        notes = [_parse_note(n, f"tracks[{i}].notes[{j}]") for j, n in enumerate(raw_notes)]
        tracks.append(Track(name=name, program=program, is_drum=is_drum, notes=notes))
    return Song(tracks=tracks, tempos=tempos, time_signatures=signatures, key=key,
                pickup=pickup, title=title, chords=chords)



def song_to_dict(song: Song) -> dict:
    """The JSON schema (``tempo`` = first bpm, ``time_signature`` = first [num, den])."""
    return {
        "tempo": _clean(song.tempos[0][1]),
        "time_signature": list(song.time_signatures[0][1:]),
        "tempos": [[_clean(b), _clean(t)] for b, t in song.tempos],
        "time_signatures": [[_clean(b), n, d] for b, n, d in song.time_signatures],
        "key": song.key,
        "pickup": _clean(song.pickup),
        "title": song.title,
        "chords": [[_clean(a), _clean(b), label] for a, b, label in song.chords],
        "tracks": [
            {
                "name": t.name,
                "program": t.program,
                "is_drum": t.is_drum,
                "notes": [
                    {"pitch": n.pitch, "start": _clean(n.start),
                     "duration": _clean(n.end - n.start), "velocity": n.velocity}
                    for n in t.notes
                ],
            }
            for t in song.tracks
        ],
    }



def _clean(x: float):
    """Round float noise away for JSON (beats to 1e-6); integers stay integers."""
    r = round(float(x), 6)
    return int(r) if r == int(r) else r


def _list(x, name: str, max_len: int) -> list:
    if not isinstance(x, (list, tuple)):
        raise DeepcomposeError(f"{name} must be a list")
    if len(x) > max_len:
        raise DeepcomposeError(f"{name} has more than {max_len:,} entries (the limit)")
    return list(x)


def _pair(x, n: int, name: str):
    if not isinstance(x, (list, tuple)) or len(x) != n:
        raise DeepcomposeError(f"each entry of {name} must be a list of {n} values")
    return x


def _number(x, name: str, low: float, high: float) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise DeepcomposeError(f"{name} must be a number, not {x!r}"[:200])
    try:
        x = float(x)
    except OverflowError:  # an int too large for a float
        raise DeepcomposeError(f"{name} must be between {low:g} and {high:g}") from None
    if not (low <= x <= high):  # NaN fails too
        raise DeepcomposeError(f"{name} must be between {low:g} and {high:g}, not {x:g}")
    return x


def _integer(x, name: str, low: int, high: int) -> int:
    if isinstance(x, (float, np.floating)) and float(x).is_integer():
        x = int(x)
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise DeepcomposeError(f"{name} must be an integer, not {x!r}"[:200])
    if not low <= x <= high:
        raise DeepcomposeError(f"{name} must be between {low} and {high}, not {x}")
    return int(x)


def _time_signature(num, den) -> tuple[int, int]:
    num = _integer(num, "time signature numerator", 1, 64)
    den = _integer(den, "time signature denominator", 1, 64)
    if den & (den - 1):
        raise DeepcomposeError(f"time signature denominator must be a power of 2, not {den}")
    return num, den


def _parse_note(n, where: str) -> Note:
    if isinstance(n, dict):
        for k in ("pitch", "start", "duration"):
            if k not in n:
                raise DeepcomposeError(f"{where} needs '{k}'")
        pitch, start, dur, vel = n["pitch"], n["start"], n["duration"], n.get("velocity", 90)
    elif isinstance(n, (list, tuple)) and len(n) in (3, 4):
        pitch, start, dur = n[:3]
        vel = n[3] if len(n) == 4 else 90
    else:
        raise DeepcomposeError(
            f"{where} must be an object or [pitch, start, duration, velocity]"
        )
    pitch = _integer(pitch, f"{where}.pitch", 0, 127)
    start = _number(start, f"{where}.start", 0.0, limits.MAX_BEATS)
    dur = _number(dur, f"{where}.duration", 0.0, limits.MAX_BEATS)
    if dur <= 0:
        raise DeepcomposeError(f"{where}.duration must be positive, not {dur:g}")
    limits.check_beats(start + dur, where)
    vel = _integer(vel, f"{where}.velocity", 1, 127)
    return Note(pitch, start, start + dur, vel)


def _parse_chord(c, where: str) -> tuple[float, float, str]:
    """``[start_beat, end_beat, label]`` -> a tuple; the label is kept as given (<= 32 chars)."""
    _pair(c, 3, where)
    start = _number(c[0], f"{where} start", 0.0, limits.MAX_BEATS)
    end = _number(c[1], f"{where} end", 0.0, limits.MAX_BEATS)
    if end <= start:
        raise DeepcomposeError(f"{where} ends at or before it starts ({start} -> {end})")
    if not isinstance(c[2], str) or not 0 < len(c[2]) <= 32:
        raise DeepcomposeError(f"{where} label must be a chord symbol like 'A:min7' or 'Am7'")
    return (start, end, c[2])
