"""MusicXML a musician can read (issue 12, item 7): key signature, spelling and few
accidentals, clefs by range, part names, title, no music21 credits, chord symbols."""

from __future__ import annotations

import re

import pytest

music21 = pytest.importorskip("music21")
from music21 import converter, corpus  # noqa: E402

from deepcompose.io.notation_write import spelling  # noqa: E402
from deepcompose.song import Note, Song, Track  # noqa: E402

# A diatonic reel in D (from MIDI: no key signature event, so the key is estimated).
REEL = """X:1
T:Test Reel
M:4/4
L:1/8
K:D
|:A2FA dAFA|B2GB dBGB|A2FA dAfd|egfe d2 d2:|
|:f2df afdf|g2eg bgeg|f2df afdf|egfe d2 d2:|
"""


def xml_of(song: Song, tmp_path, name="score.musicxml") -> str:
    path = tmp_path / name
    song.write(path)
    return path.read_text(encoding="utf-8")


def accidentals(xml: str) -> list[str]:
    return re.findall(r"<accidental[^>]*>([a-z-]+)</accidental>", xml)


def clefs(xml: str) -> list[tuple[str, str, str]]:
    """``(sign, line, octave change)`` of every clef, in part order."""
    out = []
    for c in re.findall(r"<clef[^>]*>(.*?)</clef>", xml, re.S):
        sign = re.search(r"<sign>(\w+)</sign>", c).group(1)
        line = (re.search(r"<line>(\d)</line>", c) or re.search("()", "")).group(1)
        octave = (re.search(r"<clef-octave-change>(-?\d)</clef-octave-change>", c)
                  or re.search("()", "")).group(1)
        out.append((sign, line, octave))
    return out


@pytest.fixture(scope="module")
def reel_song(tmp_path_factory):
    """The reel written to MIDI by music21 and read back, with the key signature dropped."""
    path = tmp_path_factory.mktemp("reel") / "Test Reel.mid"
    converter.parse(REEL, format="abc").write("midi", fp=str(path))
    song = Song.read(path)
    song.key = None
    return song


def test_diatonic_tune_gets_the_estimated_key_and_no_accidentals(reel_song, tmp_path):
    assert reel_song.estimated_key() == (2, "major")
    xml = xml_of(reel_song, tmp_path)
    assert re.findall(r"<fifths>(-?\d+)</fifths>", xml) == ["2"]
    assert accidentals(xml) == []
    # F# and C# are written as F and C under the key signature: alter 1, no accidental.
    assert "<step>F</step>\n          <alter>1</alter>" in xml


def test_the_source_key_wins_and_pitches_are_spelled_in_it(tmp_path):
    """B-flat major: B-flat and E-flat, never A-sharp or D-sharp; the one E natural of the
    tune gets its natural, and the E-flat after it in the same bar gets its flat back."""
    pitches = [70, 72, 74, 75, 77, 79, 81, 82, 81, 79, 77, 76, 75, 74, 72, 70]
    song = Song(tracks=[Track("Melody", 0, False,
                              [Note(p, i * 0.5, i * 0.5 + 0.5) for i, p in enumerate(pitches)])],
                key="B- major")
    xml = xml_of(song, tmp_path)
    assert re.findall(r"<fifths>(-?\d+)</fifths>", xml) == ["-2"]
    assert "<step>A</step>\n          <alter>1</alter>" not in xml
    assert "<step>D</step>\n          <alter>1</alter>" not in xml
    assert accidentals(xml) == ["natural", "flat"]


@pytest.mark.parametrize("tonic,mode,expected", [
    (10, "major", {10: "B-", 3: "E-", 4: "E", 1: "D-", 6: "F#"}),
    (5, "major", {10: "B-", 11: "B", 1: "C#", 6: "F#"}),
    (4, "major", {8: "G#", 1: "C#", 3: "D#"}),
    (9, "minor", {7: "G", 8: "G#", 6: "F#", 10: "B-"}),
    (2, "minor", {1: "C#", 10: "B-", 11: "B", 3: "E-"}),
])
def test_spelling_in_the_key(tonic, mode, expected):
    names = spelling(tonic, mode)
    assert {pc: names[pc] for pc in expected} == expected
    assert sorted(names) == list(range(12))


def test_chorale_prints_no_more_accidentals_than_music21s_own_score(tmp_path):
    """bwv66.6 (F-sharp minor): our score shows at most the accidentals music21's own
    engraving of the chorale shows (the issue saw a natural on 87 notes of a folk tune)."""
    score = corpus.parse("bach/bwv66.6")
    theirs = tmp_path / "theirs.musicxml"
    score.write("musicxml", fp=str(theirs))
    song = Song.from_music21(score)
    xml = xml_of(song, tmp_path)
    assert re.findall(r"<fifths>(-?\d+)</fifths>", xml) == ["3"] * 4
    assert len(accidentals(xml)) <= len(accidentals(theirs.read_text()))
    assert "natural" not in accidentals(xml) or accidentals(xml).count("natural") <= 3


def test_no_music21_credits_and_the_title(reel_song, tmp_path):
    xml = xml_of(reel_song, tmp_path, "Kesh Jig.musicxml")
    assert "Music21" not in xml
    assert "<work-title>Kesh Jig</work-title>" in xml  # no title of its own: the file's stem
    assert "<movement-title>Kesh Jig</movement-title>" in xml
    reel_song.title = "The Test Reel"
    path = tmp_path / "out.musicxml"
    reel_song.write(path)
    assert "<work-title>The Test Reel</work-title>" in path.read_text()
    assert Song.read(path).title == "The Test Reel"
    reel_song.title = None
    assert Song.from_music21(Song(tracks=reel_song.tracks).to_music21()).title == "Untitled"


def test_clefs_by_range_part_names_and_instruments(tmp_path):
    def line(pitches, start=0.0):
        return [Note(p, start + i, start + i + 1) for i, p in enumerate(pitches)]
    song = Song(tracks=[
        Track("Soprano", 73, False, line([72, 74, 76, 77, 79, 77, 76, 74])),
        Track("Alto", 0, False, line([64, 65, 67, 69, 67, 65, 64, 62])),
        Track("Tenor", 0, False, line([55, 57, 59, 60, 59, 57, 55, 53])),
        Track("Bass", 32, False, line([43, 45, 47, 48, 41, 43, 36, 43])),
        Track("Drums", 0, True, line([36, 38, 36, 38, 36, 38, 36, 38])),
    ])
    xml = xml_of(song, tmp_path)
    assert clefs(xml) == [("G", "2", ""), ("G", "2", ""), ("G", "2", "-1"), ("F", "4", ""),
                          ("percussion", "", "")]
    assert re.findall(r"<part-name>([^<]*)</part-name>", xml) == [
        "Soprano", "Alto", "Tenor", "Bass", "Drums"]
    assert "<instrument-name>Flute</instrument-name>" in xml
    assert "<part-abbreviation>Sop.</part-abbreviation>" in xml
    # the drums carry no key signature; the pitched parts do
    assert len(re.findall(r"<fifths>", xml)) == 4
    back = Song.read(tmp_path / "score.musicxml")
    assert [t.name for t in back.tracks] == ["Soprano", "Alto", "Tenor", "Bass", "Drums"]
    assert [[(n.pitch, n.start, n.end) for n in t.notes] for t in back.tracks[:4]] == [
        [(n.pitch, n.start, n.end) for n in t.notes] for t in song.tracks[:4]]


def test_chords_round_trip_as_harmony(tmp_path):
    chords = [(0.0, 4.0, "C:maj"), (4.0, 6.0, "A:min7"), (6.0, 8.0, "G:maj/3"),
              (10.0, 12.0, "C:7"), (12.0, 14.0, "Bb:sus4(b7)"), (14.0, 16.0, "F#:hdim7")]
    song = Song(tracks=[Track("Melody", 0, False, [Note(72, b, b + 1) for b in range(16)]),
                        Track("Bass", 32, False, [Note(36, b, b + 4) for b in range(0, 16, 4)])],
                chords=chords + [(8.0, 10.0, "N")])
    xml = xml_of(song, tmp_path)
    assert len(re.findall("<harmony", xml)) == 7  # six chords and the N.C. at beat 8
    assert '<kind text="N.C.">none</kind>' in xml
    assert "<bass-step>B</bass-step>" in xml and '<kind text="m7">minor-seventh</kind>' in xml
    # Chord symbols sit above the melody only.
    parts = re.findall(r"<part id=.*?</part>", xml, re.S)
    assert "<harmony" in parts[0] and "<harmony" not in parts[1]
    back = Song.read(tmp_path / "score.musicxml")
    assert back.chords == chords
    # common symbols are written too, and come back as Harte labels
    song.chords = [(0.0, 8.0, "Am7"), (8.0, 16.0, "G/B")]
    back = Song.read(_write(song, tmp_path / "common.musicxml"))
    assert back.chords == [(0.0, 8.0, "A:min7"), (8.0, 16.0, "G:maj/3")]


def test_a_chord_changing_under_a_held_note_adds_no_visible_rests(tmp_path):
    """A syncopated melody note held over a chord change (beat 1.5-2.5 over a change at
    beat 2): one voice, the chord symbols above it and no rests drawn under it (only the
    line's own 8th rest at beat 1), and the notes and chords read back as written."""
    notes = [Note(69, 0, 0.5), Note(72, 0.5, 1), Note(76, 1.5, 2.5), Note(74, 2.5, 3),
             Note(72, 3, 4), Note(74, 4, 8)]
    chords = [(0.0, 2.0, "A:min"), (2.0, 4.0, "G:maj"), (4.0, 6.0, "F:maj"),
              (6.0, 8.0, "C:maj")]
    song = Song(tracks=[Track("Melody", 0, False, notes)], chords=chords)
    xml = xml_of(song, tmp_path)
    assert "<backup>" not in xml and len(re.findall(r"<rest", xml)) == 1
    back = Song.read(tmp_path / "score.musicxml")
    assert back.chords == chords
    assert [(n.pitch, n.start, n.end) for n in back.tracks[0].notes] == [
        (n.pitch, n.start, n.end) for n in notes]


def _write(song, path):
    song.write(path)
    return path


def test_chords_under_a_pickup_land_on_their_beats(tmp_path):
    song = Song(tracks=[Track("Melody", 0, False, [Note(67, 0, 1)] +
                              [Note(72, b, b + 1) for b in range(1, 13)])],
                time_signatures=[(0.0, 3, 4)], pickup=1.0,
                chords=[(0.0, 1.0, "G:7"), (1.0, 4.0, "C:maj"), (4.0, 13.0, "F:maj")])
    back = Song.read(_write(song, tmp_path / "p.musicxml"))
    assert back.pickup == 1.0
    assert back.chords == song.chords
    assert [(n.pitch, n.start) for n in back.tracks[0].notes][:3] == [(67, 0.0), (72, 1.0),
                                                                      (72, 2.0)]


def test_abc_title_and_chord_symbols_are_read(tmp_path):
    path = tmp_path / "kesh.abc"
    path.write_text('X:1\nT:The Kesh\nM:6/8\nL:1/8\nK:G\n"G"D|GAG "D"ABA|"G"G2B "C"c2d:|\n')
    song = Song.read(path)
    assert song.title == "The Kesh" and song.pickup == 0.5
    assert song.chords == [(0.0, 2.0, "G:maj"), (2.0, 3.5, "D:maj"), (3.5, 5.0, "G:maj"),
                           (5.0, 6.5, "C:maj")]
    assert len(song.tracks[0].notes) == 11  # chord symbols are not notes


def test_band_score_drums_on_a_percussion_staff_and_chords_over_the_melody(tmp_path):
    """Drums are unpitched hits on the 16th grid (no microtiming tuplets); the chord
    symbols sit on the melody's part, not on the counter-melody's."""
    drums = [Note(36, 0.02, 0.2, 100), Note(42, 0.49, 0.6, 70), Note(38, 1.03, 1.2, 90),
             Note(42, 1.5, 1.6, 70)]
    song = Song(tracks=[Track("Melody", 0, False, [Note(72, 0, 2), Note(74, 2, 4)]),
                        Track("Counter", 0, False, [Note(84, 0, 4)]),
                        Track("Drums", 0, True, drums)], chords=[(0.0, 4.0, "C:maj")])
    path = tmp_path / "band.musicxml"
    song.write(path)
    xml = path.read_text()
    drum_part = xml[xml.rindex("<part id"):]
    assert drum_part.count("<unpitched>") == 4 and "<pitch>" not in drum_part
    assert "<time-modification>" not in xml  # no tuplets from microtiming
    first_part = xml[xml.index("<part id"):xml.index("</part>")]
    assert "<harmony" in first_part
