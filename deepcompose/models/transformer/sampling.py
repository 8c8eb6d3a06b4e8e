"""Likelihood and sampling for the music transformer (see ``composer.py``)."""

from __future__ import annotations

import numpy as np
import torch

from ...decoding import parallel, perturb
from ...representations.voices import STEPS_PER_BEAT
from .net import (
    BOS_ID,
    N_PITCH,
    REST_ID,
    VOICES,
    KVCache,
    MusicTransformer,
    fold_into_range,
    grid_to_tokens,
    window_len,
)


@torch.no_grad()
def token_logprobs(model: MusicTransformer, tokens: np.ndarray, phase0: int = 0) -> np.ndarray:
    """log p(token_j | context) for every token of one piece ``[N]`` -> ``[N]`` (nats).

    Window k starts at token ``k * stride`` (BOS prepended) and counts the tokens not
    counted before it, so every token is counted once and, past the first window, has
    at least ``window - stride`` tokens of context.
    """
    cfg = model.cfg
    W, S = window_len(cfg), VOICES * cfg["eval_stride_steps"]
    N = len(tokens)
    starts, counted_from = [0], [0]
    while starts[-1] + W < N:
        starts.append(starts[-1] + S)
        counted_from.append(starts[-2] + W)
    windows = torch.full((len(starts), W), REST_ID, dtype=torch.long)
    for i, a in enumerate(starts):
        chunk = torch.as_tensor(tokens[a : a + W - 1])
        windows[i, 0] = BOS_ID
        windows[i, 1 : 1 + len(chunk)] = chunk
    phase = torch.tensor([(phase0 + a // VOICES) % STEPS_PER_BEAT for a in starts])
    logp = torch.log_softmax(model(windows, phase).float(), dim=-1)  # [nw, W, VOCAB]
    out = np.zeros(N)
    for i, a in enumerate(starts):
        lo, hi = counted_from[i], min(a + W, N)
        tgt = torch.as_tensor(tokens[lo:hi])
        out[lo:hi] = logp[i, torch.arange(lo - a, hi - a), tgt].numpy()
    return out


def mean_nll(model: MusicTransformer, pieces: list[np.ndarray]) -> dict:
    """Mean NLL in nats per token over whole pieces ``[4, steps]`` (pitches folded into range)."""
    was = model.training
    model.eval()
    total, count = 0.0, 0
    for grid in pieces:
        lp = token_logprobs(model, grid_to_tokens(fold_into_range(grid)))
        total -= lp.sum()
        count += len(lp)
    model.train(was)
    return {"nll": total / max(count, 1), "tokens": count, "pieces": len(pieces)}


# ---------------------------------------------------------------- sampling

TOP_P = 0.9  # default nucleus mass for generate()


def pick(logits: torch.Tensor, temperature: float, top_k: int | None, top_p: float | None,
         gen: torch.Generator, rests: bool = True) -> int:
    """One token from next-token logits ``[VOCAB]`` with ``decoding.sample``'s temperature,
    top-k and nucleus (top-p). BOS is never sampled, rests only when ``rests``;
    ``temperature <= 0`` is greedy.
    """
    logits = logits.float().clone()
    logits[BOS_ID] = -torch.inf
    if not rests:
        logits[REST_ID] = -torch.inf
    return int(perturb(logits, temperature, gen, top_k, top_p).argmax())


def parallel_ids(out: np.ndarray, j: int) -> list[int]:
    """Token ids that would give token ``j`` parallel fifths or octaves with a voice already
    written at its step (the voices before it in S,A,T,B order): ``decoding.parallel``
    between this voice's move ``out[j - 4] -> id`` and each such voice's. ``out``: tokens.
    """
    if j < VOICES:
        return []
    cand = np.arange(1, N_PITCH + 1)  # every pitch id (a rest is never a parallel)
    prev_v, bad = int(out[j - VOICES]), np.zeros(N_PITCH, dtype=bool)
    for u in range(j - j % VOICES, j):  # the voices above, at this step
        bad |= parallel(prev_v, cand, int(out[u - VOICES]), int(out[u]), rest=REST_ID)
    return [int(c) for c in cand[bad]]


@torch.no_grad()
def sample(model: MusicTransformer, tokens: np.ndarray, known: np.ndarray, phase0: int,
           seed: int, temperature: float = 1.0, top_k: int | None = None,
           top_p: float | None = None, rests: bool = True,
           voice_leading: bool = True) -> np.ndarray:
    """Fill every unknown token of ``tokens`` ``[N]`` left to right; known tokens are forced.

    ``rests=False`` never samples a rest (known rests stay); ``voice_leading`` never
    samples a token that moves in parallel fifths/octaves with a voice above it.
    Keeps a KV cache of the current window; when it is full the window slides: the cache
    is rebuilt from BOS + the last half window (step-aligned), as in training.
    """
    model.eval()
    gen = torch.Generator().manual_seed(int(seed))
    out = np.asarray(tokens, dtype=np.int64).copy()
    W = window_len(model.cfg)
    cache = KVCache(model.cfg, 1, W)
    start = 0  # token index where the current window begins (a multiple of 4)

    def refill(j: int) -> torch.Tensor:  # rebuild the window as BOS + out[start:j]
        cache.length = 0
        ids = torch.as_tensor(np.concatenate([[BOS_ID], out[start:j]]))[None]  # [1, T]
        phase = torch.tensor([(phase0 + start // VOICES) % STEPS_PER_BEAT])
        return model(ids, phase, cache)[0, -1]  # [VOCAB]

    logits = refill(0)
    phase = torch.tensor([(phase0 + start // VOICES) % STEPS_PER_BEAT])
    for j in range(len(out)):
        if not known[j]:
            if voice_leading:
                logits = logits.clone()
                logits[parallel_ids(out, j)] = -torch.inf
            out[j] = pick(logits, temperature, top_k, top_p, gen, rests)
        if j + 1 == len(out):
            break
        if cache.length == W:  # window full: slide by about half a window
            start = (j + 1 - W // 2) // VOICES * VOICES
            logits = refill(j + 1)
            phase = torch.tensor([(phase0 + start // VOICES) % STEPS_PER_BEAT])
        else:
            logits = model(torch.tensor([[out[j]]]), phase, cache)[0, -1]
    return out


