"""Build the held-out folk melody set: ``benchmarks/data/folk/*.mid`` + ``index.json``.

Melodies come from the ABC folk-song collection that ships inside music21's corpus
(the Essen folksong collection: German, Irish and Haydn-era folk songs), none of which are in
the JSB chorales. Selection is deterministic: a fixed list of collections, read in
corpus order, filtered by fixed rules, picked round-robin across collections.

Rules for a tune to qualify:
- one part, single notes only (no chords, no grace notes), one time signature
  (4/4, 3/4 or 6/8) and no first/second-ending brackets (repeats are not expanded);
- every full bar is exactly one bar long; only the first bar (a pickup) and the
  last bar may be partial;
- 8 to 32 bars, counting a pickup bar as one bar;
- a title not already picked (the Essen collection holds variants of one song).

MIDI layout: one instrument track named "Melody" (program 0), the tempo of the tune
(``Q:`` field when the ABC has one, else ``DEFAULT_QPM`` for its meter) and its time
signature at time 0. **Pickups keep the bar grid**: a pickup of ``p`` beats is
placed at the end of a silent first bar, so the first note starts at beat
``bar_beats - p`` and every downbeat of the tune falls on a MIDI bar line.
``index.json`` records per file: source (corpus path and tune number), title,
meter, pickup (in beats, 0 for none), key (``deepcompose.keys.estimate_key`` on the
duration-weighted notes, the key the metrics use), key signature (sharps, negative for
flats), bars,
tempo (quarter notes per minute) and the first note's start (in beats).

Usage: ``python benchmarks/melodies.py [--out benchmarks/data/folk] [--per-meter 12]``
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from deepcompose.keys import estimate_key, key_name

SOURCES = (
    "essenFolksong/kinder0",
    "essenFolksong/ballad10",
    "essenFolksong/irl",
    "essenFolksong/folkHaydn",
    "essenFolksong/erk5",
)
METERS = ("4/4", "3/4", "6/8")
DEFAULT_QPM = {"4/4": 100.0, "3/4": 96.0, "6/8": 120.0}  # 6/8: dotted quarter = 80
MIN_BARS, MAX_BARS = 8, 32
MIN_PICKUPS_PER_METER = 4
OUT_DIR = Path(__file__).resolve().parent / "data" / "folk"


def _tune_info(score, source: str) -> dict | None:
    """Notes and facts of one tune, or None when it breaks a rule (see module docstring)."""
    from music21 import spanner

    if len(score.parts) != 1:
        return None
    sigs = {ts.ratioString for ts in score.recurse().getElementsByClass("TimeSignature")}
    if len(sigs) != 1 or (meter := sigs.pop()) not in METERS:
        return None
    if any(isinstance(s, spanner.RepeatBracket) for s in score.recurse().getElementsByClass(
            "Spanner")):
        return None
    measures = list(score.parts[0].getElementsByClass("Measure"))
    if not measures:
        return None
    bar = measures[0].barDuration.quarterLength
    lengths = [float(m.duration.quarterLength) for m in measures]
    pickup = lengths[0] if lengths[0] < bar else 0.0
    if any(abs(x - bar) > 1e-6 for x in lengths[1:-1]) or lengths[-1] > bar + 1e-6:
        return None
    if not MIN_BARS <= len(measures) <= MAX_BARS:
        return None
    flat = score.stripTies().flatten()
    if any(c.isChord for c in flat.notes) or any(n.duration.isGrace for n in flat.notes):
        return None
    notes = [(int(n.pitch.midi), float(n.offset), float(n.offset + n.quarterLength))
             for n in flat.notes]
    if len(notes) < 8:
        return None
    marks = list(flat.getElementsByClass("MetronomeMark"))
    qpm = float(marks[0].getQuarterBPM()) if marks and marks[0].number else DEFAULT_QPM[meter]
    sigs = list(score.recurse().getElementsByClass("KeySignature"))
    tonic, mode = estimate_key([p for p, _, _ in notes], [e - s for _, s, e in notes])
    number = score.metadata.number if score.metadata else None
    return {
        "source": source if number is None else f"{source}#{number}",
        "title": (score.metadata.title or "").strip() if score.metadata else "",
        "meter": meter, "pickup": pickup, "key": key_name(tonic, mode),
        "key_signature_sharps": sigs[0].sharps if sigs else 0, "bars": len(measures),
        "tempo": qpm, "bar_beats": float(bar), "notes": notes,
    }


def candidates() -> list[list[dict]]:
    """Qualifying tunes per source, in corpus order: ``[source][rank]``."""
    from music21 import corpus, stream

    out = []
    for source in SOURCES:
        parsed = corpus.parse(source)
        scores = parsed.scores if isinstance(parsed, stream.Opus) else [parsed]
        tunes = [t for sc in scores if (t := _tune_info(sc, source)) is not None]
        out.append(tunes)
    return out


def select(per_source: list[list[dict]], per_meter: int) -> list[dict]:
    """Round-robin over sources, ``per_meter`` tunes per meter, pickups first up to a quota."""
    order = sorted(
        ((rank, s, tune) for s, tunes in enumerate(per_source) for rank, tune in enumerate(tunes)),
        key=lambda x: (x[0], x[1]),
    )
    picked, titles = [], set()
    for meter in METERS:
        pool = [t for _, _, t in order if t["meter"] == meter]
        with_pickup = [t for t in pool if t["pickup"] > 0][:MIN_PICKUPS_PER_METER]
        chosen = []
        for tune in with_pickup + pool:
            title = re.sub(r"\W+", " ", tune["title"].lower()).strip()
            if len(chosen) == per_meter or tune in chosen or (title and title in titles):
                continue
            chosen.append(tune)
            titles.add(title)
        if len(chosen) < per_meter:
            raise SystemExit(f"only {len(chosen)} tunes in {meter}; add sources")
        picked += chosen
    return picked


def write_midi(tune: dict, path: Path) -> float:
    """Write one tune (pickup at the end of a silent first bar); returns the first note's beat."""
    import pretty_midi

    shift = tune["bar_beats"] - tune["pickup"] if tune["pickup"] > 0 else 0.0
    spb = 60.0 / tune["tempo"]  # seconds per beat
    pm = pretty_midi.PrettyMIDI(initial_tempo=tune["tempo"])
    num, den = (int(x) for x in tune["meter"].split("/"))
    pm.time_signature_changes.append(pretty_midi.TimeSignature(num, den, 0.0))
    inst = pretty_midi.Instrument(program=0, name="Melody")
    for pitch, start, end in tune["notes"]:
        inst.notes.append(pretty_midi.Note(90, pitch, (start + shift) * spb, (end + shift) * spb))
    pm.instruments.append(inst)
    pm.write(str(path))
    return tune["notes"][0][1] + shift


def slug(tune: dict) -> str:
    title = re.sub(r"[^a-z0-9]+", "-", tune["title"].lower()).strip("-")[:32] or "untitled"
    return f"{tune['meter'].replace('/', '')}-{title}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    ap.add_argument("--per-meter", type=int, default=12)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tunes = select(candidates(), args.per_meter)
    index = []
    for i, tune in enumerate(tunes):
        name = f"{i:02d}-{slug(tune)}.mid"
        first = write_midi(tune, args.out / name)
        entry = {k: v for k, v in tune.items() if k != "notes"}
        index.append({"file": name, **entry, "first_note_beat": first, "notes": len(tune["notes"])})
        print(f"{name:48s} {tune['meter']} pickup={tune['pickup']:<4} bars={tune['bars']:<3}"
              f" key={tune['key']} {tune['source']}")
    (args.out / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"wrote {len(index)} melodies to {args.out}")


if __name__ == "__main__":
    main()
