"""The GAN accompanist: trains from one call, and its shipped weights harmonize real melodies."""

import time

import numpy as np
import pytest

from deepcompose.data import PITCH_RANGE, load_jsb
from deepcompose.errors import DeepcomposeError
from deepcompose.models.common.weights import load_family as load_composer
from deepcompose.representations.voices import REST, Meter

torch = pytest.importorskip("torch")
from deepcompose.models.gan.net import guess_meter  # noqa: E402

CONSONANT = {0, 3, 4, 7, 8, 9}


def accompany(model, melody_grid, meter, seed, temperature=1.0):
    grid = melody_grid.copy()
    grid[1:] = REST
    known = np.zeros(grid.shape, dtype=bool)
    known[0] = True
    return model.generate("accompany", grid, known, meter, seed=seed, temperature=temperature)


def on_beat_consonance(grid):
    """Share of (melody, accompaniment) pairs at integer beats that are consonant (issue 3)."""
    good = total = 0
    for t in range(0, grid.shape[1], 4):
        mel, acc = int(grid[0, t]), [int(p) for p in grid[1:, t] if p != REST]
        if mel == REST:
            continue
        lowest = min(acc + [mel])
        for p in acc:
            iv = (mel - p) % 12
            good += iv in CONSONANT or (iv == 5 and p != lowest)
            total += 1
    return good / total


@pytest.fixture(scope="module")
def shipped():
    return load_composer("gan")


@pytest.fixture(scope="module")
def chorale():
    return load_jsb("test")[0]


def test_tiny_training_writes_loadable_weights(tmp_path):
    from deepcompose.train import train

    train(model="gan", steps=3, out=tmp_path, seed=0, tiny=True, progress=False, threads=1,
          validate_every=3)
    model = load_composer("gan", tmp_path)
    melody = load_jsb("valid")[0][:, :40]
    out = accompany(model, melody, Meter(16, 0), seed=0)
    assert out.shape == melody.shape
    assert (out[0] == melody[0]).all()
    assert ((out[1:] == REST) | ((out[1:] >= PITCH_RANGE[0]) & (out[1:] <= PITCH_RANGE[1]))).all()


def test_shipped_keeps_melody_and_writes_valid_voices(shipped, chorale):
    out = accompany(shipped, chorale, guess_meter(chorale), seed=1)
    assert out.shape == chorale.shape and out.dtype == np.int16
    assert (out[0] == chorale[0]).all()
    sounding = chorale[0] != REST
    for v in (1, 2, 3):
        row = out[v]
        assert ((row == REST) | ((row >= PITCH_RANGE[0]) & (row <= PITCH_RANGE[1]))).all()
        assert (row[sounding] != REST).all()  # every voice sounds under the melody
        assert (row[sounding] <= chorale[0][sounding]).all()  # never above it
    # no fragments shorter than an 8th note: every note starts and ends on an 8th boundary
    changes = np.flatnonzero((out[1:, 1:] != out[1:, :-1]).any(0)) + 1
    assert (changes % 2 == 0).all()


def test_shipped_is_deterministic_per_seed_and_varies_across_seeds(shipped, chorale):
    meter = guess_meter(chorale)
    a = accompany(shipped, chorale, meter, seed=3)
    assert (a == accompany(shipped, chorale, meter, seed=3)).all()
    assert (a != accompany(shipped, chorale, meter, seed=4)).any()
    z = accompany(shipped, chorale, meter, seed=3, temperature=0)
    assert (z == accompany(shipped, chorale, meter, seed=9, temperature=0)).all()


def test_shipped_harmonizes_consonantly(shipped):
    # measured on these 8 chorales: shipped model 0.939, Bach's own parts 0.915;
    # random in-key notes score ~0.63, a held tonic triad ~0.72 (issue 3)
    pieces = load_jsb("test")[:8]
    cons = [on_beat_consonance(accompany(shipped, p, guess_meter(p), seed=1)) for p in pieces]
    assert np.mean(cons) >= 0.85


def test_three_four_with_pickup_and_odd_length(shipped):
    melody = load_jsb("test")[1][:, :75]  # odd number of 16th steps
    meter = Meter(12, 3)  # a 3/4 pickup of three 16ths: bar lines off the 8th grid
    out = accompany(shipped, melody, meter, seed=2)
    assert out.shape == melody.shape
    assert (out[0] == melody[0]).all()
    assert (out[1:, melody[0] != REST] != REST).all()


def test_known_cells_come_back_unchanged(shipped, chorale):
    grid = chorale.copy()
    known = np.zeros(grid.shape, dtype=bool)
    known[0] = True
    known[3, :32] = True  # the bass of the first two bars is given
    grid[1:, 32:] = REST
    grid[1:3] = REST
    out = shipped.generate("accompany", grid, known, guess_meter(chorale), seed=0)
    assert (out[known] == grid[known]).all()


def test_other_tasks_are_a_clear_error(shipped, chorale):
    known = np.ones(chorale.shape, dtype=bool)
    with pytest.raises(DeepcomposeError, match="accompany"):
        shipped.generate("continue", chorale, known, Meter(), seed=0)


def test_critic_prefers_bach_to_random_notes(shipped):
    rng = np.random.default_rng(0)
    pieces = load_jsb("test")[:10]
    bach = [shipped.score(p, guess_meter(p)) for p in pieces]
    noise = []
    for p in pieces:
        fake = p.copy()
        fake[1:] = rng.integers(40, 70, size=fake[1:].shape).repeat(4, axis=1)[:, : p.shape[1]]
        noise.append(shipped.score(fake, guess_meter(p)))
    assert np.mean(bach) > np.mean(noise)


def test_eight_bars_generate_fast(shipped, chorale):
    melody = chorale[:, :128]
    accompany(shipped, melody, Meter(), seed=0)  # warm-up
    t = time.perf_counter()
    accompany(shipped, melody, Meter(), seed=0)
    assert time.perf_counter() - t < 0.3
