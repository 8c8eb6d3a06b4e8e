"""The drum part of the band GAN: a conditional WGAN-GP over 4-bar phrases of drum rolls.

Data: the Groove MIDI Dataset (``data/groove.py``), rolls of nine drum classes on a 16th
grid with velocity and microtiming (``representations/drums.py``).

Generator (MuseGAN's "hybrid" latents, Dong et al. 2018): one latent ``z_shared`` per
phrase (per song at play time: one groove) plus one ``z_bar`` per bar; each bar is an MLP
of ``[z_shared, z_bar, style embedding, meter one-hot, fill flag, song conditions]`` that
writes, per step and class, a hit logit, a velocity and a microtiming offset. The song
conditions (``song_features.COND``: phrase energy, density level, syncopation, tempo) are
what the drummer hears: from the Groove take when training, from the song when playing.

Critic: reads each bar (hits, hits*velocity, hits*offset, its fill flag, meter and song
conditions), then
the four bars together; the style enters by projection (Miyato & Koyama 2018). Training
is WGAN-GP (Gulrajani et al. 2017) on *binary* hits: the generator samples Bernoulli hits
with a straight-through gradient (BinaryMuseGAN, Dong & Yang 2018), so the critic never
sees soft probabilities it could tell from real 0/1 rolls.

Supervised term (``fm``): a feature-matching loss that pins, per (style, meter, fill,
condition bin: energy tercile x tempo band),
the generator's mean hit rate and mean hit*velocity at each of the 16 positions and 9
classes to the training data's. It is computed on the sampled (straight-through) hits,
not on the probabilities: the variance of a batch mean of Bernoulli hits depends only on
the hit rate, so the term itself does not reward hedged probabilities. (It did not cure
them either: with independent draws per bar, consecutive bars of the shipped model share
0.25 of their hits (Jaccard) against 0.54 in Groove's validation takes, as with the
term on probabilities; ``DrumKit.hold`` deals with that at play time.)
Why the term at all: on a 2-core CPU the critic gets a few thousand updates, which is
enough for the joint structure (which hits go together, bar to bar consistency, what a
fill looks like) but slow to fix first moments per style; those moments are exactly
what density and style overlap measure. It constrains means over many samples, not
single samples, so it does not average the grooves away.

Meters: Groove is 98% 4/4. A bar is at most 16 steps; 3/4 and 6/8 bars are 12 steps
(the last 4 masked to silence) with their own meter flag, learned from Groove's few
3/4 and 6/8 takes (rock, jazz, latin) and carried to other styles by the conditioning.
Longer or other meters are played as a sequence of such bars (``bar_segments``).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...representations.drums import CLASSES
from .song_features import N_COND

T = 16  # steps in the longest bar the model writes (one 4/4 bar of 16ths)
METERS = ("4/4", "3/4", "6/8")  # meter classes; steps per bar 16, 12, 12
METER_STEPS = (16, 12, 12)
N_METERS = len(METERS)
DEFAULT_STYLE = "pop"  # the drums for ``--style pop``; argued in weights/gan_drums.md
MIN_STYLE_BARS = 80  # a Groove style is offered when its train beats hold this many bars
ALIASES = {"hip-hop": "hiphop", "hip hop": "hiphop", "afro-cuban": "afrocuban",
           "new orleans": "neworleans", "middle eastern": "middleeastern"}

DEFAULT_CONFIG = {
    "z_shared": 32,  # latent per phrase (per song when playing)
    "z_bar": 16,  # latent per bar
    "style_dim": 16,
    "hidden": 256,  # generator MLP width
    "critic_hidden": 192,
    "phrase_bars": 4,  # bars the critic sees together
    "batch": 32,  # phrases per update
    "styles_per_batch": 8,  # styles drawn per batch (same count of phrases each)
    "lr": 2e-4,
    "critic_lr": 2e-4,
    "n_critic": 2,  # critic updates per generator update
    "gp": 10.0,  # gradient penalty weight (WGAN-GP lambda)
    "fm": 5.0,  # weight of the per-style profile matching term
    "fill_share": 0.5,  # share of phrases whose last bar is a Groove fill
    "rare_meter_share": 0.25,  # share of phrases from 3/4 or 6/8 takes, where a style has them
    "decay_steps": 20000,  # learning rates follow a cosine to 10% over this many updates
    "binarize": "stochastic",  # hits: Bernoulli draws, or "deterministic" (logit > 0)
    "cond": N_COND,  # song conditions per bar (song_features.COND); 0: none (the old model)
}
TINY_CONFIG = {**DEFAULT_CONFIG, "z_shared": 8, "z_bar": 4, "style_dim": 4, "hidden": 32,
               "critic_hidden": 32, "batch": 8, "styles_per_batch": 4, "decay_steps": 20}


def meter_of(time_signature: tuple[int, int]) -> int | None:
    """Meter class of a Groove take (None for meters the model does not train on)."""
    return {(4, 4): 0, (3, 4): 1, (6, 8): 2}.get(tuple(time_signature))


def step_mask(meter: torch.Tensor) -> torch.Tensor:
    """``meter`` ``[...]`` -> float mask ``[..., T]``: 1 on the steps a bar of that meter has."""
    steps = torch.tensor(METER_STEPS, device=meter.device)[meter]  # [...]
    return (torch.arange(T, device=meter.device) < steps[..., None]).float()


# ----------------------------------------------------------------------------- networks


class Generator(nn.Module):
    """Latents + conditions -> per bar: hit logits, velocity, offset, each ``[B, P, T, C]``."""

    def __init__(self, cfg: dict, n_styles: int):
        super().__init__()
        H = cfg["hidden"]
        self.style = nn.Embedding(n_styles, cfg["style_dim"])
        self.n_cond = int(cfg.get("cond", 0))
        d_in = cfg["z_shared"] + cfg["z_bar"] + cfg["style_dim"] + N_METERS + 1 + self.n_cond
        self.trunk = nn.Sequential(nn.Linear(d_in, H), nn.LeakyReLU(0.2),
                                   nn.Linear(H, H), nn.LeakyReLU(0.2),
                                   nn.Linear(H, H), nn.LeakyReLU(0.2))
        self.head = nn.Linear(H, T * CLASSES * 3)

    def forward(self, z_shared, z_bar, style, fill, meter, song=None):
        # z_shared [B, Zs], z_bar [B, P, Zb], style [B] long, fill [B, P] float, meter [B, P]
        # long, song [B, P, n_cond] float (song_features.COND; None: all 0, the median)
        B, P = fill.shape
        cond = torch.cat([self.style(style)[:, None].expand(B, P, -1),  # [B, P, E]
                          F.one_hot(meter, N_METERS).float(),  # [B, P, 3]
                          fill[..., None], song_input(song, B, P, self.n_cond)], -1)
        x = torch.cat([z_shared[:, None].expand(B, P, -1), z_bar, cond], -1)
        out = self.head(self.trunk(x)).view(B, P, T, CLASSES, 3)
        mask = step_mask(meter)[..., None]  # [B, P, T, 1]
        logits = out[..., 0] * mask - 20.0 * (1 - mask)  # steps past the bar never hit
        return logits, torch.sigmoid(out[..., 1]), 0.5 * torch.tanh(out[..., 2])


class Critic(nn.Module):
    """Phrases ``[B, P, T, C, 3]`` (hits, hits*velocity, hits*offset) -> scores ``[B]``.

    Each bar is read with its difference from the bar before (``|hits_i - hits_i-1|``), so
    that a groove that does not hold from bar to bar is easy to tell from a real one."""

    def __init__(self, cfg: dict, n_styles: int):
        super().__init__()
        H, P = cfg["critic_hidden"], cfg["phrase_bars"]
        self.n_cond = int(cfg.get("cond", 0))
        self.bar = nn.Sequential(nn.Linear(T * CLASSES * 4 + 1 + N_METERS + self.n_cond, H),
                                 nn.LeakyReLU(0.2),
                                 nn.Linear(H, H), nn.LeakyReLU(0.2))
        self.phrase = nn.Sequential(nn.Linear(P * H, H), nn.LeakyReLU(0.2))
        self.out = nn.Linear(H, 1)
        self.style = nn.Embedding(n_styles, H)  # projection of the style condition

    def forward(self, x, style, fill, meter, song=None):
        B, P = fill.shape
        hits = x[..., 0]  # [B, P, T, C]
        change = (hits[:, 1:] - hits[:, :-1]).abs()  # what differs from the bar before
        change = torch.cat([torch.zeros_like(hits[:, :1]), change], 1)  # [B, P, T, C]
        bars = torch.cat([x.reshape(B, P, -1), change.reshape(B, P, -1), fill[..., None],
                          F.one_hot(meter, N_METERS).float(),
                          song_input(song, B, P, self.n_cond)], -1)  # [B, P, T*C*4 + 4 + K]
        phi = self.phrase(self.bar(bars).reshape(B, -1))  # [B, H]
        return self.out(phi)[:, 0] + (self.style(style) * phi).sum(-1)


def song_input(song, B: int, P: int, n_cond: int) -> torch.Tensor:
    """The song conditions ``[B, P, n_cond]`` (zeros when ``song`` is None)."""
    if n_cond == 0:
        return torch.zeros(B, P, 0)
    if song is None:
        return torch.zeros(B, P, n_cond)
    return song.float().reshape(B, P, n_cond)


def critic_input(hits, vel, off, meter):
    """Hits ``[B, P, T, C]`` (0/1, maybe straight-through) + velocity + offset -> ``[.., 3]``."""
    x = torch.stack([hits, hits * vel, hits * off], -1)
    return x * step_mask(meter)[..., None, None]


def sample_hits(logits, u, deterministic: bool = False):
    """Bernoulli hits from uniform noise ``u`` (or ``logits > 0`` when ``deterministic``)
    with a straight-through gradient."""
    p = torch.sigmoid(logits)
    hard = (logits > 0).float() if deterministic else (u < p).float()
    return hard + p - p.detach()


# ------------------------------------------------------------------------ playing
