"""Where the datasets live and how a source divides into train / valid / test.

The JSB chorales come split (``jsb.py``); the other sources are split by ``split_of``: a file
goes to train / valid / test (80 / 10 / 10) by a hash of its name (its path relative to the
folder), so adding files never moves the others.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
SPLITS = ("train", "valid", "test")


def split_of(name: str) -> str:
    """Deterministic 80/10/10 split of a file by the SHA-1 of its (relative) name."""
    bucket = int(hashlib.sha1(name.encode("utf-8")).hexdigest(), 16) % 10
    return "train" if bucket < 8 else ("valid" if bucket == 8 else "test")
