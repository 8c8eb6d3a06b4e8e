"""What the trainers share for the sample hook of ``deepcompose.train`` (``sample_rolls``):
windows of pieces, voice grids and part heads as bool piano rolls ``[n, tracks, steps, 128]``.
"""

from __future__ import annotations

import numpy as np
import torch

from ...representations.voices import REST

SAMPLE_STEPS = 64  # a sampled chorale window: 4 bars of 4/4 on the 16th grid
BAR_STEPS = 16


def grid_windows(pieces, rng: np.random.Generator, n: int,
                 steps: int = SAMPLE_STEPS) -> np.ndarray:
    """``n`` windows ``[n, 4, steps]`` int16 of random voice grids ``[4, T]``, each starting
    on a multiple of ``BAR_STEPS`` (rests pad a shorter piece)."""
    out = np.full((n, 4, steps), REST, dtype=np.int16)
    for k, i in enumerate(rng.integers(0, len(pieces), n)):
        g = np.asarray(pieces[i])
        bars = max(0, (g.shape[1] - steps) // BAR_STEPS)
        s = int(rng.integers(0, bars + 1)) * BAR_STEPS
        w = g[:, s:s + steps]
        out[k, :, :w.shape[1]] = w
    return out


def grid_rolls(grids) -> np.ndarray:
    """Voice grids ``[n, voices, steps]`` (pitch or REST) -> bool rolls ``[n, voices, steps,
    128]`` (a held pitch is one sounding run)."""
    grids = np.asarray(grids)
    rolls = np.zeros(grids.shape + (128,), dtype=bool)
    n, v, t = np.nonzero(grids >= 0)
    rolls[n, v, t, grids[n, v, t].clip(0, 127)] = True
    return rolls


def written(grids) -> np.ndarray:
    """The rolls of the parts a chorale model writes: rows 1-3 (alto, tenor, bass) of
    grids ``[n, 4, steps]`` -> ``[n, 3, steps, 128]``."""
    return grid_rolls(np.asarray(grids)[:, 1:])


def sample_head(head, poly: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A part head's logits ``(attack [B, T], pitch [B, P, T], dur [B, D, T], ...)`` ->
    sampled ``(attack [B, T] 0/1, pitch, dur [B, T] class)``: Bernoulli attacks, a pitch
    index ``[B, T]`` drawn per step (a polyphonic track: Bernoulli ``[B, P, T]`` per
    pitch), the likeliest duration."""
    attack, pitch, dur = head[:3]
    a = torch.bernoulli(torch.sigmoid(attack))
    if poly:
        p = torch.bernoulli(torch.sigmoid(pitch))
    else:
        p = torch.distributions.Categorical(logits=pitch.transpose(1, 2)).sample()
    return a, p, dur.argmax(1)


def part_rolls(parts: dict, ranges: dict, durs, poly: dict) -> np.ndarray:
    """Part targets or samples (track -> ``(attack, pitch, dur, ...)`` as in
    ``sample_head``) -> bool rolls ``[B, tracks, T, 128]``: each attack sounds its pitch
    (``ranges[track][0]`` + index) for ``durs[dur]`` steps, cut at the window's end."""
    tracks = list(parts)
    B, T = parts[tracks[0]][0].shape
    rolls = np.zeros((B, len(tracks), T, 128), dtype=bool)
    for k, track in enumerate(tracks):
        attack, pitch, dur = (np.asarray(x) for x in parts[track][:3])
        lo = ranges[track][0]
        for b, t in zip(*np.nonzero(attack > 0), strict=True):
            if poly.get(track, False):
                pitches = np.nonzero(pitch[b, :, t] > 0)[0]
            else:
                pitches = [pitch[b, t]] if pitch[b, t] >= 0 else []
            for p in pitches:
                rolls[b, k, t:t + durs[int(dur[b, t])], lo + int(p)] = True
    return rolls


def drawn_rolls(batch: dict, heads: dict | None, tracks, ranges: dict, durs,
                poly: dict) -> np.ndarray:
    """The rolls ``[B, tracks, T, 128]`` of a part-writing GAN's batch: its real parts
    (``heads`` None) or parts sampled from the generator's ``heads`` (track -> head)."""
    if heads is None:
        parts = {t: batch[t] for t in tracks}
    else:
        parts = {t: sample_head(heads[t], poly.get(t, False)) for t in tracks}
    return part_rolls(parts, ranges, durs, poly)


def unwrap(module):
    """A module out of DistributedDataParallel (itself otherwise)."""
    return getattr(module, "module", module)
