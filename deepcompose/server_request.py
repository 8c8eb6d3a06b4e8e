"""``POST /compose`` bodies: validated into ``(Song, keyword arguments of compose())``.

The body is the JSON notes schema (docs/DESIGN.md) plus the request's own keys and every
control of the family table, checked by the same contract as the CLI with the same
messages (``registry.resolve``). Chords: see the server's docstring. Anything wrong is a
DeepcomposeError, which the server answers with a 400.
"""

from __future__ import annotations

import json

from .controls import show_value
from .errors import DeepcomposeError
from .models import registry
from .song import Song

MAX_REQUEST_NOTES = 20_000
MAX_REQUEST_BEATS = 4096.0

# a "chords" list is the song's record; chord text is the band's chords control (docstring)
SONG_KEYS = frozenset({"tempo", "time_signature", "tempos", "time_signatures", "key", "pickup",
                       "title", "chords", "tracks", "notes"})
# the request's own keys, then every model control (the family table): one contract for all
REQUEST_KEYS = frozenset({"model", "task", "track", "use_chords", *registry.all_controls()})


def _int(x, name: str, low: int, high: int) -> int:
    if isinstance(x, bool) or not isinstance(x, int):
        raise DeepcomposeError(f"{name} must be an integer, not {show_value(x)}")
    if not low <= x <= high:
        raise DeepcomposeError(f"{name} must be between {low} and {high}, not {show_value(x)}")
    return x


def _float(x, name: str, low: float, high: float) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise DeepcomposeError(f"{name} must be a number, not {show_value(x)}")
    try:
        x = float(x)
    except OverflowError:
        raise DeepcomposeError(f"{name} must be between {low:g} and {high:g}") from None
    if not low <= x <= high:  # NaN fails too
        raise DeepcomposeError(f"{name} must be between {low:g} and {high:g}, not {x:g}")
    return x


def _str(x, name: str, max_len: int = 64) -> str:
    if not isinstance(x, str) or not 0 < len(x) <= max_len:
        raise DeepcomposeError(f"{name} must be a string of 1 to {max_len} characters")
    return x


def _count_notes(obj: dict) -> int:
    if isinstance(obj.get("tracks"), list):
        return sum(len(t["notes"]) for t in obj["tracks"]
                   if isinstance(t, dict) and isinstance(t.get("notes"), list))
    return len(obj["notes"]) if isinstance(obj.get("notes"), list) else 0


def parse_request(body: bytes):
    """Validate a ``POST /compose`` body; return ``(song, kwargs for compose())``.

    Raises DeepcomposeError (a 400) for anything wrong with it: not JSON, not an object,
    unknown keys, unknown model or task, values of the wrong type or range, bad notes,
    too many notes or beats. Never reads or writes a file.
    """

    try:
        obj = json.loads(body)
    except RecursionError:
        raise DeepcomposeError("request JSON is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, int digits limit
        raise DeepcomposeError(f"request body is not valid JSON: {exc}"[:200]) from None
    if not isinstance(obj, dict):
        raise DeepcomposeError("request body must be a JSON object with 'tracks' or 'notes'")
    unknown = sorted(set(obj) - SONG_KEYS - REQUEST_KEYS)
    if unknown:
        names = ", ".join(repr(k[:40]) for k in unknown[:5])
        raise DeepcomposeError(f"unknown key(s) {names}; allowed: "
                               f"{', '.join(sorted(SONG_KEYS | REQUEST_KEYS))}")
    if ("tracks" in obj) == ("notes" in obj):
        raise DeepcomposeError("give exactly one of 'tracks' or 'notes'")

    kw = {"model": _str(obj.get("model", "gan"), "model"),
          "task": _str(obj.get("task", "accompany"), "task")}
    record = obj.get("chords")  # a list: the song's record; else the band's chords control
    given = {k: obj[k] for k in registry.all_controls() if obj.get(k) is not None
             and (k != "chords" or not isinstance(record, list))}
    registry.resolve(kw["model"], kw["task"], given)  # the one contract: 400 on any bad value
    if isinstance(record, list) and record:  # a record is shaped as the control's lists are
        registry.all_controls()["chords"].check(record)
    kw.update(given)
    use_chords = obj.get("use_chords")
    if use_chords is not None and not isinstance(use_chords, bool):
        raise DeepcomposeError(f"use_chords must be true or false, not {show_value(use_chords)}")
    use_chords = bool(use_chords) and isinstance(record, list)  # a control is played anyway
    if use_chords:
        if not isinstance(record, list) or not record:
            raise DeepcomposeError("use_chords plays the song's 'chords' and it has none: give "
                                   "them as [[start_beat, end_beat, label], ...]")
        try:
            registry.resolve(kw["model"], kw["task"], {**given, "chords": record})
        except DeepcomposeError as exc:
            raise DeepcomposeError(f"use_chords: {exc}") from None
    if obj.get("track") is not None:
        t = obj["track"]
        kw["track"] = (_int(t, "track", 0, 1000) if isinstance(t, int) and not isinstance(t, bool)
                       else _str(t, "track", 200))
    if obj.get("pickup") is not None:
        kw["pickup"] = _float(obj["pickup"], "pickup", 0.0, 64.0)

    if _count_notes(obj) > MAX_REQUEST_NOTES:
        raise DeepcomposeError(f"too many notes: a request takes at most {MAX_REQUEST_NOTES:,}")
    try:
        song = Song.from_notes({k: v for k, v in obj.items()
                                if k in SONG_KEYS and (k != "chords" or isinstance(v, list))})
    except OverflowError:  # an integer too large for a float
        raise DeepcomposeError("a number in the request is out of range") from None
    if use_chords:  # the record, validated by the notes schema, becomes the control
        kw["chords"] = list(song.chords)
    if song.note_count == 0:
        raise DeepcomposeError("the request has no notes")
    if song.length_beats > MAX_REQUEST_BEATS:
        raise DeepcomposeError(f"the melody is {song.length_beats:.0f} beats long; the server "
                               f"takes at most {MAX_REQUEST_BEATS:.0f}")
    return song, kw
