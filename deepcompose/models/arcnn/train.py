"""Training the AR-CNN: Coconet's orderless-NADE masks and loss (see ``composer.py``)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ...metrics.training import parallels
from ...representations.voices import REST
from ..common.samples import SAMPLE_STEPS, grid_windows, unwrap, written
from ..common.schedules import cosine_scheduler, current_lr
from .net import (  # noqa: F401  (DEFAULT_CONFIG, TINY_CONFIG: the training API)
    DEFAULT_CONFIG,
    TINY_CONFIG,
    VOICES,
    ArcnnNet,
    beat_phase,
    decode,
    encode,
    receptive_field,
)

FLOOR = 0.1  # the learning rate falls on a cosine to this share over decay_steps
SAMPLE_ITERATIONS = 16  # Gibbs iterations of the sample hook (generation uses more)


def crop(grid: np.ndarray, steps: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """A random ``[4, steps]`` crop of ``grid`` (rests pad a shorter piece) and its first step.

    The first step gives the crop's beat phase: chorales start on a beat, so step ``s`` of
    a piece lies ``s % 4`` 16ths after a beat.
    """
    total = grid.shape[1]
    if total <= steps:
        out = np.full((grid.shape[0], steps), REST, dtype=np.int16)
        out[:, :total] = grid
        return out, 0
    start = int(rng.integers(0, total - steps + 1))
    return grid[:, start:start + steps], start


def crops(pieces, picks, steps: int, rng: np.random.Generator):
    """Crops of ``pieces[i]`` for ``i`` in ``picks`` -> (class ids ``[B,4,steps]``,
    beat phase ``[B,4,steps]``, each crop's phase from its place in its piece)."""
    wins = [crop(pieces[i], steps, rng) for i in picks]
    ids = torch.as_tensor(np.stack([encode(g) for g, _ in wins]))
    return ids, torch.stack([beat_phase(steps, start) for _, start in wins])


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
        self.grids = {True: train, False: valid}  # the sample hook's pieces: real or not
        self.net = ArcnnNet(**config)
        self.modules = {"net": self.net}
        self.optimizers = {"adam": torch.optim.AdamW(self.net.parameters(), lr=config["lr"],
                                                     weight_decay=0.01)}
        self.schedulers = {"adam": cosine_scheduler(self.optimizers["adam"],
                                                    config["decay_steps"], FLOOR,
                                                    warmup=config["warmup"])}
        rng = np.random.default_rng(1234)  # fixed validation windows and masks
        w = config["window"]
        picks = rng.integers(0, len(valid), config["valid_windows"])
        ids, phase = crops(valid, picks, w, rng)
        self.valid = (ids, torch.as_tensor(np.stack([random_mask(rng, w) for _ in picks])), phase)

    def train_step(self, rng: np.random.Generator) -> dict:
        c, net = self.config, self.modules["net"]
        w = c["window"]
        picks = rng.integers(0, len(self.train_set), c["batch"])
        ids, phase = crops(self.train_set, picks, w, rng)
        mask = torch.as_tensor(np.stack([random_mask(rng, w) for _ in picks]))
        opt = self.optimizers["adam"]
        lr = current_lr(opt)
        loss = masked_loss(net(ids, mask, phase), ids, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
        opt.step()
        self.schedulers["adam"].step()
        return {"loss": loss.item(), "lr": lr}

    @torch.no_grad()
    def validate(self) -> dict:
        self.net.eval()
        ids, mask, phase = self.valid
        logits = self.net(ids, mask, phase)
        acc = ((logits.argmax(-1) == ids) & mask).sum() / mask.sum()
        out = {"loss": float(masked_loss(logits, ids, mask)), "acc": float(acc)}
        self.net.train()
        return out

    @torch.no_grad()
    def sample_rolls(self, rng, n: int, real: bool = False) -> np.ndarray:
        """The sample hook (``deepcompose.train``): alto, tenor and bass ``[n, 3, 64, 128]``
        of 4-bar windows, harmonized under validation sopranos by ``SAMPLE_ITERATIONS``
        iterations of blocked Gibbs sampling (no voice-leading rule), or the training
        windows' own (``real``)."""
        from .sampling import gibbs

        grids = grid_windows(self.grids[real], rng, n, SAMPLE_STEPS)
        if not real:
            net = unwrap(self.net)
            net.eval()
            ids = torch.as_tensor(encode(grids))
            free = torch.zeros(ids.shape, dtype=torch.bool)
            free[:, 1:] = True
            gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
            ids = gibbs(net, ids, free, beat_phase(SAMPLE_STEPS), SAMPLE_ITERATIONS, 1.0, gen)
            net.train()
            grids = decode(ids.numpy())
        return written(grids)

    @staticmethod
    def family_metrics(rolls, real: bool = False) -> dict:
        """Parallel fifths and octaves per 100 transitions among alto, tenor and bass."""
        return {"parallels": parallels(rolls)}

    def export(self):
        return dict(self.net.state_dict()), {"receptive_field_steps": receptive_field(self.config)}


def make_trainer(config: dict, train: list[np.ndarray], valid: list[np.ndarray]) -> ArcnnTrainer:
    return ArcnnTrainer(config, train, valid)


