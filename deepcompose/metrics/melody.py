"""Measures of a melody continuation against the real one (issue 25's table).

A melody is notes ``(pitch, start_beat, end_beat)`` (beats = quarter notes); bars are
``[(start_beat, end_beat)]``. Each measure is computed the same way on the real next bars
and on the generated ones, against the same prompt bars:

- ``notes_per_bar``; ``offbeat_share``: onsets not on a quarter-note beat;
- ``duration_hist`` (16ths: 1, 2, 3, 4, 6, 8, 12, 16+; each duration to the nearest bin)
  and ``interval_hist`` (|semitones| between successive notes: 0, 1, 2, 3, 4, 5, 7, 12,
  other), compared pooled over a set by ``overlap`` (sum of the minima of the two
  normalised histograms);
- ``pc_similarity``: cosine of the duration-weighted pitch-class histograms of the new
  bars and the prompt;
- ``rhythm_reuse`` / ``copy_share``: the share of new bars (with notes) whose onsets
  (onsets and pitches) equal some prompt bar's;
- ``filled_share``: new bars with at least one note;
- ``chord_tone_share``: on-beat notes whose pitch class is in the chord sounding there.
"""

from __future__ import annotations

import numpy as np

DURATION_BINS = (1, 2, 3, 4, 6, 8, 12, 16)  # 16ths; the last is 16 or more
INTERVAL_BINS = (0, 1, 2, 3, 4, 5, 7, 12)  # |semitones|; one more bin: any other
GRID = 12  # onsets compared on a grid of 1/12 beat


def in_bars(notes, bars) -> list[list[tuple]]:
    """The notes starting in each bar ``[(start, end)]``."""
    return [[n for n in notes if a - 1e-6 <= n[1] < b - 1e-6] for a, b in bars]


def notes_per_bar(notes, bars) -> float:
    return sum(map(len, in_bars(notes, bars))) / max(len(bars), 1)


def offbeat_share(notes) -> float:
    if not notes:
        return 0.0
    return float(np.mean([abs(n[1] - round(n[1])) > 1e-3 for n in notes]))


def duration_hist(notes) -> np.ndarray:
    """Counts ``[8]`` of note durations in 16ths, each to the nearest of ``DURATION_BINS``."""
    out = np.zeros(len(DURATION_BINS))
    for n in notes:
        d = (n[2] - n[1]) * 4
        k = len(DURATION_BINS) - 1 if d >= 14 else int(np.argmin(
            np.abs(np.asarray(DURATION_BINS) - d)))
        out[k] += 1
    return out


def interval_hist(notes) -> np.ndarray:
    """Counts ``[9]`` of |pitch steps| between successive notes (the last bin: other)."""
    out = np.zeros(len(INTERVAL_BINS) + 1)
    pitches = [n[0] for n in sorted(notes, key=lambda n: n[1])]
    for a, b in zip(pitches, pitches[1:], strict=False):
        step = abs(b - a)
        out[INTERVAL_BINS.index(step) if step in INTERVAL_BINS else -1] += 1
    return out


def overlap(p: np.ndarray, q: np.ndarray) -> float:
    """Sum of the minima of two histograms, each normalised to 1 (0 when one is empty)."""
    if p.sum() == 0 or q.sum() == 0:
        return 0.0
    return float(np.minimum(p / p.sum(), q / q.sum()).sum())


def pc_histogram(notes) -> np.ndarray:
    """Duration-weighted pitch-class histogram ``[12]`` (``keys.pitch_class_histogram``)."""
    from ..keys import pitch_class_histogram

    return pitch_class_histogram([n[0] for n in notes], [n[2] - n[1] for n in notes])


def pc_similarity(new, prompt) -> float:
    a, b = pc_histogram(new), pc_histogram(prompt)
    if not a.any() or not b.any():
        return 0.0
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def _patterns(notes, bars, pitches: bool) -> list:
    out = []
    for (a, _), bar in zip(bars, in_bars(notes, bars), strict=True):
        onsets = [round((n[1] - a) * GRID) for n in bar]
        out.append(tuple(zip(onsets, [n[0] for n in bar], strict=True)) if pitches
                   else tuple(onsets))
    return out


def reuse_share(new, new_bars, prompt, prompt_bars, pitches: bool = False) -> float:
    """Share of the new bars with notes whose onsets (``pitches``: and pitches) equal some
    prompt bar's; bars compared from their own bar lines."""
    known = {p for p in _patterns(prompt, prompt_bars, pitches) if p}
    mine = [p for p in _patterns(new, new_bars, pitches) if p]
    return float(np.mean([p in known for p in mine])) if mine else 0.0


def filled_share(notes, bars) -> float:
    return float(np.mean([bool(b) for b in in_bars(notes, bars)])) if bars else 0.0


def chord_tone_share(notes, chords) -> float | None:
    """On-beat notes (onset on a quarter-note beat) on a tone of the chord sounding then;
    ``chords`` ``[(start, end, label)]``. None without on-beat notes under a chord."""
    from ..chords import parse_chord

    hits = []
    for n in notes:
        if abs(n[1] - round(n[1])) > 1e-3:
            continue
        label = next((lab for a, b, lab in chords if a - 1e-6 <= n[1] < b - 1e-6), None)
        if label is None or label == "N":
            continue
        hits.append(int(n[0]) % 12 in parse_chord(label)[1])
    return float(np.mean(hits)) if hits else None


def continuation_measures(prompt, prompt_bars, new, new_bars) -> dict:
    """Every per-piece measure of one continuation (histograms as counts, to pool)."""
    return {
        "notes_per_bar": notes_per_bar(new, new_bars),
        "offbeat_share": offbeat_share(new),
        "duration_hist": duration_hist(new),
        "interval_hist": interval_hist(new),
        "pc_similarity": pc_similarity(new, prompt),
        "rhythm_reuse": reuse_share(new, new_bars, prompt, prompt_bars),
        "copy_share": reuse_share(new, new_bars, prompt, prompt_bars, pitches=True),
        "filled_share": filled_share(new, new_bars),
    }
