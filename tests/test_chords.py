"""Chord labels in (Harte as in POP909, lead-sheet symbols, --chords text and JSON) and out."""

import json

import pytest

from deepcompose.chords import (
    N_CLASSES,
    chord_class,
    chords_per_step,
    class_label,
    harte,
    load_chords,
    parse_chord,
    parse_chord_json,
    parse_chord_text,
    to_harte,
)
from deepcompose.errors import DeepcomposeError


@pytest.mark.parametrize("label, root, pcs, bass", [
    ("A:min7", 9, {9, 0, 4, 7}, 9),
    ("G:maj/3", 7, {7, 11, 2}, 11),         # first inversion: B in the bass
    ("C:min/b3", 0, {0, 3, 7}, 3),
    ("Bb:sus4(b7)", 10, {10, 3, 5, 8}, 10),
    ("F#:hdim7", 6, {6, 9, 0, 4}, 6),
    ("D:maj7/7", 2, {2, 6, 9, 1}, 1),
    ("C:maj(9)", 0, {0, 4, 7, 2}, 0),
    ("C:(1,3,5)", 0, {0, 4, 7}, 0),
])
def test_harte_labels(label, root, pcs, bass):
    assert parse_chord(label) == (root, frozenset(pcs), bass)


@pytest.mark.parametrize("symbol, harte_label, pcs", [
    ("Am7", "A:min7", {9, 0, 4, 7}),
    ("G/B", "G:maj/3", {7, 11, 2}),
    ("F#m7b5", "F#:hdim7", {6, 9, 0, 4}),
    ("Cmaj7", "C:maj7", {0, 4, 7, 11}),
    ("Bb", "Bb:maj", {10, 2, 5}),
    ("Dsus4", "D:sus4", {2, 7, 9}),
    ("E7", "E:7", {4, 8, 11, 2}),
    ("Ebm", "Eb:min", {3, 6, 10}),
    ("C#dim7", "C#:dim7", {1, 4, 7, 10}),
    ("Am/C", "A:min/b3", {9, 0, 4}),
])
def test_common_symbols(symbol, harte_label, pcs):
    assert to_harte(symbol) == harte_label
    assert parse_chord(symbol)[1] == frozenset(pcs)
    assert parse_chord(harte_label)[1:] == parse_chord(symbol)[1:]


def test_no_chord():
    assert parse_chord("N") == (None, frozenset(), None)
    assert to_harte("N.C.") == "N"
    assert chord_class("N") == 0 and class_label(0) == "N"


def test_every_vocabulary_class_round_trips():
    for ix in range(N_CLASSES):
        assert chord_class(class_label(ix)) == ix


def test_harte_formats_inversions():
    assert harte(7, "maj", 11) == "G:maj/3"
    assert harte(9, "min7", 7) == "A:min7/b7"
    assert harte(0, "maj", 0) == "C:maj"


@pytest.mark.parametrize("bad", ["H7", "Cxyz", "", "C:foo", "G:maj/9x", "C/H", "Cb#b#"])
def test_bad_symbols_are_one_line_errors_naming_the_symbol(bad):
    with pytest.raises(DeepcomposeError) as err:
        parse_chord(bad)
    msg = str(err.value)
    assert "\n" not in msg
    assert repr(bad[:40]) in msg


def test_bar_text_divides_bars_evenly():
    out = parse_chord_text("C | G/B | Am7 | F C", beats_per_bar=4)
    assert out == [(0, 4, "C:maj"), (4, 8, "G:maj/3"), (8, 12, "A:min7"),
                   (12, 14, "F:maj"), (14, 16, "C:maj")]


def test_bar_text_in_three_four_with_a_pickup():
    out = parse_chord_text("Dm | G7 C | %", beats_per_bar=3, first_bar_beat=1)
    assert out == [(1, 4, "D:min"), (4, 5.5, "G:7"), (5.5, 7, "C:maj"), (7, 10, "C:maj")]


def test_bar_text_follows_a_change_of_meter():
    # 2 bars of 4/4, a 3/4 bar, then 4/4 again; a change off the bar line cuts the bar short
    out = parse_chord_text("C | G | Am F | Dm | E", 4, meter_changes=[(8, 3, 4), (11, 4, 4)])
    assert out == [(0, 4, "C:maj"), (4, 8, "G:maj"), (8, 9.5, "A:min"), (9.5, 11, "F:maj"),
                   (11, 15, "D:min"), (15, 19, "E:maj")]
    assert [c[0] for c in parse_chord_text("C | G | Am", 4, meter_changes=[(6, 3, 4)])] == [
        0, 4, 6]


def test_bar_text_errors_name_the_bad_symbol():
    with pytest.raises(DeepcomposeError, match="'Xm'"):
        parse_chord_text("C | Xm | F", 4)
    with pytest.raises(DeepcomposeError, match="bar 2"):
        parse_chord_text("C | | F", 4)


def test_json_forms(tmp_path):
    rows = [[4, 8, "G:maj/3"], [0, 4, "Am7"]]
    expected = [(0.0, 4.0, "A:min7"), (4.0, 8.0, "G:maj/3")]
    assert parse_chord_json(rows) == expected
    path = tmp_path / "chords.json"
    path.write_text(json.dumps(rows))
    assert parse_chord_json(str(path)) == expected
    assert load_chords(str(path), 4) == expected
    assert load_chords(rows, 4) == expected
    assert load_chords("Am7 | G/B", 4) == [(0, 4, "A:min7"), (4, 8, "G:maj/3")]


@pytest.mark.parametrize("bad, match", [
    ([[4, 2, "C"]], "start_beat < end_beat"),
    ([[0, 2]], "expected"),
    ({"a": 1}, "list"),
    ([[0, 2, "Q7"]], "'Q7'"),
    ([["0", 2, "C"]], "start_beat"),
])
def test_bad_json(bad, match):
    with pytest.raises(DeepcomposeError, match=match):
        parse_chord_json(bad)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(DeepcomposeError, match="cannot read"):
        parse_chord_json(str(tmp_path / "nope.json"))
    broken = tmp_path / "broken.json"
    broken.write_text("[[0, 1,")
    with pytest.raises(DeepcomposeError, match="not valid JSON"):
        load_chords(str(broken), 4)


def test_chords_per_step():
    steps = chords_per_step([(0, 1, "C:maj"), (1.5, 2, "G:7")], 8)
    assert steps == ["C:maj"] * 4 + ["N"] * 2 + ["G:7"] * 2
