import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def chord_model(monkeypatch):
    """Register the test-only ChordComposer as model 'chord' (a row of the family table
    with the AR-CNN's tasks and controls; its player is already loaded)."""
    from dataclasses import replace

    from fakes import ChordComposer

    from deepcompose.models import registry
    from deepcompose.models.common import weights

    row = replace(registry.family("arcnn"), name="chord", model="chord",
                  player="fakes:ChordComposer", summary="a fixed chord (tests only)")
    monkeypatch.setitem(registry.FAMILIES, "chord", row)
    monkeypatch.setitem(weights._cache, "chord", ChordComposer())
    return "chord"
