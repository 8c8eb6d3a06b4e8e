"""Shared decoding: the voice-leading rule, the sampler and the pitch codec.

Every model's sampler and ``metrics`` use these, so what a sampler forbids is
exactly what the metric counts, and ``temperature`` / ``top_k`` / ``top_p`` mean
the same thing in every model.

The voice-leading rule (``voice_leading=True`` in every model's ``generate``)
---------------------------------------------------------------------------
A *parallel* (fifths or octaves) is a pair of voices ``a`` and ``b`` over one
transition ``t-1 -> t`` where

- both voices sound at ``t-1`` and at ``t`` (no rest on either side),
- both move, in the same direction (oblique and contrary motion are fine),
- their distance ``|a - b| % 12`` is the same before and after, and is 7 (fifths,
  compound fifths too) or 0 (octaves, unisons, compound octaves).

``parallel`` evaluates it elementwise on numpy arrays or torch tensors (any
integer encoding in which equal steps of pitch are equal steps of the code, with
one value for a rest), so the GAN's chord candidates, the AR-CNN's class ids, the
transformer's token ids and the metric's MIDI pitches all share it.

The sampler
-----------
``perturb(logits, temperature, gen, top_k, top_p)`` returns scores whose argmax
over the last axis is one draw: ``temperature <= 0`` keeps the logits (greedy);
otherwise logits / temperature, restricted to the ``top_k`` likeliest classes and
to the nucleus of mass ``top_p``, plus Gumbel noise (the Gumbel-max trick).
``sample`` is its argmax. A caller that must drop candidates after drawing (the
GAN's chords that break the rule) masks the perturbed scores, which is the same
as sampling from the renormalized distribution over the candidates left.

The pitch codec
---------------
``fold_octaves`` moves pitches by octaves into a range; ``snap`` puts a note in
beats on the 16th grid (``STEPS_PER_BEAT`` steps a beat).
"""

from __future__ import annotations

import numpy as np

from .representations.voices import REST, STEPS_PER_BEAT

PERFECT = (0, 7)  # interval classes (|a - b| % 12) that may not move in parallel


# ------------------------------------------------------------------ the voice-leading rule


def parallel(a0, a1, b0, b1, rest=REST):
    """Whether voices ``a`` (``a0 -> a1``) and ``b`` (``b0 -> b1``) move in parallel fifths or
    octaves; elementwise and broadcasting, numpy or torch. ``rest``: the code of a rest."""
    sound = (a0 != rest) & (a1 != rest) & (b0 != rest) & (b1 != rest)
    same_way = ((a1 > a0) & (b1 > b0)) | ((a1 < a0) & (b1 < b0))
    before, after = abs(a0 - b0) % 12, abs(a1 - b1) % 12
    return sound & same_way & (before == after) & ((after == PERFECT[0]) | (after == PERFECT[1]))


def count_parallels(prev, cur, rest=REST) -> int:
    """Parallel pairs between the chords ``prev`` ``[voices]`` and ``cur`` ``[voices]``
    (each unordered pair of voices counted once)."""
    prev, cur = np.asarray(prev), np.asarray(cur)
    bad = parallel(prev[:, None], cur[:, None], prev[None, :], cur[None, :], rest)
    return int(np.triu(bad, 1).sum())


# ------------------------------------------------------------------ the sampler


def perturb(logits, temperature: float, gen, top_k: int | None = None,
            top_p: float | None = None):
    """Scores ``[..., C]`` whose argmax over the last axis samples from ``logits`` (torch).

    ``temperature <= 0``: the logits themselves (greedy). Otherwise ``logits / temperature``,
    keeping the ``top_k`` likeliest classes (``None`` or 0: all) and the smallest set of
    likeliest classes holding ``top_p`` of the probability (``None`` or >= 1: all; a class
    is dropped when the classes ranked above it already hold ``top_p``), plus Gumbel noise
    drawn from ``gen``. Classes at ``-inf`` are never drawn (unless all are).
    """
    import torch

    logits = logits.float()
    if temperature <= 0:
        return logits
    scores = logits / temperature
    if top_k:
        k = min(int(top_k), scores.shape[-1])
        kth = torch.topk(scores, k, dim=-1).values[..., -1:]
        scores = scores.masked_fill(scores < kth, -torch.inf)
    if top_p is not None and top_p < 1.0:
        probs = scores.softmax(-1)
        sorted_p, order = probs.sort(-1, descending=True)
        drop_sorted = (sorted_p.cumsum(-1) - sorted_p) >= top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        scores = scores.masked_fill(drop, -torch.inf)
    u = torch.rand(scores.shape, generator=gen).clamp_(1e-10, 1 - 1e-10)
    return scores - torch.log(-torch.log(u))


def sample(logits, temperature: float, gen, top_k: int | None = None,
           top_p: float | None = None):
    """Class ids ``[...]`` drawn from ``logits [..., C]`` (``perturb``); temperature 0: argmax."""
    return perturb(logits, temperature, gen, top_k, top_p).argmax(-1)


# ------------------------------------------------------------------ the pitch codec


def fold_octaves(pitches, low: int, high: int, rest: int = REST) -> np.ndarray:
    """Move every pitch outside ``[low, high]`` by whole octaves into it (int64; rests stay).

    ``high - low`` must be at least 11 so that every pitch class fits.
    """
    p = np.array(pitches, dtype=np.int64)
    sounding = p != rest
    below, above = sounding & (p < low), sounding & (p > high)
    p[below] += 12 * -(-(low - p[below]) // 12)
    p[above] -= 12 * -(-(p[above] - high) // 12)
    return p


def snap(start: float, end: float, steps_per_beat: int = STEPS_PER_BEAT) -> tuple[int, int]:
    """A note ``[start, end)`` in beats -> grid steps ``[a, b)``: both ends round to the nearest
    step (16ths by default; Python's ``round``: halves to even) and the note keeps at least
    one step."""
    a = round(start * steps_per_beat)
    return a, max(a + 1, round(end * steps_per_beat))
