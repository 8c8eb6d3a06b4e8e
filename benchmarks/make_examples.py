"""Write the bundled example melodies: ``deepcompose/melodies/*.json`` (run once; kept for
provenance). Four public-domain tunes typed in here from their well-known forms, one
converted from music21's corpus (the Essen folksong collection's ABC), and one pop hook
written for this project. Sources are stated in ``deepcompose/melodies/README.md``.

Notes are ``(pitch, start, duration)`` in beats (quarter notes), velocity 90; a tune with
a pickup starts at beat 0 with ``pickup`` beats before its first full bar.

Usage: ``python benchmarks/make_examples.py``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "deepcompose" / "melodies"

# MIDI pitches
A3, B3 = 57, 59
C4, D4, E4, F4, Fs4, G4, A4, B4 = 60, 62, 64, 65, 66, 67, 69, 71
C5, D5, E5 = 72, 74, 76


def seq(*items, start=0.0):
    """(pitch, duration) pairs in order -> (pitch, start, duration); pitch None is a rest."""
    out, t = [], start
    for pitch, dur in items:
        if pitch is not None:
            out.append((pitch, t, dur))
        t += dur
    return out


def ode_to_joy():
    """Beethoven, Symphony No. 9, finale theme (1824), D major, 4/4, quarter notes."""
    a = [(Fs4, 1), (Fs4, 1), (G4, 1), (A4, 1), (A4, 1), (G4, 1), (Fs4, 1), (E4, 1),
         (D4, 1), (D4, 1), (E4, 1), (Fs4, 1)]
    end1 = [(Fs4, 1.5), (E4, 0.5), (E4, 2)]
    end2 = [(E4, 1.5), (D4, 0.5), (D4, 2)]
    b = [(E4, 1), (E4, 1), (Fs4, 1), (D4, 1), (E4, 1), (Fs4, 0.5), (G4, 0.5), (Fs4, 1), (D4, 1),
         (E4, 1), (Fs4, 0.5), (G4, 0.5), (Fs4, 1), (E4, 1), (D4, 1), (E4, 1), (A3, 2)]
    return seq(*(a + end1 + a + end2 + b + a + end2))


def amazing_grace():
    """'New Britain' (Amazing Grace), American shape-note tune, 1829; G major, 3/4, pickup."""
    return seq((D4, 1),
               (G4, 2), (B4, 0.5), (G4, 0.5), (B4, 2), (A4, 1), (G4, 2), (E4, 1), (D4, 2), (D4, 1),
               (G4, 2), (B4, 0.5), (G4, 0.5), (B4, 2), (A4, 1), (D5, 3), (D5, 2), (B4, 1),
               (D5, 2), (B4, 0.5), (G4, 0.5), (B4, 2), (A4, 1), (G4, 2), (E4, 1), (D4, 2), (D4, 1),
               (G4, 2), (B4, 0.5), (G4, 0.5), (B4, 2), (A4, 1), (G4, 3))


def row_your_boat():
    """Row, Row, Row Your Boat (Eliphalet Oram Lyte, 1881), C major, 6/8."""
    e = 0.5  # an eighth note in beats
    return seq((C4, 3 * e), (C4, 3 * e),
               (C4, 2 * e), (D4, e), (E4, 3 * e),
               (E4, 2 * e), (D4, e), (E4, 2 * e), (F4, e),
               (G4, 6 * e),
               (C5, e), (C5, e), (C5, e), (G4, e), (G4, e), (G4, e),
               (E4, e), (E4, e), (E4, e), (C4, e), (C4, e), (C4, e),
               (G4, 2 * e), (F4, e), (E4, 2 * e), (D4, e),
               (C4, 6 * e))


def pop_hook():
    """A syncopated four-bar hook over Am-F-C-G, played twice (written for deepcompose)."""
    bar1 = [(A4, 0.0, 0.5), (C5, 0.5, 0.5), (E5, 1.5, 1.0), (D5, 2.5, 0.5), (C5, 3.0, 0.5),
            (D5, 3.5, 1.0)]  # ties over the bar line
    bar2 = [(A4, 5.0, 0.5), (C5, 5.5, 0.5), (A4, 6.5, 1.0), (G4, 7.5, 0.5)]
    bar3 = [(E5, 8.0, 0.5), (E5, 8.75, 0.5), (D5, 9.5, 0.5), (C5, 10.0, 0.5), (D5, 10.5, 1.0),
            (E5, 11.5, 1.0)]
    bar4 = [(D5, 13.0, 0.5), (C5, 13.5, 0.5), (B4, 14.0, 0.5), (C5, 14.5, 1.0)]
    bar8 = [(D5, 13.0, 0.5), (C5, 13.5, 0.5), (B4, 14.0, 0.5), (A4, 14.5, 1.5)]
    first = bar1 + bar2 + bar3 + bar4
    second = bar1 + bar2 + bar3 + bar8
    return first + [(p, s + 16.0, d) for p, s, d in second]


def barbara_allen():
    """Barbara Allen from music21's corpus: essenFolksong/folkHaydn, tune 11."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from melodies import _tune_info  # benchmarks/melodies.py, the folk-set rules
    from music21 import corpus

    opus = corpus.parse("essenFolksong/folkHaydn")
    for score in opus.scores:
        if score.metadata and str(score.metadata.number) == "11":
            tune = _tune_info(score, "essenFolksong/folkHaydn")
            break
    else:
        raise SystemExit("Barbara Allen not found in essenFolksong/folkHaydn")
    assert "Barbara" in tune["title"], tune["title"]
    return [(p, s, e - s) for p, s, e in tune["notes"]], tune


def song(name, title, notes, tempo, meter, key, pickup=0.0):
    num, den = meter
    return name, {"title": title, "tempo": tempo, "time_signature": [num, den], "key": key,
                  "pickup": pickup,
                  "tracks": [{"name": "Melody", "program": 0, "is_drum": False,
                              "notes": [[p, round(s, 4), round(d, 4), 90] for p, s, d in notes]}]}


def main():
    ba_notes, ba = barbara_allen()
    tunes = [
        song("ode-to-joy", "Ode to Joy", ode_to_joy(), 110, (4, 4), "D major"),
        song("amazing-grace", "Amazing Grace", amazing_grace(), 84, (3, 4), "G major", pickup=1.0),
        song("row-your-boat", "Row, Row, Row Your Boat", row_your_boat(), 132, (6, 8), "C major"),
        song("barbara-allen", "Barbara Allen", ba_notes, 92, (4, 4), ba["key"],
             pickup=ba["pickup"]),
        song("pop-hook", "Pop hook (deepcompose)", pop_hook(), 100, (4, 4), "A minor"),
    ]
    for name, obj in tunes:
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(obj, separators=(",", ":")) + "\n")
        print(f"wrote {path.relative_to(ROOT)}: {len(obj['tracks'][0]['notes'])} notes")


if __name__ == "__main__":
    main()
