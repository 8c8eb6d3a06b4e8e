"""The OpenScore String Quartets data layer (issue 22): reading MusicXML, the shipped cache,
the split by work."""

import time

import numpy as np
import pytest

from deepcompose.data import quartet_score as S
from deepcompose.data import quartets as Q
from deepcompose.errors import DeepcomposeError

BRAHMS_1 = "Brahms,_Johannes/String_Quartet_No.1,_Op.51_No.1"
K464 = "Mozart,_Wolfgang_Amadeus/String_Quartet_No.18_in_A_major,_K.464_(Op._10,_No._5)"


@pytest.fixture(scope="module")
def movements():
    return Q.load_quartets()


def test_the_cache_loads_in_well_under_a_second():
    Q._load.cache_clear()
    t = time.perf_counter()
    movements = Q.load_quartets()
    assert time.perf_counter() - t < 1.0
    assert len(movements) > 350


def test_every_movement_has_four_parts_in_sane_ranges(movements):
    pitches = {r: np.concatenate([m.parts[r][:, 0] for m in movements]) for r in Q.PARTS}
    assert (pitches["violin1"] >= 55).mean() > 0.99 and (pitches["violin2"] >= 55).mean() > 0.99
    assert (pitches["viola"] >= 48).mean() > 0.99 and (pitches["cello"] >= 36).mean() > 0.99
    assert (pitches["cello"] < 60).mean() > 0.8
    ordered = 0
    for m in movements:
        assert set(m.parts) == set(Q.PARTS) and all(len(a) for a in m.parts.values())
        means = [m.parts[r][:, 0].mean() for r in Q.PARTS]
        ordered += means == sorted(means, reverse=True)
        for a in m.parts.values():
            assert (a[:, 2] > a[:, 1]).all() and a[:, 1].min() >= 0
            assert a[:, 1].max() < m.length + 1e-6
            assert ((a[:, 3] >= 1) & (a[:, 3] <= 127)).all()
            assert (np.diff(a[:, 1]) >= 0).all()
        assert m.time_signatures[0][0] == 0 and m.bar_lines[0] == 0
        assert (np.diff(m.bar_lines) > 0).all() and 0 <= m.pickup < 8
    assert ordered / len(movements) > 0.9


def test_a_meter_change_and_a_pickup_survive(movements):
    brahms = [m for m in movements if m.work == BRAHMS_1]
    assert [m.title for m in brahms] == ["I.", "II. Romanze", "III", "IV"]
    third = brahms[2]
    assert third.time_signatures == [(0.0, 4, 8), (176.5, 3, 4)]
    assert third.pickup == 0.5 and third.bar_lines[1] == 0.5
    assert any(abs(b - 176.5) < 1e-9 for b in third.bar_lines)
    first = brahms[0]
    assert first.time_signatures == [(0.0, 3, 2), (1356.0, 2, 2)]
    assert [k[:2] for k in first.key_signatures] == [(0.0, -3), (516.0, 0), (684.0, 4),
                                                          (810.0, -3)]


def test_dynamics_reach_the_velocities(movements):
    vel = np.concatenate([m.parts[r][:, 3] for m in movements for r in Q.PARTS])
    values = set(np.unique(vel).astype(int))
    assert {S.LEVELS["pp"], S.LEVELS["p"], S.LEVELS["f"], S.LEVELS["ff"]} <= values
    assert (vel == S.DEFAULT_LEVEL).mean() < 0.5


def test_split_is_by_work_and_about_ten_percent(movements):
    train, valid = Q.load_split("quartets", "train"), Q.load_split("quartets", "valid")
    assert len(train) + len(valid) == len(movements)
    tw, vw = {m.work for m in train}, {m.work for m in valid}
    assert not tw & vw and vw == set(Q.VALID_WORKS)
    assert 0.08 < len(vw) / len(tw | vw) < 0.12
    assert {m.score_id for m in valid if m.work == K464} == {7070781, 7075297, 7078259}
    with pytest.raises(DeepcomposeError):
        Q.load_split("quartets", "test")
    with pytest.raises(DeepcomposeError):
        Q.load_split("pop909", "train")


def test_the_cache_matches_a_fresh_parse(movements):
    work, sid, path = next(f for f in Q.score_files() if f[1] == 8438915)
    fresh = S.read_score(path, work, sid)
    cached = [m for m in movements if m.score_id == sid]
    assert len(fresh) == len(cached) == 2
    for a, b in zip(fresh, cached, strict=True):
        assert (a.title, a.length, a.pickup) == (b.title, b.length, b.pickup)
        assert a.time_signatures == b.time_signatures and a.key_signatures == b.key_signatures
        assert np.array_equal(a.bar_lines, b.bar_lines)
        for r in Q.PARTS:
            assert np.array_equal(a.parts[r], b.parts[r])


def test_excerpts_start_on_a_bar_line(movements):
    m = next(m for m in movements if m.work == BRAHMS_1 and m.number == 3)
    ex = m.excerpts(16)
    assert len(ex) == 2 and ex[0].first_bar == 1                  # after the pickup
    for e in ex:
        assert len(e.bar_lines) == 17 and e.bar_lines[0] == 0 and e.length == e.bar_lines[-1]
        assert e.melody and len(e.accompaniment) == 3
        for part in e.parts.values():
            assert all(0 <= n[1] < e.length and n[2] <= e.length for n in part)
    assert ex[0].time_signatures == [(0.0, 4, 8)]
    assert m.excerpt(len(m.bar_lines) - 3, 16) is None


def _write_score(path):
    """A tiny quartet: 1-beat pickup in 4/4, a tie over the bar line, a grace note, then
    3/4 with a double stop marked sf on beat 2."""
    from music21 import chord, dynamics, instrument, key, meter, note, stream, tie

    score = stream.Score()
    for name, inst, (p0, p1, p2, p3) in (
            ("Violin I", instrument.Violin(), ("A4", "D5", "D5", "A5")),
            ("Violin II", instrument.Violin(), ("F#4", "A4", "F#4", "D5")),
            ("Viola", instrument.Viola(), ("D4", "F#4", "A3", "D4")),
            ("Violoncello", instrument.Violoncello(), ("D3", "D3", "D2", "A2"))):
        part = stream.Part()
        part.partName = name
        part.insert(0, inst)
        m0 = stream.Measure(number=0)
        m0.append([meter.TimeSignature("4/4"), key.KeySignature(2), dynamics.Dynamic("p"),
                   note.Note(p0, quarterLength=1)])
        m0.paddingLeft = 3
        m1 = stream.Measure(number=1)
        m1.append(note.Note(p1).getGrace())
        for kind in ("start", "continue"):
            n = note.Note(p1, quarterLength=2)
            n.tie = tie.Tie(kind)
            m1.append(n)
        m2 = stream.Measure(number=2)
        end = note.Note(p1, quarterLength=1)
        end.tie = tie.Tie("stop")
        m2.append([meter.TimeSignature("3/4"), end])
        m2.insert(1, dynamics.Dynamic("sf"))
        m2.insert(1, chord.Chord([p2, p3], quarterLength=1))
        m2.insert(2, note.Note(p0, quarterLength=1))
        part.append([m0, m1, m2])
        score.append(part)
    score.write("musicxml", fp=str(path))


def test_read_score_merges_ties_drops_grace_notes_keeps_double_stops(tmp_path):
    path = tmp_path / "tiny.musicxml"
    _write_score(path)
    (m,) = S.read_score(path)
    assert m.pickup == 1.0 and m.length == 8.0
    assert m.time_signatures == [(0.0, 4, 4), (5.0, 3, 4)]
    assert m.key_signatures == [(0.0, 2, "")]
    assert list(m.bar_lines) == [0.0, 1.0, 5.0]
    assert m.notes("violin1") == [(69, 0.0, 1.0, 49), (74, 1.0, 6.0, 49), (74, 6.0, 7.0, 112),
                                  (81, 6.0, 7.0, 112), (69, 7.0, 8.0, 49)]
    assert [n[0] for n in m.notes("cello")] == [50, 50, 38, 45, 50]


def test_part_roles_by_name():
    assert S.part_roles(["Violin 1", "Violin 2", "Viola", "Violoncello"]) == list(Q.PARTS)
    assert S.part_roles(["Vl. II", "Vl. I", "Vla.", "Vc."]) == [
        "violin2", "violin1", "viola", "cello"]
    assert S.part_roles(["Violin", "Violin", "Viola", "Cello", "Cello"])[:2] == [
        "violin1", "violin2"]
    assert S.part_roles(["Piano"]) == [None]


def test_velocities_follow_levels_and_accents():
    ev = S.velocity_events([(0.0, "p"), (2.0, "sf"), (4.0, "fp"), (6.0, "hairpin?")])
    vel = S.apply_velocities([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], ev)
    assert list(vel) == [49, 49, 112, 49, 96, 49]
    assert list(S.apply_velocities([0.0], [])) == [S.DEFAULT_LEVEL]


def test_merge_ties_extends_only_the_note_that_ends_there():
    events = [(60, 0, 1, "start"), (64, 0, 1, None), (60, 1, 2, "continue"),
              (60, 2, 3, "stop"), (60, 3, 4, "stop")]  # a stray stop starts a new note
    assert S.merge_ties(events) == [[60, 0, 3], [64, 0, 1], [60, 3, 4]]
