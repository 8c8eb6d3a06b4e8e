"""MusicXML / ABC through music21: pickups, keys, meters, parts, round trips, bad files."""

from __future__ import annotations

import pytest

music21 = pytest.importorskip("music21")
from music21 import converter, corpus  # noqa: E402

from deepcompose.errors import DeepcomposeError  # noqa: E402
from deepcompose.song import Note, Song, Track  # noqa: E402

# essenFolksong/altdeu10 tunes: number -> (meter, pickup in beats)
FOLK = {6: ((3, 4), 1.0), 10: ((6, 8), 1.5), 36: ((4, 4), 3.0)}


def folk(number):
    return corpus.parse("essenFolksong/altdeu10", number=number)


def notes_of(track):
    return [(n.pitch, n.start, n.end) for n in track.notes]


@pytest.mark.parametrize("number", sorted(FOLK))
def test_folk_tune_pickup_meter_key_and_musicxml_round_trip(number, tmp_path):
    score = folk(number)
    song = Song.from_music21(score)
    meter, pickup = FOLK[number]
    assert song.time_signatures[0][1:] == meter and song.pickup == pickup
    assert song.key is not None
    assert len(song.tracks[0].notes) == len(score.flatten().stripTies().notes)
    # The first full bar starts where music21's second measure starts.
    second = score.parts[0].getElementsByClass("Measure")[1]
    assert song.meter().offset == round(float(second.offset) * 4) % song.meter().steps_per_bar
    out = tmp_path / "tune.musicxml"
    song.write(out)
    again = Song.read(out)
    assert notes_of(again.tracks[0]) == notes_of(song.tracks[0])
    assert (again.pickup, again.key, again.time_signatures) == (
        song.pickup, song.key, song.time_signatures)


def test_chorale_to_mxl_opens_in_music21_with_four_parts(tmp_path):
    song = Song.from_music21(corpus.parse("bach/bwv66.6"))
    assert [t.name for t in song.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert song.tempos == [(0.0, 96.0)] and song.key == "F# minor" and song.pickup == 1.0
    out = tmp_path / "chorale.mxl"
    song.write(out)
    score = converter.parse(str(out))
    assert len(score.parts) == 4
    again = Song.read(out)
    assert [notes_of(t) for t in again.tracks] == [notes_of(t) for t in song.tracks]
    assert again.tempos == song.tempos


def test_generated_song_to_musicxml_keeps_parts_tempo_and_pickup(tmp_path):
    song = Song(tracks=[Track("Soprano", 0, False, [Note(72, 0, 1), Note(74, 1, 2.5)]),
                        Track("Bass", 32, False, [Note(48, 0, 3.5)]),
                        Track("Kit", 0, True, [Note(36, 0, 0.5)])],
                tempos=[(0.0, 90.0), (2.0, 60.0)], time_signatures=[(0.0, 3, 4)],
                key="D major", pickup=1.0)
    out = tmp_path / "g.musicxml"
    song.write(out)
    assert len(converter.parse(str(out)).parts) == 3
    again = Song.read(out)
    assert [notes_of(t) for t in again.tracks[:2]] == [notes_of(t) for t in song.tracks[:2]]
    assert again.tempos == song.tempos and again.pickup == 1.0 and again.key == "D major"
    assert again.tracks[1].program == 32


def test_a_quartet_with_a_pickup_keeps_its_timing(tmp_path):
    """A quartet score writes dynamics at the parts' first notes; in a pickup bar they must
    move with the notes, or the short first bar is padded back to a full one and every later
    note comes back a bar-fraction late (a cello note tied over the first bar line)."""
    tune = [Note(67, 0, 1, 90), Note(72, 1, 3, 90), Note(74, 3, 4, 90), Note(76, 4, 7, 90)]
    inner = [Note(64, 0, 1, 100), Note(65, 3, 4, 100), Note(62, 4, 7, 100)]
    cello = [Note(43, 0, 3, 100), Note(55, 3, 4, 96), Note(52, 4, 7, 98)]
    song = Song(tracks=[Track("Violin I", 40, False, tune), Track("Violin II", 40, False, inner),
                        Track("Viola", 41, False, [Note(n.pitch - 12, n.start, n.end, 96)
                                                   for n in inner]),
                        Track("Cello", 42, False, cello)],
                tempos=[(0.0, 100.0)], time_signatures=[(0.0, 3, 4)], pickup=1.0)
    out = tmp_path / "q.musicxml"
    song.write(out)
    assert "<dynamics" in out.read_text()
    again = Song.read(out)
    assert again.pickup == 1.0
    assert [notes_of(t) for t in again.tracks] == [notes_of(t) for t in song.tracks]


@pytest.mark.parametrize("ext", ["musicxml", "mxl"])
def test_programs_read_back_as_the_file_says_not_as_the_instrument_name_implies(tmp_path, ext):
    """music21 turns a part named "Electric Piano" (program 4, the band's keys; the file's
    <midi-program> is 5) into program 2 from the name; the reader takes the file's number."""
    programs = [0, 1, 3, 4, 5, 33, 117, 127]  # music21 misread 1, 3, 4, 5 and 117
    song = Song(tracks=[Track(f"Part {p}", p, False, [Note(60 - i, 0, 1)])
                        for i, p in enumerate(programs)]
                + [Track("Drums", 0, True, [Note(36, 0, 0.5)])])
    out = tmp_path / f"band.{ext}"
    song.write(out)
    again = Song.read(out)
    assert [t.program for t in again.tracks[:-1]] == programs
    assert again.tracks[-1].is_drum
    if ext == "musicxml":
        assert "<midi-program>5</midi-program>" in out.read_text()  # 1-based in the file


def test_inspect_reads_the_band_keys_program_from_musicxml(tmp_path):
    from deepcompose.inspect import describe, format_text

    keys = Track("Keys", 4, False, [Note(60, 0, 2), Note(64, 0, 2)])
    out = tmp_path / "x.musicxml"
    Song(tracks=[Track("Melody", 0, False, [Note(72, 0, 2)]), keys]).write(out)
    assert "Keys  [program 4]" in format_text(describe(Song.read(out), out))


def test_overlapping_notes_of_one_track_survive_as_voices(tmp_path):
    notes = [Note(60, 0, 2), Note(64, 1, 3), Note(67, 1, 1.5), Note(72, 1, 1.5)]
    Song(tracks=[Track("Piano", 0, False, notes)]).write(tmp_path / "p.musicxml")
    again = Song.read(tmp_path / "p.musicxml")
    assert len(again.tracks) == 1
    assert sorted(notes_of(again.tracks[0])) == sorted((n.pitch, n.start, n.end) for n in notes)


def test_unrepresentable_times_round_to_twelfths(tmp_path):
    song = Song.from_tuples([(60, 0.0, 0.9), (62, 1.02, 0.3)])
    song.write(tmp_path / "r.musicxml")
    got = notes_of(Song.read(tmp_path / "r.musicxml").tracks[0])
    assert got == [(60, 0.0, pytest.approx(11 / 12)), (62, 1.0, pytest.approx(4 / 3))]


ABC = """X:1
T:First
M:6/8
L:1/8
K:D
A|d2f a2f|e3 c3|d6||
X:2
T:Second
M:4/4
K:C
CDEF GABc|
"""


def test_abc_file_gives_its_first_tune_with_pickup(tmp_path):
    path = tmp_path / "tunes.abc"
    path.write_text(ABC)
    song = Song.read(path)
    assert song.time_signatures[0][1:] == (6, 8) and song.pickup == 0.5
    assert song.key == "D major"
    assert [n.pitch for n in song.tracks[0].notes] == [69, 74, 78, 81, 78, 76, 73, 74]


@pytest.mark.parametrize("name, data, words", [
    ("empty.musicxml", b"", "empty"),
    ("junk.musicxml", b"\x00\x01not xml at all", "not valid MusicXML"),
    ("cut.musicxml", b"<?xml version='1.0'?><score-partwise><part-list>", "not valid MusicXML"),
    ("junk.mxl", b"PK\x03\x04garbage", "not a valid .mxl"),
])
def test_bad_notation_files_are_clear_errors(tmp_path, name, data, words):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DeepcomposeError) as err:
        Song.read(path)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_oversized_notation_is_refused(tmp_path):
    path = tmp_path / "big.xml"
    with open(path, "wb") as f:
        f.truncate(5 * 2**20)
    with pytest.raises(DeepcomposeError, match="limit is 4 MiB"):
        Song.read(path)


def test_music21_chorales_become_satb_grids():
    from deepcompose.data import load_music21_chorales

    grids = load_music21_chorales(limit=3)
    assert len(grids) >= 2
    for g in grids:
        assert g.shape[0] == 4 and g.dtype.name == "int16" and g.shape[1] > 64
        sounding = (g >= 0).all(axis=0)
        s, a, t, b = g[:, sounding]
        assert (s >= a).mean() > 0.9 and (t >= b).mean() > 0.9
