"""MIDI files <-> Song, in beats (ticks / ticks_per_beat), with limits checked while reading.

Reading uses a small Standard MIDI File parser of our own rather than mido's, so that
hostile files end fast: the note, event, track and length caps of ``limits.py`` are
checked event by event, and every malformed byte is a one-line ``DeepcomposeError``.
What it accepts:

- types 0 and 1 (type 2, sequential patterns, is refused); SMPTE time division is read
  as if at 120 bpm; any number of tempo and time-signature changes, in any track;
- one Song track per (MIDI track, channel, program at the note-on), like pretty_midi;
  channel 10 is drums;
- note-on with velocity 0 is a note-off; a note-off ends EVERY sounding note of its pitch
  on its channel, except notes switched on at that same tick, which keep sounding when
  older notes end (at one tick, offs count before ons: a retrigger, or the grace note
  music21 ends where the next note of its pitch starts); notes of zero length and notes
  never switched off are dropped. This is pretty_midi's rule, note for note;
- running status; sysex and unknown meta events are skipped; text that is not UTF-8
  (track names) is decoded as latin-1;
- trailing bytes after the last track are ignored, but a track chunk cut short (or one
  whose length runs past the end of the file) is an error;
- the name of a type-1 file's first track, when that track has no notes, is the title;
  marker events that are chord labels (``A:min7``, ``G/B``; ``N`` ends a chord) are
  ``Song.chords``, other markers are ignored;
- the pickup: given by the caller, or found where the file says so (``find_pickup``).

Writing (``midi_write``, re-exported here): type 1, a conductor track (title, tempo map,
time signatures, key signature, chord markers) and one track per Song track.

This module must not import music21 (compose start-up time).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from .. import keys, limits
from ..errors import DeepcomposeError
from ..song import Note, Song, Track
from .midi_write import DRUM_CHANNEL, MAJOR_BY_SF, midi_bytes, write  # noqa: F401 (public)

MAX_MARKERS = 100_000  # marker events kept (chord symbols, bar numbers)
# Names sequencers give a conductor track by default: no title.
GENERIC_NAMES = frozenset({"master track", "master", "conductor", "conductor track", "tempo",
                           "tempo track", "tempo map", "control track", "global", "untitled",
                           "track 1", "track 0", "sequence", "setup", "meta", "system"})
_BAR_ONE = re.compile(r"(?i)^(bar|measure|takt|m\.?)\s*1$")


def read_midi(path, pickup: float | None = None) -> Song:
    """Read a ``.mid`` file into a Song; DeepcomposeError on bad input or past a limit.

    ``pickup``: beats before the first full bar (``0 <= pickup <`` the first bar's length);
    None finds it where the file says so (see ``find_pickup``), else 0.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        limits.check_file_size(size, path.name)
        data = path.read_bytes()
    except FileNotFoundError:
        raise DeepcomposeError(f"file not found: {path}") from None
    except OSError as e:
        raise DeepcomposeError(f"cannot read {path}: {e.strerror or e}") from None
    return parse_midi(data, path.name, pickup=pickup)


def parse_midi(data: bytes, where: str = "MIDI data", pickup: float | None = None) -> Song:
    """Bytes of a Standard MIDI File -> Song (see the module docstring for the rules)."""
    limits.check_file_size(len(data), where)
    if pickup is not None:
        if isinstance(pickup, bool) or not isinstance(pickup, (int, float)) \
                or not math.isfinite(pickup):
            raise DeepcomposeError(f"pickup must be a number of beats, not {pickup!r}")
        pickup = float(pickup)
    try:
        return _Parser(data, where).song(pickup)
    except (IndexError, ValueError, OverflowError, ZeroDivisionError) as e:
        if isinstance(e, DeepcomposeError):
            raise
        raise DeepcomposeError(f"{where} is not a valid MIDI file ({e})") from None


class _Parser:
    """One pass over the chunks; note pairing and grouping per track."""

    def __init__(self, data: bytes, where: str):
        self.data, self.where = data, where
        self.notes_seen = 0
        self.events = 0
        self.tempos: list[tuple[int, int]] = []  # (tick, microseconds per beat)
        self.signatures: list[tuple[int, int, int]] = []  # (tick, num, den)
        self.key: tuple[int, str] | None = None
        self.key_tick = None
        self.markers: list[tuple[int, str]] = []  # (tick, text) of marker events
        self.names: list[str | None] = []  # name of each track chunk
        self.format = 1

    def error(self, what: str) -> DeepcomposeError:
        return DeepcomposeError(f"{self.where} is not a valid MIDI file: {what}")

    def song(self, pickup: float | None = None) -> Song:
        data = self.data
        if not data:
            raise DeepcomposeError(f"{self.where} is empty")
        if data[:4] == b"RIFF" and data[8:12] == b"RMID":  # RIFF-wrapped MIDI (.rmi)
            at = data.find(b"MThd")
            data = self.data = data[at:] if at >= 0 else b""
        if data[:4] != b"MThd":
            raise self.error("it does not start with an MThd header")
        if len(data) < 14:
            raise self.error("the header is truncated")
        hlen = int.from_bytes(data[4:8], "big")
        if hlen < 6 or 8 + hlen > len(data):
            raise self.error(f"impossible header length {hlen}")
        fmt = self.format = int.from_bytes(data[8:10], "big")
        ntrks = int.from_bytes(data[10:12], "big")
        division = int.from_bytes(data[12:14], "big")
        if fmt == 2:
            raise DeepcomposeError(
                f"{self.where}: MIDI type 2 (sequential patterns) is not supported")
        if fmt > 2:
            raise self.error(f"unknown MIDI type {fmt}")
        if division & 0x8000:  # SMPTE: frames per second x ticks per frame; read at 120 bpm
            fps, per_frame = 256 - (division >> 8), division & 0xFF
            self.tpb = fps * per_frame / 2.0
        else:
            self.tpb = float(division)
        if self.tpb <= 0:
            raise self.error("zero ticks per beat")
        self.max_tick = limits.MAX_BEATS * self.tpb

        tracks: list[Track] = []
        pos, found = 8 + hlen, 0
        while pos + 8 <= len(data):
            cid, clen = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "big")
            if cid != b"MTrk" and not cid.isalpha():
                break  # trailing garbage after the last chunk
            if pos + 8 + clen > len(data):
                if clen > len(data):
                    raise self.error(
                        f"impossible chunk length {clen} (the file has {len(data)} bytes)")
                raise self.error(f"track {found} is truncated ({clen} bytes declared, "
                                 f"{len(data) - pos - 8} present)")
            if cid == b"MTrk":
                found += 1
                limits.check_tracks(found, self.where)
                made = self.track(pos + 8, pos + 8 + clen, found - 1)
                if found == 1:
                    self.first_has_notes = bool(made)
                tracks += made
                limits.check_tracks(len(tracks), self.where)
            pos += 8 + clen
        if found == 0:
            raise self.error("it has no track chunks")
        if found < ntrks:
            raise self.error(f"the header promises {ntrks} tracks but only {found} are present "
                             "(truncated file?)")
        return self.assemble(tracks, pickup)

    def varlen(self, i: int, end: int) -> tuple[int, int]:
        value = 0
        for _ in range(4):
            if i >= end:
                raise self.error("a track ends in the middle of an event (truncated)")
            b = self.data[i]
            i += 1
            value = (value << 7) | (b & 0x7F)
            if b < 0x80:
                return value, i
        raise self.error("a variable-length number is longer than 4 bytes")

    def track(self, i: int, end: int, index: int) -> list[Track]:
        """Parse one MTrk chunk ``data[i:end]`` -> one Track per (channel, program)."""
        data = self.data
        tick, status = 0, 0
        programs = [0] * 16
        open_notes: dict[tuple[int, int], list] = {}  # (channel, pitch) -> [(tick, vel, prog)]
        groups: dict[tuple[int, int], list[Note]] = {}
        name = None
        while i < end:
            delta, i = self.varlen(i, end)
            tick += delta
            self.events += 1
            if self.events > limits.MAX_EVENTS:
                raise DeepcomposeError(f"{self.where} has more than {limits.MAX_EVENTS:,} "
                                       "MIDI events (the limit)")
            if i >= end:
                raise self.error("a track ends in the middle of an event (truncated)")
            if data[i] >= 0x80:
                first = data[i]
                i += 1
                if first < 0xF0:
                    status = first  # running status only for channel messages
            else:
                first = status
                if not status:
                    raise self.error("a data byte appears where a status byte is needed")
            if first < 0xF0:
                kind, ch = first & 0xF0, first & 0x0F
                n = 1 if kind in (0xC0, 0xD0) else 2
                if i + n > end:
                    raise self.error("a track ends in the middle of an event (truncated)")
                d1, d2 = data[i], (data[i + 1] if n == 2 else 0)
                i += n
                if (d1 | d2) & 0x80:
                    raise self.error("a data byte is out of range (corrupt event)")
                if kind == 0x90 and d2 > 0:
                    self.notes_seen += 1
                    limits.check_notes(self.notes_seen, self.where)
                    if tick > self.max_tick:
                        limits.check_beats(tick / self.tpb, self.where)
                    open_notes.setdefault((ch, d1), []).append((tick, d2, programs[ch]))
                    groups.setdefault((ch, programs[ch]), [])  # tracks in order of first note
                elif kind == 0x80 or kind == 0x90:
                    sounding = open_notes.pop((ch, d1), None)
                    if sounding is None:
                        pass  # a stray note-off
                    elif len(sounding) == 1:  # the common case, inline
                        start, vel, program = sounding[0]
                        if tick > start:  # else a zero-length note: dropped
                            if tick > self.max_tick:
                                limits.check_beats(tick / self.tpb, self.where)
                            groups.setdefault((ch, program), []).append(
                                Note(d1, start / self.tpb, tick / self.tpb, vel))
                    else:
                        self.note_off(sounding, tick, ch, d1, groups, open_notes)
                elif kind == 0xC0:
                    programs[ch] = d1
            elif first == 0xFF:
                if i >= end:
                    raise self.error("a track ends in the middle of an event (truncated)")
                mtype = data[i]
                length, i = self.varlen(i + 1, end)
                if i + length > end:
                    raise self.error("a meta event runs past the end of its track (truncated)")
                payload = data[i:i + length]
                i += length
                if mtype == 0x2F:
                    break
                self.meta(mtype, payload, tick)
                if mtype == 0x03 and name is None:
                    name = decode_text(payload)
            elif first in (0xF0, 0xF7):
                length, i = self.varlen(i, end)
                if i + length > end:
                    raise self.error("a sysex event runs past the end of its track (truncated)")
                i += length
            else:  # system common / real-time bytes (not valid in files, but seen)
                i += {0xF1: 1, 0xF2: 2, 0xF3: 1}.get(first, 0)
        self.names.append(name)
        return self.make_tracks(groups, name, index)

    def note_off(self, sounding: list, tick: int, ch: int, pitch: int, groups: dict,
                 open_notes: dict) -> None:
        """A note-off ends every sounding note of its pitch and channel (pretty_midi's rule).

        Notes switched on at this very tick stay on when the off ends older notes (at one
        tick, offs count before ons: a retrigger, or a grace note ending where the next note
        of its pitch begins); when it ends nothing else, they are dropped (zero length).
        """
        ended = [n for n in sounding if n[0] != tick]
        if not ended:
            return
        if tick > self.max_tick:
            limits.check_beats(tick / self.tpb, self.where)
        for start, vel, program in ended:
            groups.setdefault((ch, program), []).append(
                Note(pitch, start / self.tpb, tick / self.tpb, vel))
        if len(ended) < len(sounding):
            open_notes[(ch, pitch)] = [n for n in sounding if n[0] == tick]

    def meta(self, mtype: int, payload: bytes, tick: int) -> None:
        if tick > self.max_tick:
            return  # past the length cap: no note can use it
        if mtype == 0x51 and len(payload) == 3:
            mpqn = int.from_bytes(payload, "big")
            if mpqn > 0:
                self.tempos.append((tick, mpqn))
        elif mtype == 0x58 and len(payload) >= 2:
            num, dd = payload[0], payload[1]
            if num >= 1 and dd <= 6:
                self.signatures.append((tick, num, 2 ** dd))
        elif mtype == 0x06 and len(self.markers) < MAX_MARKERS:
            self.markers.append((tick, decode_text(payload)))
        elif mtype == 0x59 and len(payload) == 2:
            sf, mi = int.from_bytes(payload[:1], "big", signed=True), payload[1]
            if -7 <= sf <= 7 and mi in (0, 1) and (self.key_tick is None or tick < self.key_tick):
                tonic = MAJOR_BY_SF[sf] if mi == 0 else (MAJOR_BY_SF[sf] + 9) % 12
                self.key, self.key_tick = (tonic, "minor" if mi else "major"), tick

    @staticmethod
    def make_tracks(groups, name, index) -> list[Track]:
        tracks = []
        groups = {k: v for k, v in groups.items() if v}
        for (ch, program), notes in groups.items():
            label = name or ""
            if len(groups) > 1 or not label:
                base = label or ("Drums" if ch == DRUM_CHANNEL else f"Track {index + 1}")
                label = f"{base} ch{ch + 1}" if len(groups) > 1 else base
            notes.sort(key=lambda n: (n.start, n.pitch))
            tracks.append(Track(name=label, program=program, is_drum=ch == DRUM_CHANNEL,
                                notes=notes))
        return tracks

    def assemble(self, tracks: list[Track], pickup: float | None = None) -> Song:
        if self.tpb != int(self.tpb) or not 1 <= self.tpb <= 0x7FFF:
            tempos = [(0.0, 120.0)]  # SMPTE timing: tempo events do not apply
            tpb = 480
        else:
            # Stable sort by tick: of two tempo events at one tick, the later one wins.
            tempos = [(t / self.tpb, 60_000_000 / m)
                      for t, m in sorted(self.tempos, key=lambda e: e[0])]
            tpb = int(self.tpb)
        sigs = [(t / self.tpb, n, d) for t, n, d in sorted(self.signatures, key=lambda e: e[0])]
        key = keys.key_name(*self.key) if self.key else None
        marks = [(t / self.tpb, text) for t, text in sorted(self.markers, key=lambda m: m[0])]
        found, sigs = find_pickup(sigs, marks)
        title = None
        if self.format == 1 and len(self.names) > 1 and not self.first_has_notes:
            title = self.names[0] or None  # a type-1 file's first track names the sequence
            if title and title.strip().lower() in GENERIC_NAMES:
                title = None
        song = Song(tracks=tracks, tempos=tempos, time_signatures=sigs, key=key, pickup=0.0,
                    ticks_per_beat=tpb, title=title)
        song.check_limits(self.where)
        song.chords = chords_from_markers(marks, song.length_beats)
        song.pickup = found if pickup is None else check_pickup(song, pickup, self.where)
        return song


def find_pickup(sigs, marks) -> tuple[float, list]:
    """``(pickup beats, time signatures)`` where the file itself says there is a pickup.

    Conservative, never from the notes: (1) a first meter at beat 0 whose single bar is
    followed at its bar line by a longer meter (how notation programs export an
    anacrusis: 1/8 then 6/8) gives that short bar as the pickup, and the short meter is
    dropped; (2) a first time signature after beat 0 but less than one of its bars in
    (the first bar line falls there); (3) a marker "Bar 1" / "Measure 1" / "m. 1" less
    than one bar in. Otherwise 0 and the meters as they are.
    """
    eps = 1e-9
    if len(sigs) >= 2 and abs(sigs[0][0]) < eps:
        (_, n0, d0), (b1, n1, d1) = sigs[0], sigs[1]
        short, full = n0 * 4.0 / d0, n1 * 4.0 / d1
        if abs(b1 - short) < eps and short < full - eps:
            return short, [(0.0, n1, d1)] + list(sigs[2:])
    if sigs and eps < sigs[0][0] < sigs[0][1] * 4.0 / sigs[0][2] - eps and (
            _on_grid(sigs[0][0])):
        return sigs[0][0], sigs
    bar = sigs[0][1] * 4.0 / sigs[0][2] if sigs else 4.0
    for beat, text in marks:
        if _BAR_ONE.match(text):
            return (beat if eps < beat < bar - eps and _on_grid(beat) else 0.0), sigs
    return 0.0, sigs


def _on_grid(beat: float) -> bool:
    """On a 32nd-note or 8th-triplet grid (a bar line a sloppy tick off is no pickup)."""
    return any(abs(beat * g - round(beat * g)) < 1e-6 for g in (8, 6))


def check_pickup(song: Song, pickup: float, where: str) -> float:
    """An explicit pickup: ``0 <= pickup <`` the first bar's length, else DeepcomposeError."""
    _, num, den = song.time_signatures[0]
    bar = num * 4.0 / den
    if not 0 <= pickup < bar:
        raise DeepcomposeError(f"pickup {pickup:g} is out of range for {where}: it must be "
                               f"at least 0 and less than one bar of {num}/{den} ({bar:g} beats)")
    return pickup


def chords_from_markers(marks, length: float) -> list[tuple[float, float, str]]:
    """Markers that are chord labels -> ``(start, end, label)``; each chord ends at the next
    chord marker (``N`` ends one without starting another) or at the song's end. Other
    markers (sections, cues) are ignored; a lone letter A-G is read as a section name."""
    from ..chords import parse_chord

    out: list[list] = []
    for beat, text in marks:
        if not text or len(text) > 40 or (len(text) == 1 and text in "ABCDEFG"):
            continue
        try:
            root = parse_chord(text)[0]
        except DeepcomposeError:
            continue
        if out and out[-1][1] is None:
            out[-1][1] = beat
        if root is not None:
            out.append([beat, None, text])
    if out and out[-1][1] is None:
        out[-1][1] = max(length, out[-1][0])
    return [(s, e, label) for s, e, label in out if e > s]


def decode_text(payload: bytes) -> str:
    """Meta-event text: UTF-8 when it is valid, else latin-1 (never fails); trimmed."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = payload.decode("latin-1")
    return text.replace("\x00", "").strip()[:200]


# ---------------------------------------------------------------------- pretty_midi


def song_from_pretty_midi(pm) -> Song:
    """A ``pretty_midi.PrettyMIDI`` -> Song, times mapped to beats through its tick map."""
    res = pm.resolution

    def beat(t: float) -> float:
        return pm.time_to_tick(t) / res

    times, bpms = pm.get_tempo_changes()
    tempos = [(float(beat(t)), float(b)) for t, b in zip(times, bpms, strict=True)]
    sigs = [(float(beat(ts.time)), ts.numerator, ts.denominator)
            for ts in pm.time_signature_changes]
    key = None
    if pm.key_signature_changes:
        number = pm.key_signature_changes[0].key_number
        key = keys.key_name(number % 12, "minor" if number >= 12 else "major")
    tracks = []
    for inst in pm.instruments:
        notes = [Note(int(n.pitch), float(beat(n.start)), float(beat(n.end)), int(n.velocity))
                 for n in inst.notes]
        notes = [n for n in notes if n.end > n.start]
        notes.sort(key=lambda n: (n.start, n.pitch))
        tracks.append(Track(name=inst.name, program=int(inst.program),
                            is_drum=bool(inst.is_drum), notes=notes))
    song = Song(tracks=tracks, tempos=tempos, time_signatures=sigs, key=key, ticks_per_beat=res)
    song.check_limits("the PrettyMIDI object")
    return song


def read(path, pickup: float | None = None) -> Song:
    """``deepcompose.io`` reader entry point: a ``.mid``/``.midi`` file -> Song.

    ``pickup`` (beats, ``0 <= pickup <`` one bar) sets ``Song.pickup``; None finds it where
    the file says so, else 0. DeepcomposeError when out of range.
    """
    return read_midi(path, pickup=pickup)
