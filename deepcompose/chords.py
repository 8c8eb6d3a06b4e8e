"""Chord labels: Harte notation (as in POP909) and common lead-sheet symbols.

A chord is ``(root, pitch_classes, bass)``: the root pitch class (0 = C .. 11 = B),
the frozenset of its pitch classes (root included) and the bass pitch class (the
root unless the chord is inverted). The no-chord label ``N`` is ``(None, frozenset(), None)``.

Accepted spellings:

- Harte (Harte et al., ISMIR 2005), the form POP909 uses: ``A:min7``, ``G:maj/3`` (bass
  given as a degree of the root), ``Bb:sus4(b7)``, ``C`` (= ``C:maj``), ``N``.
- Common symbols: ``Am7``, ``G/B`` (bass given as a note), ``F#m7b5``, ``Cmaj7``, ``Bb``,
  ``Dsus4``, ``E7``, ``Cdim``, ``Co7``, ``C+``, ``C6``, ``Cm6``, ``C9``, ``Cadd9``,
  ``C7sus4``, ``CmMaj7``.

Times are in beats (quarter notes from the song's start) throughout. Bad input
raises ``DeepcomposeError`` with a one-line message naming the bad symbol.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .errors import DeepcomposeError

NOTE_PCS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
PC_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# Harte shorthand -> intervals above the root (semitones). The first 15 are the model's
# chord vocabulary (every quality POP909's annotations use); the rest are accepted on input
# and mapped to the nearest vocabulary quality by ``nearest_quality``.
QUALITIES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7), "min": (0, 3, 7), "sus2": (0, 2, 7), "sus4": (0, 5, 7),
    "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11), "min7": (0, 3, 7, 10), "maj6": (0, 4, 7, 9),
    "dim": (0, 3, 6), "hdim7": (0, 3, 6, 10), "aug": (0, 4, 8), "min6": (0, 3, 7, 9),
    "dim7": (0, 3, 6, 9), "minmaj7": (0, 3, 7, 11), "sus4(b7)": (0, 5, 7, 10),
    "9": (0, 4, 7, 10, 2), "maj9": (0, 4, 7, 11, 2), "min9": (0, 3, 7, 10, 2),
    "5": (0, 7), "1": (0,), "maj(9)": (0, 4, 7, 2), "min(9)": (0, 3, 7, 2),
    "11": (0, 4, 7, 10, 2, 5), "13": (0, 4, 7, 10, 2, 9), "min11": (0, 3, 7, 10, 2, 5),
}
VOCAB_QUALITIES = tuple(list(QUALITIES)[:15])

# Lead-sheet suffix -> Harte shorthand (longest suffixes are tried first).
SUFFIXES = {
    "": "maj", "maj": "maj", "M": "maj", "m": "min", "min": "min", "-": "min",
    "7": "7", "dom7": "7", "maj7": "maj7", "M7": "maj7", "Δ": "maj7", "Δ7": "maj7",
    "m7": "min7", "min7": "min7", "-7": "min7", "6": "maj6", "maj6": "maj6", "m6": "min6",
    "min6": "min6", "dim": "dim", "o": "dim", "°": "dim", "dim7": "dim7", "o7": "dim7",
    "°7": "dim7", "m7b5": "hdim7", "min7b5": "hdim7", "ø": "hdim7", "ø7": "hdim7",
    "hdim7": "hdim7", "aug": "aug", "+": "aug", "sus2": "sus2", "sus4": "sus4", "sus": "sus4",
    "7sus4": "sus4(b7)", "7sus": "sus4(b7)", "mMaj7": "minmaj7", "mmaj7": "minmaj7",
    "mM7": "minmaj7", "m(maj7)": "minmaj7", "minmaj7": "minmaj7", "9": "9", "maj9": "maj9",
    "M9": "maj9", "m9": "min9", "min9": "min9", "add9": "maj(9)", "madd9": "min(9)",
    "5": "5", "11": "11", "m11": "min11", "13": "13",
}

# Harte degree (as written after '/', or inside parentheses) <-> semitones above the root.
DEGREES = {"1": 0, "b2": 1, "2": 2, "#2": 3, "b3": 3, "3": 4, "4": 5, "#4": 6, "b5": 6,
           "5": 7, "#5": 8, "b6": 8, "6": 9, "bb7": 9, "b7": 10, "7": 11, "b9": 1, "9": 2,
           "#9": 3, "11": 5, "#11": 6, "b13": 8, "13": 9}
DEGREE_OF = {0: "1", 1: "b2", 2: "2", 3: "b3", 4: "3", 5: "4", 6: "b5", 7: "5", 8: "#5",
             9: "6", 10: "b7", 11: "7"}

NO_CHORD = (None, frozenset(), None)
_ROOT = re.compile(r"^([A-G])([#b♯♭]*)")


def _bad(label, why: str = "") -> DeepcomposeError:
    return DeepcomposeError(f"bad chord symbol {str(label)[:40]!r}" + (f": {why}" if why else ""))


def _root(text: str, label) -> tuple[int, str]:
    """Pitch class of a note name at the start of ``text`` and the rest of ``text``."""
    m = _ROOT.match(text)
    if not m:
        raise _bad(label, "expected a root note A-G")
    acc = m.group(2)
    if len(acc) > 2:
        raise _bad(label, "too many accidentals")
    pc = NOTE_PCS[m.group(1)] + sum(1 if a in "#♯" else -1 for a in acc)
    return pc % 12, text[m.end():]


def parse_chord(label: str) -> tuple[int | None, frozenset, int | None]:
    """A Harte label or common symbol -> ``(root pc, pitch-class set, bass pc)``.

    ``N`` (also ``NC``, ``N.C.``) is no chord: ``(None, frozenset(), None)``.
    """
    if not isinstance(label, str) or not label.strip():
        raise _bad(label, "empty")
    text = label.strip()
    if text in ("N", "NC", "N.C.", "X"):
        return NO_CHORD
    if ":" in text:
        return _parse_harte(text, label)
    root, rest = _root(text, label)
    bass = None
    if "/" in rest:
        rest, slash = rest.split("/", 1)
        bass, tail = _root(slash, label)
        if tail:
            raise _bad(label, "bad bass note")
    if rest not in SUFFIXES:
        raise _bad(label, f"unknown chord quality {rest!r}")
    pcs = frozenset((root + i) % 12 for i in QUALITIES[SUFFIXES[rest]])
    return root, pcs, root if bass is None else bass


def _parse_harte(text: str, label) -> tuple[int, frozenset, int]:
    root, rest = _root(text, label)
    if not rest.startswith(":"):
        raise _bad(label)
    rest = rest[1:]
    bass_deg = None
    if "/" in rest:
        rest, bass_deg = rest.split("/", 1)
    if rest in QUALITIES:
        ivs = set(QUALITIES[rest])
    else:  # shorthand(extra, *omitted) or (degrees)
        m = re.fullmatch(r"([a-z0-9]*)\(([^)]*)\)", rest)
        if not m or (m.group(1) and m.group(1) not in QUALITIES):
            raise _bad(label, f"unknown chord quality {rest!r}")
        ivs = set(QUALITIES[m.group(1)]) if m.group(1) else {0}
        for deg in filter(None, (d.strip() for d in m.group(2).split(","))):
            drop = deg.startswith("*")
            deg = deg.lstrip("*")
            if deg not in DEGREES:
                raise _bad(label, f"unknown degree {deg!r}")
            (ivs.discard if drop else ivs.add)(DEGREES[deg])
    bass = root
    if bass_deg is not None:
        if bass_deg not in DEGREES:
            raise _bad(label, f"unknown bass degree {bass_deg!r}")
        bass = (root + DEGREES[bass_deg]) % 12
    return root, frozenset((root + i) % 12 for i in ivs), bass


def nearest_quality(root: int, pcs: frozenset) -> str:
    """The vocabulary quality whose pitch classes on ``root`` best match ``pcs`` (Jaccard)."""
    def score(q):
        mine = {(root + i) % 12 for i in QUALITIES[q]}
        return len(mine & pcs) / len(mine | pcs)
    return max(VOCAB_QUALITIES, key=score)


def harte(root: int | None, quality: str = "maj", bass: int | None = None) -> str:
    """Format a Harte label: ``harte(9, "min7")`` -> ``"A:min7"``; ``harte(7, "maj", 11)`` ->
    ``"G:maj/3"``; ``harte(None)`` -> ``"N"``."""
    if root is None:
        return "N"
    if quality not in QUALITIES:
        raise DeepcomposeError(f"unknown chord quality {quality!r}")
    out = f"{PC_NAMES[root % 12]}:{quality}"
    if bass is not None and bass % 12 != root % 12:
        out += "/" + DEGREE_OF[(bass - root) % 12]
    return out


def to_harte(label: str) -> str:
    """Any accepted label -> a Harte label in the model's vocabulary (bass kept)."""
    root, pcs, bass = parse_chord(label)
    if root is None:
        return "N"
    return harte(root, nearest_quality(root, pcs), bass)


# ---------------------------------------------------------------- the model's chord classes

N_CLASSES = 1 + 12 * len(VOCAB_QUALITIES)  # class 0 = N, then root * Q + quality


def chord_class(label: str) -> int:
    """Label -> class index in ``[0, N_CLASSES)`` (inversions dropped, quality to nearest)."""
    root, pcs, _ = parse_chord(label)
    if root is None:
        return 0
    return 1 + root * len(VOCAB_QUALITIES) + VOCAB_QUALITIES.index(nearest_quality(root, pcs))


def class_label(ix: int, bass: int | None = None) -> str:
    """Class index -> Harte label."""
    if ix == 0:
        return "N"
    root, q = divmod(ix - 1, len(VOCAB_QUALITIES))
    return harte(root, VOCAB_QUALITIES[q], bass)


def class_pitch_classes() -> list[frozenset]:
    """Pitch-class set of every class, index-aligned (class 0 = empty)."""
    out = [frozenset()]
    for root in range(12):
        out += [frozenset((root + i) % 12 for i in QUALITIES[q]) for q in VOCAB_QUALITIES]
    return out


# ---------------------------------------------------------------- chord lists (CLI, JSON)


def parse_chord_text(text: str, beats_per_bar: float, first_bar_beat: float = 0.0,
                     meter_changes=()) -> list[tuple[float, float, str]]:
    """``"C | G/B | Am7 | F C"`` -> ``[(start_beat, end_beat, harte_label), ...]``.

    Bars are separated by ``|`` and start at ``first_bar_beat + i * beats_per_bar``
    (the pickup before ``first_bar_beat`` gets no chord), then follow ``meter_changes``
    ``(beat, num, den)`` as in ``Song.time_signatures``; several symbols in one bar
    divide it evenly. ``%`` repeats the previous bar's last chord.
    """
    from .representations.bars import iter_bars, meter_stretches

    if not isinstance(text, str) or not text.strip():
        raise DeepcomposeError("--chords is empty")
    if beats_per_bar <= 0:
        raise DeepcomposeError(f"beats per bar must be positive, got {beats_per_bar}")
    bars = text.strip().strip("|").split("|")
    bar_lines = iter_bars(meter_stretches(beats_per_bar, first_bar_beat, meter_changes))
    out: list[tuple[float, float, str]] = []
    for i, bar in enumerate(bars):
        symbols = bar.split()
        if not symbols:
            raise DeepcomposeError(f"bar {i + 1} of --chords has no chord symbol")
        bar_start, bar_beats, _, _ = next(bar_lines)
        each = bar_beats / len(symbols)
        for j, sym in enumerate(symbols):
            if sym == "%":
                if not out:
                    raise _bad(sym, "nothing to repeat")
                label = out[-1][2]
            else:
                label = to_harte(sym)
            start = bar_start + j * each
            out.append((round(start, 6), round(start + each, 6), label))
    return out


def parse_chord_json(spec) -> list[tuple[float, float, str]]:
    """``[[start_beat, end_beat, label], ...]`` (a list, a JSON string, or a path to a JSON
    file) -> sorted ``[(start, end, harte_label), ...]``."""
    if isinstance(spec, (str, Path)) and not str(spec).lstrip().startswith("["):
        path = Path(spec)
        try:
            spec = json.loads(path.read_text())
        except OSError as exc:
            raise DeepcomposeError(f"cannot read chords file {path}: {exc.strerror}") from None
        except ValueError:
            raise DeepcomposeError(f"chords file {path} is not valid JSON") from None
    elif isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except ValueError:
            raise DeepcomposeError("chords are not valid JSON") from None
    if not isinstance(spec, list):
        raise DeepcomposeError("chords JSON must be a list of [start_beat, end_beat, label]")
    out = []
    for i, row in enumerate(spec):
        if not isinstance(row, (list, tuple)) or len(row) != 3:
            raise DeepcomposeError(f"chord {i}: expected [start_beat, end_beat, label]")
        start, end, label = row
        ok = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (start, end))
        if not ok or not (0 <= start < end < 1e6):
            raise DeepcomposeError(f"chord {i} ({label!r}): need 0 <= start_beat < end_beat")
        out.append((float(start), float(end), to_harte(label)))
    return sorted(out)


def load_chords(spec, beats_per_bar: float, first_bar_beat: float = 0.0, meter_changes=()
                ) -> list[tuple[float, float, str]]:
    """``--chords``: a JSON list, a path to a ``.json`` file, or bar text (bars as in
    ``parse_chord_text``)."""
    if isinstance(spec, (list, tuple)):
        return parse_chord_json(list(spec))
    if isinstance(spec, Path) or (isinstance(spec, str) and (
            spec.strip().startswith("[") or spec.strip().lower().endswith(".json"))):
        return parse_chord_json(spec)
    return parse_chord_text(spec, beats_per_bar, first_bar_beat, meter_changes)


def chords_per_step(chords, steps: int, steps_per_beat: int = 4) -> list[str]:
    """Label sounding at each grid step ``[steps]`` (``"N"`` where no chord is given)."""
    out = ["N"] * steps
    for start, end, label in chords:
        a, b = max(0, round(start * steps_per_beat)), min(steps, round(end * steps_per_beat))
        for t in range(a, b):
            out[t] = label
    return out


def repeat_chords(chords, length_beats: float):
    """Given chords that stop before ``length_beats``: the progression (from its first chord's
    start to its last chord's end) played again and again to the end, so the band never
    falls silent under the melody. ``(start_beat, end_beat, label)`` in and out, sorted;
    chords that reach the end come back as given."""
    chords = sorted((float(a), float(b), lab) for a, b, lab in chords)
    if not chords:
        return chords
    first, last = chords[0][0], max(b for _, b, _ in chords)
    period = last - first
    out, k = list(chords), 1
    while period > 0 and first + k * period < length_beats - 1e-9:
        out += [(a + k * period, min(b + k * period, length_beats), lab)
                for a, b, lab in chords if a + k * period < length_beats - 1e-9]
        k += 1
    return out
