"""Accompaniment (and continuation) quality on held-out folk melodies and the JSB test split.

    python benchmarks/accompany_quality.py --model gan [--seed 1] [--json out.json]
    python benchmarks/accompany_quality.py --model transformer --task continue --bars 4

accompany: each melody of ``benchmarks/data/folk`` goes through
``deepcompose.compose(path, model=M, seed=S)`` (what ``compose --melody F --model M --seed S``
runs); the output's track 0 must be the melody. The thresholds of issue 3 are checked on
the mean over melodies (and counted per melody):

    melody unchanged (every input note in track 0, same pitch, onset within 1/8 beat, and
    no other notes in that track) for every melody; coverage >= 0.90; consonance >= 0.85;
    keyfit >= 0.85; parallels <= 3 per 100 transitions; 2 <= polyphony <= 4.5;
    tiny_notes < 0.05; above_melody < 0.10.

Beside the model: the naive baselines of ``baselines.py`` on the same melodies, and on the
JSB test split the model harmonizing each real soprano next to Bach's own alto/tenor/bass
(harmony and MuseGAN metrics; ``deepcompose.metrics`` documents every definition).

continue (``--bars N``, issue 5): the output must add N bars (+-0.5 bar) after the end
of the input, >= 85% of the new notes (all tracks, counted by notes) on the scale of the
input melody's key, no rest longer than 4 beats in the melody track between the input's
end and its last new note, and the input melody unchanged.

When the model cannot run (no shipped weights yet, say), its columns are skipped with the
reason and the baselines and Bach are still printed. Exit status 1 when a check fails.
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
from baselines import random_scale, tonic_triad  # noqa: E402

import deepcompose  # noqa: E402
from deepcompose import keys, metrics  # noqa: E402
from deepcompose.data import load_jsb  # noqa: E402

FOLK_DIR = Path(__file__).resolve().parent / "data" / "folk"
ONSET_TOL = 1 / 8  # beats
# name -> (test on the mean, text)
THRESHOLDS = {
    "coverage": (lambda x: x >= 0.90, ">= 0.90"),
    "consonance": (lambda x: x >= 0.85, ">= 0.85"),
    "keyfit": (lambda x: x >= 0.85, ">= 0.85"),
    "parallels": (lambda x: x <= 3.0, "<= 3"),
    "polyphony": (lambda x: 2.0 <= x <= 4.5, "2 - 4.5"),
    "tiny_notes": (lambda x: x < 0.05, "< 0.05"),
    "above_melody": (lambda x: x < 0.10, "< 0.10"),
}
HARMONY_ROWS = ("consonance", "keyfit", "parallels", "polyphony", "coverage", "tiny_notes",
                "above_melody", "voice_range", "voice_crossing")
MUSEGAN_ROWS = ("empty_bars", "used_pitch_classes", "qualified_notes", "polyphonicity_union",
                "tonal_distance")


def note_tuples(track) -> list[tuple[int, float, float]]:
    return [(n.pitch, n.start, n.end) for n in track.notes]


def melody_kept(original, out_notes, until: float | None = None) -> tuple[bool, str]:
    """Every original note in ``out_notes`` (pitch equal, onset within 1/8 beat), and no other
    note in that track before ``until`` (the whole track when None)."""
    pool = [n for n in out_notes if until is None or n[1] < until - 1e-6]
    missing = [n for n in original
               if not any(o[0] == n[0] and abs(o[1] - n[1]) <= ONSET_TOL for o in pool)]
    if missing:
        return False, f"{len(missing)} of {len(original)} melody notes missing, e.g. {missing[0]}"
    if len(pool) != len(original):
        return False, f"melody track has {len(pool)} notes where the input had {len(original)}"
    return True, ""


def fmt(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.3f}"


clean = metrics.json_ready


def table(columns: dict[str, dict], rows, checks: dict | None = None) -> str:
    """Rows of metrics, one column per system; a threshold column when ``checks`` given."""
    names = list(columns)
    head = f"{'metric':20s}" + "".join(f"{n:>14s}" for n in names)
    if checks:
        head += f"  {'target':>9s}  result"
    lines = [head, "-" * len(head)]
    for r in rows:
        line = f"{r:20s}" + "".join(f"{fmt(columns[n].get(r)):>14s}" for n in names)
        if checks and r in checks:
            target = THRESHOLDS[r][1] if r in THRESHOLDS else "all"
            line += f"  {target:>9s}  {checks[r]}"
        lines.append(line)
    return "\n".join(lines)


class ModelRunner:
    """Calls ``deepcompose.compose``; turns itself off (with the reason) when the model
    cannot run at all, so the benchmark still reports baselines and Bach."""

    def __init__(self, model: str, seed: int):
        self.model, self.seed = model, seed
        self.unavailable: str | None = None
        self.calls = 0
        self.seconds: list[float] = []

    def __call__(self, melody, **kw):
        if self.unavailable:
            return None
        t0 = time.perf_counter()
        try:
            out = deepcompose.compose(melody, model=self.model, seed=self.seed, **kw)
        except Exception as exc:  # noqa: BLE001 - reported, not hidden
            if self.calls == 0:
                self.unavailable = f"{type(exc).__name__}: {exc}"
                return None
            raise
        finally:
            self.calls += 1
        self.seconds.append(time.perf_counter() - t0)
        return out


def folk_files(limit: int | None) -> list[tuple[Path, dict]]:
    index = {e["file"]: e for e in json.loads((FOLK_DIR / "index.json").read_text())}
    files = sorted(FOLK_DIR.glob("*.mid"))[:limit]
    return [(f, index.get(f.name, {})) for f in files]


# ---------------------------------------------------------------------- accompany


def accompany_folk(run: ModelRunner, limit: int | None, seed: int) -> dict:
    rows, base = [], {"random_scale": [], "tonic_triad": []}
    for path, info in folk_files(limit):
        song = deepcompose.read(path)
        melody, meter = note_tuples(song.tracks[0]), song.meter()
        base["random_scale"].append(
            metrics.all_metrics(melody, random_scale(melody, seed=seed), meter))
        base["tonic_triad"].append(metrics.all_metrics(melody, tonic_triad(melody), meter))
        row = {"file": path.name, "meter": info.get("meter")}
        try:
            out = run(str(path))
        except Exception as exc:  # noqa: BLE001 - a failure on one melody is a result
            row.update(ok=False, error=f"{type(exc).__name__}: {exc}")
            rows.append(row)
            continue
        if out is None:
            continue
        kept, why = melody_kept(melody, note_tuples(out.tracks[0]))
        row.update(ok=True, melody_unchanged=kept, why=why, seconds=run.seconds[-1],
                   **metrics.song_metrics(out, 0))
        row.pop("per_track", None)
        rows.append(row)
    return {"per_melody": rows, "baselines": {k: metrics.average(v) for k, v in base.items()}}


def check_accompany(rows: list[dict]) -> tuple[dict, dict, dict, bool]:
    """Mean metrics, PASS/FAIL per threshold on the mean, melodies passing each one."""
    good = [r for r in rows if r.get("ok")]
    mean = metrics.average(good) if good else {}
    checks, counts = {}, {}
    unchanged = len(good) == len(rows) and all(r["melody_unchanged"] for r in good)
    checks["melody_unchanged"] = "PASS" if rows and unchanged else "FAIL"
    counts["melody_unchanged"] = sum(1 for r in good if r["melody_unchanged"])
    for name, (test, _) in THRESHOLDS.items():
        value = mean.get(name, math.nan)
        checks[name] = "PASS" if not math.isnan(value) and test(value) else "FAIL"
        counts[name] = sum(1 for r in good if not math.isnan(r[name]) and test(r[name]))
    return mean, checks, counts, all(v == "PASS" for v in checks.values())


def accompany_jsb(run: ModelRunner, limit: int | None, seed: int) -> dict:
    from deepcompose.song import Note, Song, Track

    cols = {"bach": [], "random_scale": [], "tonic_triad": [], "model": []}
    for grid in load_jsb("test")[:limit]:
        rows = metrics.grid_notes(grid)
        soprano = rows[0]
        cols["bach"].append(metrics.grid_metrics(grid))
        for name, parts in (("random_scale", random_scale(soprano, seed=seed)),
                            ("tonic_triad", tonic_triad(soprano))):
            cols[name].append(metrics.all_metrics(soprano, parts))
        song = Song(tracks=[Track("Soprano", notes=[Note(p, a, b) for p, a, b in soprano])])
        out = run(song)
        if out is not None:
            cols["model"].append(metrics.song_metrics(out, 0))
    return {k: metrics.average(v) for k, v in cols.items() if v}


def run_accompany(args) -> tuple[dict, bool]:
    run = ModelRunner(args.model, args.seed)
    folk = accompany_folk(run, args.limit, args.seed)
    rows = folk["per_melody"]
    mean, checks, counts, ok = check_accompany(rows)
    n = len(folk_files(args.limit))
    print(f"\n== accompany: {args.model} (seed {args.seed}) on {n} held-out folk melodies ==")
    if run.unavailable:
        print(f"model skipped: {run.unavailable}")
    for r in rows:
        if not r.get("ok"):
            print(f"  {r['file']}: ERROR {r['error']}")
        elif not r["melody_unchanged"]:
            print(f"  {r['file']}: melody changed: {r['why']}")
    cols = {args.model: mean, **folk["baselines"]}
    print(table(cols, ("melody_unchanged",) + HARMONY_ROWS + MUSEGAN_ROWS,
                None if run.unavailable else checks))
    if not run.unavailable and rows:
        print(f"melody unchanged: {counts['melody_unchanged']}/{n} melodies "
              f"-> {checks['melody_unchanged']}")
        print("melodies meeting each threshold: "
              + ", ".join(f"{k} {v}/{n}" for k, v in counts.items() if k != "melody_unchanged"))
        if run.seconds:
            print(f"compose time per melody: median {np.median(run.seconds):.2f} s")
    result = {"model": args.model, "task": "accompany", "seed": args.seed,
              "skipped": run.unavailable,
              "folk": {"mean": mean, "checks": checks, "melodies_passing": counts,
                       "baselines": folk["baselines"], "per_melody": rows}}
    if not args.no_jsb:
        jsb = accompany_jsb(run, args.jsb_limit, args.seed)
        print(f"\n== JSB test split: {args.model} harmonizing each real soprano vs Bach ==")
        cols = {args.model: jsb.get("model", {}), "bach": jsb["bach"],
                "random_scale": jsb["random_scale"], "tonic_triad": jsb["tonic_triad"]}
        print(table(cols, HARMONY_ROWS + MUSEGAN_ROWS))
        result["jsb_test"] = jsb
    result["pass"] = bool(ok and not run.unavailable)
    return result, result["pass"]


# ---------------------------------------------------------------------- continue


def check_continuation(melody, out, bars: int, bar_beats: float, in_end: float) -> dict:
    """The issue-5 checks for one continued melody (see the module docstring)."""
    tonic, mode = keys.estimate_key([n[0] for n in melody], [n[2] - n[1] for n in melody])
    scale = keys.scale_pitch_classes(tonic, mode)
    new = [(p, a, b) for t in out.tracks for p, a, b in note_tuples(t) if a >= in_end - 1e-6]
    new_melody = sorted(n for n in note_tuples(out.tracks[0]) if n[1] >= in_end - 1e-6)
    end = max((n[2] for n in new), default=in_end)
    added = (end - in_end) / bar_beats
    gaps, pos = [], in_end
    for _, a, b in sorted(new_melody, key=lambda n: n[1]):
        gaps.append(a - pos)
        pos = max(pos, b)
    kept, why = melody_kept(melody, note_tuples(out.tracks[0]), until=in_end)
    row = {
        "added_bars": added,
        "in_key": (sum(1 for n in new if n[0] % 12 in scale) / len(new)) if new else math.nan,
        "longest_rest": max(gaps, default=math.inf),
        "new_notes": len(new),
        "melody_unchanged": kept, "why": why,
    }
    row["pass_bars"] = abs(added - bars) <= 0.5
    row["pass_key"] = not math.isnan(row["in_key"]) and row["in_key"] >= 0.85
    row["pass_rest"] = bool(new_melody) and row["longest_rest"] <= 4.0
    return row


def run_continue(args) -> tuple[dict, bool]:
    run = ModelRunner(args.model, args.seed)
    rows = []
    for path, info in folk_files(args.limit):
        song = deepcompose.read(path)
        melody = note_tuples(song.tracks[0])
        bar_beats = song.meter().steps_per_bar / 4
        row = {"file": path.name, "meter": info.get("meter")}
        try:
            out = run(str(path), task="continue", bars=args.bars)
        except Exception as exc:  # noqa: BLE001
            rows.append({**row, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
            continue
        if out is None:
            break
        in_end = max(n[2] for n in melody)
        row.update(ok=True, **check_continuation(melody, out, args.bars, bar_beats, in_end))
        rows.append(row)
    print(f"\n== continue --bars {args.bars}: {args.model} (seed {args.seed}) on folk melodies ==")
    if run.unavailable:
        print(f"model skipped: {run.unavailable}")
        return {"model": args.model, "task": "continue", "skipped": run.unavailable,
                "pass": False}, False
    print(f"{'file':44s} {'bars':>6s} {'in key':>7s} {'rest':>6s} melody")
    for r in rows:
        if not r["ok"]:
            print(f"{r['file']:44s} ERROR {r['error']}")
            continue
        print(f"{r['file']:44s} {r['added_bars']:6.2f} {fmt(r['in_key']):>7s} "
              f"{r['longest_rest']:6.2f} {'kept' if r['melody_unchanged'] else r['why']}")
    good = [r for r in rows if r["ok"]]
    n = len(rows)
    checks = {
        f"adds {args.bars} bars (+-0.5)": sum(r["pass_bars"] for r in good),
        "new notes >= 85% in key": sum(r["pass_key"] for r in good),
        "no rest > 4 beats": sum(r["pass_rest"] for r in good),
        "input melody unchanged": sum(r["melody_unchanged"] for r in good),
    }
    ok = bool(n) and all(v == n for v in checks.values())
    for name, count in checks.items():
        print(f"{name:28s} {count}/{n} melodies  {'PASS' if count == n else 'FAIL'}")
    if run.seconds:
        print(f"compose time per melody: median {np.median(run.seconds):.2f} s")
    return {"model": args.model, "task": "continue", "bars": args.bars, "seed": args.seed,
            "checks": checks, "per_melody": rows, "pass": ok}, ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="gan")
    ap.add_argument("--task", default="accompany", choices=("accompany", "continue"))
    ap.add_argument("--bars", type=int, default=4, help="bars to add for --task continue")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, help="write every number here")
    ap.add_argument("--limit", type=int, help="only the first N folk melodies")
    ap.add_argument("--jsb-limit", type=int, help="only the first N JSB test pieces")
    ap.add_argument("--no-jsb", action="store_true", help="skip the JSB test split")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    result, ok = (run_accompany if args.task == "accompany" else run_continue)(args)
    result["seconds"] = time.perf_counter() - t0
    print(f"\n{'PASS' if ok else 'FAIL'} ({result['seconds']:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(clean(result), indent=1) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
