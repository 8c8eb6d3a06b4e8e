"""What the part-writing GANs (the band, the quartet) share per track: the head's losses,
the attack rolls the critic compares, and the tensors a trainer exports.

A track's head is ``(attack [B, T], pitch [B, P, T], dur [B, D, T], vel [B, T])`` logits
(``split_head`` of its family); its targets ``(attack [B, T] 0/1, pitch, dur [B, T] class,
vel [B, T] in 0..1)`` where ``pitch`` is ``[B, T]`` class indices (-100: none) for a line
and ``[B, P, T]`` 0/1 for a polyphonic track (the band's keys).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def part_losses(head, targets, poly: bool = False) -> dict:
    """``{"attack", "pitch", "dur", "vel"}`` losses (nats, or 10x squared error for the
    velocity), each averaged over its own cells; only ``attack`` where nothing starts."""
    attack, pitch, dur, vel = head
    t_att, t_pitch, t_dur, t_vel = targets
    out = {"attack": F.binary_cross_entropy_with_logits(attack, t_att)}
    on = t_att > 0
    if not on.any():
        return out
    if poly:
        bce = F.binary_cross_entropy_with_logits(pitch, t_pitch, reduction="none").sum(1)
        out["pitch"] = bce[on].mean()
    else:
        out["pitch"] = F.cross_entropy(pitch, t_pitch, ignore_index=-100)
    out["dur"] = F.cross_entropy(dur.transpose(1, 2)[on], t_dur[on])
    out["vel"] = 10 * F.mse_loss(torch.sigmoid(vel)[on], t_vel[on])
    return out


def real_roll(targets, pitches: int, poly: bool = False) -> torch.Tensor:
    """The real track's attack roll ``[B, pitches, T]``."""
    t_att, t_pitch = targets[:2]
    if poly:
        return t_pitch * t_att[:, None]
    onehot = F.one_hot(t_pitch.clamp(min=0), pitches).transpose(1, 2).float()
    return onehot * t_att[:, None]


def sampled_roll(head, poly: bool = False) -> torch.Tensor:
    """The generator's attack roll as the sampler plays it, with straight-through gradients
    ``[B, P, T]``: Bernoulli attacks; Gumbel-max pitch for a line, Bernoulli per pitch for
    a polyphonic track."""
    attack, pitch = head[:2]
    pa = torch.sigmoid(attack)
    a = torch.bernoulli(pa.detach()) + pa - pa.detach()
    if poly:
        pp = torch.sigmoid(pitch)
        notes = torch.bernoulli(pp.detach()) + pp - pp.detach()
    else:
        notes = F.gumbel_softmax(pitch, tau=1.0, hard=True, dim=1)
    return notes * a[:, None]


def module_tensors(modules: dict) -> dict:
    """``{"generator.<param>": tensor, "critic.<param>": ...}`` of a trainer's modules
    (unwrapped from DistributedDataParallel) for ``save_weights``."""
    return {f"{name}.{k}": v for name, m in modules.items()
            for k, v in getattr(m, "module", m).state_dict().items()}


def parts_losses(heads: dict, batch: dict, poly: dict) -> dict:
    """``{"<track>_<term>": loss}`` over tracks: ``heads`` track -> head, ``batch`` track ->
    targets, ``poly`` track -> polyphonic or not."""
    out = {}
    for track, head in heads.items():
        out.update({f"{track}_{k}": v for k, v in
                    part_losses(head, batch[track], poly.get(track, False)).items()})
    return out


def real_rolls(batch: dict, pitches: dict, poly: dict) -> torch.Tensor:
    """The real tracks' attack rolls stacked on the pitch axis ``[B, sum P, T]`` (tracks in
    ``pitches`` order)."""
    return torch.cat([real_roll(batch[t], p, poly.get(t, False)) for t, p in pitches.items()],
                     1)


def sampled_rolls(heads: dict, poly: dict) -> torch.Tensor:
    """The generator's attack rolls stacked as ``real_rolls`` stacks the real ones."""
    return torch.cat([sampled_roll(h, poly.get(t, False)) for t, h in heads.items()], 1)


def collate(items: list[dict], keys: tuple[str, ...], tracks: tuple[str, ...]) -> dict:
    """Training windows -> a batch: each of ``keys`` stacked ``[B, ...]``; each track's
    four targets (``attack, pitch, dur, vel``) stacked one by one."""
    out = {k: torch.from_numpy(np.stack([it[k] for it in items])) for k in keys}
    for track in tracks:
        out[track] = tuple(torch.from_numpy(np.stack([it[track][i] for it in items]))
                           for i in range(4))
    return out
