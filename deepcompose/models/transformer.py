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
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..data import PITCH_RANGE
from ..representations.voices import REST, STEPS_PER_BEAT, Meter
from .base import Composer, single_thread

VOICES = 4
LOW, HIGH = PITCH_RANGE
REST_ID = 0  # token ids: 0 = rest, 1..N_PITCH = LOW..HIGH, BOS last
N_PITCH = HIGH - LOW + 1
BOS_ID = N_PITCH + 1
VOCAB = N_PITCH + 2

DEFAULT_CONFIG = {
    # model
    "d_model": 192, "n_layer": 4, "n_head": 4, "d_ff": 768, "dropout": 0.1,
    "window_steps": 128,  # context: BOS + 4 * 128 - 1 tokens (512 positions)
    # optimisation (AdamW, linear warmup then cosine to min_lr at schedule_steps)
    "batch": 8, "lr": 1.5e-3, "min_lr": 1e-4, "warmup": 100, "schedule_steps": 1000,
    "weight_decay": 0.1, "grad_clip": 1.0,
    # likelihood: sliding-window stride
    "eval_stride_steps": 64,
}
TINY_CONFIG = {
    **DEFAULT_CONFIG,
    "d_model": 32, "n_layer": 1, "n_head": 2, "d_ff": 64, "dropout": 0.0,
    "window_steps": 16, "batch": 4, "lr": 3e-3, "warmup": 5, "schedule_steps": 50,
    "eval_stride_steps": 8,
}


# ---------------------------------------------------------------- tokens


def fold_into_range(grid: np.ndarray) -> np.ndarray:
    """Move out-of-range pitches by octaves into ``PITCH_RANGE`` (rests stay rests)."""
    g = grid.astype(np.int64, copy=True)
    sounding = g != REST
    while np.any(sounding & (g < LOW)):
        g[sounding & (g < LOW)] += 12
    while np.any(sounding & (g > HIGH)):
        g[sounding & (g > HIGH)] -= 12
    return g


def grid_to_tokens(grid: np.ndarray) -> np.ndarray:
    """Voice grid ``[4, steps]`` -> token ids ``[4 * steps]`` (time-major S,A,T,B)."""
    g = np.asarray(grid).T.reshape(-1).astype(np.int64)  # [steps * 4]
    if np.any((g != REST) & ((g < LOW) | (g > HIGH))):
        raise ValueError(f"pitch outside {PITCH_RANGE}; use fold_into_range first")
    return np.where(g == REST, REST_ID, g - LOW + 1)


def tokens_to_grid(ids: np.ndarray) -> np.ndarray:
    """Token ids ``[4 * steps]`` -> voice grid ``[4, steps]`` int16."""
    ids = np.asarray(ids, dtype=np.int64)
    pitches = np.where(ids == REST_ID, REST, ids - 1 + LOW)
    return pitches.reshape(-1, VOICES).T.astype(np.int16).copy()


# ---------------------------------------------------------------- rotary positions


def rotary_angles(pos: torch.Tensor, head_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin ``[T, hd/2]`` of angle pos * freq_i, freq_i = 10000^(-2i/hd); pos: [T]."""
    inv_freq = 1.0 / (10000 ** (torch.arange(0, head_dim, 2).float() / head_dim))  # [hd/2]
    ang = pos.float()[:, None] * inv_freq[None, :]  # [T, hd/2]
    return ang.cos(), ang.sin()


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary embedding: turn each pair (x_i, x_{i+hd/2}) by its angle. x: [B, H, T, hd]."""
    x1, x2 = x.chunk(2, dim=-1)  # [B, H, T, hd/2] each
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)


# ---------------------------------------------------------------- KV cache


class KVCache:
    """Keys and values of every layer for one window, plus the input ids seen so far.

    k, v: [n_layer, B, H, max_len, hd]; ids: [B, max_len]; ``length`` positions filled.
    """

    def __init__(self, cfg: dict, batch: int, max_len: int):
        hd = cfg["d_model"] // cfg["n_head"]
        shape = (cfg["n_layer"], batch, cfg["n_head"], max_len, hd)
        self.k, self.v = torch.zeros(shape), torch.zeros(shape)
        self.ids = torch.zeros(batch, max_len, dtype=torch.long)
        self.length = 0
        self.max_len = max_len


# ---------------------------------------------------------------- attention


class SelfAttention(nn.Module):
    """Causal multi-head self-attention with rotary positions and an optional KV cache."""

    def __init__(self, cfg: dict):
        super().__init__()
        d, self.n_head = cfg["d_model"], cfg["n_head"]
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.proj = nn.Linear(d, d, bias=False)
        self.dropout = cfg["dropout"]
        self.drop = nn.Dropout(cfg["dropout"])

    def forward(self, x, rot, cache: KVCache | None = None, layer: int = 0):
        """x: [B, T, d]; rot: rotary (cos, sin) [T, hd/2] each. With a cache, the T tokens
        are appended after ``cache.length``."""
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)  # [B, T, d] each
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        q, k = rotate(q, *rot), rotate(k, *rot)  # [B, H, T, hd]
        past = 0
        if cache is not None:
            past = cache.length
            cache.k[layer, :, :, past : past + T] = k
            cache.v[layer, :, :, past : past + T] = v
            k = cache.k[layer, :, :, : past + T]  # [B, H, past+T, hd]
            v = cache.v[layer, :, :, : past + T]
        if past and T > 1:  # queries after a non-empty cache: causal mask with an offset
            mask = torch.ones(T, past + T, dtype=torch.bool).tril(diagonal=past)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:
            drop = self.dropout if self.training else 0.0
            y = F.scaled_dot_product_attention(q, k, v, is_causal=T > 1, dropout_p=drop)
        y = y.transpose(1, 2).reshape(B, T, C)  # [B, T, d]
        return self.drop(self.proj(y))


# ---------------------------------------------------------------- block


class Block(nn.Module):
    """Pre-LN transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, cfg: dict):
        super().__init__()
        d = cfg["d_model"]
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = SelfAttention(cfg)
        self.mlp = nn.Sequential(
            nn.Linear(d, cfg["d_ff"]), nn.GELU(), nn.Linear(cfg["d_ff"], d),
            nn.Dropout(cfg["dropout"]),
        )

    def forward(self, x, rot, cache=None, layer=0):
        x = x + self.attn(self.ln1(x), rot, cache, layer)
        return x + self.mlp(self.ln2(x))


# ---------------------------------------------------------------- model


class MusicTransformer(nn.Module):
    """Next-token model over SATB tokens. Window input = BOS + tokens; output = next-token logits.

    Window position p (0 = BOS) predicts window token p: voice ``p % 4`` at window step
    ``p // 4``. ``phase`` is the 16th position inside the beat of the window's first step.
    """

    def __init__(self, cfg: dict):
        super().__init__()
        d = cfg["d_model"]
        self.cfg = cfg
        self.tok = nn.Embedding(VOCAB, d)  # the input token
        self.look = nn.Embedding(VOCAB, d)  # the target voice's token one step earlier
        self.voice = nn.Embedding(VOICES, d)  # the target's voice
        self.sub = nn.Embedding(STEPS_PER_BEAT, d)  # the target's 16th inside the beat
        self.drop = nn.Dropout(cfg["dropout"])
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg["n_layer"]))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, VOCAB, bias=False)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)

    def forward(self, ids, phase, cache: KVCache | None = None):
        """ids: [B, T] window input ids (starting with BOS unless appended to a cache);
        phase: [B] int. Returns logits [B, T, VOCAB]."""
        B, T = ids.shape
        past = cache.length if cache is not None else 0
        pos = torch.arange(past, past + T)  # [T] window positions
        if cache is not None:
            cache.ids[:, past : past + T] = ids
            hist = cache.ids[:, : past + T]  # [B, past+T]
        else:
            hist = ids
        # token one step earlier in the target's voice = input 3 positions back (BOS if none)
        look = F.pad(hist, (3, 0), value=BOS_ID)[:, past : past + T]  # [B, T]
        sub = (phase[:, None] + pos[None, :] // VOICES) % STEPS_PER_BEAT  # [B, T]
        x = self.tok(ids) + self.look(look) + self.voice(pos % VOICES) + self.sub(sub)
        x = self.drop(x)  # [B, T, d]
        rot = rotary_angles(pos, self.cfg["d_model"] // self.cfg["n_head"])
        for i, block in enumerate(self.blocks):
            x = block(x, rot, cache, i)
        if cache is not None:
            cache.length = past + T
        return self.head(self.ln_f(x))  # [B, T, VOCAB]


def window_len(cfg: dict) -> int:
    """Input positions per window: BOS + 4 * window_steps - 1 tokens."""
    return VOICES * cfg["window_steps"]


# ---------------------------------------------------------------- likelihood


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
    """One token from next-token logits ``[VOCAB]``: temperature, top-k, nucleus (top-p).

    BOS is never sampled, rests only when ``rests``; ``temperature <= 0`` is greedy.
    """
    logits = logits.float().clone()
    logits[BOS_ID] = -math.inf
    if not rests:
        logits[REST_ID] = -math.inf
    if temperature <= 0:
        return int(logits.argmax())
    logits = logits / temperature
    if top_k:
        kth = torch.topk(logits, min(int(top_k), VOCAB - 1)).values[-1]
        logits[logits < kth] = -math.inf
    probs = torch.softmax(logits, dim=-1)  # [VOCAB]
    if top_p is not None and top_p < 1.0:
        sorted_p, order = probs.sort(descending=True)
        # drop a token when the tokens ranked above it already reach top_p
        drop = (sorted_p.cumsum(0) - sorted_p) >= top_p
        probs[order[drop]] = 0.0
        probs = probs / probs.sum()
    return int(torch.multinomial(probs, 1, generator=gen))


def parallel_ids(out: np.ndarray, j: int) -> list[int]:
    """Token ids that would give token ``j`` parallel fifths or octaves (unisons, compounds)
    with a voice already written at its step (the voices before it in S,A,T,B order).

    A parallel: both voices sound at steps t-1 and t, move in the same direction, and
    their interval mod 12 is 7 (or 0) both before and after. ``out``: tokens ``[N]``.
    """
    if j < VOICES or out[j - VOICES] == REST_ID:
        return []
    prev_v, banned = int(out[j - VOICES]), []
    for u in range(j - j % VOICES, j):  # the voices above, at this step
        before, now = int(out[u - VOICES]), int(out[u])
        if REST_ID in (before, now) or before == now:
            continue
        interval = abs(before - prev_v) % 12
        if interval not in (0, 7):
            continue
        up = now > before
        cand = np.arange(1, N_PITCH + 1)  # every pitch id
        bad = (cand != prev_v) & ((cand > prev_v) == up) & (np.abs(now - cand) % 12 == interval)
        banned.extend(int(c) for c in cand[bad])
    return banned


@torch.no_grad()
def sample(model: MusicTransformer, tokens: np.ndarray, known: np.ndarray, phase0: int,
           seed: int, temperature: float = 1.0, top_k: int | None = None,
           top_p: float | None = None, rests: bool = True,
           parallels: bool = True) -> np.ndarray:
    """Fill every unknown token of ``tokens`` ``[N]`` left to right; known tokens are forced.

    ``rests=False`` never samples a rest (known rests stay); ``parallels=False`` never
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
            if not parallels:
                logits = logits.clone()
                logits[parallel_ids(out, j)] = -math.inf
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


# ---------------------------------------------------------------- composer


class TransformerComposer(Composer):
    """Harmonize (soprano forced) or continue (melody forced, new bars free) a melody."""

    name = "transformer"
    tasks = ("accompany", "continue")

    def __init__(self, model: MusicTransformer):
        self.model = model.eval()

    @classmethod
    def from_weights(cls, tensors: dict, meta: dict) -> TransformerComposer:
        model = MusicTransformer({**DEFAULT_CONFIG, **meta["config"]})
        model.load_state_dict(tensors, strict=True)
        return cls(model)

    def generate(self, task, grid, known, meter: Meter, seed, temperature=1.0,
                 top_k: int | None = None, top_p: float | None = TOP_P, rests: bool = False,
                 parallels: bool = False, **controls):
        """Sample every unknown cell of ``grid`` ``[4, steps]``; known cells come back unchanged.

        Controls: ``temperature`` (<= 0: greedy), ``top_k`` (keep the k likeliest tokens),
        ``top_p`` (nucleus mass), ``rests`` (may new cells be rests? Off by default: JSB
        voices rest in 0.2% of steps, and a new part that falls silent is not what a user
        asking for parts or more bars wants), ``parallels`` (may a new note move in parallel
        fifths/octaves with a voice above it? Off by default: Bach writes ~0.5 per 100
        chord changes, the shipped model samples ~11 when unconstrained; see the card).
        Other controls are ignored.
        """
        if task not in self.tasks:
            raise ValueError(f"transformer cannot do task {task!r}")
        grid = np.asarray(grid)
        known = np.asarray(known, dtype=bool)
        tokens = grid_to_tokens(np.where(known, fold_into_range(grid), REST))
        phase0 = (-meter.offset) % STEPS_PER_BEAT  # 16th of the beat at step 0
        with single_thread():
            ids = sample(self.model, tokens, known.T.reshape(-1), phase0, seed,
                         temperature, top_k, top_p, rests, parallels)
        out = tokens_to_grid(ids)
        out[known] = grid[known]
        return out

    def score(self, grid, meter: Meter) -> float:
        """Mean log-likelihood per token (nats) of the whole grid; higher is better."""
        phase0 = (-meter.offset) % STEPS_PER_BEAT
        return float(token_logprobs(self.model, grid_to_tokens(fold_into_range(grid)),
                                    phase0).mean())

    def nll(self, pieces):
        """``{"nll": nats per token, ...}`` over whole pieces, sliding window (module doc)."""
        cfg = self.model.cfg
        return {**mean_nll(self.model, pieces), "window_tokens": window_len(cfg),
                "stride_tokens": VOICES * cfg["eval_stride_steps"]}


# ---------------------------------------------------------------- training


class TransformerTrainer:
    """deepcompose.train's protocol: random windows of augmented pieces, AdamW, cosine lr."""

    def __init__(self, cfg: dict, train: list[np.ndarray], valid: list[np.ndarray]):
        self.cfg = cfg
        model = MusicTransformer(cfg)
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": cfg["weight_decay"]},
             {"params": no_decay, "weight_decay": 0.0}], lr=cfg["lr"], betas=(0.9, 0.98))
        self.modules = {"model": model}
        self.optimizers = {"adamw": opt}
        self.train = [grid_to_tokens(g) for g in train]  # [4 * steps] each
        self.valid = valid

    def lr_at(self, step: int) -> float:
        c = self.cfg
        if step < c["warmup"]:
            return c["lr"] * (step + 1) / c["warmup"]
        t = min(1.0, (step - c["warmup"]) / max(1, c["schedule_steps"] - c["warmup"]))
        return c["min_lr"] + 0.5 * (c["lr"] - c["min_lr"]) * (1 + math.cos(math.pi * t))

    def _step_count(self) -> int:  # from AdamW's own state, so --resume keeps the schedule
        opt = self.optimizers["adamw"]
        state = opt.state.get(opt.param_groups[0]["params"][0], {})
        return int(state["step"]) if "step" in state else 0

    def batch(self, rng: np.random.Generator):
        """Random step-aligned windows -> ids [B, W] (BOS first), targets [B, W], phase [B]."""
        W, B = window_len(self.cfg), self.cfg["batch"]
        ids = np.full((B, W), REST_ID, dtype=np.int64)
        tgt = np.full((B, W), -1, dtype=np.int64)  # -1 = padding, ignored
        phase = np.zeros(B, dtype=np.int64)
        for b in range(B):
            toks = self.train[int(rng.integers(len(self.train)))]
            steps = len(toks) // VOICES
            s = int(rng.integers(0, max(1, steps - self.cfg["window_steps"] + 1)))
            chunk = toks[VOICES * s : VOICES * s + W]
            tgt[b, : len(chunk)] = chunk
            ids[b, 0] = BOS_ID
            ids[b, 1 : len(chunk)] = chunk[:-1]
            phase[b] = s % STEPS_PER_BEAT
        return torch.as_tensor(ids), torch.as_tensor(tgt), torch.as_tensor(phase)

    def train_step(self, rng: np.random.Generator) -> dict:
        model, opt = self.modules["model"], self.optimizers["adamw"]
        lr = self.lr_at(self._step_count())
        for g in opt.param_groups:
            g["lr"] = lr
        ids, tgt, phase = self.batch(rng)
        model.train()
        logits = model(ids, phase)  # [B, W, VOCAB]
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tgt.reshape(-1), ignore_index=-1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), self.cfg["grad_clip"])
        opt.step()
        return {"loss": float(loss.detach()), "lr": lr}

    def _model(self) -> MusicTransformer:
        return getattr(self.modules["model"], "module", self.modules["model"])

    def validate(self) -> dict:
        return {"nll": mean_nll(self._model(), self.valid)["nll"]}

    def export(self):
        model = self._model()
        tensors = {k: v.detach().clone() for k, v in model.state_dict().items()}
        n = sum(p.numel() for p in model.parameters())
        return tensors, {"params": n, "tokens": "time-major S,A,T,B; 0 rest, 1.. pitches, BOS"}


def make_trainer(config: dict, train: list[np.ndarray], valid: list[np.ndarray]):
    return TransformerTrainer(config, train, valid)
