"""Bar lines through changes of meter: the one bar map of the project.

Every part of deepcompose that counts bars counts them here: ``--bars`` of infill
(``plans.voices.parse_bars``), ``Song.bars``, the plot's bar lines, ``--chords`` bar
text, the band and the drums. Times are in beats (quarter notes) from the song's start.

A piece starts with an optional pickup (the beats before the first full bar line), then
runs through *stretches* of one meter each: ``(first bar line, bar length, (num, den))``.
A change of meter (``Song.time_signatures``) starts a bar, and cuts the bar before it
short when it does not fall on a bar line.

Two ways to use it:

- ``BarMap`` (``Song.bar_map()``): bars numbered as a musician does, from 1 at the first
  full bar; a pickup is bar 0.
- the functions ``meter_stretches`` / ``iter_bars`` / ``bar_index`` / ``beat_in_bar`` /
  ``melody_bars`` that the band and drums use on bare stretches: bars counted from 0 at
  the first full bar (the pickup is bar -1), any time unit (the drums walk 16th steps).
  ``BarMap`` is built on them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

EPS = 1e-9


def meter_stretches(beats_per_bar: float, first_bar_beat: float = 0, meter_changes=()
                    ) -> list[tuple[float, float, tuple[int, int] | None]]:
    """The stretches of a piece in one meter: ``(first bar line, beats per bar, (num, den))``
    in beats, the first from ``first_bar_beat`` (its meter ``None``: the caller's), then one
    per change ``(beat, num, den)``. A change starts a bar and cuts the bar before it short."""
    out = [(float(first_bar_beat), float(beats_per_bar), None)]
    for beat, num, den in sorted(meter_changes):
        stretch = (float(beat), num * 4.0 / den, (int(num), int(den)))
        if beat > out[-1][0] + EPS:
            out.append(stretch)
        else:  # a change at or before the first bar line is the first meter
            out[-1] = (out[-1][0], *stretch[1:])
    return out


def iter_bars(stretches):
    """``(start, length, full bar, meter)`` of every bar from the first bar line on, without
    end, through ``stretches`` ``(first bar line, bar length, meter)`` (beats, or any unit:
    the drums walk them in 16th steps); a bar cut short by a change of meter is shorter
    than its full bar."""
    for k, (start, bar, meter) in enumerate(stretches):
        nxt = stretches[k + 1][0] if k + 1 < len(stretches) else math.inf
        for i in itertools.count():
            pos = start + i * bar
            if pos >= nxt - EPS:
                break
            yield pos, min(bar, nxt - pos), bar, meter


def bar_index(beat: float, stretches) -> int:
    """The bar holding ``beat`` (0 = the first full bar, -1 = the pickup), counting bars
    through ``meter_stretches``."""
    before = 0
    for (start, bpb, _), (nxt, _, _) in itertools.pairwise(stretches):
        if beat < nxt:
            return before + math.floor((beat - start) / bpb)
        before += math.ceil((nxt - start) / bpb - EPS)  # the bars of this stretch
    start, bpb, _ = stretches[-1]
    return before + math.floor((beat - start) / bpb)


def beat_in_bar(beats: np.ndarray, stretches) -> tuple[np.ndarray, np.ndarray]:
    """Beats since the bar line ``[T]`` and the bar's beats per bar ``[T]`` at each of
    ``beats [T]``; before the first bar line the pickup counts back from it."""
    which = np.clip(np.searchsorted([s[0] for s in stretches], beats, side="right") - 1,
                    0, None)
    start = np.array([s[0] for s in stretches])[which]
    bpb = np.array([s[1] for s in stretches])[which]
    return (beats - start) % bpb, bpb


def melody_bars(melody, beats_per_bar: float, first_bar_beat: float = 0,
                meter_changes=()) -> range:
    """Indices of the bars from the melody's first note to its last note's end (bar ``i``
    is ``[first_bar_beat + i * beats_per_bar, ...)`` beats in one meter, the pickup is bar
    -1; ``meter_changes`` as in ``meter_stretches``); notes ``(pitch, start_beat,
    end_beat, ...)``. Empty without melody."""
    if not melody:
        return range(0)
    stretches = meter_stretches(beats_per_bar, first_bar_beat, meter_changes)
    first = bar_index(min(n[1] for n in melody), stretches)
    last = bar_index(max(n[2] for n in melody) - 1e-6, stretches)
    return range(first, last + 1)


@dataclass(frozen=True)
class Bar:
    """One bar of a ``BarMap``: ``number`` (1 = the first full bar, 0 = the pickup), beats
    ``[start, end)`` and its meter ``(num, den)``. A bar cut short by a change of meter,
    and the pickup, are shorter than their meter's full bar."""

    number: int
    start: float
    end: float
    meter: tuple[int, int]

    @property
    def length(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class BarMap:
    """Where the bars of a piece lie, in beats, through every change of meter.

    ``stretches``: ``(first bar line, beats per bar, (num, den))`` per meter, as
    ``meter_stretches`` gives them with the first meter filled in. Bars are numbered from
    1 at the first full bar line; the beats before it (``pickup`` > 0) are bar 0, which
    starts at beat 0. Build one with ``BarMap.of`` or ``Song.bar_map()``.
    """

    stretches: tuple[tuple[float, float, tuple[int, int]], ...]

    @classmethod
    def of(cls, time_signatures=((0.0, 4, 4),), pickup: float = 0.0) -> BarMap:
        """From ``Song.time_signatures`` ``(beat, num, den)`` (the first one is the meter from
        beat 0) and ``pickup``, the beats before the first full bar line (taken modulo the
        first meter's bar, as ``Song.meter()`` does)."""
        sigs = sorted((float(b), int(n), int(d)) for b, n, d in time_signatures) or [(0.0, 4, 4)]
        _, num, den = sigs[0]
        beats_per_bar = num * 4.0 / den
        first = meter_stretches(beats_per_bar, float(pickup) % beats_per_bar, sigs[1:])
        start, bpb, meter = first[0]
        return cls(((start, bpb, meter or (num, den)), *first[1:]))

    @property
    def pickup(self) -> float:
        """Beats before the first full bar line (0: no pickup, bar 0 does not exist)."""
        return self.stretches[0][0]

    @property
    def first_bar(self) -> int:
        """The lowest bar number: 0 with a pickup, else 1."""
        return 0 if self.pickup > EPS else 1

    def index(self, beat: float) -> int:
        """The number of the bar holding ``beat``: 1 = the first full bar, 0 = the pickup
        (beats before 0 count into the first bar of the piece)."""
        return max(self.first_bar, bar_index(beat, self.stretches) + 1)

    def start(self, bar: int) -> float:
        """Beat where bar ``bar`` starts (bar 0, the pickup, starts at beat 0); ValueError for
        bar 0 without a pickup or a negative bar."""
        self._check(bar)
        if bar == 0:
            return 0.0
        return next(itertools.islice(iter_bars(self.stretches), bar - 1, None))[0]

    def end(self, bar: int) -> float:
        """Beat where bar ``bar`` ends: the start of bar ``bar + 1``."""
        self._check(bar)
        return self.start(bar + 1)

    def span(self, first: int, last: int) -> tuple[float, float]:
        """Beats ``[start, end)`` of bars ``first`` to ``last`` inclusive."""
        return self.start(first), self.end(last)

    def bars(self, end_beat: float) -> list[Bar]:
        """Every bar that starts before ``end_beat``, from bar 0 (the pickup, when there is
        one) or 1; the last one is not cut at ``end_beat``."""
        out = []
        if self.first_bar == 0 and end_beat > EPS:
            out.append(Bar(0, 0.0, self.pickup, self.stretches[0][2]))
        for number, (start, length, _, meter) in enumerate(iter_bars(self.stretches), 1):
            if start >= end_beat - EPS:
                break
            out.append(Bar(number, start, start + length, meter))
        return out

    def count(self, end_beat: float) -> int:
        """Bars from the piece's start to ``end_beat`` (0 when ``end_beat`` <= 0); a pickup
        counts as a bar."""
        if end_beat <= EPS:
            return 0
        return self.index(end_beat - 1e-6) - self.first_bar + 1

    def lines(self, end_beat: float) -> list[float]:
        """Beats of the bar lines from the first full bar line up to ``end_beat``
        inclusive (the start of the pickup is none)."""
        return [start for start, *_ in itertools.takewhile(
            lambda bar: bar[0] <= end_beat + EPS, iter_bars(self.stretches))]

    def _check(self, bar: int) -> None:
        if bar < self.first_bar:
            raise ValueError(f"bar {bar}: bars count from {self.first_bar}"
                             + (" (there is no pickup)" if bar == 0 else ""))
