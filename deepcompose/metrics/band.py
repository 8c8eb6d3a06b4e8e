"""Band-arrangement metrics (issue 13), written from their definitions.

Conventions shared by every function here:

- Notes are ``(pitch, start_beat, end_beat[, velocity])``; times in beats (quarter notes)
  on the song's own beat grid. "Accompaniment" is every pitched note that is not the
  melody (bass, keys, counter-melody; drums are never passed in).
- Time is measured on the 16th grid: a note covers steps ``round(start * 4)`` up to
  ``max(start_step + 1, round(end * 4))`` (exclusive), as in ``deepcompose.metrics``.
- Pitch class is ``pitch % 12``.
- Every note is one onset (a three-note chord is three onsets).
- Ratios with nothing to count are NaN, never 0 or 1. Functions that pool over songs take
  and return raw counts so that callers can pool before dividing.
"""

from __future__ import annotations

import math

import numpy as np

from ..chords import parse_chord
from ..representations.bars import melody_bars
from . import CONSONANT, FOURTH

STEPS_PER_BEAT = 4


def _span(note) -> tuple[int, int]:
    a = round(note[1] * STEPS_PER_BEAT)
    return a, max(a + 1, round(note[2] * STEPS_PER_BEAT))


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def chord_fit_counts(acc, chords) -> tuple[int, int]:
    """(accompaniment note-steps on a tone of the annotated chord, all note-steps under a
    chord). Steps where the chord is ``N`` or no chord is annotated are left out."""
    pcs_at: dict[int, frozenset] = {}
    for start, end, label in chords:
        root, pcs, _ = parse_chord(label)
        if root is None:
            continue
        for t in range(round(start * STEPS_PER_BEAT), round(end * STEPS_PER_BEAT)):
            pcs_at[t] = pcs
    good = total = 0
    for note in acc:
        a, b = _span(note)
        for t in range(a, b):
            if t in pcs_at:
                total += 1
                good += note[0] % 12 in pcs_at[t]
    return good, total


def chord_fit(acc, chords) -> float:
    """Share of accompaniment note time whose pitch class is a tone of the annotated chord
    sounding at that time (``N`` chords excluded)."""
    return _ratio(*chord_fit_counts(acc, chords))


def offbeat_counts(acc) -> tuple[int, int]:
    """(onsets on odd 16th positions, all onsets). Positions count from the beat grid: an
    onset at step ``round(start * 4)`` is off the 8th grid when that step is odd."""
    steps = [round(n[1] * STEPS_PER_BEAT) for n in acc]
    return sum(s % 2 for s in steps), len(steps)


def offbeat_share(acc) -> float:
    """Share of accompaniment onsets on odd 16th positions (off the 8th-note grid)."""
    return _ratio(*offbeat_counts(acc))


def onset_profile(acc, beats_per_bar: float = 4, first_bar_beat: float = 0) -> np.ndarray:
    """Onset counts per 16th position in the bar ``[round(4 * beats_per_bar)]`` (16 in 4/4).
    Position = ``(onset_step - first_bar_step) mod steps_per_bar``; raw counts, not
    normalized, so profiles of several songs pool by summing."""
    spb = max(1, round(beats_per_bar * STEPS_PER_BEAT))
    off = round(first_bar_beat * STEPS_PER_BEAT)
    prof = np.zeros(spb, dtype=np.int64)
    for n in acc:
        prof[(round(n[1] * STEPS_PER_BEAT) - off) % spb] += 1
    return prof


def groove_overlap(profile, reference) -> float:
    """Histogram intersection of two onset profiles, each normalized to sum 1:
    ``sum(min(p, q))`` in [0, 1]; 1 = the same distribution of onsets over the bar."""
    p, q = np.asarray(profile, float), np.asarray(reference, float)
    if p.sum() == 0 or q.sum() == 0:
        return math.nan
    return float(np.minimum(p / p.sum(), q / q.sum()).sum())


def density(acc, beats: float) -> float:
    """Accompaniment onsets per beat over a span of ``beats`` beats."""
    return _ratio(len(acc), beats)


def consonance_counts(melody, acc) -> tuple[int, int]:
    """(consonant, all) accompaniment notes sounding on integer beats where the melody
    sounds, against the melody's highest sounding pitch there. Consonant intervals
    (mod 12): unison/octave, 3rds, 5th, 6ths; a 4th counts as consonant except above
    the lowest accompaniment note (as ``deepcompose.metrics.harmony``)."""
    end = max((_span(n)[1] for n in [*melody, *acc]), default=0)
    top = np.full(end, -1, dtype=np.int64)
    for n in melody:
        a, b = _span(n)
        np.maximum(top[a:b], int(n[0]), out=top[a:b])
    sounding: dict[int, list[int]] = {}
    for n in acc:
        a, b = _span(n)
        for t in range(-(-a // STEPS_PER_BEAT) * STEPS_PER_BEAT, b, STEPS_PER_BEAT):
            sounding.setdefault(t, []).append(int(n[0]))
    good = total = 0
    for t, ps in sounding.items():
        if top[t] < 0:
            continue
        lowest = min(ps)
        for p in ps:
            iv = (int(top[t]) - p) % 12
            good += iv in CONSONANT or (iv == FOURTH and p != lowest)
            total += 1
    return good, total


def consonance(melody, acc) -> float:
    """On-beat consonance of the accompaniment with the melody (see ``consonance_counts``)."""
    return _ratio(*consonance_counts(melody, acc))


def silent_bars(melody, acc, beats_per_bar: float, first_bar_beat: float = 0) -> list[int]:
    """Bars from the melody's first bar to its last where no accompaniment note sounds.

    Bar ``i`` is ``[first_bar_beat + i * bpb, first_bar_beat + (i + 1) * bpb)`` beats (the
    pickup is bar -1); a note sounds in it when its ``[start, end)`` overlaps the bar.
    """
    out = []
    for i in melody_bars(melody, beats_per_bar, first_bar_beat):
        a = first_bar_beat + i * beats_per_bar
        b = a + beats_per_bar
        if not any(n[1] < b and n[2] > a for n in acc):
            out.append(i)
    return out


def bars_sounding(melody, acc, beats_per_bar: float, first_bar_beat: float = 0) -> float:
    """Share of the melody's bars (first to last, rests included) where accompaniment sounds."""
    n = len(melody_bars(melody, beats_per_bar, first_bar_beat))
    if not n:
        return math.nan
    return 1 - len(silent_bars(melody, acc, beats_per_bar, first_bar_beat)) / n
