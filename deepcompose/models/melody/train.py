"""Training the melody transformer: windows of melody lines, continuation and infill mixed.

Each batch row draws a style (``style_weights``), a piece of that style, a transposition
(``transpose`` semitones either way, kept inside the token range) and a window of whole
bars that fits ``window`` tokens. A share ``fim`` of the windows are fill-in-the-middle
(``BOS STYLE prefix HOLE_n suffix MID middle EOS``, a hole of 1-8 bars), the rest plain
continuation; pop windows carry their chords in a share ``chords`` of rows, so the model
both follows given chords and writes without them. A window that reaches the piece's end
ends with ``EOS``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ...representations.melody_tokens import (
    PITCH_HIGH,
    PITCH_LOW,
    STYLES,
    Vocab,
    bar_tokens,
    fim_tokens,
    head,
    transpose,
)
from ..common.schedules import adamw_cosine, current_lr, optimizer_step
from .net import (  # noqa: F401  (DEFAULT_CONFIG, TINY_CONFIG: the training API)
    DEFAULT_CONFIG,
    TINY_CONFIG,
    MelodyTransformer,
    bar_state,
)
from .scoring import mean_nll_per_note

SAMPLE_BARS = 4  # the sample hook: 4 bars of 4/4 written after 4 bars of a piece
NLL_LINES = 4  # validation lines behind the sample hook's NLL


def pitch_span(line) -> tuple[int, int]:
    pitches = [p for b in line.bars for _, p, _ in b.notes]
    return (min(pitches), max(pitches)) if pitches else (60, 60)


def draw_window(line, rng: np.random.Generator, cfg: dict, span=None) -> list[int]:
    """One training sequence (at most ``window + 1`` tokens) from ``line``."""
    W = cfg["window"]
    lo, hi = span or pitch_span(line)
    r = cfg["transpose"]
    shift = int(rng.integers(max(-r, PITCH_LOW - lo), min(r, PITCH_HIGH - hi) + 1))
    chords = line.style == "pop" and rng.random() < cfg["chords"]
    k = int(rng.integers(len(line.bars)))
    toks, budget = [], W - 4  # head, HOLE, MID, EOS
    for bar in line.bars[k:]:
        t = bar_tokens(transpose([bar], shift)[0], chords)
        if toks and sum(map(len, toks)) + len(t) > budget:
            break
        toks.append(t[:budget])
    at_end = k + len(toks) == len(line.bars)
    if len(toks) >= 2 and rng.random() < cfg["fim"]:
        h = int(rng.integers(1, min(8, len(toks) - 1) + 1))
        a = int(rng.integers(0, len(toks) - h + 1))
        return fim_tokens(line.style, sum(toks[:a], []), sum(toks[a + h:], []), h,
                          sum(toks[a:a + h], []))
    seq = head(line.style) + sum(toks, []) + ([Vocab.EOS] if at_end else [])
    return seq[:W + 1]


class MelodyTrainer:
    """deepcompose.train's protocol: random windows of augmented lines, AdamW, cosine lr."""

    def __init__(self, cfg: dict, train: list, valid: list):
        self.cfg = cfg
        model = MelodyTransformer(cfg)
        opt, sched = adamw_cosine(model, cfg)
        self.modules = {"model": model}
        self.optimizers = {"adamw": opt}
        self.schedulers = {"adamw": sched}  # linear warm-up, then a cosine to min_lr
        self.by_style = {s: [x for x in train if x.style == s and x.bars] for s in STYLES}
        self.styles = [s for s in STYLES if self.by_style[s]]
        w = np.array([cfg["style_weights"][STYLES.index(s)] for s in self.styles], float)
        self.style_p = w / w.sum()
        self.spans = {id(x): pitch_span(x) for s in self.styles for x in self.by_style[s]}
        self.valid = valid

    def batch(self, rng: np.random.Generator):
        """ids, ticks, meters, bars ``[B, W]`` and targets ``[B, W]`` (-1 = padding)."""
        W, B = self.cfg["window"], self.cfg["batch"]
        ids = np.full((B, W), Vocab.PAD, dtype=np.int64)
        tgt = np.full((B, W), -1, dtype=np.int64)
        for b in range(B):
            style = self.styles[int(rng.choice(len(self.styles), p=self.style_p))]
            pool = self.by_style[style]
            line = pool[int(rng.integers(len(pool)))]
            seq = np.asarray(draw_window(line, rng, self.cfg, self.spans[id(line)]))
            ids[b, :len(seq) - 1] = seq[:-1]
            tgt[b, :len(seq) - 1] = seq[1:]
        ticks, meters, bars = (np.zeros_like(ids) for _ in range(3))
        for b in range(B):
            ticks[b], meters[b], bars[b], _ = bar_state(ids[b])
        return tuple(torch.as_tensor(a) for a in (ids, ticks, meters, bars, tgt))

    def train_step(self, rng: np.random.Generator) -> dict:
        model, opt = self.modules["model"], self.optimizers["adamw"]
        lr = current_lr(opt)
        ids, ticks, meters, bars, tgt = self.batch(rng)
        model.train()
        logits = model(ids, ticks, meters, bars)  # [B, W, SIZE]
        loss = F.cross_entropy(logits.reshape(-1, Vocab.SIZE), tgt.reshape(-1),
                               ignore_index=-1)
        optimizer_step(loss, model, opt, self.schedulers["adamw"], self.cfg["grad_clip"])
        return {"loss": float(loss.detach()), "lr": lr}

    def _model(self) -> MelodyTransformer:
        return getattr(self.modules["model"], "module", self.modules["model"])

    def validate(self) -> dict:
        out = {}
        for style in STYLES:
            lines = [x for x in self.valid if x.style == style][: self.cfg["valid_pieces"]]
            if lines:
                out[f"nll_{style}"] = mean_nll_per_note(self._model(), lines)["nll_per_note"]
        if out:
            out["nll"] = float(np.mean(list(out.values())))
        return out

    def sample_rolls(self, rng, n: int, real: bool = False) -> np.ndarray:
        """The sample hook (``deepcompose.train``): ``[n, 1, 64, 128]`` bool rolls on the 16th
        grid of 4 bars of 4/4 the model writes after 4 bars of a validation line (default
        sampling), or the 4 bars that really follow in training lines (``real``)."""
        from ...representations.melody_tokens import TICKS, bar_tokens
        from .sampling import decode, template

        lines = [x for st in self.styles for x in self.by_style[st]] if real else self.valid
        pool = [x for x in lines if len(x.bars) >= 2 * SAMPLE_BARS]
        rolls = np.zeros((n, 1, 16 * SAMPLE_BARS, 128), dtype=bool)
        model = self._model()
        for k in range(n):
            line = pool[int(rng.integers(len(pool)))] if pool else None
            if line is None:
                continue
            a = int(rng.integers(0, len(line.bars) - 2 * SAMPLE_BARS + 1))
            bars = line.bars[a + SAMPLE_BARS:a + 2 * SAMPLE_BARS]
            if not real:
                hole = [template(b) for b in bars]
                before = [bar_tokens(b, False) for b in line.bars[a:a + SAMPLE_BARS]]
                notes = decode(model, before, hole, line.style, int(rng.integers(2**31))).bars
            else:
                notes = [b.notes for b in bars]
            for j, bar in enumerate(notes):
                for pos, pitch, dur in bar:
                    t0 = 16 * j + pos * 4 // TICKS
                    rolls[k, 0, t0:min(16 * SAMPLE_BARS, t0 + max(1, dur * 4 // TICKS)),
                          pitch] = True
        model.train()
        return rolls

    def family_metrics(self, rolls, real: bool = False) -> dict:
        """For the samples: NLL per note of the first ``NLL_LINES`` validation lines."""
        if real or not self.valid:
            return {}
        return {"nll": mean_nll_per_note(self._model(), self.valid[:NLL_LINES])["nll_per_note"]}

    def export(self):
        model = self._model()
        tensors = {k: v.detach().clone() for k, v in model.state_dict().items()}
        n = sum(p.numel() for p in model.parameters())
        return tensors, {"params": n, "styles": list(self.styles), "vocab": Vocab.SIZE,
                         "tokens": "melody_tokens: BAR_meter POS_t [CHORD_c] PITCH_p DUR_d; "
                                   "BOS STYLE; infill: prefix HOLE_n suffix MID middle EOS"}


def make_trainer(config: dict, train: list, valid: list):
    return MelodyTrainer(config, train, valid)


def augment_train(lines: list) -> list:
    """Transposition happens per window (``draw_window``); the lines pass as they are."""
    return lines


def load_split(data: str, split: str) -> list:
    """The lines of ``data`` (``melodies``: every style) in ``split``."""
    from ...data.melody_lines import load_split as lines

    return lines(data, split)
