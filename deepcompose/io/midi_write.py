"""Song -> type-1 Standard MIDI File (the writer half of ``deepcompose.io.midi``).

A conductor track (title as the sequence name, tempo map, time signatures, key signature,
chord symbols as marker events) and one track per Song track (name, program, notes); drums
on channel 10, other tracks on the remaining channels in turn. Times are ticks at
``song.ticks_per_beat`` (the source's resolution), so MIDI -> Song -> MIDI keeps every note
to the tick. Text is written as UTF-8 (the reader tries UTF-8 first).

This module must not import music21 (compose start-up time).
"""

from __future__ import annotations

import io

from .. import keys
from ..errors import DeepcomposeError
from ..song import Song

DRUM_CHANNEL = 9
# Key signatures as (sharps or -flats) -> tonic pitch class, and back to mido's key names.
MAJOR_BY_SF = {sf: (7 * sf) % 12 for sf in range(-7, 8)}
_MIDO_MAJOR = {-7: "Cb", -6: "Gb", -5: "Db", -4: "Ab", -3: "Eb", -2: "Bb", -1: "F", 0: "C",
               1: "G", 2: "D", 3: "A", 4: "E", 5: "B", 6: "F#", 7: "C#"}
_MIDO_MINOR = {-7: "Abm", -6: "Ebm", -5: "Bbm", -4: "Fm", -3: "Cm", -2: "Gm", -1: "Dm", 0: "Am",
               1: "Em", 2: "Bm", 3: "F#m", 4: "C#m", 5: "G#m", 6: "D#m", 7: "A#m"}


def _pickup_bar(pickup: float) -> tuple[int, int] | None:
    """The time signature of a bar ``pickup`` beats long (smallest denominator), or None."""
    if pickup <= 1e-9:
        return None
    for den in (4, 8, 16, 32):
        num = pickup * den / 4
        if abs(num - round(num)) < 1e-6 and 1 <= round(num) <= 255:
            return int(round(num)), den
    return None


def lead_beats(song: Song) -> float:
    """Beats of silence ``midi_bytes`` writes before the song: 0 unless the pickup needs it."""
    _, num, den = song.time_signatures[0]
    bar = num * 4.0 / den
    return 0.0 if _pickup_bar(song.pickup % bar) else (bar - song.pickup % bar) % bar


def midi_bytes(song: Song) -> bytes:
    """Song -> bytes of a type-1 Standard MIDI File (see the module docstring).

    MIDI has no pickup: a song with ``pickup`` beats before its first full bar gets a short
    first bar (e.g. 1/8 before 6/8), so that its downbeats fall on MIDI bar lines and every
    note keeps its time; ``read`` detects this and gives the pickup back. A pickup that no
    time signature can hold (a bar of num/den with den <= 32) is written after ``bar -
    pickup`` beats of silence instead; tempo and meter events then move with the notes.
    """
    import mido

    tpb = song.ticks_per_beat if 1 <= song.ticks_per_beat <= 0x7FFF else 480
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb, charset="utf-8")  # the reader's first try
    _, num, den = song.time_signatures[0]
    bar = num * 4.0 / den
    short = _pickup_bar(song.pickup % bar)  # (num, den) of a short first bar, or None
    lead = lead_beats(song)  # beats of silence before a pickup no short bar can hold

    def tick(beat: float) -> int:
        return max(0, int(round((beat + lead) * tpb)))

    conductor = [(tick(b) if b > 0 else 0, 0, mido.MetaMessage("set_tempo", tempo=_mpqn(bpm)))
                 for b, bpm in song.tempos]
    signatures = list(song.time_signatures)
    if short:
        first = song.pickup % bar
        signatures = [(0.0, *short), (first, *signatures[0][1:])] + [
            s for s in signatures[1:] if s[0] > first]
    for b, num, den in signatures:
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
    if song.title:
        conductor.append((0, -1, mido.MetaMessage("track_name", name=_meta_text(song.title))))
    for b, text in chord_markers(song.chords, song.length_beats):
        conductor.append((tick(b), 1, mido.MetaMessage("marker", text=_meta_text(text))))
    mid.tracks.append(_track(conductor))

    melodic = [c for c in range(16) if c != DRUM_CHANNEL]
    k = 0
    for t in song.tracks:
        if t.is_drum:
            ch = DRUM_CHANNEL
        else:
            ch, k = melodic[k % len(melodic)], k + 1
        events = [(0, 0, mido.MetaMessage("track_name", name=_meta_text(t.name or "")))]
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


def chord_markers(chords, length: float) -> list[tuple[float, str]]:
    """``song.chords`` -> ``(beat, text)`` markers: each label at its start, and ``N`` where
    a chord ends before the next one starts (or before the song's end), so that reading the
    markers back gives the same spans. A lone letter is written ``C:maj`` (a marker "C" is
    read as a section name); labels that are no chords are left out."""
    from ..chords import parse_chord

    out: list[tuple[float, str]] = []
    spans = sorted((float(s), float(e), str(label).strip()) for s, e, label in chords
                   if e > s >= 0)
    for i, (start, end, label) in enumerate(spans):
        try:
            root = parse_chord(label)[0]
        except DeepcomposeError:
            continue
        if root is None:
            continue
        if len(label) == 1:
            label += ":maj"
        if out and out[-1] == (start, "N"):
            out.pop()
        out.append((start, label))
        following = spans[i + 1][0] if i + 1 < len(spans) else length
        if end < following - 1e-9 or (i + 1 == len(spans) and abs(end - length) > 1e-9):
            out.append((end, "N"))
    return out


def _meta_text(text: str) -> str:
    """Text for a meta event (written as UTF-8): no NULs, at most 200 characters."""
    return str(text).replace("\x00", "")[:200]


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


def write(song: Song, path) -> None:
    """``deepcompose.io`` writer entry point: Song -> type-1 ``.mid``, written atomically."""
    from ..atomic import atomic_write_bytes

    atomic_write_bytes(path, midi_bytes(song))
