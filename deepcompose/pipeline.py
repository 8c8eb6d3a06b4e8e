"""The compose pipeline behind ``deepcompose.compose(melody, model, task, **controls) -> Song``.

compose validates the controls against the model's contract (``models.registry.resolve``),
reads the melody, picks the melody track, and hands the song to the plan of the family
that plays the model and style (its row in the family table: ``plans.voices`` for the
voice-grid families, ``plans.band`` for the band). The user's melody is carried through
as its original notes.
The output keeps the input's tempo map, meter, key, pickup and title.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import replace
from pathlib import Path

from .errors import DeepcomposeError
from .models import registry


def load_song(melody):
    """A Song from a path, a Song, a PrettyMIDI, a music21 stream, a JSON dict or note tuples.

    A song read from a file without a title of its own takes the file's stem as title.
    """
    from .song import Song

    if isinstance(melody, Song):
        return melody
    if isinstance(melody, (str, os.PathLike)):
        song = Song.read(melody)
        return song if song.title else replace(song, title=Path(melody).stem)
    if isinstance(melody, dict):
        return Song.from_notes(melody)
    if isinstance(melody, (list, tuple)):
        return Song.from_tuples(melody)
    module = type(melody).__module__
    if module.startswith("pretty_midi"):
        return Song.from_pretty_midi(melody)
    if module.startswith("music21"):
        return Song.from_music21(melody)
    raise DeepcomposeError(
        f"cannot compose from a {type(melody).__name__}; give a file path, a Song, a PrettyMIDI, "
        "a music21 stream, a JSON notes dict or (pitch, start_beat, duration_beats, velocity) "
        "tuples"
    )


def with_pickup(song, pickup):
    """The song with ``pickup`` beats before its first full bar (0 <= pickup < one bar)."""
    if pickup is None:
        return song
    _, num, den = song.time_signatures[0]
    bar = num * 4.0 / den
    if isinstance(pickup, bool) or not isinstance(pickup, (int, float)) or not (
            0 <= pickup < bar):
        raise DeepcomposeError(f"pickup must be a number of beats from 0 to below one bar "
                               f"({bar:g} beats in {num}/{den}); got {pickup!r}")
    return replace(song, pickup=float(pickup))


def compose(melody, model: str = "gan", task: str = "accompany", *,
            track: str | int | None = None, pickup: float | None = None, **controls):
    """Complete ``melody`` with ``model``; return a new Song (the input is never modified).

    melody: a path (MIDI, MusicXML, ABC, JSON), a Song, a PrettyMIDI, a music21 stream, a
        JSON notes dict, or ``(pitch, start_beat, duration_beats, velocity)`` tuples.
    task: ``accompany`` | ``continue`` (``bars`` = N new bars) | ``infill`` (``bars`` =
        "A:B", 1-based inclusive) | ``enhance``.
    track: the melody track (name or index); pickup: beats before the first full bar.
    controls: ``seed``, ``temperature``, ``candidates``, ``ensemble``, ``bars`` and the
        model's own (``deepcompose models`` lists them; ``controls.py`` declares them).
        A control the model, task or style does not use is an error.
    """
    c = registry.resolve(model, task, controls)
    family = registry.player(model, c.get("style"))
    registry.check_task(model, task, c.get("style"))
    song = with_pickup(load_song(melody), pickup)
    melody_index = song.melody_index(track)
    if not song.tracks[melody_index].name.strip():  # scores and DAWs show the part's name
        tracks = list(song.tracks)
        tracks[melody_index] = replace(tracks[melody_index], name="Melody")
        song = replace(song, tracks=tracks)
    if task == "continue" and family.melody:  # a hook into a song: the melody first
        song, melody_index, task = continue_first(song, melody_index, family, c), 0, "accompany"
    plan = importlib.import_module(f"deepcompose.plans.{family.plan}")
    return plan.run(song, melody_index, family, task, c)


def continue_first(song, melody_index: int, family, c: dict):
    """The song with its melody continued by the melody family the row names
    (``Family.melody``, ``"model:style"``) for ``c["bars"]`` bars, on the same seed,
    temperature and chords, its last note on a home tonic (the melody's ending rule); the
    arrangement family then plays the whole song."""
    model, _, style = family.melody.partition(":")
    given = {"style": style, "bars": c.get("bars"), "seed": c["seed"],
             "temperature": c["temperature"], "chords": c.get("chords")}
    controls = registry.resolve(model, "continue", {k: v for k, v in given.items()
                                                    if v is not None})
    controls["end_home"] = True  # a song: its last note home (sampling.end_last_note)
    melodist = registry.player(model, style)
    plan = importlib.import_module(f"deepcompose.plans.{melodist.plan}")
    return plan.run(song, melody_index, melodist, "continue", controls)
