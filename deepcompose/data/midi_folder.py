"""A folder of MIDI files as voice grids ``[4, steps]``, tracks mapped to S, A, T, B."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DeepcomposeError
from .roles import song_to_grid
from .splits import split_of


def load_midi_folder(folder, roles: dict | None = None, split: str | None = None,
                     errors: list | None = None) -> list[np.ndarray]:
    """Grids ``[4, steps]`` from every ``.mid``/``.midi`` file under ``folder`` (sorted).

    ``split`` keeps only the files of that split (``split_of`` their relative path).
    Files that cannot be read, or that have no track for S, are skipped; their
    ``(path, reason)`` go to ``errors`` when a list is given.
    """
    from ..song import Song

    folder = Path(folder)
    if not folder.is_dir():
        raise DeepcomposeError(f"not a folder: {folder}")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    grids = []
    for path in files:
        rel = path.relative_to(folder).as_posix()
        if split is not None and split_of(rel) != split:
            continue
        try:
            grid = song_to_grid(Song.read(path), roles)
        except DeepcomposeError as e:
            if errors is not None:
                errors.append((rel, str(e)))
            continue
        if grid is None or grid.shape[1] == 0:
            if errors is not None:
                errors.append((rel, "no track for the melody (S)"))
            continue
        grids.append(grid)
    if not grids and not files:
        raise DeepcomposeError(f"no MIDI files (.mid, .midi) under {folder}")
    return grids
