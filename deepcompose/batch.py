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
file), plus ``model``, ``task``, ``controls`` and ``audio``. Rows are appended as files
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

import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from .batch_jobs import Job, Settings, _row, file_seed, run_job
from .batch_manifest import (
    MELODY_EXTS,
    Manifest,
    clean_temps,
    find_inputs,
    output_names,
    read_manifest,
)
from .errors import DeepcomposeError

MAX_POOL_RESTARTS = 2


# ---------------------------------------------------------------- local engine


def _worker_init(families: tuple[str, ...], lock_fd: int | None) -> None:
    """Pool worker: die with the parent, drop the parent's lock, one torch thread, the
    job's families loaded."""
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
    from .models.common.weights import get_model

    for name in families:
        get_model(name)


def _local_rows(jobs, in_dir, out_dir, s: Settings, workers: int, lock_fd):
    """Yield one manifest row per job as files finish, on ``workers`` processes."""
    if workers <= 1:
        from .models.common.composer import single_thread

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
                                   initargs=(s.families(), lock_fd if forked else None))
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
    audio: str | None = None,
    progress: bool = True,
    **controls,
) -> dict:
    """Compose every melody under ``in_dir`` into ``out_dir``; see the module docstring.

    ``controls`` are those of ``compose`` (``temperature``, ``bars``, the model's own),
    checked by ``registry.resolve`` before any file is read; ``audio="wav"`` also writes
    a WAV beside each MIDI output.

    Returns ``{"inputs", "ok", "skipped", "error", "seconds", "failed", ...}``: ``ok`` files
    composed now, ``skipped`` done by an earlier run, ``error`` failed now (``failed``
    lists up to 10 of them).
    """
    from .models import registry

    t0 = time.perf_counter()
    if engine not in ("local", "ray"):
        raise DeepcomposeError(f"unknown engine {engine!r}; use local or ray")
    if workers is not None and int(workers) < 1:
        raise DeepcomposeError(f"--workers must be at least 1; got {workers}")
    c = registry.resolve(model, task, {**controls, "seed": seed})
    registry.check_task(model, task, c.get("style"))
    if audio not in (None, "wav", "ogg"):
        raise DeepcomposeError(f"audio must be wav or ogg; got {audio!r}")
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

    s = Settings(model, task, tuple(sorted((k, _frozen(v)) for k, v in controls.items()
                                           if v is not None)), audio)
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
            from .models.common.weights import get_model

            for name in s.families():  # load (and fail) here, once; forked workers share them
                get_model(name)
            _preload()
        if engine == "local" and jobs:
            rows = _local_rows(jobs, str(in_dir), str(out_dir), s, min(n_workers, len(jobs)),
                               manifest._lock_fd)
        elif jobs:
            from .batch_ray import ray_rows

            rows = ray_rows(jobs, str(in_dir), str(out_dir), s, workers, address)
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
        and row.get("seed") == job.seed and row.get("model") == s.model \
        and row.get("task") == s.task and row.get("audio") == s.audio \
        and row.get("controls") == s.controls_json()
    return same and (out_dir / job.output).is_file()


def _preload() -> None:
    """Import the reading/writing modules once here rather than in every forked worker."""
    import importlib

    for name in ("deepcompose.pipeline", "deepcompose.song", "deepcompose.io.midi", "pretty_midi"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _frozen(v):
    """A control value as a hashable, picklable value (chords lists become tuples)."""
    return tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
