"""The music transformer's tokens and network (see ``composer.py`` for the model).

Shapes: ``B`` batch, ``T`` positions, ``d`` model width, ``H`` heads, ``hd`` head width.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ...data import PITCH_RANGE
from ...decoding import fold_octaves
from ...representations.voices import REST, STEPS_PER_BEAT

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
    return fold_octaves(grid, LOW, HIGH)


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

    def forward(self, x, rot, cache: KVCache | None = None, layer: int = 0, bias=None):
        """x: [B, T, d]; rot: rotary (cos, sin) [T, hd/2] each. With a cache, the T tokens
        are appended after ``cache.length``. ``bias``: an additive float mask
        [B, H, T, past+T] that already holds the causal mask (-inf), or None."""
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
        if bias is not None:
            drop = self.dropout if self.training else 0.0
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=drop)
        elif past and T > 1:  # queries after a non-empty cache: causal mask with an offset
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

    def forward(self, x, rot, cache=None, layer=0, bias=None):
        x = x + self.attn(self.ln1(x), rot, cache, layer, bias)
        return x + self.mlp(self.ln2(x))


# ---------------------------------------------------------------- model


def init_weights(m):
    """GPT-2's initialisation: linear and embedding weights N(0, 0.02), biases zero."""
    if isinstance(m, (nn.Linear, nn.Embedding)):
        nn.init.normal_(m.weight, std=0.02)
        if getattr(m, "bias", None) is not None:
            nn.init.zeros_(m.bias)



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
        self.apply(init_weights)

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


