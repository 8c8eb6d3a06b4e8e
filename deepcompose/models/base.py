"""The model protocol, the registry, and safe weight files.

Every model family subclasses ``Composer`` and is listed in ``REGISTRY`` as
``"module:Class"`` so that nothing imports torch until a model is asked for. Its
controls are declared in ``deepcompose.controls.MODEL_CONTROLS`` (a plug-in registers
its class here and its controls there).

Weights ship as ``weights/NAME.safetensors`` (tensors only, never pickle) plus
``weights/NAME.json`` (``{"family": ..., "config": {...}, ...}``) and a card
``weights/NAME.md``.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import threading
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..controls import MODEL_CONTROLS
from ..controls import describe as describe_controls
from ..errors import DeepcomposeError
from ..representations.voices import Meter

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
TASKS = ("accompany", "continue", "enhance", "infill")

# name -> "module:Class" (relative to deepcompose.models), or a Composer subclass
REGISTRY: dict[str, str | type] = {
    "gan": "gan:GanComposer",
    "arcnn": "arcnn:ArcnnComposer",
    "transformer": "transformer:TransformerComposer",
}


class Composer:
    """A trained model that completes voice grids.

    Subclasses set ``name``, ``tasks`` and implement ``from_weights`` and
    ``generate``. ``score`` is optional (used by ``--candidates``).
    """

    name: ClassVar[str] = ""
    tasks: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_weights(cls, tensors: dict, meta: dict) -> Composer:
        """Build the model from safetensors ``tensors`` (name -> torch.Tensor) and JSON ``meta``."""
        raise NotImplementedError

    def generate(
        self,
        task: str,
        grid: np.ndarray,
        known: np.ndarray,
        meter: Meter,
        seed: int,
        temperature: float = 1.0,
        **controls,
    ) -> np.ndarray:
        """Complete ``grid`` ``[4, steps]`` (pitches, -1 rest) wherever ``known`` is False.

        Returns a grid ``[4, steps]``; every known cell must come back unchanged.
        For ``continue`` the caller has already appended the new (unknown) steps.
        The same ``seed`` must give the same result.
        """
        raise NotImplementedError

    def score(self, grid: np.ndarray, meter: Meter) -> float | None:
        """Higher is better (e.g. mean log-likelihood per cell), or None if the model has none."""
        return None

    def nll(self, pieces: list[np.ndarray]) -> dict | None:
        """Likelihood of whole pieces ``[4, steps]``: ``{"nll": nats per token, ...}`` or None."""
        return None


def tasks_of(name: str) -> tuple[str, ...]:
    """Tasks a registered model supports, without importing torch."""
    return model_class(name).tasks


def model_class(name: str) -> type[Composer]:
    if name not in REGISTRY:
        raise DeepcomposeError(
            f"unknown model {name!r}; available: {', '.join(sorted(REGISTRY))}"
        )
    entry = REGISTRY[name]
    if isinstance(entry, type):  # a class registered directly (plug-ins, tests)
        return entry
    module, cls = entry.split(":")
    try:
        mod = importlib.import_module(f"deepcompose.models.{module}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("deepcompose"):
            raise DeepcomposeError(f"model {name!r} is not installed in this build") from None
        raise
    return getattr(mod, cls)


def models_for(task: str) -> list[str]:
    """Names of registered models that declare ``task``."""
    out = []
    for name in sorted(REGISTRY):
        try:
            if task in model_class(name).tasks:
                out.append(name)
        except DeepcomposeError:
            pass
    return out


def check_task(name: str, task: str) -> None:
    """Raise a clear error when model ``name`` cannot do ``task``."""
    if task not in TASKS:
        raise DeepcomposeError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if task not in tasks_of(name):
        others = [m for m in models_for(task) if m != name]
        hint = f"; models with it: {', '.join(others)}" if others else ""
        raise DeepcomposeError(f"model {name!r} cannot do task {task!r}{hint}")


# ---------------------------------------------------------------- weights I/O


def read_meta(path: Path) -> dict:
    """The JSON beside a weights file, validated to hold ``family`` and ``config``."""
    try:
        meta = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise DeepcomposeError(f"cannot read model config {path}: {one_line(exc)}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise DeepcomposeError(f"model config {path} has no 'config' object")
    if not isinstance(meta.get("family"), str):
        raise DeepcomposeError(f"model config {path} has no 'family' name")
    return meta


def one_line(exc: BaseException, limit: int = 300) -> str:
    """An exception's message folded onto one line and cut to ``limit`` characters."""
    text = " ".join(part.strip() for part in str(exc).splitlines() if part.strip())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_tensors(path: Path) -> dict:
    """Tensors from a ``.safetensors`` file; a corrupt or truncated file is a clear error."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise DeepcomposeError(f"cannot load weights {path}: {one_line(exc)}") from None


def save_weights(stem: Path, tensors: dict, meta: dict) -> None:
    """Write ``stem.safetensors`` and ``stem.json`` atomically (temp file + rename)."""
    import os

    from safetensors.torch import save_file

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    tmp = stem.with_name(stem.name + ".safetensors.tmp")
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp))
    os.replace(tmp, stem.with_suffix(".safetensors"))
    tmpj = stem.with_name(stem.name + ".json.tmp")
    tmpj.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    os.replace(tmpj, stem.with_suffix(".json"))


def build_module(cls, cfg: dict, tensors: dict, prefix: str):
    """``cls(cfg)`` holding the ``prefix``-ed tensors (a generator's, a critic's), built on
    torch's meta device so no random initialization is computed and thrown away."""
    import torch

    with torch.device("meta"):
        module = cls(cfg)
    state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    module.load_state_dict(state, assign=True)
    return module


def critic_on_demand(model, cls):
    """``model``'s critic (class ``cls``), built from ``model._critic_tensors`` on first use
    and kept in ``model._critic``: generation never needs it, ``--candidates`` does."""
    if model._critic is None:
        model._critic = build_module(cls, model.cfg, model._critic_tensors, "critic.").eval()
    return model._critic


def load_composer(name: str, weights_dir: Path = WEIGHTS_DIR) -> Composer:
    """Load model ``name`` from ``weights_dir/NAME.{safetensors,json}``."""
    cls = model_class(name)
    stem = Path(weights_dir) / name
    if not stem.with_suffix(".safetensors").exists():
        raise DeepcomposeError(f"no shipped weights for model {name!r} at {stem}.safetensors")
    meta = read_meta(stem.with_suffix(".json"))
    if meta["family"] != name:
        raise DeepcomposeError(f"weights {stem}.json are for {meta['family']!r}, not {name!r}")
    tensors = load_tensors(stem.with_suffix(".safetensors"))
    try:
        return cls.from_weights(tensors, meta)
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise DeepcomposeError(
            f"weights for {name!r} do not match its config: {one_line(exc)}") from None


_threads_lock = threading.Lock()
_threads_users = [0, 0]  # [callers inside single_thread(), torch thread count to restore]


@contextlib.contextmanager
def single_thread():
    """Run torch on one intra-op thread, then restore the caller's setting.

    Generation is many small ops; extra threads only spin and wait, badly so on a busy
    machine (measured 9-10x slower here). The count is process-wide, so concurrent callers
    (server threads, several models) share one reference count: the first one in sets 1,
    the last one out restores what was there before.
    """
    import torch

    with _threads_lock:
        if _threads_users[0] == 0:
            _threads_users[1] = torch.get_num_threads()
            torch.set_num_threads(1)
        _threads_users[0] += 1
    try:
        yield
    finally:
        with _threads_lock:
            _threads_users[0] -= 1
            if _threads_users[0] == 0:
                torch.set_num_threads(_threads_users[1])


_cache: dict[str, Composer] = {}
_lock = threading.Lock()


def get_model(name: str) -> Composer:
    """The loaded model ``name``, cached once per process (thread-safe)."""
    with _lock:
        if name not in _cache:
            _cache[name] = load_composer(name)
        return _cache[name]


def describe_models() -> list[dict]:
    """Name, tasks, weights path, card path and training summary of each registered model."""
    rows = []
    for name in sorted(REGISTRY):
        stem = WEIGHTS_DIR / name
        weights = stem.with_suffix(".safetensors")
        card = stem.with_suffix(".md")
        try:
            tasks = list(tasks_of(name))
        except DeepcomposeError:
            tasks = []
        trained = {}
        if stem.with_suffix(".json").exists():
            try:
                trained = read_meta(stem.with_suffix(".json")).get("trained", {})
            except DeepcomposeError:
                pass
        rows.append({"name": name, "tasks": tasks,
                     "weights": str(weights) if weights.exists() else None,
                     "card": str(card) if card.exists() else None, "trained": trained,
                     "controls": describe_controls(name) if name in MODEL_CONTROLS else []})
    return rows
