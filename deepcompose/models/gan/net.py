"""The GAN's networks and features: frames of 8th notes, the generator and the critic.

See ``composer.py`` for the model; shapes in comments (``B`` batch, ``T`` frames, ``V`` classes).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ...data import PITCH_RANGE
from ...representations.phrase_position import N_PHRASE, phrase_position
from ...representations.voices import REST, STEPS_PER_BEAT, Meter

LOW, HIGH = PITCH_RANGE
V = HIGH - LOW + 2  # vocabulary: pitches LOW..HIGH, then rest (last index)
REST_IX = V - 1
PARTS = 3  # alto, tenor, bass
STEPS_PER_FRAME = 2  # one frame = one 8th note
N_METER = 4

DEFAULT_CONFIG = {
    "channels": 128,  # generator trunk width
    "blocks": 6,  # residual dilated conv blocks in the generator (dilations 1,2,4,8,1,2)
    "critic_channels": 96,
    "z_shared": 16,  # latent shared by all tracks (one per training window / generated piece)
    "z_track": 8,  # private latent per track (likewise)
    "window": 32,  # frames per window (16 beats = 4 bars of 4/4)
    "context": 8,  # at most this many known frames at the start of a window
    "lookahead": 8,  # frames generated past the committed part (melody lookahead)
    "batch": 32,
    "lr": 1e-3,
    "critic_lr": 1e-3,
    "decay_steps": 6000,  # both learning rates follow a cosine to 5% over this many updates
    "n_critic": 1,  # critic updates per generator update
    "gp": 10.0,  # gradient-penalty weight (WGAN-GP lambda)
    "sup": 1.0,  # weight of the supervised cross-entropy term
    "adv": 0.05,  # weight of the adversarial term in the generator loss
    "chunk": 64,  # generation: at most this many frames written per generator pass
    "sample_scale": 0.5,  # generation: chord sampling temperature = this x the user's temperature
    "phrase": True,  # the phrase-position inputs (issue 26); a config without it: pre-issue-26
    "end_share": 0.25,  # training: share of windows that hold the piece's end (its last half)
}
TINY_CONFIG = {**DEFAULT_CONFIG, "channels": 16, "blocks": 2, "critic_channels": 16,
               "z_shared": 4, "z_track": 2, "window": 16, "context": 4, "lookahead": 4,
               "batch": 4}


# ---------------------------------------------------------------- features


def to_index(pitches: np.ndarray) -> np.ndarray:
    """MIDI pitches (REST = -1) -> vocabulary indices; pitches are clipped into range."""
    pitches = np.asarray(pitches)
    ix = np.clip(pitches, LOW, HIGH) - LOW
    return np.where(pitches == REST, REST_IX, ix).astype(np.int64)


def from_index(ix: np.ndarray) -> np.ndarray:
    """Vocabulary indices -> MIDI pitches (REST = -1), int16."""
    ix = np.asarray(ix)
    return np.where(ix == REST_IX, REST, ix + LOW).astype(np.int16)


def meter_features(steps: int, meter: Meter) -> np.ndarray:
    """``[N_METER, steps // 2]`` per 8th frame: on-beat, downbeat, sin and cos of the bar phase.

    Frame ``f`` starts at grid step ``2 f``; the grid is assumed padded so that
    ``meter.offset`` is even.
    """
    start = np.arange(0, steps, STEPS_PER_FRAME)
    pos = meter.position(start)  # steps since the last bar line
    phase = 2 * math.pi * pos / meter.steps_per_bar
    return np.stack([(pos % STEPS_PER_BEAT == 0), pos == 0, np.sin(phase), np.cos(phase)]
                    ).astype(np.float32)


def phrase_features(row: np.ndarray, meter: Meter) -> np.ndarray:
    """Soprano row ``[steps]`` (steps even, ``meter.offset`` even) -> ``[N_PHRASE, steps // 2]``:
    ``phrase_position`` per 16th step (the bar of each step from ``meter``, steps before the
    first bar line -- the pickup -- as bar -1), then per frame the max over its two steps (bar
    lines fall on frame starts, so only the last-note flag can differ: it counts from the frame
    holding the last note's onset)."""
    step = np.arange(len(row))
    bar = np.where(step < meter.offset, -1, (step - meter.offset) // meter.steps_per_bar)
    f = phrase_position(bar, row)
    return f.reshape(N_PHRASE, -1, STEPS_PER_FRAME).max(-1)


def melody_features(row: np.ndarray) -> np.ndarray:
    """Soprano row ``[steps]`` (steps even) -> ``[V, steps // 2]``: mean one-hot per frame."""
    onehot = np.eye(V, dtype=np.float32)[to_index(row)]  # [steps, V]
    return onehot.reshape(-1, STEPS_PER_FRAME, V).mean(1).T


def guess_meter(grid: np.ndarray) -> Meter:
    """Bar lines of an unannotated chorale, from where its long notes (>= a half note) start.

    Chorale half notes fall on beats 1 and 3 in 4/4 and on beat 1 in 3/4: pick the
    meter and offset whose strong beats catch the most long-note onsets.
    """
    from ...representations.voices import grid_to_notes

    onsets = np.array([s for row in grid for _, s, e in grid_to_notes(row) if e - s >= 8])
    if onsets.size == 0:
        return Meter(16, 0)
    best = None
    for spb, strong in ((16, 8), (12, 12)):
        for off in range(0, spb, STEPS_PER_BEAT):
            key = (np.mean((onsets - off) % strong == 0), np.mean((onsets - off) % spb == 0))
            if best is None or key > best[0]:
                best = (key, Meter(spb, off))
    return best[1]


# ---------------------------------------------------------------- generator


class Block(nn.Module):
    """Residual dilated conv over frames: ``[B, C, T] -> [B, C, T]``."""

    def __init__(self, c: int, dilation: int):
        super().__init__()
        self.conv1 = nn.Conv1d(c, c, 3, padding=dilation, dilation=dilation)
        self.conv2 = nn.Conv1d(c, c, 1)
        self.norm = nn.GroupNorm(1, c)

    def forward(self, x):
        return x + self.conv2(F.gelu(self.conv1(F.gelu(self.norm(x)))))


def cond_channels(cfg: dict) -> int:
    """Channels of ``cond``: melody and meter ``[V + N_METER]``, then the phrase position
    ``[N_PHRASE]`` when ``cfg["phrase"]`` (a config without the key: False)."""
    return V + N_METER + (N_PHRASE if cfg.get("phrase", False) else 0)


def split_cond(cond):
    """``cond`` -> (melody and meter ``[B, V+4, T]``, phrase position ``[B, N_PHRASE or 0, T]``):
    the phrase channels go LAST into each network's first layer (grown from the pre-issue-26
    weights, ``weights.warm_start``)."""
    return cond[:, :V + N_METER], cond[:, V + N_METER:]


class Generator(nn.Module):
    """(melody, meter, phrase position, known parts, latents) -> logits ``[B, PARTS, T, V]``.

    MuseGAN hybrid: a trunk shared by all tracks sees the shared latent; each
    track's head adds its own private latent.
    """

    def __init__(self, cfg: dict):
        super().__init__()
        c, zs, zt = cfg["channels"], cfg["z_shared"], cfg["z_track"]
        self.zs, self.zt = zs, zt
        extra = cond_channels(cfg) - V - N_METER
        self.inp = nn.Conv1d(V + N_METER + PARTS * V + 1 + zs + extra, c, 3, padding=1)
        self.blocks = nn.Sequential(*[Block(c, 2 ** (i % 4)) for i in range(cfg["blocks"])])
        self.heads = nn.ModuleList(nn.Sequential(
            nn.Conv1d(c + zt, c, 3, padding=1), nn.GELU(), nn.Conv1d(c, V, 1))
            for _ in range(PARTS))

    def forward(self, cond, known, z_shared, z_track):
        # cond [B, V+4(+N_PHRASE), T]; known [B, 3V+1, T]; z_shared [B, zs]; z_track [B, PARTS, zt]
        T = cond.shape[-1]
        zs = z_shared[:, :, None].expand(-1, -1, T)
        base, phrase = split_cond(cond)
        h = self.blocks(self.inp(torch.cat([base, known, zs, phrase], 1)))  # [B, C, T]
        outs = [head(torch.cat([h, z_track[:, i, :, None].expand(-1, -1, T)], 1))
                for i, head in enumerate(self.heads)]  # PARTS x [B, V, T]
        return torch.stack(outs, 1).transpose(2, 3)  # [B, PARTS, T, V]


class Critic(nn.Module):
    """(melody, meter, phrase position, parts as per-frame distributions) -> one score per
    window ``[B]``."""

    def __init__(self, cfg: dict):
        super().__init__()
        c = cfg["critic_channels"]
        self.net = nn.Sequential(
            nn.Conv1d(cond_channels(cfg) + PARTS * V, c, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(c, c, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(c, 2 * c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # T/2: beats
            nn.Conv1d(2 * c, 2 * c, 3, padding=2, dilation=2), nn.LeakyReLU(0.2),
            nn.Conv1d(2 * c, 2 * c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # T/4
        )
        self.out = nn.Linear(2 * c, 1)

    def forward(self, cond, parts):
        # cond [B, V+4(+N_PHRASE), T]; parts [B, PARTS, T, V] (one-hot or softmax)
        B, _, T, _ = parts.shape
        base, phrase = split_cond(cond)
        x = torch.cat([base, parts.transpose(2, 3).reshape(B, PARTS * V, T), phrase], 1)
        return self.out(self.net(x).mean(-1)).squeeze(-1)  # [B]


def known_input(parts_ix: torch.Tensor, n_known: torch.Tensor) -> torch.Tensor:
    """Known-part channels ``[B, 3V+1, T]``: one-hot of ``parts_ix`` ``[B, PARTS, T]`` on the
    first ``n_known[b]`` frames, zero after; plus the known flag."""
    B, _, T = parts_ix.shape
    mask = (torch.arange(T)[None, :] < n_known[:, None]).float()  # [B, T]
    onehot = F.one_hot(parts_ix, V).float() * mask[:, None, :, None]  # [B, PARTS, T, V]
    return torch.cat([onehot.transpose(2, 3).reshape(B, PARTS * V, T), mask[:, None]], 1)


def window_onehot(parts_ix: torch.Tensor) -> torch.Tensor:
    """``[B, PARTS, T]`` indices -> ``[B, PARTS, T, V]`` one-hot floats."""
    return F.one_hot(parts_ix, V).float()


def mix_known(real: torch.Tensor, fake: torch.Tensor, n_known: torch.Tensor) -> torch.Tensor:
    """Parts the critic sees: ``real`` on the first ``n_known`` frames, ``fake`` after."""
    T = real.shape[2]
    mask = (torch.arange(T)[None, :] < n_known[:, None]).float()[:, None, :, None]
    return mask * real + (1 - mask) * fake


# ---------------------------------------------------------------- pieces as frames


def piece_frames(grid: np.ndarray, meter: Meter, min_frames: int = 0, phrase: bool = False):
    """A grid ``[4, steps]`` -> (cond ``[V+4, F]``, parts ``[PARTS, F]`` indices, pad_front);
    with ``phrase``, cond also holds the phrase position ``[N_PHRASE, F]`` last
    (``phrase_features``: the same at training and at generation).

    The grid is padded with rests so that the bar offset is even (frames align with
    8th notes) and the piece holds at least ``min_frames`` frames. Each part's frame
    value is its pitch at the frame's first 16th step.
    """
    pad_front = meter.offset % STEPS_PER_FRAME
    steps = pad_front + grid.shape[1]
    frames = max(min_frames, -(-steps // STEPS_PER_FRAME))
    padded = np.full((grid.shape[0], frames * STEPS_PER_FRAME), REST, dtype=np.int16)
    padded[:, pad_front:steps] = grid
    meter = Meter(meter.steps_per_bar, meter.offset + pad_front)
    cond = [melody_features(padded[0]), meter_features(padded.shape[1], meter)]
    if phrase:
        cond.append(phrase_features(padded[0], meter))
    cond = np.concatenate(cond)
    parts = to_index(padded[1:, ::STEPS_PER_FRAME])
    return cond, parts, pad_front


