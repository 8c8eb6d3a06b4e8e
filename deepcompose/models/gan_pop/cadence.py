"""The band's ``cadence`` decoding rule (issue 26): where the network alone misses, the
tonic under the melody's last note and I or V under phrase ends.

The network reads the phrase position (``net.phrase_rows``) and writes its own cadences;
POP909's pianists, whom it imitates, put the bass on the tonic under the last melody note
in only about two thirds of the songs that end home (``benchmarks/band_cadence.py``), so
the rule adds what the data does not teach (documented and ablated in the card):

- **final**: when the melody's last note is on the tonic of the melody's key
  (``keys.estimate_key``) or of its relative major or minor (the melody alone often reads
  as the relative key; that final note is then the tonic), the chord path gets
  ``cadence_chord`` nats for a major or minor chord on that tonic from the last note's beat
  to the end, the bass attacks at the last note's onset and plays the chord's root from
  there to the end;
- **phrase ends**: under the last melody note of every ``CADENCE_BARS``-th bar (bars from
  the first full bar), ``cadence_chord`` nats for major, minor or dominant-seventh chords
  on I or V (of the final note's key when the melody ends home, else of the estimated
  key), and the bass on the chord's root from that note's beat to the note's end.

Units: steps are 16ths, beats quarter notes; ``T`` steps, ``T // 4`` beats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...chords import N_CLASSES, VOCAB_QUALITIES
from ...keys import ending_key, estimate_key, held_final, pitch_class_histogram
from ...representations.phrase_position import last_note_steps, phrase_end_notes
from .net import STEPS_PER_BEAT, Q, bar_numbers

CADENCE_BARS = 8
HOME = tuple(VOCAB_QUALITIES.index(q) for q in ("maj", "min"))
HALF = tuple(VOCAB_QUALITIES.index(q) for q in ("maj", "min", "7"))


@dataclass
class Cadences:
    """Where the rule acts: ``chord_bonus [beats, N_CLASSES]`` (nats for the chord path),
    ``root_only [T]`` (bass pitches on the chord's root there) and ``attack [T]`` (the bass
    strikes there)."""

    chord_bonus: np.ndarray
    root_only: np.ndarray
    attack: np.ndarray


def _classes(roots, qualities) -> np.ndarray:
    out = np.zeros(N_CLASSES, dtype=bool)
    for r in roots:
        for q in qualities:
            out[1 + (r % 12) * Q + q] = True
    return out


def cadences(melody, mel: np.ndarray, onset: np.ndarray, in_bar: np.ndarray,
             nats: float) -> Cadences:
    """The rule's places for a piece: ``melody`` its notes ``(pitch, start, end, vel)`` in
    beats (for the key), ``mel``/``onset``/``in_bar`` its rows per step (``piece_rows``)."""
    T = len(mel)
    beats = T // STEPS_PER_BEAT
    out = Cadences(np.zeros((beats, N_CLASSES)), np.zeros(T, dtype=bool),
                   np.zeros(T, dtype=bool))
    last = last_note_steps(mel)
    if last is None or not melody:
        return out
    sung = [n[0] for n in melody], [n[2] - n[1] for n in melody]
    key = estimate_key(*sung)
    start, pitch = last
    tonic, _, _ = ending_key(*key, pitch)  # the phrase ends' key
    end = max(melody, key=lambda n: (n[1], n[0]))
    final, _, home = ending_key(*key, pitch, pitch_class_histogram(*sung),  # modal finals too
                                held_final(end[2] - end[1], sung[1]))
    hits = np.nonzero(onset[start:])[0]
    start += int(hits[-1]) if len(hits) else 0
    bar = bar_numbers(in_bar)
    final_bar = int(bar[start])
    if home:
        out.chord_bonus[start // STEPS_PER_BEAT:, _classes([final], HOME)] += nats
        out.root_only[start:] = True
        out.attack[start] = True
    half = _classes([tonic, tonic + 7], HALF)
    for s, e in phrase_end_notes(bar, mel, onset, CADENCE_BARS, final_bar):
        out.chord_bonus[s // STEPS_PER_BEAT:-(-e // STEPS_PER_BEAT), half] += nats
        out.root_only[s // STEPS_PER_BEAT * STEPS_PER_BEAT:e] = True
    return out


def root_mask(classes: np.ndarray, root_only: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``[P, T]`` bool: the bass pitches ``lo..hi`` allowed by the rule (every pitch where
    it does not act or the chord is N; the chord's root where it does)."""
    pitches = np.arange(lo, hi + 1)
    root = (np.maximum(classes, 1) - 1) // Q  # [T]
    keep = (pitches[:, None] % 12) == root[None]
    free = ~root_only | (classes == 0)
    return keep | free[None]
