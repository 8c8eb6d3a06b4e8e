"""The voice-grid plan: what the chorale models (gan --style chorale, arcnn, transformer) see.

The user's melody becomes row 0 of a voice grid ``[4, steps]`` (16th grid, the melody's
top line, octave-shifted into the models' soprano range); ``known`` marks the cells a
model must keep; the model fills the rest; the grid comes back as notes. The user's
melody is carried through as its original notes (unquantized times, velocities).

infill touches exactly what it is asked to: the chosen bars of the tracks the model
can represent (the melody, and up to three single-line tracks below it that fit the
voices' ranges). Every other note of every track stays identical, and no track is
added; a chordal, drum or out-of-range track is left as it was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..controls import COMMON_NAMES
from ..data import PITCH_RANGE
from ..decoding import snap
from ..ensembles import ensemble_programs
from ..errors import DeepcomposeError
from ..representations.bars import BarMap
from ..representations.voices import REST, STEPS_PER_BEAT, VOICE_NAMES, Meter, grid_to_notes
from ..song import Note, Song, Track

SOPRANO_RANGE = (60, 81)  # MIDI pitches of the JSB sopranos the shipped models learned
MAX_COMPOSE_BEATS = 8192  # longest melody compose accepts (beats); see limits in the README
GENERATED_VELOCITY = 80
VOICE_ROLES = ("alto", "tenor", "bass")
MAX_OVERLAP_SHARE = 0.05  # a track counts as one line when <= 5% of its note time overlaps


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


def parse_bars(bars, bar_map: BarMap, steps: int) -> tuple[int, int]:
    """Bars ``(A, B)`` or ``"A:B"`` (1-based, inclusive; a pickup is bar 0) -> steps
    ``[start, end)`` of the 16th grid, bars counted through every change of meter
    (``Song.bar_map()``). The format was checked by ``controls``; this checks the piece."""
    if isinstance(bars, str):
        a, b = (int(x) for x in bars.split(":"))
    else:
        a, b = int(bars[0]), int(bars[1])
    if a == 0 and round(bar_map.pickup * STEPS_PER_BEAT) == 0:  # none on the grid
        raise DeepcomposeError(f"bars {a}:{b}: bar 0 is a pickup, and this melody has none; "
                               "bars count from 1")
    start_beat, end_beat = bar_map.span(a, b)
    start = round(start_beat * STEPS_PER_BEAT)
    end = min(steps, round(end_beat * STEPS_PER_BEAT))
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
        for r, i in enumerate(voice_tracks_for(song, melody_index, shift), start=1):
            voice_tracks[r] = i
            grid[r] = np.where((g := song.melody_row(i, steps)) != REST, g + shift, REST)
            known[r] = True
        start, end = parse_bars(bars if bars is not None else (1, 1), song.bar_map(),
                                steps)
        known[:, start:end] = False
        return Plan(task, grid, known, meter, shift, steps, voice_tracks, (start, end))
    return Plan(task, grid, known, meter, shift, steps, voice_tracks)


def voice_tracks_for(song, melody_index: int, shift: int) -> list[int]:
    """Up to three input tracks the voices alto, tenor, bass can stand for, top down.

    A track qualifies when it is pitched, one line (at most ``MAX_OVERLAP_SHARE`` of its
    note time overlaps another of its notes), lies below the melody on average, and fits
    the models' pitch range after the melody's octave shift. Others are never touched.
    """
    melody = song.tracks[melody_index]
    top = _mean_pitch(melody.notes)
    fits = []
    for i, t in enumerate(song.tracks):
        if i == melody_index or t.is_drum or not t.notes or _mean_pitch(t.notes) > top:
            continue
        low, high = min(n.pitch for n in t.notes), max(n.pitch for n in t.notes)
        if low + shift < PITCH_RANGE[0] or high + shift > PITCH_RANGE[1]:
            continue
        if _overlap_share(t.notes) <= MAX_OVERLAP_SHARE:
            fits.append(i)
    fits.sort(key=lambda i: -_mean_pitch(song.tracks[i].notes))
    return fits[:3]


def _mean_pitch(notes) -> float:
    durs = np.array([max(n.end - n.start, 1e-6) for n in notes])
    return float(np.dot([n.pitch for n in notes], durs) / durs.sum())


def _overlap_share(notes) -> float:
    """Share of the track's note time during which another of its notes also sounds."""
    events = sorted([(n.start, 1) for n in notes] + [(n.end, -1) for n in notes])
    total = sum(n.end - n.start for n in notes) or 1.0
    overlap, depth, last = 0.0, 0, None
    for t, d in events:
        if depth > 1 and last is not None:
            overlap += (t - last) * (depth - 1)
        depth, last = depth + d, t
    return overlap / total


def _row_notes(row: np.ndarray, shift: int, first: int = 0, last: int | None = None):
    """Notes (Note objects, beats) of ``row[first:last]`` shifted back to the user's octave."""
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
    out = []
    for n in notes:
        if n.end <= start_beat or n.start >= end_beat:
            out.append(n)
        elif n.start < start_beat:
            out.append(Note(n.pitch, n.start, start_beat, n.velocity))
    return out


def _enhanced_melody(track, old_row: np.ndarray, new_row: np.ndarray, shift: int):
    """The melody after ``enhance``: original notes where the grid kept them, plus new ones."""
    changed = np.flatnonzero(old_row != new_row)
    kept = []
    for n in track.notes:
        s = min(snap(n.start, n.end)[0], len(old_row) - 1)
        if old_row[s] != new_row[s]:
            continue  # removed or replaced
        later = changed[changed > s]
        end = n.end if later.size == 0 else min(n.end, later[0] / STEPS_PER_BEAT)
        kept.append(n if end == n.end else Note(n.pitch, n.start, end, n.velocity))
    added = []
    for n in _row_notes(new_row, shift):
        s = snap(n.start, n.end)[0]
        if old_row[s] != new_row[s]:
            added.append(n)
    return sorted(kept + added, key=lambda n: (n.start, n.pitch))


def assemble(song, melody_index: int, p: Plan, out: np.ndarray, ensemble: str | None,
             default_ensemble: str = "piano"):
    """The output Song: the user's melody untouched plus the generated voices."""
    programs = [ensemble_programs(ensemble, default_ensemble)[role] for role in VOICE_ROLES]
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
            if i is not None:  # a row without a track was sampled as context only
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
    # chords are the result's record: new parts (accompany, continue) played none of the
    # input's; infill and enhance keep the song around the bars they change
    chords = list(song.chords) if p.task in ("infill", "enhance") else []
    return replace(song, tracks=tracks, tempos=list(song.tempos),
                   time_signatures=list(song.time_signatures), chords=chords)


def _check_kept(p: Plan, out: np.ndarray) -> None:
    if out.shape[0] != 4 or out.shape[1] != p.grid.shape[1]:
        raise RuntimeError(f"model returned a grid of shape {out.shape}, expected {p.grid.shape}")
    if p.task != "enhance" and not np.array_equal(out[p.known], p.grid[p.known]):
        raise RuntimeError("model changed cells it was told to keep")




def rank_score(composer, grid: np.ndarray, meter: Meter) -> float:
    """Score used by ``--candidates``: the model's own ``score`` (log-likelihood or critic)
    when it has one, else consonance + key fit - parallels/100 from ``metrics.grid_metrics``."""
    s = composer.score(grid, meter)
    if s is not None:
        return float(s)
    from ..metrics import grid_metrics

    m = grid_metrics(grid, meter)
    return m["consonance"] + m["keyfit"] - m["parallels"] / 100.0


def run(song, melody_index: int, family, task: str, c: dict) -> Song:
    """Compose with a voice-grid family (its row in ``models.registry``): plan, generate
    ``c["candidates"]`` times, assemble."""
    from ..models.common.weights import get_model

    own = {k: v for k, v in c.items()  # the model's own controls go to generate()
           if k not in COMMON_NAMES and k != "style" and v is not None}
    p = plan(song, melody_index, task, c.get("bars"))
    composer = get_model(family.name)
    best, best_score = None, -math.inf
    for i in range(c["candidates"]):
        out = np.asarray(composer.generate(task, p.grid.copy(), p.known.copy(), p.meter,
                                           seed=c["seed"] + i, temperature=c["temperature"],
                                           **own))
        _check_kept(p, out)
        if c["candidates"] == 1:
            best = out
            break
        s = rank_score(composer, out, p.meter)
        if s > best_score:
            best, best_score = out, s
    return assemble(song, melody_index, p, best, c.get("ensemble"), family.ensemble)
