"""The string quartet GAN's networks and features (the player: ``gan_strings.StringQuartet``).

MuseGAN (Dong et al., AAAI 2018) writes several tracks from latents shared by all tracks
(time-independent and per bar) plus a private latent per track, against one critic that
sees every track. This model keeps that layout, like the pop band (``gan_pop``), and
conditions it on violin I (the user's melody) and the meter; it writes violin II, viola
and cello. What differs from the band:

- no chord head and no chords: the harmony is learned from the melody and a local key
  profile (the melody's pitch classes over +-16 beats);
- latents: one per piece, one per *phrase* figure and one per bar, read along the
  melody's form (``gan_pop.form``: phrases of ``phrase_bars`` bars; a bar whose melody
  repeats an earlier bar's reads that bar's latent, and its phrase the earlier phrase's),
  and one per part;
- dynamics: violin I's velocity is an input, so the parts follow the written dynamics the
  data's velocities come from (``deepcompose.data.quartets``);
- meter: beat in bar, 16th in beat, bar phase, a compound-meter flag (6/8, 9/8, 12/8) and
  the bar's place in a 4-bar phrase; bars follow every change of meter and the pickup;
- the critic looks at beats and, through dilated convolutions over beats, at whole
  phrases (about 16 beats, 4 bars of 4/4, either side).

Units: 16th-note steps (``STEPS_PER_BEAT`` = 4 per quarter-note beat); a piece of ``T``
steps gives features ``[N_COND, T]``. The trunk is the band's residual dilated conv
``Block``; everything is convolutional, so one pass writes any length.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from ...representations.phrase_position import N_PHRASE
from ..gan_pop.net import DURS, N_MEL, N_METER, Block, melody_features, meter_features

TRACKS = ("violin2", "viola", "cello")
NAMES = {"violin2": "Violin II", "viola": "Viola", "cello": "Cello"}
PROGRAMS = {"violin2": 40, "viola": 41, "cello": 42}  # General MIDI, 0-based
# Written range of each part (MIDI): the lowest open string up; the top is generous. The
# pitch softmax covers exactly this range, so every note the model writes is inside it.
RANGES = {"violin2": (55, 100), "viola": (48, 88), "cello": (36, 76)}
P = {k: hi - lo + 1 for k, (lo, hi) in RANGES.items()}
LOW_LINE = {"violin2": False, "viola": False, "cello": True}  # a double stop's line: top/bottom
N_GAPS = 17          # gap classes to a part's next attack: 1..16 steps, longer or none
GAP_GAIN = 30.0      # the gap bias's learning-rate multiplier (``Generator.gap_bias``)
KEY_SPAN = 64        # steps either side of the local key profile (16 beats)
PHRASE = 4           # bars per phrase position cycle (meter feature)
N_EXTRA = 1 + PHRASE  # compound-meter flag, bar in phrase (one-hot)
N_COND = N_MEL + 1 + N_METER + N_EXTRA + 12  # melody, its velocity, meter, extra, key
# The phrase-position features (issue 26, ``representations.phrase_position``) follow the
# ``N_COND`` rows of the conditioning tensor and enter each network LAST (after the
# latents in the generator, after the rolls in the critic), so a network fine-tuned from
# weights without them starts as the old one (``weights.warm_start``).

DEFAULT_CONFIG = {
    "channels": 64,       # generator trunk width
    "dilations": [1, 2, 4, 8, 16, 32, 1, 2, 4, 8],  # residual blocks (receptive field +-158)
    "critic_channels": 48,
    "critic_dilations": [2, 4, 8],  # over beats: +-16 beats with the strided layers
    "z_shared": 8,        # per piece, all parts
    "z_phrase": 8,        # per phrase of phrase_bars bars, all parts
    "z_bar": 8,           # per bar (shared by bars with the same melody), all parts
    "z_track": 8,         # per piece, one per part
    "phrase_bars": 4,
    "window": 256,        # training window in steps (16 bars of 4/4)
    "batch": 16,
    "lr": 1e-3,
    "critic_lr": 1e-3,
    "decay_steps": 6000,  # cosine decay of both learning rates to 5% over this many updates
    "gp": 10.0,           # WGAN-GP lambda
    "adv": 0.1,           # adversarial weight (the supervised weight is 1)
    "chunk": 4096,        # generation: steps per pass (longer pieces go in chunks)
    "attack_scale": 1.0,  # generation: attack temperature = this x the request's temperature
    "pitch_scale": 0.5,   # generation: pitch and duration temperature, likewise
    "repeat_similarity": 0.8,  # melody Jaccard for a bar to count as a repeat (gan_pop.form)
    "share_noise": True,  # generation: draw the noise along the form (phrases, repeats)
    "vary": 0.25,         # generation: share of a bar's steps drawn afresh (gan_pop.form)
    "phrase_features": True,  # the networks read phrase_position (False: weights before #26)
    "end_share": 0.0,     # training: share of windows ending where the movement ends
    "bass_targets": False,  # training: the cello's targets as the bass (train.bass_line)
    "harmony_loss": 0.0,  # training: weight of the parts' expected pitch-class doubling/clash
    "dur_scale": None,    # generation: duration temperature x T (None: pitch_scale)
    "joint": 0.0,         # generation: pitches drawn part after part (sample.pick_pitches)
    "legato": 0,          # generation: gaps of at most this many steps closed (fill_gaps)
    "gap_durations": False,  # a note's duration also reads the steps to its part's next attack
    "attack_coupling": 0.0,  # generation: correlation of the parts' attack draws (0..1)
}
TINY_CONFIG = {**DEFAULT_CONFIG, "channels": 16, "dilations": [1, 2], "critic_channels": 8,
               "critic_dilations": [2], "z_shared": 2, "z_phrase": 2, "z_bar": 2,
               "z_track": 2, "window": 64, "batch": 4}


# ---------------------------------------------------------------- features


def key_profile(sounding: np.ndarray, span: int = KEY_SPAN) -> np.ndarray:
    """The melody's local pitch classes ``[12, T]``: at each step, the steps each pitch class
    sounds within ``span`` steps either side, divided by the largest (0..1; all 0 where the
    melody is silent throughout). ``sounding [T]``: melody pitch per step, -1 rest."""
    T = len(sounding)
    roll = np.zeros((12, T + 1), dtype=np.float64)
    t = np.nonzero(sounding >= 0)[0]
    roll[sounding[t] % 12, t + 1] = 1
    c = np.cumsum(roll, 1)  # [12, T + 1]
    hi = np.minimum(np.arange(T) + span + 1, T)
    lo = np.maximum(np.arange(T) - span, 0)
    win = c[:, hi] - c[:, lo]
    top = win.max(0, keepdims=True)
    return (win / np.maximum(top, 1)).astype(np.float32)


def bar_numbers(bar_start: np.ndarray) -> np.ndarray:
    """Bar of each step ``[T]`` from the steps that start a bar ``[T]`` (bool): 0 at the
    first bar line, -1 before it (the pickup)."""
    return np.cumsum(bar_start) - 1


def extra_meter(bar_start: np.ndarray, compound: np.ndarray, phrase: int = PHRASE
                ) -> np.ndarray:
    """``[N_EXTRA, T]``: compound meter (``compound [T]`` bool) and the bar's place in a
    ``phrase``-bar cycle (one-hot; the pickup is the last place, an upbeat)."""
    T = len(bar_start)
    out = np.zeros((1 + phrase, T), dtype=np.float32)
    out[0] = compound
    out[1 + bar_numbers(bar_start) % phrase, np.arange(T)] = 1
    return out


def latent_index(form) -> tuple[np.ndarray, np.ndarray]:
    """Per step ``[T]``: which bar latent and which phrase latent it reads (0-based) from a
    ``gan_pop.form.Form``: one bar latent per repeat source (``bar_key``), one phrase
    latent per phrase figure (``phrase_key``)."""
    _, bar = np.unique(form.bar_key, return_inverse=True)
    _, phrase = np.unique(form.phrase_key, return_inverse=True)
    return bar.reshape(-1), phrase.reshape(-1)


def conditioning(mel, onset, mel_vel, in_bar, bpb, bar_start, compound) -> np.ndarray:
    """Everything the generator and critic are conditioned on, ``[N_COND, T]``: melody
    (sounding pitch ``mel [T]`` -1 rest, ``onset [T]``), its velocity ``mel_vel [T]``
    (0..1), the meter (beat in bar ``in_bar [T]``, beats per bar ``bpb [T]``, bar starts
    ``bar_start [T]``, compound ``[T]``) and the local key profile."""
    return np.concatenate([melody_features(mel, onset), mel_vel[None].astype(np.float32),
                           meter_features(in_bar, bpb), extra_meter(bar_start, compound),
                           key_profile(mel)])


def gap_class(steps: np.ndarray, end: int) -> np.ndarray:
    """The gap from each attack to its part's next one, as a class ``[n]`` (``N_GAPS``):
    ``g - 1`` for a gap of ``g`` = 1..16 steps, 16 for a longer one or none before ``end``.
    ``steps [n]``: the part's attack steps, rising; ``end``: the next attack after the last
    (a step at or past the piece's end: none)."""
    nxt = np.append(np.asarray(steps, dtype=np.int64)[1:], end)
    gaps = nxt - np.asarray(steps, dtype=np.int64)
    return np.where((gaps >= 1) & (gaps <= N_GAPS - 1), gaps - 1, N_GAPS - 1)


# ---------------------------------------------------------------- networks


def head_size(track: str) -> int:
    """Outputs per step of one part: attack, pitches, duration classes, velocity."""
    return 1 + P[track] + len(DURS) + 1


def split_head(out: torch.Tensor, track: str):
    """``[B, head_size, T]`` -> attack ``[B, T]``, pitch ``[B, P, T]``, duration
    ``[B, len(DURS), T]``, velocity ``[B, T]`` (logits; velocity 0..1 after sigmoid)."""
    p = P[track]
    return out[:, 0], out[:, 1:1 + p], out[:, 1 + p:1 + p + len(DURS)], out[:, -1]


class Generator(nn.Module):
    """(cond ``[B, N_COND + N_PHRASE, T]``, latents) -> per part ``[B, head_size, T]``.

    ``z_shared [B, zs]`` (piece); ``z_time [B, zp + zb, T]``: the phrase and bar latents
    spread over their steps (a repeated bar reads its source's bar latent); ``z_track
    [B, 3, zt]``. Same call as the band's generator, so ``gan_pop.sample.run_generator``
    runs it in chunks.
    """

    def __init__(self, cfg: dict):
        super().__init__()
        c, zs = cfg["channels"], cfg["z_shared"]
        zt, ztime = cfg["z_track"], cfg["z_phrase"] + cfg["z_bar"]
        self.n_pos = N_PHRASE if cfg.get("phrase_features", True) else 0
        self.inp = nn.Conv1d(N_COND + zs + ztime + self.n_pos, c, 3, padding=1)
        self.blocks = nn.Sequential(*[Block(c, d) for d in cfg["dilations"]])
        self.heads = nn.ModuleList(nn.Sequential(
            nn.Conv1d(c + zt, c, 3, padding=1), nn.GELU(), nn.Conv1d(c, head_size(t), 1))
            for t in TRACKS)
        # ``gap_durations``: per part, gap class -> a bias on the duration logits, so that a
        # note's duration is drawn knowing when the part's next (already drawn) attack
        # comes; zero at the start (a fine-tune starts as the network it grows from), used
        # as ``GAP_GAIN`` x the stored values so that Adam's steps (about lr per update)
        # move it GAP_GAIN times faster than the trunk (an equalised learning rate, as in
        # Karras et al. 2018): a few hundred updates at a fine-tune's lr can reach logits of
        # several nats
        self.gap_bias = (nn.Parameter(torch.zeros(len(TRACKS), N_GAPS, len(DURS)))
                         if cfg.get("gap_durations") else None)

    def forward(self, cond, z_shared, z_time, z_track):
        T = cond.shape[-1]
        zs = z_shared[:, :, None].expand(-1, -1, T)
        base, pos = cond[:, :N_COND], cond[:, N_COND:N_COND + self.n_pos]
        h = self.blocks(self.inp(torch.cat([base, zs, z_time, pos], 1)))  # [B, C, T]
        return [head(torch.cat([h, z_track[:, i, :, None].expand(-1, -1, T)], 1))
                for i, head in enumerate(self.heads)]  # 3 x [B, head_size, T]

    def gap_durations(self, dur: torch.Tensor, gaps: torch.Tensor, track: str):
        """Duration logits ``[B, len(DURS), T]`` of part ``track`` given the gap class
        (``gap_class``) at each step ``[B, T]`` (long); unchanged without ``gap_bias``."""
        if self.gap_bias is None:
            return dur
        bias = GAP_GAIN * self.gap_bias[TRACKS.index(track)]  # [N_GAPS, len(DURS)]
        return dur + bias[gaps].permute(0, 2, 1)


class Critic(nn.Module):
    """(cond ``[B, N_COND + N_PHRASE, T]``, the parts' attack rolls ``[B, sum P, T]``, T a
    multiple of 4) -> one score per window: 16ths -> 8ths -> beats, then dilated convs over beats
    (phrases), averaged."""

    def __init__(self, cfg: dict):
        super().__init__()
        c = cfg["critic_channels"]
        self.n_pos = N_PHRASE if cfg.get("phrase_features", True) else 0
        layers = [nn.Conv1d(N_COND + sum(P.values()) + self.n_pos, c, 3, padding=1),
                  nn.LeakyReLU(0.2),
                  nn.Conv1d(c, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                  nn.Conv1d(c, 2 * c, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        for d in cfg["critic_dilations"]:
            layers += [nn.Conv1d(2 * c, 2 * c, 3, padding=d, dilation=d), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers)
        self.out = nn.Linear(2 * c, 1)

    def forward(self, cond, rolls):
        x = torch.cat([cond[:, :N_COND], rolls, cond[:, N_COND:N_COND + self.n_pos]], 1)
        return self.out(self.net(x).mean(-1)).squeeze(-1)  # [B]
