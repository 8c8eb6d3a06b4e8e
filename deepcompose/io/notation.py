"""Notation through music21: MusicXML / ABC in, MusicXML out (music21 is imported lazily).

Reading keeps, per part, every sounding note (tied notes merged, chords split into
notes, grace notes dropped), the metronome marks as the tempo map (120 bpm when there
are none), the time signatures of the first part, the first key signature
(``Song.key``, e.g. ``"G major"``) and the pickup: a first measure shorter than its bar
(music21's measure 0 / ``paddingLeft``) gives ``Song.pickup`` in beats, and beat 0 is
the first beat of that short measure.

An ABC file with several tunes gives its first tune.

Writing makes one part per track, with the time signatures, key and tempo marks;
times round to 1/12 beat (16ths and 8th-note triplets); notes of one track that share
a span become a chord, and a track whose notes overlap otherwise is written in voices.
"""

from __future__ import annotations

import zipfile
from fractions import Fraction
from pathlib import Path

from .. import keys, limits
from ..atomic import atomic_path
from ..errors import DeepcomposeError
from ..song import Note, Song, Track

GRID = 12  # writing: offsets and durations round to 1/12 beat


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
    song = song_from_music21(obj, where=path.name)
    return song


def _check_mxl(path: Path) -> None:
    """Refuse an .mxl that is not a zip or that unpacks past ``MAX_NOTATION_BYTES``."""
    try:
        with zipfile.ZipFile(path) as z:
            total = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise DeepcomposeError(f"{path.name} is not a valid .mxl (zip) file: {e}") from None
    limits.check_file_size(total, f"{path.name} (unpacked)", limits.MAX_NOTATION_BYTES)


def _first_abc_tune(text: str) -> str:
    """The file header plus the first ``X:`` tune of an ABC text (all of it if no ``X:``)."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("X:")]
    if len(starts) <= 1:
        return text
    return "\n".join(lines[: starts[1]]) + "\n"


# ---------------------------------------------------------------------- music21 -> Song


def song_from_music21(obj, where: str = "the music21 stream") -> Song:
    """A music21 Score / Part / Opus / Stream -> Song (one track per part)."""
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
        track = _part_to_track(part, i)
        total += len(track.notes)
        limits.check_notes(total, where)
        tracks.append(track)
    song = Song(tracks=tracks, tempos=_tempos(obj), time_signatures=_time_signatures(flat_first),
                key=_key(flat_first), pickup=_pickup(parts[0]))
    song.check_limits(where)
    return song


def _part_to_track(part, index: int) -> Track:
    from music21 import chord, instrument, note

    inst = part.getInstrument(returnDefault=False)
    program = inst.midiProgram if inst is not None and inst.midiProgram is not None else 0
    is_drum = inst is not None and (
        isinstance(inst, instrument.UnpitchedPercussion) or inst.midiChannel == 9)
    name = part.partName or (inst.partName if inst is not None else None) or ""
    if not name and inst is not None and inst.instrumentName:
        name = inst.instrumentName
    notes = []
    for el in part.flatten().stripTies().notes:
        start, dur = float(el.offset), float(el.quarterLength)
        if dur <= 0:
            continue  # grace notes
        vel = el.volume.velocity if el.hasVolumeInformation() and el.volume.velocity else 90
        vel = int(min(max(vel, 1), 127))
        if isinstance(el, chord.Chord):
            pitches = [p.midi for p in el.pitches]
        elif isinstance(el, note.Note):
            pitches = [el.pitch.midi]
        else:
            continue  # unpitched percussion
        notes += [Note(int(p), start, start + dur, vel) for p in pitches if 0 <= p <= 127]
    notes.sort(key=lambda n: (n.start, n.pitch))
    return Track(name=name or f"Part {index + 1}", program=int(program), is_drum=bool(is_drum),
                 notes=notes)


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


# ---------------------------------------------------------------------- Song -> music21


def _q(beats: float) -> Fraction:
    return Fraction(round(beats * GRID), GRID)


def song_to_music21(song: Song):
    """Song -> music21 Score with measures (one part per track), ready for MusicXML."""
    from music21 import instrument, key, meter, stream, tempo

    _, num, den = song.time_signatures[0]
    bar = Fraction(num * 4, den)
    pickup = _q(song.pickup) if 0 < song.pickup < bar else Fraction(0)
    shift = bar - pickup if pickup else Fraction(0)  # pad the pickup to a full first bar
    score = stream.Score()
    for k, t in enumerate(song.tracks):
        part = stream.Part()
        part.partName = t.name or f"Track {k + 1}"
        try:
            inst = instrument.instrumentFromMidiProgram(t.program)
        except Exception:  # music21 has no class for some programs
            inst = instrument.Instrument()
            inst.midiProgram = t.program
        if t.is_drum:
            inst = instrument.UnpitchedPercussion()
            inst.midiChannel = 9
        inst.partName = part.partName
        part.insert(0, inst)
        for b, n, d in song.time_signatures:
            part.insert(_q(b) + shift if b > 0 else 0, meter.TimeSignature(f"{n}/{d}"))
        if song.key:
            tonic, mode = keys.parse_key_name(song.key)
            part.insert(0, key.Key(keys.PC_NAMES[tonic], mode))
        if k == 0:
            for b, bpm in song.tempos:
                mark = tempo.MetronomeMark(number=round(bpm, 3))
                part.insert(_q(b) + shift if b > 0 else 0, mark)
        lines = _lines(t.notes)
        if len(lines) == 1:
            _insert_line(part, lines[0], shift)
        else:  # overlapping notes: one music21 Voice per line
            for line in lines:
                voice = stream.Voice()
                _insert_line(voice, line, shift)
                part.insert(0, voice)
        score.insert(0, part)
    score = score.makeNotation()
    if shift:
        _trim_pickup(score, shift)
    return score


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


def _insert_line(container, line, shift: Fraction) -> None:
    from music21 import chord, note

    for s, e, group in line:
        pitches = sorted({n.pitch for n in group})
        el = note.Note(pitches[0]) if len(pitches) == 1 else chord.Chord(pitches)
        el.quarterLength = e - s
        el.volume.velocity = group[0].velocity
        container.insert(s + shift, el)


def _trim_pickup(score, shift: Fraction) -> None:
    """Turn the padded first bar of every part into a pickup measure 0 (``paddingLeft``)."""
    from music21 import note, stream

    for part in score.parts:
        measures = list(part.getElementsByClass(stream.Measure))
        if not measures:
            continue
        first = measures[0]
        for el in list(first.recurse().getElementsByClass(note.Rest)):
            if el.getOffsetInHierarchy(first) < shift:
                el.activeSite.remove(el)
        for el in list(first.notesAndRests):
            first.setElementOffset(el, el.offset - shift)
        for v in first.voices:
            for el in list(v.notesAndRests):
                v.setElementOffset(el, el.offset - shift)
        first.paddingLeft = float(shift)
        for i, m in enumerate(measures):
            m.number = i
            if i:
                part.setElementOffset(m, m.offset - shift)
        part.coreElementsChanged()


def write_notation(song: Song, path) -> None:
    """Write MusicXML (``.musicxml``/``.xml``) or compressed MusicXML (``.mxl``) atomically."""
    path = Path(path)
    fmt = "mxl" if path.suffix.lower() == ".mxl" else "musicxml"
    score = song_to_music21(song)
    with atomic_path(path) as tmp:
        try:
            written = Path(score.write(fmt, fp=str(tmp)))
        except OSError:
            raise
        except Exception as e:  # music21 export errors
            raise DeepcomposeError(f"cannot write {path.name} as MusicXML: {e}") from None
        if written != tmp and written.exists():
            written.replace(tmp)


def read(path) -> Song:
    """``deepcompose.io`` reader entry point: MusicXML (``.musicxml .xml .mxl``) or ABC."""
    return read_notation(path)


def write(song: Song, path) -> None:
    """``deepcompose.io`` writer entry point: MusicXML or compressed MusicXML."""
    write_notation(song, path)
