"""Training curves of a run folder (``deepcompose curves RUN_DIR -o curves.png``).

Reads ``RUN_DIR/log.jsonl`` (one row per step, written by ``deepcompose.train``) and draws
one panel per quantity over steps: first the losses (the keys of every row, running mean
over ``SMOOTH`` steps drawn over the raw values), then each sample metric (``sample_X``,
dots and a line) with its real value (``real_X``, from the training data) as a dashed
line. Needs the ``plot`` extra; matplotlib through its object API (no pyplot), the PNG
written atomically.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .errors import DeepcomposeError

SMOOTH = 25  # steps in the running mean of a loss curve
SKIP = {"step", "seconds", "lr"}
PANEL_IN = (4.0, 2.6)  # width, height of one panel in inches
COLUMNS = 4


def read_log(run_dir) -> list[dict]:
    """The rows of ``run_dir/log.jsonl``; a one-line error when it is missing or unreadable."""
    path = Path(run_dir) / "log.jsonl"
    if not path.is_file():
        raise DeepcomposeError(f"{run_dir} has no log.jsonl: is it a 'deepcompose train' run "
                               "folder?")
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DeepcomposeError(f"cannot read {path}: {e}") from None
    rows = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError:
            raise DeepcomposeError(f"{path} line {n} is not JSON") from None
        if not isinstance(rows[-1], dict) or "step" not in rows[-1]:
            raise DeepcomposeError(f"{path} line {n} is not a training log row")
    if not rows:
        raise DeepcomposeError(f"{path} is empty: nothing to draw")
    return rows


def series(rows: list[dict], key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of ``key`` over the rows that hold a finite number for it."""
    xs, ys = [], []
    for r in rows:
        v = r.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            xs.append(int(r["step"]))
            ys.append(float(v))
    return xs, ys


def panels(rows: list[dict]) -> tuple[list[str], list[str]]:
    """(loss keys, sample metric names): losses are the keys every row holds (``lr``, time
    and the metrics excepted); metrics are the ``X`` of the ``sample_X`` keys, in
    first-seen order."""
    losses = [k for k in rows[0] if k not in SKIP and not k.startswith(("sample_", "real_"))
              and all(k in r for r in rows)]
    metrics: list[str] = []
    for r in rows:
        metrics += [k[7:] for k in r if k.startswith("sample_") and k[7:] not in metrics]
    return losses, metrics


def _mean(ys: list[float], k: int) -> list[float]:
    out, total = [], 0.0
    for i, y in enumerate(ys):
        total += y - (ys[i - k] if i >= k else 0.0)
        out.append(total / min(i + 1, k))
    return out


def draw(run_dir, path) -> tuple[int, int]:
    """Write the curves of ``run_dir`` to ``path`` (PNG). Returns (loss panels, metric
    panels). Raises DeepcomposeError (nothing written) when there is nothing to draw."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise DeepcomposeError("curves need matplotlib: pip install 'deepcompose[plot]'"
                               ) from None
    from .atomic import atomic_path

    rows = read_log(run_dir)
    losses, metrics = panels(rows)
    names = losses + metrics
    if not names:
        raise DeepcomposeError(f"{run_dir}/log.jsonl holds no losses or metrics to draw")
    cols = min(COLUMNS, len(names))
    nrows = -(-len(names) // cols)
    fig = Figure(figsize=(PANEL_IN[0] * cols, PANEL_IN[1] * nrows), dpi=100)
    FigureCanvasAgg(fig)
    for i, name in enumerate(names):
        ax = fig.add_subplot(nrows, cols, i + 1)
        if name in losses:
            xs, ys = series(rows, name)
            ax.plot(xs, ys, color="#1f77b4", alpha=0.25, lw=0.6)
            ax.plot(xs, _mean(ys, SMOOTH), color="#1f77b4", lw=1.4)
            ax.set_title(f"loss: {name}", fontsize=9)
        else:
            xs, ys = series(rows, f"sample_{name}")
            ax.plot(xs, ys, "o-", color="#d62728", ms=3, lw=1.2, label="sampled")
            rx, ry = series(rows, f"real_{name}")
            if ry:
                ax.axhline(ry[-1], color="black", ls="--", lw=1.0, label="real data")
            ax.set_title(name.replace("_", " "), fontsize=9)
            ax.legend(fontsize=7, loc="best")
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle(f"deepcompose train: {Path(run_dir).name}", fontsize=11)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return len(losses), len(metrics)
