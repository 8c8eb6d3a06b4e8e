"""The studio's JavaScript without a browser: node's test runner on ``tests/js/*.test.mjs``
(the song logic of ``deepcompose/studio/song.mjs``), and the studio's bar lines checked
against the Python rule (``meter_stretches`` / ``iter_bars`` / ``bar_index``) so that the
ruler and the models can never disagree on where bar k is. Skips where ``node`` is missing.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from deepcompose.representations.bars import bar_index, iter_bars, meter_stretches
from deepcompose.song import Song

ROOT = Path(__file__).resolve().parent.parent
SONG_JS = ROOT / "deepcompose" / "studio" / "song.mjs"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="no node: apt-get install nodejs")


def test_node_tests_of_the_studio_song_logic():
    files = sorted(str(p) for p in (ROOT / "tests" / "js").glob("*.test.mjs"))
    assert files
    done = subprocess.run([NODE, "--test", *files], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout


def _bars_js(songs: list[dict], end: float, probes: list[float]) -> list[dict]:
    """For each song: barLines(song, end) and barAt(song, beat) at each probe, from node."""
    script = (f"import {{barAt, barLines}} from {json.dumps(SONG_JS.as_uri())};\n"
              f"const songs = {json.dumps(songs)}, probes = {json.dumps(probes)};\n"
              f"console.log(JSON.stringify(songs.map((s) => ({{lines: barLines(s, {end})"
              f".map((b) => [b.bar, b.beat]), at: probes.map((p) => barAt(s, p))}}))));\n")
    done = subprocess.run([NODE, "--input-type=module", "-e", script], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


SONGS = [
    {"time_signature": [4, 4]},
    {"time_signatures": [[0, 4, 4], [16, 3, 4], [22, 4, 4]]},
    {"time_signatures": [[0, 4, 4], [18, 3, 4], [27.5, 5, 8]]},  # changes inside bars
    {"time_signatures": [[0, 3, 4], [7, 2, 4], [11, 6, 8]], "pickup": 1},
    {"time_signatures": [[0, 4, 4], [1, 3, 4], [10, 7, 8]], "pickup": 1},  # at the bar line
    {"time_signatures": [[0, 6, 8], [0.5, 2, 4], [9, 6, 8]], "pickup": 1.5},  # before it
    {"time_signatures": [[0, 4, 4], [1.5, 3, 4]], "pickup": 1},  # bar 1 is half a beat
    {"time_signatures": [[0, 4, 4], [6, 3, 8], [7.5, 2, 2]], "pickup": 0.5},
    # unsorted, the first after beat 0, a repeat of the same meter: normalized alike
    {"time_signatures": [[8, 3, 4], [4, 4, 4], [12, 3, 4], [20, 6, 8]]},
]


def test_the_studio_counts_bars_as_python_does():
    end = 48.0
    probes = [x / 4 for x in range(0, int(end * 4))]  # every 16th
    got = _bars_js(SONGS, end, probes)
    for fields, js in zip(SONGS, got, strict=True):
        song = Song.from_notes({**fields, "notes": [[60, 0, end]]})
        _, num, den = song.time_signatures[0]
        stretches = meter_stretches(num * 4 / den, song.pickup, song.time_signatures[1:])
        starts = [b[0] for b in itertools.takewhile(lambda b: b[0] <= end,
                                                    iter_bars(stretches))]
        first = 0 if song.pickup else 1  # the pickup is bar 0 on the ruler
        want = ([[0, 0]] if song.pickup else []) + [[k, b] for k, b in enumerate(starts, 1)]
        assert js["lines"] == want, fields
        assert js["lines"][0][0] == first
        # barAt is bar_index counted from 1 (bar_index: 0 = the first full bar, -1 = pickup)
        assert js["at"] == [bar_index(p, stretches) + 1 for p in probes], fields
        if hasattr(song, "bar_map"):  # Song's own bar numbers, where it has them
            assert js["at"] == [song.bar_map().index(p) for p in probes], fields
