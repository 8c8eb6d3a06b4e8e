"""Editing a band or quartet result (issue 27): ``--task infill --bars A:B`` and ``--parts``
with the shipped weights. What a musician relies on: every note outside the edit is the
same note, the melody and the chords are untouched, the edited notes really changed and
fit (chord tones, the cello under the others), the same through MIDI, MusicXML, the CLI
and the server; wrong requests fail with one line and write nothing.
"""

import json
import math
import subprocess
import sys
from dataclasses import astuple
from pathlib import Path

import pytest
from http_client import call, running_server

import deepcompose
from deepcompose.errors import DeepcomposeError
from deepcompose.melodies import path as example_path
from deepcompose.metrics import edit as E
from deepcompose.metrics.strings import cello_lowest
from deepcompose.plans.band_edit import edit_seed, splice
from deepcompose.song import Note, Song

WEIGHTS = Path(deepcompose.__file__).parent / "weights"
pytestmark = pytest.mark.skipif(
    not all((WEIGHTS / f"{f}.safetensors").exists() for f in ("gan_pop", "gan_drums",
                                                              "gan_strings")),
    reason="the band and quartet weights are not in this checkout")
BIN = Path(sys.executable).parent
WHOLE = (-math.inf, math.inf)


@pytest.fixture(scope="module")
def band():
    return deepcompose.compose(example_path("pop-hook"), model="gan", style="pop", seed=1)


@pytest.fixture(scope="module")
def quartet():
    return deepcompose.compose(example_path("ode-to-joy"), model="gan", style="strings",
                               seed=1)


def names(song):
    return [t.name for t in song.tracks]


def test_infill_redoes_the_bars_and_keeps_every_other_note(band):
    out = deepcompose.compose(band, model="gan", style="pop", task="infill", bars="3:4",
                              seed=5)
    hole = band.bar_map().span(3, 4)
    assert E.kept_outside(band, out, hole)  # drums included, melody included
    assert out.tracks[0].notes == band.tracks[0].notes and out.chords == band.chords
    old = [n for t in band.tracks[1:] for n in t.notes]
    new = [n for t in out.tracks[1:] for n in t.notes]
    assert E.same_share(old, new, hole) <= 0.7
    assert 0.7 <= E.density_ratio(old, new, hole, band.length_beats) <= 1.3
    for t in out.tracks:  # nothing new sounds past the hole's end
        assert all(n.end <= hole[1] + 1e-6 for n in t.notes if E.inside(n, hole))
    again = deepcompose.compose(band, model="gan", style="pop", task="infill", bars="3:4",
                                seed=5)
    assert [[E.key(n) for n in t.notes] for t in again.tracks] == \
        [[E.key(n) for n in t.notes] for t in out.tracks]  # the same seed, the same edit


def test_parts_bass_keeps_every_other_track_and_plays_the_chords(band):
    out = deepcompose.compose(band, model="gan", style="pop", parts="bass", seed=2)
    i = names(band).index("Bass")
    for j, (a, b) in enumerate(zip(band.tracks, out.tracks, strict=True)):
        if j != i:
            assert [E.key(n) for n in a.notes] == [E.key(n) for n in b.notes]
    assert E.same_share(band.tracks[i].notes, out.tracks[i].notes, WHOLE) <= 0.5
    hit, total = E.chord_tone_counts(out.tracks[i].notes, band.chords)
    assert total and hit / total >= 0.8


@pytest.mark.parametrize("suffix", [".mid", ".musicxml"])
def test_a_result_read_back_from_midi_or_musicxml_is_edited(band, tmp_path, suffix):
    path = tmp_path / f"band{suffix}"
    band.write(path)
    back = deepcompose.read(path)
    assert back.chords  # the chords travel in the file
    out = deepcompose.compose(path, model="gan", style="pop", task="infill", bars="2:3",
                              parts=["keys", "counter"], seed=3)
    hole = back.bar_map().span(2, 3)
    assert E.kept_outside(back, out, hole)
    for name in ("Melody", "Bass", "Drums"):
        i = names(back).index(name)
        assert [E.key(n) for n in back.tracks[i].notes] == [E.key(n) for n in out.tracks[i].notes]
    keys = names(back).index("Keys")
    assert E.same_share(back.tracks[keys].notes, out.tracks[keys].notes, hole) <= 0.5


def test_quartet_part_redone_in_range_with_the_cello_lowest(quartet):
    assert names(quartet)[1:] == ["Violin II", "Viola", "Cello"]
    out = deepcompose.compose(quartet, model="gan", style="strings", parts="viola", seed=4)
    for j in (0, 1, 3):
        assert [E.key(n) for n in out.tracks[j].notes] == \
            [E.key(n) for n in quartet.tracks[j].notes]
    viola = out.tracks[2].notes
    assert E.same_share(quartet.tracks[2].notes, viola, WHOLE) <= 0.5
    assert all(48 <= n.pitch <= 88 for n in viola)
    def lowest(song):
        return cello_lowest([astuple(n) for n in song.tracks[3].notes],
                            [[astuple(n) for n in t.notes] for t in song.tracks[:3]])
    assert lowest(out) >= lowest(quartet) - 0.02


def test_splice_resolves_notes_held_into_and_out_of_the_hole():
    old = [Note(40, 0, 5, 90), Note(43, 8, 9, 90)]  # the first is held into [4, 8)
    new = [Note(50, 4, 5, 80), Note(52, 5, 6, 80), Note(53, 7, 10, 80), Note(55, 9, 10, 80)]
    got = splice(old, new, (4.0, 8.0))
    assert got == [Note(40, 0, 5, 90), Note(52, 5, 6, 80), Note(53, 7, 8, 80),
                   Note(43, 8, 9, 90)]
    assert edit_seed(0, 0) != 0 and edit_seed(0, 0) != edit_seed(0, 1) == edit_seed(0, 1)


@pytest.mark.parametrize("args, message", [
    (["--parts", "cello"], "error: --style pop has no part 'cello'; its parts: bass, keys"),
    (["--task", "infill", "--bars", "30:34"], "error: --bars 30:34 lies outside the song"),
    (["--style", "chorale", "--parts", "bass"], "error: parts applies to --style pop or "
     "strings only"),
    (["--task", "infill"], "error: infill needs --bars A:B"),
])
def test_wrong_edits_exit_2_and_write_nothing(band, tmp_path, args, message):
    src = tmp_path / "band.json"
    band.write(src)
    out = tmp_path / "out.json"
    cmd = [BIN / "compose", "--notes-json", src, "--model", "gan", "--style", "pop", *args,
           "-o", out]
    r = subprocess.run([str(x) for x in cmd], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith(message), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not out.exists()


def test_infill_with_drums_none_keeps_the_drums(band):
    out = deepcompose.compose(band, model="gan", style="pop", task="infill", bars="2:2",
                              drums="none", seed=6)
    drums = names(band).index("Drums")
    assert [E.key(n) for n in out.tracks[drums].notes] == \
        [E.key(n) for n in band.tracks[drums].notes]
    with pytest.raises(DeepcomposeError, match="--drums none plays none"):
        deepcompose.compose(band, model="gan", style="pop", parts="drums", drums="none")


def test_parts_need_a_model_and_a_file_that_have_them(tmp_path):
    with pytest.raises(DeepcomposeError, match="model 'arcnn' has no control parts"):
        deepcompose.compose(example_path("pop-hook"), model="arcnn", parts="bass")
    with pytest.raises(DeepcomposeError, match="no Bass track in the input"):
        deepcompose.compose(example_path("pop-hook"), model="gan", style="pop", parts="bass")


def test_server_edits_a_posted_answer_and_refuses_a_bad_one(band):
    answer = band.to_notes()
    band = Song.from_notes(answer)  # as the client holds it
    with running_server() as s:
        body = {**answer, "model": "gan", "style": "pop", "task": "infill", "bars": "5:6",
                "parts": ["drums"], "seed": 9}
        status, _, data = call(s, "POST", "/compose", body)
        assert status == 200, data
        got = Song.from_notes(json.loads(data))
        hole = band.bar_map().span(5, 6)
        assert E.kept_outside(band, got, hole)
        drums = names(band).index("Drums")
        assert E.same_share(band.tracks[drums].notes, got.tracks[drums].notes, hole) <= 0.5
        status, _, data = call(s, "POST", "/compose", {**body, "parts": ["viola"]})
        assert status == 400 and "has no part 'viola'" in json.loads(data)["error"]
        status, _, data = call(s, "POST", "/compose", {**body, "bars": "40:41"})
        assert status == 400 and "outside the song" in json.loads(data)["error"]
