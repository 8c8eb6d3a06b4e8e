"""Atomic file writes: a temp file in the destination folder, then ``os.replace``.

The one helper every writer uses (song files, plots, audio, batch outputs, weights), so
that a crash or a bad input never leaves a half-written file behind.
"""

from __future__ import annotations

import errno
import functools
import os
import tempfile
from pathlib import Path

from .errors import DeepcomposeError


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and ``os.replace``.

    Nothing is left behind on failure; permission and disk errors become DeepcomposeError.
    """
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


@functools.cache
def _umask() -> int:
    """The process umask, read once (reading it means setting it, so not per write)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


class atomic_path:
    """Context manager: yields a temp path beside ``path``; renamed onto it on success.

    ``with atomic_path(out) as tmp: write(tmp)`` — the temp file keeps ``path``'s suffix
    so that writers that go by extension (music21) still work.
    """

    def __init__(self, path):
        self.path = Path(path)

    def __enter__(self) -> Path:
        folder = self.path.parent if str(self.path.parent) else Path(".")
        if not folder.is_dir():
            raise DeepcomposeError(f"cannot write {self.path}: folder {folder} does not exist")
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{self.path.stem}.",
                                       suffix=".tmp" + self.path.suffix)
        except OSError as e:
            raise write_error(self.path, e) from None
        os.close(fd)
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                os.chmod(self.tmp, 0o666 & ~_umask())  # as open() would have made it, not 0600
                os.replace(self.tmp, self.path)
                return False
            except OSError as e:
                self._remove_tmp()
                raise write_error(self.path, e) from None
        self._remove_tmp()
        if isinstance(exc, OSError):
            raise write_error(self.path, exc) from None
        return False

    def _remove_tmp(self):
        try:
            self.tmp.unlink()
        except OSError:
            pass


def write_error(path, exc: OSError, then: str = "retry") -> DeepcomposeError:
    """One line for a failed write; a full disk says so and what to do ``then``."""
    if exc.errno == errno.ENOSPC:
        return DeepcomposeError(f"disk full: cannot write {path}; free some space and {then}")
    return DeepcomposeError(f"cannot write {path}: {exc.strerror or exc}")
