"""Coconet-style autoregressive CNN: an orderless NADE over four-voice grids.

Huang et al., "Counterpoint by Convolution" (ISMIR 2017). The net sees a voice
grid ``[4 voices, T steps]`` (16th-note steps, 4 per beat) in which some cells
are *masked* (unknown), and predicts a softmax over ``P1 = 60`` classes
(rest, or a MIDI pitch 30..88) for every (voice, step) cell. Training masks
random subsets of every size and rescales the loss by the mask size, so one
net gives every conditional ``p(x_masked | x_rest)``: accompaniment, infilling,
continuation and melody editing are all "fill in the masked cells".

Net (fully convolutional along time, so any length works; see ``receptive_field``):
  1. stem: two 3x3 convolutions over time x pitch on the one-hot pitch rolls of
     the 4 voices (zeroed where masked) plus the 4 mask planes (8 channels);
  2. the pitch axis is folded into channels and projected to ``hidden``;
  3. residual blocks of dilated 1-D convolutions over time (RMS-normed);
  4. a 1x1 head to 4 x 60 logits per step.
Sampling is blocked Gibbs with an annealed masking schedule (Yao et al. 2014).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..data import PITCH_RANGE, random_window
from ..representations.voices import REST, STEPS_PER_BEAT, Meter, grid_to_notes
from .base import Composer, single_thread

LOW, HIGH = PITCH_RANGE
P1 = HIGH - LOW + 2  # classes per cell: 0 = rest, 1.. = pitch LOW..HIGH
VOICES = 4

DEFAULT_CONFIG = {
    "stem": 16,  # channels of the time x pitch stem
    "hidden": 192,  # channels of the 1-D trunk
    "dilations": [1, 2, 4, 8, 16, 32, 1, 2, 4],  # one residual block per entry
    "window": 128,  # training crop, steps (8 bars of 4/4)
    "batch": 16,
    "lr": 2e-3,
    "warmup": 100,
    "decay_steps": 3500,  # cosine decay to 10% over this many updates
    "valid_windows": 96,
}
TINY_CONFIG = {
    **DEFAULT_CONFIG,
    "stem": 4, "hidden": 32, "dilations": [1, 2], "window": 32, "batch": 4,
    "decay_steps": 100, "valid_windows": 8,
}


# ------------------------------------------------------------------ encoding


def encode(grid: np.ndarray) -> np.ndarray:
    """Pitches ``[..., T]`` (REST = -1) -> class ids (0 rest, 1.. pitch); octave-folds outliers."""
    g = np.asarray(grid, dtype=np.int64)
    p = g.copy()
    while (low := (p != REST) & (p < LOW)).any():
        p[low] += 12
    while (high := (p != REST) & (p > HIGH)).any():
        p[high] -= 12
    return np.where(g == REST, 0, p - LOW + 1)


def decode(ids: np.ndarray) -> np.ndarray:
    """Class ids -> int16 pitches (REST for 0)."""
    ids = np.asarray(ids)
    return np.where(ids == 0, REST, ids - 1 + LOW).astype(np.int16)


def beat_phase(steps: int, start: int = 0) -> torch.Tensor:
    """One-hot step-within-beat ``[4, steps]`` for grid steps ``start .. start+steps-1``."""
    phase = (torch.arange(steps) + start) % STEPS_PER_BEAT
    return F.one_hot(phase, STEPS_PER_BEAT).T.float()


# ------------------------------------------------------------------ the net


class RMSNorm1d(nn.Module):
    """Normalise each step's channel vector ``[B, C, T]`` to unit RMS, then scale."""

    def __init__(self, channels: int):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(channels, 1))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + 1e-6) * self.gain


class Block(nn.Module):
    """Residual block: x + W1x1(relu(dilated conv_k3(norm(x)))), ``[B, C, T]`` -> same."""

    def __init__(self, channels: int, dilation: int):
        super().__init__()
        self.norm = RMSNorm1d(channels)
        self.conv = nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation)
        self.proj = nn.Conv1d(channels, channels, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x):
        return x + self.proj(F.relu(self.conv(self.norm(x))))


class ArcnnNet(nn.Module):
    """Masked cells in, logits out.

    ``ids [B,4,T]`` long, ``mask [B,4,T]`` bool (True = hidden), ``phase [4,T]`` or ``[B,4,T]``
    -> logits ``[B,4,T,P1]``.
    """

    def __init__(self, stem: int, hidden: int, dilations: list[int], **_):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(2 * VOICES, stem, 3, padding=1), nn.ReLU(),
            nn.Conv2d(stem, stem, 3, padding=1), nn.ReLU(),
        )
        self.inp = nn.Conv1d(stem * P1 + VOICES + STEPS_PER_BEAT, hidden, 1)
        self.blocks = nn.ModuleList(Block(hidden, d) for d in dilations)
        self.norm = RMSNorm1d(hidden)
        self.head = nn.Conv1d(hidden, VOICES * P1, 1)
        self.radius = 2 + sum(dilations)  # steps each side that an output can see

    def forward(self, ids, mask, phase):
        B, V, T = ids.shape
        known = (~mask).float()
        roll = F.one_hot(ids, P1).float() * known[..., None]  # [B,4,T,P1]
        planes = mask.float()[..., None].expand(B, V, T, P1)  # [B,4,T,P1]
        h = self.stem(torch.cat([roll, planes], 1))  # [B,S,T,P1]
        h = h.permute(0, 1, 3, 2).reshape(B, -1, T)  # [B,S*P1,T]
        h = torch.cat([h, mask.float(), phase.expand(B, -1, -1)], 1)  # phase [4,T] or [B,4,T]
        h = self.inp(h)  # [B,H,T]
        for block in self.blocks:
            h = block(h)
        out = self.head(F.relu(self.norm(h)))  # [B,4*P1,T]
        return out.view(B, V, P1, T).permute(0, 1, 3, 2)  # [B,4,T,P1]


def receptive_field(config: dict) -> int:
    """Steps of input one output step depends on: 2 x (2 stem convs + sum of dilations) + 1."""
    return 2 * (2 + sum(config["dilations"])) + 1


# ------------------------------------------------------------------ training


def random_mask(rng: np.random.Generator, steps: int) -> np.ndarray:
    """A training mask ``[4, steps]`` (True = hidden), never empty.

    Half are Coconet's orderless-NADE masks (a uniform share of cells, so every
    mask size is equally likely); the rest are shaped like the tasks: whole
    voices (accompany: alto, tenor and bass), or a span of steps in some voices
    (infill, continue, melody edits).
    """
    kind = rng.random()
    if kind < 0.5:
        mask = rng.random((VOICES, steps)) < rng.random()
    elif kind < 0.65:
        mask = np.zeros((VOICES, steps), bool)
        mask[1:] = True
    elif kind < 0.8:
        mask = np.zeros((VOICES, steps), bool)
        mask[rng.random(VOICES) < 0.5] = True
    else:
        mask = np.zeros((VOICES, steps), bool)
        length = int(rng.integers(1, steps + 1))
        start = int(rng.integers(0, steps - length + 1))
        voices = rng.random(VOICES) < 0.6
        voices[rng.integers(VOICES)] = True
        mask[voices, start : start + length] = True
    if not mask.any():
        mask[rng.integers(VOICES), rng.integers(steps)] = True
    return mask


def masked_loss(logits, ids, mask):
    """Coconet loss: cross-entropy on hidden cells, averaged per example over its hidden cells.

    ``logits [B,4,T,P1]``, ``ids [B,4,T]``, ``mask [B,4,T]`` -> scalar (nats per hidden cell).
    Averaging inside each example rescales by mask size, so small and large masks weigh the same.
    """
    ce = F.cross_entropy(logits.permute(0, 3, 1, 2), ids, reduction="none")  # [B,4,T]
    m = mask.float()
    return ((ce * m).sum((1, 2)) / m.sum((1, 2))).mean()


class ArcnnTrainer:
    """The ``deepcompose.train`` protocol for the AR-CNN."""

    def __init__(self, config: dict, train: list[np.ndarray], valid: list[np.ndarray]):
        self.config = config
        self.train_set = train
        self.net = ArcnnNet(**config)
        self.modules = {"net": self.net}
        self.optimizers = {"adam": torch.optim.AdamW(self.net.parameters(), lr=config["lr"],
                                                     weight_decay=0.01)}
        rng = np.random.default_rng(1234)  # fixed validation windows and masks
        w = config["window"]
        picks = rng.integers(0, len(valid), config["valid_windows"])
        wins = [random_window(valid[i], w, rng) for i in picks]
        self.valid = (torch.as_tensor(np.stack([encode(g) for g in wins])),
                      torch.as_tensor(np.stack([random_mask(rng, w) for _ in wins])))

    def _lr(self) -> float:
        opt = self.optimizers["adam"]
        state = opt.state.get(next(iter(self.net.parameters())), {})
        step = float(state.get("step", 0))
        c = self.config
        warm = min(1.0, (step + 1) / c["warmup"])
        frac = min(1.0, step / c["decay_steps"])
        return c["lr"] * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))

    def train_step(self, rng: np.random.Generator) -> dict:
        c, net = self.config, self.modules["net"]
        w = c["window"]
        picks = rng.integers(0, len(self.train_set), c["batch"])
        ids = torch.as_tensor(np.stack([encode(random_window(self.train_set[i], w, rng))
                                        for i in picks]))
        mask = torch.as_tensor(np.stack([random_mask(rng, w) for _ in picks]))
        opt = self.optimizers["adam"]
        for group in opt.param_groups:
            group["lr"] = self._lr()
        loss = masked_loss(net(ids, mask, beat_phase(w)), ids, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
        opt.step()
        return {"loss": loss.item()}

    @torch.no_grad()
    def validate(self) -> dict:
        self.net.eval()
        ids, mask = self.valid
        logits = self.net(ids, mask, beat_phase(ids.shape[-1]))
        acc = ((logits.argmax(-1) == ids) & mask).sum() / mask.sum()
        out = {"loss": float(masked_loss(logits, ids, mask)), "acc": float(acc)}
        self.net.train()
        return out

    def export(self):
        return dict(self.net.state_dict()), {"receptive_field_steps": receptive_field(self.config)}


def make_trainer(config: dict, train: list[np.ndarray], valid: list[np.ndarray]) -> ArcnnTrainer:
    return ArcnnTrainer(config, train, valid)


# ------------------------------------------------------------------ sampling


def gumbel_sample(logits, temperature: float, gen: torch.Generator):
    """Class ids from ``logits [..., P1]`` at ``temperature`` (0 = argmax), drawn with ``gen``."""
    if temperature <= 0:
        return logits.argmax(-1)
    u = torch.rand(logits.shape, generator=gen).clamp_(1e-10, 1 - 1e-10)
    return (logits / temperature - torch.log(-torch.log(u))).argmax(-1)


def parallel_moves(ids):
    """Bool ``[K,4,T,P1]``: class ``c`` at (voice v, step t) would make parallel fifths or
    octaves with another voice, given every other cell of ``ids [K,4,T]``.

    Parallel (as in ``metrics.harmony``): two voices sounding at both steps of a
    transition, both moving in the same direction, a fifth or octave (mod 12) apart before
    and after (``|p_v - p_u| % 12`` is 7 or 0 at both steps). Checked for the transitions
    t-1 -> t and t -> t+1. Class ids differ from pitches by a constant, so the intervals
    are the same.
    """
    K, V, T = ids.shape
    c = torch.arange(P1).view(1, 1, P1)  # candidate classes
    pad = torch.zeros(K, V, 1, dtype=ids.dtype)
    prev = torch.cat([pad, ids[..., :-1]], -1)  # [K,4,T] value at t-1 (rest at the edge)
    nxt = torch.cat([ids[..., 1:], pad], -1)  # value at t+1
    out = torch.zeros(K, V, T, P1, dtype=torch.bool)
    perfect = (0, 7)
    for v in range(V):
        pv, nv = prev[:, v, :, None], nxt[:, v, :, None]  # [K,T,1]
        for u in range(V):
            if u == v:
                continue
            pu, cu, nu = prev[:, u, :, None], ids[:, u, :, None], nxt[:, u, :, None]
            # t-1 -> t: u moves pu -> cu, v would move pv -> c
            before = (pv - pu).abs() % 12
            back = ((pv > 0) & (pu > 0) & (cu > 0) & (c > 0) & (cu != pu)
                    & (torch.sign(c - pv) == torch.sign(cu - pu))
                    & ((before == perfect[0]) | (before == perfect[1]))
                    & ((c - cu).abs() % 12 == before))
            # t -> t+1: u moves cu -> nu, v would move c -> nv
            now = (c - cu).abs() % 12
            fwd = ((nv > 0) & (cu > 0) & (nu > 0) & (c > 0) & (nu != cu)
                   & (torch.sign(nv - c) == torch.sign(nu - cu))
                   & ((now == perfect[0]) | (now == perfect[1]))
                   & ((nv - nu).abs() % 12 == now))
            out[:, v] |= back | fwd
    return out


@torch.no_grad()
def gibbs(net, ids, free, phase, iterations: int, temperature: float, gen: torch.Generator,
          p_max: float = 1.0, p_min: float = 0.05, eta: float = 0.75, cool: float = 1.0,
          unit: int = 1, voice_leading: bool = False):
    """Blocked Gibbs with an annealed masking schedule (Yao et al. 2014; Coconet section 4).

    ``ids [K,4,T]`` long (K chains), ``free [K,4,T]`` bool: the cells to sample; the
    others are given. Iteration n hides a random share
    ``p_n = max(p_min, p_max - n (p_max - p_min) / (eta N))`` of the free cells and
    resamples them all at once from the net's conditionals; the first iteration
    (p = 1) draws every free cell independently, the last ones polish single cells.
    The temperature falls geometrically from ``temperature`` to ``cool * temperature``.
    ``voice_leading`` forbids, at each draw, the classes that would form parallel fifths
    or octaves with the current state of the other voices (``parallel_moves``).
    """
    ids = ids.clone()
    n_iter = max(1, iterations)
    for n in range(n_iter):
        p = max(p_min, p_max - n * (p_max - p_min) / (eta * n_iter))
        if n == 0:
            block = free
        else:  # hide whole runs of `unit` steps (a beat when unit = 4) of one voice at a time
            K, V, T = free.shape
            coarse = torch.rand(K, V, -(-T // unit), generator=gen) < p
            block = free & coarse.repeat_interleave(unit, -1)[..., :T]
        logits = net(ids, block, phase)  # [K,4,T,P1]
        if voice_leading:  # constrained sampling: no new parallel fifths/octaves
            bad = parallel_moves(ids)
            bad &= ~bad.all(-1, keepdim=True)
            logits = logits.masked_fill(bad, -torch.inf)
        temp = temperature * cool ** (n / max(1, n_iter - 1))
        ids = torch.where(block, gumbel_sample(logits, temp, gen), ids)
    if voice_leading:  # cells drawn in the same block can still move in parallel: repair
        for v in reversed(range(VOICES)):  # one voice at a time, against the others
            forbid = parallel_moves(ids)  # [K,4,T,P1]
            block = torch.zeros_like(free)
            block[:, v] = forbid[:, v].gather(-1, ids[:, v, :, None])[..., 0] & free[:, v]
            if block.any():
                forbid &= ~forbid.all(-1, keepdim=True)
                logits = net(ids, block, phase).masked_fill(forbid, -torch.inf)
                ids = torch.where(block, gumbel_sample(logits, temp, gen), ids)
    return ids


@torch.no_grad()
def cell_log_probs(net, ids, phase, groups: int, gen: torch.Generator):
    """Pseudo-log-likelihood terms ``[K,4,T]``: log p(cell | the other groups of cells).

    Every cell is hidden exactly once, together with a random 1/groups of the others.
    """
    group = torch.randint(0, groups, ids.shape, generator=gen)
    out = torch.zeros(ids.shape)
    for g in range(groups):
        hide = group == g
        logp = net(ids, hide, phase).log_softmax(-1).gather(-1, ids[..., None])[..., 0]
        out = torch.where(hide, logp, out)
    return out


# ------------------------------------------------------------------ the composer


def melody_edits(old: np.ndarray, new: np.ndarray) -> tuple[int, int]:
    """(removed, added) notes between two melody rows ``[T]``.

    A note of ``old`` is kept when ``new`` holds the same note (pitch, start and end
    steps); every note of ``new`` that is not a note of ``old`` counts as added.
    """
    a, b = set(grid_to_notes(old)), set(grid_to_notes(new))
    return len(a - b), len(b - a)


def interior_rests(grid: np.ndarray) -> np.ndarray:
    """Bool ``[4, T]``: rests that lie between a row's first and last sounding step."""
    out = np.zeros(grid.shape, bool)
    for v, row in enumerate(grid):
        on = np.flatnonzero(row != REST)
        if on.size:
            out[v, on[0] : on[-1]] = row[on[0] : on[-1]] == REST
    return out


class ArcnnComposer(Composer):
    """Coconet-style AR-CNN behind the compose interface.

    ``temperature`` is where the softmax temperature of the Gibbs sampler starts; it
    cools to ``COOL * temperature`` by the last iteration (0 = always the likeliest).
    Controls: ``iterations`` (Gibbs sweeps; for ``enhance`` the melody-edit
    proposals), ``chains`` (parallel Gibbs chains, best kept by pseudo-likelihood),
    ``max_remove`` (enhance: percent of melody notes that may go, default 20) and
    ``max_add`` (enhance: notes that may be added, default 16) and ``voice_leading``
    (default True: sampling never writes new parallel fifths or octaves; see ``gibbs``).
    Other controls (``top_k``, ``top_p``) do not apply to this model and are ignored.
    """

    name = "arcnn"
    tasks = ("accompany", "continue", "enhance", "infill")
    ITERATIONS = 48  # default Gibbs iterations (see the card for the speed/quality trade)
    COOL = 0.5  # the sampling temperature falls from T to COOL * T over the iterations
    UNIT = 1  # Gibbs blocks hide runs of UNIT steps of one voice
    VOICE_LEADING = True  # default of the voice_leading control (see gibbs)
    ENHANCE_ITERATIONS = 32

    def __init__(self, net: ArcnnNet, config: dict):
        self.net = net.eval()
        self.config = config

    @classmethod
    def from_weights(cls, tensors: dict, meta: dict) -> ArcnnComposer:
        net = ArcnnNet(**meta["config"])
        net.load_state_dict({k: v.float() for k, v in tensors.items()})
        return cls(net, meta["config"])

    # -- generation

    def generate(self, task, grid, known, meter, seed, temperature=1.0, **controls):
        """See ``Composer.generate``. Runs on one torch thread (restored afterwards): Gibbs
        sampling is many small forward passes, which threads slow down on a busy CPU."""
        with single_thread():
            return self._generate(task, grid, known, seed, temperature, **controls)

    @torch.no_grad()
    def _generate(self, task, grid, known, seed, temperature, **controls):
        grid = np.asarray(grid, dtype=np.int16)
        known = np.asarray(known, dtype=bool)
        if grid.ndim != 2 or grid.shape[0] != VOICES or known.shape != grid.shape:
            raise ValueError(f"expected grid and known [4, steps]; got {grid.shape}, {known.shape}")
        gen = torch.Generator().manual_seed(int(seed))
        iterations = controls.get("iterations")
        if task == "enhance":
            return self._enhance(grid, known, gen, temperature, iterations,
                                 float(controls.get("max_remove", 20.0)),
                                 int(controls.get("max_add", 16)))
        iterations = self.ITERATIONS if iterations is None else int(iterations)
        return self._fill(grid, known, gen, temperature, iterations,
                          int(controls.get("chains", 1)),
                          bool(controls.get("voice_leading", self.VOICE_LEADING)))

    def _fill(self, grid, known, gen, temperature, iterations, chains=1, voice_leading=True):
        """Sample every unknown cell; known cells come back unchanged.

        Known rests inside a voice (between its first and last note) are sampled too
        (latent) and restored afterwards, so the other voices keep harmonizing through a
        melody's rests as they would in a chorale; leading and trailing rests stay given
        (the piece has not begun or is over there).
        """
        T = grid.shape[1]
        free = torch.as_tensor(~known | (interior_rests(grid) & known)).expand(chains, -1, -1)
        ids = torch.as_tensor(encode(grid)).expand(chains, -1, -1)
        ids = gibbs(self.net, ids, free, beat_phase(T), iterations, temperature, gen,
                    cool=self.COOL, unit=self.UNIT, voice_leading=voice_leading)
        best = 0
        if chains > 1:
            plls = cell_log_probs(self.net, ids, beat_phase(T), 4, gen).mean((1, 2))
            best = int(plls.argmax())
        return np.where(known, grid, decode(ids[best].numpy())).astype(np.int16)

    def _enhance(self, grid, known, gen, temperature, iterations, max_remove, max_add):
        """DeepComposer's melody edit: resample short spans of row 0 within note budgets.

        The other rows are first harmonized under the input melody (as context), then
        each iteration hides a random span of 1-8 beats of the melody and redraws it
        from the net; a proposal is accepted only while at most ``max_remove`` percent
        of the input's melody notes are gone and at most ``max_add`` notes are new
        (``melody_edits``). Finally rows 1-3 are re-harmonized under the edited melody.
        ``iterations = 0`` returns the melody unchanged (with the harmonization).
        """
        if not 0 <= max_remove <= 100:
            raise ValueError(f"max_remove is a percentage 0-100; got {max_remove}")
        iterations = self.ENHANCE_ITERATIONS if iterations is None else int(iterations)
        T = grid.shape[1]
        keep = known.copy()
        keep[0] = True
        out = self._fill(grid, keep, gen, temperature, self.ITERATIONS // 2)
        if iterations <= 0:
            return out
        melody = grid[0]
        budget = math.floor(max_remove / 100 * len(grid_to_notes(melody)))
        ids = torch.as_tensor(encode(out))[None]
        phase = beat_phase(T)
        for _ in range(iterations):
            span = int(torch.randint(1, 9, (), generator=gen)) * STEPS_PER_BEAT
            start = int(torch.randint(0, max(1, T - span + 1), (), generator=gen))
            start -= start % STEPS_PER_BEAT  # spans start on a beat
            hide = torch.zeros(1, VOICES, T, dtype=torch.bool)
            hide[0, 0, start : start + span] = True
            proposal = gibbs(self.net, ids, hide, phase, 2, temperature, gen, cool=self.COOL)
            row = decode(proposal[0, 0].numpy())
            removed, added = melody_edits(melody, row)
            if removed <= budget and added <= max_add:
                ids = proposal
        out = decode(ids[0].numpy())
        keep = known.copy()
        keep[0] = True
        return self._fill(out, keep, gen, temperature, self.ITERATIONS // 2)

    # -- likelihood

    @torch.no_grad()
    def score(self, grid: np.ndarray, meter: Meter) -> float:
        """Mean pseudo-log-likelihood per cell (nats); each cell sees a random 7/8 of the rest."""
        grid = np.asarray(grid, dtype=np.int16)
        gen = torch.Generator().manual_seed(0)
        ids = torch.as_tensor(encode(grid))[None]
        return float(cell_log_probs(self.net, ids, beat_phase(grid.shape[1]), 8, gen).mean())

    @torch.no_grad()
    def nll(self, pieces: list[np.ndarray], order: str = "random", fraction: float = 0.1,
            seed: int = 0) -> dict:
        """Coconet's frame-wise NLL, nats per frame (a frame = the 4 voices at one 16th step).

        For each piece one ordering is drawn: frames in a random order (``order="random"``)
        or left to right (``"chronological"``), and the 4 voices of each frame in a random
        order. Frame ``f``'s term is ``-sum_j log p(x[v_j, f] | frames visited before f,
        voices v_1..v_{j-1} of f)``, conditioning on the ground truth throughout, so the terms
        of all frames add up to ``-log p(piece)`` under that ordering of the orderless NADE.
        Each term costs 4 forward passes, so ``fraction`` of the frames of each piece (drawn
        uniformly, at least one) are scored: ``nll`` = mean of the scored terms (unbiased
        for the per-frame mean, all frames at ``fraction=1``), ``sem`` its standard error,
        ``nll_per_cell`` = nll / 4.
        """
        rng = np.random.default_rng(seed)
        R = self.net.radius
        terms = []
        for piece in pieces:
            ids = torch.as_tensor(encode(piece))  # [4,T]
            T = ids.shape[1]
            frame_order = np.arange(T) if order == "chronological" else rng.permutation(T)
            rank = np.empty(T, dtype=np.int64)
            rank[frame_order] = np.arange(T)
            voice_order = np.stack([rng.permutation(VOICES) for _ in range(T)])  # [T,4]
            chosen = np.flatnonzero(rng.random(T) < fraction)
            if chosen.size == 0:
                chosen = rng.integers(0, T, 1)
            W = min(T, 2 * R + 1)
            xs, hides, phases, where = [], [], [], []
            for f in chosen:
                # a window of W steps around frame f sees everything the whole piece would
                start = int(np.clip(f - R, 0, T - W))
                later = torch.as_tensor(rank[start : start + W] >= rank[f])  # [W] not yet seen
                for j in range(VOICES):
                    hide = later[None].repeat(VOICES, 1)  # [4,W]
                    hide[voice_order[f, :j], f - start] = False  # voices scored before
                    xs.append(ids[:, start : start + W])
                    hides.append(hide)
                    phases.append(beat_phase(W, start))
                    where.append((int(voice_order[f, j]), f - start))
            cell = []
            for i in range(0, len(xs), 128):
                x, h = torch.stack(xs[i : i + 128]), torch.stack(hides[i : i + 128])
                logp = self.net(x, h, torch.stack(phases[i : i + 128])).log_softmax(-1)
                v, t = (torch.as_tensor(c) for c in zip(*where[i : i + 128], strict=True))
                b = torch.arange(len(x))
                cell.append(-logp[b, v, t, x[b, v, t]])
            terms.append(torch.cat(cell).view(-1, VOICES).sum(1).numpy())
        terms = np.concatenate(terms)
        nll = float(terms.mean())
        return {"nll": nll, "sem": float(terms.std() / np.sqrt(len(terms))),
                "nll_per_cell": nll / VOICES, "frames_scored": int(len(terms)),
                "order": order, "fraction": fraction,
                "unit": "nats per 16th-note frame (4 voices)"}
