"""One OpenScore string quartet score: MusicXML -> ``Movement`` records (beats).

A ``Movement`` is one movement. Times are beats (quarter notes) from the start of its first
measure (the pickup, when there is one); tuplets are the fractions music21 gives (the cache
keeps them exactly: ``TICKS`` = 40320 per beat).

- ``parts``: ``violin1`` (the melody), ``violin2``, ``viola``, ``cello`` -> float64 arrays
  ``[n, 4]`` of ``(pitch, start_beat, end_beat, velocity)``, sorted by start then pitch.
- ``time_signatures`` ``[(beat, num, den)]``: the meter at beat 0, then every change.
- ``key_signatures`` ``[(beat, fifths, mode)]`` as written (mode "" when unwritten);
  ``key()`` estimates ``(tonic_pc, mode)`` from the notes.
- ``pickup``: beats before the first full bar line (0.0 without anacrusis).
- ``bar_lines`` ``[bars]``: the beat of every bar line, as written (a measure split in two
  by a repeat sign in mid-bar is one bar).

Reading (music21; details in ``datasets/quartets/CARD.md``): parts by name, a second staff
of one instrument merged into it, scores without exactly the four instruments skipped;
movements cut at a new page after a final bar line or under a roman-numeral heading
(``movement_starts``); double stops keep every note, grace notes dropped, ties merged,
repeats not expanded (as written), sounding pitch. Velocity per part from the written
dynamics: levels ``LEVELS``, accents ``ACCENTS`` (``velocity_events``); ``mf`` until a
movement's first mark; hairpins not applied.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from ..dynamics import LEVELS
from ..errors import DeepcomposeError

PARTS = ("violin1", "violin2", "viola", "cello")
PROGRAMS = {"violin1": 40, "violin2": 40, "viola": 41, "cello": 42}  # General MIDI, 0-based
TICKS = 40320  # cache resolution per beat: 2^7 * 3^2 * 5 * 7 (128th notes, 3/5/7/9-tuplets)
EPS = 1e-6
ACCENTS = {"sf": (112, None), "sfz": (112, None), "fz": (112, None), "rf": (112, None),
           "rfz": (112, None), "sffz": (126, None), "fp": (96, 49), "sfp": (112, 49),
           "sfpp": (112, 33)}  # onset velocity, level after it (None: unchanged)
DEFAULT_LEVEL = 80
_ROMAN = re.compile(r"^\s*(I|II|III|IV|V|VI|VII|VIII)(\.|\s|$)")




@dataclass
class Movement:
    """One movement of one score; see the module docstring for every field's units."""

    work: str                   # the work's folder under scores/ (= index.tsv ``path``)
    score_id: int               # MuseScore id (the file sq<id>.mxl)
    number: int                 # 1-based movement number inside its file
    title: str                  # the heading as written ("II. Menuetto") or ""
    length: float               # beats, from the first measure to the end of the last
    pickup: float               # beats before the first full bar line
    time_signatures: list       # [(beat, num, den)]
    key_signatures: list        # [(beat, fifths, mode)]
    bar_lines: np.ndarray = field(repr=False)  # [bars] float64 beats
    parts: dict = field(repr=False)            # role -> [n, 4] float64

    @property
    def name(self) -> str:
        return f"{self.work} #{self.score_id}.{self.number}"

    def notes(self, role: str) -> list[tuple[int, float, float, int]]:
        """One part as ``(pitch, start_beat, end_beat, velocity)`` tuples."""
        return [(int(p), float(a), float(b), int(v)) for p, a, b, v in self.parts[role]]

    def key(self) -> tuple[int, str]:
        """``keys.estimate_key`` over all four parts, weighted by duration in beats."""
        from ..keys import estimate_key

        arr = np.concatenate([self.parts[r] for r in PARTS])
        return estimate_key(arr[:, 0].astype(int), arr[:, 2] - arr[:, 1])

    def excerpt(self, first_bar: int, bars: int = 16) -> Excerpt | None:
        """Bars ``first_bar .. first_bar + bars - 1`` (indices into ``bar_lines``) shifted to
        start at beat 0; notes starting inside, cut at its end. None when it does not fit."""
        lines = np.append(self.bar_lines, self.length)
        if first_bar < 0 or first_bar + bars >= len(lines):
            return None
        a, b = float(lines[first_bar]), float(lines[first_bar + bars])

        def cut(arr):
            keep = arr[(arr[:, 1] >= a - EPS) & (arr[:, 1] < b - EPS)]
            return [(int(p), s - a, min(e, b) - a, int(v)) for p, s, e, v in keep]

        meters = [(max(t - a, 0.0), n, d) for t, n, d in self.time_signatures if t < b - EPS]
        meters = [m for k, m in enumerate(meters) if k + 1 == len(meters)
                  or meters[k + 1][0] > m[0] + EPS]
        return Excerpt(self.name, first_bar, {r: cut(self.parts[r]) for r in PARTS},
                       lines[first_bar:first_bar + bars + 1] - a, meters, b - a)

    def excerpts(self, bars: int = 16) -> list[Excerpt]:
        """The benchmark's excerpts: ``bars`` bars from the first full bar, and ``bars`` bars
        around the middle bar when the two do not overlap."""
        first = 1 if self.pickup > EPS else 0
        out = [self.excerpt(first, bars)]
        mid = len(self.bar_lines) // 2 - bars // 2
        if mid >= first + bars:
            out.append(self.excerpt(mid, bars))
        return [e for e in out if e is not None]


@dataclass
class Excerpt:
    """Some bars of a movement from beat 0 on a bar line: ``parts`` role -> note tuples
    ``(pitch, start_beat, end_beat, velocity)``; ``bar_lines`` ``[bars + 1]`` beats (the last
    is the end); ``time_signatures`` ``[(beat, num, den)]``; ``length`` in beats."""

    movement: str
    first_bar: int
    parts: dict
    bar_lines: np.ndarray
    time_signatures: list
    length: float

    @property
    def melody(self) -> list:
        return self.parts["violin1"]

    @property
    def accompaniment(self) -> list[list]:
        """Violin II, viola and cello, high to low."""
        return [self.parts[r] for r in PARTS[1:]]


# ---------------------------------------------------------------------- reading MusicXML


def _xml_root(path: Path) -> ElementTree.Element:
    if path.suffix.lower() == ".mxl":
        with zipfile.ZipFile(path) as z:
            name = next(n for n in z.namelist()
                        if n.endswith((".xml", ".musicxml")) and not n.startswith("META-INF"))
            return ElementTree.fromstring(z.read(name))
    return ElementTree.parse(path).getroot()


def movement_starts(root: ElementTree.Element) -> list[tuple[int, str]]:
    """``(measure index, heading)`` of each movement in the first part's measures (index 0
    first). A later movement starts at a measure that opens a new page, has a time signature
    or a measure number of 0 or 1, and follows a final bar line or carries a heading that
    begins with a roman numeral."""
    measures = root.find("part").findall("measure")
    out = []
    for i, m in enumerate(measures):
        words = [(w.text or "").strip() for w in m.iter("words")]
        heading = next((w for w in words if _ROMAN.match(w)), "")
        if i == 0:
            out.append((0, heading or next((w for w in words if w), "")))
            continue
        page = any(p.get("new-page") == "yes" for p in m.findall("print"))
        fresh = m.find("attributes/time") is not None or m.get("number") in ("0", "1")
        final = any(b.findtext("bar-style") == "light-heavy" and b.find("repeat") is None
                    for b in measures[i - 1].findall("barline"))
        if page and fresh and (final or heading):
            out.append((i, heading or next((w for w in words if w), "")))
    return out


def part_roles(names: list[str]) -> list[str | None]:
    """Role of each part from its name (``Violin 1``, ``Vl. II``, ``Viola``, ``Cello``...);
    None for anything else. Unnumbered violins are violin1 then violin2 in score order."""
    out: list[str | None] = []
    violins = 0
    for name in names:
        n = name.lower().replace(".", " ").strip()
        if "cello" in n or re.match(r"^vc\b", n):
            out.append("cello")
        elif "viola" in n or re.match(r"^(vla|va)\b", n):
            out.append("viola")
        elif "violin" in n or re.match(r"^(vn|vl)\b", n):
            num = re.search(r"\b(1|2|i|ii)\b", n)
            which = {"1": 1, "i": 1, "2": 2, "ii": 2}[num.group(1)] if num else violins + 1
            violins += 1
            out.append(f"violin{min(which, 2)}")
        else:
            out.append(None)
    return out


def velocity_events(dynamics) -> list[tuple[float, int, int | None]]:
    """``(beat, onset velocity, level after)`` per written dynamic ``(beat, text)``, in beat
    order (marks at one beat keep their order); unknown texts are left out. Level marks
    have onset velocity = their level."""
    out = []
    for beat, text in sorted(dynamics, key=lambda d: d[0]):
        t = str(text).strip().lower()
        if t in LEVELS:
            out.append((beat, LEVELS[t], LEVELS[t]))
        elif t in ACCENTS:
            out.append((beat, *ACCENTS[t]))
    return out


def apply_velocities(starts, events) -> np.ndarray:
    """Velocity ``[n]`` of notes starting at ``starts`` (beats, sorted) under ``events``
    (``velocity_events``): the level in force, or an accent's velocity at its own beat."""
    level, out, k = DEFAULT_LEVEL, np.empty(len(starts), dtype=np.int64), 0
    accent: tuple[float, int] | None = None
    for i, s in enumerate(starts):
        while k < len(events) and events[k][0] <= s + EPS:
            beat, onset, after = events[k]
            accent = (beat, onset) if after != onset else None
            level = after if after is not None else level
            k += 1
        out[i] = accent[1] if accent and abs(accent[0] - s) < EPS else level
    return out


def merge_ties(events) -> list[list]:
    """``[pitch, start, end, tie]`` events (tie None/"start"/"continue"/"stop", sorted by
    start) -> ``[pitch, start, end]`` notes, a tied continuation extending the note of the
    same pitch that ends where it starts."""
    notes, open_ = [], {}
    for pitch, start, end, tie in events:
        j = open_.get(pitch)
        if tie in ("stop", "continue") and j is not None and abs(notes[j][2] - start) < 1e-4:
            notes[j][2] = end
            if tie == "stop":
                del open_[pitch]
            continue
        notes.append([pitch, start, end])
        if tie in ("start", "continue"):
            open_[pitch] = len(notes) - 1
        else:
            open_.pop(pitch, None)
    return notes


def _part_notes(part, resets=()) -> np.ndarray:
    """All notes of a music21 part ``[n, 4]`` (pitch, start, end, velocity) from its start;
    the dynamic level returns to ``mf`` at each beat of ``resets`` (movement starts)."""
    flat = part.flatten()
    events = []
    for el in flat.notes:
        if el.duration.isGrace or not hasattr(el, "pitches"):
            continue
        start, end = float(el.offset), float(el.offset + el.quarterLength)
        for n in (el.notes if el.isChord else [el]):
            tie = n.tie or el.tie
            events.append((int(n.pitch.midi), start, end, tie.type if tie else None))
    events.sort(key=lambda e: (e[1], e[0]))
    arr = np.array(merge_ties(events), dtype=np.float64).reshape(-1, 3)
    arr[:, 1:] = _q(arr[:, 1:])
    dyn = [(float(b), "mf") for b in resets]
    dyn += [(float(d.offset), d.value) for d in flat.getElementsByClass("Dynamic")]
    vel = apply_velocities(arr[:, 1], velocity_events(dyn))
    return np.column_stack([arr, vel]).astype(np.float64)


def _bar_lines(measures, meters) -> list[float]:
    """Bar lines among measures ``[(start, length)]`` (beats) under ``meters`` ``[(beat, bar
    length)]``: every measure start, except a measure that completes a short one before it
    (a bar split at a repeat sign). The first measure always starts a bar."""
    lines, acc = [], 0.0
    for k, (start, length) in enumerate(measures):
        full = next((bl for b, bl in reversed(meters) if b <= start + EPS), meters[0][1])
        changed = any(abs(b - start) < EPS for b, _ in meters)
        if k == 0 or changed or acc < EPS or acc + length > full + EPS:
            lines.append(start)
            acc = 0.0
        acc += length
        if k == 0 or acc >= full - EPS:
            acc = 0.0
    return lines


def read_score(path: Path | str, work: str = "", score_id: int = 0) -> list[Movement]:
    """The movements of one MusicXML file (``.mxl``, ``.musicxml``, ``.xml``). Raises
    ``DeepcomposeError`` when the score does not hold exactly violin I, violin II, viola and
    cello (a second staff of one of them is merged)."""
    import music21

    path = Path(path)
    root = _xml_root(path)
    starts = movement_starts(root)
    for direction in root.iter("direction"):  # tempo marks are not needed, and music21
        for dt in direction.findall("direction-type"):  # fails on an empty <beat-unit>
            if dt.find("metronome") is not None:
                direction.remove(dt)
    with warnings.catch_warnings():  # music21 warns about every unreadable hairpin
        warnings.simplefilter("ignore")
        score = music21.converter.parseData(ElementTree.tostring(root, encoding="unicode"),
                                            format="musicxml")
    parts = list(score.parts)
    roles = part_roles([p.partName or (p.getInstrument().instrumentName or "") for p in parts])
    if None in roles or set(roles) != set(PARTS):
        raise DeepcomposeError(f"{path.name}: parts {[p.partName for p in parts]} are not "
                               "violin I, violin II, viola and cello")
    measures = list(parts[0].getElementsByClass("Measure"))
    if len(measures) != len(root.find("part").findall("measure")):
        raise DeepcomposeError(f"{path.name}: music21 and the XML disagree on measures")
    resets = [float(measures[i].offset) for i, _ in starts]
    found = [(role, _part_notes(part, resets)) for part, role in zip(parts, roles, strict=True)]
    notes = {}
    for r in PARTS:
        arr = np.concatenate([a for q, a in found if q == r])
        notes[r] = arr[np.lexsort((arr[:, 0], arr[:, 1]))]
    flat0 = parts[0].flatten()
    tsigs = [(_q(t.offset), t.numerator, t.denominator, float(t.barDuration.quarterLength))
             for t in flat0.getElementsByClass("TimeSignature")]
    ksigs = [(_q(k.offset), int(k.sharps), getattr(k, "mode", None) or "")
             for k in flat0.getElementsByClass("KeySignature")]
    m_start = [_q(m.offset) for m in measures]
    m_len = list(np.diff(m_start + [_q(parts[0].highestTime)]))
    out = []
    bounds = [s for s, _ in starts] + [len(measures)]
    for k, (i, title) in enumerate(starts):
        a = m_start[i]
        b = m_start[bounds[k + 1]] if bounds[k + 1] < len(measures) else m_start[-1] + m_len[-1]
        ts = _in_span(tsigs, a, b)
        meters = [(_q(t - a), bl) for t, _, _, bl in ts]
        spans = [(_q(m_start[j] - a), _q(m_len[j])) for j in range(i, bounds[k + 1])]
        pickup = spans[0][1] if spans[0][1] < meters[0][1] - EPS else 0.0
        inside = {r: x[(x[:, 1] >= a - EPS) & (x[:, 1] < b - EPS)] for r, x in notes.items()}
        parts_m = {r: np.column_stack([x[:, 0], _q(x[:, 1:3] - a), x[:, 3]])
                   for r, x in inside.items()}
        out.append(Movement(
            work=work, score_id=score_id, number=k + 1, title=title[:80], length=_q(b - a),
            pickup=pickup, time_signatures=[(_q(t - a), n, d) for t, n, d, _ in ts],
            key_signatures=[(_q(t - a), f, m) for t, f, m in _in_span(ksigs, a, b)],
            bar_lines=np.array(_bar_lines(spans, meters)), parts=parts_m))
    return out


def _q(x):
    """Beats rounded to the cache's resolution (``TICKS`` per beat): float or array."""
    if isinstance(x, np.ndarray):
        return np.round(x * TICKS) / TICKS
    return round(float(x) * TICKS) / TICKS


def _in_span(marks, a: float, b: float) -> list:
    """The mark in force at ``a`` (moved to ``a``) and every later change before ``b``
    (``marks``: tuples whose first item is the beat); repeats of the same mark dropped."""
    before = [m for m in marks if m[0] <= a + EPS]
    out = [(a, *before[-1][1:])] if before else ([(a, *marks[0][1:])] if marks else [])
    for m in marks:
        if a + EPS < m[0] < b - EPS and tuple(m[1:]) != tuple(out[-1][1:]):
            out.append(m)
    return out
