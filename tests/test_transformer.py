"""The music transformer: training protocol, KV cache, forced tokens, seeds, shipped quality."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from deepcompose.data import load_jsb  # noqa: E402
from deepcompose.models.common.weights import load_family as load_composer  # noqa: E402
from deepcompose.models.registry import WEIGHTS_DIR  # noqa: E402
from deepcompose.models.transformer import composer as tf_composer  # noqa: E402
from deepcompose.models.transformer import net as tf_net  # noqa: E402
from deepcompose.models.transformer import sampling as tf_sampling  # noqa: E402
from deepcompose.representations.voices import REST, Meter  # noqa: E402


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return tf_composer.TransformerComposer(tf_net.MusicTransformer(dict(tf_net.TINY_CONFIG)))


@pytest.fixture(scope="module")
def valid():
    return load_jsb("valid")


def test_tokens_roundtrip(valid):
    grid = valid[0]
    ids = tf_net.grid_to_tokens(grid)
    assert ids.shape == (4 * grid.shape[1],)
    assert list(ids[:4]) == [tf_net.grid_to_tokens(grid[:, :1])[v] for v in range(4)]  # S,A,T,B
    np.testing.assert_array_equal(tf_net.tokens_to_grid(ids), grid)


def test_tiny_training_writes_loadable_weights(tmp_path):
    from deepcompose.train import train

    metrics = train(model="transformer", steps=6, out=tmp_path, seed=0, tiny=True,
                    progress=False, threads=1)
    assert np.isfinite(metrics["valid_nll"])
    composer = load_composer("transformer", weights_dir=tmp_path)
    assert isinstance(composer, tf_composer.TransformerComposer)
    assert composer.model.cfg["d_model"] == tf_net.TINY_CONFIG["d_model"]


def test_kv_cache_logits_equal_full_recompute(tiny):
    model, cfg = tiny.model, tiny.model.cfg
    ids = torch.randint(0, tf_net.VOCAB - 1, (2, 40))
    ids[:, 0] = tf_net.BOS_ID
    phase = torch.tensor([0, 3])
    with torch.no_grad():
        full = model(ids, phase)  # [2, 40, VOCAB]
        cache = tf_net.KVCache(cfg, 2, 64)
        parts = [model(ids[:, :7], phase, cache)]  # prefill, then one token at a time
        parts += [model(ids[:, j : j + 1], phase, cache) for j in range(7, 40)]
    torch.testing.assert_close(torch.cat(parts, dim=1), full, atol=1e-5, rtol=1e-4)


def _accompany_inputs(valid, steps=None):
    grid = valid[1][:, :steps] if steps else valid[1]
    known = np.zeros_like(grid, dtype=bool)
    known[0] = True
    return grid, known


def test_forced_tokens_kept_even_beyond_the_window(tiny, valid):
    # 200 steps = 800 tokens, far beyond the tiny 64-token window: the window must slide
    grid, known = _accompany_inputs(valid, 200)
    grid = grid.copy()
    grid[0, 5:9] = 100  # out of the model's range: folded for the model, returned unchanged
    grid[0, 9:12] = REST
    out = tiny.generate("accompany", grid, known, Meter(16, 0), seed=3)
    assert out.shape == grid.shape and out.dtype == np.int16
    np.testing.assert_array_equal(out[0], grid[0])
    lo, hi = tf_net.PITCH_RANGE
    sounding = out[1:][out[1:] != REST]
    assert sounding.size and sounding.min() >= lo and sounding.max() <= hi


def test_same_seed_same_notes_other_seed_other_notes(tiny, valid):
    grid, known = _accompany_inputs(valid, 48)
    a = tiny.generate("accompany", grid, known, Meter(16, 0), seed=7)
    b = tiny.generate("accompany", grid, known, Meter(16, 0), seed=7)
    c = tiny.generate("accompany", grid, known, Meter(16, 0), seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sampling_filters():
    gen = torch.Generator().manual_seed(0)
    logits = torch.zeros(tf_net.VOCAB)
    logits[5], logits[9] = 10.0, 9.0
    assert tf_sampling.pick(logits, 0.0, None, None, gen) == 5  # greedy
    picks = {tf_sampling.pick(logits, 1.0, 1, None, gen) for _ in range(20)}
    assert picks == {5}  # top-k = 1
    picks = {tf_sampling.pick(logits, 1.0, None, 0.9, gen) for _ in range(50)}
    assert picks <= {5, 9}  # nucleus keeps the two tokens holding ~all the mass
    logits[tf_net.BOS_ID] = 100.0
    assert tf_sampling.pick(logits, 1.0, None, None, gen) != tf_net.BOS_ID  # BOS is never sampled


def test_sliding_window_counts_every_token_once(tiny, valid):
    tokens = tf_net.grid_to_tokens(valid[0])  # longer than the tiny window
    lp = tf_sampling.token_logprobs(tiny.model, tokens)
    assert lp.shape == tokens.shape and np.all(np.isfinite(lp)) and np.all(lp <= 0)
    short = tokens[: tf_net.window_len(tiny.model.cfg)]  # fits one window: plain forward
    ids = torch.as_tensor(np.concatenate([[tf_net.BOS_ID], short[:-1]]))[None]
    with torch.no_grad():
        ref = torch.log_softmax(tiny.model(ids, torch.zeros(1, dtype=torch.long)), -1)[0]
    np.testing.assert_allclose(tf_sampling.token_logprobs(tiny.model, short),
                               ref[torch.arange(len(short)), torch.as_tensor(short)].numpy(),
                               atol=1e-5)


shipped = pytest.mark.skipif(not (WEIGHTS_DIR / "transformer.safetensors").exists(),
                             reason="no shipped transformer weights")


@shipped
def test_shipped_weights_nll_on_valid_pieces(valid):
    composer = load_composer("transformer")
    res = composer.nll(valid[:6])
    assert res["tokens"] == sum(4 * g.shape[1] for g in valid[:6])
    assert res["nll"] < 0.47  # shipped: 0.424 on these 6, 0.459 on the whole split


@shipped
def test_shipped_accompaniment_sounds_under_the_melody(valid):
    composer = load_composer("transformer")
    grid, known = _accompany_inputs(valid, 64)
    out = composer.generate("accompany", grid, known, Meter(16, 0), seed=0)
    np.testing.assert_array_equal(out[0], grid[0])
    lower = out[1:]
    assert np.mean(lower != REST) > 0.9  # the three voices keep sounding
    sop = np.broadcast_to(out[0], lower.shape)
    both = (lower != REST) & (sop != REST)
    assert np.mean(lower[both] <= sop[both]) > 0.9  # and stay under the melody


def test_parallel_fifths_and_octaves_are_banned():
    # step 0: S=67 (G4), A=60 (C4): a fifth. Step 1: S moves up to 69 (A4).
    ids = {p: p - tf_net.LOW + 1 for p in (60, 62, 67, 69)}
    out = np.array([ids[67], ids[60], 0, 0, ids[69], 0, 0, 0])
    banned = set(tf_sampling.parallel_ids(out, 5))  # the alto at step 1
    assert ids[62] in banned  # D4 -> parallel fifths with A4
    assert ids[60] not in banned  # oblique motion (held C) is fine
    assert (59 - tf_net.LOW + 1) not in banned  # contrary motion is fine
