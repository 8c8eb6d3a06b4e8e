"""Run every benchmark and write benchmarks/RESULTS.md (issue 8).

    python benchmarks/run_all.py [--quick]

Each section is the printed output of one benchmark script, run by this command, so every
number in RESULTS.md comes from this run. The headline table (also in the README) is
assembled from the JSON those scripts write. ``--quick`` uses fewer melodies and runs
(for trying the pipeline; the committed RESULTS.md comes from a full run). A full run
takes about 20-30 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = ("gan", "arcnn", "transformer")
PUBLISHED_NLL = """\
| reference | JSB 16th-note SATB, time-major, nats per token |
|---|---|
| Transformers in Music Transformer (Huang et al., ICLR 2019), Table 1 | about 0.33 - 0.42 |
| count models (as quoted in deepcompose issue 5) | 9-gram ~1.7, 5-gram ~1.1 |

The AR-CNN's Coconet-style frame-wise NLL has its own definition and published
comparison in `deepcompose/weights/arcnn.md`.
"""


def run(title: str, args: list[str], log) -> tuple[str, float]:
    """Run a benchmark script; return its stdout (and stderr tail on failure), and seconds."""
    t = time.perf_counter()
    r = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=HERE.parent)
    seconds = time.perf_counter() - t
    out = r.stdout.strip()
    if r.returncode not in (0, 1):  # 1 = a check failed: still a result
        out += f"\n\n(exit {r.returncode})\n" + r.stderr.strip()[-1500:]
    print(f"[{seconds:6.0f} s] {title}", file=log, flush=True)
    return out, seconds


def nll_table(quick: bool) -> str:
    """Each model's NLL on the canonical JSB valid and test splits (whole pieces)."""
    code = (
        "import json, sys\n"
        "from deepcompose.data import load_jsb\n"
        "from deepcompose.models.common.weights import get_model\n"
        f"limit = {8 if quick else None}\n"
        "rows = {}\n"
        "for m in ('arcnn', 'transformer'):\n"
        "    try:\n"
        "        model = get_model(m)\n"
        "    except Exception as e:\n"
        "        rows[m] = {'error': str(e)}; continue\n"
        "    rows[m] = {s: model.nll(load_jsb(s)[:limit]) for s in ('valid', 'test')}\n"
        "print(json.dumps(rows))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=HERE.parent)
    if r.returncode:
        return "NLL run failed:\n" + r.stderr[-1500:], {}
    rows = json.loads(r.stdout.strip().splitlines()[-1])
    lines = ["| model (ours) | valid NLL | test NLL | definition |", "|---|---|---|---|"]
    for m, row in rows.items():
        if "error" in row:
            lines.append(f"| {m} | - | - | {row['error']} |")
            continue
        v, t = row["valid"], row["test"]
        lines.append(f"| {m} | {v['nll']:.3f} | {t['nll']:.3f} | "
                     f"{v.get('definition', 'see the model card')} |")
    return "\n".join(lines), rows


def headline(quality: dict, nll: dict, latency: dict) -> str:
    lines = ["| | consonance | key fit | parallels /100 | polyphony | JSB test NLL (nats) | "
             "compose time (x import floor) |", "|---|---|---|---|---|---|---|"]
    unit = {"transformer": " per token", "arcnn": " per frame (4 notes)"}

    def f(x, nd=3):
        return "-" if x is None else f"{x:.{nd}f}"

    for m in MODELS:
        q = quality.get(m, {}).get("folk", {}).get("mean", {})
        n = nll.get(m, {}).get("test", {}).get("nll") if isinstance(nll.get(m), dict) else None
        lat = latency.get("models", {}).get(m, {}).get("ratio")
        lines.append(f"| {m} | {f(q.get('consonance'))} | {f(q.get('keyfit'))} | "
                     f"{f(q.get('parallels'), 2)} | {f(q.get('polyphony'), 2)} | "
                     f"{f(n)}{unit.get(m, '') if n is not None else ''} | "
                     f"{f(lat, 2)} |")
    any_q = next((q for q in quality.values() if q.get("folk")), {})
    for name, label in (("random_scale", "random notes of the scale"),
                        ("tonic_triad", "held tonic triad")):
        b = any_q.get("folk", {}).get("baselines", {}).get(name, {})
        lines.append(f"| {label} | {f(b.get('consonance'))} | {f(b.get('keyfit'))} | "
                     f"{f(b.get('parallels'), 2)} | {f(b.get('polyphony'), 2)} | - | - |")
    bach = any_q.get("jsb_test", {}).get("bach", {})
    lines.append(f"| Bach (JSB test, own parts) | {f(bach.get('consonance'))} | "
                 f"{f(bach.get('keyfit'))} | {f(bach.get('parallels'), 2)} | "
                 f"{f(bach.get('polyphony'), 2)} | - | - |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="deepcompose-bench-"))
    log = sys.stderr
    lim = ["--limit", "6", "--jsb-limit", "6"] if args.quick else []
    sections, quality = [], {}
    for m in MODELS:
        out, _ = run(f"quality {m}", ["benchmarks/accompany_quality.py", "--model", m,
                                      "--seed", "1", "--json", str(tmp / f"q_{m}.json"), *lim],
                     log)
        if (tmp / f"q_{m}.json").exists():
            quality[m] = json.loads((tmp / f"q_{m}.json").read_text())
        sections.append((f"Accompaniment quality: {m}", out))
    for m in ("transformer", "arcnn"):
        out, _ = run(f"continue {m}", ["benchmarks/accompany_quality.py", "--model", m,
                                       "--task", "continue", "--bars", "4", "--no-jsb",
                                       *lim[:2]], log)
        sections.append((f"Continuation (4 bars): {m}", out))
    sections.append(("Pop band quality (gan --style pop, POP909 validation songs)", run(
        "band quality", ["benchmarks/band_quality.py"], log)[0]))
    sections.append(("Drum styles (gan --style pop drums, Groove test split)", run(
        "drum styles", ["benchmarks/drum_styles.py",
                        *(["--seeds", "8"] if args.quick else [])], log)[0]))
    sections.append(("Drums under songs (gan --style pop drums, POP909 validation songs)", run(
        "band drums", ["benchmarks/band_drums.py",
                       *(["--limit", "20"] if args.quick else [])], log)[0]))
    sections.append(("String quartet quality (gan --style strings, OpenScore valid works)", run(
        "strings quality", ["benchmarks/strings_quality.py", "--model",
                            *(["--limit", "10"] if args.quick else [])], log)[0]))
    sections.append(("Chorale GAN cadences (JSB validation chorales)", run(
        "chorale cadences", ["benchmarks/cadence_quality.py", "--style", "chorale",
                             "--ablation", *(["--limit", "10"] if args.quick else [])],
        log)[0]))
    sections.append(("Band cadences (POP909 validation songs)", run(
        "band cadences", ["benchmarks/band_cadence.py", "--out", str(tmp / "band_cadence.md"),
                          *(["--limit", "10"] if args.quick else [])], log)[0]))
    sections.append(("Modal folk tunes: the bass on the final", run(
        "modal endings", ["benchmarks/modal_endings.py"], log)[0]))
    sections.append(("Melody continuation (transformer --style pop, folk, classical)", run(
        "melody quality", ["benchmarks/melody_quality.py",
                           *(["--pieces", "8", "--seeds", "1"] if args.quick else [])], log)[0]))
    sections.append(("Melody likelihood against an order-3 n-gram", run(
        "melody nll", ["benchmarks/melody_ngram.py"], log)[0]))
    sections.append(("Editing band and quartet results (infill, --parts)", run(
        "edit quality", ["benchmarks/edit_quality.py",
                         *(["--songs", "5", "--excerpts", "3"] if args.quick else [])], log)[0]))
    t = time.perf_counter()
    nll_md, nll = nll_table(args.quick)
    print(f"[{time.perf_counter() - t:6.0f} s] likelihood", file=log, flush=True)
    runs = ["--runs", "2"] if args.quick else ["--runs", "5"]
    lat_out, _ = run("compose latency", ["benchmarks/compose_latency.py", *runs,
                                         "--json", str(tmp / "latency.json")], log)
    latency = (json.loads((tmp / "latency.json").read_text())
               if (tmp / "latency.json").exists() else {})
    speed = [("Compose latency against the import floor", lat_out)]
    speed.append(("Batch throughput against the I/O floor", run(
        "batch throughput", ["benchmarks/batch_throughput.py",
                             *(["--n", "24"] if args.quick else [])], log)[0]))
    speed.append(("KV-cache speed-up (transformer, 512 tokens of context)",
                  run("kv cache", ["benchmarks/kv_cache.py"], log)[0]))
    speed.append(("MIDI reading speed against pretty_midi",
                  run("midi read", ["benchmarks/midi_read.py"], log)[0]))
    speed.append(("Audio rendering speed (3-minute song)",
                  run("render speed", ["benchmarks/render_speed.py"], log)[0]))
    speed.append(("Server: 100 concurrent requests per model", run(
        "server load", ["benchmarks/server_load.py",
                        *(["--requests", "20"] if args.quick else [])], log)[0]))
    fuzz_out, _ = run("fuzz", ["benchmarks/fuzz.py", *(["--midi", "500", "--json", "300",
                                                        "--requests", "300", "--http", "30"]
                                                       if args.quick else [])], log)
    import torch

    minutes = (time.perf_counter() - t0) / 60
    machine = (f"{platform.platform()}, {platform.processor() or platform.machine()}, "
               f"{os.cpu_count()} CPU cores, Python {platform.python_version()}, "
               f"torch {torch.__version__}")
    doc = ["# Benchmark results\n",
           f"Written by `python benchmarks/run_all.py{' --quick' if args.quick else ''}` on "
           f"{datetime.date.today().isoformat()} in {minutes:.1f} minutes.\n",
           f"Machine: {machine}.\n",
           "Definitions of every metric: `deepcompose/metrics/` (band and drum metrics in "
           "`metrics/band.py`, `metrics/drums.py`). Chorale quality is measured on 36 "
           "held-out folk melodies (`benchmarks/data/folk`, 4/4, 3/4 and 6/8, with pickups) "
           "and on the canonical JSB test split (each real soprano harmonized).\n",
           "## Headline (folk melodies, seed 1)\n", headline(quality, nll, latency), "",
           "## Likelihood on the canonical JSB split\n", nll_md, "",
           "Published numbers on the same split and serialization, for comparison:\n",
           PUBLISHED_NLL]
    for title, body in sections + speed + [("Fuzzing (issue 9)", fuzz_out)]:
        doc += [f"## {title}\n", "```", body, "```", ""]
    text = "\n".join(doc) + "\n"
    tmp_out = args.out.with_suffix(".md.tmp")
    tmp_out.write_text(text)
    os.replace(tmp_out, args.out)
    (args.out.parent / "headline.md").write_text(headline(quality, nll, latency) + "\n")
    print(f"wrote {args.out} in {minutes:.1f} minutes", file=log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
