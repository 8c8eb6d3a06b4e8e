"""DAW bridge examples: their conversion code, without any DAW, and both ways to compose."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

import ableton_osc  # noqa: E402
import deepcompose_client  # noqa: E402
import fl_studio_pianoroll as fl  # noqa: E402
import reaper_reapy  # noqa: E402

from deepcompose import server as srv  # noqa: E402
from deepcompose.song import Song  # noqa: E402

MELODY = [(67, 0.0, 0.9, 90), (69, 1.0, 1.5, 100), (71, 1.5, 2.0, 80), (72, 2.0, 4.0, 110)]


def rounded(notes):
    return [tuple(round(x, 6) for x in n) for n in notes]


class ConstantTempoTake:
    """What reapy's Take offers for time conversion, at one tempo (a stand-in for REAPER)."""

    def __init__(self, bpm=90.0, ppq=960):
        self.bpm, self.ppq = bpm, ppq

    def time_to_ppq(self, seconds):
        return seconds * self.bpm / 60 * self.ppq

    def ppq_to_beat(self, ticks):
        return ticks / self.ppq


def test_reaper_seconds_to_beats_and_request():
    take = ConstantTempoTake(bpm=90)
    beat = reaper_reapy.take_beats(take)
    assert beat(2.0) == pytest.approx(3.0)  # 2 s at 90 bpm = 3 beats
    origin = beat(4.0)  # the item starts 4 s into the project
    seconds = [(p, 4.0 + s * 60 / 90, 4.0 + e * 60 / 90, v) for p, s, e, v in MELODY]
    notes = [(p, beat(s) - origin, beat(e) - origin, v) for p, s, e, v in seconds]
    request = reaper_reapy.melody_request(notes, 90, (3, 4), model="gan", seed=2)
    assert request["model"] == "gan" and request["seed"] == 2
    song = Song.from_notes(request)
    got = [(n.pitch, n.start, n.end, n.velocity) for n in song.tracks[0].notes]
    assert rounded(got) == MELODY
    assert song.time_signatures[0][1:] == (3, 4)


def test_reaper_generated_parts_skip_the_melody():
    song = {"tracks": [{"name": "Melody", "notes": [{"pitch": 60, "start": 0, "duration": 1,
                                                     "velocity": 90}]},
                       {"name": "Alto", "notes": [{"pitch": 55, "start": 0.5, "duration": 1.5,
                                                   "velocity": 80}]}]}
    assert reaper_reapy.generated_parts(song) == [("Alto", [(55, 0.5, 2.0, 80)])]


def test_ableton_reply_to_json_and_back():
    reply = [0, 1]  # track_id, clip_id
    for p, s, e, v in MELODY:
        reply += [p, s, e - s, float(v), False]
    reply += [50, 8.0, 1.0, 64.0, True]  # a muted note is left out
    notes = ableton_osc.notes_from_reply(reply)
    got = [(n["pitch"], n["start"], n["start"] + n["duration"], n["velocity"]) for n in notes]
    assert rounded(got) == MELODY
    (msg,) = ableton_osc.add_notes_messages(3, 1, notes)
    assert msg == [3, 1] + reply[2:-5]  # what Live sent, minus the muted note
    assert ableton_osc.clip_length(notes) == 4.0
    assert ableton_osc.clip_length([{"start": 6.5, "duration": 1}]) == 8.0


def test_ableton_batches_long_parts():
    notes = [{"pitch": 60, "start": i * 0.25, "duration": 0.25, "velocity": 90}
             for i in range(150)]
    msgs = ableton_osc.add_notes_messages(0, 0, notes)
    assert [len(m) for m in msgs] == [2 + 5 * 64, 2 + 5 * 64, 2 + 5 * 22]


def test_fl_ticks_to_beats_and_back():
    ppq = 96
    score = [(p, round(s * ppq), round((e - s) * ppq), v / 127) for p, s, e, v in MELODY]
    request = fl.score_to_request(score, ppq, 3, 4, model="arcnn", seed=4)
    song = Song.from_notes(request)
    assert song.time_signatures[0][1:] == (3, 4)
    for n, (p, s, e, v) in zip(song.tracks[0].notes, MELODY, strict=True):
        assert (n.pitch, n.velocity) == (p, v)
        assert abs(n.start - s) <= 0.5 / ppq and abs(n.end - e) <= 1 / ppq  # within a tick
    composed = song.to_notes()
    composed["tracks"].append({"name": "Bass", "notes": [
        {"pitch": 43, "start": 0.5, "duration": 1.25, "velocity": 127}]})
    assert fl.song_to_score(composed, ppq) == [(43, 48, 120, 1.0, 1)]


def test_compose_request_in_process_and_via_server_agree(chord_model):
    request = reaper_reapy.melody_request(MELODY, 100, model=chord_model, seed=3)
    local = deepcompose_client.compose_request(request, url=None)
    server = srv.make_server(port=0, quiet=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    try:
        remote = deepcompose_client.compose_request(request, url=server.url)
        with pytest.raises(RuntimeError, match="unknown model"):
            deepcompose_client.compose_request({**request, "model": "nope"}, url=server.url)
    finally:
        server.shutdown()
        server.server_close()
    assert remote == local
    assert [n["pitch"] for n in local["tracks"][0]["notes"]] == [p for p, *_ in MELODY]
    assert len(reaper_reapy.generated_parts(local)) == 3
