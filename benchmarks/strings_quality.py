"""String quartet quality on the OpenScore String Quartets validation split (issues 22, 26).

    python benchmarks/strings_quality.py [--limit N] [--bars 16] [--out FILE.md] [--json FILE]
                                         [--model [--weights DIR]] [--latency RUNS]
                                         [--tunes N]

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

Issue 26 (``metrics.cadence``, the section "Harmony and endings"): on the same excerpts, the
share of sounding beats with full harmony (3 or more pitch classes of all four parts, per
quarter beat) and, of those, the shares holding a semitone clash and a tritone; and
endings: the last ``--bars`` bars of every valid movement (the real parts as the anchor)
and complete folk tunes (the first ``--tunes`` of the folk validation split,
``deepcompose.data.folk``) plus the bundled example melodies: the bass home under the last
melody note (over the pieces whose melody ends on the tonic), no semitone clash in the
final sonority, and the bass on I or V at the end of every 8th bar (``phrase_end``).
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
from deepcompose.metrics import cadence as C  # noqa: E402
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


CADENCE: dict[str, list[dict]] = {}  # column -> the excerpts' ``cadence.cadence_report``


def evaluate(items) -> dict[str, list[dict]]:
    """Per column, the ``excerpt_measures`` of every excerpt (and its ``cadence_report`` in
    ``CADENCE``)."""
    results: dict[str, list[dict]] = {c: [] for c in COLUMNS}
    for i, (ex, key) in enumerate(items):
        other = items[(i + 1) % len(items)][0]
        for col, make in COLUMNS.items():
            acc = make(ex, key, other)
            parts = {"violin1": ex.melody, **acc}
            results[col].append(S.excerpt_measures(parts, ex.bar_lines, key))
            CADENCE.setdefault(col, []).append(
                C.cadence_report(ex.melody, [acc[r] for r in ACC], ex.bar_lines, key[0]))
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
# (``share_noise=False``); issue 26's sampling, ablated: the parts' pitches drawn
# independently (``joint=0``), no gap filling (``legato=0``), the parts' attacks drawn
# independently (``attack_coupling=0``), and the network alone (no rule, independent
# pitch draws, no gap filling). Each column arranges violin I of every excerpt
# (its meters, from its first bar line), and ``verdicts`` checks every target of issue 22
# against ``real``.
# ``--latency N``: the 8-bar ``compose --style strings`` against the import floor.

MODEL = {"weights": None}
MODEL_COLUMNS = {"model seed 1": (1, True, {}), "model seed 2": (2, True, {}),
                 "seed 1, no rule": (1, False, {}),
                 "seed 1, no rule, per-step noise": (1, False, {"share_noise": False}),
                 "seed 1, independent draw": (1, True, {"joint": 0.0}),
                 "seed 1, no gap filling": (1, True, {"legato": 0}),
                 "seed 1, independent attacks": (1, True, {"attack_coupling": 0.0}),
                 "seed 1, network alone": (1, False, {"joint": 0.0, "legato": 0})}


def _quartet():
    from deepcompose.models.gan_strings import StringQuartet

    if "model" not in MODEL:
        MODEL["model"] = StringQuartet.load(MODEL["weights"])
    return MODEL["model"]


def model_column(seed: int, rules: bool, sampling: dict):
    """A ``COLUMNS`` entry: the model's violin II, viola and cello under the excerpt's
    violin I."""
    def make(ex, key, others):
        return play(list(ex.melody), float(ex.length), 0.0, ex.time_signatures, seed, rules,
                    sampling)
    return make


def play(melody, length: float, pickup: float, meters, seed: int, rules: bool,
         sampling: dict) -> dict:
    """The quartet's ``{role: notes}`` under ``melody`` ``[(pitch, start, end, vel)]``
    (beats; the first full bar at ``pickup``; ``meters`` ``[(beat, num, den)]``)."""
    from deepcompose.representations.multitrack import BandRequest

    _, num, den = meters[0]
    req = BandRequest(list(melody), float(length), num * 4 / den, pickup, (num, den),
                      seed=seed, meter_changes=tuple(tuple(m) for m in meters[1:]))
    res = _quartet().arrange(req, rules=rules, score=False, **sampling)
    return {p.role: p.notes for p in res.parts}


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


# ---------------------------------------------------------------- harmony and endings (26)

ENDING_COLUMNS = ("model seed 1", "model seed 2", "seed 1, no rule",
                  "seed 1, independent draw", "seed 1, no gap filling", "seed 1, network alone")


def harmony_table() -> str:
    """Full harmony, semitone and tritone shares on the excerpts, every column."""
    rows = ["| column | full harmony (of sounding beats) | semitone clash (of full) | "
            "tritone (of full) |", "|---|---|---|---|"]
    for col, reports in CADENCE.items():
        m = C.summarize(reports)
        rows.append(f"| {col} | {m['full']:.3f} | {m['semitone']:.3f} | {m['tritone']:.3f} |")
    return "\n".join(rows)


def ending_pieces(movements, bars: int, tunes: int) -> dict[str, list[dict]]:
    """The ending sets: ``movement endings`` (the last ``bars`` bars of every movement,
    with the real parts and the key of the four real parts), ``folk tunes`` (the first
    ``tunes`` folk validation tunes, complete) and ``bundled melodies`` (the examples);
    the key of a tune is estimated on its melody."""
    from deepcompose.data.folk import load_folk
    from deepcompose.melodies import load, names
    from deepcompose.representations.bars import iter_bars, meter_stretches

    def lines(length, pickup, meters):
        _, num, den = meters[0]
        out = []
        for start, *_ in iter_bars(meter_stretches(num * 4 / den, pickup,
                                                   [tuple(m) for m in meters[1:]])):
            if start >= length - 1e-6:
                break
            out.append(start)
        return np.array([*out, length])

    ends = []
    for m in movements:
        ex = m.excerpt(len(m.bar_lines) - bars, bars)
        if ex is not None and ex.melody:
            real = [ex.parts[r] for r in ACC]
            ends.append({"melody": ex.melody, "length": ex.length, "pickup": 0.0,
                         "meters": ex.time_signatures, "bar_lines": ex.bar_lines,
                         "tonic": C.tonic_of(ex.melody, real), "real": real})
    folk = []
    for tune in load_folk("valid")[:tunes]:
        mel = [(int(p), float(a), float(b), 90) for p, a, b in tune.notes]
        _, num, den = tune.time_signatures[0]
        pickup = tune.pickup % (num * 4 / den)
        folk.append({"melody": mel, "length": tune.length, "pickup": pickup,
                     "meters": tune.time_signatures,
                     "bar_lines": lines(tune.length, pickup, tune.time_signatures),
                     "tonic": C.tonic_of(mel, [])})
    bundled = []
    for name in names():
        song = load(name)
        mel = [(n.pitch, n.start, n.end, n.velocity) for n in song.tracks[0].notes]
        length = max(n[2] for n in mel)
        _, num, den = song.time_signatures[0]
        pickup = song.pickup % (num * 4 / den)
        bundled.append({"melody": mel, "length": length, "pickup": pickup,
                        "meters": song.time_signatures,
                        "bar_lines": lines(length, pickup, song.time_signatures),
                        "tonic": C.tonic_of(mel, [])})
    return {"movement endings": ends, "folk tunes": folk, "bundled melodies": bundled}


def ending_results(sets: dict) -> dict:
    """Set -> column -> ``cadence.summarize`` of the pieces' reports (``real`` where the set
    has the real parts; the model columns of ``ENDING_COLUMNS``)."""
    out = {}
    for name, pieces in sets.items():
        cols = {}
        if pieces and "real" in pieces[0]:
            cols["real"] = [C.cadence_report(p["melody"], p["real"], p["bar_lines"],
                                             p["tonic"]) for p in pieces]
        for col in ENDING_COLUMNS:
            seed, rules, sampling = MODEL_COLUMNS[col]
            reports = []
            for p in pieces:
                acc = play(p["melody"], p["length"], p["pickup"], p["meters"], seed, rules,
                           sampling)
                reports.append(C.cadence_report(p["melody"], [acc[r] for r in ACC],
                                                p["bar_lines"], p["tonic"]))
            cols[col] = reports
        out[name] = {c: C.summarize(r) for c, r in cols.items()}
    return out


def endings_table(ends: dict) -> str:
    rows = ["| set | column | pieces (ending home) | bass home under the last note | "
            "no semitone clash in the final sonority | phrase ends on I or V |",
            "|---|---|---|---|---|---|"]
    for name, cols in ends.items():
        for col, m in cols.items():
            rows.append(f"| {name} | {col} | {m['pieces']} ({m['ends_home']}) | "
                        f"{m['bass_home']:.3f} | {m['no_final_clash']:.3f} | "
                        f"{m['phrase_end']:.3f} |")
    return "\n".join(rows)


def verdicts_26(pooled, ends: dict) -> str:
    """Issue 26's targets for the quartet, PASS/FAIL per model column."""
    cols = [c for c in ENDING_COLUMNS if c in CADENCE]
    harm = {c: C.summarize(CADENCE[c]) for c in cols}
    checks = [("full harmony (excerpts)", ">= 0.50", lambda c: harm[c]["full"],
               lambda v: v >= 0.50),
              ("semitone clash of full (excerpts)", "<= 0.12", lambda c: harm[c]["semitone"],
               lambda v: v <= 0.12),
              ("tritone of full (excerpts)", ">= 0.20", lambda c: harm[c]["tritone"],
               lambda v: v >= 0.20)]
    for name, sets in ends.items():
        real = sets.get("real", {}).get("bass_home", float("nan"))
        floor = 0.85 if math.isnan(real) else max(0.85, min(real - 0.05, 1.0))
        checks += [(f"{name}: bass home", f">= {floor:.2f}",
                    lambda c, s=sets: s[c]["bass_home"], lambda v, f=floor: v >= f - 1e-9),
                   (f"{name}: no final clash", ">= 0.90",
                    lambda c, s=sets: s[c]["no_final_clash"], lambda v: v >= 0.90),
                   (f"{name}: phrase ends on I/V", ">= 0.60",
                    lambda c, s=sets: s[c]["phrase_end"], lambda v: v >= 0.60)]
    rows = ["| target | rule | " + " | ".join(cols) + " |", "|" + "---|" * (2 + len(cols))]
    for label, rule, get, test in checks:
        cells = []
        for c in cols:
            v = get(c)
            cells.append(f"{v:.3f} {'PASS' if not math.isnan(v) and test(v) else 'FAIL'}")
        rows.append(f"| {label} | {rule} | " + " | ".join(cells) + " |")
    for col in ("seed 1, no rule", "seed 1, network alone"):
        if col in pooled:
            v = pooled[col]["cello_lowest"]
            rows.append(f"{'' if col != 'seed 1, no rule' else chr(10)}`--no-rules` cello "
                        f"lowest ({col}): {v:.3f} {'PASS' if v >= 0.85 else 'FAIL'} (target "
                        f">= 0.85; real {pooled['real']['cello_lowest']:.3f})")
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
    ap.add_argument("--tunes", type=int, default=40, help="folk validation tunes (endings)")
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
    text += "\n\n## Harmony (issue 26) on the excerpts\n\n" + harmony_table()
    if args.model:
        text += "\n\n## The model against issue 22's targets\n\n" + verdicts(pooled)
        ends = ending_results(ending_pieces(movements, args.bars, args.tunes))
        text += ("\n\n## Endings (issue 26)\n\n" + endings_table(ends)
                 + "\n\n## The model against issue 26's targets\n\n"
                 + verdicts_26(pooled, ends))
        pooled["endings"] = ends
        pooled["harmony"] = {c: C.summarize(r) for c, r in CADENCE.items()}
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
