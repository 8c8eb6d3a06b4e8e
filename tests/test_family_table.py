"""The family table is the one seam: a style added as one row plus its weights (here in a
temporary folder) composes from the CLI, the server and batch, and is listed by
``deepcompose models``, with no other code knowing its name."""

import json
import shutil
from dataclasses import replace

import pytest
from click.testing import CliRunner
from http_client import call, running_server

from deepcompose.melodies import path as example_path
from deepcompose.models import registry
from deepcompose.models.common import weights
from deepcompose.song import Song

pytest.importorskip("torch")


@pytest.fixture
def toy_style(tmp_path, monkeypatch):
    """Style ``toy`` of ``--model gan``: the chorale GAN's network under its own family name
    and weights file, registered by one row."""
    folder = tmp_path / "weights"
    folder.mkdir()
    shutil.copy(registry.WEIGHTS_DIR / "gan.safetensors", folder / "gan_toy.safetensors")
    meta = json.loads((registry.WEIGHTS_DIR / "gan.json").read_text())
    (folder / "gan_toy.json").write_text(json.dumps({**meta, "family": "gan_toy"}))
    row = replace(registry.family("gan"), name="gan_toy", styles=("toy",),
                  summary="a toy style (tests only)", weights_dir=folder)
    monkeypatch.setitem(registry.FAMILIES, "gan_toy", row)
    yield "toy"
    weights.forget("gan_toy")


def test_the_table_lists_the_new_row(toy_style):
    from deepcompose.cli import main

    r = CliRunner().invoke(main, ["models", "--json"])
    assert r.exit_code == 0, r.output
    rows = {row["family"]: row for row in json.loads(r.output)}
    assert rows["gan_toy"]["styles"] == ["toy"] and rows["gan_toy"]["model"] == "gan"
    assert rows["gan_toy"]["weights"].endswith("weights/gan_toy.safetensors")
    style = next(c for c in rows["gan_toy"]["controls"] if c["name"] == "style")
    assert style["choices"][-1] == "toy" and {"chorale", "pop"} <= set(style["choices"])


def test_cli_composes_with_the_new_style(toy_style, tmp_path):
    from deepcompose.cli import compose_command

    out = tmp_path / "out.mid"
    weights.forget("gan_toy")
    r = CliRunner().invoke(compose_command, ["--example", "ode-to-joy", "--model", "gan",
                                             "--style", "toy", "--seed", "1", "-o", str(out)])
    assert r.exit_code == 0, r.output
    song = Song.read(out)
    assert len(song.tracks) == 4 and all(t.notes for t in song.tracks)
    assert "gan_toy" in weights.loaded()  # played by the new row's weights


def test_server_composes_with_the_new_style(toy_style):
    melody = Song.read(example_path("ode-to-joy")).to_notes()
    with running_server() as s:
        status, _, body = call(s, "POST", "/compose",
                               {**melody, "model": "gan", "style": "toy", "seed": 2})
        assert status == 200, body
        assert len(json.loads(body)["tracks"]) == 4
        status, _, body = call(s, "GET", "/models")
    families = {r["family"]: r for r in json.loads(body)["families"]}
    assert families["gan_toy"]["loaded"] is True and families["gan_toy"]["weights"] is True


def test_batch_composes_with_the_new_style(toy_style, tmp_path):
    from deepcompose.batch import run_batch

    src, dst = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for name in ("ode-to-joy", "amazing-grace"):
        shutil.copy(example_path(name), src / f"{name}.json")
    summary = run_batch(src, dst, model="gan", style="toy", workers=2, progress=False)
    assert summary["ok"] == 2 and summary["error"] == 0, summary
    rows = [json.loads(line) for line in (dst / "manifest.jsonl").read_text().splitlines()]
    assert {r["controls"]["style"] for r in rows} == {"toy"}
    assert all(len(Song.read(dst / r["output"]).tracks) == 4 for r in rows)


def test_a_style_no_row_plays_is_one_clear_error():
    from deepcompose.errors import DeepcomposeError

    with pytest.raises(DeepcomposeError, match="style must be one of chorale, pop"):
        registry.resolve("gan", "accompany", {"style": "toy"})
