"""Metrics: hand-made cases with known answers, and the calibration on Bach's chorales."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from deepcompose import metrics
from deepcompose.data import load_jsb
from deepcompose.representations.voices import Meter, empty_grid
from deepcompose.song import Note, Song, Track

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from baselines import random_scale, tonic_triad  # noqa: E402

C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]


def scale_melody(pitches=C_MAJOR, dur=1.0):
    return [(p, i * dur, (i + 1) * dur) for i, p in enumerate(pitches)]


# ---------------------------------------------------------------------- harmony


def test_parallel_fifth_is_counted():
    melody = [(72, 0, 1), (74, 1, 2)]
    below = [(65, 0, 1), (67, 1, 2)]  # a fifth below, both move up a step
    assert metrics.harmony(melody, [below])["parallels"] == pytest.approx(100.0)


def test_parallel_octave_between_two_parts_is_counted():
    melody = [(79, 0, 2)]  # held: no motion in the melody
    parts = [[(60, 0, 1), (62, 1, 2)], [(48, 0, 1), (50, 1, 2)]]
    assert metrics.harmony(melody, parts)["parallels"] == pytest.approx(100.0)


def test_contrary_and_oblique_motion_are_not_parallels():
    melody = [(72, 0, 1), (74, 1, 2)]
    contrary = [(60, 0, 1), (50, 1, 2)]  # octave -> two octaves, opposite directions
    assert metrics.harmony(melody, [contrary])["parallels"] == 0.0
    held = [(65, 0, 2)]  # fifth -> sixth by oblique motion
    assert metrics.harmony(melody, [held])["parallels"] == 0.0
    sixths = [(63, 0, 1), (65, 1, 2)]  # similar motion, not a fifth or octave
    assert metrics.harmony(melody, [sixths])["parallels"] == 0.0


def test_chords_in_one_part_are_split_into_lines():
    melody = [(84, 0, 2)]  # held
    chords = [(60, 0, 1), (64, 0, 1), (67, 0, 1), (62, 1, 2), (65, 1, 2), (69, 1, 2)]
    m = metrics.harmony(melody, [chords])  # C-E-G -> D-F-A: the outer lines move in fifths
    assert m["parallels"] == pytest.approx(100.0)
    assert m["polyphony"] == 3.0


def test_parallels_are_per_100_transitions():
    # four transitions (every beat), one of them a parallel fifth -> 25 per 100
    melody = [(72, 0, 1), (74, 1, 2), (72, 2, 3), (71, 3, 4), (72, 4, 5)]
    part = [(65, 0, 1), (67, 1, 2), (64, 2, 3), (67, 3, 4), (64, 4, 5)]
    assert metrics.harmony(melody, [part])["parallels"] == pytest.approx(25.0)


def test_consonance_counts_each_pair_and_the_fourth_rule():
    melody = [(72, 0, 2)]
    assert metrics.harmony(melody, [[(64, 0, 2)], [(48, 0, 2)]])["consonance"] == 1.0
    # melody C5 over G4 alone: a fourth above the lowest note -> dissonant
    assert metrics.harmony(melody, [[(67, 0, 2)]])["consonance"] == 0.0
    # the same G4 over a C3 bass: the fourth is fine; the bass makes an octave
    assert metrics.harmony(melody, [[(67, 0, 2)], [(48, 0, 2)]])["consonance"] == 1.0
    # a major second and a tritone: 0 of 2 pairs
    assert metrics.harmony(melody, [[(70, 0, 2)], [(66, 0, 2)]])["consonance"] == 0.0


def test_consonance_looks_only_at_integer_beats():
    melody = [(72, 0, 2)]
    part = [(64, 0, 0.5), (71, 0.5, 1), (67, 1, 2)]  # the B4 clash sits off the beat
    m = metrics.harmony(melody, [part, [(48, 0, 2)]])
    assert m["consonance"] == 1.0


def test_consonance_counts_the_true_beats_of_a_pickup():
    # 6/8 with an 8th-note pickup: bar lines at beats 0.5, 3.5, ... so beats at 0.5, 1.5, ...
    melody = [(72, 0, 4)]
    part = [(64, 0, 0.5), (71, 0.5, 1), (64, 1, 1.5), (71, 1.5, 2), (64, 2, 4)]  # B4 on beats
    pickup = Meter(12, 2)
    assert metrics.harmony(melody, [part])["consonance"] == 1.0  # integer beats: E4 only
    m = metrics.harmony(melody, [part], meter=pickup)
    assert m["consonance"] == pytest.approx(2 / 4)  # 0.5 and 1.5 clash, 2.5 and 3.5 do not
    assert metrics.on_beat_consonance(melody, [part], pickup) == m["consonance"]
    assert metrics.on_beat_consonance(melody, [part], pickup, bars=True) == 0.5  # 0.5, 3.5


def test_keyfit_is_one_for_the_scale_and_drops_for_chromatic_notes():
    melody = scale_melody()
    assert metrics.harmony(melody, [scale_melody([p - 12 for p in C_MAJOR])])["keyfit"] == 1.0
    part = [(48, 0, 6), (54, 6, 8)]  # F#: 2 of 8 beats off the scale of C major
    assert metrics.harmony(melody, [part])["keyfit"] == pytest.approx(0.75)


def test_keyfit_uses_the_raised_seventh_in_minor():
    melody = [(69, 0, 2), (71, 2, 3), (72, 3, 4), (76, 4, 6), (68, 6, 7), (69, 7, 9)]
    assert metrics.harmony(melody, [[(56, 0, 2)]], key=(9, "minor"))["keyfit"] == 1.0
    assert metrics.harmony(melody, [[(56, 0, 2)]], key=(9, "major"))["keyfit"] == 1.0
    assert metrics.harmony(melody, [[(58, 0, 2)]], key=(9, "minor"))["keyfit"] == 0.0


def test_coverage_polyphony_tiny_and_above():
    melody = [(72, 0, 4)]
    parts = [[(76, 0, 1), (60, 1, 2)],  # E5 above the melody for one beat
             [(48, 0, 2), (50, 2, 2.0625)]]  # a 1/16-beat note: tiny
    m = metrics.harmony(melody, parts)
    assert m["coverage"] == pytest.approx(9 / 16)  # steps 0-8 covered (the tiny note: 1 step)
    assert m["polyphony"] == pytest.approx((8 * 2 + 1) / 9)
    assert m["tiny_notes"] == pytest.approx(1 / 4)
    assert m["above_melody"] == pytest.approx(4 / 17)


def test_voice_range_and_crossing():
    melody = [(72, 0, 2)]
    parts = [[(60, 0, 1), (67, 1, 2)], [(48, 0, 1), (69, 1, 2)]]  # tenor crosses alto in beat 2
    m = metrics.harmony(melody, parts)
    assert m["voice_range"] == pytest.approx((7 + 21) / 2)
    assert m["voice_crossing"] == pytest.approx(0.5)


def test_empty_accompaniment_gives_nan_not_a_perfect_score():
    m = metrics.harmony(scale_melody(), [[]])
    assert math.isnan(m["consonance"]) and m["coverage"] == 0.0


# ---------------------------------------------------------------------- MuseGAN


def roll_of(tracks, steps):
    roll = np.zeros((len(tracks), steps, 128), dtype=bool)
    for k, notes in enumerate(tracks):
        for pitch, a, b in notes:
            roll[k, a:b, pitch] = True
    return roll


def test_chroma_is_pitch_mod_12():
    roll = roll_of([[(60, 0, 4), (72, 0, 4)]], 16)  # C4 and C5
    c = metrics.chroma(roll[0])
    assert c[0] == 8 and c.sum() == 8
    assert metrics.musegan(roll, 16)["used_pitch_classes"] == 1.0
    roll = roll_of([[(60, 0, 4), (61, 4, 8), (73, 8, 12)]], 16)  # C, C#, C# an octave up
    assert metrics.musegan(roll, 16)["used_pitch_classes"] == 2.0


def test_empty_bars_counts_empty_ones():
    roll = roll_of([[(60, 0, 16), (62, 16, 32)], [(48, 0, 8)]], 32)  # 2 bars of 4/4
    m = metrics.musegan(roll, 16)
    assert m["per_track"]["empty_bars"] == [0.0, 0.5]
    assert m["empty_bars"] == pytest.approx(0.25)


def test_bars_start_after_the_pickup():
    roll = roll_of([[(60, 0, 4)], [(48, 4, 16)]], 16)
    m = metrics.musegan(roll, 12, offset=4)  # the C4 is all pickup
    assert m["per_track"]["empty_bars"] == [1.0, 0.0]


def test_qualified_notes_and_polyphonicity():
    roll = roll_of([[(60, 0, 2), (62, 2, 6)]], 16)  # 2 steps (not qualified) and 4 steps
    assert metrics.musegan(roll, 16)["qualified_notes"] == 0.5
    chord = roll_of([[(60, 0, 8), (64, 0, 8), (67, 0, 8), (72, 8, 16)]], 16)
    assert metrics.musegan(chord, 16)["polyphonicity"] == 0.5
    voices = roll_of([[(72, 0, 16)], [(64, 0, 8)], [(48, 0, 16)]], 16)
    m = metrics.musegan(voices, 16)
    assert m["polyphonicity"] == 0.0 and m["polyphonicity_union"] == 0.5


def test_tonal_centroid_follows_harte_2006():
    c = np.zeros(12)
    c[0] = 1.0
    assert metrics.tonal_centroid(c) == pytest.approx([0, 1, 0, 1, 0, 0.5])
    # a fifth apart sits closer on the circle of fifths than a tritone
    g, fs = np.roll(c, 7), np.roll(c, 6)
    d = lambda a, b: np.linalg.norm(metrics.tonal_centroid(a) - metrics.tonal_centroid(b))  # noqa
    assert d(c, g) < d(c, fs)


def test_tonal_distance_zero_for_same_harmony_and_octave_blind():
    same = roll_of([[(60, 0, 16), (64, 0, 16)], [(48, 0, 16), (76, 0, 16)]], 16)
    assert metrics.musegan(same, 16)["tonal_distance"] == pytest.approx(0.0, abs=1e-9)
    far = roll_of([[(60, 0, 16), (64, 0, 16)], [(54, 0, 16), (58, 0, 16)]], 16)
    assert metrics.musegan(far, 16)["tonal_distance"] > 0.5


# ---------------------------------------------------------------------- conveniences


def test_grid_and_song_metrics_agree():
    grid = empty_grid(4, 16)
    grid[0, :8], grid[0, 8:] = 72, 74
    grid[1, :8], grid[1, 8:] = 65, 67  # parallel fifth with the melody
    grid[3] = 48  # the tenor row stays empty
    g = metrics.grid_metrics(grid, Meter(16, 0))
    assert g["parallels"] == pytest.approx(100.0) and g["coverage"] == 1.0
    rows = metrics.grid_notes(grid)
    song = Song(tracks=[Track("Melody", notes=[Note(p, a, b) for p, a, b in rows[0]]),
                        Track("Alto", notes=[Note(p, a, b) for p, a, b in rows[1]]),
                        Track("Drums", is_drum=True, notes=[Note(36, 0, 0.25)]),
                        Track("Tenor"),
                        Track("Bass", notes=[Note(p, a, b) for p, a, b in rows[3]])])
    s = metrics.song_metrics(song, 0)
    for k in ("consonance", "keyfit", "parallels", "polyphony", "coverage", "empty_bars"):
        assert s[k] == pytest.approx(g[k], nan_ok=True), k
    assert g["empty_bars"] == pytest.approx(0.25)  # one of four tracks has no note


# ---------------------------------------------------------------------- calibration


@pytest.fixture(scope="module")
def jsb_test_rows():
    return [metrics.grid_notes(g) for g in load_jsb("test")]


def test_bach_calibration_on_the_jsb_test_split(jsb_test_rows):
    bach = metrics.average([metrics.harmony(r[0], r[1:]) for r in jsb_test_rows])
    assert 0.85 <= bach["consonance"] <= 0.97
    assert bach["keyfit"] >= 0.88
    assert bach["parallels"] <= 1.5
    assert 2.8 <= bach["polyphony"] <= 3.0 and bach["coverage"] >= 0.98


def test_naive_baselines_score_below_bach(jsb_test_rows):
    rand = metrics.average([metrics.harmony(r[0], random_scale(r[0], seed=1))
                            for r in jsb_test_rows])
    triad = metrics.average([metrics.harmony(r[0], tonic_triad(r[0])) for r in jsb_test_rows])
    assert 0.55 <= rand["consonance"] <= 0.72 and rand["parallels"] >= 5
    assert 0.65 <= triad["consonance"] <= 0.78
