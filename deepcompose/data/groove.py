"""The Groove MIDI Dataset (Gillick et al., ICML 2019; Magenta; CC BY 4.0) as drum rolls.

Read from the repo copy ``datasets/groove/`` (``info.csv`` + the MIDI files; see the card
``datasets/groove/README.md``). One ``Performance`` per row of ``info.csv``, with:

- the official split (``info.csv`` column ``split``: train / validation / test; ``"valid"``
  is accepted for ``validation``, the name the training loop uses);
- ``style``: the part of ``style`` before ``/`` (``funk/groove1`` -> ``funk``), ``substyle``
  the rest;
- ``bpm``, ``beat_type`` (``beat`` or ``fill``), ``time_signature`` ``(num, den)``;
- the drum roll (``representations.drums``: hits, velocity, microtiming offset, 16th grid).

Bar lines: the files are recorded to a click with one tempo and one time signature from
time 0, so bar ``k`` starts at step ``k * bar_steps`` (``bar_steps = 16 * num / den``:
16 for 4/4, 12 for 3/4 and 6/8). Count-in silence stays in the roll as empty bars.

What the data lacks (measured on ``info.csv``): 1,138 of 1,150 files are 4/4; 3/4 has 5
files (jazz 2, latin 2, rock 1; one latin in validation), 6/8 has 5 (all rock, one in
validation), 5/4 and 5/8 one each. There are no tempo or meter changes, no pickups, no
song form (intro, verse, chorus), no fills marked inside the long ``beat`` files (the
``fill`` files are separate short takes, mostly one bar), no percussion outside the nine
kit classes, and no test data for several styles (blues, dance, middleeastern, gospel).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DeepcomposeError
from ..representations.drums import STEPS_PER_BEAT, encode

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
GROOVE_PATH = REPO_ROOT / "datasets" / "groove"
SPLIT_NAMES = {"train": "train", "valid": "validation", "validation": "validation",
               "test": "test"}


@dataclass
class Performance:
    """One Groove file. Rolls are float32 ``[steps, 9]`` (see ``representations.drums``)."""

    id: str
    drummer: str
    style: str
    substyle: str
    bpm: float
    beat_type: str  # "beat" or "fill"
    time_signature: tuple[int, int]
    split: str  # "train", "validation" or "test"
    midi_filename: str
    hits: np.ndarray = field(repr=False)
    velocity: np.ndarray = field(repr=False)
    offset: np.ndarray = field(repr=False)

    @property
    def bar_steps(self) -> int:
        return bar_steps(self.time_signature)

    @property
    def n_bars(self) -> int:
        """Whole bars in the roll (a last partial bar is not counted)."""
        return len(self.hits) // self.bar_steps

    def bars(self) -> np.ndarray:
        """The whole bars as ``[n_bars, bar_steps, 9, 3]`` (hits, velocity, offset)."""
        n, L = self.n_bars, self.bar_steps
        roll = np.stack([self.hits, self.velocity, self.offset], axis=-1)[: n * L]
        return roll.reshape(n, L, roll.shape[1], 3)

    def notes(self) -> list[tuple[int, float, float, int]]:
        """The quantized notes back (``representations.drums.decode``) in beats."""
        from ..representations.drums import decode

        return decode(self.hits, self.velocity, self.offset)


def bar_steps(time_signature: tuple[int, int]) -> int:
    """16th steps in one bar: ``16 * num / den`` (4/4 -> 16, 3/4 and 6/8 -> 12)."""
    num, den = time_signature
    return int(round(16 * num / den))


def read_info(path: Path | str = GROOVE_PATH) -> list[dict]:
    """The rows of ``info.csv`` as dicts (strings, as in the file)."""
    info = Path(path) / "info.csv"
    if not info.exists():
        raise DeepcomposeError(f"Groove data not found at {path}; run from a deepcompose "
                               "checkout (datasets/groove/)")
    with open(info, newline="") as f:
        return list(csv.DictReader(f))


@functools.cache
def _load_all(path: str) -> tuple[Performance, ...]:
    from ..io.midi import read_midi

    out = []
    for row in read_info(path):
        song = read_midi(Path(path) / row["midi_filename"])
        notes = [(n.pitch, n.start, n.end, n.velocity)
                 for t in song.tracks if t.is_drum for n in t.notes]
        num, den = (int(x) for x in row["time_signature"].split("-"))
        length = max((s for _, s, _, _ in notes), default=0.0) + 1.0 / STEPS_PER_BEAT
        hits, vel, off = encode(notes, length)
        style, _, sub = row["style"].partition("/")
        out.append(Performance(
            id=row["id"], drummer=row["drummer"], style=style, substyle=sub,
            bpm=float(row["bpm"]), beat_type=row["beat_type"], time_signature=(num, den),
            split=row["split"], midi_filename=row["midi_filename"],
            hits=hits, velocity=vel, offset=off))
    return tuple(out)


def load_groove(split: str | None = None, path: Path | str = GROOVE_PATH,
                beat_type: str | None = None) -> list[Performance]:
    """Performances of one official split (``train``, ``valid``/``validation``, ``test``;
    None for all), optionally only ``beat`` or ``fill`` takes. Parsed once per process."""
    if split is not None and split not in SPLIT_NAMES:
        raise DeepcomposeError(f"unknown split {split!r}; choose one of train, valid, test")
    perfs = _load_all(str(Path(path).resolve()))
    return [p for p in perfs
            if (split is None or p.split == SPLIT_NAMES[split])
            and (beat_type is None or p.beat_type == beat_type)]


def style_table(path: Path | str = GROOVE_PATH) -> dict[str, dict[str, int]]:
    """Per style: files per split and beat type, and whole bars of ``beat`` takes in train."""
    table: dict[str, dict[str, int]] = {}
    for p in load_groove(None, path):
        row = table.setdefault(p.style, {})
        key = f"{p.split}_{p.beat_type}"
        row[key] = row.get(key, 0) + 1
        if p.split == "train" and p.beat_type == "beat":
            row["train_beat_bars"] = row.get("train_beat_bars", 0) + p.n_bars
    return dict(sorted(table.items()))
