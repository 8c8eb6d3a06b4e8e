"""MIDI reading and writing: the odd-file corpus, round trips, limits, mutated bytes."""

from __future__ import annotations

import io
import random
import sys
import time
from pathlib import Path

import mido
import pretty_midi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepcompose.errors import DeepcomposeError
from deepcompose.io.midi import parse_midi
from deepcompose.song import Note, Song, Track

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(DATA))
import make_corpus  # noqa: E402

CASES = make_corpus.CASES


def notes_of(track):
    return [(n.pitch, n.start, n.end) for n in track.notes]


# ---------------------------------------------------------------------- the corpus


def test_corpus_files_match_the_script():
    for name, (build, _) in CASES.items():
        assert (DATA / name).read_bytes() == build(), f"{name} is stale: run make_corpus.py"


@pytest.mark.parametrize("name", [n for n, (_, (k, _)) in CASES.items() if k == "melody"])
def test_valid_odd_files_keep_the_melody(name):
    song = Song.read(DATA / name)
    melody = song.tracks[song.melody_index()]
    assert sorted(notes_of(melody)) == sorted(CASES[name][1][1])
    assert all(n.velocity == 80 for n in melody.notes)


@pytest.mark.parametrize("name", [n for n, (_, (k, _)) in CASES.items() if k == "read_error"])
def test_broken_files_give_one_clear_line(name):
    start = time.perf_counter()
    with pytest.raises(DeepcomposeError) as err:
        Song.read(DATA / name)
    msg = str(err.value)
    assert CASES[name][1][1] in msg
    assert "\n" not in msg and name in msg
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("name", [n for n, (_, (k, _)) in CASES.items() if k == "melody_error"])
def test_files_without_a_melody_say_why(name):
    song = Song.read(DATA / name)
    with pytest.raises(DeepcomposeError, match=CASES[name][1][1]):
        song.melody_index()


def test_type0_channels_become_tracks():
    song = Song.read(DATA / "type0.mid")
    assert [(t.program, t.is_drum, len(t.notes)) for t in song.tracks] == [
        (73, False, 8), (32, False, 2), (0, True, 8)]
    assert song.tempos == [(0.0, 100.0)]


def test_tempo_changes_under_held_notes_keep_beats_and_map():
    song = Song.read(DATA / "tempo_changes_held_notes.mid")
    assert [b for b, _ in song.tempos] == [0.0, 0.5, 1.5, 4.5, 5.25, 7.75]
    assert song.tempos[3][1] == pytest.approx(75.5, abs=1e-3)
    # Seconds go through the map: beat 1 = 0.5 beat at 100 bpm + 0.5 beat at 60 bpm.
    assert song.beats_to_seconds(1.0) == pytest.approx(0.3 + 0.5)
    assert song.seconds_to_beats(song.beats_to_seconds(6.3)) == pytest.approx(6.3)


def test_non_utf8_names_decode_as_latin1():
    song = Song.read(DATA / "non_utf8_meta.mid")
    assert song.tracks[0].name == "Mélodie ÿþ"


def test_long_file_counts_bars():
    song = Song.read(DATA / "long_256_bars.mid")
    assert song.bars() == 256 and song.length_beats == 1024


def test_200k_notes_are_refused_fast(tmp_path):
    path = tmp_path / "many.mid"
    path.write_bytes(make_corpus.many_notes(200_000))
    start = time.perf_counter()
    with pytest.raises(DeepcomposeError, match="more than 100,000 notes"):
        Song.read(path)
    assert time.perf_counter() - start < 10


def test_oversized_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.mid"
    with open(path, "wb") as f:
        f.truncate(17 * 2**20)
    with pytest.raises(DeepcomposeError, match="limit is 16 MiB"):
        Song.read(path)


def test_missing_file_and_unknown_extension(tmp_path):
    with pytest.raises(DeepcomposeError, match="not found"):
        Song.read(tmp_path / "nope.mid")
    (tmp_path / "x.wav").write_bytes(b"RIFF")
    with pytest.raises(DeepcomposeError, match="unknown extension"):
        Song.read(tmp_path / "x.wav")


def test_mutated_files_only_raise_deepcompose_errors():
    """5,000 flipped, cut and inflated variants of valid files: read or a clean error."""
    rng = random.Random(0)
    seeds = [build() for build, (kind, _) in CASES.values() if kind == "melody"]
    outcomes = {"read": 0, "error": 0}
    for _ in range(5000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            i = rng.randrange(len(data))
            if op < 0.5:
                data[i] = rng.randrange(256)
            elif op < 0.7:
                del data[i:]
            elif op < 0.9:
                data[i:i] = rng.randbytes(rng.randint(1, 8))
            else:  # inflate a length or a delta time
                data[i:i + 4] = b"\x7f\xff\xff\xff"
            if not data:
                data = bytearray(b"M")
        try:
            parse_midi(bytes(data))
            outcomes["read"] += 1
        except DeepcomposeError as e:
            assert "\n" not in str(e)
            outcomes["error"] += 1
    assert outcomes["read"] > 100 and outcomes["error"] > 100


SEEDS = [build() for build, (kind, _) in CASES.values() if kind == "melody"
         and len(build()) < 1000]


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(seed=st.sampled_from(SEEDS),
       edits=st.lists(st.tuples(st.integers(0, 2000), st.binary(min_size=0, max_size=6),
                                st.sampled_from(["set", "insert", "cut"])), max_size=4))
def test_hypothesis_mutated_midi_reads_or_fails_cleanly(seed, edits):
    data = bytearray(seed)
    for at, payload, op in edits:
        at %= len(data) + 1
        if op == "set":
            data[at:at + len(payload)] = payload
        elif op == "insert":
            data[at:at] = payload
        else:
            del data[at:]
    try:
        song = parse_midi(bytes(data))
    except DeepcomposeError as e:
        assert "\n" not in str(e)
        return
    assert song.note_count <= 100_000 and song.length_beats <= 20_000
    for t in song.tracks:
        assert all(0 <= n.pitch <= 127 and n.end > n.start >= 0 for n in t.notes)


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(st.binary(max_size=200))
def test_hypothesis_random_bytes_after_a_header(tail):
    try:
        parse_midi(make_corpus.header(1, 1) + b"MTrk" + len(tail).to_bytes(4, "big") + tail)
    except DeepcomposeError:
        pass


# ---------------------------------------------------------------------- round trips


def tempo_map_file(tpb=384) -> bytes:
    """Type 1, tempo and meter changes, a melody, a chordal track and drums (mido-written)."""
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    cond = mido.MidiTrack([
        mido.MetaMessage("set_tempo", tempo=500000, time=0),
        mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0),
        mido.MetaMessage("key_signature", key="Bb", time=0),
        mido.MetaMessage("set_tempo", tempo=800000, time=tpb * 3 // 2),
        mido.MetaMessage("time_signature", numerator=6, denominator=8, time=tpb * 3 // 2),
        mido.MetaMessage("set_tempo", tempo=333333, time=tpb * 5),
    ])
    mid.tracks.append(cond)
    rng = random.Random(3)
    for ch, prog, base in ((0, 73, 72), (1, 0, 55), (9, 0, 36)):
        events, t = [], 0
        for _ in range(30):
            dur = rng.choice([tpb // 4, tpb // 3, tpb // 2, tpb, tpb * 3 // 2])
            pitches = [base + rng.randrange(12)] + ([base - 5] if ch == 1 else [])
            for p in pitches:
                events += [(t, 1, mido.Message("note_on", channel=ch, note=p, velocity=70)),
                           (t + dur, 0, mido.Message("note_off", channel=ch, note=p))]
            t += dur + rng.choice([0, 0, tpb // 8])
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=f"t{ch}", time=0),
                                mido.Message("program_change", channel=ch, program=prog)])
        now = 0
        for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
            track.append(msg.copy(time=tick - now))
            now = tick
        mid.tracks.append(track)
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def test_midi_song_midi_keeps_every_note_in_beats(tmp_path):
    src = tmp_path / "src.mid"
    src.write_bytes(tempo_map_file())
    song = Song.read(src)
    assert len(song.tempos) == 3 and [t[1:] for t in song.time_signatures] == [(3, 4), (6, 8)]
    assert song.key == "B- major" and song.ticks_per_beat == 384
    out = tmp_path / "out.mid"
    song.write(out)
    again = Song.read(out)
    assert again.tempos == song.tempos and again.time_signatures == song.time_signatures
    assert again.key == song.key
    for a, b in zip(song.tracks, again.tracks, strict=True):
        assert (a.name, a.program, a.is_drum) == (b.name, b.program, b.is_drum)
        assert [(n.pitch, n.start, n.end, n.velocity) for n in a.notes] == \
               [(n.pitch, n.start, n.end, n.velocity) for n in b.notes]
    # And the seconds agree with pretty_midi's reading of the original file.
    pm_src, pm_out = pretty_midi.PrettyMIDI(str(src)), pretty_midi.PrettyMIDI(str(out))
    for a, b in zip(pm_src.instruments, pm_out.instruments, strict=True):
        assert sorted((n.pitch, round(n.start, 6), round(n.end, 6)) for n in a.notes) == \
               sorted((n.pitch, round(n.start, 6), round(n.end, 6)) for n in b.notes)


def test_reader_agrees_with_pretty_midi(tmp_path):
    src = tmp_path / "src.mid"
    src.write_bytes(tempo_map_file(tpb=480))
    ours, theirs = Song.read(src), Song.from_pretty_midi(pretty_midi.PrettyMIDI(str(src)))
    flat = [x for pair in ours.tempos for x in pair]
    assert flat == pytest.approx([x for pair in theirs.tempos for x in pair])
    for a, b in zip(ours.tracks, theirs.tracks, strict=True):
        assert a.is_drum == b.is_drum and a.program == b.program
        assert [n.pitch for n in a.notes] == [n.pitch for n in b.notes]
        assert [(n.start, n.end) for n in a.notes] == [(n.start, n.end) for n in b.notes]


def test_to_pretty_midi_uses_the_tempo_map():
    song = Song(tracks=[Track("m", 0, False, [Note(60, 0, 1), Note(62, 2, 4)])],
                tempos=[(0.0, 120.0), (2.0, 60.0)])
    pm = song.to_pretty_midi()
    times = [t for n in pm.instruments[0].notes for t in (n.start, n.end)]
    assert times == pytest.approx([0.0, 0.5, 1.0, 3.0])
    assert Song.from_pretty_midi(pm).tracks[0].notes == song.tracks[0].notes


def test_writer_puts_drums_on_channel_10_and_programs_on_tracks(tmp_path):
    song = Song(tracks=[Track("Piano", 0, False, [Note(60, 0, 1)]),
                        Track("Kit", 0, True, [Note(36, 0, 0.5)]),
                        Track("Cello", 42, False, [Note(48, 0, 2)])])
    song.write(tmp_path / "x.mid")
    mid = mido.MidiFile(tmp_path / "x.mid")
    assert mid.type == 1 and len(mid.tracks) == 4
    channels = [{m.channel for m in t if m.type == "note_on"} for t in mid.tracks[1:]]
    assert channels[1] == {9} and 9 not in channels[0] | channels[2]
    assert [m.program for m in mid.tracks[3] if m.type == "program_change"] == [42]


def test_program_change_mid_track_splits_the_track():
    data = make_corpus.header(1, 1) + make_corpus.chunk(
        make_corpus.notes_events([(60, 0, 1)]) + [(96, 0, bytes([0xC0, 40]))]
        + make_corpus.notes_events([(62, 1, 2)]))
    song = parse_midi(data)
    assert [(t.program, notes_of(t)) for t in song.tracks] == [
        (0, [(60, 0.0, 1.0)]), (40, [(62, 1.0, 2.0)])]


# ---------------------------------------------------------------------- MIDI folders


def satb_song(names, programs, pitches, drums=False):
    tracks = [Track(n, p, False, [Note(x, b, b + 1) for b in range(8)])
              for n, p, x in zip(names, programs, pitches, strict=True)]
    if drums:
        tracks.append(Track("Kit", 0, True, [Note(36, b, b + 0.5) for b in range(8)]))
    return Song(tracks=tracks)


def test_midi_folder_maps_names_programs_and_pitch_to_roles(tmp_path):
    from deepcompose.data import load_midi_folder

    (tmp_path / "sub").mkdir()
    satb_song(["Bass", "Tenor", "Alto", "Soprano"], [0] * 4, [48, 55, 64, 72]).write(
        tmp_path / "named.mid")
    satb_song(["a", "b", "c"], [33, 73, 0], [40, 79, 60], drums=True).write(
        tmp_path / "sub" / "programs.mid")
    satb_song(["p1", "p2"], [0, 0], [50, 70]).write(tmp_path / "pitch.midi")
    (tmp_path / "broken.mid").write_bytes(b"MThd\x00")
    errors = []
    grids = load_midi_folder(tmp_path, errors=errors)
    assert [e[0] for e in errors] == ["broken.mid"]
    named, pitch, programs = grids  # sorted by path: named.mid, pitch.midi, sub/programs.mid
    assert [int(r[0]) for r in named] == [72, 64, 55, 48] and named.shape == (4, 32)
    assert [int(r[0]) for r in programs] == [79, 60, -1, 40]  # flute S, bass B, piano fills A
    assert [int(r[0]) for r in pitch] == [70, -1, -1, 50]
    overridden = load_midi_folder(tmp_path, roles={"p1": "S", "p2": None, 73: "A"})
    assert int(overridden[1][0, 0]) == 50 and int(overridden[2][1, 0]) == 79


def test_midi_folder_splits_are_deterministic(tmp_path):
    from deepcompose.data import load_midi_folder, load_voices, split_of

    for i in range(30):
        Song.from_tuples([(60 + i % 12, 0, 1), (62, 1, 1)]).write(tmp_path / f"t{i:02}.mid")
    sizes = {s: len(load_voices(str(tmp_path), s)) for s in ("train", "valid", "test")}
    assert sum(sizes.values()) == 30 and sizes["train"] > sizes["valid"] + sizes["test"]
    assert sizes["train"] == sum(split_of(f"t{i:02}.mid") == "train" for i in range(30))
    first = [g.tolist() for g in load_midi_folder(tmp_path, split="valid")]
    assert first == [g.tolist() for g in load_midi_folder(tmp_path, split="valid")]


def test_grids_fold_pitches_into_the_model_range():
    from deepcompose.data import PITCH_RANGE, song_to_grid

    grid = song_to_grid(satb_song(["Soprano", "Bass"], [0, 0], [100, 20]))
    assert grid[0, 0] == 100 - 12 and grid[3, 0] == 20 + 12
    assert PITCH_RANGE[0] <= grid[grid >= 0].min() and grid.max() <= PITCH_RANGE[1]


def test_event_flood_is_refused(monkeypatch):
    monkeypatch.setattr("deepcompose.limits.MAX_EVENTS", 1000)
    body = b"\x00\xb0\x07\x40" + b"\x00\x07\x40" * 1500
    data = make_corpus.header(1, 1) + b"MTrk" + len(body).to_bytes(4, "big") + body
    with pytest.raises(DeepcomposeError, match="more than 1,000 MIDI events"):
        parse_midi(data)


def test_pickup_is_written_so_downbeats_fall_on_midi_bar_lines(tmp_path):
    """A 1-beat pickup in 3/4 is a 1/4 first bar: downbeats on MIDI bar lines, notes keep
    their times, and reading the file gives the pickup back."""
    song = Song(tracks=[Track("Melody", 0, False, [Note(67, 0.0, 1.0), Note(72, 1.0, 4.0)])],
                time_signatures=[(0.0, 3, 4)], pickup=1.0)
    path = tmp_path / "pickup.mid"
    song.write(path)
    back = Song.read(path)
    assert [(n.pitch, n.start, n.end) for n in back.tracks[0].notes] == [
        (67, 0.0, 1.0), (72, 1.0, 4.0)]
    assert back.time_signatures[0][1:] == (3, 4) and back.pickup == 1.0
    pm = pretty_midi.PrettyMIDI(str(path))
    assert [round(d, 6) for d in pm.get_downbeats()[:2]] == [0.0, 0.5]  # a 1/4 bar, then 3/4


def test_a_pickup_no_time_signature_can_hold_is_written_after_silence(tmp_path):
    song = Song(tracks=[Track("Melody", 0, False, [Note(67, 0.0, 1 / 3), Note(72, 1 / 3, 4)])],
                pickup=1 / 3)
    song.write(tmp_path / "odd.mid")
    back = Song.read(tmp_path / "odd.mid")
    assert back.tracks[0].notes[0].start == pytest.approx(4 - 1 / 3)


# ---------------------------------------------------------------------- title, chords, pickup


def _file(tmp_path, sigs=(), markers=(), first_name=None, notes=((60, 0, 480),)):
    """A type-1 file: conductor (``sigs`` as (tick, num, den), ``markers`` as (tick, text),
    an optional first-track name) and one melody track."""
    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    events = [(t, mido.MetaMessage("time_signature", numerator=n, denominator=d))
              for t, n, d in sigs] + [(t, mido.MetaMessage("marker", text=x)) for t, x in markers]
    if first_name:
        events.insert(0, (0, mido.MetaMessage("track_name", name=first_name)))
    melody = [(0, mido.MetaMessage("track_name", name="Melody"))]
    for p, s, e in notes:
        melody += [(s, mido.Message("note_on", note=p, velocity=80)),
                   (e, mido.Message("note_off", note=p))]
    for evs in (events, melody):
        track, now = mido.MidiTrack(), 0
        for t, msg in sorted(evs, key=lambda e: e[0]):
            track.append(msg.copy(time=t - now))
            now = t
        mid.tracks.append(track)
    path = tmp_path / "f.mid"
    mid.save(path)
    return path


def test_title_and_chords_round_trip_as_sequence_name_and_markers(tmp_path):
    chords = [(0.0, 2.0, "C"), (2.0, 3.5, "A:min7"), (4.0, 6.0, "G/B"), (6.0, 8.0, "Bb:maj7")]
    song = Song(tracks=[Track("Melody", 0, False, [Note(60, 0, 8)])], title="Fáilte Ó Néill",
                chords=chords)
    path = tmp_path / "c.mid"
    song.write(path)
    conductor = mido.MidiFile(path, charset="utf-8").tracks[0]
    assert [m.text for m in conductor if m.type == "marker"] == [
        "C:maj", "A:min7", "N", "G/B", "Bb:maj7"]
    back = Song.read(path)
    assert back.title == "Fáilte Ó Néill"
    assert back.chords == [(0.0, 2.0, "C:maj"), (2.0, 3.5, "A:min7"), (4.0, 6.0, "G/B"),
                           (6.0, 8.0, "Bb:maj7")]
    assert notes_of(back.tracks[0]) == [(60, 0.0, 8.0)]
    # pretty_midi still hears the same notes
    pm = pretty_midi.PrettyMIDI(str(path))
    assert [(n.pitch, n.start, n.end) for n in pm.instruments[0].notes] == [(60, 0.0, 4.0)]


def test_other_markers_are_not_chords_and_a_named_melody_track_is_no_title(tmp_path):
    path = _file(tmp_path, markers=[(0, "Intro"), (480, "A"), (960, "Verse 1"), (960, "Dm7"),
                                    (1440, "Chorus"), (1920, "N.C."), (2400, "xyz:q")],
                 notes=[(60, 0, 2880)])
    song = Song.read(path)
    assert song.chords == [(2.0, 4.0, "Dm7")]
    assert song.title is None
    assert Song.read(_file(tmp_path, first_name="My Tune")).title == "My Tune"
    assert Song.read(_file(tmp_path, first_name="Master Track")).title is None


def test_explicit_pickup_is_checked_against_the_first_bar(tmp_path):
    path = _file(tmp_path, sigs=[(0, 6, 8)])
    assert deepcompose_read(path).pickup == 0.0
    assert deepcompose_read(path, pickup=0.5).pickup == 0.5
    for bad in (-0.5, 3.0, 7, float("nan"), "1", True):
        with pytest.raises(DeepcomposeError, match="pickup"):
            deepcompose_read(path, pickup=bad)


def deepcompose_read(path, **kw):
    from deepcompose.io import midi

    return midi.read(path, **kw)


@pytest.mark.parametrize("sigs,markers,pickup,meter", [
    ([(0, 1, 8), (240, 6, 8)], [], 0.5, (6, 8)),            # a 1/8 bar, then 6/8
    ([(0, 1, 4), (480, 3, 4), (480 * 7, 2, 4)], [], 1.0, (3, 4)),
    ([(0, 3, 4), (1440, 4, 4)], [], 3.0, (4, 4)),           # one 3/4 bar, then 4/4
    ([(0, 4, 4), (1920, 3, 4)], [], 0.0, (4, 4)),           # a longer first bar: no pickup
    ([(0, 2, 4), (1920, 4, 4)], [], 0.0, (2, 4)),           # two 2/4 bars: no pickup
    ([(0, 4, 4), (480, 3, 4)], [], 0.0, (4, 4)),            # short change, not the first bar
    ([(240, 2, 4)], [], 0.5, (2, 4)),                       # first bar line half a beat in
    ([(1, 4, 4)], [], 0.0, (4, 4)),                         # a tick off: no pickup
    ([(0, 3, 4)], [(480, "Bar 1")], 1.0, (3, 4)),           # a bar-number marker
    ([(0, 3, 4)], [(480, "Intro")], 0.0, (3, 4)),
])
def test_pickup_where_the_file_says_so(tmp_path, sigs, markers, pickup, meter):
    song = Song.read(_file(tmp_path, sigs=sigs, markers=markers, notes=[(60, 0, 4800)]))
    assert song.pickup == pickup
    assert song.time_signatures[0][1:] == meter


def test_music21_pickup_tune_is_not_guessed_from_notes(tmp_path):
    """music21 writes an anacrusis as notes from tick 0 under the full meter: nothing in the
    file says there is a pickup, so none is guessed (``--pickup`` says it)."""
    music21 = pytest.importorskip("music21")
    abc = "X:1\nT:Up\nM:6/8\nL:1/8\nK:G\nD|G2A B2c|d3 d2:|\n"
    path = tmp_path / "up.mid"
    music21.converter.parse(abc, format="abc").write("midi", fp=str(path))
    song = Song.read(path)
    assert song.pickup == 0.0 and song.time_signatures[0][1:] == (6, 8)
    assert deepcompose_read(path, pickup=0.5).pickup == 0.5


def test_a_real_file_with_a_short_first_bar_gets_its_pickup():
    """music21's test02.mid opens with one bar of 1/4, then 4/4: a one-beat pickup."""
    music21 = pytest.importorskip("music21")
    path = Path(music21.__file__).parent / "midi" / "testPrimitive" / "test02.mid"
    if not path.exists():
        pytest.skip("music21's MIDI test files are not installed")
    song = Song.read(path)
    assert song.pickup == 1.0 and song.time_signatures[0] == (0.0, 4, 4)
    assert song.meter().offset == 4
