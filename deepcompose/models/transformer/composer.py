"""A small decoder-only music transformer over four-voice chorales.

Tokens: the voice grid ``[4, steps]`` (16th grid, see ``voices.py``) read time-major,
S, A, T, B at each step -- the serialization of the published JSB likelihoods
(Music Transformer, Huang et al. 2019, Table 1). A piece of ``steps`` steps is
``4 * steps`` tokens. Vocabulary: rest, the pitches of ``data.PITCH_RANGE``, and
BOS (which opens every context window).

Model: pre-LayerNorm GPT blocks with rotary positions (Su et al. 2021), so only
relative distances matter and a window can start anywhere in a piece. Each input
position also sees three cheap hints about the token it predicts: its voice, its
16th position inside the beat, and what that voice sang one step (4 tokens) earlier
-- a held note is the most likely next token, and this makes it one lookup away.

Long pieces: a context window holds BOS + ``4 * window_steps - 1`` tokens. Likelihood
slides that window by ``eval_stride_steps`` (every token counted once, each with at
least ``window - stride`` tokens of context); sampling keeps a KV cache and, when the
window is full, rebuilds it from BOS + the last half window.

Sampling forces known cells (e.g. every soprano token of the user's melody), so the
same model harmonizes (``accompany``) and extends (``continue``).

Files: ``net.py`` (tokens, attention, the model), ``sampling.py``
(likelihood, sampling under the voice-leading rule), ``train.py`` (the
trainer), this one (the composer).
"""

from __future__ import annotations

import numpy as np

from ...representations.voices import REST, Meter
from ..common.composer import Composer, single_thread
from .net import (
    DEFAULT_CONFIG,
    VOICES,
    MusicTransformer,
    fold_into_range,
    grid_to_tokens,
    tokens_to_grid,
    window_len,
)
from .sampling import TOP_P, mean_nll, sample, token_logprobs

# ---------------------------------------------------------------- composer


class TransformerComposer(Composer):
    """Harmonize (soprano forced) or continue (melody forced, new bars free) a melody."""

    def __init__(self, model: MusicTransformer):
        self.model = model.eval()

    @classmethod
    def from_weights(cls, tensors: dict, meta: dict) -> TransformerComposer:
        model = MusicTransformer({**DEFAULT_CONFIG, **meta["config"]})
        model.load_state_dict(tensors, strict=True)
        return cls(model)

    def generate(self, task, grid, known, meter: Meter, seed, temperature=1.0,
                 top_k: int | None = None, top_p: float | None = TOP_P, rests: bool = False,
                 voice_leading: bool = True, **controls):
        """Sample every unknown cell of ``grid`` ``[4, steps]``; known cells come back unchanged.

        Controls: ``temperature`` (<= 0: greedy), ``top_k`` (keep the k likeliest tokens),
        ``top_p`` (nucleus mass; None: the default 0.9), ``rests`` (may new cells be rests?
        Off by default: JSB voices rest in 0.2% of steps, and a new part that falls silent
        is not what a user asking for parts or more bars wants), ``voice_leading`` (default
        True: no new note moves in parallel fifths/octaves with a voice above it,
        ``decoding.parallel``; Bach writes ~0.5 per 100 chord changes, the shipped model
        samples ~11 without the rule; see the card). The 16th-in-beat feature counts from
        the meter's bar lines (``meter.offset``: a pickup). Other controls are ignored.
        """
        if task not in ("accompany", "continue"):
            raise ValueError(f"transformer cannot do task {task!r}")
        grid = np.asarray(grid)
        known = np.asarray(known, dtype=bool)
        tokens = grid_to_tokens(np.where(known, fold_into_range(grid), REST))
        phase0 = int(meter.beat_position(0))  # 16th of the beat at step 0
        top_p = TOP_P if top_p is None else top_p
        with single_thread():
            ids = sample(self.model, tokens, known.T.reshape(-1), phase0, seed,
                         temperature, top_k, top_p, rests, bool(voice_leading))
        out = tokens_to_grid(ids)
        out[known] = grid[known]
        return out

    def score(self, grid, meter: Meter) -> float:
        """Mean log-likelihood per token (nats) of the whole grid; higher is better."""
        phase0 = int(meter.beat_position(0))
        return float(token_logprobs(self.model, grid_to_tokens(fold_into_range(grid)),
                                    phase0).mean())

    def nll(self, pieces):
        """``{"nll": nats per token, ...}`` over whole pieces, sliding window (module doc)."""
        cfg = self.model.cfg
        return {**mean_nll(self.model, pieces), "window_tokens": window_len(cfg),
                "stride_tokens": VOICES * cfg["eval_stride_steps"]}

