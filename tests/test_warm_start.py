"""Fine-tuning from shipped weights (``train --init``): grown input channels start at zero."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from deepcompose.errors import DeepcomposeError
from deepcompose.models.common.weights import warm_start


def test_a_grown_layer_computes_what_the_old_one_did():
    torch.manual_seed(0)
    old = nn.Sequential(nn.Conv1d(5, 4, 3, padding=1), nn.GELU(), nn.Conv1d(4, 2, 1))
    new = nn.Sequential(nn.Conv1d(8, 4, 3, padding=1), nn.GELU(), nn.Conv1d(4, 2, 1))
    tensors = {f"generator.{k}": v for k, v in old.state_dict().items()}
    assert warm_start(new, tensors, "generator.") == ["0.weight"]
    x = torch.randn(2, 5, 7)
    extra = torch.randn(2, 3, 7)  # the new features, appended last
    assert torch.allclose(new(torch.cat([x, extra], 1)), old(x), atol=1e-6)


def test_a_new_term_that_starts_at_zero_is_allowed():
    class WithBias(nn.Module):  # the old layer plus a new learned bias, zero at the start
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(5, 4, 3, padding=1)
            self.bias = nn.Parameter(torch.zeros(4, 1))

        def forward(self, x):
            return self.conv(x) + self.bias

    old = nn.Conv1d(5, 4, 3, padding=1)
    new = WithBias()
    assert warm_start(new, {f"conv.{k}": v for k, v in old.state_dict().items()}) == ["bias"]
    x = torch.randn(2, 5, 7)
    assert torch.allclose(new(x), old(x), atol=1e-6)
    with torch.no_grad():
        new.bias.fill_(1.0)  # a new tensor that would change the output is not a warm start
    with pytest.raises(DeepcomposeError, match="lack"):
        warm_start(new, {f"conv.{k}": v for k, v in old.state_dict().items()})


def test_any_other_mismatch_is_a_clear_error():
    old = nn.Conv1d(5, 4, 3)
    with pytest.raises(DeepcomposeError, match="--init"):
        warm_start(nn.Conv1d(5, 6, 3), old.state_dict())  # more outputs, not inputs
    with pytest.raises(DeepcomposeError, match="lack"):
        warm_start(nn.Conv1d(5, 4, 3), {})


def test_train_init_starts_from_the_given_weights(tmp_path):
    from safetensors.torch import load_file

    from deepcompose.train import train

    kw = dict(model="transformer", steps=1, seed=0, tiny=True, progress=False, threads=1,
              metrics_every=0, events=False)
    train(out=tmp_path / "a", **kw)
    first = tmp_path / "a" / "transformer.safetensors"
    # a vanishing lr: one update moves nothing, so the export is the init weights, not a
    # fresh draw (another seed)
    train(out=tmp_path / "b", init=first, overrides={"lr": 1e-30, "min_lr": 1e-30},
          **{**kw, "seed": 7})
    before, after = load_file(first), load_file(tmp_path / "b" / "transformer.safetensors")
    assert before.keys() == after.keys()
    assert all(torch.allclose(before[k], after[k], atol=1e-12) for k in before)
    meta = (tmp_path / "b" / "transformer.json").read_text()
    assert '"init": "transformer.safetensors"' in meta
    with pytest.raises(DeepcomposeError, match="no such weights"):
        train(out=tmp_path / "c", init=tmp_path / "missing.safetensors", **kw)
