"""String quartet quality on the OpenScore String Quartets validation split (issue 22).

    python benchmarks/strings_quality.py [--limit N] [--bars 16] [--out FILE.md] [--json FILE]
                                         [--model [--weights DIR]] [--latency RUNS]

Excerpts (``Movement.excerpts``): for every movement of the valid works
(``deepcompose.data.quartets``), ``--bars`` bars from the first full bar and as many around
the middle bar (when the two do not overlap). Violin I is the melody; each column supplies
violin II, viola and cello:

- ``real``: the composer's own parts (the reference a model should come close to);
- ``other excerpt``: the real parts of the next excerpt in the list (another movement):
  real quartet writing that ignores this melody, the floor of every measure that ties the
  accompaniment to the melody (consonance, key fit, independence, form);
- ``random scale`` and ``tonic triad``: the naive accompaniments of
  ``benchmarks/baselines.py`` (alto, tenor, bass -> violin II, viola, cello).

A model joins as one more entry of ``COLUMNS``: a function ``(excerpt, key) -> {role:
notes}`` for the three accompaniment roles. Every measure is ``deepcompose.metrics.strings``
(see its docstrings for units); the key of an excerpt (for key fit and the baselines) is
``keys.estimate_key`` over its four real parts. Figures are means over excerpts, except the
form rows, which pool the bar pairs of all excerpts; ``real p10-p90`` is the spread of the
real parts over excerpts. ``--model`` adds the string quartet GAN (seeds 1 and 2 and its
ablation) and checks it against issue 22's targets, PASS/FAIL (``verdicts``); ``--latency N``
times the 8-bar ``compose --style strings`` against the import floor.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's deepcompose
sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import random_scale, tonic_triad  # noqa: E402

from deepcompose.data.quartets import load_quartets, summary  # noqa: E402
from deepcompose.keys import estimate_key  # noqa: E402
from deepcompose.metrics import strings as S  # noqa: E402

ACC = S.ACCOMPANIMENT


def _as_roles(parts) -> dict:
    return dict(zip(ACC, parts, strict=True))


COLUMNS = {
    "real": lambda ex, key, others: {r: ex.parts[r] for r in ACC},
    "other excerpt": lambda ex, key, others: {r: others.parts[r] for r in ACC},
    "random scale": lambda ex, key, others: _as_roles(random_scale(ex.melody, 0, key)),
    "tonic triad": lambda ex, key, others: _as_roles(tonic_triad(ex.melody, key)),
}

ROWS = (  # (label, key in the pooled dict, digits)
    ("violin II notes >= G3", "in_range_violin2", 3),
    ("viola notes >= C3", "in_range_viola", 3),
    ("cello notes >= C2", "in_range_cello", 3),
    ("cello is the lowest part (time)", "cello_lowest", 3),
    ("on-beat consonance with violin I", "consonance", 3),
    ("key fit (note time in the key)", "keyfit", 3),
    ("accompaniment sounds where violin I does", "coverage", 3),
    ("parallel 5ths/8ves per 100 transitions", "parallels", 2),
    ("onsets per bar: violin I", "onsets_per_bar_violin1", 2),
    ("onsets per bar: violin II", "onsets_per_bar_violin2", 2),
    ("onsets per bar: viola", "onsets_per_bar_viola", 2),
    ("onsets per bar: cello", "onsets_per_bar_cello", 2),
    ("independence: violin II onsets off violin I's", "independence_violin2", 3),
    ("independence: viola", "independence_viola", 3),
    ("independence: cello", "independence_cello", 3),
    ("form: accompaniment similarity where violin I repeats a bar", "form_repeat", 3),
    ("form: accompaniment similarity elsewhere", "form_other", 3),
    ("form: lift (repeat - elsewhere)", "form_lift", 3),
)


def excerpts(limit: int | None, bars: int):
    """``(excerpt, key)`` of the valid movements (the first ``limit`` movements)."""
    movements = load_quartets("valid")[:limit] if limit else load_quartets("valid")
    out = []
    for m in movements:
        for ex in m.excerpts(bars):
            if ex.melody:  # an excerpt where violin I rests throughout has no melody
                notes = [n for part in ex.parts.values() for n in part]
                key = estimate_key([n[0] for n in notes], [n[2] - n[1] for n in notes])
                out.append((ex, key))
    return movements, out


def evaluate(items) -> dict[str, list[dict]]:
    """Per column, the ``excerpt_measures`` of every excerpt."""
    results: dict[str, list[dict]] = {c: [] for c in COLUMNS}
    for i, (ex, key) in enumerate(items):
        other = items[(i + 1) % len(items)][0]
        for col, make in COLUMNS.items():
            acc = make(ex, key, other)
            parts = {"violin1": ex.melody, **acc}
            results[col].append(S.excerpt_measures(parts, ex.bar_lines, key))
    return results


def spread(values) -> str:
    vals = [v for v in values if not math.isnan(v)]
    if not vals:
        return "nan"
    lo, hi = np.percentile(vals, [10, 90])
    return f"{lo:.2f}-{hi:.2f}"


def table(results, pooled, n_excerpts: int, movements, bars: int) -> str:
    cols = list(COLUMNS)
    rows = ["| measure | " + " | ".join(cols) + " | real p10-p90 |",
            "|" + "---|" * (len(cols) + 2)]
    for label, key, digits in ROWS:
        vals = [pooled[c][key] for c in cols]
        cells = ["nan" if math.isnan(v) else f"{v:.{digits}f}" for v in vals]
        sp = spread([r[key] for r in results["real"]]) if key in results["real"][0] else ""
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {sp} |")
    rows.append("| form: bar pairs where violin I repeats | "
                + " | ".join(str(pooled[c]["form_repeat_pairs"]) for c in cols) + " | |")
    s = summary(movements)
    rows += ["", f"{n_excerpts} excerpts of {bars} bars from {s['movements']} movements of "
             f"{s['works']} valid works ({s['bars']} bars in all)."]
    return "\n".join(rows)


# ---------------------------------------------------------------------- the model (issue 22)
# ``--model``: the string quartet GAN (``deepcompose/models/gan_strings``, the shipped weights
# or ``--weights DIR``) joins ``COLUMNS`` at seeds 1 and 2, and, for its card's ablation, at
# seed 1 with no decoding rule (``rules=False``) and with per-step sampling noise as well
# (``share_noise=False``). Each column arranges violin I of every excerpt (its meters, from
# its first bar line), and ``verdicts`` checks every target of issue 22 against ``real``.
# ``--latency N``: the 8-bar ``compose --style strings`` against the import floor.

MODEL = {"weights": None}
MODEL_COLUMNS = {"model seed 1": (1, True, {}), "model seed 2": (2, True, {}),
                 "seed 1, no rule": (1, False, {}),
                 "seed 1, no rule, per-step noise": (1, False, {"share_noise": False})}


def _quartet():
    from deepcompose.models.gan_strings import StringQuartet

    if "model" not in MODEL:
        MODEL["model"] = StringQuartet.load(MODEL["weights"])
    return MODEL["model"]


def model_column(seed: int, rules: bool, sampling: dict):
    """A ``COLUMNS`` entry: the model's violin II, viola and cello under the excerpt's
    violin I."""
    from deepcompose.representations.multitrack import BandRequest

    def make(ex, key, others):
        _, num, den = ex.time_signatures[0]
        req = BandRequest(list(ex.melody), float(ex.length), num * 4 / den, 0.0, (num, den),
                          seed=seed, meter_changes=tuple(tuple(m) for m in
                                                         ex.time_signatures[1:]))
        res = _quartet().arrange(req, rules=rules, score=False, **sampling)
        return {p.role: p.notes for p in res.parts}
    return make


def _onsets_ok(m, r):
    return abs(m / r - 1) <= 0.35


TARGETS = (  # (label, pooled key, test(model, real), the rule in words)
    *[(label, key, lambda m, r: m >= 0.99, ">= 0.99") for label, key, _ in ROWS[:3]],
    (ROWS[3][0], "cello_lowest", lambda m, r: m >= 0.90, ">= 0.90"),
    (ROWS[4][0], "consonance", lambda m, r: m >= r - 0.03, ">= real - 0.03"),
    (ROWS[5][0], "keyfit", lambda m, r: m >= r - 0.05, ">= real - 0.05"),
    (ROWS[6][0], "coverage", lambda m, r: abs(m - r) <= 0.05, "real +- 0.05"),
    *[(label, key, _onsets_ok, "real +- 35%") for label, key, _ in ROWS[9:12]],
    *[(label, key, lambda m, r: abs(m - r) <= 0.12, "real +- 0.12")
      for label, key, _ in ROWS[12:15]],
    ("form: repeats more where violin I repeats", "form_lift", lambda m, r: m > 0,
     "lift > 0"),
)


def verdicts(pooled) -> str:
    """The issue's targets, real vs each model column, PASS/FAIL."""
    cols = [c for c in MODEL_COLUMNS if c in pooled]
    rows = ["| target | rule | real | " + " | ".join(cols) + " |", "|" + "---|" * (3 + len(cols))]
    fails = {c: 0 for c in cols}
    for label, key, test, rule in TARGETS:
        real = pooled["real"][key]
        cells = []
        for c in cols:
            m = pooled[c][key]
            ok = not math.isnan(m) and bool(test(m, real))
            fails[c] += not ok
            cells.append(f"{m:.3f} {'PASS' if ok else 'FAIL'}")
        rows.append(f"| {label} | {rule} | {real:.3f} | " + " | ".join(cells) + " |")
    rows.append("| targets missed | | | " + " | ".join(str(fails[c]) for c in cols) + " |")
    return "\n".join(rows)


def latency(runs: int) -> str:
    """Median seconds of the 8-bar 4/4 ``compose --style strings`` (a fresh process, MIDI
    out) against ``python -c "import torch, pretty_midi, mido, click"``; limit 2x."""
    import tempfile

    from compose_latency import BIN, MELODY, median_seconds

    floor = median_seconds([sys.executable, "-c", "import torch, pretty_midi, mido, click"],
                           runs)
    with tempfile.TemporaryDirectory() as tmp:
        took = median_seconds([str(BIN / "compose"), "--melody", str(MELODY), "--model", "gan",
                               "--style", "strings", "--seed", "1", "-o",
                               str(Path(tmp) / "out.mid")], runs)
    ratio = took / floor
    return (f"8-bar compose --style strings: {took:.2f} s, import floor {floor:.2f} s, "
            f"{ratio:.2f}x (limit 2x): {'PASS' if ratio <= 2 else 'FAIL'}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, help="only the first N valid movements")
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--out", type=Path, help="also write the table here (markdown)")
    ap.add_argument("--json", type=Path, help="also write every pooled number here")
    ap.add_argument("--model", action="store_true", help="add the string quartet GAN")
    ap.add_argument("--weights", type=Path, help="its weights folder (default: shipped)")
    ap.add_argument("--latency", type=int, default=0, help="runs of the compose latency")
    args = ap.parse_args(argv)
    if args.model:
        MODEL["weights"] = args.weights
        COLUMNS.update({c: model_column(*spec) for c, spec in MODEL_COLUMNS.items()})
    t = time.perf_counter()
    movements, items = excerpts(args.limit, args.bars)
    results = evaluate(items)
    pooled = {c: S.pool(r) for c, r in results.items()}
    text = table(results, pooled, len(items), movements, args.bars)
    modes = sum(k[1] == "minor" for _, k in items)
    text += (f"\nExcerpt keys (estimated on the four real parts): {len(items) - modes} major, "
             f"{modes} minor. Wall time {time.perf_counter() - t:.0f} s.")
    if args.model:
        text += "\n\n## The model against issue 22's targets\n\n" + verdicts(pooled)
    if args.latency:
        text += "\n\n" + latency(args.latency)
    print(text)
    if args.out:
        args.out.write_text("# String quartet quality (benchmarks/strings_quality.py)\n\n"
                            + text + "\n")
    if args.json:
        args.json.write_text(json.dumps(pooled, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
