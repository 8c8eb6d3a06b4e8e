"""Song: JSON and tuples, tempo map, bars and meter, piano rolls, melody selection, writes."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepcompose import limits
from deepcompose.errors import DeepcomposeError
from deepcompose.representations.voices import REST, Meter
from deepcompose.song import Note, Song, Track

G_MAJOR_TUNE = [(67, 0, 1, 90), (71, 1, 0.5, 80), (74, 1.5, 0.5, 80), (72, 2, 1, 90),
                (69, 3, 1, 70), (66, 4, 1, 90), (67, 5, 3, 100)]


def test_tuples_to_notes_and_back():
    song = Song.from_tuples(G_MAJOR_TUNE, tempo=96, time_signature=(3, 4))
    d = song.to_notes()
    assert d["tempo"] == 96 and d["time_signature"] == [3, 4]
    assert d["tracks"][0]["notes"][1] == {"pitch": 71, "start": 1, "duration": 0.5,
                                          "velocity": 80}
    again = Song.from_notes(json.loads(json.dumps(d)))
    assert again == song


def test_notes_request_accepts_the_design_schema():
    obj = {"tempo": 96, "time_signature": [4, 4],
           "tracks": [{"name": "Soprano", "program": 0, "is_drum": False,
                       "notes": [{"pitch": 67, "start": 0.0, "duration": 0.9, "velocity": 90}]}]}
    song = Song.from_notes(obj)
    assert song.tracks[0].notes == [Note(67, 0.0, 0.9, 90)]
    assert song.tempos == [(0.0, 96.0)]
    melody_only = Song.from_notes({"notes": [[60, 0, 1], [62, 1, 1, 50]], "model": "gan"})
    assert [(n.pitch, n.velocity) for n in melody_only.tracks[0].notes] == [(60, 90), (62, 50)]


def test_json_file_round_trip_keeps_tempo_map_meter_key_pickup(tmp_path):
    song = Song(tracks=[Track("Lead", 73, False, [Note(72, 0, 0.5), Note(74, 0.5, 2.25, 64)]),
                        Track("Kit", 0, True, [Note(36, 0, 0.25)])],
                tempos=[(0.0, 100.0), (1.5, 72.5)], time_signatures=[(0.0, 6, 8), (3.5, 2, 4)],
                key="B- major", pickup=0.5)
    song.write(tmp_path / "s.json")
    again = Song.read(tmp_path / "s.json")
    assert again == song


@pytest.mark.parametrize("obj, words", [
    ([1, 2], "must be an object"),
    ({"melody": []}, "needs 'tracks' or 'notes'"),
    ({"notes": [{"pitch": 128, "start": 0, "duration": 1}]}, "pitch must be between 0 and 127"),
    ({"notes": [{"pitch": True, "start": 0, "duration": 1}]}, "pitch must be an integer"),
    ({"notes": [{"pitch": "60", "start": 0, "duration": 1}]}, "pitch must be an integer"),
    ({"notes": [{"pitch": 60, "start": -1, "duration": 1}]}, "start must be between"),
    ({"notes": [{"pitch": 60, "start": float("nan"), "duration": 1}]}, "start must be between"),
    ({"notes": [{"pitch": 60, "start": 0, "duration": 0}]}, "duration must be positive"),
    ({"notes": [{"pitch": 60, "start": 0, "duration": float("inf")}]}, "duration must be"),
    ({"notes": [{"pitch": 60, "start": 0, "duration": 1, "velocity": 0}]}, "velocity"),
    ({"notes": [{"pitch": 60, "duration": 1}]}, "needs 'start'"),
    ({"notes": [[60, 0]]}, "must be an object or"),
    ({"notes": "C D E"}, "must be a list"),
    ({"notes": [], "tempo": 0}, "tempo must be between"),
    ({"notes": [], "tempo": "fast"}, "tempo must be a number"),
    ({"notes": [], "time_signature": [3, 5]}, "power of 2"),
    ({"notes": [], "time_signature": [4]}, "time_signature must be"),
    ({"notes": [], "key": "H major"}, "key must look like"),
    ({"tracks": [{"notes": [], "program": 200}]}, "program must be between"),
    ({"tracks": [{"notes": [], "is_drum": "yes"}]}, "is_drum must be true or false"),
    ({"tracks": ["piano"]}, "tracks[0] must be an object"),
    ({"notes": [[60, 19_999, 5]]}, "longer than 20,000 beats"),
])
def test_bad_json_values_are_clear_errors(obj, words):
    with pytest.raises(DeepcomposeError) as err:
        Song.from_notes(obj)
    assert words in str(err.value) and "\n" not in str(err.value)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                               max_size=4),
    max_leaves=12)
NOTE_FIELDS = st.fixed_dictionaries({}, optional={
    "pitch": JSON_VALUES | st.integers(0, 127), "start": JSON_VALUES | st.floats(0, 100),
    "duration": JSON_VALUES | st.floats(0, 10), "velocity": JSON_VALUES | st.integers(1, 127)})
REQUESTS = st.fixed_dictionaries({}, optional={
    "tempo": JSON_VALUES, "time_signature": JSON_VALUES, "tempos": JSON_VALUES,
    "time_signatures": JSON_VALUES, "key": JSON_VALUES | st.sampled_from(["G major", "x"]),
    "pickup": JSON_VALUES,
    "notes": st.lists(NOTE_FIELDS | JSON_VALUES, max_size=5) | JSON_VALUES,
    "tracks": st.lists(st.fixed_dictionaries({}, optional={
        "name": JSON_VALUES, "program": JSON_VALUES, "is_drum": JSON_VALUES,
        "notes": st.lists(NOTE_FIELDS, max_size=4)}) | JSON_VALUES, max_size=3)})


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(REQUESTS | JSON_VALUES)
def test_hypothesis_json_requests_read_or_fail_cleanly(obj):
    try:
        song = Song.from_notes(obj)
    except DeepcomposeError as e:
        assert "\n" not in str(e)
        return
    json.dumps(song.to_notes(), allow_nan=False)  # what was accepted is valid JSON again
    assert all(0 <= n.pitch <= 127 and n.end > n.start >= 0 for t in song.tracks for n in t.notes)


def test_too_many_notes_is_refused():
    with pytest.raises(DeepcomposeError, match="more than 100,000"):
        Song.from_notes({"notes": [[60, 0, 1]] * (limits.MAX_NOTES + 1)})


def test_tempo_map_converts_beats_and_seconds():
    song = Song(tracks=[], tempos=[(0.0, 120.0), (4.0, 60.0), (6.0, 240.0)])
    assert song.beats_to_seconds(4) == pytest.approx(2.0)
    assert song.beats_to_seconds(6) == pytest.approx(4.0)
    assert song.beats_to_seconds(10) == pytest.approx(5.0)
    for b in (0, 1.3, 4, 5.5, 6, 9.75):
        assert song.seconds_to_beats(song.beats_to_seconds(b)) == pytest.approx(b)


def test_tempo_and_meter_maps_are_normalized():
    song = Song(tracks=[], tempos=[(2.0, 90.0), (1.0, 100.0)],
                time_signatures=[(4.0, 3, 4), (4.0, 3, 4)])
    assert song.tempos == [(0.0, 100.0), (1.0, 100.0), (2.0, 90.0)]
    assert song.time_signatures == [(0.0, 3, 4)]


@pytest.mark.parametrize("sigs, pickup, length, bars, meter", [
    ([(0, 4, 4)], 0, 8, 2, Meter(16, 0)),
    ([(0, 4, 4)], 0, 8.5, 3, Meter(16, 0)),
    ([(0, 4, 4)], 1, 9, 3, Meter(16, 4)),
    ([(0, 3, 4)], 1, 7, 3, Meter(12, 4)),
    ([(0, 6, 8)], 1.5, 7.5, 3, Meter(12, 6)),
    ([(0, 4, 4), (8, 3, 4)], 0, 14, 4, Meter(16, 0)),
    ([(0, 2, 2)], 0, 4, 1, Meter(16, 0)),
    ([(0, 4, 4), (16, 3, 4), (22, 4, 4)], 0, 23, 7, Meter(16, 0)),
    ([(0, 4, 4), (6, 3, 4)], 0, 10, 4, Meter(16, 0)),  # the change cuts bar 2 short
    ([(0, 3, 4), (10, 4, 4)], 1, 15, 6, Meter(12, 4)),
])
def test_bars_and_meter(sigs, pickup, length, bars, meter):
    song = Song(tracks=[Track(notes=[Note(60, 0, length)])], time_signatures=sigs, pickup=pickup)
    assert song.bars() == bars
    assert song.meter() == meter


def test_bar_map_follows_the_time_signatures_and_the_pickup():
    song = Song(tracks=[Track(notes=[Note(60, 0, 30)])],
                time_signatures=[(0, 3, 4), (10, 4, 4)], pickup=1)
    bars = song.bar_map()
    assert bars.lines(18) == [1, 4, 7, 10, 14, 18] and bars.span(0, 0) == (0, 1)
    assert bars.span(4, 5) == (10, 18) and bars.index(9.5) == 3
    assert song.bars() == bars.count(song.length_beats) == 9  # the pickup and 8 bars


def test_estimated_key_ignores_drums_and_keeps_the_signature_apart():
    song = Song.from_tuples(G_MAJOR_TUNE)
    song.tracks.append(Track("Kit", 0, True, [Note(37, 0, 8)] * 5))
    song.key = "C major"
    assert song.estimated_key() == (7, "major")
    assert song.key == "C major"


def test_pianoroll_round_trip():
    rng = np.random.default_rng(0)
    roll = rng.random((3, 64, 24)) < 0.1
    song = Song.from_pianoroll(roll, steps_per_beat=4, pitch_low=48, names=["a", "b", "c"],
                               programs=[0, 40, 32], tempo=90)
    assert [t.program for t in song.tracks] == [0, 40, 32] and song.tempos == [(0.0, 90.0)]
    again = song.pianoroll(steps_per_beat=4, pitch_range=(48, 72))
    last = np.flatnonzero(roll.any(axis=(0, 2)))[-1] + 1
    assert again.shape == (3, last, 24)
    assert (again == roll[:, :last]).all()


def test_pianoroll_views():
    song = Song(tracks=[Track("m", notes=[Note(60, 0, 1), Note(90, 0.9, 1.02)]),
                        Track("b", notes=[Note(40, 0, 2)])])
    roll = song.pianoroll(steps_per_beat=2, pitch_range=(50, 80), tracks=["m"])
    assert roll.shape == (1, 4, 30) and roll.dtype == bool
    assert roll[0, :2, 10].all() and not roll[0, 2:, 10].any()  # 90 is outside the range
    full = song.pianoroll()
    assert full.shape == (2, 8, 128) and full[0, 4, 90] and not full[0, [3, 5], 90].any()


def test_melody_row_is_the_top_line_on_the_16th_grid():
    song = Song(tracks=[Track("piano", notes=[
        Note(60, 0, 1), Note(64, 0, 0.5), Note(67, 1, 1.02), Note(55, 1.49, 2.01)])])
    row = song.melody_row(0)
    assert row.dtype == np.int16 and len(row) == 9
    assert list(row) == [64, 64, 60, 60, 67, REST, 55, 55, REST]
    assert list(song.melody_row(0, steps=4)) == [64, 64, 60, 60]


def test_melody_row_keeps_very_short_notes():
    song = Song(tracks=[Track(notes=[Note(70, 0.3, 0.33), Note(72, 1.0, 1.05)])])
    assert list(song.melody_row(0)) == [REST, 70, REST, REST, 72]


def track(name, pitches, drum=False, dur=1.0):
    return Track(name, 0, drum, [Note(p, i * dur, (i + 1) * dur) for i, p in enumerate(pitches)])


def test_default_melody_is_the_highest_non_drum_track():
    song = Song(tracks=[track("Bass", [40, 43]), track("Kit", [80, 81], drum=True),
                        track("Piano", [64, 67]), track("Strings", [60, 62]), track("Empty", [])])
    assert song.melody_index() == 2


def test_mean_pitch_is_weighted_by_duration():
    held_low = Track("a", 0, False, [Note(50, 0, 8), Note(90, 8, 8.25)])  # mean ~51
    song = Song(tracks=[held_low, track("b", [65, 66])])
    assert song.melody_index() == 1


def test_melody_named_tracks_win_and_ties_go_to_more_notes():
    song = Song(tracks=[track("Piano RH", [80, 82]), track("Lead Vocal", [60, 62])])
    assert song.melody_index() == 1
    tie = Song(tracks=[track("x", [60, 64], dur=2), track("y", [60, 64, 60, 64])])
    assert tie.melody_index() == 1


def test_chosen_track_by_name_or_index():
    song = Song(tracks=[track("Bass", [40]), track("Kit", [36], drum=True), track("Flute", [72])])
    assert song.melody_index("bass") == 0 and song.melody_index(0) == 0
    assert song.melody_index("0") == 0 and song.melody_index("Flute") == 2
    with pytest.raises(DeepcomposeError, match="drum track"):
        song.melody_index(1)
    with pytest.raises(DeepcomposeError, match="no track 7; the tracks are 0:Bass"):
        song.melody_index(7)
    with pytest.raises(DeepcomposeError, match="no track named 'Oboe'"):
        song.melody_index("Oboe")


def test_no_melody_errors():
    with pytest.raises(DeepcomposeError, match="no notes"):
        Song(tracks=[Track("a")]).melody_index()
    with pytest.raises(DeepcomposeError, match="only drum notes"):
        Song(tracks=[track("Kit", [36], drum=True)]).melody_index()


def test_length():
    song = Song(tracks=[track("a", [60, 62, 64])], tempos=[(0.0, 60.0)])
    assert song.length_beats == 3 and song.length_seconds == pytest.approx(3)
    assert Song(tracks=[]).length_beats == 0 and Song(tracks=[]).bars() == 0


# ---------------------------------------------------------------------- writing


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_unknown_extension_writes_nothing(tmp_path):
    with pytest.raises(DeepcomposeError, match="unknown extension"):
        Song.from_tuples(G_MAJOR_TUNE).write(tmp_path / "out.docx")
    assert leftovers(tmp_path) == []


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    out = tmp_path / "out.musicxml"
    out.write_text("old")

    def broken(song, title=None):
        raise RuntimeError("disk on fire")

    import deepcompose.io.notation  # noqa: F401  (imported before the patch, as in real use)

    monkeypatch.setattr("deepcompose.io.notation_write.song_to_music21", broken)
    with pytest.raises(RuntimeError):
        Song.from_tuples(G_MAJOR_TUNE).write(out)
    assert out.read_text() == "old" and leftovers(tmp_path) == ["out.musicxml"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permissions")
def test_unwritable_folder_is_a_clear_error(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(DeepcomposeError, match="cannot write"):
            Song.from_tuples(G_MAJOR_TUNE).write(tmp_path / "x.mid")
    finally:
        tmp_path.chmod(0o700)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DeepcomposeError, match="does not exist"):
        Song.from_tuples(G_MAJOR_TUNE).write(tmp_path / "nope" / "x.mid")


def test_write_replaces_atomically(tmp_path):
    out = tmp_path / "out.mid"
    out.write_bytes(b"old")
    Song.from_tuples(G_MAJOR_TUNE).write(out)
    assert out.read_bytes()[:4] == b"MThd" and leftovers(tmp_path) == ["out.mid"]
    assert math.isclose(Song.read(out).length_beats, 8)


def test_disk_full_is_a_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("deepcompose.atomic.os.replace", full)
    with pytest.raises(DeepcomposeError, match="disk full: cannot write .*x.json"):
        Song.from_tuples(G_MAJOR_TUNE).write(tmp_path / "x.json")
    assert leftovers(tmp_path) == []


def test_huge_integer_time_is_a_clear_error():
    with pytest.raises(DeepcomposeError, match="start"):
        Song.from_notes({"notes": [[60, 10**400, 1]]})
