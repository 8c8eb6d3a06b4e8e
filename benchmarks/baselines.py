"""Naive accompaniments that calibrate the metrics (what a model must beat).

Each baseline takes a melody (notes ``(pitch, start_beat, end_beat)``) and returns three
accompaniment parts (alto, tenor, bass; lists of notes in beats) over the melody's span,
from the first melody onset to the last melody end. The key is ``keys.estimate_key`` on
the melody (duration-weighted) unless one is given.

- ``random_scale``: each voice plays a new note on every beat, drawn uniformly from the
  scale's pitches inside the voice's range (``RANGES``) and not above the melody line
  sounding at that beat. The first and last notes are cut to the melody's span.
- ``tonic_triad``: the tonic triad (minor third in minor) held through the whole span:
  root in the bass, fifth in the tenor, third in the alto, each the highest such pitch
  inside the voice's range.
"""

from __future__ import annotations

import math

import numpy as np

from deepcompose import keys

RANGES = {"alto": (53, 72), "tenor": (45, 67), "bass": (36, 57)}  # MIDI, inclusive


def _span(melody) -> tuple[float, float]:
    return min(n[1] for n in melody), max(n[2] for n in melody)


def _key(melody, key):
    if key is not None:
        return key
    return keys.estimate_key([n[0] for n in melody], [n[2] - n[1] for n in melody])


def _melody_at(melody, beat: float) -> int | None:
    pitches = [n[0] for n in melody if n[1] <= beat < n[2]]
    return max(pitches) if pitches else None


def random_scale(melody, seed: int = 0, key=None) -> list[list[tuple[int, float, float]]]:
    """Three voices of random in-scale notes, a new one each beat, below the melody."""
    rng = np.random.default_rng(seed)
    scale = keys.scale_pitch_classes(*_key(melody, key))
    first, last = _span(melody)
    parts = []
    for low, high in RANGES.values():
        pool = [p for p in range(low, high + 1) if p % 12 in scale]
        notes = []
        for beat in range(math.floor(first), math.ceil(last)):
            start, end = max(float(beat), first), min(beat + 1.0, last)
            top = _melody_at(melody, start)
            allowed = [p for p in pool if top is None or p <= top] or pool[:1]
            notes.append((int(rng.choice(allowed)), start, end))
        parts.append(notes)
    return parts


def tonic_triad(melody, key=None) -> list[list[tuple[int, float, float]]]:
    """The tonic triad held through the melody's span: alto third, tenor fifth, bass root."""
    tonic, mode = _key(melody, key)
    third = 3 if mode == "minor" else 4
    first, last = _span(melody)
    parts = []
    for (low, high), interval in zip(RANGES.values(), (third, 7, 0), strict=True):
        pc = (tonic + interval) % 12
        pitch = max(p for p in range(low, high + 1) if p % 12 == pc)
        parts.append([(pitch, first, last)])
    return parts


BASELINES = {
    "random_scale": lambda melody, seed=0: random_scale(melody, seed),
    "tonic_triad": lambda melody, seed=0: tonic_triad(melody),
}
