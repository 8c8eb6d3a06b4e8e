"""The Ray engine of ``deepcompose batch --engine ray``: actors compose, the driver does files.

The driver reads inputs and writes outputs, so a cluster needs no shared file system.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from .atomic import atomic_write_bytes
from .batch_jobs import Settings, _row, compose_file, error_message
from .batch_manifest import _unlink
from .errors import DeepcomposeError


class RayWorker:
    """A Ray actor: the model loaded once; composes files sent as bytes, returns MIDI bytes."""

    def __init__(self, families: tuple[str, ...]):
        import torch

        torch.set_num_threads(1)
        from .models.common.weights import get_model

        for name in families:
            get_model(name)
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


def ray_rows(jobs, in_dir, out_dir, s: Settings, workers: int | None, address: str | None):
    try:
        import ray
    except ImportError:
        raise DeepcomposeError(
            "the ray engine needs Ray: pip install 'deepcompose[ray]' (or pip install ray)"
        ) from None

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
        idle = [actor_cls.remote(s.families()) for _ in range(n)]
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


