import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def chord_model(monkeypatch):
    """Register the test-only ChordComposer as model 'chord'."""
    from fakes import ChordComposer

    from deepcompose.models import base

    monkeypatch.setitem(base.REGISTRY, "chord", ChordComposer)
    monkeypatch.setitem(base._cache, "chord", ChordComposer())
    return "chord"
