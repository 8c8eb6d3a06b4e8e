"""What logging the sample metrics costs a training run (issue 28: at most 10% at the default
interval).

Trains the same short run twice on one torch thread, with the metrics at the default
interval (``steps // 20``) and without them (``metrics_every=0``), TensorBoard events on in
both; and times the probe itself inside the first run (the real values once, then every
measurement), which is the number that does not depend on the machine's other load.

    python benchmarks/train_metrics_overhead.py [--model gan] [--steps 200] [--keep DIR]

Prints one table; the numbers in benchmarks/RESULTS.md come from it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from deepcompose import train_log
from deepcompose.train import train


def timed_probe():
    """Wrap MetricsProbe so that the seconds it spends are added up: ``spent["real"]`` (the
    real values, once) and ``spent["measure"]`` (every measurement), ``spent["n"]``."""
    spent = {"real": 0.0, "measure": 0.0, "n": 0}
    orig_init, orig_measure = train_log.MetricsProbe.__init__, train_log.MetricsProbe.measure

    def init(self, *a, **k):
        t = time.perf_counter()
        orig_init(self, *a, **k)
        spent["real"] += time.perf_counter() - t

    def measure(self, *a, **k):
        t = time.perf_counter()
        out = orig_measure(self, *a, **k)
        spent["measure"] += time.perf_counter() - t
        spent["n"] += 1
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
    ap.add_argument("--keep", help="Keep the run with metrics in this folder (for curves).")
    args = ap.parse_args()
    every = train_log.default_every(args.steps)
    with tempfile.TemporaryDirectory() as tmp:
        spent, orig = timed_probe()
        with_m = run(args.model, args.steps, None, Path(args.keep or Path(tmp) / "with"),
                     args.style)
        train_log.MetricsProbe.__init__, train_log.MetricsProbe.measure = orig
        without = run(args.model, args.steps, 0, Path(tmp) / "without", args.style)
        last = (Path(tmp) / "without" / "log.jsonl").read_text().splitlines()[-1]
        step_s = json.loads(last)["seconds"] / args.steps  # training alone, per step
    probe = spent["real"] + spent["measure"]
    per = spent["measure"] / max(spent["n"], 1)
    print(f"model {args.model}, {args.steps} steps, metrics every {every} steps "
          f"({spent['n']} measurements + the real values once), 1 torch thread")
    print("| run | wall (s) |")
    print("|---|---|")
    print(f"| with metrics | {with_m:.1f} |")
    print(f"| without metrics | {without:.1f} |")
    print(f"| difference | {with_m - without:+.1f} ({100 * (with_m - without) / without:+.1f}%) |")
    print(f"| inside the probe: real values once / per measurement | {spent['real']:.2f} / "
          f"{per:.2f} |")
    print(f"| training step (without metrics) | {step_s:.3f} |")
    print(f"| probe share of this run | {100 * probe / (step_s * args.steps):.1f}% |")
    for steps in (1000, 6000):  # the CLI's default --steps; the shipped GAN's 6,000
        n = steps // train_log.default_every(steps)
        cost = spent["real"] + n * per
        print(f"| projected at the default interval, {steps} steps | "
              f"{100 * cost / (steps * step_s):.1f}% |")


if __name__ == "__main__":
    main()
