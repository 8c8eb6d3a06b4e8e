"""The tracks of a Song as the four voices S, A, T, B: a voice grid ``[4, steps]``.

Each track gets a role by its name, its General MIDI program, or its mean pitch
(``assign_roles``); ``song_to_grid`` / ``tracks_to_grid`` write the roles' lines on the 16th
grid inside ``PITCH_RANGE``.
"""

from __future__ import annotations

import numpy as np

from ..errors import DeepcomposeError
from ..representations.voices import REST
from .pitch_range import fold_into_range

ROLES = "SATB"
# Default role of a track, first by name (case-insensitive substring), then by General
# MIDI program (0-based); tracks matched by neither fill the roles still empty by
# duration-weighted mean pitch: the highest becomes S, the lowest B, then A and T.
ROLE_WORDS = (
    ("S", ("soprano", "melody", "vocal", "voice", "lead", "tune")),
    ("A", ("alto",)),
    ("T", ("tenor",)),
    ("B", ("bass", "continuo", "basso")),
)
ROLE_PROGRAMS = {
    "S": (40, 56, 64, 68, 72, 73, 74, 75, 79, 53, 54),  # violin, trumpet, soprano sax, oboe,
    # piccolo, flute, recorder, pan flute, ocarina, voice oohs, synth voice
    "A": (41, 65, 69, 71),  # viola, alto sax, english horn, clarinet
    "T": (60, 66, 67),  # french horn, tenor and baritone sax
    "B": tuple(range(32, 40)) + (42, 43, 57, 58, 70),  # basses, cello, contrabass,
    # trombone, tuba, bassoon
}
_PROGRAM_ROLE = {p: r for r, ps in ROLE_PROGRAMS.items() for p in ps}


def assign_roles(song, roles: dict | None = None) -> dict[str, list[int]]:
    """Track indices per role ``{"S": [...], "A": [...], "T": [...], "B": [...]}``.

    ``roles`` overrides the defaults: keys are track names (case-insensitive) or General
    MIDI programs (int), values a role letter or None (leave the track out). Drum tracks
    and tracks without notes never get a role.
    """
    roles = {k.lower() if isinstance(k, str) else k: v for k, v in (roles or {}).items()}
    out: dict[str, list[int]] = {r: [] for r in ROLES}
    left = []
    for i, t in enumerate(song.tracks):
        if t.is_drum or not t.notes:
            continue
        name = t.name.lower()
        if name in roles or t.program in roles:
            role = roles[name] if name in roles else roles[t.program]
            if role is not None:
                if role not in ROLES:
                    raise DeepcomposeError(f"unknown role {role!r}; use one of S A T B")
                out[role].append(i)
            continue
        role = next((r for r, words in ROLE_WORDS if any(w in name for w in words)), None)
        role = role or _PROGRAM_ROLE.get(t.program)
        if role is not None:
            out[role].append(i)
        else:
            left.append(i)
    left.sort(key=lambda i: -_mean_pitch(song.tracks[i]))
    for role in ("S", "B", "A", "T"):
        if not out[role] and left:
            out[role].append(left.pop(0) if role != "B" else left.pop())
    return out


def _mean_pitch(track) -> float:
    durs = np.array([n.end - n.start for n in track.notes])
    return float(np.dot([n.pitch for n in track.notes], durs) / durs.sum())


def song_to_grid(song, roles: dict | None = None) -> np.ndarray | None:
    """A Song -> int16 grid ``[4, steps]`` on the 16th grid (S, A, T, B), or None without S.

    S, A and T keep the top line of their tracks, B the bottom line; pitches outside
    ``PITCH_RANGE`` move by octaves into it.
    """
    return tracks_to_grid(song, assign_roles(song, roles))


def tracks_to_grid(song, assigned: dict[str, list[int]]) -> np.ndarray | None:
    """``song`` with track indices per role (see ``assign_roles``) -> grid ``[4, steps]``."""
    from ..decoding import snap
    from ..representations.voices import STEPS_PER_BEAT, empty_grid, notes_to_row

    if not assigned.get("S"):
        return None
    steps = int(np.ceil(song.length_beats * STEPS_PER_BEAT - 1e-9))
    grid = empty_grid(4, steps)
    for v, role in enumerate(ROLES):
        notes = []
        for i in assigned.get(role, []):
            for n in song.tracks[i].notes:
                s, e = snap(n.start, n.end)
                notes.append((n.pitch if role != "B" else 127 - n.pitch, s, e))
        row = notes_to_row(notes, steps)
        if role == "B":
            row[row != REST] = 127 - row[row != REST]
        grid[v] = row
    return fold_into_range(grid)
