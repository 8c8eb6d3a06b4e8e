"""``deepcompose evaluate``: harmonize each piece's real melody, compare with the real parts.

For every piece of a split (voice grids ``[4, steps]``, row 0 the soprano), the model
fills alto, tenor and bass under the real soprano (task ``accompany``, one seed). The
same metrics (``deepcompose.metrics``) are computed for the model's parts (block
``"model"``) and for the piece's own parts (block ``"data"``), averaged over pieces.
Models with a likelihood also report ``nll`` (nats per token, whole pieces) at the top
level. JSB pieces carry no meter; they are scored with 4/4 bars (16 steps).

The melody transformer (plan ``melody``) is scored by likelihood alone: valid NLL in nats
per note over the style's validation lines (``models/melody/scoring.py``); its
continuations are measured by ``benchmarks/melody_quality.py``.
"""

from __future__ import annotations

import numpy as np

from .data import load_voices
from .errors import DeepcomposeError
from .metrics import average, grid_metrics, json_ready
from .models.common.weights import get_model
from .models.registry import player
from .representations.voices import REST, Meter

METER = Meter(steps_per_bar=16, offset=0)
HEADLINE = ("consonance", "keyfit", "parallels", "polyphony", "voice_range", "voice_crossing",
            "coverage", "above_melody", "tiny_notes", "empty_bars", "used_pitch_classes",
            "qualified_notes", "tonal_distance")


def harmonize(composer, piece: np.ndarray, seed: int) -> np.ndarray:
    """The model's alto, tenor and bass under ``piece``'s soprano: a grid ``[4, steps]``."""
    grid = np.full_like(piece, REST)
    grid[0] = piece[0]
    known = np.zeros(piece.shape, dtype=bool)
    known[0] = True
    return np.asarray(composer.generate("accompany", grid, known, METER, seed=seed))


def evaluate(model: str, data: str | None = "jsb", split: str | None = "test", seed: int = 1,
             limit: int | None = None, progress: bool = True, style: str | None = None) -> dict:
    """Metrics of ``model`` (in ``style``) vs the data on ``split``; see the module docstring
    for the keys. Voice-grid families only (the band has ``benchmarks/band_quality.py``)."""
    from tqdm import tqdm

    family = player(model, style)
    if family.plan == "melody":
        return evaluate_melody(family, style or family.styles[0], split, limit)
    data, split = data or "jsb", split or "test"
    if family.plan != "voices":
        raise DeepcomposeError(f"evaluate scores the voice-grid families; {family.name} plays "
                               f"the {family.plan} plan (see benchmarks/)")
    pieces = load_voices(data, split)[:limit]
    composer = get_model(family.name)
    ours, theirs = [], []
    for i, piece in enumerate(tqdm(pieces, desc=f"evaluate {model}", disable=not progress)):
        ours.append(grid_metrics(harmonize(composer, piece, seed + i), METER))
        theirs.append(grid_metrics(piece, METER))
    report = {"model_name": model, "dataset": data, "split": split, "pieces": len(pieces),
              "seed": seed, "model": average(ours), "data": average(theirs)}
    likelihood = composer.nll(pieces)
    if likelihood:
        report.update(likelihood)
    return json_ready(report)


def evaluate_melody(family, style: str, split: str | None, limit: int | None) -> dict:
    """Valid NLL per note of the melody family on ``style``'s lines (split ``valid``)."""
    from .data.melody_lines import load_lines

    lines = list(load_lines(style, split or "valid"))[:limit]
    report = get_model(family.name).nll(lines)
    return json_ready({"model_name": family.model, "style": style, "dataset":
                       family.data[0], "split": split or "valid", **report})


def format_report(report: dict) -> str:
    """A table for humans: metric, model, data."""
    if "model" not in report:  # likelihood only (the melody transformer)
        return (f"{report['model_name']} --style {report['style']} on {report['split']} "
                f"({report['pieces']} pieces, {report['notes']} notes)\n"
                f"nll_per_note {report['nll_per_note']:.3f} nats")
    lines = [f"{report['model_name']} on {report['dataset']} {report['split']} "
             f"({report['pieces']} pieces, seed {report['seed']})",
             f"{'metric':20s} {'model':>8s} {'data':>8s}"]
    for key in HEADLINE:
        m, d = report["model"].get(key), report["data"].get(key)
        lines.append(f"{key:20s} {_num(m):>8s} {_num(d):>8s}")
    for key, value in report.items():
        if key.startswith("nll"):
            lines.append(f"{key:20s} {_num(value):>8s}")
    return "\n".join(lines)


def _num(x) -> str:
    return "-" if x is None else f"{x:.3f}"
