"""Notation through music21: MusicXML / ABC in, MusicXML out (music21 is imported lazily).

Reading keeps, per part, every sounding note (tied notes merged, chords split into
notes, grace notes dropped), the metronome marks as the tempo map (120 bpm when there
are none), the time signatures of the first part, the first key signature
(``Song.key``, e.g. ``"G major"``) and the pickup: a first measure shorter than its bar
(music21's measure 0 / ``paddingLeft``) gives ``Song.pickup`` in beats, and beat 0 is
the first beat of that short measure.

An ABC file with several tunes gives its first tune.

The title comes from the metadata (``Song.title``), chord symbols (``<harmony>``) become
``Song.chords`` as Harte labels, each lasting until the next symbol (``N.C.`` ends one).

Writing is ``notation_write`` (re-exported here): a score a musician can read, with key
signature, spelling, clefs, part names, title and chord symbols.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from .. import keys, limits
from ..errors import DeepcomposeError
from ..song import Note, Song, Track
from .drum_staff import DRUM_READ
from .notation_write import (  # noqa: F401
    ADDED,
    KINDS,
    song_to_music21,
    write_notation,
)


def read_notation(path) -> Song:
    """Read ``.musicxml .xml .mxl .abc``; DeepcomposeError on bad input or past a limit."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise DeepcomposeError(f"cannot read {path}: {e.strerror or e}") from None
    limits.check_file_size(size, path.name, limits.MAX_NOTATION_BYTES)
    if size == 0:
        raise DeepcomposeError(f"{path.name} is empty")
    ext = path.suffix.lower()
    if ext == ".mxl":
        _check_mxl(path)

    import music21

    try:
        if ext == ".abc":
            text = path.read_bytes().decode("utf-8", errors="replace")
            obj = music21.converter.parseData(_first_abc_tune(text), format="abc")
        else:
            obj = music21.converter.parse(str(path), format="musicxml" if ext != ".mxl" else None)
    except DeepcomposeError:
        raise
    except Exception as e:  # music21 raises many kinds on malformed files
        kind = "ABC" if ext == ".abc" else "MusicXML"
        msg = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise DeepcomposeError(f"{path.name} is not valid {kind}: {msg}") from None
    programs = _file_programs(path) if ext != ".abc" else {}
    return song_from_music21(obj, where=path.name, programs=programs)


def _check_mxl(path: Path) -> None:
    """Refuse an .mxl that is not a zip or that unpacks past ``MAX_NOTATION_BYTES``."""
    try:
        with zipfile.ZipFile(path) as z:
            total = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise DeepcomposeError(f"{path.name} is not a valid .mxl (zip) file: {e}") from None
    limits.check_file_size(total, f"{path.name} (unpacked)", limits.MAX_NOTATION_BYTES)


def _file_programs(path: Path) -> dict[str, int]:
    """``<score-part id>`` -> the General MIDI program (0-based) its first
    ``<midi-instrument>`` gives (``<midi-program>``, 1-based in the file); ``{}`` when the
    part list cannot be read. music21 lets an instrument's name overrule this number (an
    "Electric Piano" named part becomes program 2 whatever the file says), so the reader
    takes the number from the file itself."""
    import io
    import xml.etree.ElementTree as ET

    try:
        if path.suffix.lower() == ".mxl":
            with zipfile.ZipFile(path) as z:
                data = z.read(_mxl_score_name(z))
        else:
            data = path.read_bytes()
        programs: dict[str, int] = {}
        for _, el in ET.iterparse(io.BytesIO(data), events=("end",)):
            if el.tag == "score-part":
                program = el.findtext("midi-instrument/midi-program", "").strip()
                if el.get("id") and program.isdigit():
                    programs[el.get("id")] = min(max(int(program) - 1, 0), 127)
            elif el.tag == "part-list":
                break  # the parts' music follows; nothing more to read here
        return programs
    except Exception:  # music21 read the file; without a readable part list keep its reading
        return {}


def _mxl_score_name(z: zipfile.ZipFile) -> str:
    """The score inside an .mxl: the container's first rootfile, else its first .xml."""
    import xml.etree.ElementTree as ET

    names = z.namelist()
    if "META-INF/container.xml" in names:
        root = ET.fromstring(z.read("META-INF/container.xml"))
        found = root.find(".//rootfile")
        if found is not None and found.get("full-path") in names:
            return found.get("full-path")
    return next(n for n in names if n.endswith((".xml", ".musicxml"))
                and not n.startswith("META-INF/"))


def _first_abc_tune(text: str) -> str:
    """The file header plus the first ``X:`` tune of an ABC text (all of it if no ``X:``)."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("X:")]
    if len(starts) <= 1:
        return text
    return "\n".join(lines[: starts[1]]) + "\n"


# ---------------------------------------------------------------------- music21 -> Song


def song_from_music21(obj, where: str = "the music21 stream", programs=None) -> Song:
    """A music21 Score / Part / Opus / Stream -> Song (one track per part).

    ``programs``: ``<score-part id>`` -> General MIDI program (0-based) that overrules the
    one of the part's music21 instrument (``read_notation`` gives the file's numbers)."""
    from music21 import stream

    if isinstance(obj, stream.Opus):
        scores = list(obj.scores)
        if not scores:
            raise DeepcomposeError(f"{where} has no tunes")
        obj = scores[0]
    if not isinstance(obj, stream.Stream):
        raise DeepcomposeError(f"{where} is not a music21 stream")
    parts = list(obj.parts) if isinstance(obj, stream.Score) else []
    if not parts:
        parts = [obj]
    limits.check_tracks(len(parts), where)

    flat_first = parts[0].flatten()
    tracks, total = [], 0
    for i, part in enumerate(parts):
        track = _part_to_track(part, i, (programs or {}).get(_part_id(part)))
        total += len(track.notes)
        limits.check_notes(total, where)
        tracks.append(track)
    song = Song(tracks=tracks, tempos=_tempos(obj), time_signatures=_time_signatures(flat_first),
                key=_key(flat_first), pickup=_pickup(parts[0]), title=_title(obj))
    song.check_limits(where)
    song.chords = _chords(parts, song.length_beats)
    return song


def _title(obj) -> str | None:
    """The score's title (else its movement name); music21's placeholder titles are none."""
    md = getattr(obj, "metadata", None)
    if md is None:
        return None
    for field in ("title", "movementName"):
        try:
            value = getattr(md, field)
        except Exception:  # music21 raises on some metadata shapes
            value = None
        value = str(value).strip() if value else ""
        if value and value != "Music21 Fragment":
            return value[:200]
    return None


def _chords(parts, length: float) -> list[tuple[float, float, str]]:
    """Chord symbols (``<harmony>``) of the first part that has any -> ``(start, end, Harte
    label)``; each lasts until the next symbol (``N.C.`` ends one) or the song's end."""
    from music21 import harmony

    for part in parts:
        marks = list(part.flatten().getElementsByClass(harmony.Harmony))
        if marks:
            break
    else:
        return []
    out: list[list] = []
    for h in sorted(marks, key=lambda h: float(h.offset)):
        start = float(h.offset)
        if out and out[-1][1] is None:
            out[-1][1] = start
        label = harte_label(h)
        if label is not None:
            out.append([start, None, label])
    if out and out[-1][1] is None:
        out[-1][1] = max(length, out[-1][0])
    return [(s, e, label) for s, e, label in out if e > s]


def harte_label(h) -> str | None:
    """A music21 ChordSymbol -> Harte label (``A:min7``, ``G:maj/3``); None for N.C. or a
    symbol without a root."""
    from music21 import harmony

    from ..chords import QUALITIES, harte, nearest_quality

    if isinstance(h, harmony.NoChord) or not isinstance(h, harmony.ChordSymbol):
        return None
    try:
        root = h.root()
        bass = h.bass()
        pcs = frozenset(p.pitchClass for p in h.pitches)
    except Exception:  # a symbol music21 cannot realize
        return None
    if root is None:
        return None
    r = root.pitchClass
    quality = _REVERSE_KINDS.get(h.chordKind)
    mods = [(m.modType, m.degree, m.interval.semitones if m.interval else 0)
            for m in h.getChordStepModifications()]
    added = next((q for q, (degree, alter) in ADDED.items()
                  if KINDS[q] == h.chordKind and mods == [("add", degree, alter)]), None)
    if added:
        quality = added
    elif quality is None or mods:
        intervals = frozenset((pc - r) % 12 for pc in pcs)
        quality = next((q for q, ivs in QUALITIES.items() if frozenset(ivs) == intervals),
                       None) or nearest_quality(r, pcs)
    return harte(r, quality, bass.pitchClass if bass is not None else None)


_REVERSE_KINDS = {kind: q for q, kind in KINDS.items() if q not in ADDED}


def _part_id(part) -> str | None:
    """The MusicXML ``<score-part id>`` music21 read a part from (its instrument keeps it)."""
    inst = part.getInstrument(returnDefault=False)
    return getattr(inst, "partId", None) or None


def _part_to_track(part, index: int, program: int | None = None) -> Track:
    """One part -> a Track; ``program`` (0-based) overrules its instrument's."""
    from music21 import chord, harmony, instrument, note

    inst = part.getInstrument(returnDefault=False)
    if program is None:
        program = inst.midiProgram if inst is not None and inst.midiProgram is not None else 0
    is_drum = inst is not None and (inst.midiChannel == 9 or (
        isinstance(inst, instrument.Percussion)
        and not isinstance(inst, instrument.PitchedPercussion)))
    name = part.partName or (inst.partName if inst is not None else None) or ""
    if not name and inst is not None and inst.instrumentName:
        name = inst.instrumentName
    notes = []
    for el in part.flatten().stripTies().notes:
        if isinstance(el, harmony.Harmony):
            continue  # chord symbols are Song.chords, not notes
        start, dur = float(el.offset), float(el.quarterLength)
        if dur <= 0:
            continue  # grace notes
        vel = el.volume.velocity if el.hasVolumeInformation() and el.volume.velocity else 90
        vel = int(min(max(vel, 1), 127))
        if isinstance(el, chord.Chord):
            pitches = [p.midi for p in el.pitches]
        elif isinstance(el, note.Note):
            pitches = [el.pitch.midi]
        else:  # unpitched percussion: a hit or a chord of hits
            pitches = [_drum_pitch(hit) for hit in getattr(el, "notes", None) or [el]]
        notes += [Note(int(p), start, start + dur, vel) for p in pitches if 0 <= p <= 127]
    notes.sort(key=lambda n: (n.start, n.pitch))
    return Track(name=name or f"Part {index + 1}", program=int(program), is_drum=bool(is_drum),
                 notes=notes)


def _drum_pitch(hit) -> int:
    """GM drum pitch of an unpitched hit from its staff position and notehead (the
    ``drum_staff.DRUM_DISPLAY`` read back); a snare (38) where the position says nothing."""
    shown = (f"{hit.displayStep}{hit.displayOctave}", hit.notehead)
    return DRUM_READ.get(shown, DRUM_READ.get((shown[0], "normal"), 38))


def _tempos(obj) -> list[tuple[float, float]]:
    from music21 import tempo

    out = []
    for mm in obj.flatten().getElementsByClass(tempo.MetronomeMark):
        bpm = mm.getQuarterBPM()
        if bpm and 1 <= bpm <= 1000:
            out.append((float(mm.offset), float(bpm)))
    return out or [(0.0, 120.0)]


def _time_signatures(flat) -> list[tuple[float, int, int]]:
    from music21 import meter

    out = []
    for ts in flat.getElementsByClass(meter.TimeSignature):
        num, den = int(ts.numerator), int(ts.denominator)
        if num >= 1 and den >= 1 and not den & (den - 1):
            out.append((float(ts.offset), num, den))
    return out or [(0.0, 4, 4)]


def _key(flat) -> str | None:
    from music21 import key

    ks = flat.getElementsByClass(key.KeySignature).first()
    if ks is None:
        return None
    if isinstance(ks, key.Key) and ks.mode in ("major", "minor"):
        return keys.key_name(ks.tonic.pitchClass, ks.mode)
    major = key.KeySignature(ks.sharps).asKey("major")
    return keys.key_name(major.tonic.pitchClass, "major")


def _pickup(part) -> float:
    """Beats in a first measure shorter than its bar (an anacrusis), else 0."""
    from music21 import stream

    measures = part.getElementsByClass(stream.Measure)
    if not measures:
        return 0.0
    m = measures[0]
    bar = float(m.barDuration.quarterLength)
    if m.paddingLeft and 0 < m.paddingLeft < bar:
        return bar - float(m.paddingLeft)
    length = float(m.duration.quarterLength)
    if m.number == 0 and 0 < length < bar:
        return length
    return 0.0


def read(path, pickup: float | None = None) -> Song:
    """``deepcompose.io`` reader entry point: MusicXML (``.musicxml .xml .mxl``) or ABC."""
    if pickup is not None:
        raise DeepcomposeError("pickup is for MIDI and JSON input; MusicXML and ABC files "
                               "carry their own")
    return read_notation(path)


def write(song: Song, path) -> None:
    """``deepcompose.io`` writer entry point: MusicXML or compressed MusicXML."""
    write_notation(song, path)
