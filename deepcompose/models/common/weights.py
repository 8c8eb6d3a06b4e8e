"""Weights on disk and in memory: one way to find, check, load, cache and save a family's.

A family's weights ship as ``weights/NAME.safetensors`` (tensors only, never pickle)
plus ``weights/NAME.json`` (``{"family": NAME, "config": {...}, "trained": {...}}``) and
a card ``weights/NAME.md``; the row in ``deepcompose.models.registry`` says where.
``get_model(NAME)`` builds the family's player once per process.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
from pathlib import Path

from ...errors import DeepcomposeError
from ..registry import family


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
    from safetensors.torch import save_file

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    tmp = stem.with_name(stem.name + ".safetensors.tmp")
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp))
    os.replace(tmp, stem.with_suffix(".safetensors"))
    tmpj = stem.with_name(stem.name + ".json.tmp")
    tmpj.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    os.replace(tmpj, stem.with_suffix(".json"))


def load_weights(name: str, weights_dir: Path | str | None = None) -> tuple[dict, dict]:
    """``(tensors, meta)`` of family ``name`` from its row's folder (or ``weights_dir``),
    checked: the files exist and the JSON names this family."""
    stem = Path(weights_dir or family(name).weights_dir) / name
    if not stem.with_suffix(".safetensors").exists():
        raise DeepcomposeError(f"no shipped weights for {name!r} at {stem}.safetensors")
    meta = read_meta(stem.with_suffix(".json"))
    if meta["family"] != name:
        raise DeepcomposeError(f"weights {stem}.json are for {meta['family']!r}, not {name!r}")
    return load_tensors(stem.with_suffix(".safetensors")), meta


def player_class(name: str) -> type:
    """The class named by family ``name``'s row (imports its package, and torch)."""
    module, cls = family(name).player.split(":")
    try:
        return getattr(importlib.import_module(module), cls)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("deepcompose"):
            raise DeepcomposeError(f"model family {name!r} is not installed in this build"
                                   ) from None
        raise


def load_family(name: str, weights_dir: Path | str | None = None):
    """Family ``name``'s player built from its weights (``Class.from_weights``)."""
    cls = player_class(name)
    tensors, meta = load_weights(name, weights_dir)
    try:
        return cls.from_weights(tensors, meta)
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise DeepcomposeError(
            f"weights for {name!r} do not match its config: {one_line(exc)}") from None


def build_module(cls, cfg: dict, tensors: dict, prefix: str):
    """``cls(cfg)`` holding the ``prefix``-ed tensors (a generator's, a critic's), built on
    torch's meta device so no random initialization is computed and thrown away."""
    import torch

    with torch.device("meta"):
        module = cls(cfg)
    state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    module.load_state_dict(state, assign=True)
    return module


_cache: dict[str, object] = {}
_lock = threading.Lock()


def get_model(name: str):
    """Family ``name``'s player, loaded once per process (thread-safe)."""
    with _lock:
        if name not in _cache:
            _cache[name] = load_family(name)
        return _cache[name]


def use_weights(name: str, weights_dir: Path | str) -> None:
    """Serve family ``name`` from ``weights_dir`` (a training run's folder) in this process,
    instead of its shipped weights: benchmarks of a run before it ships."""
    player = load_family(name, weights_dir)
    with _lock:
        _cache[name] = player


def loaded() -> frozenset[str]:
    """The families loaded in this process."""
    return frozenset(_cache)


def forget(name: str) -> None:
    """Drop a cached player (tests that swap a family's weights)."""
    with _lock:
        _cache.pop(name, None)


def warm_start(module, tensors: dict, prefix: str = "") -> list[str]:
    """Load ``tensors`` (a shipped weights file's, ``prefix``-ed) into ``module`` to fine-tune
    it, allowing *grown inputs*: a tensor whose new shape is larger only in dim 1 (a layer's
    input channels) gets the old values in its leading channels and zeros in the new ones,
    so the grown network computes exactly what the old one did until training moves the
    new weights. Convention: a family that adds input features appends them *last* to the
    grown layer's input. A tensor the weights lack is allowed only where the new module
    holds zeros in it (a new term that starts at zero, so again the network computes what
    the old one did). Returns the names of the grown and new tensors; any other mismatch
    raises.
    """
    import torch

    state = module.state_dict()
    old = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    missing = sorted(k for k in set(state) - set(old) if state[k].any())
    if missing:
        raise DeepcomposeError(f"--init weights lack {len(missing)} tensors, e.g. {missing[0]!r}")
    grown = sorted(set(state) - set(old))
    with torch.no_grad():
        for name, new in state.items():
            if name not in old:
                continue
            was = old[name]
            if was.shape == new.shape:
                new.copy_(was)
                continue
            same_elsewhere = (was.dim() == new.dim() >= 2 and was.shape[0] == new.shape[0]
                              and was.shape[2:] == new.shape[2:] and was.shape[1] < new.shape[1])
            if not same_elsewhere:
                raise DeepcomposeError(f"--init: {name} is {tuple(was.shape)} in the weights, "
                                       f"{tuple(new.shape)} in the model")
            new.zero_()
            new[:, :was.shape[1]] = was
            grown.append(name)
    return grown
