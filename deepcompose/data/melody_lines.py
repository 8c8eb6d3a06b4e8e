"""Melody lines for the melody transformer, one source per style, split by piece.

- ``pop``: POP909's ``MELODY`` track with its chord annotations (``pop909.py``; split by
  song id: ids divisible by 10 are valid), from the bar of the first sung note;
- ``folk``: music21's public-domain ``ryansMammoth`` and ``oneills1850`` tunes
  (``folk.py``; split by tune: 80/10/10 by name);
- ``classical``: violin I of the OpenScore String Quartets (``quartets.py``; split by
  work), every movement from its first bar.

Each piece becomes a ``Line``: its style, name and ``MelodyBar`` list (the grid of
``representations.melody_tokens``: 12 ticks per beat, bars through every meter change,
a pickup as bar 0). Parsing POP909 takes a minute; lines are cached per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ..errors import DeepcomposeError
from ..representations.bars import BarMap
from ..representations.melody_tokens import STYLES, MelodyBar, line_to_bars, strip_empty

DATA = {"pop": "pop909", "folk": "folk", "classical": "quartets"}  # style -> data name


@dataclass
class Line:
    """One piece's melody: ``bars`` on the melody-token grid (see the module docstring)."""

    style: str
    name: str
    bars: list[MelodyBar]


def pop_lines(split: str) -> list[Line]:
    from .pop909 import load_split

    out = []
    for song in load_split("pop909", split):
        notes = song.notes("melody")
        if len(notes) < 16:
            continue
        bpb = song.beats_per_bar
        bar_map = BarMap.of([(0.0, bpb, 4)], pickup=song.first_bar_beat % bpb)
        end = max(n[2] for n in notes)
        bars = strip_empty(line_to_bars(notes, bar_map, end, song.chords))
        out.append(Line("pop", f"pop909/{song.song_id:03d}", bars))
    return out


def folk_lines(split: str) -> list[Line]:
    from .folk import load_folk

    out = []
    for t in load_folk(split):
        bar_map = BarMap.of(t.time_signatures, t.pickup)
        bars = strip_empty(line_to_bars([tuple(n) for n in t.notes], bar_map, t.length))
        if len(bars) >= 4:
            out.append(Line("folk", t.name, bars))
    return out


def classical_lines(split: str) -> list[Line]:
    from .quartets import load_quartets

    out = []
    for m in load_quartets(split):
        notes = m.notes("violin1")
        if len(notes) < 16:
            continue
        bar_map = BarMap.of(m.time_signatures, m.pickup)
        bars = strip_empty(line_to_bars(notes, bar_map, m.length))
        out.append(Line("classical", m.name, bars))
    return out


@functools.lru_cache(maxsize=8)
def load_lines(style: str, split: str) -> tuple[Line, ...]:
    """The lines of ``style`` (``pop``, ``folk``, ``classical``) in ``split`` (``train`` or
    ``valid``)."""
    if style not in STYLES:
        raise DeepcomposeError(f"melody style {style!r}; choose one of {', '.join(STYLES)}")
    if split not in ("train", "valid"):
        raise DeepcomposeError(f"melody lines have splits train and valid, not {split!r}")
    reader = {"pop": pop_lines, "folk": folk_lines, "classical": classical_lines}[style]
    return tuple(reader(split))


def load_split(data: str, split: str) -> list[Line]:
    """``deepcompose.train``'s hook: ``melodies`` is every style; a style's data name
    (``pop909``, ``folk``, ``quartets``) is that style alone."""
    styles = [s for s, d in DATA.items() if data in ("melodies", d)]
    if not styles:
        raise DeepcomposeError(f"the melody transformer trains on --data melodies (or one of "
                               f"{', '.join(DATA.values())}), not {data!r}")
    return [line for s in styles for line in load_lines(s, split)]
