"""The voice-grid model protocol (``Composer``) and the one-thread guard every sampler uses.

Families that the ``voices`` plan plays (the chorale GAN, the AR-CNN, the transformer)
subclass ``Composer``; other plans define their own player (the band's ``PopBand``).
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

from ...representations.voices import Meter


class Composer:
    """A trained model that completes voice grids.

    Subclasses implement ``from_weights`` and ``generate``; ``score`` (used by
    ``--candidates``) and ``nll`` are optional. Its tasks are in its family's row.
    """

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
