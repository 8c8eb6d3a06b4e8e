"""The melody transformer's network: a decoder-only transformer over melody tokens.

Tokens are ``representations.melody_tokens`` (REMI-like: bar tokens carrying the meter,
positions in 12ths of a beat, pitch, duration, optional chords, a style token, and
fill-in-the-middle tokens for infill). The blocks (pre-LN, rotary positions, KV cache)
are the music transformer's (``models/transformer/net.py``): the same idea, not a copy.

Besides the token, every position sees where it is in its bar: the tick of the last
position token (0 after a bar token) and the bar's meter, both read off the tokens
(``bar_state``), so rhythm never has to be inferred from a long look-back.

Songs repeat themselves bar for bar, 4 or 8 bars apart, but rotary positions count
tokens, not bars. So each attention head also adds a learned bias (``BarBias``) for how
many bars back a token is (0-16, then "further") and whether it was written at the
query's tick: a head can look at "the same place 8 bars ago", whose next token is the
repeat's.

Shapes: ``B`` batch, ``T`` positions, ``d`` model width.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ...representations.melody_tokens import MAX_POS, METERS, Vocab
from ..transformer.net import Block, KVCache, init_weights, rotary_angles

DEFAULT_CONFIG = {
    # model
    "d_model": 256, "n_layer": 4, "n_head": 4, "d_ff": 768, "dropout": 0.1,
    "window": 384,  # tokens per training window (BOS STYLE included)
    "bar_bias": True,  # BarBias in every layer (weights before 0.4.3: none)
    # data: share of windows per style (pop, folk, classical), fill-in-the-middle share,
    # share of pop windows with their chords, transposition range (semitones)
    "style_weights": [0.4, 0.3, 0.3], "fim": 0.3, "chords": 0.6, "transpose": 6,
    # optimisation (AdamW, linear warmup then cosine to min_lr at schedule_steps)
    "batch": 16, "lr": 1e-3, "min_lr": 5e-5, "warmup": 150, "schedule_steps": 2100,
    "weight_decay": 0.1, "grad_clip": 1.0,
    # validation: pieces per style scored (NLL per note)
    "valid_pieces": 40,
}
TINY_CONFIG = {
    **DEFAULT_CONFIG,
    "d_model": 32, "n_layer": 1, "n_head": 2, "d_ff": 64, "dropout": 0.0, "window": 96,
    "batch": 4, "lr": 3e-3, "warmup": 5, "schedule_steps": 50, "valid_pieces": 3,
}


START = (0, 0, -1, -1)  # bar_state before a sequence: tick, meter, bar, bar before a hole


def bar_state(ids: np.ndarray, start=START) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    """Per token of ``ids`` ``[T]``, *after* reading it: the tick in the bar (the last
    position token's, 0 after a bar token), the bar's meter index and the bar's number in
    the piece (bar tokens count; ``HOLE_n`` skips the hole's n bars for the suffix, ``MID``
    goes back to the bar before the hole). ``start``: the state before the first token.
    Returns three ``[T]`` int64 arrays and the state after the last token."""
    tick, meter, bar, before_hole = start
    ticks, meters, bars = (np.empty(len(ids), np.int64) for _ in range(3))
    for i, t in enumerate(ids):
        t = int(t)
        if Vocab.BAR <= t < Vocab.POS:
            tick, meter, bar = 0, t - Vocab.BAR, bar + 1
        elif Vocab.POS <= t < Vocab.PITCH:
            tick = t - Vocab.POS
        elif Vocab.HOLE <= t < Vocab.BAR:
            tick, before_hole, bar = 0, bar, bar + t - Vocab.HOLE + 1
        elif t == Vocab.MID:
            tick, bar = 0, before_hole
        elif t == Vocab.BOS:
            tick = 0
        ticks[i], meters[i], bars[i] = tick, meter, bar
    return ticks, meters, bars, (tick, meter, bar, before_hole)


class BarBias(nn.Module):
    """Attention bias per layer and head from bars back (0..FAR, FAR = further) and "same
    tick": a key counts as where its token was written, the state *before* it, so a query
    that matches it sees, in its value, what came next there. Starts at zero (no effect);
    ``GAIN`` scales the table so that Adam moves it as fast as the rest (an equalised
    learning rate). Keys from later bars (an infill's suffix, read before its middle) count
    as 0 bars back, as the shipped weights were trained."""

    FAR, GAIN = 17, 30.0

    def __init__(self, n_layer: int, n_head: int):
        super().__init__()
        self.table = nn.Parameter(torch.zeros(n_layer, n_head, (self.FAR + 1) * 2))

    def forward(self, q_bar, q_tick, k_bar, k_tick) -> torch.Tensor:
        """Queries' bar and tick ``[B, Tq]``, keys' ``[B, Tk]`` (the last Tq keys are the
        queries'); returns ``[n_layer, B, H, Tq, Tk]`` float masks, causal -inf included."""
        back = (q_bar[:, :, None] - k_bar[:, None, :]).clamp(0, self.FAR)  # [B, Tq, Tk]
        same = (q_tick[:, :, None] == k_tick[:, None, :]).long()
        bias = (self.table * self.GAIN)[:, :, back * 2 + same]  # [L, H, B, Tq, Tk]
        Tq, Tk = q_bar.shape[1], k_bar.shape[1]
        causal = torch.ones(Tq, Tk, dtype=torch.bool).tril(diagonal=Tk - Tq)
        return bias.transpose(1, 2).masked_fill(~causal, -torch.inf)


class MelodyTransformer(nn.Module):
    """Next-token model: ids ``[B, T]`` (+ their bar state) -> logits ``[B, T, SIZE]``."""

    def __init__(self, cfg: dict):
        super().__init__()
        d = cfg["d_model"]
        self.cfg = cfg
        self.tok = nn.Embedding(Vocab.SIZE, d)
        self.tick = nn.Embedding(MAX_POS, d)    # where in the bar this token leaves us
        self.meter = nn.Embedding(len(METERS), d)
        self.drop = nn.Dropout(cfg["dropout"])
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg["n_layer"]))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, Vocab.SIZE, bias=False)
        self.apply(init_weights)
        self.bar_bias = BarBias(cfg["n_layer"], cfg["n_head"]) if cfg.get("bar_bias") else None

    def forward(self, ids, ticks, meters, bars=None, cache: MelodyCache | None = None):
        """ids, ticks, meters, bars: ``[B, T]`` long (``bar_state`` of ids; ``bars`` may be
        None without ``BarBias``). With a cache, the T tokens follow the ``cache.length``
        already seen. Returns logits ``[B, T, SIZE]``."""
        B, T = ids.shape
        past = cache.length if cache is not None else 0
        x = self.tok(ids) + self.tick(ticks) + self.meter(meters)  # [B, T, d]
        x = self.drop(x)
        pos = torch.arange(past, past + T)  # [T]
        rot = rotary_angles(pos, self.cfg["d_model"] // self.cfg["n_head"])
        bias = [None] * len(self.blocks)
        if self.bar_bias is not None:
            q_bar, q_tick = bars, ticks
            if cache is not None:  # every query state so far: [B, past + T]
                cache.bars[:, past:past + T], cache.ticks[:, past:past + T] = bars, ticks
                q_bar, q_tick = cache.bars[:, :past + T], cache.ticks[:, :past + T]
            # a key's state is the one before its token (the first token's: the start)
            k_bar = F.pad(q_bar, (1, 0), value=START[2])[:, :-1]
            k_tick = F.pad(q_tick, (1, 0), value=START[0])[:, :-1]
            bias = self.bar_bias(bars, ticks, k_bar, k_tick)  # [L, B, H, T, past + T]
        for i, block in enumerate(self.blocks):
            x = block(x, rot, cache, i, bias[i])
        if cache is not None:
            cache.length = past + T
        return self.head(self.ln_f(x))  # [B, T, SIZE]

    def run(self, ids: np.ndarray) -> torch.Tensor:
        """Logits ``[T, SIZE]`` for one sequence ``[T]`` of token ids (no cache)."""
        ticks, meters, bars, _ = bar_state(ids)
        as_t = (torch.as_tensor(a, dtype=torch.long)[None] for a in (ids, ticks, meters, bars))
        return self(*as_t)[0]


class MelodyCache(KVCache):
    """The KV cache, plus each cached position's bar and tick (``BarBias``'s keys)."""

    def __init__(self, cfg: dict, batch: int, max_len: int):
        super().__init__(cfg, batch, max_len)
        self.bars = torch.zeros(batch, max_len, dtype=torch.long)
        self.ticks = torch.zeros(batch, max_len, dtype=torch.long)
