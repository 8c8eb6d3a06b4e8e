"""Notes on the 16th-note grid, and the nan rules, shared by the metrics here.

A note sounds at steps ``round(start*4) .. max(round(start*4)+1, round(end*4)) - 1``; the
*melody line* is the melody's highest pitch at each step; a ratio with an empty denominator
is ``nan``, and a mean (``_nanmean``) skips nans. See the package docstring.
"""

from __future__ import annotations

import math

import numpy as np

from ..decoding import snap
from ..representations.voices import REST


def _span(note) -> tuple[int, int]:
    """Steps ``[start, end)`` a note covers on the 16th grid (at least one step)."""
    return snap(note[1], note[2])


def _length(melody, parts) -> int:
    ends = [_span(n)[1] for part in [melody, *parts] for n in part]
    return max(ends, default=0)


def _top_line(notes, steps: int) -> np.ndarray:
    """Highest pitch sounding at each step ``[steps]`` (REST where silent)."""
    row = np.full(steps, REST, dtype=np.int32)
    for n in notes:
        a, b = _span(n)
        np.maximum(row[a:b], n[0], out=row[a:b])
    return row


def _sounding(part, steps: int) -> list[list[int]]:
    """Pitches sounding at each step (sorted high to low, one entry per note)."""
    out: list[list[int]] = [[] for _ in range(steps)]
    for n in part:
        a, b = _span(n)
        for t in range(a, min(b, steps)):
            out[t].append(int(n[0]))
    return [sorted(ps, reverse=True) for ps in out]


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def _nanmean(values) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return float(np.mean(vals)) if vals else math.nan
