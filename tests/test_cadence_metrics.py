"""Issue 26's measures of endings and chord fullness, on hand-made cases."""

from __future__ import annotations

import math

from deepcompose.metrics import cadence as cad

# C major: melody E-D-C over a I-V-I bass with full chords
MELODY = [(64, 0, 1), (62, 1, 2), (60, 2, 4)]
BASS = [(48, 0, 1), (43, 1, 2), (48, 2, 4)]
CHORDS = [(55, 0, 1), (59, 1, 2), (55, 2, 4), (52, 0, 1), (53, 1, 2), (52, 2, 4)]


def test_an_authentic_cadence_lands_home():
    assert cad.final_bass_home(MELODY, [BASS, CHORDS]) is True
    assert cad.final_clash(MELODY, [BASS, CHORDS]) is False
    shares = cad.harmony_shares(MELODY, [BASS, CHORDS])
    assert shares["full"] == 1.0 and shares["beats"] == 4
    assert shares["tritone"] == 0.25  # the V7 beat: B and F
    assert shares["semitone"] == 0.0  # no minor 2nd or major 7th anywhere


def test_an_ending_on_the_fifth_with_a_cluster_does_not():
    bass = [(48, 0, 1), (43, 1, 4)]
    cluster = [(61, 2, 4)]  # C# against the melody's C
    assert cad.final_bass_home(MELODY, [bass]) is False
    assert cad.final_clash(MELODY, [bass, cluster]) is True
    assert cad.final_bass_home(MELODY, []) is None  # no bass, no verdict


def test_phrase_ends_count_the_bass_under_the_last_note_of_each_phrase():
    bar_lines = [float(4 * k) for k in range(17)]  # 16 bars of 4/4
    melody = [(60, 4 * k, 4 * k + 2) for k in range(16)] + [(67, 30, 32), (72, 62, 64)]
    home = [(48, 0, 64)]
    assert cad.phrase_end_bass(melody, [home], 0, bar_lines) == 1.0
    split = [(48, 0, 30), (50, 30, 32), (43, 32, 64)]  # bar 8 ends on D, bar 16 on G
    assert cad.phrase_end_bass(melody, [split], 0, bar_lines) == 0.5


def test_thin_texture_is_not_full_harmony():
    shares = cad.harmony_shares(MELODY, [BASS])
    assert shares["full"] == 0.0 and math.isnan(shares["semitone"])


def test_a_report_and_its_summary_count_only_tunes_that_end_home():
    home = cad.cadence_report(MELODY, [BASS, CHORDS], bar_lines=[0, 4], tonic=0)
    assert home["ends_home"] and home["bass_home"] and not home["final_clash"]
    away = cad.cadence_report(MELODY, [[(43, 0, 4)]], bar_lines=[0, 4], tonic=7)
    assert not away["ends_home"] and away["bass_home"] is False
    row = cad.summarize([home, away])
    assert row["bass_home"] == 1.0 and row["ends_home"] == 1 and row["pieces"] == 2
    assert row["no_final_clash"] == 1.0


def test_the_tonic_is_read_from_the_notes():
    assert cad.tonic_of(MELODY, [BASS, CHORDS]) == 0
    assert cad.tonic_of([(p + 7, a, b) for p, a, b in MELODY],
                        [[(p + 7, a, b) for p, a, b in BASS]]) == 7


def test_a_melody_ends_in_the_tonic_it_lands_on():
    from deepcompose.keys import ending_key

    assert ending_key(11, "minor", 62) == (2, "major", True)  # B minor read, ends on D: D major
    assert ending_key(11, "minor", 59) == (11, "minor", True)
    assert ending_key(7, "major", 64) == (4, "minor", True)  # G major, ends on its relative E
    assert ending_key(7, "major", 62) == (7, "major", False)  # ends on the 5th: not home


def test_a_tune_that_ends_off_its_tonic_triad_ends_on_its_final():
    """E Dorian reads as D major: a tune on D major's scale that ends on a held E ends home
    on E, minor when it sings G more than G#; a short last E leads back to a repeat, on the
    3rd or 5th it is over I (not home), and with no fifth above the final there is no triad
    to end on."""
    from deepcompose.keys import ending_key, pitch_class_histogram

    dorian = pitch_class_histogram([62, 64, 66, 67, 69, 71, 73, 64, 71, 64],
                                   [2, 3, 1, 2, 2, 2, 1, 2, 1, 4])
    assert ending_key(2, "major", 64, dorian, True) == (4, "minor", True)
    assert ending_key(2, "major", 64) == (2, "major", False)  # no histogram: as before
    assert ending_key(2, "major", 64, dorian, False) == (2, "major", False)  # a lead-back
    assert ending_key(2, "major", 66, dorian, True) == (2, "major", False)  # the 3rd: over I
    assert ending_key(2, "major", 69, dorian, True) == (2, "major", False)  # the 5th: over I
    no_fifth = pitch_class_histogram([62, 64, 66, 67, 69, 73], [2, 2, 2, 2, 2, 2])
    assert ending_key(2, "major", 73, no_fifth, True) == (2, "major", False)  # C# has no G#
    mixed = pitch_class_histogram([64, 68, 68, 71, 62], [1, 2, 2, 1, 1])
    assert ending_key(2, "major", 64, mixed, True) == (4, "major", True)  # sings G#: E major


def test_a_last_note_shorter_than_the_tunes_median_leads_back_to_a_repeat():
    from deepcompose.keys import held_final

    assert held_final(0.5, [0.5, 0.5, 0.25, 1.0, 0.5])  # an 8th ending a tune of 8ths
    assert not held_final(0.25, [0.5, 0.5, 0.25, 1.0, 0.5])  # a 16th after them: a pickup
    assert not held_final(1.0, [])

