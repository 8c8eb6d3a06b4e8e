"""The Bach chorales in music21's corpus as voice grids ``[4, steps]``.

They are the same chorales as JSB (other editions): never train on them and report JSB test
numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .roles import ROLES, tracks_to_grid
from .splits import split_of


def load_music21_chorales(split: str | None = None, limit: int | None = None,
                          cache: bool = True) -> list[np.ndarray]:
    """The Bach chorales of music21's corpus with exactly four parts -> grids ``[4, steps]``.

    Parts map to S, A, T, B in score order (their order in every chorale); chorales with
    more or fewer parts (instrumental obbligatos) are left out. Parsing all ~400 takes
    about a minute, so the grids are cached in ``~/.cache/deepcompose`` (per music21
    version) unless ``cache=False``; ``limit`` parses only the first N files, uncached.
    ``split`` keeps the chorales of that split (``split_of`` the file name).
    """
    import music21
    from music21 import corpus

    from ..song import Song

    paths = sorted((p for p in corpus.getComposer("bach") if Path(p).name.startswith("bwv")),
                   key=lambda p: Path(p).name)
    if limit is not None:
        paths, cache = paths[:limit], False
    cache_file = (Path.home() / ".cache" / "deepcompose"
                  / f"music21-{music21.__version__}-chorales.npz")
    if cache and cache_file.exists():
        with np.load(cache_file) as z:
            names, pieces = list(z["names"]), [z[f"g{i}"] for i in range(len(z["names"]))]
    else:
        names, pieces = [], []
        for p in paths:
            score = corpus.parse(p)
            if len(score.parts) != 4:
                continue
            grid = tracks_to_grid(Song.from_music21(score), {r: [i] for i, r in enumerate(ROLES)})
            if grid is not None:
                names.append(Path(p).name)
                pieces.append(grid)
        if cache:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(".tmp.npz")
            np.savez_compressed(tmp, names=np.array(names),
                                **{f"g{i}": g for i, g in enumerate(pieces)})
            tmp.replace(cache_file)
    return [g for n, g in zip(names, pieces, strict=True)
            if split is None or split_of(str(n)) == split]
