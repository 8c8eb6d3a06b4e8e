"""The AR-CNN's network and its input coding (see ``composer.py`` for the model).

Shapes: ``B`` batch (or chains), ``4`` voices, ``T`` steps of a 16th, ``P1`` classes.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ...data import PITCH_RANGE
from ...decoding import fold_octaves
from ...representations.voices import REST, STEPS_PER_BEAT, Meter

LOW, HIGH = PITCH_RANGE
P1 = HIGH - LOW + 2  # classes per cell: 0 = rest, 1.. = pitch LOW..HIGH
VOICES = 4

DEFAULT_CONFIG = {
    "stem": 16,  # channels of the time x pitch stem
    "hidden": 192,  # channels of the 1-D trunk
    "dilations": [1, 2, 4, 8, 16, 32, 1, 2, 4],  # one residual block per entry
    "window": 128,  # training crop, steps (8 bars of 4/4)
    "batch": 16,
    "lr": 2e-3,
    "warmup": 100,
    "decay_steps": 3500,  # cosine decay to 10% over this many updates
    "valid_windows": 96,
}
TINY_CONFIG = {
    **DEFAULT_CONFIG,
    "stem": 4, "hidden": 32, "dilations": [1, 2], "window": 32, "batch": 4,
    "decay_steps": 100, "valid_windows": 8,
}


# ------------------------------------------------------------------ encoding


def encode(grid: np.ndarray) -> np.ndarray:
    """Pitches ``[..., T]`` (REST = -1) -> class ids (0 rest, 1.. pitch); octave-folds outliers."""
    g = np.asarray(grid, dtype=np.int64)
    return np.where(g == REST, 0, fold_octaves(g, LOW, HIGH) - LOW + 1)


def decode(ids: np.ndarray) -> np.ndarray:
    """Class ids -> int16 pitches (REST for 0)."""
    ids = np.asarray(ids)
    return np.where(ids == 0, REST, ids - 1 + LOW).astype(np.int16)


def beat_phase(steps: int, start: int = 0) -> torch.Tensor:
    """One-hot step-within-beat ``[4, steps]`` for grid steps ``start .. start+steps-1``
    (beats counted from step 0)."""
    phase = (torch.arange(steps) + start) % STEPS_PER_BEAT
    return F.one_hot(phase, STEPS_PER_BEAT).T.float()


def meter_phase(steps: int, meter: Meter, start: int = 0) -> torch.Tensor:
    """``beat_phase`` with beats counted from the meter's bar lines: a pickup of
    ``meter.offset`` steps puts the first beat at step ``meter.offset``, not at 0."""
    phase = torch.as_tensor(meter.beat_position(np.arange(start, start + steps)))
    return F.one_hot(phase, STEPS_PER_BEAT).T.float()


# ------------------------------------------------------------------ the net


class RMSNorm1d(nn.Module):
    """Normalise each step's channel vector ``[B, C, T]`` to unit RMS, then scale."""

    def __init__(self, channels: int):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(channels, 1))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + 1e-6) * self.gain


class Block(nn.Module):
    """Residual block: x + W1x1(relu(dilated conv_k3(norm(x)))), ``[B, C, T]`` -> same."""

    def __init__(self, channels: int, dilation: int):
        super().__init__()
        self.norm = RMSNorm1d(channels)
        self.conv = nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation)
        self.proj = nn.Conv1d(channels, channels, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x):
        return x + self.proj(F.relu(self.conv(self.norm(x))))


class ArcnnNet(nn.Module):
    """Masked cells in, logits out.

    ``ids [B,4,T]`` long, ``mask [B,4,T]`` bool (True = hidden), ``phase [4,T]`` or ``[B,4,T]``
    -> logits ``[B,4,T,P1]``.
    """

    def __init__(self, stem: int, hidden: int, dilations: list[int], **_):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(2 * VOICES, stem, 3, padding=1), nn.ReLU(),
            nn.Conv2d(stem, stem, 3, padding=1), nn.ReLU(),
        )
        self.inp = nn.Conv1d(stem * P1 + VOICES + STEPS_PER_BEAT, hidden, 1)
        self.blocks = nn.ModuleList(Block(hidden, d) for d in dilations)
        self.norm = RMSNorm1d(hidden)
        self.head = nn.Conv1d(hidden, VOICES * P1, 1)
        self.radius = 2 + sum(dilations)  # steps each side that an output can see

    def forward(self, ids, mask, phase):
        B, V, T = ids.shape
        known = (~mask).float()
        roll = F.one_hot(ids, P1).float() * known[..., None]  # [B,4,T,P1]
        planes = mask.float()[..., None].expand(B, V, T, P1)  # [B,4,T,P1]
        h = self.stem(torch.cat([roll, planes], 1))  # [B,S,T,P1]
        h = h.permute(0, 1, 3, 2).reshape(B, -1, T)  # [B,S*P1,T]
        h = torch.cat([h, mask.float(), phase.expand(B, -1, -1)], 1)  # phase [4,T] or [B,4,T]
        h = self.inp(h)  # [B,H,T]
        for block in self.blocks:
            h = block(h)
        out = self.head(F.relu(self.norm(h)))  # [B,4*P1,T]
        return out.view(B, V, P1, T).permute(0, 1, 3, 2)  # [B,4,T,P1]


def receptive_field(config: dict) -> int:
    """Steps of input one output step depends on: 2 x (2 stem convs + sum of dilations) + 1."""
    return 2 * (2 + sum(config["dilations"])) + 1


