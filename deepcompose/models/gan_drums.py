"""The drum part of the band GAN: a conditional WGAN-GP over 4-bar phrases of drum rolls.

Data: the Groove MIDI Dataset (``data/groove.py``), rolls of nine drum classes on a 16th
grid with velocity and microtiming (``representations/drums.py``).

Generator (MuseGAN's "hybrid" latents, Dong et al. 2018): one latent ``z_shared`` per
phrase (per song at play time: one groove) plus one ``z_bar`` per bar; each bar is an MLP
of ``[z_shared, z_bar, style embedding, meter one-hot, fill flag]`` that writes, per step
and class, a hit logit, a velocity and a microtiming offset.

Critic: reads each bar (hits, hits*velocity, hits*offset, its fill flag and meter), then
the four bars together; the style enters by projection (Miyato & Koyama 2018). Training
is WGAN-GP (Gulrajani et al. 2017) on *binary* hits: the generator samples Bernoulli hits
with a straight-through gradient (BinaryMuseGAN, Dong & Yang 2018), so the critic never
sees soft probabilities it could tell from real 0/1 rolls.

Supervised term (``fm``): a feature-matching loss that pins, per (style, meter, fill),
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

import itertools
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import DeepcomposeError
from ..representations.drums import CLASSES, STEPS_PER_BEAT, decode
from ..representations.multitrack import iter_bars
from .base import WEIGHTS_DIR, load_tensors, one_line, read_meta, single_thread

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
        d_in = cfg["z_shared"] + cfg["z_bar"] + cfg["style_dim"] + N_METERS + 1
        self.trunk = nn.Sequential(nn.Linear(d_in, H), nn.LeakyReLU(0.2),
                                   nn.Linear(H, H), nn.LeakyReLU(0.2),
                                   nn.Linear(H, H), nn.LeakyReLU(0.2))
        self.head = nn.Linear(H, T * CLASSES * 3)

    def forward(self, z_shared, z_bar, style, fill, meter):
        # z_shared [B, Zs], z_bar [B, P, Zb], style [B] long, fill [B, P] float, meter [B, P] long
        B, P = fill.shape
        cond = torch.cat([self.style(style)[:, None].expand(B, P, -1),  # [B, P, E]
                          F.one_hot(meter, N_METERS).float(),  # [B, P, 3]
                          fill[..., None]], -1)  # [B, P, 1]
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
        self.bar = nn.Sequential(nn.Linear(T * CLASSES * 4 + 1 + N_METERS, H), nn.LeakyReLU(0.2),
                                 nn.Linear(H, H), nn.LeakyReLU(0.2))
        self.phrase = nn.Sequential(nn.Linear(P * H, H), nn.LeakyReLU(0.2))
        self.out = nn.Linear(H, 1)
        self.style = nn.Embedding(n_styles, H)  # projection of the style condition

    def forward(self, x, style, fill, meter):
        B, P = fill.shape
        hits = x[..., 0]  # [B, P, T, C]
        change = (hits[:, 1:] - hits[:, :-1]).abs()  # what differs from the bar before
        change = torch.cat([torch.zeros_like(hits[:, :1]), change], 1)  # [B, P, T, C]
        bars = torch.cat([x.reshape(B, P, -1), change.reshape(B, P, -1), fill[..., None],
                          F.one_hot(meter, N_METERS).float()], -1)  # [B, P, T*C*4 + 4]
        phi = self.phrase(self.bar(bars).reshape(B, -1))  # [B, H]
        return self.out(phi)[:, 0] + (self.style(style) * phi).sum(-1)


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


def bar_segments(steps: int, time_signature: tuple[int, int]) -> list[tuple[int, int]]:
    """A bar of ``steps`` 16ths -> the model bars that play it: ``[(meter, length), ...]``.

    4/4 is one 4/4 bar, 3/4 one 3/4 bar, 6/8 one 6/8 bar. Shorter bars (2/4, 5/8, ...)
    are the start of a 4/4 bar (or a 3/4 one when 12 steps or fewer in a triple meter).
    Longer bars are split: compound meters (den 8, num divisible by 3) into 6/8 units,
    others into 4/4 units with a 3/4 unit where a 4/4 one would leave under 8 steps
    (5/4 = 3/4 + the first half of a 4/4 bar; 7/4 = 4/4 + 3/4).
    """
    num, den = time_signature
    compound = den == 8 and num % 3 == 0 and num > 3
    triple = num % 3 == 0
    out, left = [], steps
    while left > 0:
        if compound and left >= 12:
            out.append((2, 12))
            left -= 12
        elif left == 16 or (left > 16 and left - 16 >= 8):
            out.append((0, 16))
            left -= 16
        elif left > 16 or (left == 12 and triple):
            out.append((1 if not (den == 8 and triple) else 2, 12))
            left -= 12
        else:
            out.append((1 if triple and left <= 12 else 0, left))
            left -= left
    return out


class DrumKit:
    """Plays drums in a Groove style over any length, meter and pickup.

    Sampling: each (step, class) hit is a Bernoulli draw with the generator's probability
    (``temperature`` divides the logits), ``hit = u < p`` for a uniform ``u``. In groove
    bars (not fills) each cell's ``u`` is, with probability ``hold``, one number drawn
    once per song for that (step, class), else a fresh one. Every cell keeps its
    probability ``p`` either way; what ``hold`` adds is correlation between bars: where
    consecutive bars have similar probabilities they tend to play the same hits, as a
    drummer holding a groove does. ``hold = 0`` is independent draws per bar (the
    ablation in the card); the default was chosen on Groove's validation split so that
    bar-to-bar similarity matches the real takes' (``benchmarks/drum_styles.py
    --tune-hold``).

    Velocities go through ``velocity_map`` when the weights carry one (see
    ``gan_drums_train.DrumTrainer.velocity_quantiles``); set it to None for the raw ones.
    """

    hold = 0.8
    velocity_map = None  # (generated deciles, data deciles) [S, C, 11]; see load()

    def __init__(self, generator: Generator, cfg: dict, styles: tuple[str, ...],
                 default_style: str):
        self.generator = generator.eval()
        self.cfg = cfg
        self.styles = tuple(styles)
        self.default_style = default_style

    @classmethod
    def load(cls, weights_dir=WEIGHTS_DIR) -> DrumKit:
        from pathlib import Path

        stem = Path(weights_dir) / "gan_drums"
        if not stem.with_suffix(".safetensors").exists():
            raise DeepcomposeError(f"no shipped drum weights at {stem}.safetensors")
        meta = read_meta(stem.with_suffix(".json"))
        if meta["family"] != "gan_drums":
            raise DeepcomposeError(f"weights {stem}.json are for {meta['family']!r}, "
                                   "not 'gan_drums'")
        tensors = load_tensors(stem.with_suffix(".safetensors"))
        try:
            styles = tuple(str(s) for s in meta["styles"])
            gen = Generator({**DEFAULT_CONFIG, **meta["config"]}, len(styles))
            gen.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("gen.")})
            kit = cls(gen, {**DEFAULT_CONFIG, **meta["config"]}, styles,
                      meta.get("default_style", DEFAULT_STYLE))
            vq = meta.get("velocity_quantiles")
            if vq:
                kit.velocity_map = (np.asarray(vq["generated"], float),
                                    np.asarray(vq["data"], float))
                if kit.velocity_map[0].shape != (len(styles), CLASSES, 11) or \
                        kit.velocity_map[1].shape != kit.velocity_map[0].shape:
                    raise ValueError("velocity_quantiles have the wrong shape")
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise DeepcomposeError("drum weights do not match their config: "
                                   f"{one_line(exc)}") from None
        if kit.default_style not in styles:
            raise DeepcomposeError(f"drum weights name a default style {kit.default_style!r} "
                                   "they do not have")
        return kit

    def style_index(self, style: str) -> int:
        key = ALIASES.get(str(style).strip().lower(), str(style).strip().lower())
        if key not in self.styles:
            raise DeepcomposeError(f"unknown drum style {style!r}; choose one of "
                                   f"{', '.join(self.styles)} (or none)")
        return self.styles.index(key)

    def play(self, length_beats: float, beats_per_bar: float, first_bar_beat: float,
             time_signature: tuple[int, int], style: str, seed: int = 0,
             temperature: float = 1.0, phrase_bars: int = 4, meter_changes=()
             ) -> list[tuple[int, float, float, int]]:
        """GM drum notes (pitch, start_beat, end_beat, velocity) over [0, length_beats): bars
        aligned to first_bar_beat (a pickup of a beat or more gets the end of a fill as a
        lead-in, a shorter one silence), then to ``meter_changes`` ``(beat, num, den)`` (as
        in ``Song.time_signatures``; each starts a bar), a fill in the last bar of each
        phrase and at the end. Deterministic for a seed. Runs on one torch thread."""
        s_ix = self.style_index(style)
        if not all(math.isfinite(float(x)) for x in (length_beats, beats_per_bar,
                                                     first_bar_beat)) \
                or beats_per_bar * STEPS_PER_BEAT < 0.5 or int(phrase_bars) < 1:
            raise DeepcomposeError("drums need a finite length and bar start, a bar of at "
                                   "least a 16th and phrase_bars >= 1")
        bar = int(round(beats_per_bar * STEPS_PER_BEAT))
        total = int(math.ceil(round(length_beats * STEPS_PER_BEAT, 6)))
        if total <= 0:
            return []
        changes = [(int(round(b * STEPS_PER_BEAT)), int(round(n * 4 / d * STEPS_PER_BEAT)),
                    (int(n), int(d))) for b, n, d in sorted(meter_changes)]
        if any(c[1] < 1 for c in changes):
            raise DeepcomposeError("drums need bars of at least a 16th")
        units = plan_units(total, bar, int(round(first_bar_beat * STEPS_PER_BEAT)),
                           tuple(time_signature), phrase_bars, changes)
        with single_thread(), torch.no_grad():
            rolls = self._sample(units, s_ix, seed, max(float(temperature), 1e-3))
        notes = []
        for (start, length, _m, _f, keep_from), (h, v, o) in zip(units, rolls, strict=True):
            v = self._calibrate(v, s_ix)
            h = h[keep_from:length]
            notes += decode(h, v[keep_from:length], o[keep_from:length],
                            start_beat=(start + keep_from) / STEPS_PER_BEAT)
        return [n for n in notes if n[1] < length_beats]

    def _calibrate(self, vel: np.ndarray, s_ix: int) -> np.ndarray:
        """Velocities ``[T, C]`` through the monotone decile map of ``velocity_map``
        (generator deciles -> Groove deciles, per style and class); unchanged without one."""
        if self.velocity_map is None:
            return vel
        src, dst = self.velocity_map
        out = np.empty_like(vel)
        for c in range(vel.shape[1]):
            x = src[s_ix, c] + np.arange(src.shape[2]) * 1e-6  # strictly increasing
            out[:, c] = np.interp(vel[:, c], x, dst[s_ix, c])
        return out

    def _sample(self, units, s_ix: int, seed: int, temperature: float):
        """Rolls ``(hits, velocity, offset)`` ``[T, C]`` numpy per unit, one forward pass."""
        P = self.cfg["phrase_bars"]
        n = len(units)
        W = -(-n // P)
        g = torch.Generator().manual_seed(int(seed) % (2**63))
        fill = torch.zeros(W * P)
        meter = torch.zeros(W * P, dtype=torch.long)
        for i, (_, _, m, f, _) in enumerate(units):
            fill[i], meter[i] = float(f), m
        fill, meter = fill.view(W, P), meter.view(W, P)
        det = self.cfg.get("binarize") == "deterministic"
        z_scale = temperature if det else 1.0  # deterministic hits: temperature scales z
        z_s = z_scale * torch.randn(1, self.cfg["z_shared"], generator=g).expand(W, -1)
        style = torch.full((W,), s_ix, dtype=torch.long)
        hits = None
        groove_u = torch.rand(T, CLASSES, generator=g)  # one draw per song (see ``hold``)
        for attempt in range(8):  # a bar that comes out silent is drawn again (new z_bar)
            z_b = z_scale * torch.randn(W, P, self.cfg["z_bar"], generator=g)
            u = torch.rand(W, P, T, CLASSES, generator=g)
            if det:
                u = torch.full_like(u, 0.5)
            elif attempt == 0:
                keep = (torch.rand(W, P, T, CLASSES, generator=g) < self.hold) & (fill == 0)[
                    ..., None, None]
                u = torch.where(keep, groove_u, u)
            logits, vel, off = self.generator(z_s, z_b, style, fill, meter)
            new = (u < torch.sigmoid(logits / (1.0 if det else temperature))).float()
            if hits is None:
                hits, v_all, o_all, l_all = new, vel, off, logits
            else:
                redo = (hits.sum((2, 3)) == 0)[..., None, None]
                hits = torch.where(redo, new, hits)
                v_all = torch.where(redo, vel, v_all)
                o_all = torch.where(redo, off, o_all)
                l_all = torch.where(redo, logits, l_all)
            if not self._silent(hits, units).any():
                break
        hits = hits.reshape(W * P, T, CLASSES).numpy()
        v_all = v_all.reshape(W * P, T, CLASSES).numpy()
        o_all = o_all.reshape(W * P, T, CLASSES).numpy()
        l_all = l_all.reshape(W * P, T, CLASSES).numpy()
        for i, (_, length, _, _, keep_from) in enumerate(units):
            if keep_from == 0 and hits[i, :length].sum() == 0:  # last resort: its likeliest hit
                t, c = np.unravel_index(np.argmax(l_all[i, :length]), (length, CLASSES))
                hits[i, t, c] = 1.0
        return [(hits[i], v_all[i], o_all[i]) for i in range(n)]

    @staticmethod
    def _silent(hits, units) -> torch.Tensor:
        flat = hits.reshape(-1, T, CLASSES)
        return torch.tensor([keep == 0 and bool(flat[i, :length].sum() == 0)
                             for i, (_, length, _, _, keep) in enumerate(units)])


def plan_units(total: int, bar: int, first: int, time_signature: tuple[int, int],
               phrase_bars: int, changes=()) -> list[tuple[int, int, int, bool, int]]:
    """The model bars that cover steps ``[0, total)``: ``(start_step, length, meter, fill,
    keep_from)``; a unit plays its steps ``keep_from..length`` at ``start_step + keep_from``.

    Bar lines fall at ``first + k * bar``, then from each of ``changes`` ``(start_step,
    bar_steps, (num, den))`` on in its meter (a change cuts the bar before it short). A
    pickup (steps before the first bar line) of a beat or more is the end of a 4/4 fill
    bar; a shorter one is silent. Bar ``i`` (from the first full bar) is a fill when
    ``(i + 1) % phrase_bars == 0`` and at the end (a last bar shorter than half a bar
    passes the fill to the bar before).
    """
    first %= bar
    units = []
    if first >= STEPS_PER_BEAT:
        lead = min(first, T)
        units.append((first - T, T, 0, True, T - lead))
    stretches = [(first, bar, tuple(time_signature))] + [c for c in changes if c[0] > first]
    bars = [(s, min(n, total - s), b, ts)  # (start_step, length, bar_steps, time_signature)
            for s, n, b, ts in itertools.takewhile(lambda unit: unit[0] < total,
                                                   iter_bars(stretches))]
    fills = [(i + 1) % phrase_bars == 0 for i in range(len(bars))]
    if fills:
        fills[-1] = True
        if len(fills) > 1 and bars[-1][1] * 2 < bars[-1][2]:
            fills[-2] = True
    for (s, n, b, ts), f in zip(bars, fills, strict=True):
        segs = bar_segments(b, ts)
        at = s
        for j, (m, seg) in enumerate(segs):
            if at >= s + n:
                break
            units.append((at, min(seg, s + n - at), m, f and j == len(segs) - 1, 0))
            at += seg
    return units
