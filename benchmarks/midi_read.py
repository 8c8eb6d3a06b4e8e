"""MIDI reading: deepcompose's reader against pretty_midi's, speed and note-for-note agreement.

    python benchmarks/midi_read.py [--repeat 5] [--limit N] [--json out.json]

Speed (issue 8): reads every file of ``benchmarks/data/folk`` plus the 256-bar file of the
odd-file corpus, ``--repeat`` times, with ``deepcompose.read`` and ``pretty_midi.PrettyMIDI``.

Agreement (issue 12): on music21's own MIDI test files (``music21/midi/testPrimitive``),
POP909 and the Groove MIDI Dataset (``datasets/pop909``, ``datasets/groove``, else the
copies under ``../shared/data``), every file is read by both; a file *agrees on counts* when
both find as many notes, and *agrees note for note* when the notes, sorted, have the same
pitch, start and end (seconds, within 1e-6; in beats for files with tempo events outside
the first track, which pretty_midi ignores). Files pretty_midi cannot read are left out.
``--limit N`` takes every k-th file so that at most N files of each set are read.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import mido
import pretty_midi

import deepcompose
from deepcompose.errors import DeepcomposeError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FILES = sorted((HERE / "data" / "folk").glob("*.mid")) + [
    ROOT / "tests" / "data" / "long_256_bars.mid"]
TOL = 1e-6


def corpus_sets() -> dict[str, list[Path]]:
    """``{name: files}`` for the agreement sets that are present here."""
    sets = {}
    try:
        import music21

        prim = Path(music21.__file__).parent / "midi" / "testPrimitive"
        sets["music21 test files"] = sorted(prim.glob("*.mid"))
    except ImportError:
        pass
    for name in ("pop909", "groove"):
        for folder in (ROOT / "datasets" / name, ROOT.parent / "shared" / "data" / name):
            files = sorted(folder.rglob("*.mid")) if folder.is_dir() else []
            if files:
                sets[{"pop909": "POP909", "groove": "Groove"}[name]] = files
                break
    return sets


def tempo_outside_first_track(path) -> bool:
    """pretty_midi follows tempo events of the first track only; ours, of any track."""
    mid = mido.MidiFile(str(path))
    return any(m.type == "set_tempo" for t in mid.tracks[1:] for m in t)


def our_notes(path, in_beats=False) -> list[tuple[int, float, float]]:
    song = deepcompose.read(path)
    sec = (lambda b: b) if in_beats else song.beats_to_seconds
    return sorted((n.pitch, sec(n.start), sec(n.end)) for t in song.tracks for n in t.notes)


def their_notes(path, in_beats=False) -> list[tuple[int, float, float]]:
    pm = pretty_midi.PrettyMIDI(str(path))
    sec = (lambda t: pm.time_to_tick(t) / pm.resolution) if in_beats else float
    return sorted((int(n.pitch), sec(n.start), sec(n.end))
                  for i in pm.instruments for n in i.notes)


def compare(path) -> tuple[bool, bool] | None:
    """``(same count, same notes)`` or None when pretty_midi cannot read the file. Files
    with tempo events outside the first track are compared in beats (pretty_midi ignores
    those events)."""
    try:
        in_beats = tempo_outside_first_track(path)
        theirs = their_notes(path, in_beats)
    except Exception:
        return None
    try:
        ours = our_notes(path, in_beats)
    except DeepcomposeError:
        return False, False
    if len(ours) != len(theirs):
        return False, False
    # Sort both by (pitch, start, end) on a coarse grid so that float noise cannot reorder.
    def key(n):
        return n[0], round(n[1], 4), round(n[2], 4)
    ours, theirs = sorted(ours, key=key), sorted(theirs, key=key)
    same = all(a[0] == b[0] and abs(a[1] - b[1]) <= TOL and abs(a[2] - b[2]) <= TOL
               for a, b in zip(ours, theirs, strict=True))
    return True, same


def agreement(limit: int | None = None) -> list[dict]:
    rows = []
    for name, files in corpus_sets().items():
        if limit and len(files) > limit:
            step = -(-len(files) // limit)
            files = files[::step]
        counts = notes = read = 0
        for f in files:
            r = compare(f)
            if r is None:
                continue
            read += 1
            counts += r[0]
            notes += r[1]
        rows.append({"set": name, "files": read, "same_counts": counts, "same_notes": notes})
    return rows


def rate(read, repeat: int) -> float:
    t = time.perf_counter()
    for _ in range(repeat):
        for f in FILES:
            read(f)
    return repeat * len(FILES) / (time.perf_counter() - t)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args(argv)
    ours = rate(lambda f: deepcompose.read(f), args.repeat)
    theirs = rate(lambda f: pretty_midi.PrettyMIDI(str(f)), args.repeat)
    rows = agreement(args.limit)
    result = {"files": len(FILES), "deepcompose_files_per_s": round(ours, 1),
              "pretty_midi_files_per_s": round(theirs, 1), "speedup": round(ours / theirs, 2),
              "agreement": rows}
    print(f"| reader | files/s |\n|---|---|\n| deepcompose | {ours:.1f} |\n"
          f"| pretty_midi | {theirs:.1f} |\nspeed-up {ours / theirs:.2f}x over {len(FILES)} "
          "files\n")
    print("| set | files | same note counts | same notes (pitch, start, end) |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['set']} | {r['files']} | {r['same_counts']} | {r['same_notes']} |")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
