"""The band plan: ``compose --model gan --style pop`` (bass, keys, counter-melody, drums).

The melody goes to the pop band GAN as notes in beats with the meter (beats per bar, the
first bar line after a pickup); the drum GAN plays the chosen Groove feel on the same bar
lines. The output holds the user's melody track untouched, then the parts, and carries
the chords the band played (``Song.chords``, Harte labels).
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace

from ..ensembles import ensemble_programs
from ..errors import DeepcomposeError
from ..song import Note, Song, Track

DRUM_PROGRAM = 0


@functools.cache
def _band():
    from ..models.gan_pop import PopBand

    return PopBand.load()


@functools.cache
def _kit():
    from ..models.gan_drums import DrumKit

    return DrumKit.load()


def meter_of(song: Song) -> tuple[float, float, tuple[int, int]]:
    """(beats per bar, beat of the first full bar line, (num, den)) from the first meter."""
    _, num, den = song.time_signatures[0]
    beats_per_bar = num * 4.0 / den
    return beats_per_bar, song.pickup % beats_per_bar, (num, den)


def given_chords(spec, beats_per_bar: float, first_bar_beat: float):
    """``--chords``: bar text or a list ``[[start, end, label], ...]`` -> Harte chords."""
    from ..chords import parse_chord_json, parse_chord_text

    if spec is None:
        return None
    if isinstance(spec, str):
        return parse_chord_text(spec, beats_per_bar, first_bar_beat)
    return parse_chord_json([list(c) for c in spec])


def run(song: Song, melody_index: int, model: str, task: str, c: dict) -> Song:
    """Arrange the band under the melody; ``c["candidates"]`` tries ranked by the critic."""
    from ..representations.multitrack import BandRequest

    if task != "accompany":
        raise DeepcomposeError(f"--style pop does task accompany only, not {task}")
    melody = song.tracks[melody_index]
    beats_per_bar, first_bar, ts = meter_of(song)
    chords = given_chords(c.get("chords"), beats_per_bar, first_bar)
    length = max(n.end for n in melody.notes)
    notes = [(n.pitch, n.start, n.end, n.velocity) for n in melody.notes]
    band = _band()
    ranked = c["candidates"] > 1  # the critic scores only when there is a choice to make
    best, best_score = None, -math.inf
    for i in range(c["candidates"]):
        req = BandRequest(notes, length, beats_per_bar, first_bar, ts, chords,
                          seed=c["seed"] + i, temperature=c["temperature"])
        result = band.arrange(req, rules=c.get("rules", True), score=ranked)
        score = result.score if result.score is not None else 0.0
        if best is None or score > best_score:
            best, best_score = result, score
    programs = ensemble_programs(c.get("ensemble"), "pop")
    tracks = [replace(melody, notes=list(melody.notes))]
    for part in best.parts:
        tracks.append(Track(part.name, programs.get(part.role, part.program), part.is_drum,
                            [Note(*n) for n in part.notes]))
    if c.get("drums") != "none":
        kit = _kit()
        style = c.get("drums") or kit.default_style
        hits = kit.play(length, beats_per_bar, first_bar, ts, style, seed=c["seed"],
                        temperature=c["temperature"])
        tracks.append(Track("Drums", DRUM_PROGRAM, True, [Note(*n) for n in hits]))
    return replace(song, tracks=tracks, chords=list(best.chords))
