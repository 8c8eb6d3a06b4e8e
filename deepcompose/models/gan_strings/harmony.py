"""The quartet's harmony terms in training (issue 26): the three parts' pitch distributions
should complete a chord under violin I, not double or rub against each other.

From each part's pitch softmax at a step (its head's logits, over its range) we take its
pitch-class distribution ``q [B, 12, T]``. Where two
real parts start a note together (the steps where both heads are trained, so both
distributions mean "the pitch played here"):

- ``harmony``: the expected pitch-class doubling of the two parts, sum_c q_i(c) q_j(c),
  plus twice their expected semitone clash, sum_c q_i(c) (q_j(c-1) + q_j(c+1)); and where a
  part starts a note under a sounding violin I, its expected semitone clash with violin I.

Each term is a mean over its steps (0 where a batch has none).
"""

from __future__ import annotations

import torch

from .net import RANGES, TRACKS


def _pc_dist(logits: torch.Tensor, lo: int) -> torch.Tensor:
    """``[B, P, T]`` pitch logits of a part starting at MIDI ``lo`` -> ``[B, 12, T]``."""
    p = logits.softmax(1)
    n = p.shape[1]
    idx = (torch.arange(n) + lo) % 12
    return torch.zeros(p.shape[0], 12, p.shape[2]).index_add_(1, idx, p)


def _mean(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return (x * w).sum() / w.sum().clamp(min=1.0)


def harmony_losses(heads: dict, batch: dict) -> dict:
    """``{"harmony": ...}`` (a scalar) from the parts' heads (``split_head``
    tuples) and the batch's real attacks (``batch[track][0]``) and violin I (``batch["mel"]
    [B, T]``, -1 rest)."""
    q = {t: _pc_dist(heads[t][1], RANGES[t][0]) for t in TRACKS}
    att = {t: batch[t][0].float() for t in TRACKS}
    harmony = torch.zeros(())
    for i, a in enumerate(TRACKS):
        for b in TRACKS[i + 1:]:
            both = att[a] * att[b]
            near = q[b].roll(1, 1) + q[b].roll(-1, 1)
            harmony = harmony + _mean((q[a] * (q[b] + 2 * near)).sum(1), both)
    mel = batch["mel"]
    sounds = (mel >= 0).float()
    m = torch.zeros(mel.shape[0], 12, mel.shape[1])
    m.scatter_(1, mel.clamp(min=0).remainder(12)[:, None, :], sounds[:, None, :])
    for t in TRACKS:
        near = m.roll(1, 1) + m.roll(-1, 1)
        harmony = harmony + _mean((q[t] * near).sum(1), att[t] * sounds)
    return {"harmony": harmony}
