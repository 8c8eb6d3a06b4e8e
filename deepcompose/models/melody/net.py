"""The melody transformer's network: a decoder-only transformer over melody tokens.

Tokens are ``representations.melody_tokens`` (REMI-like: bar tokens carrying the meter,
positions in 12ths of a beat, pitch, duration, optional chords, a style token, and
fill-in-the-middle tokens for infill). The blocks (pre-LN, rotary positions, KV cache)
are the music transformer's (``models/transformer/net.py``): the same idea, not a copy.

Besides the token, every position sees where it is in its bar: the tick of the last
position token (0 after a bar token) and the bar's meter, both read off the tokens
(``bar_state``), so rhythm never has to be inferred from a long look-back.

Shapes: ``B`` batch, ``T`` positions, ``d`` model width.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from ...representations.melody_tokens import MAX_POS, METERS, Vocab
from ..transformer.net import Block, KVCache, init_weights, rotary_angles

DEFAULT_CONFIG = {
    # model
    "d_model": 256, "n_layer": 4, "n_head": 4, "d_ff": 768, "dropout": 0.1,
    "window": 384,  # tokens per training window (BOS STYLE included)
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


def bar_state(ids: np.ndarray, start=(0, 0)) -> tuple[np.ndarray, np.ndarray]:
    """Per token of ``ids`` ``[T]``: the tick in the bar (the last position token's, 0 after
    a bar token) and the bar's meter index, both *after* reading that token. ``start`` is
    the (tick, meter) before the first token. Returns two ``[T]`` int64 arrays."""
    tick, meter = start
    ticks, meters = np.empty(len(ids), np.int64), np.empty(len(ids), np.int64)
    for i, t in enumerate(ids):
        t = int(t)
        if Vocab.BAR <= t < Vocab.POS:
            tick, meter = 0, t - Vocab.BAR
        elif Vocab.POS <= t < Vocab.PITCH:
            tick = t - Vocab.POS
        elif t in (Vocab.BOS, Vocab.MID) or Vocab.HOLE <= t < Vocab.BAR:
            tick = 0
        ticks[i], meters[i] = tick, meter
    return ticks, meters


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

    def forward(self, ids, ticks, meters, cache: KVCache | None = None):
        """ids, ticks, meters: ``[B, T]`` long (``bar_state`` of ids). With a cache, the T
        tokens follow the ``cache.length`` already seen. Returns logits ``[B, T, SIZE]``."""
        B, T = ids.shape
        past = cache.length if cache is not None else 0
        x = self.tok(ids) + self.tick(ticks) + self.meter(meters)  # [B, T, d]
        x = self.drop(x)
        pos = torch.arange(past, past + T)  # [T]
        rot = rotary_angles(pos, self.cfg["d_model"] // self.cfg["n_head"])
        for i, block in enumerate(self.blocks):
            x = block(x, rot, cache, i)
        if cache is not None:
            cache.length = past + T
        return self.head(self.ln_f(x))  # [B, T, SIZE]

    def run(self, ids: np.ndarray) -> torch.Tensor:
        """Logits ``[T, SIZE]`` for one sequence ``[T]`` of token ids (no cache)."""
        ticks, meters = bar_state(ids)
        as_t = (torch.as_tensor(a, dtype=torch.long)[None] for a in (ids, ticks, meters))
        return self(*as_t)[0]
