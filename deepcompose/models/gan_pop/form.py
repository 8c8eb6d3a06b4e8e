"""Form for the band GAN's sampler: bars, phrases and repeats read from the melody, and the
random draws shared along them.

The generator writes, per 16th step, the probabilities of an attack, of pitches, of a
duration and a velocity. Drawing every step independently (as a per-cell sampler does) is
what makes a band noodle: no two bars get the same figure even where the network's
probabilities are the same. MuseGAN's answer is latents shared over time and tracks; here
the *sampling noise* is shared the same way:

- **phrases** of ``phrase_bars`` bars (from the first full bar; a pickup joins the first
  phrase) share one noise bar, so the network's figure is drawn once per phrase and held,
  with a share ``vary`` of the steps drawn afresh in each bar (small variation);
- **repeats**: a bar whose melody is (near-)identical to an earlier bar's (onset+pitch
  Jaccard >= ``repeat_similarity``, same bar length) takes that bar's noise outright, and a
  phrase holding such a bar takes the earlier phrase's figure: where the melody repeats,
  the band repeats (as far as the network's probabilities, which see the context, allow);
- the per-bar latents (``z_bar``) follow the same keys: one per phrase figure.

Everything is drawn from the request's seed in a fixed order, so results stay
deterministic. Units: steps are 16ths; ``pos`` is the step's place in its bar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

MAX_CANDIDATES = 256  # near-identical repeats are looked for among this many earlier bars


@dataclass
class Form:
    """Per step ``[T]``: ``bar`` (0-based bar id; a pickup is bar 0), ``pos`` (16th in the
    bar), ``phrase_key``/``bar_key`` (whose noise the step uses), ``bar_in_phrase`` and
    ``phrase_len`` (bars); per bar: ``source`` (the earlier bar it repeats, or itself) and
    ``phrase`` (its phrase index)."""

    bar: np.ndarray
    pos: np.ndarray
    phrase_key: np.ndarray
    bar_key: np.ndarray
    bar_in_phrase: np.ndarray
    phrase_len: np.ndarray
    source: list
    phrase: list
    width: int  # steps of the longest bar


def bar_ids(in_bar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bar id ``[T]`` (0-based, a new bar at every bar line; a pickup is bar 0) and each
    step's 16th in its bar ``[T]`` from the beats since the bar line ``in_bar [T]``."""
    lines = np.zeros(len(in_bar), dtype=bool)
    lines[1:] = in_bar[1:] < in_bar[:-1]
    bar = np.cumsum(lines)
    pos = np.round(in_bar * 4).astype(np.int64)
    return bar, pos


def melody_form(mel: np.ndarray, onset: np.ndarray, in_bar: np.ndarray, phrase_bars: int,
                repeat_similarity: float = 0.8) -> Form:
    """The form of a piece from its melody rows (``piece_rows``: pitch ``[T]``, onsets
    ``[T]``, beats since the bar line ``[T]``); see the module docstring."""
    bar, pos = bar_ids(in_bar)
    nb = int(bar[-1]) + 1 if len(bar) else 1
    length = np.bincount(bar, minlength=nb)
    events: list[set] = [set() for _ in range(nb)]
    for t in np.nonzero(onset)[0]:
        events[bar[t]].add((int(pos[t]), int(mel[t])))
    source = list(range(nb))
    exact: dict = {}   # (length, events) -> the first bar with them
    firsts: list = []  # bars that repeat no earlier bar (the candidates)
    for j in range(nb):
        b = events[j]
        key = (int(length[j]), frozenset(b))
        if b and key in exact:
            source[j] = exact[key]
            continue
        for i in firsts[-MAX_CANDIDATES:]:
            a = events[i]
            if b and length[i] == length[j] and len(a & b) >= repeat_similarity * len(a | b):
                source[j] = i
                break
        else:
            firsts.append(j)
            if b:
                exact[key] = j
    first_full = 1 if len(in_bar) and in_bar[0] > 1e-6 else 0  # a pickup joins phrase 0
    phrase = [max(0, b - first_full) // max(1, phrase_bars) for b in range(nb)]
    pkey = list(range(phrase[-1] + 1))
    start = {}
    for b in range(nb):  # phrases in order: each takes the figure of the first earlier
        p = phrase[b]    # phrase one of its bars repeats
        start.setdefault(p, b)
        if pkey[p] == p and source[b] != b and phrase[source[b]] < p:
            pkey[p] = pkey[phrase[source[b]]]
    bar_pkey = np.array([pkey[phrase[source[b]]] for b in range(nb)])
    bar_bkey = np.array(source)
    count = np.bincount(phrase)
    in_phrase = np.array([b - start[phrase[b]] for b in range(nb)])
    plen = count[np.array(phrase)]
    return Form(bar, pos, bar_pkey[bar], bar_bkey[bar], in_phrase[bar], plen[bar], source,
                phrase, int(length.max()) if nb else 1)


class NoiseBank:
    """Random draws shared along the form: ``uniform(name, rows)`` and ``normal(name, rows)``
    give ``[rows, T]`` tensors whose step ``t`` reads column ``pos[t]`` of its phrase's noise
    bar, or (on a share ``vary`` of the steps, decided per bar and stream) of its own bar's.

    ``share=False`` draws every step independently (the per-cell sampler, for the ablation).
    Draws come from ``gen`` in the order of the calls, keys in ascending order."""

    def __init__(self, form: Form, gen: torch.Generator, vary: float, share: bool = True):
        self.form, self.gen, self.vary, self.share = form, gen, float(vary), share

    def _draw(self, rows: int, kind: str) -> torch.Tensor:
        f = self.form
        T = len(f.bar)
        make = (torch.rand if kind == "uniform" else torch.randn)
        if not self.share:
            return make(rows, T, generator=self.gen)
        pkeys = np.unique(f.phrase_key)
        bkeys = np.unique(f.bar_key)
        pb = make(len(pkeys), rows, f.width, generator=self.gen)
        bb = make(len(bkeys), rows, f.width, generator=self.gen)
        fresh = torch.rand(len(bkeys), f.width, generator=self.gen) < self.vary
        pi = torch.from_numpy(np.searchsorted(pkeys, f.phrase_key))
        bi = torch.from_numpy(np.searchsorted(bkeys, f.bar_key))
        pos = torch.from_numpy(np.minimum(f.pos, f.width - 1))
        phrase_noise = pb[pi, :, pos].T  # [rows, T]
        bar_noise = bb[bi, :, pos].T
        return torch.where(fresh[bi, pos][None], bar_noise, phrase_noise)

    def uniform(self, rows: int) -> torch.Tensor:
        return self._draw(rows, "uniform")

    def normal(self, rows: int) -> torch.Tensor:
        return self._draw(rows, "normal")

    def gumbel(self, rows: int) -> torch.Tensor:
        u = self.uniform(rows).clamp(1e-9, 1 - 1e-9)
        return -torch.log(-torch.log(u))

    def per_key(self, rows: int) -> torch.Tensor:
        """One normal draw per phrase figure, spread over its steps ``[rows, T]`` (phrase
        dynamics and the per-bar latents)."""
        f = self.form
        pkeys = np.unique(f.phrase_key)
        z = torch.randn(len(pkeys), rows, generator=self.gen)
        if not self.share:  # one draw per bar instead
            z = torch.randn(int(f.bar.max()) + 1, rows, generator=self.gen)
            return z[torch.from_numpy(f.bar)].T
        return z[torch.from_numpy(np.searchsorted(pkeys, f.phrase_key))].T
