"""Arrangement metrics (issue 21): does the band play like a band?

Form (the band repeats where the melody repeats), comping (figures kept, voicings reused),
harmony (vocabulary, harmonic rhythm, the melody on the band's own chord tones), dynamics
and the counter-melody's place around the melody. Small pure functions, generic over
styles: a band passes bass, keys and counter, a string quartet its three lower parts.

Conventions (as in ``deepcompose.metrics.band``):

- Notes are ``(pitch, start_beat, end_beat[, velocity])``; times in beats (quarter notes).
- The 16th grid: a note covers steps ``round(start * 4)`` up to ``max(start_step + 1,
  round(end * 4))`` (exclusive); its onset step is ``round(start * 4)``.
- Bars have ``beats_per_bar`` beats from ``first_bar_beat`` (bar ``i`` is
  ``[first_bar_beat + i * bpb, first_bar_beat + (i + 1) * bpb)``; a pickup is bar -1 and
  is left out).
- Chords are ``(start_beat, end_beat, label)`` with labels as ``deepcompose.chords``
  parses them (Harte or lead-sheet symbols); ``N`` is no chord.
- Ratios with nothing to count are NaN. Functions named ``*_counts`` return raw counts so
  that callers can pool over songs before dividing.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from ..chords import parse_chord

STEPS_PER_BEAT = 4


def _step(beat: float) -> int:
    return round(beat * STEPS_PER_BEAT)


def _span(note) -> tuple[int, int]:
    a = _step(note[1])
    return a, max(a + 1, _step(note[2]))


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def _bar_steps(beats_per_bar: float) -> int:
    return max(1, round(beats_per_bar * STEPS_PER_BEAT))


def bar_of(beat: float, beats_per_bar: float, first_bar_beat: float = 0.0) -> int:
    """Index of the bar holding ``beat`` (the pickup is -1)."""
    return math.floor((_step(beat) - _step(first_bar_beat)) / _bar_steps(beats_per_bar))


def bar_events(notes, n_bars: int, beats_per_bar: float, first_bar_beat: float = 0.0,
               tag=None) -> list[frozenset]:
    """Per bar ``0 .. n_bars - 1``: the set of ``(onset step in the bar, pitch)`` of the notes
    starting in it (with ``tag`` prepended to each item when given, to keep tracks apart)."""
    spb, off = _bar_steps(beats_per_bar), _step(first_bar_beat)
    bars: list[set] = [set() for _ in range(n_bars)]
    for n in notes:
        b, pos = divmod(_step(n[1]) - off, spb)
        if 0 <= b < n_bars:
            bars[b].add((pos, int(n[0])) if tag is None else (tag, pos, int(n[0])))
    return [frozenset(s) for s in bars]


def jaccard(a, b) -> float:
    """``|a & b| / |a | b|`` of two sets; NaN when both are empty."""
    a, b = set(a), set(b)
    return _ratio(len(a & b), len(a | b))


def repeated_bars(melody, n_bars: int, beats_per_bar: float, first_bar_beat: float = 0.0,
                  min_similarity: float = 0.8) -> list[tuple[int, int]]:
    """Pairs of bars ``(earlier, later)`` whose melodies are (near-)identical: both bars hold
    melody onsets and the onset+pitch Jaccard of the two bars is at least
    ``min_similarity`` (1.0 = exactly the same notes at the same places in the bar)."""
    bars = bar_events(melody, n_bars, beats_per_bar, first_bar_beat)
    return [(i, j) for j in range(n_bars) for i in range(j)
            if bars[i] and bars[j] and jaccard(bars[i], bars[j]) >= min_similarity]


def repeat_similarity_counts(melody, tracks, n_bars: int, beats_per_bar: float,
                             first_bar_beat: float = 0.0, min_similarity: float = 0.8
                             ) -> tuple[float, int]:
    """(sum of accompaniment similarities, number of bar pairs) over the bar pairs of
    ``repeated_bars``: the similarity of a pair is the onset+pitch Jaccard of the two bars'
    accompaniment, every track of ``tracks`` (a list of note lists) kept apart. Pairs where
    neither bar has accompaniment are left out."""
    per_track = [bar_events(t, n_bars, beats_per_bar, first_bar_beat, tag=k)
                 for k, t in enumerate(tracks)]
    acc = [frozenset().union(*(pt[b] for pt in per_track)) for b in range(n_bars)]
    total, pairs = 0.0, 0
    for i, j in repeated_bars(melody, n_bars, beats_per_bar, first_bar_beat, min_similarity):
        s = jaccard(acc[i], acc[j])
        if not math.isnan(s):
            total += s
            pairs += 1
    return total, pairs


def repeat_similarity(melody, tracks, n_bars: int, beats_per_bar: float,
                      first_bar_beat: float = 0.0, min_similarity: float = 0.8) -> float:
    """Mean onset+pitch Jaccard (0..1) of the accompaniment between bars whose melody is
    (near-)identical (``repeat_similarity_counts``): 1 = the band plays a repeated bar
    exactly as before; NaN when the melody repeats no bar."""
    return _ratio(*repeat_similarity_counts(melody, tracks, n_bars, beats_per_bar,
                                            first_bar_beat, min_similarity))


def bar_to_bar_counts(notes, n_bars: int, beats_per_bar: float,
                      first_bar_beat: float = 0.0) -> tuple[float, int]:
    """(sum of onset+pitch Jaccards of consecutive bars, number of such pairs); pairs of two
    empty bars are left out."""
    bars = bar_events(notes, n_bars, beats_per_bar, first_bar_beat)
    sims = [jaccard(a, b) for a, b in zip(bars, bars[1:], strict=False)]
    sims = [s for s in sims if not math.isnan(s)]
    return float(sum(sims)), len(sims)


def bar_to_bar_similarity(notes, n_bars: int, beats_per_bar: float,
                          first_bar_beat: float = 0.0) -> float:
    """Mean onset+pitch Jaccard (0..1) of each bar with the next: how much of a part's bar
    (same pitches at the same places) comes back in the next bar."""
    return _ratio(*bar_to_bar_counts(notes, n_bars, beats_per_bar, first_bar_beat))


def distinct_rhythms(notes, n_bars: int, beats_per_bar: float, first_bar_beat: float = 0.0,
                     per: int = 16) -> float:
    """Distinct bar rhythms (sets of onset positions in the bar; bars without onsets left
    out) per ``per`` bars: 1 per 16 = one figure throughout, 16 = every bar different."""
    bars = bar_events(notes, n_bars, beats_per_bar, first_bar_beat)
    rhythms = {frozenset(pos for pos, _ in b) for b in bars if b}
    return _ratio(len(rhythms) * per, n_bars)


def voicings(notes) -> list[tuple[int, frozenset]]:
    """The part's onsets as ``(onset step, voicing)``: the pitch set of the notes starting on
    that 16th step, in time order."""
    at: dict[int, set] = {}
    for n in notes:
        at.setdefault(_step(n[1]), set()).add(int(n[0]))
    return [(s, frozenset(at[s])) for s in sorted(at)]


def voicing_reuse_counts(notes, beats_per_bar: float) -> tuple[int, int]:
    """(onsets whose voicing was already played in the two bars before it, all onsets).
    An onset is one 16th step where the part starts notes, its voicing the pitch set started
    there (``voicings``); "the two bars before" is the window of ``2 * beats_per_bar`` beats
    ending at (and excluding) the onset, so a voicing repeated inside a bar counts."""
    window = 2 * _bar_steps(beats_per_bar)
    seen: list[tuple[int, frozenset]] = []
    reused = 0
    for s, v in voicings(notes):
        reused += any(v == w for t, w in seen if s - t <= window)
        seen.append((s, v))
    return reused, len(seen)


def voicing_reuse(notes, beats_per_bar: float) -> float:
    """Share of a part's onsets whose voicing (pitch set) was played in the two bars before
    (``voicing_reuse_counts``): a pianist holding a figure reuses voicings."""
    return _ratio(*voicing_reuse_counts(notes, beats_per_bar))


def _chord_runs(chords) -> list[tuple[float, float, str]]:
    """Chords sorted, ``N`` dropped, and touching segments with the same label merged."""
    out: list[tuple[float, float, str]] = []
    for a, b, label in sorted(chords):
        if parse_chord(label)[0] is None or b <= a:
            continue
        if out and out[-1][2] == label and abs(out[-1][1] - a) < 1e-6:
            out[-1] = (out[-1][0], b, label)
        else:
            out.append((a, b, label))
    return out


def chord_vocabulary(chords, n_bars: int, per: int = 16) -> tuple[float, float]:
    """(distinct chord labels per ``per`` bars, entropy in bits of the labels weighted by
    their duration in beats). Labels count as written (``C:maj/3`` and ``C:maj`` are two
    chords); ``N`` is left out. Entropy is NaN without chords."""
    runs = _chord_runs(chords)
    if not runs:
        return 0.0, math.nan
    time = Counter()
    for a, b, label in runs:
        time[label] += b - a
    p = np.array(list(time.values()), dtype=float)
    p = p / p.sum()
    return len(time) * per / n_bars, float(-(p * np.log2(p)).sum())


def chord_changes(chords, n_bars: int) -> float:
    """Chord changes per bar: boundaries between consecutive chords with different labels
    (``N`` left out; the first chord is not a change), divided by ``n_bars``."""
    runs = _chord_runs(chords)
    return _ratio(max(0, len(runs) - 1), n_bars)


def ctnctr_counts(melody, chords) -> tuple[int, int, int]:
    """(chord tones c, non-chord tones n, proper non-chord tones p) of the melody against
    ``chords`` (Yeh et al. 2021, "Automatic melody harmonization with triad chords").

    Every melody note counts once, against the chord sounding at its onset (notes under
    ``N`` or no chord are left out); it is a chord tone when its pitch class is in the
    chord. A non-chord tone is *proper* when the next melody note is one or two semitones
    away (resolved stepwise)."""
    segs = [(_step(a), _step(b), parse_chord(lab)[1]) for a, b, lab in chords
            if parse_chord(lab)[0] is not None]
    mel = sorted(melody, key=lambda n: (n[1], -n[0]))
    c = nct = p = 0
    for k, note in enumerate(mel):
        s = _step(note[1])
        pcs = next((x for a, b, x in segs if a <= s < b), None)
        if pcs is None:
            continue
        if int(note[0]) % 12 in pcs:
            c += 1
            continue
        nct += 1
        later = [m for m in mel[k + 1:] if _step(m[1]) > s]
        p += bool(later) and 1 <= abs(int(later[0][0]) - int(note[0])) <= 2
    return c, nct, p


def ctnctr(melody, chords) -> float:
    """Chord tone to non-chord tone ratio ``(c + p) / (c + n)`` in 0..1 (``ctnctr_counts``):
    1 = every melody note is a chord tone or a stepwise-resolved passing tone."""
    c, nct, p = ctnctr_counts(melody, chords)
    return _ratio(c + p, c + nct)


def velocity_sd(notes) -> float:
    """Standard deviation of a part's velocities (MIDI velocity units, 1-127; population
    SD); NaN for fewer than two notes."""
    v = [n[3] for n in notes]
    return float(np.std(v)) if len(v) > 1 else math.nan


def _tops(notes, end: int, lowest: bool = False) -> np.ndarray:
    """Per 16th step ``[end]``: the highest (or lowest) pitch sounding, -1 where none."""
    out = np.full(end, -1, dtype=np.int64)
    for n in notes:
        a, b = _span(n)
        seg = out[a:b]
        p = int(n[0])
        out[a:b] = np.where(seg < 0, p, np.minimum(seg, p) if lowest else np.maximum(seg, p))
    return out


def rest_fill_counts(melody, counter) -> tuple[int, int]:
    """(16th steps of the melody's rests where the counter-melody sounds, all rest steps).
    The melody's rests are the steps from its first onset to its last note's end where no
    melody note sounds."""
    if not melody:
        return 0, 0
    spans = [_span(n) for n in melody]
    m0, m1 = min(a for a, _ in spans), max(b for _, b in spans)
    end = max([m1, *(_span(n)[1] for n in counter)])
    rest = np.zeros(end, dtype=bool)
    rest[m0:m1] = _tops(melody, end)[m0:m1] < 0
    sounding = _tops(counter, end) >= 0
    return int((rest & sounding).sum()), int(rest.sum())


def rest_fill(melody, counter) -> float:
    """Share (0..1) of the melody's rest time (``rest_fill_counts``) in which the counter
    sounds: does the counter answer the melody in its gaps?"""
    return _ratio(*rest_fill_counts(melody, counter))


def above_counts(melody, counter) -> tuple[int, int]:
    """(16th steps where the counter sounds wholly above the melody, i.e. its lowest sounding
    pitch is above the melody's highest; steps where both sound)."""
    end = max((_span(n)[1] for n in [*melody, *counter]), default=0)
    top_m, low_c = _tops(melody, end), _tops(counter, end, lowest=True)
    both = (top_m >= 0) & (low_c >= 0)
    return int((both & (low_c > top_m)).sum()), int(both.sum())


def above_share(melody, counter) -> float:
    """Share (0..1) of the counter's overlap with the melody (steps where both sound) in which
    it sounds above the melody (``above_counts``): a counter-melody over the singer."""
    return _ratio(*above_counts(melody, counter))
