"""The multi-track piano roll (MuseGAN's representation) with explicit track roles.

A roll is ``[tracks, steps, 128]``: one row per role in ``ROLES`` order, time in grid
*steps* (``STEPS_PER_BEAT`` = 4 steps per quarter-note beat, i.e. 16th notes), and the
128 MIDI pitches. A cell holds the velocity (1..127) of the note sounding there, 0 when
silent. A second boolean array of the same shape marks onsets, so that repeated notes
of one pitch stay separate notes. Drums use the same layout with General MIDI drum
keys (35..81) on the pitch axis.

Notes are ``(pitch, start_beat, end_beat, velocity)`` with times in beats (quarter
notes) from the song's start; ``encode`` quantizes them to the nearest step (at least
one step long) and ``decode`` gives them back in beats.

``BandRequest`` / ``BandPart`` / ``BandResult`` are the band models' interface
(``deepcompose.models.gan_pop.PopBand.arrange`` and the drum model).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

STEPS_PER_BEAT = 4
ROLES = ("melody", "bass", "keys", "counter", "drums")
PITCHES = 128
# General MIDI program per role (0-based): bass = Electric Bass (finger), keys = Acoustic
# Grand Piano, counter = Electric Piano 1 (a bright second voice); drums play on channel 10.
PROGRAMS = {"melody": 0, "bass": 33, "keys": 0, "counter": 4, "drums": 0}
NAMES = {"melody": "Melody", "bass": "Bass", "keys": "Keys", "counter": "Counter",
         "drums": "Drums"}

Note = tuple  # (pitch, start_beat, end_beat, velocity)


@dataclass
class BandRequest:
    """What a band model is asked to arrange. Times in beats (quarter notes) from song start."""

    melody: list[tuple[int, float, float, int]]  # (pitch, start_beat, end_beat, velocity)
    length_beats: float        # arrange [0, length_beats)
    beats_per_bar: float       # quarter-note beats per bar: 4/4 -> 4, 3/4 -> 3, 6/8 -> 3, 2/4 -> 2
    first_bar_beat: float      # beat where the first full bar starts (pickup), 0 <= x < bpb
    time_signature: tuple[int, int]
    chords: list[tuple[float, float, str]] | None = None   # given chords (Harte), beats
    seed: int = 0
    temperature: float = 1.0
    # later meters, (beat, num, den) as in Song.time_signatures: each starts a bar
    meter_changes: tuple[tuple[float, int, int], ...] = ()


@dataclass
class BandPart:
    """One generated track."""

    role: str            # "bass" | "keys" | "counter" | "drums"
    name: str
    program: int         # General MIDI program
    is_drum: bool
    notes: list[tuple[int, float, float, int]] = field(default_factory=list)  # beats


@dataclass
class BandResult:
    """What a band model returns: the parts (never the melody) and the chords it played."""

    parts: list[BandPart]
    chords: list[tuple[float, float, str]]   # Harte labels, beats
    score: float | None = None               # critic score, higher is better (--candidates)


def steps_for(length_beats: float) -> int:
    """Grid steps covering ``[0, length_beats)``."""
    return int(np.ceil(length_beats * STEPS_PER_BEAT - 1e-9))


def encode(tracks: dict[str, list[Note]], length_beats: float) -> tuple[np.ndarray, np.ndarray]:
    """Notes per role -> (roll ``[len(ROLES), steps, 128]`` uint8 velocities,
    onsets ``[len(ROLES), steps, 128]`` bool). Missing roles stay silent; notes past
    ``length_beats`` are cut."""
    steps = steps_for(length_beats)
    roll = np.zeros((len(ROLES), steps, PITCHES), dtype=np.uint8)
    onsets = np.zeros(roll.shape, dtype=bool)
    for role, notes in tracks.items():
        r = ROLES.index(role)
        for pitch, start, end, vel in notes:
            a = round(start * STEPS_PER_BEAT)
            b = max(a + 1, round(end * STEPS_PER_BEAT))
            if a >= steps or not 0 <= pitch < PITCHES:
                continue
            roll[r, a:b, pitch] = max(1, min(127, int(vel)))
            onsets[r, a, pitch] = True
    return roll, onsets


def decode_track(roll: np.ndarray, onsets: np.ndarray | None = None) -> list[Note]:
    """One track ``[steps, 128]`` (velocities) -> notes in beats, sorted by start then pitch.

    A note starts where a cell turns on or where ``onsets`` marks a re-attack, and lasts
    while the cell stays on; its velocity is the one at its first step.
    """
    on = roll > 0
    starts = on.copy()
    starts[1:] &= ~on[:-1]
    if onsets is not None:
        starts |= onsets & on
    notes = []
    for t, p in zip(*np.nonzero(starts), strict=True):
        end = t + 1
        while end < len(on) and on[end, p] and not starts[end, p]:
            end += 1
        notes.append((int(p), t / STEPS_PER_BEAT, end / STEPS_PER_BEAT, int(roll[t, p])))
    return sorted(notes, key=lambda n: (n[1], n[0]))


def decode(roll: np.ndarray, onsets: np.ndarray | None = None) -> dict[str, list[Note]]:
    """A roll ``[len(ROLES), steps, 128]`` -> notes per role (silent roles left out)."""
    out = {}
    for r, role in enumerate(ROLES):
        notes = decode_track(roll[r], None if onsets is None else onsets[r])
        if notes:
            out[role] = notes
    return out
