"""The canonical JSB chorales split (Boulanger-Lewandowski 2012) as voice grids.

The Coconet four-voice 16th-note format, shipped in ``datasets/jsb/`` with its source
README. 229 train / 76 valid / 77 test pieces.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from ..errors import DeepcomposeError
from .splits import REPO_ROOT, SPLITS

JSB_PATH = REPO_ROOT / "datasets" / "jsb" / "Jsb16thSeparated.json"


@functools.cache
def _jsb_json(path: str) -> dict:
    return json.loads(Path(path).read_text())


def load_jsb(split: str, path: Path | str = JSB_PATH) -> list[np.ndarray]:
    """The canonical JSB split as a list of int16 grids ``[4, steps]`` (S, A, T, B; -1 = rest)."""
    if split not in SPLITS:
        raise DeepcomposeError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if not Path(path).exists():
        raise DeepcomposeError(f"JSB data not found at {path}; run from a deepcompose checkout")
    pieces = _jsb_json(str(path))[split]
    return [np.asarray(p, dtype=np.int16).T.copy() for p in pieces]
