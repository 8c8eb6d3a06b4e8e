"""One training loop for every model family.

``--model M --style S --data D`` picks the family from the family table
(``deepcompose.models.registry.trainee``); its row names the trainer module, which
provides:

- ``DEFAULT_CONFIG`` (the shipped model) and ``TINY_CONFIG`` (tests): dicts;
- ``make_trainer(config, train, valid) -> Trainer`` where ``train``/``valid`` are
  lists of voice grids ``[4, steps]`` (already augmented for train);
- optionally ``load_split(data, split) -> list`` and ``augment_train(pieces) -> list``
  when it trains on something other than voice grids (the band and drum families:
  multi-track rolls from POP909, drum rolls from Groove).

A ``Trainer`` has ``modules`` (name -> nn.Module, used through this dict so the
loop can wrap them in DistributedDataParallel), ``optimizers`` (name ->
Optimizer), optionally ``schedulers`` (name -> ``torch.optim.lr_scheduler``
scheduler, stepped by the trainer in ``train_step``; saved in the checkpoint beside
the optimizers so ``--resume`` continues the schedule), ``train_step(rng) ->
dict[str, float]`` (one update),
``validate() -> dict[str, float]`` and ``export() -> (tensors, meta)`` for
``save_weights``.

Optionally (the *sample hook*; ``train_log.py`` has the details), a trainer shows how the
music it makes changes while it trains:

- ``sample_rolls(rng, n, real=False) -> np.ndarray`` bool ``[n, tracks, steps, 128]``: ``n``
  short pieces (a few bars each, step 0 on a bar line, 16th steps, MIDI pitches) sampled
  from the model as it is now, of the tracks it writes (not its condition); with
  ``real=True``, ``n`` windows of the training data with the same tracks. ``rng`` is a
  numpy Generator; torch's random state may be used freely (the loop restores it).
- ``family_metrics(rolls, real=False) -> dict[str, float]`` (optional): the family's own
  measures of the rolls ``sample_rolls`` has just returned (it may use that draw's
  condition, e.g. the chords of the windows).
- ``steps_per_bar`` (optional attribute, default 16).

Every ``metrics_every`` steps (default: 20 points per run) the loop computes, in one place
(``metrics/training.py``), DeepComposer's four metrics (empty-bar rate, pitch classes per
bar, polyphonic rate, in-scale rate) of ``SAMPLES`` sampled rolls plus the family's own,
and logs them as ``sample_*`` beside ``real_*``, the same metrics of training windows,
computed once. A trainer without the hook trains as before and logs none.

The loop owns seeds, the progress bar (losses, the latest sample metrics, tqdm's ETA), a
JSONL log (``OUT/log.jsonl``, one row per step), TensorBoard event files in ``OUT`` when
``tensorboard`` is installed (the ``train`` extra), periodic checkpoints
(``OUT/checkpoint.pt``, loaded with ``weights_only=True``), ``--resume`` and
DDP under ``torchrun`` (gloo on CPU, nccl on GPU; rank 0 writes).
"""

from __future__ import annotations

import importlib
import json
import os
import time
from pathlib import Path

import numpy as np

from .data import augment, load_voices
from .errors import DeepcomposeError
from .models.common.weights import save_weights
from .models.registry import trainee
from .train_log import EventWriter, MetricsProbe, default_every, short


def parse_overrides(pairs: list[str]) -> dict:
    """``["key=value", ...]`` -> dict, values parsed as JSON where they parse."""
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise DeepcomposeError(f"--config expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def _dist_info() -> tuple[int, int]:
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def train(
    model: str,
    data: str | None = None,
    steps: int = 1000,
    out: Path | str = "runs/model",
    seed: int = 0,
    resume: bool = False,
    tiny: bool = False,
    overrides: dict | None = None,
    checkpoint_every: int = 200,
    validate_every: int = 500,
    progress: bool = True,
    threads: int | None = None,
    style: str | None = None,
    metrics_every: int | None = None,
    events: bool = True,
    init: Path | str | None = None,
) -> dict:
    """Train the family that plays ``model`` (and ``style``) on ``data`` (default: the
    family's own) for ``steps`` updates; write ``OUT/FAMILY.safetensors`` + ``.json``.

    Returns the last validation metrics. Resumes from ``OUT/checkpoint.pt`` when
    ``resume`` is set. ``metrics_every``: steps between sample-metric measurements (None:
    ``steps // 20``; 0: none); ``events``: TensorBoard event files when installed.
    ``init``: a weights file (``.safetensors``) to start from instead of random weights
    (fine-tuning; ``weights.warm_start``: a layer may have grown input channels), with
    fresh optimizers and schedules; ignored when resuming from a checkpoint.
    """
    import torch

    row = trainee(model, style, data)
    data = data or row.data[0]
    model = row.name
    fam = importlib.import_module(row.trainer)
    config = dict(fam.TINY_CONFIG if tiny else fam.DEFAULT_CONFIG)
    unknown = set(overrides or {}) - set(config)
    if unknown:
        raise DeepcomposeError(f"unknown config keys for {model}: {', '.join(sorted(unknown))}")
    config.update(overrides or {})
    out = Path(out)
    rank, world = _dist_info()
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)  # same initial weights on every rank
    load = getattr(fam, "load_split", load_voices)
    train_set = getattr(fam, "augment_train", augment)(load(data, "train"))
    valid_set = load(data, "valid")
    # Distributed sampling: each rank draws its windows from its own slice of the pieces.
    train_set = train_set[rank::world]
    trainer = fam.make_trainer(config, train_set, valid_set)
    if world > 1:
        import torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel as DDP

        # nccl only when the trainer put its modules on a GPU; CPU tensors need gloo.
        on_gpu = any(p.is_cuda for m in trainer.modules.values() for p in m.parameters())
        dist.init_process_group("nccl" if on_gpu else "gloo")

        for k, m in trainer.modules.items():
            trainer.modules[k] = DDP(m)
    rng = np.random.default_rng([seed, rank])
    torch.manual_seed(seed * 1000 + rank + 1)

    start = 0
    ckpt = out / "checkpoint.pt"
    if init and not (resume and ckpt.exists()):
        _warm_start(trainer, Path(init))
    if resume and ckpt.exists():
        state = torch.load(ckpt, weights_only=True)
        for k, m in trainer.modules.items():
            _unwrap(m).load_state_dict(state["modules"][k])
        for k, o in trainer.optimizers.items():
            o.load_state_dict(state["optimizers"][k])
        for k, sched in getattr(trainer, "schedulers", {}).items():
            if k in state.get("schedulers", {}):
                sched.load_state_dict(state["schedulers"][k])
        start = int(state["step"])
        rng = np.random.default_rng([seed, rank, start])
        torch.manual_seed(seed * 1000 + rank + 1 + start)

    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "log.jsonl"
    every = default_every(steps) if metrics_every is None else metrics_every
    probe = MetricsProbe(trainer, every if rank == 0 else 0, seed)
    writer = EventWriter(out, events and rank == 0)
    from tqdm import tqdm

    bar = tqdm(range(start, steps), initial=start, total=steps, disable=not progress or rank != 0,
               desc=f"train {model}", unit="step")
    t0 = time.time()
    metrics: dict = {}
    running: dict[str, float] = {}
    latest: dict[str, str] = {}
    for step in bar:
        losses = trainer.train_step(rng)
        for k, v in losses.items():
            running[k] = 0.98 * running.get(k, v) + 0.02 * v
        done = step + 1
        row = {"step": done, "seconds": round(time.time() - t0, 2), **losses}
        if done % validate_every == 0 or done == steps:
            metrics = {f"valid_{k}": v for k, v in trainer.validate().items()}
            row.update(metrics)
        if probe.due(done, steps):
            measured = probe.measure(done)
            row.update(measured)
            latest = short(measured)
        bar.set_postfix({**{k: f"{v:.3f}" for k, v in running.items()}, **latest},
                        refresh=False)
        if rank == 0:
            with open(log_path, "a") as f:
                f.write(json.dumps(_finite(row)) + "\n")
            writer.row(row)
            if done % checkpoint_every == 0 or done == steps:
                _checkpoint(trainer, done, ckpt)
    writer.close()
    if rank == 0:
        tensors, meta = trainer.export()
        meta = {**meta, "family": model, "config": config,
                "trained": {"data": data, "steps": steps, "seed": seed, "world_size": world,
                            **({"init": Path(init).name} if init else {}),
                            "seconds": round(time.time() - t0, 1), **metrics}}
        save_weights(out / model, tensors, meta)
    if world > 1:
        import torch.distributed as dist

        dist.destroy_process_group()
    return metrics


def _warm_start(trainer, path: Path) -> None:
    """Every module of ``trainer`` from the weights file ``path``: its ``NAME.``-prefixed
    tensors (a GAN's generator and critic), or all of them for a one-module trainer."""
    from .models.common.weights import load_tensors, warm_start

    if not path.exists():
        raise DeepcomposeError(f"--init {path}: no such weights file")
    tensors = load_tensors(path)
    for name, module in trainer.modules.items():
        prefix = f"{name}." if any(k.startswith(f"{name}.") for k in tensors) else ""
        if not prefix and len(trainer.modules) > 1:
            raise DeepcomposeError(f"--init {path} holds no {name!r} tensors")
        warm_start(_unwrap(module), tensors, prefix)


def _finite(row: dict) -> dict:
    """nan -> None, so that the JSONL row is strict JSON."""
    return {k: None if isinstance(v, float) and v != v else v for k, v in row.items()}


def _unwrap(m):
    return getattr(m, "module", m)


def _checkpoint(trainer, step: int, path: Path) -> None:
    import torch

    state = {
        "step": step,
        "modules": {k: _unwrap(m).state_dict() for k, m in trainer.modules.items()},
        "optimizers": {k: o.state_dict() for k, o in trainer.optimizers.items()},
        "schedulers": {k: s.state_dict() for k, s in getattr(trainer, "schedulers", {}).items()},
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
