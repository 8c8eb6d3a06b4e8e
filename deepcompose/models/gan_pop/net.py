"""The pop band GAN's networks and features (the model: ``gan_pop.PopBand``).

MuseGAN (Dong et al., AAAI 2018) writes several tracks from a latent shared by all
tracks plus one private latent per track, with time-independent and per-bar
latents, against one critic that sees all tracks. This model keeps that layout and
conditions it on the melody, the meter (bar position) and the chords:

1. **Chord head** (melody + meter -> one chord class per beat, ``deepcompose.chords``
   vocabulary: N or 12 roots x 15 qualities). Without given chords the arrangement
   follows its best chord path (a Viterbi pass over the beats with a chord-change cost).
2. **Generator** (melody, meter, chords, latents -> per 16th step and per track: an
   attack logit, pitch logits, a duration class and a velocity). Bass and counter are
   single lines (softmax over pitch); keys are chords (one sigmoid per pitch).
3. **Critic** (WGAN-GP, in ``train``) over melody, meter, chords and the three
   tracks' attack rolls, where the generator's rolls are *sampled* (straight-through):
   it judges what the sampler actually plays.

Units: the grid is 16th notes (``STEPS_PER_BEAT`` = 4 steps per quarter-note beat);
a song of ``T`` steps gives features ``[C, T]``; the chord head works on beats
(``T // 4``). Everything is convolutional or attends over the whole piece, so one pass
arranges any length; very long pieces go through in overlapping chunks.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ...chords import N_CLASSES, VOCAB_QUALITIES, class_pitch_classes
from ...errors import DeepcomposeError
from ...representations.multitrack import (
    STEPS_PER_BEAT,
    BandRequest,
)
from ...representations.phrase_position import N_PHRASE, phrase_position

TRACKS = ("bass", "keys", "counter")
RANGES = {"melody": (48, 96), "bass": (28, 64), "keys": (40, 88), "counter": (52, 96)}
P = {k: hi - lo + 1 for k, (lo, hi) in RANGES.items()}  # pitch bins per track
POLY = {"bass": False, "keys": True, "counter": False}
DURS = (1, 2, 3, 4, 6, 8, 12, 16)  # duration classes, in steps
N_MEL = P["melody"] + 12 + 2   # melody: sounding pitch, its pitch class, onset, rest
N_METER = 6 + 4 + 3            # beat in bar (6), 16th in beat (4), bar phase sin/cos, 3-beat
N_CHORD = 12 + 12 + 12 + 2     # chroma, root, bass pitch class, N flag, change flag
N_COND = N_MEL + N_METER + N_CHORD
# + N_PHRASE phrase-position channels (issue 26), appended LAST to ``cond`` and to every
# layer that reads them, when ``phrase_features`` is set (weights of before lack them).
Q = len(VOCAB_QUALITIES)

DEFAULT_CONFIG = {
    "phrase_features": True,  # issue 26: phrase position as inputs (weights of before: off)
    "end_share": 0.25,    # training: share of windows that end where the song's melody ends
    "channels": 96,       # generator trunk width
    "dilations": [1, 2, 4, 8, 16, 1, 2, 4],  # one residual block each (receptive field ~19 beats)
    "chord_dim": 128,     # chord head width
    "chord_layers": 3,    # transformer layers of the chord head (over beats)
    "chord_dilations": [1, 2, 4, 8, 1],  # chord head: residual convs over beats (+-16 beats)
    "critic_channels": 64,
    "z_shared": 16,       # per piece, all tracks
    "z_bar": 8,           # per bar, all tracks (MuseGAN's time-dependent latent)
    "z_track": 8,         # per piece, one per track
    "window": 256,        # training window in steps (16 bars of 4/4)
    "batch": 16,
    "lr": 1e-3,
    "critic_lr": 1e-3,
    "decay_steps": 4500,  # cosine decay of both learning rates to 5% over this many updates
    "chord_updates": 1,   # extra chord-head-only updates per step (melody -> chords is slow)
    "chord_batch": 32,    # windows per extra chord-head update
    "gp": 10.0,           # WGAN-GP lambda
    "adv": 0.1,           # adversarial weight in the generator loss (supervised weight is 1)
    "chord_switch": 3.0,  # Viterbi: cost (nats) of a chord change off the bar's main beats
    "chord_switch_half": 0.0,  # ... on the middle beat of a bar with an even number of beats
    "chord_switch_bar": -1.0,  # ... on a bar line (a bonus: POP909 changes about every bar)
    "chord_fit": 3.0,     # Viterbi: nats per beat x the melody's note time on chord tones
    # Viterbi: nats added per chord quality (VOCAB_QUALITIES order), fitted on 150 training
    # songs so that the decoded qualities occur as often as POP909's annotated ones (the
    # head's likeliest path is 99 percent major and minor); see the card.
    "quality_bonus": [0.0, -0.05, 1.99, 2.249, 2.579, 1.851, 1.264, 3.273, 3.204, 3.866,
                      1.752, 2.664, 2.861, 0.884, 2.94],
    "chord_tta": False,   # generation: average the chord head over the 12 transpositions
    "chunk": 4096,        # generation: steps per pass (longer pieces go in chunks)
    "attack_scale": 0.7,  # generation: attack temperature = this x the request's temperature
    "pitch_scale": 0.8,   # generation: pitch and duration temperature, likewise
    "pitch_scale_keys": 1.0,  # ... for the keys' pitches (fuller voicings than at 0.8)
    # generation, issue 21 (see ``sample`` and ``form``):
    "share_noise": True,  # draw along the form (phrases, repeats) instead of per step
    "phrase_bars": 4,     # bars that share one noise bar (a figure held through a phrase)
    "vary": 0.25,         # share of a bar's steps drawn afresh (variation inside a phrase)
    "repeat_similarity": 0.8,  # melody onset+pitch Jaccard for a bar to repeat an earlier one
    "keys_span": 19,      # rule "register": keys within this many semitones per phrase
    "counter_rest": 0.7,  # rule "counter": attack logit added where the melody rests
    "counter_above": 1.5,  # rule "counter": nats off pitches above the melody's sounding pitch
    "vel_noise": 7.0,     # velocity: SD of the per-note draw (velocity units, shared on the form)
    "vel_contrast": 1.5,  # velocity: the head's accents around its mean, scaled
    "vel_phrase": 4.0,    # rule "dynamics": SD of a phrase's level
    "vel_swell": 6.0,     # rule "dynamics": height of the swell over a phrase
    "cadence_chord": 5.0,  # rule "cadence" (issue 26): nats for I (V) at the end (phrase ends)
}
TINY_CONFIG = {**DEFAULT_CONFIG, "channels": 16, "dilations": [1, 2], "chord_dim": 16,
               "chord_layers": 1, "chord_dilations": [1, 2], "critic_channels": 8,
               "z_shared": 4, "z_bar": 2,
               "z_track": 2, "window": 64, "batch": 4, "chord_updates": 1, "chord_batch": 4}


# ---------------------------------------------------------------- features


def fold(pitch, lo: int, hi: int):
    """Move pitches (array or int) by octaves into ``[lo, hi]``."""
    p = np.asarray(pitch)
    p = np.where(p < lo, p + 12 * ((lo - p + 11) // 12), p)
    return np.where(p > hi, p - 12 * ((p - hi + 11) // 12), p)


def melody_rows(notes, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The melody per step, as training and sampling both read it: the highest sounding
    pitch ``[steps]`` (int64, -1 rest) and onsets ``[steps]`` (bool), from notes
    ``(pitch, start_step, dur_steps)`` (notes past ``steps`` are cut)."""
    row = np.full(steps, -1, dtype=np.int64)
    onset = np.zeros(steps, dtype=bool)
    for pitch, a, d in sorted(notes, key=lambda n: n[0]):  # higher pitches written last
        if a < steps:
            row[a:a + d] = pitch
            onset[a] = True
    return row, onset


def melody_features(sounding: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """Melody per step -> ``[N_MEL, T]``. ``sounding`` ``[T]``: the highest melody pitch
    sounding at each step (-1 rest); ``onset`` ``[T]`` bool: a melody note starts there."""
    T = len(sounding)
    out = np.zeros((N_MEL, T), dtype=np.float32)
    on = sounding >= 0
    lo, hi = RANGES["melody"]
    t = np.nonzero(on)[0]
    out[fold(sounding[t], lo, hi) - lo, t] = 1
    out[P["melody"] + sounding[t] % 12, t] = 1
    out[-2] = onset
    out[-1] = ~on
    return out


def meter_features(beat_in_bar: np.ndarray, beats_per_bar) -> np.ndarray:
    """``[N_METER, T]`` from beats since the bar line at each step (float, ``[T]``) and the
    beats per bar (a number, or one per step ``[T]`` where the meter changes)."""
    T = len(beat_in_bar)
    out = np.zeros((N_METER, T), dtype=np.float32)
    beat = np.floor(beat_in_bar + 1e-6).astype(int)
    out[np.minimum(beat, 5), np.arange(T)] = 1
    sixteenth = np.round((beat_in_bar - beat) * STEPS_PER_BEAT).astype(int) % STEPS_PER_BEAT
    out[6 + sixteenth, np.arange(T)] = 1
    phase = 2 * math.pi * beat_in_bar / np.maximum(beats_per_bar, 1)
    out[10], out[11] = np.sin(phase), np.cos(phase)
    out[12] = np.round(beats_per_bar) == 3
    return out


_CLASS_PCS = class_pitch_classes()
CHROMA = np.zeros((N_CLASSES, 12), dtype=np.float32)
for _c, _pcs in enumerate(_CLASS_PCS):
    CHROMA[_c, list(_pcs)] = 1


def chord_features(classes: np.ndarray, bass: np.ndarray) -> np.ndarray:
    """``[N_CHORD, T]`` from chord class ``[T]`` (0 = N) and bass pitch class ``[T]`` (-1)."""
    T = len(classes)
    out = np.zeros((N_CHORD, T), dtype=np.float32)
    out[:12] = CHROMA[classes].T
    has = classes > 0
    t = np.nonzero(has)[0]
    out[12 + (classes[t] - 1) // Q, t] = 1
    b = np.where(bass >= 0, bass, (classes - 1) // Q)
    out[24 + b[t] % 12, t] = 1
    out[36] = ~has
    change = np.ones(T, dtype=bool)
    change[1:] = (classes[1:] != classes[:-1]) | (bass[1:] != bass[:-1])
    out[37] = change
    return out


def bar_numbers(in_bar: np.ndarray) -> np.ndarray:
    """The bar of each step ``[T]`` from the beats since the bar line ``in_bar [T]`` (a bar
    line where it is 0): 0 = the first full bar, -1 before it (a pickup)."""
    return np.cumsum(np.asarray(in_bar) < 1e-6) - 1


def phrase_rows(in_bar: np.ndarray, mel: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """``[N_PHRASE, T]``: ``representations.phrase_position`` on the band's bars
    (``bar_numbers``) and the melody rows (``melody_rows``: pitch ``[T]``, onsets ``[T]``),
    the same at training (the whole song, then windows) and generation (the whole piece)."""
    return phrase_position(bar_numbers(in_bar), mel, onset)


def n_phrase(cfg: dict) -> int:
    """Phrase-position channels the networks read: ``N_PHRASE``, or 0 (weights of before)."""
    return N_PHRASE if cfg.get("phrase_features") else 0


def chord_input(cond: torch.Tensor) -> torch.Tensor:
    """The chord head's input from ``cond [B, N_COND + n_phrase, T]``: melody + meter, then
    the phrase channels (last)."""
    return torch.cat([cond[:, :N_MEL + N_METER], cond[:, N_COND:]], 1)


def transpose_classes(classes: np.ndarray, k: int) -> np.ndarray:
    """Chord classes moved by ``k`` semitones (N stays N)."""
    root, q = np.divmod(np.maximum(classes.astype(np.int64) - 1, 0), Q)
    return np.where(classes > 0, 1 + ((root + k) % 12) * Q + q, 0)


def duration_class(steps: np.ndarray) -> np.ndarray:
    """Durations in steps -> index of the nearest ``DURS`` entry (in log time)."""
    d = np.log(np.maximum(np.asarray(steps, dtype=np.float64), 1))[..., None]
    return np.abs(d - np.log(np.array(DURS))).argmin(-1)


# ---------------------------------------------------------------- networks


class ChordHead(nn.Module):
    """Melody + meter (+ phrase position) per beat -> chord class logits per beat.

    ``[B, N_MEL + N_METER + n_phrase, T]`` (steps) -> pooled to beats ``[B, D, T/4]`` -> residual
    dilated convs over beats (``chord_dilations``: the bar and its neighbours, +-16 beats
    for 1, 2, 4, 8, 1) -> transformer layers over all beats (key, phrase) ->
    ``[B, T/4, N_CLASSES]``.
    """

    def __init__(self, cfg: dict):
        super().__init__()
        d = cfg["chord_dim"]
        # channel-major per beat: the phrase channels' 4 steps come last
        self.inp = nn.Conv1d((N_MEL + N_METER + n_phrase(cfg)) * STEPS_PER_BEAT, d, 1)
        self.local = nn.ModuleList(nn.Sequential(nn.GELU(), nn.Conv1d(d, d, 3, padding=r,
                                                                      dilation=r))
                                   for r in cfg["chord_dilations"])
        layer = nn.TransformerEncoderLayer(d, 4, 2 * d, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.attn = nn.TransformerEncoder(layer, cfg["chord_layers"], enable_nested_tensor=False)
        self.out = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, N_CLASSES))

    def forward(self, x):
        B, C, T = x.shape  # T a multiple of 4
        beats = x.reshape(B, C, T // 4, 4).permute(0, 1, 3, 2).reshape(B, C * 4, T // 4)
        h = self.inp(beats)
        for conv in self.local:
            h = h + conv(h)  # [B, D, beats]
        return self.out(self.attn(h.transpose(1, 2)))  # [B, beats, N_CLASSES]


class ChannelNorm(nn.LayerNorm):
    """LayerNorm over channels at each step of ``[B, C, T]``: unlike a norm over time, a
    step's output does not depend on how long the piece is (so chunks stitch exactly)."""

    def forward(self, x):
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


class Block(nn.Module):
    """Residual dilated conv over steps: ``[B, C, T] -> [B, C, T]``."""

    def __init__(self, c: int, dilation: int):
        super().__init__()
        self.conv1 = nn.Conv1d(c, c, 3, padding=dilation, dilation=dilation)
        self.conv2 = nn.Conv1d(c, c, 1)
        self.norm = ChannelNorm(c)

    def forward(self, x):
        return x + self.conv2(F.gelu(self.conv1(F.gelu(self.norm(x)))))


def head_size(track: str) -> int:
    """Outputs per step of one track: attack, pitches, duration classes, velocity."""
    return 1 + P[track] + len(DURS) + 1


class Generator(nn.Module):
    """(cond ``[B, N_COND + n_phrase, T]``, latents) -> per track ``[B, head_size, T]``.

    MuseGAN's hybrid latents: ``z_shared [B, zs]`` (piece, all tracks), ``z_bar
    [B, zb, T]`` (per bar, already spread over the bar's steps), ``z_track [B, 3, zt]``.
    The chord head lives here too so that one module holds the whole generator.
    """

    def __init__(self, cfg: dict):
        super().__init__()
        c, zs, zb, zt = cfg["channels"], cfg["z_shared"], cfg["z_bar"], cfg["z_track"]
        self.zs, self.zb, self.zt = zs, zb, zt
        self.chords = ChordHead(cfg)
        self.inp = nn.Conv1d(N_COND + zs + zb + n_phrase(cfg), c, 3, padding=1)
        self.blocks = nn.Sequential(*[Block(c, d) for d in cfg["dilations"]])
        self.heads = nn.ModuleList(nn.Sequential(
            nn.Conv1d(c + zt, c, 3, padding=1), nn.GELU(), nn.Conv1d(c, head_size(t), 1))
            for t in TRACKS)

    def forward(self, cond, z_shared, z_bar, z_track):
        T = cond.shape[-1]
        zs = z_shared[:, :, None].expand(-1, -1, T)
        x = torch.cat([cond[:, :N_COND], zs, z_bar, cond[:, N_COND:]], 1)  # phrase last
        h = self.blocks(self.inp(x))  # [B, C, T]
        return [head(torch.cat([h, z_track[:, i, :, None].expand(-1, -1, T)], 1))
                for i, head in enumerate(self.heads)]  # 3 x [B, head_size, T]


def split_head(out: torch.Tensor, track: str):
    """``[B, head_size, T]`` -> attack ``[B, T]``, pitch ``[B, P, T]``, duration ``[B, 8, T]``,
    velocity ``[B, T]`` (logits; velocity in 0..1 after sigmoid)."""
    p = P[track]
    return out[:, 0], out[:, 1:1 + p], out[:, 1 + p:1 + p + len(DURS)], out[:, -1]


class Critic(nn.Module):
    """(cond, attack rolls of the three tracks ``[B, sum P, T]``) -> one score per window
    (the phrase channels of ``cond`` last)."""

    def __init__(self, cfg: dict):
        super().__init__()
        c = cfg["critic_channels"]
        self.net = nn.Sequential(
            nn.Conv1d(N_COND + sum(P[t] for t in TRACKS) + n_phrase(cfg), c, 3, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv1d(c, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),            # 8ths
            nn.Conv1d(c, 2 * c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),        # beats
            nn.Conv1d(2 * c, 2 * c, 3, padding=2, dilation=2), nn.LeakyReLU(0.2),
            nn.Conv1d(2 * c, 2 * c, 4, stride=4), nn.LeakyReLU(0.2),               # bars
        )
        self.out = nn.Linear(2 * c, 1)

    def forward(self, cond, rolls):
        x = torch.cat([cond[:, :N_COND], rolls, cond[:, N_COND:]], 1)
        return self.out(self.net(x).mean(-1)).squeeze(-1)  # [B]


# ---------------------------------------------------------------- inference


def viterbi(logp: np.ndarray, costs: np.ndarray):
    """Best chord path ``[beats]`` through per-beat scores ``[beats, K]`` (log-probabilities,
    nats); a change of chord on beat ``i`` costs ``costs[i]`` nats (``inf``: none there)."""
    n, K = logp.shape
    score = logp[0].copy()
    back = np.zeros((n, K), dtype=np.int64)
    for i in range(1, n):
        cost = costs[i]
        best = int(score.argmax())
        stay = score
        move = score[best] - cost
        back[i] = np.where(stay >= move, np.arange(K), best)
        score = np.maximum(stay, move) + logp[i]
    path = np.empty(n, dtype=np.int64)
    path[-1] = int(score.argmax())
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


def check_request(req: BandRequest) -> None:
    """Refuse requests the model cannot arrange, with one-line messages."""
    if not (0 < req.length_beats <= 100_000):
        raise DeepcomposeError(f"length_beats must be in (0, 100000], got {req.length_beats}")
    if not (1 <= req.beats_per_bar <= 12):
        raise DeepcomposeError(f"beats_per_bar must be in [1, 12], got {req.beats_per_bar}")
    if not (0 <= req.first_bar_beat < req.beats_per_bar):
        raise DeepcomposeError("first_bar_beat must be in [0, beats_per_bar)")
    if req.temperature < 0:
        raise DeepcomposeError(f"temperature must be >= 0, got {req.temperature}")
    for beat, num, den in req.meter_changes:
        if not (0 < beat < math.inf and 1 <= num * 4 / den <= 12):
            raise DeepcomposeError(f"meter change {num}/{den} at beat {beat}: need a beat > 0 "
                                   "and 1 to 12 beats per bar")
