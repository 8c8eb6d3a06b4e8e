"""The Coconet-style AR-CNN: training produces loadable weights; the shipped weights keep
every promise of each task (known cells, bars outside an infill, an untouched melody at
iterations=0) and are deterministic per seed."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from deepcompose.data import load_jsb  # noqa: E402
from deepcompose.metrics import grid_metrics  # noqa: E402
from deepcompose.models.arcnn import composer as arcnn_composer  # noqa: E402
from deepcompose.models.arcnn import net as arcnn_net  # noqa: E402
from deepcompose.models.arcnn import sampling as arcnn_sampling  # noqa: E402
from deepcompose.models.common.weights import get_model  # noqa: E402
from deepcompose.models.common.weights import load_family as load_composer  # noqa: E402
from deepcompose.representations.voices import REST, Meter, grid_to_notes  # noqa: E402

METER = Meter(16, 0)


@pytest.fixture(scope="module")
def model():
    return get_model("arcnn")


@pytest.fixture(scope="module")
def chorale():
    """Eight bars of a held-out (valid split) chorale, ``[4, 128]``."""
    return load_jsb("valid")[3][:, :128].copy()


def melody_only(grid):
    known = np.zeros(grid.shape, bool)
    known[0] = True
    out = grid.copy()
    out[1:] = REST
    return out, known


def test_tiny_training_writes_loadable_weights(tmp_path):
    from deepcompose.train import train

    metrics = train(model="arcnn", steps=3, out=tmp_path, seed=0, tiny=True, progress=False,
                    validate_every=3, threads=1)
    assert np.isfinite(metrics["valid_loss"])
    comp = load_composer("arcnn", weights_dir=tmp_path)
    grid, known = melody_only(load_jsb("valid")[0][:, :32])
    out = comp.generate("accompany", grid, known, METER, seed=0)
    assert out.shape == grid.shape and np.array_equal(out[0], grid[0])


def test_encoding_round_trips_and_folds_out_of_range_pitches():
    grid = np.array([[60, REST, 88, 30], [100, 10, 59, 61]], dtype=np.int16)
    back = arcnn_net.decode(arcnn_net.encode(grid))
    assert np.array_equal(back[0], grid[0])
    assert list(back[1]) == [88, 34, 59, 61]  # 100 -> 88, 10 -> 34: octave folds


def test_parallel_moves_flags_exactly_the_parallel_fifth():
    # soprano C5 -> D5; alto F4 -> ?  (a fifth below C5); G4 would keep the fifth: parallel
    ids = torch.as_tensor(arcnn_net.encode(np.array([[72, 74], [65, 65], [-1, -1], [-1, -1]])))
    bad = arcnn_sampling.parallel_moves(ids[None])[0]  # [4, 2, P1]
    g4, a4 = arcnn_net.encode(np.array([67, 69]))
    assert bad[1, 1, g4] and not bad[1, 1, a4]
    assert not bad[1, 1, 0]  # resting is never a parallel


def test_accompany_keeps_melody_fills_voices_and_is_deterministic(model, chorale):
    grid, known = melody_only(chorale)
    a = model.generate("accompany", grid, known, METER, seed=7)
    b = model.generate("accompany", grid, known, METER, seed=7)
    c = model.generate("accompany", grid, known, METER, seed=8)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.array_equal(a[0], grid[0])
    assert (a[1:] != REST).mean() > 0.95
    m = grid_metrics(a)
    assert m["consonance"] >= 0.8 and m["keyfit"] >= 0.85 and m["parallels"] <= 3, m


def test_melody_rests_are_kept(model, chorale):
    grid, known = melody_only(chorale)
    grid[0, 40:48] = REST  # a two-beat rest in the melody
    out = model.generate("accompany", grid, known, METER, seed=1)
    assert (out[0, 40:48] == REST).all()
    assert (out[1:, 40:48] != REST).mean() > 0.9  # the harmony carries on under it


def test_infill_leaves_everything_outside_the_bars(model, chorale):
    known = np.ones(chorale.shape, bool)
    known[:, 32:64] = False  # bars 3-4
    out = model.generate("infill", chorale, known, METER, seed=2)
    assert np.array_equal(out[:, :32], chorale[:, :32])
    assert np.array_equal(out[:, 64:], chorale[:, 64:])
    assert (out[:, 32:64] != REST).all()


def test_continue_fills_four_bars_in_every_voice(model, chorale):
    grid = np.concatenate([chorale, np.full((4, 64), REST, np.int16)], 1)
    known = np.zeros(grid.shape, bool)
    known[:, :128] = True
    out = model.generate("continue", grid, known, METER, seed=3)
    assert np.array_equal(out[:, :128], chorale)
    assert (out[:, 128:] != REST).mean() > 0.95


def test_enhance_iterations_zero_returns_the_melody_unchanged(model, chorale):
    grid, known = melody_only(chorale)
    out = model.generate("enhance", grid, known, METER, seed=4, iterations=0)
    assert np.array_equal(out[0], grid[0])


def test_enhance_edits_within_its_budgets(model, chorale):
    grid, known = melody_only(chorale)
    notes = len(grid_to_notes(grid[0]))
    out = model.generate("enhance", grid, known, METER, seed=5, max_remove=20, max_add=6)
    removed, added = arcnn_composer.melody_edits(grid[0], out[0])
    assert not np.array_equal(out[0], grid[0])
    assert removed <= 0.2 * notes and added <= 6
    again = model.generate("enhance", grid, known, METER, seed=5, max_remove=20, max_add=6)
    assert np.array_equal(out, again)


def test_score_prefers_bach_over_shuffled_voices(model, chorale):
    shuffled = chorale.copy()
    shuffled[1:] = np.roll(chorale[1:], 37, axis=1)  # inner voices out of step with the melody
    assert model.score(chorale, METER) > model.score(shuffled, METER)


def test_nll_is_a_finite_per_frame_number(model, chorale):
    res = model.nll([chorale], fraction=0.05)
    assert 0 < res["nll"] < 20 and res["nll_per_cell"] == pytest.approx(res["nll"] / 4)
