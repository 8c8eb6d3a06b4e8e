"""Harmony of an accompaniment against its melody (conventions: the package docstring).

``harmony`` returns (all from the definitions of issue 3):

consonance
    On-beat consonance. At each beat where the melody sounds, every pair (melody
    line pitch ``m``, sounding accompaniment note ``a``) counts once per part that sounds
    it; it is consonant when ``(m - a) % 12`` is 0, 3, 4, 7, 8 or 9, or 5 when ``a`` is not
    the lowest accompaniment pitch sounding then. Score = consonant pairs / all pairs.
    Beats are the quarter-note steps counted from the true bar lines (``meter.offset``;
    a pickup of half a beat moves every beat by half a beat); without a meter, the
    integer beats. ``on_beat_consonance(..., bars=True)`` counts the downbeats only.
keyfit
    Share of accompaniment note time (beats) whose pitch class is on the scale of the key:
    ``key`` if given, else ``keys.estimate_key`` on the melody (duration-weighted). Major
    scale, or natural minor plus the raised 7th (``keys.scale_pitch_classes``).
parallels
    Parallel fifths and octaves per 100 chord transitions. Voices: the melody line, plus
    each accompaniment part split into lines by rank from the top at each step (one line
    for a monophonic part). A chord transition is a step boundary ``t-1 -> t`` where at
    least one voice changes (pitch, or rest <-> note). A parallel is a pair of voices both
    sounding at ``t-1`` and ``t``, both moving in the same direction, whose distance
    ``|p_i - p_j| % 12`` is 7 before and after (fifths, compound too) or 0 before and after
    (octaves and unisons): ``decoding.parallel``, the rule the models' samplers obey with
    ``voice_leading=True``. Score = 100 * parallels / transitions.
polyphony
    Mean number of accompaniment notes sounding (counted per part) over the steps where
    at least one accompaniment note sounds.
coverage
    Share of melody-sounding steps at which some accompaniment note sounds.
tiny_notes
    Share of accompaniment notes shorter than 1/8 beat.
above_melody
    Share of accompaniment note time (note-steps) above the melody line; steps where the
    melody is silent count in the total and never as above.
voice_range
    Mean over accompaniment parts of (highest - lowest pitch) in semitones.
voice_crossing
    Share of steps, among those where at least two parts sound, where some lower part (the
    order is melody, then the accompaniment parts as given, high to low) has a note above
    the lowest note of a higher part.

Calibration (JSB test split, 77 chorales, mean over pieces; ``tests/test_metrics.py``):
Bach's own alto/tenor/bass score consonance 0.923, keyfit 0.933, parallels 0.31; random
in-scale notes (``benchmarks/baselines.py``, new note each beat) 0.637, 1.0, 8.1; a held
tonic triad 0.719, 1.0, 0.0. Parallels depend on the grid: sampling the voices once per
beat instead of every 16th (passing notes then hide between samples) gives Bach 1.9.
"""

from __future__ import annotations

import math

import numpy as np

from .. import keys
from ..decoding import parallel
from ..representations.voices import REST, STEPS_PER_BEAT, Meter
from .grid import _length, _ratio, _sounding, _top_line

CONSONANT = frozenset({0, 3, 4, 7, 8, 9})
FOURTH = 5
TINY_BEATS = 1 / 8


def harmony(melody, parts, key: tuple[int, str] | None = None,
            meter: Meter | None = None) -> dict:
    """Harmony of accompaniment ``parts`` against ``melody``; see the module docstring.

    ``meter`` places the beats of ``consonance`` (default: integer beats from 0)."""
    melody = [tuple(n) for n in melody]
    parts = [[tuple(n) for n in part] for part in parts]
    steps = _length(melody, parts)
    top = _top_line(melody, steps)  # [steps]
    acc = [_sounding(part, steps) for part in parts]  # [parts][steps] -> pitches
    acc_all = [[p for part in acc for p in part[t]] for t in range(steps)]
    if key is None:
        key = keys.estimate_key([n[0] for n in melody], [n[2] - n[1] for n in melody])
    return {
        "consonance": _consonance(top, acc_all, _beats(steps, meter)),
        "keyfit": _keyfit(parts, key),
        "parallels": _parallels(top, acc, steps),
        "polyphony": _ratio(sum(map(len, acc_all)), sum(1 for a in acc_all if a)),
        "coverage": _ratio(sum(1 for t in range(steps) if top[t] != REST and acc_all[t]),
                           int((top != REST).sum())),
        "tiny_notes": _ratio(sum(1 for p in parts for n in p if n[2] - n[1] < TINY_BEATS),
                             sum(map(len, parts))),
        "above_melody": _ratio(
            sum(1 for t in range(steps) for a in acc_all[t] if top[t] != REST and a > top[t]),
            sum(map(len, acc_all))),
        "voice_range": _ratio(sum(max(n[0] for n in p) - min(n[0] for n in p) for p in parts if p),
                              sum(1 for p in parts if p)),
        "voice_crossing": _crossing([[[int(top[t])] if top[t] != REST else [] for t in
                                      range(steps)], *acc], steps),
    }


def _beats(steps: int, meter: Meter | None, bars: bool = False) -> range:
    """Grid steps of the beats (or, with ``bars``, the bar lines) counted from the true bar
    lines of ``meter`` (None: integer beats, bar lines every 16 steps from 0)."""
    meter = meter or Meter()
    every = meter.steps_per_bar if bars else STEPS_PER_BEAT
    return range(meter.offset % every, steps, every)


def on_beat_consonance(melody, parts, meter: Meter | None = None, bars: bool = False) -> float:
    """``consonance`` of the module docstring on the true beats of ``meter``, or (``bars``) on
    its downbeats only."""
    melody = [tuple(n) for n in melody]
    parts = [[tuple(n) for n in part] for part in parts]
    steps = _length(melody, parts)
    acc = [_sounding(part, steps) for part in parts]
    acc_all = [[p for part in acc for p in part[t]] for t in range(steps)]
    return _consonance(_top_line(melody, steps), acc_all, _beats(steps, meter, bars))


def _consonance(top: np.ndarray, acc_all: list[list[int]], beats) -> float:
    good = total = 0
    for t in beats:
        if top[t] == REST or not acc_all[t]:
            continue
        lowest = min(acc_all[t])
        for a in acc_all[t]:
            interval = (int(top[t]) - a) % 12
            good += interval in CONSONANT or (interval == FOURTH and a != lowest)
            total += 1
    return _ratio(good, total)


def _keyfit(parts, key: tuple[int, str]) -> float:
    scale = keys.scale_pitch_classes(*key)
    durs = [(n[0] % 12, n[2] - n[1]) for part in parts for n in part]
    return _ratio(sum(d for pc, d in durs if pc in scale), sum(d for _, d in durs))


def _lines(top: np.ndarray, acc: list[list[list[int]]], steps: int) -> np.ndarray:
    """Voices ``[voices, steps]``: the melody line, then each part's lines ranked from the top."""
    width = [max((len(part[t]) for t in range(steps)), default=0) for part in acc]
    lines = np.full((1 + sum(width), steps), REST, dtype=np.int32)
    lines[0] = top
    row = 1
    for part, w in zip(acc, width, strict=True):
        for t in range(steps):
            lines[row:row + len(part[t]), t] = part[t]
        row += w
    return lines


def _parallels(top: np.ndarray, acc, steps: int) -> float:
    v = _lines(top, acc, steps)  # [voices, steps]
    if steps < 2:
        return math.nan
    prev, cur = v[:, :-1], v[:, 1:]  # [voices, steps-1]
    transitions = int((prev != cur).any(axis=0).sum())
    count = sum(int(parallel(prev[i], cur[i], prev[j], cur[j]).sum())
                for i in range(len(v)) for j in range(i + 1, len(v)))
    return _ratio(100.0 * count, transitions)


def _crossing(ordered: list[list[list[int]]], steps: int) -> float:
    crossed = counted = 0
    for t in range(steps):
        sounding = [part[t] for part in ordered if part[t]]
        if len(sounding) < 2:
            continue
        counted += 1
        crossed += any(max(low) > min(high) for k, high in enumerate(sounding)
                       for low in sounding[k + 1:])
    return _ratio(crossed, counted)
