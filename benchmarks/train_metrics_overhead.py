"""What logging the sample metrics costs a training run (issue 28: at most 10% at the default
interval).

Trains the same short run twice on one torch thread, with the metrics at the default
interval (``steps // 20``) and without them (``metrics_every=0``), TensorBoard events on in
both; and times the probe itself inside the first run (the real values once, then every
measurement), which is the number that does not depend on the machine's other load.

    python benchmarks/train_metrics_overhead.py [--model gan] [--steps 200]

Prints one table; the numbers in benchmarks/RESULTS.md come from it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from deepcompose import train_log
from deepcompose.train import train


def timed_probe():
    """Wrap MetricsProbe so that every second it spends is added up; returns the total."""
    spent = [0.0]
    orig_init, orig_measure = train_log.MetricsProbe.__init__, train_log.MetricsProbe.measure

    def init(self, *a, **k):
        t = time.perf_counter()
        orig_init(self, *a, **k)
        spent[0] += time.perf_counter() - t

    def measure(self, *a, **k):
        t = time.perf_counter()
        out = orig_measure(self, *a, **k)
        spent[0] += time.perf_counter() - t
        return out

    train_log.MetricsProbe.__init__, train_log.MetricsProbe.measure = init, measure
    return spent, (orig_init, orig_measure)


def run(model: str, steps: int, every: int | None, out: Path, style: str | None) -> float:
    t = time.perf_counter()
    train(model=model, style=style, steps=steps, out=out, threads=1, progress=False,
          metrics_every=every, checkpoint_every=10**9, validate_every=10**9)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="gan")
    ap.add_argument("--style", default=None)
    ap.add_argument("--steps", type=int, default=200)
    args = ap.parse_args()
    every = train_log.default_every(args.steps)
    with tempfile.TemporaryDirectory() as tmp:
        spent, orig = timed_probe()
        with_m = run(args.model, args.steps, None, Path(tmp) / "with", args.style)
        train_log.MetricsProbe.__init__, train_log.MetricsProbe.measure = orig
        without = run(args.model, args.steps, 0, Path(tmp) / "without", args.style)
    points = -(-args.steps // every)
    print(f"model {args.model}, {args.steps} steps, metrics every {every} steps "
          f"({points} measurements + the real values once), 1 torch thread")
    print("| run | wall (s) |")
    print("|---|---|")
    print(f"| with metrics | {with_m:.1f} |")
    print(f"| without metrics | {without:.1f} |")
    print(f"| difference | {with_m - without:+.1f} ({100 * (with_m - without) / without:+.1f}%) |")
    print(f"| time inside the probe | {spent[0]:.1f} ({100 * spent[0] / (with_m - spent[0]):.1f}% "
          "of the rest of the run) |")


if __name__ == "__main__":
    main()
