"""The command line as users meet it: help, the error contract, outputs."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parent.parent
BROKEN = ["empty.mid", "random.mid", "truncated_header.mid", "truncated_track.mid",
          "impossible_chunk_length.mid", "no_notes.mid", "drums_only.mid",
          "zero_length_notes.mid", "gap_of_days.mid", "type2.mid"]
BIN = Path(sys.executable).parent


def run(*args, cwd=None, stdin=None):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          input=stdin, timeout=120)


def test_help_for_both_commands():
    for cmd in ("compose", "deepcompose"):
        r = run(BIN / cmd, "--help")
        assert r.returncode == 0, r.stderr
        assert "Usage" in r.stdout
    r = run(BIN / "deepcompose", "--help")
    for sub in ("compose", "inspect", "batch", "train", "evaluate", "serve", "models"):
        assert sub in r.stdout


@pytest.mark.parametrize("name", BROKEN)
def test_broken_file_is_one_error_line_exit_2_nothing_written(name, tmp_path):
    out = tmp_path / "out.mid"
    r = run(BIN / "compose", "--melody", DATA / name, "--model", "gan", "-o", out, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, words", [
    (["--melody", "missing.mid"], "no such file"),
    (["--melody", str(DATA / "type0.mid"), "--model", "gan", "--task", "enhance"], "cannot do"),
    (["--melody", str(DATA / "type0.mid"), "-o", "x.docx"], "output format"),
    (["--melody", str(DATA / "type0.mid"), "--bogus"], "no such option"),
    ([], "exactly one of"),
    (["--melody", str(DATA / "type0.mid"), "--track", "Nope"], "track"),
])
def test_usage_errors_are_one_line(args, words, tmp_path):
    r = run(BIN / "compose", *args, cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert words in lines[0].lower(), r.stderr
    assert list(tmp_path.iterdir()) == []


def test_bad_notes_json_on_stdin(tmp_path):
    r = run(BIN / "compose", "--notes-json", "-", "--model", "gan", stdin="{not json", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("error: ")
    r = run(BIN / "compose", "--notes-json", "-", stdin='{"notes": [{"pitch": 300, "start": 0, '
            '"duration": 1}]}', cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("error: ")


def test_inspect_json_keys():
    r = run(BIN / "deepcompose", "inspect", DATA / "type0.mid", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    for key in ("tracks", "tempo_bpm", "time_signature", "bars", "key"):
        assert key in info
    assert {"name", "program", "is_drum", "notes"} <= set(info["tracks"][0])


def test_inspect_broken_file_exit_2():
    r = run(BIN / "deepcompose", "inspect", DATA / "truncated_track.mid")
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr


def test_import_is_light_and_torch_free():
    code = ("import time, sys; t = time.perf_counter(); import deepcompose; "
            "print(time.perf_counter() - t, 'torch' in sys.modules, 'music21' in sys.modules)")
    r = run(sys.executable, "-c", code)
    seconds, torch_loaded, m21_loaded = r.stdout.split()
    assert torch_loaded == "False" and m21_loaded == "False"
    assert float(seconds) < 0.3


def test_models_lists_the_three_families():
    t = time.time()
    r = run(BIN / "deepcompose", "models", "--json")
    assert r.returncode == 0, r.stderr
    names = {row["name"] for row in json.loads(r.stdout)}
    assert names == {"gan", "arcnn", "transformer"}
    assert time.time() - t < 60


def test_pickup_for_midi_input(tmp_path):
    """--pickup declares the beats before the first bar line of a MIDI melody."""
    melody = ROOT / "benchmarks" / "data" / "folk" / "00-44-mary-s-dream.mid"
    out = tmp_path / "out.json"
    r = run(BIN / "compose", "--melody", melody, "--model", "gan", "--pickup", "1",
            "-o", out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["pickup"] == 1
    r = run(BIN / "compose", "--melody", melody, "--model", "gan", "--pickup", "4",
            "-o", out, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("error: pickup must be")
    assert len(r.stderr.strip().splitlines()) == 1
