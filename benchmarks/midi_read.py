"""MIDI reading speed: deepcompose's reader against pretty_midi's own (issue 8).

    python benchmarks/midi_read.py [--repeat 5] [--json out.json]

Reads every file of ``benchmarks/data/folk`` plus the 256-bar file of the odd-file corpus,
``--repeat`` times, with ``deepcompose.read`` and with ``pretty_midi.PrettyMIDI``; reports
files per second and the ratio, and checks both count the same notes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pretty_midi

import deepcompose

HERE = Path(__file__).resolve().parent
FILES = sorted((HERE / "data" / "folk").glob("*.mid")) + [
    HERE.parent / "tests" / "data" / "long_256_bars.mid"]


def rate(read, repeat: int) -> float:
    t = time.perf_counter()
    for _ in range(repeat):
        for f in FILES:
            read(f)
    return repeat * len(FILES) / (time.perf_counter() - t)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args(argv)
    ours = rate(lambda f: deepcompose.read(f), args.repeat)
    theirs = rate(lambda f: pretty_midi.PrettyMIDI(str(f)), args.repeat)
    same = all(
        sum(len(t.notes) for t in deepcompose.read(f).tracks if not t.is_drum)
        == sum(len(i.notes) for i in pretty_midi.PrettyMIDI(str(f)).instruments if not i.is_drum)
        for f in FILES)
    result = {"files": len(FILES), "deepcompose_files_per_s": round(ours, 1),
              "pretty_midi_files_per_s": round(theirs, 1), "speedup": round(ours / theirs, 2),
              "same_note_counts": same}
    print(f"| reader | files/s |\n|---|---|\n| deepcompose | {ours:.1f} |\n"
          f"| pretty_midi | {theirs:.1f} |\nspeed-up {ours / theirs:.2f}x over {len(FILES)} "
          f"files; same note counts: {same}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
