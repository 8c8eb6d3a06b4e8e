"""MuseGAN-style conditional multi-track GAN: alto, tenor and bass under a melody.

Dong et al. (AAAI 2018) generate several tracks from a shared latent plus one
latent per track (the "hybrid" model) and train against one critic that sees
all tracks together. Here the generator is conditioned on the melody (row 0 of
a voice grid) and writes three monophonic voices; the critic sees melody and
voices; training is WGAN-GP (Gulrajani et al. 2017, lambda = 10) plus a
supervised cross-entropy term towards Bach's own parts, as in pix2pix
(Isola et al. 2017).

Time unit: the model works on *frames* of one 8th note (2 grid steps of a
16th), so no generated note is shorter than half a beat. A window holds
``window`` frames; its first ``k`` frames may be known parts (the previous
window's output), which is how windows stitch into a piece of any length.

Per frame the inputs are (channels):
- melody: one-hot over the ``V`` classes (pitch in ``PITCH_RANGE``, or rest), averaged over the
  frame's two 16th steps                                               [V]
- meter: on-beat, downbeat, sin/cos of the position in the bar          [4]
- known parts (one-hot per voice, zero where unknown) and a known flag  [3V + 1]
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..data import PITCH_RANGE
from ..errors import DeepcomposeError
from ..representations.voices import REST, STEPS_PER_BEAT, Meter
from .base import Composer, single_thread

LOW, HIGH = PITCH_RANGE
V = HIGH - LOW + 2  # vocabulary: pitches LOW..HIGH, then rest (last index)
REST_IX = V - 1
PARTS = 3  # alto, tenor, bass
STEPS_PER_FRAME = 2  # one frame = one 8th note
N_METER = 4

DEFAULT_CONFIG = {
    "channels": 128,  # generator trunk width
    "blocks": 6,  # residual dilated conv blocks in the generator (dilations 1,2,4,8,1,2)
    "critic_channels": 96,
    "z_shared": 16,  # latent shared by all tracks (one per training window / generated piece)
    "z_track": 8,  # private latent per track (likewise)
    "window": 32,  # frames per window (16 beats = 4 bars of 4/4)
    "context": 8,  # at most this many known frames at the start of a window
    "lookahead": 8,  # frames generated past the committed part (melody lookahead)
    "batch": 32,
    "lr": 1e-3,
    "critic_lr": 1e-3,
    "decay_steps": 6000,  # both learning rates follow a cosine to 5% over this many updates
    "n_critic": 1,  # critic updates per generator update
    "gp": 10.0,  # gradient-penalty weight (WGAN-GP lambda)
    "sup": 1.0,  # weight of the supervised cross-entropy term
    "adv": 0.05,  # weight of the adversarial term in the generator loss
    "chunk": 64,  # generation: at most this many frames written per generator pass
    "sample_scale": 0.5,  # generation: chord sampling temperature = this x the user's temperature
}
TINY_CONFIG = {**DEFAULT_CONFIG, "channels": 16, "blocks": 2, "critic_channels": 16,
               "z_shared": 4, "z_track": 2, "window": 16, "context": 4, "lookahead": 4,
               "batch": 4}


# ---------------------------------------------------------------- features


def to_index(pitches: np.ndarray) -> np.ndarray:
    """MIDI pitches (REST = -1) -> vocabulary indices; pitches are clipped into range."""
    pitches = np.asarray(pitches)
    ix = np.clip(pitches, LOW, HIGH) - LOW
    return np.where(pitches == REST, REST_IX, ix).astype(np.int64)


def from_index(ix: np.ndarray) -> np.ndarray:
    """Vocabulary indices -> MIDI pitches (REST = -1), int16."""
    ix = np.asarray(ix)
    return np.where(ix == REST_IX, REST, ix + LOW).astype(np.int16)


def meter_features(steps: int, meter: Meter) -> np.ndarray:
    """``[N_METER, steps // 2]`` per 8th frame: on-beat, downbeat, sin and cos of the bar phase.

    Frame ``f`` starts at grid step ``2 f``; the grid is assumed padded so that
    ``meter.offset`` is even.
    """
    start = np.arange(0, steps, STEPS_PER_FRAME)
    pos = (start - meter.offset) % meter.steps_per_bar  # steps since the last bar line
    phase = 2 * math.pi * pos / meter.steps_per_bar
    return np.stack([(pos % STEPS_PER_BEAT == 0), pos == 0, np.sin(phase), np.cos(phase)]
                    ).astype(np.float32)


def melody_features(row: np.ndarray) -> np.ndarray:
    """Soprano row ``[steps]`` (steps even) -> ``[V, steps // 2]``: mean one-hot per frame."""
    onehot = np.eye(V, dtype=np.float32)[to_index(row)]  # [steps, V]
    return onehot.reshape(-1, STEPS_PER_FRAME, V).mean(1).T


def guess_meter(grid: np.ndarray) -> Meter:
    """Bar lines of an unannotated chorale, from where its long notes (>= a half note) start.

    Chorale half notes fall on beats 1 and 3 in 4/4 and on beat 1 in 3/4: pick the
    meter and offset whose strong beats catch the most long-note onsets.
    """
    from ..representations.voices import grid_to_notes

    onsets = np.array([s for row in grid for _, s, e in grid_to_notes(row) if e - s >= 8])
    if onsets.size == 0:
        return Meter(16, 0)
    best = None
    for spb, strong in ((16, 8), (12, 12)):
        for off in range(0, spb, STEPS_PER_BEAT):
            key = (np.mean((onsets - off) % strong == 0), np.mean((onsets - off) % spb == 0))
            if best is None or key > best[0]:
                best = (key, Meter(spb, off))
    return best[1]


# ---------------------------------------------------------------- generator


class Block(nn.Module):
    """Residual dilated conv over frames: ``[B, C, T] -> [B, C, T]``."""

    def __init__(self, c: int, dilation: int):
        super().__init__()
        self.conv1 = nn.Conv1d(c, c, 3, padding=dilation, dilation=dilation)
        self.conv2 = nn.Conv1d(c, c, 1)
        self.norm = nn.GroupNorm(1, c)

    def forward(self, x):
        return x + self.conv2(F.gelu(self.conv1(F.gelu(self.norm(x)))))


class Generator(nn.Module):
    """(melody, meter, known parts, latents) -> logits ``[B, PARTS, T, V]``.

    MuseGAN hybrid: a trunk shared by all tracks sees the shared latent; each
    track's head adds its own private latent.
    """

    def __init__(self, cfg: dict):
        super().__init__()
        c, zs, zt = cfg["channels"], cfg["z_shared"], cfg["z_track"]
        self.zs, self.zt = zs, zt
        self.inp = nn.Conv1d(V + N_METER + PARTS * V + 1 + zs, c, 3, padding=1)
        self.blocks = nn.Sequential(*[Block(c, 2 ** (i % 4)) for i in range(cfg["blocks"])])
        self.heads = nn.ModuleList(nn.Sequential(
            nn.Conv1d(c + zt, c, 3, padding=1), nn.GELU(), nn.Conv1d(c, V, 1))
            for _ in range(PARTS))

    def forward(self, cond, known, z_shared, z_track):
        # cond [B, V+4, T]; known [B, 3V+1, T]; z_shared [B, zs]; z_track [B, PARTS, zt]
        T = cond.shape[-1]
        zs = z_shared[:, :, None].expand(-1, -1, T)
        h = self.blocks(self.inp(torch.cat([cond, known, zs], 1)))  # [B, C, T]
        outs = [head(torch.cat([h, z_track[:, i, :, None].expand(-1, -1, T)], 1))
                for i, head in enumerate(self.heads)]  # PARTS x [B, V, T]
        return torch.stack(outs, 1).transpose(2, 3)  # [B, PARTS, T, V]


class Critic(nn.Module):
    """(melody, meter, parts as per-frame distributions) -> one score per window ``[B]``."""

    def __init__(self, cfg: dict):
        super().__init__()
        c = cfg["critic_channels"]
        self.net = nn.Sequential(
            nn.Conv1d(V + N_METER + PARTS * V, c, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(c, c, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(c, 2 * c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # T/2: beats
            nn.Conv1d(2 * c, 2 * c, 3, padding=2, dilation=2), nn.LeakyReLU(0.2),
            nn.Conv1d(2 * c, 2 * c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # T/4
        )
        self.out = nn.Linear(2 * c, 1)

    def forward(self, cond, parts):
        # cond [B, V+4, T]; parts [B, PARTS, T, V] (one-hot or softmax)
        B, _, T, _ = parts.shape
        x = torch.cat([cond, parts.transpose(2, 3).reshape(B, PARTS * V, T)], 1)
        return self.out(self.net(x).mean(-1)).squeeze(-1)  # [B]


def known_input(parts_ix: torch.Tensor, n_known: torch.Tensor) -> torch.Tensor:
    """Known-part channels ``[B, 3V+1, T]``: one-hot of ``parts_ix`` ``[B, PARTS, T]`` on the
    first ``n_known[b]`` frames, zero after; plus the known flag."""
    B, _, T = parts_ix.shape
    mask = (torch.arange(T)[None, :] < n_known[:, None]).float()  # [B, T]
    onehot = F.one_hot(parts_ix, V).float() * mask[:, None, :, None]  # [B, PARTS, T, V]
    return torch.cat([onehot.transpose(2, 3).reshape(B, PARTS * V, T), mask[:, None]], 1)


def window_onehot(parts_ix: torch.Tensor) -> torch.Tensor:
    """``[B, PARTS, T]`` indices -> ``[B, PARTS, T, V]`` one-hot floats."""
    return F.one_hot(parts_ix, V).float()


def mix_known(real: torch.Tensor, fake: torch.Tensor, n_known: torch.Tensor) -> torch.Tensor:
    """Parts the critic sees: ``real`` on the first ``n_known`` frames, ``fake`` after."""
    T = real.shape[2]
    mask = (torch.arange(T)[None, :] < n_known[:, None]).float()[:, None, :, None]
    return mask * real + (1 - mask) * fake


# ---------------------------------------------------------------- pieces as frames


def piece_frames(grid: np.ndarray, meter: Meter, min_frames: int = 0):
    """A grid ``[4, steps]`` -> (cond ``[V+4, F]``, parts ``[PARTS, F]`` indices, pad_front).

    The grid is padded with rests so that the bar offset is even (frames align with
    8th notes) and the piece holds at least ``min_frames`` frames. Each part's frame
    value is its pitch at the frame's first 16th step.
    """
    pad_front = meter.offset % STEPS_PER_FRAME
    steps = pad_front + grid.shape[1]
    frames = max(min_frames, -(-steps // STEPS_PER_FRAME))
    padded = np.full((grid.shape[0], frames * STEPS_PER_FRAME), REST, dtype=np.int16)
    padded[:, pad_front:steps] = grid
    meter = Meter(meter.steps_per_bar, meter.offset + pad_front)
    cond = np.concatenate([melody_features(padded[0]), meter_features(padded.shape[1], meter)])
    parts = to_index(padded[1:, ::STEPS_PER_FRAME])
    return cond, parts, pad_front


# ---------------------------------------------------------------- training


class GanTrainer:
    """WGAN-GP + supervised cross-entropy on random windows of (augmented) chorales."""

    def __init__(self, cfg: dict, train: list[np.ndarray], valid: list[np.ndarray]):
        self.cfg = cfg
        self.modules = {"generator": Generator(cfg), "critic": Critic(cfg)}
        self.optimizers = {
            "generator": torch.optim.Adam(self.modules["generator"].parameters(), lr=cfg["lr"],
                                          betas=(0.5, 0.9)),
            "critic": torch.optim.Adam(self.modules["critic"].parameters(),
                                       lr=cfg["critic_lr"], betas=(0.5, 0.9)),
        }
        self.train = self._frames(train)
        vrng = np.random.default_rng(0)
        vframes = self._frames(valid)
        self.valid_batch = self._batch(vframes, vrng, 128)

    def _frames(self, pieces):
        meters: dict[bytes, Meter] = {}
        out = []
        for g in pieces:
            key = (g - g[g != REST].min() * (g != REST)).tobytes()  # transposition-invariant
            if key not in meters:
                meters[key] = guess_meter(g)
            cond, parts, _ = piece_frames(g, meters[key], self.cfg["window"])
            out.append((torch.from_numpy(cond), torch.from_numpy(parts)))
        return out

    def _batch(self, pieces, rng, size):
        """(cond ``[B, V+4, W]``, parts ``[B, PARTS, W]``, n_known ``[B]``) of random windows."""
        W = self.cfg["window"]
        conds, parts = [], []
        for i in rng.integers(0, len(pieces), size):
            cond, part = pieces[i]
            s = int(rng.integers(0, cond.shape[1] - W + 1))
            conds.append(cond[:, s:s + W])
            parts.append(part[:, s:s + W])
        n_known = torch.from_numpy(rng.integers(0, self.cfg["context"] + 1, size))
        return torch.stack(conds), torch.stack(parts), n_known

    def _latents(self, B):
        return torch.randn(B, self.cfg["z_shared"]), torch.randn(B, PARTS, self.cfg["z_track"])

    def _fake(self, G, cond, parts, n_known, real):
        logits = G(cond, known_input(parts, n_known), *self._latents(cond.shape[0]))
        return logits, mix_known(real, logits.softmax(-1), n_known)

    def _schedule(self) -> float:
        """Cosine learning-rate factor for the update about to be made (1 -> 0.05).

        The update count is read from Adam's own state, so it survives ``--resume``.
        """
        opt = self.optimizers["generator"]
        state = opt.state.get(opt.param_groups[0]["params"][0], {})
        done = int(state["step"]) if "step" in state else 0
        horizon = self.cfg["decay_steps"]
        if horizon <= 0:
            return 1.0
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(done / horizon, 1.0)))

    def train_step(self, rng) -> dict:
        G, D = self.modules["generator"], self.modules["critic"]
        cfg = self.cfg
        factor = self._schedule()
        for name, key in (("generator", "lr"), ("critic", "critic_lr")):
            for group in self.optimizers[name].param_groups:
                group["lr"] = cfg[key] * factor
        out = {"lr": cfg["lr"] * factor}
        for _ in range(cfg["n_critic"]):
            cond, parts, n_known = self._batch(self.train, rng, cfg["batch"])
            real = window_onehot(parts)
            with torch.no_grad():
                _, fake = self._fake(G, cond, parts, n_known, real)
            d_real, d_fake = D(cond, real).mean(), D(cond, fake).mean()
            eps = torch.rand(real.shape[0], 1, 1, 1)
            mid = (eps * real + (1 - eps) * fake).requires_grad_(True)
            grad, = torch.autograd.grad(D(cond, mid).sum(), mid, create_graph=True)
            gp = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
            loss_d = d_fake - d_real + cfg["gp"] * gp
            self.optimizers["critic"].zero_grad()
            loss_d.backward()
            self.optimizers["critic"].step()
            out.update(wdist=float((d_real - d_fake).detach()), gp=float(gp.detach()))

        cond, parts, n_known = self._batch(self.train, rng, cfg["batch"])
        real = window_onehot(parts)
        logits, fake = self._fake(G, cond, parts, n_known, real)
        ce = self._ce(logits, parts, n_known)
        adv = -D(cond, fake).mean()
        loss_g = cfg["sup"] * ce + cfg["adv"] * adv
        self.optimizers["generator"].zero_grad()
        loss_g.backward()
        self.optimizers["generator"].step()
        out.update(ce=float(ce.detach()), adv=float(adv.detach()))
        return out

    @staticmethod
    def _ce(logits, parts, n_known):
        """Mean cross-entropy (nats per part-frame) over the unknown frames."""
        T = parts.shape[2]
        unknown = (torch.arange(T)[None, :] >= n_known[:, None])[:, None, :].expand_as(parts)
        return F.cross_entropy(logits[unknown], parts[unknown])

    @torch.no_grad()
    def validate(self) -> dict:
        G = self.modules["generator"]
        G.eval()
        cond, parts, n_known = self.valid_batch
        B = cond.shape[0]
        zs, zt = torch.zeros(B, self.cfg["z_shared"]), torch.zeros(B, PARTS, self.cfg["z_track"])
        logits = G(cond, known_input(parts, n_known), zs, zt)
        G.train()
        T = parts.shape[2]
        unknown = (torch.arange(T)[None, :] >= n_known[:, None])[:, None, :].expand_as(parts)
        acc = (logits.argmax(-1) == parts)[unknown].float().mean()
        return {"ce": float(self._ce(logits, parts, n_known)), "acc": float(acc)}

    def export(self):
        tensors = {f"{name}.{k}": v for name, m in self.modules.items()
                   for k, v in getattr(m, "module", m).state_dict().items()}
        n = sum(p.numel() for p in self.modules["generator"].parameters())
        return tensors, {"generator_params": n}


def make_trainer(config: dict, train: list[np.ndarray], valid: list[np.ndarray]) -> GanTrainer:
    return GanTrainer(config, train, valid)


# ---------------------------------------------------------------- inference


def parallel_perfect(prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """Whether moving from chord ``prev`` ``[N]`` to each chord ``cur`` ``[K, N]`` (MIDI pitches,
    REST = -1) makes parallel fifths or octaves (unisons) between two voices -> ``[K]``.

    Both voices sound in both chords, both move in the same direction, and their
    interval (mod 12) is 0 or 7 before and after.
    """
    move = np.sign(cur - prev)  # [K, N]
    ok = (cur != REST) & (prev != REST)
    iv_prev = np.abs(prev[:, None] - prev[None, :]) % 12  # [N, N]
    iv_cur = np.abs(cur[:, :, None] - cur[:, None, :]) % 12  # [K, N, N]
    same_dir = (move[:, :, None] * move[:, None, :]) > 0
    both = ok[:, :, None] & ok[:, None, :] & ~np.eye(len(prev), dtype=bool)
    perfect = (iv_cur == iv_prev) & ((iv_cur == 0) | (iv_cur == 7))
    return (same_dir & both & perfect).any((1, 2))


def decode_frames(logits, prev, mel_before, mel_at, temperature, gen, k: int = 4):
    """Choose one (alto, tenor, bass) chord per frame from ``logits`` ``[PARTS, t, V]``.

    The candidates are the product of each voice's ``k`` likeliest pitches; a chord's
    score is the sum of its log-probabilities over ``temperature``. Chords making
    parallel fifths or octaves with the previous frame (melody included) are
    dropped unless every candidate does. Temperature 0 takes the best chord,
    otherwise the Gumbel-max trick samples one. ``prev`` ``[PARTS]``: indices of the
    frame before; melody pitches ``[t]`` in MIDI. Returns indices ``[PARTS, t]``.
    """
    top, cand = logits.log_softmax(-1).topk(k, -1)  # [PARTS, t, k]
    combos = torch.cartesian_prod(*[torch.arange(k)] * PARTS)  # [K, PARTS]
    voice = torch.arange(PARTS)
    ix = cand[voice, :, combos].permute(2, 0, 1).numpy()  # [t, K, PARTS] vocabulary indices
    score = top[voice, :, combos].sum(1).T  # [t, K]
    if temperature > 0:
        u = torch.rand(score.shape, generator=gen).clamp_min(1e-9)
        score = score / temperature - torch.log(-torch.log(u))
    score = score.numpy()
    pitches = from_index(ix).astype(np.int64)  # [t, K, PARTS]
    mel_before, mel_at = mel_before.numpy(), mel_at.numpy()
    last = from_index(prev.numpy()).astype(np.int64)
    out = np.empty((logits.shape[1], PARTS), dtype=np.int64)
    for j in range(len(out)):
        chord = np.concatenate([np.full((len(combos), 1), mel_at[j]), pitches[j]], 1)
        bad = parallel_perfect(np.concatenate([[mel_before[j]], last]), chord)
        bad |= ~np.isfinite(score[j])
        s = np.where(bad, -np.inf, score[j]) if not bad.all() else score[j]
        best = int(np.argmax(s))
        out[j], last = ix[j, best], pitches[j, best]
    return torch.from_numpy(out.T.copy())


def build(cls, cfg: dict, tensors: dict, prefix: str) -> nn.Module:
    """``cls(cfg)`` holding the ``prefix``-ed tensors, without a throw-away random init."""
    with torch.device("meta"):
        module = cls(cfg)
    state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    module.load_state_dict(state, assign=True)
    return module


class GanComposer(Composer):
    """Accompaniment for a melody of any length and meter, window by window."""

    name = "gan"
    tasks = ("accompany",)

    def __init__(self, cfg: dict, generator: Generator, critic_tensors: dict):
        self.cfg, self.generator = cfg, generator.eval()
        self._critic_tensors, self._critic = critic_tensors, None

    @classmethod
    def from_weights(cls, tensors: dict, meta: dict) -> GanComposer:
        cfg = {**DEFAULT_CONFIG, **meta["config"]}
        with single_thread():
            G = build(Generator, cfg, tensors, "generator.")
        return cls(cfg, G, {k: v for k, v in tensors.items() if k.startswith("critic.")})

    @property
    def critic(self) -> Critic:
        """The critic, built on first use (``generate`` does not need it)."""
        if self._critic is None:
            self._critic = build(Critic, self.cfg, self._critic_tensors, "critic.").eval()
        return self._critic

    def generate(self, task, grid, known, meter, seed, temperature=1.0, **controls):
        """Alto, tenor and bass under ``grid[0]`` ``[4, steps]``; known cells come back unchanged.

        Windows of ``window`` frames advance by ``window - context - lookahead``
        frames; each starts with up to ``context`` frames already written (the
        previous window's output) and writes the next ones while seeing
        ``lookahead`` frames of melody beyond them. Per 8th frame one chord is
        chosen by ``decode_frames``: the best at ``temperature == 0`` (latents
        zero); otherwise the latents are drawn from ``seed`` (the GAN's own
        randomness) and the chord is sampled at ``sample_scale * temperature``
        (0.5 x by default: sampling each frame at the full temperature breaks the
        voices into 8th notes). No voice goes above the melody,
        and no voice rests where the melody sounds. Control ``chunk``: at most
        this many frames per generator pass.
        """
        with single_thread(), torch.no_grad():
            return self._generate(task, grid, known, meter, seed, temperature, **controls)

    def _generate(self, task, grid, known, meter, seed, temperature, **controls):
        if task not in self.tasks:
            raise DeepcomposeError(f"model 'gan' cannot do task {task!r}; it does 'accompany'")
        grid = np.asarray(grid, dtype=np.int16)
        cfg, W = self.cfg, self.cfg["window"]
        steps = grid.shape[1]
        cond, _, pad_front = piece_frames(grid, meter)
        n = cond.shape[1]  # frames to write
        cond, _, _ = piece_frames(grid, meter, n + W)  # padded so every window is full
        cond = torch.from_numpy(cond)
        cap, sounding, mel_at, mel_before = self._melody_frames(grid[0], pad_front, n)
        gen = torch.Generator().manual_seed(int(seed))
        parts = torch.full((1, PARTS, n + W), REST_IX, dtype=torch.long)
        zs = torch.randn(1, cfg["z_shared"], generator=gen)  # one per piece, as in MuseGAN
        zt = torch.randn(1, PARTS, cfg["z_track"], generator=gen)
        if temperature <= 0:
            zs, zt = zs * 0, zt * 0
        chunk = int(controls.get("chunk", cfg["chunk"]))
        pos = 0
        while pos < n:
            s = max(0, pos - cfg["context"])
            end = min(n if s + W >= n else s + W - cfg["lookahead"], pos + chunk)
            n_known = torch.tensor([pos - s])
            logits = self.generator(cond[None, :, s:s + W], known_input(parts[:, :, s:s + W],
                                    n_known), zs, zt)[0, :, pos - s:end - s]  # [PARTS, t, V]
            logits = self._mask(logits, cap[pos:end], sounding[pos:end])
            prev = parts[0, :, pos - 1] if pos > 0 else torch.full((PARTS,), REST_IX)
            choice = decode_frames(logits, prev, mel_before[pos:end], mel_at[pos:end],
                                   temperature * cfg["sample_scale"], gen)
            parts[0, :, pos:end] = choice
            pos = end
        rows = from_index(parts[0, :, :n].numpy()).repeat(STEPS_PER_FRAME, axis=1)
        out = grid.copy()
        out[1:] = rows[:, pad_front:pad_front + steps]
        known = np.asarray(known, dtype=bool)
        out[known] = grid[known]
        out[0] = grid[0]
        return out

    @staticmethod
    def _melody_frames(melody: np.ndarray, pad_front: int, n: int):
        """Per frame ``[n]``: the highest pitch index a part may take (the melody's lowest
        pitch in the frame, carried over rests), whether the melody sounds, and the melody
        pitch at the frame's first step and just before it (MIDI, REST = -1)."""
        row = np.full(n * STEPS_PER_FRAME, REST, dtype=np.int16)
        row[pad_front:pad_front + len(melody)] = melody
        frames = row.reshape(n, STEPS_PER_FRAME)
        sounding = (frames != REST).any(1)
        low = np.where(frames == REST, 10_000, frames).min(1)
        cap = np.full(n, HIGH, dtype=np.int64)
        if sounding.any():
            last = low[sounding][0]
            for f in range(n):
                last = low[f] if sounding[f] else last
                cap[f] = min(last, HIGH)
        cap = np.clip(cap, LOW, HIGH) - LOW
        before = np.concatenate([[REST], row[STEPS_PER_FRAME - 1:-1:STEPS_PER_FRAME]])
        return (torch.from_numpy(cap), torch.from_numpy(sounding),
                torch.from_numpy(frames[:, 0].astype(np.int64)),
                torch.from_numpy(before.astype(np.int64)))

    @staticmethod
    def _mask(logits, cap, sounding):
        """Forbid pitches above ``cap`` and rests where the melody sounds. ``logits [P, t, V]``."""
        ix = torch.arange(V)
        banned = (ix[None, :] > cap[:, None]) & (ix[None, :] != REST_IX)  # [t, V]
        banned = banned | ((ix[None, :] == REST_IX) & sounding[:, None])
        return logits.masked_fill(banned[None], float("-inf"))

    def score(self, grid: np.ndarray, meter: Meter) -> float:
        with single_thread(), torch.no_grad():
            return self._score(grid, meter)

    def _score(self, grid: np.ndarray, meter: Meter) -> float:
        """The critic's mean score over consecutive windows (higher = more Bach-like)."""
        W = self.cfg["window"]
        cond, parts, _ = piece_frames(np.asarray(grid, dtype=np.int16), meter)
        n = -(-cond.shape[1] // W) * W
        cond, parts, _ = piece_frames(np.asarray(grid, dtype=np.int16), meter, n)
        cond = torch.from_numpy(cond).reshape(-1, n // W, W).transpose(0, 1)  # [N, V+4, W]
        parts = torch.from_numpy(parts).reshape(PARTS, n // W, W).transpose(0, 1)
        return float(self.critic(cond, window_onehot(parts)).mean())
