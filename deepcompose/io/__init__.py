"""Readers and writers, one module per file format; each builds or consumes a Song.

    song = deepcompose.io.read("tune.mid")       # .mid .midi .musicxml .xml .mxl .abc .json
    deepcompose.io.write(song, "tune.musicxml")   # by extension, atomically

Every format module has ``read(path) -> Song`` and/or ``write(song, path, **options)``:
``midi`` (our bounded SMF reader and a type-1 writer; no music21), ``notation`` (MusicXML
and ABC through music21, imported lazily), ``json_notes`` (the JSON schema) and ``audio``
(WAV/Ogg rendering, write only). Modules load on first use; ``formats`` picks the module
by extension (``read`` and ``write`` above).
"""

from .formats import READERS, WRITERS, format_module, read, write

__all__ = ["READERS", "WRITERS", "format_module", "read", "write"]
