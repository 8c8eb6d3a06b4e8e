"""deepcompose batch: outputs, manifest, broken inputs, resume after SIGKILL, seeds, Ray.

Most tests use ``FakeComposer`` (defined here, tests only) so that they exercise the
batch machinery in seconds; the Ray test uses the shipped GAN when its weights exist.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from deepcompose import batch_jobs
from deepcompose.batch import file_seed, read_manifest, run_batch
from deepcompose.errors import DeepcomposeError
from deepcompose.models import registry
from deepcompose.models.common import weights
from deepcompose.models.common.composer import Composer
from deepcompose.representations.voices import REST

ROOT = Path(__file__).resolve().parent.parent
FOLK = sorted((ROOT / "benchmarks" / "data" / "folk").glob("*.mid"))
TEMP = re.compile(r"^\..*\.tmp(\.[A-Za-z0-9]+)?$")


class FakeComposer(Composer):
    """Test double: alto/tenor/bass a seed-dependent distance under the melody, per beat."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay

    def generate(self, task, grid, known, meter, seed, temperature=1.0, **controls):
        rng = np.random.default_rng(seed)
        out = grid.copy()
        mel, steps = grid[0], grid.shape[1]
        for r, gap in ((1, 4), (2, 9), (3, 16)):
            jitter = rng.integers(0, 4, steps // 4 + 1).repeat(4)[:steps]
            out[r] = np.where(known[r], grid[r], np.where(mel != REST, mel - gap - jitter, REST))
        time.sleep(self.delay)
        return out


def install_fake(delay: float = 0.0) -> None:
    """Put the fake in the model cache under the name ``gan`` (forked workers inherit it)."""
    weights._cache["gan"] = FakeComposer(delay)


@pytest.fixture
def fake_gan():
    old = weights._cache.pop("gan", None)
    install_fake()
    yield
    weights._cache.pop("gan", None)
    if old is not None:
        weights._cache["gan"] = old


def make_inputs(folder: Path, n: int, broken: bool = True) -> list[str]:
    """``n`` real folk melodies spread over subfolders (+ 2 broken files); relative paths."""
    assert FOLK, "benchmarks/data/folk is missing"
    rels = []
    for i in range(n):
        sub = ["", "a", "b/c"][i % 3]
        rel = f"{sub}/{i:03d}-{FOLK[i % len(FOLK)].stem}.mid".lstrip("/")
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FOLK[i % len(FOLK)], folder / rel)
        rels.append(rel)
    if broken:
        (folder / "broken.mid").write_bytes(b"this is not a MIDI file")
        (folder / "a" / "bad.json").write_text("{not json")
        rels += ["broken.mid", "a/bad.json"]
    (folder / "notes.txt").write_text("not a melody")  # ignored
    return sorted(rels)


def notes_of(path: Path) -> list[tuple]:
    pm = pretty_midi.PrettyMIDI(str(path))
    return sorted((i, n.pitch, round(n.start, 4), round(n.end, 4))
                  for i, inst in enumerate(pm.instruments) for n in inst.notes)


def manifest_rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def temps(out: Path) -> list[str]:
    return [n for _, _, files in os.walk(out) for n in files if TEMP.match(n)]


def test_outputs_manifest_and_broken_inputs(tmp_path, fake_gan):
    src, out = tmp_path / "in", tmp_path / "out"
    rels = make_inputs(src, 10)
    summary = run_batch(src, out, model="gan", workers=2, seed=3, progress=False)
    assert (summary["ok"], summary["error"], summary["skipped"]) == (10, 2, 0)
    assert not (out / ".batch.lock").exists()  # the lock lives only while a batch runs

    rows = manifest_rows(out)
    assert sorted(r["input"] for r in rows) == rels  # one row per input
    by_input = {r["input"]: r for r in rows}
    for rel in rels:
        r = by_input[rel]
        assert set(r) >= {"input", "output", "status", "error", "seed", "seconds"}
        assert r["seed"] == file_seed(3, rel)
        if rel in ("broken.mid", "a/bad.json"):
            assert r["status"] == "error" and r["error"]
            assert "Traceback" not in r["error"] and "\n" not in r["error"]
            assert not (out / r["output"]).exists()
        else:
            assert r["status"] == "ok" and r["error"] is None
            assert r["output"] == rel[:-4] + ".mid"  # subfolders mirrored
            pm = pretty_midi.PrettyMIDI(str(out / r["output"]))
            assert len(pm.instruments) == 4  # the melody + three new voices
            melody_in = sorted((n.pitch, round(n.start, 3))
                               for n in pretty_midi.PrettyMIDI(str(src / rel)).instruments[0].notes)
            assert sorted((n.pitch, round(n.start, 3))
                          for n in pm.instruments[0].notes) == melody_in
    assert "MIDI" in by_input["broken.mid"]["error"]
    assert "JSON" in by_input["a/bad.json"]["error"]
    assert temps(out) == []

    # The same command again: the ok ones are skipped, the broken ones retried, no duplicates.
    again = run_batch(src, out, model="gan", workers=2, seed=3, progress=False)
    assert (again["ok"], again["error"], again["skipped"]) == (0, 2, 10)
    assert sorted(r["input"] for r in manifest_rows(out)) == rels

    # Another seed is another job: everything is redone and the notes change.
    before = notes_of(out / "000-" f"{FOLK[0].stem}.mid")
    third = run_batch(src, out, model="gan", workers=2, seed=4, progress=False)
    assert (third["ok"], third["skipped"]) == (10, 0), third
    assert notes_of(out / "000-" f"{FOLK[0].stem}.mid") != before
    assert len(manifest_rows(out)) == len(rels)


def test_seeds_do_not_depend_on_workers_or_order(tmp_path, fake_gan):
    src = tmp_path / "in"
    rels = [r for r in make_inputs(src, 6, broken=False)]
    one = run_batch(src, tmp_path / "w1", model="gan", workers=1, seed=7, progress=False)
    two = run_batch(src, tmp_path / "w2", model="gan", workers=2, seed=7, progress=False)
    assert one["ok"] == two["ok"] == len(rels)
    for rel in rels:
        out = rel[:-4] + ".mid"
        assert notes_of(tmp_path / "w1" / out) == notes_of(tmp_path / "w2" / out)
    # A file's seed is a function of (base seed, its relative path) only.
    assert file_seed(7, "a/x.mid") == file_seed(7, "a/x.mid")
    assert len({file_seed(7, "a/x.mid"), file_seed(8, "a/x.mid"), file_seed(7, "b/x.mid")}) == 3


def test_sigkill_then_rerun_resumes(tmp_path):
    """kill -9 of `deepcompose batch` part-way, the same command again: a complete job."""
    src, out = tmp_path / "in", tmp_path / "out"
    rels = make_inputs(src, 40, broken=False)
    code = ("import sys; sys.path.insert(0, {tests!r}); import test_batch as t; "
            "t.install_fake(float(sys.argv[1])); import deepcompose.cli as cli; "
            "sys.argv = ['deepcompose'] + sys.argv[2:]; cli.deepcompose_main()")
    code = code.format(tests=str(ROOT / "tests"))
    args = ["batch", str(src), str(out), "--model", "gan", "--workers", "2", "--seed", "5"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", code, "0.15", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if (out / "manifest.jsonl").exists() and len(manifest_rows_loose(out)) >= 5:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the batch ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(manifest_rows_loose(out))
    assert 5 <= done_before < len(rels)

    rerun = subprocess.run([sys.executable, "-c", code, "0", *args], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    summary = json.loads(rerun.stderr.strip().splitlines()[-1])
    assert summary["skipped"] >= done_before - 2 and summary["error"] == 0

    rows = manifest_rows(out)
    assert sorted(r["input"] for r in rows) == rels  # each input once
    assert all(r["status"] == "ok" for r in rows)
    outputs = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.mid"))
    assert outputs == sorted(r[:-4] + ".mid" for r in rels)  # one output per input
    for p in outputs:
        assert len(pretty_midi.PrettyMIDI(str(out / p)).instruments) == 4  # valid MIDI
    assert temps(out) == []


def manifest_rows_loose(out: Path) -> list[dict]:
    return list(read_manifest(out / "manifest.jsonl").values())


def test_write_errors_are_rows_not_tracebacks(tmp_path, fake_gan, monkeypatch):
    src, out = tmp_path / "in", tmp_path / "out"
    make_inputs(src, 3, broken=False)
    (out / "000-" f"{FOLK[0].stem}.mid").mkdir(parents=True)  # the output path is taken
    summary = run_batch(src, out, model="gan", workers=1, progress=False)
    assert (summary["ok"], summary["error"]) == (2, 1)
    bad = [r for r in manifest_rows(out) if r["status"] == "error"]
    assert "cannot write" in bad[0]["error"] and "Traceback" not in bad[0]["error"]
    assert temps(out) == []

    def full(fd):  # the disk fills up: every fsync fails
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(DeepcomposeError, match="disk full: cannot write .*manifest.jsonl"):
        run_batch(src, tmp_path / "full", model="gan", workers=1, progress=False)
    monkeypatch.undo()
    assert temps(tmp_path / "full") == []
    err = OSError(28, "No space left on device", "x.mid")
    assert batch_jobs.error_message(err).startswith("disk full")
    assert batch_jobs.error_message(PermissionError(13, "Permission denied", "y.mid")) == \
        "permission denied: y.mid"


def test_torn_manifest_and_stale_temps_are_cleaned(tmp_path, fake_gan):
    src, out = tmp_path / "in", tmp_path / "out"
    rels = make_inputs(src, 3, broken=False)
    run_batch(src, out, model="gan", workers=1, progress=False)
    with open(out / "manifest.jsonl", "a") as f:
        f.write('{"input": "000-')  # a row torn by a crash
    (out / "a" / ".x.abc123.tmp.mid").write_bytes(b"half")
    summary = run_batch(src, out, model="gan", workers=1, progress=False)
    assert summary["skipped"] == 3
    assert sorted(r["input"] for r in manifest_rows(out)) == rels
    assert temps(out) == []


def test_job_level_errors(tmp_path, fake_gan, monkeypatch):
    with pytest.raises(DeepcomposeError, match="input folder not found"):
        run_batch(tmp_path / "nope", tmp_path / "out", model="gan", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DeepcomposeError, match="no melody files"):
        run_batch(tmp_path / "empty", tmp_path / "out", model="gan", progress=False)
    make_inputs(tmp_path / "in", 1, broken=False)
    with pytest.raises(DeepcomposeError, match="differ"):
        run_batch(tmp_path / "in", tmp_path / "in", model="gan", progress=False)
    with pytest.raises(DeepcomposeError, match="chorale does task accompany only, not infill"):
        run_batch(tmp_path / "in", tmp_path / "out", model="gan", task="infill", progress=False)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(DeepcomposeError, match=r"deepcompose\[ray\]"):
        run_batch(tmp_path / "in", tmp_path / "out", model="gan", engine="ray", progress=False)


def test_ray_engine_matches_local(tmp_path, monkeypatch):
    """A local Ray gives the notes of the local engine (the GAN once its weights exist)."""
    ray = pytest.importorskip("ray")
    import logging

    src = tmp_path / "in"
    rels = make_inputs(src, 3, broken=False)
    (src / "broken.mid").write_bytes(b"junk")
    kw = {"num_cpus": 2, "include_dashboard": False, "log_to_driver": False,
          "logging_level": logging.ERROR}
    if not (registry.WEIGHTS_DIR / "gan.safetensors").exists():
        # Ray workers are fresh processes: the fake goes in through Ray's setup hook.
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
            [str(ROOT / "tests"), str(ROOT), os.environ.get("PYTHONPATH", "")]))
        monkeypatch.setitem(weights._cache, "gan", FakeComposer())
        kw["runtime_env"] = {"worker_process_setup_hook": "test_batch.install_fake"}
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(**kw)
    try:
        local = run_batch(src, tmp_path / "local", model="gan", workers=1, seed=11,
                          progress=False)
        ray_ = run_batch(src, tmp_path / "ray", model="gan", engine="ray", workers=2, seed=11,
                         progress=False)
    finally:
        ray.shutdown()
    assert (local["ok"], local["error"]) == (ray_["ok"], ray_["error"]) == (3, 1)
    for rel in rels:
        out = rel[:-4] + ".mid"
        assert notes_of(tmp_path / "local" / out) == notes_of(tmp_path / "ray" / out)
    rows = {r["input"]: r for r in manifest_rows(tmp_path / "ray")}
    local_rows = {r["input"]: r for r in manifest_rows(tmp_path / "local")}
    assert rows["broken.mid"]["status"] == "error"
    assert rows["broken.mid"]["error"] == local_rows["broken.mid"]["error"]
    assert {k: r["seed"] for k, r in rows.items()} == {k: r["seed"] for k, r in local_rows.items()}
