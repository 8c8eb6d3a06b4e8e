"""Drum classes and the drum roll: what the drum model sees.

Drum classes: General MIDI percussion (MIDI channel 10) folded into nine classes, the
reduction Gillick et al. (ICML 2019, "Learning to Groove with Inverse Sequence
Transformations", table 2) use for the Groove MIDI Dataset. Each class has one output
pitch (the first listed); the other pitches are the TD-11 / GM notes that fold into it:

====  ==========  ======  =============================================
 ix   name        output  also read from
====  ==========  ======  =============================================
 0    kick        36      35 (acoustic bass drum)
 1    snare       38      37 (side stick), 40 (electric snare), 39 (hand clap)
 2    closed_hat  42      22 (TD-11 closed edge), 44 (pedal hi-hat)
 3    open_hat    46      26 (TD-11 open edge)
 4    low_tom     43      41, 58 (TD-11 floor tom rim)
 5    mid_tom     47      45
 6    high_tom    50      48
 7    crash       49      52 (china), 55 (splash), 57 (crash 2)
 8    ride        51      53 (ride bell), 59 (ride 2)
====  ==========  ======  =============================================

Other percussion pitches (cowbell, congas, ...) are dropped by ``encode`` (Groove has none).

The roll: a 16th-note grid, ``STEPS_PER_BEAT = 4`` steps per quarter-note beat, beat 0
at step 0. Three float32 arrays ``[steps, CLASSES]``:

- ``hits``: 1.0 where a class starts a note on that step, else 0.0;
- ``velocity``: MIDI velocity / 127 where hit, else 0.0;
- ``offset``: microtiming, the onset's distance from its step in steps, in [-0.5, 0.5),
  where hit, else 0.0 (a swung 8th at 2/3 of a beat sits on step 3 with offset -1/3).

An onset goes to the nearest step; two onsets of one class on one step keep the louder.
Drum notes have no musical length: ``decode`` gives each a fixed ``NOTE_BEATS`` length.
"""

from __future__ import annotations

import numpy as np

STEPS_PER_BEAT = 4
NOTE_BEATS = 0.125  # length of a decoded drum note in beats (a 32nd note)
DRUM_CHANNEL = 9  # 0-based MIDI channel 10

# (name, output pitch, other pitches read into this class)
DRUM_CLASSES: tuple[tuple[str, int, tuple[int, ...]], ...] = (
    ("kick", 36, (35,)),
    ("snare", 38, (37, 39, 40)),
    ("closed_hat", 42, (22, 44)),
    ("open_hat", 46, (26,)),
    ("low_tom", 43, (41, 58)),
    ("mid_tom", 47, (45,)),
    ("high_tom", 50, (48,)),
    ("crash", 49, (52, 55, 57)),
    ("ride", 51, (53, 59)),
)
CLASS_NAMES = tuple(c[0] for c in DRUM_CLASSES)
CLASSES = len(DRUM_CLASSES)  # 9
OUT_PITCH = np.array([c[1] for c in DRUM_CLASSES], dtype=np.int64)  # class -> GM pitch
KICK, SNARE = CLASS_NAMES.index("kick"), CLASS_NAMES.index("snare")

PITCH_TO_CLASS: dict[int, int] = {}
for _ix, (_name, _out, _others) in enumerate(DRUM_CLASSES):
    for _p in (_out, *_others):
        PITCH_TO_CLASS[_p] = _ix


def drum_class(pitch: int) -> int | None:
    """The class index of a GM / TD-11 drum pitch, or None for pitches outside the nine."""
    return PITCH_TO_CLASS.get(int(pitch))


def encode(notes, length_beats: float | None = None, steps_per_beat: int = STEPS_PER_BEAT):
    """Drum notes ``(pitch, start_beat, end_beat, velocity)`` -> ``(hits, velocity, offset)``.

    Each array is float32 ``[steps, CLASSES]`` with ``steps = ceil(length_beats *
    steps_per_beat)`` (default: just past the last onset). Onsets that round to a step
    outside the roll, and pitches outside the nine classes, are dropped.
    """
    notes = [(int(n[0]), float(n[1]), int(n[3])) for n in notes]
    if length_beats is None:
        length_beats = max((s for _, s, _ in notes), default=-1.0 / steps_per_beat) + 1.0
    steps = int(np.ceil(round(length_beats * steps_per_beat, 6)))
    hits = np.zeros((steps, CLASSES), np.float32)
    vel = np.zeros((steps, CLASSES), np.float32)
    off = np.zeros((steps, CLASSES), np.float32)
    for pitch, start, velocity in notes:
        c = PITCH_TO_CLASS.get(pitch)
        pos = start * steps_per_beat
        t = int(np.floor(pos + 0.5))
        if c is None or not 0 <= t < steps:
            continue
        v = min(max(velocity, 1), 127) / 127.0
        if hits[t, c] and vel[t, c] >= v:
            continue
        hits[t, c], vel[t, c], off[t, c] = 1.0, v, pos - t
    return hits, vel, off


def decode(hits, velocity, offset=None, start_beat: float = 0.0,
           steps_per_beat: int = STEPS_PER_BEAT, microtiming: bool = True):
    """A roll -> GM drum notes ``(pitch, start_beat, end_beat, velocity)`` sorted by start.

    ``hits`` is read as hit where > 0.5; velocities are scaled to 1-127; with
    ``microtiming`` the offsets shift the onsets (never before ``start_beat``).
    The notes belong on MIDI channel 10 (``DRUM_CHANNEL`` 0-based; a ``Track`` with
    ``is_drum=True``).
    """
    hits = np.asarray(hits)
    t_ix, c_ix = np.nonzero(hits > 0.5)
    out = []
    for t, c in zip(t_ix.tolist(), c_ix.tolist(), strict=True):
        pos = float(t)
        if microtiming and offset is not None:
            pos += float(np.clip(offset[t, c], -0.5, 0.5))
        start = max(start_beat + pos / steps_per_beat, start_beat)
        v = int(np.clip(round(float(velocity[t, c]) * 127), 1, 127))
        out.append((int(OUT_PITCH[c]), start, start + NOTE_BEATS, v))
    out.sort(key=lambda n: (n[1], n[0]))
    return out
