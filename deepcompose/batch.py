"""Batch generation: compose every melody under a folder, resumably, on a process pool or Ray.

``deepcompose batch IN_DIR OUT_DIR --model M`` calls :func:`run_batch`.

Layout. Every melody file under ``IN_DIR`` (``.mid .midi .musicxml .mxl .abc .json``,
hidden files and folders skipped, ``OUT_DIR`` skipped when it lies inside ``IN_DIR``)
gives one MIDI file ``OUT_DIR/<relative folder>/<stem>.mid``. When two inputs of one
folder share a stem (``a.mid`` and ``a.abc``) both keep their extension instead:
``a.mid.mid`` and ``a.abc.mid``.

Manifest. ``OUT_DIR/manifest.jsonl`` holds one JSON row per input: ``input`` and
``output`` (POSIX paths relative to ``IN_DIR`` and ``OUT_DIR``), ``status`` (``ok`` or
``error``), ``error`` (one line, or null), ``seed``, ``seconds`` (compute time of that
file), plus ``model``, ``task``, ``temperature`` and ``bars``. Rows are appended as files
finish, each flushed and fsynced, so a crash loses at most the files in flight.

Resume. A rerun skips an input whose row says ``ok`` for the same settings and whose
output exists; everything else is redone. At start the manifest is rewritten
atomically with only the rows it keeps, so each input appears once, and temp files
left by a killed run are removed. Outputs are written atomically (temp file + rename):
an output that exists is complete.

Seeds. Each file's seed is ``blake2b(base seed, relative path)``, so its notes do not
depend on the order of the files, the number of workers or the engine.

Engines. ``local``: a pool of worker processes, each with the model loaded once and
one torch thread; each worker reads, composes and writes its own files, so reading and
writing of one file overlaps the model work on others. ``ray``: the same job on Ray
actors (``ray.init(address)``, or a local Ray); the driver reads inputs and writes
outputs, actors compose, so a cluster needs no shared file system.

Exit status of the CLI: 0 when every input is ``ok`` (composed now or skipped as done
before), 1 when some failed (their rows carry the error); a problem with the job itself
(missing ``IN_DIR``, unwritable ``OUT_DIR``, full disk for the manifest) is a
DeepcomposeError (exit 2).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import DeepcomposeError

MELODY_EXTS = (".mid", ".midi", ".musicxml", ".mxl", ".abc", ".json")
MANIFEST = "manifest.jsonl"
LOCK = ".batch.lock"
_TEMP = re.compile(r"^\..*\.tmp(\.[A-Za-z0-9]+)?$")  # Song.write's and the manifest's temps
MAX_POOL_RESTARTS = 2


@dataclass(frozen=True)
class Settings:
    """What every file is composed with (picklable, sent to workers)."""

    model: str
    task: str = "accompany"
    temperature: float = 1.0
    bars: str | None = None


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


# ---------------------------------------------------------------- files


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
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".manifest.jsonl.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, _file_mode())  # mkstemp makes 0600; a manifest is a normal file
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
            self._f = open(self.path, "a")  # noqa: SIM115 (closed in close())
        except OSError as exc:
            _unlink(tmp)
            raise DeepcomposeError(_manifest_error(self.path, exc)) from None

    def append(self, row: dict) -> None:
        try:
            self._f.write(json.dumps(row) + "\n")
            self._f.flush()
            os.fsync(self._f.fileno())
        except OSError as exc:
            raise DeepcomposeError(_manifest_error(self.path, exc)) from None

    def close(self) -> None:
        if self._f is not None:
            try:
                self._f.close()
            except OSError:  # a row that could not be written was reported already
                pass
        if self._lock_fd is not None:
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


def _manifest_error(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"disk full: cannot write {path}; free some space and rerun to resume"
    return f"cannot write {path}: {exc.strerror or exc}"


def _file_mode() -> int:
    """The mode ``open()`` would give a new file under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


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


# ---------------------------------------------------------------- one file


def compose_file(src: Path, dst: Path, s: Settings, seed: int) -> None:
    """Compose the melody file ``src`` and write ``dst`` (MIDI) atomically."""
    from .pipeline import compose

    song = compose(src, model=s.model, task=s.task, bars=s.bars, seed=seed,
                   temperature=s.temperature)
    dst.parent.mkdir(parents=True, exist_ok=True)
    song.write(dst)


def _row(job: Job, s: Settings, error: str | None, seconds: float) -> dict:
    return {"input": job.input, "output": job.output, "status": "error" if error else "ok",
            "error": error, "seed": job.seed, "seconds": round(seconds, 3), "model": s.model,
            "task": s.task, "temperature": s.temperature, "bars": s.bars}


def run_job(in_dir: str, out_dir: str, job: Job, s: Settings) -> dict:
    """Compose one file (local engine); never raises for a problem with that file."""
    t0 = time.perf_counter()
    try:
        compose_file(Path(in_dir) / job.input, Path(out_dir) / job.output, s, job.seed)
        error = None
    except Exception as exc:  # recorded in the manifest; the run goes on
        error = error_message(exc, job.input)
    return _row(job, s, error, time.perf_counter() - t0)


# ---------------------------------------------------------------- local engine


def _worker_init(model: str, lock_fd: int | None) -> None:
    """Pool worker: die with the parent, drop the parent's lock, one torch thread, model."""
    if lock_fd is not None:
        try:
            os.close(lock_fd)  # the lock belongs to the parent alone
        except OSError:
            pass
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:  # Linux: a worker must not outlive a killed parent (it would race the rerun)
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:
            os._exit(1)
    except (OSError, AttributeError):
        pass
    import torch

    torch.set_num_threads(1)
    from .models.base import get_model

    get_model(model)


def _local_rows(jobs, in_dir, out_dir, s: Settings, workers: int, lock_fd):
    """Yield one manifest row per job as files finish, on ``workers`` processes."""
    if workers <= 1:
        from .models.base import single_thread

        with single_thread():  # same arithmetic as a pool worker
            for job in jobs:
                yield run_job(in_dir, out_dir, job, s)
        return

    import multiprocessing as mp

    forked = "fork" in mp.get_all_start_methods()  # children share the loaded model
    ctx = mp.get_context("fork" if forked else "spawn")
    pending = {job.input: job for job in jobs}  # insertion order = dispatch order
    restarts = 0
    while pending:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                   initargs=(s.model, lock_fd if forked else None))
        futures = {pool.submit(run_job, in_dir, out_dir, job, s): job
                   for job in pending.values()}
        broken = finished = False
        try:
            for f in as_completed(futures):
                try:
                    row = f.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                del pending[futures[f].input]
                yield row
            finished = True
        finally:  # on Ctrl-C or a manifest error: cancel, don't wait for running files
            pool.shutdown(wait=finished and not broken, cancel_futures=True)
        if broken:
            restarts += 1
            if restarts > MAX_POOL_RESTARTS:
                for job in pending.values():
                    yield _row(job, s, "a worker process died (out of memory or killed) "
                               "while composing this batch", 0.0)
                return


# ---------------------------------------------------------------- ray engine


class RayWorker:
    """A Ray actor: the model loaded once; composes files sent as bytes, returns MIDI bytes."""

    def __init__(self, model: str):
        import torch

        torch.set_num_threads(1)
        from .models.base import get_model

        get_model(model)
        self.tmp = tempfile.mkdtemp(prefix="deepcompose-ray-")

    def compose(self, name: str, data: bytes, s: Settings, seed: int):
        """(MIDI bytes or None, error or None, seconds)."""
        t0 = time.perf_counter()
        src = Path(self.tmp) / Path(name).name  # the same name: the same error messages
        dst = Path(self.tmp) / ".out.mid"
        try:
            src.write_bytes(data)
            compose_file(src, dst, s, seed)
            out, error = dst.read_bytes(), None
        except Exception as exc:
            out, error = None, error_message(exc, name)
        finally:
            _unlink(src)
            _unlink(dst)
        return out, error, time.perf_counter() - t0


def _ray_rows(jobs, in_dir, out_dir, s: Settings, workers: int | None, address: str | None):
    try:
        import ray
    except ImportError:
        raise DeepcomposeError(
            "the ray engine needs Ray: pip install 'deepcompose[ray]' (or pip install ray)"
        ) from None
    from .atomic import atomic_write_bytes

    started = not ray.is_initialized()
    if started:
        import logging

        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        kw = {"include_dashboard": False, "log_to_driver": False,
              "logging_level": logging.ERROR}
        try:
            if address:
                ray.init(address=address, **kw)
            else:
                ray.init(num_cpus=workers or os.cpu_count(), **kw)
        except Exception as exc:
            where = address or "a local Ray"
            raise DeepcomposeError(f"cannot start Ray on {where}: {exc}".splitlines()[0]) from None
    try:
        n = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        n = max(1, min(n, len(jobs)))
        actor_cls = ray.remote(num_cpus=1, max_restarts=1)(RayWorker)
        idle = [actor_cls.remote(s.model) for _ in range(n)]
        queue = list(jobs)[::-1]
        running: dict = {}  # ref -> (job, actor)
        while queue or running:
            while queue and idle:
                job = queue.pop()
                try:
                    data = (Path(in_dir) / job.input).read_bytes()
                except OSError as exc:
                    yield _row(job, s, error_message(exc, job.input), 0.0)
                    continue
                actor = idle.pop()
                running[actor.compose.remote(job.input, data, s, job.seed)] = (job, actor)
            ready, _ = ray.wait(list(running), num_returns=1)
            job, actor = running.pop(ready[0])
            idle.append(actor)
            try:
                out, error, seconds = ray.get(ready[0])
            except Exception as exc:  # the actor died; it restarts once
                out, error, seconds = None, f"ray worker failed: {type(exc).__name__}", 0.0
            if out is not None:
                try:
                    dst = Path(out_dir) / job.output
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    atomic_write_bytes(dst, out)
                except Exception as exc:
                    error = error_message(exc, job.output)
            yield _row(job, s, error, seconds)
    finally:
        if started:
            ray.shutdown()


# ---------------------------------------------------------------- the job


def run_batch(
    in_dir,
    out_dir,
    *,
    model: str = "gan",
    task: str = "accompany",
    workers: int | None = None,
    engine: str = "local",
    address: str | None = None,
    seed: int = 0,
    bars=None,
    temperature: float = 1.0,
    progress: bool = True,
) -> dict:
    """Compose every melody under ``in_dir`` into ``out_dir``; see the module docstring.

    Returns ``{"inputs", "ok", "skipped", "error", "seconds", "failed", ...}``: ``ok`` files
    composed now, ``skipped`` done by an earlier run, ``error`` failed now (``failed``
    lists up to 10 of them).
    """
    from .models.base import check_task

    t0 = time.perf_counter()
    if engine not in ("local", "ray"):
        raise DeepcomposeError(f"unknown engine {engine!r}; use local or ray")
    if workers is not None and int(workers) < 1:
        raise DeepcomposeError(f"--workers must be at least 1; got {workers}")
    if not 0.0 <= float(temperature) <= 10.0:
        raise DeepcomposeError(f"temperature must be between 0 and 10; got {temperature}")
    check_task(model, task)
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if not in_dir.is_dir():
        raise DeepcomposeError(f"input folder not found: {in_dir}")
    if out_dir.exists() and out_dir.resolve() == in_dir.resolve():
        raise DeepcomposeError("OUT_DIR must differ from IN_DIR (outputs would replace inputs)")
    inputs = find_inputs(in_dir, out_dir)
    if not inputs:
        raise DeepcomposeError(
            f"no melody files ({' '.join(MELODY_EXTS)}) under {in_dir}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DeepcomposeError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise DeepcomposeError(f"cannot write to {out_dir}: permission denied")

    s = Settings(model, task, float(temperature), None if bars is None else str(bars))
    names = output_names(inputs)
    manifest = Manifest(out_dir)  # exclusive: one batch per OUT_DIR at a time
    try:
        clean_temps(out_dir, keep_out=in_dir)
        old = read_manifest(manifest.path)
        keep, jobs = [], []
        for rel in inputs:
            job = Job(rel, names[rel], file_seed(seed, rel), _size(in_dir / rel))
            row = old.get(rel)
            if row is not None and _done(row, job, s, out_dir):
                keep.append(row)
            else:
                jobs.append(job)
        manifest.rewrite(keep)
        jobs.sort(key=lambda j: (-j.size, j.input))  # longest first: the pool ends together

        n_workers = int(workers or os.cpu_count() or 1)
        if jobs:
            from .models.base import get_model

            get_model(model)  # load (and fail) here, once; forked workers share it
            _preload()
        if engine == "local" and jobs:
            rows = _local_rows(jobs, str(in_dir), str(out_dir), s, min(n_workers, len(jobs)),
                               manifest._lock_fd)
        elif jobs:
            rows = _ray_rows(jobs, str(in_dir), str(out_dir), s, workers, address)
        else:
            rows = iter(())
        summary = _drive(rows, manifest, len(inputs), len(keep), model, progress)
    finally:
        manifest.close()
    summary.update(inputs=len(inputs), seconds=round(time.perf_counter() - t0, 2),
                   engine=engine, out_dir=str(out_dir), manifest=str(manifest.path))
    return summary


def _drive(rows, manifest: Manifest, total: int, skipped: int, model: str, progress: bool):
    """Append each row to the manifest as it comes, with a progress bar (rate, ETA)."""
    from tqdm import tqdm

    ok = err = 0
    failed: list[str] = []
    bar = None
    try:
        for row in rows:
            if bar is None:  # after the first result: pool workers are forked by then
                bar = tqdm(total=total, initial=skipped + ok + err, unit="file",
                           desc=f"batch {model}", disable=not progress, dynamic_ncols=True)
            manifest.append(row)
            if row["status"] == "ok":
                ok += 1
            else:
                err += 1
                if len(failed) < 10:
                    failed.append(f"{row['input']}: {row['error']}")
            bar.update(1)
            if err:
                bar.set_postfix(errors=err, refresh=False)
    finally:
        if bar is not None:
            bar.close()
        if hasattr(rows, "close"):
            rows.close()
    return {"ok": ok, "skipped": skipped, "error": err, "failed": failed}


def _done(row: dict, job: Job, s: Settings, out_dir: Path) -> bool:
    """Whether an earlier row finished ``job`` with the same settings and its output exists."""
    same = row.get("status") == "ok" and row.get("output") == job.output \
        and row.get("seed") == job.seed and all(row.get(k) == v for k, v in asdict(s).items())
    return same and (out_dir / job.output).is_file()


def _preload() -> None:
    """Import the reading/writing modules once here rather than in every forked worker."""
    import importlib

    for name in ("deepcompose.pipeline", "deepcompose.song", "deepcompose.io.midi", "pretty_midi"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
