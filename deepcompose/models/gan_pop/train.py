"""Training of the pop band GAN on POP909 (see ``gan_pop`` for the networks).

One update = one generator pass over ``batch`` random windows of ``window`` 16th steps,
each transposed by a random -6..+5 semitones (all 12 keys):

- critic: WGAN-GP (Gulrajani et al. 2017) on the attack rolls of bass, keys and counter,
  real vs the generator's *sampled* rolls (Bernoulli attacks, Gumbel-max / Bernoulli
  pitches, straight-through gradients), conditioned on melody, meter and chords;
- generator: supervised likelihood of POP909's own parts (attack BCE, pitch CE or BCE,
  duration CE, velocity MSE, chord CE for the chord head) + ``adv`` x the critic's loss.

Why the supervised term: the melody of a POP909 window has a real arrangement, and its
likelihood teaches chords, ranges and rhythm in minutes of CPU time, where an adversarial
signal alone takes far longer and collapses easily (pix2pix, Isola et al. 2017, pairs an
L1 term with the GAN loss for the same reason). The critic adds what a per-cell
likelihood cannot see: how the sampled tracks fit together (attacks that line up across
bass and keys, chord sizes, bar-to-bar consistency through the latents).

The generator is conditioned on the annotated chords (teacher forcing); the chord head
learns the same chords from the melody alone, and replaces them at generation time when
no chords are given.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F

from ...metrics.training import roll_notes
from ...representations.phrase_position import transpose_phrase
from ..common.parts import collate, module_tensors, parts_losses, real_rolls, sampled_rolls
from ..common.samples import drawn_rolls, unwrap
from ..common.schedules import current_lr
from ..common.wgan import wgan_setup, wgan_update
from .net import (  # noqa: F401  (DEFAULT_CONFIG, TINY_CONFIG: the training API)
    DEFAULT_CONFIG,
    DURS,
    N_MEL,
    N_METER,
    POLY,
    RANGES,
    TINY_CONFIG,
    TRACKS,
    Critic,
    Generator,
    P,
    chord_features,
    chord_input,
    duration_class,
    fold,
    melody_features,
    melody_rows,
    meter_features,
    n_phrase,
    phrase_rows,
    split_head,
    transpose_classes,
)

STEPS_PER_BEAT = 4
FLOOR = 0.05  # both learning rates fall on a cosine to this share over decay_steps


class SongArrays:
    """One POP909 song as per-step arrays (padded to at least ``min_steps``). ``phrase``:
    the phrase-position features of the whole song ``[N_PHRASE, T]`` (bool; windows are
    cut from it, so a window knows where the song's phrases and melody end); ``end``: the
    step where the bar holding the melody's last note ends (endings are oversampled)."""

    def __init__(self, song, min_steps: int, phrase: bool = True):
        T = max(song.steps, min_steps)
        T = -(-T // STEPS_PER_BEAT) * STEPS_PER_BEAT
        self.T, self.bpb = T, song.beats_per_bar
        mel, self.mel_onset = melody_rows(song.tracks["melody"][:, :3].tolist(), T)
        self.mel = mel.astype(np.int16)
        bib = np.zeros(T // STEPS_PER_BEAT, dtype=np.float32)
        n = min(len(bib), len(song.beat_in_bar))
        bib[:n] = song.beat_in_bar[:n]
        for i in range(n, len(bib)):  # past the annotations: keep counting bars
            bib[i] = (bib[i - 1] + 1) % self.bpb
        self.beat_in_bar = (bib[:, None] + np.arange(4) / 4).reshape(-1)  # [T] in beats
        self.chords = np.zeros(T, dtype=np.int64)
        self.chords[:song.steps] = song.chord_steps
        self.bass_pc = np.full(T, -1, dtype=np.int64)
        self.bass_pc[:song.steps] = song.bass_steps
        self.notes = {t: song.tracks[t] for t in TRACKS}
        self.phrase = (phrase_rows(self.beat_in_bar, mel, self.mel_onset).astype(bool)
                       if phrase else None)
        self.end = T
        sounding = np.nonzero(mel >= 0)[0]
        if len(sounding):
            lines = np.nonzero(self.beat_in_bar < 1e-6)[0]
            after = lines[lines > sounding[-1]]
            self.end = int(after[0]) if len(after) else T

    def window_start(self, rng, W: int, end_share: float) -> int:
        """A random window start (on a beat); with probability ``end_share`` the window ends
        where the bar of the melody's last note ends (as near as the song's length allows)."""
        last = (self.T - W) // STEPS_PER_BEAT
        if end_share and rng.random() < end_share:
            return int(np.clip(self.end - W, 0, last * STEPS_PER_BEAT)) // STEPS_PER_BEAT \
                * STEPS_PER_BEAT
        return int(rng.integers(0, last + 1)) * STEPS_PER_BEAT


def phrase_window(song: SongArrays, s: int, W: int, k: int) -> list:
    """The song's phrase features for window ``[s, s + W)`` moved by ``k`` semitones (the
    last note's pitch class rolls with the melody), as a list of ``[N_PHRASE, W]`` rows
    (empty for a model without them)."""
    if song.phrase is None:
        return []
    return [transpose_phrase(song.phrase[:, s:s + W], k)]


def render(song: SongArrays, s: int, W: int, k: int) -> dict:
    """Window ``[s, s + W)`` of ``song`` moved by ``k`` semitones -> numpy inputs and targets.

    ``cond [N_COND, W]``; ``chord [W // 4]`` class per beat; per track ``attack [W]``,
    ``pitch`` (``[W]`` index, -100 where no attack; keys ``[P, W]`` multi-hot),
    ``dur [W]``, ``vel [W]`` (0..1).
    """
    mel = song.mel[s:s + W].astype(np.int64)
    mel = np.where(mel >= 0, mel + k, -1)
    classes = transpose_classes(song.chords[s:s + W], k)
    bass = song.bass_pc[s:s + W]
    bass = np.where(bass >= 0, (bass + k) % 12, -1)
    cond = np.concatenate([melody_features(mel, song.mel_onset[s:s + W]),
                           meter_features(song.beat_in_bar[s:s + W], song.bpb),
                           chord_features(classes, bass), *phrase_window(song, s, W, k)])
    out = {"cond": cond, "chord": classes[::STEPS_PER_BEAT].copy(), "beat_in_bar":
           song.beat_in_bar[s:s + W]}
    for track in TRACKS:
        notes = song.notes[track]
        lo_i, hi_i = np.searchsorted(notes[:, 1], [s, s + W])
        part = notes[lo_i:hi_i]
        lo, hi = RANGES[track]
        pitch = fold(part[:, 0] + k, lo, hi) - lo
        t = part[:, 1] - s
        attack = np.zeros(W, dtype=np.float32)
        attack[t] = 1
        dur = np.zeros(W, dtype=np.int64)
        vel = np.zeros(W, dtype=np.float32)
        if track == "keys":
            target = np.zeros((P[track], W), dtype=np.float32)
            target[pitch, t] = 1
        else:  # one line: the lowest bass note / the highest counter note of a step wins
            order = np.argsort(-pitch if track == "bass" else pitch, kind="stable")
            target = np.full(W, -100, dtype=np.int64)
            target[t[order]] = pitch[order]
        order = np.argsort(part[:, 2], kind="stable")  # the longest note of a step sets it
        dur[t[order]] = duration_class(part[order, 2])
        vel[t[order]] = part[order, 3] / 127
        out[track] = (attack, target, dur, vel)
    return out


def bar_latents(beat_in_bar: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Spread per-bar latents ``z [B, zb, bars]`` over steps -> ``[B, zb, T]``.
    ``beat_in_bar [B, T]``: a new bar starts where it is 0."""
    bar = torch.cumsum((beat_in_bar == 0).long(), 1).clamp(max=z.shape[2] - 1)  # [B, T]
    return torch.gather(z, 2, bar[:, None, :].expand(-1, z.shape[1], -1))


def latents(cfg: dict, batch: dict, gen: torch.Generator | None = None, zero: bool = False):
    B, T = batch["beat_in_bar"].shape
    bars = T // (2 * STEPS_PER_BEAT) + 2

    def draw(*shape):
        return torch.zeros(shape) if zero else torch.randn(*shape, generator=gen)

    zs = draw(B, cfg["z_shared"])
    zb = bar_latents(batch["beat_in_bar"], draw(B, cfg["z_bar"], bars))
    return zs, zb, draw(B, len(TRACKS), cfg["z_track"])


def heads(outs) -> dict:
    """Track -> its head ``(attack, pitch, dur, vel)`` logits."""
    return {t: split_head(out, t) for t, out in zip(TRACKS, outs, strict=True)}


def supervised(outs, batch, chord_logits) -> dict:
    """Per-term losses (nats or squared error), each averaged over its own cells."""
    losses = {"chord": F.cross_entropy(chord_logits.transpose(1, 2), batch["chord"])}
    return {**losses, **parts_losses(heads(outs), batch, POLY)}


class PopTrainer:
    """WGAN-GP + supervised likelihood on random transposed windows of POP909."""

    def __init__(self, cfg: dict, train, valid):
        self.cfg = cfg
        W = cfg["window"]
        self.modules, self.optimizers, self.schedulers = wgan_setup(
            cfg, Generator(cfg), Critic(cfg), FLOOR)
        ph = bool(n_phrase(cfg))
        self.train = [SongArrays(s, W, ph) for s in train]  # windows of W steps fit in every song
        self.bonus_songs = list(train)[::5][:150]  # for fit_quality_bonus at export
        self.valid = [SongArrays(s, W, ph) for s in valid]
        vrng = np.random.default_rng(0)  # validation windows as before issue 26 (no endings)
        self.valid_batch = self._batch(self.valid, vrng, 64, transpose=False, end_share=0.0)

    def _batch(self, songs, rng, size, transpose=True, end_share=None):
        W = self.cfg["window"]
        end_share = self.cfg.get("end_share", 0.0) if end_share is None else end_share
        items = []
        for i in rng.integers(0, len(songs), size):
            song = songs[i]
            s = song.window_start(rng, W, end_share)
            k = int(rng.integers(-6, 6)) if transpose else 0
            items.append(render(song, s, W, k))
        return collate(items, ("cond", "chord", "beat_in_bar"), TRACKS)

    def _chord_batch(self, rng, size):
        """Melody + meter (+ phrase position) ``[B, N_MEL + N_METER + n_phrase, W]`` and chord
        classes per beat ``[B, W / 4]`` of random transposed windows (endings oversampled as
        in ``_batch``): extra updates of the chord head alone (cheap: no 16th-step trunk, no
        critic)."""
        W = self.cfg["window"]
        mms, chords = [], []
        for i in rng.integers(0, len(self.train), size):
            song = self.train[i]
            s = song.window_start(rng, W, self.cfg.get("end_share", 0.0))
            k = int(rng.integers(-6, 6))
            mel = song.mel[s:s + W].astype(np.int64)
            mel = np.where(mel >= 0, mel + k, -1)
            mms.append(np.concatenate([melody_features(mel, song.mel_onset[s:s + W]),
                                       meter_features(song.beat_in_bar[s:s + W], song.bpb),
                                       *phrase_window(song, s, W, k)]))
            chords.append(transpose_classes(song.chords[s:s + W:STEPS_PER_BEAT], k))
        return torch.from_numpy(np.stack(mms)), torch.from_numpy(np.stack(chords))

    def _forward(self, G, batch, zero=False):
        cond = batch["cond"]
        chord_logits = G.chords(chord_input(cond))  # melody + meter + phrase, no chords
        outs = G(cond, *latents(self.cfg, batch, zero=zero))
        return outs, chord_logits

    def train_step(self, rng) -> dict:
        G, D = self.modules["generator"], self.modules["critic"]
        cfg = self.cfg
        lr = current_lr(self.optimizers["generator"])
        batch = self._batch(self.train, rng, cfg["batch"])
        cond = batch["cond"]
        outs, chord_logits = self._forward(G, batch)
        real = real_rolls(batch, {t: P[t] for t in TRACKS}, POLY)
        fake = sampled_rolls(heads(outs), POLY)

        # the critic on real vs sampled rolls, then supervised likelihood + adversarial term
        losses = supervised(outs, batch, chord_logits)
        sup = sum(losses.values())
        adversarial = wgan_update(lambda x: D(cond, x), real, fake, sup, self.optimizers, cfg)
        chord_extra = []
        for _ in range(cfg["chord_updates"]):
            mm, target = self._chord_batch(rng, cfg["chord_batch"])
            loss_c = F.cross_entropy(G.chords(mm).transpose(1, 2), target)
            self.optimizers["generator"].zero_grad()
            loss_c.backward()
            self.optimizers["generator"].step()
            chord_extra.append(float(loss_c.detach()))
        if chord_extra:
            losses["chord"] = torch.tensor(np.mean(chord_extra))
        for scheduler in self.schedulers.values():
            scheduler.step()
        return {"lr": lr, "sup": float(sup.detach()),
                "chord": float(losses["chord"].detach()), **adversarial}

    @torch.no_grad()
    def validate(self) -> dict:
        G = self.modules["generator"]
        G.eval()
        batch = self.valid_batch
        outs, chord_logits = self._forward(G, batch, zero=True)
        G.train()
        losses = supervised(outs, batch, chord_logits)
        out = {k: float(v) for k, v in losses.items()}
        out["sup"] = sum(out.values())
        out["chord_acc"] = float((chord_logits.argmax(-1) == batch["chord"]).float().mean())
        for track, o in zip(TRACKS, outs, strict=True):
            attack = split_head(o, track)[0]
            out[f"{track}_rate"] = float(torch.sigmoid(attack).mean())
            out[f"{track}_rate_real"] = float(batch[track][0].mean())
        return out

    @torch.no_grad()
    def sample_rolls(self, rng, n: int, real: bool = False) -> np.ndarray:
        """The sample hook (``deepcompose.train``): bass, keys and counter ``[n, 3, window,
        128]`` sampled under validation windows (melody, meter, annotated chords; random
        latents; Bernoulli attacks, drawn pitches, the likeliest duration), or the real
        parts of transposed training windows (``real``). Keeps the windows' chords for
        ``family_metrics``."""
        batch = self._batch(self.train if real else self.valid, rng, n, transpose=real)
        hs = None
        if not real:
            G = unwrap(self.modules["generator"])
            G.eval()
            hs = heads(self._forward(G, batch)[0])
            G.train()
        self.drawn_chords = batch["chord"].numpy()  # [n, window / 4] class per beat
        return drawn_rolls(batch, hs, TRACKS, RANGES, DURS, POLY)

    def family_metrics(self, rolls, real: bool = False) -> dict:
        """``chord_fit`` (``metrics.band``): the parts' note time on the tones of the
        windows' annotated chords, pooled over the rolls."""
        return {"chord_fit": window_chord_fit(rolls, self.drawn_chords)}

    def export(self):
        G = self.modules["generator"]
        G.eval()
        band = SimpleNamespace(cfg=self.cfg, generator=getattr(G, "module", G))
        self.cfg["quality_bonus"] = fit_quality_bonus(band, self.bonus_songs)
        G.train()
        tensors = module_tensors(self.modules)
        n = sum(p.numel() for p in self.modules["generator"].parameters())
        return tensors, {"generator_params": n, "durations_steps": list(DURS),
                         "ranges": RANGES}


def window_chord_fit(rolls, chords) -> float:
    """``metrics.band.chord_fit`` pooled over windows: rolls ``[n, tracks, steps, 128]``,
    ``chords [n, beats]`` chord classes per beat (0: none)."""
    from ...chords import class_label
    from ...metrics.band import chord_fit_counts

    good = total = 0
    for roll, row in zip(rolls, chords, strict=True):
        labels = [(b, b + 1, class_label(int(c))) for b, c in enumerate(row) if c > 0]
        g, t = chord_fit_counts([n for track in roll for n in roll_notes(track)], labels)
        good, total = good + g, total + t
    return good / total if total else math.nan


@torch.no_grad()
def fit_quality_bonus(band, songs, bars: int = 16, iterations: int = 16,
                      step: float = 0.25) -> list[float]:
    """Nats to add per chord quality (``VOCAB_QUALITIES`` order) in the chord decoding so that
    the qualities of the decoded paths occur as often as in the songs' annotations.

    The chord head's single likeliest path is almost only major and minor (rarer qualities
    never win a beat although the head gives them probability): a label-frequency
    correction. For ``iterations`` rounds, decode the first ``bars`` bars of each POP909
    song (from its first melody bar; ``PopSong``) and move each quality's bonus by ``step``
    x log(annotated share / decoded share); the round with the smallest total difference
    of shares wins. Deterministic."""
    from ...chords import chord_class
    from ...representations.multitrack import BandRequest
    from .sample import chord_path, chord_posterior, piece_rows

    Q = len(band.cfg["quality_bonus"]) if band.cfg.get("quality_bonus") else 15
    data, target = [], np.zeros(Q)
    for song in songs:
        w = song.window(bars)
        if w is None or not w[0]:
            continue
        melody, _, chords, length = w
        bpb = song.beats_per_bar
        req = BandRequest(melody, length, bpb, 0.0, (bpb, 4))
        mel, onset, in_bar, bpb_row = piece_rows(req)
        probs = chord_posterior(band, mel, onset, meter_features(in_bar, bpb_row), in_bar)
        data.append((mel, in_bar, bpb_row, probs))
        for a, b, label in chords:
            c = chord_class(label)
            if c:
                target[(c - 1) % Q] += b - a
    target /= max(target.sum(), 1e-9)
    bonus, best = np.zeros(Q), (math.inf, [0.0] * Q)
    for _ in range(iterations):
        band.cfg["quality_bonus"] = bonus.tolist()
        got = np.zeros(Q)
        for mel, in_bar, bpb_row, probs in data:
            path = chord_path(band, probs, in_bar, bpb_row, mel)
            np.add.at(got, (path[path > 0] - 1) % Q, 1)
        got /= max(got.sum(), 1e-9)
        err = float(np.abs(got - target).sum())
        if err < best[0]:
            best = (err, [round(float(b), 3) for b in bonus])
        bonus = bonus + step * np.log((target + 1e-3) / (got + 1e-3))
        bonus -= bonus[0]
    return best[1]


# ---------------------------------------------------------------- training hooks (train.py)


def load_split(data: str, split: str):
    """POP909 songs of ``split`` (see ``deepcompose.data.pop909``)."""
    from ...data.pop909 import load_split as load

    return load(data, split)


def augment_train(pieces):
    """Identity: the trainer transposes each window on the fly (all 12 keys)."""
    return pieces


def make_trainer(config: dict, train, valid):
    return PopTrainer(config, train, valid)
