"""MuseGAN's metrics (Dong et al., AAAI 2018) on a bool piano roll ``[tracks, steps, 128]``.

``musegan`` computes them; see its docstring for each convention. ``tonal_centroid`` and
``chroma`` are its pitch-class building blocks.
"""

from __future__ import annotations

import math

import numpy as np

from .grid import _nanmean, _ratio

QUALIFIED_STEPS = 3


def tonal_centroid(chroma) -> np.ndarray:
    """Harte, Sandler & Gasser (2006) 6-D tonal centroid of a 12-bin chroma ``[..., 12]``.

    The L1-normalized chroma is projected onto three circles: fifths (angle ``7*pi/6``
    per pitch class, radius 1), minor thirds (``3*pi/2``, radius 1) and major thirds
    (``2*pi/3``, radius 0.5). An all-zero chroma maps to the origin.
    """
    chroma = np.asarray(chroma, dtype=float)
    pcs = np.arange(12)
    phi = np.stack([  # [6, 12]
        np.sin(pcs * 7 * np.pi / 6), np.cos(pcs * 7 * np.pi / 6),
        np.sin(pcs * 3 * np.pi / 2), np.cos(pcs * 3 * np.pi / 2),
        0.5 * np.sin(pcs * 2 * np.pi / 3), 0.5 * np.cos(pcs * 2 * np.pi / 3),
    ])
    norm = chroma.sum(axis=-1, keepdims=True)
    return (chroma / np.where(norm > 0, norm, 1.0)) @ phi.T


def fold_pitch_classes(x) -> np.ndarray:
    """Sum a MIDI pitch axis ``[..., 128]`` into pitch classes ``[..., 12]`` (pitch % 12)."""
    x = np.asarray(x, dtype=float)
    out = np.zeros(x.shape[:-1] + (12,))
    for pitch in range(x.shape[-1]):
        out[..., pitch % 12] += x[..., pitch]
    return out


def chroma(roll) -> np.ndarray:
    """Duration-weighted chroma ``[..., 12]`` of a roll ``[..., steps, 128]`` (pitch % 12)."""
    return fold_pitch_classes(np.asarray(roll, dtype=float).sum(axis=-2))


def _notes_in(track: np.ndarray) -> list[int]:
    """Lengths in steps of the notes of one track ``[steps, 128]`` (runs of True per pitch)."""
    padded = np.zeros((track.shape[0] + 2, track.shape[1]), dtype=np.int8)
    padded[1:-1] = track
    edges = np.diff(padded, axis=0)
    starts, ends = np.nonzero(edges.T == 1), np.nonzero(edges.T == -1)
    return list(ends[1] - starts[1])


def musegan(roll, steps_per_bar: int, offset: int = 0,
            qualified_steps: int = QUALIFIED_STEPS) -> dict:
    """MuseGAN's metrics over a bool roll ``[tracks, steps, 128]`` (MIDI pitch axis).

    Bars are the complete bars ``[offset + k*steps_per_bar, offset + (k+1)*steps_per_bar)``;
    a pickup before ``offset`` and a trailing partial bar are left out (when no bar is
    complete, the whole roll is one bar). Scalars are means over tracks; ``per_track``
    holds the lists.

    empty_bars: share of (track, bar) with no note (1.0 = all empty; not inverted).
    used_pitch_classes: distinct pitch classes (``pitch % 12``) per bar, mean over the
        non-empty bars of the track.
    qualified_notes: share of notes at least ``qualified_steps`` steps long. A note is a
        run of True steps at one pitch; at our 16th resolution 3 steps = a dotted 8th
        (MuseGAN's 3 steps were a 32nd at 24 steps per beat, so this is stricter).
    polyphonicity: share of steps (over the complete bars) where 3 or more pitches sound
        in the track (MuseGAN: "more than two"); ``polyphonicity_union`` does the same over
        all tracks together, the useful reading for one-voice-per-track rolls.
    tonal_distance: per pair of tracks, the Euclidean distance between the tonal
        centroids (``tonal_centroid``) of their per-bar chroma, averaged over the bars
        where both sound; ``tonal_distance`` is the mean over pairs, ``tonal_distance_pairs``
        maps ``"i-j"`` to each pair's value.
    """
    roll = np.asarray(roll, dtype=bool)
    tracks, steps = roll.shape[:2]
    n_bars = (steps - offset) // steps_per_bar if steps > offset else 0
    if n_bars > 0:
        body = roll[:, offset:offset + n_bars * steps_per_bar]
        bars = body.reshape(tracks, n_bars, steps_per_bar, roll.shape[2])
    else:
        body, bars = roll, roll[:, None]
    used = bars.any(axis=2)  # [tracks, bars, 128]
    nonempty = used.any(axis=2)  # [tracks, bars]
    pcs = fold_pitch_classes(used) > 0  # [tracks, bars, 12]
    per = {"empty_bars": [], "used_pitch_classes": [], "qualified_notes": [],
           "polyphonicity": []}
    for k in range(tracks):
        per["empty_bars"].append(float(1.0 - nonempty[k].mean()))
        per["used_pitch_classes"].append(_ratio(float(pcs[k][nonempty[k]].sum()),
                                                int(nonempty[k].sum())))
        lengths = _notes_in(body[k])
        per["qualified_notes"].append(_ratio(sum(x >= qualified_steps for x in lengths),
                                             len(lengths)))
        per["polyphonicity"].append(float((body[k].sum(axis=1) >= 3).mean()) if body.shape[1]
                                    else math.nan)
    cents = tonal_centroid(chroma(bars))  # [tracks, bars, 6]
    pairs = {}
    for i in range(tracks):
        for j in range(i + 1, tracks):
            both = nonempty[i] & nonempty[j]
            dist = np.linalg.norm(cents[i] - cents[j], axis=-1)[both]
            pairs[f"{i}-{j}"] = float(dist.mean()) if dist.size else math.nan
    out = {name: _nanmean(vals) for name, vals in per.items()}
    out["polyphonicity_union"] = (float((body.sum(axis=(0, 2)) >= 3).mean()) if body.shape[1]
                                  else math.nan)
    out["tonal_distance"] = _nanmean(list(pairs.values()))
    out["tonal_distance_pairs"] = pairs
    out["per_track"] = per
    return out
