"""deepcompose: complete a melody with a GAN, an AR-CNN or a transformer, on your own machine.

    import deepcompose
    song = deepcompose.compose("tune.mid", model="gan", seed=1)
    song.write("tune-gan.mid")

Importing this package is light: torch, pretty_midi and music21 load on first use,
and no global setting is changed.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("deepcompose")  # pyproject.toml's, as installed
except PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = "unknown"
__all__ = [
    "compose", "read", "Song", "Track", "Note", "DeepcomposeError", "list_models", "__version__",
]

_LAZY = {
    "compose": ("deepcompose.pipeline", "compose"),
    "Song": ("deepcompose.song", "Song"),
    "Track": ("deepcompose.song", "Track"),
    "Note": ("deepcompose.song", "Note"),
    "DeepcomposeError": ("deepcompose.errors", "DeepcomposeError"),
}


def read(path, **options):
    """Read a MIDI, MusicXML, ABC or JSON file into a Song (beats, tempo map, meter, key).

    ``options`` go to the format's reader: ``pickup=BEATS`` for MIDI.
    """
    from . import io

    return io.read(path, **options)


def list_models() -> list[dict]:
    """Every model family (the family table): model, styles, tasks, controls, weights, card."""
    from .models.registry import describe

    return describe()


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'deepcompose' has no attribute {name!r}")
