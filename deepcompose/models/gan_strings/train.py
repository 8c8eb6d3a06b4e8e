"""Training of the string quartet GAN on the OpenScore String Quartets (networks in ``net``).

One update = one generator pass over ``batch`` windows of ``window`` 16th steps, each
starting on a bar line of a random training movement and transposed by a random shift of
-5..+6 semitones among those that keep every part inside its range (all 12 keys where the
music allows; where no shift fits, the window keeps its key and a note outside its part's
range is folded by octaves):

- critic: WGAN-GP (Gulrajani et al. 2017) on the attack rolls of violin II, viola and
  cello, real vs the generator's *sampled* rolls (Bernoulli attacks, Gumbel-max pitches,
  straight-through gradients), conditioned on violin I, its dynamics and the meter;
- generator: the supervised likelihood of the composer's own parts (attack BCE, pitch
  CE, duration CE, velocity MSE) + ``adv`` x the critic's loss, as the pop band (a real
  arrangement exists for every melody; the likelihood teaches register, harmony and
  rhythm in CPU minutes, the critic how the sampled parts fit together).

The latents follow the window's melodic form as in generation (``gan_pop.form``): a bar
that repeats an earlier bar's melody reads that bar's latent, a phrase the earlier phrase's.
"""

from __future__ import annotations

import numpy as np
import torch

from ...metrics.strings import cello_lowest
from ...metrics.training import roll_notes
from ...representations.phrase_position import phrase_position, transpose_phrase
from ..common.parts import collate, module_tensors, parts_losses, real_rolls, sampled_rolls
from ..common.samples import drawn_rolls, unwrap
from ..common.schedules import current_lr
from ..common.wgan import wgan_setup, wgan_update
from ..gan_pop.form import melody_form
from ..gan_pop.net import DURS, duration_class, fold, melody_rows
from .harmony import harmony_losses
from .net import (  # noqa: F401  (DEFAULT_CONFIG, TINY_CONFIG: the training API)
    DEFAULT_CONFIG,
    LOW_LINE,
    N_GAPS,
    RANGES,
    TINY_CONFIG,
    TRACKS,
    Critic,
    Generator,
    P,
    bar_numbers,
    conditioning,
    gap_class,
    latent_index,
    split_head,
)
from .sample import cello_bass

STEPS_PER_BEAT = 4
FLOOR = 0.05  # both learning rates fall on a cosine to this share over decay_steps
SHIFTS = np.arange(-5, 7)


def line_notes(arr: np.ndarray, low: bool) -> np.ndarray:
    """One part ``[n, 4]`` (pitch, start_beat, end_beat, velocity) -> a single line ``[m, 4]``
    (pitch, start_step, dur_steps, velocity) int64: per onset step the highest note (the
    lowest for ``low``), the longest duration of that onset."""
    if not len(arr):
        return np.zeros((0, 4), dtype=np.int64)
    a = np.round(arr[:, 1] * STEPS_PER_BEAT).astype(np.int64)
    d = np.maximum(np.round(arr[:, 2] * STEPS_PER_BEAT).astype(np.int64) - a, 1)
    order = np.lexsort((arr[:, 0] if low else -arr[:, 0], a))
    first = np.ones(len(order), dtype=bool)
    first[1:] = a[order][1:] != a[order][:-1]
    keep = order[first]
    dmax = np.maximum.reduceat(d[order], np.nonzero(first)[0])
    return np.column_stack([arr[keep, 0].astype(np.int64), a[keep], dmax,
                            arr[keep, 3].astype(np.int64)])


def bass_line(notes: dict, T: int) -> np.ndarray:
    """The cello's training line as the bass (issue 26, ``bass_targets``): the real cello
    (``line_notes`` rows) with ``sample.cello_bass`` applied, the decoding rule's own
    function, so that the network learns to hold the bass through the cello's rests while
    the others play and to stay under them, and needs the rule less."""
    def spans(arr):
        rows = [(int(p), int(a), int(a + d), int(v)) for p, a, d, v in arr]
        return [(p, a, min(b, rows[i + 1][1]) if i + 1 < len(rows) else b, v)
                for i, (p, a, b, v) in enumerate(rows)]

    held = cello_bass(spans(notes["cello"]), [spans(notes["violin2"]), spans(notes["viola"])],
                      T)
    if not held:
        return notes["cello"]
    return np.array([(p, a, b - a, v) for p, a, b, v in held], dtype=np.int64)


class MovementArrays:
    """One movement per 16th step (padded to at least ``min_steps``; bars of the last meter
    continue through the padding)."""

    def __init__(self, mv, min_steps: int, bass_targets: bool = False):
        T = max(int(np.ceil(mv.length * STEPS_PER_BEAT - 1e-6)), min_steps)
        self.T = T
        v1 = line_notes(mv.parts["violin1"], low=False)
        self.mel, self.onset = melody_rows(v1[:, :3].tolist(), T)
        self.mel_vel = np.zeros(T, dtype=np.float32)
        for _, a, d, v in v1[np.argsort(v1[:, 0], kind="stable")]:
            self.mel_vel[a:a + d] = v / 127
        beats = np.arange(T) / STEPS_PER_BEAT
        ts = mv.time_signatures
        which = np.searchsorted([t[0] for t in ts], beats + 1e-6, side="right") - 1
        which = np.maximum(which, 0)
        self.bpb = np.array([n * 4 / d for _, n, d in ts], dtype=np.float32)[which]
        self.compound = np.array([d == 8 and n % 3 == 0 and n > 3 for _, n, d in ts])[which]
        lines = [float(b) for b in mv.bar_lines]
        last = lines[-1] if lines else 0.0
        step = float(self.bpb[-1])
        while last + step < T / STEPS_PER_BEAT:  # keep counting bars in the padding
            last += step
            lines.append(last)
        self.bar_lines = np.array(lines)
        idx = np.searchsorted(self.bar_lines, beats + 1e-6, side="right") - 1
        self.in_bar = (beats - self.bar_lines[np.maximum(idx, 0)]).astype(np.float32)
        self.bar_start = np.zeros(T, dtype=bool)
        starts = np.round(self.bar_lines * STEPS_PER_BEAT).astype(np.int64)
        self.bar_start[starts[starts < T]] = True
        if mv.pickup > 0:  # the pickup counts back from the first full bar line
            self.bar_start[0] = False
            first = round(mv.pickup * STEPS_PER_BEAT)
            self.in_bar[:first] += self.bpb[0] - mv.pickup
        self.starts = starts[starts < T]  # windows start on bar lines
        self.end = max(int(np.ceil(mv.length * STEPS_PER_BEAT - 1e-6)), 1)  # the last step + 1
        # issue 26: where each step stands in the movement's form, over the whole movement
        self.position = phrase_position(bar_numbers(self.bar_start), self.mel, self.onset)
        self.notes = {t: line_notes(mv.parts[t], LOW_LINE[t]) for t in TRACKS}
        if bass_targets:
            self.notes["cello"] = bass_line(self.notes, T)


def shift_for(song: MovementArrays, s: int, W: int, rng) -> int:
    """A random transposition in ``SHIFTS`` keeping every part's notes of window
    ``[s, s + W)`` inside its range (0 when none does)."""
    ok = np.ones(len(SHIFTS), dtype=bool)
    for t in TRACKS:
        notes = song.notes[t]
        lo_i, hi_i = np.searchsorted(notes[:, 1], [s, s + W])
        if hi_i > lo_i:
            p = notes[lo_i:hi_i, 0]
            lo, hi = RANGES[t]
            ok &= (p.min() + SHIFTS >= lo) & (p.max() + SHIFTS <= hi)
    return int(rng.choice(SHIFTS[ok])) if ok.any() else 0


def render(song: MovementArrays, s: int, W: int, k: int, cfg: dict) -> dict:
    """Window ``[s, s + W)`` moved by ``k`` semitones -> inputs and targets (numpy):
    ``cond [N_COND, W]``, latent indices ``bar_z``/``phrase_z [W]``, and per part
    ``attack [W]``, ``pitch [W]`` (index in the part's range, -100 without attack),
    ``dur [W]`` (class), ``vel [W]`` (0..1); ``<part>_gap [W]``: at each attack the class of
    the gap to the part's next attack (``net.gap_class``; the note after the window counts)."""
    mel = song.mel[s:s + W]
    mel = np.where(mel >= 0, mel + k, -1)
    onset, bar_start = song.onset[s:s + W], song.bar_start[s:s + W]
    in_bar = song.in_bar[s:s + W]
    cond = conditioning(mel, onset, song.mel_vel[s:s + W], in_bar, song.bpb[s:s + W],
                        bar_start, song.compound[s:s + W])
    if cfg.get("phrase_features", True):
        cond = np.concatenate([cond, transpose_phrase(song.position[:, s:s + W], k)])
    bar_z, phrase_z = latent_index(melody_form(mel, onset, in_bar, int(cfg["phrase_bars"]),
                                               float(cfg["repeat_similarity"])))
    out = {"cond": cond, "bar_z": bar_z, "phrase_z": phrase_z, "mel": mel}
    for track in TRACKS:
        notes = song.notes[track]
        lo_i, hi_i = np.searchsorted(notes[:, 1], [s, s + W])
        part = notes[lo_i:hi_i]
        lo, hi = RANGES[track]
        t = part[:, 1] - s
        attack = np.zeros(W, dtype=np.float32)
        attack[t] = 1
        pitch = np.full(W, -100, dtype=np.int64)
        pitch[t] = fold(part[:, 0] + k, lo, hi) - lo
        dur = np.zeros(W, dtype=np.int64)
        dur[t] = duration_class(part[:, 2])
        vel = np.zeros(W, dtype=np.float32)
        vel[t] = part[:, 3] / 127
        out[track] = (attack, pitch, dur, vel)
        gaps = np.full(W, N_GAPS - 1, dtype=np.int64)
        after = notes[hi_i, 1] - s if hi_i < len(notes) else W + N_GAPS  # none: the end
        gaps[t] = gap_class(t, after)
        out[f"{track}_gap"] = gaps
    return out


def latents(cfg: dict, batch: dict, gen: torch.Generator | None = None, zero: bool = False):
    """``(z_shared [B, zs], z_time [B, zp + zb, T], z_track [B, 3, zt])`` for a batch: the
    phrase and bar latents read by each step's ``phrase_z`` / ``bar_z`` index."""
    bar_z, phrase_z = batch["bar_z"], batch["phrase_z"]
    B = bar_z.shape[0]

    def draw(*shape):
        return torch.zeros(shape) if zero else torch.randn(*shape, generator=gen)

    def spread(z, idx):  # z [B, C, N], idx [B, T] -> [B, C, T]
        return torch.gather(z, 2, idx[:, None, :].expand(-1, z.shape[1], -1))

    zp = spread(draw(B, cfg["z_phrase"], int(phrase_z.max()) + 1), phrase_z)
    zb = spread(draw(B, cfg["z_bar"], int(bar_z.max()) + 1), bar_z)
    return draw(B, cfg["z_shared"]), torch.cat([zp, zb], 1), draw(B, len(TRACKS), cfg["z_track"])


def heads(outs, G: Generator | None = None, batch: dict | None = None) -> dict:
    """Part -> its head ``(attack, pitch, dur, vel)`` logits; with the generator ``G`` and
    the ``batch``, the durations read the gaps to the real next attacks (``gap_durations``)."""
    out = {t: split_head(o, t) for t, o in zip(TRACKS, outs, strict=True)}
    if G is None or unwrap(G).gap_bias is None:
        return out
    return {t: (a, p, unwrap(G).gap_durations(d, batch[f"{t}_gap"], t), v)
            for t, (a, p, d, v) in out.items()}


class QuartetTrainer:
    """WGAN-GP + supervised likelihood on random transposed windows of the quartets."""

    def __init__(self, cfg: dict, train, valid):
        self.cfg = cfg
        W = cfg["window"]
        self.modules, self.optimizers, self.schedulers = wgan_setup(
            cfg, Generator(cfg), Critic(cfg), FLOOR)
        bass = bool(cfg.get("bass_targets", False))
        self.train = [MovementArrays(m, W, bass) for m in train]
        self.valid = [MovementArrays(m, W) for m in valid]  # the composers' own parts
        weights = np.array([len(s.starts) for s in self.train], dtype=np.float64)
        self.p_train = weights / weights.sum()  # movements drawn by their number of bars
        self.valid_batch = self._batch(self.valid, np.random.default_rng(0), 64,
                                       transpose=False)

    def _batch(self, songs, rng, size, transpose=True, p=None, end_share=0.0):
        """``size`` windows: from a bar line, or (``end_share`` of them, issue 26) ending
        where the movement ends, so that final cadences are learned."""
        W = self.cfg["window"]
        items = []
        n_end = int(round(end_share * size))
        for j, i in enumerate(rng.choice(len(songs), size, p=p)):
            song = songs[i]
            if j < n_end:
                s = max(0, min(song.end, song.T) - W)
            else:
                s = int(rng.choice(song.starts[song.starts <= song.T - W]))
            k = shift_for(song, s, W, rng) if transpose else 0
            items.append(render(song, s, W, k, self.cfg))
        return collate(items, ("cond", "bar_z", "phrase_z", "mel",
                               *(f"{t}_gap" for t in TRACKS)), TRACKS)

    def train_step(self, rng) -> dict:
        G, D = self.modules["generator"], self.modules["critic"]
        cfg = self.cfg
        lr = current_lr(self.optimizers["generator"])
        batch = self._batch(self.train, rng, cfg["batch"], p=self.p_train,
                            end_share=float(cfg.get("end_share", 0.0)))
        cond = batch["cond"]
        outs = G(cond, *latents(cfg, batch))
        real = real_rolls(batch, {t: P[t] for t in TRACKS}, {})
        hs = heads(outs, G, batch)
        fake = sampled_rolls(hs, {})

        sup = sum(parts_losses(hs, batch, {}).values())
        extra = harmony_losses(hs, batch)
        sup = sup + float(cfg.get("harmony_loss", 0.0)) * extra["harmony"]
        adversarial = wgan_update(lambda x: D(cond, x), real, fake, sup, self.optimizers, cfg)
        for scheduler in self.schedulers.values():
            scheduler.step()
        return {"lr": lr, "sup": float(sup.detach()),
                **{k: float(v.detach()) for k, v in extra.items()}, **adversarial}

    @torch.no_grad()
    def validate(self) -> dict:
        G = self.modules["generator"]
        G.eval()
        batch = self.valid_batch
        outs = G(batch["cond"], *latents(self.cfg, batch, zero=True))
        G.train()
        hs = heads(outs, G, batch)
        out = {k: float(v) for k, v in parts_losses(hs, batch, {}).items()}
        out["sup"] = sum(out.values())
        out.update({k: float(v) for k, v in harmony_losses(hs, batch).items()})
        for track, o in zip(TRACKS, outs, strict=True):
            attack, pitch, _, _ = split_head(o, track)
            t_att, t_pitch = batch[track][:2]
            on = t_att > 0
            out[f"{track}_rate"] = float(torch.sigmoid(attack).mean())
            out[f"{track}_rate_real"] = float(t_att.mean())
            out[f"{track}_pitch_acc"] = float((pitch.argmax(1)[on] == t_pitch[on]).float().mean())
        return out

    @torch.no_grad()
    def sample_rolls(self, rng, n: int, real: bool = False) -> np.ndarray:
        """The sample hook (``deepcompose.train``): violin II, viola and cello ``[n, 3,
        window, 128]`` sampled under validation windows from a bar line (violin I, dynamics,
        meter; random latents; Bernoulli attacks, drawn pitches, the likeliest duration), or
        the real parts of transposed training windows (``real``)."""
        batch = self._batch(self.train if real else self.valid, rng, n, transpose=real,
                            p=self.p_train if real else None)
        hs = None
        if not real:
            G = unwrap(self.modules["generator"])
            G.eval()
            hs = heads(G(batch["cond"], *latents(self.cfg, batch)))
            G.train()
        return drawn_rolls(batch, hs, TRACKS, RANGES, DURS, {})

    @staticmethod
    def family_metrics(rolls, real: bool = False) -> dict:
        """``cello_lowest`` (``metrics.strings``) against violin II and viola, mean over
        the rolls (violin I, the condition, is not in them)."""
        vals = [cello_lowest(roll_notes(r[2]), [roll_notes(r[0]), roll_notes(r[1])])
                for r in rolls]
        vals = [v for v in vals if v == v]
        return {"cello_lowest": float(np.mean(vals)) if vals else float("nan")}

    def export(self):
        tensors = module_tensors(self.modules)
        n = sum(p.numel() for p in self.modules["generator"].parameters())
        return tensors, {"generator_params": n, "durations_steps": list(DURS),
                         "ranges": RANGES}


# ---------------------------------------------------------------- training hooks (train.py)


def load_split(data: str, split: str):
    """The movements of ``split`` (``deepcompose.data.quartets``)."""
    from ...data.quartets import load_split as load

    return load(data, split)


def augment_train(pieces):
    """Identity: each training window is transposed when it is drawn (``shift_for``: every
    shift of -5..+6 semitones that keeps the parts in range)."""
    return pieces


def make_trainer(config: dict, train, valid):
    return QuartetTrainer(config, train, valid)
