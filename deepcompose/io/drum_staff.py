"""Drums on a percussion staff, both ways: where each General MIDI drum is written (position,
notehead), which drum a reader takes for a written hit, and hits on the 16th grid."""

from __future__ import annotations

from fractions import Fraction

from ..song import Note

# GM drum pitch -> (display position on the percussion staff, notehead); others: C5, normal
DRUM_DISPLAY = {35: ("F4", "normal"), 36: ("F4", "normal"), 37: ("C5", "x"),
                38: ("C5", "normal"), 40: ("C5", "normal"), 39: ("C5", "x"),
                41: ("A4", "normal"), 43: ("A4", "normal"), 45: ("B4", "normal"),
                47: ("D5", "normal"), 48: ("E5", "normal"), 50: ("E5", "normal"),
                42: ("G5", "x"), 44: ("D4", "x"), 46: ("G5", "circle-x"),
                49: ("A5", "x"), 57: ("A5", "x"), 51: ("F5", "x"), 59: ("F5", "x"),
                53: ("F5", "diamond"), 52: ("A5", "x"), 55: ("A5", "x")}
# (display position, notehead) -> the GM pitch a reader takes for it: the drum kit's own
# pitch where several share a position (36 kick, 38 snare, 43 floor tom, ...), so the
# band's drums come back as written
DRUM_READ = {shown: pitch for pitch, shown in sorted(
    DRUM_DISPLAY.items(), key=lambda item: item[0] in (36, 38, 42, 46, 43, 47, 50, 49, 51))}
DRUM_GRID = Fraction(1, 4)  # a drum hit is written as a 16th at its nearest 16th


def drum_hits(notes) -> list[Note]:
    """Drum notes for a score: each hit a 16th on the 16th grid (a score shows no
    microtiming); a class hit twice in one 16th is written once."""
    seen, out = set(), []
    for n in sorted(notes, key=lambda n: n.start):
        s = round(Fraction(n.start).limit_denominator(1000) / DRUM_GRID) * DRUM_GRID
        if (s, n.pitch) not in seen:
            seen.add((s, n.pitch))
            out.append(Note(n.pitch, float(s), float(s + DRUM_GRID), n.velocity))
    return out


def unpitched(pitch: int):
    """A drum hit on the percussion staff (``DRUM_DISPLAY``), keeping its GM pitch."""
    from music21 import note

    where, head = DRUM_DISPLAY.get(pitch, ("C5", "normal"))
    hit = note.Unpitched(displayName=where)
    hit.notehead = head
    hit.storedInstrument = None
    hit.editorial.comments = []
    hit.midiPitch = pitch  # not written; kept for readers of the stream
    return hit
