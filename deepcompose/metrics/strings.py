"""String-quartet measures (issue 22), written from their definitions.

An excerpt is some bars of a quartet (``deepcompose.data.quartets.Excerpt``, 16 bars in the
benchmark): violin I is the melody, violin II, viola and cello the accompaniment.

Conventions shared by every function here:

- Notes are ``(pitch, start_beat, end_beat[, velocity])``; beats are quarter notes from the
  excerpt's first bar line. A *part* is a list of notes; ``parts`` maps the roles
  ``violin1``, ``violin2``, ``viola``, ``cello`` to parts.
- Time is measured on the 16th grid as in ``deepcompose.metrics``: a note covers steps
  ``round(4 * start)`` up to ``max(that + 1, round(4 * end))`` (exclusive).
- An *onset* is a distinct start time in one part: a double stop or chord is one onset.
- ``bar_lines`` are the beats of the bar lines, the last one being the excerpt's end
  (``[bars + 1]``).
- Ratios with nothing to count are NaN, never 0 or 1.

Harmony (on-beat consonance with the melody, key fit, accompaniment sounding where the
melody sounds, parallels) is ``deepcompose.metrics.harmony`` itself, on the accompaniment
parts against violin I. Form is issue 21's "the band repeats where the melody repeats"
(``deepcompose.metrics.arrangement.repeat_similarity_counts``: its bar sets, Jaccard and
0.8 threshold) on the excerpt's own bar lines, so that meter changes keep their bars, with
the same similarity over the bar pairs where the melody does not repeat beside it.
"""

from __future__ import annotations

import math

import numpy as np

from . import harmony
from .arrangement import jaccard

ROLES = ("violin1", "violin2", "viola", "cello")
ACCOMPANIMENT = ROLES[1:]
LOWEST = {"violin1": 55, "violin2": 55, "viola": 48, "cello": 36}  # G3, G3, C3, C2 (MIDI)
STEPS_PER_BEAT = 4
ONSET_TOLERANCE = 1 / 24  # beats: below half a 32nd note


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def _span(note) -> tuple[int, int]:
    a = round(note[1] * STEPS_PER_BEAT)
    return a, max(a + 1, round(note[2] * STEPS_PER_BEAT))


# ---------------------------------------------------------------------- instruments


def in_range(part, lowest: int) -> float:
    """Share of the part's notes (count) whose pitch is at least ``lowest`` (MIDI): the
    instrument's lowest open string. NaN for an empty part."""
    return _ratio(sum(1 for n in part if n[0] >= lowest), len(part))


def range_shares(parts: dict) -> dict[str, float]:
    """``in_range`` of every role present, against ``LOWEST`` (violins G3 = 55, viola
    C3 = 48, cello C2 = 36)."""
    return {r: in_range(parts[r], LOWEST[r]) for r in ROLES if r in parts}


def cello_lowest(cello, others) -> float:
    """Share of time (16th steps) the cello is the lowest sounding part: over the steps
    where at least two parts sound (``cello`` and the parts of ``others``, violin I
    included), those where the cello sounds and its lowest pitch is at or below every other
    sounding pitch (a unison with the viola counts as lowest)."""
    parts = [cello, *others]
    end = max((_span(n)[1] for p in parts for n in p), default=0)
    low = np.full((len(parts), end), 999, dtype=np.int64)  # [parts, steps] lowest pitch
    for k, part in enumerate(parts):
        for n in part:
            a, b = _span(n)
            np.minimum(low[k, a:b], int(n[0]), out=low[k, a:b])
    sounding = low < 999
    counted = sounding.sum(axis=0) >= 2
    lowest = sounding[0] & (low[0] <= low[1:].min(axis=0, initial=999))
    return _ratio(int((counted & lowest).sum()), int(counted.sum()))


# ---------------------------------------------------------------------- rhythm


def onsets(part) -> np.ndarray:
    """Sorted distinct start times (beats, rounded to 1e-6) of a part ``[onsets]``."""
    return np.unique(np.round([float(n[1]) for n in part], 6))


def onsets_per_bar(part, bars: int) -> float:
    """Onsets (distinct start times) of a part per bar, over ``bars`` bars."""
    return _ratio(len(onsets(part)), bars)


def independence(part, melody, tolerance: float = ONSET_TOLERANCE) -> float:
    """Rhythmic independence from the melody: share of the part's onsets with no melody
    onset within ``tolerance`` beats (default 1/24: exact in a score, and below half a 32nd
    note). NaN for a part without notes; 1.0 when the melody is silent."""
    own, mel = onsets(part), onsets(melody)
    if not len(own):
        return math.nan
    if not len(mel):
        return 1.0
    k = np.searchsorted(mel, own)
    before, after = mel[np.clip(k - 1, 0, len(mel) - 1)], mel[np.clip(k, 0, len(mel) - 1)]
    near = np.minimum(np.abs(before - own), np.abs(after - own))  # [onsets] beats
    return float((near > tolerance).mean())


# ---------------------------------------------------------------------- form


def bar_sets(part, bar_lines, tag=None) -> list[frozenset]:
    """Per bar ``[bars]``: the set of ``(16th step in the bar, pitch)`` of the notes that
    start in it, ``tag`` first when given (bar ``i`` is ``[bar_lines[i], bar_lines[i + 1])``):
    ``arrangement.bar_events`` on bar lines that need not be evenly spaced."""
    lines = np.asarray(bar_lines, dtype=float)
    out: list[set] = [set() for _ in range(len(lines) - 1)]
    for n in part:
        i = int(np.searchsorted(lines, n[1] + 1e-9, side="right")) - 1
        if 0 <= i < len(out):
            pos = round(n[1] * STEPS_PER_BEAT) - round(lines[i] * STEPS_PER_BEAT)
            out[i].add((pos, int(n[0])) if tag is None else (tag, pos, int(n[0])))
    return [frozenset(s) for s in out]


def form_counts(melody, accompaniment, bar_lines, min_similarity: float = 0.8) -> tuple:
    """Does the accompaniment repeat where the melody repeats, more than elsewhere? Over
    every pair of bars ``i < j`` whose melody bars both have notes: the melody *repeats*
    when the Jaccard similarity of its two bars (``bar_sets``: 16th position and pitch of
    each note start) is at least ``min_similarity`` (1.0 = the same notes at the same
    places). The accompaniment's similarity of a pair is the Jaccard similarity (0..1) of
    the two bars' sets of (part, position, pitch) over all its parts; pairs where both are
    silent are left out. Raw sums, so that callers pool over excerpts: ``(similarity sum,
    pairs)`` where the melody repeats (``arrangement.repeat_similarity_counts``), then the
    same over the pairs where it does not."""
    mel = bar_sets(melody, bar_lines)
    acc_parts = [bar_sets(p, bar_lines, tag=k) for k, p in enumerate(accompaniment)]
    acc = [frozenset().union(*bars) for bars in zip(*acc_parts, strict=True)] if acc_parts \
        else [frozenset()] * len(mel)
    rep, other = [0.0, 0], [0.0, 0]
    for i in range(len(mel)):
        for j in range(i + 1, len(mel)):
            if not mel[i] or not mel[j]:
                continue
            s = jaccard(acc[i], acc[j])
            if math.isnan(s):
                continue
            pool = rep if jaccard(mel[i], mel[j]) >= min_similarity else other
            pool[0] += s
            pool[1] += 1
    return rep[0], rep[1], other[0], other[1]


def form_repeat(melody, accompaniment, bar_lines, min_similarity: float = 0.8) -> dict:
    """``form_counts`` as ratios: ``repeat`` (mean accompaniment similarity of the bar pairs
    where the melody repeats), ``other`` (the other pairs) and ``lift`` = repeat - other
    (> 0: the accompaniment follows the melody's form)."""
    rs, rn, os_, on = form_counts(melody, accompaniment, bar_lines, min_similarity)
    rep, oth = _ratio(rs, rn), _ratio(os_, on)
    return {"repeat": rep, "other": oth, "lift": rep - oth}


# ---------------------------------------------------------------------- all at once


def excerpt_measures(parts: dict, bar_lines, key: tuple[int, str] | None = None) -> dict:
    """Every measure of one excerpt in a flat dict (``parts``: the four roles).

    ``in_range_<role>``, ``cello_lowest``, ``consonance``, ``keyfit``, ``coverage`` and
    ``parallels`` (``deepcompose.metrics.harmony`` of the accompaniment against violin I,
    ``key`` given or else estimated on the melody), ``onsets_per_bar_<role>``,
    ``independence_<role>`` (accompaniment roles), and the raw ``form_counts``
    (``form_rep_sum``, ``form_rep_n``, ``form_other_sum``, ``form_other_n``)."""
    melody = parts["violin1"]
    acc = [parts[r] for r in ACCOMPANIMENT]
    bars = len(bar_lines) - 1
    out = {f"in_range_{r}": v for r, v in range_shares(parts).items()}
    out["cello_lowest"] = cello_lowest(parts["cello"], [parts[r] for r in ROLES[:3]])
    h = harmony(melody, acc, key)
    out.update({k: h[k] for k in ("consonance", "keyfit", "coverage", "parallels")})
    for r in ROLES:
        out[f"onsets_per_bar_{r}"] = onsets_per_bar(parts[r], bars)
    for r in ACCOMPANIMENT:
        out[f"independence_{r}"] = independence(parts[r], melody)
    rs, rn, os_, on = form_counts(melody, acc, bar_lines)
    out.update(form_rep_sum=rs, form_rep_n=rn, form_other_sum=os_, form_other_n=on)
    return out


def pool(results: list[dict]) -> dict:
    """Excerpt results -> one dict: the mean over excerpts of every ratio (NaNs skipped),
    and the form measure pooled over all bar pairs (``form_repeat``, ``form_other``,
    ``form_lift``, ``form_repeat_pairs``)."""
    counts = ("form_rep_sum", "form_rep_n", "form_other_sum", "form_other_n")
    keys = [k for k in (results[0] if results else {}) if k not in counts]
    out = {}
    for k in keys:
        vals = [r[k] for r in results if not math.isnan(r[k])]
        out[k] = float(np.mean(vals)) if vals else math.nan
    tot = {k: sum(r[k] for r in results) for k in counts}
    rep = _ratio(tot["form_rep_sum"], tot["form_rep_n"])
    oth = _ratio(tot["form_other_sum"], tot["form_other_n"])
    out.update(form_repeat=rep, form_other=oth, form_lift=rep - oth,
               form_repeat_pairs=tot["form_rep_n"])
    return out
