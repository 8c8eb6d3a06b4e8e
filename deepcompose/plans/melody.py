"""The melody plan: ``compose --model transformer --style pop|folk|classical`` writes more of
the melody itself, one line in, the same line out.

- ``continue`` (``bars`` = N new bars, default 4): the new bars start at the bar after the
  melody's last sounding note, in the meter in force there; with ``chords`` the new bars
  (and the prompt) follow that progression, repeated to the end when shorter.
- ``infill`` (``bars`` = A:B): those bars are written again, the model having read the
  bars before *and after* them (fill-in-the-middle); every note that starts outside them
  is kept exactly.

The result holds one track: the user's melody track with its notes untouched (times,
velocities) plus the new notes (a monophonic line: each new note ends by the next
onset), with the song's tempo map, meter, key, pickup and title. Times in beats; the
model's grid is 12 ticks per beat (``representations.melody_tokens``).
"""

from __future__ import annotations

import statistics
from dataclasses import replace

from ..errors import DeepcomposeError
from ..representations.melody_tokens import TICKS, line_to_bars, strip_empty
from ..song import Note, Song

DEFAULT_NEW_BARS = 4
EPS = 1e-6


def line_notes(track) -> list[tuple[int, float, float]]:
    return [(n.pitch, n.start, n.end) for n in track.notes]


def velocity_of(track) -> int:
    return int(statistics.median(n.velocity for n in track.notes)) if track.notes else 90


def drawn_notes(draw_bars, bars, templates, velocity: int, end: float) -> list[Note]:
    """Notes ``(pos, pitch, dur ticks)`` per bar -> ``Note`` in beats; ``bars`` are the
    ``BarMap`` bars they fill, ``templates`` their ``MelodyBar`` (for the pickup's offset).
    Each note ends by the next onset and by ``end``."""
    out = []
    for notes, bar, tpl in zip(draw_bars, bars, templates, strict=False):
        for pos, pitch, dur in notes:
            start = bar.start + (pos - tpl.offset) / TICKS
            out.append(Note(int(pitch), start, min(start + dur / TICKS, end), velocity))
    out.sort(key=lambda n: n.start)
    for i in range(len(out) - 1):
        if out[i].end > out[i + 1].start:
            out[i] = replace(out[i], end=out[i + 1].start)
    return [n for n in out if n.end > n.start + EPS]


def continue_melody(song: Song, melody_index: int, family, c: dict) -> Song:
    """``continue``: the melody and ``c["bars"]`` new bars, as one track."""
    from ..chords import load_chords, repeat_chords
    from ..models.common.weights import get_model
    from .band import meter_of

    melody = song.tracks[melody_index]
    if not melody.notes:
        raise DeepcomposeError("the melody track has no notes to continue")
    bar_map = song.bar_map()
    last = bar_map.index(max(n.end for n in melody.notes) - EPS)
    n_new = c.get("bars") or DEFAULT_NEW_BARS
    end = bar_map.end(last + n_new)
    chords = None
    if c.get("chords"):
        beats_per_bar, first_bar, _ = meter_of(song)
        chords = repeat_chords(load_chords(c["chords"], beats_per_bar, first_bar,
                                           tuple(song.time_signatures[1:])), end)
    bars = bar_map.bars(end - EPS)
    line = line_to_bars(line_notes(melody), bar_map, end, chords)
    split = next(i for i, b in enumerate(bars) if b.number == last + 1)
    draw = get_model(family.name).continue_line(
        strip_empty(line[:split], trailing=False), line[split:], c.get("style") or family.styles[0],
        seed=c["seed"], temperature=c["temperature"], top_k=c.get("top_k"),
        top_p=c.get("top_p"), chords=chords is not None, candidates=c["candidates"],
        end_home=bool(c.get("end_home")))
    new = drawn_notes(draw.bars, bars[split:], line[split:], velocity_of(melody), end)
    track = replace(melody, notes=list(melody.notes) + new)
    return replace(song, tracks=[track], chords=chords if chords else song.chords)


def infill_melody(song: Song, melody_index: int, family, c: dict) -> Song:
    """``infill``: bars A:B of the melody written again from both sides."""
    from ..models.common.weights import get_model

    if c.get("chords"):
        raise DeepcomposeError("--chords applies to --task continue of the melody models, "
                               "not infill")
    melody = song.tracks[melody_index]
    a, b = c["bars"]
    bar_map = song.bar_map()
    song_end = max((n.end for t in song.tracks for n in t.notes), default=0.0)
    count = bar_map.count(song_end)
    if a < bar_map.first_bar or b > bar_map.first_bar + count - 1:
        raise DeepcomposeError(f"--bars {a}:{b} lies outside the melody (bars "
                               f"{bar_map.first_bar} to {bar_map.first_bar + count - 1})")
    start, stop = bar_map.span(a, b)
    bars = bar_map.bars(max(song_end, stop) - EPS)
    line = line_to_bars(line_notes(melody), bar_map, max(song_end, stop))
    ia = next(i for i, x in enumerate(bars) if x.number == a)
    ib = next(i for i, x in enumerate(bars) if x.number == b) + 1
    kept = [n for n in melody.notes if not (start - EPS <= n.start < stop - EPS)]
    after = strip_empty(line[ib:], leading=False)
    draw = get_model(family.name).infill_line(
        strip_empty(line[:ia], trailing=False), line[ia:ib], after,
        c.get("style") or family.styles[0],
        seed=c["seed"], temperature=c["temperature"], top_k=c.get("top_k"),
        top_p=c.get("top_p"), candidates=c["candidates"])
    held = max((n.end for n in kept if n.start < start), default=start)  # held into the hole
    nxt = min((n.start for n in kept if n.start >= stop - EPS), default=stop)
    new = [n for n in drawn_notes(draw.bars, bars[ia:ib], line[ia:ib], velocity_of(melody),
                                  min(stop, nxt)) if n.start >= held - EPS]
    track = replace(melody, notes=sorted(kept + new, key=lambda n: (n.start, n.pitch)))
    tracks = list(song.tracks)
    tracks[melody_index] = track
    return replace(song, tracks=tracks)


def run(song: Song, melody_index: int, family, task: str, c: dict) -> Song:
    """The plan's entry (``pipeline.compose``): ``continue`` or ``infill`` the melody."""
    if task == "continue":
        return continue_melody(song, melody_index, family, c)
    return infill_melody(song, melody_index, family, c)
