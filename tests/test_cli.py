"""The command line as users meet it: help, the error contract, outputs."""

import json
import subprocess
import sys
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
    ([], "--example"),
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


def test_models_lists_every_shipped_weights_file():
    r = run(BIN / "deepcompose", "models", "--json")
    assert r.returncode == 0, r.stderr
    rows = {row["family"]: row for row in json.loads(r.stdout)}
    shipped = {p.stem for p in (ROOT / "deepcompose" / "weights").glob("*.safetensors")}
    assert set(rows) == shipped  # one row per weights file, and no row without one
    for name, row in rows.items():
        assert row["weights"].endswith(f"{name}.safetensors") and row["card"].endswith(".md")
        assert row["styles"] and row["tasks"] and row["model"] in ("gan", "arcnn", "transformer")
        assert (row["plan"] is None) == (row["part_of"] is not None)  # played, or a part
    assert rows["gan_pop"]["styles"] == ["pop"] and rows["gan_drums"]["part_of"] == "gan_pop"
    assert "chords" in {c["name"] for c in rows["gan_pop"]["controls"]}
    assert "top_p" in {c["name"] for c in rows["transformer"]["controls"]}


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


# ---------------------------------------------------------------- outputs, in process


def compose_cli(capsys, *args):
    """``compose ARGS`` in this process: (exit status, stdout, stderr lines)."""
    from deepcompose.cli import _run, compose_command

    with pytest.raises(SystemExit) as done:
        _run(compose_command, [str(a) for a in args])
    out, err = capsys.readouterr()
    return done.value.code, out, err.strip().splitlines()


def test_no_melody_names_the_bundled_examples(capsys):
    code, _, err = compose_cli(capsys)
    assert code == 2 and len(err) == 1
    assert err[0].startswith("error: give one of --melody") and "--example NAME" in err[0]
    assert "deepcompose examples" in err[0]


FAST = ["--model", "arcnn", "--iterations", "2"]


@pytest.mark.parametrize("case", ["missing -o folder", "missing soundfont", "-o is a folder",
                                  "missing --plot folder", "--plot is a folder"])
def test_a_failed_run_writes_no_plot_and_no_output(case, tmp_path, capsys, monkeypatch):
    """Whatever fails, fails before composing: the folder is left as it was."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir.mid").mkdir()
    (tmp_path / "adir.png").mkdir()
    args = {"missing -o folder": ["-o", "nowhere/out.mid", "--plot", "p.png"],
            "missing soundfont": ["-o", "out.wav", "--soundfont", "no.sf2", "--plot", "p.png"],
            "-o is a folder": ["-o", "adir.mid", "--plot", "p.png"],
            "missing --plot folder": ["-o", "out.mid", "--plot", "nowhere/p.png"],
            "--plot is a folder": ["-o", "out.mid", "--plot", "adir.png"]}[case]
    before = sorted(tmp_path.rglob("*"))
    code, out, err = compose_cli(capsys, "--example", "pop-hook", *FAST, *args)
    assert code == 2 and len(err) == 1 and err[0].startswith("error: "), err
    words = {"missing soundfont": "soundfont not found: no.sf2", "-o is a folder": "is a folder",
             "--plot is a folder": "is a folder"}.get(case, "does not exist")
    assert words in err[0]
    assert sorted(tmp_path.rglob("*")) == before and out == ""


def test_plot_is_written_after_the_result_and_reported(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = compose_cli(capsys, "--example", "pop-hook", *FAST, "-o", "out.mid",
                               "--plot", "p.png")
    assert code == 0 and err == ["wrote out.mid", "wrote p.png"]
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mid", "p.png"]

    from deepcompose.errors import DeepcomposeError
    from deepcompose.song import Song

    def full_disk(self, path, **options):
        raise DeepcomposeError(f"disk full: cannot write {path}; free some space and retry")

    monkeypatch.setattr(Song, "write", full_disk)  # the result fails: no plot either
    code, _, err = compose_cli(capsys, "--example", "pop-hook", *FAST, "-o", "b.mid",
                               "--plot", "b.png")
    assert code == 2 and err == ["error: disk full: cannot write b.mid; free some space and "
                                 "retry"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mid", "p.png"]


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    """A chorale and a band answer of compose (JSON), as a user would save them."""
    from deepcompose.cli import _run, compose_command

    folder = tmp_path_factory.mktemp("answers")
    for name, style in (("chorale", "chorale"), ("band", "pop")):
        with pytest.raises(SystemExit) as done:
            _run(compose_command, ["--example", "pop-hook", "--model", "gan", "--style", style,
                                   "--seed", "1", "-o", str(folder / f"{name}.json")])
        assert done.value.code == 0
    return folder


POST_BACK = [("arcnn", "accompany", ["--iterations", "2"]),
             ("arcnn", "infill", ["--iterations", "2", "--bars", "2:3"]),
             ("arcnn", "continue", ["--iterations", "2", "--bars", "1"]),
             ("arcnn", "enhance", ["--iterations", "2"]),
             ("transformer", "accompany", []), ("transformer", "continue", ["--bars", "1"]),
             ("gan", "accompany", []), ("gan", "accompany", ["--style", "pop"])]


@pytest.mark.parametrize("answer", ["chorale", "band"])
def test_an_answer_composes_again_with_every_model(answer, answers, capsys):
    """A result's JSON (chords included: the band's, or [] for a chorale) is a melody again."""
    assert "chords" in json.loads((answers / f"{answer}.json").read_text())
    for model, task, extra in POST_BACK:
        code, out, err = compose_cli(capsys, "--notes-json", answers / f"{answer}.json",
                                     "--model", model, "--task", task, *extra)
        assert code == 0, (model, task, extra, err)
        assert json.loads(out)["tracks"][0]["notes"], (model, task)


def test_chords_of_an_answer_feed_the_band(answers, capsys):
    """--chords takes a notes JSON file (an earlier answer): the band plays its chords."""
    band = answers / "band.json"
    played = json.loads(band.read_text())["chords"]
    code, out, err = compose_cli(capsys, "--notes-json", band, "--model", "gan", "--style",
                                 "pop", "--seed", "7", "--chords", band)
    assert code == 0, err
    assert json.loads(out)["chords"] == played
    chorale = answers / "chorale.json"
    code, _, err = compose_cli(capsys, "--notes-json", chorale, "--model", "gan", "--style",
                               "pop", "--chords", chorale)
    assert code == 2 and err == [f"error: --chords {chorale} is a notes JSON file without "
                                 "chords"]
