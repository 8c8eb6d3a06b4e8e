"""Training on two processes with torchrun + DistributedDataParallel (gloo on CPU).

The test runs this file as a script, once alone and once under
``torchrun --standalone --nproc_per_node 2``. Each process trains the tiny
transformer with ``deepcompose.train.train`` and, at the end, writes a hash of its
own parameters: under DDP both ranks must hold the same weights (gradients are
averaged), and rank 0's loss must follow the single-process run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL, STEPS = "transformer", 60


def _main(model: str, out: str, steps: int) -> None:
    """Train ``model`` (tiny) into ``out``; write ``params-rank{RANK}.txt`` (sha256 of weights)."""
    import importlib

    from deepcompose import train as training
    from deepcompose.models.registry import trainee

    fam = importlib.import_module(trainee(model).trainer)
    made = {}
    make_trainer = fam.make_trainer

    def capture(*args, **kwargs):
        made["trainer"] = make_trainer(*args, **kwargs)
        return made["trainer"]

    fam.make_trainer = capture
    training.train(model=model, steps=steps, out=out, seed=0, tiny=True, threads=1,
                   progress=False, validate_every=10**9, checkpoint_every=10**9)
    h = hashlib.sha256()
    for name, module in sorted(made["trainer"].modules.items()):
        for key, value in sorted(getattr(module, "module", module).state_dict().items()):
            h.update(f"{name}.{key}".encode())
            h.update(value.detach().cpu().numpy().tobytes())
    Path(out, f"params-rank{os.environ.get('RANK', '0')}.txt").write_text(h.hexdigest())


def _losses(out: Path) -> list[float]:
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, STEPS + 1))
    return [r["loss"] for r in rows]


def _mean(xs) -> float:
    return sum(xs) / len(xs)


def test_torchrun_two_processes_follow_single(tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        torchrun = shutil.which("torchrun")
    if not torchrun:
        pytest.skip("torchrun is not installed")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    me = str(Path(__file__).resolve())
    single, ddp = tmp_path / "single", tmp_path / "ddp"
    procs = [
        subprocess.Popen([sys.executable, me, MODEL, str(single), str(STEPS)], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True),
        subprocess.Popen([str(torchrun), "--standalone", "--nproc_per_node", "2", me, MODEL,
                          str(ddp), str(STEPS)], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True),
    ]
    for p in procs:
        output, _ = p.communicate(timeout=240)
        assert p.returncode == 0, output[-3000:]

    # Gradients were averaged: both ranks end with the same weights; rank 0 wrote them.
    assert (ddp / "params-rank0.txt").read_text() == (ddp / "params-rank1.txt").read_text()
    assert (ddp / f"{MODEL}.safetensors").exists() and (ddp / "checkpoint.pt").exists()
    meta = json.loads((ddp / f"{MODEL}.json").read_text())
    assert meta["trained"]["world_size"] == 2

    # Both learn, and the two-process curve follows the single-process one.
    one, two = _losses(single), _losses(ddp)
    for losses in (one, two):
        assert _mean(losses[:10]) - _mean(losses[-15:]) > 0.5, losses
    end_one, end_two = _mean(one[-15:]), _mean(two[-15:])
    assert abs(end_two - end_one) < 0.15 * end_one, (end_one, end_two)


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
