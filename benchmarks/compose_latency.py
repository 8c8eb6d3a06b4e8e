"""Compose latency per model against the import floor (issues 3, 4, 5).

    python benchmarks/compose_latency.py [--runs 5] [--json out.json]

Floor: ``python -c "import torch, pretty_midi, mido, click"``. Each model composes an
8-bar 4/4 folk melody through the real command line (a fresh process each run, so
start-up, imports, weight loading, generation and writing are all counted):

    gan:         compose --melody M --model gan --seed 1                       (limit 1.6x)
    arcnn:       compose --melody M --model arcnn --task accompany --seed 1     (limit 3x)
    transformer: compose --melody M --model transformer --task continue --bars 4 (limit 3x)
    gan-pop:     compose --example pop-hook --model gan --style pop (8 bars, the band with
                 drums; limit 2x, issue 13)
    melody:      compose --example pop-hook --model transformer --style pop --task continue
                 --bars 8 (the melody transformer, 8 new bars; limit 2x, issue 25)

Medians of ``--runs`` runs after one warm-up run (OS file cache).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MELODY = HERE / "data" / "folk" / "03-44-es-waren-drei-schelmen.mid"  # 8 bars of 4/4
BIN = Path(sys.executable).parent
CASES = {
    "gan": (["--model", "gan"], 1.6),
    "arcnn": (["--model", "arcnn", "--task", "accompany"], 3.0),
    "transformer": (["--model", "transformer", "--task", "continue", "--bars", "4"], 3.0),
    "gan-pop": (["--model", "gan", "--style", "pop"], 2.0),
    "melody": (["--model", "transformer", "--style", "pop", "--task", "continue", "--bars",
                "8"], 2.0),
}
# default: --melody MELODY
SOURCE = {"gan-pop": ["--example", "pop-hook"], "melody": ["--example", "pop-hook"]}


def median_seconds(cmd: list[str], runs: int) -> float:
    subprocess.run(cmd, check=True, capture_output=True)  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--models", default="gan,arcnn,transformer,gan-pop,melody")
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args(argv)
    floor = median_seconds([sys.executable, "-c", "import torch, pretty_midi, mido, click"],
                           args.runs)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            extra, limit = CASES[name]
            source = SOURCE.get(name, ["--melody", str(MELODY)])
            cmd = [str(BIN / "compose"), *source, *extra, "--seed", "1",
                   "-o", str(Path(tmp) / f"{name}.mid")]
            try:
                seconds = median_seconds(cmd, args.runs)
            except subprocess.CalledProcessError as exc:
                rows[name] = {"error": exc.stderr.decode().strip()[-200:]}
                continue
            rows[name] = {"seconds": round(seconds, 3), "ratio": round(seconds / floor, 2),
                          "limit": limit, "pass": seconds / floor <= limit}
    result = {"floor_seconds": round(floor, 3), "runs": args.runs, "melody": MELODY.name,
              "models": rows}
    print(f"import floor: {floor:.3f} s (median of {args.runs})")
    print("| model | compose (s) | x floor | limit | |")
    print("|---|---|---|---|---|")
    for name, r in rows.items():
        if "error" in r:
            print(f"| {name} | error: {r['error']} | | | |")
        else:
            ok = "PASS" if r["pass"] else "FAIL"
            print(f"| {name} | {r['seconds']:.3f} | {r['ratio']:.2f} | {r['limit']} | {ok} |")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
