"""``read`` and ``write`` by file extension: each picks the format module for the path.

The format modules are imported on first use, by name (``READERS`` / ``WRITERS``).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from ..errors import DeepcomposeError

# extension -> format module (in this package)
READERS = {".mid": "midi", ".midi": "midi", ".musicxml": "notation", ".xml": "notation",
           ".mxl": "notation", ".abc": "notation", ".json": "json_notes"}
WRITERS = {".mid": "midi", ".midi": "midi", ".musicxml": "notation", ".xml": "notation",
           ".mxl": "notation", ".json": "json_notes", ".wav": "audio", ".ogg": "audio"}


def format_module(path, table: dict, verb: str):
    """The format module for ``path``'s extension, or a clear error naming the known ones."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in table:
        raise DeepcomposeError(
            f"cannot {verb} {path.name!r}: unknown extension {ext or '(none)'!r}; "
            f"use one of {' '.join(table)}"
        )
    return importlib.import_module(f".{table[ext]}", __package__)


def read(path, **options):
    """Read a MIDI, MusicXML, ABC or JSON file into a Song; DeepcomposeError on bad input.

    ``options`` go to the format's reader (``pickup=BEATS`` for MIDI).
    """
    path = Path(path)
    module = format_module(path, READERS, "read")
    if not path.exists():
        raise DeepcomposeError(f"file not found: {path}")
    if not path.is_file():
        raise DeepcomposeError(f"not a file: {path}" + (" (it is a folder)" if path.is_dir()
                                                         else ""))
    return module.read(path, **options)


def write(song, path, **options) -> None:
    """Write ``song`` by extension (MIDI, MusicXML, JSON, WAV/Ogg audio), atomically."""
    format_module(path, WRITERS, "write").write(song, path, **options)
