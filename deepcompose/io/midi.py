"""MIDI files <-> Song, in beats (ticks / ticks_per_beat), with limits checked while reading.

Reading uses a small Standard MIDI File parser of our own rather than mido's, so that
hostile files end fast: the note, event, track and length caps of ``limits.py`` are
checked event by event, and every malformed byte is a one-line ``DeepcomposeError``.
What it accepts:

- types 0 and 1 (type 2, sequential patterns, is refused); SMPTE time division is read
  as if at 120 bpm; any number of tempo and time-signature changes, in any track;
- one Song track per (MIDI track, channel, program at the note-on), like pretty_midi;
  channel 10 is drums;
- note-on with velocity 0 is a note-off; overlapping notes of one pitch on one channel
  pair first-in first-out; notes of zero length and notes never switched off are
  dropped (as pretty_midi does);
- running status; sysex and unknown meta events are skipped; text that is not UTF-8
  (track names) is decoded as latin-1;
- trailing bytes after the last track are ignored, but a track chunk cut short (or one
  whose length runs past the end of the file) is an error.

Writing: type 1, a conductor track (tempo map, time signatures, key signature) and one
track per Song track (name, program, notes); drums on channel 10, other tracks on the
remaining channels in turn. Times are ticks at ``song.ticks_per_beat`` (the source's
resolution), so MIDI -> Song -> MIDI keeps every note to the tick.

This module must not import music21 (compose start-up time).
"""

from __future__ import annotations

import io
from collections import deque
from pathlib import Path

from .. import keys, limits
from ..errors import DeepcomposeError
from ..song import Note, Song, Track

DRUM_CHANNEL = 9
# Key signatures as (sharps or -flats) -> tonic pitch class, and back to mido's key names.
_MAJOR_BY_SF = {sf: (7 * sf) % 12 for sf in range(-7, 8)}
_MIDO_MAJOR = {-7: "Cb", -6: "Gb", -5: "Db", -4: "Ab", -3: "Eb", -2: "Bb", -1: "F", 0: "C",
               1: "G", 2: "D", 3: "A", 4: "E", 5: "B", 6: "F#", 7: "C#"}
_MIDO_MINOR = {-7: "Abm", -6: "Ebm", -5: "Bbm", -4: "Fm", -3: "Cm", -2: "Gm", -1: "Dm", 0: "Am",
               1: "Em", 2: "Bm", 3: "F#m", 4: "C#m", 5: "G#m", 6: "D#m", 7: "A#m"}


def read_midi(path) -> Song:
    """Read a ``.mid`` file into a Song; DeepcomposeError on bad input or past a limit."""
    path = Path(path)
    try:
        size = path.stat().st_size
        limits.check_file_size(size, path.name)
        data = path.read_bytes()
    except FileNotFoundError:
        raise DeepcomposeError(f"file not found: {path}") from None
    except OSError as e:
        raise DeepcomposeError(f"cannot read {path}: {e.strerror or e}") from None
    return parse_midi(data, path.name)


def parse_midi(data: bytes, where: str = "MIDI data") -> Song:
    """Bytes of a Standard MIDI File -> Song (see the module docstring for the rules)."""
    limits.check_file_size(len(data), where)
    try:
        return _Parser(data, where).song()
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

    def error(self, what: str) -> DeepcomposeError:
        return DeepcomposeError(f"{self.where} is not a valid MIDI file: {what}")

    def song(self) -> Song:
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
        fmt = int.from_bytes(data[8:10], "big")
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
                tracks += self.track(pos + 8, pos + 8 + clen, found - 1)
                limits.check_tracks(len(tracks), self.where)
            pos += 8 + clen
        if found == 0:
            raise self.error("it has no track chunks")
        if found < ntrks:
            raise self.error(f"the header promises {ntrks} tracks but only {found} are present "
                             "(truncated file?)")
        return self.assemble(tracks)

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
        open_notes: dict[tuple[int, int], deque] = {}
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
                    open_notes.setdefault((ch, d1), deque()).append((tick, d2, programs[ch]))
                    groups.setdefault((ch, programs[ch]), [])  # tracks in order of first note
                elif kind == 0x80 or kind == 0x90:
                    queue = open_notes.get((ch, d1))
                    if queue:
                        start, vel, program = queue.popleft()
                        if tick > start:
                            if tick > self.max_tick:
                                limits.check_beats(tick / self.tpb, self.where)
                            groups.setdefault((ch, program), []).append(
                                Note(d1, start / self.tpb, tick / self.tpb, vel))
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
        return self.make_tracks(groups, name, index)

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
        elif mtype == 0x59 and len(payload) == 2:
            sf, mi = int.from_bytes(payload[:1], "big", signed=True), payload[1]
            if -7 <= sf <= 7 and mi in (0, 1) and (self.key_tick is None or tick < self.key_tick):
                tonic = _MAJOR_BY_SF[sf] if mi == 0 else (_MAJOR_BY_SF[sf] + 9) % 12
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

    def assemble(self, tracks: list[Track]) -> Song:
        if self.tpb != int(self.tpb) or not 1 <= self.tpb <= 0x7FFF:
            tempos = [(0.0, 120.0)]  # SMPTE timing: tempo events do not apply
            tpb = 480
        else:
            tempos = [(t / self.tpb, 60_000_000 / m) for t, m in sorted(self.tempos)]
            tpb = int(self.tpb)
        sigs = [(t / self.tpb, n, d) for t, n, d in sorted(self.signatures)]
        key = keys.key_name(*self.key) if self.key else None
        song = Song(tracks=tracks, tempos=tempos, time_signatures=sigs, key=key, pickup=0.0,
                    ticks_per_beat=tpb)
        song.check_limits(self.where)
        return song


def decode_text(payload: bytes) -> str:
    """Meta-event text: UTF-8 when it is valid, else latin-1 (never fails); trimmed."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = payload.decode("latin-1")
    return text.replace("\x00", "").strip()[:200]


# ---------------------------------------------------------------------- writing


def midi_bytes(song: Song) -> bytes:
    """Song -> bytes of a type-1 Standard MIDI File (see the module docstring).

    MIDI has no pickup: a song with ``pickup`` beats before its first full bar is written
    after ``bar - pickup`` beats of silence, so that its downbeats fall on MIDI bar lines
    (a DAW shows it in the right bars). Tempo and meter events move with the notes.
    """
    import mido

    tpb = song.ticks_per_beat if 1 <= song.ticks_per_beat <= 0x7FFF else 480
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    _, num, den = song.time_signatures[0]
    bar = num * 4.0 / den
    lead = (bar - song.pickup % bar) % bar  # beats of silence before a pickup

    def tick(beat: float) -> int:
        return max(0, int(round((beat + lead) * tpb)))

    conductor = [(tick(b) if b > 0 else 0, 0, mido.MetaMessage("set_tempo", tempo=_mpqn(bpm)))
                 for b, bpm in song.tempos]
    for b, num, den in song.time_signatures:
        conductor.append((tick(b) if b > 0 else 0, 0, mido.MetaMessage(
            "time_signature", numerator=min(num, 255), denominator=den)))
    if song.key:
        try:
            tonic, mode = keys.parse_key_name(song.key)
        except (ValueError, KeyError):
            tonic = None
        if tonic is not None:
            rel = tonic if mode == "major" else (tonic + 3) % 12
            sf = (7 * rel) % 12
            sf = sf - 12 if sf > 6 else sf
            name = (_MIDO_MAJOR if mode == "major" else _MIDO_MINOR)[sf]
            conductor.append((0, 0, mido.MetaMessage("key_signature", key=name)))
    mid.tracks.append(_track(conductor))

    melodic = [c for c in range(16) if c != DRUM_CHANNEL]
    k = 0
    for t in song.tracks:
        if t.is_drum:
            ch = DRUM_CHANNEL
        else:
            ch, k = melodic[k % len(melodic)], k + 1
        events = [(0, 0, mido.MetaMessage("track_name", name=t.name or ""))]
        if not t.is_drum:
            events.append((0, 1, mido.Message("program_change", channel=ch,
                                              program=int(t.program) & 0x7F)))
        for n in t.notes:
            s = tick(n.start)
            e = max(tick(n.end), s + 1)
            pitch = min(max(int(n.pitch), 0), 127)
            vel = min(max(int(n.velocity), 1), 127)
            # At one tick: offs before ons, so that repeated notes stay separate.
            events.append((s, 3, mido.Message("note_on", channel=ch, note=pitch, velocity=vel)))
            events.append((e, 2, mido.Message("note_off", channel=ch, note=pitch, velocity=0)))
        mid.tracks.append(_track(events))
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def _mpqn(bpm: float) -> int:
    """Microseconds per beat, clamped to what a MIDI tempo event can hold."""
    return min(max(int(round(60_000_000 / bpm)), 1), 0xFFFFFF)


def _track(events):
    """``(tick, order, message)`` -> a mido track with delta times and an end-of-track."""
    import mido

    track = mido.MidiTrack()
    now = 0
    for t, _order, msg in sorted(events, key=lambda e: (e[0], e[1])):
        msg.time = t - now  # messages are built for this track alone: no copy needed
        track.append(msg)
        now = t
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


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


def read(path) -> Song:
    """``deepcompose.io`` reader entry point: a ``.mid``/``.midi`` file -> Song."""
    return read_midi(path)


def write(song: Song, path) -> None:
    """``deepcompose.io`` writer entry point: Song -> type-1 ``.mid``, written atomically."""
    from ..atomic import atomic_write_bytes

    atomic_write_bytes(path, midi_bytes(song))
