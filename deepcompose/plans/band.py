"""The band plan: ``compose --model gan --style pop`` (bass, keys, counter-melody, drums).

The melody goes to the pop band GAN as notes in beats with the meter (beats per bar, the
first bar line after a pickup); the drum GAN plays the chosen Groove feel on the same bar
lines. The band comes in on the bar of the melody's first note (a melody that enters after
bars of rest gets no invented intro), or earlier where given chords start earlier. The
output holds the user's melody track untouched, then the parts, and carries the chords
the band played (``Song.chords``, Harte labels).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

from ..ensembles import ensemble_programs
from ..song import Note, Song, Track

DRUM_PROGRAM = 0


def meter_of(song: Song) -> tuple[float, float, tuple[int, int]]:
    """(beats per bar, beat of the first full bar line, (num, den)) from the first meter."""
    _, num, den = song.time_signatures[0]
    beats_per_bar = num * 4.0 / den
    return beats_per_bar, song.pickup % beats_per_bar, (num, den)


def band_start(melody, chords, stretches) -> float:
    """Beat where the band comes in: the bar line of the melody's first bar, or of the first
    given chord's bar if that is earlier; 0 while that bar is the first bar or the pickup.
    ``melody`` notes and ``chords`` ``(start_beat, end_beat, label)`` are in beats;
    ``stretches`` from ``meter_stretches``."""
    from ..representations.bars import bar_index, iter_bars

    entries = [n[1] for n in melody] + [c[0] for c in chords or () if c[2] != "N"]
    first = bar_index(min(entries), stretches)
    return next(itertools.islice(iter_bars(stretches), first, None))[0] if first > 0 else 0.0


def shifted(notes, beats: float) -> list:
    """``(pitch, start, end, ...)`` tuples moved ``beats`` later (earlier when negative)."""
    return [(n[0], n[1] + beats, n[2] + beats, *n[3:]) for n in notes]


def from_beat(start: float, time_signatures, first_bar: float):
    """The meter seen from ``start`` (a bar line, or 0): ``(beats per bar, first bar line,
    (num, den), later changes)`` with beats counted from ``start``."""
    _, num, den = [ts for ts in time_signatures if ts[0] <= start + 1e-9][-1]
    changes = tuple((b - start, n, d) for b, n, d in time_signatures if b > start + 1e-9)
    return num * 4.0 / den, first_bar if start == 0 else 0.0, (num, den), changes


def run(song: Song, melody_index: int, family, task: str, c: dict) -> Song:
    """Arrange the band of ``family`` (its row in ``models.registry``; its ``drums`` part
    plays the drums) under the melody; ``c["candidates"]`` tries ranked by the critic.
    ``--task infill`` and ``--parts`` edit a previous result instead (``band_edit``)."""
    if task == "infill" or c.get("parts"):
        from .band_edit import edit

        return edit(song, melody_index, family, task, c, arrangement)
    from ..chords import load_chords

    beats_per_bar, first_bar, _ = meter_of(song)
    chords = load_chords(c["chords"], beats_per_bar, first_bar,
                         tuple(song.time_signatures[1:])) if c.get("chords") else None
    parts, played = arrangement(song, melody_index, family, c, chords, c["seed"])
    return replace(song, tracks=[replace(song.tracks[melody_index],
                                         notes=list(song.tracks[melody_index].notes)),
                                 *parts.values()], chords=played)


def arrangement(song: Song, melody_index: int, family, c: dict, chords, seed: int,
                drums: bool = True):
    """``({role: new Track}, chords played)`` under the melody track: the family's parts,
    then its drums (unless ``drums`` is False or ``c["drums"]`` is none); the chords as
    ``[(start_beat, end_beat, Harte label)]``. ``chords``: chords to play, in beats from the
    song's start (None: the model's own)."""
    from ..models.common.weights import get_model
    from ..models.registry import parts_of
    from ..representations.bars import meter_stretches
    from ..representations.multitrack import BandRequest

    melody = song.tracks[melody_index]
    beats_per_bar, first_bar, ts = meter_of(song)
    changes = tuple(song.time_signatures[1:])
    notes = [(n.pitch, n.start, n.end, n.velocity) for n in melody.notes]
    # The models play [0, length); a late entry is arranged from its own bar line, which
    # becomes a first full bar (no pickup), and everything is moved back afterwards.
    start = band_start(notes, chords,
                       meter_stretches(beats_per_bar, first_bar, changes))
    beats_per_bar, first_bar, ts, changes = from_beat(start, song.time_signatures, first_bar)
    if start:
        notes = shifted(notes, -start)
        chords = [(max(a - start, 0.0), b - start, x)
                  for a, b, x in chords or () if b > start] or None
    length = max(n[2] for n in notes)
    band = get_model(family.name)
    ranked = c["candidates"] > 1  # the critic scores only when there is a choice to make
    best, best_score = None, -math.inf
    for i in range(c["candidates"]):
        req = BandRequest(notes, length, beats_per_bar, first_bar, ts, chords,
                          seed=seed + i, temperature=c["temperature"],
                          meter_changes=changes)
        result = band.arrange(req, rules=c.get("rules", True), score=ranked)
        score = result.score if result.score is not None else 0.0
        if best is None or score > best_score:
            best, best_score = result, score
    programs = ensemble_programs(c.get("ensemble"), family.ensemble)
    tracks = {}
    for part in best.parts:
        tracks[part.role] = Track(part.name, programs.get(part.role, part.program),
                                  part.is_drum, [Note(*n) for n in shifted(part.notes, start)])
    drummer = parts_of(family).get("drums")  # a family without a drums part plays none
    if drummer is not None and drums and c.get("drums") != "none":
        kit = get_model(drummer.name)
        style = c.get("drums") or kit.default_style
        bpm = [b for at, b in song.tempos if at <= start + 1e-9][-1]
        hits = kit.play(length, beats_per_bar, first_bar, ts, style, seed=seed,
                        temperature=c["temperature"], meter_changes=changes,
                        melody=notes, tempo=bpm)  # the drums hear the song (gan_drums card)
        tracks["drums"] = Track("Drums", DRUM_PROGRAM, True,
                                [Note(*n) for n in shifted(hits, start)])
    played = [(a + start, b + start, label) for a, b, label in best.chords]
    return tracks, played
