"""Training the music transformer: random windows, AdamW, a cosine schedule."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ...metrics.training import parallels
from ...representations.voices import STEPS_PER_BEAT
from ..common.samples import SAMPLE_STEPS, grid_windows, written
from ..common.schedules import adamw_cosine, current_lr, optimizer_step
from .net import (  # noqa: F401  (DEFAULT_CONFIG, TINY_CONFIG: the training API)
    BOS_ID,
    DEFAULT_CONFIG,
    REST_ID,
    TINY_CONFIG,
    VOCAB,
    VOICES,
    MusicTransformer,
    fold_into_range,
    grid_to_tokens,
    tokens_to_grid,
    window_len,
)
from .sampling import mean_nll, sample

NLL_PIECES = 4  # validation pieces behind the sample hook's NLL


class TransformerTrainer:
    """deepcompose.train's protocol: random windows of augmented pieces, AdamW, cosine lr."""

    def __init__(self, cfg: dict, train: list[np.ndarray], valid: list[np.ndarray]):
        self.cfg = cfg
        model = MusicTransformer(cfg)
        opt, sched = adamw_cosine(model, cfg)
        self.modules = {"model": model}
        self.optimizers = {"adamw": opt}
        self.schedulers = {"adamw": sched}  # linear warm-up, then a cosine to min_lr
        self.train = [grid_to_tokens(g) for g in train]  # [4 * steps] each
        self.valid = valid
        self.grids = {True: train, False: valid}  # the sample hook's pieces: real or not

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
        lr = current_lr(opt)
        ids, tgt, phase = self.batch(rng)
        model.train()
        logits = model(ids, phase)  # [B, W, VOCAB]
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tgt.reshape(-1), ignore_index=-1)
        optimizer_step(loss, model, opt, self.schedulers["adamw"], self.cfg["grad_clip"])
        return {"loss": float(loss.detach()), "lr": lr}

    def _model(self) -> MusicTransformer:
        return getattr(self.modules["model"], "module", self.modules["model"])

    def validate(self) -> dict:
        return {"nll": mean_nll(self._model(), self.valid)["nll"]}

    def sample_rolls(self, rng, n: int, real: bool = False) -> np.ndarray:
        """The sample hook (``deepcompose.train``): alto, tenor and bass ``[n, 3, 64, 128]``
        of 4-bar windows, sampled token by token under validation sopranos (temperature 1,
        no top-k/p, no voice-leading rule), or the training windows' own (``real``)."""
        grids = grid_windows(self.grids[real], rng, n, SAMPLE_STEPS)
        if not real:
            model = self._model()
            for k, grid in enumerate(grids):
                tokens = grid_to_tokens(fold_into_range(grid))
                known = np.arange(len(tokens)) % VOICES == 0  # the soprano
                out = sample(model, tokens, known, 0, int(rng.integers(2**31)),
                             voice_leading=False)
                grids[k] = tokens_to_grid(out)
            model.train()
        return written(grids)

    def family_metrics(self, rolls, real: bool = False) -> dict:
        """Parallels per 100 transitions among alto, tenor and bass; for the samples, the
        NLL (nats per token) of the first ``NLL_PIECES`` validation pieces."""
        out = {"parallels": parallels(rolls)}
        if not real:
            out["nll"] = mean_nll(self._model(), self.valid[:NLL_PIECES])["nll"]
        return out

    def export(self):
        model = self._model()
        tensors = {k: v.detach().clone() for k, v in model.state_dict().items()}
        n = sum(p.numel() for p in model.parameters())
        return tensors, {"params": n, "tokens": "time-major S,A,T,B; 0 rest, 1.. pitches, BOS"}


def make_trainer(config: dict, train: list[np.ndarray], valid: list[np.ndarray]):
    return TransformerTrainer(config, train, valid)

