"""The pitch range the shipped models cover, and moving voice grids into it.

``fold_into_range`` moves notes by octaves into ``PITCH_RANGE``; ``augment`` transposes whole
pieces by semitone shifts that keep every voice inside it.
"""

from __future__ import annotations

import numpy as np

from ..decoding import fold_octaves
from ..representations.voices import REST

PITCH_RANGE = (30, 88)  # lowest and highest MIDI pitch the shipped models cover, inclusive


def fold_into_range(grid: np.ndarray, low: int = PITCH_RANGE[0], high: int = PITCH_RANGE[1]):
    """Move every sounding cell outside ``[low, high]`` by octaves into it."""
    return fold_octaves(grid, low, high).astype(np.int16)


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
