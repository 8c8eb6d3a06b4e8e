"""The phrase-position inputs of the accompaniment models (issue 26)."""

from __future__ import annotations

import numpy as np

from deepcompose.representations.phrase_position import (
    N_PHRASE,
    PHRASE_BARS,
    TO_END,
    phrase_end_notes,
    phrase_end_onsets,
    phrase_position,
)

# a pickup bar (-1), then bars 0..6 of 4 steps; the last note, G, starts at step 28
BAR = np.repeat(np.arange(-1, 7), 4)
MELODY = np.array([60] * 4 + [62] * 20 + [64] * 4 + [67] * 2 + [-1] * 2)


def test_bars_to_the_phrase_end_and_to_the_melody_end():
    f = phrase_position(BAR, MELODY)
    assert f.shape == (N_PHRASE, len(BAR))
    per_bar = f[:, ::4]  # one column per bar, the pickup first
    assert not per_bar[:PHRASE_BARS + TO_END, 0].any()  # the pickup belongs to no phrase
    to_phrase_end = per_bar[:PHRASE_BARS, 1:].argmax(0)
    assert to_phrase_end.tolist() == [3, 2, 1, 0, 2, 1, 0]  # the last phrase cut short
    to_end = per_bar[PHRASE_BARS:PHRASE_BARS + TO_END, 1:].argmax(0)
    assert to_end.tolist() == [4, 4, 4, 3, 2, 1, 0]


def test_the_last_note_and_its_pitch_class():
    f = phrase_position(BAR, MELODY)
    flag = f[PHRASE_BARS + TO_END]
    assert np.nonzero(flag)[0].tolist() == [28, 29, 30, 31]
    assert (f[-12:].argmax(0) == 67 % 12).all()


def test_a_repeated_last_pitch_is_its_own_note_given_the_onsets():
    melody = np.array([-1] * 4 + [62] * 8 + [-1] * 4)
    onsets = np.zeros(len(melody), bool)
    onsets[[4, 8]] = True
    bar = np.repeat(np.arange(4), 4)
    flag = phrase_position(bar, melody, onsets=onsets)[PHRASE_BARS + TO_END]
    assert np.nonzero(flag)[0].tolist() == [8, 9, 10, 11]
    assert not phrase_position(bar, np.full(16, -1)).any()  # silence: no features


def test_transposed_rows_move_only_the_last_notes_pitch_class():
    from deepcompose.representations.phrase_position import transpose_phrase

    f = phrase_position(BAR, MELODY)
    up = transpose_phrase(f, 3)
    assert (up[-12:].argmax(0) == (67 + 3) % 12).all()
    assert (up[:-12] == f[:-12]).all() and up is not f


def test_phrase_ends_are_the_last_onsets_of_every_nth_bar():
    bar = np.repeat(np.arange(-1, 9), 4)  # a pickup bar, then bars 0..8 of 4 steps
    onset = np.zeros(len(bar), dtype=bool)
    onset[[0, 4, 9, 10, 16, 21, 30, 33]] = True  # bar 1: steps 9 and 10; bar 5: none
    assert phrase_end_onsets(bar, onset, 2) == [10, 16, 33]  # bars 1, 3, (5 silent), 7
    assert phrase_end_onsets(bar, onset, 2, stop=3) == [10]
    assert phrase_end_onsets(bar, onset, 4) == [16, 33]  # bars 3 and 7


def test_a_phrase_end_note_lasts_while_its_pitch_does_within_its_bar():
    bar = np.repeat(np.arange(0, 4), 4)  # bars 0..3 of 4 steps
    melody = np.array([60] * 5 + [62, 62, 64] + [65] * 6 + [-1, -1])
    onset = np.zeros(16, dtype=bool)
    onset[[0, 5, 6, 7, 8]] = True  # step 6 repeats 62: a note of its own
    # bar 1's last note, E at step 7, ends at the bar line; bar 3's last onset is in bar 2
    assert phrase_end_notes(bar, melody, onset, 2) == [(7, 8)]
    assert phrase_end_notes(bar, melody, onset, 1) == [(0, 4), (7, 8), (8, 12)]
