"""One decoding module: what every sampler forbids is exactly what the metric counts; one
sampler (temperature, top-k, top-p, Gumbel) and one pitch codec for every model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepcompose import decoding, metrics
from deepcompose.data import PITCH_RANGE, load_jsb
from deepcompose.models.arcnn import net as arcnn_net  # noqa: E402
from deepcompose.models.arcnn import sampling as arcnn_sampling  # noqa: E402
from deepcompose.models.gan import composer as gan_composer  # noqa: E402
from deepcompose.models.gan import net as gan_net  # noqa: E402
from deepcompose.models.transformer import net as tf_net  # noqa: E402
from deepcompose.models.transformer import sampling as tf_sampling  # noqa: E402
from deepcompose.representations.voices import REST

torch = pytest.importorskip("torch")

from deepcompose.models.common.weights import get_model  # noqa: E402

LOW, HIGH = PITCH_RANGE
# pitches near each other so that fifths and octaves come up often, plus rests
pitch = st.one_of(st.integers(48, 74), st.just(REST))


def metric_counts(a0, a1, b0, b1) -> bool:
    """Whether ``metrics.harmony`` counts a parallel in a two-step piece of two voices."""
    def notes(p0, p1):
        return [(p, t / 4, (t + 1) / 4) for t, p in enumerate((p0, p1)) if p != REST]

    upper, lower = notes(a0, a1), notes(b0, b1)
    if not upper or not lower:
        return False
    return metrics.harmony(upper, [lower])["parallels"] > 0


def gan_forbids(a0, a1, b0, b1) -> bool:
    return bool(gan_composer.parallel_perfect(np.array([a0, b0]), np.array([[a1, b1]]))[0])


def arcnn_forbids(a0, a1, b0, b1) -> bool:
    """The AR-CNN's mask, seen from each side of the transition: voice b's move into its
    step-1 pitch, and voice a's move out of its step-0 pitch."""
    grid = np.array([[a0, a1], [b0, b1], [REST, REST], [REST, REST]])
    ids = torch.as_tensor(arcnn_net.encode(grid))[None]
    bad = arcnn_sampling.parallel_moves(ids)[0]  # [4, 2, P1]
    into, out_of = bool(bad[1, 1, ids[0, 1, 1]]), bool(bad[0, 0, ids[0, 0, 0]])
    assert into == out_of  # the same transition judged from either step
    return into


def transformer_forbids(a0, a1, b0, b1) -> bool:
    """Voice a is the soprano (written first), voice b the alto sampled after it."""
    if b1 == REST:
        return False  # a rest is never banned, and is never a parallel
    out = tf_net.grid_to_tokens(np.array([[a0, a1], [b0, b1], [REST, REST], [REST, REST]]))
    return int(out[5]) in tf_sampling.parallel_ids(out, 5)


@settings(max_examples=400, deadline=None)
@given(pitch, pitch, pitch, pitch)
def test_every_sampler_forbids_exactly_what_the_metric_counts(a0, a1, b0, b1):
    rule = bool(decoding.parallel(a0, a1, b0, b1))
    assert metric_counts(a0, a1, b0, b1) == rule
    assert gan_forbids(a0, a1, b0, b1) == rule
    assert arcnn_forbids(a0, a1, b0, b1) == rule
    assert transformer_forbids(a0, a1, b0, b1) == rule


def test_the_rule_on_textbook_cases():
    assert decoding.parallel(72, 74, 65, 67)  # fifths, both up a tone
    assert decoding.parallel(72, 71, 60, 59)  # octaves down
    assert decoding.parallel(79, 81, 60, 62)  # a twelfth (compound fifth) is a fifth
    assert not decoding.parallel(72, 74, 65, 65)  # oblique: the lower voice holds
    assert not decoding.parallel(72, 74, 65, 62)  # contrary motion
    assert not decoding.parallel(72, 74, 64, 66)  # parallel thirds are fine
    assert not decoding.parallel(72, 74, REST, 67)  # a voice entering is no parallel
    assert not decoding.parallel(67, 72, 60, 60)  # a fifth to an octave by oblique motion


@pytest.fixture(scope="module")
def melody():
    """The soprano of a held-out chorale (12 bars) with empty lower voices."""
    piece = load_jsb("test")[0][:, :192]
    grid = piece.copy()
    grid[1:] = REST
    known = np.zeros(grid.shape, bool)
    known[0] = True
    return grid, known


@pytest.mark.parametrize("model", ["gan", "arcnn", "transformer"])
def test_voice_leading_switch_means_the_same_in_every_model(model, melody):
    grid, known = melody
    comp = get_model(model)
    on = comp.generate("accompany", grid, known, gan_net.guess_meter(grid), seed=1,
                       voice_leading=True)
    off = comp.generate("accompany", grid, known, gan_net.guess_meter(grid), seed=1,
                        voice_leading=False)
    assert metrics.grid_metrics(on)["parallels"] == 0.0  # none the metric can find
    assert metrics.grid_metrics(off)["parallels"] > 0.0  # the switch really turns it off


# ------------------------------------------------------------------ the sampler


def test_temperature_zero_is_greedy_and_top_k_one_is_too():
    gen = torch.Generator().manual_seed(0)
    logits = torch.tensor([[0.0, 3.0, 1.0, 2.9], [5.0, 0.0, 0.0, 0.0]])
    assert decoding.sample(logits, 0.0, gen).tolist() == [1, 0]
    for _ in range(20):
        assert decoding.sample(logits, 2.0, gen, top_k=1).tolist() == [1, 0]


def test_top_p_keeps_only_the_nucleus():
    gen = torch.Generator().manual_seed(0)
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    drawn = {int(decoding.sample(probs.log(), 1.0, gen, top_p=0.75)) for _ in range(300)}
    assert drawn == {0, 1}  # 0.5 < 0.75, 0.5 + 0.3 >= 0.75: the two likeliest
    drawn = {int(decoding.sample(probs.log(), 1.0, gen, top_p=0.85)) for _ in range(300)}
    assert drawn == {0, 1, 2}


def test_samples_follow_the_tempered_softmax():
    gen = torch.Generator().manual_seed(1)
    logits = torch.tensor([0.0, 1.0, 2.0]).expand(20000, 3)
    for temperature in (1.0, 2.0):
        counts = np.bincount(decoding.sample(logits, temperature, gen).numpy(), minlength=3)
        want = torch.softmax(logits[0] / temperature, -1).numpy()
        np.testing.assert_allclose(counts / counts.sum(), want, atol=0.015)


def test_transformer_pick_is_the_shared_sampler():
    logits = torch.randn(tf_net.VOCAB)
    logits[tf_net.BOS_ID] = -torch.inf
    for k, p in ((None, None), (5, None), (None, 0.8), (10, 0.5)):
        a = tf_sampling.pick(logits, 1.3, k, p, torch.Generator().manual_seed(4))
        b = int(decoding.sample(logits, 1.3, torch.Generator().manual_seed(4), k, p))
        assert a == b


# ------------------------------------------------------------------ the pitch codec


@given(st.lists(st.integers(0, 127) | st.just(REST), min_size=1, max_size=30))
def test_fold_octaves_lands_in_range_and_keeps_pitch_class(pitches):
    out = decoding.fold_octaves(pitches, LOW, HIGH)
    p = np.array(pitches)
    assert np.array_equal(out == REST, p == REST)
    s = p != REST
    assert ((out[s] >= LOW) & (out[s] <= HIGH)).all()
    assert np.array_equal(out[s] % 12, p[s] % 12)
    inside = s & (p >= LOW) & (p <= HIGH)
    assert np.array_equal(out[inside], p[inside])  # in-range pitches never move


def test_models_fold_with_the_codec():
    grid = np.array([[100, 10, REST, 60]])
    folded = decoding.fold_octaves(grid, LOW, HIGH)
    assert np.array_equal(tf_net.fold_into_range(grid), folded)
    assert np.array_equal(arcnn_net.decode(arcnn_net.encode(grid)), folded)


def test_snap_rounds_to_the_16th_and_keeps_a_step():
    assert decoding.snap(1.0, 2.0) == (4, 8)
    assert decoding.snap(0.49, 0.51) == (2, 3)  # shorter than a 16th: still one step
    assert decoding.snap(0.3, 0.3) == (1, 2)
