"""The training console (issue 28): every family's tiny training run logs DeepComposer's four
sample metrics and their real values to log.jsonl and to TensorBoard event files;
``deepcompose curves`` draws them; the metrics themselves on hand-made rolls."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from deepcompose.cli import _run as cli_run
from deepcompose.cli import main
from deepcompose.metrics.training import in_scale_rate, parallels, roll_notes, sample_metrics
from deepcompose.train import train

FOUR = ("empty_bar", "pitch_class", "polyphon", "in_scale")


def _rows(run):
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def _check_metrics(run, family_key=None):
    rows = [r for r in _rows(run) if any(k.startswith("sample_") for k in r)]
    assert len(rows) >= 2, "the four metrics at two or more steps"
    for part in FOUR:
        sampled = [k for k in rows[0] if k.startswith("sample_") and part in k]
        real = [k for k in rows[0] if k.startswith("real_") and part in k]
        assert sampled and real, part
        for r in rows:
            assert isinstance(r[sampled[0]], float) and isinstance(r[real[0]], float)
    if family_key:
        assert f"sample_{family_key}" in rows[-1]
    return rows


def _check_events(run):
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator",
                                 reason="tensorboard not installed (pip install "
                                        "'deepcompose[train]')")
    ea = ea_mod.EventAccumulator(str(run))
    ea.Reload()
    tags = ea.Tags()["scalars"]
    for part in FOUR:
        tag = next(t for t in tags if t.startswith("metrics/") and part in t)
        assert len(ea.Scalars(tag)) >= 2
        assert any(t.startswith("real/") and part in t for t in tags)
    assert any(t.startswith("loss/") for t in tags)


def _run(tmp_path, **kw):
    kw = dict(steps=4, out=tmp_path, tiny=True, progress=False, threads=1, metrics_every=2,
              validate_every=100, checkpoint_every=100, **kw)
    train(**kw)
    return tmp_path


def test_chorale_gan_logs_metrics_and_events(tmp_path):
    run = _run(tmp_path, model="gan")
    rows = _check_metrics(run, "parallels")
    assert [r["step"] for r in rows] == [2, 4]
    _check_events(run)


def test_arcnn_logs_metrics_and_events(tmp_path):
    run = _run(tmp_path, model="arcnn")
    _check_metrics(run, "parallels")
    _check_events(run)


def test_transformer_logs_metrics_nll_and_events(tmp_path):
    run = _run(tmp_path, model="transformer")
    rows = _check_metrics(run, "nll")
    assert rows[-1]["sample_nll"] > 0
    _check_events(run)


def test_band_logs_metrics_chord_fit_and_events(tmp_path, monkeypatch):
    from deepcompose.data.pop909 import load_song
    from deepcompose.models.gan_pop import train as gpt

    songs = [load_song(i) for i in (1, 2, 3)], [load_song(10)]
    monkeypatch.setattr(gpt, "load_split", lambda data, split: songs[split != "train"])
    run = _run(tmp_path, model="gan", style="pop", data="pop909")
    rows = _check_metrics(run, "chord_fit")
    assert 0.5 < rows[-1]["real_chord_fit"] <= 1  # POP909's own parts sit on their chords
    _check_events(run)


def test_quartet_logs_metrics_cello_lowest_and_events(tmp_path, monkeypatch):
    from deepcompose.data.quartets import read_score, score_files
    from deepcompose.models.gan_strings import train as gst

    files = sorted(score_files(), key=lambda f: f[2].stat().st_size)[:2]
    train_set, valid_set = (read_score(p, w, i) for w, i, p in files)
    monkeypatch.setattr(gst, "load_split",
                        lambda data, split: train_set if split == "train" else valid_set)
    run = _run(tmp_path, model="gan", style="strings", data="quartets")
    rows = _check_metrics(run, "cello_lowest")
    assert 0.5 < rows[-1]["real_cello_lowest"] <= 1
    _check_events(run)


def test_melody_transformer_logs_metrics_nll_and_events(tmp_path, monkeypatch):
    from deepcompose.data.melody_lines import load_lines
    from deepcompose.models.melody import train as mlt

    folk = {s: list(load_lines("folk", s))[:6] for s in ("train", "valid")}
    monkeypatch.setattr(mlt, "load_split", lambda data, split: folk[split])
    run = _run(tmp_path, model="transformer", style="folk", data="folk")
    rows = _check_metrics(run, "nll")
    assert rows[-1]["sample_nll"] > 0
    _check_events(run)


def test_drums_log_metrics_and_events(tmp_path, monkeypatch):
    from deepcompose.data.groove import load_groove
    from deepcompose.models.gan_drums import train as gdt

    def split(data, name):
        return [p for p in load_groove(name) if p.style in ("rock", "funk")
                and (p.beat_type == "fill" or p.n_bars > 8)][:40]

    monkeypatch.setattr(gdt, "load_split", split)
    run = _run(tmp_path, model="gan", style="pop", data="groove")
    _check_metrics(run)
    _check_events(run)


# ---------------------------------------------------------------- the metrics themselves


def _roll(notes, tracks=1, steps=32):
    """(track, pitch, start_step, end_step) -> one sample ``[tracks, steps, 128]``."""
    r = np.zeros((tracks, steps, 128), dtype=bool)
    for k, p, a, b in notes:
        r[k, a:b, p] = True
    return r


def test_four_metrics_on_hand_made_rolls():
    # bar 1: a C major triad held (3 pitch classes, polyphonic); bar 2: empty
    triad = _roll([(0, 60, 0, 16), (0, 64, 0, 16), (0, 67, 0, 16)])
    m = sample_metrics(triad[None])
    assert m == {"empty_bar_rate": 0.5, "pitch_classes": 3.0, "polyphonic_rate": 0.5,
                 "in_scale_rate": 1.0}
    # a chromatic cluster: at most 8 of 12 pitch classes fit one scale (a minor key's
    # natural minor plus its raised 7th, keys.scale_pitch_classes)
    cluster = _roll([(0, 60 + i, 0, 32) for i in range(12)])
    assert in_scale_rate(cluster) == pytest.approx(8 / 12)
    assert math.isnan(in_scale_rate(np.zeros((1, 16, 128), dtype=bool)))
    # means over samples
    both = sample_metrics(np.stack([triad, cluster]))
    assert both["empty_bar_rate"] == pytest.approx(0.25)


def test_roll_notes_and_parallels():
    assert roll_notes(_roll([(0, 62, 4, 8)])[0]) == [(62, 1.0, 2.0)]
    # two lines a fifth apart moving up together: one parallel fifth in one transition
    fifths = _roll([(0, 67, 0, 4), (0, 69, 4, 8), (1, 60, 0, 4), (1, 62, 4, 8)], 2, 8)
    assert parallels(fifths[None]) == pytest.approx(100.0)
    contrary = _roll([(0, 67, 0, 4), (0, 69, 4, 8), (1, 60, 0, 4), (1, 57, 4, 8)], 2, 8)
    assert parallels(contrary[None]) == 0.0


def test_metrics_do_not_change_training(tmp_path):
    # the probe draws from its own random streams: the same losses with and without it
    with_m = _run(tmp_path / "a", model="gan")
    train(model="gan", steps=4, out=tmp_path / "b", tiny=True, progress=False, threads=1,
          metrics_every=0, validate_every=100, checkpoint_every=100, events=False)
    a, b = _rows(with_m), _rows(tmp_path / "b")
    assert [r["ce"] for r in a] == [r["ce"] for r in b]
    assert not any(k.startswith("sample_") for r in b for k in r)


def test_a_trainer_without_the_hook_trains_and_logs_no_metrics(tmp_path, monkeypatch):
    from deepcompose.models.gan import train as gt

    monkeypatch.delattr(gt.GanTrainer, "sample_rolls")
    train(model="gan", steps=2, out=tmp_path, tiny=True, progress=False, threads=1,
          metrics_every=1, events=False)
    rows = _rows(tmp_path)
    assert len(rows) == 2 and not any("empty_bar" in k for r in rows for k in r)


# ---------------------------------------------------------------- CLI: curves, --version


def cli(capsys, *args):
    """``deepcompose ARGS`` in this process: (exit status, stdout, stderr lines)."""
    with pytest.raises(SystemExit) as done:
        cli_run(main, [str(a) for a in args])
    out, err = capsys.readouterr()
    return done.value.code, out, err.strip().splitlines()


def test_curves_draws_a_png_of_a_run(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    run = _run(tmp_path / "run", model="gan")
    out = tmp_path / "curves.png"
    code, _, err = cli(capsys, "curves", run, "-o", out)
    # losses: wdist, gp, ce, adv; metrics: the four and parallels
    assert code in (0, None) and err[-1] == f"wrote {out} (4 losses, 5 metrics)"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_curves_errors_are_one_line_and_write_nothing(tmp_path, capsys):
    out = tmp_path / "c.png"
    code, _, err = cli(capsys, "curves", tmp_path, "-o", out)
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and "log.jsonl" in err[0]
    (tmp_path / "log.jsonl").write_text("{not json\n")
    code, _, err = cli(capsys, "curves", tmp_path, "-o", out)
    assert code == 2 and len(err) == 1 and "line 1 is not JSON" in err[0]
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["log.jsonl"]


def test_version_is_0_4_3_on_the_cli_and_the_package(capsys):
    import deepcompose

    code, out, _ = cli(capsys, "--version")
    assert code == 0 and out.strip().endswith("version 0.4.3")
    assert deepcompose.__version__ == "0.4.3"
