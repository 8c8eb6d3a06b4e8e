"""compose(): input forms, task plans, the melody carried through untouched."""

import numpy as np
import pytest

import deepcompose
from deepcompose.errors import DeepcomposeError
from deepcompose.plans.voices import octave_shift, parse_bars
from deepcompose.representations.bars import BarMap
from deepcompose.representations.voices import REST
from deepcompose.song import Note, Song, Track

MELODY = [(67, 0.0, 0.9, 90), (69, 1.0, 0.5, 80), (71, 1.5, 0.5, 80), (72, 2.0, 2.0, 100),
          (71, 4.0, 1.0, 90), (69, 5.0, 1.0, 90), (67, 6.0, 2.0, 90)]


def rounded(rows):
    return [tuple(round(x, 6) for x in r) for r in rows]


def melody_song(ts=(4, 4)):
    return Song.from_tuples(MELODY, tempo=96, time_signature=ts)


def test_accompany_keeps_melody_notes_exactly(chord_model):
    song = deepcompose.compose(melody_song(), model=chord_model, seed=1)
    got = [(n.pitch, n.start, n.end - n.start, n.velocity) for n in song.tracks[0].notes]
    assert rounded(got) == rounded(MELODY)
    assert [t.name for t in song.tracks[1:]] == ["Alto", "Tenor", "Bass"]
    assert all(t.notes for t in song.tracks[1:])
    assert song.tempos[0][1] == 96


def test_unquantized_melody_is_not_requantized(chord_model):
    notes = [(64, 0.03, 0.71, 77), (65, 1.02, 0.93, 64)]
    song = deepcompose.compose(notes, model=chord_model)
    got = [(n.start, n.end, n.velocity) for n in song.tracks[0].notes]
    assert rounded(got) == [(0.03, 0.74, 77), (1.02, 1.95, 64)]


def test_same_seed_same_notes_other_seed_differs(chord_model):
    a = deepcompose.compose(MELODY, model=chord_model, seed=3).to_notes()
    b = deepcompose.compose(MELODY, model=chord_model, seed=3).to_notes()
    c = deepcompose.compose(MELODY, model=chord_model, seed=4).to_notes()
    assert a == b
    assert a != c


def test_continue_appends_bars_in_the_melody_track(chord_model):
    song = deepcompose.compose(MELODY, model=chord_model, task="continue", bars=2)
    melody = song.tracks[0].notes
    assert [(n.pitch, n.start) for n in melody[: len(MELODY)]] == [(p, s) for p, s, *_ in MELODY]
    assert max(n.end for n in melody) == pytest.approx(8.0 + 2 * 4)
    assert max(n.end for n in song.tracks[3].notes) == pytest.approx(16.0)


def test_infill_keeps_notes_outside_the_bars(chord_model):
    first = deepcompose.compose(MELODY + [(p + 12, s + 8, d, v) for p, s, d, v in MELODY],
                                model=chord_model, seed=1)
    again = deepcompose.compose(first, model=chord_model, task="infill", bars="2:2", seed=9)
    assert len(again.tracks) == len(first.tracks)
    for before, after in zip(first.tracks, again.tracks, strict=True):
        outside = [n for n in before.notes if n.end <= 4.0 or n.start >= 8.0]
        assert outside, before.name
        assert all(n in after.notes for n in outside)
        assert any(4.0 <= n.start < 8.0 for n in after.notes)


def test_enhance_iterations_zero_returns_melody_unchanged(chord_model):
    song = deepcompose.compose(MELODY, model=chord_model, task="enhance", iterations=0)
    assert [(n.pitch, n.start, n.end) for n in song.tracks[0].notes] == [
        (p, s, s + d) for p, s, d, _ in MELODY]
    edited = deepcompose.compose(MELODY, model=chord_model, task="enhance", iterations=5)
    assert edited.tracks[0].notes != song.tracks[0].notes


def test_octave_shift_moves_melody_into_soprano_range():
    row = np.array([84, 86, 88, REST, 91], dtype=np.int16)
    assert octave_shift(row) == -12
    assert octave_shift(np.array([40, 43, 45], dtype=np.int16)) == 24
    assert octave_shift(np.array([REST], dtype=np.int16)) == 0


def test_high_melody_parts_stay_below_it(chord_model):
    high = [(p + 24, s, d, v) for p, s, d, v in MELODY]
    song = deepcompose.compose(high, model=chord_model)
    assert max(n.pitch for n in song.tracks[1].notes) < min(p for p, *_ in high)


def test_parse_bars_with_and_without_pickup():
    four, three = BarMap.of([(0, 4, 4)]), BarMap.of([(0, 3, 4)], pickup=1.0)
    assert parse_bars("2:3", four, 200) == (16, 48)
    assert parse_bars("1:1", three, 200) == (4, 16)  # pickup of 4 steps is bar 0
    assert parse_bars("0:0", three, 200) == (0, 4)
    with pytest.raises(DeepcomposeError, match="bar 0 is a pickup"):
        parse_bars("0:1", four, 200)
    with pytest.raises(DeepcomposeError, match="outside the piece"):
        parse_bars("50:60", four, 100)


@pytest.mark.parametrize("kwargs, message", [
    (dict(model="nope"), "unknown model"),
    (dict(model="gan", task="enhance"), "cannot do task"),
    (dict(model="gan", task="dance"), "unknown task"),
    (dict(model="gan", temperature=-1), "temperature"),
    (dict(model="gan", ensemble="kazoo"), "ensemble must be one of piano"),
])
def test_bad_requests_are_clear_errors(kwargs, message):
    with pytest.raises(DeepcomposeError, match=message):
        deepcompose.compose(MELODY, **kwargs)


def test_input_forms_agree(chord_model, tmp_path):
    song = melody_song()
    path = tmp_path / "m.mid"
    song.write(path)
    by_tuples = deepcompose.compose(MELODY, model=chord_model, seed=2)
    by_song = deepcompose.compose(song, model=chord_model, seed=2)
    by_path = deepcompose.compose(str(path), model=chord_model, seed=2)
    by_pm = deepcompose.compose(song.to_pretty_midi(), model=chord_model, seed=2)
    ref = [(n.pitch, n.start, n.end) for t in by_song.tracks for n in t.notes]
    for other in (by_tuples, by_path, by_pm):
        got = [(n.pitch, n.start, n.end) for t in other.tracks for n in t.notes]
        assert rounded(got) == rounded(ref)


def test_compose_rejects_unknown_input_type(chord_model):
    with pytest.raises(DeepcomposeError, match="cannot compose from"):
        deepcompose.compose(3.5, model=chord_model)


def test_drums_only_is_a_clear_error(chord_model):
    song = Song(tracks=[Track("Drums", 0, True, [Note(36, 0, 1, 100)])])
    with pytest.raises(DeepcomposeError):
        deepcompose.compose(song, model=chord_model)


def four_track_song() -> Song:
    """Melody, pad chords, a flute line above the melody, drums: 4 bars of 4/4."""
    melody = [Note(p, b, b + 1, 90) for b, p in enumerate([72, 74, 76, 77, 79, 77, 76, 74,
                                                            72, 71, 72, 74, 76, 74, 72, 72])]
    pad = [Note(p, b * 4, b * 4 + 4, 60) for b in range(4) for p in (60, 64, 67)]
    flute = [Note(p, b * 2, b * 2 + 2, 70) for b, p in enumerate([84, 86, 88, 89, 91, 89, 88,
                                                                   86])]
    drums = [Note(36 if b % 2 == 0 else 38, b, b + 0.25, 100) for b in range(16)]
    return Song(tracks=[Track("Melody", 0, False, melody), Track("Pad", 89, False, pad),
                        Track("Flute", 73, False, flute), Track("Drums", 0, True, drums)],
                tempos=[(0.0, 100.0)])


def test_infill_on_four_tracks_changes_only_the_chosen_bars_and_adds_no_track():
    song = four_track_song()
    out = deepcompose.compose(song, model="arcnn", task="infill", bars="2:3", seed=2)
    assert [t.name for t in out.tracks] == ["Melody", "Pad", "Flute", "Drums"]
    for before, after in zip(song.tracks[1:], out.tracks[1:], strict=True):
        # the pad (chords), the flute (above the melody) and the drums cannot be voices
        assert after.notes == before.notes and after.program == before.program
    outside = [n for n in song.tracks[0].notes if n.end <= 4 or n.start >= 12]
    kept = [n for n in out.tracks[0].notes if n.end <= 4 or n.start >= 12]
    assert kept == outside  # the melody outside bars 2-3 is identical
    assert all(4 <= n.start < 12 for n in out.tracks[0].notes if n not in outside)
