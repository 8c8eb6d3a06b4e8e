"""Sampling the AR-CNN: blocked Gibbs under the voice-leading rule, and pseudo-likelihood."""

from __future__ import annotations

import torch

from ...decoding import parallel, sample
from .net import P1, VOICES


def parallel_moves(ids):
    """Bool ``[K,4,T,P1]``: class ``c`` at (voice v, step t) would make parallel fifths or
    octaves with another voice, given every other cell of ``ids [K,4,T]``.

    The rule is ``decoding.parallel`` (the metric's): checked for the transitions
    t-1 -> t and t -> t+1 against every other voice. Class ids differ from pitches by a
    constant (0 = rest), so the intervals are the same.
    """
    K, V, T = ids.shape
    c = torch.arange(P1).view(1, 1, P1)  # candidate classes
    pad = torch.zeros(K, V, 1, dtype=ids.dtype)
    prev = torch.cat([pad, ids[..., :-1]], -1)  # [K,4,T] value at t-1 (rest at the edge)
    nxt = torch.cat([ids[..., 1:], pad], -1)  # value at t+1
    out = torch.zeros(K, V, T, P1, dtype=torch.bool)
    for v in range(V):
        pv, nv = prev[:, v, :, None], nxt[:, v, :, None]  # [K,T,1]
        for u in range(V):
            if u == v:
                continue
            pu, cu, nu = prev[:, u, :, None], ids[:, u, :, None], nxt[:, u, :, None]
            out[:, v] |= parallel(pv, c, pu, cu, rest=0)  # t-1 -> t: v moves pv -> c
            out[:, v] |= parallel(c, nv, cu, nu, rest=0)  # t -> t+1: v moves c -> nv
    return out


@torch.no_grad()
def gibbs(net, ids, free, phase, iterations: int, temperature: float, gen: torch.Generator,
          p_max: float = 1.0, p_min: float = 0.05, eta: float = 0.75, cool: float = 1.0,
          unit: int = 1, voice_leading: bool = False, offset: int = 0):
    """Blocked Gibbs with an annealed masking schedule (Yao et al. 2014; Coconet section 4).

    ``ids [K,4,T]`` long (K chains), ``free [K,4,T]`` bool: the cells to sample; the
    others are given. Iteration n hides a random share
    ``p_n = max(p_min, p_max - n (p_max - p_min) / (eta N))`` of the free cells and
    resamples them all at once from the net's conditionals; the first iteration
    (p = 1) draws every free cell independently, the last ones polish single cells.
    The temperature falls geometrically from ``temperature`` to ``cool * temperature``.
    ``voice_leading`` forbids, at each draw, the classes that would form parallel fifths
    or octaves with the current state of the other voices (``parallel_moves``).
    Blocks of ``unit`` steps start on the steps ``t`` with ``(t - offset) % unit == 0``
    (whole beats from the bar lines when ``unit`` is 4 and ``offset`` the meter's).
    """
    ids = ids.clone()
    n_iter = max(1, iterations)
    for n in range(n_iter):
        p = max(p_min, p_max - n * (p_max - p_min) / (eta * n_iter))
        if n == 0:
            block = free
        else:  # hide whole runs of `unit` steps (a beat when unit = 4) of one voice at a time
            K, V, T = free.shape
            lead = (-offset) % unit  # steps of a block before step 0
            coarse = torch.rand(K, V, -(-(T + lead) // unit), generator=gen) < p
            block = free & coarse.repeat_interleave(unit, -1)[..., lead:lead + T]
        logits = net(ids, block, phase)  # [K,4,T,P1]
        if voice_leading:  # constrained sampling: no new parallel fifths/octaves
            bad = parallel_moves(ids)
            bad &= ~bad.all(-1, keepdim=True)
            logits = logits.masked_fill(bad, -torch.inf)
        temp = temperature * cool ** (n / max(1, n_iter - 1))
        ids = torch.where(block, sample(logits, temp, gen), ids)
    if voice_leading:  # cells drawn in the same block can still move in parallel: repair
        for v in reversed(range(VOICES)):  # one voice at a time, against the others
            forbid = parallel_moves(ids)  # [K,4,T,P1]
            block = torch.zeros_like(free)
            block[:, v] = forbid[:, v].gather(-1, ids[:, v, :, None])[..., 0] & free[:, v]
            if block.any():
                forbid &= ~forbid.all(-1, keepdim=True)
                logits = net(ids, block, phase).masked_fill(forbid, -torch.inf)
                ids = torch.where(block, sample(logits, temp, gen), ids)
    return ids


@torch.no_grad()
def cell_log_probs(net, ids, phase, groups: int, gen: torch.Generator):
    """Pseudo-log-likelihood terms ``[K,4,T]``: log p(cell | the other groups of cells).

    Every cell is hidden exactly once, together with a random 1/groups of the others.
    """
    group = torch.randint(0, groups, ids.shape, generator=gen)
    out = torch.zeros(ids.shape)
    for g in range(groups):
        hide = group == g
        logp = net(ids, hide, phase).log_softmax(-1).gather(-1, ids[..., None])[..., 0]
        out = torch.where(hide, logp, out)
    return out


