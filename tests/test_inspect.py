"""inspect: describe() counts exactly the notes pretty_midi counts on real melodies."""

from __future__ import annotations

import json

import mido
import pretty_midi
import pytest

from deepcompose.inspect import describe, format_text
from deepcompose.song import Note, Song, Track

music21 = pytest.importorskip("music21")
from music21 import corpus  # noqa: E402

# Folk tunes from music21's corpus: 3/4, 6/8 and 4/4 with pickups, and 3/4 without one.
TUNES = [("essenFolksong/altdeu10", 6), ("essenFolksong/altdeu10", 10),
         ("essenFolksong/altdeu10", 36), ("essenFolksong/altdeu10", 8)]
VARIANTS = ["plain", "type0", "tempo_changes", "drums", "type0_tempo_drums"]


@pytest.fixture(scope="module")
def tune_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tunes")
    paths = {}
    for work, number in TUNES:
        path = folder / f"tune{number}.mid"
        corpus.parse(work, number=number).write("midi", fp=str(path))
        paths[number] = path
    return paths


def make_variant(src, variant, out):
    mid = mido.MidiFile(src)
    tpb = mid.ticks_per_beat
    if "tempo" in variant:  # tempo changes every 3 beats, some while notes are held
        changes = [mido.MetaMessage("set_tempo", tempo=t, time=tpb * 3 + tpb // 3)
                   for t in (400000, 750000, 520000, 1000000)]
        mid.tracks[0] = mido.MidiTrack([m for m in mid.tracks[0] if m.type != "end_of_track"]
                                       + changes + [mido.MetaMessage("end_of_track")])
    if "drums" in variant:  # a kick on every beat of 40 beats, channel 10
        kit = mido.MidiTrack([mido.MetaMessage("track_name", name="Drums")])
        for i in range(40):
            kit += [mido.Message("note_on", channel=9, note=36, velocity=100,
                                 time=tpb // 2 if i else 0),
                    mido.Message("note_off", channel=9, note=36, time=tpb // 2)]
        mid.tracks.append(kit)
    if "type0" in variant:
        mid = mido.MidiFile(type=0, ticks_per_beat=tpb, tracks=[mido.merge_tracks(mid.tracks)])
    mid.save(out)
    return out


def pretty_midi_count(path):
    pm = pretty_midi.PrettyMIDI(str(path))
    return sum(1 for i in pm.instruments if not i.is_drum for n in i.notes if n.end > n.start)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("number", [n for _, n in TUNES])
def test_inspect_counts_the_notes_pretty_midi_counts(tune_files, tmp_path, number, variant):
    path = make_variant(tune_files[number], variant, tmp_path / f"{variant}.mid")
    d = describe(Song.read(path), path)
    expected = pretty_midi_count(path)
    assert expected > 20
    assert d["notes"] == expected
    assert sum(t["notes"] for t in d["tracks"] if not t["is_drum"]) == expected
    assert any(t["is_drum"] for t in d["tracks"]) == ("drums" in variant)
    assert (len(d["tempos"]) > 1) == ("tempo" in variant)
    assert mido.MidiFile(path).type == (0 if "type0" in variant else 1)


def test_describe_has_the_documented_keys(tune_files):
    song = Song.read(tune_files[10])
    d = json.loads(json.dumps(describe(song, tune_files[10])))
    for key in ("tracks", "tempo_bpm", "tempos", "time_signature", "time_signatures", "bars",
                "key", "key_signature", "length_beats", "length_seconds"):
        assert key in d
    assert set(d["tracks"][0]) == {"name", "program", "is_drum", "notes"}
    assert d["time_signature"] == [6, 8] and d["tempo_bpm"] == 120
    assert d["length_seconds"] == pytest.approx(d["length_beats"] / 2)


def test_describe_values_and_text():
    song = Song(tracks=[Track("Lead", 73, False, [Note(67, 0, 1), Note(71, 1, 2), Note(74, 2, 4),
                                                  Note(66, 4, 5), Note(67, 5, 9)]),
                        Track("Kit", 0, True, [Note(36, 0, 0.5)])],
                tempos=[(0.0, 120.0), (4.0, 60.0)], time_signatures=[(0.0, 3, 4)], pickup=0.0,
                key="E minor")
    d = describe(song)
    assert d["notes"] == 5 and d["bars"] == 3 and d["key"] == "G major"
    assert d["key_signature"] == "E minor" and d["length_seconds"] == pytest.approx(7.0)
    text = format_text(d)
    assert "3/4" in text and "G major" in text and "Lead" in text and "drums" in text
