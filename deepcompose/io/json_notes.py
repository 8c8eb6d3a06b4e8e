"""JSON notes files: the schema of DESIGN.md (beats throughout), as ``Song.to_notes`` gives it."""

from __future__ import annotations

import json
from pathlib import Path

from .. import limits
from ..atomic import atomic_write_bytes
from ..errors import DeepcomposeError
from ..song import Song


def read(path) -> Song:
    """A ``.json`` notes file -> Song, validated; DeepcomposeError on bad input."""
    path = Path(path)
    limits.check_file_size(path.stat().st_size, path.name)
    try:
        obj = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DeepcomposeError(f"{path.name} is not valid JSON: {e}") from None
    except OSError as e:
        raise DeepcomposeError(f"cannot read {path}: {e.strerror or e}") from None
    return Song.from_notes(obj)


def dumps(song: Song) -> str:
    """The song as JSON notes text (one space indent, trailing newline)."""
    return json.dumps(song.to_notes(), indent=1) + "\n"


def write(song: Song, path) -> None:
    """Song -> ``.json`` notes file, written atomically."""
    atomic_write_bytes(path, dumps(song).encode())
