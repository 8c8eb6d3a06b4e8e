"""Throughput and crash-resume of ``deepcompose batch``; prints markdown tables.

Inputs are the held-out folk melodies (``benchmarks/data/folk/*.mid``) copied into
subfolders ``r0/``, ``r1/``, ... until there are ``--n`` of them (each copy has its own
relative path, hence its own seed), plus two broken files.

Default mode (target: batch <= 8x the I/O floor on 2 cores):
- I/O floor: read every melody with pretty_midi and write it out again, in one process
  (best of 5);
- ``run_batch(model=M, workers=W)`` in this process, on a fresh OUT_DIR: the first run
  includes loading the model, the second does not; then the same command once more
  (resume: everything skipped);
- ``deepcompose batch`` end to end as a subprocess (adds Python, torch and model start-up).

``--kill-test``: about 300 files; ``deepcompose batch`` is killed with SIGKILL once a
third of the rows are in the manifest, then the same command is run again; checks one
valid MIDI output per input, each input once in the manifest as ok, no temp files.

Usage::

    python benchmarks/batch_throughput.py [--n 120] [--workers 2] [--model gan]
    python benchmarks/batch_throughput.py --kill-test [--n 300]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLK = ROOT / "benchmarks" / "data" / "folk"
TEMP = re.compile(r"^\..*\.tmp(\.[A-Za-z0-9]+)?$")
BROKEN = {"broken.mid": b"MThd but not really a MIDI file", "r0/broken.json": b"{not json"}


def build_inputs(folder: Path, n: int, broken: bool = True) -> list[str]:
    """``n`` folk melodies copied round-robin into ``r0/ r1/ ...`` (+ 2 broken files)."""
    folk = sorted(FOLK.glob("*.mid"))
    if not folk:
        sys.exit(f"no melodies in {FOLK}")
    rels = []
    for i in range(n):
        rel = f"r{i // len(folk)}/{folk[i % len(folk)].name}"
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(folk[i % len(folk)], folder / rel)
        rels.append(rel)
    if broken:
        for rel, data in BROKEN.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
    return rels


def io_floor(src: Path, rels: list[str], dst: Path) -> float:
    """Seconds to read each melody with pretty_midi and write it to ``dst`` (one process)."""
    import pretty_midi

    t0 = time.perf_counter()
    for rel in rels:
        pm = pretty_midi.PrettyMIDI(str(src / rel))
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        pm.write(str(dst / rel))
    return time.perf_counter() - t0


def command(model: str, workers: int, src: Path, out: Path, seed: int = 1) -> list[str]:
    exe = Path(sys.executable).with_name("deepcompose")
    prefix = [str(exe)] if exe.exists() else [sys.executable, "-m", "cli"]
    return prefix + ["batch", str(src), str(out), "--model", model, "--workers", str(workers),
                     "--seed", str(seed)]


def manifest_rows(out: Path) -> list[dict]:
    rows = []
    path = out / "manifest.jsonl"
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                pass  # a torn last line
    return rows


def temps(out: Path) -> int:
    return sum(1 for _, _, files in os.walk(out) for n in files if TEMP.match(n))


def cpu_seconds() -> float:
    """CPU time of this process plus every finished child (workers included)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def measured(fn):
    """(result, wall seconds, CPU seconds) of ``fn()``."""
    c0, t0 = cpu_seconds(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, cpu_seconds() - c0


def throughput(args, work: Path) -> None:
    """Wall time on this (possibly shared) machine, and CPU time, which other users'
    load barely changes: CPU / workers estimates the wall time on idle cores."""
    from deepcompose.batch import run_batch

    src = work / "in"
    rels = build_inputs(src, args.n)
    floors = [measured(lambda i=i: io_floor(src, rels, work / f"floor{i}")) for i in range(5)]
    _, floor, floor_cpu = min(floors, key=lambda f: f[1])
    rows = [("I/O floor: pretty_midi read + write, 1 process (best of 5)", floor, floor_cpu, 1,
             None)]
    W = args.workers

    def batch(out):
        return run_batch(src, work / out, model=args.model, workers=W, seed=1, progress=False)

    for i in range(2):
        summary, wall, cpu = measured(lambda i=i: batch(f"out{i}"))
        what = "includes model load" if i == 0 else "model loaded"
        rows.append((f"run_batch, {W} workers, run {i + 1} ({what})", wall, cpu, W, summary))
    again, wall, cpu = measured(lambda: batch("out1"))
    rows.append(("same command again (resume: all skipped)", wall, cpu, 1, again))
    proc, wall, cpu = measured(lambda: subprocess.run(
        command(args.model, W, src, work / "cli"), cwd=ROOT, capture_output=True, text=True))
    cli = json.loads(proc.stderr.strip().splitlines()[-1]) if proc.stderr.strip() else {}
    rows.append((f"`deepcompose batch` end to end (exit {proc.returncode})", wall, cpu, W, cli))

    per_file = [r["seconds"] for r in manifest_rows(work / "out1") if r["status"] == "ok"]
    print(f"\n{args.n} folk melodies + {len(BROKEN)} broken files, model {args.model}, "
          f"{W} workers, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at the end\n")
    print("| measure | wall s | x floor (wall) | CPU s | x floor (CPU / workers) "
          "| melodies/s | ok / error / skipped |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, wall, cpu, n, s in rows:
        counts = f"{s['ok']} / {s['error']} / {s['skipped']}" if s else ""
        print(f"| {name} | {wall:.2f} | {wall / floor:.1f} | {cpu:.2f} | "
              f"{cpu / n / floor_cpu:.1f} | {args.n / wall:.1f} | {counts} |")
    best = min(r[1] for r in rows[1:3])
    best_cpu = min(r[2] for r in rows[1:3]) / W
    mean_ms = sum(per_file) / max(1, len(per_file)) * 1000
    print(f"\nbest batch / floor = {best / floor:.1f}x wall here, {best_cpu / floor_cpu:.1f}x "
          f"CPU / workers (target <= 8x); mean per file {mean_ms:.0f} ms of one worker's "
          "wall time")
    errors = sorted({r["error"] for r in manifest_rows(work / "out1") if r["status"] == "error"})
    for e in errors:
        print(f"- error row: {e}")


def kill_test(args, work: Path, cmd_prefix: list[str] | None = None) -> bool:
    """SIGKILL part-way, rerun the same command; print the checks. True when all pass."""
    src, out = work / "in", work / "out"
    rels = build_inputs(src, args.n, broken=False)
    cmd = command(args.model, args.workers, src, out)
    if cmd_prefix is not None:
        cmd = cmd_prefix + cmd[cmd.index("batch"):]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and len(manifest_rows(out)) < args.n // 3:
        time.sleep(0.05)
    finished_early = proc.poll() is not None
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = time.perf_counter() - t0
    time.sleep(0.5)  # workers die with their parent
    at_kill = {"rows": len(manifest_rows(out)), "outputs": len(list(out.rglob("*.mid"))),
               "temps": temps(out)}

    t0 = time.perf_counter()
    rerun = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    rerun_s = time.perf_counter() - t0
    summary = json.loads(rerun.stderr.strip().splitlines()[-1]) if rerun.stderr.strip() else {}

    import pretty_midi

    expected = sorted(str(Path(r).with_suffix(".mid")) for r in rels)
    outputs = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.mid"))
    valid = 0
    for p in outputs:
        try:
            pm = pretty_midi.PrettyMIDI(str(out / p))
            valid += len(pm.instruments) == 4 and all(i.notes for i in pm.instruments)
        except Exception:
            pass
    rows = manifest_rows(out)
    inputs = [r["input"] for r in rows]
    checks = [
        ("killed part-way (not finished before the kill)", not finished_early,
         f"after {killed_at:.1f} s: {at_kill['rows']} rows, {at_kill['outputs']} outputs, "
         f"{at_kill['temps']} temp files"),
        ("rerun exit status 0", rerun.returncode == 0,
         f"{rerun_s:.1f} s; skipped {summary.get('skipped')}, ok {summary.get('ok')}, "
         f"error {summary.get('error')}"),
        ("one output per input", outputs == expected, f"{len(outputs)} outputs / {len(rels)}"),
        ("every output a valid MIDI (4 tracks with notes)", valid == len(rels), f"{valid}"),
        ("each input once in the manifest", sorted(inputs) == sorted(rels),
         f"{len(rows)} rows, {len(inputs) - len(set(inputs))} duplicates"),
        ("every row ok", all(r["status"] == "ok" for r in rows),
         f"{sum(r['status'] == 'ok' for r in rows)} ok"),
        ("no temp files left", temps(out) == 0, f"{temps(out)}"),
    ]
    print(f"\nSIGKILL/resume: {args.n} files, model {args.model}, {args.workers} workers\n")
    print("| check | result | detail |")
    print("|---|---|---|")
    for name, ok, detail in checks:
        print(f"| {name} | {'PASS' if ok else 'FAIL'} | {detail} |")
    return all(ok for _, ok, _ in checks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, help="melodies (default 120, or 300 with --kill-test)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--model", default="gan")
    ap.add_argument("--kill-test", action="store_true")
    ap.add_argument("--keep", help="work in this folder and keep it (default: a temp folder)")
    args = ap.parse_args()
    args.n = args.n or (300 if args.kill_test else 120)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="batch-bench-"))
    if args.keep and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.kill_test:
            sys.exit(0 if kill_test(args, work) else 1)
        throughput(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
