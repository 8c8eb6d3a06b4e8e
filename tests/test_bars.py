"""The one bar map (representations.bars): BarMap numbers bars through changes of meter,
agrees with the functions the band and drums walk, and infill's --bars counts with it."""

from __future__ import annotations

import itertools

import pytest

import deepcompose
from deepcompose.representations.bars import (
    Bar,
    BarMap,
    bar_index,
    iter_bars,
    meter_stretches,
)
from deepcompose.song import Note, Song, Track

# 4 bars of 4/4, 2 bars of 3/4 from beat 16, 4/4 again from beat 22
CHANGES = [(0, 4, 4), (16, 3, 4), (22, 4, 4)]


def test_a_change_of_meter_moves_every_later_bar():
    bars = BarMap.of(CHANGES)
    assert bars.pickup == 0 and bars.first_bar == 1
    assert [(b.number, b.start, b.end) for b in bars.bars(30)] == [
        (1, 0, 4), (2, 4, 8), (3, 8, 12), (4, 12, 16), (5, 16, 19), (6, 19, 22),
        (7, 22, 26), (8, 26, 30)]
    assert bars.bars(30)[4] == Bar(5, 16.0, 19.0, (3, 4)) and bars.bars(30)[4].length == 3
    assert bars.start(6) == 19 and bars.end(6) == 22 and bars.span(6, 6) == (19, 22)
    assert bars.span(4, 7) == (12, 26)
    assert [bars.index(b) for b in (0, 3.99, 16, 18.9, 19, 21.9, 22, 26)] == [
        1, 1, 5, 5, 6, 6, 7, 8]
    assert bars.lines(22) == [0, 4, 8, 12, 16, 19, 22]
    assert bars.count(22) == 6 and bars.count(22.5) == 7 and bars.count(0) == 0


def test_a_pickup_is_bar_zero():
    bars = BarMap.of([(0, 4, 4), (17, 3, 4)], pickup=1.0)
    assert bars.pickup == 1 and bars.first_bar == 0
    assert bars.start(0) == 0 and bars.end(0) == 1 and bars.start(1) == 1
    assert bars.span(5, 6) == (17, 23)
    assert [bars.index(b) for b in (0, 0.5, 1, 16.9, 17, 20)] == [0, 0, 1, 4, 5, 6]
    assert bars.bars(5)[0] == Bar(0, 0.0, 1.0, (4, 4))
    assert bars.lines(9) == [1, 5, 9]  # the pickup's start is no bar line
    assert bars.count(1) == 1 and bars.count(2) == 2
    with pytest.raises(ValueError, match="no pickup"):
        BarMap.of(CHANGES).start(0)


def test_a_change_off_the_bar_line_cuts_the_bar_before_it_short():
    bars = BarMap.of([(0, 4, 4), (6, 3, 4)])
    assert [(b.start, b.end, b.meter) for b in bars.bars(12)] == [
        (0, 4, (4, 4)), (4, 6, (4, 4)), (6, 9, (3, 4)), (9, 12, (3, 4))]
    assert bars.index(5) == 2 and bars.index(6) == 3


def test_pickup_counts_modulo_the_first_bar_like_the_meter():
    assert BarMap.of([(0, 3, 4)], pickup=4.0) == BarMap.of([(0, 3, 4)], pickup=1.0)
    assert BarMap.of([(0, 6, 8)], pickup=1.5).lines(8) == [1.5, 4.5, 7.5]


@pytest.mark.parametrize("pickup", [0.0, 1.0, 2.5])
def test_bar_map_and_the_bands_functions_are_one_count(pickup):
    """BarMap is the band's walk numbered from 1: bar n of the map is bar_index n - 1."""
    changes = ((16 + pickup, 3, 4), (22 + pickup, 6, 8), (31 + pickup, 4, 4))
    stretches = meter_stretches(4.0, pickup, changes)
    bars = BarMap.of([(0, 4, 4), *changes], pickup)
    walked = [start for start, *_ in itertools.islice(iter_bars(stretches), 12)]
    assert bars.lines(walked[-1]) == walked
    for beat in [x / 4 for x in range(0, 45 * 4)]:
        assert bars.index(beat) == max(bar_index(beat, stretches) + 1, bars.first_bar), beat
        n = bars.index(beat)
        assert bars.start(n) <= beat < bars.end(n)


def test_song_counts_its_bars_on_the_map():
    song = Song(tracks=[Track(notes=[Note(60, 0, 26)])], time_signatures=CHANGES)
    assert song.bar_map() == BarMap.of(CHANGES)
    assert song.bars() == 7
    song.pickup = 1.0
    assert song.bar_map().start(1) == 1 and song.bars() == 8


# ---------------------------------------------------------------------- infill --bars


def changing_meter_song(pickup: float = 0.0) -> Song:
    """A melody and a lower line on every beat through 4/4 -> 3/4 -> 4/4 (shifted by the
    pickup): 4 bars of 4/4, 2 of 3/4, 3 of 4/4."""
    length = int(34 + pickup)
    tune = [67, 69, 71, 72, 74, 72, 71, 69]
    melody = [Note(tune[i % 8], float(i), i + 1.0, 90) for i in range(length)]
    alto = [Note(tune[i % 8] - 5, float(i), i + 1.0, 70) for i in range(length)]
    sigs = [(0, 4, 4), (16 + pickup, 3, 4), (22 + pickup, 4, 4)]
    return Song(tracks=[Track("Melody", 0, False, melody), Track("Alto", 0, False, alto)],
                time_signatures=sigs, pickup=pickup)


@pytest.mark.parametrize("pickup, bars, span", [
    (0.0, "6:6", (19, 22)),   # the second 3/4 bar, not beats 20-24 (bar 6 counted in 4/4)
    (0.0, "5:7", (16, 26)),
    (1.0, "6:6", (20, 23)),
    (1.0, "0:0", (0, 1)),     # the pickup
])
def test_infill_regenerates_exactly_the_bars_of_the_map(pickup, bars, span):
    song = changing_meter_song(pickup)
    assert song.bar_map().span(*(int(x) for x in bars.split(":"))) == span
    out = deepcompose.compose(song, model="arcnn", task="infill", bars=bars, seed=1)
    a, b = span
    assert [t.name for t in out.tracks] == ["Melody", "Alto"]
    for before, after in zip(song.tracks, out.tracks, strict=True):
        outside = [n for n in before.notes if n.end <= a or n.start >= b]
        assert [n for n in after.notes if n.end <= a or n.start >= b] == outside
        new = [n for n in after.notes if n not in outside]
        assert not [n for n in before.notes if a <= n.start < b and n in after.notes]
        assert new and all(a <= n.start and n.end <= b for n in new)
        assert sum(n.end - n.start for n in new) == pytest.approx(b - a)  # the span, all of it
    assert out.time_signatures == song.time_signatures and out.pickup == song.pickup
