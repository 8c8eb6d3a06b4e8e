"""Training and evaluation data as voice grids ``[4, steps]`` (see ``voices.py``).

Sources:
- ``"jsb"``: the canonical JSB chorales split (Boulanger-Lewandowski 2012) in the
  Coconet four-voice 16th-note format, shipped in ``datasets/jsb/`` with its source
  README. 229 train / 76 valid / 77 test pieces.

Augmentation: ``augment`` transposes whole pieces by semitone shifts that keep
every voice inside ``PITCH_RANGE``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from .errors import DeepcomposeError
from .voices import REST

REPO_ROOT = Path(__file__).resolve().parent.parent
JSB_PATH = REPO_ROOT / "datasets" / "jsb" / "Jsb16thSeparated.json"
SPLITS = ("train", "valid", "test")
PITCH_RANGE = (30, 88)  # lowest and highest MIDI pitch the shipped models cover, inclusive


@functools.cache
def _jsb_json(path: str) -> dict:
    return json.loads(Path(path).read_text())


def load_jsb(split: str, path: Path | str = JSB_PATH) -> list[np.ndarray]:
    """The canonical JSB split as a list of int16 grids ``[4, steps]`` (S, A, T, B; -1 = rest)."""
    if split not in SPLITS:
        raise DeepcomposeError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if not Path(path).exists():
        raise DeepcomposeError(f"JSB data not found at {path}; run from a deepcompose checkout")
    pieces = _jsb_json(str(path))[split]
    return [np.asarray(p, dtype=np.int16).T.copy() for p in pieces]


def load_voices(source: str, split: str) -> list[np.ndarray]:
    """Grids ``[4, steps]`` from a named source (``"jsb"``) or a folder of MIDI files."""
    if source == "jsb":
        return load_jsb(split)
    raise DeepcomposeError(f"unknown data source {source!r}; use 'jsb' or a folder of MIDI files")


def transposition_range(grid: np.ndarray, low: int = PITCH_RANGE[0], high: int = PITCH_RANGE[1]):
    """Semitone shifts (within +-6) that keep every sounding cell in ``[low, high]``."""
    sounding = grid[grid != REST]
    if sounding.size == 0:
        return range(0, 1)
    lo = max(-6, low - int(sounding.min()))
    hi = min(6, high - int(sounding.max()))
    return range(lo, hi + 1)


def augment(pieces: list[np.ndarray], shifts=range(-6, 6)) -> list[np.ndarray]:
    """Every piece transposed by every shift in ``shifts`` that keeps it in ``PITCH_RANGE``."""
    out = []
    for grid in pieces:
        allowed = set(transposition_range(grid))
        for s in shifts:
            if s in allowed:
                g = grid.copy()
                g[g != REST] += s
                out.append(g)
    return out


def random_window(grid: np.ndarray, steps: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``[4, steps]`` crop (padded with rests when the piece is shorter)."""
    total = grid.shape[1]
    if total <= steps:
        out = np.full((grid.shape[0], steps), REST, dtype=np.int16)
        out[:, :total] = grid
        return out
    start = int(rng.integers(0, total - steps + 1))
    return grid[:, start : start + steps]
