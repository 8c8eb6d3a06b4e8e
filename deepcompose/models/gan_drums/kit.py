"""Playing the drum GAN: ``DrumKit`` writes a Groove feel over any length, meter and pickup.

The networks are in ``net``; the phrase plan (``plan_units``: groove bars and fills over
the song's bars) and meter segments (``bar_segments``) are here.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch

from ...errors import DeepcomposeError
from ...representations.bars import iter_bars
from ...representations.drums import CLASSES, STEPS_PER_BEAT, decode
from ..common.composer import single_thread
from ..common.weights import load_family, one_line
from .net import (
    ALIASES,
    DEFAULT_CONFIG,
    DEFAULT_STYLE,
    Generator,
    T,
)
from .song_features import fingerprint, melody_steps, phrase_plan, song_conditions


def unclip(deciles: np.ndarray, ceiling: float | None) -> np.ndarray:
    """Groove's velocity deciles (0..1) with their clipped top spread out again.

    Groove was played on a Roland TD-11 whose velocities stop at 127: half of the pop
    drummer's snare hits are 125-127 (86% of his backbeats >= 120), so the decile map sent
    every snare above the generator's median to 125-127 and a bar of accents came out flat
    at the ceiling. The deciles from the last one under ``ceiling`` to the top are
    replaced by an even ramp from it to the top: the generator's order of accents among
    its loudest hits is kept, now as 111-127 instead of 125-127 for the pop snare.
    ``ceiling`` None: the deciles as measured (the ablation)."""
    d = np.asarray(deciles, float)
    if ceiling is None:
        return d
    high = np.nonzero(d >= ceiling)[0]
    if len(high) < 2:
        return d
    k = max(int(high[0]) - 1, 0)
    out = d.copy()
    out[k:] = np.linspace(d[k], d[-1], len(d) - k)
    return out


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

    Under a song (``play(..., melody=, tempo=)``) the random stream is seeded by the seed
    and the song's conditions (``song_draws``): two songs at one seed are two takes, one
    song at one seed is always the same part.

    Velocities go through ``velocity_map`` when the weights carry one (see
    ``train.DrumTrainer.velocity_quantiles``); set it to None for the raw ones.
    """

    hold = 0.8
    song_draws = True  # a song's draws are seeded by the seed and the song (see render)
    groove_temperature = 1.0  # divides the groove bars' logits (fills: 1); see the card
    ceiling = 119 / 127  # Groove deciles at or above this are clipped: see ``unclip``
    velocity_map = None  # (generated deciles, data deciles) [S, C, 11]; see load()

    def __init__(self, generator: Generator, cfg: dict, styles: tuple[str, ...],
                 default_style: str):
        self.generator = generator.eval()
        self.cfg = cfg
        self.styles = tuple(styles)
        self.default_style = default_style

    @classmethod
    def load(cls, weights_dir=None) -> DrumKit:
        """The kit from ``weights_dir`` (default: the shipped weights)."""
        return load_family("gan_drums", weights_dir)

    @classmethod
    def from_weights(cls, tensors: dict, meta: dict) -> DrumKit:
        """Build the kit from its safetensors ``tensors`` and JSON ``meta`` (feels, default
        feel, velocity map)."""
        try:
            styles = tuple(str(s) for s in meta["styles"])
            cfg = {**DEFAULT_CONFIG, "cond": 0, **meta["config"]}  # no "cond": unconditioned
            gen = Generator(cfg, len(styles))
            gen.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("gen.")})
            kit = cls(gen, cfg, styles, meta.get("default_style", DEFAULT_STYLE))
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
             temperature: float = 1.0, phrase_bars: int = 4, meter_changes=(),
             melody=None, tempo: float | None = None) -> list[tuple[int, float, float, int]]:
        """GM drum notes (pitch, start_beat, end_beat, velocity) over [0, length_beats): bars
        aligned to first_bar_beat (a pickup of a beat or more gets the end of a fill as a
        lead-in, a shorter one silence), then to ``meter_changes`` ``(beat, num, den)`` (as
        in ``Song.time_signatures``; each starts a bar), a fill in the last bar of each
        phrase and at the end. Deterministic for a seed. Runs on one torch thread.

        The song: ``melody`` notes ``(pitch, start_beat, ...)`` on the same beats and
        ``tempo`` (bpm) give the conditions of ``song_features`` (the energy of each
        phrase, the melody's density and syncopation, the tempo) and put the phrase ends
        (fills) where the melody breathes (``song_features.phrase_plan``). Without them the
        conditions are the median and the phrases ``phrase_bars`` long.
        """
        return self.render(self.plan(length_beats, beats_per_bar, first_bar_beat,
                                     time_signature, style, phrase_bars, meter_changes,
                                     melody, tempo), seed, temperature)

    def plan(self, length_beats: float, beats_per_bar: float, first_bar_beat: float,
             time_signature: tuple[int, int], style: str, phrase_bars: int = 4,
             meter_changes=(), melody=None, tempo: float | None = None) -> dict:
        """What ``play`` plays before any draw: the units (``plan_units``), each bar's
        fill flag and song conditions (``[bars, K]``), the style. ``bar_fills`` in it lists
        the fill flag of every bar from the first bar line (for benchmarks)."""
        s_ix = self.style_index(style)
        if not all(math.isfinite(float(x)) for x in (length_beats, beats_per_bar,
                                                     first_bar_beat)) \
                or beats_per_bar * STEPS_PER_BEAT < 0.5 or int(phrase_bars) < 1:
            raise DeepcomposeError("drums need a finite length and bar start, a bar of at "
                                   "least a 16th and phrase_bars >= 1")
        bar = int(round(beats_per_bar * STEPS_PER_BEAT))
        total = int(math.ceil(round(length_beats * STEPS_PER_BEAT, 6)))
        changes = [(int(round(b * STEPS_PER_BEAT)), int(round(n * 4 / d * STEPS_PER_BEAT)),
                    (int(n), int(d))) for b, n, d in sorted(meter_changes)]
        if any(c[1] < 1 for c in changes):
            raise DeepcomposeError("drums need bars of at least a 16th")
        first = int(round(first_bar_beat * STEPS_PER_BEAT))
        bars = song_bars(total, bar, first, tuple(time_signature), changes)
        onsets = melody_steps(melody or [])
        ends = [len(bars) - 2] if len(bars) > 1 and bars[-1][1] * 2 < bars[-1][2] else []
        fills = phrase_plan([b[:3] for b in bars], onsets, int(phrase_bars), ends)
        cond = song_conditions([b[:3] for b in bars], fills, melody, tempo, int(phrase_bars))
        units = plan_units(total, bar, first, tuple(time_signature), phrase_bars, changes,
                           fills=fills) if total > 0 else []
        if not self.cfg.get("cond"):
            cond = cond[:, :0]
        return {"units": units, "bar_fills": fills, "cond": cond, "style": s_ix,
                "length_beats": float(length_beats), "heard": bool(len(onsets))}

    def render(self, plan: dict, seed: int = 0, temperature: float = 1.0):
        """The notes of a ``plan`` at ``seed``."""
        units, s_ix = plan["units"], plan["style"]
        if not units:
            return []
        key = int(seed) % (2**63)
        if plan["heard"] and self.song_draws:
            key = (key * 1_000_003 + fingerprint(plan["cond"], plan["bar_fills"])) % (2**63)
        with single_thread(), torch.no_grad():
            rolls = self._sample(units, s_ix, key, max(float(temperature), 1e-3), plan["cond"])
        notes = []
        for (start, length, _m, _f, keep_from, _b), (h, v, o) in zip(units, rolls, strict=True):
            v = self._calibrate(v, s_ix)
            h = h[keep_from:length]
            notes += decode(h, v[keep_from:length], o[keep_from:length],
                            start_beat=(start + keep_from) / STEPS_PER_BEAT)
        return [n for n in notes if n[1] < plan["length_beats"]]

    def _calibrate(self, vel: np.ndarray, s_ix: int) -> np.ndarray:
        """Velocities ``[T, C]`` through the monotone decile map of ``velocity_map``
        (generator deciles -> Groove deciles, per style and class); unchanged without one."""
        if self.velocity_map is None:
            return vel
        src, dst = self.velocity_map
        out = np.empty_like(vel)
        for c in range(vel.shape[1]):
            x = src[s_ix, c] + np.arange(src.shape[2]) * 1e-6  # strictly increasing
            out[:, c] = np.interp(vel[:, c], x, unclip(dst[s_ix, c], self.ceiling))
        return out

    def _sample(self, units, s_ix: int, seed: int, temperature: float, cond=None):
        """Rolls ``(hits, velocity, offset)`` ``[T, C]`` numpy per unit, one forward pass;
        ``cond`` ``[bars, K]`` the song conditions per bar (a unit takes its bar's; the
        lead-in those of the first bar)."""
        P = self.cfg["phrase_bars"]
        n = len(units)
        W = -(-n // P)
        g = torch.Generator().manual_seed(int(seed) % (2**63))
        fill = torch.zeros(W * P)
        meter = torch.zeros(W * P, dtype=torch.long)
        K = int(self.cfg.get("cond", 0))
        song = torch.zeros(W * P, K)
        for i, (_, _, m, f, _, b) in enumerate(units):
            fill[i], meter[i] = float(f), m
            if K and cond is not None and len(cond):
                song[i] = torch.from_numpy(np.asarray(cond[min(max(b, 0), len(cond) - 1)]))
        fill, meter, song = fill.view(W, P), meter.view(W, P), song.view(W, P, K)
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
            logits, vel, off = self.generator(z_s, z_b, style, fill, meter, song)
            tau = temperature * torch.where(fill > 0, 1.0, self.groove_temperature)[..., None,
                                                                                      None]
            new = (u < torch.sigmoid(logits / (1.0 if det else tau))).float()
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
        for i, (_, length, _, _, keep_from, _) in enumerate(units):
            if keep_from == 0 and hits[i, :length].sum() == 0:  # last resort: its likeliest hit
                t, c = np.unravel_index(np.argmax(l_all[i, :length]), (length, CLASSES))
                hits[i, t, c] = 1.0
        return [(hits[i], v_all[i], o_all[i]) for i in range(n)]

    @staticmethod
    def _silent(hits, units) -> torch.Tensor:
        flat = hits.reshape(-1, T, CLASSES)
        return torch.tensor([keep == 0 and bool(flat[i, :length].sum() == 0)
                             for i, (_, length, _, _, keep, _) in enumerate(units)])


def song_bars(total: int, bar: int, first: int, time_signature: tuple[int, int], changes=()
              ) -> list[tuple[int, int, int, tuple[int, int]]]:
    """The song's bars over steps ``[0, total)`` from its first bar line: ``(start_step,
    length, full_bar_steps, time_signature)``; bar lines at ``first + k * bar``, then from
    each of ``changes`` ``(start_step, bar_steps, (num, den))`` on in its meter."""
    first %= bar
    stretches = [(first, bar, tuple(time_signature))] + [c for c in changes if c[0] > first]
    return [(s, min(n, total - s), b, ts)
            for s, n, b, ts in itertools.takewhile(lambda unit: unit[0] < total,
                                                   iter_bars(stretches))]


def plan_units(total: int, bar: int, first: int, time_signature: tuple[int, int],
               phrase_bars: int, changes=(), fills=None
               ) -> list[tuple[int, int, int, bool, int, int]]:
    """The model bars that cover steps ``[0, total)``: ``(start_step, length, meter, fill,
    keep_from, bar)``; a unit plays its steps ``keep_from..length`` at ``start_step +
    keep_from``, ``bar`` is the song bar it plays (-1: the pickup).

    Bar lines as in ``song_bars``. A pickup (steps before the first bar line) of a beat or
    more is the end of a 4/4 fill bar; a shorter one is silent. ``fills`` gives each bar's
    fill flag (``song_features.phrase_plan``); without it bar ``i`` (from the first full
    bar) is a fill when ``(i + 1) % phrase_bars == 0`` and at the end (a last bar shorter
    than half a bar passes the fill to the bar before).
    """
    first %= bar
    units = []
    if first >= STEPS_PER_BEAT:
        lead = min(first, T)
        units.append((first - T, T, 0, True, T - lead, -1))
    bars = song_bars(total, bar, first, time_signature, changes)
    if fills is None:
        fills = [(i + 1) % phrase_bars == 0 for i in range(len(bars))]
        if fills:
            fills[-1] = True
            if len(fills) > 1 and bars[-1][1] * 2 < bars[-1][2]:
                fills[-2] = True
    for k, ((s, n, b, ts), f) in enumerate(zip(bars, fills, strict=True)):
        segs = bar_segments(b, ts)
        at = s
        for j, (m, seg) in enumerate(segs):
            if at >= s + n:
                break
            units.append((at, min(seg, s + n - at), m, bool(f) and j == len(segs) - 1, 0, k))
            at += seg
    return units
