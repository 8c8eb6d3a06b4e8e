"""The four metrics AWS DeepComposer plotted while a model trained, on sampled piano rolls.

``deepcompose.train`` computes them every ``metrics_every`` steps on a few rolls the model
samples, and once on windows of the training data (the *real* values the curves are drawn
against). A roll is bool ``[n, tracks, steps, 128]``: ``n`` samples, the tracks the model
writes (not its condition), 16th-note steps (step 0 on a bar line), MIDI pitches.

empty_bar_rate
    Share of (track, bar) with no note; bars are ``steps_per_bar`` steps from step 0 (a
    trailing partial bar is left out). MuseGAN's ``empty_bars`` (``pianoroll.musegan``).
pitch_classes
    Distinct pitch classes (``pitch % 12``) per bar, mean over the non-empty bars of each
    track, then over tracks. MuseGAN's ``used_pitch_classes``.
polyphonic_rate
    Share of steps where 3 or more pitches sound, over all tracks together. MuseGAN's
    ``polyphonicity_union`` (a chorale's three written voices all sounding count).
in_scale_rate
    Share of sounding note-steps whose pitch class is on the best-fitting scale: the
    largest share over the 24 major and minor scales (``keys.scale_pitch_classes``: minor
    is natural minor plus the raised 7th), so a sample in any key scores as in C (muspy's
    "scale consistency"). Per sample.

Each is the mean over the ``n`` samples (nans skipped); a drum roll's pitches are General
MIDI drum notes, so its ``pitch_classes`` and ``in_scale_rate`` read drum kinds, not keys.
``roll_notes`` and ``parallels`` serve the families' own metrics.
"""

from __future__ import annotations

import math

import numpy as np

from .. import keys
from .accompaniment import _parallels
from .grid import _nanmean
from .pianoroll import fold_pitch_classes, musegan

STEPS_PER_BEAT = 4
NAMES = ("empty_bar_rate", "pitch_classes", "polyphonic_rate", "in_scale_rate")
SCALES = np.array([[pc in keys.scale_pitch_classes(tonic, mode) for pc in range(12)]
                   for tonic in range(12) for mode in ("major", "minor")])  # [24, 12]


def in_scale_rate(roll) -> float:
    """``in_scale_rate`` of one sample ``[tracks, steps, 128]`` (nan when silent)."""
    hist = fold_pitch_classes(np.asarray(roll).sum(axis=(0, 1)))  # [12] note-steps per class
    total = hist.sum()
    return float((SCALES @ hist).max() / total) if total else math.nan


def sample_metrics(rolls, steps_per_bar: int = 16) -> dict[str, float]:
    """The four metrics (``NAMES``) of rolls ``[n, tracks, steps, 128]``, means over samples."""
    rolls = np.asarray(rolls, dtype=bool)
    per: dict[str, list[float]] = {name: [] for name in NAMES}
    for roll in rolls:
        m = musegan(roll, steps_per_bar)
        per["empty_bar_rate"].append(m["empty_bars"])
        per["pitch_classes"].append(m["used_pitch_classes"])
        per["polyphonic_rate"].append(m["polyphonicity_union"])
        per["in_scale_rate"].append(in_scale_rate(roll))
    return {name: _nanmean(vals) for name, vals in per.items()}


def roll_notes(track) -> list[tuple[int, float, float]]:
    """One track ``[steps, 128]`` -> notes ``(pitch, start_beat, end_beat)``: each run of
    True steps at a pitch is a note (so two notes re-struck at once read as one)."""
    track = np.asarray(track, dtype=bool)
    padded = np.zeros((track.shape[0] + 2, track.shape[1]), dtype=np.int8)
    padded[1:-1] = track
    edges = np.diff(padded, axis=0)  # [steps + 1, 128]
    starts, ends = np.nonzero(edges.T == 1), np.nonzero(edges.T == -1)
    return [(int(p), a / STEPS_PER_BEAT, b / STEPS_PER_BEAT)
            for p, a, b in zip(starts[0], starts[1], ends[1], strict=True)]


def parallels(rolls) -> float:
    """Parallel fifths and octaves per 100 chord transitions between the tracks of rolls
    ``[n, tracks, steps, 128]``, each track read as one line (its highest pitch per step),
    pooled over samples by mean: ``accompaniment``'s ``parallels`` with track 0 as the top
    line."""
    out = []
    for roll in np.asarray(rolls, dtype=bool):
        steps = roll.shape[1]
        top = np.where(roll.any(axis=2), 127 - np.argmax(roll[:, :, ::-1], axis=2), -1)
        acc = [[[int(p)] if p >= 0 else [] for p in line] for line in top[1:]]
        out.append(_parallels(top[0], acc, steps))
    return _nanmean(out)
