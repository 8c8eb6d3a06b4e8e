"""compose --model gan --style pop with the shipped band weights: the user-facing contract.

Quality numbers live in benchmarks/band_quality.py and the gan_pop card; here: the
melody comes back exact, the band plays through the melody's rests, drums sit on
channel 10 in every bar, the chords it played come out in JSON, MIDI and MusicXML.
"""

import itertools
import subprocess
import sys
from pathlib import Path

import pretty_midi
import pytest

import deepcompose
from deepcompose.chords import parse_chord
from deepcompose.melodies import path as example_path

WEIGHTS = Path(deepcompose.__file__).parent / "weights"
pytestmark = pytest.mark.skipif(
    not (WEIGHTS / "gan_pop.safetensors").exists() or not (WEIGHTS / "gan_drums.safetensors")
    .exists(), reason="the band weights (gan_pop, gan_drums) are not in this checkout")
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def hook():
    return deepcompose.read(example_path("pop-hook"))


@pytest.fixture(scope="module")
def band(hook):
    return deepcompose.compose(hook, model="gan", style="pop", seed=1)


def test_melody_exact_and_a_band_around_it(hook, band):
    assert band.tracks[0].notes == hook.tracks[0].notes
    roles = [t.name for t in band.tracks[1:]]
    assert len(roles) >= 4 and band.tracks[-1].is_drum
    assert len({n.velocity for t in band.tracks[1:] for n in t.notes}) > 3  # no flat velocity


def test_band_plays_in_every_bar_of_the_melody(hook, band):
    last = max(n.end for n in hook.tracks[0].notes)
    for bar in range(int(last // 4)):
        pitched = [n for t in band.tracks[1:] if not t.is_drum for n in t.notes
                   if n.start < (bar + 1) * 4 and n.end > bar * 4]
        drums = [n for n in band.tracks[-1].notes if bar * 4 <= n.start < (bar + 1) * 4]
        assert pitched and drums, f"bar {bar + 1} is silent"


def test_band_comes_in_with_a_melody_that_enters_late(hook):
    """A melody exported after 8 bars of rest: no invented intro, the same band as
    the melody that starts at once, moved 8 bars; an intro only where chords ask."""
    late = hook.tracks[0].notes
    late = [deepcompose.Note(n.pitch, n.start + 32, n.end + 32, n.velocity) for n in late]
    song = deepcompose.compose([(n.pitch, n.start, n.end - n.start, n.velocity) for n in late],
                               model="gan", style="pop", seed=1)
    assert song.tracks[0].notes == late
    early = deepcompose.compose([(n.pitch, n.start - 32, n.end - n.start, n.velocity)
                                 for n in late], model="gan", style="pop", seed=1)
    for t, e in zip(song.tracks[1:], early.tracks[1:], strict=True):
        assert min(n.start for n in t.notes) >= 32
        assert [(n.pitch, n.start - 32) for n in t.notes] == [(n.pitch, n.start) for n in e.notes]
    assert song.chords[0][0] == 32
    intro = deepcompose.compose([(n.pitch, n.start, n.end - n.start, n.velocity) for n in late],
                                model="gan", style="pop", seed=1, drums="none",
                                chords=[[24, 32, "F"]])
    assert min(n.start for t in intro.tracks[1:] for n in t.notes) < 32
    assert intro.chords[0][:2] == (24.0, 32.0)


def test_band_follows_a_change_of_meter(hook):
    """4 bars of 4/4, 4 of 3/4, 2 of 4/4: the band and drums play every bar of that meter
    map, bar text chords land on its bar lines, and a melody entering in the 3/4 bars
    brings the band in on a 3/4 bar line."""
    sigs = [[0, 4, 4], [16, 3, 4], [28, 4, 4]]
    bar_lines = [0, 4, 8, 12, 16, 19, 22, 25, 28, 32, 36]
    notes = [{"pitch": n.pitch, "start": n.start, "duration": n.end - n.start,
              "velocity": n.velocity} for n in hook.tracks[0].notes if n.end <= 36]
    melody = {"notes": notes, "time_signatures": sigs}
    song = deepcompose.compose(melody, model="gan", style="pop", seed=2, drums="rock",
                               chords="Am | F | C | G | Am | F | C | G | Am | F")
    assert song.time_signatures == [tuple(s) for s in sigs]
    assert [c[0] for c in song.chords] == bar_lines[:-1]
    assert max(n.end for n in song.tracks[0].notes) == 32
    for a, b in itertools.pairwise(bar_lines[:-1]):
        pitched = [n for t in song.tracks[1:-1] for n in t.notes if n.start < b and n.end > a]
        drums = [n for n in song.tracks[-1].notes if a <= n.start < b]
        assert pitched and drums, f"the bar at beat {a} is silent"
        bass = [n for n in song.tracks[1].notes if a <= n.start < b]
        assert not bass or min(n.start for n in bass) == a  # the bass enters on the bar line
    late = {"notes": [n for n in notes if n["start"] >= 23], "time_signatures": sigs}
    entered = deepcompose.compose(late, model="gan", style="pop", seed=2)
    assert min(n.start for t in entered.tracks[1:] for n in t.notes) == 22


def test_chords_given_are_played_and_carried_out(hook):
    song = deepcompose.compose(hook, model="gan", style="pop", seed=1, drums="none",
                               chords="Am | F | C | G | Am | F | C | G")
    assert not any(t.is_drum for t in song.tracks)
    assert [c[2] for c in song.chords[:4]] == ["A:min", "F:maj", "C:maj", "G:maj"]
    assert song.to_notes()["chords"][0][:2] == [0.0, 4.0]


def test_chords_shorter_than_the_song_repeat_to_the_end(hook):
    """README's example: four bars of chords on the 8-bar hook. The progression repeats, so
    bass and keys play in bars 5-8 too (they were silent there), on those chords."""
    song = deepcompose.compose(hook, model="gan", style="pop", seed=1, drums="none",
                               chords="Am | F | C | G")
    assert [c[2] for c in song.chords] == ["A:min", "F:maj", "C:maj", "G:maj"] * 2
    assert song.chords[-1][:2] == (28.0, 32.0)
    for name in ("Bass", "Keys"):
        track = next(t for t in song.tracks if t.name == name)
        for bar in range(4, 8):
            notes = [n for n in track.notes if bar * 4 <= n.start < (bar + 1) * 4]
            assert notes, f"{name} silent in bar {bar + 1}"
            tones = parse_chord(("A:min", "F:maj", "C:maj", "G:maj")[bar % 4])[1]
            assert all(n.pitch % 12 in tones for n in notes)


def test_drums_on_channel_10_and_chords_in_midi(tmp_path, band):
    out = tmp_path / "band.mid"
    band.write(out)
    pm = pretty_midi.PrettyMIDI(str(out))
    assert any(i.is_drum and i.notes for i in pm.instruments)
    back = deepcompose.read(out)
    assert [c[2] for c in back.chords] == [c[2] for c in band.chords]


def test_musicxml_keeps_the_drums(tmp_path, band, capfd):
    """The score's percussion staff reads back as the drums (GM pitches, 16th grid), so a
    band written as MusicXML still renders, and composes again, with its drums; writing
    it prints nothing (music21's beaming warnings stay out of the user's terminal)."""
    out = tmp_path / "band.musicxml"
    band.write(out)
    assert capfd.readouterr().err == ""
    drums = deepcompose.read(out).tracks[-1]
    assert drums.is_drum
    written = {(round(n.start * 4) / 4, n.pitch) for n in band.tracks[-1].notes}
    assert {(n.start, n.pitch) for n in drums.notes} == written


def test_cli_style_pop_with_a_drum_feel(tmp_path):
    out = tmp_path / "hook.json"
    r = subprocess.run([BIN / "compose", "--example", "pop-hook", "--model", "gan", "--style",
                        "pop", "--drums", "funk", "-o", out], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    song = deepcompose.read(out)
    assert song.chords and song.tracks[-1].is_drum
    bad = subprocess.run([BIN / "compose", "--example", "pop-hook", "--model", "gan",
                          "--style", "pop", "--drums", "polka", "-o", out],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: drums must be one of none")
