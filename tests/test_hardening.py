"""Hostile and odd inputs end to end; weights that cannot run code or load wrong."""

import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import deepcompose
from deepcompose.errors import DeepcomposeError
from deepcompose.models.common.weights import load_family as load_composer
from deepcompose.models.registry import WEIGHTS_DIR

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(DATA))
import make_corpus  # noqa: E402

PACKAGE = Path(deepcompose.__file__).parent
SHIPPED = sorted(p.stem for p in WEIGHTS_DIR.glob("*.safetensors"))
VALID = [name for name, (_, (kind, _)) in make_corpus.CASES.items() if kind == "melody"]


@pytest.mark.skipif("gan" not in SHIPPED, reason="no shipped gan weights")
@pytest.mark.parametrize("name", VALID)
def test_unusual_but_valid_files_compose_with_the_melody_kept(name):
    song = deepcompose.read(DATA / name)
    melody = song.tracks[song.melody_index()]
    out = deepcompose.compose(song, model="gan", seed=1)
    assert out.tracks[0].notes == melody.notes
    assert len(out.tracks) == 4 and any(t.notes for t in out.tracks[1:])


@pytest.mark.parametrize("payload", ["many_notes", "gap_of_days"])
def test_abusive_files_end_fast_with_bounded_memory(payload, tmp_path):
    path = tmp_path / f"{payload}.mid"
    path.write_bytes(getattr(make_corpus, payload)())
    t = time.perf_counter()
    r = subprocess.run([str(Path(sys.executable).parent / "compose"), "--melody", str(path),
                        "-o", str(tmp_path / "out.mid")], capture_output=True, text=True,
                       timeout=60)
    seconds = time.perf_counter() - t
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert r.returncode == 2 and r.stderr.startswith("error: ")
    assert not (tmp_path / "out.mid").exists()
    assert seconds < 60
    assert peak_kib < 4 * 1024 * 1024


def test_no_pickle_weights_or_unsafe_loads_in_the_package():
    pickled = [p for p in PACKAGE.rglob("*")
               if p.suffix in {".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin", ".npy"}]
    assert pickled == []
    for source in PACKAGE.rglob("*.py"):
        text = source.read_text()
        assert "import pickle" not in text, source
        for call in re.findall(r"torch\.load\([^)]*\)", text):
            assert "weights_only=True" in call, (source, call)


def load_any(name, weights_dir):
    """Load shipped weights ``name`` from ``weights_dir`` the way compose does."""
    return load_composer(name, weights_dir=weights_dir)


def test_every_shipped_weights_file_loads():
    for name in SHIPPED:
        assert load_any(name, WEIGHTS_DIR) is not None


def _copy_weights(tmp_path, name):
    for ext in (".safetensors", ".json"):
        shutil.copy(WEIGHTS_DIR / f"{name}{ext}", tmp_path / f"{name}{ext}")
    return tmp_path / f"{name}.safetensors", tmp_path / f"{name}.json"


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("tamper", ["truncate", "garble_header", "wrong_shape_config",
                                    "wrong_family", "no_config", "not_json"])
def test_tampered_weights_are_a_clear_error(name, tamper, tmp_path):
    import json

    weights, config = _copy_weights(tmp_path, name)
    data = weights.read_bytes()
    meta = json.loads(config.read_text())
    if tamper == "truncate":
        weights.write_bytes(data[: len(data) // 2])
    elif tamper == "garble_header":
        weights.write_bytes(data[:8] + b"{\"__metadata__\": 1, " + data[28:])
    elif tamper == "wrong_shape_config":
        for k, v in meta["config"].items():  # widths and depths no longer match the tensors
            if isinstance(v, int) and not isinstance(v, bool) and v >= 8:
                meta["config"][k] = v * 2
        config.write_text(json.dumps(meta))
    elif tamper == "wrong_family":
        meta["family"] = "something-else"
        config.write_text(json.dumps(meta))
    elif tamper == "no_config":
        del meta["config"]
        config.write_text(json.dumps(meta))
    else:
        config.write_text("{not json")
    with pytest.raises(DeepcomposeError) as err:
        load_any(name, tmp_path)
    assert "\n" not in str(err.value)


def test_missing_weights_are_a_clear_error(tmp_path):
    with pytest.raises(DeepcomposeError, match="no shipped weights"):
        load_composer("gan", weights_dir=tmp_path)


@pytest.mark.parametrize("how", ["same path", "another spelling", "a symlink", "a hard link",
                                 "notes json", "default output"])
def test_output_onto_the_input_is_refused_and_the_input_kept(how, tmp_path):
    """-o naming the melody itself (however spelled) is an error; the input keeps its bytes."""
    shutil.copy(PACKAGE / "melodies" / "pop-hook.json", tmp_path / "hook.json")
    deepcompose.read(tmp_path / "hook.json").write(tmp_path / "hook.mid")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.mid").symlink_to(tmp_path / "hook.mid")
    (tmp_path / "hard.mid").hardlink_to(tmp_path / "hook.mid")
    (tmp_path / "hook-gan.mid").symlink_to(tmp_path / "hook.mid")  # compose's default name
    source, output = {"same path": ("hook.mid", "hook.mid"),
                      "another spelling": ("hook.mid", f"sub/../../{tmp_path.name}/hook.mid"),
                      "a symlink": ("hook.mid", "link.mid"),
                      "a hard link": ("link.mid", "hard.mid"),
                      "notes json": ("hook.json", "./hook.json"),
                      "default output": ("hook.mid", None)}[how]
    before = {p.name: p.read_bytes() for p in tmp_path.glob("hook.*")}
    listing = sorted(tmp_path.rglob("*"))
    flag = "--notes-json" if source.endswith(".json") else "--melody"
    r = subprocess.run([str(Path(sys.executable).parent / "compose"), flag, source,
                        *(["-o", output] if output else []), "--model", "gan",
                        "--plot", "hook.png"],
                       capture_output=True, text=True, timeout=60, cwd=tmp_path)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    named = f"-o {output}" if output else "the output hook-gan.mid"
    assert lines[0] == (f"error: {named} is the input melody; write the result to another "
                        "file (the input is never overwritten)")
    assert {p.name: p.read_bytes() for p in tmp_path.glob("hook.*")} == before
    assert sorted(tmp_path.rglob("*")) == listing
