"""Batch bookkeeping: the inputs under IN_DIR, their output names, the manifest and its lock.

See ``deepcompose.batch`` for the layout and the resume rules. The lock file
``OUT_DIR/.batch.lock`` exists only while a batch runs.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .atomic import atomic_write_bytes, write_error
from .errors import DeepcomposeError

MANIFEST = "manifest.jsonl"
LOCK = ".batch.lock"
MELODY_EXTS = (".mid", ".midi", ".musicxml", ".mxl", ".abc", ".json")
_TEMP = re.compile(r"^\..*\.tmp(\.[A-Za-z0-9]+)?$")  # atomic writes' temps


def find_inputs(in_dir: Path, out_dir: Path | None = None) -> list[str]:
    """Relative POSIX paths of the melody files under ``in_dir``, sorted."""
    in_dir = Path(in_dir)
    skip = Path(out_dir).resolve() if out_dir is not None else None
    found = []
    for root, dirs, files in os.walk(in_dir):
        rootp = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and (skip is None or (rootp / d).resolve() != skip))
        for name in files:
            if not name.startswith(".") and Path(name).suffix.lower() in MELODY_EXTS:
                found.append((rootp / name).relative_to(in_dir).as_posix())
    return sorted(found)


def output_names(inputs: list[str]) -> dict[str, str]:
    """Input -> output relative path: ``<stem>.mid``, or ``<name>.mid`` where stems collide."""
    def short(rel: str) -> str:
        p = Path(rel)
        return (p.parent / (p.stem + ".mid")).as_posix()

    counts: dict[str, int] = {}
    for rel in inputs:
        counts[short(rel).lower()] = counts.get(short(rel).lower(), 0) + 1
    return {rel: short(rel) if counts[short(rel).lower()] == 1 else rel + ".mid"
            for rel in inputs}


def clean_temps(out_dir: Path, keep_out: Path | None = None) -> int:
    """Remove temp files a killed run left under ``out_dir`` (not under ``keep_out``)."""
    n = 0
    keep = Path(keep_out).resolve() if keep_out is not None else None
    for root, dirs, files in os.walk(out_dir):
        dirs[:] = [d for d in dirs if keep is None or (Path(root) / d).resolve() != keep]
        for name in files:
            if _TEMP.match(name):
                try:
                    os.unlink(os.path.join(root, name))
                    n += 1
                except FileNotFoundError:
                    pass
    return n


def read_manifest(path: Path) -> dict[str, dict]:
    """Rows of ``path`` by input (the last row of an input wins); torn lines are ignored."""
    rows: dict[str, dict] = {}
    try:
        text = Path(path).read_text(errors="replace")
    except FileNotFoundError:
        return rows
    except OSError as exc:
        raise DeepcomposeError(f"cannot read {path}: {exc.strerror or exc}") from None
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line torn by a crash
        if isinstance(row, dict) and isinstance(row.get("input"), str):
            rows[row["input"]] = row
    return rows


class Manifest:
    """``OUT_DIR/manifest.jsonl`` under an exclusive lock: compacted once, then appended."""

    def __init__(self, out_dir: Path):
        self.path = out_dir / MANIFEST
        self._lock_fd = _lock(out_dir / LOCK)
        self._f = None

    def rewrite(self, rows: list[dict]) -> None:
        """Replace the manifest atomically with ``rows`` and open it for appending."""
        text = "".join(json.dumps(r) + "\n" for r in rows)
        atomic_write_bytes(self.path, text.encode())
        try:
            _fsync_dir(self.path.parent)
            self._f = open(self.path, "a")  # noqa: SIM115 (closed in close())
        except OSError as exc:
            raise write_error(self.path, exc, "rerun to resume") from None

    def append(self, row: dict) -> None:
        try:
            self._f.write(json.dumps(row) + "\n")
            self._f.flush()
            os.fsync(self._f.fileno())
        except OSError as exc:
            raise write_error(self.path, exc, "rerun to resume") from None

    def close(self) -> None:
        if self._f is not None:
            try:
                self._f.close()
            except OSError:  # a row that could not be written was reported already
                pass
        if self._lock_fd is not None:
            _unlink(self.path.parent / LOCK)  # still held: nobody else can be inside
            os.close(self._lock_fd)
            self._lock_fd = None


def _lock(path: Path) -> int | None:
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        return None
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise DeepcomposeError(f"cannot write to {path.parent}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise DeepcomposeError(
            f"another deepcompose batch is writing to {path.parent}; wait for it or stop it"
        ) from None
    return fd


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


