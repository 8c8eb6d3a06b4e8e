"""The compose pipeline behind ``deepcompose.compose(melody, model, task, **controls) -> Song``.

(DESIGN.md calls this module compose.py; it is pipeline.py so that importing it never
shadows the public function ``deepcompose.compose``.)

compose turns the user's melody into a voice grid ``[4, steps]`` (16th grid,
row 0 = the melody's top line, octave-shifted into the models' soprano range),
marks which cells the model must keep (``known``), lets the model fill the rest,
and turns the grid back into notes. The user's melody is carried through as its
original notes (unquantized times, velocities): it is never re-quantized.
The output keeps the input's tempo map, meter, key and pickup.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

import numpy as np

from .ensembles import ensemble_programs
from .errors import DeepcomposeError
from .models.base import check_task, get_model
from .representations.voices import REST, STEPS_PER_BEAT, VOICE_NAMES, Meter, grid_to_notes

SOPRANO_RANGE = (60, 81)  # MIDI pitches of the JSB sopranos the shipped models learned
MAX_COMPOSE_BEATS = 8192  # longest melody compose accepts (beats); see limits in the README
GENERATED_VELOCITY = 80


def load_song(melody):
    """A Song from a path, a Song, a PrettyMIDI, a music21 stream, a JSON dict or note tuples."""
    from .song import Song

    if isinstance(melody, Song):
        return melody
    if isinstance(melody, (str, os.PathLike)):
        return Song.read(melody)
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


def octave_shift(row: np.ndarray, low: int = SOPRANO_RANGE[0], high: int = SOPRANO_RANGE[1]) -> int:
    """Semitones (a multiple of 12) that move most of the melody into ``[low, high]``."""
    pitches = row[row != REST].astype(int)
    if pitches.size == 0:
        return 0

    def outside(k: int) -> int:
        p = pitches + 12 * k
        return int(np.sum((p < low) | (p > high)))

    best = min(range(-5, 6), key=lambda k: (outside(k), abs(k)))
    return 12 * best


def parse_bars(bars, meter: Meter, steps: int) -> tuple[int, int]:
    """``"A:B"`` (1-based bar numbers, inclusive; a pickup is bar 0) -> steps ``[start, end)``."""
    if isinstance(bars, str):
        try:
            a, b = (int(x) for x in bars.split(":"))
        except ValueError:
            raise DeepcomposeError(f"--bars for infill takes A:B, e.g. 3:4; got {bars!r}") from None
    elif isinstance(bars, (tuple, list)) and len(bars) == 2:
        a, b = int(bars[0]), int(bars[1])
    else:
        raise DeepcomposeError(f"--bars for infill takes A:B, e.g. 3:4; got {bars!r}")
    if a < 0 or b < a:
        raise DeepcomposeError(f"--bars {a}:{b} is not a range of bars")
    start = meter.bar_start(a - 1) if a > 0 else 0  # bar 1 starts at the first full bar line
    end = min(steps, meter.bar_start(b))
    if end <= start:
        raise DeepcomposeError(f"--bars {a}:{b} lies outside the piece")
    return start, end


@dataclass
class Plan:
    """What the model is asked: the grid, the cells to keep, and how to map back."""

    task: str
    grid: np.ndarray  # [4, steps] pitches (shifted into the model's range) or REST
    known: np.ndarray  # [4, steps] bool
    meter: Meter
    shift: int  # semitones added to the user's pitches
    melody_steps: int  # steps the user's melody covers
    voice_tracks: list  # row -> index of the input track it came from, or None
    region: tuple[int, int] = (0, 0)  # infill: steps [start, end) to regenerate


def plan(song, melody_index: int, task: str, bars=None) -> Plan:
    """Build the grid and mask for ``task`` around the melody track ``melody_index``."""
    meter = song.meter()
    melody = song.tracks[melody_index]
    end_beat = max(n.end for n in melody.notes)
    if end_beat > MAX_COMPOSE_BEATS:
        raise DeepcomposeError(
            f"the melody is {end_beat:.0f} beats long; compose takes at most {MAX_COMPOSE_BEATS}"
        )
    steps = max(1, math.ceil(end_beat * STEPS_PER_BEAT - 1e-6))
    row = song.melody_row(melody_index, steps)
    shift = octave_shift(row)
    row = np.where(row != REST, row + shift, REST).astype(np.int16)
    voice_tracks = [melody_index, None, None, None]

    if task == "continue":
        n_bars = 4 if bars is None else int(bars)
        if not 1 <= n_bars <= 256:
            raise DeepcomposeError(f"--bars for continue takes 1 to 256 bars; got {n_bars}")
        total = steps + n_bars * meter.steps_per_bar
        grid = np.full((4, total), REST, dtype=np.int16)
        grid[0, :steps] = row
        known = np.zeros((4, total), dtype=bool)
        known[0, :steps] = True
        return Plan(task, grid, known, meter, shift, steps, voice_tracks)

    grid = np.full((4, steps), REST, dtype=np.int16)
    grid[0] = row
    known = np.zeros((4, steps), dtype=bool)
    known[0] = True
    if task == "infill":
        others = [i for i, t in enumerate(song.tracks)
                  if i != melody_index and not t.is_drum and t.notes]
        others.sort(key=lambda i: -np.mean([n.pitch for n in song.tracks[i].notes]))
        for r, i in enumerate(others[:3], start=1):
            voice_tracks[r] = i
            grid[r] = np.where((g := song.melody_row(i, steps)) != REST, g + shift, REST)
            known[r] = True
        start, end = parse_bars(bars if bars is not None else "1:1", meter, steps)
        known[:, start:end] = False
        return Plan(task, grid, known, meter, shift, steps, voice_tracks, (start, end))
    return Plan(task, grid, known, meter, shift, steps, voice_tracks)


def _row_notes(row: np.ndarray, shift: int, first: int = 0, last: int | None = None):
    """Notes (Note objects, beats) of ``row[first:last]`` shifted back to the user's octave."""
    from .song import Note

    last = len(row) if last is None else last
    out = []
    for pitch, a, b in grid_to_notes(row[first:last]):
        p = pitch - shift
        if 0 <= p <= 127:
            out.append(Note(p, (a + first) / STEPS_PER_BEAT, (b + first) / STEPS_PER_BEAT,
                            GENERATED_VELOCITY))
    return out


def _outside(notes, start_beat: float, end_beat: float):
    """Notes outside ``[start_beat, end_beat)``; a note reaching into it is cut at its start."""
    from .song import Note

    out = []
    for n in notes:
        if n.end <= start_beat or n.start >= end_beat:
            out.append(n)
        elif n.start < start_beat:
            out.append(Note(n.pitch, n.start, start_beat, n.velocity))
    return out


def _enhanced_melody(track, old_row: np.ndarray, new_row: np.ndarray, shift: int):
    """The melody after ``enhance``: original notes where the grid kept them, plus new ones."""
    from .song import Note

    changed = np.flatnonzero(old_row != new_row)
    kept = []
    for n in track.notes:
        s = min(round(n.start * STEPS_PER_BEAT), len(old_row) - 1)
        if old_row[s] != new_row[s]:
            continue  # removed or replaced
        later = changed[changed > s]
        end = n.end if later.size == 0 else min(n.end, later[0] / STEPS_PER_BEAT)
        kept.append(n if end == n.end else Note(n.pitch, n.start, end, n.velocity))
    added = []
    for n in _row_notes(new_row, shift):
        s = round(n.start * STEPS_PER_BEAT)
        if old_row[s] != new_row[s]:
            added.append(n)
    return sorted(kept + added, key=lambda n: (n.start, n.pitch))


def assemble(song, melody_index: int, p: Plan, out: np.ndarray, ensemble: str | None):
    """The output Song: the user's melody untouched plus the generated voices."""
    from .song import Song, Track

    programs = ensemble_programs(ensemble)
    melody = song.tracks[melody_index]
    tracks = []
    if p.task == "enhance":
        tracks = [replace(t, notes=list(t.notes)) for t in song.tracks]
        tracks[melody_index] = replace(
            melody, notes=_enhanced_melody(melody, p.grid[0], out[0], p.shift))
    elif p.task == "infill":
        a, b = p.region[0] / STEPS_PER_BEAT, p.region[1] / STEPS_PER_BEAT
        tracks = [replace(t, notes=list(t.notes)) for t in song.tracks]
        for r in range(4):
            i = p.voice_tracks[r]
            if i is None:
                tracks.append(Track(VOICE_NAMES[r], programs[r - 1] if r else 0, False,
                                    _row_notes(out[r], p.shift)))
            else:
                new = _row_notes(out[r], p.shift, *p.region)
                kept = _outside(song.tracks[i].notes, a, b)
                tracks[i] = replace(song.tracks[i],
                                    notes=sorted(kept + new, key=lambda n: (n.start, n.pitch)))
    else:
        notes = list(melody.notes)
        if p.task == "continue":
            notes += _row_notes(out[0], p.shift, first=p.melody_steps)
        tracks.append(replace(melody, notes=notes))
        for r in range(1, 4):
            notes = _row_notes(out[r], p.shift)
            tracks.append(Track(VOICE_NAMES[r], programs[r - 1], False, notes))
    return Song(tracks=tracks, tempos=list(song.tempos), time_signatures=list(song.time_signatures),
                key=song.key, pickup=song.pickup, ticks_per_beat=song.ticks_per_beat)


def _check_kept(p: Plan, out: np.ndarray) -> None:
    if out.shape[0] != 4 or out.shape[1] != p.grid.shape[1]:
        raise RuntimeError(f"model returned a grid of shape {out.shape}, expected {p.grid.shape}")
    if p.task != "enhance" and not np.array_equal(out[p.known], p.grid[p.known]):
        raise RuntimeError("model changed cells it was told to keep")


def compose(
    melody,
    model: str = "gan",
    task: str = "accompany",
    *,
    track: str | int | None = None,
    bars=None,
    seed: int = 0,
    temperature: float = 1.0,
    ensemble: str | None = None,
    candidates: int = 1,
    **controls,
):
    """Complete ``melody`` with ``model``; return a new Song (the input is never modified).

    melody: a path (MIDI, MusicXML, ABC, JSON), a Song, a PrettyMIDI, a music21 stream, a
        JSON notes dict, or ``(pitch, start_beat, duration_beats, velocity)`` tuples.
    task: ``accompany`` | ``continue`` (``bars`` = N new bars) | ``infill`` (``bars`` = "A:B",
        1-based inclusive) | ``enhance``. Controls (``max_remove``, ``max_add``, ``iterations``,
        ``top_k``, ``top_p``, ...) go to the model.
    candidates: generate this many (seeds ``seed .. seed+N-1``) and keep the best by
        ``rank_score``.
    """
    check_task(model, task)
    if not 0.0 <= float(temperature) <= 10.0:
        raise DeepcomposeError(f"temperature must be between 0 and 10; got {temperature}")
    if not 1 <= int(candidates) <= 64:
        raise DeepcomposeError(f"candidates must be between 1 and 64; got {candidates}")
    ensemble_programs(ensemble)  # validate before the slow part
    song = load_song(melody)
    melody_index = song.melody_index(track)
    p = plan(song, melody_index, task, bars)
    composer = get_model(model)
    best, best_score = None, -math.inf
    for i in range(int(candidates)):
        out = np.asarray(composer.generate(task, p.grid.copy(), p.known.copy(), p.meter,
                                           seed=int(seed) + i, temperature=float(temperature),
                                           **controls))
        _check_kept(p, out)
        if int(candidates) == 1:
            best = out
            break
        s = rank_score(composer, out, p.meter)
        if s > best_score:
            best, best_score = out, s
    return assemble(song, melody_index, p, best, ensemble)


def rank_score(composer, grid: np.ndarray, meter: Meter) -> float:
    """Score used by ``--candidates``: the model's own ``score`` (log-likelihood or critic)
    when it has one, else consonance + key fit - parallels/100 from ``metrics.grid_metrics``."""
    s = composer.score(grid, meter)
    if s is not None:
        return float(s)
    from .metrics import grid_metrics

    m = grid_metrics(grid)
    return m["consonance"] + m["keyfit"] - m["parallels"] / 100.0
