"""Build the odd-file corpus in tests/data/ (run: python tests/data/make_corpus.py).

Every file is written byte by byte by the small SMF builder below (not by deepcompose's
own writer), so the tests check the reader against files it did not make. ``CASES``
maps each file name to how it is built and what deepcompose must do with it; the tests
import this module and also check that the committed files match it. See README.md.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TPB = 96  # ticks per beat of every file here

# The melody every valid file carries: (pitch, start_beat, end_beat), velocity 80.
MELODY = [(67, 0.0, 1.0), (69, 1.0, 2.0), (71, 2.0, 3.0), (72, 3.0, 4.0),
          (74, 4.0, 6.0), (72, 6.0, 7.0), (71, 7.0, 7.5), (69, 7.5, 8.0)]
BASS = [(43, 0.0, 4.0), (48, 4.0, 8.0)]
DRUMS = [(36, float(b), b + 0.25) for b in range(8)]


# ---------------------------------------------------------------------- SMF builder


def vlq(n: int) -> bytes:
    """A variable-length quantity."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def header(fmt: int, ntracks: int, tpb: int = TPB) -> bytes:
    return b"MThd" + (6).to_bytes(4, "big") + bytes([0, fmt]) + ntracks.to_bytes(2, "big") \
        + tpb.to_bytes(2, "big")


def chunk(events, end_of_track: bool = True, length: int | None = None) -> bytes:
    """``events``: ``(tick, order, raw bytes)``; sorted and delta-encoded into an MTrk."""
    body, now = b"", 0
    for tick, _order, raw in sorted(events, key=lambda e: (e[0], e[1])):
        body += vlq(tick - now) + raw
        now = tick
    if end_of_track:
        body += b"\x00\xff\x2f\x00"
    size = len(body) if length is None else length
    return b"MTrk" + size.to_bytes(4, "big") + body


def meta(kind: int, payload: bytes) -> bytes:
    return bytes([0xFF, kind]) + vlq(len(payload)) + payload


def tempo(bpm: float) -> bytes:
    return meta(0x51, round(60_000_000 / bpm).to_bytes(3, "big"))


def time_sig(num: int, den: int) -> bytes:
    return meta(0x58, bytes([num, den.bit_length() - 1, 24, 8]))


def notes_events(notes, channel=0, velocity=80, off_as_zero_velocity=False):
    """Note list in beats -> ``(tick, order, bytes)`` on/off events (offs first at a tick,
    except a zero-length note's own off, which follows its on)."""
    out = []
    for pitch, start, end in notes:
        out.append((round(start * TPB), 1, bytes([0x90 | channel, pitch, velocity])))
        off = bytes([0x90 | channel, pitch, 0]) if off_as_zero_velocity \
            else bytes([0x80 | channel, pitch, 64])
        out.append((round(end * TPB), 2 if end == start else 0, off))
    return out


def conductor(extra=()):
    return chunk([(0, 0, tempo(100)), (0, 0, time_sig(4, 4)), *extra])


def program(channel: int, prog: int):
    return (0, 0, bytes([0xC0 | channel, prog]))


def simple(notes_track_events, fmt=1):
    return header(fmt, 2) + conductor() + chunk(notes_track_events)


# ---------------------------------------------------------------------- the files


def velocity0_noteoff():
    return simple([(0, 0, meta(0x03, b"Melody")),
                   *notes_events(MELODY, off_as_zero_velocity=True)])


def type0():
    events = [(0, 0, tempo(100)), (0, 0, time_sig(4, 4)), (0, 0, meta(0x03, b"Song")),
              program(0, 73), program(1, 32),
              *notes_events(MELODY, channel=0), *notes_events(BASS, channel=1),
              *notes_events(DRUMS, channel=9)]
    return header(0, 1) + chunk(events)


def melody_channel4():
    return simple([(0, 0, meta(0x03, b"Flute")), program(3, 73),
                   *notes_events(MELODY, channel=3)])


def overlapping_same_pitch():
    # Two notes of pitch 60 overlap: on at 8 and 9, off at 10 and 11. The first off ends
    # both (pretty_midi's rule and what a synth does): [8, 10) and [9, 10).
    notes = MELODY + [(60, 8.0, 10.0), (60, 9.0, 11.0)]
    return simple([(0, 0, meta(0x03, b"Melody")), *notes_events(notes)])


def tempo_changes_held_notes():
    changes = [(round(b * TPB), 0, tempo(bpm)) for b, bpm in
               ((0.5, 60), (1.5, 140), (4.5, 75.5), (5.25, 200), (7.75, 90))]
    return header(1, 2) + conductor(changes) + chunk(
        [(0, 0, meta(0x03, b"Melody")), *notes_events(MELODY)])


def extreme_pitches():
    notes = MELODY + [(127, 8.0, 9.0), (0, 9.0, 10.0)]
    return simple([(0, 0, meta(0x03, b"Melody")), *notes_events(notes)])


def long_256_bars():
    notes = [(60 + (b % 12), float(b), b + 1.0) for b in range(256 * 4)]
    return simple([(0, 0, meta(0x03, b"Melody")), *notes_events(notes)])


def non_utf8_meta():
    events = [(0, 0, meta(0x03, b"M\xe9lodie \xff\xfe")), (0, 0, meta(0x01, b"\x81\x8d\x90 text")),
              (0, 0, meta(0x02, b"\xa9 1999 Caf\xe9")), (0, 0, meta(0x05, b"\xc3\x28la")),
              *notes_events(MELODY)]
    return simple(events)


def running_status_no_end_of_track():
    # Note-ons and offs (velocity 0) under one running status byte; no end-of-track event.
    body = b""
    now = 0
    first = True
    for pitch, start, end in MELODY:
        for tick, vel in ((round(start * TPB), 80), (round(end * TPB), 0)):
            body += vlq(tick - now) + (b"\x90" if first else b"") + bytes([pitch, vel])
            first, now = False, tick
    return header(1, 2) + conductor() + b"MTrk" + len(body).to_bytes(4, "big") + body


# Broken or abusive files.

def empty():
    return b""


def random_bytes():
    return random.Random(1234).randbytes(512)


def truncated_header():
    return b"MThd\x00\x00\x00\x06\x00\x01"


def truncated_track():
    return velocity0_noteoff()[:-20]


def impossible_chunk_length():
    good = chunk(notes_events(MELODY))
    return header(1, 1) + b"MTrk" + (0xFFFFFFF0).to_bytes(4, "big") + good[8:]


def no_notes():
    return header(1, 1) + conductor()


def drums_only():
    return simple(notes_events(DRUMS, channel=9))


def zero_length_notes_only():
    return simple(notes_events([(p, s, s) for p, s, _ in MELODY]))


def gap_of_days():
    # Two notes, the second three days (at 100 bpm) after the first.
    far = 3 * 24 * 3600 * 100 // 60 * TPB
    return simple(notes_events([(60, 0.0, 1.0)]) + [(far, 1, bytes([0x90, 62, 80])),
                                                    (far + TPB, 0, bytes([0x80, 62, 0]))])


def type2():
    return header(2, 1) + chunk(notes_events(MELODY))


def many_notes(n: int = 200_000) -> bytes:
    """``n`` 64th notes in one track (too many: generated by the tests, not committed)."""
    body = bytearray(b"\x00\x90")
    step = TPB // 16
    for i in range(n):
        pitch = 60 + i % 12
        body += bytes([pitch, 80]) + vlq(step) + bytes([pitch, 0]) + b"\x00"
    body += b"\xff\x2f\x00"
    return header(1, 1) + b"MTrk" + len(body).to_bytes(4, "big") + bytes(body)


# name -> (builder, expectation). Valid: ("melody", notes the melody track must hold).
# Broken at read time: ("read_error", words in the message). Readable but no melody:
# ("melody_error", words in melody_index's message).
CASES = {
    "velocity0_noteoff.mid": (velocity0_noteoff, ("melody", MELODY)),
    "type0.mid": (type0, ("melody", MELODY)),
    "melody_channel4.mid": (melody_channel4, ("melody", MELODY)),
    "overlapping_same_pitch.mid": (overlapping_same_pitch,
                                   ("melody", MELODY + [(60, 8.0, 10.0), (60, 9.0, 10.0)])),
    "tempo_changes_held_notes.mid": (tempo_changes_held_notes, ("melody", MELODY)),
    "extreme_pitches.mid": (extreme_pitches,
                            ("melody", MELODY + [(127, 8.0, 9.0), (0, 9.0, 10.0)])),
    "long_256_bars.mid": (long_256_bars,
                          ("melody", [(60 + b % 12, float(b), b + 1.0) for b in range(1024)])),
    "non_utf8_meta.mid": (non_utf8_meta, ("melody", MELODY)),
    "running_status_no_eot.mid": (running_status_no_end_of_track, ("melody", MELODY)),
    "empty.mid": (empty, ("read_error", "empty")),
    "random.mid": (random_bytes, ("read_error", "not a valid MIDI file")),
    "truncated_header.mid": (truncated_header, ("read_error", "truncated")),
    "truncated_track.mid": (truncated_track, ("read_error", "truncated")),
    "impossible_chunk_length.mid": (impossible_chunk_length,
                                    ("read_error", "impossible chunk length")),
    "type2.mid": (type2, ("read_error", "type 2")),
    "gap_of_days.mid": (gap_of_days, ("read_error", "longer than")),
    "no_notes.mid": (no_notes, ("melody_error", "no notes")),
    "drums_only.mid": (drums_only, ("melody_error", "drum")),
    "zero_length_notes.mid": (zero_length_notes_only, ("melody_error", "zero length")),
}


def main(argv=None) -> int:
    for name, (build, _) in CASES.items():
        (HERE / name).write_bytes(build())
    print(f"wrote {len(CASES)} files to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
