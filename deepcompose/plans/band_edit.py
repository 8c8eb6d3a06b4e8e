"""Editing a band or quartet result: ``--task infill --bars A:B`` and ``--parts NAME,...``.

A previous result (JSON, or MIDI / MusicXML that deepcompose wrote: the track names carry
the parts, markers or chord symbols the chords) comes back in. Its parts are recognised by
the track names of the family's ``edit_parts`` (``Bass``, ``Keys``, ``Counter``, ``Drums``;
``Violin II``, ``Viola``, ``Cello``), case-insensitively; a drum track stands for
``drums`` when none is named so.

How an edit is made (docs/DESIGN.md, "Editing a result"): the whole arrangement is played
again by the family under the untouched melody, on the song's recorded chords
(``Song.chords``; none recorded: the model's own), at a seed derived from ``--seed``
(``edit_seed``), and only the edited parts' notes inside the hole are taken from it:

- the hole is bars A:B (``Song.bar_map``) for infill, the whole song for ``--parts``
  alone; every note that starts outside it is kept as it was, byte for byte, and every
  track that is not edited is kept whole;
- a new note starts inside the hole, at or after the end of any kept note of its track
  held into the hole, and is cut at the hole's end (the kept notes after it start there);
- with the family's ``lowest`` part (the quartet's cello), a new note of another part
  that would sound under it goes up by octaves, a new note of that part that would sound
  above another part goes down, within the pitches the family played for that part (in
  the input or the new take); a new note of another part sounds only while the lowest
  part does, and a new note of the lowest part holds on through a rest while the others
  sound (``HOLD`` beats at most);
- a take counts when at most ``MAX_SAME`` of its new notes repeat old ones, its note
  density in the hole is within ``DENSITY_TOL`` of the old notes' around it, and at least
  ``MIN_TONES`` of its pitched on-beat notes are on the recorded chords' tones; up to
  ``max(EDIT_TRIES, --candidates)`` takes at successive edit seeds, the first that counts
  (else the closest) is kept. The same seed gives the same edit.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import astuple, replace

from ..errors import DeepcomposeError
from ..metrics.edit import chord_tone_counts, density_ratio, inside, same_share
from ..song import Note, Song

EDIT_TRIES = 4
MAX_SAME = 0.5  # most share of a take's new notes that may equal old ones
DENSITY_TOL = 0.3  # relative difference in notes per beat allowed against the context
EPS = 1e-6  # beats
HOLD = 4.0  # beats the lowest part holds on through a rest under the others (gan_strings)
MIN_TONES = 0.8  # least share of a take's on-beat pitched notes on the recorded chords


def edit_seed(seed: int, take: int) -> int:
    """The seed of take ``take`` of an edit at ``--seed seed`` (48 bits; never the seed a
    first arrangement at ``seed`` used, so a result edited at its own seed changes)."""
    digest = hashlib.sha256(f"deepcompose-edit:{int(seed)}:{int(take)}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def recognised(song: Song, family, melody_index: int) -> tuple[dict[str, int], int]:
    """``({role: track index}, melody index)``: the song's tracks that are ``family``'s
    parts (by name; the first drum track for ``drums`` when none is named so), and the
    melody (the first other pitched track with notes when the chosen one is a part)."""
    names = {name.strip().lower(): role for role, name in family.edit_parts}
    roles: dict[str, int] = {}
    for i, t in enumerate(song.tracks):
        role = names.get((t.name or "").strip().lower())
        if role is not None and role not in roles:
            roles[role] = i
    if "drums" in names.values() and "drums" not in roles:
        drum = next((i for i, t in enumerate(song.tracks) if t.is_drum and t.notes), None)
        if drum is not None:
            roles["drums"] = drum
    if melody_index in roles.values():
        others = [i for i, t in enumerate(song.tracks)
                  if i not in roles.values() and not t.is_drum and t.notes]
        if not others:
            raise DeepcomposeError("no melody track besides the parts; name it with --track")
        melody_index = others[0]
    roles = {r: i for r, i in roles.items() if i != melody_index}
    return roles, melody_index


def wanted_parts(song: Song, family, roles: dict[str, int], parts) -> tuple[str, ...]:
    """The roles to redo: ``parts`` (``--parts``), or every part the song has. A part the
    song lacks is an error naming its tracks."""
    tracks = ", ".join(t.name or f"#{i}" for i, t in enumerate(song.tracks))
    known = ", ".join(name for _, name in family.edit_parts)
    if not parts:
        if not roles:
            raise DeepcomposeError(f"the input has none of --style {family.styles[0]}'s parts "
                                   f"({known}) to redo; its tracks: {tracks}")
        return tuple(roles)
    name = dict(family.edit_parts)
    for role in parts:
        if role not in roles:
            raise DeepcomposeError(f"no {name[role]} track in the input to redo ({role}); its "
                                   f"tracks: {tracks}. Parts are found by their track names: "
                                   f"{known}")
    return tuple(parts)


def hole_of(song: Song, task: str, bars) -> tuple[float, float]:
    """Beats ``[start, end)`` to redo: bars A:B for infill (within the song's bars), else
    the whole song."""
    if task != "infill":
        return (float("-inf"), float("inf"))
    if bars is None:
        raise DeepcomposeError("infill needs --bars A:B (1-based bars, inclusive)")
    a, b = bars
    bar_map = song.bar_map()
    first, last = bar_map.first_bar, bar_map.index(song.length_beats - EPS)
    if a < first or b > last:
        raise DeepcomposeError(f"--bars {a}:{b} lies outside the song: its bars are "
                               f"{first} to {last}")
    return bar_map.span(a, b)


def splice(old: list[Note], new: list[Note], hole: tuple[float, float]) -> list[Note]:
    """A track's notes after the edit: ``old`` notes starting outside ``hole`` exactly as
    they were, plus ``new`` notes starting inside it (after any kept note held into it)
    and ending by its end; sorted by start then pitch."""
    kept = [n for n in old if not inside(n, hole)]
    held = max((n.end for n in kept if n.start < hole[0] and n.end > hole[0]), default=hole[0])
    fresh = [Note(n.pitch, n.start, min(n.end, hole[1]), n.velocity) for n in new
             if inside(n, hole) and n.start >= held - EPS]
    return sorted(kept + fresh, key=lambda n: (n.start, n.pitch))


def keep_lowest(tracks: list, lowest: int, edited: list[int], bounds: dict[int, tuple]):
    """The ``lowest`` track stays the lowest where new notes would cross it: in each of
    ``edited`` (track indices), a note absent from the input (``bounds[i]``: the input's
    notes as a set of tuples, the lowest and highest pitch the family played for that part,
    in the input or in the new take) moves by octaves within those pitches. Returns the
    tracks."""
    out = list(tracks)
    for i in edited:
        old, lo, hi = bounds[i]
        others = [lowest] if i != lowest else [j for j in bounds
                                               if j != lowest and not out[j].is_drum]
        spans = [n for j in others for n in out[j].notes]
        notes = []
        for n in out[i].notes:
            p = n.pitch
            if astuple(n) not in old:
                under = [m.pitch for m in spans if m.start < n.end and m.end > n.start]
                if i == lowest:
                    while under and p > min(under) and p - 12 >= lo:
                        p -= 12
                else:
                    while under and p < max(under) and p + 12 <= hi:
                        p += 12
            notes.append(n if p == n.pitch else replace(n, pitch=p))
        out[i] = replace(out[i], notes=notes)
    for i in edited:  # the lowest part sounds under the others, as the family plays it
        old = bounds[i][0]
        if i == lowest:
            uppers = [n for j in bounds if j != lowest and not out[j].is_drum
                      for n in out[j].notes]
            out[i] = replace(out[i], notes=held_through(out[i].notes, uppers, old))
        else:
            under, notes = sounding(out[lowest].notes), []
            for n in out[i].notes:
                end = n.end if astuple(n) in old else min(n.end, until(under, n.start))
                if end > n.start + EPS:
                    notes.append(n if end == n.end else replace(n, end=end))
            out[i] = replace(out[i], notes=notes)
    return out


def sounding(notes) -> list[tuple[float, float]]:
    """The spans ``[(start, end)]`` (beats) where any of ``notes`` sounds, merged."""
    spans: list[list[float]] = []
    for n in sorted(notes, key=lambda n: n.start):
        if spans and n.start <= spans[-1][1] + EPS:
            spans[-1][1] = max(spans[-1][1], n.end)
        else:
            spans.append([n.start, n.end])
    return [(a, b) for a, b in spans]


def until(spans, beat: float) -> float:
    """The end of the span of ``spans`` sounding at ``beat``, or ``beat`` when none does."""
    return next((b for a, b in spans if a - EPS <= beat < b - EPS), beat)


def held_through(notes, uppers, old, hold: float = HOLD) -> list:
    """New notes (tuples not in ``old``) of the lowest part held on through a rest while
    ``uppers`` sound: at most ``hold`` beats more, never past the part's next note."""
    spans = sounding(uppers)
    out = []
    for k, n in enumerate(notes):
        if astuple(n) not in old:
            stop = min(notes[k + 1].start if k + 1 < len(notes) else n.end + hold,
                       n.end + hold)
            end = n.end
            while end < stop - EPS and (reach := until(spans, end)) > end + EPS:
                end = min(reach, stop)
            n = replace(n, end=end) if end != n.end else n
        out.append(n)
    return out


def miss(old: list[Note], new: list[Note], hole: tuple[float, float], end: float,
         pitched: list[Note], chords) -> float:
    """How far a take falls short (0: it counts): the share of its notes in the hole that
    equal old ones above ``MAX_SAME``, plus its notes per beat off the context's
    (``metrics.edit.density_ratio``: the old notes around the hole) by more than
    ``DENSITY_TOL``, plus the share of ``pitched``'s on-beat notes on the recorded
    ``chords``' tones below ``MIN_TONES``."""
    same = same_share(old, new, hole)
    ratio = density_ratio(old, new, hole, end)
    hit, total = chord_tone_counts(pitched, chords, hole)
    return (max(0.0, same - MAX_SAME) if not math.isnan(same) else 0.0) + (
        max(0.0, abs(ratio - 1.0) - DENSITY_TOL) if not math.isnan(ratio) else 0.0) + (
        max(0.0, MIN_TONES - hit / total) if total else 0.0)


def edit(song: Song, melody_index: int, family, task: str, c: dict, arrangement) -> Song:
    """Redo ``c["parts"]`` (default: every part the song has) of a previous result of
    ``family`` in bars ``c["bars"]`` (infill) or throughout; everything else is kept.
    ``arrangement``: the band plan's (``plans.band.arrangement``), which plays the takes."""
    if c.get("chords"):
        raise DeepcomposeError("--chords cannot be given with infill or --parts: an edit "
                               "plays the song's recorded chords")
    roles, melody_index = recognised(song, family, melody_index)
    wanted = wanted_parts(song, family, roles, c.get("parts"))
    if c.get("drums") == "none":  # no drums played: the drums are kept as they are
        if "drums" in (c.get("parts") or ()):
            raise DeepcomposeError("--parts drums redoes the drums, and --drums none plays none")
        wanted = tuple(r for r in wanted if r != "drums")
        if not wanted:
            raise DeepcomposeError("--drums none: the input has no other part to redo")
    hole = hole_of(song, task, c.get("bars"))
    chords = list(song.chords) or None
    edited = [roles[r] for r in wanted]
    old = [n for i in edited for n in song.tracks[i].notes]
    best = None
    for take in range(max(EDIT_TRIES, c["candidates"])):
        new, _ = arrangement(song, melody_index, family, {**c, "candidates": 1}, chords,
                             edit_seed(c["seed"], take), drums="drums" in wanted)
        tracks = [replace(t, notes=list(t.notes)) for t in song.tracks]
        for role in wanted:
            i = roles[role]
            tracks[i] = replace(tracks[i], notes=splice(tracks[i].notes, new[role].notes, hole))
        lowest = roles.get(family.lowest)
        if lowest is not None:
            bounds = {}
            for r in roles:
                if r in new:
                    kept = song.tracks[roles[r]].notes
                    played = [n.pitch for n in (*kept, *new[r].notes)]
                    bounds[roles[r]] = ({astuple(n) for n in kept}, min(played, default=0),
                                        max(played, default=127))
            tracks = keep_lowest(tracks, lowest, [i for i in edited if i in bounds], bounds)
        short = miss(old, [n for i in edited for n in tracks[i].notes], hole,
                     song.length_beats, [n for i in edited if not tracks[i].is_drum
                                         for n in tracks[i].notes], song.chords)
        if best is None or short < best[0]:
            best = (short, tracks)
        if short == 0:
            break
    return replace(song, tracks=best[1], chords=list(song.chords))
