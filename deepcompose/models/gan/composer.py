"""MuseGAN-style conditional multi-track GAN: alto, tenor and bass under a melody.

Dong et al. (AAAI 2018) generate several tracks from a shared latent plus one
latent per track (the "hybrid" model) and train against one critic that sees
all tracks together. Here the generator is conditioned on the melody (row 0 of
a voice grid) and writes three monophonic voices; the critic sees melody and
voices; training is WGAN-GP (Gulrajani et al. 2017, lambda = 10) plus a
supervised cross-entropy term towards Bach's own parts, as in pix2pix
(Isola et al. 2017).

Time unit: the model works on *frames* of one 8th note (2 grid steps of a
16th), so no generated note is shorter than half a beat. A window holds
``window`` frames; its first ``k`` frames may be known parts (the previous
window's output), which is how windows stitch into a piece of any length.

Per frame the inputs are (channels):
- melody: one-hot over the ``V`` classes (pitch in ``PITCH_RANGE``, or rest), averaged over the
  frame's two 16th steps                                               [V]
- meter: on-beat, downbeat, sin/cos of the position in the bar          [4]
- known parts (one-hot per voice, zero where unknown) and a known flag  [3V + 1]
- phrase position (``representations.phrase_position``, per frame from the meter's bar
  lines and the melody: bars to the phrase end and to the melody's end, the last-note
  flag, the last note's pitch class), appended last to the generator's and the critic's
  first layer                                                          [N_PHRASE]

Files: ``net.py`` (features, generator, critic), ``train.py`` (the trainer),
this one (chord decoding and the composer).
"""

from __future__ import annotations

import numpy as np
import torch

from ...decoding import parallel, perturb
from ...errors import DeepcomposeError
from ...representations.voices import REST, Meter
from ..common.composer import Composer, single_thread
from ..common.gan_player import GanPlayer
from .cadence import CADENCE_NATS, fits, phrase_ends
from .net import (
    DEFAULT_CONFIG,
    HIGH,
    LOW,
    PARTS,
    REST_IX,
    STEPS_PER_FRAME,
    Critic,
    Generator,
    V,
    from_index,
    known_input,
    piece_frames,
    window_onehot,
)

# ---------------------------------------------------------------- inference


def parallel_perfect(prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """Whether moving from chord ``prev`` ``[N]`` to each chord ``cur`` ``[K, N]`` (MIDI pitches,
    REST = -1) makes parallel fifths or octaves between two voices -> ``[K]``
    (``decoding.parallel``, the rule of ``voice_leading``)."""
    bad = parallel(prev[None, :, None], cur[:, :, None], prev[None, None, :], cur[:, None, :])
    return np.triu(bad, 1).any((1, 2))  # [K, N, N] (pairs of two voices) -> [K]


def decode_frames(logits, prev, mel_before, mel_at, temperature, gen, k: int = 4,
                  voice_leading: bool = True, chords: dict | None = None):
    """Choose one (alto, tenor, bass) chord per frame from ``logits`` ``[PARTS, t, V]``.

    The candidates are the product of each voice's ``k`` likeliest pitches; a chord's
    score is the sum of its log-probabilities, drawn from with ``decoding.perturb``
    (temperature 0 takes the best chord). With ``voice_leading``, chords making
    parallel fifths or octaves with the previous frame (melody included) are
    dropped unless every candidate does. ``prev`` ``[PARTS]``: indices of the
    frame before; melody pitches ``[t]`` in MIDI. ``chords``: frame -> the cadence chords
    allowed there (``cadence.phrase_ends``): candidates that are none of them are dropped
    unless every candidate is none. Returns indices ``[PARTS, t]``.
    """
    top, cand = logits.log_softmax(-1).topk(k, -1)  # [PARTS, t, k]
    combos = torch.cartesian_prod(*[torch.arange(k)] * PARTS)  # [K, PARTS]
    voice = torch.arange(PARTS)
    ix = cand[voice, :, combos].permute(2, 0, 1).numpy()  # [t, K, PARTS] vocabulary indices
    score = perturb(top[voice, :, combos].sum(1).T, temperature, gen).numpy()  # [t, K]
    pitches = from_index(ix).astype(np.int64)  # [t, K, PARTS]
    mel_before, mel_at = mel_before.numpy(), mel_at.numpy()
    last = from_index(prev.numpy()).astype(np.int64)
    out = np.empty((logits.shape[1], PARTS), dtype=np.int64)
    for j in range(len(out)):
        bad = ~np.isfinite(score[j])
        if chords and j in chords:
            ok = fits(pitches[j], chords[j])
            bad |= ~ok if ok.any() else False
        if voice_leading:
            chord = np.concatenate([np.full((len(combos), 1), mel_at[j]), pitches[j]], 1)
            bad |= parallel_perfect(np.concatenate([[mel_before[j]], last]), chord)
        s = np.where(bad, -np.inf, score[j]) if not bad.all() else score[j]
        best = int(np.argmax(s))
        out[j], last = ix[j, best], pitches[j, best]
    return torch.from_numpy(out.T.copy())


class GanComposer(GanPlayer, Composer):
    """Accompaniment for a melody of any length and meter, window by window."""

    generator_class, critic_class, default_config = Generator, Critic, DEFAULT_CONFIG

    @classmethod
    def from_weights(cls, tensors: dict, meta: dict):
        """As ``GanPlayer.from_weights``; a config without ``phrase`` is a pre-issue-26
        weights file (no phrase-position inputs), which still plays."""
        meta = {**meta, "config": {"phrase": False, **meta["config"]}}
        return super().from_weights(tensors, meta)

    def generate(self, task, grid, known, meter, seed, temperature=1.0,
                 voice_leading: bool = True, **controls):
        """Alto, tenor and bass under ``grid[0]`` ``[4, steps]``; known cells come back unchanged.

        Windows of ``window`` frames advance by ``window - context - lookahead``
        frames; each starts with up to ``context`` frames already written (the
        previous window's output) and writes the next ones while seeing
        ``lookahead`` frames of melody beyond them. Per 8th frame one chord is
        chosen by ``decode_frames``: the best at ``temperature == 0`` (latents
        zero); otherwise the latents are drawn from ``seed`` (the GAN's own
        randomness) and the chord is sampled at ``sample_scale * temperature``
        (0.5 x by default: sampling each frame at the full temperature breaks the
        voices into 8th notes). No voice goes above the melody,
        and no voice rests where the melody sounds. ``voice_leading`` (default True):
        no chord moves in parallel fifths or octaves with the frame before, melody
        included, unless every candidate does (``decoding.parallel``). The meter's bar
        lines (``meter.offset``: the pickup) place the beat and bar features of every
        frame. Controls: ``chunk``, at most this many frames per generator pass; ``rules``
        (default True), the phrase-end rule of ``cadence.py`` (a root-position I or V7
        under the melody's last note of every 8th bar where that note belongs to one;
        False: the network alone).
        """
        with single_thread(), torch.no_grad():
            return self._generate(task, grid, known, meter, seed, temperature,
                                  bool(voice_leading), **controls)

    def _generate(self, task, grid, known, meter, seed, temperature, voice_leading, **controls):
        if task != "accompany":
            raise DeepcomposeError(f"model 'gan' cannot do task {task!r}; it does 'accompany'")
        grid = np.asarray(grid, dtype=np.int16)
        cfg, W = self.cfg, self.cfg["window"]
        steps = grid.shape[1]
        phrase = bool(cfg.get("phrase"))
        cond, _, pad_front = piece_frames(grid, meter)
        n = cond.shape[1]  # frames to write
        cond, _, _ = piece_frames(grid, meter, n + W, phrase)  # padded: every window is full
        cond = torch.from_numpy(cond)
        cap, sounding, mel_at, mel_before = self._melody_frames(grid[0], pad_front, n)
        nats = CADENCE_NATS if controls.get("rules", True) else 0.0
        cadence = phrase_ends(grid[0], meter, pad_front, n, nats)
        bonus = torch.from_numpy(cadence.bonus).permute(1, 0, 2)  # [PARTS, n, V]
        gen = torch.Generator().manual_seed(int(seed))
        parts = torch.full((1, PARTS, n + W), REST_IX, dtype=torch.long)
        zs = torch.randn(1, cfg["z_shared"], generator=gen)  # one per piece, as in MuseGAN
        zt = torch.randn(1, PARTS, cfg["z_track"], generator=gen)
        if temperature <= 0:
            zs, zt = zs * 0, zt * 0
        chunk = int(controls.get("chunk", cfg["chunk"]))
        pos = 0
        while pos < n:
            s = max(0, pos - cfg["context"])
            end = min(n if s + W >= n else s + W - cfg["lookahead"], pos + chunk)
            n_known = torch.tensor([pos - s])
            logits = self.generator(cond[None, :, s:s + W], known_input(parts[:, :, s:s + W],
                                    n_known), zs, zt)[0, :, pos - s:end - s]  # [PARTS, t, V]
            logits = logits + bonus[:, pos:end]  # the rule: cadence chords at phrase ends
            logits = self._mask(logits, cap[pos:end], sounding[pos:end])
            prev = parts[0, :, pos - 1] if pos > 0 else torch.full((PARTS,), REST_IX)
            choice = decode_frames(logits, prev, mel_before[pos:end], mel_at[pos:end],
                                   temperature * cfg["sample_scale"], gen,
                                   voice_leading=voice_leading,
                                   chords={f - pos: c for f, c in cadence.chords.items()
                                           if pos <= f < end})
            parts[0, :, pos:end] = choice
            pos = end
        rows = from_index(parts[0, :, :n].numpy()).repeat(STEPS_PER_FRAME, axis=1)
        out = grid.copy()
        out[1:] = rows[:, pad_front:pad_front + steps]
        known = np.asarray(known, dtype=bool)
        out[known] = grid[known]
        out[0] = grid[0]
        return out

    @staticmethod
    def _melody_frames(melody: np.ndarray, pad_front: int, n: int):
        """Per frame ``[n]``: the highest pitch index a part may take (the melody's lowest
        pitch in the frame, carried over rests), whether the melody sounds, and the melody
        pitch at the frame's first step and just before it (MIDI, REST = -1)."""
        row = np.full(n * STEPS_PER_FRAME, REST, dtype=np.int16)
        row[pad_front:pad_front + len(melody)] = melody
        frames = row.reshape(n, STEPS_PER_FRAME)
        sounding = (frames != REST).any(1)
        low = np.where(frames == REST, 10_000, frames).min(1)
        cap = np.full(n, HIGH, dtype=np.int64)
        if sounding.any():
            last = low[sounding][0]
            for f in range(n):
                last = low[f] if sounding[f] else last
                cap[f] = min(last, HIGH)
        cap = np.clip(cap, LOW, HIGH) - LOW
        before = np.concatenate([[REST], row[STEPS_PER_FRAME - 1:-1:STEPS_PER_FRAME]])
        return (torch.from_numpy(cap), torch.from_numpy(sounding),
                torch.from_numpy(frames[:, 0].astype(np.int64)),
                torch.from_numpy(before.astype(np.int64)))

    @staticmethod
    def _mask(logits, cap, sounding):
        """Forbid pitches above ``cap`` and rests where the melody sounds. ``logits [P, t, V]``."""
        ix = torch.arange(V)
        banned = (ix[None, :] > cap[:, None]) & (ix[None, :] != REST_IX)  # [t, V]
        banned = banned | ((ix[None, :] == REST_IX) & sounding[:, None])
        return logits.masked_fill(banned[None], float("-inf"))

    def score(self, grid: np.ndarray, meter: Meter) -> float:
        with single_thread(), torch.no_grad():
            return self._score(grid, meter)

    def _score(self, grid: np.ndarray, meter: Meter) -> float:
        """The critic's mean score over consecutive windows (higher = more Bach-like)."""
        W = self.cfg["window"]
        cond, parts, _ = piece_frames(np.asarray(grid, dtype=np.int16), meter)
        n = -(-cond.shape[1] // W) * W
        cond, parts, _ = piece_frames(np.asarray(grid, dtype=np.int16), meter, n,
                                      bool(self.cfg.get("phrase")))
        cond = torch.from_numpy(cond).reshape(-1, n // W, W).transpose(0, 1)  # [N, cond, W]
        parts = torch.from_numpy(parts).reshape(PARTS, n // W, W).transpose(0, 1)
        return float(self.critic(cond, window_onehot(parts)).mean())
