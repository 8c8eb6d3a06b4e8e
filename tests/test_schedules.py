"""Learning-rate schedules are torch's own and survive --resume: a run stopped and resumed
follows the same learning rates as one that never stopped."""

from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")

from deepcompose.models.common.schedules import cosine_factor  # noqa: E402
from deepcompose.train import train  # noqa: E402

SHORT = {  # schedules short enough to move within a few steps
    "gan": {"decay_steps": 6},
    "arcnn": {"decay_steps": 6, "warmup": 2},
    "transformer": {"schedule_steps": 6, "warmup": 2},
}


def lrs(out) -> list[float]:
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return [r["lr"] for r in sorted(rows, key=lambda r: r["step"])]


@pytest.mark.parametrize("model", sorted(SHORT))
def test_resume_continues_the_schedule(model, tmp_path):
    kw = dict(model=model, seed=0, tiny=True, progress=False, threads=1, validate_every=100,
              checkpoint_every=3, overrides=SHORT[model])
    train(steps=8, out=tmp_path / "straight", **kw)
    train(steps=3, out=tmp_path / "stopped", **kw)
    state = torch.load(tmp_path / "stopped" / "checkpoint.pt", weights_only=True)
    assert set(state["schedulers"]) == set(state["optimizers"])  # saved beside them
    train(steps=8, out=tmp_path / "stopped", resume=True, **kw)
    straight, resumed = lrs(tmp_path / "straight"), lrs(tmp_path / "stopped")
    assert len(resumed) == 8
    assert resumed == pytest.approx(straight, rel=1e-9)
    assert len(set(straight)) >= 4  # the schedule really moves over these steps


def test_cosine_factor_shapes():
    assert cosine_factor(0, 10, 0.1) == pytest.approx(1.0)
    assert cosine_factor(5, 10, 0.1) == pytest.approx(0.55)
    assert cosine_factor(10, 10, 0.1) == pytest.approx(0.1)
    assert cosine_factor(50, 10, 0.1) == pytest.approx(0.1)  # stays at the floor
    assert cosine_factor(0, 10, 0.1, warmup=4) == pytest.approx(0.25)  # linear warmup
    # warmup first, then the cosine from its end (the transformer's schedule)
    assert cosine_factor(3, 10, 0.0, warmup=4, start=4) == pytest.approx(1.0)
    assert cosine_factor(7, 10, 0.0, warmup=4, start=4) == pytest.approx(0.5)
    assert cosine_factor(3, 0, 0.05) == 1.0  # no horizon: constant
    assert math.isclose(cosine_factor(2, 4, 0.05), 0.05 + 0.95 * 0.5)
