"""Song -> music21 Score -> MusicXML that a musician can read (music21 imported lazily).

- One part per track, named after the track, with its General MIDI instrument.
- Key signature: ``song.key`` (the source's), else ``song.estimated_key()``; pitches are
  spelled in that key (B-flat major writes B-flat and E-flat, not A-sharp and D-sharp;
  chromatic notes as sharps in sharp keys, flats in flat keys; raised 6th and 7th in
  minor), and accidentals are shown only where the key signature and the bar need them.
- Clef by each part's range: treble; treble-8vb for tenor-range parts; bass for low parts;
  percussion for drums; alto for the string quartet's viola, bass for its cello.
- A string quartet (the melody, then Violin II, Viola, Cello: ``--style strings``): the
  melody is Violin I, and each part gets dynamics (pp..ff) where its velocities do.
- Title: ``song.title``, else the ``title`` given (the writer passes the file's stem); no
  music21 credits.
- Chords: ``song.chords`` become ``<harmony>`` symbols above the chosen part (``N`` where a
  chord ends before the next one starts).
- Times round to 1/12 beat (16ths and 8th-note triplets); notes of one track that share a
  span become a chord, and a track whose notes overlap otherwise is written in voices. A
  pickup becomes a short measure 0.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

from .. import keys
from ..atomic import atomic_path
from ..dynamics import LEVELS, WRITTEN
from ..errors import DeepcomposeError
from ..song import Note, Song
from .drum_staff import drum_hits, unpitched

GRID = 12  # offsets and durations round to 1/12 beat
DEFAULT_TITLE = "Untitled"
LETTERS = "CDEFGAB"

# Harte shorthand <-> MusicXML / music21 chord kind (with an added 9th for the (9) forms).
KINDS = {"maj": "major", "min": "minor", "sus2": "suspended-second",
         "sus4": "suspended-fourth", "7": "dominant-seventh", "maj7": "major-seventh",
         "min7": "minor-seventh", "maj6": "major-sixth", "dim": "diminished",
         "hdim7": "half-diminished-seventh", "aug": "augmented", "min6": "minor-sixth",
         "dim7": "diminished-seventh", "minmaj7": "minor-major-seventh",
         "sus4(b7)": "suspended-fourth", "9": "dominant-ninth", "maj9": "major-ninth",
         "min9": "minor-ninth", "5": "power", "1": "pedal", "maj(9)": "major",
         "min(9)": "minor", "11": "dominant-11th", "13": "dominant-13th",
         "min11": "minor-11th"}
# Kinds that MusicXML spells with an added degree: (degree, alteration in semitones).
ADDED = {"maj(9)": (9, 0), "min(9)": (9, 0), "sus4(b7)": (7, -1)}
# The symbol text a notation program prints (MusicXML ``<kind text=...>``).
KIND_TEXT = {"maj": "", "min": "m", "sus2": "sus2", "sus4": "sus4", "7": "7", "maj7": "maj7",
             "min7": "m7", "maj6": "6", "dim": "dim", "hdim7": "m7b5", "aug": "+",
             "min6": "m6", "dim7": "dim7", "minmaj7": "m(maj7)", "sus4(b7)": "7sus4",
             "9": "9", "maj9": "maj9", "min9": "m9", "5": "5", "1": "", "maj(9)": "add9",
             "min(9)": "madd9", "11": "11", "13": "13", "min11": "m11"}


def _q(beats: float) -> Fraction:
    return Fraction(round(beats * GRID), GRID)


# ---------------------------------------------------------------------- spelling


def key_of(song: Song) -> tuple[int, str]:
    """``(tonic pc, mode)``: the source's key signature, else the project's estimate."""
    if song.key:
        try:
            return keys.parse_key_name(song.key)
        except (ValueError, KeyError):
            pass
    return song.estimated_key()


# Chromatic notes as intervals above the tonic: the usual spellings of C major (C# Eb F# G#
# Bb) and of A minor (Bb, C#, D#; raised 6th and 7th F# and G#), carried to every key.
CHROMATIC = {"major": {1: "A1", 3: "m3", 6: "A4", 8: "A5", 10: "m7"},
             "minor": {1: "m2", 4: "M3", 6: "A4", 9: "M6", 11: "M7"}}


def spelling(tonic: int, mode: str) -> dict[int, str]:
    """Pitch class -> note name (music21 spelling: ``B-``, ``F#``) in a key.

    The key's scale, then the chromatic notes as in ``CHROMATIC`` (F major: F# Ab B C# Eb;
    D minor: Eb F# G# B C#); a double sharp or flat becomes its simpler enharmonic.
    """
    from music21 import key

    k = _music21_key(tonic, mode, key)
    names = {p.pitchClass: p.name for p in k.getPitches()[:7]}
    for semitones, interval in CHROMATIC[mode].items():
        p = k.tonic.transpose(interval)
        if "##" in p.name or "--" in p.name:
            p = p.simplifyEnharmonic(mostCommon=True)
        names.setdefault((tonic + semitones) % 12, p.name)
    for pc in range(12):  # (every pitch class is covered above; this is a guard)
        names.setdefault(pc, keys.PC_NAMES[pc])
    return names


def _music21_key(tonic: int, mode: str, key_module):
    """A music21 Key with the conventional signature (F# major not G- major, etc.)."""
    major_tonic = tonic if mode == "major" else (tonic + 3) % 12
    sharps = (7 * major_tonic) % 12
    sharps = sharps - 12 if sharps > 6 else sharps  # -5..6 sharps: the simpler signature
    major = key_module.KeySignature(sharps).asKey("major")
    return major if mode == "major" else major.relative


def spelled_pitch(midi: int, names: dict[int, str]):
    """A music21 Pitch for MIDI ``midi`` spelled from ``names`` (octave fixed for B#/C-)."""
    from music21 import pitch

    p = pitch.Pitch(names[midi % 12])
    p.octave = midi // 12 - 1
    while p.midi > midi:
        p.octave -= 1
    while p.midi < midi:
        p.octave += 1
    return p


# ---------------------------------------------------------------------- clefs


def clef_for(track):
    """Treble, treble-8vb (tenor range) or bass from the duration-weighted mean pitch and
    the lowest note; percussion for drums; a quartet's instruments read their own clefs:
    alto for a viola (program 41) named Viola, bass for a cello (42) named Cello."""
    from music21 import clef

    if track.is_drum:
        return clef.PercussionClef()
    if track.program == 41 and track.name == "Viola":
        return clef.AltoClef()
    if track.program == 42 and track.name == "Cello":
        return clef.BassClef()
    notes = track.notes
    if not notes:
        return clef.TrebleClef()
    weight = sum(max(n.end - n.start, 1e-3) for n in notes)
    mean = sum(n.pitch * max(n.end - n.start, 1e-3) for n in notes) / weight
    low = min(n.pitch for n in notes)
    if mean >= 60:
        return clef.TrebleClef()
    if mean >= 52 and low >= 45:  # tenor range: about A2 up to A4
        return clef.Treble8vbClef()
    return clef.BassClef()


# ---------------------------------------------------------------------- chord symbols


def chord_symbol(label: str, names: dict[int, str]):
    """A Harte label or common symbol -> music21 ChordSymbol (root and bass spelled in the
    key), or None for ``N`` and labels that are no chords."""
    from music21 import harmony

    from ..chords import QUALITIES, nearest_quality, parse_chord

    try:
        root, pcs, bass = parse_chord(label)
    except DeepcomposeError:
        return None
    if root is None:
        return None
    intervals = frozenset((pc - root) % 12 for pc in pcs)
    quality = next((q for q, ivs in QUALITIES.items() if frozenset(ivs) == intervals), None)
    quality = quality or nearest_quality(root, pcs)
    kwargs = {"root": names[root], "kind": KINDS[quality]}
    if bass is not None and bass != root:
        kwargs["bass"] = names[bass]
    cs = harmony.ChordSymbol(**kwargs)
    if quality in ADDED:
        degree, alter = ADDED[quality]
        cs.addChordStepModification(harmony.ChordStepModification("add", degree, alter))
    cs.chordKindStr = KIND_TEXT[quality]
    return cs


def chord_marks(chords, length: float, names) -> list[tuple[Fraction, object]]:
    """``song.chords`` -> ``(offset, ChordSymbol or NoChord)``: each chord at its start and
    ``N.C.`` where it ends before the next one starts (or before the song's end)."""
    from music21 import harmony

    spans = [(start, end, cs) for start, end, label in
             sorted((float(s), float(e), str(label)) for s, e, label in chords if e > s >= 0)
             if (cs := chord_symbol(label, names)) is not None]
    out: list[tuple[Fraction, object]] = []
    for i, (start, end, cs) in enumerate(spans):
        if out and out[-1][0] == _q(start) and isinstance(out[-1][1], harmony.NoChord):
            out.pop()
        out.append((_q(start), cs))
        following = spans[i + 1][0] if i + 1 < len(spans) else length
        if _q(end) < _q(following) or (i + 1 == len(spans) and _q(end) != _q(length)):
            out.append((_q(end), harmony.NoChord()))
    return out


# ---------------------------------------------------------------------- Song -> music21


def song_to_music21(song: Song, title: str | None = None):
    """Song -> music21 Score with measures (one part per track), ready for MusicXML.

    ``title``: used when ``song.title`` is empty (default ``"Untitled"``).
    """
    from music21 import instrument, key, metadata, meter, stream, tempo

    _, num, den = song.time_signatures[0]
    bar = Fraction(num * 4, den)
    pickup = _q(song.pickup) if 0 < song.pickup < bar else Fraction(0)
    shift = bar - pickup if pickup else Fraction(0)  # pad the pickup to a full first bar
    tonic, mode = key_of(song)
    names = spelling(tonic, mode)
    chord_part = _chord_part(song)
    quartet = is_quartet(song)
    score = stream.Score()
    for k, t in enumerate(song.tracks):
        part = stream.Part()
        part.partName = "Violin I" if quartet and not k else t.name or f"Track {k + 1}"
        try:
            inst = instrument.instrumentFromMidiProgram(40 if quartet and not k else t.program)
        except Exception:  # music21 has no class for some programs
            inst = instrument.Instrument()
            inst.midiProgram = t.program
        if t.is_drum:
            inst = instrument.UnpitchedPercussion()
            inst.midiChannel = 9
        inst.partName = part.partName
        part.partAbbreviation = inst.partAbbreviation = (
            QUARTET[part.partName] if quartet else _abbreviation(part.partName))
        part.insert(0, inst)
        part.insert(0, clef_for(t))
        for b, n, d in song.time_signatures:
            part.insert(_q(b) + shift if b > 0 else 0, meter.TimeSignature(f"{n}/{d}"))
        if not t.is_drum:
            part.insert(0, _music21_key(tonic, mode, key))
        if k == 0:
            for b, bpm in song.tempos:
                mark = tempo.MetronomeMark(number=round(bpm, 3))
                part.insert(_q(b) + shift if b > 0 else 0, mark)
        lines = _lines(drum_hits(t.notes) if t.is_drum else t.notes)
        if len(lines) == 1:
            _insert_line(part, lines[0], shift, names, t.is_drum)
        else:  # overlapping notes: one music21 Voice per line
            for line in lines:
                voice = stream.Voice()
                _insert_line(voice, line, shift, names, t.is_drum)
                part.insert(0, voice)
        if quartet:
            for offset, mark in dynamic_marks(t.notes):
                part.insert(offset + shift, mark)
        if k == chord_part:
            last = max((_q(n.end) for n in t.notes), default=Fraction(0))
            for offset, cs in chord_marks(song.chords, song.length_beats, names):
                if offset < last:  # past the part's last note there is no measure for it
                    part.insert(offset + shift, cs)
        score.insert(0, part)
    with _quiet_beams():
        score = score.makeNotation()
    if chord_part is not None:
        _one_line_under_chords(score.parts[chord_part])
    if shift:
        _trim_pickup(score, shift)
    for part in score.parts:
        _show_accidentals(part)
        _show_rests(part)
    name = (song.title or title or DEFAULT_TITLE).strip() or DEFAULT_TITLE
    score.metadata = metadata.Metadata()
    score.metadata.title = name
    score.metadata.movementName = name
    return score


QUARTET = {"Violin I": "Vln. I", "Violin II": "Vln. II", "Viola": "Vla.", "Cello": "Vc."}
DYNAMICS = {mark: LEVELS[mark] for mark in WRITTEN}


def is_quartet(song: Song) -> bool:
    """A string quartet score: the melody, then exactly Violin II, Viola and Cello."""
    return [t.name for t in song.tracks[1:]] == list(QUARTET)[1:]


def dynamic_marks(notes) -> list:
    """``(offset, Dynamic)``: the first note's level (nearest of ``DYNAMICS``), then each
    level that two notes running take, both over 12 from the level in force (no flicker)."""
    from music21 import dynamics

    notes = sorted(notes, key=lambda n: n.start)
    levels = [min(DYNAMICS, key=lambda d: abs(DYNAMICS[d] - n.velocity)) for n in notes]
    out, cur = [], None
    for i, n in enumerate(notes):
        far = [abs(m.velocity - DYNAMICS.get(cur, 0)) > 12 for m in notes[i:i + 2]]
        if cur is None or far == [True, True] and levels[i + 1] == levels[i] != cur:
            cur = levels[i]
            out.append((_q(n.start), dynamics.Dynamic(cur)))
    return out


def _abbreviation(name: str) -> str:
    """The short part name printed on later systems: ``Melody`` -> ``Mel.``; short names
    stay as they are."""
    name = name.strip()
    return name if len(name) <= 5 else name[:3].rstrip() + "."


def _chord_part(song: Song) -> int | None:
    """The part that carries the chord symbols: the melody's, else the first pitched one."""
    if not song.chords or not song.tracks:
        return None
    try:
        return song.melody_index()
    except DeepcomposeError:
        pitched = [i for i, t in enumerate(song.tracks) if not t.is_drum]
        return pitched[0] if pitched else 0


def _lines(notes) -> list[list[tuple[Fraction, Fraction, list[Note]]]]:
    """Notes -> lines of ``(start, end, notes)`` chords (notes sharing a rounded span) that
    do not overlap within a line; each chord goes to the first line free at its start."""
    spans: dict[tuple[Fraction, Fraction], list[Note]] = {}
    for n in notes:
        s = _q(n.start)
        e = max(_q(n.end), s + Fraction(1, GRID))
        spans.setdefault((s, e), []).append(n)
    lines: list[list] = []
    for (s, e), group in sorted(spans.items()):
        for line in lines:
            if line[-1][1] <= s:
                line.append((s, e, group))
                break
        else:
            lines.append([(s, e, group)])
    return lines or [[]]


def _insert_line(container, line, shift: Fraction, names, is_drum: bool) -> None:
    from music21 import chord, note, percussion

    for s, e, group in line:
        pitches = sorted({n.pitch for n in group})
        if is_drum:
            hits = [unpitched(p) for p in pitches]
            el = hits[0] if len(hits) == 1 else percussion.PercussionChord(hits)
        else:
            spelled = [spelled_pitch(p, names) for p in pitches]
            el = note.Note(spelled[0]) if len(spelled) == 1 else chord.Chord(spelled)
        el.quarterLength = e - s
        el.volume.velocity = group[0].velocity
        container.insert(s + shift, el)


def _show_accidentals(part) -> None:
    """Accidentals only where the key signature and the bar need them: music21's rule
    (``Measure.makeAccidentals``) per measure with the key signature in force and the
    ties from the bar before, but no cautionary accidentals carried over a bar line and
    none repeated within a bar."""
    from music21 import key, note, stream
    from music21.stream.makeNotation import getTiePitchSet

    ks = None
    previous = None
    for m in part.getElementsByClass(stream.Measure):
        ks = m.keySignature or ks
        ties = None
        if previous is not None:
            last = list(previous.recurse().getElementsByClass(note.NotRest))
            ties = getTiePitchSet(last[-1]) if last else None
        m.makeAccidentals(useKeySignature=ks if ks is not None else key.KeySignature(0),
                          pitchPastMeasure=[], cautionaryPitchClass=False,
                          cautionaryNotImmediateRepeat=False, overrideStatus=True,
                          inPlace=True, tiePitchSet=ties)
        previous = m


def _show_rests(part) -> None:
    """music21 hides the rests it adds before a part's first note; a single line shows
    them (rests that fill voices stay hidden)."""
    from music21 import note, stream

    for m in part.getElementsByClass(stream.Measure):
        for r in m.getElementsByClass(note.Rest):
            r.style.hideObjectOnPrint = False


def _one_line_under_chords(part) -> None:
    """A chord that changes under a held note makes music21 split the bar into two voices,
    the line and the chord symbols on rests (drawn under the line). Such a bar becomes one
    voice again: the chord symbols sit over the line where they fall (MusicXML's harmony
    ``<offset>``). Bars with two lines of notes keep their voices."""
    from music21 import harmony, note, stream

    for m in part.getElementsByClass(stream.Measure):
        voices = list(m.voices)
        lines = [v for v in voices if any(not isinstance(el, harmony.Harmony)
                                          for el in v.getElementsByClass(note.NotRest))]
        if len(voices) < 2 or len(lines) != 1:
            continue
        for v in voices:
            for el in list(v.elements):
                at = v.offset + v.elementOffset(el)
                v.remove(el)
                if v is lines[0] or isinstance(el, harmony.Harmony):
                    m.insert(at, el)
            m.remove(v)


def _trim_pickup(score, shift: Fraction) -> None:
    """Turn the padded first bar of every part into a pickup measure 0 (``paddingLeft``)."""
    from music21 import harmony, note, stream

    for part in score.parts:
        measures = list(part.getElementsByClass(stream.Measure))
        if not measures:
            continue
        first = measures[0]
        for el in list(first.recurse().getElementsByClass(note.Rest)):
            if el.getOffsetInHierarchy(first) < shift:
                el.activeSite.remove(el)
        # everything the padding pushed right: notes, chord symbols, and the marks set at a
        # note (dynamics), which would otherwise leave the short bar as long as the full one
        moved = [el for el in first.elements if not isinstance(el, stream.Voice)
                 and (el.offset >= shift or isinstance(el, (note.GeneralNote, harmony.Harmony)))]
        for el in moved:
            first.setElementOffset(el, max(Fraction(0), el.offset - shift))
        for v in first.voices:
            for el in list(v.notesAndRests):
                v.setElementOffset(el, el.offset - shift)
        first.paddingLeft = float(shift)
        for i, m in enumerate(measures):
            m.number = i
            if i:
                part.setElementOffset(m, m.offset - shift)
        part.coreElementsChanged()


_credits_lock = threading.Lock()
_beams_lock = threading.Lock()


@contextmanager
def _quiet_beams():
    """music21's beaming prints "beam: WARNING: Found a messed up beam pair ..." to stderr
    for some runs of 16ths, then beams them anyway; that module's warnings are silenced
    while we build and export a score (under a lock, and restored after)."""
    from music21 import beam

    with _beams_lock:
        beam.environLocal.warn = lambda *args, **kwargs: None
        try:
            yield
        finally:
            del beam.environLocal.warn  # the class's method again


@contextmanager
def _no_music21_credits():
    """music21 credits "Music21" as the composer of any score without contributors; its
    default lives in ``music21.defaults``, which is cleared only while we export (under a
    lock, and restored after)."""
    from music21 import defaults

    with _credits_lock:
        saved = defaults.author
        defaults.author = ""
        try:
            yield
        finally:
            defaults.author = saved


def write_notation(song: Song, path) -> None:
    """Write MusicXML (``.musicxml``/``.xml``) or compressed MusicXML (``.mxl``) atomically.

    The title is ``song.title``, else the file's stem."""
    path = Path(path)
    fmt = "mxl" if path.suffix.lower() == ".mxl" else "musicxml"
    score = song_to_music21(song, title=path.stem)
    with atomic_path(path) as tmp:
        try:
            with _no_music21_credits(), _quiet_beams():
                written = Path(score.write(fmt, fp=str(tmp)))
        except OSError:
            raise
        except Exception as e:  # music21 export errors
            raise DeepcomposeError(f"cannot write {path.name} as MusicXML: {e}") from None
        if written != tmp and written.exists():
            written.replace(tmp)
