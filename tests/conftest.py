import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def chord_model(monkeypatch):
    """Register the test-only ChordComposer as model 'chord'."""
    from fakes import ChordComposer

    from deepcompose import controls
    from deepcompose.models import base

    monkeypatch.setitem(base.REGISTRY, "chord", ChordComposer)
    monkeypatch.setitem(controls.MODEL_CONTROLS, "chord", controls.MODEL_CONTROLS["arcnn"])
    monkeypatch.setitem(base._cache, "chord", ChordComposer())
    return "chord"
