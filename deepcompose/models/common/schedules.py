"""The learning-rate schedule of every trainer: torch's ``LambdaLR`` with a cosine to a floor.

A trainer keeps its schedulers in ``trainer.schedulers`` (name -> scheduler) and steps
them once per ``train_step``, after its optimizers; ``deepcompose.train`` saves their
state in the checkpoint beside the optimizers', so ``--resume`` continues the schedule.
"""

from __future__ import annotations

import math


def cosine_factor(step: int, horizon: int, floor: float, warmup: int = 0,
                  start: int = 0) -> float:
    """Factor on the base learning rate for update ``step`` (0-based).

    ``min(1, (step + 1) / warmup)`` (no warmup when ``warmup`` is 0) times a cosine that
    falls from 1 at ``start`` to ``floor`` at ``horizon`` and stays there. ``horizon <= 0``
    keeps the factor at 1 after the warmup.
    """
    warm = min(1.0, (step + 1) / warmup) if warmup > 0 else 1.0
    if horizon <= 0:
        return warm
    t = min(1.0, max(0.0, (step - start) / max(1, horizon - start)))
    return warm * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t)))


def cosine_scheduler(optimizer, horizon: int, floor: float, warmup: int = 0, start: int = 0):
    """``torch.optim.lr_scheduler.LambdaLR`` following ``cosine_factor`` from the optimizer's
    learning rate (its ``lr`` when built)."""
    from torch.optim.lr_scheduler import LambdaLR

    def factor(step: int) -> float:
        return cosine_factor(step, horizon, floor, warmup, start)

    return LambdaLR(optimizer, factor)


def adamw_cosine(model, cfg: dict):
    """The transformers' optimiser: AdamW (betas 0.9/0.98; ``weight_decay`` on matrices and
    embeddings, none on biases and norms) at ``lr``, and its schedule: a linear warm-up over
    ``warmup`` steps, then a cosine to ``min_lr`` at ``schedule_steps``. Returns
    ``(optimizer, scheduler)``."""
    import torch

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg["weight_decay"]},
         {"params": no_decay, "weight_decay": 0.0}], lr=cfg["lr"], betas=(0.9, 0.98))
    return opt, cosine_scheduler(opt, cfg["schedule_steps"], cfg["min_lr"] / cfg["lr"],
                                 warmup=cfg["warmup"], start=cfg["warmup"])


def optimizer_step(loss, model, optimizer, scheduler, grad_clip: float) -> None:
    """One update: gradients of ``loss``, clipped to norm ``grad_clip``, then the optimiser's
    and the scheduler's step."""
    import torch

    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    scheduler.step()


def current_lr(optimizer) -> float:
    """The learning rate of the optimizer's first parameter group."""
    return float(optimizer.param_groups[0]["lr"])
