"""One batch job: the settings every file shares, one file's job, composing it, its row.

Plain picklable objects, so the same code runs in pool workers and on Ray actors.
"""

from __future__ import annotations

import errno
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import DeepcomposeError


@dataclass(frozen=True)
class Settings:
    """What every file is composed with (picklable, sent to workers)."""

    model: str
    task: str = "accompany"
    controls: tuple = ()  # ((name, value), ...) checked by registry.resolve
    audio: str | None = None  # also write OUT.wav beside each MIDI output ("wav") or not

    def controls_json(self) -> dict:
        """The controls as the manifest records them (tuples back to lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.controls}

    def families(self) -> tuple[str, ...]:
        """The families this job plays (its player and parts): what each worker loads."""
        from .models.registry import needed

        return tuple(f.name for f in needed(self.model, dict(self.controls).get("style")))


@dataclass(frozen=True)
class Job:
    input: str  # POSIX path relative to IN_DIR
    output: str  # POSIX path relative to OUT_DIR
    seed: int
    size: int  # input bytes (big files are dispatched first)


def file_seed(base_seed: int, relpath: str) -> int:
    """Seed of one file: blake2b of (base seed, relative POSIX path), 0 <= seed < 2**31."""
    h = hashlib.blake2b(f"{int(base_seed)}\0{relpath}".encode(), digest_size=8)
    return int.from_bytes(h.digest(), "little") & 0x7FFF_FFFF


def error_message(exc: BaseException, path: str = "") -> str:
    """One line for the manifest: what went wrong with one file, without a traceback."""
    if isinstance(exc, DeepcomposeError):
        msg = str(exc)
    elif isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        msg = f"disk full (no space left on device) writing {exc.filename or path}"
    elif isinstance(exc, PermissionError):
        msg = f"permission denied: {exc.filename or path}"
    elif isinstance(exc, OSError):
        msg = f"{exc.strerror or type(exc).__name__}: {exc.filename or path}"
    elif isinstance(exc, MemoryError):
        msg = "out of memory"
    else:
        msg = f"internal error: {type(exc).__name__}: {exc}"
    msg = " ".join(msg.split()) or type(exc).__name__
    return msg[:500]


def compose_file(src: Path, dst: Path, s: Settings, seed: int) -> None:
    """Compose the melody file ``src`` and write ``dst`` (MIDI) atomically."""
    from .pipeline import compose

    song = compose(src, model=s.model, task=s.task, **{**dict(s.controls), "seed": seed})
    dst.parent.mkdir(parents=True, exist_ok=True)
    song.write(dst)
    if s.audio:
        song.write(dst.with_suffix(f".{s.audio}"))


def _row(job: Job, s: Settings, error: str | None, seconds: float) -> dict:
    return {"input": job.input, "output": job.output, "status": "error" if error else "ok",
            "error": error, "seed": job.seed, "seconds": round(seconds, 3), "model": s.model,
            "task": s.task, "controls": s.controls_json(), "audio": s.audio}



def run_job(in_dir: str, out_dir: str, job: Job, s: Settings) -> dict:
    """Compose one file (local engine); never raises for a problem with that file."""
    t0 = time.perf_counter()
    try:
        compose_file(Path(in_dir) / job.input, Path(out_dir) / job.output, s, job.seed)
        error = None
    except Exception as exc:  # recorded in the manifest; the run goes on
        error = error_message(exc, job.input)
    return _row(job, s, error, time.perf_counter() - t0)


