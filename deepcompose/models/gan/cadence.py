"""The chorale GAN's phrase-end decoding rule (issue 26; documented and ablated in its card).

The network reads where it stands in the form (``representations.phrase_position``) and
writes its own final cadence: the bass lands home under the melody's last note in 0.92 of
the JSB validation chorales (Bach's own parts: 0.91) with no rule. At the ends of 8-bar
phrases it puts the bass on I or V only as often as Bach's parts do by that count (0.44
against his 0.46: his phrases also close on vi, IV or in a related key, and the last note
of an 8th bar is not always a cadence). The rule writes a cadence chord there: under the
melody's last note of every ``CADENCE_BARS``-th bar before its final bar, when that note
belongs to the tonic triad or the dominant seventh of the key, the frame's chord is a
root-position I or V7 holding it (the bass on the root, alto and tenor on the chord's
tones), chosen among the decoder's candidates, which ``nats`` more for those pitches bring
in; a note that fits neither (the 6th degree, a chromatic note) gets no rule. The key is
read as the band's rule reads it (``keys.estimate_key`` on the melody; the final note's
pitch class when the melody ends on a home tonic, ``keys.ending_key``). Which chord,
which voicing and every other frame stay the network's; the final cadence is its alone,
except where a tune ends on a modal final (``keys.modal_final``: off the estimated key's
tonic triad, as E Dorian reads as D major): Bach's chorales taught the network tonal
endings only, so the rule writes the final's root-position triad under the last note.

Units: the voice grid's 16th steps; the decoder's 8th frames (``STEPS_PER_FRAME``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...keys import (
    dominant_seventh,
    ending_key,
    estimate_key,
    held_final,
    home_tonics,
    pitch_class_histogram,
    triad,
)
from ...representations.phrase_position import phrase_end_notes
from ...representations.voices import Meter, grid_to_notes
from .net import LOW, PARTS, STEPS_PER_FRAME, V

CADENCE_BARS = 8  # the band's: a phrase end every 8 bars from the first full bar
CADENCE_NATS = 5.0  # the rule's strength (the band's ``cadence_chord``)


@dataclass
class PhraseEnds:
    """Where the rule acts: ``bonus [frames, PARTS, V]`` nats for the cadence chords'
    pitches (bass: the roots; alto and tenor: their tones), and ``chords``: frame -> the
    chords allowed there, ``(bass pitch class, the chord's pitch classes)``."""

    bonus: np.ndarray
    chords: dict[int, list[tuple[int, frozenset[int]]]] = field(default_factory=dict)


def cadence_chords(tonic: int, minor: bool) -> list[tuple[int, frozenset[int]]]:
    """Root-position I and V7 of a key: ``(root, pitch classes)``; V7 with the raised
    leading tone in minor, as a chorale's cadence has it."""
    return [(tonic % 12, triad(tonic, minor)), ((tonic + 7) % 12, dominant_seventh(tonic))]


def phrase_ends(melody: np.ndarray, meter: Meter, pad_front: int, frames: int,
                nats: float = CADENCE_NATS) -> PhraseEnds:
    """The rule's places in a piece of ``frames`` decoder frames. ``melody [steps]``: the
    soprano row (MIDI, -1 rest; a note starts where the pitch changes); ``pad_front``:
    steps the decoder's frames add before step 0; ``nats`` 0: no rule."""
    out = PhraseEnds(np.zeros((frames, PARTS, V), dtype=np.float32))
    row = np.asarray(melody, dtype=np.int64)
    sounding = row >= 0
    if nats == 0 or not sounding.any():
        return out
    onset = sounding & np.r_[True, row[1:] != row[:-1]]
    step = np.arange(len(row))
    bar = np.where(step < meter.offset, -1, (step - meter.offset) // meter.steps_per_bar)
    sung, final = row[sounding].tolist(), int(row[sounding][-1]) % 12  # a count per 16th
    key = estimate_key(sung)
    tonic, mode, _ = ending_key(*key, final)  # the phrase ends' key
    minor = mode == "minor"
    pcs = (np.arange(V - 1) + LOW) % 12
    notes = grid_to_notes(row)  # (pitch, start, end) in steps
    _, last_onset, last_end = notes[-1]
    final_bar = int(bar[last_onset])  # the final cadence is the network's, unless modal
    places = [(s, e, cadence_chords(tonic, minor))
              for s, e in phrase_end_notes(bar, row, onset, CADENCE_BARS, final_bar)]
    _, final_mode, home = ending_key(*key, final, pitch_class_histogram(sung),
                                     held_final(last_end - last_onset,
                                                [b - a for _, a, b in notes]))
    if home and final not in home_tonics(*key):  # a modal final: its triad under the last note
        places.append((last_onset, last_end, cadence_chords(final, final_mode == "minor")[:1]))
    for s, e, chords in places:
        fit = [(root, chord) for root, chord in chords if row[s] % 12 in chord]
        if not fit:
            continue
        first = (s + pad_front) // STEPS_PER_FRAME
        last = min(-(-(e + pad_front) // STEPS_PER_FRAME), frames)
        roots = [root for root, _ in fit]
        tones = list(set().union(*(chord for _, chord in fit)))
        out.bonus[first:last, PARTS - 1, :V - 1] += nats * np.isin(pcs, roots)
        out.bonus[first:last, :PARTS - 1, :V - 1] += nats * np.isin(pcs, tones)
        for f in range(first, last):
            out.chords[f] = fit
    return out


def fits(pitches: np.ndarray, chords: list[tuple[int, frozenset[int]]]) -> np.ndarray:
    """Which candidate chords ``pitches [K, PARTS]`` (alto, tenor, bass; MIDI, -1 rest)
    are one of ``chords``: the bass on the root, every voice on the chord's tones -> ``[K]``."""
    ok = np.zeros(len(pitches), dtype=bool)
    for root, chord in chords:
        inside = np.isin(pitches % 12, list(chord)) & (pitches >= 0)
        ok |= inside.all(1) & (pitches[:, -1] % 12 == root)
    return ok
