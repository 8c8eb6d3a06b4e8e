"""Measures of an edit (``--task infill --bars A:B``, ``--parts``): what was kept, what
changed, and whether the new notes fit. Songs are ``deepcompose.Song``; times in beats; a
``hole`` is the edited span ``(start_beat, end_beat)`` (``(-inf, inf)``: the whole song).
A note belongs to the hole when it starts inside it (``inside``).
"""

from __future__ import annotations

import math

from ..chords import parse_chord

EPS = 1e-6  # beats


def inside(n, hole) -> bool:
    """Whether note ``n`` starts inside ``hole`` (beats)."""
    return hole[0] - EPS <= n.start < hole[1] - EPS


def key(n) -> tuple:
    """A note as ``(pitch, start, end, velocity)``: equal keys, identical notes."""
    return (n.pitch, n.start, n.end, n.velocity)


def kept_outside(before, after, hole) -> bool:
    """Every track of ``before`` is in ``after`` (same order, name, program, drum flag) and
    every note starting outside ``hole`` is identical in every track."""
    if len(before.tracks) != len(after.tracks):
        return False
    for a, b in zip(before.tracks, after.tracks, strict=True):
        if (a.name, a.program, a.is_drum) != (b.name, b.program, b.is_drum):
            return False
        if [key(n) for n in a.notes if not inside(n, hole)] != \
                [key(n) for n in b.notes if not inside(n, hole)]:
            return False
    return True


def same_share(old, new, hole) -> float:
    """Share of ``new``'s notes in the hole with an identical note (pitch, start, end) among
    ``old``'s notes there; NaN when ``new`` has none there."""
    fresh = [n for n in new if inside(n, hole)]
    before = {(n.pitch, round(n.start, 4), round(n.end, 4)) for n in old if inside(n, hole)}
    if not fresh:
        return math.nan
    return sum((n.pitch, round(n.start, 4), round(n.end, 4)) in before for n in fresh) / len(
        fresh)


def density_ratio(old, new, hole, end: float) -> float:
    """``new``'s notes per beat in the hole over ``old``'s in as many beats either side of
    it (within ``[0, end)``; the old notes in the hole when there is no room around it);
    NaN when the reference has no notes."""
    a, b = max(hole[0], 0.0), min(hole[1], end)
    width = max(b - a, EPS)
    around = [(max(0.0, a - width), a), (b, min(end, b + width))]
    span = sum(max(0.0, y - x) for x, y in around)
    if span < 1.0:
        ref = sum(inside(n, hole) for n in old) / width
    else:
        ref = sum(x - EPS <= n.start < y - EPS for n in old for x, y in around) / span
    dens = sum(inside(n, hole) for n in new) / width
    return dens / ref if ref > 0 else math.nan


def chord_tone_counts(notes, chords, hole=(-math.inf, math.inf)) -> tuple[int, int]:
    """(on-beat notes in the hole on a tone of the chord sounding at their start, on-beat
    notes under a chord). On-beat: starting on a whole beat; chords ``(start, end, Harte)``
    in beats, ``N`` skipped."""
    spans = [(a, b, parse_chord(lab)[1]) for a, b, lab in chords if parse_chord(lab)[0]
             is not None]
    hit = total = 0
    for n in notes:
        if not inside(n, hole) or abs(n.start - round(n.start)) > 1e-3:
            continue
        tones = next((pcs for a, b, pcs in spans if a - EPS <= n.start < b - EPS), None)
        if tones is not None:
            total += 1
            hit += n.pitch % 12 in tones
    return hit, total
