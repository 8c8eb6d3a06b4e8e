"""The bundled example melodies: their names, files, Songs and a one-row summary of each.

The ``.json`` files (JSON notes schema) sit in this folder; sources are in README.md.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import DeepcomposeError

FOLDER = Path(__file__).resolve().parent

SOURCES = {
    "ode-to-joy": "Beethoven, Symphony No. 9, finale theme (1824); public domain",
    "amazing-grace": "'New Britain' (Amazing Grace), American tune first printed 1829; "
                     "public domain",
    "row-your-boat": "Row, Row, Row Your Boat (E. O. Lyte, 1881); public domain",
    "barbara-allen": "Barbara Allen, music21 corpus essenFolksong/folkHaydn #11 "
                     "(traditional); public domain",
    "pop-hook": "written for deepcompose (Apache-2.0, like the project)",
}


def names() -> list[str]:
    """The bundled examples' names, sorted."""
    return sorted(p.stem for p in FOLDER.glob("*.json"))


def path(name: str) -> Path:
    """The file of example ``name``; DeepcomposeError naming the examples if unknown."""
    if name not in names():
        raise DeepcomposeError(f"unknown example {name!r}; choose one of {', '.join(names())}")
    return FOLDER / f"{name}.json"


def load(name: str):
    """Example ``name`` as a Song."""
    from ..song import Song

    return Song.read(path(name))


def describe() -> list[dict]:
    """One row per example: name, title, meter, bars, pickup (beats), tempo, key, notes,
    seconds, source."""
    rows = []
    for name in names():
        obj = json.loads(path(name).read_text())
        song = load(name)
        num, den = obj["time_signature"]
        rows.append({"name": name, "title": obj.get("title") or name, "meter": f"{num}/{den}",
                     "bars": song.bars(), "pickup": song.pickup, "tempo": obj["tempo"],
                     "key": obj.get("key"), "notes": song.note_count,
                     "seconds": round(song.length_seconds, 1),
                     "source": SOURCES.get(name, "see deepcompose/melodies/README.md")})
    return rows
