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


def current_lr(optimizer) -> float:
    """The learning rate of the optimizer's first parameter group."""
    return float(optimizer.param_groups[0]["lr"])
