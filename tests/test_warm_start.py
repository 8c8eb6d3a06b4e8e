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


def test_any_other_mismatch_is_a_clear_error():
    old = nn.Conv1d(5, 4, 3)
    with pytest.raises(DeepcomposeError, match="--init"):
        warm_start(nn.Conv1d(5, 6, 3), old.state_dict())  # more outputs, not inputs
    with pytest.raises(DeepcomposeError, match="lack"):
        warm_start(nn.Conv1d(5, 4, 3), {})
