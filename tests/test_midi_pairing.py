"""MIDI note pairing agrees with pretty_midi note for note (issue 12, item 1).

At one tick note-offs count before note-ons, and a note-off ends every sounding note of its
pitch on its channel. Each case is compared with pretty_midi: pitch, start and end in
seconds (within 1e-6; in beats where a file has tempo events pretty_midi does not read).
Then real files: grace notes as music21 writes them, music21's own
MIDI test files, samples of POP909 and Groove; and ``inspect`` counts on folk tunes with
grace notes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import mido
import pretty_midi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deepcompose
from deepcompose.errors import DeepcomposeError
from deepcompose.inspect import describe
from deepcompose.io.midi import parse_midi
from deepcompose.song import Note, Song, Track

ROOT = Path(__file__).resolve().parent.parent
TPB = 480
TOL = 1e-6


def build(events, tpb=TPB, tempo_changes=()) -> mido.MidiFile:
    """``(tick, kind, channel, pitch, velocity)`` in file order (ticks not decreasing) ->
    a type-1 file: a conductor (tempo 100, ``tempo_changes`` as (tick, bpm)) + one track."""
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    conductor = [(0, mido.MetaMessage("set_tempo", tempo=600_000))]
    conductor += [(t, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(b)))
                  for t, b in tempo_changes]
    track = [(0, mido.MetaMessage("track_name", name="Melody"))]
    for tick, kind, ch, pitch, vel in events:
        if kind == "program":
            track.append((tick, mido.Message("program_change", channel=ch, program=pitch)))
        else:
            track.append((tick, mido.Message(kind, channel=ch, note=pitch, velocity=vel)))
    for events_ in (sorted(conductor, key=lambda e: e[0]), track):
        t, now = mido.MidiTrack(), 0
        for tick, msg in events_:
            t.append(msg.copy(time=tick - now))
            now = tick
        mid.tracks.append(t)
    return mid


def save(mid: mido.MidiFile, path: Path) -> Path:
    mid.save(path)
    return path


# the comparison benchmarks/midi_read.py runs over whole corpora
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from midi_read import our_notes as ours  # noqa: E402
from midi_read import tempo_outside_first_track  # noqa: E402
from midi_read import their_notes as theirs  # noqa: E402


def assert_same_notes(path):
    in_beats = tempo_outside_first_track(path)
    a, b = ours(path, in_beats), theirs(path, in_beats)
    assert len(a) == len(b), f"{Path(path).name}: {len(a)} notes, pretty_midi {len(b)}"

    def key(n):
        return n[0], round(n[1], 4), round(n[2], 4)
    for x, y in zip(sorted(a, key=key), sorted(b, key=key), strict=True):
        assert x[0] == y[0] and abs(x[1] - y[1]) <= TOL and abs(x[2] - y[2]) <= TOL, (x, y)
    return a


def on(t, p, v=90, ch=0):
    return (t, "note_on", ch, p, v)


def off(t, p, ch=0, zero_velocity_on=False):
    return (t, "note_on", ch, p, 0) if zero_velocity_on else (t, "note_off", ch, p, 0)


# name -> (events, expected notes in beats as (pitch, start, end))
CASES = {
    # music21: a grace note's off lands at the tick of the next note-on of its pitch.
    "grace_off_then_on": ([on(0, 67), off(0, 67), on(0, 67), off(480, 67), on(480, 67),
                           off(960, 67)], [(67, 0, 1), (67, 1, 2)]),
    "grace_on_then_off": ([on(0, 67), on(0, 67), off(0, 67), off(480, 67)], []),
    "grace_before_note": ([on(0, 62), on(0, 67), off(120, 62), off(120, 67), on(120, 67),
                           off(600, 67), on(600, 62), off(1080, 62)],
                          [(62, 0, 0.25), (62, 1.25, 2.25), (67, 0, 0.25), (67, 0.25, 1.25)]),
    # A zero-length note (grace) between two notes of its pitch at one tick.
    "one_beat_note_stays_one_beat": ([on(0, 67), off(480, 67), on(480, 67), off(480, 67),
                                      on(480, 67), off(960, 67), on(960, 67), off(1440, 67)],
                                     [(67, 0, 1), (67, 1, 2), (67, 2, 3)]),
    "same_tick_retrigger": ([on(0, 60), on(480, 60), off(960, 60), off(960, 60)],
                            [(60, 0, 2), (60, 1, 2)]),
    "overlapping_same_pitch": ([on(0, 60), on(240, 60), off(480, 60), off(720, 60)],
                               [(60, 0, 1), (60, 0.5, 1)]),
    "off_and_on_at_one_tick": ([on(0, 60), off(480, 60), on(480, 60), off(960, 60)],
                               [(60, 0, 1), (60, 1, 2)]),
    "on_before_off_at_one_tick": ([on(0, 60), on(480, 60), off(480, 60), off(960, 60)],
                                  [(60, 0, 1), (60, 1, 2)]),
    "velocity0_offs": ([on(0, 64), off(480, 64, zero_velocity_on=True), on(480, 64),
                        on(720, 64), off(960, 64, zero_velocity_on=True)],
                       [(64, 0, 1), (64, 1, 2), (64, 1.5, 2)]),
    "zero_length_dropped": ([on(0, 60), off(0, 60), on(480, 62), off(960, 62)],
                            [(62, 1, 2)]),
    "never_switched_off": ([on(0, 60), on(480, 62), off(960, 62)], [(62, 1, 2)]),
    "stray_offs_ignored": ([off(0, 60), on(0, 60), off(240, 61), off(480, 60), off(480, 60)],
                           [(60, 0, 1)]),
    "channels_are_separate": ([on(0, 60, ch=0), on(240, 60, ch=1), off(480, 60, ch=1),
                               off(960, 60, ch=0)], [(60, 0, 2), (60, 0.5, 1)]),
    "program_change_under_a_note": ([on(0, 60), (240, "program", 0, 40, 0), on(240, 60),
                                     off(480, 60)], [(60, 0, 1), (60, 0.5, 1)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_pairing_cases_agree_with_pretty_midi(name, tmp_path):
    events, expected = CASES[name]
    path = save(build(events), tmp_path / f"{name}.mid")
    assert_same_notes(path)
    song = deepcompose.read(path)
    got = sorted((n.pitch, n.start, n.end) for t in song.tracks for n in t.notes)
    assert got == sorted((p, float(s), float(e)) for p, s, e in expected if e > s)


def test_pairing_holds_under_tempo_changes(tmp_path):
    events = [on(0, 60), on(240, 60), off(480, 60), on(480, 60), off(720, 60), off(1200, 60)]
    path = save(build(events, tempo_changes=[(300, 140), (500, 61.5)]), tmp_path / "t.mid")
    assert len(assert_same_notes(path)) == 3


_event = st.tuples(st.integers(0, 3), st.sampled_from(["on", "off", "off0"]),
                   st.integers(0, 1), st.integers(60, 62))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_event, min_size=1, max_size=40))
def test_hypothesis_random_event_streams_agree_with_pretty_midi(steps):
    """Random ons and offs of three pitches on two channels, many at one tick."""
    tick, events = 0, []
    for delta, kind, ch, pitch in steps:
        tick += delta * 120
        if kind == "on":
            events.append(on(tick, pitch, ch=ch))
        else:
            events.append(off(tick, pitch, ch=ch, zero_velocity_on=kind == "off0"))
    import io

    buf = io.BytesIO()
    build(events).save(file=buf)
    data = buf.getvalue()
    song = parse_midi(data)
    sec = song.beats_to_seconds
    a = sorted((n.pitch, round(sec(n.start), 6), round(sec(n.end), 6))
               for t in song.tracks for n in t.notes)
    pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    b = sorted((int(n.pitch), round(float(n.start), 6), round(float(n.end), 6))
               for i in pm.instruments for n in i.notes)
    assert a == b


# ---------------------------------------------------------------- music21 grace notes

music21 = pytest.importorskip("music21")

# Reels and jigs with grace notes ({...} in ABC), written to MIDI by music21.
TUNES = {
    "reel": """X:1
T:Grace Reel
M:4/4
L:1/8
K:D
|:{g}A2 FA {a}d2 cd|{g}e2 ce {A}d2 AF|{g}A2 FA {ag}d2 cd|{e}f2 e2 d4:|
""",
    "jig": """X:2
T:Grace Jig
M:6/8
L:1/8
K:G
D|{A}G2 G {c}BAG|{B}A2 A {e}dBA|{A}G2 G {c}B2 d|{f}e2 d {B}A2 D:|
""",
    "jig_same_pitch": """X:3
T:Cut Jig
M:6/8
L:1/8
K:Ador
A|{A}A2 B {c}c2 d|{e}e2 e {g}e2 d|{c}c2 c {B}B2 B|{A}A3 A2:|
""",
}


@pytest.fixture(scope="module")
def grace_tunes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grace")
    paths = {}
    for name, abc in TUNES.items():
        score = music21.converter.parse(abc, format="abc")
        assert any(n.duration.isGrace for n in score.recurse().notes), name
        paths[name] = folder / f"{name}.mid"
        score.write("midi", fp=str(paths[name]))
    return paths


@pytest.mark.parametrize("name", sorted(TUNES))
def test_music21_grace_notes_agree_with_pretty_midi(grace_tunes, name):
    path = grace_tunes[name]
    notes = assert_same_notes(path)
    d = describe(Song.read(path), path)
    pm = pretty_midi.PrettyMIDI(str(path))
    assert d["notes"] == sum(len(i.notes) for i in pm.instruments) == len(notes)


def test_music21_grace_note_keeps_the_next_note_one_beat(tmp_path):
    """The issue's case: a grace note before a 1-beat note of its pitch, then more notes
    of that pitch; every note keeps its length and the last one is not lost."""
    from music21 import note, stream

    part = stream.Part()
    part.append(note.Note("G4", quarterLength=1).getGrace())
    for ql in (1, 1, 2, 1, 3):
        part.append(note.Note("G4", quarterLength=ql))
    path = tmp_path / "grace.mid"
    part.write("midi", fp=str(path))
    assert_same_notes(path)
    song = Song.read(path)
    lengths = [round(n.end - n.start, 6) for n in song.tracks[0].notes if n.end - n.start >= 1]
    assert lengths[-5:] == [1.0, 1.0, 2.0, 1.0, 3.0]
    assert max(n.end for n in song.tracks[0].notes) == pytest.approx(8.0)


def test_compose_input_keeps_the_grace_tune_notes(grace_tunes):
    """What ``compose`` carries through: the melody track read by deepcompose is the
    melody pretty_midi hears, note for note."""
    path = grace_tunes["jig_same_pitch"]
    song = Song.read(path)
    melody = song.tracks[song.melody_index()]
    sec = song.beats_to_seconds
    got = sorted((n.pitch, round(sec(n.start), 6), round(sec(n.end), 6)) for n in melody.notes)
    want = sorted((p, round(s, 6), round(e, 6)) for p, s, e in theirs(path))
    assert got == want


# ---------------------------------------------------------------- real files


def _music21_midi_files():
    folder = Path(music21.__file__).parent / "midi" / "testPrimitive"
    return sorted(folder.glob("*.mid"))


@pytest.mark.parametrize("path", _music21_midi_files(), ids=lambda p: p.name)
def test_music21_test_files_agree_with_pretty_midi(path):
    try:
        theirs(path)
    except Exception:
        pytest.skip("pretty_midi cannot read it")
    assert_same_notes(path)


def _sample(name: str, every: int) -> list[Path]:
    for folder in (ROOT / "datasets" / name, ROOT.parent / "shared" / "data" / name):
        files = sorted(folder.rglob("*.mid")) if folder.is_dir() else []
        if files:
            return files[::every]
    return []


@pytest.mark.parametrize("name,every", [("pop909", 60), ("groove", 80)])
def test_dataset_samples_agree_with_pretty_midi(name, every):
    files = _sample(name, every)
    if not files:
        pytest.skip(f"no {name} copy here")
    for path in files:
        assert_same_notes(path)


# ---------------------------------------------------------------- the writer's side


def test_writer_round_trip_keeps_retriggers(tmp_path):
    """Notes of one pitch that touch come back as written (offs before ons at one tick)."""
    notes = [Note(60, 0, 1), Note(60, 1, 2), Note(60, 2, 2.5), Note(62, 0, 4)]
    song = Song(tracks=[Track("Melody", 0, False, notes)])
    path = tmp_path / "w.mid"
    song.write(path)
    assert_same_notes(path)
    back = Song.read(path).tracks[0].notes
    assert [(n.pitch, n.start, n.end) for n in back] == [
        (n.pitch, n.start, n.end) for n in sorted(notes, key=lambda n: (n.start, n.pitch))]


def test_reader_errors_stay_one_line(tmp_path):
    path = tmp_path / "cut.mid"
    data = bytearray(Path(save(build([on(0, 60), off(480, 60)]), tmp_path / "ok.mid"))
                     .read_bytes())
    path.write_bytes(bytes(data[:-6]))
    with pytest.raises(DeepcomposeError) as e:
        Song.read(path)
    assert "\n" not in str(e.value)
