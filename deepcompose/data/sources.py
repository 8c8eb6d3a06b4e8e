"""``load_voices``: voice grids ``[4, steps]`` of one split, from a source named by the user."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DeepcomposeError
from .jsb import load_jsb
from .midi_folder import load_midi_folder
from .music21_chorales import load_music21_chorales
from .splits import SPLITS


def load_voices(source: str, split: str) -> list[np.ndarray]:
    """Grids ``[4, steps]`` from ``"jsb"``, ``"music21"`` or a folder of MIDI files."""
    if split not in SPLITS:
        raise DeepcomposeError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if source == "jsb":
        return load_jsb(split)
    if source == "music21":
        return load_music21_chorales(split)
    if Path(source).is_dir():
        return load_midi_folder(source, split=split)
    raise DeepcomposeError(
        f"unknown data source {source!r}; use 'jsb', 'music21' or a folder of MIDI files")
