"""Likelihood of melody lines under the melody transformer (valid NLL per note).

A line is scored in chunks of whole bars that fit the window, each chunk read as a
continuation sequence ``BOS STYLE bars...`` without chords; every token after the head
counts, and the sum is divided by the number of notes (nats per note), so token schemes
with more or fewer tokens per note compare fairly (``benchmarks/melody_quality.py`` scores
an order-3 n-gram on the same chunks).
"""

from __future__ import annotations

import numpy as np
import torch

from ...representations.melody_tokens import bar_tokens, head


def chunks(line, window: int) -> list[tuple[list[int], int]]:
    """``(tokens, notes)`` per chunk of whole bars of ``line`` within ``window`` tokens."""
    out, cur, notes = [], [], 0
    for bar in line.bars:
        t = bar_tokens(bar, with_chords=False)[: window - 2]
        if cur and len(cur) + len(t) > window - 2:
            out.append((head(line.style) + cur, notes))
            cur, notes = [], 0
        cur += t
        notes += len(bar.notes)
    if cur:
        out.append((head(line.style) + cur, notes))
    return out


@torch.no_grad()
def mean_nll_per_note(model, lines) -> dict:
    """Nats per note over ``lines`` (``data.melody_lines.Line``), every chunk counted."""
    was = model.training
    model.eval()
    total, notes = 0.0, 0
    for line in lines:
        for toks, n in chunks(line, model.cfg["window"]):
            ids = np.asarray(toks)
            logp = torch.log_softmax(model.run(ids[:-1]).float(), dim=-1)  # [T-1, SIZE]
            tgt = torch.as_tensor(ids[1:])
            lp = logp[torch.arange(len(tgt)), tgt][1:]  # the style token is given
            total -= float(lp.sum())
            notes += n
    model.train(was)
    return {"nll_per_note": total / max(notes, 1), "notes": notes, "pieces": len(lines)}
