"""Drum metrics, written from their definitions (issue 13).

Conventions:

- A drum note is ``(pitch, start_beat, end_beat, velocity)`` (velocity optional); beats
  are quarter notes. Only the onset matters.
- Grid: 16th notes, 4 steps per beat. An onset at beat ``b`` sits on step ``round(4 b)``
  (so microtiming up to half a 16th either way keeps its step).
- Bars: bar lines at ``first_bar_beat + k * beats_per_bar`` (k any integer). A bar is
  every span between two bar lines that overlaps ``[0, length_beats)``; a pickup (the
  part before ``first_bar_beat``) counts as a bar of its own for coverage only when it
  is at least a beat long.
- Onset profile: counts of onsets (all drum classes pooled) at each of the ``positions``
  steps of a bar, divided by their sum. The default ``positions=16`` is a 4/4 bar; only
  bars of exactly ``positions`` steps count, so 3/4 and 6/8 songs (12 steps a bar) have
  a 12-position profile and are never mixed with 4/4 ones. Empty -> all zeros.
- Histogram intersection: ``sum_i min(p_i, q_i)`` of two profiles each normalized to sum
  1 (1 = identical, 0 = disjoint).
- Onsets per beat: every note counts (simultaneous hits of several classes count each).
- Bar similarity (``bar_similarity``): Jaccard similarity of consecutive bars' onset sets,
  an onset being (step in bar, drum class); see the function.
- Under a song (issue 21): kick on beat 1 and backbeat (snare on both 2 and 4) shares of
  groove bars, and distinct drum parts across a song set (``drum_part_key``).
- Kick / snare presence: a note whose pitch maps to the kick (snare) class of
  ``representations.drums`` (so 35/36 are kicks; 37, 38, 39, 40 snares).
"""

from __future__ import annotations

import math

import numpy as np

from ..representations.drums import KICK, SNARE, STEPS_PER_BEAT, drum_class


def _bar_step(beats_per_bar: float, first_bar_beat: float) -> tuple[int, int]:
    bar = int(round(beats_per_bar * STEPS_PER_BEAT))
    if bar < 1:
        raise ValueError("a bar must be at least one 16th long")
    return bar, int(round(first_bar_beat * STEPS_PER_BEAT)) % bar


def onset_counts(notes, beats_per_bar: float = 4.0, first_bar_beat: float = 0.0,
                 positions: int = 16) -> np.ndarray:
    """Onsets at each of ``positions`` steps, over the bars that are ``positions`` long."""
    bar, first = _bar_step(beats_per_bar, first_bar_beat)
    counts = np.zeros(positions)
    if bar != positions:
        return counts
    for n in notes:
        step = int(math.floor(n[1] * STEPS_PER_BEAT + 0.5))
        counts[(step - first) % bar] += 1
    return counts


def onset_profile(notes, beats_per_bar: float = 4.0, first_bar_beat: float = 0.0,
                  positions: int = 16) -> np.ndarray:
    """The normalized onset profile (sums to 1; all zeros when nothing counts)."""
    return normalize(onset_counts(notes, beats_per_bar, first_bar_beat, positions))


def normalize(counts) -> np.ndarray:
    counts = np.asarray(counts, float)
    total = counts.sum()
    return counts / total if total > 0 else np.zeros_like(counts)


def histogram_intersection(p, q) -> float:
    """``sum(min(p, q))`` after normalizing both to sum 1; 0 if either is empty."""
    return float(np.minimum(normalize(p), normalize(q)).sum())


def style_overlap(generated: dict, real: dict, styles=None) -> dict:
    """For each style: the overlap of its generated profile with its own real profile and
    the mean overlap with the other styles' real profiles; ``pass`` when own > others.

    ``generated`` and ``real`` map style -> profile (or counts). ``styles`` defaults to the
    styles in both; the "others" of a style are the other styles in ``styles``.
    """
    styles = list(styles or [s for s in generated if s in real])
    out = {}
    for s in styles:
        own = histogram_intersection(generated[s], real[s])
        others = [histogram_intersection(generated[s], real[r]) for r in styles if r != s]
        mean = float(np.mean(others)) if others else float("nan")
        out[s] = {"own": own, "others": mean, "pass": bool(own > mean)}
    return out


def onsets_per_beat(notes, length_beats: float) -> float:
    """All onsets in ``[0, length_beats)`` divided by ``length_beats``."""
    if length_beats <= 0:
        return float("nan")
    return sum(1 for n in notes if 0 <= n[1] < length_beats) / length_beats


def has_kick_and_snare(notes) -> tuple[bool, bool]:
    """Whether any note is a kick, and whether any is a snare."""
    classes = {drum_class(n[0]) for n in notes}
    return KICK in classes, SNARE in classes


def bar_coverage(notes, length_beats: float, beats_per_bar: float = 4.0,
                 first_bar_beat: float = 0.0) -> tuple[float, list[int]]:
    """Share of bars holding at least one onset, and the indices of the empty ones.

    Bars are numbered from 0 = the first bar (a pickup of a beat or more included, see the
    module docstring). A last bar shorter than a beat is not counted.
    """
    bar, first = _bar_step(beats_per_bar, first_bar_beat)
    total = int(math.ceil(round(length_beats * STEPS_PER_BEAT, 6)))
    spans = []
    if first >= STEPS_PER_BEAT:
        spans.append((0, first))
    spans += [(s, min(s + bar, total)) for s in range(first, total, bar)
              if min(s + bar, total) - s >= STEPS_PER_BEAT]
    if not spans:
        return float("nan"), []
    steps = [int(math.floor(n[1] * STEPS_PER_BEAT + 0.5)) for n in notes]
    empty = [i for i, (a, b) in enumerate(spans) if not any(a <= t < b for t in steps)]
    return 1 - len(empty) / len(spans), empty


def bar_similarity(notes, length_beats: float, beats_per_bar: float = 4.0,
                   first_bar_beat: float = 0.0, skip=()) -> float:
    """How well a groove holds: mean Jaccard similarity ``|A & B| / |A | B|`` of the sets of
    (step in bar, drum class) onsets of consecutive whole bars, over the pairs where both
    bars have onsets and neither bar's index (0 = the first whole bar) is in ``skip``
    (e.g. fill bars). ``nan`` when no pair counts."""
    bar, first = _bar_step(beats_per_bar, first_bar_beat)
    total = int(math.ceil(round(length_beats * STEPS_PER_BEAT, 6)))
    n = (total - first) // bar
    sets = [set() for _ in range(max(n, 0))]
    for x in notes:
        c = drum_class(x[0])
        step = int(math.floor(x[1] * STEPS_PER_BEAT + 0.5)) - first
        if c is not None and 0 <= step < n * bar:
            sets[step // bar].add((step % bar, c))
    pairs = zip(sets[:-1], sets[1:], strict=True)
    sims = [len(a & b) / len(a | b) for i, (a, b) in enumerate(pairs)
            if a and b and i not in skip and i + 1 not in skip]
    return float(np.mean(sims)) if sims else float("nan")


# ------------------------------------------------------- drums under a song (issue 21)


def _bar_sets(notes, length_beats: float, beats_per_bar: float, first_bar_beat: float
              ) -> tuple[int, list[set]]:
    """(bar steps, per whole bar from the first bar line the set of (step in bar, class))."""
    bar, first = _bar_step(beats_per_bar, first_bar_beat)
    total = int(math.ceil(round(length_beats * STEPS_PER_BEAT, 6)))
    n = max((total - first) // bar, 0)
    sets = [set() for _ in range(n)]
    for x in notes:
        c = drum_class(x[0])
        step = int(math.floor(x[1] * STEPS_PER_BEAT + 0.5)) - first
        if c is not None and 0 <= step < n * bar:
            sets[step // bar].add((step % bar, c))
    return bar, sets


def _bar_share(notes, length_beats, beats_per_bar, first_bar_beat, skip, wanted
               ) -> tuple[int, int]:
    bar, sets = _bar_sets(notes, length_beats, beats_per_bar, first_bar_beat)
    if wanted is None:
        return 0, 0
    counted = [s for i, s in enumerate(sets) if i not in skip]
    return sum(all(w in s for w in wanted) for s in counted), len(counted)


def kick_on_one_counts(notes, length_beats: float, beats_per_bar: float = 4.0,
                       first_bar_beat: float = 0.0, skip=()) -> tuple[int, int]:
    """(bars with a kick onset on their first 16th, bars counted): the whole bars from the
    first bar line whose index (0 = the first whole bar) is not in ``skip`` (fill bars)."""
    return _bar_share(notes, length_beats, beats_per_bar, first_bar_beat, skip, [(0, KICK)])


def backbeat_counts(notes, length_beats: float, beats_per_bar: float = 4.0,
                    first_bar_beat: float = 0.0, skip=()) -> tuple[int, int]:
    """(bars with a snare onset on both beat 2 and beat 4, bars counted), bars as in
    ``kick_on_one_counts``. Only 4/4 bars (16 steps; beats 2 and 4 are steps 4 and 12)
    have a backbeat: other bar lengths count (0, 0)."""
    bar, _ = _bar_step(beats_per_bar, first_bar_beat)
    wanted = [(4, SNARE), (12, SNARE)] if bar == 16 else None
    return _bar_share(notes, length_beats, beats_per_bar, first_bar_beat, skip, wanted)


def share(counts) -> float:
    """``hits / total`` of a ``(hits, total)`` pair or of a list of them; nan when 0."""
    pairs = [counts] if isinstance(counts, tuple) else list(counts)
    hit, total = sum(p[0] for p in pairs), sum(p[1] for p in pairs)
    return hit / total if total else float("nan")


def drum_part_key(notes) -> frozenset:
    """A drum part as the set of its (16th step, class) onsets: velocities and microtiming
    within half a 16th do not make two parts different."""
    out = set()
    for x in notes:
        c = drum_class(x[0])
        if c is not None:
            out.add((int(math.floor(x[1] * STEPS_PER_BEAT + 0.5)), c))
    return frozenset(out)


def distinct_parts(parts) -> int:
    """How many different drum parts (``drum_part_key``) a set of parts holds."""
    return len({drum_part_key(p) for p in parts})
