"""Melody tokens: one melodic line (and optionally its chords) as a REMI-like token stream.

The grid is ``TICKS`` = 12 per beat (quarter note): 16ths (3), eighth triplets (4) and
16th triplets (2) are exact. A piece is a list of ``MelodyBar``: its meter, its length
and the ``offset`` of its first tick inside a full bar (a pickup bar sits at the end of a
full bar: ``offset = full bar - pickup``), the notes ``(pos, pitch, dur)`` with ``pos``
ticks from the full bar's start and ``dur`` ticks, and the chords ``(pos, class)``
(``deepcompose.chords.chord_class``) that start in it.

Tokens of one bar: ``BAR_<meter>``, then by position ``POS_t [CHORD_c] [PITCH_p DUR_d]``.
The meter is in every bar token, so the model always knows where it is in the bar and
which meter it is in (4/4, 3/4, 2/4, 2/2, 6/8, ... ``METERS``; others use the nearest
bar length as ``other``). A sequence starts ``BOS STYLE_<style>``; a continuation runs
on; an infill (fill-in-the-middle) is ``BOS STYLE prefix HOLE_n suffix MID middle EOS``
where ``n`` is the number of bars in the hole (the middle is generated after seeing what
follows it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..chords import N_CLASSES, VOCAB_QUALITIES, chord_class

TICKS = 12  # grid ticks per beat
METERS = ((4, 4), (3, 4), (2, 4), (2, 2), (6, 8), (3, 8), (9, 8), (12, 8), (6, 4), (3, 2),
          (5, 4), (7, 8), (3, 3))  # (3, 3): "other", any unlisted meter
OTHER_METER = len(METERS) - 1
MAX_POS = 72  # positions per bar: up to 6 beats (12/8, 6/4, 3/2)
PITCH_LOW, PITCH_HIGH = 24, 108  # MIDI range of the tokens (C1..C8)
DURATIONS = (1, 2, 3, 4, 6, 8, 9, 12, 15, 16, 18, 20, 24, 30, 32, 36, 42, 48, 54, 60, 72,
             84, 96, 120, 144)  # ticks; a duration takes the nearest class
STYLES = ("pop", "folk", "classical")
MAX_HOLE = 16  # HOLE_1 .. HOLE_16 (longer holes say 16)


class Vocab:
    """Token ids: specials, styles, holes, bar tokens per meter, positions, pitches,
    durations, chord classes (in that order)."""

    PAD, BOS, EOS, MID = 0, 1, 2, 3
    STYLE = 4
    HOLE = STYLE + len(STYLES)          # HOLE + n - 1 for a hole of n bars
    BAR = HOLE + MAX_HOLE               # BAR + meter index
    POS = BAR + len(METERS)
    PITCH = POS + MAX_POS
    DUR = PITCH + PITCH_HIGH - PITCH_LOW + 1
    CHORD = DUR + len(DURATIONS)
    SIZE = CHORD + N_CLASSES

    @classmethod
    def kind(cls, tok: int) -> str:
        """``special``, ``style``, ``hole``, ``bar``, ``pos``, ``pitch``, ``dur``, ``chord``."""
        for name, lo in (("chord", cls.CHORD), ("dur", cls.DUR), ("pitch", cls.PITCH),
                         ("pos", cls.POS), ("bar", cls.BAR), ("hole", cls.HOLE),
                         ("style", cls.STYLE)):
            if tok >= lo:
                return name
        return "special"


def meter_index(num: int, den: int) -> int:
    return METERS.index((num, den)) if (num, den) in METERS else OTHER_METER


def full_bar_ticks(num: int, den: int) -> int:
    """Ticks in one full bar of ``num/den`` (at most ``MAX_POS``)."""
    return min(MAX_POS, round(num * 4 * TICKS / den))


def duration_class(ticks: float) -> int:
    return int(np.argmin(np.abs(np.asarray(DURATIONS) - ticks)))


@dataclass
class MelodyBar:
    """One bar: ``meter`` (num, den); ``length`` ticks it lasts; ``offset`` ticks of the full
    bar before it starts (a pickup); ``notes`` ``[(pos, pitch, dur)]`` and ``chords``
    ``[(pos, class)]`` with ``pos`` in ticks from the full bar's start."""

    meter: tuple[int, int]
    length: int
    offset: int = 0
    notes: list = field(default_factory=list)
    chords: list = field(default_factory=list)


def line_to_bars(notes, bar_map, end: float, chords=None) -> list[MelodyBar]:
    """A line's notes ``(pitch, start_beat, end_beat, ...)`` -> ``MelodyBar`` per bar of
    ``bar_map`` (``representations.bars.BarMap``) up to beat ``end``. The top line only:
    one note per onset tick (the highest), each cut at the next onset; pitches outside
    ``PITCH_LOW..PITCH_HIGH`` moved by octaves. ``chords`` ``(start, end, label)``
    beats."""
    bars = bar_map.bars(end)
    out = []
    for b in bars:
        full = full_bar_ticks(*b.meter)
        length = max(1, min(full, round((b.end - b.start) * TICKS)))
        offset = full - length if b.number == 0 else 0
        out.append(MelodyBar(b.meter, length, offset))
    if not out:
        return out
    starts = np.array([b.start for b in bars])
    onsets: dict[int, tuple[int, int]] = {}  # absolute tick -> (pitch, end tick)
    for n in notes:
        a, z = round(n[1] * TICKS), round(n[2] * TICKS)
        if n[1] < end and (a not in onsets or n[0] > onsets[a][0]):
            onsets[a] = (int(n[0]), max(z, a + 1))
    ticks = sorted(onsets)
    for i, a in enumerate(ticks):
        pitch, z = onsets[a]
        if i + 1 < len(ticks):
            z = min(z, ticks[i + 1])
        k = int(np.searchsorted(starts, a / TICKS + 1e-9, side="right") - 1)
        if k < 0:
            continue
        bar = out[k]
        pos = bar.offset + a - round(starts[k] * TICKS)
        if pos >= MAX_POS:
            continue
        while pitch < PITCH_LOW:
            pitch += 12
        while pitch > PITCH_HIGH:
            pitch -= 12
        bar.notes.append((pos, pitch, z - a))
    for a, _, label in chords or ():
        k = int(np.searchsorted(starts, a + 1e-9, side="right") - 1)
        if 0 <= k < len(out) and a < end:
            pos = out[k].offset + round((a - starts[k]) * TICKS)
            if pos < MAX_POS:
                out[k].chords.append((pos, chord_class(label)))
    return out


def bar_tokens(bar: MelodyBar, with_chords: bool = True) -> list[int]:
    """The tokens of one bar (see the module docstring)."""
    events: dict[int, list] = {}
    if with_chords:
        for pos, c in bar.chords:
            events.setdefault(pos, [None, None])[0] = c
    for pos, pitch, dur in bar.notes:
        events.setdefault(pos, [None, None])[1] = (pitch, dur)
    out = [Vocab.BAR + meter_index(*bar.meter)]
    for pos in sorted(events):
        chord, note = events[pos]
        out.append(Vocab.POS + pos)
        if chord is not None:
            out.append(Vocab.CHORD + chord)
        if note is not None:
            out += [Vocab.PITCH + note[0] - PITCH_LOW, Vocab.DUR + duration_class(note[1])]
    return out


def bars_tokens(bars, with_chords: bool = True) -> list[int]:
    return [t for b in bars for t in bar_tokens(b, with_chords)]


def tokens_to_notes(tokens) -> list[list[tuple[int, int, int]]]:
    """Tokens -> per bar (one list per ``BAR`` token) notes ``(pos, pitch, dur ticks)``.
    A pitch without its duration, or a note without a position, is dropped."""
    bars: list[list] = []
    pos = pitch = None
    for t in tokens:
        kind = Vocab.kind(int(t))
        if kind == "bar":
            bars.append([])
            pos = pitch = None
        elif kind == "pos":
            pos, pitch = int(t) - Vocab.POS, None
        elif kind == "pitch":
            pitch = int(t) - Vocab.PITCH + PITCH_LOW
        elif kind == "dur" and bars and pos is not None and pitch is not None:
            bars[-1].append((pos, pitch, DURATIONS[int(t) - Vocab.DUR]))
            pitch = None
    return bars


def tokens_to_chords(tokens) -> list[list[tuple[int, int]]]:
    """Tokens -> per bar chords ``(pos, class)``."""
    bars: list[list] = []
    pos = None
    for t in tokens:
        kind = Vocab.kind(int(t))
        if kind == "bar":
            bars.append([])
        elif kind == "pos":
            pos = int(t) - Vocab.POS
        elif kind == "chord" and bars and pos is not None:
            bars[-1].append((pos, int(t) - Vocab.CHORD))
    return bars


def head(style: str) -> list[int]:
    """``BOS STYLE_<style>``: how every sequence starts."""
    return [Vocab.BOS, Vocab.STYLE + STYLES.index(style)]


def continue_tokens(style: str, bars, with_chords: bool = True) -> list[int]:
    return head(style) + bars_tokens(bars, with_chords)


def fim_tokens(style: str, prefix: list[int], suffix: list[int], n: int,
               middle: list[int] | None = None) -> list[int]:
    """``BOS STYLE prefix HOLE_n suffix MID [middle EOS]`` from token lists: the one layout
    of a fill-in-the-middle sequence (training, sampling). ``n`` bars in the hole (the token
    says at most ``MAX_HOLE``); without ``middle``, the prompt only."""
    out = head(style) + prefix + [Vocab.HOLE + min(max(n, 1), MAX_HOLE) - 1] + suffix
    out.append(Vocab.MID)
    return out if middle is None else out + middle + [Vocab.EOS]


def infill_tokens(style: str, prefix, suffix, middle=(), with_chords: bool = True
                  ) -> list[int]:
    """``fim_tokens`` of bars; ``n`` = len(middle) bars, or pass ``middle`` as an int (the
    hole's bar count) to get the prompt only."""
    n = middle if isinstance(middle, int) else len(middle)
    mid = None if isinstance(middle, int) else bars_tokens(middle, with_chords)
    return fim_tokens(style, bars_tokens(prefix, with_chords), bars_tokens(suffix, with_chords),
                      n, mid)


def strip_empty(bars, leading: bool = True, trailing: bool = True) -> list:
    """``bars`` without the empty bars (no notes) at their start and/or end."""
    full = [i for i, b in enumerate(bars) if b.notes]
    if not full:
        return []
    return list(bars[full[0] if leading else 0:full[-1] + 1 if trailing else len(bars)])


def transpose(bars, semitones: int) -> list[MelodyBar]:
    """Every note and chord moved by ``semitones`` (chords keep their quality)."""
    q = len(VOCAB_QUALITIES)

    def move_chord(c):  # class 0 = N, then 1 + root * q + quality
        if c == 0:
            return 0
        root, qual = divmod(c - 1, q)
        return 1 + ((root + semitones) % 12) * q + qual

    return [MelodyBar(b.meter, b.length, b.offset,
                      [(p, pitch + semitones, d) for p, pitch, d in b.notes],
                      [(p, move_chord(c)) for p, c in b.chords]) for b in bars]
