"""What ``deepcompose.train`` records while a model trains: the sample metrics and their
real values (``MetricsProbe``), and TensorBoard event files (``EventWriter``).

The probe asks the trainer for rolls through its optional hook (see ``train.py``):

- ``sample_rolls(rng, n, real=False) -> bool [n, tracks, steps, 128]``: ``n`` rolls the
  model samples now (``real=True``: ``n`` windows of the training data, the same tracks);
- ``family_metrics(rolls, real=False) -> dict[str, float]`` (optional): the family's own
  measures of the rolls ``sample_rolls`` has just returned;
- ``steps_per_bar`` (optional attribute, default 16): the bar length of the rolls.

Keys written: ``sample_<name>`` and ``real_<name>`` for the four metrics of
``metrics.training`` (``empty_bar_rate``, ``pitch_classes``, ``polyphonic_rate``,
``in_scale_rate``) and for the family's own. Sampling runs under ``torch.no_grad`` with
the torch and numpy random streams of training left untouched, so a run trains the same
weights with or without the probe.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from .metrics.training import sample_metrics

SAMPLES = 8  # rolls sampled at each measurement
REAL_SAMPLES = 64  # training-data windows behind the real values
POINTS = 20  # measurements in a run when --metrics-every is not given
TENSORBOARD_HINT = ('TensorBoard events not written: pip install "deepcompose[train]" '
                    "to get them (log.jsonl has every value)")


def default_every(steps: int) -> int:
    """The measurement interval (steps) that gives ``POINTS`` points over ``steps``."""
    return max(1, steps // POINTS)


class MetricsProbe:
    """Measures sampled rolls every ``every`` steps; the real values once, at creation.

    ``active`` is False (and nothing is measured) when the trainer has no ``sample_rolls``
    or ``every`` is 0."""

    def __init__(self, trainer, every: int, seed: int = 0, samples: int = SAMPLES,
                 real_samples: int = REAL_SAMPLES):
        self.trainer, self.every, self.samples, self.seed = trainer, every, samples, seed
        self.active = every > 0 and callable(getattr(trainer, "sample_rolls", None))
        self.steps_per_bar = int(getattr(trainer, "steps_per_bar", 16))
        self.real: dict[str, float] = {}
        if self.active:
            self.real = {f"real_{k}": v for k, v in self._measure(
                np.random.default_rng([seed, 7919]), real_samples, real=True).items()}

    def due(self, done: int, steps: int) -> bool:
        return self.active and (done % self.every == 0 or done == steps)

    def measure(self, done: int) -> dict[str, float]:
        """``sample_*`` metrics of rolls sampled now (step ``done`` seeds them), plus the
        ``real_*`` values."""
        rng = np.random.default_rng([self.seed, 104729, done])
        now = {f"sample_{k}": v for k, v in self._measure(rng, self.samples).items()}
        return {**now, **self.real}

    def _measure(self, rng, n: int, real: bool = False) -> dict[str, float]:
        import torch

        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(int(rng.integers(2**31)))
            rolls = self.trainer.sample_rolls(rng, n, real=real)
            out = sample_metrics(rolls, self.steps_per_bar)
            family = getattr(self.trainer, "family_metrics", None)
            if family is not None:
                out.update(family(rolls, real=real))
        return {k: float(v) for k, v in out.items()}


def short(metrics: dict[str, float]) -> dict[str, str]:
    """The latest sample metrics for the progress bar: ``{"empty": "0.12", ...}``."""
    names = {"sample_empty_bar_rate": "empty", "sample_pitch_classes": "pcs",
             "sample_polyphonic_rate": "poly", "sample_in_scale_rate": "scale"}
    return {names[k]: f"{metrics[k]:.2f}" for k in names if k in metrics}


class EventWriter:
    """TensorBoard scalars in ``out`` (``torch.utils.tensorboard``) when TensorBoard is
    installed; otherwise nothing, after one line on stderr (``TENSORBOARD_HINT``).

    Tags: ``loss/<key>`` for losses, ``metrics/<name>`` and ``real/<name>`` for the
    sample metrics and their real values, ``valid/<key>`` for validation."""

    def __init__(self, out: Path, enabled: bool = True):
        self.writer = None
        if not enabled:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            print(TENSORBOARD_HINT, file=sys.stderr)
            return
        self.writer = SummaryWriter(log_dir=str(out))

    def row(self, row: dict) -> None:
        """Write one JSONL row's numbers at its ``step``."""
        if self.writer is None:
            return
        step = int(row["step"])
        for key, value in row.items():
            if key in ("step", "seconds") or not isinstance(value, (int, float)):
                continue
            if isinstance(value, float) and math.isnan(value):
                continue
            self.writer.add_scalar(tag(key), value, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def tag(key: str) -> str:
    """A JSONL key -> its TensorBoard tag (``sample_x`` -> ``metrics/x``)."""
    for prefix, group in (("sample_", "metrics/"), ("real_", "real/"), ("valid_", "valid/")):
        if key.startswith(prefix):
            return group + key[len(prefix):]
    return "loss/" + key
