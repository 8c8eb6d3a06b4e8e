"""Arrangement metrics of issue 21 on hand-made cases with known answers."""

import math

import pytest

from deepcompose.metrics import arrangement as A


def bars_of(figure, n, bpb=4, pitch_shift=None):
    """``figure`` (notes in one bar) repeated in bars 0..n-1."""
    out = []
    for b in range(n):
        k = pitch_shift(b) if pitch_shift else 0
        out += [(p + k, s + b * bpb, e + b * bpb, *rest) for p, s, e, *rest in figure]
    return out


def test_bar_events_and_jaccard():
    notes = [(60, 0, 1), (64, 0.5, 1), (67, 4.25, 5)]
    bars = A.bar_events(notes, 2, 4)
    assert bars == [frozenset({(0, 60), (2, 64)}), frozenset({(1, 67)})]
    assert A.jaccard({1, 2}, {2, 3}) == pytest.approx(1 / 3)
    assert math.isnan(A.jaccard(set(), set()))
    assert A.bar_of(3.75, 4) == 0 and A.bar_of(4, 4) == 1 and A.bar_of(0.5, 4, 1) == -1


def test_repeated_bars_finds_the_repeated_phrase():
    a = [(60, 0, 1), (62, 1, 2), (64, 2, 4)]
    b = [(67, 0, 2), (65, 2, 4)]
    melody = bars_of(a, 1) + [(p, s + 4, e + 4) for p, s, e in b] \
        + [(p, s + 8, e + 8) for p, s, e in a] + [(p, s + 12, e + 12) for p, s, e in b]
    assert A.repeated_bars(melody, 4, 4) == [(0, 2), (1, 3)]


def test_repeat_similarity_is_one_when_the_band_repeats_and_drops_when_it_does_not():
    melody = bars_of([(72, 0, 4)], 4)  # the same bar four times: 6 pairs
    keys = bars_of([(60, 0, 1), (64, 1, 2)], 4)
    bass = bars_of([(36, 0, 4)], 4)
    assert A.repeat_similarity(melody, [bass, keys], 4, 4) == 1.0
    # keys change every bar: each pair shares only the bass onset -> 1 / (1 + 2 + 2)
    moving = bars_of([(60, 0, 1), (64, 1, 2)], 4, pitch_shift=lambda b: b)
    assert A.repeat_similarity(melody, [bass, moving], 4, 4) == pytest.approx(1 / 5)
    # the same notes in another track do not count as a repeat
    assert A.repeat_similarity(melody, [bass, keys], 4, 4) > A.repeat_similarity(
        melody, [[], keys[:2] + [(n[0], n[1], n[2]) for n in bass[1:]]], 4, 4)
    assert A.repeat_similarity_counts(melody, [bass], 4, 4) == (6.0, 6)


def test_repeat_similarity_nan_without_repeats():
    melody = [(60 + b, 4 * b, 4 * b + 4) for b in range(4)]
    assert math.isnan(A.repeat_similarity(melody, [[(48, 0, 16)]], 4, 4))


def test_bar_to_bar_similarity():
    keys = bars_of([(60, 0, 1), (64, 2, 3)], 3)  # identical bars
    assert A.bar_to_bar_similarity(keys, 3, 4) == 1.0
    half = [(60, 0, 1), (64, 2, 3), (60, 4, 5), (65, 6, 7)]  # 1 shared of 3
    assert A.bar_to_bar_similarity(half, 2, 4) == pytest.approx(1 / 3)
    assert A.bar_to_bar_counts([(60, 0, 1)], 4, 4) == (0.0, 1)  # empty pairs left out


def test_distinct_rhythms_per_16_bars():
    same = bars_of([(60, 0, 1), (64, 1, 2)], 8)
    assert A.distinct_rhythms(same, 8, 4) == 2.0  # one rhythm in 8 bars = 2 per 16
    # pitches do not matter, positions do
    shifted = bars_of([(60, 0, 1), (64, 1, 2)], 8, pitch_shift=lambda b: b)
    assert A.distinct_rhythms(shifted, 8, 4) == 2.0
    every = [(60, 4 * b + 0.25 * b, 4 * b + 1) for b in range(4)]  # another place each bar
    assert A.distinct_rhythms(every, 4, 4) == 16.0


def test_voicing_reuse_window_of_two_bars():
    c = [(60, 0, 1), (64, 0, 1), (67, 0, 1)]
    notes = c + [(p, s + 1, e + 1) for p, s, e in c]  # C at beat 0, again at beat 1
    notes += [(p, s + 12, e + 12) for p, s, e in c]   # and at beat 12: 11 beats > 2 bars
    notes += [(62, 13, 14)]                            # a new voicing
    assert A.voicings(notes)[0] == (0, frozenset({60, 64, 67}))
    assert A.voicing_reuse_counts(notes, 4) == (1, 4)
    assert A.voicing_reuse(notes, 4) == 0.25


def test_chord_vocabulary_entropy_and_changes():
    chords = [(0, 4, "C:maj"), (4, 8, "C:maj"), (8, 12, "A:min"), (12, 16, "N"),
              (16, 20, "F:maj"), (20, 24, "G:7")]
    distinct, bits = A.chord_vocabulary(chords, 6)
    # C 8 beats, Am 4, F 4, G7 4 -> p = (.4, .2, .2, .2)
    assert distinct == pytest.approx(4 * 16 / 6)
    assert bits == pytest.approx(-(0.4 * math.log2(0.4) + 3 * 0.2 * math.log2(0.2)))
    assert A.chord_changes(chords, 6) == pytest.approx(3 / 6)  # C->Am->F->G7 (N skipped)
    assert A.chord_vocabulary([(0, 4, "N")], 1)[0] == 0.0


def test_ctnctr_counts_stepwise_resolved_non_chord_tones():
    chords = [(0, 4, "C:maj")]
    melody = [(60, 0, 1),   # C: chord tone
              (62, 1, 2),   # D: non-chord, next E is 2 semitones away: proper
              (64, 2, 3),   # E: chord tone
              (69, 3, 4)]   # A: non-chord, last note: not resolved
    assert A.ctnctr_counts(melody, chords) == (2, 2, 1)
    assert A.ctnctr(melody, chords) == pytest.approx(3 / 4)
    assert A.ctnctr(melody, [(0, 4, "C:maj7")]) == pytest.approx(3 / 4)  # B not in it
    assert A.ctnctr([(71, 0, 1)], [(0, 4, "C:maj7")]) == 1.0
    assert math.isnan(A.ctnctr(melody, [(0, 4, "N")]))


def test_velocity_sd():
    assert A.velocity_sd([(60, 0, 1, 80), (60, 1, 2, 100)]) == 10.0
    assert math.isnan(A.velocity_sd([(60, 0, 1, 80)]))


def test_rest_fill_counts_rest_time_inside_the_melody_span():
    melody = [(72, 0, 2), (72, 4, 6)]          # rest from beat 2 to 4: 8 steps
    counter = [(60, 2, 3), (60, 6, 8)]          # sounds 4 of them; after the melody: not a rest
    assert A.rest_fill_counts(melody, counter) == (4, 8)
    assert A.rest_fill(melody, counter) == 0.5
    assert math.isnan(A.rest_fill([(72, 0, 4)], counter))


def test_above_share_counts_the_counter_wholly_above_the_melody():
    melody = [(67, 0, 4)]
    counter = [(72, 0, 1), (60, 1, 2), (64, 2, 3), (72, 2, 3)]  # above, below, straddling
    assert A.above_counts(melody, counter) == (4, 12)
    assert A.above_share(melody, counter) == pytest.approx(1 / 3)
