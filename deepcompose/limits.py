"""Documented caps on what deepcompose reads, so that hostile files end fast.

Every reader checks these while it reads (not after) and refuses with a
one-line ``DeepcomposeError`` that names the limit. The numbers are far above
real melodies and songs (a long piano performance has ~20,000 notes and lasts
~3,000 beats) and low enough that a refused file costs well under a second and
a few hundred MiB at most.

===========================  ==========  ==============================================
limit                        value       what it bounds
===========================  ==========  ==============================================
``MAX_FILE_BYTES``           16 MiB      size of a MIDI or JSON file
``MAX_NOTATION_BYTES``       4 MiB       MusicXML / ABC text, and an .mxl's unpacked size
``MAX_NOTES``                100,000     notes in one song (all tracks)
``MAX_BEATS``                20,000      end of the last note, in beats (quarter notes)
``MAX_TRACKS``               64          tracks in one song (MIDI: chunks and tracks)
``MAX_EVENTS``               1,000,000   MIDI events of any kind in one file
``MAX_REQUEST_BYTES``        1 MiB       a JSON request body (server)
===========================  ==========  ==============================================
"""

from __future__ import annotations

from .errors import DeepcomposeError

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_NOTATION_BYTES = 4 * 1024 * 1024
MAX_NOTES = 100_000
MAX_BEATS = 20_000.0
MAX_TRACKS = 64
MAX_EVENTS = 1_000_000
MAX_REQUEST_BYTES = 1024 * 1024


def check_notes(count: int, where: str = "input") -> None:
    """Refuse more than ``MAX_NOTES`` notes."""
    if count > MAX_NOTES:
        raise DeepcomposeError(f"{where} has more than {MAX_NOTES:,} notes (the limit)")


def check_beats(beats: float, where: str = "input") -> None:
    """Refuse a note that ends past ``MAX_BEATS`` beats."""
    if not beats <= MAX_BEATS:  # also catches NaN
        raise DeepcomposeError(
            f"{where} is longer than {MAX_BEATS:,.0f} beats (the limit); "
            "is there a gap of hours between notes?"
        )


def check_tracks(count: int, where: str = "input") -> None:
    """Refuse more than ``MAX_TRACKS`` tracks."""
    if count > MAX_TRACKS:
        raise DeepcomposeError(f"{where} has more than {MAX_TRACKS} tracks (the limit)")


def check_file_size(size: int, where: str, limit: int = MAX_FILE_BYTES) -> None:
    """Refuse a file bigger than ``limit`` bytes before reading it."""
    if size > limit:
        raise DeepcomposeError(
            f"{where} is {size / 2**20:.1f} MiB; the limit is {limit / 2**20:.0f} MiB"
        )
