"""Where a step stands in the melody's form: bars to the end of its phrase, bars to the end of
the melody, the melody's last note and its pitch class (issue 26: the accompaniment models'
inputs that let cadences come from the networks).

One function, ``phrase_position``, for every accompaniment family (the chorale GAN's 8th
frames, the band's and the quartet's 16th steps): it reads a per-step bar number and the
melody row, so training and generation compute it the same way. Phrases are
``PHRASE_BARS``-bar groups counted from the first full bar (a pickup belongs to none); the
last phrase ends with the melody's last bar, however long it is.

Channels ``[N_PHRASE, T]`` (float32, 0/1):

- ``PHRASE_BARS`` one-hot: bars to the end of the phrase (0 = its last bar), the phrase
  cut short where the melody ends;
- ``TO_END`` one-hot: bars to the melody's last bar, 0..3, and 4 for "4 or more";
- 1 flag: the melody's last note (from its first step to the end of its bar);
- 12 one-hot: the pitch class of the melody's last note, the same at every step (for a tune
  that ends home, its tonic).

Steps before the first bar line (a pickup) have zeros in the first two groups; steps after
the melody's last bar (padding) have zeros in all but the pitch class.
"""

from __future__ import annotations

import numpy as np

PHRASE_BARS = 4
TO_END = 5
N_PHRASE = PHRASE_BARS + TO_END + 1 + 12


def last_note_steps(melody: np.ndarray) -> tuple[int, int] | None:
    """(first step, pitch) of the melody's last note: the last sounding step's pitch, back to
    where that pitch starts sounding without a break; None for a silent melody.
    ``melody [T]``: pitch per step, -1 rest."""
    sounding = np.nonzero(melody >= 0)[0]
    if not len(sounding):
        return None
    end = int(sounding[-1])
    pitch = int(melody[end])
    start = end
    while start > 0 and melody[start - 1] == pitch:
        start -= 1
    return start, pitch


def phrase_end_onsets(bar: np.ndarray, onset: np.ndarray, every: int,
                      stop: int | None = None) -> list[int]:
    """Where phrases of ``every`` bars end: the step of the melody's last onset in bars
    ``every - 1``, ``2 every - 1``, ... (from the first full bar; below bar ``stop``, by
    default every bar), a bar without an onset skipped. ``bar [T]`` as ``phrase_position``
    reads it, ``onset [T]`` bool. Where the accompaniment families' cadence rules act."""
    bar = np.asarray(bar, dtype=np.int64)
    onset = np.asarray(onset, dtype=bool)
    last = int(bar.max()) + 1 if len(bar) else 0
    out = []
    for b in range(every - 1, last if stop is None else min(stop, last), every):
        steps = np.nonzero(onset & (bar == b))[0]
        if len(steps):
            out.append(int(steps[-1]))
    return out


def phrase_end_notes(bar: np.ndarray, melody: np.ndarray, onset: np.ndarray, every: int,
                     stop: int | None = None) -> list[tuple[int, int]]:
    """The notes that end phrases (``phrase_end_onsets``) as steps ``[(start, end))``: from
    the onset while the same pitch sounds with no new onset, cut at the bar line.
    ``melody [T]``: pitch per step, -1 rest."""
    bar = np.asarray(bar, dtype=np.int64)
    out = []
    for s in phrase_end_onsets(bar, onset, every, stop):
        e = s + 1
        while e < len(bar) and bar[e] == bar[s] and melody[e] == melody[s] and not onset[e]:
            e += 1
        out.append((s, e))
    return out


def phrase_position(bar: np.ndarray, melody: np.ndarray,
                    onsets: np.ndarray | None = None) -> np.ndarray:
    """``[N_PHRASE, T]`` features (see the module docstring).

    ``bar [T]``: the bar of each step (0 = the first full bar, -1 before it: the pickup);
    ``melody [T]``: the melody's pitch per step (-1 rest); ``onsets [T]`` (optional, bool):
    where melody notes start, so that a repeated last pitch counts as its own note.
    """
    bar = np.asarray(bar, dtype=np.int64)
    melody = np.asarray(melody)
    T = len(bar)
    out = np.zeros((N_PHRASE, T), dtype=np.float32)
    last = last_note_steps(melody)
    if last is None:
        return out
    start, pitch = last
    if onsets is not None:
        hits = np.nonzero(np.asarray(onsets[start:], dtype=bool))[0]
        if len(hits):
            start += int(hits[-1])
    last_bar = int(bar[min(start, T - 1)])
    phrase_bars = PHRASE_BARS
    t = np.arange(T)
    inside = (bar >= 0) & (bar <= last_bar)
    to_end = last_bar - bar
    in_phrase = np.where(bar >= 0, bar % phrase_bars, 0)
    to_phrase_end = np.minimum(phrase_bars - 1 - in_phrase, to_end)
    out[np.minimum(to_phrase_end, phrase_bars - 1)[inside], t[inside]] = 1
    out[phrase_bars + np.minimum(to_end, TO_END - 1)[inside], t[inside]] = 1
    out[phrase_bars + TO_END, (t >= start) & (bar == last_bar)] = 1
    out[phrase_bars + TO_END + 1 + pitch % 12] = 1
    return out


def transpose_phrase(rows: np.ndarray, k: int) -> np.ndarray:
    """``phrase_position`` rows ``[N_PHRASE, T]`` of music moved up ``k`` semitones: the last
    note's pitch class rolls with it (a copy; training windows of transposed music)."""
    out = np.array(rows, dtype=np.float32)
    out[-12:] = np.roll(out[-12:], k, axis=0)
    return out
