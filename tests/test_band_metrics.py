"""Band metrics of issue 13, checked on hand-made cases with known answers."""

import math

import numpy as np

from deepcompose.metrics import band as M


def test_chord_fit_counts_note_time_on_chord_tones():
    chords = [(0, 4, "C:maj"), (4, 8, "N"), (8, 12, "A:min")]
    acc = [(48, 0, 2, 80),     # C over C: 8 steps good
           (49, 2, 4, 80),     # C# over C: 8 steps bad
           (50, 4, 8, 80),     # under N: not counted
           (57, 8, 12, 80)]    # A over Am: 16 good
    assert M.chord_fit_counts(acc, chords) == (24, 32)
    assert M.chord_fit(acc, chords) == 0.75


def test_chord_fit_is_nan_without_chords():
    assert math.isnan(M.chord_fit([(60, 0, 1, 80)], [(0, 4, "N")]))


def test_chord_fit_uses_the_chord_sounding_at_each_step():
    # one long E over C then F: E is a tone of C, not of F
    assert M.chord_fit([(64, 0, 4)], [(0, 2, "C"), (2, 4, "F")]) == 0.5


def test_offbeat_share_counts_odd_sixteenths():
    acc = [(60, 0, 1), (60, 0.25, 1), (60, 0.5, 1), (60, 1.75, 2)]
    assert M.offbeat_counts(acc) == (2, 4)
    assert M.offbeat_share(acc) == 0.5


def test_onset_profile_positions_follow_the_bar_lines():
    acc = [(60, 1, 2), (60, 5, 6), (60, 5.5, 6)]  # pickup of one beat: bars start at 1, 5
    prof = M.onset_profile(acc, beats_per_bar=4, first_bar_beat=1)
    assert prof[0] == 2 and prof[2] == 1 and prof.sum() == 3
    assert len(M.onset_profile(acc, beats_per_bar=3)) == 12


def test_groove_overlap_is_a_histogram_intersection():
    p = np.array([4, 0, 2, 0] * 4)
    assert M.groove_overlap(p, p * 3) == 1.0
    assert M.groove_overlap(p, np.roll(p, 1)) == 0.0
    half = M.groove_overlap(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]))
    assert half == 0.5


def test_density():
    assert M.density([(60, 0, 1)] * 6, beats=4) == 1.5


def test_consonance_on_integer_beats_against_the_melody():
    melody = [(72, 0, 4)]                       # C5 for a bar
    acc = [(48, 0, 4), (64, 0, 1), (61, 1, 2)]  # C3 all bar, E4 beat 0, C#4 beat 1
    # beat 0: C3 and E4 consonant; beat 1: C3 yes, C#4 no; beats 2, 3: C3 yes
    assert M.consonance_counts(melody, acc) == (5, 6)


def test_fourth_above_the_bass_is_dissonant_only_as_the_lowest_note():
    melody = [(65, 0, 1)]                  # F4
    assert M.consonance(melody, [(60, 0, 1)]) == 0.0              # C4 alone is the bass
    assert M.consonance(melody, [(48, 0, 1), (60, 0, 1)]) == 0.5  # C3 bass no, C4 above yes
    assert M.consonance(melody, [(53, 0, 1), (60, 0, 1)]) == 1.0  # F3 octave, C4 above


def test_silent_bars_include_the_melodys_rests():
    melody = [(60, 0, 4), (62, 12, 16)]        # bars 0 and 3 sing, 1 and 2 rest
    acc = [(48, 0, 6), (50, 12, 13)]           # bar 1 sounds (held note), bar 2 silent
    assert M.silent_bars(melody, acc, 4) == [2]
    assert M.bars_sounding(melody, acc, 4) == 0.75
    assert M.silent_bars(melody, acc + [(55, 8, 9)], 4) == []


def test_silent_bars_with_a_pickup_count_the_pickup_as_bar_minus_one():
    melody = [(60, 0, 1), (62, 1, 5)]
    assert M.silent_bars(melody, [(48, 1, 5)], 4, first_bar_beat=1) == [-1]
