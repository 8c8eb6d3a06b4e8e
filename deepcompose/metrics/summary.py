"""All metrics of a piece in one flat dict, their mean over pieces, and JSON-ready output.

``all_metrics`` is ``harmony`` (``accompaniment.py``) plus ``musegan`` (``pianoroll.py``) for
notes; ``song_metrics`` and ``grid_metrics`` take a Song or a voice grid ``[4, steps]``.
"""

from __future__ import annotations

import numpy as np

from ..representations.voices import STEPS_PER_BEAT, Meter, grid_to_notes
from .accompaniment import harmony
from .grid import _length, _nanmean, _span
from .pianoroll import musegan


def notes_roll(parts, steps: int | None = None) -> np.ndarray:
    """Parts of notes in beats -> bool roll ``[parts, steps, 128]`` on the 16th grid."""
    if steps is None:
        steps = _length([], parts)
    roll = np.zeros((len(parts), steps, 128), dtype=bool)
    for k, part in enumerate(parts):
        for n in part:
            a, b = _span(n)
            roll[k, a:min(b, steps), int(n[0])] = True
    return roll


def all_metrics(melody, parts, meter: Meter | None = None, key=None) -> dict:
    """``harmony`` plus ``musegan`` (tracks: melody, then the parts) in one flat dict."""
    meter = meter or Meter()
    out = harmony(melody, parts, key, meter)
    out.update(musegan(notes_roll([melody, *parts]), meter.steps_per_bar, meter.offset))
    return out


def song_metrics(song, melody_index: int = 0, key=None) -> dict:
    """All metrics of a ``Song``: track ``melody_index`` is the melody, the other non-drum
    tracks the accompaniment (in track order, taken as high to low); bars from
    ``song.meter()``."""
    def notes(track):
        return [(n.pitch, n.start, n.end) for n in track.notes]

    melody = notes(song.tracks[melody_index])
    parts = [notes(t) for i, t in enumerate(song.tracks) if i != melody_index and not t.is_drum]
    return all_metrics(melody, parts, song.meter(), key)


def grid_notes(grid) -> list[list[tuple[int, float, float]]]:
    """Voice grid ``[voices, steps]`` (4 steps per beat) -> one list of notes in beats per row."""
    return [[(p, a / STEPS_PER_BEAT, b / STEPS_PER_BEAT) for p, a, b in grid_to_notes(row)]
            for row in np.asarray(grid)]


def grid_metrics(grid, meter: Meter | None = None, key=None) -> dict:
    """All metrics of a voice grid ``[4, steps]``: row 0 the melody, rows 1-3 the parts.

    ``meter`` defaults to 4/4 with no pickup (it only moves MuseGAN's bar lines)."""
    rows = grid_notes(grid)
    return all_metrics(rows[0], rows[1:], meter, key)


def average(results: list[dict]) -> dict:
    """Mean of each scalar metric over several results, skipping nans (dicts are dropped)."""
    keys_ = [k for k, v in results[0].items() if isinstance(v, (int, float))] if results else []
    return {k: _nanmean([float(r[k]) for r in results]) for k in keys_}


def json_ready(obj):
    """nan -> None, numpy scalars -> Python numbers, recursively (for JSON output)."""
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return None if np.isnan(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
