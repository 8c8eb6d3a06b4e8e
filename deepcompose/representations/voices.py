"""Voice grids: the representation every model sees.

A voice grid is an integer array ``[voices, steps]`` on a 16th-note grid
(``STEPS_PER_BEAT = 4`` steps per quarter-note beat). Each cell holds the MIDI
pitch (0-127) that voice sounds at that step, or ``REST`` (-1). Row 0 is the
soprano (the user's melody), then alto, tenor, bass: the Coconet / JSB
"16th separated" format. A held note and a repeated note look the same here;
``grid_to_notes`` merges equal neighbours into one held note.

A ``known`` mask of the same shape marks the cells a model must keep.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STEPS_PER_BEAT = 4
REST = -1
VOICE_NAMES = ("Soprano", "Alto", "Tenor", "Bass")


@dataclass(frozen=True)
class Meter:
    """Where bar lines fall on the grid.

    steps_per_bar: 16 for 4/4, 12 for 3/4 and 6/8 (beats are quarter notes).
    offset: step of the first full bar line (> 0 for a pickup), in ``[0, steps_per_bar)``.

    Every model takes its beat and bar features from ``position`` and ``beat_position``,
    so a pickup shifts them with the bar lines (an 8th-note pickup in 6/8: offset 2).
    """

    steps_per_bar: int = 16
    offset: int = 0

    def bar_start(self, bar: int) -> int:
        """Step where full bar ``bar`` (0 = the first full bar) begins."""
        return self.offset + bar * self.steps_per_bar

    def position(self, step):
        """Steps since the last bar line at grid step(s) ``step`` (int or integer array); the
        pickup's steps count from the bar line before it (a pickup of 2 in 6/8 starts at 10)."""
        return (step - self.offset) % self.steps_per_bar

    def beat_position(self, step):
        """16ths since the last quarter-note beat at grid step(s) ``step``, beats counted from
        the bar lines: what every model's beat feature encodes."""
        return (step - self.offset) % STEPS_PER_BEAT


def empty_grid(voices: int, steps: int) -> np.ndarray:
    """A ``[voices, steps]`` int16 grid of rests."""
    return np.full((voices, steps), REST, dtype=np.int16)


def grid_to_notes(row: np.ndarray) -> list[tuple[int, int, int]]:
    """One voice ``[steps]`` -> notes ``(pitch, start_step, end_step)``; equal neighbours merge."""
    notes: list[tuple[int, int, int]] = []
    row = np.asarray(row)
    start = 0
    for t in range(1, len(row) + 1):
        if t == len(row) or row[t] != row[start]:
            if row[start] != REST:
                notes.append((int(row[start]), start, t))
            start = t
    return notes


def notes_to_row(notes, steps: int) -> np.ndarray:
    """Notes ``(pitch, start_step, end_step)`` -> one voice ``[steps]``, keeping the top line.

    Where notes overlap, the highest pitch wins (the melody of a polyphonic track).
    """
    row = np.full(steps, REST, dtype=np.int16)
    for pitch, start, end in notes:
        start, end = max(0, int(start)), min(steps, int(end))
        if end > start:
            seg = row[start:end]
            np.maximum(seg, pitch, out=seg)
    return row


def transpose(grid: np.ndarray, semitones: int) -> np.ndarray:
    """Shift every sounding cell by ``semitones``; rests stay rests."""
    out = grid.astype(np.int16, copy=True)
    out[out != REST] += semitones
    return out
